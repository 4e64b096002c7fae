/// The `pre_tokenizer` of a `tokenizer.json`: cuts normalized text into the pieces ("words")
/// the model tokenizes one by one, as HF's pre-tokenizers do.
indirect enum PreTokenizer: Sendable {
    case sequence([PreTokenizer])
    /// GPT-2 style: optional leading space, optional GPT-2 regex split, then bytes -> scalars.
    case byteLevel(addPrefixSpace: Bool, regex: TokenizerRegex?)
    case split(TextPattern, SplitBehavior, invert: Bool)
    /// SentencePiece style: spaces become `replacement` ("▁"), which may be prepended and split on.
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
    /// Numbers apart from the text around them (see `Digits`).
    case digits(individualDigits: Bool)

    init(json: JSONNode) throws {
        let type = try json.required("type").string()
        switch type {
        case "Sequence":
            self = .sequence(try json.required("pretokenizers").array().map(PreTokenizer.init(json:)))
        case "ByteLevel":
            let useRegex = try json.bool("use_regex", default: true)
            self = .byteLevel(addPrefixSpace: try json.bool("add_prefix_space", default: true),
                              regex: useRegex ? try TokenizerRegex(ByteLevel.gpt2Pattern) : nil)
        case "Split":
            let behaviorNode = try json.required("behavior")
            let behaviorName = try behaviorNode.string()
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw behaviorNode.error("unknown split behavior '\(behaviorName)'")
            }
            self = .split(try TextPattern(json: json.required("pattern")), behavior,
                          invert: try json.bool("invert", default: false))
        case "Metaspace":
            self = .metaspace(replacement: try metaspaceReplacement(json),
                              prependScheme: try PrependScheme(json: json),
                              split: try json.bool("split", default: true))
        case "Digits":
            self = .digits(individualDigits: try json.bool("individual_digits", default: false))
        default:
            throw json.error("unsupported pre-tokenizer type '\(type)'")
        }
    }

    /// The pieces after this pre-tokenizer; empty pieces are dropped, as in HF.
    func apply(_ pieces: [TextPiece]) throws -> [TextPiece] {
        try split(pieces).filter { !$0.isEmpty }
    }

    private func split(_ pieces: [TextPiece]) throws -> [TextPiece] {
        switch self {
        case .sequence(let steps):
            var current = pieces
            for step in steps { current = try step.apply(current) }
            return current
        case .byteLevel(let addPrefixSpace, let regex):
            var result: [TextPiece] = []
            for var piece in pieces {
                if addPrefixSpace, let first = piece.scalars.first, first != " " {
                    piece.scalars.insert(" ", at: 0)
                }
                let parts = try regex.map { try piece.pieces(at: $0.matchesAndGaps(in: piece.scalars)) } ?? [piece]
                for var part in parts {
                    part.scalars = ByteLevel.encode(part.scalars)
                    result.append(part)
                }
            }
            return result
        case .split(let pattern, let behavior, let invert):
            return try pieces.flatMap { piece in
                var splits = try pattern.splits(of: piece.scalars)
                if invert { splits = splits.map { ($0.range, !$0.isMatch) } }
                return piece.pieces(at: behavior.ranges(splits))
            }
        case .metaspace(let replacement, let prependScheme, let split):
            var result: [TextPiece] = []
            for var piece in pieces {
                piece.scalars = piece.scalars.map { $0 == " " ? replacement : $0 }
                if let first = piece.scalars.first, first != replacement {
                    switch prependScheme {
                    case .always: piece.scalars.insert(replacement, at: 0)
                    case .first where piece.startsAtTextStart: piece.scalars.insert(replacement, at: 0)
                    case .first, .never: break
                    }
                }
                if split {
                    let splits = try TextPattern.literal([replacement]).splits(of: piece.scalars)
                    result.append(contentsOf: piece.pieces(at: SplitBehavior.mergedWithNext.ranges(splits)))
                } else {
                    result.append(piece)
                }
            }
            return result
        case .digits(let individualDigits):
            return pieces.flatMap { Digits.apply(to: $0, individualDigits: individualDigits) }
        }
    }
}

/// What a Split does with the matches of its pattern (HF's `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// The ranges to keep, from the covering (range, isMatch) list of `TextPattern.splits`.
    func ranges(_ splits: [(range: Range<Int>, isMatch: Bool)]) -> [Range<Int>] {
        switch self {
        case .isolated:
            return splits.map(\.range)
        case .removed:
            return splits.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            var result: [Range<Int>] = []
            var previousWasMatch = false
            for split in splits {
                if split.isMatch == previousWasMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<split.range.upperBound
                } else {
                    result.append(split.range)
                }
                previousWasMatch = split.isMatch
            }
            return result
        case .mergedWithPrevious:
            var result: [Range<Int>] = []
            var previousWasMatch = false
            for split in splits {
                if split.isMatch && !previousWasMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<split.range.upperBound
                } else {
                    result.append(split.range)
                }
                previousWasMatch = split.isMatch
            }
            return result
        case .mergedWithNext:
            var reversed: [Range<Int>] = []
            var previousWasMatch = false
            for split in splits.reversed() {
                if split.isMatch && !previousWasMatch, let last = reversed.last {
                    reversed[reversed.count - 1] = split.range.lowerBound..<last.upperBound
                } else {
                    reversed.append(split.range)
                }
                previousWasMatch = split.isMatch
            }
            return reversed.reversed()
        }
    }
}

/// Where Metaspace puts a leading replacement character.
enum PrependScheme: Sendable {
    case always, first, never

    /// `prepend_scheme`, or the older `add_prefix_space` flag.
    init(json: JSONNode) throws {
        if let scheme = json.optional("prepend_scheme") {
            switch try scheme.string() {
            case "always": self = .always
            case "first": self = .first
            case "never": self = .never
            case let other: throw scheme.error("unknown prepend_scheme '\(other)'")
            }
        } else {
            self = try json.bool("add_prefix_space", default: true) ? .always : .never
        }
    }
}

/// Metaspace's `replacement` (one scalar; older files call it `str_rep`).
func metaspaceReplacement(_ json: JSONNode) throws -> Unicode.Scalar {
    let node = try json["replacement"] ?? json.required("str_rep")
    let scalars = Array(try node.string().unicodeScalars)
    guard scalars.count == 1 else { throw node.error("replacement must be exactly one character") }
    return scalars[0]
}

extension TokenizerRegex {
    /// Matches and the gaps between them, in order (HF's Isolated split).
    func matchesAndGaps(in text: [Unicode.Scalar]) throws -> [Range<Int>] {
        try TextPattern.regex(self).splits(of: text).map(\.range)
    }
}
