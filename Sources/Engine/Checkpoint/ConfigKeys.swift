/// Typed access to one level of a JSON config object (config.json, or the keys a GGUF
/// file's metadata stands for), with errors naming the file and the key path:
/// `config.json: key 'rope_scaling.factor': expected a number`.
///
/// A key that is absent or null reads as nil; a value of the wrong kind is an error.
public struct ConfigKeys: Sendable {
    public let raw: [String: JSONValue]
    public let file: String
    public var prefix = ""

    public init(raw: [String: JSONValue], file: String, prefix: String = "") {
        self.raw = raw
        self.file = file
        self.prefix = prefix
    }

    public func name(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }

    public func error(_ key: String, _ problem: String) -> EngineError {
        EngineError("\(file): key '\(name(key))': \(problem)")
    }

    /// Whether the key is present (null included).
    public func contains(_ key: String) -> Bool { raw[key] != nil }

    /// Whether the key is present with the value null.
    public func isNull(_ key: String) -> Bool { raw[key] == .null }

    /// A nested object; nil when absent or null.
    public func object(_ key: String) throws -> ConfigKeys? {
        guard let value = raw[key], value != .null else { return nil }
        guard let object = value.objectValue else { throw error(key, "expected an object") }
        return ConfigKeys(raw: object, file: file, prefix: name(key))
    }

    public func string(_ key: String) throws -> String? {
        guard let value = raw[key], value != .null else { return nil }
        guard let string = value.stringValue else { throw error(key, "expected a string") }
        return string
    }

    public func strings(_ key: String) throws -> [String]? {
        guard let value = raw[key], value != .null else { return nil }
        guard let items = value.arrayValue, case let strings = items.compactMap(\.stringValue), strings.count == items.count
        else { throw error(key, "expected a list of strings") }
        return strings
    }

    /// An integer, optionally bounded; a whole-valued number such as 4096.0 counts.
    public func int(_ key: String, minimum: Int? = nil, maximum: Int? = nil) throws -> Int? {
        guard let value = raw[key], value != .null else { return nil }
        guard let number = value.intValue else { throw error(key, "expected an integer") }
        if let minimum, number < minimum { throw error(key, "\(number) is less than \(minimum)") }
        if let maximum, number > maximum { throw error(key, "\(number) is more than \(maximum)") }
        return number
    }

    /// An integer or a list of integers (e.g. `eos_token_id`).
    public func ints(_ key: String) throws -> [Int]? {
        guard let value = raw[key], value != .null else { return nil }
        if let single = value.intValue { return [single] }
        guard let items = value.arrayValue, case let numbers = items.compactMap(\.intValue), numbers.count == items.count
        else { throw error(key, "expected an integer or a list of integers") }
        return numbers
    }

    public func uint64(_ key: String) throws -> UInt64? {
        guard let value = raw[key], value != .null else { return nil }
        if let number = value.intValue, number >= 0 { return UInt64(number) }
        if let number = value.doubleValue, number >= 0, number < 0x1p64, number == number.rounded() {
            return UInt64(number)
        }
        throw error(key, "expected an integer in 0...2^64-1")
    }

    public func double(_ key: String) throws -> Double? {
        guard let value = raw[key], value != .null else { return nil }
        guard let number = value.doubleValue, number.isFinite else { throw error(key, "expected a number") }
        return number
    }

    /// A list of finite numbers (e.g. longrope's factors).
    public func doubles(_ key: String) throws -> [Double]? {
        guard let value = raw[key], value != .null else { return nil }
        guard let items = value.arrayValue, case let numbers = items.compactMap(\.doubleValue),
            numbers.count == items.count, numbers.allSatisfy(\.isFinite)
        else { throw error(key, "expected a list of numbers") }
        return numbers
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = raw[key], value != .null else { return nil }
        guard let flag = value.boolValue else { throw error(key, "expected true or false") }
        return flag
    }

    /// A required integer.
    public func requiredInt(_ key: String) throws -> Int {
        guard let value = try int(key) else { throw error(key, "missing") }
        return value
    }

    /// A required string.
    public func requiredString(_ key: String) throws -> String {
        guard let value = try string(key) else { throw error(key, "missing") }
        return value
    }
}
