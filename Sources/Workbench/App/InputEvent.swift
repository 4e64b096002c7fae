/// A key as the workbench sees it, whichever backend read it.
public enum Key: Hashable, Sendable {
    case char(Character)
    /// Ctrl plus a letter, e.g. `.control("c")`.
    case control(Character)
    case up, down, left, right
    case home, end, pageUp, pageDown
    case tab, backTab, enter, escape, backspace, delete
    case function(Int)
}

public struct MouseEvent: Equatable, Sendable {
    public enum Kind: Sendable { case press, wheelUp, wheelDown }
    public var kind: Kind
    public var x: Int
    public var y: Int

    public init(_ kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

public enum InputEvent: Equatable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
}

extension Key {
    /// How help and hint lines spell the key.
    public var label: String {
        switch self {
        case .char(" "): return "space"
        case let .char(c): return String(c)
        case let .control(c): return "Ctrl-" + String(c).uppercased()
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case let .function(n): return "F\(n)"
        }
    }

    /// Keys from a plain string, one per character (tests and scripted demos).
    public static func typed(_ text: String) -> [InputEvent] {
        text.map { ch in
            switch ch {
            case "\n", "\r": return .key(.enter)
            case "\t": return .key(.tab)
            default: return .key(.char(ch))
            }
        }
    }
}
