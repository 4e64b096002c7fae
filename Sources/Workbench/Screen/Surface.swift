/// A rectangle in cells.
public struct Rect: Equatable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// The rectangle shrunk by `by` cells on every side.
    public func inset(_ by: Int) -> Rect {
        Rect(x: x + by, y: y + by, width: width - 2 * by, height: height - 2 * by)
    }

    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// One terminal cell.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var style: Style

    public init(_ character: Character = " ", _ style: Style = .plain) {
        self.character = character
        self.style = style
    }

    /// Placeholder in the cell right of a double-width character; backends skip it.
    public static let continuation: Character = "\u{0}"
    public var isContinuation: Bool { character == Cell.continuation }
}

/// The in-memory screen: a grid of cells that panes draw into. The ncurses backend copies
/// it to the terminal; tests read it back as text.
public final class Surface {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// A region covering the whole surface.
    public var region: Region { Region(surface: self, frame: bounds) }

    /// The characters, one line per row, trailing spaces kept (snapshots compare exactly).
    public func text() -> String {
        var lines: [String] = []
        lines.reserveCapacity(height)
        for y in 0..<height {
            var line = ""
            for x in 0..<width where !self[x, y].isContinuation { line.append(self[x, y].character) }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

/// A clipped, translated view of a surface: (0, 0) is the region's top-left corner and
/// nothing drawn through it lands outside `frame`. Panes only ever see a region.
public struct Region {
    public let surface: Surface
    public let frame: Rect

    public init(surface: Surface, frame: Rect) {
        self.surface = surface
        self.frame = frame.intersection(surface.bounds)
    }

    public var width: Int { frame.width }
    public var height: Int { frame.height }

    /// A sub-region in local coordinates.
    public func sub(_ rect: Rect) -> Region {
        Region(surface: surface, frame: Rect(x: frame.x + rect.x, y: frame.y + rect.y,
                                             width: rect.width, height: rect.height).intersection(frame))
    }

    public func set(_ x: Int, _ y: Int, _ character: Character, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        surface[frame.x + x, frame.y + y] = Cell(character, style)
    }

    public func style(at x: Int, _ y: Int) -> Style? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        return surface[frame.x + x, frame.y + y].style
    }

    /// Changes only the style of a cell (keeps its character).
    public func restyle(_ x: Int, _ y: Int, _ transform: (Style) -> Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        surface[frame.x + x, frame.y + y].style = transform(surface[frame.x + x, frame.y + y].style)
    }

    public func fill(_ style: Style, _ character: Character = " ") {
        for y in 0..<height { for x in 0..<width { set(x, y, character, style) } }
    }

    /// Draws text starting at (x, y), clipped at the region's right edge (or at `maxWidth`
    /// columns). Control characters become `·`. Returns the column after the last cell drawn.
    @discardableResult
    public func put(_ text: String, _ x: Int, _ y: Int, _ style: Style, maxWidth: Int? = nil) -> Int {
        let limit = min(width, maxWidth.map { x + $0 } ?? width)
        var col = x
        for ch in text {
            let w = DisplayWidth.of(ch)
            let shown: Character = (w == 0 && ch.unicodeScalars.first.map { $0.value < 0x20 || $0.value == 0x7F } == true) ? "·" : ch
            let cells = max(w, shown == ch ? w : 1)
            if cells == 0 { continue }
            if col + cells > limit { break }
            if col >= 0 {
                set(col, y, shown, style)
                if cells == 2 { set(col + 1, y, Cell.continuation, style) }
            }
            col += cells
        }
        return col
    }

    /// Text cut to `width` columns from the front (keeping its end, where options that tell
    /// two specs apart usually are), with an ellipsis when it does not fit.
    public static func truncateFront(_ text: String, to width: Int, ellipsis: String = "…") -> String {
        String(truncate(String(text.reversed()), to: width, ellipsis: ellipsis).reversed())
    }

    /// Text truncated to `width` columns with an ellipsis when it does not fit.
    public static func truncate(_ text: String, to width: Int, ellipsis: String = "…") -> String {
        guard width > 0 else { return "" }
        if DisplayWidth.of(text) <= width { return text }
        var out = ""
        var used = 0
        let budget = width - DisplayWidth.of(ellipsis)
        for ch in text {
            let w = DisplayWidth.of(ch)
            if used + w > budget { break }
            out.append(ch)
            used += w
        }
        return out + ellipsis
    }
}
