import ArgumentParser
import Engine

/// `depthscope logits --model DIR --tokens 5,17,3 [--arch NAME --arch-option k=v ...]`
/// prints `{"logits": [[...], ...]}`: one row of float32 logits per position, under the
/// checkpoint's own architecture or the one named, the ids fed as one prompt.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the next-token logits at every position of a token sequence, as JSON.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var quantize: QuantizeOption
    @OptionGroup var architecture: ArchitectureArguments
    @OptionGroup var threads: ThreadsOption

    @Option(name: .long, help: "Comma-separated token ids, e.g. 5,17,3.")
    var tokens: String

    func run() throws {
        let ids = try parseTokenList(tokens, option: "--tokens")
        let model = try DepthModel(folder: modelOptions.folder(), quantize: quantize.format)
        let vocabulary = model.config.vocabSize
        for id in ids where id < 0 || id >= vocabulary {
            throw EngineError("--tokens: token id \(id) is out of range (vocabulary size \(vocabulary))")
        }
        guard ids.count <= model.config.maxPositionEmbeddings else {
            throw EngineError(
                "--tokens: \(ids.count) tokens exceed the model's context of \(model.config.maxPositionEmbeddings) (max_position_embeddings)")
        }
        let runner = try DepthRunner(
            source: model, architecture: try architecture.resolve(for: model), capacity: ids.count,
            threads: threads.count(for: model))
        var output = "{\"logits\": ["
        var start = 0
        while start < ids.count {
            let batch = ids[start..<min(start + runner.batchSize, ids.count)]
            try runner.run(batch, logits: .all)
            for j in 0..<batch.count {
                let logits = runner.logits(of: j)
                output += start + j == 0 ? "[" : ", ["
                for i in 0..<vocabulary {
                    let value = logits[i]
                    guard value.isFinite else {
                        throw EngineError("logit \(i) at position \(start + j) is \(value): the weights overflow in f32")
                    }
                    if i > 0 { output += ", " }
                    output += value.description
                }
                output += "]"
            }
            start += batch.count
        }
        output += "]}\n"
        try StandardStreams.write(output)
    }
}

/// Parses "5,17,3" (spaces allowed) into ids; the error names the option and the value.
func parseTokenList(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
    guard !(parts.count == 1 && parts[0].isEmpty) else {
        throw EngineError("\(option): no token ids given")
    }
    return try parts.map { part in
        guard let id = Int(part) else {
            throw EngineError("\(option): '\(part)' is not a token id (expected comma-separated integers)")
        }
        return id
    }
}
