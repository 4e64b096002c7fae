import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor as a safetensors header describes it, after its offsets were checked.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// Byte range of the data within the file (absolute, header already added).
    public let byteRange: Range<Int>
    /// The file that holds the tensor (for error messages).
    public let file: String

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A `.safetensors` file, memory-mapped, with every header entry checked against the file
/// before anything reads it.
///
/// Format: 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`,
/// then the data; offsets are relative to the end of the header. A truncated file, a
/// header that lies about sizes, offsets outside the data or overlapping tensors, or a
/// shape that does not match its byte count is an `EngineError` naming the file.
public final class SafeTensorsFile: Sendable {
    public let path: String
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    private let mapping: MappedFile

    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        let size = mapping.size
        guard size >= 8 else {
            throw EngineError("\(path): file is \(size) bytes, too short for a safetensors header (truncated?)")
        }
        let headerLength = mapping.bytes.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(size - 8) else {
            throw EngineError(
                "\(path): header claims \(headerLength) bytes but only \(size - 8) follow (truncated or not a safetensors file)")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = Data(mapping.bytes[8..<headerEnd])
        guard case .object(let entries) = try JSONValue.parse(headerBytes, file: path) else {
            throw EngineError("\(path): safetensors header is not a JSON object")
        }

        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        let dataSize = size - headerEnd
        for (name, entry) in entries {
            if name == "__metadata__" {
                for (key, value) in entry.objectValue ?? [:] {
                    metadata[key] = value.stringValue
                }
                continue
            }
            tensors[name] = try Self.checkedEntry(
                name: name, entry: entry, path: path, headerEnd: headerEnd, dataSize: dataSize)
        }
        try Self.checkNoOverlap(tensors.values, path: path)

        self.path = path
        self.tensors = tensors
        self.metadata = metadata
        self.mapping = mapping
    }

    /// The raw bytes of a tensor of this file; valid while the file is alive.
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.byteRange])
    }

    /// Drops the tensor's mapped pages from memory once it has been copied (see MappedFile).
    public func releasePages(of tensor: TensorInfo) {
        mapping.releasePages(bytes(of: tensor))
    }

    private static func checkedEntry(
        name: String, entry: JSONValue, path: String, headerEnd: Int, dataSize: Int
    ) throws -> TensorInfo {
        let what = "\(path): tensor '\(name)'"
        guard let dtypeName = entry["dtype"]?.stringValue else {
            throw EngineError("\(what): header entry has no \"dtype\" string")
        }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw EngineError("\(what): unknown dtype \(dtypeName)")
        }
        guard let shapeValues = entry["shape"]?.arrayValue else {
            throw EngineError("\(what): header entry has no \"shape\" array")
        }
        var shape: [Int] = []
        var elements = 1
        for value in shapeValues {
            guard let dimension = value.intValue, dimension >= 0 else {
                throw EngineError("\(what): shape \(shapeValues.map(jsonText)) has an invalid dimension")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw EngineError("\(what): shape \(shapeValues.map(jsonText)) is too large") }
            elements = product
            shape.append(dimension)
        }
        guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
            let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, begin <= end
        else {
            throw EngineError("\(what): \"data_offsets\" must be [begin, end] with 0 <= begin <= end")
        }
        guard end <= dataSize else {
            throw EngineError(
                "\(what): data ends at byte \(end) but the file holds only \(dataSize) data bytes (truncated file or lying header)")
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == end - begin else {
            throw EngineError(
                "\(what): shape \(shape) of \(dtypeName) needs \(elements) x \(dtype.byteSize) bytes but data_offsets span \(end - begin)")
        }
        return TensorInfo(
            name: name, dtype: dtype, shape: shape,
            byteRange: (headerEnd + begin)..<(headerEnd + end), file: path)
    }

    private static func checkNoOverlap(_ tensors: some Collection<TensorInfo>, path: String) throws {
        let sorted = tensors.filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (previous, next) in zip(sorted, sorted.dropFirst())
        where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw EngineError("\(path): tensors '\(previous.name)' and '\(next.name)' overlap in the file (lying header)")
        }
    }
}

private func jsonText(_ value: JSONValue) -> String {
    switch value {
    case .int(let number): "\(number)"
    case .double(let number): "\(number)"
    case .string(let string): "\"\(string)\""
    default: "\(value)"
    }
}

/// A whole file mapped read-only into memory; unmapped when released.
final class MappedFile: @unchecked Sendable {
    let size: Int
    /// The file's bytes; never written (PROT_READ), so sharing across threads is safe.
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EngineError("\(path): no such file")
        }
        guard !isDirectory.boolValue else {
            throw EngineError("\(path): is a directory, expected a file")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw EngineError("\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw EngineError("\(path): cannot read file size (\(String(cString: strerror(errno))))")
        }
        let size = Int(status.st_size)
        if size == 0 {
            self.size = 0
            self.bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != MAP_FAILED
        else {
            throw EngineError("\(path): cannot memory-map (\(String(cString: strerror(errno))))")
        }
        self.size = size
        self.bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Gives back the resident pages wholly inside `range` (a part of `bytes`) once they have
    /// been copied out: otherwise the mapped file stays resident beside its aligned copy and
    /// loading peaks at twice the weights. Read again, the pages come back from the file.
    func releasePages(_ range: UnsafeRawBufferPointer) {
        guard let start = range.baseAddress, range.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + range.count) / page * page
        guard end > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(address, end - first, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        }
    }
}
