/// The forward pass as building blocks over a batch of tokens (llama2.c's `forward`, cut
/// into the pieces an adaptive-depth architecture needs, and made to take n tokens at once:
/// a decoded token is a batch of one, a prompt goes through in batches):
///
///     embed(tokens) -> states
///     decoderLayer(stored layer, rows of states, cache of this depth step)   (per step)
///     logits(states)                                                (final norm + head)
///
/// Every projection of a layer is one matrix product over the batch's rows, so the weights
/// stream from memory once per batch. Each row attends over the rows of the step's cache
/// whose positions are at or before its own; an architecture chooses per step which tokens'
/// rows run and what the cache receives for the others (`KeyValueWrites`).
///
/// One layer, every family: the optional pieces (q/k norms, branch or residual norms,
/// soft-capping, GeGLU, scaled embeddings, partial rotary) are set by the family's config
/// and weights (Families/).
extension Model {
    /// states[r] = embedding row of `tokens[r]` (times the family's embedding scale).
    public func embed(_ tokens: some Sequence<Int>, into states: UnsafeMutablePointer<Float>) throws {
        let d = config.hiddenSize
        for (r, token) in tokens.enumerated() {
            guard token >= 0, token < config.vocabSize else {
                throw EngineError("token id \(token) is out of range (vocabulary size \(config.vocabSize))")
            }
            embedding.row(token, into: states + r * d)
            if let scale = config.embeddingScale { scaleVector(states + r * d, by: scale, count: d) }
        }
    }

    /// Stored layer `layer` applied in place to `rows`: attention over `cache` (after
    /// `writes` added this step's keys and values), then the MLP. Afterwards
    /// `state.attendedRows[r]` holds how many cache rows row r attended over.
    /// `lora` adds a per-loop low-rank delta to the projections (relaxed recursion).
    public func decoderLayer(
        _ layer: Int, _ rows: LayerRows, cache: KVCache, writes: KeyValueWrites, state: RunState,
        lora: LayerLoRA? = nil
    ) throws {
        let weights = layers[layer]
        let n = rows.count, d = config.hiddenSize, qd = config.queryDim
        guard n > 0 else {
            // No token runs this step, but stopped tokens may still give it keys and values.
            return try writeKeyValues(layer, rows, to: cache, writes, state: state, lora: lora)
        }
        let pool = state.pool

        // Attention.
        normalizeRows(rows.states, count: n, weight: weights.inputNorm, into: state.normed.pointer, pool: pool)
        let packed = pack(state.normed.pointer, columns: d, rows: n, for: weights.query, state: state)
        project(.query, weights, state.normed.pointer, rows: n, into: state.query.pointer, packed: packed, state: state, lora: lora)
        for r in 0..<n {
            let q = state.query.pointer + r * qd
            if let norm = weights.queryNorm { normalizeHeads(q, heads: config.numAttentionHeads, weight: norm) }
            state.rotary.rotate(q, heads: config.numAttentionHeads, headDim: config.headDim, rope: weights.rope, row: rows.token(r))
        }
        try writeKeyValues(layer, rows, to: cache, writes, state: state, lora: lora, packed: packed)
        guard cache.count <= state.contextLength else {
            throw EngineError("the KV cache holds \(cache.count) rows but the run state was made for \(state.contextLength)")
        }
        attend(layer, rows, cache: cache, state: state)
        project(.output, weights, state.attentionOutput.pointer, rows: n, into: state.projected.pointer, state: state, lora: lora)
        addResidual(rows, weights.attentionOutputNorm, state: state)

        // MLP.
        let ffn = config.intermediateSize
        normalizeRows(rows.states, count: n, weight: weights.feedForwardNorm, into: state.normed.pointer, pool: pool)
        let packedInput = pack(state.normed.pointer, columns: d, rows: n, for: weights.gate, state: state)
        project(.gate, weights, state.normed.pointer, rows: n, into: state.gate.pointer, packed: packedInput, state: state, lora: lora)
        project(.up, weights, state.normed.pointer, rows: n, into: state.up.pointer, packed: packedInput, state: state, lora: lora)
        let activation = config.activation
        forEachRow(n, pool: pool, work: ffn) { r in
            gatedActivation(activation, state.gate.pointer + r * ffn, state.up.pointer + r * ffn, count: ffn)
        }
        let packedHidden = pack(state.gate.pointer, columns: ffn, rows: n, for: weights.down, state: state)
        project(.down, weights, state.gate.pointer, rows: n, into: state.projected.pointer, packed: packedHidden, state: state, lora: lora)
        addResidual(rows, weights.feedForwardOutputNorm, state: state)
    }

    /// logits[r] = lm_head(norm(states[r])) for `count` rows (also the logit lens of an
    /// intermediate state), soft-capped where the family caps them.
    public func logits(
        _ states: UnsafePointer<Float>, count: Int, into logits: UnsafeMutablePointer<Float>, state: RunState
    ) {
        let d = config.hiddenSize, vocabulary = config.vocabSize
        normalizeRows(states, count: count, weight: finalNorm, into: state.normed.pointer, pool: state.pool)
        let packed = pack(state.normed.pointer, columns: d, rows: count, for: lmHead, state: state)
        lmHead.multiply(
            state.normed.pointer, xStride: d, tokens: count, into: logits, yStride: vocabulary, pool: state.pool, packed: packed)
        if let cap = config.logitSoftcap {
            for i in 0..<(count * vocabulary) { logits[i] = cap * tanhf(logits[i] / cap) }
        }
    }

    // MARK: - Pieces

    /// out[r] = RMSNorm(x[r]) for `count` rows of the norm's size.
    func normalizeRows(
        _ x: UnsafePointer<Float>, count: Int, weight: WeightVector, into out: UnsafeMutablePointer<Float>, pool: ThreadPool
    ) {
        let d = weight.count, epsilon = config.rmsNormEps
        forEachRow(count, pool: pool, work: d) { r in
            rmsNorm(x + r * d, weight: weight.pointer, epsilon: epsilon, into: out + r * d, count: d)
        }
    }

    /// y = W x (+ LoRA delta, + bias) for `rows` inputs of `projection`.
    private func project(
        _ projection: Projection, _ weights: DecoderLayerWeights, _ x: UnsafePointer<Float>, rows n: Int,
        into y: UnsafeMutablePointer<Float>, packed: PackedInputs? = nil, state: RunState, lora: LayerLoRA?
    ) {
        let matrix = weights.matrix(projection)
        let packed = packed ?? pack(x, columns: matrix.columns, rows: n, for: matrix, state: state)
        matrix.multiply(x, xStride: matrix.columns, tokens: n, into: y, yStride: matrix.rows, pool: state.pool, packed: packed)
        lora?[projection]?.add(x, rows: n, into: y, state: state)
        if let bias = weights.vector(LayerVector.bias(projection)) {
            for r in 0..<n { add(bias.pointer, into: y + r * matrix.rows, count: matrix.rows) }
        }
    }

    /// states += projected, with the family's norm of the branch (before the add) or of the
    /// residual (after it).
    private func addResidual(_ rows: LayerRows, _ norm: WeightVector?, state: RunState) {
        let d = config.hiddenSize, epsilon = config.rmsNormEps, placement = config.extraNorms
        forEachRow(rows.count, pool: state.pool, work: d) { r in
            let branch = state.projected.pointer + r * d, residual = rows.states + r * d
            switch (placement, norm) {
            case (.branchOutputs, let norm?):
                rmsNorm(branch, weight: norm.pointer, epsilon: epsilon, into: branch, count: d)
                add(branch, into: residual, count: d)
            case (.afterResiduals, let norm?):
                add(branch, into: residual, count: d)
                rmsNorm(residual, weight: norm.pointer, epsilon: epsilon, into: residual, count: d)
            default:
                add(branch, into: residual, count: d)
            }
        }
    }

    /// RMSNorm of each head of `vector` (q/k norms: head_dim weights shared by the heads).
    private func normalizeHeads(_ vector: UnsafeMutablePointer<Float>, heads: Int, weight: WeightVector) {
        let size = config.headDim
        for head in 0..<heads {
            let v = vector + head * size
            rmsNorm(v, weight: weight.pointer, epsilon: config.rmsNormEps, into: v, count: size)
        }
    }

    /// Adds this step's keys and values to the step's cache, in position order: each row's
    /// own (`.own`), or what a plan says for each token of the batch (`.plan`), or nothing.
    private func writeKeyValues(
        _ layer: Int, _ rows: LayerRows, to cache: KVCache, _ writes: KeyValueWrites, state: RunState, lora: LayerLoRA?,
        packed: PackedInputs? = nil
    ) throws {
        switch writes {
        case .none:
            return
        case .own:
            try computeKeyValues(layer, input: state.normed.pointer, count: rows.count, packed: packed, state: state, lora: lora) {
                rows.token($0)
            }
            for r in 0..<rows.count { try append(r, to: cache, position: rows.position(r), state: state) }
        case .plan(let entries):
            // The inputs that need projecting, gathered in order: a running row's normed
            // state, or a stopped token's exit state through this layer's input norm.
            let d = config.hiddenSize
            var computed = 0
            for entry in entries {
                let target = state.keyValueInput.pointer + computed * d
                switch entry.source {
                case .row(let r): target.update(from: state.normed.pointer + r * d, count: d)
                case .state(let exitState):
                    rmsNorm(exitState, weight: layers[layer].inputNorm.pointer, epsilon: config.rmsNormEps, into: target, count: d)
                case .copy: continue
                }
                state.keyValueRows[computed] = entry.token
                computed += 1
            }
            try computeKeyValues(layer, input: state.keyValueInput.pointer, count: computed, state: state, lora: lora) {
                state.keyValueRows[$0]
            }
            var next = 0
            for entry in entries {
                let position = rows.start + entry.token
                if case .copy(let source, let row) = entry.source {
                    let origin = source.takeUnretainedValue()
                    let target = try cache.appendRow(position: position)
                    cache.key(target).update(from: origin.key(row), count: cache.kvDim)
                    cache.value(target).update(from: origin.value(row), count: cache.kvDim)
                } else {
                    try append(next, to: cache, position: position, state: state)
                    next += 1
                }
            }
        }
    }

    /// key/value[r] = rope(k_proj(input[r])), v_proj(input[r]) for `count` inputs; row r
    /// belongs to batch token `token(r)` (for its rotation).
    private func computeKeyValues(
        _ layer: Int, input: UnsafePointer<Float>, count n: Int, packed: PackedInputs? = nil, state: RunState,
        lora: LayerLoRA?, token: (Int) -> Int
    ) throws {
        guard n > 0 else { return }
        let weights = layers[layer], kvd = config.kvDim
        let packed = packed ?? pack(input, columns: config.hiddenSize, rows: n, for: weights.key, state: state)
        project(.key, weights, input, rows: n, into: state.key.pointer, packed: packed, state: state, lora: lora)
        project(.value, weights, input, rows: n, into: state.value.pointer, packed: packed, state: state, lora: lora)
        for r in 0..<n {
            let k = state.key.pointer + r * kvd
            if let norm = weights.keyNorm { normalizeHeads(k, heads: config.numKeyValueHeads, weight: norm) }
            state.rotary.rotate(k, heads: config.numKeyValueHeads, headDim: config.headDim, rope: weights.rope, row: token(r))
        }
    }

    private func append(_ r: Int, to cache: KVCache, position: Int, state: RunState) throws {
        let kvd = config.kvDim
        let row = try cache.appendRow(position: position)
        cache.key(row).update(from: state.key.pointer + r * kvd, count: kvd)
        cache.value(row).update(from: state.value.pointer + r * kvd, count: kvd)
    }

    /// The inputs transposed once for the products that share them (nil where the products
    /// would not use it: q8_0 weights, or too few rows).
    func pack(_ x: UnsafePointer<Float>, columns: Int, rows: Int, for matrix: WeightMatrix, state: RunState) -> PackedInputs? {
        guard matrix.format.usesPackedInputs, rows >= PackedInputs.minimumTokens, rows <= state.rows else { return nil }
        return PackedInputs.pack(
            x, xStride: columns, tokens: rows, columns: columns, into: state.packedInputs.pointer, pool: state.pool)
    }
}

/// The rows of a batch that go through a layer together: row r is the hidden state of
/// batch token `token(r)`, at position `start + token(r)`.
public struct LayerRows {
    /// `count` x hidden_size floats, row after row.
    public var states: UnsafeMutablePointer<Float>
    public var count: Int
    /// Batch index of each row, ascending; nil for 0..<count.
    public var tokens: UnsafePointer<Int>?
    /// Position of batch token 0.
    public var start: Int

    public init(states: UnsafeMutablePointer<Float>, count: Int, tokens: UnsafePointer<Int>? = nil, start: Int) {
        self.states = states
        self.count = count
        self.tokens = tokens
        self.start = start
    }

    @inline(__always) public func token(_ r: Int) -> Int { tokens?[r] ?? r }
    @inline(__always) public func position(_ r: Int) -> Int { start + token(r) }
}

/// What the cache a layer attends over receives for the batch.
public enum KeyValueWrites {
    /// Nothing: the rows attend over another step's cache (recursive KV sharing).
    case none
    /// Each row's own key and value.
    case own
    /// For each token of the batch that gets a row, in position order: a running row's own,
    /// one computed from a stopped token's state, or one copied from another cache.
    case plan(UnsafeBufferPointer<KeyValueEntry>)
}

/// One row a key-value plan appends.
public struct KeyValueEntry {
    public enum Source {
        /// The running row r's own key and value.
        case row(Int)
        /// Computed from this state (a stopped token's exit state: state propagation).
        case state(UnsafePointer<Float>)
        /// Copied from a row of another cache (the latest loop a token ran).
        case copy(Unmanaged<KVCache>, row: Int)
    }

    /// Batch index of the token.
    public var token: Int
    public var source: Source
}

/// Runs `body` for rows 0..<n, shared over the pool's threads when the batch is big enough
/// to pay for the hand-off (a decoded token runs inline: no allocation).
@inline(__always)
func forEachRow(_ n: Int, pool: ThreadPool, work: Int, _ body: (Int) -> Void) {
    guard pool.threads > 1, n >= 4, n * work >= 16_384 else {
        for r in 0..<n { body(r) }
        return
    }
    pool.run { chunk, chunks in
        for r in ThreadPool.share(of: n, part: chunk, parts: chunks, granule: 1) { body(r) }
    }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
