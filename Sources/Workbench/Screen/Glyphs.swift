/// The characters the panes draw with: Unicode box drawing, blocks and braille when the
/// terminal's character set is UTF-8, plain ASCII otherwise (LANG=C, serial consoles).
public struct Glyphs: Sendable, Equatable {
    public var unicode: Bool
    public var horizontal: Character
    public var vertical: Character
    public var topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character
    /// Eight heights of a vertical bar, lowest first (the full block last).
    public var verticalEighths: [Character]
    /// Eight widths of a horizontal bar, narrowest first (the full block last).
    public var horizontalEighths: [Character]
    /// Upper half block: foreground paints the top half, background the bottom half.
    public var upperHalf: Character
    public var lowerHalf: Character
    /// Shades from empty to full, for heatmaps without colour.
    public var shades: [Character]
    public var newline: Character
    public var tab: Character
    public var emptyToken: Character
    public var skipped: Character
    public var exitMarker: Character
    public var cursorUp: Character
    public var ellipsis: String

    public static let unicodeSet = Glyphs(
        unicode: true, horizontal: "─", vertical: "│",
        topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯",
        verticalEighths: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        horizontalEighths: ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"],
        upperHalf: "▀", lowerHalf: "▄", shades: [" ", "░", "▒", "▓", "█"],
        newline: "↵", tab: "→", emptyToken: "◦", skipped: "·", exitMarker: "◆", cursorUp: "▲",
        ellipsis: "…")

    public static let ascii = Glyphs(
        unicode: false, horizontal: "-", vertical: "|",
        topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        verticalEighths: [".", ".", "-", "-", "=", "=", "#", "#"],
        horizontalEighths: ["-", "-", "-", "=", "=", "=", "#", "#"],
        upperHalf: "#", lowerHalf: "#", shades: [" ", ".", ":", "*", "#"],
        newline: "$", tab: ">", emptyToken: "_", skipped: ".", exitMarker: "x", cursorUp: "^",
        ellipsis: "~")

    /// A horizontal bar of `fraction` x `width` cells using eighth blocks.
    public func bar(_ fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let eighths = Int((f * Double(width) * 8).rounded())
        var out = String(repeating: horizontalEighths[7], count: eighths / 8)
        if eighths % 8 > 0 { out.append(horizontalEighths[eighths % 8 - 1]) }
        return out
    }

    /// A shade character for `value` in 0...1.
    public func shade(_ value: Double) -> Character {
        let v = value.isFinite ? min(max(value, 0), 1) : 0
        return shades[Int((v * Double(shades.count - 1)).rounded())]
    }
}
