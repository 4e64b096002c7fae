import Foundation
import Testing

@testable import Engine

/// Every committed fixture case against the PyTorch reference (training/depthscope_ref,
/// token-by-token path): logits within the case's tolerance (1e-3); depths, step lists,
/// exit reasons, criteria and thresholds exactly; scores, router probabilities and halting
/// sums within 1e-3 relative to max(1, |value|).
@Suite struct ArchParityTests {
    @Test func everyArchitectureHasFixtureCases() {
        let covered = Set(ArchFixtures.caseNames.compactMap { try? ArchFixtures.load($0).arch })
        #expect(covered == Set(Architecture.names), "fixture cases cover \(covered.sorted())")
    }

    @Test(arguments: ArchFixtures.caseNames)
    func matchesReference(_ name: String) throws {
        let fixture = try ArchFixtures.load(name)
        let model = try ArchFixtures.model(fixture.model)
        let architecture = try Architecture.resolve(fixture.arch, options: fixture.architectureOptions, for: model)
        let results = try runTokens(model, architecture, fixture.tokens)

        let difference = maxDifference(results.map(\.logits), fixture.logits)
        #expect(difference <= fixture.logitsTolerance, "\(name): max |logit difference| \(difference)")

        for (position, (result, expected)) in zip(results, fixture.trace).enumerated() {
            let record = result.record
            let at = "\(name) position \(position)"
            #expect(record.steps.count == expected.depth, "\(at): depth")
            #expect(stepKeys(record.steps) == expected.steps.map { "\($0.block) \($0.layer) \($0.recursion)" }, "\(at): steps")
            for (step, want) in zip(record.steps, expected.steps) {
                expectClose(step.score, want.score, "\(at) step \(step.step) score")
            }
            let exit = record.exit
            #expect(exit.reason.rawValue == expected.exit.reason, "\(at): exit reason")
            #expect(exit.criterion == expected.exit.criterion, "\(at): exit criterion")
            #expect(exit.threshold == expected.exit.threshold.map { Float($0) }, "\(at): threshold")
            #expect(exit.steps == expected.exit.steps && exit.maxSteps == expected.exit.maxSteps, "\(at): exit steps")
            expectClose(exit.score, expected.exit.score, "\(at): exit score")

            let probabilities = record.routerProbabilities.isEmpty ? nil : record.routerProbabilities
            #expect(probabilities?.count == expected.routerProbabilities?.count, "\(at): router probabilities")
            for (got, want) in zip(probabilities ?? [], expected.routerProbabilities ?? []) {
                expectClose(got, want, "\(at): router probability")
            }
            if let halting = expected.halting {
                // ACT's cumulative halting sum is the score of each recursion block's last step.
                let sums = record.steps.compactMap(\.score)
                #expect(sums.count == halting.count, "\(at): halting steps")
                for (got, want) in zip(sums, halting) { expectClose(got, want, "\(at): halting") }
            }
        }
    }

    func expectClose(_ got: Float?, _ want: Double?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let want else {
            #expect(got == nil, "\(what): expected none, got \(String(describing: got))", sourceLocation: sourceLocation)
            return
        }
        guard let got else {
            Issue.record("\(what): expected \(want), got none", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(Double(got) - want) <= 1e-3 * max(1, abs(want)), "\(what): \(got) vs \(want)", sourceLocation: sourceLocation)
    }

    @Test func recurrentStateMatchesTestVectors() throws {
        struct Vectors: Decodable {
            struct Vector: Decodable {
                let seed: UInt64
                let position: Int
                let hiddenSize: Int
                let std: Double
                let values: [Float]
                enum CodingKeys: String, CodingKey {
                    case seed, position, std, values
                    case hiddenSize = "hidden_size"
                }
            }
            let vectors: [Vector]
        }
        let data = try Data(contentsOf: ArchFixtures.root.appendingPathComponent("recurrent_rng.json"))
        let vectors = try JSONDecoder().decode(Vectors.self, from: data).vectors
        #expect(vectors.count >= 4)
        for vector in vectors {
            let values = RecurrentState.values(
                seed: vector.seed, position: vector.position, hiddenSize: vector.hiddenSize, std: vector.std)
            #expect(values == vector.values, "seed \(vector.seed) position \(vector.position)")
        }
        // The spec's own test vector (section 7).
        #expect(
            RecurrentState.values(seed: 0, position: 0, hiddenSize: 4, std: 1)
                == [-0.45275774598121643, 2.6506059169769287, -0.9886041283607483, 0.2524627149105072])
    }
}
