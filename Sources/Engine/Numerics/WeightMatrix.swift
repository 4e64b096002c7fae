/// A row-major weight matrix (`rows` outputs x `columns` inputs, as PyTorch's Linear
/// stores it) in aligned memory (2 MiB aligned with huge-page advice when large), held in
/// one `WeightFormat`, which does everything format-specific: layout, dequantisation,
/// conversion and the products (Numerics/Formats/).
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

    /// Copies `bytes`, which must hold exactly a rows x columns matrix in `format`'s row
    /// layout (q8_0: GGUF blocks, row after row), into the format's stored layout.
    convenience init(name: String, rows: Int, columns: Int, format: WeightFormat, bytes: UnsafeRawBufferPointer) throws {
        try self.init(name: name, rows: rows, columns: columns, format: format)
        guard bytes.count == byteCount else {
            throw EngineError("tensor '\(name)': \(bytes.count) bytes for \(rows)x\(columns) \(format.rawValue)")
        }
        guard let source = bytes.baseAddress else { return }
        format.traits.store(source, rows: rows, columns: columns, into: storage.pointer)
    }

    /// A zero matrix, to be filled in place (conversion).
    private init(name: String, rows: Int, columns: Int, format: WeightFormat) throws {
        guard format.fits(columns: columns) else {
            throw EngineError(
                "tensor '\(name)': \(columns) columns is not a multiple of \(format.traits.blockSize), as \(format) needs")
        }
        self.name = name
        self.rows = rows
        self.columns = columns
        self.format = format
        self.storage = try AlignedBuffer(byteCount: format.traits.storageBytes(rows: rows, columns: columns))
    }

    /// A q8_0 matrix from GGUF `block_q8_0` data (`rows * columns / 32` blocks of 34 bytes,
    /// row after row), copied into aligned memory. `columns` must be a multiple of 32.
    public static func q8_0(name: String, blocks: UnsafeRawPointer, rows: Int, columns: Int) throws -> WeightMatrix {
        let format = WeightFormat.q8_0
        let count = format.fits(columns: columns) ? format.byteCount(rows: rows, columns: columns) : 0
        return try WeightMatrix(
            name: name, rows: rows, columns: columns, format: format,
            bytes: UnsafeRawBufferPointer(start: blocks, count: count))
    }

    /// Bytes of the weights in the format's row layout (what a file of them holds).
    public var byteCount: Int { format.byteCount(rows: rows, columns: columns) }

    /// The same matrix stored as `format` (self when it already is). A matrix whose
    /// columns the target cannot block stays as it is, as llama.cpp's quantiser leaves it.
    public func converted(to target: WeightFormat) throws -> WeightMatrix {
        guard target != format, target.fits(columns: columns) else { return self }
        let converted = try WeightMatrix(name: name, rows: rows, columns: columns, format: target)
        let traits = target.traits
        let source = try FloatVector(count: columns)
        let rowBytes = target.byteCount(rows: 1, columns: columns)
        // One group of rows at a time: dequantised, quantised into the target's row
        // layout, then stored as the target keeps them.
        let group = try AlignedBuffer(byteCount: traits.rowGroup * rowBytes)
        for first in stride(from: 0, to: rows, by: traits.rowGroup) {
            let count = min(traits.rowGroup, rows - first)
            for r in 0..<count {
                row(first + r, into: source.pointer)
                traits.quantise(source.pointer, columns: columns, into: group.pointer + r * rowBytes)
            }
            traits.store(
                group.pointer, rows: count, columns: columns,
                into: converted.storage.pointer + traits.storageBytes(rows: first, columns: columns))
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
    /// (`ForwardPass.pack`), so products that share an input transpose it once.
    public func multiply(
        _ x: UnsafePointer<Float>, xStride: Int, tokens: Int, into y: UnsafeMutablePointer<Float>, yStride: Int,
        pool: ThreadPool? = nil, packed: PackedInputs? = nil
    ) {
        // Below ~64 KiB of weights per token a second thread costs more than it saves.
        let parallel = pool.map { $0.threads > 1 && rows >= 64 && rows * columns * tokens >= 16_384 } ?? false
        let product = MatrixProduct(
            weights: UnsafeRawPointer(storage.pointer), rows: rows, columns: columns, x: x, xStride: xStride,
            tokens: tokens, y: y, yStride: yStride)
        format.traits.multiply(product, pool: parallel ? pool : nil, packed: packed)
    }

    /// The stored layout, for kernel tests (q8_0: the packed groups).
    func withPackedQ8<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        body(UnsafeRawPointer(storage.pointer))
    }

    /// Writes row `index` as f32 into `destination` (`columns` floats): embedding lookup.
    public func row(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        format.traits.dequantise(row: index, of: storage.pointer, columns: columns, into: destination)
    }
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
