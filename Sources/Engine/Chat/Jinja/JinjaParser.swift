/// Builds the syntax tree from the tokens, with jinja2's grammar and precedence:
/// conditional < or < and < not < comparison < + - < ~ < * / // % < ** < unary - + <
/// filters, tests and postfix (`.`, `[]`, `()`).
///
/// Tags: if/elif/else, for (with unpacking, an `if` filter and an `else` branch), set (also
/// `ns.attr = ...` and block form), macro, with, filter, break, continue, raw (in the lexer)
/// and transformers' `generation` (rendered as its body). Other jinja2 tags are errors naming
/// the tag.
struct JinjaParser {
    private let tokens: [JinjaToken]
    private var index = 0
    private var loopDepth = 0
    /// How deeply blocks and expressions nest; bounded so that a hostile template is an
    /// error, not a stack overflow.
    private var nesting = 0
    static let maximumNesting = 100

    static func parse(_ source: String) throws -> [JinjaNode] {
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
        let (nodes, _) = try parser.parseBody(until: [], opener: nil)
        return nodes
    }

    private init(tokens: [JinjaToken]) {
        self.tokens = tokens
    }

    // MARK: token stream

    private var current: JinjaToken {
        index < tokens.count ? tokens[index] : JinjaToken(kind: .end, line: tokens.last?.line ?? 1)
    }

    private func peek(_ offset: Int = 1) -> JinjaToken {
        index + offset < tokens.count ? tokens[index + offset] : JinjaToken(kind: .end, line: current.line)
    }

    private mutating func advance() -> JinjaToken {
        let token = current
        index += 1
        return token
    }

    private func isOp(_ op: String, _ token: JinjaToken? = nil) -> Bool {
        if case .op(let value) = (token ?? current).kind { return value == op }
        return false
    }

    private func isName(_ name: String, _ token: JinjaToken? = nil) -> Bool {
        if case .name(let value) = (token ?? current).kind { return value == name }
        return false
    }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        index += 1
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        index += 1
        return true
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw unexpected(expecting: "'\(op)'") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw unexpected(expecting: "a name") }
        index += 1
        return name
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw unexpected(expecting: "'%}'") }
        index += 1
    }

    private func describe(_ token: JinjaToken) -> String {
        switch token.kind {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let name): return "'\(name)'"
        case .string(let value): return PythonText.repr(value)
        case .integer(let value): return "\(value)"
        case .float(let value): return "\(value)"
        case .op(let op): return "'\(op)'"
        case .end: return "the end of the template"
        }
    }

    private func unexpected(expecting: String) -> JinjaError {
        JinjaError("expected \(expecting), found \(describe(current))", line: current.line)
    }

    /// Runs `body` one nesting level deeper.
    private mutating func nested<T>(_ body: (inout JinjaParser) throws -> T) throws -> T {
        guard nesting < Self.maximumNesting else {
            throw JinjaError("the template nests deeper than \(Self.maximumNesting) levels", line: current.line)
        }
        nesting += 1
        defer { nesting -= 1 }
        return try body(&self)
    }

    // MARK: statements

    /// Nodes up to a `{% name %}` tag whose name is in `until`; the stream is left on that
    /// name. `opener` names the block being parsed, for the error when it is never closed.
    private mutating func parseBody(until: Set<String>, opener: (tag: String, line: Int)?) throws
        -> ([JinjaNode], String?) {
        var nodes: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case .text(let text):
                index += 1
                nodes.append(JinjaNode(kind: .text(text), line: token.line))
            case .variableBegin:
                index += 1
                let expression = try parseTuple()
                guard current.kind == .variableEnd else { throw unexpected(expecting: "'}}'") }
                index += 1
                nodes.append(JinjaNode(kind: .output(expression), line: token.line))
            case .blockBegin:
                index += 1
                guard case .name(let tag) = current.kind else { throw unexpected(expecting: "a tag name") }
                if until.contains(tag) { return (nodes, tag) }
                let tagLine = advance().line
                nodes.append(contentsOf: try nested { try $0.parseStatement(tag, line: tagLine) })
            case .end:
                if let opener {
                    let ends = until.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw JinjaError("'\(opener.tag)' block opened here is never closed (expected \(ends))",
                                     line: opener.line)
                }
                return (nodes, nil)
            default:
                throw unexpected(expecting: "text or a tag")
            }
        }
    }

    private static let unsupportedTags: Set<String> = [
        "raw", "block", "extends", "include", "import", "from", "call", "autoescape",
        "trans", "pluralize", "do", "print",
    ]
    private static let endTags: Set<String> = [
        "endif", "elif", "else", "endfor", "endset", "endmacro", "endwith", "endgeneration",
        "endblock", "endfilter", "endcall", "endraw", "endautoescape", "endtrans",
    ]

    /// One tag after its name; `generation` returns its body inline.
    private mutating func parseStatement(_ tag: String, line: Int) throws -> [JinjaNode] {
        switch tag {
        case "if": return [try parseIf(line: line)]
        case "for": return [try parseFor(line: line)]
        case "set": return [try parseSet(line: line)]
        case "macro": return [try parseMacro(line: line)]
        case "with": return [try parseWith(line: line)]
        case "filter": return [try parseFilterBlock(line: line)]
        case "break", "continue":
            guard loopDepth > 0 else { throw JinjaError("'\(tag)' outside a for loop", line: line) }
            try expectBlockEnd()
            return [JinjaNode(kind: tag == "break" ? .breakLoop : .continueLoop, line: line)]
        case "generation":
            // transformers' AssistantTracker tag: marks assistant text, renders its body.
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"], opener: (tag, line))
            index += 1
            try expectBlockEnd()
            return body
        default:
            if Self.unsupportedTags.contains(tag) {
                throw JinjaError("tag '\(tag)' is not supported", line: line)
            }
            if Self.endTags.contains(tag) {
                throw JinjaError("unexpected '\(tag)' (no block is open that it could close)", line: line)
            }
            throw JinjaError("unknown tag '\(tag)'", line: line)
        }
    }

    private mutating func parseIf(line: Int) throws -> JinjaNode {
        var branches: [(condition: JinjaExpression, body: [JinjaNode])] = []
        var otherwise: [JinjaNode] = []
        var condition = try parseTuple(withConditional: false)
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"], opener: ("if", line))
            branches.append((condition, body))
            index += 1
            if end == "elif" {
                condition = try parseTuple(withConditional: false)
                continue
            }
            if end == "else" {
                try expectBlockEnd()
                (otherwise, _) = try parseBody(until: ["endif"], opener: ("if", line))
                index += 1
            }
            try expectBlockEnd()
            return JinjaNode(kind: .ifChain(branches, otherwise: otherwise), line: line)
        }
    }

    private mutating func parseFor(line: Int) throws -> JinjaNode {
        let target = try parseAssignTarget(allowNamespace: false)
        guard skipName("in") else { throw unexpected(expecting: "'in'") }
        let iterable = try parseTuple(withConditional: false, extraEnds: ["recursive"])
        let filter = skipName("if") ? try parseExpression() : nil
        if isName("recursive") { throw JinjaError("recursive for loops are not supported", line: line) }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["endfor", "else"], opener: ("for", line))
        loopDepth -= 1
        index += 1
        var otherwise: [JinjaNode] = []
        if end == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"], opener: ("for", line))
            index += 1
        }
        try expectBlockEnd()
        return JinjaNode(kind: .forLoop(target: target, iterable: iterable, filter: filter,
                                        body: body, otherwise: otherwise), line: line)
    }

    private mutating func parseSet(line: Int) throws -> JinjaNode {
        let target = try parseAssignTarget(allowNamespace: true)
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return JinjaNode(kind: .set(target, value), line: line)
        }
        guard case .names(let names) = target, names.count == 1 else {
            throw unexpected(expecting: "'='")
        }
        if isOp("|") { throw JinjaError("filters on a block 'set' are not supported", line: line) }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"], opener: ("set", line))
        index += 1
        try expectBlockEnd()
        return JinjaNode(kind: .setBlock(names[0], body), line: line)
    }

    /// `name`, `a, b` or (for set) `ns.attr`.
    private mutating func parseAssignTarget(allowNamespace: Bool) throws -> JinjaTarget {
        if allowNamespace, case .name(let object) = current.kind, isOp(".", peek()) {
            index += 2
            return .namespaceAttribute(object, try expectName())
        }
        var names = [try expectName()]
        while skipOp(",") {
            if case .name = current.kind { names.append(try expectName()) } else { break }
        }
        return .names(names)
    }

    private mutating func parseMacro(line: Int) throws -> JinjaNode {
        let name = try expectName()
        try expectOp("(")
        var parameters: [JinjaMacroParameter] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let parameter = try expectName()
            let value = skipOp("=") ? try parseExpression() : nil
            parameters.append(JinjaMacroParameter(name: parameter, defaultValue: value))
        }
        try expectOp(")")
        try expectBlockEnd()
        let savedDepth = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endmacro"], opener: ("macro", line))
        loopDepth = savedDepth
        index += 1
        if case .name = current.kind { index += 1 }  // {% endmacro name %}
        try expectBlockEnd()
        return JinjaNode(kind: .macro(name: name, parameters: parameters, body: body), line: line)
    }

    private mutating func parseWith(line: Int) throws -> JinjaNode {
        var assignments: [(name: String, value: JinjaExpression)] = []
        while current.kind != .blockEnd {
            if !assignments.isEmpty { try expectOp(",") }
            let name = try expectName()
            try expectOp("=")
            assignments.append((name, try parseExpression()))
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endwith"], opener: ("with", line))
        index += 1
        try expectBlockEnd()
        return JinjaNode(kind: .with(assignments, body), line: line)
    }

    private mutating func parseFilterBlock(line: Int) throws -> JinjaNode {
        var filters: [(name: String, arguments: [JinjaArgument])] = []
        repeat {
            let name = try parseDottedName()
            filters.append((name, isOp("(") ? try parseArguments() : []))
        } while skipOp("|")
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endfilter"], opener: ("filter", line))
        index += 1
        try expectBlockEnd()
        return JinjaNode(kind: .filterBlock(filters, body), line: line)
    }

    // MARK: expressions

    private func isTupleEnd(_ extraEnds: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .end: return true
        case .op(let op): return op == ")"
        case .name(let name): return extraEnds.contains(name)
        default: return false
        }
    }

    /// `a` or `a, b, ...` (a tuple).
    private mutating func parseTuple(withConditional: Bool = true, extraEnds: Set<String> = [],
                                     explicitParentheses: Bool = false) throws -> JinjaExpression {
        let line = current.line
        var items: [JinjaExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnds) { break }
            items.append(withConditional ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw unexpected(expecting: "an expression") }
        }
        return JinjaExpression(kind: .tuple(items), line: line)
    }

    private mutating func parseExpression() throws -> JinjaExpression {
        var expression = try parseOr()
        while isName("if") {
            let line = advance().line
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            expression = JinjaExpression(kind: .conditional(then: expression, condition: condition, otherwise: otherwise),
                                         line: line)
        }
        return expression
    }

    private mutating func parseOr() throws -> JinjaExpression {
        try nested { try $0.parseOrLevel() }
    }

    private mutating func parseOrLevel() throws -> JinjaExpression {
        var left = try parseAnd()
        while isName("or") {
            let line = advance().line
            left = JinjaExpression(kind: .or(left, try parseAnd()), line: line)
        }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpression {
        var left = try parseNot()
        while isName("and") {
            let line = advance().line
            left = JinjaExpression(kind: .and(left, try parseNot()), line: line)
        }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpression {
        if isName("not") {
            let line = advance().line
            return JinjaExpression(kind: .not(try nested { try $0.parseNot() }), line: line)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpression {
        let line = current.line
        let first = try parseMath1()
        var operations: [(op: String, operand: JinjaExpression)] = []
        while true {
            if case .op(let op) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                index += 1
                operations.append((op, try parseMath1()))
            } else if skipName("in") {
                operations.append(("in", try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                index += 2
                operations.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : JinjaExpression(kind: .compare(first, operations), line: line)
    }

    private mutating func parseBinary(_ ops: Set<String>, next: (inout JinjaParser) throws -> JinjaExpression) throws
        -> JinjaExpression {
        var left = try next(&self)
        while case .op(let op) = current.kind, ops.contains(op) {
            let line = advance().line
            left = JinjaExpression(kind: .binary(op, left, try next(&self)), line: line)
        }
        return left
    }

    private mutating func parseMath1() throws -> JinjaExpression {
        try parseBinary(["+", "-"]) { try $0.parseConcat() }
    }

    private mutating func parseConcat() throws -> JinjaExpression {
        let line = current.line
        var parts = [try parseMath2()]
        while skipOp("~") { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : JinjaExpression(kind: .concat(parts), line: line)
    }

    private mutating func parseMath2() throws -> JinjaExpression {
        try parseBinary(["*", "/", "//", "%"]) { try $0.parsePow() }
    }

    private mutating func parsePow() throws -> JinjaExpression {
        try parseBinary(["**"]) { try $0.parseUnary(withFilter: true) }
    }

    private mutating func parseUnary(withFilter: Bool) throws -> JinjaExpression {
        let line = current.line
        var node: JinjaExpression
        if skipOp("-") {
            node = JinjaExpression(kind: .negate(try nested { try $0.parseUnary(withFilter: false) }), line: line)
        } else if skipOp("+") {
            node = JinjaExpression(kind: .plus(try nested { try $0.parseUnary(withFilter: false) }), line: line)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    private mutating func parsePrimary() throws -> JinjaExpression {
        let token = current
        switch token.kind {
        case .name(let name):
            index += 1
            switch name {
            case "true", "True": return JinjaExpression(kind: .literal(.bool(true)), line: token.line)
            case "false", "False": return JinjaExpression(kind: .literal(.bool(false)), line: token.line)
            case "none", "None": return JinjaExpression(kind: .literal(.none), line: token.line)
            default: return JinjaExpression(kind: .name(name), line: token.line)
            }
        case .string(let first):
            index += 1
            var value = first
            // Adjacent strings are one string, as in Python.
            while case .string(let more) = current.kind {
                value += more
                index += 1
            }
            return JinjaExpression(kind: .literal(.string(value)), line: token.line)
        case .integer(let value):
            index += 1
            return JinjaExpression(kind: .literal(.int(value)), line: token.line)
        case .float(let value):
            index += 1
            return JinjaExpression(kind: .literal(.float(value)), line: token.line)
        case .op("("):
            index += 1
            let inner = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return inner
        case .op("["):
            index += 1
            var items: [JinjaExpression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return JinjaExpression(kind: .list(items), line: token.line)
        case .op("{"):
            index += 1
            var entries: [(key: JinjaExpression, value: JinjaExpression)] = []
            while !isOp("}") {
                if !entries.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                entries.append((key, try parseExpression()))
            }
            try expectOp("}")
            return JinjaExpression(kind: .dict(entries), line: token.line)
        default:
            throw unexpected(expecting: "an expression")
        }
    }

    private mutating func parsePostfix(_ start: JinjaExpression) throws -> JinjaExpression {
        var node = start
        while true {
            if isOp(".") {
                let line = advance().line
                switch current.kind {
                case .name(let name):
                    index += 1
                    node = JinjaExpression(kind: .attribute(node, name), line: line)
                case .integer(let value):
                    index += 1
                    node = JinjaExpression(kind: .item(node, JinjaExpression(kind: .literal(.int(value)), line: line)),
                                           line: line)
                default:
                    throw unexpected(expecting: "an attribute name")
                }
            } else if isOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ node: JinjaExpression) throws -> JinjaExpression {
        let line = advance().line
        var subscripts: [JinjaExpression] = []
        var slice: (JinjaExpression?, JinjaExpression?, JinjaExpression?)? = nil
        while !isOp("]") {
            if !subscripts.isEmpty || slice != nil { try expectOp(",") }
            let start: JinjaExpression?
            if isOp(":") {
                start = nil
            } else {
                let expression = try parseExpression()
                if !isOp(":") {
                    subscripts.append(expression)
                    continue
                }
                start = expression
            }
            index += 1  // the ':'
            let stop = isOp(":") || isOp("]") || isOp(",") ? nil : try parseExpression()
            var step: JinjaExpression? = nil
            if skipOp(":") && !isOp("]") && !isOp(",") { step = try parseExpression() }
            slice = (start, stop, step)
        }
        try expectOp("]")
        if let slice {
            guard subscripts.isEmpty else { throw JinjaError("multi-dimensional subscripts are not supported", line: line) }
            return JinjaExpression(kind: .slice(node, start: slice.0, stop: slice.1, step: slice.2), line: line)
        }
        guard subscripts.count == 1 else {
            throw JinjaError(subscripts.isEmpty ? "empty subscript '[]'" : "tuple subscripts are not supported", line: line)
        }
        return JinjaExpression(kind: .item(node, subscripts[0]), line: line)
    }

    private mutating func parseArguments() throws -> [JinjaArgument] {
        try expectOp("(")
        var arguments: [JinjaArgument] = []
        while !isOp(")") {
            if !arguments.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw JinjaError("'*' and '**' arguments are not supported", line: current.line) }
            if case .name(let name) = current.kind, isOp("=", peek()) {
                index += 2
                arguments.append(JinjaArgument(name: name, value: try parseExpression()))
            } else {
                if arguments.contains(where: { $0.name != nil }) {
                    throw JinjaError("a positional argument follows a keyword argument", line: current.line)
                }
                arguments.append(JinjaArgument(name: nil, value: try parseExpression()))
            }
        }
        try expectOp(")")
        return arguments
    }

    private mutating func parseCall(_ node: JinjaExpression) throws -> JinjaExpression {
        let line = current.line
        return JinjaExpression(kind: .call(node, try parseArguments()), line: line)
    }

    private mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        return name
    }

    private mutating func parseFilterExpression(_ start: JinjaExpression) throws -> JinjaExpression {
        var node = start
        while true {
            if isOp("|") {
                let line = advance().line
                let name = try parseDottedName()
                let arguments = isOp("(") ? try parseArguments() : []
                node = JinjaExpression(kind: .filter(node, name: name, arguments), line: line)
            } else if isName("is") {
                let line = advance().line
                let negated = skipName("not")
                let name = try parseDottedName()
                var arguments: [JinjaArgument] = []
                if isOp("(") {
                    arguments = try parseArguments()
                } else if startsBareTestArgument() {
                    if isName("is") { throw JinjaError("tests cannot be chained with 'is'", line: current.line) }
                    let argument = try parsePostfix(try parsePrimary())
                    arguments = [JinjaArgument(name: nil, value: argument)]
                }
                node = JinjaExpression(kind: .test(node, name: name, arguments, negated: negated), line: line)
            } else if isOp("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    /// jinja2 takes one argument without parentheses after a test name (`is divisibleby 3`).
    private func startsBareTestArgument() -> Bool {
        switch current.kind {
        case .name(let name): return !["else", "or", "and"].contains(name)
        case .string, .integer, .float: return true
        case .op(let op): return op == "(" || op == "[" || op == "{"
        default: return false
        }
    }
}
