/// Relaxed recursion: a per-loop low-rank delta on a shared layer's projections
/// (Relaxed Recursive Transformers; PEFT's LoRA names). Projection W [out, in] at loop r
/// computes `y = x W^T + scaling * (x A_r^T) B_r^T` (docs/architectures.md 3.3).

/// One low-rank delta: A [rank, in], B [out, rank] and the scaling alpha / rank.
public struct LoRADelta: Sendable {
    public let a: WeightMatrix
    public let b: WeightMatrix
    public let scaling: Float

    public init(a: WeightMatrix, b: WeightMatrix, scaling: Float) {
        self.a = a
        self.b = b
        self.scaling = scaling
    }

    public var rank: Int { a.rows }

    /// y[r] += scaling * B (A x[r]) for `rows` inputs, through the run state's LoRA scratch.
    func add(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, state: RunState) {
        a.multiply(x, xStride: a.columns, tokens: rows, into: state.loraInner.pointer, yStride: rank)
        b.multiply(state.loraInner.pointer, xStride: rank, tokens: rows, into: state.loraOuter.pointer, yStride: b.rows)
        for r in 0..<rows {
            addScaled(state.loraOuter.pointer + r * b.rows, scale: scaling, into: y + r * b.rows, count: b.rows)
        }
    }

    /// Multiply-adds of one application, counted as 2 FLOPs each.
    var flops: Double { Double(2 * rank * (a.columns + b.rows)) }
}

/// The deltas of one stored layer at one loop (nil for projections without LoRA).
public struct LayerLoRA: Sendable {
    private var deltas: [LoRADelta?] = Array(repeating: nil, count: Projection.allCases.count)

    public init() {}

    public subscript(projection: Projection) -> LoRADelta? {
        get { deltas[Self.index(projection)] }
        set { deltas[Self.index(projection)] = newValue }
    }

    public var isEmpty: Bool { deltas.allSatisfy { $0 == nil } }

    /// FLOPs of the deltas of one full layer application.
    var flops: Double { deltas.reduce(0) { $0 + ($1?.flops ?? 0) } }
    /// FLOPs of the key and value deltas only (a propagated K/V row).
    var keyValueFlops: Double { (self[.key]?.flops ?? 0) + (self[.value]?.flops ?? 0) }

    private static func index(_ projection: Projection) -> Int {
        switch projection {
        case .query: 0
        case .key: 1
        case .value: 2
        case .output: 3
        case .gate: 4
        case .up: 5
        case .down: 6
        }
    }
}

/// LoRA deltas by stored layer and loop: `lora[layer][loop]`, nil where a layer or loop
/// has none.
public struct LoRATable: Sendable {
    private var table: [[LayerLoRA?]]

    public init(layers: Int) {
        table = Array(repeating: [], count: layers)
    }

    public subscript(layer: Int, loop: Int) -> LayerLoRA? {
        get { layer < table.count && loop < table[layer].count ? table[layer][loop] : nil }
        set {
            while table[layer].count <= loop { table[layer].append(nil) }
            table[layer][loop] = newValue
        }
    }

    public var isEmpty: Bool { table.allSatisfy { $0.allSatisfy { $0 == nil } } }
}

extension WeightMatrix {
    /// An f32 matrix from values in memory (converted weights, LoRA factors, benchmarks).
    public static func float32(name: String, rows: Int, columns: Int, values: [Float]) throws -> WeightMatrix {
        try values.withUnsafeBytes { bytes in
            try WeightMatrix(name: name, rows: rows, columns: columns, dtype: .f32, bytes: bytes)
        }
    }

    /// The matrix widened to f32, row-major.
    var floatValues: [Float] {
        var values = [Float](repeating: 0, count: rows * columns)
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for row in 0..<rows { self.row(row, into: base + row * columns) }
        }
        return values
    }
}

extension WeightVector {
    /// An f32 vector from values in memory.
    static func float32(name: String, values: [Float]) throws -> WeightVector {
        try values.withUnsafeBytes { bytes in try WeightVector(name: name, dtype: .f32, bytes: bytes) }
    }
}
