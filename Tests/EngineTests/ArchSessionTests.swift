import Foundation
import Testing

@testable import Engine

/// Sessions: traces for prompt and generated tokens, switching the architecture while
/// generating, capture on and off, and compute savings visible in traces and eval.
@Suite struct ArchSessionTests {
    func session(
        _ checkpoint: String, _ name: String? = nil, _ options: [String: String] = [:], capture: TraceCapture = [],
        tracing: Bool = true, seed: UInt64 = 7
    ) throws -> Session {
        let model = try ArchFixtures.model(checkpoint)
        let tokenizer = try loadTokenizer(folder: ArchFixtures.modelFolder(checkpoint))
        let architecture = try name.map {
            try Architecture.resolve($0, options: options.map { ArchitectureOption($0.key, $0.value) }, for: model)
        }
        return try Session(
            model: model, tokenizer: tokenizer, architecture: architecture,
            sampling: SamplingParameters(temperature: 0.9, seed: seed), capture: capture, tracing: tracing)
    }

    /// Feeds `prompt`, then samples and feeds `count` tokens; returns every trace.
    func run(_ session: Session, prompt: [Int], count: Int) throws -> [TokenTrace] {
        var traces = try prompt.compactMap { try session.feed($0, isPrompt: true) }
        for _ in 0..<count { traces += [try session.feed(try session.sample())].compactMap { $0 } }
        return traces
    }

    @Test func tracesCoverPromptAndGeneratedTokens() throws {
        let session = try session("mor_expert", capture: .all)
        let traces = try run(session, prompt: [3, 4, 5], count: 6)
        #expect(traces.map(\.position) == Array(0..<9))
        #expect(traces.map(\.isPrompt) == [true, true, true] + Array(repeating: false, count: 6))
        #expect(traces.map(\.id) == session.tokens)
        let vocabulary = try loadTokenizer(folder: ArchFixtures.modelFolder("mor_expert"))
        #expect(traces.map(\.text).joined() == (try vocabulary.decode(session.tokens, skipSpecialTokens: false)))
        #expect(traces[0].alternatives.isEmpty && traces[0].probability == nil)
        for trace in traces.dropFirst() {
            #expect(trace.alternatives.count == 5)
            #expect(zip(trace.alternatives, trace.alternatives.dropFirst()).allSatisfy { $0.probability >= $1.probability })
            let probability = try #require(trace.probability)
            #expect(probability > 0 && probability <= 1)
            // The token itself is among the alternatives exactly when it is that likely.
            if let listed = trace.alternatives.first(where: { $0.id == trace.id }) {
                #expect(abs(listed.probability - probability) < 1e-6)
            }
        }
        for trace in traces {
            #expect(trace.exit.steps == trace.depth && trace.exit.maxSteps == 8)
            #expect(trace.routerProbabilities?.isEmpty == false)
            #expect(trace.flops > 0 && trace.flops <= trace.fullDepthFlops)
            #expect(trace.kvCacheBytes > 0 && trace.timeMs > 0)
            for step in trace.steps {
                let attention = try #require(step.attention)
                #expect(attention.count == 2)  // heads
                for row in attention {
                    #expect(row.count == trace.position + 1)
                    #expect(abs(row.reduce(0, +) - 1) < 1e-5)
                }
                let lens = try #require(step.lens)
                #expect(lens.count == 5 && lens.allSatisfy { !$0.text.isEmpty })
            }
        }
    }

    @Test func captureOffRecordsNoAttentionOrLens() throws {
        let traces = try run(try session("mor_expert"), prompt: [3, 4], count: 3)
        #expect(traces.allSatisfy { $0.steps.allSatisfy { $0.attention == nil && $0.lens == nil } })
        let untraced = try session("mor_expert", tracing: false)
        #expect(try untraced.feed(3, isPrompt: true) == nil)
        #expect(untraced.lastRecord.steps.count >= 4)
    }

    /// Recursion-wise caching: a token that stopped is absent from deeper steps, so its
    /// attention weight there is 0 and the cache holds only the tokens that got there.
    @Test func recursionWiseCachesHoldOnlyTheTokensThatRanTheStep() throws {
        let session = try session("mor_expert", capture: .attention)
        let traces = try run(session, prompt: [14, 13, 2, 18, 31, 7, 21, 7, 18, 8, 30, 6], count: 0)
        let kvDim = session.model.config.kvDim
        var ranStep = [Int: Set<Int>]()
        for trace in traces {
            for step in trace.steps { ranStep[step.step, default: []].insert(trace.position) }
        }
        let expectedBytes = ranStep.values.reduce(0) { $0 + $1.count } * kvDim * 2 * 4
        #expect(traces.last?.kvCacheBytes == expectedBytes)
        #expect(expectedBytes < traces.count * 8 * kvDim * 2 * 4, "every token went to full depth: nothing tested")
        for trace in traces {
            for step in trace.steps {
                for row in step.attention ?? [] {
                    for (key, weight) in row.enumerated() where !(ranStep[step.step]?.contains(key) ?? false) {
                        #expect(weight == 0, "position \(trace.position) step \(step.step) attends to absent key \(key)")
                    }
                }
            }
        }
    }

    /// Switching mid-generation keeps the text, reloads nothing, and leaves the session
    /// exactly where a fresh session under the new architecture would be.
    @Test func switchingTheArchitectureKeepsTheTextAndReloadsNothing() throws {
        let session = try session("mor_expert", "mor")
        let model = session.model
        _ = try run(session, prompt: [3, 4, 5, 6], count: 5)
        let tokens = session.tokens
        let flags = session.isPromptToken

        var replayed: [TokenTrace] = []
        try session.switchArchitecture(name: "recursive", options: [ArchitectureOption("recursions", "2")]) {
            replayed.append($0)
        }
        #expect(session.model === model)
        #expect(session.runner.model === model.model)
        #expect(session.tokens == tokens && session.isPromptToken == flags)
        #expect(replayed.map(\.id) == tokens && replayed.map(\.isPrompt) == flags)
        #expect(replayed.allSatisfy { $0.depth == 6 && $0.exit.reason == .fullDepth })

        // The replay feeds the prompt and the generated tokens as two batches; a new session
        // fed the same way holds the same caches, bit for bit.
        let fresh = try self.session("mor_expert", "recursive", ["recursions": "2"])
        try fresh.feed(zip(tokens, flags).filter(\.1).map(\.0), isPrompt: true)
        try fresh.feed(zip(tokens, flags).filter { !$0.1 }.map(\.0), isPrompt: false)
        let after = Array(try #require(session.nextTokenLogits))
        #expect(after == Array(try #require(fresh.nextTokenLogits)))

        // Generation goes on under the new architecture.
        let more = try session.feed(try session.sample())
        #expect(more?.position == tokens.count && more?.depth == 6)
        #expect(session.tokens.count == tokens.count + 1)

        // A bad architecture leaves the session as it was.
        #expect(throws: EngineError.self) { try session.switchArchitecture(name: "ut") }
        #expect(session.architecture.name == "recursive" && session.tokens.count == tokens.count + 1)

        // Convert builds its weights from the loaded ones: the embedding is shared.
        try session.switchArchitecture(name: "convert", options: [ArchitectureOption("recursions", "1")])
        #expect(session.runner.model.embedding === model.model.embedding)
    }

    @Test func sameSeedSameText() throws {
        let first = try run(try session("relaxed", seed: 3), prompt: [1, 2], count: 12).map(\.id)
        let second = try run(try session("relaxed", seed: 3), prompt: [1, 2], count: 12).map(\.id)
        #expect(first == second)
    }

    /// A policy that skips steps shows it: fewer FLOPs than full depth in the trace, and a
    /// lower mean depth and FLOPs ratio in eval, while full depth shows none.
    @Test func savedComputeShowsInTracesAndEval() throws {
        let model = try ArchFixtures.model("plain6")
        let tokenizer = try loadTokenizer(folder: ArchFixtures.modelFolder("plain6"))
        // The fixture case's tokens: some of them exit early, some do not.
        let fixture = try ArchFixtures.load("early_exit_softmax_max")
        let ids = fixture.tokens
        let exits = try Architecture.resolve(fixture.arch, options: fixture.architectureOptions, for: model)
        let session = try Session(model: model, tokenizer: tokenizer, architecture: exits)
        let traces = try ids.compactMap { try session.feed($0, isPrompt: true) }
        let early = traces.filter { $0.depth < 6 }
        #expect(!early.isEmpty && early.count < traces.count)
        for trace in traces {
            let attention = 4.0 * 2 * 8 * Double(trace.position + 1)  // one step's attention work
            if trace.depth <= 3 { #expect(trace.flops < trace.fullDepthFlops) }
            if trace.depth == 6 { #expect(trace.flops > trace.fullDepthFlops - attention) }  // criterion heads cost extra
        }

        let adaptive = try Evaluation.run(model: model, tokenizer: tokenizer, architecture: exits, ids: ids)
        let full = try Evaluation.run(model: model, tokenizer: tokenizer, architecture: Architecture.defaultFor(model), ids: ids)
        #expect(adaptive.tokens == ids.count - 1 && full.tokens == ids.count - 1)
        #expect(adaptive.meanDepth < 6 && full.meanDepth == 6)
        #expect(adaptive.earlyFraction > 0 && full.earlyFraction == 0)
        #expect(full.flopsRatio == 1)
        #expect(abs(adaptive.meanDepth - Double(traces.dropLast().map(\.depth).reduce(0, +)) / Double(ids.count - 1)) < 1e-12)
    }

    /// eval's NLL is the mean of -log softmax(logits)[next id] over the windows.
    @Test func evalFollowsTheProtocol() throws {
        let model = try ArchFixtures.model("plain6")  // max_position_embeddings 64
        let tokenizer = try loadTokenizer(folder: ArchFixtures.modelFolder("plain6"))
        var random = SeededRandom(seed: 11)
        let ids = (0..<150).map { _ in Int(random.next() % 32) }
        let result = try Evaluation.run(model: model, tokenizer: tokenizer, architecture: Architecture.defaultFor(model), ids: ids)
        #expect(result.windows == 3 && result.tokens == 149)
        // Each window is one batch through the forward pass, as eval feeds it.
        var expected = 0.0
        for start in stride(from: 0, to: 149, by: 64) {
            let runner = try vanillaRunner(model.model, capacity: 64, batchSize: 64)
            let rows = try runBatched(runner, Array(ids[start..<min(start + 64, 149)]))
            for (offset, logits) in rows.enumerated() {
                let position = start + offset
                let top = Double(logits.max() ?? 0)
                let total = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
                expected -= Double(logits[ids[position + 1]]) - top - log(total)
            }
        }
        expected /= 149
        #expect(abs(result.nll - expected) < 1e-9)
        #expect(abs(result.perplexity - exp(expected)) < 1e-6)
        #expect(Evaluation.validationSplit("0123456789") == "9")
    }
}
