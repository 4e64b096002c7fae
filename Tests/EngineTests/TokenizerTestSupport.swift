import Foundation
import Testing

@testable import Engine

/// Fixtures written by training/make_tokenizer_fixtures.py (HF tokenizers 0.23.3).
enum TokenizerFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("tokenizers")

    /// Every tokenizer.json fixture, one per configuration family; the second line has one per
    /// model family the engine runs, set up as that family's real tokenizer.json.
    static let huggingFaceNames = [
        "gpt2", "llama3", "qwen2", "roberta", "llama2", "mistral", "metaspace-unk", "metaspace-unk-unfused",
        "smollm2", "qwen3", "gemma2", "gemma3", "phi3", "phi4-mini", "huginn",
    ]

    static func folder(_ name: String) -> String { root.appendingPathComponent(name).path }
    static func file(_ name: String) -> String { root.appendingPathComponent(name).path }

    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try loadTokenizer(folder: folder(name))
    }

    /// Expectations are read with Foundation, independently of the JSON reader under test.
    static func decode<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// expected.json of a tokenizer fixture.
struct TokenizerExpectations: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let specialPrefix: [Int]
        let specialSuffix: [Int]
        /// nil: decoding gives back `text` exactly.
        let decoded: String?
        let decodedSkipSpecial: String?

        var idsWithSpecial: [Int] { specialPrefix + ids + specialSuffix }
    }

    struct DecodeCase: Decodable {
        let ids: [Int]
        let text: String
        let textSkipSpecial: String
    }

    let cases: [Case]
    let decodeCases: [DecodeCase]

    static func load(_ name: String) throws -> TokenizerExpectations {
        try TokenizerFixtures.decode(Self.self, from: TokenizerFixtures.folder(name) + "/expected.json")
    }
}

/// Text equality scalar by scalar: Swift's `==` on String treats canonically equivalent
/// text ("é" and "e\u{301}") as equal, which would hide a wrong normalization.
func expectSameText(_ actual: String, _ expected: String, _ context: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let a = Array(actual.unicodeScalars)
    let b = Array(expected.unicodeScalars)
    #expect(a == b, "\(context): got \(actual.debugDescription), expected \(expected.debugDescription)",
            sourceLocation: sourceLocation)
}

/// Asserts that `body` throws an EngineError whose message is one line containing every fragment.
func expectOneLineError(containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an EngineError containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as EngineError {
        #expect(!error.message.contains("\n"), "not one line: \(error.message)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.message.contains(fragment), "'\(error.message)' does not mention '\(fragment)'",
                    sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected an EngineError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A scratch folder for broken tokenizer files, removed afterwards.
final class TokenizerScratchFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("depthscope-tokenizer-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
