/// The weights of one stored decoder layer in the engine's one layer shape, whatever the
/// family and format named them: seven projections, their optional biases, the two input
/// norms and the optional norms some families add (`NormPlacement`, q/k norms).
///
/// A class, not a struct: the forward pass looks layers up several times per step, and
/// copying two dozen references (a retain and a release each) showed up in decode profiles.
public final class DecoderLayerWeights: Sendable {
    public let query: WeightMatrix
    public let key: WeightMatrix
    public let value: WeightMatrix
    public let output: WeightMatrix
    public let gate: WeightMatrix
    public let up: WeightMatrix
    public let down: WeightMatrix
    /// Attention input norm (HF input_layernorm).
    public let inputNorm: WeightVector
    /// MLP input norm (HF post_attention_layernorm in Llama; pre_feedforward_layernorm in Gemma 2/3).
    public let feedForwardNorm: WeightVector
    public let queryBias: WeightVector?
    public let keyBias: WeightVector?
    public let valueBias: WeightVector?
    public let outputBias: WeightVector?
    public let gateBias: WeightVector?
    public let upBias: WeightVector?
    public let downBias: WeightVector?
    /// Per-head RMSNorm of q and k (head_dim values each).
    public let queryNorm: WeightVector?
    public let keyNorm: WeightVector?
    /// The norm after the attention branch and after the MLP branch (`NormPlacement`).
    public let attentionOutputNorm: WeightVector?
    public let feedForwardOutputNorm: WeightVector?
    /// Sliding attention window of this layer (nil: full causal attention). A key at
    /// position k is visible from query position q when q - k < window, as in HF.
    public let window: Int?
    /// Which of the model's rotary tables this layer uses (`Model.ropes`).
    public let rope: Int

    public init(_ tensors: LayerTensors, window: Int?, rope: Int = 0) throws {
        func required<T>(_ value: T?, _ what: String) throws -> T {
            guard let value else { throw EngineError("internal: layer without \(what)") }
            return value
        }
        query = try required(tensors[.query], "q_proj")
        key = try required(tensors[.key], "k_proj")
        value = try required(tensors[.value], "v_proj")
        output = try required(tensors[.output], "o_proj")
        gate = try required(tensors[.gate], "gate_proj")
        up = try required(tensors[.up], "up_proj")
        down = try required(tensors[.down], "down_proj")
        inputNorm = try required(tensors[.inputNorm], "input norm")
        feedForwardNorm = try required(tensors[.feedForwardNorm], "MLP input norm")
        queryBias = tensors[.queryBias]
        keyBias = tensors[.keyBias]
        valueBias = tensors[.valueBias]
        outputBias = tensors[.outputBias]
        gateBias = tensors[.gateBias]
        upBias = tensors[.upBias]
        downBias = tensors[.downBias]
        queryNorm = tensors[.queryNorm]
        keyNorm = tensors[.keyNorm]
        attentionOutputNorm = tensors[.attentionOutputNorm]
        feedForwardOutputNorm = tensors[.feedForwardOutputNorm]
        self.window = window
        self.rope = rope
    }

    /// The weight matrix of a projection.
    public func matrix(_ projection: Projection) -> WeightMatrix {
        switch projection {
        case .query: query
        case .key: key
        case .value: value
        case .output: output
        case .gate: gate
        case .up: up
        case .down: down
        }
    }

    public func vector(_ role: LayerVector) -> WeightVector? {
        switch role {
        case .inputNorm: inputNorm
        case .feedForwardNorm: feedForwardNorm
        case .queryBias: queryBias
        case .keyBias: keyBias
        case .valueBias: valueBias
        case .outputBias: outputBias
        case .gateBias: gateBias
        case .upBias: upBias
        case .downBias: downBias
        case .queryNorm: queryNorm
        case .keyNorm: keyNorm
        case .attentionOutputNorm: attentionOutputNorm
        case .feedForwardOutputNorm: feedForwardOutputNorm
        }
    }

    /// Every tensor of the layer, to rebuild it changed (converted formats, averages).
    public var tensors: LayerTensors {
        var tensors = LayerTensors()
        for projection in Projection.allCases { tensors[projection] = matrix(projection) }
        for role in LayerVector.allCases { tensors[role] = vector(role) }
        return tensors
    }

    /// The same layer with every matrix replaced by `transform`'s result (vectors shared).
    public func mapMatrices(_ transform: (WeightMatrix) throws -> WeightMatrix) throws -> DecoderLayerWeights {
        var changed = tensors
        for projection in Projection.allCases { changed[projection] = try transform(matrix(projection)) }
        return try DecoderLayerWeights(changed, window: window, rope: rope)
    }

    public var matrices: [WeightMatrix] { Projection.allCases.map(matrix) }
    public var vectors: [WeightVector] { LayerVector.allCases.compactMap(vector) }
}

/// The seven projections of a decoder layer, by their checkpoint names.
public enum Projection: String, Sendable, CaseIterable {
    case query = "q_proj"
    case key = "k_proj"
    case value = "v_proj"
    case output = "o_proj"
    case gate = "gate_proj"
    case up = "up_proj"
    case down = "down_proj"

    /// Tensor name prefix inside a layer: `self_attn.q_proj`, `mlp.up_proj`, ...
    var module: String {
        switch self {
        case .query, .key, .value, .output: "self_attn." + rawValue
        case .gate, .up, .down: "mlp." + rawValue
        }
    }

    /// (inputs, outputs) of the projection for `config`.
    func shape(_ config: ModelConfig) -> (input: Int, output: Int) {
        switch self {
        case .query: (config.hiddenSize, config.queryDim)
        case .key, .value: (config.hiddenSize, config.kvDim)
        case .output: (config.queryDim, config.hiddenSize)
        case .gate, .up: (config.hiddenSize, config.intermediateSize)
        case .down: (config.intermediateSize, config.hiddenSize)
        }
    }

    /// Parses a comma list such as "q_proj,v_proj"; `what` names the option or key in errors.
    static func parseList(_ names: [String], what: String) throws -> [Projection] {
        try names.map { name in
            guard let projection = Projection(rawValue: name) else {
                let known = allCases.map(\.rawValue).joined(separator: ", ")
                throw EngineError("\(what): unknown projection '\(name)' (known: \(known))")
            }
            return projection
        }
    }
}

/// The vectors a layer may have, besides its matrices (`Projection`).
public enum LayerVector: CaseIterable, Sendable {
    case inputNorm, feedForwardNorm
    case queryBias, keyBias, valueBias, outputBias, gateBias, upBias, downBias
    case queryNorm, keyNorm, attentionOutputNorm, feedForwardOutputNorm

    /// The bias of a projection.
    public static func bias(_ projection: Projection) -> LayerVector {
        switch projection {
        case .query: .queryBias
        case .key: .keyBias
        case .value: .valueBias
        case .output: .outputBias
        case .gate: .gateBias
        case .up: .upBias
        case .down: .downBias
        }
    }
}

/// A layer's tensors while a family loads them (any may be missing until checked).
public struct LayerTensors {
    private var matrices: [Projection: WeightMatrix] = [:]
    private var vectors: [LayerVector: WeightVector] = [:]

    public init() {}

    public subscript(projection: Projection) -> WeightMatrix? {
        get { matrices[projection] }
        set { matrices[projection] = newValue }
    }

    public subscript(role: LayerVector) -> WeightVector? {
        get { vectors[role] }
        set { vectors[role] = newValue }
    }
}
