import Foundation
import Testing

@testable import Engine

/// Bad architectures, options and checkpoints give one clear line (library and binary).
@Suite struct ArchErrorTests {
    func resolve(_ checkpoint: String, _ name: String, _ options: [String: String] = [:]) throws {
        let model = try ArchFixtures.model(checkpoint)
        _ = try Architecture.resolve(name, options: options.map { ArchitectureOption($0.key, $0.value) }, for: model)
    }

    @Test func badArchitecturesAndOptions() {
        expectEngineError(containing: ["unknown architecture 'mixture'", "mor", "early-exit"]) {
            try resolve("plain6", "mixture")
        }
        expectEngineError(containing: ["recursive", "recursions=0", "out of range"]) {
            try resolve("plain6", "recursive", ["recursions": "0"])
        }
        expectEngineError(containing: ["recursions=two", "not a whole number"]) {
            try resolve("plain6", "recursive", ["recursions": "two"])
        }
        expectEngineError(containing: ["mor", "threshold=1.5", "[0, 1]"]) {
            try resolve("mor_expert", "mor", ["threshold": "1.5"])
        }
        expectEngineError(containing: ["early-exit", "threshold=-0.1", "[0, 1]"]) {
            try resolve("plain6", "early-exit", ["criterion": "softmax_max", "threshold": "-0.1"])
        }
        expectEngineError(containing: ["argmax_stable", "threshold=1.5", "whole number"]) {
            try resolve("plain6", "early-exit", ["criterion": "argmax_stable", "threshold": "1.5"])
        }
        expectEngineError(containing: ["max_depth=9", "[1, 6]"]) {
            try resolve("plain6", "early-exit", ["max_depth": "9"])
        }
        expectEngineError(containing: ["ut", "epsilon=1", "(0, 1)"]) {
            try resolve("ut_act", "ut", ["epsilon": "1"])
        }
        expectEngineError(containing: ["recurrent", "steps=9", "[1, 8]"]) {
            try resolve("recurrent", "recurrent", ["steps": "9"])
        }
        expectEngineError(containing: ["criterion=entropy", "expected one of", "entropy_diff"]) {
            try resolve("recurrent", "recurrent", ["criterion": "entropy"])
        }
        expectEngineError(containing: ["convert", "recursions=4", "does not divide the 6 layers", "layers=K"]) {
            try resolve("plain6", "convert", ["recursions": "4"])
        }
        expectEngineError(containing: ["lora_targets", "unknown projection 'qq_proj'"]) {
            try resolve("plain6", "convert", ["lora_rank": "2", "lora_targets": "q_proj,qq_proj"])
        }
        expectEngineError(containing: ["vanilla", "unknown option 'threshold'", "takes no options"]) {
            try resolve("plain6", "vanilla", ["threshold": "0.5"])
        }
        expectEngineError(containing: ["mor", "unknown option 'threshold'", "kv"]) {
            try resolve("mor_token", "mor", ["threshold": "0.5"])  // token-choice has no threshold
        }
        expectEngineError(containing: ["early-exit", "recurrent"]) { try resolve("recurrent", "early-exit") }
        expectEngineError(containing: ["recursive", "recursions=1000", "6000 depth steps", "4096"]) {
            try resolve("plain6", "recursive", ["recursions": "1000"])
        }
        expectEngineError(containing: ["relaxed checkpoint has LoRA for 3 loops"]) {
            try resolve("relaxed", "early-exit", ["recursions": "4"])
        }
    }

    @Test func architecturesThatNeedWhatTheCheckpointLacks() {
        for (name, key) in [("mor", "\"mor\""), ("ut", "\"act\""), ("recurrent", "\"recurrent_depth\""), ("relaxed", "\"relaxation\"")] {
            expectEngineError(containing: ["arch \(name)", "plain6/config.json", key]) { try resolve("plain6", name) }
        }
    }

    /// A config that names routers the safetensors file does not have.
    @Test func checkpointWithoutTheTensorsItsConfigNames() throws {
        let folder = try TemporaryFolder()
        let source = ArchFixtures.root.appendingPathComponent("models/plain6")
        for file in ["model.safetensors", "char_vocab.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: folder.url.appendingPathComponent(file))
        }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        config["recursive"] = ["num_recursion": 2, "sharing": "cycle"]
        config["mor"] = ["type": "expert"]
        try folder.write("config.json", try JSONSerialization.data(withJSONObject: config))
        expectEngineError(containing: [folder.path, "model.mor_router.0.weight"]) { _ = try DepthModel(folder: folder.path) }

        config["mor"] = ["type": "expert", "router_func": "softmax"]
        try folder.write("config.json", try JSONSerialization.data(withJSONObject: config))
        expectEngineError(containing: ["config.json", "mor.router_func", "softmax"]) { _ = try DepthModel(folder: folder.path) }

        config["mor"] = nil
        config["recurrent_depth"] = ["n_layers_in_prelude": 1, "n_layers_in_recurrent_block": 2, "n_layers_in_coda": 1]
        try folder.write("config.json", try JSONSerialization.data(withJSONObject: config))
        expectEngineError(containing: ["config.json", "recurrent_depth", "num_hidden_layers is 6"]) {
            _ = try DepthModel(folder: folder.path)
        }

        config["recurrent_depth"] = nil
        config["recursive"] = ["num_recursion": 0]
        try folder.write("config.json", try JSONSerialization.data(withJSONObject: config))
        expectEngineError(containing: ["config.json", "recursive.num_recursion", "less than 1"]) {
            _ = try DepthModel(folder: folder.path)
        }
    }
}
