/// The `decoder` of a `tokenizer.json`: turns the list of token strings back into text, as
/// HF's `decode_chain` does (each step maps a list of strings to a list of strings; the
/// results are concatenated at the end).
indirect enum TokenDecoder: Sendable {
    case sequence([TokenDecoder])
    /// Byte-level scalars back to bytes, then UTF-8 with U+FFFD for invalid sequences.
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    case replace(TextPattern, content: [Unicode.Scalar])
    /// Runs of `<0xNN>` tokens back to the text their bytes spell.
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)

    init(json: JSONNode) throws {
        let type = try json.required("type").string()
        switch type {
        case "Sequence":
            self = .sequence(try json.required("decoders").array().map(TokenDecoder.init(json:)))
        case "ByteLevel":
            self = .byteLevel
        case "Metaspace":
            self = .metaspace(replacement: try metaspaceReplacement(json), prependScheme: try PrependScheme(json: json))
        case "Replace":
            self = .replace(try TextPattern(json: json.required("pattern")),
                            content: Array(try json.required("content").string().unicodeScalars))
        case "ByteFallback":
            self = .byteFallback
        case "Fuse":
            self = .fuse
        case "Strip":
            let contentNode = try json.required("content")
            let content = Array(try contentNode.string().unicodeScalars)
            guard content.count == 1 else { throw contentNode.error("content must be exactly one character") }
            let start = try json.int("start", default: 0)
            let stop = try json.int("stop", default: 0)
            guard start >= 0, stop >= 0 else { throw json.error("start and stop must not be negative") }
            self = .strip(content: content[0], start: start, stop: stop)
        default:
            throw json.error("unsupported decoder type '\(type)'")
        }
    }

    /// Whether this decoder turns runs of `<0xNN>` tokens into text (then a run can change
    /// meaning until it ends, which the streaming detokenizer must know).
    var joinsByteTokens: Bool {
        switch self {
        case .byteFallback: return true
        case .sequence(let steps): return steps.contains(where: \.joinsByteTokens)
        default: return false
        }
    }

    func decodeChain(_ tokens: [String]) throws -> [String] {
        switch self {
        case .sequence(let steps):
            var current = tokens
            for step in steps { current = try step.decodeChain(current) }
            return current
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes.append(contentsOf: ByteLevel.bytes(of: token)) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let prependScheme):
            // HF drops every replacement character of the first token (not only a leading one).
            return tokens.enumerated().map { index, token in
                var view = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar == replacement {
                        if index == 0 && prependScheme != .never { continue }
                        view.append(" ")
                    } else {
                        view.append(scalar)
                    }
                }
                return String(view)
            }
        case .replace(let pattern, let content):
            return try tokens.map { token in
                let replaced = try pattern.replacingMatches(in: Array(token.unicodeScalars), with: content)
                return String(String.UnicodeScalarView(replaced))
            }
        case .byteFallback:
            var result: [String] = []
            var pendingBytes: [UInt8] = []
            func flush() {
                guard !pendingBytes.isEmpty else { return }
                if let text = String(validating: pendingBytes, as: UTF8.self) {
                    result.append(text)
                } else {
                    // HF replaces every byte of an invalid run, not just the invalid ones.
                    result.append(contentsOf: repeatElement("\u{FFFD}", count: pendingBytes.count))
                }
                pendingBytes.removeAll()
            }
            for token in tokens {
                if let byte = Self.byteValue(token) {
                    pendingBytes.append(byte)
                } else {
                    flush()
                    result.append(token)
                }
            }
            flush()
            return result
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let scalars = Array(token.unicodeScalars)
                var startCut = 0
                for i in 0..<min(start, scalars.count) {
                    guard scalars[i] == content else { break }
                    startCut = i + 1
                }
                var stopCut = scalars.count
                for i in 0..<min(stop, scalars.count) {
                    let index = scalars.count - i - 1
                    guard scalars[index] == content else { break }
                    stopCut = index
                }
                guard startCut < stopCut else { return "" }
                return String(String.UnicodeScalarView(scalars[startCut..<stopCut]))
            }
        }
    }

    /// The byte of a `<0xNN>` token, read as HF reads it (`u8::from_str_radix` on the two
    /// characters after "<0x"), or nil for any other token.
    static func byteValue(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"),
              utf8[2] == UInt8(ascii: "x"), utf8[5] == UInt8(ascii: ">") else { return nil }
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        if utf8[3] == UInt8(ascii: "+") { return hex(utf8[4]) }  // from_str_radix accepts a '+' sign
        guard let high = hex(utf8[3]), let low = hex(utf8[4]) else { return nil }
        return high << 4 | low
    }
}
