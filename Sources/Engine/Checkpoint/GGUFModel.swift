import Foundation

/// Turns a llama.cpp GGUF file of architecture `llama` (also Mistral's) or `qwen2` into the
/// engine's `ModelConfig` and `Model`, so the same file runs in both engines.
///
/// Tensor names are llama.cpp's (`token_embd`, `blk.N.attn_q`, ...); shapes are listed
/// fastest-varying first, so a matrix of `rows` outputs x `columns` inputs has dimensions
/// [columns, rows]. llama.cpp's converter permutes the rows of Q and K so that rotary
/// pairs are adjacent (its "normal" rope); the engine rotates HF's half-split pairs, so
/// those rows are put back in HF order while loading. Qwen2 files are not permuted (llama.cpp
/// uses the half-split "neox" rope for them) and carry q/k/v biases; GGUF has no sliding
/// window for them, so every layer attends fully, as in llama.cpp.
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

    /// Architectures (general.architecture) the engine runs.
    static let supportedArchitectures = ["llama", "qwen2"]

    /// The HF-style config that this file's metadata describes. Errors name the file.
    public static func config(of file: GGUFFile) throws -> ModelConfig {
        let path = file.path
        guard let architecture = file["general.architecture"]?.stringValue else {
            throw EngineError("\(path): no general.architecture in the metadata")
        }
        guard supportedArchitectures.contains(architecture) else {
            throw EngineError(
                "\(path): architecture '\(architecture)' is not supported (supported: \(supportedArchitectures.joined(separator: ", ")))")
        }
        func integer(_ key: String) throws -> Int? {
            guard let value = file["\(architecture).\(key)"] else { return nil }
            guard let number = value.intValue else {
                throw EngineError("\(path): \(architecture).\(key) must be an integer, got \(value.summary)")
            }
            return number
        }
        func required(_ key: String) throws -> Int {
            guard let number = try integer(key) else { throw EngineError("\(path): metadata has no \(architecture).\(key)") }
            return number
        }
        func real(_ key: String) throws -> Double? {
            guard let value = file["\(architecture).\(key)"] else { return nil }
            guard let number = value.doubleValue else {
                throw EngineError("\(path): \(architecture).\(key) must be a number, got \(value.summary)")
            }
            return number
        }

        guard let embedding = file.tensor("token_embd.weight") else {
            throw EngineError("\(path): no tensor 'token_embd.weight'")
        }
        guard embedding.dimensions.count == 2 else {
            throw EngineError("\(path): tensor 'token_embd.weight' has dimensions \(embedding.dimensions), expected 2")
        }
        let vocabulary = embedding.dimensions[1]
        if let declared = try integer("vocab_size"), declared != vocabulary {
            throw EngineError("\(path): \(architecture).vocab_size is \(declared) but token_embd.weight has \(vocabulary) rows")
        }
        let hidden = try required("embedding_length")
        let heads = try required("attention.head_count")
        var json: [String: JSONValue] = [
            "model_type": .string(architecture),
            "vocab_size": .int(vocabulary),
            "hidden_size": .int(hidden),
            "intermediate_size": .int(try required("feed_forward_length")),
            "num_hidden_layers": .int(try required("block_count")),
            "num_attention_heads": .int(heads),
            "num_key_value_heads": .int(try integer("attention.head_count_kv") ?? heads),
            "max_position_embeddings": .int(try required("context_length")),
            "rope_theta": .double(try real("rope.freq_base") ?? 10000),
            "rms_norm_eps": .double(try real("attention.layer_norm_rms_epsilon") ?? 1e-5),
            "tie_word_embeddings": .bool(file.tensor("output.weight") == nil),
            "bos_token_id": file["tokenizer.ggml.bos_token_id"]?.intValue.map(JSONValue.int) ?? .null,
            "eos_token_id": file["tokenizer.ggml.eos_token_id"]?.intValue.map(JSONValue.int) ?? .null,
            "dtype": .string(predominantType(file)),
        ]
        if architecture == "qwen2" { json["use_sliding_window"] = .bool(false) }
        let headDim = try integer("attention.key_length") ?? (heads > 0 ? hidden / heads : 0)
        json["head_dim"] = .int(headDim)
        if let valueLength = try integer("attention.value_length"), valueLength != headDim {
            throw EngineError("\(path): attention.value_length \(valueLength) differs from key_length \(headDim); not supported")
        }
        if let rotated = try integer("rope.dimension_count"), rotated != headDim {
            throw EngineError("\(path): rope.dimension_count \(rotated) is not the head size \(headDim) (partial rotary is not supported)")
        }
        switch file["\(architecture).rope.scaling.type"]?.stringValue ?? "none" {
        case "none": break
        case "linear":
            guard let factor = try real("rope.scaling.factor") else {
                throw EngineError("\(path): linear rope scaling without \(architecture).rope.scaling.factor")
            }
            json["rope_scaling"] = .object(["rope_type": .string("linear"), "factor": .double(factor)])
        case let other:
            throw EngineError("\(path): rope scaling '\(other)' is not supported (none and linear are)")
        }
        let data = try JSONEncoder().encode(JSONValue.object(json))
        var config = try ModelConfig.parse(data, file: path)
        // Llama 3 style scaling is stored as a tensor of per-frequency divisors.
        if let factors = file.tensor("rope_freqs.weight") {
            config.rope.frequencyFactors = try ropeFactors(factors, file: file, count: config.headDim / 2)
        }
        return config
    }

    /// `rope_freqs.weight`: one positive f32 divisor per rotated pair.
    static func ropeFactors(_ tensor: GGUFTensorInfo, file: GGUFFile, count: Int) throws -> [Float] {
        guard tensor.type == .f32, tensor.dimensions == [count] else {
            throw EngineError(
                "\(file.path): rope_freqs.weight must be \(count) F32 values, is \(tensor.dimensions) \(tensor.type.name)")
        }
        let bytes = file.bytes(of: tensor)
        let factors = (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        guard factors.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw EngineError("\(file.path): rope_freqs.weight holds a factor that is not a positive number")
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

extension Model {
    /// Loads a GGUF file of architecture `llama` or `qwen2` (see `GGUFModel`).
    public convenience init(gguf path: String) throws {
        try self.init(gguf: GGUFFile(path: path))
    }

    /// Loads an opened GGUF file; the model copies what it needs and does not keep the file.
    public convenience init(gguf file: GGUFFile) throws {
        let path = file.path
        let config = try GGUFModel.config(of: file)
        let weights = GGUFWeights(file: file, config: config)
        let embedding = try weights.matrix("token_embd.weight", rows: config.vocabSize, columns: config.hiddenSize)
        let layers = try (0..<config.numHiddenLayers).map { try weights.layer($0) }
        let finalNorm = try weights.vector("output_norm.weight", count: config.hiddenSize)
        let lmHead =
            config.tieWordEmbeddings
            ? embedding : try weights.matrix("output.weight", rows: config.vocabSize, columns: config.hiddenSize)
        self.init(folder: path, config: config, embedding: embedding, layers: layers, finalNorm: finalNorm, lmHead: lmHead)
    }
}

/// Takes the tensors of one GGUF file by llama.cpp name, checking each shape against the
/// config, into the engine's weight types.
struct GGUFWeights {
    let file: GGUFFile
    let config: ModelConfig

    func layer(_ index: Int) throws -> DecoderLayerWeights {
        let prefix = "blk.\(index)."
        let hidden = config.hiddenSize
        let ffn = config.intermediateSize
        // Only llama.cpp's `llama` architecture stores Q and K in its interleaved rope order.
        let permuted = config.modelType == .llama
        let ropeHeadSize = permuted ? config.headDim : nil
        func matrix(_ name: String, _ rows: Int, _ columns: Int, rope: Bool = false) throws -> WeightMatrix {
            try self.matrix(prefix + name + ".weight", rows: rows, columns: columns, ropeHeadSize: rope ? ropeHeadSize : nil)
        }
        func bias(_ name: String, _ count: Int) throws -> WeightVector? {
            config.hasQKVBias ? try vector(prefix + name + ".bias", count: count) : nil
        }
        return DecoderLayerWeights(
            inputNorm: try vector(prefix + "attn_norm.weight", count: hidden),
            query: try matrix("attn_q", config.queryDim, hidden, rope: true),
            key: try matrix("attn_k", config.kvDim, hidden, rope: true),
            value: try matrix("attn_v", config.kvDim, hidden),
            output: try matrix("attn_output", hidden, config.queryDim),
            queryBias: try bias("attn_q", config.queryDim), keyBias: try bias("attn_k", config.kvDim),
            valueBias: try bias("attn_v", config.kvDim), outputBias: nil,
            postAttentionNorm: try vector(prefix + "ffn_norm.weight", count: hidden),
            gate: try matrix("ffn_gate", ffn, hidden),
            up: try matrix("ffn_up", ffn, hidden),
            down: try matrix("ffn_down", hidden, ffn),
            gateBias: nil, upBias: nil, downBias: nil,
            window: nil)
    }

    /// A matrix of `rows` x `columns`. With `ropeHeadSize`, rows are Q or K in llama.cpp's
    /// rope order and are put back in HF order.
    func matrix(_ name: String, rows: Int, columns: Int, ropeHeadSize: Int? = nil) throws -> WeightMatrix {
        let tensor = try self.tensor(name, dimensions: [columns, rows])
        defer { file.releasePages(of: tensor) }
        var bytes = file.bytes(of: tensor)
        let format: WeightFormat
        var reblocked: [UInt8] = []
        switch tensor.type {
        case .f32: format = .f32
        case .f16: format = .f16
        case .bf16: format = .bf16
        case .q8_0:
            // Same block layout as the engine's q8_0: taken as stored.
            try checkBlocks(tensor, bytes: bytes)
            format = .q8_0
        case .q4_0:
            reblocked = try reblockQ4_0AsQ8_0(tensor, bytes: bytes, file: file.path)
            format = .q8_0
        default:
            throw EngineError(
                "\(file.path): tensor '\(name)' has type \(tensor.type.name); supported: F32, F16, BF16, Q8_0, Q4_0")
        }
        return try reblocked.withUnsafeBytes { converted in
            if !reblocked.isEmpty { bytes = converted }
            guard let headSize = ropeHeadSize else {
                return try WeightMatrix(name: name, rows: rows, columns: columns, format: format, bytes: bytes)
            }
            let rowBytes = format.byteCount(rows: 1, columns: columns)
            let reordered = unpermuteRopeRows(bytes, rows: rows, rowBytes: rowBytes, headSize: headSize)
            return try reordered.withUnsafeBytes {
                try WeightMatrix(name: name, rows: rows, columns: columns, format: format, bytes: $0)
            }
        }
    }

    private func checkBlocks(_ tensor: GGUFTensorInfo, bytes: UnsafeRawBufferPointer) throws {
        let count = tensor.elementCount
        guard let layout = tensor.type.layout, count % layout.blockSize == 0,
            bytes.count == count / layout.blockSize * layout.blockBytes
        else {
            throw EngineError("\(file.path): tensor '\(tensor.name)' has \(bytes.count) bytes, wrong for \(count) \(tensor.type.name) values")
        }
    }

    func vector(_ name: String, count: Int) throws -> WeightVector {
        let tensor = try self.tensor(name, dimensions: [count])
        let dtype: TensorDType
        switch tensor.type {
        case .f32: dtype = .f32
        case .f16: dtype = .f16
        case .bf16: dtype = .bf16
        default:
            throw EngineError("\(file.path): tensor '\(name)' has type \(tensor.type.name); supported for vectors: F32, F16, BF16")
        }
        return try WeightVector(name: name, dtype: dtype, bytes: file.bytes(of: tensor))
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

/// Undoes llama.cpp's `permute` of Q/K rows: within each head of `headSize` rows, GGUF row
/// 2i + p holds HF row p * headSize/2 + i (p = 0 for the first half of the rotary pair).
func unpermuteRopeRows(_ bytes: UnsafeRawBufferPointer, rows: Int, rowBytes: Int, headSize: Int) -> [UInt8] {
    var result = [UInt8](repeating: 0, count: rows * rowBytes)
    let half = headSize / 2
    result.withUnsafeMutableBytes { destination in
        guard let target = destination.baseAddress, let origin = bytes.baseAddress, half > 0,
            bytes.count >= rows * rowBytes
        else { return }
        for row in 0..<rows {
            let head = row / headSize
            let within = row % headSize
            let source = head * headSize + 2 * (within % half) + within / half
            target.advanced(by: row * rowBytes).copyMemory(from: origin.advanced(by: source * rowBytes), byteCount: rowBytes)
        }
    }
    return result
}

/// Q4_0 blocks rewritten as Q8_0 blocks, exactly: both hold an f16 scale d for 32 weights,
/// and Q4_0's values (nibble - 8, in -8...7) fit int8, so x = d * q is unchanged and the
/// engine needs one quantised format only.
///
/// Q4_0 block: f16 scale d, then 16 bytes; element j is the low nibble of byte j, element
/// j + 16 the high nibble. Q8_0 block: f16 scale d, then 32 int8.
func reblockQ4_0AsQ8_0(_ tensor: GGUFTensorInfo, bytes: UnsafeRawBufferPointer, file: String) throws -> [UInt8] {
    let count = tensor.elementCount
    guard let layout = tensor.type.layout, count % layout.blockSize == 0,
        bytes.count == count / layout.blockSize * layout.blockBytes, let base = bytes.baseAddress
    else {
        throw EngineError("\(file): tensor '\(tensor.name)' has \(bytes.count) bytes, wrong for \(count) \(tensor.type.name) values")
    }
    let blocks = count / layout.blockSize
    let q8BlockBytes = WeightFormat.q8BlockBytes
    var result = [UInt8](repeating: 0, count: blocks * q8BlockBytes)
    result.withUnsafeMutableBytes { out in
        for block in 0..<blocks {
            let source = base + block * layout.blockBytes
            let target = block * q8BlockBytes
            out[target] = source.load(as: UInt8.self)
            out[target + 1] = source.load(fromByteOffset: 1, as: UInt8.self)
            for j in 0..<16 {
                let byte = source.load(fromByteOffset: 2 + j, as: UInt8.self)
                out[target + 2 + j] = UInt8(bitPattern: Int8(Int(byte & 0x0F) - 8))
                out[target + 2 + j + 16] = UInt8(bitPattern: Int8(Int(byte >> 4) - 8))
            }
        }
    }
    return result
}
