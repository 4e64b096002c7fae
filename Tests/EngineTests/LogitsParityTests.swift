import Foundation
import Testing

@testable import Engine

/// The engine's logits against HF transformers (float32, eager) on every model fixture;
/// see training/make_model_fixtures.py for what each fixture covers.
@Suite struct LogitsParityTests {
    static let tolerance: Float = 1e-3

    @Test(arguments: Fixtures.modelNames)
    func logitsMatchTransformers(name: String) throws {
        let expected = try ExpectedLogits.load(name)
        let model = try Model(folder: Fixtures.model(name))
        let runner = try vanillaRunner(model, capacity: expected.tokens.count)
        var worst: Float = 0
        for (position, token) in expected.tokens.enumerated() {
            let logits = try runner.run(token: token, position: position)
            let reference = expected.logits[position]
            try #require(logits.count == reference.count)
            for (ours, theirs) in zip(logits, reference) {
                worst = max(worst, abs(ours - theirs))
            }
        }
        #expect(worst <= Self.tolerance, "\(name): max |logit difference| \(worst) (\(expected.description))")
    }

    @Test(arguments: Fixtures.modelNames.filter { (try? ExpectedLogits.load($0).greedy) != nil })
    func greedyGenerationMatchesTransformers(name: String) throws {
        let expected = try #require(try ExpectedLogits.load(name).greedy)
        let model = try Model(folder: Fixtures.model(name))
        let result = try generateText(
            model, tokenizer: LetterTokenizer(vocabularySize: model.config.vocabSize), prompt: expected.prompt,
            options: GenerationOptions(maxNewTokens: expected.generated.count, sampling: .greedy))
        #expect(result.generatedTokens == expected.generated)
        #expect(result.stopReason == .maxTokens)
    }

    @Test func fixturesExerciseWhatTheyClaim() throws {
        let llama3 = try Model(folder: Fixtures.model("llama3"))
        #expect(llama3.config.headDim == 12 && llama3.config.hiddenSize / llama3.config.numAttentionHeads == 8)
        #expect(llama3.config.rope.ropeType == "llama3")
        #expect(llama3.lmHead === llama3.embedding)
        #expect(llama3.config.numKeyValueHeads == 2)

        let mqa = try Model(folder: Fixtures.model("llama-mqa"))
        #expect(mqa.config.numKeyValueHeads == 1 && mqa.config.rope.ropeType == "linear")
        #expect(mqa.layers[0].outputBias != nil && mqa.layers[0].downBias != nil)

        let qwen = try Model(folder: Fixtures.model("qwen2"))
        #expect(qwen.layers[0].queryBias != nil && qwen.layers[0].outputBias == nil)
        #expect(qwen.config.layerWindows == [nil, 3])

        #expect(try Model(folder: Fixtures.model("mistral")).config.layerWindows == [4, 4])
        #expect(try Model(folder: Fixtures.model("llama-bf16")).matrixDTypes == ["BF16"])
        #expect(try Model(folder: Fixtures.model("llama-f16")).matrixDTypes == ["F16"])
        #expect(try Checkpoint(folder: Fixtures.model("llama-sharded")).files.count > 1)
        #expect(try Model(folder: Fixtures.model("llama2")).lmHead !== Model(folder: Fixtures.model("llama2")).embedding)
    }
}
