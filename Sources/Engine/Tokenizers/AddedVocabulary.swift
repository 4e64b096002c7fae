/// Added tokens (`added_tokens` in `tokenizer.json`): special tokens like `<s>` and
/// user-added words. HF cuts them out of the text before the model sees it, in two passes:
/// tokens with `normalized: false` are found in the raw text, then the remaining pieces are
/// normalized and tokens with `normalized: true` are found in the normalized text.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let singleWord: Bool
    let leftStrip: Bool
    let rightStrip: Bool
    let normalized: Bool
    let special: Bool

    init(json: JSONNode) throws {
        id = try json.required("id").int()
        content = try json.required("content").string()
        singleWord = try json.bool("single_word", default: false)
        leftStrip = try json.bool("lstrip", default: false)
        rightStrip = try json.bool("rstrip", default: false)
        special = try json.bool("special", default: false)
        normalized = try json.bool("normalized", default: !special)
        guard id >= 0 else { throw json.error("token id \(id) is out of range") }
    }
}

/// A piece of input after added tokens have been cut out: either text still to tokenize, or
/// the id of an added token.
enum Segment: Sendable {
    case text(TextPiece)
    case token(Int)
}

struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher

    init(tokens: [AddedToken], normalizer: Normalizer?) throws {
        self.tokens = tokens
        var raw: [(pattern: [Unicode.Scalar], token: AddedToken)] = []
        var normalized: [(pattern: [Unicode.Scalar], token: AddedToken)] = []
        for token in tokens where !token.content.isEmpty {
            let scalars = Array(token.content.unicodeScalars)
            if token.normalized {
                // HF matches the normalized form of the token's content in normalized text.
                let pattern = try normalizer?.apply(to: scalars) ?? scalars
                if !pattern.isEmpty { normalized.append((pattern, token)) }
            } else {
                raw.append((scalars, token))
            }
        }
        rawMatcher = AddedTokenMatcher(raw)
        normalizedMatcher = AddedTokenMatcher(normalized)
    }

    /// Raw-text pass, normalization, normalized-text pass (HF's `extract_and_normalize`).
    func extractAndNormalize(_ text: [Unicode.Scalar], normalizer: Normalizer?) throws -> [Segment] {
        var segments: [Segment] = []
        let original = TextPiece(scalars: text, startsAtTextStart: true)
        for segment in rawMatcher.split(original) {
            guard case .text(var piece) = segment else {
                segments.append(segment)
                continue
            }
            try normalizer?.apply(&piece)
            segments.append(contentsOf: normalizedMatcher.split(piece))
        }
        return segments
    }
}

/// Finds added tokens in text the way HF's Aho-Corasick automaton (leftmost-longest) and its
/// `find_matches` do, including `single_word`, `lstrip` and `rstrip`.
private struct AddedTokenMatcher: Sendable {
    /// Candidates by first scalar, longest first.
    private let candidates: [UInt32: [(pattern: [Unicode.Scalar], token: AddedToken)]]

    init(_ patterns: [(pattern: [Unicode.Scalar], token: AddedToken)]) {
        var byFirst: [UInt32: [(pattern: [Unicode.Scalar], token: AddedToken)]] = [:]
        for entry in patterns {
            let key = entry.pattern[0].value
            var list = byFirst[key, default: []]
            // The first of several tokens with the same content wins.
            if !list.contains(where: { $0.pattern == entry.pattern }) { list.append(entry) }
            byFirst[key] = list
        }
        candidates = byFirst.mapValues { list in
            // Stable sort: longest first, file order among equals.
            list.enumerated().sorted { a, b in
                a.element.pattern.count != b.element.pattern.count
                    ? a.element.pattern.count > b.element.pattern.count : a.offset < b.offset
            }.map(\.element)
        }
    }

    func split(_ piece: TextPiece) -> [Segment] {
        let text = piece.scalars
        if candidates.isEmpty || text.isEmpty { return [.text(piece)] }
        var segments: [Segment] = []
        var start = 0          // end of the previous token (HF's start_offset)
        var searchFrom = 0
        func addText(_ range: Range<Int>) {
            segments.append(.text(TextPiece(scalars: Array(text[range]),
                                            startsAtTextStart: piece.startsAtTextStart && range.lowerBound == 0)))
        }
        while let (matchRange, token) = longestMatch(in: text, from: searchFrom) {
            searchFrom = matchRange.upperBound
            var lower = matchRange.lowerBound
            var upper = matchRange.upperBound
            if token.singleWord {
                let startsWord = lower == 0 || !UnicodeClasses.isWordCharacter(text[lower - 1])
                let endsWord = upper == text.count || !UnicodeClasses.isWordCharacter(text[upper])
                if !startsWord || !endsWord { continue }
            }
            if token.leftStrip {
                var newLower = lower
                while newLower > 0, UnicodeClasses.isWhitespace(text[newLower - 1]) { newLower -= 1 }
                lower = max(newLower, start)
            }
            if token.rightStrip {
                while upper < text.count, UnicodeClasses.isWhitespace(text[upper]) { upper += 1 }
            }
            if start < lower { addText(start..<lower) }
            segments.append(.token(token.id))
            start = upper
        }
        if start < text.count { addText(start..<text.count) }
        return segments
    }

    /// The leftmost match at or after `from`, longest among those starting there.
    private func longestMatch(in text: [Unicode.Scalar], from: Int) -> (Range<Int>, AddedToken)? {
        var position = from
        while position < text.count {
            if let list = candidates[text[position].value] {
                for entry in list where position + entry.pattern.count <= text.count
                    && text[position..<position + entry.pattern.count].elementsEqual(entry.pattern) {
                    return (position..<position + entry.pattern.count, entry.token)
                }
            }
            position += 1
        }
        return nil
    }
}
