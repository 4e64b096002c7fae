import Foundation
import Testing

@testable import Engine

/// A released-layout Huginn checkpoint (`huginn_raven`) against the paper's own modeling code
/// (seal-rg/recurrent-pretraining's raven_modeling_minimal.py under transformers 4.47.1;
/// training/make_huginn_fixtures.py): logits at 1, 4 and 8 recurrences from a zero start
/// state, fed one token at a time and as one prompt.
@Suite struct HuginnTests {
    struct Expected: Decodable {
        struct Run: Decodable {
            let num_steps: Int
            let logits: [[Float]]
        }
        let tokens: [Int]
        let runs: [Run]
        let logits_tolerance: Float
    }

    static let folder = Fixtures.root.appendingPathComponent("huginn").path

    @Test(arguments: [1, 4, 8])
    func logitsMatchTheirCode(steps: Int) throws {
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Self.folder).appendingPathComponent("expected.json")))
        let reference = try #require(expected.runs.first { $0.num_steps == steps }).logits
        let model = try DepthModel(folder: Self.folder)
        #expect(model.depth.defaultArchitecture == "recurrent")
        let architecture = try Architecture.resolve(
            "recurrent", options: [ArchitectureOption("steps", "\(steps)"), ArchitectureOption("state_init_std", "0")], for: model)
        let single = try runTokens(model, architecture, expected.tokens).map(\.logits)
        #expect(maxDifference(single, reference) <= expected.logits_tolerance, "\(steps) steps, token by token")
        let runner = try DepthRunner(source: model, architecture: architecture, capacity: expected.tokens.count)
        #expect(maxDifference(try runBatched(runner, expected.tokens), reference) <= expected.logits_tolerance, "\(steps) steps, batched")
    }

    @Test func releasedLayoutBecomesTheRecurrentSchedule() throws {
        let model = try DepthModel(folder: Self.folder)
        let recurrent = try #require(model.depth.recurrentDepth)
        #expect(recurrent.prelude == 1 && recurrent.core == 2 && recurrent.coda == 1 && recurrent.meanRecurrence == 4)
        #expect(model.config.extraNorms == .afterResiduals && model.config.normBeforeCoda)
        #expect(model.model.layers.allSatisfy { $0.queryBias != nil && $0.keyBias != nil && $0.valueBias == nil })
        #expect(model.model.lmHead === model.model.embedding)
    }
}
