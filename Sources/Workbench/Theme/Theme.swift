import Foundation
import Engine

/// Every colour a theme can set, with the dark default's value. A theme file that leaves
/// a key out falls back to this value; keys not listed here are ignored.
public enum ThemeKey: String, CaseIterable, Sendable {
    case mainBackground = "main_bg"
    case mainForeground = "main_fg"
    case title
    case hotkey = "hi_fg"
    case inactive = "inactive_fg"
    case graphText = "graph_text"
    case selectedBackground = "selected_bg"
    case selectedForeground = "selected_fg"
    case boxOutline = "box_outline"
    case focusOutline = "focus_outline"
    case promptBackground = "prompt_bg"
    case exitMarker = "exit_marker"
    case differenceBackground = "diff_bg"
    case error = "error_fg"
    case status = "status_fg"
    case meterBackground = "meter_bg"
    case topBarBackground = "topbar_bg"
    case topBarForeground = "topbar_fg"

    /// The built-in dark default (also what `themes/default.theme` spells out).
    public var fallback: TerminalColor {
        switch self {
        case .mainBackground: return .terminalDefault
        case .mainForeground: return .rgb(0xcc, 0xcc, 0xcc)
        case .title: return .rgb(0xee, 0xee, 0xee)
        case .hotkey: return .rgb(0xe0, 0xaf, 0x68)
        case .inactive: return .rgb(0x60, 0x66, 0x70)
        case .graphText: return .rgb(0x99, 0x99, 0x99)
        case .selectedBackground: return .rgb(0x3a, 0x4a, 0x6b)
        case .selectedForeground: return .rgb(0xff, 0xff, 0xff)
        case .boxOutline: return .rgb(0x4a, 0x50, 0x60)
        case .focusOutline: return .rgb(0x7a, 0xa2, 0xf7)
        case .promptBackground: return .rgb(0x22, 0x2a, 0x3a)
        case .exitMarker: return .rgb(0xff, 0x9e, 0x64)
        case .differenceBackground: return .rgb(0x6b, 0x1f, 0x3f)
        case .error: return .rgb(0xf7, 0x76, 0x8e)
        case .status: return .rgb(0x9e, 0xce, 0x6a)
        case .meterBackground: return .rgb(0x30, 0x30, 0x30)
        case .topBarBackground: return .rgb(0x1a, 0x1d, 0x26)
        case .topBarForeground: return .rgb(0xc0, 0xca, 0xf5)
        }
    }
}

/// The gradients a theme can set with `NAME_start`, `NAME_mid` (optional) and `NAME_end`.
public enum GradientKey: String, CaseIterable, Sendable {
    /// Token colour by depth (shallow to deep).
    case depth
    /// Attention weight (0 to max). The default is viridis: colour-blind safe.
    case attention
    /// Throughput sparkline (slow to fast).
    case throughput
    /// Probability bars (unlikely to likely).
    case probability

    public var fallback: Gradient {
        switch self {
        case .depth:
            return Gradient(start: .rgb(0x6c, 0x8c, 0xff), mid: .rgb(0xc3, 0xa6, 0xff), end: .rgb(0xff, 0xb4, 0x54))
        case .attention:
            return Gradient(start: .rgb(0x44, 0x01, 0x54), mid: .rgb(0x21, 0x91, 0x8c), end: .rgb(0xfd, 0xe7, 0x25))
        case .throughput:
            return Gradient(start: .rgb(0x5f, 0xaf, 0xd7), mid: .rgb(0x87, 0xd7, 0x87), end: .rgb(0xd7, 0xd7, 0x5f))
        case .probability:
            return Gradient(start: .rgb(0x3d, 0x59, 0xa1), mid: .rgb(0x7a, 0xa2, 0xf7), end: .rgb(0xbb, 0x9a, 0xf7))
        }
    }
}

/// A two- or three-stop colour gradient.
public struct Gradient: Equatable, Sendable {
    public var start: TerminalColor
    public var mid: TerminalColor?
    public var end: TerminalColor

    public init(start: TerminalColor, mid: TerminalColor? = nil, end: TerminalColor) {
        self.start = start
        self.mid = mid
        self.end = end
    }

    /// The colour at `t` in 0...1.
    public func color(at t: Double) -> TerminalColor {
        let t = t.isFinite ? min(max(t, 0), 1) : 0
        guard let mid else { return start.blended(with: end, t) }
        return t < 0.5 ? start.blended(with: mid, t * 2) : mid.blended(with: end, (t - 0.5) * 2)
    }
}

/// A colour theme in btop's file syntax: one `theme[key]="value"` per line, `#` comments.
/// Values are `#RRGGBB`, `#BW` (a grey, two hex digits), `"R G B"` (decimal), or empty for
/// the terminal's default colour.
public struct Theme: Equatable, Sendable {
    public var name: String
    /// Only what the file set; everything else falls back (see `ThemeKey.fallback`).
    public var colors: [String: TerminalColor]

    public init(name: String, colors: [String: TerminalColor] = [:]) {
        self.name = name
        self.colors = colors
    }

    /// The built-in dark default, used when no theme file is found.
    public static let builtIn = Theme(name: "default")

    public func color(_ key: ThemeKey) -> TerminalColor {
        colors[key.rawValue] ?? key.fallback
    }

    /// A gradient: the file's start/end (and mid, if given); a gradient the file does not
    /// mention at all is the default one.
    public func gradient(_ key: GradientKey) -> Gradient {
        let start = colors[key.rawValue + "_start"]
        let mid = colors[key.rawValue + "_mid"]
        let end = colors[key.rawValue + "_end"]
        if start == nil && mid == nil && end == nil { return key.fallback }
        return Gradient(start: start ?? key.fallback.start, mid: mid, end: end ?? key.fallback.end)
    }

    /// Every key a theme file may set.
    public static var knownKeys: Set<String> {
        var keys = Set(ThemeKey.allCases.map(\.rawValue))
        for g in GradientKey.allCases { for part in ["_start", "_mid", "_end"] { keys.insert(g.rawValue + part) } }
        return keys
    }

    /// Parses theme text; `source` names the file in error messages.
    public static func parse(_ text: String, name: String, source: String) throws -> Theme {
        var colors: [String: TerminalColor] = [:]
        let known = knownKeys
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let lineName = "\(source):\(index + 1)"
            guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else {
                throw EngineError("\(lineName): expected theme[key]=\"value\", found \(quoted(line))")
            }
            let key = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
            var rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("=") else {
                throw EngineError("\(lineName): expected = after theme[\(key)]")
            }
            rest = String(rest.dropFirst()).trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("\"") {
                guard rest.count >= 2, rest.hasSuffix("\"") else {
                    throw EngineError("\(lineName): theme[\(key)] value has an unclosed quote")
                }
                rest = String(rest.dropFirst().dropLast())
            }
            guard known.contains(key) else { continue }
            guard let color = parseColor(rest) else {
                throw EngineError(
                    "\(lineName): theme[\(key)] = \(quoted(rest)) is not a colour (use #RRGGBB, #BW, \"R G B\" or \"\")")
            }
            colors[key] = color
        }
        return Theme(name: name, colors: colors)
    }

    /// `#RRGGBB`, `#BW`, `R G B` or empty (terminal default); nil when malformed.
    public static func parseColor(_ value: String) -> TerminalColor? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if v.isEmpty { return .terminalDefault }
        if v.hasPrefix("#") {
            let hex = v.dropFirst()
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            if hex.count == 2, let grey = UInt8(hex, radix: 16) { return .rgb(grey, grey, grey) }
            guard hex.count == 6, let n = UInt32(hex, radix: 16) else { return nil }
            return .rgb(UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff))
        }
        let parts = v.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        let numbers = parts.compactMap { UInt8($0) }
        guard numbers.count == 3 else { return nil }
        return .rgb(numbers[0], numbers[1], numbers[2])
    }

    private static func quoted(_ s: String) -> String {
        "\"" + Region.truncate(s, to: 40) + "\""
    }
}

/// Finds theme files by name.
public struct ThemeLibrary: Sendable {
    /// Folders searched, in order.
    public var directories: [URL]

    public init(directories: [URL]) {
        self.directories = directories
    }

    /// `$DEPTHSCOPE_THEMES`, `./themes`, and a `themes` folder next to the executable or in
    /// any folder above it (so `.build/debug/depthscope` finds the repository's themes).
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeLibrary {
        var dirs: [URL] = []
        if let env = environment["DEPTHSCOPE_THEMES"], !env.isEmpty { dirs.append(URL(fileURLWithPath: env)) }
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("themes"))
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<6 {
            dirs.append(dir.appendingPathComponent("themes"))
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        var seen = Set<String>()
        return ThemeLibrary(directories: dirs.filter { seen.insert($0.standardizedFileURL.path).inserted })
    }

    /// Theme names available (file stems), sorted, always including "default".
    public func names() -> [String] {
        var names: Set<String> = ["default"]
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files where f.hasSuffix(".theme") { names.insert(String(f.dropLast(6))) }
        }
        return names.sorted()
    }

    /// Loads a theme by name or by path (anything with a `/` or ending in `.theme`).
    public func load(_ nameOrPath: String) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
            return try Self.loadFile(URL(fileURLWithPath: nameOrPath))
        }
        for dir in directories {
            let url = dir.appendingPathComponent(nameOrPath + ".theme")
            if FileManager.default.fileExists(atPath: url.path) { return try Self.loadFile(url) }
        }
        if nameOrPath == "default" { return .builtIn }
        throw EngineError("theme \"\(nameOrPath)\": not found (available: \(names().joined(separator: ", ")))")
    }

    public static func loadFile(_ url: URL) throws -> Theme {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EngineError("\(url.path): cannot read theme file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EngineError("\(url.path): theme file is not UTF-8 text")
        }
        return try Theme.parse(text, name: url.deletingPathExtension().lastPathComponent, source: url.path)
    }
}
