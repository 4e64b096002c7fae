import Foundation

/// Rotary position embedding parameters, normalised from either config.json form:
/// transformers 4.x (`rope_theta` at the top, `rope_scaling: {"type"|"rope_type": ...}`)
/// or 5.x (`rope_parameters: {"rope_type": ..., "rope_theta": ...}`).
public struct RopeParameters: Codable, Sendable, Equatable {
    /// "default", "linear" or "llama3".
    public var ropeType: String
    public var ropeTheta: Double
    public var factor: Double?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var originalMaxPositionEmbeddings: Int?
    /// Per-frequency divisors stored with the weights instead of as parameters (a GGUF
    /// file's `rope_freqs.weight`, llama.cpp's form of Llama 3 scaling); applied after the
    /// rope type's own scaling.
    public var frequencyFactors: [Float]? = nil

    public static let supportedTypes = ["default", "linear", "llama3"]

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case ropeTheta = "rope_theta"
        case factor
        case lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case frequencyFactors = "frequency_factors"
    }

    /// Follows transformers' `convert_rope_params_to_dict` / `standardize_rope_params`:
    /// `rope_scaling` wins over `rope_parameters`; inside it `rope_type`, else `type`, else
    /// "default"; `rope_theta` from the dict, else the top level, else 10000; llama3's
    /// `original_max_position_embeddings` defaults to `max_position_embeddings`.
    static func resolve(
        scaling: JSONValue?, parameters: JSONValue?, topLevelTheta: Double?,
        topLevelPartialFactor: Double?, maxPositionEmbeddings: Int
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
            throw EngineError("per-layer-type rope_parameters are not supported")
        }
        func number(_ key: String) throws -> Double? {
            guard let value = dict[key], value != .null else { return nil }
            guard let number = value.doubleValue else { throw EngineError("key 'rope.\(key)': expected a number") }
            return number
        }
        let type = dict["rope_type"]?.stringValue ?? dict["type"]?.stringValue ?? "default"
        guard supportedTypes.contains(type) else {
            throw EngineError(
                "rope type '\(type)' is not supported (supported: \(supportedTypes.joined(separator: ", ")))")
        }
        let partial = try number("partial_rotary_factor") ?? topLevelPartialFactor ?? 1
        guard partial == 1 else {
            throw EngineError("partial_rotary_factor \(partial) is not supported by Llama-family models (must be 1)")
        }
        var rope = RopeParameters(
            ropeType: type, ropeTheta: try number("rope_theta") ?? topLevelTheta ?? 10_000,
            factor: try number("factor"), lowFreqFactor: try number("low_freq_factor"),
            highFreqFactor: try number("high_freq_factor"),
            originalMaxPositionEmbeddings: try number("original_max_position_embeddings").map { Int($0) })
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
                throw EngineError(
                    "llama3 rope scaling needs 'factor' > 0 and 'low_freq_factor' < 'high_freq_factor'")
            }
            rope.originalMaxPositionEmbeddings = rope.originalMaxPositionEmbeddings ?? maxPositionEmbeddings
        default:
            break
        }
        return rope
    }

    /// Inverse frequencies for one head, one per rotated pair, as transformers computes
    /// them (in f32, including the rope type's scaling).
    public func inverseFrequencies(headDim: Int) -> [Float] {
        let half = headDim / 2
        var inverse = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
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
        default:
            break
        }
        if let frequencyFactors, frequencyFactors.count == inverse.count {
            inverse = zip(inverse, frequencyFactors).map { $0 / $1 }
        }
        return inverse
    }
}

/// Applies the rotation in place to `heads` consecutive head vectors at `vector`, with the
/// position's cos/sin (one value per pair). HF's "rotate_half" layout: element i pairs
/// with element i + headDim/2 (not adjacent elements as in the original paper's code).
@inline(__always)
func applyRotary(
    _ vector: UnsafeMutablePointer<Float>, heads: Int, headDim: Int,
    cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
) {
    let half = headDim / 2
    for head in 0..<heads {
        let base = vector + head * headDim
        for i in 0..<half {
            let first = base[i]
            let second = base[i + half]
            base[i] = first * cos[i] - second * sin[i]
            base[i + half] = second * cos[i] + first * sin[i]
        }
    }
}
