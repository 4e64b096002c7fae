import Foundation

/// Scratch memory for the forward pass, allocated once per generation so that a token
/// costs no heap allocation (llama2.c's RunState).
///
/// `hidden` is the residual stream of the token being computed; the building blocks in
/// ForwardPass.swift take the hidden state as a parameter, so an architecture can keep
/// several (e.g. the state before and after a recursion) and still use this scratch.
public final class RunState {
    /// Longest sequence the attention scratch can cover.
    public let contextLength: Int
    public let hidden: FloatVector
    public let logits: FloatVector
    /// The attention weights of the last attention call: head h's weights over the cache
    /// rows start at `h * contextLength`; `attendedRows` rows are valid (masked rows are 0).
    public let attentionWeights: FloatVector
    public private(set) var attendedRows = 0
    /// Threads the matrix products of this state's tokens split their rows over.
    public let pool: ThreadPool

    let normed: FloatVector
    let query: FloatVector
    let key: FloatVector
    let value: FloatVector
    let attentionOutput: FloatVector
    let projected: FloatVector
    let gate: FloatVector
    let up: FloatVector
    let cos: FloatVector
    let sin: FloatVector
    /// LoRA scratch (relaxed recursion): x A^T (at most `loraCapacity` ranks) and its B
    /// projection, each sized for the largest projection of a layer.
    let loraInner: FloatVector
    let loraOuter: FloatVector
    private var rotaryPosition = -1

    /// The largest LoRA rank (and projection size) this scratch serves.
    public static func loraCapacity(config: ModelConfig) -> Int {
        max(config.hiddenSize, config.intermediateSize, config.queryDim, config.kvDim)
    }

    /// `threads`: how many threads (this one included) run each large matrix product.
    public init(config: ModelConfig, contextLength: Int, threads: Int = 1) throws {
        self.contextLength = contextLength
        pool = ThreadPool(threads: threads)
        hidden = try FloatVector(count: config.hiddenSize)
        logits = try FloatVector(count: config.vocabSize)
        attentionWeights = try FloatVector(count: config.numAttentionHeads * contextLength)
        normed = try FloatVector(count: config.hiddenSize)
        query = try FloatVector(count: config.queryDim)
        key = try FloatVector(count: config.kvDim)
        value = try FloatVector(count: config.kvDim)
        attentionOutput = try FloatVector(count: config.queryDim)
        projected = try FloatVector(count: config.hiddenSize)
        gate = try FloatVector(count: config.intermediateSize)
        up = try FloatVector(count: config.intermediateSize)
        cos = try FloatVector(count: config.headDim / 2)
        sin = try FloatVector(count: config.headDim / 2)
        loraInner = try FloatVector(count: Self.loraCapacity(config: config))
        loraOuter = try FloatVector(count: Self.loraCapacity(config: config))
    }

    /// Fills cos/sin for `position` unless they already hold it (every layer of a token
    /// shares them).
    func prepareRotary(position: Int, inverseFrequencies: [Float]) {
        guard position != rotaryPosition else { return }
        for (i, frequency) in inverseFrequencies.enumerated() {
            // In f32 as transformers does: angle = position * inv_freq.
            let angle = Float(position) * frequency
            cos[i] = Foundation.cos(angle)
            sin[i] = Foundation.sin(angle)
        }
        rotaryPosition = position
    }

    func setAttendedRows(_ rows: Int) { attendedRows = rows }

    /// The last attention call's weights spread over positions `0..<span`, one row per head
    /// (`[head][position]`); positions absent from the cache get 0. Allocates: for traces.
    public func attentionByPosition(cache: KVCache, span: Int, heads: Int) -> [[Float]] {
        (0..<heads).map { head in
            var row = [Float](repeating: 0, count: span)
            let weights = attentionWeights.pointer + head * contextLength
            for r in 0..<attendedRows {
                let position = cache.position(ofRow: r)
                if position < span { row[position] = weights[r] }
            }
            return row
        }
    }
}
