import Testing
@testable import Workbench

@Suite struct ColorTests {
    @Test func detectionFollowsRequestNoColorColortermAndTerminal() {
        func detect(_ env: [String: String], colors: Int, direct: Bool = false, requested: ColorMode? = nil) -> ColorMode {
            ColorMode.detect(requested: requested, environment: env, terminalColors: colors, directColorAvailable: direct)
        }
        #expect(detect([:], colors: 256) == .palette256)
        #expect(detect([:], colors: 8) == .palette16)
        #expect(detect([:], colors: 0) == .monochrome)
        #expect(detect(["COLORTERM": "truecolor"], colors: 256, direct: true) == .truecolor)
        #expect(detect(["COLORTERM": "24bit"], colors: 256, direct: true) == .truecolor)
        #expect(detect(["COLORTERM": "truecolor"], colors: 256, direct: false) == .palette256,
                "truecolor only where the terminal description can send it")
        #expect(detect(["NO_COLOR": "1", "COLORTERM": "truecolor"], colors: 256, direct: true) == .monochrome)
        #expect(detect(["NO_COLOR": "1"], colors: 256, requested: .palette16) == .palette16)
    }

    @Test func xterm256PicksCubeOrGreyRamp() {
        #expect(ColorQuantizer.xterm256(255, 0, 0) == 196)
        #expect(ColorQuantizer.xterm256(0, 0, 0) == 16)
        #expect(ColorQuantizer.xterm256(255, 255, 255) == 231)
        #expect(ColorQuantizer.xterm256(128, 128, 128) == 244)
        #expect(ColorQuantizer.xterm256(0x5f, 0x87, 0xd7) == 68)
        #expect(ColorQuantizer.xterm256(8, 8, 8) == 232)
    }

    @Test func ansi16PicksNearest() {
        #expect(ColorQuantizer.ansi16Index(205, 0, 0) == 1)
        #expect(ColorQuantizer.ansi16Index(250, 20, 20) == 9)
        #expect(ColorQuantizer.ansi16Index(10, 10, 10) == 0)
        #expect(ColorQuantizer.ansi16Index(240, 240, 240) == 7)
        #expect(ColorQuantizer.ansi16Index(250, 250, 250) == 15)
        #expect(ColorQuantizer.ansi16Index(0, 200, 210) == 6)
    }

    @Test func blendingAndLuminance() {
        #expect(TerminalColor.rgb(0, 0, 0).blended(with: .rgb(255, 255, 255), 0.5) == .rgb(128, 128, 128))
        #expect(TerminalColor.terminalDefault.blended(with: .rgb(1, 2, 3), 0.2) == .terminalDefault)
        #expect(TerminalColor.terminalDefault.blended(with: .rgb(1, 2, 3), 0.8) == .rgb(1, 2, 3))
        #expect(abs((TerminalColor.rgb(255, 255, 255).luminance ?? 0) - 1) < 1e-9)
        #expect(TerminalColor.terminalDefault.luminance == nil)
        #expect(TerminalColor.rgb(1, 0xab, 0xff).hex == "#01abff")
    }

    @Test func monochromePaletteCarriesMeaningInAttributes() {
        let p = Harness.palette(.monochrome)
        #expect(p.gradient(.depth, 0).attributes.contains(.dim))
        #expect(p.gradient(.depth, 1).attributes.contains(.bold))
        #expect(p.selected.attributes.contains(.reverse))
        #expect(p.prompt(p.base).attributes.contains(.underline))
        #expect(p.difference(p.base).attributes.contains(.underline))
        let colour = Harness.palette(.truecolor)
        #expect(!colour.prompt(colour.base).attributes.contains(.underline))
        #expect(colour.prompt(colour.base).background == ThemeKey.promptBackground.fallback)
    }

    @Test func heatTextStaysReadable() {
        let p = Harness.palette()
        // Viridis is dark at the bottom and bright at the top: text flips from white to black.
        #expect(p.heat(.attention, 0).foreground == .rgb(255, 255, 255))
        #expect(p.heat(.attention, 1).foreground == .rgb(0, 0, 0))
    }
}
