/// Where the last frame put things, for mouse hits and line-wise cursor moves.
struct FrameMap {
    struct TokenHit {
        var rect: Rect
        var index: Int
    }

    var panes: [PaneFrame] = []
    var tokens: [TokenHit] = []
    /// The stream layout of run A as last drawn (for moving the cursor by lines).
    var stream: StreamLayout?
}

/// What a pane needs to draw itself.
struct PaneContext {
    let state: WorkbenchState
    let palette: Palette
    let layouts: LayoutCache
    let focused: Bool
    var glyphs: Glyphs { palette.glyphs }
}

/// Draws btop-style boxes: rounded border, numbered title, optional text on the right of
/// the top edge. Returns the inner region.
enum Box {
    static func draw(_ region: Region, number: Int?, title: String, info: String = "", focused: Bool,
                     palette: Palette) -> Region {
        let g = palette.glyphs
        let line = palette.outline(focused: focused)
        let w = region.width, h = region.height
        guard w >= 2, h >= 2 else { return region.sub(Rect(x: 0, y: 0, width: 0, height: 0)) }
        for x in 1..<(w - 1) {
            region.set(x, 0, g.horizontal, line)
            region.set(x, h - 1, g.horizontal, line)
        }
        for y in 1..<(h - 1) {
            region.set(0, y, g.vertical, line)
            region.set(w - 1, y, g.vertical, line)
        }
        region.set(0, 0, g.topLeft, line)
        region.set(w - 1, 0, g.topRight, line)
        region.set(0, h - 1, g.bottomLeft, line)
        region.set(w - 1, h - 1, g.bottomRight, line)
        var x = 2
        if let number, w > 6 {
            x = region.put(String(number), x, 0, palette.hotkey)
        }
        let titleStyle = focused ? palette.title.adding(.underline) : palette.title
        x = region.put((number == nil ? "" : " ") + title, x, 0, titleStyle, maxWidth: max(0, w - x - 2))
        let room = w - x - 4
        if !info.isEmpty, room > 3 {
            let text = Region.truncate(info, to: room, ellipsis: g.ellipsis)
            region.put(text, w - 2 - DisplayWidth.of(text), 0, palette.graphText)
        }
        return region.sub(Rect(x: 1, y: 1, width: w - 2, height: h - 2))
    }
}

/// Small text helpers shared by panes.
enum Format {
    /// A whole number of cells or units from a measurement that may be NaN or infinite
    /// (a corrupt trace must not trap): non-finite becomes 0, the rest is clamped.
    static func whole(_ v: Double) -> Int {
        v.isFinite ? Int(min(max(v, -1e12), 1e12).rounded()) : 0
    }

    /// A token's text made visible on one line: newline, tab and controls as glyphs.
    static func visible(_ text: String, _ g: Glyphs) -> String {
        if text.isEmpty { return String(g.emptyToken) }
        var out = ""
        for ch in text {
            switch ch {
            case "\n", "\r\n": out.append(g.newline)
            case "\t": out.append(g.tab)
            case " ": out.append(" ")
            default:
                if let v = ch.unicodeScalars.first?.value, v < 0x20 || v == 0x7F { out.append("·") } else { out.append(ch) }
            }
        }
        return out
    }

    /// A token quoted for lists: `'e'`, `' '`, `'↵'`.
    static func quoted(_ text: String, _ g: Glyphs) -> String { "'" + visible(text, g) + "'" }

    static func percent(_ v: Double, digits: Int = 1) -> String {
        guard v.isFinite else { return "–" }
        return fixed(v * 100, digits) + "%"
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "–" }
        var s = String(format: "%.\(digits)f", v)
        if s == "-0" || s.hasPrefix("-0.") && Double(s) == 0 { s.removeFirst() }
        return s
    }

    static func float(_ v: Float?, _ digits: Int = 2) -> String {
        guard let v else { return "–" }
        return fixed(Double(v), digits)
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ v: Int) -> String {
        let s = String(abs(v))
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (v < 0 ? "-" : "") + out
    }

    static func bytes(_ v: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(v)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(v) B" : fixed(value, value < 10 ? 2 : 1) + " " + units[unit]
    }

    /// Large counts with a suffix: 1.2M, 350k.
    static func compact(_ v: Double) -> String {
        guard v.isFinite else { return "–" }
        if v >= 1e9 { return fixed(v / 1e9, 1) + "G" }
        if v >= 1e6 { return fixed(v / 1e6, 1) + "M" }
        if v >= 1e4 { return fixed(v / 1e3, 0) + "k" }
        return fixed(v, v < 10 ? 1 : 0)
    }
}
