/// Python methods a template may call on strings, dicts and lists (`x.strip()`,
/// `d.items()`). Methods that change a dict or list are refused by transformers' immutable
/// sandbox, and methods not written here are errors naming the method when called.
enum JinjaMethods {
    private static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
        "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier",
        "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
        "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
        "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "translate", "upper", "zfill",
    ]
    private static let dictMethods: Set<String> = [
        "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values",
    ]
    private static let listMethods: Set<String> = [
        "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort",
    ]
    private static let mutating: Set<String> = [
        "append", "clear", "extend", "insert", "pop", "popitem", "remove", "reverse", "setdefault", "sort", "update",
    ]
    /// Markup's methods that return Markup (markupsafe 3).
    private static let markupResultMethods: Set<String> = [
        "capitalize", "title", "lower", "upper", "replace", "ljust", "rjust", "lstrip", "rstrip", "center", "strip",
        "translate", "expandtabs", "swapcase", "zfill", "casefold", "removeprefix", "removesuffix", "format", "join",
    ]

    /// The bound method `name` of `receiver`, or nil when Python has no such method.
    static func method(_ receiver: JinjaValue, _ name: String) -> JinjaValue? {
        let kind: String
        switch receiver {
        case .string where stringMethods.contains(name): kind = "str"
        case .markup where stringMethods.contains(name): kind = "Markup"
        case .dict where dictMethods.contains(name): kind = "dict"
        case .list where listMethods.contains(name), .tuple where ["count", "index"].contains(name): kind = receiver.typeName
        default: return nil
        }
        return .function(JinjaFunction(name: "\(kind).\(name)") { arguments in
            if mutating.contains(name) {
                throw JinjaError("\(kind) method '\(name)' is not allowed (transformers' sandbox keeps values immutable)")
            }
            switch receiver {
            case .string(let text): return try stringMethod(text, name, arguments)
            case .markup(let text): return try markupMethod(text, name, arguments)
            case .dict(let dict): return try dictMethod(dict, name, arguments)
            case .list(let items), .tuple(let items): return try sequenceMethod(items, name, arguments)
            default: throw JinjaError("\(kind) method '\(name)' is not supported")
            }
        })
    }

    /// markupsafe's Markup methods: the text they add is escaped first (`replace`'s new text,
    /// the fill character of `ljust`/`rjust`/`center`, `join`'s items, `format`'s arguments),
    /// their string results are Markup again, `split` gives Markup parts.
    private static func markupMethod(_ text: String, _ name: String, _ arguments: JinjaArguments) throws -> JinjaValue {
        var arguments = arguments
        func escaped(_ value: JinjaValue) -> JinjaValue {
            value.stringValue != nil ? .string(JinjaOperators.escapedText(value)) : value
        }
        switch name {
        case "replace", "ljust", "rjust", "center":
            if arguments.positional.count > 1 { arguments.positional[1] = escaped(arguments.positional[1]) }
        case "format":
            arguments.positional = arguments.positional.map(escaped)
            arguments.keywords = arguments.keywords.map { ($0.name, escaped($0.value)) }
        case "join":
            if let items = arguments.positional.first {
                arguments.positional[0] = .list(try items.iterate().map(escaped))
            }
        default:
            break
        }
        switch try stringMethod(text, name, arguments) {
        case .string(let result) where markupResultMethods.contains(name): return .markup(result)
        case .list(let parts) where ["split", "rsplit", "splitlines"].contains(name):
            return .list(parts.map { .markup($0.text) })
        case let result: return result
        }
    }

    private static func string(_ value: JinjaValue?, _ what: String) throws -> String {
        guard let value, let text = value.stringValue else {
            throw JinjaError("\(what) must be a string, not \(value?.typeName ?? "nothing")")
        }
        return text
    }

    /// A string argument that may also be None (meaning "whitespace" for strip and split).
    private static func optionalString(_ value: JinjaValue?, _ what: String) throws -> String? {
        guard let value else { return nil }
        if case .none = value { return nil }
        return try string(value, what)
    }

    private static func integer(_ value: JinjaValue?, default fallback: Int, _ what: String) throws -> Int {
        guard let value else { return fallback }
        guard let integer = value.integer else { throw JinjaError("\(what) must be an integer, not \(value.typeName)") }
        return integer
    }

    private static func stringMethod(_ text: String, _ name: String, _ arguments: JinjaArguments) throws -> JinjaValue {
        let function = "str.\(name)"
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try optionalString(arguments.bind(["chars"], function: function)[0], "\(function) argument")
            return .string(PythonText.strip(text, chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "startswith", "endswith":
            let bound = try arguments.bind(["prefix"], function: function)
            let candidates: [JinjaValue]
            switch bound[0] {
            case .tuple(let items)?: candidates = items
            default: candidates = [bound[0] ?? .none]
            }
            for candidate in candidates {
                let affix = try string(candidate, "\(function) argument")
                if name == "startswith" ? PythonText.hasPrefix(text, affix) : PythonText.hasSuffix(text, affix) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "split", "rsplit":
            let bound = try arguments.bind(["sep", "maxsplit"], function: function)
            let separator = try optionalString(bound[0], "separator")
            let maxSplit = try integer(bound[1], default: -1, "maxsplit")
            let parts = name == "split" ? try PythonText.split(text, separator, maxSplit: maxSplit)
                                        : try PythonText.rsplit(text, separator, maxSplit: maxSplit)
            return .list(parts.map { .string($0) })
        case "splitlines":
            let keep = try arguments.bind(["keepends"], function: function)[0]?.isTruthy ?? false
            return .list(PythonText.splitLines(text, keepEnds: keep).map { .string($0) })
        case "upper": _ = try arguments.bind([], function: function); return .string(PythonText.upper(text))
        case "lower", "casefold": _ = try arguments.bind([], function: function); return .string(PythonText.lower(text))
        case "title": _ = try arguments.bind([], function: function); return .string(PythonText.title(text))
        case "capitalize": _ = try arguments.bind([], function: function); return .string(PythonText.capitalize(text))
        case "replace":
            let bound = try arguments.bind(["old", "new", "count"], function: function)
            return .string(PythonText.replace(text, try string(bound[0], "old"), try string(bound[1], "new"),
                                              count: try integer(bound[2], default: -1, "count")))
        case "removeprefix", "removesuffix":
            let affix = try string(arguments.bind(["affix"], function: function)[0], "\(function) argument")
            let scalars = PythonText.scalars(text), count = affix.unicodeScalars.count
            if name == "removeprefix" && PythonText.hasPrefix(text, affix) { return .string(PythonText.string(scalars.dropFirst(count))) }
            if name == "removesuffix" && !affix.isEmpty && PythonText.hasSuffix(text, affix) {
                return .string(PythonText.string(scalars.dropLast(count)))
            }
            return .string(text)
        case "find", "rfind", "index", "rindex", "count":
            let needle = PythonText.scalars(try string(arguments.bind(["sub"], function: function)[0], "\(function) argument"))
            let haystack = PythonText.scalars(text)
            var found: [Int] = []
            var from = 0
            while let at = PythonText.find(needle, in: haystack, from: from) {
                found.append(at)
                from = needle.isEmpty ? at + 1 : at + needle.count
                if from > haystack.count { break }
            }
            if name == "count" { return .int(found.count) }
            let position = name.hasPrefix("r") ? found.last : found.first
            if let position { return .int(position) }
            if name.hasSuffix("index") { throw JinjaError("substring not found") }
            return .int(-1)
        case "join":
            let items = try (arguments.bind(["iterable"], function: function)[0] ?? .none).iterate()
            let parts = try items.enumerated().map { index, item in
                guard let part = item.stringValue else {
                    throw JinjaError("sequence item \(index): expected str instance, \(item.typeName) found")
                }
                return part
            }
            return .string(parts.joined(separator: text))
        case "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper", "isascii":
            _ = try arguments.bind([], function: function)
            return .bool(characterTest(text, name))
        case "format":
            return .string(try format(text, arguments))
        default:
            throw JinjaError("str method '\(name)' is not supported")
        }
    }

    private static func characterTest(_ text: String, _ name: String) -> Bool {
        let scalars = text.unicodeScalars
        func isDigit(_ s: Unicode.Scalar) -> Bool { s.properties.numericType == .decimal || s.properties.numericType == .digit }
        func isAlpha(_ s: Unicode.Scalar) -> Bool {
            [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
                .contains(s.properties.generalCategory)
        }
        switch name {
        case "isascii": return scalars.allSatisfy(\.isASCII)
        case "islower", "isupper":
            let cased = scalars.filter { $0.properties.isLowercase || $0.properties.isUppercase }
            return !cased.isEmpty && cased.allSatisfy { name == "islower" ? $0.properties.isLowercase : $0.properties.isUppercase }
        default:
            guard !scalars.isEmpty else { return false }
            switch name {
            case "isdigit": return scalars.allSatisfy(isDigit)
            case "isdecimal": return scalars.allSatisfy { $0.properties.numericType == .decimal }
            case "isnumeric": return scalars.allSatisfy { $0.properties.numericType != nil }
            case "isalpha": return scalars.allSatisfy(isAlpha)
            case "isalnum": return scalars.allSatisfy { isAlpha($0) || $0.properties.numericType != nil }
            default: return scalars.allSatisfy(PythonText.isSpace)
            }
        }
    }

    /// `str.format` with `{}`, `{0}`, `{name}` and `{{`/`}}`; format specs and conversions
    /// (`{:>5}`, `{!r}`) are not supported.
    private static func format(_ text: String, _ arguments: JinjaArguments) throws -> String {
        var out = ""
        var automatic = 0
        let scalars = PythonText.scalars(text)
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar == "{" && i + 1 < scalars.count && scalars[i + 1] == "{" { out += "{"; i += 2; continue }
            if scalar == "}" && i + 1 < scalars.count && scalars[i + 1] == "}" { out += "}"; i += 2; continue }
            guard scalar == "{" else {
                if scalar == "}" { throw JinjaError("str.format: single '}' in the format string") }
                out.unicodeScalars.append(scalar)
                i += 1
                continue
            }
            guard let close = scalars[i...].firstIndex(of: "}") else { throw JinjaError("str.format: unclosed '{'") }
            let field = PythonText.string(scalars[(i + 1)..<close])
            if field.contains(":") || field.contains("!") || field.contains(".") || field.contains("[") {
                throw JinjaError("str.format: the field '{\(field)}' is not supported (only {}, {0} and {name})")
            }
            let value: JinjaValue
            if field.isEmpty {
                guard automatic < arguments.positional.count else { throw JinjaError("str.format: not enough arguments") }
                value = arguments.positional[automatic]
                automatic += 1
            } else if let index = Int(field) {
                guard index < arguments.positional.count else { throw JinjaError("str.format: no argument \(index)") }
                value = arguments.positional[index]
            } else {
                guard let named = arguments.keywords.first(where: { $0.name == field }) else {
                    throw JinjaError("str.format: no argument named '\(field)'")
                }
                value = named.value
            }
            out += value.text
            i = close + 1
        }
        return out
    }

    private static func dictMethod(_ dict: JinjaDict, _ name: String, _ arguments: JinjaArguments) throws -> JinjaValue {
        let function = "dict.\(name)"
        switch name {
        case "items":
            _ = try arguments.bind([], function: function)
            return .view(JinjaView(kind: "dict_items", items: dict.entries.map { .tuple([$0.key, $0.value]) }))
        case "keys":
            _ = try arguments.bind([], function: function)
            return .view(JinjaView(kind: "dict_keys", items: dict.entries.map(\.key)))
        case "values":
            _ = try arguments.bind([], function: function)
            return .view(JinjaView(kind: "dict_values", items: dict.entries.map(\.value)))
        case "get":
            let bound = try arguments.bind(["key", "default"], function: function)
            guard let key = bound[0] else { throw JinjaError("dict.get() takes at least 1 argument") }
            if let value = dict[try key.hashable()] { return value }
            return bound[1] ?? .none
        case "copy":
            return .dict(dict)
        default:
            throw JinjaError("dict method '\(name)' is not supported")
        }
    }

    private static func sequenceMethod(_ items: [JinjaValue], _ name: String, _ arguments: JinjaArguments) throws -> JinjaValue {
        let needle = try arguments.bind(["value"], function: name)[0] ?? .none
        switch name {
        case "count": return .int(items.filter { $0.equals(needle) }.count)
        case "index":
            guard let at = items.firstIndex(where: { $0.equals(needle) }) else { throw JinjaError("\(needle.repr) is not in list") }
            return .int(at)
        case "copy": return .list(items)
        default: throw JinjaError("list method '\(name)' is not supported")
        }
    }
}
