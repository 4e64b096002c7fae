/// How many colours the terminal can show. Themes are written in RGB; the backend reduces
/// them to the mode it runs in.
public enum ColorMode: String, Sendable, CaseIterable {
    case truecolor
    case palette256 = "256"
    case palette16 = "16"
    case monochrome = "mono"

    /// Picks the mode: an explicit choice wins; `NO_COLOR` means monochrome; `COLORTERM`
    /// of `truecolor`/`24bit` means truecolor if the terminal description can send it;
    /// otherwise what the terminal description says it has.
    public static func detect(
        requested: ColorMode?, environment: [String: String], terminalColors: Int,
        directColorAvailable: Bool
    ) -> ColorMode {
        if let requested { return requested }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .monochrome }
        let colorterm = environment["COLORTERM"]?.lowercased() ?? ""
        if (colorterm == "truecolor" || colorterm == "24bit") && directColorAvailable { return .truecolor }
        if terminalColors >= 256 { return .palette256 }
        if terminalColors >= 8 { return .palette16 }
        return .monochrome
    }
}

/// Reduces RGB colours to terminal palettes.
public enum ColorQuantizer {
    /// xterm's 256-colour index: the nearer of the 6x6x6 cube and the 24-step grey ramp.
    public static func xterm256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        let levels = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for i in 1..<levels.count where abs(levels[i] - Int(v)) < abs(levels[best] - Int(v)) { best = i }
            return best
        }
        let (ri, gi, bi) = (nearestLevel(r), nearestLevel(g), nearestLevel(b))
        let cube = (levels[ri], levels[gi], levels[bi])
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = min(23, max(0, (average - 8 + 5) / 10))
        let grey = 8 + 10 * greyIndex
        let cubeDistance = distance((Int(r), Int(g), Int(b)), cube)
        let greyDistance = distance((Int(r), Int(g), Int(b)), (grey, grey, grey))
        return greyDistance < cubeDistance ? 232 + greyIndex : 16 + 36 * ri + 6 * gi + bi
    }

    /// The 16 ANSI colours as xterm draws them by default (index = ANSI colour number).
    public static let ansi16: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// Nearest of the 16 ANSI colours.
    public static func ansi16Index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        var best = 0
        var bestDistance = Int.max
        for (i, c) in ansi16.enumerated() {
            let d = distance((Int(r), Int(g), Int(b)), c)
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    /// Squared distance weighted roughly by how sensitive the eye is to each channel.
    private static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }
}
