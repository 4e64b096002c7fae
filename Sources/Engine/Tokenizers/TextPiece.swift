/// A piece of text on its way through the tokenizer pipeline (between added tokens, then
/// between pre-tokenizer splits). Text is handled as Unicode scalars, as HF handles Rust
/// `char`s: never as Swift `Character`s, which would glue "\r\n" or emoji sequences together.
struct TextPiece: Sendable {
    var scalars: [Unicode.Scalar]
    /// Whether the first scalar comes from the very start of the input text. HF's Metaspace
    /// with `prepend_scheme: "first"` only prepends to such a piece (`offsets_original().0 == 0`).
    var startsAtTextStart: Bool

    var isEmpty: Bool { scalars.isEmpty }

    /// Cuts the piece at `splits` (ranges covering it, in order), dropping empty parts as HF's
    /// `PreTokenizedString::split` does.
    func pieces(at ranges: [Range<Int>]) -> [TextPiece] {
        ranges.compactMap { range in
            guard !range.isEmpty else { return nil }
            return TextPiece(scalars: Array(scalars[range]),
                             startsAtTextStart: startsAtTextStart && range.lowerBound == 0)
        }
    }
}

/// The `pattern` of a Split pre-tokenizer, a Replace normalizer or a Replace decoder:
/// `{"String": "..."}` (a literal) or `{"Regex": "..."}`.
enum TextPattern: Sendable {
    case literal([Unicode.Scalar])
    case regex(TokenizerRegex)

    init(json: JSONNode) throws {
        if let literal = json.optional("String") {
            let scalars = Array(try literal.string().unicodeScalars)
            guard !scalars.isEmpty else { throw literal.error("an empty pattern is not supported") }
            self = .literal(scalars)
        } else if let regex = json.optional("Regex") {
            do {
                self = .regex(try TokenizerRegex(try regex.string()))
            } catch let error as EngineError {
                throw regex.error(error.message)
            }
        } else {
            throw json.error("expected {\"String\": ...} or {\"Regex\": ...}")
        }
    }

    /// Non-overlapping matches, left to right.
    func matches(in text: [Unicode.Scalar]) throws -> [Range<Int>] {
        switch self {
        case .regex(let regex):
            return try regex.matches(in: text)
        case .literal(let needle):
            var found: [Range<Int>] = []
            var start = 0
            while start + needle.count <= text.count {
                if text[start] == needle[0], text[start..<start + needle.count].elementsEqual(needle) {
                    found.append(start..<start + needle.count)
                    start += needle.count
                } else {
                    start += 1
                }
            }
            return found
        }
    }

    /// HF's `Pattern::find_matches`: ranges covering the whole text, each marked as a match
    /// or not. Empty text gives one empty non-match.
    func splits(of text: [Unicode.Scalar]) throws -> [(range: Range<Int>, isMatch: Bool)] {
        if text.isEmpty { return [(0..<0, false)] }
        var result: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for match in try matches(in: text) {
            if previous != match.lowerBound { result.append((previous..<match.lowerBound, false)) }
            result.append((match, true))
            previous = match.upperBound
        }
        if previous != text.count { result.append((previous..<text.count, false)) }
        return result
    }

    func replacingMatches(in text: [Unicode.Scalar], with content: [Unicode.Scalar]) throws -> [Unicode.Scalar] {
        Self.replacing(try matches(in: text), in: text, with: content)
    }

    static func replacing(_ matches: [Range<Int>], in text: [Unicode.Scalar], with content: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if matches.isEmpty { return text }
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count)
        var previous = 0
        for match in matches {
            result.append(contentsOf: text[previous..<match.lowerBound])
            result.append(contentsOf: content)
            previous = match.upperBound
        }
        result.append(contentsOf: text[previous...])
        return result
    }
}
