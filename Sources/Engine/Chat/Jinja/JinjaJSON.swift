/// The `tojson` filter as transformers defines it for chat templates: Python's
/// `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`
/// (not jinja2's own `tojson`, which would escape "<", ">", "&" and "'").
struct JinjaJSON {
    var ensureASCII = false
    /// nil: everything on one line; otherwise each item on its own line, indented by this text.
    var indent: String? = nil
    var itemSeparator: String
    var keySeparator: String
    var sortKeys = false

    /// Reads the filter's arguments (`ensure_ascii`, `indent`, `separators`, `sort_keys`).
    init(arguments: JinjaArguments) throws {
        let bound = try arguments.bind(["ensure_ascii", "indent", "separators", "sort_keys"], function: "tojson")
        ensureASCII = bound[0]?.isTruthy ?? false
        switch bound[1] {
        case nil, .none?: indent = nil
        case .string(let text)?, .markup(let text)?: indent = text
        case let value?:
            guard let width = value.integer else { throw JinjaError("tojson: indent must be an integer or a string") }
            indent = String(repeating: " ", count: max(0, width))
        }
        switch bound[2] {
        case nil, .none?:
            itemSeparator = indent == nil ? ", " : ","
            keySeparator = ": "
        case .list(let parts)?, .tuple(let parts)?:
            guard parts.count == 2, let item = parts[0].stringValue, let key = parts[1].stringValue else {
                throw JinjaError("tojson: separators must be two strings")
            }
            itemSeparator = item
            keySeparator = key
        case let value?:
            throw JinjaError("tojson: separators must be two strings, not \(value.typeName)")
        }
        sortKeys = bound[3]?.isTruthy ?? false
    }

    func encode(_ value: JinjaValue) throws -> String {
        var out = ""
        try write(value, level: 0, into: &out)
        return out
    }

    private func write(_ value: JinjaValue, level: Int, into out: inout String) throws {
        switch value {
        case .none: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .float(let number):
            if number.isNaN { out += "NaN" }
            else if number.isInfinite { out += number < 0 ? "-Infinity" : "Infinity" }
            else { out += JinjaValue.pythonFloat(number) }
        case .string(let text), .markup(let text): out += quoted(text)
        case .list(let items), .tuple(let items):
            try writeContainer(items.map { (nil, $0) }, open: "[", close: "]", level: level, into: &out)
        case .dict(let dict):
            var entries = dict.entries
            if sortKeys { entries = try entries.sorted { try $0.key.compare($1.key, "<") } }
            let keyed = try entries.map { (try key($0.key), $0.value) }
            try writeContainer(keyed, open: "{", close: "}", level: level, into: &out)
        default:
            throw JinjaError("tojson: object of type \(value.typeName) is not JSON serializable")
        }
    }

    /// json.dumps turns int, float, bool and None keys into strings.
    private func key(_ value: JinjaValue) throws -> String {
        switch value {
        case .string(let text), .markup(let text): return text
        case .int(let number): return String(number)
        case .float(let number): return number.isNaN ? "NaN" : number.isInfinite ? (number < 0 ? "-Infinity" : "Infinity")
                                                                                  : JinjaValue.pythonFloat(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .none: return "null"
        default: throw JinjaError("tojson: keys must be str, int, float, bool or None, not \(value.typeName)")
        }
    }

    private func writeContainer(_ items: [(String?, JinjaValue)], open: String, close: String, level: Int,
                                into out: inout String) throws {
        guard !items.isEmpty else {
            out += open + close
            return
        }
        out += open
        let inner = indent.map { "\n" + String(repeating: $0, count: level + 1) }
        if let inner { out += inner }
        for (index, (key, item)) in items.enumerated() {
            if index > 0 { out += itemSeparator + (inner ?? "") }
            if let key { out += quoted(key) + keySeparator }
            try write(item, level: level + 1, into: &out)
        }
        if let indent { out += "\n" + String(repeating: indent, count: level) }
        out += close
    }

    private func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        // A UTF-16 surrogate pair, as Python writes it.
                        let v = scalar.value - 0x10000
                        out += "\\u" + PythonText.hex(0xD800 + (v >> 10), digits: 4)
                        out += "\\u" + PythonText.hex(0xDC00 + (v & 0x3FF), digits: 4)
                    } else {
                        out += "\\u" + PythonText.hex(scalar.value, digits: 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
