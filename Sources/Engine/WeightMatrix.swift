/// A row-major weight matrix (`rows` outputs x `columns` inputs, as PyTorch's Linear
/// stores it) kept in the checkpoint's own element type in aligned memory.
///
/// F16 and BF16 stay as stored (half the bytes to stream per token) and are widened to
/// f32 inside the dot product, so results equal f32 math on the rounded weights. A new
/// storage type (e.g. q8_0) adds a case to `dtype`'s switch in `multiply` and `row`.
public final class WeightMatrix: Sendable {
    public let name: String
    public let rows: Int
    public let columns: Int
    public let dtype: TensorDType
    private let storage: AlignedBuffer

    /// Copies a checked tensor into aligned memory. `dtype` must be computable.
    init(name: String, rows: Int, columns: Int, dtype: TensorDType, bytes: UnsafeRawBufferPointer) throws {
        guard dtype.isComputable else {
            throw EngineError("tensor '\(name)': dtype \(dtype.rawValue) is not supported (F32, F16, BF16 are)")
        }
        let byteCount = rows * columns * dtype.byteSize
        guard bytes.count == byteCount else {
            throw EngineError("tensor '\(name)': \(bytes.count) bytes for \(rows)x\(columns) \(dtype.rawValue)")
        }
        self.name = name
        self.rows = rows
        self.columns = columns
        self.dtype = dtype
        self.storage = try AlignedBuffer(byteCount: byteCount)
        if let source = bytes.baseAddress {
            storage.pointer.copyMemory(from: source, byteCount: byteCount)
        }
    }

    public var byteCount: Int { rows * columns * dtype.byteSize }

    /// y = W x, with `x` of `columns` and `y` of `rows` floats.
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        matrixVector(dtype: dtype, UnsafeRawPointer(storage.pointer), rows: rows, columns: columns, x, y)
    }

    /// Writes row `index` as f32 into `destination` (`columns` floats): embedding lookup.
    public func row(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        let start = UnsafeRawPointer(storage.pointer) + index * columns * dtype.byteSize
        widen(dtype: dtype, start, into: destination, count: columns)
    }
}

/// A weight vector (norm scale or bias), widened to f32 at load: it is tiny and read
/// element by element.
public final class WeightVector: Sendable {
    public let name: String
    public let count: Int
    private let storage: AlignedBuffer

    init(name: String, dtype: TensorDType, bytes: UnsafeRawBufferPointer) throws {
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
    }

    public var pointer: UnsafePointer<Float> { UnsafePointer(storage.floats()) }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
