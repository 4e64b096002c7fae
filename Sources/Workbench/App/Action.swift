/// Everything a key can do in the main view. Keys map to actions through `KeyBindings`,
/// which is also what the help overlay and the hint line list, so they cannot drift apart.
public enum Action: Hashable, Sendable {
    case quit, help, commandPalette
    case togglePause, stepForward, stepBack, restart
    case editPrompt, samplingSettings, pickModel, pickArchitecture, toggleCompare, nextTheme
    case togglePane(PaneID)
    case nextPreset, previousPreset, expand, focusNext, focusPrevious
    case cursorLeft, cursorRight, cursorUp, cursorDown, cursorFirst, followNewest
    case attentionStepPrevious, attentionStepNext, attentionHeadPrevious, attentionHeadNext
    case attentionMatrix
}

/// The panes, numbered as their keys and titles number them.
public enum PaneID: Int, CaseIterable, Sendable, Comparable {
    case stream = 1, depth, attention, inspector, throughput, model

    public var title: String {
        switch self {
        case .stream: return "stream"
        case .depth: return "depth"
        case .attention: return "attention"
        case .inspector: return "inspector"
        case .throughput: return "throughput"
        case .model: return "model"
        }
    }

    public static func < (a: PaneID, b: PaneID) -> Bool { a.rawValue < b.rawValue }
}

/// One line of the key table.
public struct KeyBinding: Sendable {
    public var keys: [Key]
    /// How help spells the keys when that reads better than listing them.
    public var label: String?
    public var action: Action
    public var help: String
    public var group: String

    public var keyLabel: String { label ?? keys.map(\.label).joined(separator: " ") }
}

public enum KeyBindings {
    public static let all: [KeyBinding] = {
        var table: [KeyBinding] = [
            KeyBinding(keys: [.char(" ")], action: .togglePause, help: "pause / resume", group: "run"),
            KeyBinding(keys: [.char("n")], action: .stepForward, help: "one token, then pause", group: "run"),
            KeyBinding(keys: [.char("N")], action: .stepBack, help: "step back (replay)", group: "run"),
            KeyBinding(keys: [.char("r")], action: .restart, help: "restart, same seed", group: "run"),
            KeyBinding(keys: [.char("i")], action: .editPrompt, help: "edit prompt, Ctrl-T chat", group: "run"),
            KeyBinding(keys: [.char("s")], action: .samplingSettings, help: "sampling settings", group: "run"),
            KeyBinding(keys: [.char("m")], action: .pickModel, help: "choose the model", group: "run"),
            KeyBinding(keys: [.char("a")], action: .pickArchitecture, help: "choose the architecture", group: "run"),
            KeyBinding(keys: [.char("c")], action: .toggleCompare, help: "A/B compare on / off", group: "run"),
            KeyBinding(keys: [.char(":")], action: .commandPalette, help: "command palette", group: "run"),
        ]
        for pane in PaneID.allCases {
            table.append(KeyBinding(keys: [.char(Character(String(pane.rawValue)))], action: .togglePane(pane),
                                    help: "show / hide \(pane.title)", group: "view"))
        }
        table += [
            KeyBinding(keys: [.char("p")], action: .nextPreset, help: "next layout preset", group: "view"),
            KeyBinding(keys: [.char("P")], action: .previousPreset, help: "previous layout preset", group: "view"),
            KeyBinding(keys: [.char("e")], action: .expand, help: "expand focused pane", group: "view"),
            KeyBinding(keys: [.tab], action: .focusNext, help: "focus next pane", group: "view"),
            KeyBinding(keys: [.backTab], action: .focusPrevious, help: "focus previous pane", group: "view"),
            KeyBinding(keys: [.char("t")], action: .nextTheme, help: "next theme", group: "view"),
            KeyBinding(keys: [.char("?")], action: .help, help: "this help", group: "view"),
            KeyBinding(keys: [.char("q"), .control("c")], label: "q Ctrl-C", action: .quit, help: "quit", group: "view"),
            KeyBinding(keys: [.left, .char("h")], action: .cursorLeft, help: "previous token", group: "cursor"),
            KeyBinding(keys: [.right, .char("l")], action: .cursorRight, help: "next token", group: "cursor"),
            KeyBinding(keys: [.up, .char("k")], action: .cursorUp, help: "line up", group: "cursor"),
            KeyBinding(keys: [.down, .char("j")], action: .cursorDown, help: "line down", group: "cursor"),
            KeyBinding(keys: [.home, .char("g")], action: .cursorFirst, help: "first token", group: "cursor"),
            KeyBinding(keys: [.end, .char("G")], action: .followNewest, help: "follow newest token", group: "cursor"),
            KeyBinding(keys: [.char("["), .char("]")], label: "[ ]", action: .attentionStepPrevious,
                       help: "step: layer, recursion", group: "attention"),
            KeyBinding(keys: [.char("<"), .char(">"), .char(","), .char(".")], label: "< >", action: .attentionHeadPrevious,
                       help: "head", group: "attention"),
            KeyBinding(keys: [.char("v")], action: .attentionMatrix, help: "row / query×key view",
                       group: "attention"),
        ]
        return table
    }()

    /// The action for a key in the main view.
    public static func action(for key: Key) -> Action? {
        switch key {
        case .char("]"): return .attentionStepNext
        case .char(">"), .char("."): return .attentionHeadNext
        default: break
        }
        return all.first(where: { $0.keys.contains(key) })?.action
    }

    /// Mouse help, listed with the keys.
    public static let mouseHelp = [
        ("click", "select token, focus pane"),
        ("wheel", "cursor a line up / down"),
    ]
}
