import ArgumentParser
import Engine
import Foundation

/// `depthscope inspect --model DIR [--tensors] [--json]`: architecture, shapes, parameter
/// count, dtype, bytes, bits per weight and tokenizer kind; with `--tensors`, every tensor of
/// the file with its type, shape and bytes.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a model: architecture, shapes, parameters, dtype, bytes, tokenizer.")

    @OptionGroup var modelOptions: ModelOptions

    @Flag(name: .long, help: "List every tensor of the checkpoint with its type, shape and bytes.")
    var tensors = false

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    /// One stored tensor, as the file has it.
    struct Tensor: Encodable {
        var name: String
        /// The GGUF type or safetensors dtype ("Q4_K", "BF16").
        var type: String
        /// Outermost first, as PyTorch shows it (rows, columns of a matrix).
        var shape: [Int]
        var bytes: Int
    }

    struct Report: Encodable {
        var folder: String
        var modelType: String
        var architectures: [String]
        var layers: Int
        var hiddenSize: Int
        var intermediateSize: Int
        var attentionHeads: Int
        var keyValueHeads: Int
        var headDim: Int
        var vocabSize: Int
        var contextLength: Int
        var rope: RopeParameters
        /// The rope of each layer, where they differ (Gemma 3's local layers).
        var layerRopes: [RopeParameters]?
        var slidingWindow: [Int?]
        /// What the family's layers do beyond Llama's, in words.
        var features: [String]
        var tiedEmbeddings: Bool
        var parameters: Int
        var weightDtypes: [String]
        var configDtype: String?
        var weightBytes: Int
        var checkpointBytes: Int
        var checkpointFiles: [String]
        /// The checkpoint's tensor bytes x 8 over its stored values (llama.cpp's "BPW").
        var bitsPerWeight: Double
        /// With --tensors: every stored tensor, in file order (safetensors: by name).
        var tensors: [Tensor]?
        /// "safetensors" or "gguf".
        var format: String
        /// GGUF only: how many tensors the file stores in each ggml type, e.g. {"F32": 5, "Q8_0": 16}.
        var fileTensorTypes: [String: Int]?
        var tokenizer: String?
        var tokenizerVocabSize: Int?
        var tokenizerError: String?

        enum CodingKeys: String, CodingKey {
            case folder, architectures, layers, rope, parameters, tokenizer
            case modelType = "model_type"
            case hiddenSize = "hidden_size"
            case intermediateSize = "intermediate_size"
            case attentionHeads = "attention_heads"
            case keyValueHeads = "key_value_heads"
            case headDim = "head_dim"
            case vocabSize = "vocab_size"
            case contextLength = "context_length"
            case slidingWindow = "sliding_window"
            case layerRopes = "layer_ropes"
            case features
            case tiedEmbeddings = "tied_embeddings"
            case weightDtypes = "weight_dtypes"
            case configDtype = "config_dtype"
            case weightBytes = "weight_bytes"
            case checkpointBytes = "checkpoint_bytes"
            case checkpointFiles = "checkpoint_files"
            case bitsPerWeight = "bits_per_weight"
            case tensors
            case format
            case fileTensorTypes = "file_tensor_types"
            case tokenizerVocabSize = "tokenizer_vocab_size"
            case tokenizerError = "tokenizer_error"
        }
    }

    func run() throws {
        let folder = try modelOptions.folder()
        let (source, config) = try Model.open(folder)
        let model = try Model(source: source, config: config)
        let checkpointBytes: Int
        let checkpointFiles: [String]
        var fileTensorTypes: [String: Int]?
        let hasTokenizer: Bool
        let stored: [Tensor]
        if let gguf = source as? GGUFSource {
            checkpointBytes = gguf.file.dataBytes
            checkpointFiles = [(folder as NSString).lastPathComponent]
            fileTensorTypes = GGUFModel.typeCounts(gguf.file)
            hasTokenizer = GGUFTokenizer.hasTokenizer(gguf.file)
            stored = gguf.file.tensors.map {
                Tensor(name: $0.name, type: $0.type.name, shape: $0.dimensions.reversed(), bytes: $0.byteRange.count)
            }
        } else {
            let checkpoint = (source as? SafetensorsSource)?.checkpoint
            checkpointBytes = checkpoint?.dataBytes ?? 0
            checkpointFiles = checkpoint?.files.map { ($0.path as NSString).lastPathComponent } ?? []
            stored = (checkpoint?.tensors ?? [:]).sorted { $0.key < $1.key }.map {
                Tensor(name: $0.key, type: $0.value.dtype.rawValue, shape: $0.value.shape, bytes: $0.value.byteRange.count)
            }
            hasTokenizer = ["tokenizer.json", "char_vocab.json"].contains {
                FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0))
            }
        }
        // A model without a tokenizer is still a model (logits work with --tokens), and a
        // broken tokenizer should not hide the rest of the report.
        var tokenizer: (any Tokenizer)?
        var tokenizerError: String?
        if hasTokenizer {
            do {
                tokenizer = try loadTokenizer(folder: folder)
            } catch let error as EngineError {
                tokenizerError = error.message
            }
        }
        let report = Report(
            folder: folder, modelType: config.modelType, architectures: config.architectures,
            layers: config.numHiddenLayers, hiddenSize: config.hiddenSize,
            intermediateSize: config.intermediateSize, attentionHeads: config.numAttentionHeads,
            keyValueHeads: config.numKeyValueHeads, headDim: config.headDim, vocabSize: config.vocabSize,
            contextLength: config.maxPositionEmbeddings, rope: config.rope,
            layerRopes: config.layerRopes.contains { $0 != config.layerRopes.first } ? config.layerRopes : nil,
            slidingWindow: config.layerWindows, features: Self.features(config),
            tiedEmbeddings: config.tieWordEmbeddings, parameters: model.parameterCount,
            weightDtypes: model.matrixDTypes, configDtype: config.dtype, weightBytes: model.weightBytes,
            checkpointBytes: checkpointBytes, checkpointFiles: checkpointFiles,
            bitsPerWeight: Self.bitsPerWeight(stored), tensors: tensors ? stored : nil,
            format: fileTensorTypes == nil ? "safetensors" : "gguf", fileTensorTypes: fileTensorTypes,
            tokenizer: tokenizer?.kind, tokenizerVocabSize: tokenizer?.vocabularySize, tokenizerError: tokenizerError)
        try StandardStreams.write(json ? try jsonText(report) : text(report))
    }

    private func jsonText(_ report: Report) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    private func text(_ r: Report) -> String {
        let windows = Set(r.slidingWindow.map { $0.map(String.init) ?? "full" })
        let attention =
            windows == ["full"]
            ? "full causal"
            : "sliding window per layer: " + r.slidingWindow.map { $0.map(String.init) ?? "full" }.joined(separator: ", ")
        func describe(_ rope: RopeParameters) -> String {
            var text = "\(rope.ropeType), theta \(rope.ropeTheta)"
            if let factor = rope.factor { text += ", factor \(factor)" }
            if rope.partialRotaryFactor < 1 { text += ", rotates \(rope.rotaryDimension(headDim: r.headDim)) of \(r.headDim) dims" }
            if rope.frequencyFactors != nil { text += ", per-frequency factors from the file" }
            return text
        }
        var rope = describe(r.rope)
        if let layers = r.layerRopes {
            let kinds = layers.reduce(into: [RopeParameters]()) { if !$0.contains($1) { $0.append($1) } }
            rope = kinds.map { kind in
                let count = layers.filter { $0 == kind }.count
                return "\(describe(kind)) (\(count) layer\(count == 1 ? "" : "s"))"
            }.joined(separator: "; ")
        }
        let lines: [(String, String)] = [
            ("model", r.folder),
            ("architecture", r.modelType + (r.architectures.isEmpty ? "" : " (\(r.architectures.joined(separator: ", ")))")),
            ("layers", "\(r.layers)"),
            ("hidden", "\(r.hiddenSize), ffn \(r.intermediateSize)"),
            ("heads", "\(r.attentionHeads) query, \(r.keyValueHeads) key/value, head_dim \(r.headDim)"),
            ("vocabulary", "\(r.vocabSize)"),
            ("context", "\(r.contextLength)"),
            ("rope", rope),
            ("attention", attention),
            ("layer", r.features.isEmpty ? "as Llama's" : r.features.joined(separator: ", ")),
            ("lm_head", r.tiedEmbeddings ? "tied to embeddings" : "separate"),
            ("parameters", formatted(r.parameters)),
            ("dtype", r.weightDtypes.joined(separator: ", ") + (r.configDtype.map { " (\(r.format == "gguf" ? "file" : "config"): \($0))" } ?? "")),
            ("weight bytes", formatted(r.weightBytes) + " in memory, " + formatted(r.checkpointBytes) + " in "
                + r.checkpointFiles.joined(separator: ", ")),
            ("bits/weight", String(format: "%.2f", r.bitsPerWeight) + " in the file"),
            ("format", r.format + (r.fileTensorTypes.map { types in
                ", tensors: " + types.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
            } ?? "")),
            ("tokenizer", r.tokenizer.map { "\($0), \(r.tokenizerVocabSize ?? 0) ids" }
                ?? r.tokenizerError.map { "unreadable: \($0)" } ?? "none found"),
        ]
        var text = lines.map { $0.0.padding(toLength: 13, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n") + "\n"
        if let tensors = r.tensors {
            let width = tensors.map(\.name.count).max() ?? 0
            text += "\n" + tensors.map { tensor in
                tensor.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                    + tensor.type.padding(toLength: 8, withPad: " ", startingAt: 0)
                    + tensor.shape.map(String.init).joined(separator: " x ").padding(toLength: 16, withPad: " ", startingAt: 0)
                    + formatted(tensor.bytes) + " bytes"
            }.joined(separator: "\n") + "\n"
        }
        return text
    }

    /// Bytes x 8 over values, over every stored tensor.
    static func bitsPerWeight(_ tensors: [Tensor]) -> Double {
        let values = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        return values > 0 ? Double(tensors.reduce(0) { $0 + $1.bytes } * 8) / Double(values) : 0
    }

    /// What a family's layers do beyond Llama's (the config fields the family sets).
    static func features(_ c: ModelConfig) -> [String] {
        var features: [String] = []
        if c.activation != .silu { features.append("activation \(c.hiddenAct) (gated)") }
        if let scale = c.embeddingScale { features.append(String(format: "embeddings x %.4g", scale)) }
        if c.queryKeyNorm { features.append("RMSNorm on each q/k head") }
        switch c.extraNorms {
        case .none: break
        case .branchOutputs: features.append("norms after each branch")
        case .afterResiduals: features.append("norms after each residual add")
        }
        if c.qkvBias || c.outputBias || c.feedForwardBias { features.append("biases") }
        if abs(c.attentionScale * Float(c.headDim).squareRoot() - 1) > 1e-6 {
            features.append(String(format: "attention scale %.4g", c.attentionScale))
        }
        if let cap = c.attentionSoftcap { features.append("attention soft-cap \(cap)") }
        if let cap = c.logitSoftcap { features.append("logit soft-cap \(cap)") }
        if c.normBeforeCoda { features.append("final norm before the coda") }
        return features
    }

    private func formatted(_ number: Int) -> String {
        let digits = String(number)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(character)
        }
        return result
    }
}
