import ArgumentParser
import Engine
import Foundation

/// `depthscope generate --model DIR --prompt TEXT -n 64 [sampling options] [--stats]`
/// streams the generated text to stdout as it is produced.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text after a prompt, streamed to standard output.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "The prompt text.")
    var prompt: String = ""

    @Option(name: [.customShort("n"), .long], help: "Maximum number of tokens to generate.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 1

    @Option(name: .long, help: "Sample from the k most likely tokens only (0: off).")
    var topK: Int = 0

    @Option(name: .long, help: "Sample from the smallest set of tokens with probability >= p (1: off).")
    var topP: Float = 1

    @Option(name: .long, help: "Drop tokens less likely than min-p times the most likely one (0: off).")
    var minP: Float = 0

    @Option(name: .long, help: "Penalise tokens already in the text, as HF's repetition_penalty (1: off).")
    var repetitionPenalty: Float = 1

    @Option(name: .long, help: "Random seed: the same seed gives the same text.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Stop when the text contains this string (repeatable); it is not printed.")
    var stop: [String] = []

    @Flag(name: .long, help: "Print the prompt before the generated text.")
    var echo = false

    @Flag(name: .long, help: "Print prompt and generation speed (tokens/s) to stderr at the end.")
    var stats = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("-n/--max-tokens must be >= 0") }
    }

    func run() throws {
        let sampling = SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP,
            repetitionPenalty: repetitionPenalty, seed: seed)
        try sampling.validate()

        let folder = try modelOptions.folder()
        let model = try Model(folder: folder)
        let tokenizer = try loadTokenizer(folder: folder)
        let promptIds = try tokenizer.encode(prompt, addSpecialTokens: true)
        for id in promptIds where id >= model.config.vocabSize {
            throw EngineError(
                "--prompt: the tokenizer gives id \(id) but the model's vocabulary has \(model.config.vocabSize) entries")
        }
        let limit = Generator.contextLimit(model: model)
        let runner = try VanillaRunner(model: model, capacity: max(1, min(limit, promptIds.count + maxTokens)))
        let generator = Generator(runner: runner, tokenizer: tokenizer)

        var stopTokens = Set(model.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { stopTokens.insert(eos) }
        let options = GenerationOptions(
            maxNewTokens: maxTokens, sampling: sampling, stopStrings: stop, stopTokens: stopTokens)

        if echo { try StandardStreams.write(prompt) }
        let result = try generator.generate(prompt: promptIds, options: options) { piece in
            try StandardStreams.write(piece)
        }
        if result.stopReason == .contextLimit {
            StandardStreams.writeError(
                "depthscope: stopped at the context limit of \(result.contextLimit) tokens (max_position_embeddings in config.json)\n")
        }
        if stats {
            StandardStreams.writeError(
                String(
                    format: "prompt: %d tokens in %.3f s, %.1f tokens/s\ngeneration: %d tokens in %.3f s, %.1f tokens/s (stopped: %@)\n",
                    result.promptTokens, result.promptSeconds, result.promptTokensPerSecond,
                    result.generatedTokens.count, result.generationSeconds, result.generationTokensPerSecond,
                    result.stopReason.rawValue))
        }
    }
}
