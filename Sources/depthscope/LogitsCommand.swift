import ArgumentParser
import Engine

/// `depthscope logits --model DIR --tokens 5,17,3` prints `{"logits": [[...], ...]}`: one
/// row of float32 logits per position, computed token by token with the KV cache.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the next-token logits at every position of a token sequence, as JSON.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Comma-separated token ids, e.g. 5,17,3.")
    var tokens: String

    func run() throws {
        let ids = try parseTokenList(tokens, option: "--tokens")
        let model = try Model(folder: modelOptions.folder())
        for id in ids where id < 0 || id >= model.config.vocabSize {
            throw EngineError("--tokens: token id \(id) is out of range (vocabulary size \(model.config.vocabSize))")
        }
        guard ids.count <= model.config.maxPositionEmbeddings else {
            throw EngineError(
                "--tokens: \(ids.count) tokens exceed the model's context of \(model.config.maxPositionEmbeddings) (max_position_embeddings)")
        }
        let runner = try VanillaRunner(model: model, capacity: ids.count)
        var output = "{\"logits\": ["
        for (position, id) in ids.enumerated() {
            let logits = try runner.run(token: id, position: position)
            output += position == 0 ? "[" : ", ["
            for i in 0..<logits.count {
                let value = logits[i]
                guard value.isFinite else {
                    throw EngineError("logit \(i) at position \(position) is \(value): the weights overflow in f32")
                }
                if i > 0 { output += ", " }
                output += value.description
            }
            output += "]"
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
