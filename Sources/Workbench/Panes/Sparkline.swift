/// A small graph of recent values, drawn with braille dots (2 values and 4 levels per
/// cell), eighth blocks (1 value and 8 levels per cell) or plain ASCII.
enum Sparkline {
    static func draw(_ values: [Double], style: SparklineStyle, gradient: GradientKey, palette p: Palette,
                     in region: Region) {
        guard region.width > 0, region.height > 0, !values.isEmpty else { return }
        let style = (style != .ascii && !p.glyphs.unicode) ? .ascii : style
        let perCell = style == .braille ? 2 : 1
        let shown = Array(values.suffix(region.width * perCell))
        let finite = shown.map { $0.isFinite ? $0 : 0 }
        let peak = max(finite.max() ?? 0, 1e-9)
        let h = region.height
        let columns = (shown.count + perCell - 1) / perCell
        let offset = region.width - columns

        for c in 0..<columns {
            let group = finite[(c * perCell)..<min(finite.count, (c + 1) * perCell)]
            let level = (group.max() ?? 0) / peak
            let color = p.gradient(gradient, level)
            for row in 0..<h {
                let fromBottom = h - 1 - row
                switch style {
                case .braille:
                    // Dots fill from the bottom; left column bits then right column bits.
                    let leftBits: [UInt32] = [0x40, 0x04, 0x02, 0x01]
                    let rightBits: [UInt32] = [0x80, 0x20, 0x10, 0x08]
                    var bits: UInt32 = 0
                    for (side, v) in group.enumerated() {
                        let dots = Format.whole(v / peak * Double(h * 4))
                        let here = min(4, max(0, dots - fromBottom * 4))
                        for d in 0..<here { bits |= side == 0 ? leftBits[d] : rightBits[d] }
                    }
                    if bits != 0, let scalar = Unicode.Scalar(0x2800 + bits) {
                        region.set(offset + c, row, Character(scalar), color)
                    }
                case .block:
                    let eighths = Format.whole(level * Double(h * 8)) - fromBottom * 8
                    if eighths >= 8 {
                        region.set(offset + c, row, p.glyphs.verticalEighths[7], color)
                    } else if eighths > 0 {
                        region.set(offset + c, row, p.glyphs.verticalEighths[eighths - 1], color)
                    }
                case .ascii:
                    let halves = Format.whole(level * Double(h * 2)) - fromBottom * 2
                    if halves >= 2 { region.set(offset + c, row, "|", color) } else if halves == 1 { region.set(offset + c, row, ".", color) }
                }
            }
        }
    }
}
