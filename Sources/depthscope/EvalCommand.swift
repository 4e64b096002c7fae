import ArgumentParser
import Engine
import Foundation

/// `depthscope eval --model DIR --file TEXT [--arch ...] [--json]`: mean negative
/// log-likelihood per token, perplexity, mean depth and FLOPs per token, by the protocol
/// of docs/architectures.md section 8.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on a text file: NLL per token, perplexity, mean depth, FLOPs per token.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var quantize: QuantizeOption
    @OptionGroup var architecture: ArchitectureArguments
    @OptionGroup var threads: ThreadsOption

    @Option(name: .long, help: "UTF-8 text to evaluate.")
    var file: String

    @Flag(name: .long, help: "Evaluate only the validation split: the last 10% of the file's characters.")
    var validationSplit = false

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let folder = try modelOptions.folder()
        let model = try DepthModel(folder: folder, quantize: quantize.format)
        let tokenizer = try loadTokenizer(folder: folder)
        let chosen = try architecture.resolve(for: model)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw EngineError("\(file): no such file or not readable")
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            throw EngineError("\(file): not valid UTF-8")
        }
        if validationSplit { text = Evaluation.validationSplit(text) }
        let result: EvaluationResult
        do {
            let ids = try tokenizer.encode(text, addSpecialTokens: false)
            result = try Evaluation.run(
                model: model, tokenizer: tokenizer, architecture: chosen, ids: ids, threads: threads.count(for: model))
        } catch let error as EngineError {
            throw EngineError("\(file): \(error.message)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            try StandardStreams.write(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n")
        } else {
            try StandardStreams.write(
                String(
                    format: """
                        architecture  %@
                        tokens        %d in %d windows
                        nll           %.4f nats/token
                        perplexity    %.3f
                        mean depth    %.3f of %d steps (%.1f%% of tokens stopped early)
                        flops/token   %.4g (full depth %.4g, %.1f%%)
                        time          %.2f s

                        """, result.architecture, result.tokens, result.windows, result.nll, result.perplexity,
                    result.meanDepth, result.fullDepth, 100 * result.earlyFraction, result.flopsPerToken,
                    result.fullDepthFlopsPerToken, 100 * result.flopsRatio, result.seconds))
        }
    }
}
