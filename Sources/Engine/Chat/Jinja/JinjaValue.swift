import Foundation

/// A value while a template renders: the Python objects jinja2 works with, and jinja2's
/// `Undefined` (what a missing variable, key or attribute evaluates to).
enum JinjaValue {
    /// Carries jinja2's explanation ("'foo' is undefined"), the error when it is used.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// markupsafe's `Markup` (from `|safe`, `|escape`): a string that HTML-escapes what is
    /// added to it with `+`.
    case markup(String)
    case list([JinjaValue])
    case tuple([JinjaValue])
    case dict(JinjaDict)
    /// A one-pass iterator: what jinja2's `map`, `select`, `unique`, `items`, ... return.
    case iterator(JinjaIterator)
    /// `dict.keys()`, `.values()`, `.items()`.
    case view(JinjaView)
    case namespace(JinjaNamespace)
    case function(JinjaFunction)

    init(_ literal: JinjaLiteral) {
        switch literal {
        case .none: self = .none
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .float(let value): self = .float(value)
        case .string(let value): self = .string(value)
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// The text of a `str` (plain or Markup).
    var stringValue: String? {
        switch self {
        case .string(let text), .markup(let text): return text
        default: return nil
        }
    }

    /// Python's truthiness (`bool(x)`); Undefined is false, an iterator is always true.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .int(let value): return value != 0
        case .float(let value): return value != 0
        case .string(let value), .markup(let value): return !value.unicodeScalars.isEmpty
        case .list(let items), .tuple(let items): return !items.isEmpty
        case .dict(let dict): return !dict.entries.isEmpty
        case .view(let view): return !view.items.isEmpty
        case .iterator, .namespace, .function: return true
        }
    }

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .iterator(let iterator): return iterator.kind
        case .view(let view): return view.kind
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// The number as a Double, for bool, int and float (Python's numeric tower).
    var number: Double? {
        switch self {
        case .bool(let value): return value ? 1 : 0
        case .int(let value): return Double(value)
        case .float(let value): return value
        default: return nil
        }
    }

    /// The integer value of a bool or int (Python's bool is an int).
    var integer: Int? {
        switch self {
        case .bool(let value): return value ? 1 : 0
        case .int(let value): return value
        default: return nil
        }
    }

    /// Throws jinja2's UndefinedError when the value is undefined.
    func defined() throws -> JinjaValue {
        if case .undefined(let why) = self { throw JinjaError(why) }
        return self
    }

    /// Can be a dict key (Python's hashable values); others are a TypeError.
    func hashable() throws -> JinjaValue {
        switch self {
        case .undefined, .none, .bool, .int, .float, .string, .markup, .function, .namespace: return self
        case .tuple(let items):
            for item in items { _ = try item.hashable() }
            return self
        default: throw JinjaError("unhashable type: '\(typeName)'")
        }
    }

    /// `str(x)`: what `{{ x }}` prints. Undefined prints as nothing.
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let value), .markup(let value): return value
        default: return repr
        }
    }

    /// `repr(x)`, used for items inside printed lists and dicts.
    var repr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        case .float(let value): return Self.pythonFloat(value)
        case .string(let value): return PythonText.repr(value)
        case .markup(let value): return "Markup(\(PythonText.repr(value)))"
        case .list(let items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case .tuple(let items):
            return items.count == 1 ? "(\(items[0].repr),)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
        case .dict(let dict):
            return "{" + dict.entries.map { $0.key.repr + ": " + $0.value.repr }.joined(separator: ", ") + "}"
        case .iterator(let iterator): return "<\(iterator.kind) object>"
        case .view(let view): return "\(view.kind)(\(JinjaValue.list(view.items).repr))"
        case .namespace(let namespace): return "<Namespace \(JinjaValue.dict(namespace.attributes).repr)>"
        case .function(let function): return "<function \(function.name)>"
        }
    }

    /// Python's `repr(float)`: the shortest digits that read back as the same double (Swift's
    /// `description` finds the same digits), laid out as Python does: plain from 1e-4 up to
    /// below 1e16, otherwise with an exponent of at least two digits ("1e-05", "1e+16").
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let sign = value.sign == .minus ? "-" : ""
        let parts = "\(value.magnitude)".split(separator: "e")
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        var digits = Array(mantissa[0] + (mantissa.count > 1 ? mantissa[1] : ""))
        // The value is 0.DIGITS x 10^point.
        var point = mantissa[0].count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        guard !digits.isEmpty else { return sign + "0.0" }
        if point > -4 && point <= 16 {
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
            if point >= digits.count {
                return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0"
            }
            return sign + String(digits[..<point]) + "." + String(digits[point...])
        }
        let power = point - 1
        let fraction = digits.count > 1 ? "." + String(digits.dropFirst()) : ""
        let powerText = String(abs(power))
        return sign + String(digits[0]) + fraction + "e" + (power < 0 ? "-" : "+")
            + (powerText.count < 2 ? "0" : "") + powerText
    }

    /// Python `==`: numbers across bool/int/float, strings by code point, containers deeply.
    func equals(_ other: JinjaValue) -> Bool {
        if let a = stringValue, let b = other.stringValue { return PythonText.equal(a, b) }
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case (.dict(let a), .dict(let b)):
            return a.entries.count == b.entries.count
                && a.entries.allSatisfy { entry in b[entry.key].map { $0.equals(entry.value) } ?? false }
        case (.view(let a), .view(let b)):
            // Key and item views compare as sets; values views only by identity.
            return a.kind == b.kind && a.kind != "dict_values" && a.items.count == b.items.count
                && a.items.allSatisfy { item in b.items.contains { $0.equals(item) } }
        case (.iterator(let a), .iterator(let b)): return a === b
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let a = integer, let b = other.integer { return a == b }
            if let a = number, let b = other.number { return a == b }
            return false
        }
    }

    /// Python's `<` family: numbers, strings (by code point) and sequences of the same kind.
    func compare(_ other: JinjaValue, _ op: String) throws -> Bool {
        let order = try ordering(other, op)
        switch op {
        case "<": return order < 0
        case "<=": return order <= 0
        case ">": return order > 0
        default: return order >= 0
        }
    }

    private func ordering(_ other: JinjaValue, _ op: String) throws -> Int {
        if let a = stringValue, let b = other.stringValue {
            for (x, y) in zip(a.unicodeScalars, b.unicodeScalars) where x != y { return x.value < y.value ? -1 : 1 }
            let (m, n) = (a.unicodeScalars.count, b.unicodeScalars.count)
            return m == n ? 0 : (m < n ? -1 : 1)
        }
        switch (self, other) {
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !x.equals(y) { return try x.ordering(y, op) }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        default:
            if let a = integer, let b = other.integer { return a == b ? 0 : (a < b ? -1 : 1) }
            if let a = number, let b = other.number, !a.isNaN, !b.isNaN { return a == b ? 0 : (a < b ? -1 : 1) }
            if let a = number, let b = other.number, a.isNaN || b.isNaN {
                // Every comparison with NaN is false: report an order that makes `op` false.
                return op == "<" || op == "<=" ? 1 : -1
            }
            _ = try defined()
            _ = try other.defined()
            throw JinjaError("'\(op)' not supported between instances of '\(typeName)' and '\(other.typeName)'")
        }
    }

    /// The items `for x in value` visits: list items, characters, dict keys; Undefined is
    /// empty; an iterator gives what it has left and is then exhausted.
    func iterate() throws -> [JinjaValue] {
        switch self {
        case .undefined: return []
        case .list(let items), .tuple(let items): return items
        case .string(let value): return value.unicodeScalars.map { .string(String($0)) }
        case .markup(let value): return value.unicodeScalars.map { .string(String($0)) }
        case .dict(let dict): return dict.entries.map(\.key)
        case .view(let view): return view.items
        case .iterator(let iterator): return iterator.drain()
        default: throw JinjaError("'\(typeName)' object is not iterable")
        }
    }

    /// `len(x)`; Undefined has length 0; iterators have none.
    func length() throws -> Int {
        switch self {
        case .undefined: return 0
        case .string(let value), .markup(let value): return value.unicodeScalars.count
        case .list(let items), .tuple(let items): return items.count
        case .dict(let dict): return dict.entries.count
        case .view(let view): return view.items.count
        default: throw JinjaError("object of type '\(typeName)' has no len()")
        }
    }
}

/// A Python dict in insertion order. Keys are any hashable value and are found by Python
/// equality (1, 1.0 and True are one key; strings compare by code point).
struct JinjaDict {
    var entries: [(key: JinjaValue, value: JinjaValue)] = []

    init(entries: [(key: JinjaValue, value: JinjaValue)] = []) {
        self.entries = entries
    }

    /// A dict with string keys.
    init(_ entries: [(String, JinjaValue)]) {
        self.entries = entries.map { (.string($0.0), $0.1) }
    }

    subscript(key: JinjaValue) -> JinjaValue? {
        get { entries.first { $0.key.equals(key) }?.value }
        set {
            if let at = entries.firstIndex(where: { $0.key.equals(key) }) {
                // Python keeps the first key object and replaces the value.
                if let newValue { entries[at].value = newValue } else { entries.remove(at: at) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    subscript(key: String) -> JinjaValue? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }
}

/// A one-pass iterator over items computed up front: shared by reference, so that a second
/// loop over the same iterator finds it empty, as in Python.
final class JinjaIterator {
    /// The Python type name ("generator", "list_reverseiterator").
    let kind: String
    private let items: [JinjaValue]
    private var position = 0

    init(_ kind: String, _ items: [JinjaValue]) {
        self.kind = kind
        self.items = items
    }

    /// What is left; the iterator is exhausted afterwards.
    func drain() -> [JinjaValue] {
        defer { position = items.count }
        return Array(items[position...])
    }

    /// `next(iterator)`, or nil when exhausted.
    func next() -> JinjaValue? {
        guard position < items.count else { return nil }
        defer { position += 1 }
        return items[position]
    }

    /// Python's `x in iterator`: consumes items up to and including the first equal one.
    func consume(upTo needle: JinjaValue) -> Bool {
        while let item = next() {
            if item.equals(needle) { return true }
        }
        return false
    }
}

/// A dict view (`dict_keys`, `dict_values`, `dict_items`): iterable again and again, with a length.
struct JinjaView {
    let kind: String
    let items: [JinjaValue]
}

/// jinja2's `namespace()`: the one mutable object a template can change (`set ns.x = ...`),
/// shared by reference so that changes made inside a loop are seen after it.
final class JinjaNamespace {
    var attributes: JinjaDict

    init(_ attributes: JinjaDict) {
        self.attributes = attributes
    }
}

/// Positional and keyword arguments of a call.
struct JinjaArguments {
    var positional: [JinjaValue] = []
    var keywords: [(name: String, value: JinjaValue)] = []

    /// Binds the arguments to parameter names as Python does: positional first, then by name.
    /// Returns one value per parameter (nil when not given). `function` names the callee in errors.
    func bind(_ parameters: [String], function: String) throws -> [JinjaValue?] {
        guard positional.count <= parameters.count else {
            throw JinjaError("\(function)() takes at most \(parameters.count) arguments (\(positional.count) given)")
        }
        var values: [JinjaValue?] = positional.map { $0 } + Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keywords {
            guard let at = parameters.firstIndex(of: name) else {
                throw JinjaError("\(function)() got an unexpected keyword argument '\(name)'")
            }
            guard values[at] == nil else { throw JinjaError("\(function)() got multiple values for argument '\(name)'") }
            values[at] = value
        }
        return values
    }
}

/// A callable value: a global function, a bound method, a macro or `loop.cycle`.
struct JinjaFunction {
    let name: String
    let call: (JinjaArguments) throws -> JinjaValue
}
