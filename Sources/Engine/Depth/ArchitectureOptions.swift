import Foundation

/// Reads `key=value` architecture options (as typed on the command line or in the TUI),
/// validating each against its range and recording the value in effect. Every problem is
/// one line naming the architecture, the option, the value and what is allowed.
///
/// Names accept `-` for `_`; choice values too (`middle-cycle` = `middle_cycle`).
public struct OptionReader {
    public let architecture: String
    private var given: [String: String]
    /// Options in effect (given or default), in the order they were read.
    public private(set) var inEffect: [ArchitectureOption] = []
    /// The options this architecture has (every one read so far).
    private var known: [String] = []

    init(architecture: String, options: [ArchitectureOption]) {
        self.architecture = architecture
        var given: [String: String] = [:]
        for option in options {
            given[option.key.replacingOccurrences(of: "-", with: "_")] = option.value.trimmingCharacters(in: .whitespaces)
        }
        self.given = given
    }

    public func error(_ key: String, _ value: String, _ problem: String) -> EngineError {
        EngineError("arch \(architecture): option \(key)=\(value): \(problem)")
    }

    public func isGiven(_ key: String) -> Bool { given[key] != nil }

    /// An integer in `range` (upper bound nil: unbounded).
    public mutating func int(_ key: String, default fallback: Int, min low: Int, max high: Int? = nil) throws -> Int {
        guard let text = take(key) else { return record(key, fallback) }
        guard let value = Int(text) else { throw error(key, text, "not a whole number") }
        guard value >= low, high.map({ value <= $0 }) ?? true else {
            throw error(key, text, "out of range \(Self.describe(low, high))")
        }
        return record(key, value)
    }

    public mutating func uint64(_ key: String, default fallback: UInt64) throws -> UInt64 {
        guard let text = take(key) else { return record(key, fallback) }
        guard let value = UInt64(text) else { throw error(key, text, "not an integer in [0, 18446744073709551615]") }
        return record(key, value)
    }

    /// A number in [low, high] (or open at an end when asked).
    public mutating func double(
        _ key: String, default fallback: Double, low: Double, high: Double,
        openLow: Bool = false, openHigh: Bool = false, whole: String? = nil
    ) throws -> Double {
        guard let text = take(key) else { return record(key, fallback) }
        guard let value = Double(text), value.isFinite else { throw error(key, text, "not a number") }
        let aboveLow = openLow ? value > low : value >= low
        let belowHigh = openHigh ? value < high : value <= high
        guard aboveLow, belowHigh else {
            let lowText = (openLow ? "(" : "[") + Self.number(low)
            let highText = high.isInfinite ? "inf)" : Self.number(high) + (openHigh ? ")" : "]")
            throw error(key, text, "out of range \(lowText), \(highText)")
        }
        if let whole, value != value.rounded() { throw error(key, text, "\(whole) needs a whole number of steps") }
        return record(key, value)
    }

    /// One of `choices` (compared after `-` -> `_`).
    public mutating func choice(_ key: String, default fallback: String, _ choices: [String]) throws -> String {
        guard let text = take(key) else { return record(key, fallback) }
        let value = text.replacingOccurrences(of: "-", with: "_")
        guard choices.contains(value) else { throw error(key, text, "expected one of \(choices.joined(separator: ", "))") }
        return record(key, value)
    }

    /// A comma-separated list; `validate` throws for a bad item.
    public mutating func list(_ key: String, default fallback: [String]) -> [String] {
        guard let text = take(key) else {
            inEffect.append(ArchitectureOption(key, fallback.joined(separator: ",")))
            return fallback
        }
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        inEffect.append(ArchitectureOption(key, items.joined(separator: ",")))
        return items
    }

    /// Refuses options this architecture does not have.
    func finish() throws {
        guard let key = given.keys.sorted().first else { return }
        let names = known.isEmpty ? "it takes no options" : "its options: \(known.joined(separator: ", "))"
        throw EngineError("arch \(architecture): unknown option '\(key)' (\(names))")
    }

    private mutating func take(_ key: String) -> String? {
        known.append(key)
        return given.removeValue(forKey: key)
    }

    private mutating func record<T>(_ key: String, _ value: T) -> T {
        let text: String
        if let number = value as? Double { text = Self.number(number) } else { text = "\(value)" }
        inEffect.append(ArchitectureOption(key, text))
        return value
    }

    /// `recursions` and `sharing` of a recursive schedule over `layers` stored layers.
    public mutating func recursionOptions(defaultRecursions: Int, defaultSharing: Sharing, layers: Int) throws -> (Int, Sharing) {
        let recursions = try int("recursions", default: defaultRecursions, min: 1, max: Architecture.maxDepthSteps)
        return (recursions, try sharingOption(default: defaultSharing, layers: layers))
    }

    public mutating func sharingOption(default fallback: Sharing, layers: Int) throws -> Sharing {
        let value = try choice("sharing", default: fallback.rawValue, Sharing.allCases.map(\.rawValue))
        let sharing = Sharing(rawValue: value) ?? .cycle
        if sharing == .middleCycle, layers < 3 {
            throw error("sharing", value, "needs at least 3 layers, the model has \(layers)")
        }
        return sharing
    }

    /// The error for a checkpoint whose config.json lacks the object this architecture needs.
    public func missing(_ key: String, _ what: String, in model: DepthModel) -> EngineError {
        EngineError("arch \(architecture): \(model.configFile) has no \"\(key)\" object (\(what))")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }

    private static func describe(_ low: Int, _ high: Int?) -> String {
        high.map { "[\(low), \($0)]" } ?? "(>= \(low))"
    }
}

/// One `key=value` option.
public struct ArchitectureOption: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value`; the error names the text.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw EngineError("architecture option '\(text)': expected key=value")
        }
        key = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
        value = String(text[text.index(after: equals)...])
    }

    public var description: String { "\(key)=\(value)" }
}
