import Foundation
import Testing

@testable import Engine

/// Prompts go through the batched forward pass: at each depth step the tokens still at that
/// step run together, and a stopped token gives later steps what its KV policy says. Fed in
/// batches, every token must get what it gets fed one by one: logits within 1e-4 (only the
/// products' summation order differs), the same steps, exits, router decisions and cache
/// rows, scores within float rounding, and the same FLOPs and KV bytes.
@Suite struct PrefillTests {
    /// Every architecture case of the parity fixtures, on a longer text than the fixture's
    /// so that tokens stop at many depths.
    @Test(arguments: ArchFixtures.caseNames)
    func batchesEqualTokenByToken(_ name: String) throws {
        let fixture = try ArchFixtures.load(name)
        let model = try ArchFixtures.model(fixture.model)
        let architecture = try Architecture.resolve(fixture.arch, options: fixture.architectureOptions, for: model)
        var random = SeededRandom(seed: 3)
        let vocabulary = model.config.vocabSize
        let tokens = fixture.tokens + (0..<28).map { _ in Int(random.next() % UInt64(vocabulary)) }
        let single = try runTokens(model, architecture, tokens, capture: .all)
        for batchSize in [tokens.count, 7, 1] {
            let runner = try DepthRunner(
                source: model, architecture: architecture, capacity: tokens.count, capture: .all, batchSize: batchSize)
            var position = 0
            while position < tokens.count {
                let batch = tokens[position..<min(position + batchSize, tokens.count)]
                try runner.run(batch, logits: .all)
                for j in 0..<batch.count {
                    let at = "\(name), batches of \(batchSize), position \(position + j)"
                    let logits = Array(UnsafeBufferPointer(start: runner.logits(of: j), count: vocabulary))
                    expectSame(runner.records[j], logits, as: single[position + j], at)
                }
                position += batch.count
            }
        }
    }

    /// Every model family's plain forward pass, batched against one token at a time.
    @Test(arguments: Fixtures.modelNames)
    func familiesBatchAsTheyDecode(_ name: String) throws {
        let model = try Model(folder: Fixtures.model(name))
        let tokens = try ExpectedLogits.load(name).tokens
        let single = try vanillaRunner(model, capacity: tokens.count)
        let expected = try tokens.enumerated().map { try single.run(token: $1, position: $0) }
        for batchSize in [tokens.count, 5] {
            let batched = try runBatched(try vanillaRunner(model, capacity: tokens.count, batchSize: batchSize), tokens)
            #expect(maxDifference(batched, expected) < 1e-4, "\(name), batches of \(batchSize)")
        }
    }

    func expectSame(
        _ record: TokenRecord, _ logits: [Float], as expected: (logits: [Float], record: TokenRecord), _ at: String
    ) {
        let worst = maxDifference([logits], [expected.logits])
        #expect(worst < 1e-4, "\(at): logits differ by \(worst)")
        let want = expected.record
        #expect(stepKeys(record.steps) == stepKeys(want.steps), "\(at): steps")
        #expect(record.steps.map(\.step) == want.steps.map(\.step), "\(at): step indices")
        #expect(record.exit.reason == want.exit.reason && record.exit.criterion == want.exit.criterion, "\(at): exit")
        #expect(record.exit.steps == want.exit.steps && record.exit.threshold == want.exit.threshold, "\(at): exit steps")
        #expect(close(record.exit.score, want.exit.score), "\(at): exit score \(String(describing: record.exit.score))")
        #expect(record.routerProbabilities.count == want.routerProbabilities.count, "\(at): routing decisions")
        for (ours, theirs) in zip(record.routerProbabilities, want.routerProbabilities) {
            #expect(close(ours, theirs), "\(at): router probability \(ours) vs \(theirs)")
        }
        for (ours, theirs) in zip(record.steps, want.steps) {
            #expect(close(ours.score, theirs.score), "\(at): step \(ours.step) score")
            #expect(ours.lens?.map(\.id) == theirs.lens?.map(\.id) || lensTied(ours, theirs), "\(at): step \(ours.step) lens")
            let rows = zip(ours.attention ?? [], theirs.attention ?? []).map { maxDifference([$0], [$1]) }
            #expect(ours.attention?.count == theirs.attention?.count && rows.allSatisfy { $0 < 1e-4 }, "\(at): attention")
        }
        #expect(record.flops == want.flops && record.fullDepthFlops == want.fullDepthFlops, "\(at): FLOPs")
        #expect(record.kvCacheBytes == want.kvCacheBytes, "\(at): KV bytes")
    }

    /// Scores are computed from states that differ by float rounding: equal within 1e-5
    /// relative to max(1, |value|).
    func close(_ a: Float?, _ b: Float?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= 1e-5 * max(1, abs(b))
    }

    /// Two lens lists may order near-equal probabilities differently.
    func lensTied(_ a: StepTrace, _ b: StepTrace) -> Bool {
        guard let x = a.lens, let y = b.lens, x.count == y.count else { return false }
        return zip(x, y).allSatisfy { abs($0.probability - $1.probability) < 1e-5 }
    }
}
