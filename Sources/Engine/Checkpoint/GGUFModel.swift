import Foundation

/// A llama.cpp GGUF file as a model: its metadata turned into the config.json keys the
/// family's HF config stands for (so both formats go through one parser), and its tensors
/// by llama.cpp name (`token_embd`, `blk.N.attn_q`, ...).
///
/// GGUF lists a tensor's dimensions fastest-varying first, so a matrix of `rows` outputs x
/// `columns` inputs has dimensions [columns, rows]. The family of a file is the one whose
/// `ggufArchitectures` holds `general.architecture`.
public enum GGUFModel {
    /// Whether `path` names a GGUF file (an existing file that ends in `.gguf` or starts
    /// with the GGUF magic), as opposed to a model folder.
    public static func isGGUF(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return false
        }
        return path.lowercased().hasSuffix(".gguf") || GGUFFile.hasMagic(path)
    }

    /// The HF-style config that this file's metadata describes. Errors name the file.
    public static func config(of file: GGUFFile) throws -> ModelConfig {
        let path = file.path
        guard let architecture = file["general.architecture"]?.stringValue else {
            throw EngineError("\(path): no general.architecture in the metadata")
        }
        guard let family = ModelFamilies.family(ggufArchitecture: architecture), let modelType = family.modelTypes.first else {
            throw EngineError(
                "\(path): architecture '\(architecture)' is not supported (supported: \(ModelFamilies.ggufArchitectures.joined(separator: ", ")))")
        }
        let keys = GGUFKeys(file: file, architecture: architecture)
        guard let embedding = file.tensor("token_embd.weight") else {
            throw EngineError("\(path): no tensor 'token_embd.weight'")
        }
        guard embedding.dimensions.count == 2 else {
            throw EngineError("\(path): tensor 'token_embd.weight' has dimensions \(embedding.dimensions), expected 2")
        }
        let vocabulary = embedding.dimensions[1]
        if let declared = try keys.int("vocab_size"), declared != vocabulary {
            throw EngineError("\(path): \(architecture).vocab_size is \(declared) but token_embd.weight has \(vocabulary) rows")
        }
        let hidden = try keys.required("embedding_length")
        let heads = try keys.required("attention.head_count")
        var json: [String: JSONValue] = [
            "model_type": .string(modelType),
            "vocab_size": .int(vocabulary),
            "hidden_size": .int(hidden),
            "intermediate_size": .int(try keys.required("feed_forward_length")),
            "num_hidden_layers": .int(try keys.required("block_count")),
            "num_attention_heads": .int(heads),
            "num_key_value_heads": .int(try keys.int("attention.head_count_kv") ?? heads),
            "max_position_embeddings": .int(try keys.required("context_length")),
            "rope_theta": .double(try keys.double("rope.freq_base") ?? 10000),
            "rms_norm_eps": .double(try keys.double("attention.layer_norm_rms_epsilon") ?? 1e-5),
            "tie_word_embeddings": .bool(file.tensor("output.weight") == nil),
            "bos_token_id": file["tokenizer.ggml.bos_token_id"]?.intValue.map(JSONValue.int) ?? .null,
            "eos_token_id": file["tokenizer.ggml.eos_token_id"]?.intValue.map(JSONValue.int) ?? .null,
            "dtype": .string(predominantType(file)),
        ]
        let headDim = try keys.int("attention.key_length") ?? (heads > 0 ? hidden / heads : 0)
        json["head_dim"] = .int(headDim)
        if let valueLength = try keys.int("attention.value_length"), valueLength != headDim {
            throw EngineError("\(path): attention.value_length \(valueLength) differs from key_length \(headDim); not supported")
        }
        if let rotated = try keys.int("rope.dimension_count"), rotated != headDim {
            json["partial_rotary_factor"] = .double(Double(rotated) / Double(max(headDim, 1)))
        }
        switch try keys.string("rope.scaling.type") ?? "none" {
        case "none": break
        case "linear":
            guard let factor = try keys.double("rope.scaling.factor") else {
                throw EngineError("\(path): linear rope scaling without \(architecture).rope.scaling.factor")
            }
            json["rope_scaling"] = .object(["rope_type": .string("linear"), "factor": .double(factor)])
        case let other:
            throw EngineError("\(path): rope scaling '\(other)' is not supported (none and linear are)")
        }
        for (key, value) in try family.configKeys(gguf: keys) { json[key] = value }
        let data = try JSONEncoder().encode(JSONValue.object(json))
        var config = try ModelConfig.parse(data, file: path)
        // Llama 3 style scaling is stored as a tensor of per-frequency divisors.
        if let factors = file.tensor("rope_freqs.weight") {
            let global = config.rope
            config.rope.frequencyFactors = try ropeFactors(factors, file: file, count: config.rotaryDim / 2)
            config.layerRopes = config.layerRopes.map { $0 == global ? config.rope : $0 }
        }
        return config
    }

    /// `rope_freqs.weight`: one positive f32 divisor per rotated pair.
    static func ropeFactors(_ tensor: GGUFTensorInfo, file: GGUFFile, count: Int) throws -> [Float] {
        guard tensor.type == .f32, tensor.dimensions == [count] else {
            throw EngineError(
                "\(file.path): \(tensor.name) must be \(count) F32 values, is \(tensor.dimensions) \(tensor.type.name)")
        }
        let bytes = file.bytes(of: tensor)
        let factors = (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        guard factors.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw EngineError("\(file.path): \(tensor.name) holds a factor that is not a positive number")
        }
        return factors
    }

    /// The name of the most common type among the file's matrices, e.g. "Q8_0".
    static func predominantType(_ file: GGUFFile) -> String {
        var counts: [String: Int] = [:]
        for tensor in file.tensors where tensor.dimensions.count == 2 { counts[tensor.type.name, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "F32"
    }

    /// Tensor types and how many tensors have each, e.g. ["F32": 5, "Q8_0": 15].
    public static func typeCounts(_ file: GGUFFile) -> [String: Int] {
        file.tensors.reduce(into: [:]) { $0[$1.type.name, default: 0] += 1 }
    }
}

/// A GGUF file's metadata under one architecture's prefix (`llama.block_count`, ...), typed,
/// with errors naming the file and the key.
public struct GGUFKeys {
    public let file: GGUFFile
    public let architecture: String

    public func value(_ key: String) -> GGUFValue? { file["\(architecture).\(key)"] }

    public func int(_ key: String) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue else {
            throw EngineError("\(file.path): \(architecture).\(key) must be an integer, got \(value.summary)")
        }
        return number
    }

    public func required(_ key: String) throws -> Int {
        guard let number = try int(key) else { throw EngineError("\(file.path): metadata has no \(architecture).\(key)") }
        return number
    }

    public func double(_ key: String) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.doubleValue else {
            throw EngineError("\(file.path): \(architecture).\(key) must be a number, got \(value.summary)")
        }
        return number
    }

    public func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else {
            throw EngineError("\(file.path): \(architecture).\(key) must be a string, got \(value.summary)")
        }
        return text
    }
}

/// The tensors of a GGUF file, by llama.cpp name, into the engine's weight formats: each
/// GGUF type in the format that lists it (`WeightFormatTraits.ggufLoads`: F32, F16, BF16
/// and Q8_0 as stored, Q4_0 re-blocked to Q8_0 exactly).
public struct GGUFSource: TensorSource {
    public let file: GGUFFile
    public var format: CheckpointFormat { .gguf }
    public var path: String { file.path }
    public var configFile: String { file.path }

    public init(file: GGUFFile) {
        self.file = file
    }

    public func contains(_ name: String) -> Bool { file.tensor(name) != nil }

    public func matrix(_ name: String, storedRows: Int, columns: Int, rows: Range<Int>?, order: RowOrder?) throws
        -> WeightMatrix
    {
        let tensor = try self.tensor(name, dimensions: [columns, storedRows])
        defer { file.releasePages(of: tensor) }
        let stored = file.bytes(of: tensor)
        guard let (format, load) = WeightFormat.loading(tensor.type) else {
            throw EngineError(
                "\(file.path): tensor '\(name)' has type \(tensor.type.name); supported: \(WeightFormat.ggufTypeNames)")
        }
        try checkBlocks(tensor, bytes: stored)
        let reblocked = try load.rewrite?(tensor, stored, file.path) ?? []
        return try reblocked.withUnsafeBytes { converted in
            let bytes = reblocked.isEmpty ? stored : converted
            guard let indices = rowIndices(stored: storedRows, rows: rows, order: order) else {
                return try WeightMatrix(name: name, rows: storedRows, columns: columns, format: format, bytes: bytes)
            }
            let gathered = gatherRows(bytes, rowBytes: format.byteCount(rows: 1, columns: columns), indices: indices)
            return try gathered.withUnsafeBytes {
                try WeightMatrix(name: name, rows: indices.count, columns: columns, format: format, bytes: $0)
            }
        }
    }

    public func vector(_ name: String, shape: [Int], elements: Range<Int>?, order: RowOrder?, adding: Float) throws
        -> WeightVector
    {
        let tensor = try self.tensor(name, dimensions: shape.reversed())
        let dtype: TensorDType
        switch tensor.type {
        case .f32: dtype = .f32
        case .f16: dtype = .f16
        case .bf16: dtype = .bf16
        default:
            throw EngineError("\(file.path): tensor '\(name)' has type \(tensor.type.name); supported for vectors: F32, F16, BF16")
        }
        let bytes = file.bytes(of: tensor)
        guard let indices = rowIndices(stored: tensor.elementCount, rows: elements, order: order) else {
            return try WeightVector(name: name, dtype: dtype, bytes: bytes, adding: adding)
        }
        let gathered = gatherRows(bytes, rowBytes: dtype.byteSize, indices: indices)
        return try gathered.withUnsafeBytes { try WeightVector(name: name, dtype: dtype, bytes: $0, adding: adding) }
    }

    private func checkBlocks(_ tensor: GGUFTensorInfo, bytes: UnsafeRawBufferPointer) throws {
        let count = tensor.elementCount
        guard let layout = tensor.type.layout, count % layout.blockSize == 0,
            bytes.count == count / layout.blockSize * layout.blockBytes
        else {
            throw EngineError("\(file.path): tensor '\(tensor.name)' has \(bytes.count) bytes, wrong for \(count) \(tensor.type.name) values")
        }
    }

    private func tensor(_ name: String, dimensions: [Int]) throws -> GGUFTensorInfo {
        guard let tensor = file.tensor(name) else {
            throw EngineError("\(file.path): no tensor '\(name)' (the metadata says the model has it)")
        }
        guard tensor.dimensions == dimensions else {
            throw EngineError("\(file.path): tensor '\(name)' has dimensions \(tensor.dimensions), expected \(dimensions) from the metadata")
        }
        return tensor
    }
}
