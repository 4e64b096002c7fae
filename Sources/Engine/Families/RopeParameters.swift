import Foundation

/// Rotary position embedding parameters, normalised from either config.json form:
/// transformers 4.x (`rope_theta` at the top, `rope_scaling: {"type"|"rope_type": ...}`)
/// or 5.x (`rope_parameters: {"rope_type": ..., "rope_theta": ...}`), as transformers'
/// `modeling_rope_utils` computes them.
public struct RopeParameters: Codable, Sendable, Equatable {
    /// "default", "linear", "llama3" or "longrope".
    public var ropeType: String
    public var ropeTheta: Double
    public var factor: Double?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var originalMaxPositionEmbeddings: Int?
    /// Share of each head's dimensions that rotate (1: all).
    public var partialRotaryFactor: Double = 1
    /// longrope: per-frequency divisors below and above the original context.
    public var shortFactor: [Double]? = nil
    public var longFactor: [Double]? = nil
    /// cos and sin are multiplied by this (longrope's default: sqrt(1 + ln f / ln original)).
    public var attentionFactor: Double? = nil
    /// Per-frequency divisors stored with the weights instead of as parameters (a GGUF
    /// file's `rope_freqs.weight`, llama.cpp's form of Llama 3 scaling); applied after the
    /// rope type's own scaling.
    public var frequencyFactors: [Float]? = nil

    public static let supportedTypes = ["default", "linear", "llama3", "longrope"]

    public init(
        ropeType: String, ropeTheta: Double, factor: Double? = nil, lowFreqFactor: Double? = nil,
        highFreqFactor: Double? = nil, originalMaxPositionEmbeddings: Int? = nil
    ) {
        self.ropeType = ropeType
        self.ropeTheta = ropeTheta
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
    }

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case ropeTheta = "rope_theta"
        case factor
        case lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case partialRotaryFactor = "partial_rotary_factor"
        case shortFactor = "short_factor"
        case longFactor = "long_factor"
        case attentionFactor = "attention_factor"
        case frequencyFactors = "frequency_factors"
    }

    /// Follows transformers' `convert_rope_params_to_dict` / `standardize_rope_params`:
    /// `rope_scaling` wins over `rope_parameters`; inside it `rope_type`, else `type`, else
    /// "default"; `rope_theta` from the dict, else the top level, else 10000; llama3's and
    /// longrope's `original_max_position_embeddings` default to `max_position_embeddings`.
    /// Per-layer-type parameters (`{"full_attention": {...}, "sliding_attention": {...}}`)
    /// give the full-attention entry here; a family with local layers reads the other.
    static func resolve(
        scaling: JSONValue?, parameters: JSONValue?, topLevelTheta: Double?,
        topLevelPartialFactor: Double?, maxPositionEmbeddings: Int, layerType: String = "full_attention"
    ) throws -> RopeParameters {
        var dict: [String: JSONValue] = [:]
        for candidate in [scaling, parameters] {
            guard let candidate, candidate != .null else { continue }
            guard let object = candidate.objectValue else {
                throw EngineError("key '\(candidate == scaling ? "rope_scaling" : "rope_parameters")': expected an object")
            }
            dict = object
            break
        }
        if dict.values.contains(where: { $0.objectValue != nil }) {
            guard let entry = dict[layerType]?.objectValue else {
                throw EngineError("key 'rope_parameters': per-layer-type parameters without '\(layerType)'")
            }
            dict = entry
        }
        return try parse(dict, topLevelTheta: topLevelTheta, topLevelPartialFactor: topLevelPartialFactor,
                         maxPositionEmbeddings: maxPositionEmbeddings)
    }

    /// One rope dictionary (rope_type, rope_theta, factor, ...).
    static func parse(
        _ dict: [String: JSONValue], topLevelTheta: Double?, topLevelPartialFactor: Double?, maxPositionEmbeddings: Int
    ) throws -> RopeParameters {
        let keys = ConfigKeys(raw: dict, file: "rope")
        func number(_ key: String) throws -> Double? {
            do { return try keys.double(key) } catch { throw EngineError("key 'rope.\(key)': expected a number") }
        }
        func numbers(_ key: String) throws -> [Double]? {
            do { return try keys.doubles(key) } catch { throw EngineError("key 'rope.\(key)': expected a list of numbers") }
        }
        let type = dict["rope_type"]?.stringValue ?? dict["type"]?.stringValue ?? "default"
        guard supportedTypes.contains(type) else {
            throw EngineError("rope type '\(type)' is not supported (supported: \(supportedTypes.joined(separator: ", ")))")
        }
        let partial = try number("partial_rotary_factor") ?? topLevelPartialFactor ?? 1
        guard partial > 0, partial <= 1 else { throw EngineError("partial_rotary_factor \(partial) must be in (0, 1]") }
        var rope = RopeParameters(
            ropeType: type, ropeTheta: try number("rope_theta") ?? topLevelTheta ?? 10_000,
            factor: try number("factor"), lowFreqFactor: try number("low_freq_factor"),
            highFreqFactor: try number("high_freq_factor"),
            originalMaxPositionEmbeddings: try number("original_max_position_embeddings").map { Int($0) })
        rope.partialRotaryFactor = partial
        guard rope.ropeTheta > 0 else { throw EngineError("rope_theta must be positive, got \(rope.ropeTheta)") }
        switch type {
        case "linear":
            guard let factor = rope.factor, factor > 0 else {
                throw EngineError("linear rope scaling needs a positive 'factor'")
            }
        case "llama3":
            guard let factor = rope.factor, factor > 0, let low = rope.lowFreqFactor,
                let high = rope.highFreqFactor, high > low
            else {
                throw EngineError("llama3 rope scaling needs 'factor' > 0 and 'low_freq_factor' < 'high_freq_factor'")
            }
            rope.originalMaxPositionEmbeddings = rope.originalMaxPositionEmbeddings ?? maxPositionEmbeddings
        case "longrope":
            guard let short = try numbers("short_factor"), let long = try numbers("long_factor"),
                short.allSatisfy({ $0 > 0 }), long.allSatisfy({ $0 > 0 })
            else {
                throw EngineError("longrope scaling needs 'short_factor' and 'long_factor' lists of positive numbers")
            }
            let original = rope.originalMaxPositionEmbeddings ?? maxPositionEmbeddings
            guard original > 1 else { throw EngineError("longrope's original_max_position_embeddings must be > 1") }
            rope.originalMaxPositionEmbeddings = original
            rope.shortFactor = short
            rope.longFactor = long
            // transformers: factor defaults to max / original; the attention factor to
            // sqrt(1 + ln(factor) / ln(original)) when the factor is above 1.
            let factor = rope.factor ?? Double(maxPositionEmbeddings) / Double(original)
            rope.attentionFactor =
                try number("attention_factor") ?? (factor <= 1 ? 1 : (1 + log(factor) / log(Double(original))).squareRoot())
        default:
            break
        }
        return rope
    }

    /// Dimensions of a head of `headDim` that rotate: int(headDim * partial_rotary_factor).
    public func rotaryDimension(headDim: Int) -> Int {
        Int(Double(headDim) * partialRotaryFactor)
    }

    /// Inverse frequencies, one per rotated pair of a head of `headDim`, as transformers
    /// computes them (in f32, including the rope type's scaling). `contextLength` is the
    /// most positions a run holds: longrope takes its long factors when it exceeds the
    /// original context (as transformers does for a forward pass over that many positions).
    public func inverseFrequencies(headDim: Int, contextLength: Int? = nil) -> [Float] {
        let dimension = rotaryDimension(headDim: headDim)
        let half = dimension / 2
        var inverse = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(dimension)
            return 1 / Float(pow(ropeTheta, Double(exponent)))
        }
        switch ropeType {
        case "linear":
            let factor = Float(factor ?? 1)
            inverse = inverse.map { $0 / factor }
        case "llama3":
            // Low frequencies (long wavelengths) are divided by `factor`, high ones kept,
            // the band between interpolated smoothly (Llama 3.1's rope scaling).
            let factor = Float(factor ?? 1)
            let low = Float(lowFreqFactor ?? 1)
            let high = Float(highFreqFactor ?? 4)
            let oldContext = Float(originalMaxPositionEmbeddings ?? 8192)
            let lowFreqWavelength = oldContext / low
            let highFreqWavelength = oldContext / high
            inverse = inverse.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength < highFreqWavelength { return frequency }
                if wavelength > lowFreqWavelength { return frequency / factor }
                let smooth = (oldContext / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        case "longrope":
            let long = (contextLength ?? 0) > (originalMaxPositionEmbeddings ?? Int.max)
            let factors = (long ? longFactor : shortFactor) ?? []
            inverse = inverse.enumerated().map { i, frequency in
                i < factors.count ? frequency / Float(factors[i]) : frequency
            }
        default:
            break
        }
        if let frequencyFactors, frequencyFactors.count == inverse.count {
            inverse = zip(inverse, frequencyFactors).map { $0 / $1 }
        }
        return inverse
    }

    /// What cos and sin are multiplied by (1 except longrope).
    public var cosineScale: Float { Float(attentionFactor ?? 1) }
}
