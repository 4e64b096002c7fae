import Foundation
import Testing
import Engine
@testable import Workbench

extension RunSettings {
    func with(_ change: (inout RunSettings) -> Void) -> RunSettings {
        var copy = self
        change(&copy)
        return copy
    }
}

/// `LiveEngine` on the shipped `shakespeare-mor` checkpoint (models/), with real threads:
/// what its runs post through their sinks, and how they obey the run controls.
@Suite struct LiveEngineTests {
    static let prompt = "ROMEO:\n"

    static func settings(_ architecture: String = "", seed: UInt64 = 42, tokens: Int = 40) -> RunSettings {
        RunSettings(model: "shakespeare-mor", architecture: architecture, prompt: prompt,
                    sampler: SamplerSettings(temperature: 0.8, seed: seed), maxNewTokens: tokens)
    }

    /// Collects the events of one slot until the run finishes or fails.
    final class Recorder {
        let mailbox = EventMailbox()
        var info: RunInfo?
        var tokens: [TokenTrace] = []
        var finished: String?
        var failed: String?

        var done: Bool { finished != nil || failed != nil }
        var generated: [TokenTrace] { tokens.filter { !$0.isPrompt } }
        var text: String { generated.map(\.text).joined() }

        func pump(_ slot: RunSlot = .a) {
            for (s, event) in mailbox.drain() where s == slot {
                switch event {
                case let .started(i): info = i
                case let .token(t): tokens.append(t)
                case .retracted: tokens.removeLast()
                case let .finished(why): finished = why
                case let .failed(e): failed = e.message
                }
            }
        }
    }

    /// Runs `settings` to the end and returns what it posted.
    func runToEnd(_ engine: LiveEngine, _ settings: RunSettings) async -> Recorder {
        let recorder = Recorder()
        let run = engine.startRun(settings, paused: false, sink: recorder.mailbox.makeSink(for: .a))
        defer { run.stop() }
        _ = await eventually(within: 60) { recorder.pump(); return recorder.done }
        return recorder
    }

    @Test func tokensArriveAndTheRunFinishes() async throws {
        let engine = LiveEngine()
        let r = await runToEnd(engine, Self.settings())
        #expect(r.failed == nil, "\(r.failed ?? "")")
        let info = try #require(r.info)
        #expect(info.model == "shakespeare-mor")
        #expect(info.architecture == "mor")  // the checkpoint's own
        // config.json: 4 layers, middle_cycle sharing, 3 recursions: first + 2 x 3 + last.
        #expect(info.maxDepth == 8)
        #expect(info.routing.contains("threshold 0.5"))
        #expect(r.finished?.hasPrefix("40 tokens") == true, "\(r.finished ?? "")")
        // Prompt first (its characters), then 40 generated tokens, positions counting up.
        #expect(r.tokens.prefix(while: \.isPrompt).map(\.text).joined() == Self.prompt)
        #expect(r.generated.count == 40)
        #expect(r.tokens.map(\.position) == Array(0..<r.tokens.count))
        for t in r.tokens {
            #expect(t.depth >= 1 && t.depth <= info.maxDepth)
            #expect(t.exit.steps == t.depth)
            #expect(t.steps.allSatisfy { $0.attention?.count == 4 && $0.lens?.isEmpty == false })
        }
        #expect(r.generated.allSatisfy { $0.probability != nil && !$0.alternatives.isEmpty })
    }

    @Test func aFullContextShiftsAndTheRunGoesOnToItsBudget() async throws {
        // 400 tokens asked, but the model's context (max_position_embeddings) holds 256:
        // the run keeps the newest half and goes on, positions still counting up.
        let engine = LiveEngine()
        let r = await runToEnd(engine, Self.settings(seed: 3, tokens: 400))
        #expect(r.failed == nil, "\(r.failed ?? "")")
        #expect(r.generated.count == 400)
        #expect(r.tokens.count > 256)
        #expect(r.tokens.map(\.position) == Array(0..<r.tokens.count))
        #expect(r.finished?.hasPrefix("400 tokens") == true, "\(r.finished ?? "")")
        let again = await runToEnd(engine, Self.settings(seed: 3, tokens: 400))
        #expect(again.text == r.text, "one seed, one text, shifts included")
    }

    @Test func sameSeedSameTextAndModelsLoadOnce() async throws {
        let engine = LiveEngine()
        let first = await runToEnd(engine, Self.settings(seed: 7))
        let second = await runToEnd(engine, Self.settings(seed: 7))
        let other = await runToEnd(engine, Self.settings(seed: 8))
        #expect(first.text.count == 40)
        #expect(first.text == second.text)
        #expect(first.tokens.map(\.exit) == second.tokens.map(\.exit))
        #expect(other.text != first.text)
        #expect(engine.modelLoads == 1)
    }

    @Test func architectureSwitchChangesTheTraces() async throws {
        let engine = LiveEngine()
        let mor = await runToEnd(engine, Self.settings("mor threshold=0.5", tokens: 60))
        let strict = await runToEnd(engine, Self.settings("mor threshold=0.9", tokens: 60))
        let vanilla = await runToEnd(engine, Self.settings("vanilla", tokens: 60))
        for r in [mor, strict, vanilla] { #expect(r.failed == nil, "\(r.failed ?? "")") }
        #expect(strict.info?.options.contains(RunOption("threshold", "0.9")) == true)
        func meanDepth(_ r: Recorder) -> Double { Double(r.tokens.map(\.depth).reduce(0, +)) / Double(r.tokens.count) }
        // A higher threshold stops tokens earlier.
        #expect(meanDepth(strict) < meanDepth(mor))
        #expect(strict.tokens.allSatisfy { $0.exit.steps == $0.depth && $0.depth <= 8 })
        // Vanilla runs the four stored layers, every token at full depth.
        #expect(vanilla.info?.maxDepth == 4)
        #expect(vanilla.tokens.allSatisfy { $0.depth == 4 && $0.exit.reason == .fullDepth })
        #expect(engine.modelLoads == 1)
    }

    @Test func pausedRunShowsThePromptStepsAndStops() async throws {
        let engine = LiveEngine()
        let r = Recorder()
        let run = engine.startRun(Self.settings(), paused: true, sink: r.mailbox.makeSink(for: .a))
        let promptCount = Self.prompt.count
        #expect(await eventually(within: 30) { r.pump(); return r.tokens.count == promptCount })
        run.stepForward()
        run.stepForward()
        run.stepForward()
        #expect(await eventually(within: 30) { r.pump(); return r.generated.count == 3 })
        run.stop()
        #expect(await eventually(within: 30) { engine.runningThreads == 0 })
        r.pump()
        #expect(r.generated.count == 3)
        #expect(!r.done)
    }

    @Test func supersededRunEndsWithoutPosting() async throws {
        let engine = LiveEngine()
        let r = Recorder()
        let run = engine.startRun(Self.settings(), paused: true, sink: r.mailbox.makeSink(for: .a))
        #expect(await eventually(within: 30) { r.pump(); return r.info != nil })
        _ = r.mailbox.makeSink(for: .a)  // the workbench started another run in this slot
        run.resume()
        #expect(await eventually(within: 30) { engine.runningThreads == 0 })
        r.pump()
        #expect(r.generated.isEmpty)
        #expect(!r.done)
    }

    @Test func errorsArriveAsFailedEvents() async throws {
        let engine = LiveEngine()
        let cases: [(RunSettings, String)] = [
            (Self.settings("mor threshold=2"), "arch mor: option threshold=2: out of range [0, 1]"),
            (Self.settings("ut"), "arch ut: "),
            (Self.settings("warp"), "warp"),
            (RunSettings(model: "no-such-model", architecture: "", prompt: "a"), "model 'no-such-model' not found"),
            (RunSettings(model: "shakespeare-mor", architecture: "", prompt: "héllo"), "prompt: character 'é'"),
            (Self.settings(tokens: -1), "max tokens -1: must be 0 or more"),
            (Self.settings(seed: 1).with { $0.sampler.temperature = -1 }, "temperature"),
        ]
        for (settings, expected) in cases {
            let r = await runToEnd(engine, settings)
            #expect(r.failed?.contains(expected) == true, "\(settings): \(r.failed ?? "no error")")
            #expect(r.tokens.isEmpty)
        }
        #expect(throws: EngineError.self) { try engine.check(Self.settings("mor threshold=2")) }
        try engine.check(Self.settings("mor threshold=0.7"))
    }

    /// What `:model` sends after a mor run: the new model with an empty architecture runs
    /// on the checkpoint's own; keeping `mor` on the vanilla checkpoint would fail.
    @Test func aPacedEngineSaysSoInTheRunInfo() async throws {
        let paced = await runToEnd(LiveEngine(tokensPerSecond: 200), Self.settings(tokens: 2))
        #expect(paced.info?.pacedTokensPerSecond == 200)
        let free = await runToEnd(LiveEngine(), Self.settings(tokens: 2))
        #expect(free.info != nil && free.info?.pacedTokensPerSecond == nil)
    }

    @Test func switchingModelRunsTheNewCheckpointsOwnArchitecture() async throws {
        let engine = LiveEngine()
        _ = await runToEnd(engine, Self.settings("mor threshold=0.6", tokens: 2))
        let vanilla = Self.settings(tokens: 2).with { $0.model = "shakespeare-vanilla" }
        let r = await runToEnd(engine, vanilla)
        #expect(r.failed == nil, "\(r.failed ?? "")")
        #expect(r.info?.model == "shakespeare-vanilla")
        #expect(r.info?.architecture == "vanilla")
        #expect(r.generated.count == 2)
        let kept = await runToEnd(engine, vanilla.with { $0.architecture = "mor" })
        #expect(kept.failed != nil, "mor needs the router weights the vanilla checkpoint lacks")
    }

    @Test func listsShippedModelsAndTheArchitecturesTheModelCanRun() async throws {
        let engine = LiveEngine()
        #expect(engine.models().contains("shakespeare-mor"))
        #expect(engine.models().contains("shakespeare-vanilla"))
        #expect(engine.architectures().map(\.name) == Architecture.names)  // nothing loaded yet
        _ = await runToEnd(engine, Self.settings(tokens: 1))
        let names = engine.architectures().map(\.name)
        #expect(names.contains("mor") && names.contains("vanilla") && !names.contains("ut"))
        let mor = try #require(engine.architectures().first { $0.name == "mor" })
        #expect(mor.options.contains(RunOption("threshold", "0.5")))
    }

    @Test func compareRunsTwoArchitecturesAtOnce() async throws {
        let engine = LiveEngine()
        let mailbox = EventMailbox()
        var tokens: [RunSlot: [TokenTrace]] = [.a: [], .b: []]
        var finished: Set<RunSlot> = []
        let a = engine.startRun(Self.settings("mor threshold=0.5"), paused: false, sink: mailbox.makeSink(for: .a))
        let b = engine.startRun(Self.settings("mor threshold=0.8"), paused: false, sink: mailbox.makeSink(for: .b))
        defer { a.stop(); b.stop() }
        #expect(await eventually(within: 60) {
            for (slot, event) in mailbox.drain() {
                if case let .token(t) = event { tokens[slot, default: []].append(t) }
                if case .finished = event { finished.insert(slot) }
            }
            return finished.count == 2
        })
        #expect(tokens[.a]?.count == tokens[.b]?.count)
        // Same prompt for both; the threshold changes the depths.
        #expect(tokens[.a]?.filter(\.isPrompt).map(\.id) == tokens[.b]?.filter(\.isPrompt).map(\.id))
        #expect(tokens[.a]?.map(\.depth) != tokens[.b]?.map(\.depth))
    }
}
