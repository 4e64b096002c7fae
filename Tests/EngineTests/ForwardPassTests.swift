import Foundation
import Testing

@testable import Engine

/// The building blocks later architectures compose, checked by identities.
@Suite struct ForwardPassTests {
    /// One token at `position` through stored layer `layer`, with the building blocks.
    func runLayer(
        _ model: Model, _ layer: Int, _ hidden: FloatVector, position: Int, cache: KVCache, state: RunState,
        writes: KeyValueWrites = .own
    ) throws {
        state.rotary.prepare(start: position, count: 1)
        try model.decoderLayer(
            layer, LayerRows(states: hidden.pointer, count: 1, start: position), cache: cache, writes: writes, state: state)
    }

    /// The last token's logits after `tokens` at `positions`, every layer with its own cache.
    func logits(_ model: Model, tokens: [Int], positions: [Int]) throws -> [Float] {
        let state = try RunState(model: model, contextLength: 32)
        let caches = try model.layers.map { _ in try KVCache(kvDim: model.config.kvDim, capacity: 32) }
        let hidden = try FloatVector(count: model.config.hiddenSize)
        let logits = try FloatVector(count: model.config.vocabSize)
        for (token, position) in zip(tokens, positions) {
            try model.embed([token], into: hidden.pointer)
            for layer in 0..<model.layers.count {
                try runLayer(model, layer, hidden, position: position, cache: caches[layer], state: state)
            }
            model.logits(hidden.pointer, count: 1, into: logits.pointer, state: state)
        }
        return logits.array
    }

    /// The vanilla runner is exactly embed, every layer with its own cache, final norm and head.
    @Test func forwardIsTheBlocksInOrder() throws {
        let model = try Model(folder: Fixtures.model("llama3"))
        let runner = try vanillaRunner(model, capacity: 8)
        let tokens = [5, 17, 3, 40]
        var expected: [Float] = []
        for (position, token) in tokens.enumerated() { expected = try runner.run(token: token, position: position) }
        #expect(try logits(model, tokens: tokens, positions: Array(0..<4)) == expected)
    }

    /// Keys and values computed from a state by a plan (state propagation) are the rows the
    /// full layer writes for that state.
    @Test func keyValuesFromAStateMatchTheLayer() throws {
        let model = try Model(folder: Fixtures.model("qwen2"))  // biases on k and v too
        let state = try RunState(model: model, contextLength: 4)
        let full = try KVCache(kvDim: model.config.kvDim, capacity: 4)
        let keysOnly = try KVCache(kvDim: model.config.kvDim, capacity: 4)
        let hidden = try FloatVector(count: model.config.hiddenSize)
        let entry = UnsafeMutableBufferPointer<KeyValueEntry>.allocate(capacity: 1)
        defer { entry.deallocate() }
        for (position, token) in [7, 8, 9].enumerated() {
            try model.embed([token], into: hidden.pointer)
            entry[0] = KeyValueEntry(token: 0, source: .state(UnsafePointer(hidden.pointer)))
            state.rotary.prepare(start: position, count: 1)
            try model.decoderLayer(
                1, LayerRows(states: hidden.pointer, count: 0, start: position), cache: keysOnly,
                writes: .plan(UnsafeBufferPointer(entry)), state: state)
            try runLayer(model, 1, hidden, position: position, cache: full, state: state)
        }
        for row in 0..<3 {
            let kvDim = model.config.kvDim
            #expect(Array(UnsafeBufferPointer(start: full.key(row), count: kvDim))
                == Array(UnsafeBufferPointer(start: keysOnly.key(row), count: kvDim)))
            #expect(Array(UnsafeBufferPointer(start: full.value(row), count: kvDim))
                == Array(UnsafeBufferPointer(start: keysOnly.value(row), count: kvDim)))
            #expect(keysOnly.position(ofRow: row) == row)
        }
    }

    /// RoPE makes attention depend on relative positions only, so a cache whose rows carry
    /// their own positions gives the same result shifted by any offset, and a cache that
    /// holds a subset of positions is attended exactly over what it holds.
    @Test func cachesHoldSubsetsOfPositionsWithTheirOwnRope() throws {
        let model = try Model(folder: Fixtures.model("llama2"))
        let tokens = [11, 42, 7]
        let gapped = try logits(model, tokens: tokens, positions: [0, 3, 9])
        let shifted = try logits(model, tokens: tokens, positions: [20, 23, 29])
        let contiguous = try logits(model, tokens: tokens, positions: [0, 1, 2])
        let difference = zip(gapped, shifted).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-4)
        #expect(zip(gapped, contiguous).map { abs($0 - $1) }.max() ?? 0 > 1e-2)
    }

    @Test func attentionWeightsAreCapturedPerHead() throws {
        let model = try Model(folder: Fixtures.model("mistral"))  // sliding window 4
        let runner = try vanillaRunner(model, capacity: 8)
        for (position, token) in [1, 2, 3, 4, 5, 6].enumerated() {
            _ = try runner.run(token: token, position: position)
        }
        // After the last layer ran at position 5: weights over the 6 rows of its cache.
        let rows = runner.state.attentionByPosition(row: 0, cache: try runner.cache(1), span: 6)
        #expect(rows.count == model.config.numAttentionHeads)
        for row in rows {
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
            #expect(row[0] == 0 && row[1] == 0)  // outside the window: 5 - k < 4 fails for k <= 1
            #expect(row[2...].allSatisfy { $0 > 0 })
        }
    }

    /// A step that reads another step's cache without appending sees exactly those rows.
    @Test func attentionWithoutAppendingReadsTheGivenCache() throws {
        let model = try Model(folder: Fixtures.model("llama2"))
        let state = try RunState(model: model, contextLength: 4)
        let shared = try KVCache(kvDim: model.config.kvDim, capacity: 4)
        let a = try FloatVector(count: model.config.hiddenSize)
        let b = try FloatVector(count: model.config.hiddenSize)
        try model.embed([3], into: a.pointer)
        b.copy(from: a)
        try runLayer(model, 0, a, position: 0, cache: shared, state: state)
        try runLayer(model, 0, b, position: 0, cache: shared, state: state, writes: .none)
        #expect(shared.count == 1)
        #expect(a.array == b.array)
    }
}

@Suite struct KernelTests {
    /// Matrix-vector products for every storage type and awkward sizes (SIMD tails),
    /// against a Double reference on the same (rounded) values.
    @Test(arguments: [TensorDType.f32, .f16, .bf16])
    func matrixVectorMatchesReference(dtype: TensorDType) throws {
        var random = SeededRandom(seed: 1)
        for columns in [1, 15, 16, 17, 63, 64, 65, 100, 130, 257] {
            let rows = 7
            let values = (0..<(rows * columns)).map { _ in random.nextUnitFloat() * 2 - 1 }
            let x = (0..<columns).map { _ in random.nextUnitFloat() * 2 - 1 }
            var bytes: [UInt8] = []
            var stored: [Float] = []
            for value in values {
                switch dtype {
                case .f16:
                    let half = Float16(value)
                    stored.append(Float(half))
                    withUnsafeBytes(of: half.bitPattern.littleEndian) { bytes += $0 }
                case .bf16:
                    let bits = UInt16(value.bitPattern >> 16)
                    stored.append(Float(bitPattern: UInt32(bits) << 16))
                    withUnsafeBytes(of: bits.littleEndian) { bytes += $0 }
                default:
                    stored.append(value)
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
                }
            }
            let matrix = try bytes.withUnsafeBytes {
                try WeightMatrix(name: "w", rows: rows, columns: columns, dtype: dtype, bytes: $0)
            }
            var y = [Float](repeating: 0, count: rows)
            x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { matrix.multiply(xs.baseAddress!, into: $0.baseAddress!) } }
            for row in 0..<rows {
                let reference = (0..<columns).reduce(0.0) { $0 + Double(stored[row * columns + $1]) * Double(x[$1]) }
                #expect(abs(Double(y[row]) - reference) < 1e-5, "\(dtype) \(columns) columns, row \(row)")
            }
            var first = [Float](repeating: 0, count: columns)
            first.withUnsafeMutableBufferPointer { matrix.row(0, into: $0.baseAddress!) }
            #expect(first == Array(stored[0..<columns]))
        }
    }

    @Test func softmaxOfFullyMaskedRowIsZeroNotNaN() {
        var values: [Float] = [-.infinity, -.infinity]
        values.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: 2) }
        #expect(values == [0, 0])
    }
}

@Suite struct FlopsTests {
    /// The layer count from the config equals two operations per weight actually loaded,
    /// plus attention's two products per head dimension and row.
    @Test func layerFlopsCountEveryWeightTwice() throws {
        let model = try Model(folder: Fixtures.model("llama3"))
        let layer = model.layers[0]
        let weights = [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down]
            .reduce(0) { $0 + $1.rows * $1.columns }
        let rows = 5
        let attention = 2 * 2 * model.config.numAttentionHeads * model.config.headDim * rows
        #expect(model.decoderLayerFlops(attendedRows: rows) == Double(2 * weights + attention))
        #expect(model.logitsFlops == Double(2 * model.lmHead.rows * model.lmHead.columns))
        #expect(model.keyValueFlops == Double(2 * (layer.key.rows * layer.key.columns + layer.value.rows * layer.value.columns)))
    }
}
