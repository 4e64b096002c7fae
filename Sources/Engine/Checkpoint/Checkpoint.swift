import Foundation

/// The tensors of a Hugging Face checkpoint folder: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists (HF prefers the single file when both exist).
public final class Checkpoint: Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    public let folder: String
    /// Every tensor by name, from whichever file holds it.
    public let tensors: [String: TensorInfo]
    /// The files, in the order they were opened (one, or the shards).
    public let files: [SafeTensorsFile]
    private let fileOfTensor: [String: Int]

    public init(folder: String) throws {
        self.folder = folder
        let single = (folder as NSString).appendingPathComponent(Self.singleFileName)
        let index = (folder as NSString).appendingPathComponent(Self.indexFileName)
        if FileManager.default.fileExists(atPath: single) {
            let file = try SafeTensorsFile(path: single)
            files = [file]
            tensors = file.tensors
            fileOfTensor = file.tensors.mapValues { _ in 0 }
        } else if FileManager.default.fileExists(atPath: index) {
            (files, tensors, fileOfTensor) = try Self.openShards(index: index, folder: folder)
        } else {
            throw EngineError("\(folder): no \(Self.singleFileName) or \(Self.indexFileName) in the model folder")
        }
    }

    /// The raw bytes of a tensor; valid while the checkpoint is alive.
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        // Every TensorInfo in `tensors` came from one of `files`, so the lookup succeeds.
        let fileIndex = fileOfTensor[tensor.name] ?? 0
        return files[fileIndex].bytes(of: tensor)
    }

    /// Drops the tensor's mapped pages from memory once it has been copied.
    public func releasePages(of tensor: TensorInfo) {
        files[fileOfTensor[tensor.name] ?? 0].releasePages(of: tensor)
    }

    /// Total bytes of tensor data (as stored).
    public var dataBytes: Int {
        tensors.values.reduce(0) { $0 + $1.byteRange.count }
    }

    private static func openShards(index: String, folder: String) throws
        -> ([SafeTensorsFile], [String: TensorInfo], [String: Int])
    {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: index))
        } catch {
            throw EngineError("\(index): cannot read (\(error.localizedDescription))")
        }
        guard case .object(let weightMap)? = try JSONValue.parse(data, file: index)["weight_map"] else {
            throw EngineError("\(index): no \"weight_map\" object")
        }
        var shardNames: [String] = []
        var shardOfTensor: [String: String] = [:]
        for (tensor, value) in weightMap {
            guard let shard = value.stringValue else {
                throw EngineError("\(index): weight_map entry '\(tensor)' is not a file name")
            }
            // Shards live next to the index; a path would let a file point anywhere.
            guard !shard.contains("/"), shard != "..", shard != "." else {
                throw EngineError("\(index): shard name '\(shard)' must be a plain file name in the model folder")
            }
            if !shardNames.contains(shard) { shardNames.append(shard) }
            shardOfTensor[tensor] = shard
        }
        shardNames.sort()

        var files: [SafeTensorsFile] = []
        var tensors: [String: TensorInfo] = [:]
        var fileOfTensor: [String: Int] = [:]
        for (fileIndex, shard) in shardNames.enumerated() {
            let file = try SafeTensorsFile(path: (folder as NSString).appendingPathComponent(shard))
            files.append(file)
            for (name, info) in file.tensors where shardOfTensor[name] == shard {
                tensors[name] = info
                fileOfTensor[name] = fileIndex
            }
        }
        for (tensor, shard) in shardOfTensor.sorted(by: { $0.key < $1.key }) where tensors[tensor] == nil {
            throw EngineError("\(index): tensor '\(tensor)' is mapped to \(shard), which does not contain it")
        }
        return (files, tensors, fileOfTensor)
    }
}
