/// Floating-point operations of the building blocks (a multiply-add counts as 2), for
/// traces and benchmarks that compare what an architecture spent against full depth.
extension Model {
    /// One decoder layer for one token attending over `attendedRows` cache rows:
    /// the seven projections, plus scores and the weighted sum of values.
    public func decoderLayerFlops(attendedRows: Int) -> Double {
        let c = config
        let projections = c.hiddenSize * (2 * c.queryDim + 2 * c.kvDim + 3 * c.intermediateSize)
        let attention = 2 * c.numAttentionHeads * c.headDim * attendedRows
        return Double(2 * (projections + attention))
    }

    /// Key/value rows only (a stopped token's keys and values computed from its exit state).
    public var keyValueFlops: Double {
        Double(2 * config.hiddenSize * 2 * config.kvDim)
    }

    /// Final norm and head: one row of logits.
    public var logitsFlops: Double {
        Double(2 * config.hiddenSize * config.vocabSize)
    }
}
