import Testing
@testable import Workbench

@Suite struct LayoutTests {
    @Test func splitHonoursWeightsAndMinimums() {
        #expect(Layouts.split(10, [1, 1], minimum: 3) == [5, 5])
        #expect(Layouts.split(11, [1, 1], minimum: 3) == [6, 5])
        #expect(Layouts.split(22, [3, 4, 3], minimum: 3) == [7, 9, 6])
        #expect(Layouts.split(12, [1, 10], minimum: 4) == [4, 8])
        #expect(Layouts.split(5, [1, 1, 1], minimum: 3).reduce(0, +) == 5, "too small for minimums: still fills")
    }

    /// Every preset, with any set of panes and with compare on or off, tiles the body
    /// exactly: no overlap, no gap, every visible pane present once (stream twice in A/B).
    @Test func framesTileTheBodyExactly() {
        let sizes = [Rect(x: 0, y: 1, width: 80, height: 22), Rect(x: 0, y: 1, width: 56, height: 14),
                     Rect(x: 0, y: 1, width: 200, height: 60)]
        let subsets: [Set<PaneID>] = [Set(PaneID.allCases), [.stream], [.depth, .model], [.attention, .inspector, .throughput]]
        for area in sizes {
            for preset in Layouts.presets.indices {
                for visible in subsets {
                    for comparing in [false, true] {
                        let frames = Layouts.frames(preset: preset, visible: visible, comparing: comparing,
                                                    expanded: nil, in: area)
                        var covered = Array(repeating: 0, count: area.width * area.height)
                        for f in frames {
                            for y in f.rect.y..<f.rect.maxY { for x in f.rect.x..<f.rect.maxX {
                                covered[(y - area.y) * area.width + (x - area.x)] += 1
                            } }
                        }
                        #expect(covered.allSatisfy { $0 == 1 }, "preset \(preset) \(visible) compare \(comparing) \(area)")
                        let expected = visible.count + (comparing && visible.contains(.stream) ? 1 : 0)
                        #expect(frames.count == expected)
                        #expect(Set(frames.map(\.pane)) == visible)
                    }
                }
            }
        }
    }

    @Test func compareSplitsTheStreamIntoAAndB() {
        let frames = Layouts.frames(preset: 0, visible: Set(PaneID.allCases), comparing: true, expanded: nil,
                                    in: Rect(x: 0, y: 1, width: 80, height: 22))
        let streams = frames.filter { $0.pane == .stream }
        #expect(streams.map(\.side) == [.a, .b])
        #expect(streams[0].rect.maxY == streams[1].rect.y)
    }

    @Test func expandedPaneTakesEverything() {
        let area = Rect(x: 0, y: 1, width: 80, height: 22)
        #expect(Layouts.frames(preset: 0, visible: [.stream], comparing: false, expanded: .inspector, in: area)
            == [PaneFrame(pane: .inspector, side: nil, rect: area)])
        #expect(Layouts.frames(preset: 0, visible: [.stream], comparing: true, expanded: .stream, in: area).count == 2)
    }
}
