/// Takes tensors out of a checkpoint by name, checking each one's shape against what the
/// config says it must be, and copies it into aligned engine memory.
///
/// Architectures with extra tensors (routers, adapters, LoRA deltas) load them through the
/// same loader so they get the same checks and the same error messages.
public struct WeightLoader: Sendable {
    public let checkpoint: Checkpoint

    public init(folder: String) throws {
        checkpoint = try Checkpoint(folder: folder)
    }

    public func contains(_ name: String) -> Bool {
        checkpoint.tensors[name] != nil
    }

    /// A 2-D tensor of shape [rows, columns].
    public func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        let info = try tensor(name, shape: [rows, columns])
        defer { checkpoint.releasePages(of: info) }
        return try WeightMatrix(
            name: name, rows: rows, columns: columns, dtype: info.dtype, bytes: checkpoint.bytes(of: info))
    }

    /// A 1-D tensor of `count` elements, widened to f32.
    public func vector(_ name: String, count: Int) throws -> WeightVector {
        let info = try tensor(name, shape: [count])
        return try WeightVector(name: name, dtype: info.dtype, bytes: checkpoint.bytes(of: info))
    }

    /// The tensor's header entry, after checking it exists with exactly this shape.
    public func tensor(_ name: String, shape: [Int]) throws -> TensorInfo {
        guard let info = checkpoint.tensors[name] else {
            throw EngineError("\(checkpoint.folder): checkpoint has no tensor '\(name)' (config.json says it should)")
        }
        guard info.shape == shape else {
            throw EngineError(
                "\(info.file): tensor '\(name)' has shape \(info.shape), expected \(shape) from config.json")
        }
        guard info.dtype.isComputable else {
            throw EngineError("\(info.file): tensor '\(name)' has dtype \(info.dtype.rawValue); supported: F32, F16, BF16")
        }
        return info
    }
}
