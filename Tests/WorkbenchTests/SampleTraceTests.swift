import Foundation
import Testing
import Engine
@testable import Workbench

/// The committed sample traces (Tests/WorkbenchTests/Fixtures) that replay tests and the
/// end-to-end test play. They come from `SyntheticTraces`; with
/// DEPTHSCOPE_UPDATE_SNAPSHOTS=1 this test rewrites them.
@Suite struct SampleTraceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let samples: [(name: String, traces: [TokenTrace])] = [
        ("sample-mor", SyntheticTraces.make(threshold: 0.5)),
        ("sample-vanilla", SyntheticTraces.make(threshold: 0, criterion: "none")),
    ]

    static func path(_ name: String) -> String { directory.appendingPathComponent(name + ".jsonl").path }

    @Test func committedSamplesMatchTheirGenerator() throws {
        for sample in Self.samples {
            let path = Self.path(sample.name)
            if Snapshot.updating {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                try TraceFile.write(sample.traces, to: path)
            }
            let read = try TraceFile.read(path)
            #expect(read == sample.traces, "\(sample.name).jsonl is stale; regenerate with DEPTHSCOPE_UPDATE_SNAPSHOTS=1")
        }
    }
}
