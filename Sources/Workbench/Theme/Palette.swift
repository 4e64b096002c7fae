/// A theme resolved for one colour mode: the styles panes draw with, by meaning. Where the
/// terminal has too few colours, attributes (bold, dim, underline, reverse) carry the
/// meaning instead, so nothing depends on colour alone.
public struct Palette: Sendable {
    public let theme: Theme
    public let mode: ColorMode
    public let glyphs: Glyphs

    public init(theme: Theme, mode: ColorMode, glyphs: Glyphs) {
        self.theme = theme
        self.mode = mode
        self.glyphs = glyphs
    }

    private var fewColors: Bool { mode == .monochrome || mode == .palette16 }

    public func color(_ key: ThemeKey) -> TerminalColor { theme.color(key) }

    /// Plain text on the main background.
    public var base: Style {
        Style(foreground: color(.mainForeground), background: color(.mainBackground))
    }

    /// Text in a theme colour on the main background.
    public func text(_ key: ThemeKey, _ attributes: TextAttributes = []) -> Style {
        base.with(foreground: color(key)).adding(attributes)
    }

    public var title: Style { text(.title, .bold) }
    public var hotkey: Style { text(.hotkey, .bold) }
    public var inactive: Style { text(.inactive, mode == .monochrome ? .dim : []) }
    public var graphText: Style { text(.graphText) }
    public var error: Style { text(.error, .bold) }
    public var status: Style { text(.status) }
    public var exitMarker: Style { text(.exitMarker, .bold) }
    public func outline(focused: Bool) -> Style {
        focused ? text(.focusOutline, .bold) : text(.boxOutline, mode == .monochrome ? .dim : [])
    }
    public var topBar: Style {
        Style(foreground: color(.topBarForeground), background: color(.topBarBackground),
              attributes: mode == .monochrome ? .reverse : [])
    }

    /// The selected token or list row.
    public var selected: Style {
        Style(foreground: color(.selectedForeground), background: color(.selectedBackground),
              attributes: mode == .monochrome ? [.reverse, .bold] : [.bold])
    }

    /// Marks a style as belonging to the prompt: its own background, and underline where
    /// the background may not show.
    public func prompt(_ style: Style) -> Style {
        var s = style.with(background: color(.promptBackground))
        if fewColors { s.attributes.insert(.underline) }
        return s
    }

    /// Marks a difference between the A and B runs.
    public func difference(_ style: Style) -> Style {
        var s = style.with(background: color(.differenceBackground))
        s.attributes.insert(fewColors ? [.underline, .bold] : [.underline])
        return s
    }

    /// Text coloured along a gradient; in monochrome, dim / normal / bold by thirds.
    public func gradient(_ key: GradientKey, _ t: Double) -> Style {
        var s = base.with(foreground: theme.gradient(key).color(at: t))
        if mode == .monochrome { s.attributes.insert(t >= 0.67 ? .bold : (t < 0.34 ? .dim : [])) }
        return s
    }

    /// A cell whose background shows a gradient value, with readable text on top.
    public func heat(_ key: GradientKey, _ t: Double) -> Style {
        let bg = theme.gradient(key).color(at: t)
        let fg: TerminalColor = (bg.luminance ?? 0) > 0.5 ? .rgb(0, 0, 0) : .rgb(0xff, 0xff, 0xff)
        var s = Style(foreground: fg, background: bg)
        if mode == .monochrome { s.attributes.insert(t >= 0.5 ? .reverse : []) }
        return s
    }

    /// An upper-half-block cell: the top half shows `top`, the bottom half `bottom`.
    public func halfBlock(_ key: GradientKey, top: Double, bottom: Double) -> Style {
        let g = theme.gradient(key)
        return Style(foreground: g.color(at: top), background: g.color(at: bottom))
    }

    /// Whether heatmaps can use colour (else they use shade characters).
    public var hasColor: Bool { mode != .monochrome }
}
