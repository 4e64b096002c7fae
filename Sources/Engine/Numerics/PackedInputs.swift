import CKernels

/// Inputs transposed into ds_gemm_float's layout (tokens in the vector lanes): f32, f16
/// and bf16 products of `minimumTokens` or more run the C kernel on it, with no horizontal
/// sums and each weight widened once per product instead of once per 4 tokens.
public struct PackedInputs {
    let pointer: UnsafePointer<Float>
    let tokens: Int
    let columns: Int

    static let minimumTokens = 16
    /// AVX-512 CPUs; elsewhere the Swift tiles (`matrixMatrix`) run.
    static let kernelRuns = ds_gemm_float_available() != 0

    /// Floats a buffer for `tokens` x `columns` inputs needs.
    static func count(tokens: Int, columns: Int) -> Int {
        Int(ds_gemm_inputs_count(Int64(tokens), Int64(columns)))
    }

    /// Transposes `tokens` inputs (x + t * xStride) into `buffer` (at least `count` floats),
    /// columns shared over `pool`'s threads; nil where the products would not use it.
    static func pack(
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, columns: Int, into buffer: UnsafeMutablePointer<Float>,
        pool: ThreadPool? = nil
    ) -> PackedInputs? {
        guard tokens >= minimumTokens, kernelRuns else { return nil }
        let pack = { (range: Range<Int>) in
            ds_gemm_pack_inputs(x, Int64(xStride), Int64(tokens), Int64(range.lowerBound), Int64(range.upperBound), buffer)
        }
        if let pool {  // one thread runs it inline
            pool.run { chunk, chunks in pack(ThreadPool.share(of: columns, part: chunk, parts: chunks, granule: 16)) }
        } else {
            pack(0..<columns)
        }
        return PackedInputs(pointer: buffer, tokens: tokens, columns: columns)
    }

    /// Calls `body` with the `tokens` inputs transposed, in a temporary buffer on the stack
    /// (prompts pass packed inputs instead, transposed once into RunState's scratch).
    static func withTemporary(
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, columns: Int, _ body: (UnsafePointer<Float>) -> Void
    ) {
        let count = count(tokens: tokens, columns: columns)
        withUnsafeTemporaryAllocation(byteCount: count * MemoryLayout<Float>.stride, alignment: 64) { scratch in
            guard let raw = scratch.baseAddress,
                let packed = pack(
                    x, xStride: xStride, tokens: tokens, columns: columns,
                    into: raw.bindMemory(to: Float.self, capacity: count))
            else { return }
            body(packed.pointer)
        }
    }
}
