import ArgumentParser
import Engine
import Foundation

/// `depthscope generate --model DIR --prompt TEXT -n 64 [sampling options] [--arch NAME
/// --arch-option key=value ...] [--trace FILE] [--stats]` streams the generated text to
/// stdout as it is produced; `--trace` writes every token's trace as JSON Lines.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text after a prompt, streamed to standard output.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var quantize: QuantizeOption
    @OptionGroup var architecture: ArchitectureArguments
    @OptionGroup var threads: ThreadsOption

    @Option(name: .long, help: "Write one JSON object per token (prompt and generated) to this file (JSON Lines).")
    var trace: String?

    @Flag(name: .long, help: "Leave per-step attention rows out of the trace.")
    var noAttention = false

    @Flag(name: .long, help: "Leave the per-step logit lens out of the trace.")
    var noLens = false

    @Option(name: .long, help: "The prompt text.")
    var prompt: String = ""

    @Option(name: .long, help: "A chat message for an instruct model: rendered with the model's chat template, replaces --prompt.")
    var chat: String?

    @Option(name: .long, help: "With --chat: a system message before it.")
    var system: String?

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
        if chat != nil, !prompt.isEmpty { throw ValidationError("give --prompt or --chat, not both") }
        if system != nil, chat == nil { throw ValidationError("--system goes with --chat") }
    }

    func run() throws {
        let sampling = SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP,
            repetitionPenalty: repetitionPenalty, seed: seed)
        try sampling.validate()

        let folder = try modelOptions.folder()
        let (model, tokenizer) = try RunSetup.load(folder: folder, quantize: quantize.format)
        let chosen = try architecture.resolve(for: model)
        let promptIds =
            try chat.map {
                try RunSetup.chatPromptIds(
                    $0, system: system, model: folder, tokenizer: tokenizer, depthModel: model, what: "--chat")
            } ?? RunSetup.promptIds(prompt, tokenizer: tokenizer, model: model, what: "--prompt")
        let writer = try trace.map { try TraceWriter(path: $0) }
        var capture: TraceCapture = []
        if writer != nil, !noAttention { capture.insert(.attention) }
        if writer != nil, !noLens { capture.insert(.lens) }
        // --stats reads the runner's records; only --trace needs whole traces.
        let session = try Session(
            model: model, tokenizer: tokenizer, architecture: chosen, sampling: sampling, capture: capture,
            tracing: writer != nil,
            capacity: RunSetup.capacity(model: model, promptTokens: promptIds.count, maxNewTokens: maxTokens),
            threads: threads.count(for: model))
        let options = GenerationOptions(
            maxNewTokens: maxTokens, sampling: sampling, stopStrings: stop,
            stopTokens: RunSetup.stopTokens(model: model, tokenizer: tokenizer))

        if echo { try StandardStreams.write(chat == nil ? prompt : try tokenizer.decode(promptIds, skipSpecialTokens: false)) }
        var depth = DepthStatistics()
        try session.begin(prompt: promptIds, options: options) { try writer?.write($0) }
        while try session.next(onText: { try StandardStreams.write($0) }, onTrace: { try writer?.write($0) }) == nil {
            depth.add(session.lastRecord)
        }
        let result = try session.result()
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
            if chosen.name != "vanilla", depth.tokens > 0 {
                StandardStreams.writeError(
                    String(
                        format: "depth: mean %.2f of %d steps per generated token, FLOPs %.1f%% of full depth (%@)\n",
                        depth.meanDepth, chosen.maxDepth, 100 * depth.flopsRatio, chosen.spec))
            }
        }
    }
}
