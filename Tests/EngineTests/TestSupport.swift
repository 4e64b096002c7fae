import Foundation
import Testing

@testable import Engine

/// Where committed fixtures live: next to this file, so tests need no bundle resources.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let models = root.appendingPathComponent("models")

    static func model(_ name: String) -> String { models.appendingPathComponent(name).path }

    /// The parity fixtures written by training/make_model_fixtures.py.
    static let modelNames = [
        "llama2", "llama3", "llama-mqa", "mistral", "qwen2", "llama-bf16", "llama-f16", "llama-sharded",
        "llama3-tokenizer",
    ] + familyNames

    /// The families added on the engine's family registry (training/make_family_fixtures.py).
    static let familyNames = [
        "qwen3", "gemma", "gemma2", "gemma3_text", "gemma3", "gemma3-v5names", "phi3", "phi3-longrope", "phi3-partial",
    ]
}

/// expected.json of a model fixture.
struct ExpectedLogits: Decodable {
    struct Greedy: Decodable {
        let prompt: [Int]
        let generated: [Int]
    }
    /// Fixtures that ship a tokenizer: the prompt text and the generated text as shown.
    struct Text: Decodable {
        let prompt: String
        let generated: String
    }
    let description: String
    let tokens: [Int]
    let logits: [[Float]]
    let greedy: Greedy?
    let text: Text?

    static func load(_ name: String) throws -> ExpectedLogits {
        let data = try Data(contentsOf: Fixtures.models.appendingPathComponent(name).appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(ExpectedLogits.self, from: data)
    }
}

/// A scratch folder removed when the value is released.
final class TemporaryFolder {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("depthscope-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A copy of a model fixture to break in some way.
    static func copyOf(model name: String) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        let source = Fixtures.models.appendingPathComponent(name)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(
                at: source.appendingPathComponent(file), to: folder.url.appendingPathComponent(file))
        }
        return folder
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }

    func write(_ name: String, _ data: Data) throws {
        try data.write(to: url.appendingPathComponent(name))
    }

    func read(_ name: String) throws -> Data {
        try Data(contentsOf: url.appendingPathComponent(name))
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A tokenizer for engine tests: id i is the single character at code point 0x4E00 + i
/// (CJK ideographs), so every id has distinct, printable, multi-byte text.
struct LetterTokenizer: Tokenizer {
    let vocabularySize: Int
    var kind: String { "test-letters" }
    var bosTokenId: Int? { nil }
    var eosTokenId: Int? { nil }

    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        text.unicodeScalars.map { Int($0.value) - 0x4E00 }
    }

    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        ids.map(displayText).joined()
    }

    func displayText(_ id: Int) -> String {
        UnicodeScalar(UInt32(0x4E00 + id)).map { String($0) } ?? "?"
    }
}

/// Asserts that `body` throws an EngineError whose message is one line containing every
/// fragment (e.g. the file name and the problem).
func expectEngineError(
    containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an EngineError containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as EngineError {
        #expect(!error.message.contains("\n"), "error is not one line: \(error.message)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                error.message.contains(fragment), "'\(error.message)' does not mention '\(fragment)'",
                sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected an EngineError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The checkpoint's own layers at full depth (`vanilla`) as a runner: the engine's one
/// forward pass, one token per `run(token:position:)` or a batch per `run(_:)`.
func vanillaRunner(_ model: Model, capacity: Int, threads: Int = 1, batchSize: Int? = nil) throws -> DepthRunner {
    let plain = try DepthModel(plain: model)
    return try DepthRunner(
        source: plain, architecture: Architecture.resolve("vanilla", options: [], for: plain), capacity: capacity,
        threads: threads, batchSize: batchSize)
}

/// Generation on a plain model through `Session` (the engine's one generation loop).
func generateText(
    _ model: Model, tokenizer: any Tokenizer, prompt: [Int], options: GenerationOptions, capacity: Int = 64,
    onText: (String) throws -> Void = { _ in }
) throws -> GenerationResult {
    let session = try Session(
        model: try DepthModel(plain: model), tokenizer: tokenizer, architecture: nil, tracing: false, capacity: capacity)
    return try session.generate(prompt: prompt, options: options, onText: onText)
}

/// Feeds `tokens` through `runner` in batches of its batch size from position 0 and
/// returns every position's logits.
func runBatched(_ runner: DepthRunner, _ tokens: [Int]) throws -> [[Float]] {
    var rows: [[Float]] = []
    var start = 0
    while start < tokens.count {
        let batch = tokens[start..<min(start + runner.batchSize, tokens.count)]
        try runner.run(batch, logits: .all)
        for j in 0..<batch.count {
            rows.append(Array(UnsafeBufferPointer(start: runner.logits(of: j), count: runner.model.config.vocabSize)))
        }
        start += batch.count
    }
    return rows
}
