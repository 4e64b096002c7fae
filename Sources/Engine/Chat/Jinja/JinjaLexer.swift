/// One token of a chat template, as jinja2's lexer makes them.
struct JinjaToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case end
    }

    let kind: Kind
    let line: Int
}

/// Splits a template into text and tag tokens the way jinja2's lexer does under
/// transformers' settings: `trim_blocks` (the newline right after a `%}` or `#}` is dropped),
/// `lstrip_blocks` (spaces and tabs before a `{%` or `{#` that starts a line are dropped),
/// `-` / `+` whitespace control on every tag, newlines normalized to "\n" and one trailing
/// newline of the template removed.
struct JinjaLexer {
    private let source: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var tokens: [JinjaToken] = []
    /// Whether the text that follows starts a line (jinja2's `line_starting`).
    private var lineStarting = true

    static func tokenize(_ text: String) throws -> [JinjaToken] {
        var lexer = JinjaLexer(source: normalizedNewlines(text))
        try lexer.run()
        return lexer.tokens
    }

    private init(source: [Unicode.Scalar]) {
        self.source = source
    }

    /// "\r\n" and "\r" become "\n"; one trailing newline is dropped (keep_trailing_newline=False).
    private static func normalizedNewlines(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var iterator = Array(text.unicodeScalars)[...]
        while let scalar = iterator.popFirst() {
            if scalar == "\r" {
                if iterator.first == "\n" { iterator.removeFirst() }
                out.append("\n")
            } else {
                out.append(scalar)
            }
        }
        if out.last == "\n" { out.removeLast() }
        return out
    }

    private enum TagKind { case variable, block, comment }

    private mutating func run() throws {
        while position < source.count {
            guard let (start, kind) = nextTagStart() else {
                emitText(source[position...], line: line)
                return
            }
            var text = Array(source[position..<start])
            let textLine = line
            line += newlines(in: text)
            position = start + 2
            let sign = position < source.count && (source[position] == "-" || source[position] == "+")
                ? source[position] : nil
            if sign != nil { position += 1 }

            if sign == "-" {
                while let last = text.last, PythonText.isSpace(last) { text.removeLast() }
            } else if sign == nil && kind != .variable {
                // lstrip_blocks: only spaces before the tag on its line; removed.
                let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                if (lineStart > 0 || lineStarting) && lineStart < text.count
                    && text[lineStart...].allSatisfy(PythonText.isSpace) {
                    text.removeSubrange(lineStart...)
                }
            }
            emitText(text[...], line: textLine)

            switch kind {
            case .comment:
                try skipComment(openedOn: line)
            case .variable, .block:
                if kind == .block, try lexRawBlock() { continue }
                try lexTag(kind)
            }
        }
    }

    /// The next "{{", "{%" or "{#" at or after the current position.
    private func nextTagStart() -> (Int, TagKind)? {
        var i = position
        while i + 1 < source.count {
            if source[i] == "{" {
                switch source[i + 1] {
                case "{": return (i, .variable)
                case "%": return (i, .block)
                case "#": return (i, .comment)
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    private mutating func emitText(_ text: ArraySlice<Unicode.Scalar>, line: Int) {
        guard !text.isEmpty else { return }
        tokens.append(JinjaToken(kind: .text(PythonText.string(text)), line: line))
    }

    private func newlines(in text: some Sequence<Unicode.Scalar>) -> Int {
        text.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
    }

    private func starts(with literal: String, at index: Int) -> Bool {
        let scalars = Array(literal.unicodeScalars)
        guard index + scalars.count <= source.count else { return false }
        return source[index..<(index + scalars.count)].elementsEqual(scalars)
    }

    /// After a tag: `-` eats all following whitespace; otherwise a block or comment end eats
    /// one newline (trim_blocks) unless it was written with `+`.
    private mutating func finishTag(strip: Bool, trimNewline: Bool) {
        var last: Unicode.Scalar? = nil
        if strip {
            while position < source.count && PythonText.isSpace(source[position]) {
                if source[position] == "\n" { line += 1 }
                last = source[position]
                position += 1
            }
        } else if trimNewline && position < source.count && source[position] == "\n" {
            line += 1
            last = "\n"
            position += 1
        }
        lineStarting = last == "\n"
    }

    private mutating func skipComment(openedOn openLine: Int) throws {
        let bodyStart = position
        var i = position
        while i + 1 < source.count {
            if source[i] == "#" && source[i + 1] == "}" {
                let mark = i > bodyStart ? source[i - 1] : nil
                line += newlines(in: source[position..<i])
                position = i + 2
                finishTag(strip: mark == "-", trimNewline: mark != "+")
                return
            }
            i += 1
        }
        throw JinjaError("comment opened here is never closed (no '#}')", line: openLine)
    }

    /// `{% raw %}...{% endraw %}`: the body is text, as written.
    private mutating func lexRawBlock() throws -> Bool {
        var i = position
        while i < source.count && PythonText.isSpace(source[i]) { i += 1 }
        guard starts(with: "raw", at: i) else { return false }
        i += 3
        while i < source.count && PythonText.isSpace(source[i]) { i += 1 }
        let stripAfterOpen: Bool
        if starts(with: "-%}", at: i) { stripAfterOpen = true; i += 3 }
        else if starts(with: "%}", at: i) { stripAfterOpen = false; i += 2 }
        else { return false }
        let openLine = line
        line += newlines(in: source[position..<i])
        position = i
        if stripAfterOpen { finishTag(strip: true, trimNewline: false) }
        let bodyStart = position
        var j = position
        while j + 1 < source.count {
            if source[j] == "{" && source[j + 1] == "%" {
                var k = j + 2
                let sign = k < source.count && (source[k] == "-" || source[k] == "+") ? source[k] : nil
                if sign != nil { k += 1 }
                while k < source.count && PythonText.isSpace(source[k]) { k += 1 }
                if starts(with: "endraw", at: k) {
                    k += 6
                    while k < source.count && PythonText.isSpace(source[k]) { k += 1 }
                    let closeSign: Unicode.Scalar?
                    if starts(with: "-%}", at: k) { closeSign = "-"; k += 3 }
                    else if starts(with: "+%}", at: k) { closeSign = "+"; k += 3 }
                    else if starts(with: "%}", at: k) { closeSign = nil; k += 2 }
                    else { j += 1; continue }
                    var body = Array(source[bodyStart..<j])
                    if sign == "-" {
                        while let last = body.last, PythonText.isSpace(last) { body.removeLast() }
                    } else if sign == nil, let newline = body.lastIndex(of: "\n"),
                              newline + 1 < body.count, body[(newline + 1)...].allSatisfy(PythonText.isSpace) {
                        body.removeSubrange((newline + 1)...)
                    }
                    emitText(body[...], line: line)
                    line += newlines(in: source[bodyStart..<k])
                    position = k
                    finishTag(strip: closeSign == "-", trimNewline: closeSign == nil)
                    return true
                }
            }
            j += 1
        }
        throw JinjaError("'raw' block is never closed (no 'endraw')", line: openLine)
    }

    private mutating func lexTag(_ kind: TagKind) throws {
        let openLine = line
        tokens.append(JinjaToken(kind: kind == .block ? .blockBegin : .variableBegin, line: line))
        var balance: [Unicode.Scalar] = []
        while true {
            guard position < source.count else {
                throw JinjaError(kind == .block ? "'{%' opened here is never closed (no '%}')"
                                                : "'{{' opened here is never closed (no '}}')", line: openLine)
            }
            if balance.isEmpty {
                if kind == .block {
                    if starts(with: "+%}", at: position) {
                        tokens.append(JinjaToken(kind: .blockEnd, line: line))
                        position += 3
                        finishTag(strip: false, trimNewline: false)
                        return
                    }
                    if starts(with: "-%}", at: position) || starts(with: "%}", at: position) {
                        let strip = source[position] == "-"
                        tokens.append(JinjaToken(kind: .blockEnd, line: line))
                        position += strip ? 3 : 2
                        finishTag(strip: strip, trimNewline: true)
                        return
                    }
                } else if starts(with: "-}}", at: position) || starts(with: "}}", at: position) {
                    let strip = source[position] == "-"
                    tokens.append(JinjaToken(kind: .variableEnd, line: line))
                    position += strip ? 3 : 2
                    finishTag(strip: strip, trimNewline: false)
                    return
                }
            }
            let scalar = source[position]
            if PythonText.isSpace(scalar) {
                if scalar == "\n" { line += 1 }
                position += 1
            } else if let number = try lexNumber() {
                tokens.append(JinjaToken(kind: number, line: line))
            } else if isNameStart(scalar) {
                let start = position
                while position < source.count && isNameContinue(source[position]) { position += 1 }
                tokens.append(JinjaToken(kind: .name(PythonText.string(source[start..<position])), line: line))
            } else if scalar == "'" || scalar == "\"" {
                let tokenLine = line
                let value = try lexString()
                tokens.append(JinjaToken(kind: .string(value), line: tokenLine))
            } else if let op = lexOperator() {
                switch op {
                case "(": balance.append(")")
                case "[": balance.append("]")
                case "{": balance.append("}")
                case ")", "]", "}":
                    guard let expected = balance.popLast() else { throw JinjaError("unexpected '\(op)'", line: line) }
                    guard String(expected) == op else {
                        throw JinjaError("unexpected '\(op)', expected '\(expected)'", line: line)
                    }
                default: break
                }
                tokens.append(JinjaToken(kind: .op(op), line: line))
            } else {
                throw JinjaError("unexpected character '\(scalar)'", line: line)
            }
        }
    }

    private func isNameStart(_ s: Unicode.Scalar) -> Bool {
        s == "_" || (s.properties.isAlphabetic && s.properties.numericType == nil)
    }

    private func isNameContinue(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s.properties.isAlphabetic || s.properties.generalCategory == .decimalNumber
            || s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .spacingMark
    }

    private static let operators = ["//", "**", "==", "!=", ">=", "<=",
                                    "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
                                    ">", "<", "=", ".", ":", "|", ",", ";"]

    private mutating func lexOperator() -> String? {
        for op in Self.operators where starts(with: op, at: position) {
            position += op.unicodeScalars.count
            return op
        }
        return nil
    }

    private func isDigit(_ i: Int) -> Bool {
        i < source.count && ("0"..."9").contains(source[i])
    }

    /// Digits with single underscores between them, from `i`; returns the end.
    private func digitRun(from i: Int) -> Int? {
        guard isDigit(i) else { return nil }
        var j = i + 1
        while true {
            if isDigit(j) { j += 1 }
            else if j < source.count && source[j] == "_" && isDigit(j + 1) { j += 2 }
            else { return j }
        }
    }

    /// jinja2's float and integer rules: `1_000`, `1.5`, `2e-3`, `0x1F`, `0o17`, `0b101`.
    private mutating func lexNumber() throws -> JinjaToken.Kind? {
        guard isDigit(position) else { return nil }
        if source[position] == "0", position + 1 < source.count {
            let radixes: [Unicode.Scalar: Int] = ["x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2]
            if let radix = radixes[source[position + 1]] {
                var j = position + 2
                var digits = ""
                while j < source.count {
                    if source[j] == "_" && j + 1 < source.count && Int(String(source[j + 1]), radix: radix) != nil {
                        j += 1
                        continue
                    }
                    guard Int(String(source[j]), radix: radix) != nil else { break }
                    digits.unicodeScalars.append(source[j])
                    j += 1
                }
                if !digits.isEmpty {
                    guard let value = Int(digits, radix: radix) else { throw JinjaError("integer too large", line: line) }
                    position = j
                    return .integer(value)
                }
            }
        }
        guard let integerEnd = digitRun(from: position) else { return nil }
        var end = integerEnd
        var isFloat = false
        if end < source.count && source[end] == ".", let fractionEnd = digitRun(from: end + 1) {
            end = fractionEnd
            isFloat = true
        }
        if end < source.count && (source[end] == "e" || source[end] == "E") {
            var j = end + 1
            if j < source.count && (source[j] == "+" || source[j] == "-") { j += 1 }
            if let exponentEnd = digitRun(from: j) {
                end = exponentEnd
                isFloat = true
            }
        }
        let text = PythonText.string(source[position..<end].filter { $0 != "_" })
        position = end
        if isFloat {
            guard let value = Double(text) else { throw JinjaError("bad number '\(text)'", line: line) }
            return .float(value)
        }
        // jinja2 takes "0" runs ("00") but not other numbers with a leading zero.
        guard let value = Int(text) else { throw JinjaError("integer too large", line: line) }
        return .integer(value)
    }

    /// A quoted string, unescaped as Python's "unicode-escape" codec does (what jinja2 uses).
    private mutating func lexString() throws -> String {
        let quote = source[position]
        let openLine = line
        var i = position + 1
        var out = String.UnicodeScalarView()
        while true {
            guard i < source.count else { throw JinjaError("string opened here is never closed", line: openLine) }
            let scalar = source[i]
            if scalar == quote { break }
            if scalar == "\n" { line += 1 }
            guard scalar == "\\" else {
                out.append(scalar)
                i += 1
                continue
            }
            guard i + 1 < source.count else { throw JinjaError("string opened here is never closed", line: openLine) }
            let next = source[i + 1]
            i += 2
            switch next {
            case "\n": line += 1
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var value = Int(next.value - 48)
                var taken = 1
                while taken < 3, i < source.count, ("0"..."7").contains(source[i]) {
                    value = value * 8 + Int(source[i].value - 48)
                    i += 1
                    taken += 1
                }
                out.append(Unicode.Scalar(UInt32(value))!)
            case "x", "u", "U":
                let width = next == "x" ? 2 : next == "u" ? 4 : 8
                guard i + width <= source.count,
                      let value = UInt32(PythonText.string(source[i..<(i + width)]), radix: 16),
                      source[i..<(i + width)].allSatisfy({ $0.properties.isASCIIHexDigit }),
                      let decoded = Unicode.Scalar(value) else {
                    throw JinjaError("bad '\\\(next)' escape in a string", line: line)
                }
                out.append(decoded)
                i += width
            case "N":
                throw JinjaError("'\\N{...}' escapes are not supported", line: line)
            default:
                // Python keeps an unknown escape as written.
                out.append("\\")
                out.append(next)
            }
        }
        position = i + 1
        return String(out)
    }
}
