/// A one-or-more-line text being edited (command palette, prompt editor).
public struct TextField: Equatable, Sendable {
    public var text: String
    /// Cursor as a character offset into `text`.
    public var cursor: Int

    public init(_ text: String = "") {
        self.text = text
        self.cursor = text.count
    }

    /// Applies an editing key; returns false when the key is not an editing key.
    public mutating func edit(_ key: Key, allowNewline: Bool = false) -> Bool {
        switch key {
        case let .char(c):
            insert(String(c))
        case .control("j") where allowNewline:
            insert("\n")
        case .backspace:
            guard cursor > 0 else { return true }
            let i = text.index(text.startIndex, offsetBy: cursor - 1)
            text.remove(at: i)
            cursor -= 1
        case .delete, .control("d"):
            guard cursor < text.count else { return true }
            text.remove(at: text.index(text.startIndex, offsetBy: cursor))
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(text.count, cursor + 1)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = text.count
        case .control("u"):
            text.removeSubrange(text.startIndex..<text.index(text.startIndex, offsetBy: cursor))
            cursor = 0
        case .control("k"):
            text.removeSubrange(text.index(text.startIndex, offsetBy: cursor)...)
        default:
            return false
        }
        return true
    }

    private mutating func insert(_ s: String) {
        text.insert(contentsOf: s, at: text.index(text.startIndex, offsetBy: cursor))
        cursor += s.count
    }
}

/// A list to choose from (models, architectures, themes).
public struct Picker: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case model, architecture, theme }
    public var kind: Kind
    public var items: [String]
    /// One-line descriptions shown beside the items (same count, may be empty strings).
    public var details: [String]
    public var index: Int

    public init(kind: Kind, items: [String], details: [String] = [], selected: String? = nil) {
        self.kind = kind
        self.items = items
        self.details = details.count == items.count ? details : items.map { _ in "" }
        self.index = selected.flatMap { items.firstIndex(of: $0) } ?? 0
    }

    public var title: String {
        switch kind {
        case .model: return "choose a model"
        case .architecture: return "choose an architecture"
        case .theme: return "choose a theme"
        }
    }

    public var selection: String? { items.indices.contains(index) ? items[index] : nil }
}

/// What covers the main view, if anything.
public enum Overlay: Equatable, Sendable {
    case help(page: Int)
    case palette(TextField)
    /// The prompt being edited, and whether it is a chat message (Ctrl-T toggles).
    case promptEditor(TextField, chat: Bool)
    case picker(Picker)
}

/// The one-line message in the bottom line.
public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var isError: Bool

    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}
