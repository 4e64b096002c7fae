import Foundation

/// A metadata value of a GGUF file, with the file's own value types.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// Any integer type as an Int (nil for non-integers and for values an Int cannot hold).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Any number as a Double.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// Short description for `inspect` and error messages.
    public var summary: String {
        switch self {
        case .string(let v): v.count > 60 ? "\"\(v.prefix(57))...\"" : "\"\(v)\""
        case .array(let items): "[\(items.count) items]"
        case .bool(let v): "\(v)"
        default: intValue.map { "\($0)" } ?? doubleValue.map { "\($0)" } ?? "?"
        }
    }
}

/// The tensor element types of ggml (`enum ggml_type`), with their block layout: a row of
/// `ne0` elements is stored as `ne0 / blockSize` blocks of `blockBytes` bytes each.
public struct GGMLType: Sendable, Equatable, CustomStringConvertible {
    public let id: UInt32

    public static let f32 = GGMLType(id: 0)
    public static let f16 = GGMLType(id: 1)
    public static let q4_0 = GGMLType(id: 2)
    public static let q8_0 = GGMLType(id: 8)
    public static let bf16 = GGMLType(id: 30)

    /// (name, elements per block, bytes per block) from ggml.c's type_traits.
    private static let traits: [UInt32: (String, Int, Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
        10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
        14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
        18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
        26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
        30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    ]

    public var name: String { Self.traits[id]?.0 ?? "type \(id)" }
    public var description: String { name }
    /// Elements per block and bytes per block; nil for a type id this reader does not know.
    public var layout: (blockSize: Int, blockBytes: Int)? {
        Self.traits[id].map { ($0.1, $0.2) }
    }
}

/// One tensor of a GGUF file, after its size and offset were checked against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions as GGUF lists them: fastest-varying first (ne0 = columns of a matrix).
    public let dimensions: [Int]
    public let type: GGMLType
    /// Absolute byte range within the file.
    public let byteRange: Range<Int>

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A GGUF file (llama.cpp's model format, versions 2 and 3), memory-mapped.
///
/// Layout: "GGUF", version u32, tensor count u64, metadata count u64; metadata entries
/// (key string, value type u32, value); tensor infos (name, n_dims u32, dims u64..., type
/// u32, offset u64); padding to `general.alignment` (default 32); tensor data, each
/// tensor at its offset from the data start. Strings are u64 length + UTF-8 bytes; all
/// numbers little-endian. Every count, size and offset is checked against the file before
/// use, so a truncated or malformed file is an `EngineError` naming the file, never a trap.
public final class GGUFFile: Sendable {
    public let path: String
    public let version: Int
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    private let metadataIndex: [String: Int]
    private let tensorIndex: [String: Int]
    private let mapping: MappedFile

    public static let magic: [UInt8] = Array("GGUF".utf8)

    /// Whether the file at `path` starts with the GGUF magic (false when unreadable).
    public static func hasMagic(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)).map { Array($0) == magic } ?? false
    }

    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        var reader = GGUFReader(bytes: mapping.bytes, path: path)
        guard mapping.size >= 4, Array(mapping.bytes[0..<4]) == Self.magic else {
            throw EngineError("\(path): not a GGUF file (no \"GGUF\" magic at the start)")
        }
        reader.offset = 4
        let version = try reader.uint32("version")
        guard version == 2 || version == 3 else {
            throw EngineError("\(path): GGUF version \(version) is not supported (2 and 3 are)")
        }
        let tensorCount = try reader.count("tensor count", minimumBytesEach: 24)
        let metadataCount = try reader.count("metadata count", minimumBytesEach: 12)

        var metadata: [(key: String, value: GGUFValue)] = []
        var metadataIndex: [String: Int] = [:]
        for _ in 0..<metadataCount {
            let key = try reader.string("metadata key")
            let type = try reader.uint32("type of '\(key)'")
            let value = try reader.value(type: type, context: key, depth: 0)
            guard metadataIndex[key] == nil else { throw EngineError("\(path): metadata key '\(key)' appears twice") }
            metadataIndex[key] = metadata.count
            metadata.append((key, value))
        }

        var alignment = 32
        if let index = metadataIndex["general.alignment"] {
            guard let value = metadata[index].value.intValue, value > 0, value <= 1 << 30, value & (value - 1) == 0 else {
                throw EngineError("\(path): general.alignment must be a power of two up to 2^30, got \(metadata[index].value.summary)")
            }
            alignment = value
        }

        var raw: [(name: String, dimensions: [Int], type: GGMLType, offset: Int)] = []
        for _ in 0..<tensorCount {
            let name = try reader.string("tensor name")
            let dimensionCount = try reader.uint32("dimension count of '\(name)'")
            guard (1...4).contains(dimensionCount) else {
                throw EngineError("\(path): tensor '\(name)' has \(dimensionCount) dimensions (1 to 4 allowed)")
            }
            var dimensions: [Int] = []
            for _ in 0..<dimensionCount {
                let dimension = try reader.uint64("dimensions of '\(name)'")
                guard dimension <= UInt64(Int32.max) else {
                    throw EngineError("\(path): tensor '\(name)' has an impossible dimension \(dimension)")
                }
                dimensions.append(Int(dimension))
            }
            let type = GGMLType(id: try reader.uint32("type of '\(name)'"))
            let offset = try reader.uint64("offset of '\(name)'")
            guard offset <= UInt64(Int.max / 2) else {
                throw EngineError("\(path): tensor '\(name)' has an impossible offset \(offset)")
            }
            raw.append((name, dimensions, type, Int(offset)))
        }

        let dataStart = (reader.offset + alignment - 1) / alignment * alignment
        guard dataStart <= mapping.size else {
            throw EngineError("\(path): file ends before the tensor data starts (truncated)")
        }
        var tensors: [GGUFTensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        for entry in raw {
            let what = "\(path): tensor '\(entry.name)'"
            guard tensorIndex[entry.name] == nil else { throw EngineError("\(what) appears twice") }
            guard entry.offset % alignment == 0 else {
                throw EngineError("\(what): offset \(entry.offset) is not a multiple of the alignment \(alignment)")
            }
            guard let layout = entry.type.layout else {
                throw EngineError("\(what) has unknown ggml type \(entry.type.id)")
            }
            guard entry.dimensions[0] % layout.blockSize == 0 else {
                throw EngineError("\(what): row length \(entry.dimensions[0]) is not a multiple of \(entry.type.name)'s block of \(layout.blockSize)")
            }
            // Dimensions are each below 2^31 and at most 4, but their product can still overflow.
            var bytes = entry.dimensions[0] / layout.blockSize * layout.blockBytes
            for dimension in entry.dimensions.dropFirst() {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw EngineError("\(what): shape \(entry.dimensions) is too large") }
                bytes = product
            }
            let start = dataStart + entry.offset
            guard start <= mapping.size, bytes <= mapping.size - start else {
                throw EngineError(
                    "\(what): data at bytes \(start)..<\(start + bytes) lies beyond the end of the file (\(mapping.size) bytes; truncated?)")
            }
            tensorIndex[entry.name] = tensors.count
            tensors.append(GGUFTensorInfo(name: entry.name, dimensions: entry.dimensions, type: entry.type, byteRange: start..<(start + bytes)))
        }
        let sorted = tensors.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw EngineError("\(path): tensors '\(previous.name)' and '\(next.name)' overlap in the file")
        }

        self.path = path
        self.version = Int(version)
        self.metadata = metadata
        self.metadataIndex = metadataIndex
        self.tensors = tensors
        self.tensorIndex = tensorIndex
        self.alignment = alignment
        self.mapping = mapping
    }

    public subscript(key: String) -> GGUFValue? {
        metadataIndex[key].map { metadata[$0].value }
    }

    public func tensor(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of a tensor of this file; valid while the file is alive.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.byteRange])
    }

    /// Drops the tensor's mapped pages from memory once it has been copied (see MappedFile).
    public func releasePages(of tensor: GGUFTensorInfo) {
        mapping.releasePages(bytes(of: tensor))
    }

    /// Total bytes of tensor data.
    public var dataBytes: Int { tensors.reduce(0) { $0 + $1.byteRange.count } }
}

/// Bounds-checked little-endian reading from the mapped file.
private struct GGUFReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    /// Arrays nest at most this deep (real files use one level).
    static let maximumDepth = 4

    private mutating func take(_ count: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - offset else {
            throw EngineError("\(path): file ends at byte \(bytes.count) while reading \(what) at byte \(offset) (truncated)")
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        T(littleEndian: try take(MemoryLayout<T>.size, what).loadUnaligned(as: T.self))
    }

    mutating func uint32(_ what: String) throws -> UInt32 { try load(UInt32.self, what) }
    mutating func uint64(_ what: String) throws -> UInt64 { try load(UInt64.self, what) }

    /// A u64 count of items that each take at least `minimumBytesEach` bytes: checked
    /// against what is left of the file before anything is allocated for it.
    mutating func count(_ what: String, minimumBytesEach: Int) throws -> Int {
        let value = try uint64(what)
        let left = UInt64(bytes.count - offset)
        guard value <= left / UInt64(max(minimumBytesEach, 1)) else {
            throw EngineError("\(path): \(what) \(value) is more than the \(left) bytes left in the file can hold (truncated or corrupt)")
        }
        return Int(value)
    }

    mutating func string(_ what: String) throws -> String {
        let length = try count("length of \(what)", minimumBytesEach: 1)
        let raw = try take(length, what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw EngineError("\(path): \(what) at byte \(offset - length) is not valid UTF-8")
        }
        return text
    }

    mutating func value(type: UInt32, context: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(context)'"
        switch type {
        case 0: return .uint8(try load(UInt8.self, what))
        case 1: return .int8(try load(Int8.self, what))
        case 2: return .uint16(try load(UInt16.self, what))
        case 3: return .int16(try load(Int16.self, what))
        case 4: return .uint32(try load(UInt32.self, what))
        case 5: return .int32(try load(Int32.self, what))
        case 6: return .float32(Float(bitPattern: try load(UInt32.self, what)))
        case 7:
            let byte = try load(UInt8.self, what)
            guard byte <= 1 else { throw EngineError("\(path): '\(context)' is a bool with byte value \(byte)") }
            return .bool(byte == 1)
        case 8: return .string(try string(what))
        case 9:
            guard depth < Self.maximumDepth else { throw EngineError("\(path): '\(context)' nests arrays too deeply") }
            let elementType = try uint32("element type of '\(context)'")
            guard let size = Self.minimumSize(elementType) else {
                throw EngineError("\(path): '\(context)' is an array of unknown value type \(elementType)")
            }
            let count = try count("length of '\(context)'", minimumBytesEach: size)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(type: elementType, context: context, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try load(UInt64.self, what))
        case 11: return .int64(try load(Int64.self, what))
        case 12: return .float64(Double(bitPattern: try load(UInt64.self, what)))
        default: throw EngineError("\(path): '\(context)' has unknown value type \(type)")
        }
    }

    /// Smallest encoding of one value of a type (strings and arrays: their u64 length).
    static func minimumSize(_ type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 10, 11, 12: 8
        case 8: 8
        case 9: 12
        default: nil
        }
    }
}
