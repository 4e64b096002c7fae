import Foundation
import Testing
import Engine
@testable import Workbench

/// The recorded traces in traces/ that `depthscope replay` demos and the replay tests play:
/// real output of the shipped models, recorded with `depthscope generate --trace` (the
/// commands are in traces/README.md and below). The test records them again with the
/// built binary and checks that the committed files still say what the engine does.
@Suite struct RecordedTraceTests {
    static let directory = Harness.repositoryRoot.appendingPathComponent("traces")

    /// File name (without .jsonl), model, tokens generated; prompt "ROMEO:\n", seed 42, temperature 0.8.
    static let recordings: [(name: String, model: String, tokens: Int)] = [
        ("shakespeare-mor", "shakespeare-mor", 44),
        ("shakespeare-vanilla", "shakespeare-vanilla", 24),
    ]
    static let prompt = "ROMEO:\n"

    static func path(_ name: String) -> String { directory.appendingPathComponent(name + ".jsonl").path }

    /// What must not change when a trace is recorded again (times and float rounding may).
    struct Shape: Equatable {
        var id: Int, text: String, isPrompt: Bool, depth: Int, exit: String, layers: [Int]
        init(_ t: TokenTrace) {
            id = t.id
            text = t.text
            isPrompt = t.isPrompt
            depth = t.depth
            exit = t.exit.reason.rawValue
            layers = t.steps.map(\.layer)
        }
    }

    @Test func committedTracesAreWhatTheEngineRecords() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("depthscope-traces-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for r in Self.recordings {
            let fresh = scratch.appendingPathComponent(r.name + ".jsonl").path
            let result = Tmux.spawn([Tmux.binary, "generate", "--model", r.model, "--prompt", Self.prompt, "--seed", "42",
                                     "--temperature", "0.8", "-n", String(r.tokens), "--trace", fresh], capture: false)
            #expect(result.status == 0, "depthscope generate for \(r.name)")
            let committed = try TraceFile.read(Self.path(r.name))
            let recorded = try TraceFile.read(fresh)
            #expect(committed.map(Shape.init) == recorded.map(Shape.init),
                    "traces/\(r.name).jsonl is stale; record it again (traces/README.md)")
            #expect(committed.filter { !$0.isPrompt }.count == r.tokens)
            // Every field a pane shows is there.
            #expect(committed.allSatisfy { $0.steps.allSatisfy { $0.attention != nil && $0.lens != nil } })
            // Small enough to keep in the repository.
            let bytes = try FileManager.default.attributesOfItem(atPath: Self.path(r.name))[.size] as? Int ?? .max
            #expect(bytes < 500_000, "traces/\(r.name).jsonl is \(bytes) bytes")
        }
    }
}
