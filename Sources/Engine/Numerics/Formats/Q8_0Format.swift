import CKernels

extension WeightFormat {
    /// GGUF's q8_0 (GGUF Q8_0 as stored, Q4_0 re-blocked exactly; safetensors converted by
    /// `--dtype q8_0`).
    public static let q8_0 = WeightFormat(Q8_0Format.self)

    /// Which q8_0 kernel this CPU runs: avx512vnni, avx2 or portable.
    public static var q8Implementation: String { String(cString: ds_q8_0_implementation()) }
}

/// GGUF's `block_q8_0`: blocks of 32 weights, an f16 scale d and 32 int8 q, x = d * q. In
/// memory the rows are regrouped 16 side by side (same bytes per weight, see CKernels.h)
/// for the C kernels of CKernels/q8_0.c, whose products quantise each input to int8 per
/// block and use integer dot products.
enum Q8_0Format: WeightFormatTraits {
    static let name = "Q8_0"
    static let safetensorsDType: TensorDType? = nil
    static let ggufLoads = [GGUFLoad(.q8_0), GGUFLoad(.q4_0, rewrite: reblockQ4_0AsQ8_0)]
    static let blockSize = Int(DS_Q8_0_BLOCK)
    static let blockBytes = Int(DS_Q8_0_BLOCK_BYTES)
    static let rowGroup = Int(DS_Q8_0_GROUP)

    static func storageBytes(rows: Int, columns: Int) -> Int {
        Int(ds_q8_0_packed_bytes(Int64(rows), Int64(columns)))
    }

    static func store(_ source: UnsafeRawPointer, rows: Int, columns: Int, into storage: UnsafeMutableRawPointer) {
        let rowBytes = columns / blockSize * blockBytes
        let groupBytes = storageBytes(rows: rowGroup, columns: columns)
        for group in 0..<(rows + rowGroup - 1) / rowGroup {
            let first = group * rowGroup
            ds_q8_0_pack_group(
                source + first * rowBytes, Int64(min(rowGroup, rows - first)), Int64(columns), storage + group * groupBytes)
        }
    }

    static func dequantise(row: Int, of storage: UnsafeRawPointer, columns: Int, into y: UnsafeMutablePointer<Float>) {
        ds_q8_0_unpack_row(storage, Int64(columns), Int64(row), y)
    }

    /// As ggml's quantize_row_q8_0_ref: per block, d = max|x| / 127, q = round(x / d).
    static func quantise(_ x: UnsafePointer<Float>, columns: Int, into row: UnsafeMutableRawPointer) {
        ds_quantize_q8_0(x, row, Int64(columns))
    }

    static let usesPackedInputs = false

    static func multiply(_ product: MatrixProduct, pool: ThreadPool?, packed: PackedInputs?) {
        withQuantisedInputs(product) { activations in
            var job = Job(product: product, activations: activations)
            withUnsafePointer(to: &job) { MatrixProduct.split($0, over: pool, Job.chunk) }
        }
    }

    /// Calls `body` with the product's inputs quantised for the kernels (per token: a scale
    /// and an offset per block of 32, then the int8 values), in one scratch area on the
    /// stack: decode allocates nothing.
    private static func withQuantisedInputs(_ product: MatrixProduct, _ body: (ds_q8_activations) -> Void) {
        let tokens = product.tokens, columns = product.columns
        let perToken = columns / blockSize
        let blocks = tokens * perToken
        let byteCount = blocks * (MemoryLayout<Float>.stride + MemoryLayout<Int32>.stride) + tokens * columns
        withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 64) { scratch in
            guard let base = scratch.baseAddress else { return }
            let scales = base.bindMemory(to: Float.self, capacity: blocks)
            let offsets = (base + blocks * 4).bindMemory(to: Int32.self, capacity: blocks)
            let values = (base + blocks * 8).bindMemory(to: Int8.self, capacity: tokens * columns)
            for t in 0..<tokens {
                ds_quantize_activations(
                    product.x + t * product.xStride,
                    ds_q8_activations(
                        scales: scales + t * perToken, values: values + t * columns, offsets: offsets + t * perToken),
                    Int64(columns))
            }
            body(ds_q8_activations(scales: scales, values: values, offsets: offsets))
        }
    }

    /// One product, split over threads by whole groups of 16 rows.
    private struct Job {
        var product: MatrixProduct
        var activations: ds_q8_activations

        static let chunk: ThreadPool.ChunkFunction = { context, chunk, chunks in
            let job = context.assumingMemoryBound(to: Job.self).pointee
            let p = job.product
            let groups = ThreadPool.share(of: (p.rows + rowGroup - 1) / rowGroup, part: chunk, parts: chunks)
            guard !groups.isEmpty else { return }
            ds_matmul_q8_0(
                p.weights, Int64(p.rows), Int64(p.columns), Int64(groups.lowerBound), Int64(groups.upperBound),
                job.activations, Int64(p.tokens), p.y, Int64(p.yStride))
        }
    }
}

/// Q4_0 blocks rewritten as Q8_0 blocks, exactly: both hold an f16 scale d for 32 weights,
/// and Q4_0's values (nibble - 8, in -8...7) fit int8, so x = d * q is unchanged and Q4_0
/// files run the q8_0 kernels.
///
/// Q4_0 block: f16 scale d, then 16 bytes; element j is the low nibble of byte j, element
/// j + 16 the high nibble. Q8_0 block: f16 scale d, then 32 int8.
func reblockQ4_0AsQ8_0(_ tensor: GGUFTensorInfo, bytes: UnsafeRawBufferPointer, file: String) throws -> [UInt8] {
    let count = tensor.elementCount
    guard let layout = tensor.type.layout, count % layout.blockSize == 0,
        bytes.count == count / layout.blockSize * layout.blockBytes, let base = bytes.baseAddress
    else {
        throw EngineError("\(file): tensor '\(tensor.name)' has \(bytes.count) bytes, wrong for \(count) \(tensor.type.name) values")
    }
    let blocks = count / layout.blockSize
    let q8BlockBytes = Q8_0Format.blockBytes
    var result = [UInt8](repeating: 0, count: blocks * q8BlockBytes)
    result.withUnsafeMutableBytes { out in
        for block in 0..<blocks {
            let source = base + block * layout.blockBytes
            let target = block * q8BlockBytes
            out[target] = source.load(as: UInt8.self)
            out[target + 1] = source.load(fromByteOffset: 1, as: UInt8.self)
            for j in 0..<16 {
                let byte = source.load(fromByteOffset: 2 + j, as: UInt8.self)
                out[target + 2 + j] = UInt8(bitPattern: Int8(Int(byte & 0x0F) - 8))
                out[target + 2 + j + 16] = UInt8(bitPattern: Int8(Int(byte >> 4) - 8))
            }
        }
    }
    return result
}
