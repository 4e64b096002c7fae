import Foundation

/// cos and sin of every rotated pair for the positions of one batch, per distinct rope of
/// the model (Gemma 3's local layers have their own), computed once per batch and shared
/// by every layer. The frequencies are fixed for a run: a longrope model takes its long
/// factors when the run's context exceeds the original one.
final class RotaryTables {
    /// Rotated pairs per head (rotary dimension / 2).
    let pairs: Int
    private let frequencies: [[Float]]
    private let scales: [Float]
    /// [rope][row][pair], `rows` rows each.
    private let cosines: FloatVector
    private let sines: FloatVector
    private let rows: Int
    private var filledStart = -1
    private var filledCount = 0

    init(model: Model, contextLength: Int, rows: Int) throws {
        let config = model.config
        pairs = config.rotaryDim / 2
        frequencies = model.ropes.map { $0.inverseFrequencies(headDim: config.headDim, contextLength: contextLength) }
        scales = model.ropes.map(\.cosineScale)
        self.rows = rows
        cosines = try FloatVector(count: max(model.ropes.count, 1) * rows * pairs)
        sines = try FloatVector(count: max(model.ropes.count, 1) * rows * pairs)
    }

    /// Fills the tables for positions `start ..< start + count` (row r: position start + r);
    /// nothing to do when they already hold them (every layer of a token shares them).
    func prepare(start: Int, count: Int) {
        guard start != filledStart || count > filledCount else { return }
        for (rope, inverse) in frequencies.enumerated() {
            let scale = scales[rope]
            for row in 0..<count {
                // In f32 as transformers does: angle = position * inv_freq.
                let position = Float(start + row)
                let base = (rope * rows + row) * pairs
                for (i, frequency) in inverse.enumerated() {
                    let angle = position * frequency
                    cosines[base + i] = Foundation.cos(angle) * scale
                    sines[base + i] = Foundation.sin(angle) * scale
                }
            }
        }
        filledStart = start
        filledCount = count
    }

    /// Rotates `heads` consecutive head vectors of `headDim` at `vector` for batch row `row`.
    @inline(__always)
    func rotate(_ vector: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, rope: Int, row: Int) {
        let offset = (rope * rows + row) * pairs
        applyRotary(
            vector, heads: heads, headDim: headDim, pairs: pairs, cos: cosines.pointer + offset, sin: sines.pointer + offset)
    }
}

/// Applies the rotation in place to `heads` consecutive head vectors at `vector`, with one
/// cos/sin per pair. HF's "rotate_half" layout: element i pairs with element i + pairs (not
/// adjacent elements as in the original paper's code); with a partial rotary factor only
/// the first 2 * pairs elements of a head rotate and the rest pass through.
@inline(__always)
func applyRotary(
    _ vector: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, pairs: Int,
    cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
) {
    for head in 0..<heads {
        let base = vector + head * headDim
        for i in 0..<pairs {
            let first = base[i]
            let second = base[i + pairs]
            base[i] = first * cos[i] - second * sin[i]
            base[i + pairs] = second * cos[i] + first * sin[i]
        }
    }
}
