extension Model {
    /// Scaled dot-product attention of the rows' queries (`state.query`) over `cache`, into
    /// `state.attentionOutput`. Row r sees the cache rows at or before its position (the
    /// cache is in position order) and inside the layer's window; it attends over
    /// `state.attendedRows[r]` of them. Heads are independent (each writes its own weights
    /// and output slice), so they go to the pool's threads for a batch, each thread running
    /// every row for its heads, and for one token over a long context; for a short one the
    /// hand-off costs more.
    func attend(_ layer: Int, _ rows: LayerRows, cache: KVCache, state: RunState) {
        let n = rows.count, heads = config.numAttentionHeads
        for r in 0..<n { state.attendedRows[r] = cache.rowCount(atOrBefore: rows.position(r)) }
        state.attentionOutput.pointer.update(repeating: 0, count: n * config.queryDim)
        var job = AttentionJob(
            cache: Unmanaged.passUnretained(cache), queries: state.query.pointer, outputs: state.attentionOutput.pointer,
            weights: state.attentionRow(0, head: 0), rowStride: state.capturesAttention ? heads * state.contextLength : 0,
            headStride: state.contextLength, visible: state.attendedRows, start: rows.start, tokens: rows.tokens, count: n,
            headDim: config.headDim, queryDim: config.queryDim, groupSize: heads / config.numKeyValueHeads, heads: heads,
            window: layers[layer].window ?? Int.max, scale: config.attentionScale, softcap: config.attentionSoftcap ?? 0)
        let pool = state.pool
        if pool.threads > 1, n > 1 || cache.count * heads * config.headDim >= 32_768 {
            withUnsafePointer(to: &job) { pool.run(chunks: heads, context: $0, AttentionJob.runChunk) }
        } else {
            job.run(heads: 0..<heads)
        }
    }
}

/// Scaled dot-product attention of a batch's rows over one cache, for a range of heads (see
/// `attend`); a plain struct so the pool's threads can share it without allocating.
private struct AttentionJob {
    let cache: Unmanaged<KVCache>
    /// Row r's query and output start `r * queryDim` floats in.
    let queries: UnsafeMutablePointer<Float>
    let outputs: UnsafeMutablePointer<Float>
    /// Row r, head h's weights: weights + r * rowStride + h * headStride.
    let weights: UnsafeMutablePointer<Float>
    let rowStride: Int
    let headStride: Int
    /// Cache rows each row sees.
    let visible: UnsafeMutablePointer<Int>
    let start: Int
    let tokens: UnsafePointer<Int>?
    let count: Int
    let headDim: Int
    let queryDim: Int
    let groupSize: Int
    let heads: Int
    /// Keys at positions k with position - k >= window are invisible (Int.max: no window).
    let window: Int
    let scale: Float
    /// Scores become softcap * tanh(score / softcap) when positive (Gemma 2).
    let softcap: Float

    static let runChunk: ThreadPool.ChunkFunction = { context, chunk, chunks in
        let job = context.assumingMemoryBound(to: AttentionJob.self).pointee
        job.run(heads: ThreadPool.share(of: job.heads, part: chunk, parts: chunks, granule: 1))
    }

    func run(heads range: Range<Int>) {
        let cache = self.cache.takeUnretainedValue()
        for r in 0..<count {
            let position = start + (tokens?[r] ?? r), rows = visible[r]
            for head in range {
                let query = queries + r * queryDim + head * headDim
                let kvOffset = (head / groupSize) * headDim
                let weights = self.weights + r * rowStride + head * headStride
                for row in 0..<rows {
                    guard position - cache.position(ofRow: row) < window else {
                        weights[row] = -Float.infinity
                        continue
                    }
                    var score = dotF32(cache.key(row) + kvOffset, query, count: headDim) * scale
                    if softcap > 0 { score = softcap * tanhf(score / softcap) }
                    weights[row] = score
                }
                softmax(weights, count: rows)
                let output = outputs + r * queryDim + head * headDim
                for row in 0..<rows where weights[row] != 0 {
                    addScaled(cache.value(row) + kvOffset, scale: weights[row], into: output, count: headDim)
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
