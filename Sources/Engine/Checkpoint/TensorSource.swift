import Foundation

/// Where a model's tensors come from: a Hugging Face safetensors checkpoint or a GGUF file.
/// A model family asks for tensors by the names of the format at hand; the source checks
/// each one's shape against what the config says it must be and copies it into engine
/// memory, so every family gets the same checks and the same error messages.
public protocol TensorSource {
    var format: CheckpointFormat { get }
    /// The folder or file, for error messages.
    var path: String { get }
    /// Where the config comes from, for error messages ("config.json" or the GGUF file).
    var configFile: String { get }
    func contains(_ name: String) -> Bool
    /// A matrix stored as `storedRows` x `columns` (outputs x inputs, as torch's Linear),
    /// of which rows `rows` are taken (all by default: a fused projection yields its parts
    /// this way), reordered by `order` within that selection.
    func matrix(_ name: String, storedRows: Int, columns: Int, rows: Range<Int>?, order: RowOrder?) throws -> WeightMatrix
    /// A tensor of `shape` (HF order; a norm or bias is [count]) read as one vector widened
    /// to f32, of which `elements` are taken, reordered by `order`, with `adding` added to
    /// each (Gemma's norms store w for 1 + w).
    func vector(_ name: String, shape: [Int], elements: Range<Int>?, order: RowOrder?, adding: Float) throws
        -> WeightVector
}

public enum CheckpointFormat: String, Sendable {
    case safetensors
    case gguf
}

extension TensorSource {
    public func matrix(_ name: String, rows: Int, columns: Int, order: RowOrder? = nil) throws -> WeightMatrix {
        try matrix(name, storedRows: rows, columns: columns, rows: nil, order: order)
    }

    public func vector(_ name: String, count: Int, order: RowOrder? = nil, adding: Float = 0) throws -> WeightVector {
        try vector(name, shape: [count], elements: nil, order: order, adding: adding)
    }

    /// The row indices to copy, in order: `rows` of the stored tensor, reordered.
    func rowIndices(stored: Int, rows: Range<Int>?, order: RowOrder?) -> [Int]? {
        guard rows != nil || order != nil else { return nil }
        let selection = rows ?? 0..<stored
        return (0..<selection.count).map { selection.lowerBound + (order?.source(of: $0) ?? $0) }
    }
}

/// A reordering of a projection's output rows, applied while loading.
public enum RowOrder: Sendable, Equatable {
    /// Q/K rows whose rotary pairs are adjacent (2i, 2i+1: llama.cpp's GGUF layout of
    /// Llama, and Huginn's "complex-like" rope) put into HF's half-split order (i, i + h/2),
    /// head by head, so the engine's one rope convention serves both. Attention scores are
    /// dot products, unchanged when q and k are permuted alike.
    case halfSplitFromInterleaved(headSize: Int)

    /// The row of the selection that lands at `row`.
    func source(of row: Int) -> Int {
        switch self {
        case .halfSplitFromInterleaved(let headSize):
            let half = headSize / 2
            guard half > 0 else { return row }
            let head = row / headSize, within = row % headSize
            return head * headSize + 2 * (within % half) + within / half
        }
    }
}

/// Copies the rows `indices` (each `rowBytes` long) of `bytes` into a new buffer.
func gatherRows(_ bytes: UnsafeRawBufferPointer, rowBytes: Int, indices: [Int]) -> [UInt8] {
    var result = [UInt8](repeating: 0, count: indices.count * rowBytes)
    result.withUnsafeMutableBytes { destination in
        guard let target = destination.baseAddress, let origin = bytes.baseAddress else { return }
        for (row, source) in indices.enumerated() where (source + 1) * rowBytes <= bytes.count {
            target.advanced(by: row * rowBytes).copyMemory(from: origin.advanced(by: source * rowBytes), byteCount: rowBytes)
        }
    }
    return result
}

/// The tensors of a safetensors checkpoint (one file or shards), by HF name.
public struct SafetensorsSource: TensorSource, Sendable {
    public let checkpoint: Checkpoint
    public var format: CheckpointFormat { .safetensors }
    public var path: String { checkpoint.folder }
    public var configFile: String { (checkpoint.folder as NSString).appendingPathComponent("config.json") }

    public init(folder: String) throws {
        checkpoint = try Checkpoint(folder: folder)
    }

    public func contains(_ name: String) -> Bool {
        checkpoint.tensors[name] != nil
    }

    public func matrix(_ name: String, storedRows: Int, columns: Int, rows: Range<Int>?, order: RowOrder?) throws
        -> WeightMatrix
    {
        let info = try tensor(name, shape: [storedRows, columns])
        defer { checkpoint.releasePages(of: info) }
        guard let format = WeightFormat(info.dtype) else { throw unsupported(info) }
        let bytes = checkpoint.bytes(of: info)
        guard let indices = rowIndices(stored: storedRows, rows: rows, order: order) else {
            return try WeightMatrix(name: name, rows: storedRows, columns: columns, format: format, bytes: bytes)
        }
        let gathered = gatherRows(bytes, rowBytes: format.byteCount(rows: 1, columns: columns), indices: indices)
        return try gathered.withUnsafeBytes {
            try WeightMatrix(name: name, rows: indices.count, columns: columns, format: format, bytes: $0)
        }
    }

    public func vector(_ name: String, shape: [Int], elements: Range<Int>?, order: RowOrder?, adding: Float) throws
        -> WeightVector
    {
        let info = try tensor(name, shape: shape)
        guard info.dtype.isComputable else { throw unsupported(info) }
        let bytes = checkpoint.bytes(of: info)
        guard let indices = rowIndices(stored: info.elementCount, rows: elements, order: order) else {
            return try WeightVector(name: name, dtype: info.dtype, bytes: bytes, adding: adding)
        }
        let gathered = gatherRows(bytes, rowBytes: info.dtype.byteSize, indices: indices)
        return try gathered.withUnsafeBytes { try WeightVector(name: name, dtype: info.dtype, bytes: $0, adding: adding) }
    }

    /// The tensor's header entry, after checking it exists with exactly this shape.
    public func tensor(_ name: String, shape: [Int]) throws -> TensorInfo {
        guard let info = checkpoint.tensors[name] else {
            throw EngineError("\(checkpoint.folder): checkpoint has no tensor '\(name)' (config.json says it should)")
        }
        guard info.shape == shape else {
            throw EngineError("\(info.file): tensor '\(name)' has shape \(info.shape), expected \(shape) from config.json")
        }
        return info
    }

    private func unsupported(_ info: TensorInfo) -> EngineError {
        EngineError("\(info.file): tensor '\(info.name)' has dtype \(info.dtype.rawValue); supported: F32, F16, BF16")
    }
}
