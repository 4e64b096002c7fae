import Foundation
import Testing

@testable import Engine

/// What each family fixture claims to exercise is what the loaded model holds (the logits
/// themselves are checked against transformers in LogitsParityTests).
@Suite struct FamilyTests {
    func model(_ name: String) throws -> Model { try Model(folder: Fixtures.model(name)) }

    @Test func qwen3HasHeadNormsAndItsOwnHeadSize() throws {
        let qwen = try model("qwen3")
        #expect(qwen.config.family == Qwen3.self && qwen.config.queryKeyNorm)
        #expect(qwen.layers.allSatisfy { $0.queryNorm?.count == 8 && $0.keyNorm?.count == 8 && $0.queryBias == nil })
        #expect(qwen.config.queryDim != qwen.config.hiddenSize && qwen.lmHead === qwen.embedding)
    }

    @Test func gemmaScalesEmbeddingsAndNormsByOnePlusW() throws {
        let gemma = try model("gemma")
        #expect(gemma.config.embeddingScale == Float(32.0.squareRoot()) && gemma.config.activation == .geluTanh)
        #expect(gemma.config.hiddenAct == "gelu_pytorch_tanh")  // config.json says "gelu"
        // Stored weights are centred on 0; loaded norms are 1 + w.
        let stored = try SafetensorsSource(folder: Fixtures.model("gemma"))
        let raw = try stored.vector("model.norm.weight", count: 32)
        #expect(zip(gemma.finalNorm.values, raw.values).allSatisfy { $0 == 1 + $1 })
    }

    @Test func gemma2CapsAlternatesAndNormsEachBranch() throws {
        let config = try model("gemma2").config
        #expect(config.extraNorms == .branchOutputs && config.attentionSoftcap == 5 && config.logitSoftcap == 10)
        #expect(config.layerWindows == [4, nil] && config.attentionScale == 1 / Float(24).squareRoot())
    }

    @Test func gemma3HasLocalAndGlobalRopes() throws {
        let text = try model("gemma3_text")
        #expect(text.config.layerWindows == [4, 4, 4, 4, 4, nil] && text.ropes.count == 2)
        #expect(text.layers.map(\.rope) == [1, 1, 1, 1, 1, 0] || text.layers.map(\.rope) == [0, 0, 0, 0, 0, 1])
        let global = text.ropes[text.layers[5].rope], local = text.ropes[text.layers[0].rope]
        #expect(global.ropeType == "linear" && global.ropeTheta == 1_000_000 && local.ropeType == "default" && local.ropeTheta == 10_000)
        // The multimodal checkpoint: its text model, with the class defaults its sparse
        // text_config leaves out, the same whether saved by transformers 4.50 or 5.
        let released = try model("gemma3"), resaved = try model("gemma3-v5names")
        #expect(released.config.attentionScale == 1 / Float(256).squareRoot() && released.config.logitSoftcap == nil)
        #expect(released.config.layerWindows == [4, nil])
        let tokens = try ExpectedLogits.load("gemma3").tokens
        let runner = try vanillaRunner(released, capacity: tokens.count), other = try vanillaRunner(resaved, capacity: tokens.count)
        for (position, token) in tokens.enumerated() {
            #expect(try runner.run(token: token, position: position) == (try other.run(token: token, position: position)))
        }
    }

    @Test func phi3SplitsFusedProjectionsAndScalesItsRope() throws {
        let plain = try model("phi3")
        #expect(plain.config.layerWindows.allSatisfy { $0 == 5 } && plain.layers[0].query.rows == plain.config.queryDim)
        let long = try model("phi3-longrope").config.rope
        #expect(long.ropeType == "longrope" && abs(long.cosineScale - 1.632993) < 1e-6)
        // Long factors once a run's context exceeds the original 8 positions.
        #expect(long.inverseFrequencies(headDim: 16, contextLength: 12) != long.inverseFrequencies(headDim: 16, contextLength: 8))
        let partial = try model("phi3-partial").config
        #expect(partial.rotaryDim == 12 && partial.headDim == 16)
    }
}
