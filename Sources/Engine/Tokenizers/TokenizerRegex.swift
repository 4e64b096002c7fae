/// A backtracking regex engine for the patterns found in `tokenizer.json` files (Split
/// pre-tokenizers, Replace normalizers and decoders), with the semantics of Oniguruma, the
/// engine HF `tokenizers` uses: it works on Unicode scalars, alternation is ordered
/// (leftmost-first), `\s`, `\p{..}` and `(?i:..)` use the classes in `UnicodeClasses`, and
/// `matches(in:)` steps over the text as Oniguruma's `find_iter` does.
///
/// Supported: literals, `.`, `[...]` classes with ranges and escapes, `\s \S \d \D \p{..} \P{..}
/// \w \W \t \n \r \f \v \a \e \xHH \x{H..} \uHHHH`, groups `(..)` `(?:..)` `(?i:..)` `(?-i:..)` `(?i)`,
/// lookahead `(?=..)` `(?!..)`, quantifiers `? * + {n} {n,} {n,m} {,m}` and their lazy forms,
/// anchors `^ $ \A \z \b \B`. Anything else is an error naming the pattern, never a silent mismatch.
struct TokenizerRegex: Sendable {
    let pattern: String
    private let program: [Instruction]
    private let classes: [ScalarClass]

    init(_ pattern: String) throws {
        self.pattern = pattern
        var parser = RegexParser(pattern: pattern)
        let tree = try parser.parse()
        var compiler = RegexCompiler(pattern: pattern)
        try compiler.emit(tree)
        compiler.program.append(.succeed)
        program = compiler.program
        classes = compiler.classes
    }

    /// Non-overlapping matches from left to right. As in Oniguruma's `find_iter`, an empty
    /// match right where the previous match ended is skipped.
    func matches(in text: [Unicode.Scalar]) throws -> [Range<Int>] {
        var found: [Range<Int>] = []
        var stack: [Frame] = []
        stack.reserveCapacity(64)
        var budget = 1_000_000 + 10_000 * text.count
        var searchFrom = 0
        var lastMatchEnd: Int? = nil
        outer: while searchFrom <= text.count {
            for start in searchFrom...text.count {
                guard let end = try run(pc: 0, at: start, in: text, stack: &stack, budget: &budget) else {
                    continue
                }
                if end == start, lastMatchEnd == end {
                    searchFrom = start + 1
                    continue outer
                }
                found.append(start..<end)
                lastMatchEnd = end
                searchFrom = end
                continue outer
            }
            break
        }
        return found
    }

    private struct Frame {
        var pc: Int
        var position: Int
    }

    /// Runs the program from `pc` at `position`; returns where the match ends, or nil.
    /// Alternatives are pushed on `stack`; frames below the entry height belong to the caller.
    private func run(pc startPC: Int, at position: Int, in text: [Unicode.Scalar],
                     stack: inout [Frame], budget: inout Int) throws -> Int? {
        let base = stack.count
        var pc = startPC
        var pos = position
        while true {
            budget -= 1
            if budget < 0 {
                throw EngineError("regex \(pattern.debugDescription): too much backtracking on this input")
            }
            var ok = true
            switch program[pc] {
            case .scalar(let wanted):
                if pos < text.count, text[pos] == wanted {
                    pos += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .scalarClass(let index):
                if pos < text.count, classes[index].contains(text[pos]) {
                    pos += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .split(let first, let second):
                stack.append(Frame(pc: second, position: pos))
                pc = first
            case .jump(let target):
                pc = target
            case .assert(let anchor):
                if anchor.holds(at: pos, in: text) { pc += 1 } else { ok = false }
            case .lookahead(let negated, let after):
                let matched = try run(pc: pc + 1, at: pos, in: text, stack: &stack, budget: &budget) != nil
                if matched != negated { pc = after } else { ok = false }
            case .succeed:
                stack.removeSubrange(base...)
                return pos
            }
            if !ok {
                guard stack.count > base, let frame = stack.popLast() else { return nil }
                pc = frame.pc
                pos = frame.position
            }
        }
    }
}

// MARK: - Program

private enum Instruction: Sendable {
    case scalar(Unicode.Scalar)
    case scalarClass(Int)
    /// Try `first`; on failure come back and try `second`.
    case split(Int, Int)
    case jump(Int)
    case assert(Anchor)
    /// The lookahead body starts at the next instruction and ends with `.succeed`; `after`
    /// is where matching goes on when the assertion holds.
    case lookahead(negated: Bool, after: Int)
    case succeed
}

private enum Anchor: Sendable {
    case lineStart, lineEnd, textStart, textEnd
    /// `\b` and `\B`: between a word character and something else (the text's ends count
    /// as non-word), with Oniguruma's word characters.
    case wordBoundary, notWordBoundary

    func holds(at pos: Int, in text: [Unicode.Scalar]) -> Bool {
        switch self {
        case .wordBoundary, .notWordBoundary:
            let before = pos > 0 && UnicodeClasses.isRegexWordCharacter(text[pos - 1])
            let after = pos < text.count && UnicodeClasses.isRegexWordCharacter(text[pos])
            return (before != after) == (self == .wordBoundary)
        case .lineStart: return pos == 0 || text[pos - 1] == "\n"
        case .lineEnd: return pos == text.count || text[pos] == "\n"
        case .textStart: return pos == 0
        case .textEnd: return pos == text.count
        }
    }
}

/// A set of scalars: literals, ranges, general categories, whitespace, nested (negated) sets.
struct ScalarClass: Sendable {
    enum Item: Sendable {
        case scalar(Unicode.Scalar)
        case range(UInt32, UInt32)
        case categories(CategorySet)
        case whitespace
        case word
        case set(ScalarClass)
    }

    var items: [Item] = []
    var negated = false
    var caseInsensitive = false

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        var found = containsExactly(scalar)
        if !found && caseInsensitive {
            let folded = UnicodeClasses.caseFold(scalar)
            found = containsFolded(folded) || (folded != scalar && containsExactly(folded))
            if !found {
                let upper = scalar.properties.uppercaseMapping.unicodeScalars
                if upper.count == 1, let only = upper.first, only != scalar { found = containsExactly(only) }
            }
        }
        return found != negated
    }

    private func containsExactly(_ scalar: Unicode.Scalar) -> Bool {
        var categories: CategorySet? = nil
        for item in items {
            switch item {
            case .scalar(let s):
                if s == scalar { return true }
            case .range(let low, let high):
                if low <= scalar.value && scalar.value <= high { return true }
            case .categories(let wanted):
                if categories == nil { categories = UnicodeClasses.categories(of: scalar) }
                if let have = categories, !wanted.isDisjoint(with: have) { return true }
            case .whitespace:
                if UnicodeClasses.isWhitespace(scalar) { return true }
            case .word:
                if UnicodeClasses.isRegexWordCharacter(scalar) { return true }
            case .set(let inner):
                if inner.contains(scalar) { return true }
            }
        }
        return false
    }

    /// Literal items compared by case fold, for `(?i)`.
    private func containsFolded(_ folded: Unicode.Scalar) -> Bool {
        for case .scalar(let s) in items where UnicodeClasses.caseFold(s) == folded {
            return true
        }
        return false
    }
}

// MARK: - Parsing

private indirect enum RegexNode {
    case empty
    case literal(Unicode.Scalar)
    case oneOf(ScalarClass)
    case concatenation([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
    case lookahead(RegexNode, negated: Bool)
    case anchor(Anchor)

    /// Whether the node can match without consuming anything (a loop over such a node could
    /// spin forever, so unbounded repetition of it is refused).
    var canMatchEmpty: Bool {
        switch self {
        case .empty, .anchor, .lookahead: return true
        case .literal, .oneOf: return false
        case .concatenation(let parts): return parts.allSatisfy(\.canMatchEmpty)
        case .alternation(let options): return options.contains(where: \.canMatchEmpty)
        case .repetition(let body, let min, _, _): return min == 0 || body.canMatchEmpty
        }
    }
}

private struct RegexParser {
    let pattern: String
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var caseInsensitive = false
    private var depth = 0
    /// Deeper nesting is refused (parsing and matching recurse over groups).
    private static let maximumDepth = 100

    init(pattern: String) {
        self.pattern = pattern
        scalars = Array(pattern.unicodeScalars)
    }

    private func error(_ problem: String) -> EngineError {
        EngineError("regex \(pattern.debugDescription): \(problem)")
    }

    private var atEnd: Bool { index >= scalars.count }
    private var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    mutating func parse() throws -> RegexNode {
        let node = try parseAlternation()
        if !atEnd { throw error("unbalanced ')'") }
        return node
    }

    private mutating func parseAlternation() throws -> RegexNode {
        var options = [try parseSequence()]
        while current == "|" {
            index += 1
            options.append(try parseSequence())
        }
        return options.count == 1 ? options[0] : .alternation(options)
    }

    private mutating func parseSequence() throws -> RegexNode {
        var parts: [RegexNode] = []
        while let c = current, c != "|", c != ")" {
            // `(?i)` turns the flag on up to the end of the enclosing group; Oniguruma reads
            // `a(?i)b|c` as `a(?i:b|c)`, so the rest of the group is parsed as one unit.
            if let flags = inlineFlagsAhead() {
                index += flags.length
                try enterGroup()
                defer { depth -= 1 }
                let saved = caseInsensitive
                caseInsensitive = flags.caseInsensitive
                parts.append(try parseAlternation())
                caseInsensitive = saved
                break
            }
            let atom = try parseAtom()
            parts.append(try parseQuantifiers(atom))
        }
        if parts.isEmpty { return .empty }
        return parts.count == 1 ? parts[0] : .concatenation(parts)
    }

    /// `(?i)` or `(?-i)` at the current position.
    private func inlineFlagsAhead() -> (caseInsensitive: Bool, length: Int)? {
        guard current == "(", peek(1) == "?" else { return nil }
        if peek(2) == "i", peek(3) == ")" { return (true, 4) }
        if peek(2) == "-", peek(3) == "i", peek(4) == ")" { return (false, 5) }
        return nil
    }

    private mutating func parseAtom() throws -> RegexNode {
        guard let c = current else { throw error("unexpected end") }
        index += 1
        switch c {
        case "(":
            return try parseGroup()
        case "[":
            return .oneOf(try parseClass())
        case ".":
            return .oneOf(ScalarClass(items: [.scalar("\n")], negated: true))
        case "^":
            return .anchor(.lineStart)
        case "$":
            return .anchor(.lineEnd)
        case "\\":
            switch try parseEscape(inClass: false) {
            case .scalar(let s): return literal(s)
            case .set(let set): return .oneOf(set)
            case .anchor(let anchor): return .anchor(anchor)
            }
        case "*", "+", "?":
            throw error("quantifier '\(c)' with nothing to repeat")
        default:
            return literal(c)
        }
    }

    private func literal(_ scalar: Unicode.Scalar) -> RegexNode {
        guard caseInsensitive else { return .literal(scalar) }
        return .oneOf(ScalarClass(items: [.scalar(scalar)], negated: false, caseInsensitive: true))
    }

    private mutating func enterGroup() throws {
        depth += 1
        if depth > Self.maximumDepth { throw error("groups nested more than \(Self.maximumDepth) deep") }
    }

    private mutating func parseGroup() throws -> RegexNode {
        try enterGroup()
        defer { depth -= 1 }
        var node: RegexNode
        if current == "?" {
            index += 1
            let saved = caseInsensitive
            defer { caseInsensitive = saved }
            switch current {
            case ":":
                index += 1
                node = try parseAlternation()
            case "=", "!":
                let negated = current == "!"
                index += 1
                node = .lookahead(try parseAlternation(), negated: negated)
            case "i" where peek(1) == ":":
                index += 2
                caseInsensitive = true
                node = try parseAlternation()
            case "-" where peek(1) == "i" && peek(2) == ":":
                index += 3
                caseInsensitive = false
                node = try parseAlternation()
            default:
                throw error("unsupported group '(?\(current.map { String($0) } ?? "")'")
            }
        } else {
            node = try parseAlternation()  // capturing groups match like non-capturing ones
        }
        guard current == ")" else { throw error("missing ')'") }
        index += 1
        return node
    }

    private mutating func parseQuantifiers(_ atom: RegexNode) throws -> RegexNode {
        var node = atom
        var stacked = 0
        while let c = current {
            var bounds: (min: Int, max: Int?)
            switch c {
            case "*": bounds = (0, nil); index += 1
            case "+": bounds = (1, nil); index += 1
            case "?": bounds = (0, 1); index += 1
            case "{":
                guard let interval = intervalAhead() else { return node }  // a literal '{'
                bounds = (interval.min, interval.max)
                index += interval.length
            default:
                return node
            }
            var greedy = true
            if current == "?" {
                greedy = false
                index += 1
            } else if current == "+", c != "{" {
                throw error("possessive quantifiers are not supported")
            }
            if case .anchor = node { throw error("quantifier after an anchor") }
            if bounds.max == nil, node.canMatchEmpty {
                throw error("unbounded repetition of something that can match nothing")
            }
            stacked += 1
            if stacked > 3 { throw error("too many quantifiers in a row") }
            if let max = bounds.max, max < bounds.min { throw error("bad interval {\(bounds.min),\(max)}") }
            if (bounds.max ?? bounds.min) > 1000 { throw error("repetition count above 1000") }
            node = .repetition(node, min: bounds.min, max: bounds.max, greedy: greedy)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}` or `{,m}` at the current position (Oniguruma reads anything else
    /// starting with '{' as a literal).
    private func intervalAhead() -> (min: Int, max: Int?, length: Int)? {
        var i = index + 1
        func number() -> Int? {
            var value: Int? = nil
            while i < scalars.count, (0x30...0x39).contains(scalars[i].value) {
                value = (value ?? 0) * 10 + Int(scalars[i].value - 0x30)
                if (value ?? 0) > 100_000 { return nil }
                i += 1
            }
            return value
        }
        let low = number()
        if i < scalars.count, scalars[i] == "}" {
            guard let low else { return nil }
            return (low, low, i + 1 - index)
        }
        guard i < scalars.count, scalars[i] == "," else { return nil }
        i += 1
        let high = number()
        guard i < scalars.count, scalars[i] == "}", low != nil || high != nil else { return nil }
        return (low ?? 0, high, i + 1 - index)
    }

    private enum Escape {
        case scalar(Unicode.Scalar)
        case set(ScalarClass)
        case anchor(Anchor)
    }

    /// After a backslash.
    private mutating func parseEscape(inClass: Bool) throws -> Escape {
        guard let c = current else { throw error("trailing backslash") }
        index += 1
        switch c {
        case "t": return .scalar("\t")
        case "n": return .scalar("\n")
        case "r": return .scalar("\r")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "a": return .scalar("\u{07}")
        case "e": return .scalar("\u{1B}")
        case "s": return .set(ScalarClass(items: [.whitespace]))
        case "S": return .set(ScalarClass(items: [.whitespace], negated: true))
        case "w": return .set(ScalarClass(items: [.word]))
        case "W": return .set(ScalarClass(items: [.word], negated: true))
        case "d": return .set(ScalarClass(items: [.categories(.decimalNumber)]))
        case "D": return .set(ScalarClass(items: [.categories(.decimalNumber)], negated: true))
        case "p", "P": return .set(try parseProperty(negated: c == "P"))
        case "x": return .scalar(try parseHexEscape())
        case "u": return .scalar(try parseHexDigits(count: 4))
        case "A" where !inClass: return .anchor(.textStart)
        case "z" where !inClass: return .anchor(.textEnd)
        case "b" where !inClass: return .anchor(.wordBoundary)
        case "B" where !inClass: return .anchor(.notWordBoundary)
        default:
            if c.properties.isASCIIHexDigit || ("a"..."z").contains(c) || ("A"..."Z").contains(c) {
                throw error("unsupported escape '\\\(c)'")
            }
            return .scalar(c)
        }
    }

    private mutating func parseProperty(negated: Bool) throws -> ScalarClass {
        guard current == "{" else { throw error("expected '{' after \\p") }
        index += 1
        var name = ""
        var invert = negated
        if current == "^" {
            invert.toggle()
            index += 1
        }
        while let c = current, c != "}" {
            name.unicodeScalars.append(c)
            index += 1
        }
        guard current == "}" else { throw error("unterminated \\p{") }
        index += 1
        guard let categories = CategorySet(propertyName: name) else {
            throw error("unsupported Unicode property '\(name)'")
        }
        return ScalarClass(items: [.categories(categories)], negated: invert)
    }

    private mutating func parseHexEscape() throws -> Unicode.Scalar {
        if current == "{" {
            index += 1
            var value: UInt32 = 0
            var digits = 0
            while let c = current, c != "}" {
                guard let digit = hexValue(c), digits < 8 else { throw error("bad \\x{...} escape") }
                value = value << 4 | digit
                digits += 1
                index += 1
            }
            guard current == "}", digits > 0, let scalar = Unicode.Scalar(value) else {
                throw error("bad \\x{...} escape")
            }
            index += 1
            return scalar
        }
        var value: UInt32 = 0
        var digits = 0
        while digits < 2, let c = current, let digit = hexValue(c) {
            value = value << 4 | digit
            digits += 1
            index += 1
        }
        guard digits > 0, let scalar = Unicode.Scalar(value) else { throw error("bad \\x escape") }
        return scalar
    }

    private mutating func parseHexDigits(count: Int) throws -> Unicode.Scalar {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let c = current, let digit = hexValue(c) else { throw error("bad \\u escape") }
            value = value << 4 | digit
            index += 1
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("bad \\u escape") }
        return scalar
    }

    private func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c.value {
        case 0x30...0x39: return c.value - 0x30
        case 0x41...0x46: return c.value - 0x41 + 10
        case 0x61...0x66: return c.value - 0x61 + 10
        default: return nil
        }
    }

    /// After '['.
    private mutating func parseClass() throws -> ScalarClass {
        var set = ScalarClass(caseInsensitive: caseInsensitive)
        if current == "^" {
            set.negated = true
            index += 1
        }
        var first = true
        while true {
            guard let c = current else { throw error("unterminated character class") }
            if c == "]" && !first { index += 1; break }
            if c == "]" { throw error("empty character class") }
            if c == "[" { throw error("nested character classes are not supported") }
            if c == "&" && peek(1) == "&" { throw error("class intersection '&&' is not supported") }
            first = false
            index += 1
            var low: Unicode.Scalar
            if c == "\\" {
                switch try parseEscape(inClass: true) {
                case .scalar(let s): low = s
                case .set(let inner):
                    set.items.append(.set(inner))
                    continue
                case .anchor: throw error("anchor inside a character class")
                }
            } else {
                low = c
            }
            // A range `a-z` (a '-' before ']' is a literal).
            if current == "-", let next = peek(1), next != "]" {
                index += 1
                var high: Unicode.Scalar
                if next == "\\" {
                    index += 1
                    guard case .scalar(let s) = try parseEscape(inClass: true) else {
                        throw error("bad range in character class")
                    }
                    high = s
                } else {
                    if next == "[" { throw error("nested character classes are not supported") }
                    high = next
                    index += 1
                }
                guard low.value <= high.value else { throw error("bad range in character class") }
                set.items.append(.range(low.value, high.value))
            } else {
                set.items.append(.scalar(low))
            }
        }
        return set
    }
}

// MARK: - Compiling

private struct RegexCompiler {
    let pattern: String
    var program: [Instruction] = []
    var classes: [ScalarClass] = []

    init(pattern: String) {
        self.pattern = pattern
    }

    /// Counted repetition copies its body, so a pattern can ask for a huge program.
    private static let maximumProgramLength = 100_000

    mutating func emit(_ node: RegexNode) throws {
        if program.count > Self.maximumProgramLength {
            throw EngineError("regex \(pattern.debugDescription): too large once repetitions are expanded")
        }
        switch node {
        case .empty:
            break
        case .literal(let s):
            program.append(.scalar(s))
        case .oneOf(let set):
            classes.append(set)
            program.append(.scalarClass(classes.count - 1))
        case .anchor(let anchor):
            program.append(.assert(anchor))
        case .concatenation(let parts):
            for part in parts { try emit(part) }
        case .alternation(let options):
            var jumpsToEnd: [Int] = []
            for (i, option) in options.enumerated() {
                if i < options.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    try emit(option)
                    jumpsToEnd.append(program.count)
                    program.append(.jump(-1))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(option)
                }
            }
            for at in jumpsToEnd { program[at] = .jump(program.count) }
        case .repetition(let body, let min, let max, let greedy):
            for _ in 0..<min { try emit(body) }
            if let max {
                // Each optional copy may be skipped straight to the end.
                var skips: [Int] = []
                for _ in min..<max {
                    skips.append(program.count)
                    program.append(.split(-1, -1))
                    try emit(body)
                }
                let end = program.count
                for at in skips {
                    program[at] = greedy ? .split(at + 1, end) : .split(end, at + 1)
                }
            } else {
                let loop = program.count
                program.append(.split(-1, -1))
                try emit(body)
                program.append(.jump(loop))
                let end = program.count
                program[loop] = greedy ? .split(loop + 1, end) : .split(end, loop + 1)
            }
        case .lookahead(let body, let negated):
            let at = program.count
            program.append(.lookahead(negated: negated, after: -1))
            try emit(body)
            program.append(.succeed)
            program[at] = .lookahead(negated: negated, after: program.count)
        }
    }
}
