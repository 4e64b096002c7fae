/// Unicode character classes exactly as the regex engines inside HF `tokenizers` see them.
///
/// HF matches tokenizer patterns with Oniguruma, whose tables are Unicode 16.0; Swift's
/// tables are newer (Unicode 17.0 in Swift 6.3). So a scalar assigned after 16.0 counts as
/// unassigned here, and the one letter whose category changed in 17.0 keeps its 16.0 category.
/// With these two rules every scalar gets the class Oniguruma gives it; the test against
/// `Fixtures/tokenizers/unicode_classes.json` (dumped from HF itself) checks all 1.1M scalars.
enum UnicodeClasses {
    static let unicodeVersion = (major: 16, minor: 0)

    static func generalCategory(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory {
        if scalar.value < 0x80 { return asciiCategories[Int(scalar.value)] }
        let properties = scalar.properties
        guard let age = properties.age, (age.major, age.minor) <= unicodeVersion else {
            return .unassigned
        }
        // U+0295 LATIN LETTER PHARYNGEAL VOICED FRICATIVE: Ll up to Unicode 16.0, Lo in 17.0.
        if scalar.value == 0x0295 { return .lowercaseLetter }
        return properties.generalCategory
    }

    static func categories(of scalar: Unicode.Scalar) -> CategorySet {
        CategorySet(generalCategory(scalar))
    }

    /// `\s`: the White_Space property, in Oniguruma and in Rust's `regex` alike.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20: return true
        case 0..<0x80: return false
        default: return scalar.properties.isWhitespace
        }
    }

    /// Rust `regex`'s `\w` (Alphabetic, marks, decimal digits, connector punctuation,
    /// join controls): HF uses it to decide whether an added token is a `single_word`.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            let c = scalar.value
            return (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F
        }
        if generalCategory(scalar) == .unassigned { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        return CategorySet.mark.union(.decimalNumber).union(.connectorPunctuation)
            .contains(CategorySet(properties.generalCategory))
    }

    /// Oniguruma's `\w` (and so `\b`): Alphabetic, marks, decimal digits and connector
    /// punctuation, plus six Latin-1 number signs (¹ ² ³ ¼ ½ ¾) that Oniguruma's table for
    /// code points below 256 counts as word characters. Unicode 16.0, like the other classes.
    static func isRegexWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            let c = scalar.value
            return (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F
        }
        switch scalar.value {
        case 0xB2, 0xB3, 0xB9, 0xBC, 0xBD, 0xBE: return true
        default: break
        }
        let category = generalCategory(scalar)
        if category == .unassigned { return false }
        if scalar.properties.isAlphabetic { return true }
        return CategorySet.mark.union(.decimalNumber).union(.connectorPunctuation).contains(CategorySet(category))
    }

    /// Simple case folding, for `(?i:...)`: two scalars match case-insensitively when their
    /// folds are equal. Lowercasing is the fold except for the few lowercase letters that fold
    /// to another letter (long s folds to s, final sigma to sigma, ...).
    static func caseFold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.value < 0x80 {
            if (0x41...0x5A).contains(scalar.value), let lower = Unicode.Scalar(scalar.value + 0x20) {
                return lower
            }
            return scalar
        }
        if let special = foldExceptions[scalar.value], let folded = Unicode.Scalar(special) {
            return folded
        }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        if lower.count == 1, let only = lower.first { return only }
        return scalar
    }

    private static let foldExceptions: [UInt32: UInt32] = [
        0x00B5: 0x03BC, 0x017F: 0x0073, 0x0345: 0x03B9, 0x03C2: 0x03C3, 0x03D0: 0x03B2,
        0x03D1: 0x03B8, 0x03D5: 0x03C6, 0x03D6: 0x03C0, 0x03F0: 0x03BA, 0x03F1: 0x03C1,
        0x03F5: 0x03B5, 0x1E9B: 0x1E61, 0x1FBE: 0x03B9,
        0x1C80: 0x0432, 0x1C81: 0x0434, 0x1C82: 0x043E, 0x1C83: 0x0441, 0x1C84: 0x0442,
        0x1C85: 0x0442, 0x1C86: 0x044A, 0x1C87: 0x0463, 0x1C88: 0xA64B,
    ]

    private static let asciiCategories: [Unicode.GeneralCategory] = (0..<0x80).map {
        Unicode.Scalar(UInt8($0)).properties.generalCategory
    }
}

/// A set of general categories, so that a class like `[^\s\p{L}\p{N}]` tests one bit mask.
struct CategorySet: OptionSet, Sendable, Hashable {
    let rawValue: UInt32

    init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    init(_ category: Unicode.GeneralCategory) {
        let bit: Int
        switch category {
        case .uppercaseLetter: bit = 0
        case .lowercaseLetter: bit = 1
        case .titlecaseLetter: bit = 2
        case .modifierLetter: bit = 3
        case .otherLetter: bit = 4
        case .nonspacingMark: bit = 5
        case .spacingMark: bit = 6
        case .enclosingMark: bit = 7
        case .decimalNumber: bit = 8
        case .letterNumber: bit = 9
        case .otherNumber: bit = 10
        case .connectorPunctuation: bit = 11
        case .dashPunctuation: bit = 12
        case .openPunctuation: bit = 13
        case .closePunctuation: bit = 14
        case .initialPunctuation: bit = 15
        case .finalPunctuation: bit = 16
        case .otherPunctuation: bit = 17
        case .mathSymbol: bit = 18
        case .currencySymbol: bit = 19
        case .modifierSymbol: bit = 20
        case .otherSymbol: bit = 21
        case .spaceSeparator: bit = 22
        case .lineSeparator: bit = 23
        case .paragraphSeparator: bit = 24
        case .control: bit = 25
        case .format: bit = 26
        case .surrogate: bit = 27
        case .privateUse: bit = 28
        case .unassigned: bit = 29
        @unknown default: bit = 29
        }
        self.init(rawValue: 1 << bit)
    }

    static let uppercaseLetter = CategorySet(.uppercaseLetter)
    static let lowercaseLetter = CategorySet(.lowercaseLetter)
    static let titlecaseLetter = CategorySet(.titlecaseLetter)
    static let modifierLetter = CategorySet(.modifierLetter)
    static let otherLetter = CategorySet(.otherLetter)
    static let letter: CategorySet = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
    static let casedLetter: CategorySet = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]
    static let nonspacingMark = CategorySet(.nonspacingMark)
    static let spacingMark = CategorySet(.spacingMark)
    static let enclosingMark = CategorySet(.enclosingMark)
    static let mark: CategorySet = [.nonspacingMark, .spacingMark, .enclosingMark]
    static let decimalNumber = CategorySet(.decimalNumber)
    static let letterNumber = CategorySet(.letterNumber)
    static let otherNumber = CategorySet(.otherNumber)
    static let number: CategorySet = [.decimalNumber, .letterNumber, .otherNumber]
    static let connectorPunctuation = CategorySet(.connectorPunctuation)
    static let dashPunctuation = CategorySet(.dashPunctuation)
    static let openPunctuation = CategorySet(.openPunctuation)
    static let closePunctuation = CategorySet(.closePunctuation)
    static let initialPunctuation = CategorySet(.initialPunctuation)
    static let finalPunctuation = CategorySet(.finalPunctuation)
    static let otherPunctuation = CategorySet(.otherPunctuation)
    static let punctuation: CategorySet = [.connectorPunctuation, .dashPunctuation, .openPunctuation,
                                           .closePunctuation, .initialPunctuation, .finalPunctuation,
                                           .otherPunctuation]
    static let mathSymbol = CategorySet(.mathSymbol)
    static let currencySymbol = CategorySet(.currencySymbol)
    static let modifierSymbol = CategorySet(.modifierSymbol)
    static let otherSymbol = CategorySet(.otherSymbol)
    static let symbol: CategorySet = [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol]
    static let spaceSeparator = CategorySet(.spaceSeparator)
    static let lineSeparator = CategorySet(.lineSeparator)
    static let paragraphSeparator = CategorySet(.paragraphSeparator)
    static let separator: CategorySet = [.spaceSeparator, .lineSeparator, .paragraphSeparator]
    static let control = CategorySet(.control)
    static let format = CategorySet(.format)
    static let surrogate = CategorySet(.surrogate)
    static let privateUse = CategorySet(.privateUse)
    static let unassigned = CategorySet(.unassigned)
    static let other: CategorySet = [.control, .format, .surrogate, .privateUse, .unassigned]

    /// The categories a `\p{...}` name stands for (short or long name; case, spaces, `_` and
    /// `-` ignored, as Oniguruma does), or nil for names we do not support (scripts, ...).
    init?(propertyName: String) {
        let key = String(propertyName.lowercased().unicodeScalars.filter { !" _-".unicodeScalars.contains($0) })
        let table: [String: CategorySet] = [
            "l": .letter, "letter": .letter, "lc": .casedLetter, "l&": .casedLetter, "casedletter": .casedLetter,
            "lu": .uppercaseLetter, "uppercaseletter": .uppercaseLetter,
            "ll": .lowercaseLetter, "lowercaseletter": .lowercaseLetter,
            "lt": .titlecaseLetter, "titlecaseletter": .titlecaseLetter,
            "lm": .modifierLetter, "modifierletter": .modifierLetter,
            "lo": .otherLetter, "otherletter": .otherLetter,
            "m": .mark, "mark": .mark, "combiningmark": .mark,
            "mn": .nonspacingMark, "nonspacingmark": .nonspacingMark,
            "mc": .spacingMark, "spacingmark": .spacingMark,
            "me": .enclosingMark, "enclosingmark": .enclosingMark,
            "n": .number, "number": .number,
            "nd": .decimalNumber, "decimalnumber": .decimalNumber,
            "nl": .letterNumber, "letternumber": .letterNumber,
            "no": .otherNumber, "othernumber": .otherNumber,
            "p": .punctuation, "punctuation": .punctuation,
            "pc": .connectorPunctuation, "connectorpunctuation": .connectorPunctuation,
            "pd": .dashPunctuation, "dashpunctuation": .dashPunctuation,
            "ps": .openPunctuation, "openpunctuation": .openPunctuation,
            "pe": .closePunctuation, "closepunctuation": .closePunctuation,
            "pi": .initialPunctuation, "initialpunctuation": .initialPunctuation,
            "pf": .finalPunctuation, "finalpunctuation": .finalPunctuation,
            "po": .otherPunctuation, "otherpunctuation": .otherPunctuation,
            "s": .symbol, "symbol": .symbol,
            "sm": .mathSymbol, "mathsymbol": .mathSymbol,
            "sc": .currencySymbol, "currencysymbol": .currencySymbol,
            "sk": .modifierSymbol, "modifiersymbol": .modifierSymbol,
            "so": .otherSymbol, "othersymbol": .otherSymbol,
            "z": .separator, "separator": .separator,
            "zs": .spaceSeparator, "spaceseparator": .spaceSeparator,
            "zl": .lineSeparator, "lineseparator": .lineSeparator,
            "zp": .paragraphSeparator, "paragraphseparator": .paragraphSeparator,
            "c": .other, "other": .other,
            "cc": .control, "control": .control,
            "cf": .format, "format": .format,
            "cs": .surrogate, "surrogate": .surrogate,
            "co": .privateUse, "privateuse": .privateUse,
            "cn": .unassigned, "unassigned": .unassigned,
        ]
        guard let set = table[key] else { return nil }
        self = set
    }
}
