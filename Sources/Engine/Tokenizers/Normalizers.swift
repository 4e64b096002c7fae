import Foundation

/// The `normalizer` of a `tokenizer.json`: rewrites each piece of text between added tokens
/// before pre-tokenization, as HF's normalizers do.
indirect enum Normalizer: Sendable {
    case sequence([Normalizer])
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case stripAccents
    case strip(left: Bool, right: Bool)
    case prepend([Unicode.Scalar])
    case replace(TextPattern, content: [Unicode.Scalar])

    init(json: JSONNode) throws {
        let type = try json.required("type").string()
        switch type {
        case "Sequence":
            self = .sequence(try json.required("normalizers").array().map(Normalizer.init(json:)))
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "StripAccents": self = .stripAccents
        case "Strip":
            self = .strip(left: try json.bool("strip_left", default: true),
                          right: try json.bool("strip_right", default: true))
        case "Prepend":
            self = .prepend(Array(try json.required("prepend").string().unicodeScalars))
        case "Replace":
            self = .replace(try TextPattern(json: json.required("pattern")),
                            content: Array(try json.required("content").string().unicodeScalars))
        default:
            throw json.error("unsupported normalizer type '\(type)'")
        }
    }

    func apply(_ piece: inout TextPiece) throws {
        switch self {
        case .sequence(let steps):
            for step in steps { try step.apply(&piece) }
        case .nfc:
            piece.scalars = Array(Self.string(piece.scalars).precomposedStringWithCanonicalMapping.unicodeScalars)
        case .nfd:
            piece.scalars = Array(Self.string(piece.scalars).decomposedStringWithCanonicalMapping.unicodeScalars)
        case .nfkc:
            piece.scalars = Array(Self.string(piece.scalars).precomposedStringWithCompatibilityMapping.unicodeScalars)
        case .nfkd:
            piece.scalars = Array(Self.string(piece.scalars).decomposedStringWithCompatibilityMapping.unicodeScalars)
        case .lowercase:
            // Rust's `char::to_lowercase`, one scalar at a time (no final-sigma context).
            var result: [Unicode.Scalar] = []
            result.reserveCapacity(piece.scalars.count)
            for scalar in piece.scalars {
                if scalar.value < 0x80 {
                    let lower = (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value + 0x20)) : scalar
                    result.append(lower)
                } else {
                    result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            piece.scalars = result
        case .stripAccents:
            // Every combining mark goes (Mn, Mc and Me), as in HF.
            let isMark = { (scalar: Unicode.Scalar) in CategorySet.mark.contains(UnicodeClasses.categories(of: scalar)) }
            if let first = piece.scalars.first, isMark(first) { piece.startsAtTextStart = false }
            piece.scalars.removeAll(where: isMark)
        case .strip(let left, let right):
            if right {
                while let last = piece.scalars.last, UnicodeClasses.isWhitespace(last) { piece.scalars.removeLast() }
            }
            if left {
                let leading = piece.scalars.prefix(while: UnicodeClasses.isWhitespace).count
                if leading > 0 {
                    piece.scalars.removeFirst(leading)
                    piece.startsAtTextStart = false
                }
            }
        case .prepend(let prefix):
            if !piece.isEmpty { piece.scalars.insert(contentsOf: prefix, at: 0) }
        case .replace(let pattern, let content):
            let matches = try pattern.matches(in: piece.scalars)
            // Deleting the first scalar: what is left no longer starts at the text's start.
            if let first = matches.first, first.lowerBound == 0, !first.isEmpty, content.isEmpty {
                piece.startsAtTextStart = false
            }
            piece.scalars = TextPattern.replacing(matches, in: piece.scalars, with: content)
        }
    }

    /// Normalizes a whole string (used for the content of normalized added tokens).
    func apply(to scalars: [Unicode.Scalar]) throws -> [Unicode.Scalar] {
        var piece = TextPiece(scalars: scalars, startsAtTextStart: true)
        try apply(&piece)
        return piece.scalars
    }

    private static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
