import Testing
@testable import Workbench

@Suite struct SurfaceTests {
    @Test func regionsClipAndTranslate() {
        let s = Surface(width: 10, height: 3)
        let r = s.region.sub(Rect(x: 2, y: 1, width: 4, height: 1))
        let end = r.put("abcdefgh", 0, 0, .plain)
        #expect(end == 4)
        r.put("zz", 0, 5, .plain)   // outside the region: dropped
        r.put("yy", -1, 0, .plain)  // starts left of the region: the visible part lands
        #expect(s.text() == "          \n  ybcd    \n          ")
    }

    @Test func wideCharactersTakeTwoCellsAndAreNotSplit() {
        let s = Surface(width: 5, height: 1)
        let end = s.region.put("日本語", 0, 0, .plain)
        #expect(end == 4, "the third character would not fit")
        #expect(s[1, 0].isContinuation)
        #expect(s.text() == "日本 ")
    }

    @Test func displayWidths() {
        #expect(DisplayWidth.of("a") == 1)
        #expect(DisplayWidth.of("é") == 1)
        #expect(DisplayWidth.of("日") == 2)
        #expect(DisplayWidth.of("😀") == 2)
        #expect(DisplayWidth.of("\u{301}") == 0)
        #expect(DisplayWidth.of("\n") == 0)
        #expect(DisplayWidth.of("ab日") == 4)
    }

    @Test func controlCharactersAreMadeVisible() {
        let s = Surface(width: 4, height: 1)
        s.region.put("a\u{7}b", 0, 0, .plain)
        #expect(s.text() == "a·b ")
        #expect(Format.visible("a\nb\tc", .unicodeSet) == "a↵b→c")
        #expect(Format.visible("", .unicodeSet) == "◦")
        #expect(Format.visible("x\n", .ascii) == "x$")
    }

    @Test func truncationKeepsWidth() {
        #expect(Region.truncate("hello world", to: 8) == "hello w…")
        #expect(Region.truncate("short", to: 8) == "short")
        #expect(Region.truncate("日本語です", to: 5) == "日本…")
        #expect(Region.truncate("abc", to: 0) == "")
        #expect(Region.truncateFront("mor threshold=0.50", to: 10) == "…hold=0.50")
        #expect(Region.truncateFront("short", to: 10) == "short")
    }

    @Test func barsAndShades() {
        let g = Glyphs.unicodeSet
        #expect(g.bar(1, width: 3) == "███")
        #expect(g.bar(0.5, width: 3) == "█▌")
        #expect(g.bar(0, width: 3) == "")
        #expect(g.bar(.nan, width: 3) == "")
        #expect(g.shade(0) == " ")
        #expect(g.shade(1) == "█")
    }

    @Test func numberFormats() {
        #expect(Format.grouped(1234567) == "1,234,567")
        #expect(Format.grouped(-1000) == "-1,000")
        #expect(Format.bytes(512) == "512 B")
        #expect(Format.bytes(1536) == "1.50 KiB")
        #expect(Format.bytes(20 * 1024 * 1024) == "20.0 MiB")
        #expect(Format.percent(0.3951) == "39.5%")
        #expect(Format.fixed(-0.0001, 2) == "0.00")
        #expect(Format.compact(1_234_567) == "1.2M")
    }
}
