/// A colour as themes describe it: the terminal's own default, or 24-bit RGB. Backends
/// reduce RGB to what the terminal can show (256, 16 or no colours).
public enum TerminalColor: Hashable, Sendable {
    case terminalDefault
    case rgb(UInt8, UInt8, UInt8)

    /// Linear blend from `self` (t = 0) to `other` (t = 1). The terminal default has no
    /// RGB value, so a blend that involves it snaps to whichever end is nearer.
    public func blended(with other: TerminalColor, _ t: Double) -> TerminalColor {
        let t = min(max(t, 0), 1)
        guard case let .rgb(r0, g0, b0) = self, case let .rgb(r1, g1, b1) = other else {
            return t < 0.5 ? self : other
        }
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded())
        }
        return .rgb(mix(r0, r1), mix(g0, g1), mix(b0, b1))
    }

    /// Relative luminance in 0...1 (nil for the terminal default).
    public var luminance: Double? {
        guard case let .rgb(r, g, b) = self else { return nil }
        return (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255
    }

    /// `#rrggbb`, or `default`.
    public var hex: String {
        guard case let .rgb(r, g, b) = self else { return "default" }
        func h(_ v: UInt8) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        return "#" + h(r) + h(g) + h(b)
    }
}

/// Text attributes. In monochrome they carry all the meaning colours would.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = TextAttributes(rawValue: 1 << 0)
    public static let dim = TextAttributes(rawValue: 1 << 1)
    public static let underline = TextAttributes(rawValue: 1 << 2)
    public static let reverse = TextAttributes(rawValue: 1 << 3)
    public static let italic = TextAttributes(rawValue: 1 << 4)

    /// Short names, for snapshots and debugging.
    public var names: [String] {
        var out: [String] = []
        if contains(.bold) { out.append("bold") }
        if contains(.dim) { out.append("dim") }
        if contains(.underline) { out.append("underline") }
        if contains(.reverse) { out.append("reverse") }
        if contains(.italic) { out.append("italic") }
        return out
    }
}

/// How one cell looks.
public struct Style: Hashable, Sendable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var attributes: TextAttributes

    public init(
        foreground: TerminalColor = .terminalDefault, background: TerminalColor = .terminalDefault,
        attributes: TextAttributes = []
    ) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = Style()

    public func with(foreground: TerminalColor) -> Style {
        var s = self; s.foreground = foreground; return s
    }
    public func with(background: TerminalColor) -> Style {
        var s = self; s.background = background; return s
    }
    public func adding(_ attributes: TextAttributes) -> Style {
        var s = self; s.attributes.formUnion(attributes); return s
    }
}
