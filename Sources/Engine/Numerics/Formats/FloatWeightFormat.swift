import CKernels

/// Weights kept as stored floats (F32, F16, BF16: half the bytes to stream per token for
/// the 16-bit ones) and widened to f32 inside the products, so results equal f32 math on
/// the stored values. Rows are plain elements, one after another, in files and in memory.
///
/// Products: prompts of `PackedInputs.minimumTokens` tokens or more on AVX-512 run
/// ds_gemm_float on inputs transposed once; the rest run the Swift kernels of
/// Numerics/Kernels.swift for `Element`.
protocol FloatWeightFormat: WeightFormatTraits {
    associatedtype Element: WeightElement
    /// ds_gemm_float's code for `Element` (DS_GEMM_F32, ...).
    static var gemmCode: Int32 { get }
}

extension FloatWeightFormat {
    static var blockSize: Int { 1 }
    static var blockBytes: Int { Element.byteSize }
    static var rowGroup: Int { 1 }

    static func storageBytes(rows: Int, columns: Int) -> Int {
        rows * columns * Element.byteSize
    }

    static func store(_ source: UnsafeRawPointer, rows: Int, columns: Int, into storage: UnsafeMutableRawPointer) {
        storage.copyMemory(from: source, byteCount: storageBytes(rows: rows, columns: columns))
    }

    static func dequantise(row: Int, of storage: UnsafeRawPointer, columns: Int, into y: UnsafeMutablePointer<Float>) {
        Element.widen(storage + row * columns * Element.byteSize, into: y, count: columns)
    }

    static var usesPackedInputs: Bool { true }

    static func multiply(_ product: MatrixProduct, pool: ThreadPool?, packed: PackedInputs?) {
        var job = FloatProduct(product: product, packedInputs: nil, gemmCode: gemmCode, element: Element.self)
        guard product.tokens >= PackedInputs.minimumTokens, PackedInputs.kernelRuns else {
            withUnsafePointer(to: &job) { MatrixProduct.split($0, over: pool, FloatProduct.chunk) }
            return
        }
        if let packed, packed.tokens == product.tokens, packed.columns == product.columns {
            job.packedInputs = packed.pointer
            withUnsafePointer(to: &job) { MatrixProduct.split($0, over: pool, FloatProduct.chunk) }
        } else {
            PackedInputs.withTemporary(product.x, xStride: product.xStride, tokens: product.tokens, columns: product.columns) {
                job.packedInputs = $0
                withUnsafePointer(to: &job) { MatrixProduct.split($0, over: pool, FloatProduct.chunk) }
            }
        }
    }
}

/// One float product, split over threads by output rows.
private struct FloatProduct {
    var product: MatrixProduct
    /// The inputs transposed for ds_gemm_float, or nil: the Swift kernels run.
    var packedInputs: UnsafePointer<Float>?
    var gemmCode: Int32
    var element: any WeightElement.Type

    static let chunk: ThreadPool.ChunkFunction = { context, chunk, chunks in
        let job = context.assumingMemoryBound(to: FloatProduct.self).pointee
        let p = job.product
        let rows = ThreadPool.share(of: p.rows, part: chunk, parts: chunks)
        if let packed = job.packedInputs {
            _ = ds_gemm_float(
                job.gemmCode, p.weights, Int64(p.columns), Int64(rows.lowerBound), Int64(rows.upperBound), packed,
                Int64(p.tokens), p.y, Int64(p.yStride))
        } else if !rows.isEmpty {
            if p.tokens == 1 {
                job.element.matrixVector(p.weights, rows: rows, columns: p.columns, p.x, p.y)
            } else {
                job.element.matrixMatrix(
                    p.weights, rows: rows, columns: p.columns, p.x, xStride: p.xStride, tokens: p.tokens, p.y,
                    yStride: p.yStride)
            }
        }
    }
}
