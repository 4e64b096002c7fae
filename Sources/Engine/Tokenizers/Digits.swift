/// HF's `Digits` pre-tokenizer (SmolLM2, StarCoder and others put it before ByteLevel): every
/// numeric character is a match of Rust's `char::is_numeric`; `individual_digits: true`
/// isolates each one ("2024" -> "2" "0" "2" "4"), `false` keeps each run together
/// (HF's `Contiguous`: "2024" stays one piece). The text between runs stays whole.
enum Digits {
    /// The (range, isMatch) list that HF's `Pattern` for a `Fn(char) -> bool` gives: one match
    /// per numeric scalar, the gaps between them as non-matches.
    static func splits(of text: [Unicode.Scalar]) -> [(range: Range<Int>, isMatch: Bool)] {
        if text.isEmpty { return [(0..<0, false)] }
        var result: [(range: Range<Int>, isMatch: Bool)] = []
        var gapStart = 0
        for (index, scalar) in text.enumerated() where isNumeric(scalar) {
            if gapStart < index { result.append((gapStart..<index, false)) }
            result.append((index..<index + 1, true))
            gapStart = index + 1
        }
        if gapStart < text.count { result.append((gapStart..<text.count, false)) }
        return result
    }

    static func apply(to piece: TextPiece, individualDigits: Bool) -> [TextPiece] {
        let behavior: SplitBehavior = individualDigits ? .isolated : .contiguous
        return piece.pieces(at: behavior.ranges(splits(of: piece.scalars)))
    }

    /// Rust's `char::is_numeric`: general category Nd, Nl or No. The tokenizers 0.23 wheels
    /// are built with Unicode 17.0 tables (U+11DE0..U+11DE9 count), as Swift 6.3's are, so
    /// this uses Swift's categories as they are, without the Unicode 16.0 cut-off that the
    /// regex classes (Oniguruma) need; the fixture test checks every scalar.
    static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return (0x30...0x39).contains(scalar.value) }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}
