import Foundation
import Testing

@testable import Engine

/// The identities of issue 3 / docs/architectures.md section 6, each comparing two of the
/// engine's own runs (one of them through an independent path where there is one).
@Suite struct ArchIdentityTests {
    let tokens = [3, 17, 5, 22, 9, 9, 31, 0, 14, 27, 8, 2]

    func resolve(_ model: DepthModel, _ name: String, _ options: [String: String] = [:]) throws -> Architecture {
        try Architecture.resolve(name, options: options.map { ArchitectureOption($0.key, $0.value) }, for: model)
    }

    /// The core engine's vanilla runner (ForwardPass.forward), independent of DepthRunner.
    func vanillaLogits(_ model: Model, _ tokens: [Int]) throws -> [[Float]] {
        let runner = try vanillaRunner(model, capacity: tokens.count)
        return try tokens.enumerated().map { try runner.run(token: $1, position: $0) }
    }

    @Test func vanillaEqualsTheCoreForwardPass() throws {
        let model = try ArchFixtures.model("plain6")
        let ours = try runTokens(model, resolve(model, "vanilla"), tokens)
        #expect(ours.map(\.logits) == (try vanillaLogits(model.model, tokens)))
        #expect(ours.allSatisfy { $0.record.steps.count == 6 && $0.record.exit.reason == .fullDepth })
    }

    @Test(arguments: ["cycle", "sequence", "middle_cycle"])
    func recursiveWithOneRecursionIsVanilla(sharing: String) throws {
        let model = try ArchFixtures.model("plain6")
        let recursive = try runTokens(model, resolve(model, "recursive", ["recursions": "1", "sharing": sharing]), tokens)
        let vanilla = try runTokens(model, resolve(model, "vanilla"), tokens)
        #expect(recursive.map(\.logits) == vanilla.map(\.logits))
        #expect(recursive.map { stepKeys($0.record.steps) } == vanilla.map { stepKeys($0.record.steps) })
    }

    @Test(arguments: ["mor_expert", "mor_expert_cycle"])
    func expertChoiceAtThresholdZeroRunsEveryRecursion(checkpoint: String) throws {
        let model = try ArchFixtures.model(checkpoint)
        let architecture = try resolve(model, "mor", ["threshold": "0"])
        let results = try runTokens(model, architecture, tokens)
        for result in results {
            #expect(result.record.steps.count == architecture.maxDepth)
            #expect(result.record.exit.reason == .fullDepth)
            #expect(result.record.routerProbabilities.count == model.depth.numRecursion - 1)
        }
        // At its default threshold the same checkpoint stops some tokens early, so the
        // identity above is not true by construction.
        let routed = try runTokens(model, resolve(model, "mor"), tokens)
        #expect(routed.contains { $0.record.steps.count < architecture.maxDepth })
    }

    /// Unreachable thresholds (the comparisons are strict): early exit equals the fixed
    /// schedule it runs on, with every token at full depth.
    @Test(arguments: [
        ("softmax_max", "1"), ("top2_margin", "1"), ("cosine", "1"), ("kl", "0"), ("argmax_stable", "6"),
    ])
    func earlyExitWithAnUnreachableThresholdIsVanilla(criterion: String, threshold: String) throws {
        let model = try ArchFixtures.model("plain6")
        for kv in ["propagate", "recursion_wise"] {
            let exit = try runTokens(
                model, resolve(model, "early-exit", ["criterion": criterion, "threshold": threshold, "kv": kv]), tokens)
            #expect(exit.map(\.logits) == (try vanillaLogits(model.model, tokens)))
            #expect(exit.allSatisfy { $0.record.steps.count == 6 && $0.record.exit.reason == .fullDepth })
        }
    }

    @Test func earlyExitWithAnUnreachableThresholdIsTheRecursiveSchedule() throws {
        let model = try ArchFixtures.model("plain6")
        let options = ["recursions": "2", "sharing": "middle_cycle"]
        let exit = try runTokens(
            model, resolve(model, "early-exit", options.merging(["criterion": "softmax_max", "threshold": "1"]) { $1 }), tokens)
        let fixed = try runTokens(model, resolve(model, "recursive", options), tokens)
        #expect(exit.map(\.logits) == fixed.map(\.logits))
        #expect(exit.map { stepKeys($0.record.steps) } == fixed.map { stepKeys($0.record.steps) })
    }

    /// convert lower with R = 1 and K layers = the checkpoint's first K layers, run by the
    /// core engine on a model that has only those layers.
    @Test(arguments: [1, 3, 6])
    func convertLowerWithOneRecursionIsTheFirstLayers(layers: Int) throws {
        let model = try ArchFixtures.model("plain6")
        let converted = try runTokens(
            model, resolve(model, "convert", ["init": "lower", "recursions": "1", "layers": String(layers)]), tokens)
        var config = model.config
        config.numHiddenLayers = layers
        config.layerWindows = Array(config.layerWindows.prefix(layers))
        let firstLayers = Model(
            folder: model.folder, config: config, embedding: model.model.embedding,
            layers: Array(model.model.layers.prefix(layers)), finalNorm: model.model.finalNorm, lmHead: model.model.lmHead)
        #expect(converted.map(\.logits) == (try vanillaLogits(firstLayers, tokens)))
        #expect(converted.allSatisfy { $0.record.steps.count == layers })
    }

    /// With LoRA of full rank, shared weight + B A is each replaced layer's own weight: the
    /// k and v projections ([kv_dim, hidden]) have rank kv_dim, the largest rank allowed.
    @Test(arguments: ["cycle", "sequence", "middle_cycle"])
    func convertWithFullRankLoRARestoresTheReplacedLayers(sharing: String) throws {
        let model = try ArchFixtures.model("plain6")
        let rank = model.config.kvDim
        let architecture = try resolve(
            model, "convert",
            ["sharing": sharing, "recursions": "2", "init": "average", "lora_rank": String(rank), "lora_targets": "k_proj,v_proj"])
        let settings = try #require(architecture.conversion)
        let (converted, lora) = try Convert.build(from: model.model, settings)
        let offset = sharing == "middle_cycle" ? 1 : 0
        var checked = 0
        for k in 0..<settings.sharedLayers {
            for r in 0..<settings.recursions {
                let c = settings.correspondingLayer(loop: r, shared: k)
                guard c < 6 - 2 * offset else { continue }
                let deltas = try #require(lora[offset + k, r])
                for projection in [Projection.key, .value] {
                    let delta = try #require(deltas[projection])
                    let shared = converted.layers[offset + k].matrix(projection).floatValues
                    let original = model.model.layers[offset + c].matrix(projection).floatValues
                    let a = delta.a.floatValues
                    let b = delta.b.floatValues
                    let (rows, columns) = (delta.b.rows, delta.a.columns)
                    var worst: Float = 0
                    for i in 0..<rows {
                        for j in 0..<columns {
                            var product: Float = 0
                            for t in 0..<rank { product += b[i * rank + t] * a[t * columns + j] }
                            worst = max(worst, abs(shared[i * columns + j] + product - original[i * columns + j]))
                        }
                    }
                    #expect(worst < 1e-5, "step (\(r), \(k)) \(projection.rawValue): \(worst)")
                    checked += 1
                }
                #expect(deltas[.query] == nil && deltas[.down] == nil)
            }
        }
        #expect(checked == 2 * (6 - 2 * offset))
    }

    @Test func recurrentWithoutCriterionIsFixedLoops() throws {
        let model = try ArchFixtures.model("recurrent")
        let fixed = try runTokens(model, resolve(model, "recurrent", ["steps": "5"]), tokens)
        // Same loops with a criterion that can never pass: the coda runs after every loop
        // but the last loop's output, and every cache the later tokens read, are the same.
        let never = try runTokens(
            model, resolve(model, "recurrent", ["steps": "5", "criterion": "argmax_stable", "threshold": "5"]), tokens)
        #expect(maxDifference(fixed.map(\.logits), never.map(\.logits)) == 0)
        #expect(fixed.allSatisfy { $0.record.steps.count == 1 + 2 * 5 + 1 && $0.record.exit.reason == .fullDepth })
        #expect(never.allSatisfy { $0.record.steps.count == 1 + (2 + 1) * 5 })
    }
}
