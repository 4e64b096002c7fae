import Foundation
import Testing

@testable import Engine

@Suite struct GeneratorTests {
    let model: Model
    let greedyPrompt: [Int]
    let greedyTokens: [Int]

    init() throws {
        model = try Model(folder: Fixtures.model("llama2"))
        let greedy = try #require(try ExpectedLogits.load("llama2").greedy)
        greedyPrompt = greedy.prompt
        greedyTokens = greedy.generated
    }

    func generate(
        _ options: GenerationOptions, model: Model? = nil, prompt: [Int]? = nil, pieces: inout [String]
    ) throws -> GenerationResult {
        let model = model ?? self.model
        let tokenizer = LetterTokenizer(vocabularySize: model.config.vocabSize)
        return try generateText(model, tokenizer: tokenizer, prompt: prompt ?? greedyPrompt, options: options) {
            pieces.append($0)
        }
    }

    func text(_ ids: [Int]) -> String { ids.map { LetterTokenizer(vocabularySize: 96).displayText($0) }.joined() }

    /// A model folder with an HF tokenizer.json: generation from a text prompt streams the
    /// text HF shows for the same greedy ids (byte-level pieces joined into whole characters).
    @Test func generatesHFsTextFromATextPrompt() throws {
        let expected = try ExpectedLogits.load("llama3-tokenizer")
        let greedy = try #require(expected.greedy)
        let text = try #require(expected.text)
        let folder = Fixtures.model("llama3-tokenizer")
        let model = try Model(folder: folder)
        let tokenizer = try loadTokenizer(folder: folder)
        let prompt = try tokenizer.encode(text.prompt, addSpecialTokens: true)
        #expect(prompt == greedy.prompt)
        var pieces: [String] = []
        let result = try generateText(
            model, tokenizer: tokenizer, prompt: prompt,
            options: GenerationOptions(maxNewTokens: greedy.generated.count, sampling: .greedy)
        ) { pieces.append($0) }
        #expect(result.generatedTokens == greedy.generated)
        #expect(Array(pieces.joined().unicodeScalars) == Array(text.generated.unicodeScalars))
        // Every piece is whole characters: no piece ends inside a UTF-8 sequence.
        #expect(pieces.allSatisfy { !$0.unicodeScalars.contains("\u{FFFD}") })
    }

    @Test func stopStringEndsGenerationAndIsNotEmitted() throws {
        // Stop on the text of generated tokens 3 and 4.
        let stop = text(Array(greedyTokens[2...3]))
        var pieces: [String] = []
        let result = try generate(
            GenerationOptions(maxNewTokens: 8, sampling: .greedy, stopStrings: [stop]), pieces: &pieces)
        #expect(result.stopReason == .stopString)
        #expect(result.text == text(Array(greedyTokens[0..<2])))
        #expect(pieces.joined() == result.text)
        #expect(result.generatedTokens == Array(greedyTokens[0..<4]))
    }

    @Test func stopTokenEndsGenerationAndIsNotEmitted() throws {
        var pieces: [String] = []
        let result = try generate(
            GenerationOptions(maxNewTokens: 8, sampling: .greedy, stopTokens: [greedyTokens[2]]), pieces: &pieces)
        #expect(result.stopReason == .endOfSequence)
        #expect(result.generatedTokens == Array(greedyTokens[0..<2]))
        #expect(pieces.joined() == text(Array(greedyTokens[0..<2])))
    }

    @Test func contextLimitStopsWithAReason() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try editConfig(folder) { $0["max_position_embeddings"] = 6 }
        let small = try Model(folder: folder.path)
        var pieces: [String] = []
        let result = try generate(GenerationOptions(maxNewTokens: 8, sampling: .greedy), model: small, pieces: &pieces)
        #expect(result.stopReason == .contextLimit)
        #expect(result.contextLimit == 6)
        #expect(result.generatedTokens == Array(greedyTokens[0..<2]))  // 4 prompt + 2 = 6

        expectEngineError(containing: ["prompt is 7 tokens", "6"]) {
            _ = try generate(
                GenerationOptions(maxNewTokens: 1, sampling: .greedy), model: small,
                prompt: [1, 2, 3, 4, 5, 6, 7], pieces: &pieces)
        }
    }

    @Test func sameSeedSameText() throws {
        var pieces: [String] = []
        let sampled = SamplingParameters(temperature: 1, seed: 1234)
        let first = try generate(GenerationOptions(maxNewTokens: 24, sampling: sampled), pieces: &pieces)
        let second = try generate(GenerationOptions(maxNewTokens: 24, sampling: sampled), pieces: &pieces)
        var other = sampled
        other.seed = 99
        let third = try generate(GenerationOptions(maxNewTokens: 24, sampling: other), pieces: &pieces)
        #expect(first.generatedTokens.count == 24)
        #expect(first.generatedTokens == second.generatedTokens)
        #expect(first.generatedTokens != third.generatedTokens)
    }

    /// A model's embedding can have more rows than its tokenizer has tokens (padded
    /// vocabularies); a sampled id beyond the tokenizer has no text, as in HF's decode, and
    /// generation goes on.
    @Test func idsBeyondTheTokenizerGiveNoText() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        let characters = Array(fixtureCharacters.prefix(20))
        try folder.write("char_vocab.json", try JSONSerialization.data(withJSONObject: ["type": "char", "chars": characters]))
        let tokenizer = try loadTokenizer(folder: folder.path)
        let result = try generateText(
            model, tokenizer: tokenizer, prompt: [1, 2, 3],
            options: GenerationOptions(maxNewTokens: 40, sampling: SamplingParameters(temperature: 1, seed: 3)))
        let unknown = result.generatedTokens.filter { $0 >= 20 }
        #expect(!unknown.isEmpty && result.generatedTokens.count == 40)
        let known = result.generatedTokens.filter { $0 < 20 }
        #expect(result.text == (try tokenizer.decode(known, skipSpecialTokens: true)))
    }

    @Test func emptyPromptIsAnError() throws {
        var pieces: [String] = []
        expectEngineError(containing: ["prompt is empty"]) {
            _ = try generate(GenerationOptions(maxNewTokens: 1), prompt: [], pieces: &pieces)
        }
    }
}
