import Foundation

/// Scratch memory for the forward pass over up to `rows` tokens at once, allocated once per
/// run so that a token costs no heap allocation (llama2.c's RunState, made for a batch: a
/// decoded token is a batch of one, a prompt goes through in batches of `rows`).
///
/// Buffers hold one row per token of the batch; a layer reads its input rows from the
/// caller (the depth runner keeps every token's hidden state) and writes them back there.
public final class RunState {
    /// Longest sequence the attention scratch can cover (the run's KV capacity).
    public let contextLength: Int
    /// Most tokens one forward call takes.
    public let rows: Int
    /// Threads the matrix products split their rows over.
    public let pool: ThreadPool
    let config: ModelConfig

    let normed: FloatVector
    let query: FloatVector
    let key: FloatVector
    let value: FloatVector
    let attentionOutput: FloatVector
    let projected: FloatVector
    let gate: FloatVector
    let up: FloatVector
    /// K/V inputs of the rows a key-value plan computes (propagated exit states).
    let keyValueInput: FloatVector
    /// Position index (in the batch) of each row of `keyValueInput`.
    let keyValueRows: UnsafeMutablePointer<Int>
    /// One input of the batch transposed for the f32/f16/bf16 products (PackedInputs),
    /// shared by the products that read it (q, k, v; gate, up).
    let packedInputs: FloatVector
    /// Attention weights, one row of `contextLength` per head (reused by every query), or,
    /// while `capturesAttention`, per query row and head (`attentionRow`).
    private(set) var attentionWeights: FloatVector
    /// Per query row of the last layer call: how many cache rows it attended over.
    let attendedRows: UnsafeMutablePointer<Int>
    /// LoRA scratch (relaxed recursion): x A^T and its B projection per row.
    let loraInner: FloatVector
    let loraOuter: FloatVector
    let rotary: RotaryTables

    /// Whether attention keeps every query row's weights (traces), not only the last ones.
    public private(set) var capturesAttention = false

    /// The largest LoRA rank (and projection size) this scratch serves.
    public static func loraCapacity(config: ModelConfig) -> Int {
        max(config.hiddenSize, config.intermediateSize, config.queryDim, config.kvDim)
    }

    /// `threads`: how many threads (this one included) run each large matrix product.
    public init(model: Model, contextLength: Int, rows: Int = 1, threads: Int = 1) throws {
        let config = model.config
        let n = max(rows, 1)
        self.config = config
        self.contextLength = contextLength
        self.rows = n
        pool = ThreadPool(threads: threads)
        normed = try FloatVector(count: n * config.hiddenSize)
        query = try FloatVector(count: n * config.queryDim)
        key = try FloatVector(count: n * config.kvDim)
        value = try FloatVector(count: n * config.kvDim)
        attentionOutput = try FloatVector(count: n * config.queryDim)
        projected = try FloatVector(count: n * config.hiddenSize)
        gate = try FloatVector(count: n * config.intermediateSize)
        up = try FloatVector(count: n * config.intermediateSize)
        keyValueInput = try FloatVector(count: n * config.hiddenSize)
        keyValueRows = .allocate(capacity: n)
        let widest = max(config.hiddenSize, config.queryDim, config.intermediateSize)
        packedInputs = try FloatVector(count: n >= PackedInputs.minimumTokens ? PackedInputs.count(tokens: n, columns: widest) : 1)
        attentionWeights = try FloatVector(count: config.numAttentionHeads * contextLength)
        attendedRows = .allocate(capacity: n)
        attendedRows.initialize(repeating: 0, count: n)
        keyValueRows.initialize(repeating: 0, count: n)
        loraInner = try FloatVector(count: n * Self.loraCapacity(config: config))
        loraOuter = try FloatVector(count: n * Self.loraCapacity(config: config))
        rotary = try RotaryTables(model: model, contextLength: contextLength, rows: n)
    }

    deinit {
        keyValueRows.deallocate()
        attendedRows.deallocate()
    }

    /// Keeps every query row's attention weights from now on (or stops); allocates the
    /// larger buffer once.
    public func captureAttention(_ on: Bool) throws {
        guard on != capturesAttention else { return }
        let heads = config.numAttentionHeads
        attentionWeights = try FloatVector(count: (on ? rows : 1) * heads * contextLength)
        capturesAttention = on
    }

    /// Head `head`'s weights for query row `row` (the shared row when not capturing).
    func attentionRow(_ row: Int, head: Int) -> UnsafeMutablePointer<Float> {
        let heads = config.numAttentionHeads
        return attentionWeights.pointer + ((capturesAttention ? row * heads : 0) + head) * contextLength
    }

    /// Query row `row`'s weights of the last layer call spread over positions `0..<span`,
    /// one row per head (`[head][position]`); positions absent from the cache get 0.
    /// Allocates: for traces (needs `capturesAttention`, or the batch's last row).
    public func attentionByPosition(row: Int, cache: KVCache, span: Int) -> [[Float]] {
        (0..<config.numAttentionHeads).map { head in
            var weights = [Float](repeating: 0, count: span)
            let source = attentionRow(row, head: head)
            for r in 0..<attendedRows[row] {
                let position = cache.position(ofRow: r)
                if position < span { weights[position] = source[r] }
            }
            return weights
        }
    }
}
