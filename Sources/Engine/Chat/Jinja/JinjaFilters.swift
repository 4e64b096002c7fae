import Foundation

/// jinja2's built-in filters that chat templates use (`x | trim`, `x | tojson(indent=4)`),
/// with jinja2's argument names and defaults. map, select(attr), reject(attr), unique and
/// items return one-pass iterators, as jinja2's generators are; trim, upper, ... keep Markup
/// Markup. Any other filter is an error naming it, raised when it runs (as jinja2 does for an
/// unknown filter).
enum JinjaFilters {
    static func apply(_ name: String, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
        func bind(_ parameters: [String]) throws -> [JinjaValue?] {
            try arguments.bind(parameters, function: name)
        }
        switch name {
        case "abs":
            _ = try bind([])
            switch try value.defined() {
            case .bool(let b): return .int(b ? 1 : 0)
            case .int(let i):
                guard i != Int.min else { throw JinjaError("integer overflow") }
                return .int(abs(i))
            case .float(let f): return .float(abs(f))
            default: throw JinjaError("bad operand type for abs(): '\(value.typeName)'")
            }
        case "attr":
            guard let attribute = try bind(["name"])[0]?.stringValue else { throw JinjaError("attr: the name must be a string") }
            switch value {
            case .namespace(let namespace): return namespace.attributes[attribute] ?? JinjaAccess.missingAttribute(value, attribute)
            case .undefined(let why): throw JinjaError(why)
            default: return JinjaMethods.method(value, attribute) ?? JinjaAccess.missingAttribute(value, attribute)
            }
        case "capitalize":
            _ = try bind([])
            return keepingMarkup(value, PythonText.capitalize(value.text))
        case "count", "length":
            _ = try bind([])
            return .int(try value.length())
        case "d", "default":
            let bound = try bind(["default_value", "boolean"])
            let useDefault = value.isUndefined || ((bound[1]?.isTruthy ?? false) && !value.isTruthy)
            return useDefault ? (bound[0] ?? .string("")) : value
        case "dictsort":
            return try dictSort(value, bind(["case_sensitive", "by", "reverse"]))
        case "e", "escape", "forceescape":
            // Markup: escaped once; forceescape escapes Markup again.
            _ = try bind([])
            if case .markup = value, name != "forceescape" { return value }
            return .markup(htmlEscape(value.text))
        case "first":
            _ = try bind([])
            // An iterator gives up only its next item (the rest stays for later loops).
            let first: JinjaValue?
            if case .iterator(let iterator) = value { first = iterator.next() } else { first = try value.iterate().first }
            return first ?? .undefined("No first item, sequence was empty.")
        case "last":
            _ = try bind([])
            if case .iterator = value { throw JinjaError("'\(value.typeName)' object is not reversible") }
            return try value.iterate().last ?? .undefined("No last item, sequence was empty.")
        case "float":
            let fallback = try bind(["default"])[0] ?? .float(0)
            switch value {
            case .bool(let b): return .float(b ? 1 : 0)
            case .int(let i): return .float(Double(i))
            case .float: return value
            case .string(let text), .markup(let text): return pythonFloat(text).map { .float($0) } ?? fallback
            default: return fallback
            }
        case "int":
            let bound = try bind(["default", "base"])
            return integer(value, default: bound[0] ?? .int(0), base: bound[1]?.integer ?? 10)
        case "indent":
            return try indent(value, bind(["width", "first", "blank"]))
        case "items":
            _ = try bind([])
            switch value {
            case .undefined: return generator([])
            case .dict(let dict): return .iterator(JinjaIterator("generator", dict.entries.map { .tuple([$0.key, $0.value]) }))
            default: throw JinjaError("items: can only get item pairs from a mapping, not \(value.typeName)")
            }
        case "join":
            let bound = try bind(["d", "attribute"])
            var items = try value.iterate()
            if let attribute = bound[1], !(attribute.isUndefined) { items = try items.map { try lookup($0, path: attribute) } }
            return .string(items.map(\.text).joined(separator: (bound[0] ?? .string("")).text))
        case "list":
            _ = try bind([])
            return .list(try value.iterate())
        case "lower":
            _ = try bind([])
            return keepingMarkup(value, PythonText.lower(value.text))
        case "upper":
            _ = try bind([])
            return keepingMarkup(value, PythonText.upper(value.text))
        case "map":
            return try map(value, arguments)
        case "max", "min":
            let bound = try bind(["case_sensitive", "attribute"])
            let items = try value.iterate()
            guard !items.isEmpty else { return .undefined("No aggregated item, sequence was empty.") }
            let keys = try items.map { try sortKey($0, attribute: bound[1], caseSensitive: bound[0]?.isTruthy ?? false) }
            var best = 0
            for index in keys.indices.dropFirst() {
                if try keys[index].compare(keys[best], name == "max" ? ">" : "<") { best = index }
            }
            return items[best]
        case "reject", "select":
            return generator(try selectOrReject(value, arguments, keep: name == "select", byAttribute: false))
        case "rejectattr", "selectattr":
            return generator(try selectOrReject(value, arguments, keep: name == "selectattr", byAttribute: true))
        case "replace":
            let bound = try bind(["old", "new", "count"])
            guard let old = bound[0], let new = bound[1] else { throw JinjaError("replace needs 'old' and 'new'") }
            let count = try bound[2].map { value -> Int in
                if case .none = value { return -1 }
                guard let count = value.integer else { throw JinjaError("replace: count must be an integer") }
                return count
            } ?? -1
            return .string(PythonText.replace(value.text, old.text, new.text, count: count))
        case "reverse":
            _ = try bind([])
            switch value {
            case .string(let text): return .string(PythonText.string(text.unicodeScalars.reversed()))
            case .markup(let text): return .markup(PythonText.string(text.unicodeScalars.reversed()))
            case .list, .tuple: return .iterator(JinjaIterator("list_reverseiterator", try value.iterate().reversed()))
            case .dict, .view: return .iterator(JinjaIterator("dict_reversekeyiterator", try value.iterate().reversed()))
            // What cannot be reversed is read into a list first.
            default: return .list(try value.iterate().reversed())
            }
        case "round":
            return try round(value, bind(["precision", "method"]))
        case "safe":
            _ = try bind([])
            return .markup(value.text)
        case "sort":
            let bound = try bind(["reverse", "case_sensitive", "attribute"])
            let items = try value.iterate()
            let keys = try items.map { try sortKey($0, attribute: bound[2], caseSensitive: bound[1]?.isTruthy ?? false) }
            let descending = bound[0]?.isTruthy ?? false
            let order = try Array(items.indices).sorted { a, b in
                try keys[a].compare(keys[b], descending ? ">" : "<")
            }
            return .list(order.map { items[$0] })
        case "string":
            _ = try bind([])
            return keepingMarkup(value, value.text)
        case "sum":
            let bound = try bind(["attribute", "start"])
            var total = bound[1] ?? .int(0)
            for item in try value.iterate() {
                let addend = try bound[0].map { try lookup(item, path: $0) } ?? item
                total = try JinjaOperators.binary("+", total, addend)
            }
            return total
        case "title":
            _ = try bind([])
            return keepingMarkup(value, titleWords(value.text))
        case "tojson":
            return .string(try JinjaJSON(arguments: arguments).encode(value))
        case "trim":
            let chars = try bind(["chars"])[0]
            let set: String? = chars.flatMap { if case .none = $0 { return nil } else { return $0.text } }
            return keepingMarkup(value, PythonText.strip(value.text, set))
        case "unique":
            let bound = try bind(["case_sensitive", "attribute"])
            var seen: [JinjaValue] = []
            var unique: [JinjaValue] = []
            for item in try value.iterate() {
                let key = try sortKey(item, attribute: bound[1], caseSensitive: bound[0]?.isTruthy ?? false)
                if !seen.contains(where: { $0.equals(key) }) {
                    seen.append(key)
                    unique.append(item)
                }
            }
            return generator(unique)
        default:
            throw JinjaError("filter '\(name)' is not supported")
        }
    }

    /// jinja2's lazy filters return generators: one pass, always true, no length.
    private static func generator(_ items: [JinjaValue]) -> JinjaValue {
        .iterator(JinjaIterator("generator", items))
    }

    /// The string filters keep Markup Markup (they call Markup's own methods).
    private static func keepingMarkup(_ value: JinjaValue, _ result: String) -> JinjaValue {
        if case .markup = value { return .markup(result) }
        return .string(result)
    }

    /// `item.a.b` through jinja2's getitem (for `attribute=` arguments): "0" parts are indices.
    static func lookup(_ item: JinjaValue, path: JinjaValue) throws -> JinjaValue {
        if let index = path.integer { return try JinjaAccess.item(item, .int(index)) }
        var current = item
        for part in path.text.split(separator: ".", omittingEmptySubsequences: false) {
            let key: JinjaValue = Int(part).map { .int($0) } ?? .string(String(part))  // jinja2: digits are indices
            current = try JinjaAccess.item(current, key)
        }
        return current
    }

    private static func sortKey(_ item: JinjaValue, attribute: JinjaValue?, caseSensitive: Bool) throws -> JinjaValue {
        var key = item
        if let attribute, !attribute.isUndefined, !(attribute.isNone) { key = try lookup(item, path: attribute) }
        if !caseSensitive, let text = key.stringValue { key = .string(PythonText.lower(text)) }
        return key
    }

    private static func map(_ value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
        guard value.isTruthy else { return generator([]) }
        let items = try value.iterate()
        if arguments.positional.isEmpty, let attribute = arguments.keywords.first(where: { $0.name == "attribute" })?.value {
            let extra = arguments.keywords.filter { $0.name != "attribute" && $0.name != "default" }
            guard extra.isEmpty else { throw JinjaError("map: unexpected keyword argument '\(extra[0].name)'") }
            let fallback = arguments.keywords.first(where: { $0.name == "default" })?.value
            return generator(try items.map { item in
                let found = try lookup(item, path: attribute)
                if let fallback, found.isUndefined, !fallback.isNone { return fallback }
                return found
            })
        }
        guard let filter = arguments.positional.first?.stringValue else { throw JinjaError("map requires a filter name") }
        let rest = JinjaArguments(positional: Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
        return generator(try items.map { try apply(filter, $0, rest) })
    }

    private static func selectOrReject(_ value: JinjaValue, _ arguments: JinjaArguments, keep: Bool,
                                       byAttribute: Bool) throws -> [JinjaValue] {
        guard value.isTruthy else { return [] }
        var positional = arguments.positional[...]
        var attribute: JinjaValue? = nil
        if byAttribute {
            guard let first = positional.popFirst() else { throw JinjaError("missing parameter for attribute name") }
            attribute = first
        }
        let test = positional.popFirst()
        let testArguments = JinjaArguments(positional: Array(positional), keywords: arguments.keywords)
        return try value.iterate().filter { item in
            let subject = try attribute.map { try lookup(item, path: $0) } ?? item
            let passed: Bool
            if let test {
                guard let name = test.stringValue else { throw JinjaError("the test name must be a string") }
                passed = try JinjaIsTests.apply(name, subject, testArguments)
            } else {
                passed = subject.isTruthy
            }
            return passed == keep
        }
    }

    private static func dictSort(_ value: JinjaValue, _ bound: [JinjaValue?]) throws -> JinjaValue {
        guard case .dict(let dict) = try value.defined() else { throw JinjaError("dictsort: not a mapping") }
        let caseSensitive = bound[0]?.isTruthy ?? false
        let byValue: Bool
        switch bound[1]?.text ?? "key" {
        case "key": byValue = false
        case "value": byValue = true
        default: throw JinjaError("dictsort: you can only sort by either 'key' or 'value'")
        }
        let descending = bound[2]?.isTruthy ?? false
        let pairs = dict.entries.map { JinjaValue.tuple([$0.key, $0.value]) }
        let keys = try dict.entries.map { entry in
            try sortKey(byValue ? entry.value : entry.key, attribute: nil, caseSensitive: caseSensitive)
        }
        let order = try Array(pairs.indices).sorted { try keys[$0].compare(keys[$1], descending ? ">" : "<") }
        return .list(order.map { pairs[$0] })
    }

    /// markupsafe's `escape`: & < > " ' as HTML entities.
    static func htmlEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Python's `float(text)`: surrounding whitespace, underscores between digits, inf/nan.
    private static func pythonFloat(_ text: String) -> Double? {
        let trimmed = PythonText.strip(text, nil)
        let lowered = trimmed.lowercased()
        switch lowered {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: break
        }
        guard !trimmed.isEmpty, trimmed.unicodeScalars.allSatisfy({ "0123456789+-.eE_".unicodeScalars.contains($0) }),
              !trimmed.hasPrefix("_"), !trimmed.hasSuffix("_"), !trimmed.contains("__") else { return nil }
        return Double(trimmed.replacingOccurrences(of: "_", with: ""))
    }

    /// jinja2's `int` filter: int(x), else int(float(x)), else the default.
    private static func integer(_ value: JinjaValue, default fallback: JinjaValue, base: Int) -> JinjaValue {
        switch value {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int: return value
        case .float(let f):
            guard f.isFinite, let i = Int(exactly: f.rounded(.towardZero)) else { return fallback }
            return .int(i)
        case .string(let text), .markup(let text):
            let trimmed = PythonText.strip(text, nil).replacingOccurrences(of: "_", with: "")
            if let i = Int(trimmed, radix: base) { return .int(i) }
            if let f = pythonFloat(text), f.isFinite, let i = Int(exactly: f.rounded(.towardZero)) { return .int(i) }
            return fallback
        default:
            return fallback
        }
    }

    private static func indent(_ value: JinjaValue, _ bound: [JinjaValue?]) throws -> JinjaValue {
        let indentation: String
        switch bound[0] {
        case nil: indentation = "    "
        case .string(let text)?, .markup(let text)?: indentation = text
        case let width?:
            guard let count = width.integer else { throw JinjaError("indent: width must be an integer or a string") }
            indentation = String(repeating: " ", count: max(0, count))
        }
        let first = bound[1]?.isTruthy ?? false, blank = bound[2]?.isTruthy ?? false
        // jinja2 appends a newline before splitting (so a trailing newline is kept).
        var lines = PythonText.splitLines(value.text + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        if first { result = indentation + result }
        return .string(result)
    }

    private static func round(_ value: JinjaValue, _ bound: [JinjaValue?]) throws -> JinjaValue {
        let precision = try bound[0].map { p -> Int in
            guard let i = p.integer else { throw JinjaError("round: precision must be an integer") }
            return i
        } ?? 0
        let method = bound[1]?.text ?? "common"
        guard ["common", "ceil", "floor"].contains(method) else {
            throw JinjaError("round: method must be common, ceil or floor")
        }
        guard let number = try value.defined().number else { throw JinjaError("round: '\(value.typeName)' is not a number") }
        if method == "common" {
            if let integer = value.integer, precision >= 0 { return .int(integer) }
            guard precision >= 0, precision <= 300, number.isFinite else {
                throw JinjaError("round: precision \(precision) is not supported")
            }
            // C's printf rounds the exact binary value, half to even: what Python's round() does.
            return .float(Double(String(format: "%.\(precision)f", number)) ?? number)
        }
        let scale = Foundation.pow(10.0, Double(precision))
        let scaled = number * scale
        return .float((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
    }

    /// jinja2's `title` filter: each word (after "-", whitespace, "(", "{", "[" or "<") gets
    /// its first character upper-cased and the rest lower-cased.
    private static func titleWords(_ text: String) -> String {
        func isBoundary(_ s: Unicode.Scalar) -> Bool { PythonText.isSpace(s) || "-({[<".unicodeScalars.contains(s) }
        var out = ""
        var word: [Unicode.Scalar] = []
        func flush() {
            guard let first = word.first else { return }
            out += PythonText.upper(String(first)) + PythonText.lower(PythonText.string(word.dropFirst()))
            word = []
        }
        for scalar in text.unicodeScalars {
            if isBoundary(scalar) {
                flush()
                out.unicodeScalars.append(scalar)
            } else {
                word.append(scalar)
            }
        }
        flush()
        return out
    }
}
