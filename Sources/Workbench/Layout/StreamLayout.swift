import Engine

/// Where one token sits in the stream: line, column and the cells it takes.
struct StreamSlot: Equatable {
    var line: Int
    var column: Int
    var width: Int
}

/// Lays tokens out in lines of one width. Each token gets one slot: its visible text
/// (newlines shown as a glyph), then as many line breaks as it has newlines. For A/B
/// compare a slot fits both runs' tokens at that position (the wider text, the most line
/// breaks), so position i sits in the same cell in both boxes.
///
/// Tokens only ever arrive at the end, so the layout is kept between frames and extended
/// (`LayoutCache`); a frame costs what is visible, not the length of the text.
final class StreamLayoutStore {
    let width: Int
    let glyphs: Glyphs
    private(set) var slots: [StreamSlot] = []
    /// The layout state (line, column) after each slot.
    private(set) var ends: [(line: Int, column: Int)] = []
    var end: (line: Int, column: Int) { ends.last ?? (0, 0) }

    init(width: Int, glyphs: Glyphs) {
        self.width = max(1, width)
        self.glyphs = glyphs
    }

    func append(_ variants: [String]) {
        let (slot, next) = Self.place(variants, after: end, width: width, glyphs: glyphs)
        slots.append(slot)
        ends.append(next)
    }

    /// The slot for a token after the layout state `end`, and the state after it.
    static func place(_ variants: [String], after end: (line: Int, column: Int), width: Int, glyphs: Glyphs)
        -> (StreamSlot, (line: Int, column: Int)) {
        let w = min(width, max(1, variants.map { DisplayWidth.of(Format.visible($0, glyphs)) }.max() ?? 1))
        let breaks = variants.map { $0.filter { $0 == "\n" || $0 == "\r\n" }.count }.max() ?? 0
        var (line, column) = end
        if column > 0 && column + w > width { line += 1; column = 0 }
        let slot = StreamSlot(line: line, column: column, width: w)
        column += w
        if breaks > 0 { line += breaks; column = 0 }
        return (slot, (line, column))
    }
}

/// A frame's view of a layout: the stored slots, plus a few at the end that are not final
/// yet (in compare, positions only one run has reached).
struct StreamLayout {
    let store: StreamLayoutStore
    let tail: [StreamSlot]
    /// Tokens in this layout (may be fewer than the store holds: a prefix).
    let count: Int
    private let endLine: Int

    init(store: StreamLayoutStore, tail: [StreamSlot], count: Int, end: (line: Int, column: Int)) {
        self.store = store
        self.tail = tail
        self.count = count
        endLine = end.line
    }

    func slot(_ i: Int) -> StreamSlot {
        i < store.slots.count ? store.slots[i] : tail[i - store.slots.count]
    }

    var lineCount: Int { endLine + 1 }

    /// The first token on `line` or later (binary search: lines only grow).
    func firstIndex(atOrAfterLine line: Int) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if slot(mid).line < line { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The token on `line` nearest to `column`, if the line has any.
    func nearest(line: Int, column: Int) -> Int? {
        var best: Int?
        var i = firstIndex(atOrAfterLine: line)
        while i < count, slot(i).line == line {
            if best == nil || abs(slot(i).column - column) < abs(slot(best ?? i).column - column) { best = i }
            i += 1
        }
        return best
    }

    /// First line to show so that `line` is visible in `height` lines: following the
    /// newest token keeps the end in view, a moved cursor sits mid-way.
    func topLine(showing line: Int, height: Int, following: Bool) -> Int {
        guard height > 0 else { return 0 }
        if following { return max(0, lineCount - height) }
        return max(0, min(line - height / 2, lineCount - height))
    }
}

/// Keeps stream layouts between frames, one per width and set of runs, and forgets the
/// ones a frame did not use (old widths after a resize, replaced runs).
final class LayoutCache {
    private struct Key: Hashable {
        var width: Int
        var unicode: Bool
        /// Each run's serial and retraction count: a new run or a step back starts over.
        var runs: [Int]
    }

    private var stores: [Key: StreamLayoutStore] = [:]
    private var used: Set<Key> = []

    /// The layout of `runs` (one, or A and B aligned) at `width`, covering tokens
    /// 0..<`limit` (default: all).
    func layout(width: Int, runs: [RunView], glyphs: Glyphs, limit: Int? = nil) -> StreamLayout {
        let key = Key(width: max(1, width), unicode: glyphs.unicode,
                      runs: runs.flatMap { [$0.serial, $0.retractions] })
        used.insert(key)
        let store = stores[key] ?? StreamLayoutStore(width: width, glyphs: glyphs)
        stores[key] = store
        let counts = runs.map(\.tokens.count)
        let total = min(counts.max() ?? 0, limit ?? Int.max)
        let stable = min(counts.min() ?? 0, total)
        func variants(_ i: Int) -> [String] {
            runs.compactMap { i < $0.tokens.count ? $0.tokens[i].text : nil }
        }
        while store.slots.count < stable { store.append(variants(store.slots.count)) }
        // Positions not every run has reached yet, or beyond `limit`: laid out per frame.
        var tail: [StreamSlot] = []
        var end = store.end
        if total <= store.slots.count {
            // A prefix of the stored layout (the Attention pane's context).
            return StreamLayout(store: store, tail: [], count: total, end: total == 0 ? (0, 0) : store.ends[total - 1])
        }
        for i in store.slots.count..<total {
            let (slot, next) = StreamLayoutStore.place(variants(i), after: end, width: store.width, glyphs: glyphs)
            tail.append(slot)
            end = next
        }
        return StreamLayout(store: store, tail: tail, count: total, end: end)
    }

    /// Drops layouts no frame since the last call used.
    func endFrame() {
        stores = stores.filter { used.contains($0.key) }
        used.removeAll(keepingCapacity: true)
    }
}
