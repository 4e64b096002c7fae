import ArgumentParser
import Engine

/// `depthscope tokenize --model DIR` (or `--tokenizer FILE`) reads all of standard input,
/// byte for byte, and prints `{"ids": [...]}`.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Turn UTF-8 text from standard input into token ids, printed as JSON.")

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Add the tokenizer's special tokens (e.g. BOS), as HF's add_special_tokens.")
    var addSpecialTokens = true

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let text = try StandardStreams.readAllText()
        let ids = try tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
        try StandardStreams.write("{\"ids\": [\(ids.map(String.init).joined(separator: ", "))]}\n")
    }
}

/// `--model DIR` or `--tokenizer FILE`: where the tokenizer comes from.
struct TokenizerOptions: ParsableArguments {
    @Option(name: .long, help: "Model folder or model name whose tokenizer to use.")
    var model: String?

    @Option(name: .long, help: "A tokenizer file: tokenizer.json (HF) or char_vocab.json.")
    var tokenizer: String?

    func validate() throws {
        guard (model == nil) != (tokenizer == nil) else {
            throw ValidationError("give exactly one of --model and --tokenizer")
        }
    }

    func load() throws -> any Tokenizer {
        if let tokenizer {
            return try loadTokenizer(file: tokenizer)
        }
        return try loadTokenizer(folder: ModelLocator.resolve(model ?? ""))
    }
}
