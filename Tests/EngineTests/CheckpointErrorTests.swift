import Foundation
import Testing

@testable import Engine

/// Bad checkpoints give one-line EngineErrors naming the file and the problem, never a trap.
@Suite struct CheckpointErrorTests {
    @Test func missingFolder() {
        expectEngineError(containing: ["/no/such/model", "no such model folder"]) {
            _ = try Model(folder: "/no/such/model")
        }
    }

    @Test func folderWithoutWeights() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try FileManager.default.removeItem(atPath: folder.file("model.safetensors"))
        expectEngineError(containing: [folder.path, "model.safetensors"]) { _ = try Model(folder: folder.path) }
    }

    @Test func configNotJSON() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try folder.write("config.json", "{\"model_type\": \"llama\", oops")
        expectEngineError(containing: [folder.file("config.json"), "not valid JSON"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func unknownModelType() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try editConfig(folder) { $0["model_type"] = "gpt2" }
        expectEngineError(containing: [folder.file("config.json"), "model_type 'gpt2'", "llama, mistral, qwen2"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func truncatedSafetensors() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        let data = try folder.read("model.safetensors")
        try folder.write("model.safetensors", data.prefix(data.count / 2))
        expectEngineError(containing: [folder.file("model.safetensors"), "truncated"]) {
            _ = try Model(folder: folder.path)
        }
        try folder.write("model.safetensors", data.prefix(5))
        expectEngineError(containing: [folder.file("model.safetensors"), "too short"]) {
            _ = try Model(folder: folder.path)
        }
        try folder.write("model.safetensors", data.prefix(100))
        expectEngineError(containing: [folder.file("model.safetensors"), "header claims"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func headerLyingAboutOffsets() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        let name = "model.layers.0.mlp.up_proj.weight"
        try editHeader(folder) { header in
            var entry = header[name] as! [String: Any]
            let offsets = entry["data_offsets"] as! [Int]
            entry["data_offsets"] = [offsets[0] + 10_000_000, offsets[1] + 10_000_000]
            header[name] = entry
        }
        expectEngineError(containing: [folder.file("model.safetensors"), name, "lying header"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func headerWithOverlappingTensors() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try editHeader(folder) { header in
            let donor = header["model.layers.0.mlp.up_proj.weight"] as! [String: Any]
            var entry = header["model.layers.0.mlp.gate_proj.weight"] as! [String: Any]
            entry["data_offsets"] = donor["data_offsets"]
            header["model.layers.0.mlp.gate_proj.weight"] = entry
        }
        expectEngineError(containing: [folder.file("model.safetensors"), "overlap"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func headerShapeDisagreesWithByteCount() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try editHeader(folder) { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["shape"] = [33]
            header["model.norm.weight"] = entry
        }
        expectEngineError(containing: [folder.file("model.safetensors"), "model.norm.weight", "[33]"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func headerNotJSON() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        var data = try folder.read("model.safetensors")
        data[8] = UInt8(ascii: "!")
        try folder.write("model.safetensors", data)
        expectEngineError(containing: [folder.file("model.safetensors"), "not valid JSON"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func tensorShapeDisagreesWithConfig() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama2")
        try editConfig(folder) { $0["intermediate_size"] = 80 }
        expectEngineError(containing: [
            folder.file("model.safetensors"), "model.layers.0.mlp.gate_proj.weight", "[64, 32]", "[80, 32]",
        ]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func missingTensor() throws {
        // llama3 ties its head, so the file has no lm_head.weight.
        let folder = try TemporaryFolder.copyOf(model: "llama3")
        try editConfig(folder) { $0["tie_word_embeddings"] = false }
        expectEngineError(containing: [folder.path, "lm_head.weight"]) { _ = try Model(folder: folder.path) }
    }

    @Test func unsupportedTensorDType() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama-bf16")
        try editHeader(folder) { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["dtype"] = "I16"
            header["model.norm.weight"] = entry
        }
        expectEngineError(containing: [folder.file("model.safetensors"), "model.norm.weight", "I16"]) {
            _ = try Model(folder: folder.path)
        }
    }

    @Test func shardIndexErrors() throws {
        let folder = try TemporaryFolder.copyOf(model: "llama-sharded")
        let index = folder.file("model.safetensors.index.json")
        let original = try folder.read("model.safetensors.index.json")
        var json = try JSONSerialization.jsonObject(with: original) as! [String: Any]
        var map = json["weight_map"] as! [String: String]

        map["model.norm.weight"] = "model-00009-of-00009.safetensors"
        json["weight_map"] = map
        try folder.write("model.safetensors.index.json", try JSONSerialization.data(withJSONObject: json))
        expectEngineError(containing: ["model-00009-of-00009.safetensors", "no such file"]) {
            _ = try Model(folder: folder.path)
        }

        let shards = Set(map.values).filter { $0 != "model-00009-of-00009.safetensors" }.sorted()
        let holder = (try JSONSerialization.jsonObject(with: original) as! [String: Any])["weight_map"]
            as! [String: String]
        let wrongShard = try #require(shards.first { $0 != holder["model.norm.weight"] })
        map["model.norm.weight"] = wrongShard
        json["weight_map"] = map
        try folder.write("model.safetensors.index.json", try JSONSerialization.data(withJSONObject: json))
        expectEngineError(containing: [index, "model.norm.weight", wrongShard]) { _ = try Model(folder: folder.path) }

        map["model.norm.weight"] = "../elsewhere.safetensors"
        json["weight_map"] = map
        try folder.write("model.safetensors.index.json", try JSONSerialization.data(withJSONObject: json))
        expectEngineError(containing: [index, "plain file name"]) { _ = try Model(folder: folder.path) }
    }

    @Test func tokenOutOfRange() throws {
        let model = try Model(folder: Fixtures.model("llama2"))
        let hidden = try FloatVector(count: model.config.hiddenSize)
        expectEngineError(containing: ["token id 96", "out of range", "96"]) {
            try model.embed([96], into: hidden.pointer)
        }
        expectEngineError(containing: ["token id -1"]) { try model.embed([-1], into: hidden.pointer) }
    }

    @Test func kvCacheFull() throws {
        let model = try Model(folder: Fixtures.model("llama2"))
        let runner = try vanillaRunner(model, capacity: 2)
        _ = try runner.run(token: 1, position: 0)
        _ = try runner.run(token: 1, position: 1)
        expectEngineError(containing: ["context limit", "2 positions"]) { _ = try runner.run(token: 1, position: 2) }
    }
}

/// Rewrites a copied fixture's config.json.
func editConfig(_ folder: TemporaryFolder, _ edit: (inout [String: Any]) -> Void) throws {
    var config = try JSONSerialization.jsonObject(with: folder.read("config.json")) as! [String: Any]
    edit(&config)
    try folder.write("config.json", try JSONSerialization.data(withJSONObject: config))
}

/// Rewrites the JSON header of a copied fixture's model.safetensors, keeping its data.
func editHeader(_ folder: TemporaryFolder, _ edit: (inout [String: Any]) -> Void) throws {
    let data = try folder.read("model.safetensors")
    let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
    edit(&header)
    let newHeader = try JSONSerialization.data(withJSONObject: header)
    var length = UInt64(newHeader.count).littleEndian
    var file = Data(bytes: &length, count: 8)
    file.append(newHeader)
    file.append(data.subdata(in: (8 + headerLength)..<data.count))
    try folder.write("model.safetensors", file)
}
