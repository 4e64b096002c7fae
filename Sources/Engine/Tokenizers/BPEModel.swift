/// The BPE `model` of a `tokenizer.json`: a vocabulary, ranked merges and the options HF's
/// BPE has (unk token, fuse_unk, byte_fallback, ignore_merges, subword prefix/suffix).
///
/// Tokens are keyed by their exact Unicode scalars (`[Unicode.Scalar]`), never by `String`,
/// whose equality would treat "é" and "e\u{301}" as the same token.
struct BPEModel: Sendable {
    /// Token text -> id.
    let vocabulary: [[Unicode.Scalar]: Int]
    /// id -> token text (nil for ids the vocabulary skips).
    let tokens: [String?]
    /// Ids of single-scalar tokens: the starting symbols of most words.
    private let singleScalarIds: [UInt32: Int]
    /// (left id, right id) -> (rank, id of the merged token).
    private let merges: [UInt64: (rank: Int, merged: Int)]
    /// Id of `<0xNN>` for each byte, when `byte_fallback` is on and the token exists.
    private let byteTokenIds: [Int?]
    let unknownToken: String?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    private let continuingSubwordPrefix: [Unicode.Scalar]?
    private let endOfWordSuffix: [Unicode.Scalar]?

    init(json: JSONNode) throws {
        if let type = json.optional("type") {
            let name = try type.string()
            guard name == "BPE" else {
                throw type.error("unsupported model type '\(name)' (only BPE is supported)")
            }
        } else if json["merges"] == nil {
            throw json.error("unsupported model (no \"type\" and no \"merges\"; only BPE is supported)")
        }
        if let dropout = json.optional("dropout"), try dropout.double() != 0 {
            throw dropout.error("BPE dropout is random; only null or 0 is supported")
        }

        var vocabulary: [[Unicode.Scalar]: Int] = [:]
        var singleScalarIds: [UInt32: Int] = [:]
        let entries = try json.required("vocab").members()
        // Ids index an array, so they must be roughly dense (real vocabularies are 0..<n).
        let idLimit = 2 * entries.count + 1024
        var tokens = [String?](repeating: nil, count: min(entries.count, idLimit))
        for (token, idNode) in entries {
            let id = try idNode.int()
            guard id >= 0, id < idLimit else {
                throw idNode.error("token id \(id) is out of range for a vocabulary of \(entries.count) tokens")
            }
            let scalars = Array(token.unicodeScalars)
            vocabulary[scalars] = id  // a repeated token: the last one wins, as in HF
            if id >= tokens.count { tokens.append(contentsOf: repeatElement(nil, count: id + 1 - tokens.count)) }
            tokens[id] = token
            if scalars.count == 1 { singleScalarIds[scalars[0].value] = id }
        }
        while let last = tokens.last, last == nil { tokens.removeLast() }
        self.vocabulary = vocabulary
        self.tokens = tokens
        self.singleScalarIds = singleScalarIds

        var merges: [UInt64: (rank: Int, merged: Int)] = [:]
        for (rank, mergeNode) in try json.required("merges").array().enumerated() {
            let (left, right) = try Self.mergePair(mergeNode)
            guard let leftId = vocabulary[left] else {
                throw mergeNode.error("merge token '\(String(String.UnicodeScalarView(left)))' is not in the vocabulary")
            }
            guard let rightId = vocabulary[right] else {
                throw mergeNode.error("merge token '\(String(String.UnicodeScalarView(right)))' is not in the vocabulary")
            }
            guard let mergedId = vocabulary[left + right] else {
                throw mergeNode.error("merged token '\(String(String.UnicodeScalarView(left + right)))' is not in the vocabulary")
            }
            merges[Self.pairKey(leftId, rightId)] = (rank, mergedId)  // a repeated pair: the last one wins, as in HF
        }
        self.merges = merges

        unknownToken = try json.optional("unk_token")?.string()
        fuseUnknown = try json.bool("fuse_unk", default: false)
        byteFallback = try json.bool("byte_fallback", default: false)
        ignoreMerges = try json.bool("ignore_merges", default: false)
        let prefix = try json.optional("continuing_subword_prefix")?.string()
        continuingSubwordPrefix = prefix.flatMap { $0.isEmpty ? nil : Array($0.unicodeScalars) }
        let suffix = try json.optional("end_of_word_suffix")?.string()
        endOfWordSuffix = suffix.flatMap { $0.isEmpty ? nil : Array($0.unicodeScalars) }
        byteTokenIds = (0..<256).map { byte in
            vocabulary[Array(Self.byteTokenName(UInt8(byte)).unicodeScalars)]
        }
    }

    /// `"a b"` (legacy) or `["a", "b"]`.
    private static func mergePair(_ node: JSONNode) throws -> ([Unicode.Scalar], [Unicode.Scalar]) {
        if case .string(let text) = node.value {
            let parts = text.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw node.error("a merge must be two tokens separated by one space") }
            return (Array(parts[0]), Array(parts[1]))
        }
        let parts = try node.array()
        guard parts.count == 2 else { throw node.error("a merge must be a pair of tokens") }
        return (Array(try parts[0].string().unicodeScalars), Array(try parts[1].string().unicodeScalars))
    }

    private static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// `<0x0A>`: the name of a byte-fallback token.
    static func byteTokenName(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    /// Whether `id` is one of the `<0xNN>` byte tokens.
    func isByteToken(_ id: Int) -> Bool {
        byteFallback && byteTokenIds.contains(id)
    }

    /// Ids for one pre-tokenized word, exactly as HF's `BPE::tokenize`.
    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) throws {
        if word.isEmpty { return }
        if ignoreMerges, let id = vocabulary[word] {
            ids.append(id)
            return
        }
        var symbols = try initialSymbols(word)
        mergeAll(&symbols)
        for symbol in symbols where symbol.length > 0 { ids.append(symbol.id) }
    }

    private struct Symbol {
        var id: Int
        var previous: Int
        var next: Int
        /// Bytes covered; 0 once merged into its left neighbour.
        var length: Int
    }

    /// One symbol per scalar (or per byte with byte fallback, or an unk), as HF's `merge_word`.
    private func initialSymbols(_ word: [Unicode.Scalar]) throws -> [Symbol] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(word.count)
        func add(_ id: Int, _ length: Int) {
            let index = symbols.count
            if index > 0 { symbols[index - 1].next = index }
            symbols.append(Symbol(id: id, previous: index - 1, next: -1, length: length))
        }
        var pendingUnknown: (id: Int, length: Int)? = nil
        for (index, scalar) in word.enumerated() {
            let byteLength = UTF8.width(scalar)
            var key: [Unicode.Scalar]? = nil
            let id: Int?
            if continuingSubwordPrefix == nil && endOfWordSuffix == nil {
                id = singleScalarIds[scalar.value]
            } else {
                var text = [scalar]
                if index > 0, let prefix = continuingSubwordPrefix { text = prefix + text }
                if index == word.count - 1, let suffix = endOfWordSuffix { text += suffix }
                key = text
                id = vocabulary[text]
            }
            if let id {
                if let unknown = pendingUnknown {
                    add(unknown.id, unknown.length)
                    pendingUnknown = nil
                }
                add(id, byteLength)
                continue
            }
            if byteFallback {
                var byteIds: [Int] = []
                var complete = true
                for scalar in key ?? [scalar] {
                    UTF8.encode(scalar) { byte in
                        if let byteId = byteTokenIds[Int(byte)] { byteIds.append(byteId) } else { complete = false }
                    }
                }
                if complete {
                    // HF adds these without first flushing a pending unk; kept for identical ids.
                    for byteId in byteIds { add(byteId, 1) }
                    continue
                }
            }
            if let unknownToken {
                guard let unknownId = vocabulary[Array(unknownToken.unicodeScalars)] else {
                    throw EngineError("unk_token '\(unknownToken)' is not in the vocabulary")
                }
                if let unknown = pendingUnknown {
                    if fuseUnknown {
                        pendingUnknown = (unknown.id, unknown.length + byteLength)
                        continue
                    }
                    add(unknown.id, unknown.length)
                }
                pendingUnknown = (unknownId, byteLength)
            }
            // With no unk token and no byte fallback, HF drops the scalar.
        }
        if let unknown = pendingUnknown { add(unknown.id, unknown.length) }
        return symbols
    }

    /// Applies merges lowest rank first (leftmost on ties), as HF's `Word::merge_all`.
    private func mergeAll(_ symbols: inout [Symbol]) {
        var queue = MergeQueue()
        for index in symbols.indices.dropLast() {
            if let merge = merges[Self.pairKey(symbols[index].id, symbols[index + 1].id)] {
                queue.push(.init(rank: merge.rank, position: index, merged: merge.merged))
            }
        }
        while let top = queue.pop() {
            let position = top.position
            guard symbols[position].length > 0 else { continue }
            let nextIndex = symbols[position].next
            guard nextIndex >= 0 else { continue }
            let right = symbols[nextIndex]
            // Skip queue entries that no longer describe the pair at this position.
            guard let current = merges[Self.pairKey(symbols[position].id, right.id)],
                  current.merged == top.merged else { continue }

            symbols[position].id = top.merged
            symbols[position].length += right.length
            symbols[position].next = right.next
            symbols[nextIndex].length = 0
            if right.next >= 0 && right.next < symbols.count { symbols[right.next].previous = position }

            let previous = symbols[position].previous
            if previous >= 0, let merge = merges[Self.pairKey(symbols[previous].id, top.merged)] {
                queue.push(.init(rank: merge.rank, position: previous, merged: merge.merged))
            }
            let next = symbols[position].next
            if next >= 0, next < symbols.count, let merge = merges[Self.pairKey(top.merged, symbols[next].id)] {
                queue.push(.init(rank: merge.rank, position: position, merged: merge.merged))
            }
        }
    }
}

/// A binary min-heap of candidate merges ordered by (rank, position).
private struct MergeQueue {
    struct Entry {
        var rank: Int
        var position: Int
        var merged: Int

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < heap.count, heap[left].precedes(heap[best]) { best = left }
                if right < heap.count, heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
