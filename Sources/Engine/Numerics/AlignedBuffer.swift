#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raw memory for weights and run state, aligned for SIMD loads.
///
/// Small buffers are 64-byte aligned (one cache line, one AVX-512 register). Buffers of
/// 2 MiB or more are 2 MiB aligned and advised as huge pages: decode reads every weight
/// once per token, and huge pages measurably lift single-core read bandwidth (DESIGN.md).
/// The memory is zeroed. It is Sendable because weights are written once while loading
/// and only read afterwards; mutable run state wraps it in non-Sendable types.
public final class AlignedBuffer: @unchecked Sendable {
    public let byteCount: Int
    public let pointer: UnsafeMutableRawPointer

    static let cacheLine = 64
    static let hugePage = 2 << 20

    public init(byteCount: Int) throws {
        let count = max(byteCount, 1)
        let alignment = count >= Self.hugePage ? Self.hugePage : Self.cacheLine
        let rounded = (count + alignment - 1) / alignment * alignment
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, rounded) == 0, let raw else {
            throw EngineError("out of memory: cannot allocate \(rounded) bytes")
        }
        #if os(Linux)
        if alignment == Self.hugePage {
            // Huge pages for the whole 2 MiB pages only: a huge page for the tail would make
            // up to 2 MiB per matrix resident that holds no weights (~90 MB on the 768 model).
            _ = madvise(raw, count / Self.hugePage * Self.hugePage, MADV_HUGEPAGE)
        }
        #endif
        memset(raw, 0, count)  // only what is used: the rounding's tail is never touched
        self.byteCount = byteCount
        self.pointer = raw
    }

    deinit {
        free(pointer)
    }

    public func floats() -> UnsafeMutablePointer<Float> {
        pointer.assumingMemoryBound(to: Float.self)
    }
}

/// A vector of f32 values in aligned memory, allocated once and reused for every token
/// (hidden states, scratch space, logits). Not Sendable: it is mutable state owned by one
/// generation loop at a time.
public final class FloatVector {
    public let count: Int
    private let buffer: AlignedBuffer

    public init(count: Int) throws {
        self.count = count
        self.buffer = try AlignedBuffer(byteCount: count * MemoryLayout<Float>.stride)
    }

    /// Base address; valid for `count` floats while this vector is alive.
    public var pointer: UnsafeMutablePointer<Float> { buffer.floats() }

    public subscript(index: Int) -> Float {
        get { buffer.floats()[index] }
        set { buffer.floats()[index] = newValue }
    }

    public func copy(from other: FloatVector) {
        pointer.update(from: other.pointer, count: min(count, other.count))
    }

    public func fill(with value: Float) {
        pointer.update(repeating: value, count: count)
    }

    /// The values as an array (allocates; for tests, output and traces, not the hot path).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
