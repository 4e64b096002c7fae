import Foundation

/// A loaded checkpoint with everything its adaptive-depth architectures need: the base
/// Llama weights (`Model`), the adaptive-depth config objects and the extra tensors they
/// name (routers, halting unit, adapter, per-loop LoRA; docs/architectures.md 1.2).
///
/// Immutable and Sendable: sessions on several threads can share one. Switching the
/// architecture never reloads it; `convert` builds its shared weights from it in memory.
public final class DepthModel: Sendable {
    public let model: Model
    public let depth: DepthConfig
    public let weights: DepthWeights

    public var folder: String { model.folder }
    /// Where the config came from, for messages: the folder's config.json, or the GGUF file.
    public var configFile: String {
        GGUFModel.isGGUF(folder) ? folder : (folder as NSString).appendingPathComponent("config.json")
    }
    public var config: ModelConfig { model.config }

    /// Loads a model folder (config.json + safetensors) or a GGUF file. A config object
    /// whose tensors are missing or misshapen is an error naming the file and the tensor.
    /// With `quantize`, the model's matrices are converted to that format as they load
    /// (`--quantize`); the adaptive-depth units (routers, halting unit, adapter, LoRA) are
    /// small and decide the depth, so they keep their stored precision.
    public convenience init(folder: String, quantize: WeightFormat? = nil) throws {
        let (source, config) = try Model.open(folder)
        let depth = try DepthConfig(config: config, file: source.configFile)
        let model = try Model(source: quantize.map { QuantisingSource(source, to: $0) } ?? source, config: config)
        try self.init(model: model, depth: depth, weights: DepthWeights(config: config, depth: depth, source: source))
    }

    /// A model with no adaptive-depth tensors: runs `vanilla` and the architectures that need
    /// none (recursive, convert, early-exit).
    public convenience init(plain model: Model) throws {
        let config = model.config
        self.init(
            model: model, depth: try DepthConfig(config: config, file: model.folder),
            weights: DepthWeights(lora: LoRATable(layers: config.numHiddenLayers)))
    }

    public init(model: Model, depth: DepthConfig, weights: DepthWeights) {
        self.model = model
        self.depth = depth
        self.weights = weights
    }
}

/// A linear scoring unit over the hidden state: `scores = W h + b` (MoR routers, ACT's
/// halting unit).
public struct LinearUnit: Sendable {
    public let weight: WeightMatrix
    public let bias: WeightVector

    public var outputs: Int { weight.rows }

    /// scores[r * outputs + i] = W[i] . h_r + b[i] for `rows` states h_r, row after row.
    func evaluate(_ states: UnsafePointer<Float>, rows: Int, into scores: UnsafeMutablePointer<Float>) {
        weight.multiply(states, xStride: weight.columns, tokens: rows, into: scores, yStride: outputs)
        for r in 0..<rows {
            for i in 0..<outputs { scores[r * outputs + i] += bias.pointer[i] }
        }
    }

    var flops: Double { Double(2 * weight.rows * weight.columns) }
}

/// The extra tensors of a checkpoint, loaded when its config names them.
public struct DepthWeights: Sendable {
    /// `model.mor_router.{j}` for j in 0..<R-1 (expert-choice).
    public var expertRouters: [LinearUnit] = []
    /// `model.mor_router` [R, d] (token-choice).
    public var tokenRouter: LinearUnit?
    /// `model.act_halting` [1, d].
    public var halting: LinearUnit?
    /// `model.adapter.weight` [d, 2d] (recurrent depth's input injection).
    public var adapter: WeightMatrix?
    /// Per-loop LoRA of the shared layers (relaxation).
    public var lora: LoRATable

    public init(lora: LoRATable) {
        self.lora = lora
    }

    init(config: ModelConfig, depth: DepthConfig, source loader: any TensorSource) throws {
        let d = config.hiddenSize
        let recursions = depth.numRecursion
        lora = LoRATable(layers: config.numHiddenLayers)
        func unit(_ name: String, outputs: Int) throws -> LinearUnit {
            LinearUnit(
                weight: try loader.matrix(name + ".weight", rows: outputs, columns: d),
                bias: try loader.vector(name + ".bias", count: outputs))
        }
        if let mor = depth.mor {
            switch mor.type {
            case .expert:
                expertRouters = try (0..<max(recursions - 1, 0)).map { try unit("model.mor_router.\($0)", outputs: 1) }
            case .token:
                tokenRouter = try unit("model.mor_router", outputs: recursions)
            }
        }
        if depth.act != nil {
            halting = try unit("model.act_halting", outputs: 1)
        }
        if depth.recurrentDepth != nil {
            adapter = try loader.matrix(config.family.depthTensorName("model.adapter.weight"), rows: d, columns: 2 * d)
        }
        if let relaxation = depth.relaxation {
            let limit = RunState.loraCapacity(config: config)
            guard relaxation.loraRank <= limit else {
                throw EngineError("\(loader.configFile): relaxation.lora_rank \(relaxation.loraRank) exceeds \(limit)")
            }
            let layers = config.numHiddenLayers
            let shared = depth.sharing == .middleCycle ? Array(1..<(layers - 1)) : Array(0..<layers)
            for layer in shared {
                for loop in 0..<recursions {
                    var deltas = LayerLoRA()
                    for projection in relaxation.targetModules {
                        let (input, output) = projection.shape(config)
                        let base = "model.layers.\(layer).\(projection.module)"
                        deltas[projection] = LoRADelta(
                            a: try loader.matrix("\(base).lora_A.\(loop).weight", rows: relaxation.loraRank, columns: input),
                            b: try loader.matrix("\(base).lora_B.\(loop).weight", rows: output, columns: relaxation.loraRank),
                            scaling: relaxation.scaling)
                    }
                    lora[layer, loop] = deltas
                }
            }
        }
    }
}
