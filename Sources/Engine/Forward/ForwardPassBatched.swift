/// Prompt processing several tokens at once (vanilla full depth): every projection of a
/// layer is one matrix-matrix product over the chunk, so the weights stream from memory
/// once per chunk instead of once per token. Attention stays per token (causal: token t of
/// the chunk sees the cache rows up to its own position). Logits come out for the last
/// token only, as generation needs.
///
/// The result equals running `forward` token by token, up to the summation order of the
/// products (checked in tests).
public final class PrefillState {
    /// Most tokens one chunk holds.
    public let chunk: Int
    let hidden: FloatVector
    let normed: FloatVector
    let query: FloatVector
    let key: FloatVector
    let value: FloatVector
    let attentionOutput: FloatVector
    let projected: FloatVector
    let gate: FloatVector
    let up: FloatVector
    /// One input of the chunk transposed for the f32/f16/bf16 products (PackedInputs),
    /// shared by the products that read it (q, k, v; gate, up).
    let packedInputs: FloatVector

    public init(config: ModelConfig, chunk: Int = 64) throws {
        self.chunk = max(1, chunk)
        let n = self.chunk
        hidden = try FloatVector(count: n * config.hiddenSize)
        normed = try FloatVector(count: n * config.hiddenSize)
        query = try FloatVector(count: n * config.queryDim)
        key = try FloatVector(count: n * config.kvDim)
        value = try FloatVector(count: n * config.kvDim)
        attentionOutput = try FloatVector(count: n * config.queryDim)
        projected = try FloatVector(count: n * config.hiddenSize)
        gate = try FloatVector(count: n * config.intermediateSize)
        up = try FloatVector(count: n * config.intermediateSize)
        let widest = max(config.hiddenSize, config.queryDim, config.intermediateSize)
        packedInputs = try FloatVector(count: PackedInputs.count(tokens: n, columns: widest))
    }

    /// Transposes `tokens` inputs of `columns` floats (x + t * columns) into `packedInputs`
    /// for `matrix`'s products; nil for q8_0 weights, which quantise their inputs instead.
    func pack(
        _ x: UnsafePointer<Float>, columns: Int, tokens: Int, for matrix: WeightMatrix, pool: ThreadPool
    ) -> PackedInputs? {
        guard matrix.format != .q8_0 else { return nil }
        return PackedInputs.pack(
            x, xStride: columns, tokens: tokens, columns: columns, into: packedInputs.pointer, pool: pool)
    }
}

extension Model {
    /// Runs `tokens` at positions `start, start + 1, ...` through every stored layer
    /// (layer i with `caches[i]`), in chunks of `batch.chunk`, and returns the logits after
    /// the last one (in `state.logits`). Plain Llama layers only: no LoRA.
    @discardableResult
    public func prefill(
        tokens: [Int], start: Int, caches: [KVCache], state: RunState, batch: PrefillState
    ) throws -> FloatVector {
        guard !tokens.isEmpty else { throw EngineError("prefill: no tokens") }
        var offset = 0
        while offset < tokens.count {
            let count = min(batch.chunk, tokens.count - offset)
            try prefillChunk(tokens[offset..<(offset + count)], start: start + offset, caches: caches, state: state, batch: batch)
            offset += count
        }
        let d = config.hiddenSize
        let last = (tokens.count - 1) % batch.chunk
        state.hidden.pointer.update(from: batch.hidden.pointer + last * d, count: d)
        return logits(hidden: state.hidden, state: state)
    }

    private func prefillChunk(
        _ tokens: ArraySlice<Int>, start: Int, caches: [KVCache], state: RunState, batch: PrefillState
    ) throws {
        let n = tokens.count
        let d = config.hiddenSize, qd = config.queryDim, kvd = config.kvDim, ffn = config.intermediateSize
        for (t, token) in tokens.enumerated() {
            guard token >= 0, token < config.vocabSize else {
                throw EngineError("token id \(token) is out of range (vocabulary size \(config.vocabSize))")
            }
            embedding.row(token, into: batch.hidden.pointer + t * d)
        }
        let pool = state.pool
        // Per token of the chunk, tokens shared over the threads: normed = rmsNorm(hidden),
        // and hidden += projected (+ bias).
        let epsilon = config.rmsNormEps
        func normalizeAll(_ weight: UnsafePointer<Float>) {
            pool.run { chunk, chunks in
                for t in ThreadPool.share(of: n, part: chunk, parts: chunks, granule: 1) {
                    rmsNorm(batch.hidden.pointer + t * d, weight: weight, epsilon: epsilon,
                            into: batch.normed.pointer + t * d, count: d)
                }
            }
        }
        func addProjected(bias: UnsafePointer<Float>?) {
            pool.run { chunk, chunks in
                for t in ThreadPool.share(of: n, part: chunk, parts: chunks, granule: 1) {
                    let out = batch.projected.pointer + t * d
                    if let bias { add(bias, into: out, count: d) }
                    add(out, into: batch.hidden.pointer + t * d, count: d)
                }
            }
        }
        for (index, weights) in layers.enumerated() {
            let cache = caches[index]
            // Attention: norms, q/k/v for the whole chunk, rotary and cache rows per token.
            normalizeAll(weights.inputNorm.pointer)
            var packed = batch.pack(batch.normed.pointer, columns: d, tokens: n, for: weights.query, pool: pool)
            weights.query.multiply(
                batch.normed.pointer, xStride: d, tokens: n, into: batch.query.pointer, yStride: qd, pool: pool, packed: packed)
            weights.key.multiply(
                batch.normed.pointer, xStride: d, tokens: n, into: batch.key.pointer, yStride: kvd, pool: pool, packed: packed)
            weights.value.multiply(
                batch.normed.pointer, xStride: d, tokens: n, into: batch.value.pointer, yStride: kvd, pool: pool, packed: packed)
            for t in 0..<n {
                let position = start + t
                let q = batch.query.pointer + t * qd, k = batch.key.pointer + t * kvd, v = batch.value.pointer + t * kvd
                if let bias = weights.queryBias { add(bias.pointer, into: q, count: qd) }
                if let bias = weights.keyBias { add(bias.pointer, into: k, count: kvd) }
                if let bias = weights.valueBias { add(bias.pointer, into: v, count: kvd) }
                state.prepareRotary(position: position, inverseFrequencies: inverseFrequencies)
                applyRotary(q, heads: config.numAttentionHeads, headDim: config.headDim, cos: state.cos.pointer, sin: state.sin.pointer)
                applyRotary(k, heads: config.numKeyValueHeads, headDim: config.headDim, cos: state.cos.pointer, sin: state.sin.pointer)
                let row = try cache.appendRow(position: position)
                cache.key(row).update(from: k, count: kvd)
                cache.value(row).update(from: v, count: kvd)
            }
            guard cache.count <= state.contextLength else {
                throw EngineError(
                    "the KV cache holds \(cache.count) rows but the run state was made for \(state.contextLength)")
            }
            attend(
                index, start: start, tokens: n, queries: batch.query.pointer, outputs: batch.attentionOutput.pointer,
                cache: cache, state: state)
            packed = batch.pack(batch.attentionOutput.pointer, columns: qd, tokens: n, for: weights.output, pool: pool)
            weights.output.multiply(
                batch.attentionOutput.pointer, xStride: qd, tokens: n, into: batch.projected.pointer, yStride: d, pool: pool,
                packed: packed)
            addProjected(bias: weights.outputBias?.pointer)

            // MLP.
            normalizeAll(weights.postAttentionNorm.pointer)
            packed = batch.pack(batch.normed.pointer, columns: d, tokens: n, for: weights.gate, pool: pool)
            weights.gate.multiply(
                batch.normed.pointer, xStride: d, tokens: n, into: batch.gate.pointer, yStride: ffn, pool: pool, packed: packed)
            weights.up.multiply(
                batch.normed.pointer, xStride: d, tokens: n, into: batch.up.pointer, yStride: ffn, pool: pool, packed: packed)
            pool.run { chunk, chunks in  // exp per element: worth the threads
                for t in ThreadPool.share(of: n, part: chunk, parts: chunks, granule: 1) {
                    let g = batch.gate.pointer + t * ffn, u = batch.up.pointer + t * ffn
                    if let bias = weights.gateBias { add(bias.pointer, into: g, count: ffn) }
                    if let bias = weights.upBias { add(bias.pointer, into: u, count: ffn) }
                    swiGLU(g, u, count: ffn)
                }
            }
            packed = batch.pack(batch.gate.pointer, columns: ffn, tokens: n, for: weights.down, pool: pool)
            weights.down.multiply(
                batch.gate.pointer, xStride: ffn, tokens: n, into: batch.projected.pointer, yStride: d, pool: pool, packed: packed)
            addProjected(bias: weights.downBias?.pointer)
        }
    }
}
