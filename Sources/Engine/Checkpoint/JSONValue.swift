import Foundation

/// Any JSON value, kept as parsed. Used where a file's keys are open-ended: the raw
/// config.json (adaptive-depth architectures read their own keys from it) and
/// safetensors headers, whose tensor names are keys.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON bytes; the error names `file` and says what is wrong in one line.
    public static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            // JSONDecoder does not say where the problem is; JSONSerialization does.
            var detail = describe(error)
            do {
                _ = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
            } catch {
                if let location = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String {
                    detail = location
                }
            }
            throw EngineError("\(file): not valid JSON (\(detail))")
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The value as an integer, if it is one (also a double with no fractional part).
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.rounded() == value, let exact = Int(exactly: value) else { return nil }
            return exact
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

/// One line describing a decoding error: where in the document, and what was wrong.
func describe(_ error: any Error) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
        let keys = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
        return keys.isEmpty ? "top level" : "key '\(keys.joined(separator: "."))'"
    }
    let message: String
    switch error {
    case DecodingError.typeMismatch(let type, let context):
        message = "\(path(context.codingPath)): expected \(typeName(type))"
    case DecodingError.valueNotFound(let type, let context):
        message = "\(path(context.codingPath)): expected \(typeName(type)), found null"
    case DecodingError.keyNotFound(let key, let context):
        message = "\(path(context.codingPath + [key])): missing"
    case DecodingError.dataCorrupted(let context):
        let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey]
        let detail = (underlying as? String) ?? context.debugDescription
        message = context.codingPath.isEmpty ? detail : "\(path(context.codingPath)): \(detail)"
    case let error as EngineError:
        message = error.message
    default:
        message = "\(error)"
    }
    // Keep it to one line whatever Foundation put in the description.
    return message.split(whereSeparator: \.isNewline).joined(separator: " ")
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Double.Type, is Float.Type: return "a number"
    case is String.Type: return "a string"
    case is Bool.Type: return "true or false"
    default:
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return name
    }
}
