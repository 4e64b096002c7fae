/// jinja2's tests (`x is defined`, `x is divisibleby 3`, `selectattr('role', 'equalto', 'user')`),
/// with Python's type rules: a bool is a number but not an integer, a string is iterable and
/// a sequence, Undefined is iterable.
enum JinjaIsTests {
    /// Names jinja2 knows, for the `filter` and `test` tests.
    static let names: Set<String> = [
        "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false",
        "true", "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable",
        "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan",
        "ge", ">=", "<", "lt", "lessthan", "<=", "le",
    ]

    static func apply(_ name: String, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> Bool {
        func argument() throws -> JinjaValue {
            guard let other = try arguments.bind(["other"], function: name)[0] else {
                throw JinjaError("test '\(name)' needs an argument")
            }
            return other
        }
        func none() throws { _ = try arguments.bind([], function: name) }
        switch name {
        case "defined": try none(); return !value.isUndefined
        case "undefined": try none(); return value.isUndefined
        case "none": try none(); return value.isNone
        case "boolean": try none(); if case .bool = value { return true }; return false
        case "false": try none(); if case .bool(false) = value { return true }; return false
        case "true": try none(); if case .bool(true) = value { return true }; return false
        case "integer": try none(); if case .int = value { return true }; return false
        case "float": try none(); if case .float = value { return true }; return false
        case "number": try none(); return value.number != nil
        case "string": try none(); return value.stringValue != nil
        case "mapping": try none(); if case .dict = value { return true }; return false
        case "iterable":
            try none()
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict, .iterator, .view: return true
            default: return false
            }
        case "sequence":
            // Has both a length and items by index (a dict does; an iterator or view does not).
            try none()
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict: return true
            default: return false
            }
        case "callable":
            try none()
            switch value {
            case .function, .undefined: return true
            default: return false
            }
        case "escaped":
            try none()
            if case .markup = value { return true }
            return false
        case "lower", "upper":
            try none()
            let cased = value.text.unicodeScalars.filter { $0.properties.isLowercase || $0.properties.isUppercase }
            return !cased.isEmpty && cased.allSatisfy { name == "lower" ? $0.properties.isLowercase : $0.properties.isUppercase }
        case "odd", "even":
            try none()
            let remainder = try JinjaOperators.binary("%", value, .int(2))
            return remainder.equals(.int(name == "odd" ? 1 : 0))
        case "divisibleby":
            return try JinjaOperators.binary("%", value, argument()).equals(.int(0))
        case "in":
            return try JinjaOperators.contains(argument(), value)
        case "==", "eq", "equalto": return value.equals(try argument())
        case "!=", "ne": return !value.equals(try argument())
        case "<", "lt", "lessthan": return try value.compare(argument(), "<")
        case "<=", "le": return try value.compare(argument(), "<=")
        case ">", "gt", "greaterthan": return try value.compare(argument(), ">")
        case ">=", "ge": return try value.compare(argument(), ">=")
        case "sameas":
            // Python's `is`: equal small values are the same object in practice (CPython
            // caches small ints and interns short strings); containers never are.
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b
            case (.string(let a), .string(let b)), (.markup(let a), .markup(let b)): return PythonText.equal(a, b)
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "filter":
            try none()
            return ["abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
                    "float", "forceescape", "indent", "int", "items", "join", "last", "length", "list", "lower",
                    "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
                    "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper"]
                .contains(value.text)
        case "test":
            try none()
            return names.contains(value.text)
        default:
            throw JinjaError("test '\(name)' is not supported")
        }
    }
}
