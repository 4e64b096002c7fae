import Foundation
import Testing

@testable import Engine

/// Every depth architecture runs on every family: the identities that tie them to the
/// family's own forward pass (checked against transformers in LogitsParityTests) hold on each
/// family fixture, and the adaptive ones run batched as they run token by token.
@Suite struct FamilyArchitectureTests {
    func resolve(_ model: DepthModel, _ name: String, _ options: [String: String]) throws -> Architecture {
        try Architecture.resolve(name, options: options.map { ArchitectureOption($0.key, $0.value) }, for: model)
    }

    @Test(arguments: Fixtures.familyNames)
    func identitiesHoldOnEveryFamily(_ name: String) throws {
        let model = try DepthModel(folder: Fixtures.model(name))
        let tokens = try ExpectedLogits.load(name).tokens
        let layers = model.config.numHiddenLayers
        let vanilla = try runTokens(model, resolve(model, "vanilla", [:]), tokens).map(\.logits)
        for (arch, options) in [
            ("recursive", ["recursions": "1"]),
            ("convert", ["recursions": "1", "init": "lower", "layers": "\(layers)"]),
            ("early-exit", ["criterion": "softmax_max", "threshold": "1"]),  // never passes: full depth
        ] {
            let same = try runTokens(model, resolve(model, arch, options), tokens).map(\.logits)
            #expect(maxDifference(same, vanilla) == 0, "\(name): \(arch) \(options)")
        }
    }

    @Test(arguments: Fixtures.familyNames)
    func adaptiveArchitecturesBatchOnEveryFamily(_ name: String) throws {
        let model = try DepthModel(folder: Fixtures.model(name))
        let tokens = try ExpectedLogits.load(name).tokens
        for (arch, options) in [
            ("recursive", ["recursions": "2"]),
            ("convert", ["recursions": "2", "layers": "1", "lora_rank": "2"]),
            ("early-exit", ["criterion": "top2_margin", "threshold": "0.3", "recursions": "2"]),
        ] {
            let architecture = try resolve(model, arch, options)
            let single = try runTokens(model, architecture, tokens)
            #expect(single.allSatisfy { $0.logits.allSatisfy(\.isFinite) }, "\(name): \(arch)")
            let runner = try DepthRunner(source: model, architecture: architecture, capacity: tokens.count)
            let batched = try runBatched(runner, tokens)
            #expect(maxDifference(batched, single.map(\.logits)) < 1e-4, "\(name): \(arch) batched")
        }
    }
}
