/// A layout tree: panes with weights, split side by side (`row`) or stacked (`column`).
public indirect enum LayoutNode: Sendable {
    case pane(PaneID, weight: Int, side: RunSlot? = nil)
    case row([LayoutNode], weight: Int)
    case column([LayoutNode], weight: Int)

    var weight: Int {
        switch self {
        case let .pane(_, w, _), let .row(_, w), let .column(_, w): return w
        }
    }
}

/// A named arrangement of all panes and which of them it shows (btop-style presets: `p`
/// and `P` cycle them; keys 1-6 then show or hide single panes).
public struct LayoutPreset: Sendable {
    public var name: String
    public var tree: LayoutNode
    public var visible: Set<PaneID>
}

/// Where one pane box goes. `side` is set for the two stream boxes of A/B compare.
public struct PaneFrame: Equatable, Sendable {
    public var pane: PaneID
    public var side: RunSlot?
    public var rect: Rect
}

public enum Layouts {
    public static let presets: [LayoutPreset] = [
        LayoutPreset(
            name: "overview",
            tree: .row([
                .column([.pane(.stream, weight: 4), .pane(.depth, weight: 3), .pane(.throughput, weight: 2)], weight: 3),
                .column([.pane(.attention, weight: 3), .pane(.inspector, weight: 4), .pane(.model, weight: 3)], weight: 2),
            ], weight: 1),
            visible: Set(PaneID.allCases)),
        LayoutPreset(
            name: "reading",
            tree: .column([
                .pane(.stream, weight: 3),
                .row([.pane(.depth, weight: 3), .pane(.inspector, weight: 2), .pane(.attention, weight: 2),
                      .pane(.throughput, weight: 2), .pane(.model, weight: 2)], weight: 2),
            ], weight: 1),
            visible: [.stream, .depth, .inspector]),
        LayoutPreset(
            name: "attention",
            tree: .row([
                .column([.pane(.attention, weight: 3), .pane(.stream, weight: 2)], weight: 3),
                .column([.pane(.inspector, weight: 3), .pane(.depth, weight: 2), .pane(.throughput, weight: 2),
                         .pane(.model, weight: 2)], weight: 2),
            ], weight: 1),
            visible: [.attention, .stream, .inspector]),
        LayoutPreset(
            name: "performance",
            tree: .column([
                .pane(.stream, weight: 2),
                .row([.pane(.throughput, weight: 3), .pane(.model, weight: 2), .pane(.inspector, weight: 2),
                      .pane(.attention, weight: 2)], weight: 2),
                .pane(.depth, weight: 2),
            ], weight: 1),
            visible: [.stream, .throughput, .model, .depth]),
    ]

    /// Smallest box: a border and one line of content.
    static let minimumBox = (width: 10, height: 3)

    /// Frames of the visible panes in `area`. When comparing, the stream box becomes two
    /// boxes (A above B). When `expanded`, the focused pane takes the whole area.
    public static func frames(
        preset: Int, visible: Set<PaneID>, comparing: Bool, expanded: PaneID?, in area: Rect
    ) -> [PaneFrame] {
        if let expanded {
            if expanded == .stream && comparing {
                let top = area.height / 2
                return [PaneFrame(pane: .stream, side: .a, rect: Rect(x: area.x, y: area.y, width: area.width, height: top)),
                        PaneFrame(pane: .stream, side: .b,
                                  rect: Rect(x: area.x, y: area.y + top, width: area.width, height: area.height - top))]
            }
            return [PaneFrame(pane: expanded, side: nil, rect: area)]
        }
        guard presets.indices.contains(preset), let tree = filter(presets[preset].tree, visible, comparing) else {
            return []
        }
        var out: [PaneFrame] = []
        place(tree, in: area, into: &out)
        return out
    }

    /// The tree without hidden panes, with the stream split in two for compare.
    private static func filter(_ node: LayoutNode, _ visible: Set<PaneID>, _ comparing: Bool) -> LayoutNode? {
        switch node {
        case let .pane(id, weight, _):
            guard visible.contains(id) else { return nil }
            if id == .stream && comparing {
                return .column([.pane(.stream, weight: 1, side: .a), .pane(.stream, weight: 1, side: .b)], weight: weight)
            }
            return node
        case let .row(children, weight):
            let kept = children.compactMap { filter($0, visible, comparing) }
            return kept.isEmpty ? nil : (kept.count == 1 ? reweighted(kept[0], weight) : .row(kept, weight: weight))
        case let .column(children, weight):
            let kept = children.compactMap { filter($0, visible, comparing) }
            return kept.isEmpty ? nil : (kept.count == 1 ? reweighted(kept[0], weight) : .column(kept, weight: weight))
        }
    }

    private static func reweighted(_ node: LayoutNode, _ weight: Int) -> LayoutNode {
        switch node {
        case let .pane(id, _, side): return .pane(id, weight: weight, side: side)
        case let .row(c, _): return .row(c, weight: weight)
        case let .column(c, _): return .column(c, weight: weight)
        }
    }

    private static func place(_ node: LayoutNode, in rect: Rect, into out: inout [PaneFrame]) {
        switch node {
        case let .pane(id, _, side):
            out.append(PaneFrame(pane: id, side: side, rect: rect))
        case let .row(children, _):
            let widths = split(rect.width, children.map { $0.weight }, minimum: minimumBox.width)
            var x = rect.x
            for (child, w) in zip(children, widths) {
                place(child, in: Rect(x: x, y: rect.y, width: w, height: rect.height), into: &out)
                x += w
            }
        case let .column(children, _):
            let heights = split(rect.height, children.map { $0.weight }, minimum: minimumBox.height)
            var y = rect.y
            for (child, h) in zip(children, heights) {
                place(child, in: Rect(x: rect.x, y: y, width: rect.width, height: h), into: &out)
                y += h
            }
        }
    }

    /// Splits `length` by `weights`, giving each part at least `minimum` when there is room
    /// for that, and handing out rounding leftovers from the first part on.
    static func split(_ length: Int, _ weights: [Int], minimum: Int) -> [Int] {
        guard !weights.isEmpty else { return [] }
        let total = max(1, weights.reduce(0, +))
        var sizes = weights.map { length * $0 / total }
        var left = length - sizes.reduce(0, +)
        var i = 0
        while left > 0 { sizes[i % sizes.count] += 1; left -= 1; i += 1 }
        if minimum * weights.count <= length {
            for j in sizes.indices where sizes[j] < minimum {
                while sizes[j] < minimum, let donor = sizes.indices.max(by: { sizes[$0] < sizes[$1] }),
                      sizes[donor] > minimum {
                    sizes[donor] -= 1
                    sizes[j] += 1
                }
            }
        }
        return sizes
    }
}
