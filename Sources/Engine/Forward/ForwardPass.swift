/// The forward pass as building blocks, one token at a time (llama2.c's `forward`, cut
/// into the pieces an adaptive-depth architecture needs):
///
///     embed(token) -> hidden
///     decoderLayer(stored layer, hidden, position, cache of this depth step)   (repeat per step)
///     logits(hidden)                                                        (final norm + head)
///
/// Vanilla generation runs every stored layer in order, each with its own cache
/// (`forward(token:position:caches:state:)`). A recursive schedule applies a stored layer
/// at several depth steps, each with its own cache; an early-exit policy stops the loop
/// and fills the skipped steps' caches with `appendKeyValue` from the exit state.
extension Model {
    /// hidden = embedding row of `token`.
    public func embed(token: Int, into hidden: FloatVector) throws {
        guard token >= 0, token < config.vocabSize else {
            throw EngineError("token id \(token) is out of range (vocabulary size \(config.vocabSize))")
        }
        embedding.row(token, into: hidden.pointer)
    }

    /// One decoder layer (stored layer `layer`) applied to `hidden` in place, for the token
    /// at `position`: attention (appending this token's key/value to `cache`) then MLP.
    /// Afterwards `state.attentionWeights` holds this step's attention over `cache`.
    /// `lora` adds a per-loop low-rank delta to the layer's projections (relaxed recursion).
    public func decoderLayer(
        _ layer: Int, hidden: FloatVector, position: Int, cache: KVCache, state: RunState,
        lora: LayerLoRA? = nil
    ) throws {
        try attentionBlock(layer, hidden: hidden, position: position, cache: cache, state: state, lora: lora)
        mlpBlock(layer, hidden: hidden, state: state, lora: lora)
    }

    /// hidden += o_proj(attention(input_layernorm(hidden))).
    ///
    /// With `appendToCache` the token's own key/value are added to `cache` first (the
    /// normal case); without it the token only reads the rows already there (an
    /// architecture that shares another step's KV, which must hold this position).
    /// The query attends to every row whose position is <= `position` and inside the
    /// layer's sliding window.
    public func attentionBlock(
        _ layer: Int, hidden: FloatVector, position: Int, cache: KVCache, state: RunState,
        appendToCache: Bool = true, lora: LayerLoRA? = nil
    ) throws {
        let weights = layers[layer]
        rmsNorm(
            hidden.pointer, weight: weights.inputNorm.pointer, epsilon: config.rmsNormEps,
            into: state.normed.pointer, count: config.hiddenSize)
        state.prepareRotary(position: position, inverseFrequencies: inverseFrequencies)

        weights.query.multiply(state.normed.pointer, into: state.query.pointer, pool: state.pool)
        lora?[.query]?.add(state.normed.pointer, into: state.query.pointer, state: state)
        if let bias = weights.queryBias { add(bias.pointer, into: state.query.pointer, count: config.queryDim) }
        applyRotary(
            state.query.pointer, heads: config.numAttentionHeads, headDim: config.headDim,
            cos: state.cos.pointer, sin: state.sin.pointer)

        if appendToCache {
            try writeKeyValue(layer, normed: state.normed, position: position, cache: cache, state: state, lora: lora)
        }
        guard cache.count <= state.contextLength else {
            throw EngineError(
                "the KV cache holds \(cache.count) rows but the run state was made for \(state.contextLength)")
        }
        attend(layer, position: position, cache: cache, state: state)

        weights.output.multiply(state.attentionOutput.pointer, into: state.projected.pointer, pool: state.pool)
        lora?[.output]?.add(state.attentionOutput.pointer, into: state.projected.pointer, state: state)
        if let bias = weights.outputBias { add(bias.pointer, into: state.projected.pointer, count: config.hiddenSize) }
        add(state.projected.pointer, into: hidden.pointer, count: config.hiddenSize)
    }

    /// hidden += down(silu(gate(x)) * up(x)) with x = post_attention_layernorm(hidden).
    public func mlpBlock(_ layer: Int, hidden: FloatVector, state: RunState, lora: LayerLoRA? = nil) {
        let weights = layers[layer]
        let ffn = config.intermediateSize
        rmsNorm(
            hidden.pointer, weight: weights.postAttentionNorm.pointer, epsilon: config.rmsNormEps,
            into: state.normed.pointer, count: config.hiddenSize)
        weights.gate.multiply(state.normed.pointer, into: state.gate.pointer, pool: state.pool)
        weights.up.multiply(state.normed.pointer, into: state.up.pointer, pool: state.pool)
        lora?[.gate]?.add(state.normed.pointer, into: state.gate.pointer, state: state)
        lora?[.up]?.add(state.normed.pointer, into: state.up.pointer, state: state)
        if let bias = weights.gateBias { add(bias.pointer, into: state.gate.pointer, count: ffn) }
        if let bias = weights.upBias { add(bias.pointer, into: state.up.pointer, count: ffn) }
        swiGLU(state.gate.pointer, state.up.pointer, count: ffn)
        weights.down.multiply(state.gate.pointer, into: state.projected.pointer, pool: state.pool)
        lora?[.down]?.add(state.gate.pointer, into: state.projected.pointer, state: state)
        if let bias = weights.downBias { add(bias.pointer, into: state.projected.pointer, count: config.hiddenSize) }
        add(state.projected.pointer, into: hidden.pointer, count: config.hiddenSize)
    }

    /// Computes the key/value of `hidden` for stored layer `layer` at `position` and
    /// appends them to `cache`, without running the rest of the layer. Early exit uses it
    /// to give the steps a token skipped the KV of its exit state (state propagation).
    public func appendKeyValue(
        _ layer: Int, hidden: FloatVector, position: Int, cache: KVCache, state: RunState,
        lora: LayerLoRA? = nil
    ) throws {
        rmsNorm(
            hidden.pointer, weight: layers[layer].inputNorm.pointer, epsilon: config.rmsNormEps,
            into: state.normed.pointer, count: config.hiddenSize)
        state.prepareRotary(position: position, inverseFrequencies: inverseFrequencies)
        try writeKeyValue(layer, normed: state.normed, position: position, cache: cache, state: state, lora: lora)
    }

    /// logits = lm_head(norm(hidden)), into `state.logits` (also the logit lens of an
    /// intermediate state).
    @discardableResult
    public func logits(hidden: FloatVector, state: RunState) -> FloatVector {
        rmsNorm(
            hidden.pointer, weight: finalNorm.pointer, epsilon: config.rmsNormEps,
            into: state.normed.pointer, count: config.hiddenSize)
        lmHead.multiply(state.normed.pointer, into: state.logits.pointer, pool: state.pool)
        return state.logits
    }

    /// Vanilla full-depth step: every stored layer in order, layer i with `caches[i]`.
    /// Returns `state.logits`.
    @discardableResult
    public func forward(token: Int, position: Int, caches: [KVCache], state: RunState) throws -> FloatVector {
        try embed(token: token, into: state.hidden)
        for layer in 0..<layers.count {
            try decoderLayer(layer, hidden: state.hidden, position: position, cache: caches[layer], state: state)
        }
        return logits(hidden: state.hidden, state: state)
    }

    /// One empty cache per stored layer, for vanilla generation of up to `capacity` tokens.
    public func makeCaches(capacity: Int) throws -> [KVCache] {
        try layers.map { _ in try KVCache(kvDim: config.kvDim, capacity: capacity) }
    }

    // MARK: - Pieces

    /// k = rope(k_proj(normed)), v = v_proj(normed), appended to `cache` at `position`.
    private func writeKeyValue(
        _ layer: Int, normed: FloatVector, position: Int, cache: KVCache, state: RunState,
        lora: LayerLoRA? = nil
    ) throws {
        let weights = layers[layer]
        let row = try cache.appendRow(position: position)
        let key = cache.key(row)
        let value = cache.value(row)
        weights.key.multiply(normed.pointer, into: key, pool: state.pool)
        weights.value.multiply(normed.pointer, into: value, pool: state.pool)
        lora?[.key]?.add(normed.pointer, into: key, state: state)
        lora?[.value]?.add(normed.pointer, into: value, state: state)
        if let bias = weights.keyBias { add(bias.pointer, into: key, count: config.kvDim) }
        if let bias = weights.valueBias { add(bias.pointer, into: value, count: config.kvDim) }
        applyRotary(
            key, heads: config.numKeyValueHeads, headDim: config.headDim,
            cos: state.cos.pointer, sin: state.sin.pointer)
    }

    /// Scaled dot-product attention of `state.query` over the rows of `cache`, into
    /// `state.attentionOutput`; the weights stay in `state.attentionWeights`.
    func attend(_ layer: Int, position: Int, cache: KVCache, state: RunState) {
        attend(
            layer, start: position, tokens: 1, queries: state.query.pointer, outputs: state.attentionOutput.pointer,
            cache: cache, state: state)
    }

    /// Attention of `tokens` queries (one per `config.queryDim` floats from `queries`) at
    /// positions `start, start + 1, ...`, whose keys and values are the cache's last `tokens`
    /// rows, into `outputs`; `state.attentionWeights` keeps the last token's weights.
    /// Heads are independent (each writes its own weights row and output slice), so they go
    /// to the pool's threads for a prompt chunk, each thread running every token for its
    /// heads, and for one token over a long context; for a short one the hand-off costs more.
    func attend(
        _ layer: Int, start: Int, tokens: Int, queries: UnsafeMutablePointer<Float>, outputs: UnsafeMutablePointer<Float>,
        cache: KVCache, state: RunState
    ) {
        let rows = cache.count
        state.setAttendedRows(rows)
        outputs.update(repeating: 0, count: tokens * config.queryDim)
        var job = AttentionJob(
            cache: Unmanaged.passUnretained(cache), queries: queries, weights: state.attentionWeights.pointer,
            outputs: outputs, contextLength: state.contextLength, headDim: config.headDim, queryDim: config.queryDim,
            groupSize: config.numAttentionHeads / config.numKeyValueHeads, heads: config.numAttentionHeads,
            window: layers[layer].window ?? Int.max, start: start, tokens: tokens, rows: rows)
        let pool = state.pool
        if pool.threads > 1, tokens > 1 || rows * config.numAttentionHeads * config.headDim >= 32_768 {
            withUnsafePointer(to: &job) { pool.run(chunks: config.numAttentionHeads, context: $0, AttentionJob.runChunk) }
        } else {
            job.run(heads: 0..<config.numAttentionHeads)
        }
    }
}

/// Scaled dot-product attention of `tokens` consecutive tokens over a cache whose last
/// `tokens` rows are theirs, for a range of heads (see `attend`); a plain struct so the
/// pool's threads can share it without allocating.
private struct AttentionJob {
    let cache: Unmanaged<KVCache>
    /// Token t's query and output start `t * queryDim` floats in.
    let queries: UnsafeMutablePointer<Float>
    let weights: UnsafeMutablePointer<Float>
    let outputs: UnsafeMutablePointer<Float>
    let contextLength: Int
    let headDim: Int
    let queryDim: Int
    let groupSize: Int
    let heads: Int
    /// Keys at positions k with position - k >= window are invisible (Int.max: no window).
    let window: Int
    /// Position of token 0.
    let start: Int
    let tokens: Int
    let rows: Int

    static let runChunk: ThreadPool.ChunkFunction = { context, chunk, chunks in
        let job = context.assumingMemoryBound(to: AttentionJob.self).pointee
        job.run(heads: ThreadPool.share(of: job.heads, part: chunk, parts: chunks, granule: 1))
    }

    func run(heads range: Range<Int>) {
        let cache = self.cache.takeUnretainedValue()
        let scale = 1 / Float(headDim).squareRoot()
        for t in 0..<tokens {
            // Token t sees the rows up to its own (later rows belong to later positions).
            let position = start + t, rows = self.rows - tokens + 1 + t
            for head in range {
                let query = queries + t * queryDim + head * headDim
                let kvOffset = (head / groupSize) * headDim
                let weights = self.weights + head * contextLength
                for row in 0..<rows {
                    let keyPosition = cache.position(ofRow: row)
                    let visible = keyPosition <= position && position - keyPosition < window
                    weights[row] =
                        visible
                        ? dotF32(cache.key(row) + kvOffset, query, count: headDim) * scale
                        : -Float.infinity
                }
                softmax(weights, count: rows)
                let output = outputs + t * queryDim + head * headDim
                for row in 0..<rows where weights[row] != 0 {
                    addScaled(cache.value(row) + kvOffset, scale: weights[row], into: output, count: headDim)
                }
            }
        }
    }
}
