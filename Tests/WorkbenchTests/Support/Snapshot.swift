import Foundation
import Testing
@testable import Workbench

/// Golden snapshots of rendered screens: the characters, then a map with one letter per
/// distinct style, then what each letter means. Files live in Tests/WorkbenchTests/Snapshots.
/// To (re)write them after an intended change, run
///
///     DEPTHSCOPE_UPDATE_SNAPSHOTS=1 swift test --filter WorkbenchTests
///
/// and review the diff before committing.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Snapshots")

    static var updating: Bool { ProcessInfo.processInfo.environment["DEPTHSCOPE_UPDATE_SNAPSHOTS"] == "1" }

    static func describe(_ surface: Surface) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&*+=@^~")
        var styles: [Style] = []
        var map: [String] = []
        for y in 0..<surface.height {
            var row = ""
            for x in 0..<surface.width where !surface[x, y].isContinuation {
                let style = surface[x, y].style
                var index = styles.firstIndex(of: style)
                if index == nil { styles.append(style); index = styles.count - 1 }
                row.append(index.map { $0 < letters.count ? letters[$0] : "?" } ?? "?")
            }
            map.append(row)
        }
        var legend: [String] = []
        for (i, s) in styles.enumerated() {
            let attrs = s.attributes.names.joined(separator: " ")
            legend.append("\(i < letters.count ? letters[i] : "?"): fg \(s.foreground.hex) bg \(s.background.hex)"
                + (attrs.isEmpty ? "" : " " + attrs))
        }
        return surface.text() + "\n--- styles\n" + map.joined(separator: "\n") + "\n--- legend\n"
            + legend.joined(separator: "\n") + "\n"
    }

    static func check(_ surface: Surface, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = describe(surface)
        let url = directory.appendingPathComponent(name + ".txt")
        if updating {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("no snapshot \(name).txt; run with DEPTHSCOPE_UPDATE_SNAPSHOTS=1 to record it",
                         sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(e, a).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? min(e.count, a.count)
            let want = line < e.count ? String(e[line]) : "<end>"
            let got = line < a.count ? String(a[line]) : "<end>"
            Issue.record("snapshot \(name) differs at line \(line + 1)\n  expected: \(want)\n  actual:   \(got)",
                         sourceLocation: sourceLocation)
        }
    }
}

/// Builds workbenches on the fake engine with fixed settings, theme and glyphs.
enum Harness {
    static func palette(_ mode: ColorMode = .truecolor, glyphs: Glyphs = .unicodeSet, theme: Theme = .builtIn) -> Palette {
        Palette(theme: theme, mode: mode, glyphs: glyphs)
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static var themes: ThemeLibrary {
        ThemeLibrary(directories: [repositoryRoot.appendingPathComponent("themes")])
    }

    static func workbench(engine: FakeEngine = FakeEngine(), options: WorkbenchOptions = WorkbenchOptions(),
                          palette: Palette = palette(), settings: RunSettings = FakeEngine.defaultSettings) -> Workbench {
        let bench = Workbench(engine: engine, settings: settings, options: options, palette: palette, themes: themes)
        bench.start()
        bench.pump()
        return bench
    }

    static func press(_ bench: Workbench, _ keys: [InputEvent]) {
        for k in keys {
            bench.handle(k)
            bench.pump()
        }
    }

    static func type(_ bench: Workbench, _ text: String) { press(bench, Key.typed(text)) }

    static func screen(_ bench: Workbench, width: Int = 80, height: Int = 24) -> Surface {
        let surface = Surface(width: width, height: height)
        bench.render(into: surface)
        return surface
    }
}
