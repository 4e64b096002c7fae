import CKernels

/// How a weight matrix is stored in memory.
///
/// F32, F16 and BF16 are the safetensors element types, kept as stored and widened to f32
/// inside the products. Q8_0 is GGUF's `block_q8_0` (blocks of 32 weights: an f16 scale and
/// 32 int8), regrouped at load into the kernels' layout of 16 rows side by side (same
/// bytes per weight, see CKernels.h); its products quantise the input to int8 per block and
/// use integer dot products.
public enum WeightFormat: String, Sendable, Codable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case q8_0 = "Q8_0"

    /// Parses a user's spelling: f32, f16, bf16, q8_0 (any case).
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }

    /// The storage of a computable safetensors dtype (nil for the others).
    init?(_ dtype: TensorDType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default: return nil
        }
    }

    /// Bytes of a rows x columns matrix (q8_0: columns must be a multiple of 32).
    public func byteCount(rows: Int, columns: Int) -> Int {
        switch self {
        case .f32: rows * columns * 4
        case .f16, .bf16: rows * columns * 2
        case .q8_0: rows * (columns / Self.q8BlockSize) * Self.q8BlockBytes
        }
    }

    /// Whether a matrix with `columns` columns can be stored this way.
    public func fits(columns: Int) -> Bool {
        self != .q8_0 || columns % Self.q8BlockSize == 0
    }

    /// Which q8_0 kernel this CPU runs: avx512vnni, avx2 or portable.
    public static var q8Implementation: String { String(cString: ds_q8_0_implementation()) }

    static let q8BlockSize = Int(DS_Q8_0_BLOCK)
    static let q8BlockBytes = Int(DS_Q8_0_BLOCK_BYTES)
}

/// A row-major weight matrix (`rows` outputs x `columns` inputs, as PyTorch's Linear
/// stores it) in aligned memory (2 MiB aligned with huge-page advice when large).
///
/// F16 and BF16 stay as stored (half the bytes to stream per token) and are widened to
/// f32 inside the dot product, so results equal f32 math on the rounded weights.
public final class WeightMatrix: Sendable {
    public let name: String
    public let rows: Int
    public let columns: Int
    public let format: WeightFormat
    private let storage: AlignedBuffer

    /// Copies a checked tensor into aligned memory. `dtype` must be computable.
    convenience init(name: String, rows: Int, columns: Int, dtype: TensorDType, bytes: UnsafeRawBufferPointer) throws {
        guard let format = WeightFormat(dtype) else {
            throw EngineError("tensor '\(name)': dtype \(dtype.rawValue) is not supported (F32, F16, BF16 are)")
        }
        try self.init(name: name, rows: rows, columns: columns, format: format, bytes: bytes)
    }

    /// Copies `bytes`, which must hold exactly a rows x columns matrix in `format` (q8_0:
    /// GGUF blocks, row after row).
    convenience init(name: String, rows: Int, columns: Int, format: WeightFormat, bytes: UnsafeRawBufferPointer) throws {
        try self.init(name: name, rows: rows, columns: columns, format: format)
        guard bytes.count == byteCount else {
            throw EngineError("tensor '\(name)': \(bytes.count) bytes for \(rows)x\(columns) \(format.rawValue)")
        }
        guard let source = bytes.baseAddress else { return }
        if format == .q8_0 {
            let rowBytes = format.byteCount(rows: 1, columns: columns)
            for group in 0..<groups { packGroup(group, from: source + group * Self.groupRows * rowBytes) }
        } else {
            storage.pointer.copyMemory(from: source, byteCount: byteCount)
        }
    }

    /// q8_0 rows are stored in groups of this many (the kernels' layout).
    static let groupRows = Int(DS_Q8_0_GROUP)
    private var groups: Int { (rows + Self.groupRows - 1) / Self.groupRows }

    /// Packs group `group` of a q8_0 matrix from its rows in GGUF block layout.
    private func packGroup(_ group: Int, from blocks: UnsafeRawPointer) {
        let groupBytes = Int(ds_q8_0_packed_bytes(Int64(Self.groupRows), Int64(columns)))
        let rowsInGroup = min(Self.groupRows, rows - group * Self.groupRows)
        ds_q8_0_pack_group(blocks, Int64(rowsInGroup), Int64(columns), storage.pointer + group * groupBytes)
    }

    /// A zero matrix, to be filled in place (conversion).
    private init(name: String, rows: Int, columns: Int, format: WeightFormat) throws {
        guard format.fits(columns: columns) else {
            throw EngineError("tensor '\(name)': \(columns) columns is not a multiple of 32, as q8_0 needs")
        }
        self.name = name
        self.rows = rows
        self.columns = columns
        self.format = format
        let storageBytes =
            format == .q8_0 ? Int(ds_q8_0_packed_bytes(Int64(rows), Int64(columns))) : format.byteCount(rows: rows, columns: columns)
        self.storage = try AlignedBuffer(byteCount: storageBytes)
    }

    /// A q8_0 matrix from GGUF `block_q8_0` data (`rows * columns / 32` blocks of 34 bytes,
    /// row after row), copied into aligned memory. `columns` must be a multiple of 32.
    public static func q8_0(name: String, blocks: UnsafeRawPointer, rows: Int, columns: Int) throws -> WeightMatrix {
        guard columns % WeightFormat.q8BlockSize == 0 else {
            throw EngineError("tensor '\(name)': \(columns) columns is not a multiple of 32, as q8_0 needs")
        }
        let bytes = UnsafeRawBufferPointer(start: blocks, count: WeightFormat.q8_0.byteCount(rows: rows, columns: columns))
        return try WeightMatrix(name: name, rows: rows, columns: columns, format: .q8_0, bytes: bytes)
    }

    public var byteCount: Int { format.byteCount(rows: rows, columns: columns) }

    /// The same matrix stored as `format` (self when it already is). A matrix whose
    /// columns q8_0 cannot block stays as it is, as llama.cpp's quantiser leaves it.
    public func converted(to target: WeightFormat) throws -> WeightMatrix {
        guard target != format, target.fits(columns: columns) else { return self }
        let converted = try WeightMatrix(name: name, rows: rows, columns: columns, format: target)
        let source = try FloatVector(count: columns)
        let rowBytes = target.byteCount(rows: 1, columns: columns)
        // q8_0 quantises one group of rows at a time into GGUF blocks, then packs them.
        let q8Blocks = try AlignedBuffer(byteCount: target == .q8_0 ? Self.groupRows * rowBytes : 0)
        for r in 0..<rows {
            row(r, into: source.pointer)
            let out = target == .q8_0
                ? q8Blocks.pointer + (r % Self.groupRows) * rowBytes : converted.storage.pointer + r * rowBytes
            switch target {
            case .f32: out.copyMemory(from: source.pointer, byteCount: rowBytes)
            case .f16:
                let halves = out.assumingMemoryBound(to: Float16.self)
                for c in 0..<columns { halves[c] = Float16(source[c]) }
            case .bf16:
                let words = out.assumingMemoryBound(to: UInt16.self)
                for c in 0..<columns { words[c] = bfloat16Bits(source[c]) }
            case .q8_0:
                ds_quantize_q8_0(source.pointer, out, Int64(columns))
                if r % Self.groupRows == Self.groupRows - 1 || r == rows - 1 {
                    converted.packGroup(r / Self.groupRows, from: q8Blocks.pointer)
                }
            }
        }
        return converted
    }

    /// y = W x, with `x` of `columns` and `y` of `rows` floats. With a pool of several
    /// threads, large matrices split their rows between them.
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, pool: ThreadPool? = nil) {
        multiply(x, xStride: columns, tokens: 1, into: y, yStride: rows, pool: pool)
    }

    /// Y[t] = W X[t] for `tokens` inputs: X[t] starts at `x + t * xStride`, Y[t] at
    /// `y + t * yStride`. The weights are streamed once for all tokens (prompt processing).
    ///
    /// `packed`, when given, holds the same inputs already transposed for ds_gemm_float
    /// (`PrefillState.pack`), so products that share an input transpose it once.
    public func multiply(
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, into y: UnsafeMutablePointer<Float>, yStride: Int,
        pool: ThreadPool? = nil, packed: PackedInputs? = nil
    ) {
        let weights = UnsafeRawPointer(storage.pointer)
        let rows = rows, columns = columns, format = format
        // Below ~64 KiB of weights per token a second thread costs more than it saves.
        let parallel = pool.map { $0.threads > 1 && rows >= 64 && rows * columns * tokens >= 16_384 } ?? false
        // Threads get a plain struct and a C function, not a closure: a closure published
        // to other threads costs a heap allocation, and a token must allocate nothing.
        func run(activations: ds_q8_activations? = nil, packedInputs: UnsafePointer<Float>? = nil) {
            var job = ProductJob(
                format: format, weights: weights, rows: rows, columns: columns, x: x, xStride: xStride,
                activations: activations, packedInputs: packedInputs, tokens: tokens, y: y, yStride: yStride)
            withUnsafePointer(to: &job) { job in
                if parallel, let pool {
                    pool.run(context: job, ProductJob.runChunk)
                } else {
                    ProductJob.runChunk(job, 0, 1)
                }
            }
        }
        if format == .q8_0 {
            withQuantised(x, xStride: xStride, tokens: tokens) { run(activations: $0) }
        } else if tokens >= PackedInputs.minimumTokens, PackedInputs.kernelRuns {
            if let packed, packed.tokens == tokens, packed.columns == columns {
                run(packedInputs: packed.pointer)
            } else {
                withPackedInputs(x, xStride: xStride, tokens: tokens) { run(packedInputs: $0) }
            }
        } else {
            run()
        }
    }

    /// Calls `body` with the `tokens` inputs transposed for ds_gemm_float, in a temporary
    /// buffer (prompts pass `packed` instead, transposed once into PrefillState's scratch).
    private func withPackedInputs(
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, _ body: (UnsafePointer<Float>) -> Void
    ) {
        let count = PackedInputs.count(tokens: tokens, columns: columns)
        withUnsafeTemporaryAllocation(byteCount: count * MemoryLayout<Float>.stride, alignment: 64) { scratch in
            guard let raw = scratch.baseAddress,
                let packed = PackedInputs.pack(
                    x, xStride: xStride, tokens: tokens, columns: columns,
                    into: raw.bindMemory(to: Float.self, capacity: count))
            else { return }
            body(packed.pointer)
        }
    }

    /// Calls `body` with the `tokens` inputs quantised for the q8_0 kernels (per token: a
    /// scale and an offset per block of 32, then the int8 values), in one scratch area on
    /// the stack: decode allocates nothing.
    private func withQuantised(
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, _ body: (ds_q8_activations) -> Void
    ) {
        let blocks = tokens * (columns / WeightFormat.q8BlockSize)
        let byteCount = blocks * (MemoryLayout<Float>.stride + MemoryLayout<Int32>.stride) + tokens * columns
        withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 64) { scratch in
            guard let base = scratch.baseAddress else { return }
            let scales = base.bindMemory(to: Float.self, capacity: blocks)
            let offsets = (base + blocks * 4).bindMemory(to: Int32.self, capacity: blocks)
            let values = (base + blocks * 8).bindMemory(to: Int8.self, capacity: tokens * columns)
            let perToken = columns / WeightFormat.q8BlockSize
            for t in 0..<tokens {
                ds_quantize_activations(
                    x + t * xStride,
                    ds_q8_activations(
                        scales: scales + t * perToken, values: values + t * columns, offsets: offsets + t * perToken),
                    Int64(columns))
            }
            body(ds_q8_activations(scales: scales, values: values, offsets: offsets))
        }
    }

    /// One product, split over a pool's threads by output rows (or run whole as chunk 0 of 1).
    private struct ProductJob {
        var format: WeightFormat
        var weights: UnsafeRawPointer
        var rows: Int
        var columns: Int
        var x: UnsafePointer<Float>
        var xStride: Int
        /// q8_0: the quantised activations.
        var activations: ds_q8_activations?
        /// f32/f16/bf16 prompts: the inputs transposed for ds_gemm_float.
        var packedInputs: UnsafePointer<Float>?
        var tokens: Int
        var y: UnsafeMutablePointer<Float>
        var yStride: Int

        static let runChunk: ThreadPool.ChunkFunction = { context, chunk, chunks in
            let job = context.assumingMemoryBound(to: ProductJob.self).pointee
            if job.format == .q8_0, let activations = job.activations {
                // q8_0 rows are packed in groups: threads share whole groups.
                let groups = (job.rows + WeightMatrix.groupRows - 1) / WeightMatrix.groupRows
                WeightMatrix.q8Groups(
                    ThreadPool.share(of: groups, part: chunk, parts: chunks), job.weights, rows: job.rows,
                    columns: job.columns, activations, tokens: job.tokens, job.y, yStride: job.yStride)
            } else if let packed = job.packedInputs {
                WeightMatrix.packedRows(
                    ThreadPool.share(of: job.rows, part: chunk, parts: chunks), job.format, job.weights,
                    columns: job.columns, packed, tokens: job.tokens, job.y, yStride: job.yStride)
            } else {
                let range = ThreadPool.share(of: job.rows, part: chunk, parts: chunks)
                WeightMatrix.floatRows(
                    range, job.format, job.weights, columns: job.columns, job.x, xStride: job.xStride, tokens: job.tokens,
                    job.y, yStride: job.yStride)
            }
        }
    }

    fileprivate static func q8Groups(
        _ groups: Range<Int>, _ weights: UnsafeRawPointer, rows: Int, columns: Int, _ activations: ds_q8_activations,
        tokens: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        guard !groups.isEmpty else { return }
        ds_matmul_q8_0(
            weights, Int64(rows), Int64(columns), Int64(groups.lowerBound), Int64(groups.upperBound), activations,
            Int64(tokens), y, Int64(yStride))
    }

    fileprivate static func packedRows(
        _ range: Range<Int>, _ format: WeightFormat, _ weights: UnsafeRawPointer, columns: Int,
        _ packed: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        let code: Int32 = switch format {
        case .f32: DS_GEMM_F32
        case .f16: DS_GEMM_F16
        case .bf16: DS_GEMM_BF16
        case .q8_0: preconditionFailure("q8_0 products go through ds_matmul_q8_0")
        }
        _ = ds_gemm_float(
            code, weights, Int64(columns), Int64(range.lowerBound), Int64(range.upperBound), packed, Int64(tokens), y,
            Int64(yStride))
    }

    fileprivate static func floatRows(
        _ range: Range<Int>, _ format: WeightFormat, _ weights: UnsafeRawPointer, columns: Int,
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        guard !range.isEmpty else { return }
        if tokens == 1 {
            matrixVector(format: format, weights, rows: range, columns: columns, x, y)
        } else {
            matrixMatrix(format: format, weights, rows: range, columns: columns, x, xStride: xStride, tokens: tokens, y, yStride: yStride)
        }
    }

    /// The packed q8_0 storage, for kernel tests.
    func withPackedQ8<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        body(UnsafeRawPointer(storage.pointer))
    }

    /// Writes row `index` as f32 into `destination` (`columns` floats): embedding lookup.
    public func row(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        let start = UnsafeRawPointer(storage.pointer) + index * format.byteCount(rows: 1, columns: columns)
        switch format {
        case .f32: widen(dtype: .f32, start, into: destination, count: columns)
        case .f16: widen(dtype: .f16, start, into: destination, count: columns)
        case .bf16: widen(dtype: .bf16, start, into: destination, count: columns)
        case .q8_0: ds_q8_0_unpack_row(storage.pointer, Int64(columns), Int64(index), destination)
        }
    }
}

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
}

/// f32 -> bf16 with round to nearest even (as torch's .to(torch.bfloat16)); NaN stays NaN.
func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x40 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}

/// A weight vector (norm scale or bias), widened to f32 at load: it is tiny and read
/// element by element.
public final class WeightVector: Sendable {
    public let name: String
    public let count: Int
    private let storage: AlignedBuffer

    /// Widens `bytes` of `dtype`, adding `adding` to every element.
    init(name: String, dtype: TensorDType, bytes: UnsafeRawBufferPointer, adding: Float = 0) throws {
        guard dtype.isComputable else {
            throw EngineError("tensor '\(name)': dtype \(dtype.rawValue) is not supported (F32, F16, BF16 are)")
        }
        let count = bytes.count / dtype.byteSize
        self.name = name
        self.count = count
        self.storage = try AlignedBuffer(byteCount: count * 4)
        if let source = bytes.baseAddress {
            widen(dtype: dtype, source, into: storage.floats(), count: count)
        }
        if adding != 0 {
            for i in 0..<count { storage.floats()[i] += adding }
        }
    }

    public var pointer: UnsafePointer<Float> { UnsafePointer(storage.floats()) }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
