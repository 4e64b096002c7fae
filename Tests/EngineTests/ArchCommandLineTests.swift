import Foundation
import Testing

@testable import Engine

/// `archs`, `eval` and `generate --arch ... --trace` through the real binary.
@Suite struct ArchCommandLineTests {
    let cli = CommandLineTests()
    var morExpert: String { ArchFixtures.modelFolder("mor_expert") }

    @Test func archsListsEveryArchitectureWithItsOptions() throws {
        let text = try Depthscope.run(["archs"])
        #expect(text.status == 0, "\(text.stderr)")
        for name in Architecture.names { #expect(text.text.contains("\n\(name)  ") || text.text.hasPrefix("\(name)  ")) }
        #expect(text.text.contains("threshold  [0, 1]"))

        let json = try Depthscope.run(["archs", "--model", morExpert, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(report["default_architecture"] as? String == "mor")
        let entries = try #require(report["architectures"] as? [[String: Any]])
        #expect(entries.compactMap { $0["name"] as? String } == Architecture.names)
        let mor = try #require(entries.first { $0["name"] as? String == "mor" })
        #expect(mor["available"] as? Bool == true && mor["max_depth"] as? Int == 8)
        #expect((mor["defaults"] as? [String: String]) == ["threshold": "0.5", "kv": "recursion_wise"])
        let ut = try #require(entries.first { $0["name"] as? String == "ut" })
        #expect(ut["available"] as? Bool == false && (ut["reason"] as? String)?.contains("\"act\"") == true)
    }

    @Test func generateWritesATraceThatMatchesTheText() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("trace.jsonl")
        let result = try Depthscope.run([
            "generate", "--model", morExpert, "--prompt", "#$%&", "-n", "12", "--temperature", "0",
            "--arch", "mor", "--arch-option", "threshold=0.6", "--trace", path, "--stats",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let traces = try TraceFile.read(path)
        #expect(traces.count == 4 + 12)
        #expect(traces.filter(\.isPrompt).map(\.text).joined() == "#$%&")
        #expect(traces.filter { !$0.isPrompt }.map(\.text).joined() == result.text)
        #expect(traces.allSatisfy { $0.steps.allSatisfy { $0.attention != nil && $0.lens?.count == 5 } })
        #expect(traces.allSatisfy { $0.exit.reason == .router ? $0.exit.threshold == 0.6 : $0.exit.reason == .fullDepth })
        #expect(result.stderrLines.last?.hasPrefix("depth: mean ") == true)
        #expect(result.stderr.contains("mor threshold=0.6 kv=recursion_wise"))

        // snake_case keys, one object per line.
        let firstLine = try #require(String(decoding: try folder.read("trace.jsonl"), as: UTF8.self).split(separator: "\n").first)
        for key in ["\"is_prompt\"", "\"time_ms\"", "\"full_depth_flops\"", "\"kv_cache_bytes\"", "\"router_probabilities\"", "\"max_steps\""] {
            #expect(firstLine.contains(key), "\(key) missing")
        }

        let lean = try Depthscope.run([
            "generate", "--model", morExpert, "--prompt", "#$%&", "-n", "12", "--temperature", "0",
            "--arch", "mor", "--arch-option", "threshold=0.6", "--trace", path, "--no-attention", "--no-lens",
        ])
        #expect(lean.stdout == result.stdout)
        #expect(try TraceFile.read(path).allSatisfy { $0.steps.allSatisfy { $0.attention == nil && $0.lens == nil } })
    }

    @Test func evalReportsLossDepthAndFlops() throws {
        let folder = try TemporaryFolder()
        try folder.write("text.txt", "#$%&'()*+,-./0123456789:;<=>? !\"#$%&'()*+,-./0123456789")
        let full = try Depthscope.run(["eval", "--model", morExpert, "--file", folder.file("text.txt"), "--arch", "recursive", "--json"])
        #expect(full.status == 0, "\(full.stderr)")
        let routed = try Depthscope.run(["eval", "--model", morExpert, "--file", folder.file("text.txt"), "--json"])
        #expect(routed.status == 0, "\(routed.stderr)")
        let a = try JSONDecoder().decode([String: JSONValue].self, from: full.stdout)
        let b = try JSONDecoder().decode([String: JSONValue].self, from: routed.stdout)
        #expect(a["tokens"]?.intValue == 54 && a["mean_depth"]?.doubleValue == 8 && a["flops_ratio"]?.doubleValue == 1)
        #expect(b["architecture"]?.stringValue == "mor threshold=0.5 kv=recursion_wise")
        #expect((b["mean_depth"]?.doubleValue ?? 8) < 8 && (b["flops_ratio"]?.doubleValue ?? 1) < 1)
        for key in ["nll", "perplexity", "flops_per_token", "full_depth_flops_per_token", "early_fraction"] {
            #expect(b[key]?.doubleValue != nil, "\(key) missing")
        }
        let text = try Depthscope.run(["eval", "--model", morExpert, "--file", folder.file("text.txt"), "--validation-split"])
        #expect(text.status == 0 && text.text.contains("tokens        5 in 1 windows"), "\(text.text)")
    }

    @Test func badArchitectureInputIsOneLine() throws {
        let folder = try TemporaryFolder()
        try folder.write("text.txt", "#$%&")
        let cases: [([String], [String])] = [
            (["generate", "--model", morExpert, "--prompt", "#", "--arch", "nope"], ["unknown architecture 'nope'"]),
            (["generate", "--model", morExpert, "--prompt", "#", "--arch", "recursive", "--arch-option", "recursions=0"],
             ["recursions=0", "out of range"]),
            (["generate", "--model", morExpert, "--prompt", "#", "--arch", "mor", "--arch-option", "threshold=2"],
             ["threshold=2", "[0, 1]"]),
            (["generate", "--model", morExpert, "--prompt", "#", "--arch-option", "threshold"], ["--arch-option", "key=value"]),
            (["generate", "--model", ArchFixtures.modelFolder("plain6"), "--prompt", "#", "--arch", "mor"],
             ["arch mor", "config.json", "\"mor\""]),
            (["eval", "--model", morExpert, "--file", folder.file("missing.txt")], ["missing.txt"]),
            (["eval", "--model", morExpert, "--file", folder.file("text.txt"), "--arch", "ut"], ["arch ut", "\"act\""]),
            (["archs", "--model", folder.file("nothing")], ["nothing"]),
        ]
        for (arguments, fragments) in cases {
            cli.expectCleanFailure(try Depthscope.run(arguments), mentioning: fragments)
        }
        // A config naming routers whose tensors the file lacks.
        let broken = try TemporaryFolder()
        let plain = ArchFixtures.root.appendingPathComponent("models/plain6")
        for file in ["model.safetensors", "char_vocab.json"] {
            try FileManager.default.copyItem(at: plain.appendingPathComponent(file), to: broken.url.appendingPathComponent(file))
        }
        var config = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: plain.appendingPathComponent("config.json"))) as? [String: Any])
        config["recursive"] = ["num_recursion": 3, "sharing": "cycle"]
        config["mor"] = ["type": "token"]
        try broken.write("config.json", try JSONSerialization.data(withJSONObject: config))
        cli.expectCleanFailure(
            try Depthscope.run(["generate", "--model", broken.path, "--prompt", "#"]), mentioning: [broken.path, "model.mor_router.weight"])

        let short = try Depthscope.run(["eval", "--model", morExpert, "--file", folder.file("text.txt"), "--validation-split"])
        cli.expectCleanFailure(short, mentioning: ["text.txt", "at least 2"])
    }
}
