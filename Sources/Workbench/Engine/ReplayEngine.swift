import Foundation
import Engine

/// `depthscope replay`: plays saved trace files in the workbench as if they were being
/// generated, at a fixed pace, so a demo never depends on the machine's speed. Space
/// pauses, `n` steps forward and `N` steps back. Each file is one recording, offered as an
/// architecture named after the file, so `:arch NAME` switches recordings and A/B
/// compare puts two of them side by side.
public final class ReplayEngine: WorkbenchEngine {
    public struct Recording: Sendable {
        public var name: String
        public var path: String
        public var traces: [TokenTrace]

        public init(name: String, path: String, traces: [TokenTrace]) {
            self.name = name
            self.path = path
            self.traces = traces
        }
    }

    public let recordings: [Recording]
    /// Generated tokens per second while playing (prompt tokens appear at once).
    public let tokensPerSecond: Double

    public init(recordings: [Recording], tokensPerSecond: Double) {
        self.recordings = recordings
        self.tokensPerSecond = tokensPerSecond
    }

    /// Reads trace files; recordings are named by file name without `.jsonl`, made unique.
    public static func load(paths: [String], tokensPerSecond: Double) throws -> ReplayEngine {
        guard !paths.isEmpty else { throw EngineError("replay: no trace file given") }
        guard tokensPerSecond.isFinite, tokensPerSecond > 0 else {
            throw EngineError("replay: --speed \(tokensPerSecond) must be a positive number of tokens per second")
        }
        var recordings: [Recording] = []
        for path in paths {
            let traces = try TraceFile.read(path)
            var name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            if recordings.contains(where: { $0.name == name }) { name += "-\(recordings.count + 1)" }
            recordings.append(Recording(name: name, path: path, traces: traces))
        }
        return ReplayEngine(recordings: recordings, tokensPerSecond: tokensPerSecond)
    }

    public var capabilities: EngineCapabilities { [.stepBack] }

    public func models() -> [String] { [] }

    public func architectures() -> [ArchitectureChoice] {
        recordings.map {
            ArchitectureChoice(name: $0.name, summary: "recording \($0.path) · \($0.traces.count) tokens")
        }
    }

    /// Settings the workbench should open with to show the first recording.
    public var initialSettings: RunSettings {
        RunSettings(model: "replay", architecture: recordings.first?.name ?? "", prompt: promptText(recordings.first))
    }

    public func startRun(_ settings: RunSettings, paused: Bool, sink: RunSink) -> any EngineRun {
        let gate = RunGate(paused: paused)
        let interval = 1 / tokensPerSecond
        let recording: Recording
        do {
            recording = try pick(settings.architecture)
        } catch let error as EngineError {
            sink.post(.failed(error))
            gate.stop()
            return gate
        } catch {
            sink.post(.failed(EngineError("replay: \(error)")))
            gate.stop()
            return gate
        }
        let info = Self.describe(recording)
        let thread = Thread {
            let traces = recording.traces
            sink.post(.started(info))
            var shown = 0
            // Prompt tokens appear at once, as a live engine's prefill would.
            while shown < traces.count, traces[shown].isPrompt {
                sink.post(.token(traces[shown]))
                shown += 1
            }
            if shown == traces.count { sink.post(.finished("end of trace")); gate.pauseFromRun() }
            while let move = gate.next(interval: interval) {
                switch move {
                case .forward:
                    guard shown < traces.count else { gate.pauseFromRun(); continue }
                    sink.post(.token(traces[shown]))
                    shown += 1
                    if shown == traces.count {
                        sink.post(.finished("end of trace"))
                        gate.pauseFromRun()
                    }
                case .back:
                    guard shown > 0 else { continue }
                    shown -= 1
                    sink.post(.retracted)
                }
            }
        }
        thread.name = "depthscope replay \(sink.slot.label)"
        thread.start()
        return gate
    }

    private func pick(_ spec: String) throws -> Recording {
        let parsed = try ArchitectureSpec.parse(spec)
        guard let recording = recordings.first(where: { $0.name == parsed.name }) else {
            throw EngineError("replay: no recording named \"\(parsed.name)\" (have: \(recordings.map(\.name).joined(separator: ", ")))")
        }
        if let option = parsed.options.first {
            throw EngineError("replay: \"\(option.key)=\(option.value)\": a saved trace cannot change its options; record another trace")
        }
        return recording
    }

    private func promptText(_ recording: Recording?) -> String {
        (recording?.traces ?? []).filter(\.isPrompt).map(\.text).joined()
    }

    /// What can be said about a recording from its tokens alone.
    static func describe(_ recording: Recording) -> RunInfo {
        let traces = recording.traces
        let maxDepth = traces.map(\.exit.maxSteps).max() ?? 0
        let generated = traces.filter { !$0.isPrompt }
        let deciding = generated.first(where: { $0.exit.reason != .fullDepth }) ?? generated.first ?? traces.first
        var routing = "full depth"
        if let exit = deciding?.exit, exit.reason != .fullDepth {
            routing = exit.criterion ?? exit.reason.rawValue
            if let threshold = exit.threshold { routing += " · threshold " + String(format: "%.2f", threshold) }
        }
        return RunInfo(
            model: "replay", architecture: recording.name,
            options: [], routing: routing, maxDepth: maxDepth,
            details: [RunOption("file", recording.path),
                      RunOption("tokens", "\(traces.count) (\(traces.count - generated.count) prompt)")])
    }
}
