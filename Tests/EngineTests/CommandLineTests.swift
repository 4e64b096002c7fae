import Foundation
import Testing

@testable import Engine

/// Runs the real `depthscope` executable, as a user or a script would.
struct CommandResult {
    let status: Int32
    let exitedNormally: Bool
    let stdout: Data
    let stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

enum Depthscope {
    /// The executable built next to the test bundle (`swift test` builds every product).
    static let executable: URL? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug"),
        ].map { $0.appendingPathComponent("depthscope") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    static func run(_ arguments: [String], stdin: Data = Data(), environment: [String: String] = [:]) throws
        -> CommandResult
    {
        let executable = try #require(executable, "depthscope executable not found next to the tests")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, exitedNormally: process.terminationReason == .exit, stdout: out,
            stderr: String(decoding: err, as: UTF8.self))
    }
}

/// A character vocabulary for the fixtures' 96 ids: "\n" then printable ASCII.
let fixtureCharacters = ["\n"] + (0x20...0x7E).map { String(UnicodeScalar(UInt8($0))) }

func writeCharVocabulary(into folder: TemporaryFolder) throws {
    let json = try JSONSerialization.data(withJSONObject: ["type": "char", "chars": fixtureCharacters])
    try folder.write("char_vocab.json", json)
}

@Suite struct CommandLineTests {
    /// Exactly one line on stderr, "depthscope: ..." naming every fragment; exit 1; no trap.
    func expectCleanFailure(
        _ result: CommandResult, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.exitedNormally, "terminated by a signal (a trap?)", sourceLocation: sourceLocation)
        #expect(result.status == 1, "exit status \(result.status)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("depthscope: "), sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "'\(result.stderr)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        }
    }

    @Test func logitsPrintsHFsLogitsAsJSON() throws {
        let expected = try ExpectedLogits.load("qwen2")
        let result = try Depthscope.run([
            "logits", "--model", Fixtures.model("qwen2"), "--tokens", expected.tokens.map(String.init).joined(separator: ","),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        struct Output: Decodable { let logits: [[Float]] }
        let output = try JSONDecoder().decode(Output.self, from: result.stdout)
        #expect(output.logits.count == expected.tokens.count)
        let worst = zip(output.logits.joined(), expected.logits.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-3)
    }

    @Test func badModelsFailCleanly() throws {
        expectCleanFailure(
            try Depthscope.run(["logits", "--model", "/no/such/folder", "--tokens", "1"]),
            mentioning: ["/no/such/folder"])

        let notJSON = try TemporaryFolder.copyOf(model: "llama2")
        try notJSON.write("config.json", "model_type = llama")
        expectCleanFailure(
            try Depthscope.run(["logits", "--model", notJSON.path, "--tokens", "1"]),
            mentioning: [notJSON.file("config.json"), "not valid JSON"])

        let unknown = try TemporaryFolder.copyOf(model: "llama2")
        try editConfig(unknown) { $0["model_type"] = "bert" }
        expectCleanFailure(
            try Depthscope.run(["inspect", "--model", unknown.path]),
            mentioning: [unknown.file("config.json"), "'bert'"])

        let truncated = try TemporaryFolder.copyOf(model: "llama2")
        let weights = try truncated.read("model.safetensors")
        try truncated.write("model.safetensors", weights.prefix(weights.count - 1000))
        expectCleanFailure(
            try Depthscope.run(["logits", "--model", truncated.path, "--tokens", "1"]),
            mentioning: [truncated.file("model.safetensors"), "truncated"])

        let lying = try TemporaryFolder.copyOf(model: "llama2")
        var header = try lying.read("model.safetensors")
        header.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        try lying.write("model.safetensors", header)
        expectCleanFailure(
            try Depthscope.run(["generate", "--model", lying.path, "--prompt", "x"]),
            mentioning: [lying.file("model.safetensors"), "header claims"])

        let wrongShape = try TemporaryFolder.copyOf(model: "llama2")
        try editConfig(wrongShape) { $0["hidden_size"] = 48 }
        expectCleanFailure(
            try Depthscope.run(["logits", "--model", wrongShape.path, "--tokens", "1"]),
            mentioning: [wrongShape.file("model.safetensors"), "model.embed_tokens.weight", "[96, 48]"])
    }

    @Test func badTokensFailCleanly() throws {
        expectCleanFailure(
            try Depthscope.run(["logits", "--model", Fixtures.model("llama2"), "--tokens", "5,96"]),
            mentioning: ["--tokens", "96", "out of range"])
        expectCleanFailure(
            try Depthscope.run(["logits", "--model", Fixtures.model("llama2"), "--tokens", "5,x"]),
            mentioning: ["--tokens", "'x'"])
    }

    @Test func tokenizeReadsAllOfStdinAndDetokenizeReversesIt() throws {
        let folder = try TemporaryFolder()
        try writeCharVocabulary(into: folder)
        let vocabulary = folder.file("char_vocab.json")

        let text = "  To be,\n\n  or not to be?  \n\n\n"
        let tokenized = try Depthscope.run(["tokenize", "--tokenizer", vocabulary], stdin: Data(text.utf8))
        #expect(tokenized.status == 0, "\(tokenized.stderr)")
        struct Ids: Decodable { let ids: [Int] }
        let ids = try JSONDecoder().decode(Ids.self, from: tokenized.stdout).ids
        let expected = text.unicodeScalars.map { scalar in fixtureCharacters.firstIndex(of: String(scalar)) ?? -1 }
        #expect(ids == expected)

        let detokenized = try Depthscope.run(["detokenize", "--tokenizer", vocabulary], stdin: tokenized.stdout)
        #expect(detokenized.status == 0, "\(detokenized.stderr)")
        #expect(detokenized.stdout == Data(text.utf8))
    }

    @Test func tokenizeRejectsBadInputCleanly() throws {
        let folder = try TemporaryFolder()
        try writeCharVocabulary(into: folder)
        let vocabulary = folder.file("char_vocab.json")
        expectCleanFailure(try Depthscope.run(["tokenize", "--tokenizer", vocabulary]), mentioning: ["stdin"])
        expectCleanFailure(
            try Depthscope.run(["tokenize", "--tokenizer", vocabulary], stdin: Data([0x61, 0x62, 0xC3, 0x28])),
            mentioning: ["stdin", "UTF-8", "offset 2"])
        expectCleanFailure(
            try Depthscope.run(["tokenize", "--tokenizer", folder.file("missing.json")], stdin: Data("a".utf8)),
            mentioning: ["missing.json"])
        expectCleanFailure(
            try Depthscope.run(["detokenize", "--tokenizer", vocabulary], stdin: Data("[1, \"b\"]".utf8)),
            mentioning: ["stdin"])
    }

    /// A fixture copied into a models/ folder with a character tokenizer, so it can be
    /// found by name and can generate text.
    func namedModel() throws -> (TemporaryFolder, String) {
        let root = try TemporaryFolder()
        let model = root.url.appendingPathComponent("models/tiny-llama")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(
                at: Fixtures.models.appendingPathComponent("llama2").appendingPathComponent(file),
                to: model.appendingPathComponent(file))
        }
        let json = try JSONSerialization.data(withJSONObject: ["type": "char", "chars": fixtureCharacters])
        try json.write(to: model.appendingPathComponent("char_vocab.json"))
        return (root, root.url.appendingPathComponent("models").path)
    }

    @Test func generateStreamsHFsGreedyTextAndStats() throws {
        let greedy = try #require(try ExpectedLogits.load("llama2").greedy)
        let (root, models) = try namedModel()
        _ = root
        let prompt = greedy.prompt.map { fixtureCharacters[$0] }.joined()
        let result = try Depthscope.run(
            ["generate", "--model", "tiny-llama", "--prompt", prompt, "-n", "8", "--temperature", "0", "--stats"],
            environment: ["DEPTHSCOPE_MODELS": models])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == greedy.generated.map { fixtureCharacters[$0] }.joined())
        #expect(result.stderrLines.count == 2)
        #expect(result.stderrLines.first?.hasPrefix("prompt: 4 tokens") == true)
        #expect(result.stderrLines.last?.hasPrefix("generation: 8 tokens") == true)
        #expect(result.stderr.contains("tokens/s"))

        let sampled = ["generate", "--model", "tiny-llama", "--prompt", prompt, "-n", "20", "--seed", "5", "--top-k", "20"]
        let first = try Depthscope.run(sampled, environment: ["DEPTHSCOPE_MODELS": models])
        let second = try Depthscope.run(sampled, environment: ["DEPTHSCOPE_MODELS": models])
        #expect(first.status == 0 && first.stdout == second.stdout && !first.stdout.isEmpty)
    }

    @Test func unknownModelNameListsTheAvailableOnes() throws {
        let (root, models) = try namedModel()
        _ = root
        expectCleanFailure(
            try Depthscope.run(["inspect", "--model", "tiny-lama"], environment: ["DEPTHSCOPE_MODELS": models]),
            mentioning: ["'tiny-lama'", "tiny-llama"])
    }

    @Test func inspectDescribesTheModel() throws {
        let result = try Depthscope.run(["inspect", "--model", Fixtures.model("llama3"), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(report["model_type"] as? String == "llama")
        #expect(report["head_dim"] as? Int == 12)
        #expect(report["key_value_heads"] as? Int == 2)
        #expect(report["tied_embeddings"] as? Bool == true)
        #expect(report["weight_dtypes"] as? [String] == ["F32"])
        // Tied: embeddings counted once; 2 layers of q(48x32) k,v(24x32) o(32x48) mlp(3x64x32) + 2 norms.
        let layer = 48 * 32 + 2 * 24 * 32 + 32 * 48 + 3 * 64 * 32 + 2 * 32
        #expect(report["parameters"] as? Int == 96 * 32 + 2 * layer + 32)

        let text = try Depthscope.run(["inspect", "--model", Fixtures.model("llama-bf16")])
        #expect(text.status == 0 && text.text.contains("BF16") && text.text.contains("parameters"))
    }

    /// `--tensors` lists every tensor of the file with its type; bits per weight counts the
    /// file's bytes over its values (Q8_0: 34 bytes per 32 values, F32 norms: 32 bits).
    @Test func inspectListsTensorTypesAndBitsPerWeight() throws {
        let file = Fixtures.root.appendingPathComponent("quants/Q8_0.gguf").path
        let result = try Depthscope.run(["inspect", "--model", file, "--tensors", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let tensors = try #require(report["tensors"] as? [[String: Any]])
        #expect(tensors.count == 12)
        let bitsPerType = ["Q8_0": 8.5, "F32": 32.0]
        var bits = 0.0, values = 0
        for tensor in tensors {
            let count = (tensor["shape"] as? [Int] ?? []).reduce(1, *)
            bits += try #require(bitsPerType[tensor["type"] as? String ?? ""]) * Double(count)
            values += count
        }
        #expect(tensors.first { $0["name"] as? String == "blk.0.attn_q.weight" }?["type"] as? String == "Q8_0")
        #expect(abs((report["bits_per_weight"] as? Double ?? 0) - bits / Double(values)) < 1e-9)
        let text = try Depthscope.run(["inspect", "--model", file, "--tensors"])
        #expect(text.text.contains("bits/weight  8.54 in the file"))
        #expect(text.text.split(separator: "\n").contains { $0.hasPrefix("blk.0.ffn_norm.weight") && $0.contains("F32") })
    }

    @Test func usageErrorsAreArgumentParsers() throws {
        let result = try Depthscope.run(["logits"])
        #expect(result.exitedNormally && result.status != 0)
        #expect(result.stderr.contains("--model"))
    }
}

/// The tokenize/detokenize contract with real HF tokenizer.json files: for each family, the
/// three longest texts of the tokenizer fixtures (the hard multilingual ones) go through
/// the binary's stdin and must give HF's ids, and the ids must decode to HF's text.
@Suite struct CommandLineTokenizerTests {
    @Test(arguments: TokenizerFixtures.huggingFaceNames)
    func tokenizeAndDetokenizeMatchHF(name: String) throws {
        let file = TokenizerFixtures.folder(name) + "/tokenizer.json"
        let cases = try TokenizerExpectations.load(name).cases.sorted { $0.text.utf8.count > $1.text.utf8.count }.prefix(3)
        for testCase in cases {
            let tokenized = try Depthscope.run(["tokenize", "--tokenizer", file], stdin: Data(testCase.text.utf8))
            #expect(tokenized.status == 0, "\(tokenized.stderr)")
            struct Ids: Decodable { let ids: [Int] }
            let ids = try JSONDecoder().decode(Ids.self, from: tokenized.stdout).ids
            #expect(ids == testCase.idsWithSpecial, "\(name): \(testCase.text.prefix(40))")

            let detokenized = try Depthscope.run(["detokenize", "--tokenizer", file], stdin: tokenized.stdout)
            #expect(detokenized.status == 0, "\(detokenized.stderr)")
            #expect(detokenized.stdout == Data((testCase.decoded ?? testCase.text).utf8), "\(name)")
        }
    }
}

extension CommandLineTests {
    @Test func generateWithAnHFTokenizerPrintsHFsText() throws {
        let expected = try ExpectedLogits.load("llama3-tokenizer")
        let text = try #require(expected.text)
        let count = try #require(expected.greedy).generated.count
        let result = try Depthscope.run([
            "generate", "--model", Fixtures.model("llama3-tokenizer"), "--prompt", text.prompt,
            "-n", String(count), "--temperature", "0",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == Data(text.generated.utf8))
    }
}
