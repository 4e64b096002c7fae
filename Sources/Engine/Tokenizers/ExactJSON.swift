/// A small JSON reader for tokenizer files.
///
/// Why not Foundation's decoders (or any JSON value built on `[String: _]`): they put object
/// keys in a Swift `Dictionary<String, _>`, and Swift
/// `String`s that are canonically equivalent ("é" and "e\u{301}") compare equal, so two
/// distinct vocabulary entries would silently become one. Here object members keep their exact
/// Unicode scalars and their order; lookups compare scalars, never `String ==`.
enum ExactJSONValue: Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([ExactJSONValue])
    case object([(key: String, value: ExactJSONValue)])
}

/// A JSON value plus where it sits in the file ("model.merges[3]"), so that every error can
/// name the exact place that is wrong.
struct JSONNode: Sendable {
    let value: ExactJSONValue
    let path: String

    init(_ value: ExactJSONValue, path: String = "") {
        self.value = value
        self.path = path
    }

    func error(_ problem: String) -> EngineError {
        EngineError(path.isEmpty ? problem : "\(path): \(problem)")
    }

    var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    /// The member named `key`, or nil when it is absent. A member that is JSON `null` is
    /// returned as a node whose `isNull` is true.
    subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        let wanted = Array(key.unicodeScalars)
        for member in members where member.key.unicodeScalars.elementsEqual(wanted) {
            return JSONNode(member.value, path: path.isEmpty ? key : "\(path).\(key)")
        }
        return nil
    }

    /// The member named `key` when it is present and not null.
    func optional(_ key: String) -> JSONNode? {
        guard let node = self[key], !node.isNull else { return nil }
        return node
    }

    func required(_ key: String) throws -> JSONNode {
        guard let node = self[key] else {
            throw error("missing \"\(key)\"")
        }
        return node
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw error("expected a string") }
        return s
    }

    func int() throws -> Int {
        switch value {
        case .integer(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9.0e15: return Int(d)
        default: throw error("expected an integer")
        }
    }

    func double() throws -> Double {
        switch value {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        default: throw error("expected a number")
        }
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw error("expected true or false") }
        return b
    }

    func array() throws -> [JSONNode] {
        guard case .array(let items) = value else { throw error("expected an array") }
        return items.enumerated().map { JSONNode($0.element, path: "\(path)[\($0.offset)]") }
    }

    func members() throws -> [(key: String, value: JSONNode)] {
        guard case .object(let members) = value else { throw error("expected an object") }
        return members.map { (key: $0.key, value: JSONNode($0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)")) }
    }

    // Optional members with defaults, as HF's serde defaults do.
    func string(_ key: String, default fallback: String) throws -> String {
        try optional(key)?.string() ?? fallback
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try optional(key)?.bool() ?? fallback
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        try optional(key)?.int() ?? fallback
    }
}

/// Parses JSON text (RFC 8259). Errors say line and column.
struct ExactJSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private static let maximumDepth = 512

    static func parse(_ bytes: [UInt8]) throws -> ExactJSONValue {
        var parser = ExactJSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func error(_ problem: String) -> EngineError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return EngineError("not valid JSON: \(problem) at line \(line), column \(column)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws -> ExactJSONValue {
        guard index < bytes.count else { throw error("unexpected end of file") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func parseLiteral(_ word: String, _ value: ExactJSONValue) throws -> ExactJSONValue {
        for byte in word.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw error("unexpected character") }
            index += 1
        }
        return value
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maximumDepth { throw error("nested too deeply") }
    }

    private mutating func parseObject() throws -> ExactJSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [(key: String, value: ExactJSONValue)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            members.append((key: key, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws -> ExactJSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [ExactJSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func parseString() throws -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try utf8String(bytes[start..<index])
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return try utf8String(buffer[...])
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                          bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate escape")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw error("unpaired surrogate escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                UTF8.encode(scalar) { buffer.append($0) }
            default:
                throw error("invalid escape")
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func utf8String(_ slice: ArraySlice<UInt8>) throws -> String {
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw error("string is not valid UTF-8")
        }
        return text
    }

    private mutating func parseNumber() throws -> ExactJSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let from = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - from
        }
        guard digits() > 0 else { throw error("invalid number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard digits() > 0 else { throw error("invalid number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("invalid number") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text) else { throw error("invalid number") }
        return .double(value)
    }
}
