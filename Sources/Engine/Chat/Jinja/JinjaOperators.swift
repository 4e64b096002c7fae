import Foundation

/// Python's arithmetic and membership operators on template values. Using Undefined in
/// arithmetic is jinja2's UndefinedError; ints that overflow are an error (Python's are
/// unbounded, templates never need that).
enum JinjaOperators {
    static func binary(_ op: String, _ left: JinjaValue, _ right: JinjaValue) throws -> JinjaValue {
        let a = try left.defined(), b = try right.defined()
        switch op {
        case "+": return try add(a, b)
        case "-": return try arithmetic(op, a, b, { $0.subtractingReportingOverflow($1) }, { $0 - $1 })
        case "*": return try multiply(a, b)
        case "/":
            guard let x = a.number, let y = b.number else { throw unsupported(op, a, b) }
            guard y != 0 else { throw JinjaError("division by zero") }
            return .float(x / y)
        case "//": return try floorDivide(a, b)
        case "%": return try modulo(a, b)
        case "**": return try power(a, b)
        default: throw JinjaError("unknown operator '\(op)'")
        }
    }

    static func negate(_ value: JinjaValue) throws -> JinjaValue {
        switch try value.defined() {
        case .bool(let b): return .int(b ? -1 : 0)
        case .int(let i):
            guard i != Int.min else { throw JinjaError("integer overflow") }
            return .int(-i)
        case .float(let f): return .float(-f)
        default: throw JinjaError("bad operand type for unary -: '\(value.typeName)'")
        }
    }

    static func plus(_ value: JinjaValue) throws -> JinjaValue {
        switch try value.defined() {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int, .float: return value
        default: throw JinjaError("bad operand type for unary +: '\(value.typeName)'")
        }
    }

    /// `needle in haystack`.
    static func contains(_ haystack: JinjaValue, _ needle: JinjaValue) throws -> Bool {
        switch haystack {
        case .undefined: return false
        case .string(let text), .markup(let text):
            guard let part = needle.stringValue else {
                throw JinjaError("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return PythonText.contains(text, part)
        case .list(let items), .tuple(let items): return items.contains { $0.equals(needle) }
        case .view(let view): return view.items.contains { $0.equals(needle) }
        case .iterator(let iterator): return iterator.consume(upTo: needle)
        case .dict(let dict): return dict[try needle.hashable()] != nil
        default:
            throw JinjaError("argument of type '\(haystack.typeName)' is not iterable")
        }
    }

    private static func unsupported(_ op: String, _ a: JinjaValue, _ b: JinjaValue) -> JinjaError {
        JinjaError("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
        guard !result.overflow else { throw JinjaError("integer overflow") }
        return .int(result.partialValue)
    }

    private static func arithmetic(_ op: String, _ a: JinjaValue, _ b: JinjaValue,
                                   _ integer: (Int, Int) -> (partialValue: Int, overflow: Bool),
                                   _ real: (Double, Double) -> Double) throws -> JinjaValue {
        if let x = a.integer, let y = b.integer { return try checked(integer(x, y)) }
        if let x = a.number, let y = b.number { return .float(real(x, y)) }
        throw unsupported(op, a, b)
    }

    /// markupsafe's `escape` of a value added to a Markup string.
    static func escapedText(_ value: JinjaValue) -> String {
        if case .markup(let text) = value { return text }
        return JinjaFilters.htmlEscape(value.text)
    }

    private static func add(_ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch (a, b) {
        // Markup + str escapes the str, str + Markup too (Markup.__radd__ runs first).
        case (.markup(let x), _) where b.stringValue != nil: return .markup(x + escapedText(b))
        case (_, .markup(let y)) where a.stringValue != nil: return .markup(escapedText(a) + y)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.list(let x), .list(let y)): return .list(x + y)
        case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
        default:
            if case .string = a { throw JinjaError("can only concatenate str (not \"\(b.typeName)\") to str") }
            return try arithmetic("+", a, b, { $0.addingReportingOverflow($1) }, { $0 + $1 })
        }
    }

    /// The most items (characters or list items) `*` may build.
    static let maximumRepetition = 10_000_000

    private static func repetitions(_ times: Int, of count: Int) throws -> Int {
        guard times > 0 else { return 0 }
        guard count == 0 || times <= maximumRepetition / count else {
            throw JinjaError("repeating \(count) items \(times) times is too large")
        }
        return times
    }

    private static func repeated(_ items: [JinjaValue], _ times: Int) throws -> [JinjaValue] {
        let count = try repetitions(times, of: items.count)
        return count == 0 ? [] : Array([[JinjaValue]](repeating: items, count: count).joined())
    }

    private static func multiply(_ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch (a, b) {
        case (.string(let s), _) where b.integer != nil:
            return .string(String(repeating: s, count: try repetitions(b.integer!, of: s.unicodeScalars.count)))
        case (_, .string(let s)) where a.integer != nil:
            return .string(String(repeating: s, count: try repetitions(a.integer!, of: s.unicodeScalars.count)))
        case (.markup(let s), _) where b.integer != nil:
            return .markup(String(repeating: s, count: try repetitions(b.integer!, of: s.unicodeScalars.count)))
        case (_, .markup(let s)) where a.integer != nil:
            return .markup(String(repeating: s, count: try repetitions(a.integer!, of: s.unicodeScalars.count)))
        case (.list(let items), _) where b.integer != nil: return .list(try repeated(items, b.integer!))
        case (_, .list(let items)) where a.integer != nil: return .list(try repeated(items, a.integer!))
        default:
            return try arithmetic("*", a, b, { $0.multipliedReportingOverflow(by: $1) }, { $0 * $1 })
        }
    }

    private static func floorDivide(_ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        if let x = a.integer, let y = b.integer {
            guard y != 0 else { throw JinjaError("integer division or modulo by zero") }
            guard !(x == Int.min && y == -1) else { throw JinjaError("integer overflow") }
            let q = x / y
            return .int((x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q)
        }
        guard let x = a.number, let y = b.number else { throw unsupported("//", a, b) }
        guard y != 0 else { throw JinjaError("float floor division by zero") }
        return .float((x / y).rounded(.down))
    }

    private static func modulo(_ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        if a.stringValue != nil { throw JinjaError("'%' string formatting is not supported") }
        if let x = a.integer, let y = b.integer {
            guard y != 0 else { throw JinjaError("integer division or modulo by zero") }
            guard y != -1 else { return .int(0) }
            let r = x % y
            return .int(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
        }
        guard let x = a.number, let y = b.number else { throw unsupported("%", a, b) }
        guard y != 0 else { throw JinjaError("float modulo") }
        let r = x.truncatingRemainder(dividingBy: y)
        return .float(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
    }

    private static func power(_ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        if let x = a.integer, let y = b.integer, y >= 0 {
            // Exponentiation by squaring, every product checked for overflow.
            var result = 1, base = x, exponent = y
            while exponent > 0 {
                if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)).integer! }
                exponent >>= 1
                if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base)).integer! }
            }
            return .int(result)
        }
        guard let x = a.number, let y = b.number else { throw unsupported("**", a, b) }
        if x == 0 && y < 0 { throw JinjaError("0.0 cannot be raised to a negative power") }
        return .float(Foundation.pow(x, y))
    }
}
