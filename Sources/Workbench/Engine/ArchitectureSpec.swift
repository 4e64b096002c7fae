import Engine

/// An architecture as the user types it: a name and `key=value` options,
/// `mor threshold=0.6 kv=share`. Options keep their order.
public struct ArchitectureSpec: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var options: [(key: String, value: String)]

    public init(name: String, options: [(String, String)] = []) {
        self.name = name
        self.options = options.map { (key: $0.0, value: $0.1) }
    }

    public static func == (a: ArchitectureSpec, b: ArchitectureSpec) -> Bool {
        a.name == b.name && a.options.map(\.key) == b.options.map(\.key)
            && a.options.map(\.value) == b.options.map(\.value)
    }

    /// Parses `name key=value ...`; throws a one-line error naming the bad part.
    public static func parse(_ text: String) throws -> ArchitectureSpec {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let name = words.first else { throw EngineError("architecture: empty (expected e.g. \"mor threshold=0.6\")") }
        guard !name.contains("=") else {
            throw EngineError("architecture \"\(text)\": starts with an option; the name comes first")
        }
        var options: [(String, String)] = []
        for word in words.dropFirst() {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw EngineError("architecture \"\(text)\": option \"\(word)\" is not key=value")
            }
            options.append((String(word[..<eq]), String(word[word.index(after: eq)...])))
        }
        return ArchitectureSpec(name: name, options: options)
    }

    public func value(_ key: String) -> String? {
        options.last(where: { $0.key == key })?.value
    }

    /// This spec with one option set (replaced if present, appended if not).
    public func setting(_ key: String, _ value: String) -> ArchitectureSpec {
        var copy = self
        if let i = copy.options.firstIndex(where: { $0.key == key }) {
            copy.options[i].value = value
        } else {
            copy.options.append((key: key, value: value))
        }
        return copy
    }

    public var description: String {
        ([name] + options.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }
}
