import Foundation
import Testing
import Engine
@testable import Workbench

@Suite struct ThemeTests {
    @Test func parsesEveryColourForm() throws {
        let theme = try Theme.parse("""
            # comment
            theme[main_fg]="#a1b2c3"
            theme[title]="#7f"
              theme[hi_fg] = "10 20 30"
            theme[main_bg]=""
            theme[graph_text]=#102030
            """, name: "t", source: "t.theme")
        #expect(theme.color(.mainForeground) == .rgb(0xa1, 0xb2, 0xc3))
        #expect(theme.color(.title) == .rgb(0x7f, 0x7f, 0x7f))
        #expect(theme.color(.hotkey) == .rgb(10, 20, 30))
        #expect(theme.color(.mainBackground) == .terminalDefault)
        #expect(theme.color(.graphText) == .rgb(0x10, 0x20, 0x30))
    }

    @Test func unknownKeysAreIgnoredAndMissingKeysFallBack() throws {
        let theme = try Theme.parse("theme[cpu_box]=\"#ff0000\"\ntheme[title]=\"#00ff00\"\n", name: "t", source: "t.theme")
        #expect(theme.colors.keys.sorted() == ["title"])
        #expect(theme.color(.title) == .rgb(0, 0xff, 0))
        #expect(theme.color(.mainForeground) == ThemeKey.mainForeground.fallback)
        #expect(theme.gradient(.depth) == GradientKey.depth.fallback)
    }

    @Test func gradientWithoutMidIsAStraightBlend() throws {
        let theme = try Theme.parse("theme[depth_start]=\"#000000\"\ntheme[depth_end]=\"#ffffff\"", name: "t", source: "t")
        let g = theme.gradient(.depth)
        #expect(g.mid == nil)
        #expect(g.color(at: 0) == .rgb(0, 0, 0))
        #expect(g.color(at: 0.5) == .rgb(128, 128, 128))
        #expect(g.color(at: 1) == .rgb(255, 255, 255))
        // Only a start: the end falls back to the default gradient's end.
        let partial = try Theme.parse("theme[attention_start]=\"#000000\"", name: "t", source: "t").gradient(.attention)
        #expect(partial.start == .rgb(0, 0, 0))
        #expect(partial.end == GradientKey.attention.fallback.end)
    }

    @Test func threeStopGradientPassesThroughMid() {
        let g = Gradient(start: .rgb(0, 0, 0), mid: .rgb(200, 0, 0), end: .rgb(200, 200, 0))
        #expect(g.color(at: 0.5) == .rgb(200, 0, 0))
        #expect(g.color(at: 0.25) == .rgb(100, 0, 0))
        #expect(g.color(at: 0.75) == .rgb(200, 100, 0))
        #expect(g.color(at: -3) == .rgb(0, 0, 0))
        #expect(g.color(at: .nan) == .rgb(0, 0, 0))
    }

    @Test func malformedLinesNameFileAndLine() {
        let cases: [(String, String)] = [
            ("theme[title]=\"#12345\"", "bad.theme:1: theme[title] = \"#12345\" is not a colour"),
            ("\n\ntheme[title]=\"300 0 0\"", "bad.theme:3: theme[title] = \"300 0 0\" is not a colour"),
            ("color = red", "bad.theme:1: expected theme[key]=\"value\""),
            ("theme[title] \"#fff\"", "bad.theme:1: expected = after theme[title]"),
            ("theme[title]=\"#ffffff", "bad.theme:1: theme[title] value has an unclosed quote"),
        ]
        for (text, message) in cases {
            do {
                _ = try Theme.parse(text, name: "bad", source: "bad.theme")
                Issue.record("expected an error for \(text)")
            } catch let error as EngineError {
                #expect(error.message.hasPrefix(message), "\(error.message)")
                #expect(!error.message.contains("\n"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func shippedThemesParseAndDefaultMatchesBuiltIn() throws {
        let library = Harness.themes
        let names = library.names()
        for required in ["default", "light", "colorblind", "ansi16", "gruvbox"] {
            #expect(names.contains(required))
            _ = try library.load(required)
        }
        // themes/default.theme spells out the built-in fallback: they must not drift apart.
        let file = try library.load("default")
        for key in ThemeKey.allCases { #expect(file.color(key) == key.fallback, "\(key.rawValue)") }
        for key in GradientKey.allCases { #expect(file.gradient(key) == key.fallback, "\(key.rawValue)") }
        // Every shipped theme sets every key, so none silently inherits the dark default.
        for name in names {
            let theme = try library.load(name)
            #expect(Set(theme.colors.keys) == Theme.knownKeys, "\(name) leaves keys out")
        }
    }

    @Test func ansi16ThemeUsesOnlyTheSixteenColours() throws {
        let theme = try Harness.themes.load("ansi16")
        for (key, color) in theme.colors {
            guard case let .rgb(r, g, b) = color else { continue }
            let index = ColorQuantizer.ansi16Index(r, g, b)
            let exact = ColorQuantizer.ansi16[index]
            #expect(exact == (Int(r), Int(g), Int(b)), "\(key) \(color.hex) is not an ANSI colour")
        }
    }

    @Test func unknownThemeAndMissingFileAreOneLineErrors() {
        #expect(throws: EngineError.self) { try Harness.themes.load("no-such-theme") }
        do {
            _ = try Harness.themes.load("/nonexistent/x.theme")
        } catch let error as EngineError {
            #expect(error.message == "/nonexistent/x.theme: cannot read theme file")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func builtInDefaultWorksWithoutThemeFiles() throws {
        let empty = ThemeLibrary(directories: [])
        #expect(try empty.load("default") == .builtIn)
        #expect(empty.names() == ["default"])
    }
}
