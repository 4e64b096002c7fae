#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the next token is chosen from the logits. Defaults are HF `generate`'s (sampling
/// at temperature 1 with no truncation); temperature 0 means greedy.
public struct SamplingParameters: Sendable, Equatable, Codable {
    public var temperature: Float = 1
    /// Keep only the k most likely tokens (0: off).
    public var topK: Int = 0
    /// Keep the most likely tokens whose probabilities sum to at least p (1: off).
    public var topP: Float = 1
    /// Drop tokens less likely than min_p times the most likely one (0: off).
    public var minP: Float = 0
    /// HF's repetition penalty on every token already in the sequence (1: off).
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 0

    public init(
        temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
        repetitionPenalty: Float = 1, seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)

    /// Throws a one-line error naming the option that is out of range.
    public func validate() throws {
        guard temperature >= 0, temperature.isFinite else {
            throw EngineError("--temperature must be >= 0 (0 = greedy), got \(temperature)")
        }
        guard topK >= 0 else { throw EngineError("--top-k must be >= 0 (0 = off), got \(topK)") }
        guard topP > 0, topP <= 1 else { throw EngineError("--top-p must be in (0, 1], got \(topP)") }
        guard minP >= 0, minP <= 1 else { throw EngineError("--min-p must be in [0, 1], got \(minP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw EngineError("--repetition-penalty must be > 0 (1 = off), got \(repetitionPenalty)")
        }
    }
}

/// Chooses tokens from logits: repetition penalty, then greedy or temperature, top-k,
/// top-p and min-p (HF's order), drawing with the engine's seeded generator.
/// Scratch arrays are allocated once per vocabulary size.
public struct Sampler: Sendable {
    public private(set) var parameters: SamplingParameters
    private var random: SeededRandom
    private var scores: [Float]
    private var candidates: [Int]
    private var penaltyStamp: [UInt32]
    private var stamp: UInt32 = 0

    public init(parameters: SamplingParameters, vocabularySize: Int) {
        self.parameters = parameters
        random = SeededRandom(seed: parameters.seed)
        scores = [Float](repeating: 0, count: vocabularySize)
        candidates = Array(0..<vocabularySize)
        penaltyStamp = [UInt32](repeating: 0, count: vocabularySize)
    }

    /// Next token for these logits (`scores.count` values), given the tokens so far.
    public mutating func sample(logits: UnsafePointer<Float>, history: some Sequence<Int>) -> Int {
        let vocabulary = scores.count
        for i in 0..<vocabulary { scores[i] = logits[i] }
        if parameters.repetitionPenalty != 1 { applyRepetitionPenalty(history) }
        guard parameters.temperature > 0 else { return argmax() }

        let inverseTemperature = 1 / parameters.temperature
        var maximum = -Float.infinity
        for i in 0..<vocabulary {
            scores[i] *= inverseTemperature
            maximum = max(maximum, scores[i])
        }
        // Probabilities (unnormalised exp), kept in `scores`.
        for i in 0..<vocabulary { scores[i] = expf(scores[i] - maximum) }

        var kept = vocabulary
        let truncates = (parameters.topK > 0 && parameters.topK < vocabulary) || parameters.topP < 1
        if truncates {
            kept = gatherLikeliest()
            // Most likely first; ties by lower id, so the order never depends on the sort.
            scores.withUnsafeBufferPointer { score in
                candidates[0..<kept].sort { a, b in score[a] != score[b] ? score[a] > score[b] : a < b }
            }
            if parameters.topK > 0 { kept = min(kept, parameters.topK) }
            if parameters.topP < 1 {
                var total: Float = 0
                for i in 0..<vocabulary { total += scores[i] }
                var cumulative: Float = 0
                var count = 0
                while count < kept, cumulative < parameters.topP * total {
                    cumulative += scores[candidates[count]]
                    count += 1
                }
                kept = max(count, 1)
            }
        } else {
            for i in 0..<vocabulary { candidates[i] = i }
        }
        if parameters.minP > 0 {
            // Relative to the most likely token (whose score is exp(0) = 1), so it
            // commutes with the truncations above.
            let floor = parameters.minP
            var write = 0
            for read in 0..<kept where scores[candidates[read]] >= floor {
                candidates[write] = candidates[read]
                write += 1
            }
            kept = max(write, 1)
        }

        var total: Float = 0
        for i in 0..<kept { total += scores[candidates[i]] }
        let target = random.nextUnitFloat() * total
        var cumulative: Float = 0
        for i in 0..<kept {
            cumulative += scores[candidates[i]]
            if target < cumulative { return candidates[i] }
        }
        return candidates[kept - 1]
    }

    /// Puts into `candidates[0..<n]` every token whose score is at least some threshold,
    /// lowering the threshold until those tokens hold top-k's count and top-p's mass, and
    /// returns n. Every token left out is less likely than every token gathered, so sorting
    /// only the gathered ones gives the head of the full ranking (sorting all 32k+ ids per
    /// token would cost more than the forward pass of a small model).
    private mutating func gatherLikeliest() -> Int {
        let vocabulary = scores.count
        var total: Float = 0
        for i in 0..<vocabulary { total += scores[i] }
        let neededCount = parameters.topK > 0 ? min(parameters.topK, vocabulary) : 1
        let neededMass = parameters.topP < 1 ? parameters.topP * total : 0
        var threshold: Float = 1e-2  // scores are exp(logit - max), so the best is 1
        while true {
            var count = 0
            var mass: Float = 0
            for i in 0..<vocabulary where scores[i] >= threshold {
                candidates[count] = i
                count += 1
                mass += scores[i]
            }
            if threshold == 0 || (count >= neededCount && mass >= neededMass) { return count }
            threshold = threshold > 1e-30 ? threshold * 1e-4 : 0
        }
    }

    /// Penalises each distinct token of `history` once, as HF does: negative logits are
    /// multiplied by the penalty, positive ones divided.
    private mutating func applyRepetitionPenalty(_ history: some Sequence<Int>) {
        stamp &+= 1
        if stamp == 0 {
            for i in penaltyStamp.indices { penaltyStamp[i] = 0 }
            stamp = 1
        }
        let penalty = parameters.repetitionPenalty
        for token in history where token >= 0 && token < scores.count && penaltyStamp[token] != stamp {
            penaltyStamp[token] = stamp
            scores[token] = scores[token] < 0 ? scores[token] * penalty : scores[token] / penalty
        }
    }

    /// Index of the largest score; the first one on ties (as torch.argmax).
    private func argmax() -> Int {
        var best = 0
        for i in 1..<scores.count where scores[i] > scores[best] { best = i }
        return best
    }
}
