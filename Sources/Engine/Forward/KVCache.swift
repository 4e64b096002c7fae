/// Keys and values of the tokens one depth step has seen, for one attention computation.
///
/// A cache belongs to a depth step, not to a stored layer: a recursive model that applies
/// stored layer k at three depth steps keeps three caches. A cache may hold only some
/// positions (tokens that exited before this step are absent), so every row remembers its
/// token position; keys are stored already rotated (RoPE) at that position.
/// Capacity is fixed at creation, so appending never allocates.
public final class KVCache {
    public let kvDim: Int
    public let capacity: Int
    public private(set) var count = 0
    private let keys: AlignedBuffer
    private let values: AlignedBuffer
    private let rowPositions: AlignedBuffer

    public init(kvDim: Int, capacity: Int) throws {
        self.kvDim = kvDim
        self.capacity = capacity
        keys = try AlignedBuffer(byteCount: capacity * kvDim * 4)
        values = try AlignedBuffer(byteCount: capacity * kvDim * 4)
        rowPositions = try AlignedBuffer(byteCount: capacity * MemoryLayout<Int>.stride)
    }

    /// Adds a row for the token at `position` and returns its index; the caller fills
    /// `key(row)` and `value(row)`. Positions must be appended in increasing order.
    public func appendRow(position: Int) throws -> Int {
        guard count < capacity else {
            throw EngineError("context limit reached: the KV cache holds \(capacity) positions")
        }
        guard count == 0 || positions[count - 1] < position else {
            throw EngineError("internal: KV rows must come in position order (\(position) after \(positions[count - 1]))")
        }
        positions[count] = position
        count += 1
        return count - 1
    }

    /// How many rows hold positions at or before `position` (rows are in position order).
    public func rowCount(atOrBefore position: Int) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if positions[middle] <= position { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The row holding `position`, if any.
    public func row(of position: Int) -> Int? {
        let row = rowCount(atOrBefore: position) - 1
        return row >= 0 && positions[row] == position ? row : nil
    }

    /// Token position of a row.
    public func position(ofRow row: Int) -> Int { positions[row] }

    public func key(_ row: Int) -> UnsafeMutablePointer<Float> { keys.floats() + row * kvDim }
    public func value(_ row: Int) -> UnsafeMutablePointer<Float> { values.floats() + row * kvDim }

    /// Forgets every row (a new sequence).
    public func reset() { count = 0 }

    /// Bytes of keys and values currently held.
    public var byteCount: Int { count * kvDim * 2 * MemoryLayout<Float>.stride }

    private var positions: UnsafeMutablePointer<Int> { rowPositions.pointer.assumingMemoryBound(to: Int.self) }
}
