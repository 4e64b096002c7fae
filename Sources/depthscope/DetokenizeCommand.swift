import ArgumentParser
import Engine
import Foundation

/// `depthscope detokenize --model DIR` reads token ids from standard input — the
/// `{"ids": [...]}` that `tokenize` prints, a JSON array, or ids separated by commas or
/// whitespace — and prints the decoded text exactly (no newline added).
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Turn token ids from standard input back into text.")

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Flag(name: .long, help: "Leave out special tokens (BOS, EOS, ...), as HF's skip_special_tokens.")
    var skipSpecialTokens = false

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let ids = try Self.parseIds(StandardStreams.readAllText())
        let text = try tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
        try StandardStreams.write(text)
    }

    static func parseIds(_ input: String) throws -> [Int] {
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw EngineError("stdin: no token ids") }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            let json = try JSONValue.parse(Data(trimmed.utf8), file: "stdin")
            guard let list = (json["ids"] ?? json).arrayValue else {
                throw EngineError("stdin: expected {\"ids\": [...]} or a JSON array of token ids")
            }
            return try list.map { value in
                guard let id = value.intValue else { throw EngineError("stdin: \(value) is not a token id") }
                return id
            }
        }
        let parts = trimmed.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        return try parts.map { part in
            guard let id = Int(part) else { throw EngineError("stdin: '\(part)' is not a token id") }
            return id
        }
    }
}
