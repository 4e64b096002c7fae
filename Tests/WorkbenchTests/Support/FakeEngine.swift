import Foundation
import Engine
@testable import Workbench

/// A deterministic engine for tests: runs make no tokens on their own; the test hands
/// them out with `emit`, so every state the UI sees is reproducible. Tokens come from
/// `SyntheticTraces` with the architecture's threshold, so a swap visibly changes depths.
final class FakeEngine: WorkbenchEngine, @unchecked Sendable {
    private let lock = NSLock()
    private var _started: [(settings: RunSettings, paused: Bool, slot: RunSlot)] = []
    private var _runs: [FakeRun] = []
    let capabilities: EngineCapabilities
    /// Reported in each run's info, as a `--speed` live engine does.
    let paced: Double?

    /// Attention rows cover only this many newest keys, as after a context shift.
    let attentionWindow: Int?

    init(capabilities: EngineCapabilities = [.editPrompt, .sampling, .switchModel, .stepBack], paced: Double? = nil,
         attentionWindow: Int? = nil) {
        self.capabilities = capabilities
        self.paced = paced
        self.attentionWindow = attentionWindow
    }

    var started: [(settings: RunSettings, paused: Bool, slot: RunSlot)] {
        lock.lock(); defer { lock.unlock() }
        return _started
    }

    /// The newest run of a slot.
    func run(_ slot: RunSlot = .a) -> FakeRun? {
        lock.lock(); defer { lock.unlock() }
        return _runs.last(where: { $0.sink.slot == slot })
    }

    func models() -> [String] { ["shakespeare-mor", "shakespeare-vanilla"] }

    func architectures() -> [ArchitectureChoice] {
        [ArchitectureChoice(name: "mor", summary: "mixture of recursions", options: [RunOption("threshold", "0.5")]),
         ArchitectureChoice(name: "vanilla", summary: "full depth")]
    }

    static let defaultSettings = RunSettings(model: "shakespeare-mor", architecture: "mor threshold=0.5",
                                             prompt: SyntheticTraces.samplePrompt)

    func startRun(_ settings: RunSettings, paused: Bool, sink: RunSink) -> any EngineRun {
        let run = FakeRun(settings: settings, sink: sink, paced: paced, attentionWindow: attentionWindow)
        lock.lock()
        _started.append((settings, paused, sink.slot))
        _runs.append(run)
        lock.unlock()
        run.begin()
        return run
    }

    /// Hands out the next `count` tokens of the newest run in `slot`.
    func emit(_ count: Int, slot: RunSlot = .a) {
        run(slot)?.emit(count)
    }
}

final class FakeRun: EngineRun, @unchecked Sendable {
    let settings: RunSettings
    let sink: RunSink
    private let lock = NSLock()
    private var _calls: [String] = []
    private var shown = 0
    private var traces: [TokenTrace] = []
    private let paced: Double?

    private let attentionWindow: Int?

    init(settings: RunSettings, sink: RunSink, paced: Double? = nil, attentionWindow: Int? = nil) {
        self.settings = settings
        self.sink = sink
        self.paced = paced
        self.attentionWindow = attentionWindow
    }

    var calls: [String] {
        lock.lock(); defer { lock.unlock() }
        return _calls
    }

    func begin() {
        let spec: ArchitectureSpec
        do { spec = try ArchitectureSpec.parse(settings.architecture) } catch let e as EngineError {
            sink.post(.failed(e)); return
        } catch { return }
        guard spec.name == "mor" || spec.name == "vanilla" else {
            sink.post(.failed(EngineError("unknown architecture \"\(spec.name)\" (known: mor, vanilla)")))
            return
        }
        let threshold: Float = spec.name == "vanilla" ? 0 : Float(spec.value("threshold") ?? "0.5") ?? 0.5
        let offset = Int(settings.sampler.seed % 7)
        let text = SyntheticTraces.sampleText
        let continuation = String(text.dropFirst(offset) + text.prefix(offset))
        traces = Array(SyntheticTraces.make(prompt: settings.prompt, continuation: continuation, threshold: threshold,
                                                 attentionWindow: attentionWindow)
            .prefix(settings.prompt.count + settings.maxNewTokens))
        let options = spec.name == "vanilla" ? [] : [RunOption("threshold", Format.fixed(Double(threshold), 2))]
        let routing = spec.name == "vanilla" ? "full depth" : "expert-choice router · threshold " + Format.fixed(Double(threshold), 2)
        sink.post(.started(RunInfo(model: settings.model, architecture: spec.name, options: options, routing: routing,
                                   maxDepth: 4, details: [RunOption("parameters", "0.4M")],
                                   pacedTokensPerSecond: paced)))
    }

    func emit(_ count: Int) {
        for _ in 0..<count {
            lock.lock()
            guard shown < traces.count else { lock.unlock(); return }
            let t = traces[shown]
            shown += 1
            let done = shown == traces.count
            lock.unlock()
            sink.post(.token(t))
            if done { sink.post(.finished("end of text")) }
        }
    }

    private func record(_ call: String) {
        lock.lock(); _calls.append(call); lock.unlock()
    }

    func resume() { record("resume") }
    func pause() { record("pause") }
    func stepForward() { record("step"); emit(1) }
    func stepBack() {
        record("back")
        lock.lock()
        guard shown > 0 else { lock.unlock(); return }
        shown -= 1
        lock.unlock()
        sink.post(.retracted)
    }
    func stop() { record("stop") }
}
