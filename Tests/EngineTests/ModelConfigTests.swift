import Foundation
import Testing

@testable import Engine

@Suite struct ModelConfigTests {
    static let sizes = """
        "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 8
        """

    func parse(_ json: String) throws -> ModelConfig {
        try ModelConfig.parse(Data(json.utf8), file: "config.json")
    }

    @Test func llamaDefaultsAreHFs() throws {
        let config = try parse("{\"model_type\": \"llama\", \(Self.sizes)}")
        #expect(config.numKeyValueHeads == 8)
        #expect(config.headDim == 8)
        #expect(config.maxPositionEmbeddings == 2048)
        #expect(config.rmsNormEps == 1e-6)
        #expect(config.rope == RopeParameters(ropeType: "default", ropeTheta: 10_000))
        #expect(!config.tieWordEmbeddings && !config.attentionBias && !config.mlpBias)
        #expect(config.bosTokenId == 1 && config.eosTokenIds == [2])
        #expect(config.layerWindows == [nil, nil])
        #expect(config.hiddenAct == "silu")
    }

    @Test func mistralAndQwen2Defaults() throws {
        let mistral = try parse("{\"model_type\": \"mistral\", \(Self.sizes)}")
        #expect(mistral.numKeyValueHeads == 8 && mistral.layerWindows == [4096, 4096])
        #expect(mistral.maxPositionEmbeddings == 131_072)
        let unwindowed = try parse("{\"model_type\": \"mistral\", \"sliding_window\": null, \(Self.sizes)}")
        #expect(unwindowed.layerWindows == [nil, nil])

        let qwen = try parse("{\"model_type\": \"qwen2\", \(Self.sizes)}")
        #expect(qwen.layerWindows == [nil, nil] && qwen.hasQKVBias && !qwen.hasOutputBias)
        #expect(qwen.bosTokenId == nil && qwen.eosTokenIds.isEmpty)
        let sliding = try parse(
            "{\"model_type\": \"qwen2\", \"use_sliding_window\": true, \"sliding_window\": 16, \"max_window_layers\": 1, \(Self.sizes)}")
        #expect(sliding.layerWindows == [nil, 16])
    }

    /// The same Llama 3.1 rope written by transformers 4.x and 5.x reads the same.
    @Test func transformers4And5RopeFormsAgree() throws {
        let v4 = try parse("""
            {"model_type": "llama", \(Self.sizes), "rope_theta": 500000.0, "torch_dtype": "bfloat16",
             "max_position_embeddings": 131072,
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """)
        let v5 = try parse("""
            {"model_type": "llama", \(Self.sizes), "dtype": "bfloat16", "max_position_embeddings": 131072,
             "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                 "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 8192}}
            """)
        #expect(v4.rope == v5.rope)
        #expect(v4.dtype == "bfloat16" && v5.dtype == "bfloat16")
        #expect(v4.rope.ropeTheta == 500_000)
        // Old spelling "type", and original_max_position_embeddings from the config.
        let old = try parse("""
            {"model_type": "llama", \(Self.sizes), "max_position_embeddings": 4096,
             "rope_scaling": {"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}}
            """)
        #expect(old.rope.ropeType == "llama3" && old.rope.originalMaxPositionEmbeddings == 4096)
    }

    /// Llama 3.1's published inverse frequencies: high frequencies kept, low ones divided
    /// by 8, the band between interpolated.
    @Test func llama3RopeScalingBands() throws {
        let rope = RopeParameters(
            ropeType: "llama3", ropeTheta: 500_000, factor: 8, lowFreqFactor: 1, highFreqFactor: 4,
            originalMaxPositionEmbeddings: 8192)
        let plain = RopeParameters(ropeType: "default", ropeTheta: 500_000)
        let scaled = rope.inverseFrequencies(headDim: 128)
        let unscaled = plain.inverseFrequencies(headDim: 128)
        #expect(scaled[0] == unscaled[0])  // wavelength 2*pi < 2048: kept
        #expect(abs(scaled[63] - unscaled[63] / 8) <= 1e-6 * unscaled[63])  // longest wavelength: / 8
        let between = (0..<64).filter { scaled[$0] != unscaled[$0] && abs(scaled[$0] - unscaled[$0] / 8) > 1e-9 }
        #expect(!between.isEmpty)  // some interpolated
    }

    @Test func eosAsListOrNull() throws {
        #expect(try parse("{\"model_type\": \"llama\", \"eos_token_id\": [2, 7], \(Self.sizes)}").eosTokenIds == [2, 7])
        #expect(try parse("{\"model_type\": \"llama\", \"eos_token_id\": null, \(Self.sizes)}").eosTokenIds == [])
    }

    @Test func unknownKeysAreKeptInRaw() throws {
        let config = try parse("{\"model_type\": \"llama\", \"mor\": {\"num_recursions\": 3}, \(Self.sizes)}")
        #expect(config.raw["mor"]?["num_recursions"]?.intValue == 3)
    }

    @Test func errorsNameTheKey() {
        expectEngineError(containing: ["config.json", "model_type"]) { _ = try parse("{\(Self.sizes)}") }
        expectEngineError(containing: ["config.json", "hidden_size"]) {
            _ = try parse("{\"model_type\": \"llama\", \"vocab_size\": 10}")
        }
        expectEngineError(containing: ["config.json", "vocab_size", "an integer"]) {
            _ = try parse("""
                {"model_type": "llama", "vocab_size": "many", "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 8}
                """)
        }
        expectEngineError(containing: ["config.json", "rope type 'yarn'"]) {
            _ = try parse("{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}, \(Self.sizes)}")
        }
        expectEngineError(containing: ["config.json", "hidden_act 'relu2'"]) {
            _ = try parse("{\"model_type\": \"llama\", \"hidden_act\": \"relu2\", \(Self.sizes)}")
        }
        expectEngineError(containing: ["config.json", "num_key_value_heads"]) {
            _ = try parse("{\"model_type\": \"llama\", \"num_key_value_heads\": 3, \(Self.sizes)}")
        }
        expectEngineError(containing: ["config.json", "expected a JSON object"]) { _ = try parse("[1, 2]") }
        expectEngineError(containing: ["config.json", "not valid JSON"]) { _ = try parse("") }
    }

    @Test func encodesInTransformers5Form() throws {
        let config = try ModelConfig.load(folder: Fixtures.model("llama-mqa"))
        let encoded = try JSONEncoder().encode(config)
        let reread = try ModelConfig.parse(encoded, file: "encoded")
        #expect(reread.rope == config.rope && reread.hiddenSize == config.hiddenSize)
        #expect(reread.attentionBias && reread.mlpBias)
    }
}
