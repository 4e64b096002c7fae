import CKernels
import Foundation
import Testing

@testable import Engine

/// The fast paths (multi-row and batched products, q8_0, the thread pool, batched prefill)
/// against the simple ones they replace.
@Suite struct PerformanceKernelTests {
    static func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in random.nextUnitFloat() * 2 - 1 }
    }

    static func matrix(_ values: [Float], rows: Int, columns: Int, _ format: WeightFormat) throws -> WeightMatrix {
        try WeightMatrix.float32(name: "w", rows: rows, columns: columns, values: values).converted(to: format)
    }

    /// Y = W X over a batch equals W x token by token, and splitting rows over threads
    /// changes nothing (each row is computed the same way by whichever thread takes it).
    @Test(arguments: WeightFormat.allCases)
    func batchedAndThreadedProductsEqualSingleOnes(format: WeightFormat) throws {
        let pool = ThreadPool(threads: 2)
        for (rows, columns) in [(7, 64), (13, 96), (64, 256), (129, 160)] + (format == .q8_0 ? [] : [(9, 17), (70, 130)]) {
            let matrix = try Self.matrix(Self.randomValues(rows * columns, seed: 3), rows: rows, columns: columns, format)
            #expect(matrix.format == format)
            for tokens in [1, 3, 4, 9] {
                let x = Self.randomValues(tokens * columns, seed: UInt64(tokens))
                var batched = [Float](repeating: .nan, count: tokens * rows)
                var threaded = batched
                x.withUnsafeBufferPointer { xs in
                    batched.withUnsafeMutableBufferPointer {
                        matrix.multiply(xs.baseAddress!, xStride: columns, tokens: tokens, into: $0.baseAddress!, yStride: rows)
                    }
                    threaded.withUnsafeMutableBufferPointer {
                        matrix.multiply(
                            xs.baseAddress!, xStride: columns, tokens: tokens, into: $0.baseAddress!, yStride: rows, pool: pool)
                    }
                }
                #expect(batched == threaded, "\(format) \(rows)x\(columns), \(tokens) tokens")
                for t in 0..<tokens {
                    var single = [Float](repeating: .nan, count: rows)
                    x.withUnsafeBufferPointer { xs in
                        single.withUnsafeMutableBufferPointer { matrix.multiply(xs.baseAddress! + t * columns, into: $0.baseAddress!) }
                    }
                    let worst = zip(single, batched[(t * rows)..<((t + 1) * rows)]).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst < 1e-5, "\(format) \(rows)x\(columns), token \(t) of \(tokens): \(worst)")
                }
            }
        }
    }

    /// Prompt-sized f32/f16/bf16 products (16 tokens or more: ds_gemm_float on AVX-512 CPUs)
    /// against a double-precision sum over the stored weights. The shapes cover a tile of
    /// fewer than 6 rows, more than one 48-row span, rows longer than one 2048-column block,
    /// odd columns, and token counts that leave part of a 16-lane group or a 64-token pass.
    /// Threads, and inputs packed beforehand (as a layer shares them between products), give identical sums.
    @Test(arguments: [WeightFormat.f32, .f16, .bf16])
    func promptProductsMatchADoubleReference(format: WeightFormat) throws {
        let pool = ThreadPool(threads: 2)
        for (rows, columns, tokens) in [(5, 40, 16), (53, 2100, 20), (100, 37, 70), (97, 96, 130)] {
            let matrix = try Self.matrix(Self.randomValues(rows * columns, seed: 11), rows: rows, columns: columns, format)
            var stored = [Float](repeating: 0, count: rows * columns)
            stored.withUnsafeMutableBufferPointer { w in
                for r in 0..<rows { matrix.row(r, into: w.baseAddress! + r * columns) }
            }
            let stride = columns + 3  // inputs need not be packed rows
            let x = Self.randomValues(tokens * stride, seed: 5)
            var single = [Float](repeating: .nan, count: tokens * rows)
            var threaded = single, prepacked = single
            var scratch = [Float](repeating: .nan, count: PackedInputs.count(tokens: tokens, columns: columns))
            x.withUnsafeBufferPointer { xs in
                let base = xs.baseAddress!
                single.withUnsafeMutableBufferPointer {
                    matrix.multiply(base, xStride: stride, tokens: tokens, into: $0.baseAddress!, yStride: rows)
                }
                threaded.withUnsafeMutableBufferPointer {
                    matrix.multiply(base, xStride: stride, tokens: tokens, into: $0.baseAddress!, yStride: rows, pool: pool)
                }
                scratch.withUnsafeMutableBufferPointer { buffer in
                    let packed = PackedInputs.pack(
                        base, xStride: stride, tokens: tokens, columns: columns, into: buffer.baseAddress!, pool: pool)
                    #expect((packed != nil) == PackedInputs.kernelRuns)
                    prepacked.withUnsafeMutableBufferPointer {
                        matrix.multiply(
                            base, xStride: stride, tokens: tokens, into: $0.baseAddress!, yStride: rows, pool: pool,
                            packed: packed)
                    }
                }
            }
            #expect(single == threaded, "\(format) \(rows)x\(columns), \(tokens) tokens")
            #expect(single == prepacked, "\(format) \(rows)x\(columns), \(tokens) tokens")
            var worst = 0.0
            for t in 0..<tokens {
                for r in 0..<rows {
                    var sum = 0.0, magnitude = 0.0
                    for c in 0..<columns {
                        let term = Double(stored[r * columns + c]) * Double(x[t * stride + c])
                        sum += term
                        magnitude += abs(term)
                    }
                    worst = max(worst, abs(Double(single[t * rows + r]) - sum) / magnitude)
                }
            }
            #expect(worst < 2e-6, "\(format) \(rows)x\(columns), \(tokens) tokens: relative error \(worst)")
        }
    }

    /// The softmax denominator behind the traces' probabilities (a vectorised exp on
    /// AVX-512) against double precision: the exp over the range it sees (x - max <= 0),
    /// then whole sums with masked -inf entries and remainders of the 16 lanes.
    @Test func softmaxDenominatorMatchesDoubles() {
        let xs = (0...8000).map { -110 + Float($0) * 0.01375 }
        var exps = [Float](repeating: .nan, count: xs.count)
        exps.withUnsafeMutableBufferPointer { ds_softmax_exp(xs, Int64(xs.count), $0.baseAddress!) }
        var worst = 0.0, worstBelowNormal = 0.0
        for (x, got) in zip(xs, exps) {
            let exact = Foundation.exp(Double(x)), error = abs(Double(got) - exact)
            // Relative error where e^x is a normal float; below, e^x < 1.2e-38 is just small.
            if x >= -87 { worst = max(worst, error / exact) } else { worstBelowNormal = max(worstBelowNormal, error) }
        }
        #expect(worst < 3e-7, "exp relative error \(worst)")
        #expect(worstBelowNormal < 1e-37)
        for count in [1, 17, 65, 32000] {
            var logits = Self.randomValues(count, seed: UInt64(count)).map { $0 * 20 }
            if count > 2 { logits[1] = -.infinity }
            let (maximum, total) = logits.withUnsafeBufferPointer { softmaxDenominator($0.baseAddress!, count: count) }
            let reference = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - Double(maximum)) }
            #expect(maximum == logits.max())
            #expect(abs(total - reference) / reference < 1e-6, "\(count) logits: \(total) against \(reference)")
        }
    }

    /// Softmax (attention, routers) against double precision, masked entries exactly 0,
    /// every entry masked all 0, over lengths around the 16 lanes.
    @Test func softmaxMatchesDoublesAndMasksExactly() {
        for count in [1, 5, 16, 17, 100, 257] {
            var x = Self.randomValues(count, seed: UInt64(count) + 7).map { $0 * 30 }
            for i in stride(from: 1, to: count, by: 3) { x[i] = -.infinity }
            let maximum = Double(x.max() ?? 0)
            let exps = x.map { $0 == -.infinity ? 0 : Foundation.exp(Double($0) - maximum) }
            let total = exps.reduce(0, +)
            var got = x
            got.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: count) }
            for i in 0..<count {
                if x[i] == -.infinity {
                    #expect(got[i] == 0, "\(count) values: masked \(i) got \(got[i])")
                } else {
                    #expect(abs(Double(got[i]) - exps[i] / total) <= 1e-6 * exps[i] / total + 1e-12, "\(count) values, \(i)")
                }
            }
        }
        var masked = [Float](repeating: -.infinity, count: 20)
        masked.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: 20) }
        #expect(masked.allSatisfy { $0 == 0 })
    }

    /// The top candidates (16 logits at a time skipped once the list is full) against a full
    /// sort by logit, ties by lower id, with probabilities from a double-precision softmax.
    @Test func topCandidatesEqualASortedList() {
        for (count, limit) in [(1, 5), (4, 5), (17, 1), (65, 5), (100, 3), (32000, 5)] {
            // Values on a grid of 0.5 so that ties occur.
            let logits = Self.randomValues(count, seed: UInt64(count + limit)).map { ($0 * 16).rounded() / 2 }
            let got = logits.withUnsafeBufferPointer { topCandidates($0.baseAddress!, count: count, limit: limit) }
            let expected = logits.indices.sorted { (logits[$0], $1) > (logits[$1], $0) }.prefix(limit)
            #expect(got.map(\.id) == Array(expected), "\(count) logits, top \(limit)")
            let maximum = Double(logits.max() ?? 0)
            let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) }
            for candidate in got {
                let reference = Foundation.exp(Double(logits[candidate.id]) - maximum) / total
                #expect(abs(Double(candidate.probability) - reference) <= 1e-6 * reference + 1e-9)
            }
        }
    }

    /// q8_0 is GGUF's block_q8_0: 34 bytes per 32 weights, an f16 scale then int8 values,
    /// and a row reads back as scale x value.
    /// Loading drops each tensor's mapped pages after copying it; a tensor read again later
    /// (tied embeddings, a second model on the same file) must still see the file's bytes.
    @Test func releasedPagesReadBackFromTheFile() throws {
        let checkpoint = try Checkpoint(folder: Fixtures.model("llama2"))
        for info in checkpoint.tensors.values {
            let before = Array(checkpoint.bytes(of: info))
            checkpoint.releasePages(of: info)
            #expect(Array(checkpoint.bytes(of: info)) == before, "\(info.name)")
        }
        let file = try GGUFFile(path: GGUFTests.path("llama2-q80.gguf"))
        for tensor in file.tensors {
            let before = Array(file.bytes(of: tensor))
            file.releasePages(of: tensor)
            #expect(Array(file.bytes(of: tensor)) == before, "\(tensor.name)")
        }
    }

    @Test func q8BlocksHaveTheGGUFLayout() throws {
        var bytes: [UInt8] = []
        var expected: [Float] = []
        for block in 0..<4 {  // 2 rows x 64 columns
            let scale = Float16(Float(block + 1) * 0.25)
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { bytes += $0 }
            for i in 0..<32 {
                let q = Int8(truncatingIfNeeded: (i * 7 + block * 13) % 255 - 127)
                bytes.append(UInt8(bitPattern: q))
                expected.append(Float(scale) * Float(q))
            }
        }
        #expect(bytes.count == 4 * 34)
        let matrix = try bytes.withUnsafeBytes { try WeightMatrix.q8_0(name: "w", blocks: $0.baseAddress!, rows: 2, columns: 64) }
        #expect(matrix.byteCount == bytes.count)
        var row = [Float](repeating: 0, count: 64)
        row.withUnsafeMutableBufferPointer { matrix.row(1, into: $0.baseAddress!) }
        #expect(row == Array(expected[64...]))
        #expect(throws: EngineError.self) {
            try bytes.withUnsafeBytes { try WeightMatrix.q8_0(name: "w", blocks: $0.baseAddress!, rows: 1, columns: 48) }
        }
    }

    /// Quantisation error is at most half a step (d / 2 with d = max|x| / 127) per value, and
    /// the q8_0 product equals the exact product of the two quantised vectors.
    @Test func q8ProductIsTheExactProductOfQuantisedValues() throws {
        let rows = 5, columns = 96
        let values = Self.randomValues(rows * columns, seed: 11)
        let matrix = try Self.matrix(values, rows: rows, columns: columns, .q8_0)
        var dequantised = [Float](repeating: 0, count: rows * columns)
        dequantised.withUnsafeMutableBufferPointer { out in
            for r in 0..<rows { matrix.row(r, into: out.baseAddress! + r * columns) }
        }
        for block in 0..<(rows * columns / 32) {
            let range = (block * 32)..<(block * 32 + 32)
            let step = values[range].map(abs).max()! / 127
            let worst = zip(values[range], dequantised[range]).map { abs($0 - $1) }.max()!
            // Half a step, plus the f16 rounding of the stored scale (relative 2^-11) times |q| <= 127.
            #expect(worst <= step / 2 + 127 * step * 0x1p-11 + 1e-7)
        }
        let x = Self.randomValues(columns, seed: 12)
        let (scales, quantised, offsets) = Self.quantiseActivations(x)
        for block in 0..<(columns / 32) {
            #expect(offsets[block] == -128 * quantised[(block * 32)..<(block * 32 + 32)].reduce(0) { $0 + Int32($1) })
        }
        var y = [Float](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { matrix.multiply(xs.baseAddress!, into: $0.baseAddress!) } }
        for r in 0..<rows {
            var reference = 0.0
            for c in 0..<columns { reference += Double(dequantised[r * columns + c]) * Double(quantised[c]) * Double(scales[c / 32]) }
            #expect(abs(Double(y[r]) - reference) < 1e-5, "row \(r)")
        }
    }

    /// Activations quantised by the C kernels: scales, int8 values and offsets per block.
    static func quantiseActivations(_ x: [Float]) -> (scales: [Float], values: [Int8], offsets: [Int32]) {
        var scales = [Float](repeating: 0, count: x.count / 32)
        var values = [Int8](repeating: 0, count: x.count)
        var offsets = [Int32](repeating: 0, count: x.count / 32)
        scales.withUnsafeMutableBufferPointer { s in
            values.withUnsafeMutableBufferPointer { q in
                offsets.withUnsafeMutableBufferPointer { o in
                    x.withUnsafeBufferPointer {
                        ds_quantize_activations(
                            $0.baseAddress!, ds_q8_activations(scales: s.baseAddress!, values: q.baseAddress!, offsets: o.baseAddress!),
                            Int64(x.count))
                    }
                }
            }
        }
        return (scales, values, offsets)
    }

    /// Activations quantise as ggml's reference does (d = max|x| / 127, q = round(x / d),
    /// halves away from zero), whichever implementation runs: random blocks, a block of
    /// exact halves (d = 1), and an all-zero block.
    @Test func activationQuantisationRoundsLikeTheReference() {
        var x = Self.randomValues(64, seed: 31)
        x += [127, 2.5, -2.5, 3.5, -3.5, 0.5, -0.5, 126.5, -126.5] + [Float](repeating: 1.25, count: 23)
        x += [Float](repeating: 0, count: 32)
        let (scales, values, offsets) = Self.quantiseActivations(x)
        for block in 0..<(x.count / 32) {
            let range = (block * 32)..<(block * 32 + 32)
            let d = x[range].map(abs).max()! / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            #expect(scales[block] == d)
            #expect(Array(values[range]) == x[range].map { Int8(($0 * inverse).rounded()) }, "block \(block)")
            #expect(offsets[block] == -128 * values[range].reduce(0) { $0 + Int32($1) })
        }
        #expect(values[64...72] == [127, 3, -3, 4, -4, 1, -1, 127, -127])
    }

    /// Every q8_0 implementation this CPU can run (the AVX-512 VNNI kernel, the portable
    /// code built for AVX2 and as it is) computes the same products, for partial groups of
    /// rows, token tiles of 8 and 4 and single tokens, and a part of the groups only; rows
    /// outside the groups asked for are left alone. The exact reference is in double.
    @Test func q8ImplementationsAgree() throws {
        let rows = 37, columns = 96, tokens = 13
        let values = Self.randomValues(rows * columns, seed: 21)
        let matrix = try Self.matrix(values, rows: rows, columns: columns, .q8_0)
        var dequantised = [Float](repeating: 0, count: rows * columns)
        dequantised.withUnsafeMutableBufferPointer { out in
            for r in 0..<rows { matrix.row(r, into: out.baseAddress! + r * columns) }
        }
        let x = Self.randomValues(tokens * columns, seed: 22)
        var (scales, quantised, offsets) = Self.quantiseActivations(x)
        var ran: [String] = []
        for name in ["avx512vnni", "avx2", "portable"] {
            for groups in [0..<3, 1..<3] {
                var y = [Float](repeating: .nan, count: tokens * rows)
                let available = scales.withUnsafeMutableBufferPointer { s in
                    quantised.withUnsafeMutableBufferPointer { q in
                        offsets.withUnsafeMutableBufferPointer { o in
                            y.withUnsafeMutableBufferPointer { out in
                                matrix.withPackedQ8 { packed in
                                    ds_matmul_q8_0_using(
                                        name, packed, Int64(rows), Int64(columns), Int64(groups.lowerBound), Int64(groups.upperBound),
                                        ds_q8_activations(scales: s.baseAddress!, values: q.baseAddress!, offsets: o.baseAddress!),
                                        Int64(tokens), out.baseAddress!, Int64(rows))
                                }
                            }
                        }
                    }
                }
                guard available == 1 else { continue }
                ran.append(name)
                for t in 0..<tokens {
                    for r in 0..<rows {
                        let value = y[t * rows + r]
                        guard groups.contains(r / 16) else {
                            #expect(value.isNaN, "\(name): row \(r) outside groups \(groups) was written")
                            continue
                        }
                        var reference = 0.0
                        for c in 0..<columns {
                            reference += Double(dequantised[r * columns + c]) * Double(quantised[t * columns + c])
                                * Double(scales[t * columns / 32 + c / 32])
                        }
                        #expect(abs(Double(value) - reference) < 1e-5, "\(name) token \(t) row \(r): \(value) vs \(reference)")
                    }
                }
            }
        }
        #expect(ran.contains("portable") && ran.contains(WeightFormat.q8Implementation))
    }

    /// Converting to f16/bf16 rounds to nearest as torch does; f32 -> f32 is the same object.
    @Test func conversionRoundsLikeTorch() throws {
        let values: [Float] = [1, -2.5, 0.1, 3.14159, 65504, 1e-3, -0.3333333, 7] + Array(repeating: 0.5, count: 24)
        let f32 = try WeightMatrix.float32(name: "w", rows: 1, columns: 32, values: values)
        #expect(try f32.converted(to: .f32) === f32)
        for format in [WeightFormat.f16, .bf16] {
            let converted = try f32.converted(to: format)
            var row = [Float](repeating: 0, count: 32)
            row.withUnsafeMutableBufferPointer { converted.row(0, into: $0.baseAddress!) }
            let expected = values.map { format == .f16 ? Float(Float16($0)) : Float(bitPattern: UInt32(bfloat16Bits($0)) << 16) }
            #expect(row == expected)
            #expect(converted.byteCount == 64)
        }
        #expect(bfloat16Bits(1 + 0x1p-8) == 0x3F80)  // a tie rounds to even
        #expect(bfloat16Bits(1 + 0x1p-7 + 0x1p-8) == 0x3F82)
    }

    /// Batched prefill gives the logits and caches that token-by-token forward gives.
    @Test(arguments: ["llama3", "qwen2", "mistral", "llama-mqa"])
    func prefillEqualsTokenByToken(name: String) throws {
        let model = try Model(folder: Fixtures.model(name))
        let tokens = [5, 17, 3, 40, 2, 9, 11, 60, 1, 33]
        let sequential = try vanillaRunner(model, capacity: 16)
        var expected: [Float] = []
        for (position, token) in tokens.enumerated() { expected = try sequential.run(token: token, position: position) }
        for (chunk, threads) in [(4, 1), (64, 2)] {
            let batched = try vanillaRunner(model, capacity: 16, threads: threads, batchSize: chunk)
            let logits = try runBatched(batched, tokens).last ?? []
            let worst = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "\(name), chunk \(chunk): \(worst)")
            #expect(batched.kvCacheBytes == sequential.kvCacheBytes)
            // Decoding continues from the prefilled caches exactly as from sequential ones.
            let next = try batched.run(token: 7, position: tokens.count)
            let reference = try sequential.run(token: 7, position: tokens.count)
            #expect(zip(next, reference).map { abs($0 - $1) }.max() ?? .infinity < 1e-4)
            sequential.reset()
            for (position, token) in tokens.enumerated() { _ = try sequential.run(token: token, position: position) }
        }
    }

    /// q8_0 against transformers' f32 logits. Its error has two sources of the same size:
    /// weights rounded to 8 bits per block (relative step 1/127 of the block's largest
    /// value), and activations rounded the same way before the integer products. Rounding the
    /// weights alone (q8_0 weights widened back to f32, products in f32) measures the first;
    /// two independent errors of equal size add to about sqrt(2) times one, so the q8_0 RMS
    /// error must stay within 2x the weights-only one. A wrong scale, sign or block offset in
    /// the integer kernels breaks that by orders of magnitude.
    @Test(arguments: ["llama2", "llama3", "qwen2", "mistral", "llama-mqa", "llama-bf16"])
    func q8ErrorIsTheRoundingOfWeightsAndActivations(name: String) throws {
        let expected = try ExpectedLogits.load(name)
        let base = try Model(folder: Fixtures.model(name))
        let q8 = try base.converted(to: .q8_0)
        let weightsOnly = try q8.converted(to: .f32)
        #expect(q8.matrixDTypes.contains("Q8_0") && weightsOnly.matrixDTypes == ["F32"])
        func rmsError(_ model: Model) throws -> Double {
            let runner = try vanillaRunner(model, capacity: expected.tokens.count)
            var total = 0.0
            var count = 0
            for (position, token) in expected.tokens.enumerated() {
                let logits = try runner.run(token: token, position: position)
                for (ours, theirs) in zip(logits, expected.logits[position]) {
                    total += Double(ours - theirs) * Double(ours - theirs)
                    count += 1
                }
            }
            return (total / Double(count)).squareRoot()
        }
        let q8Error = try rmsError(q8)
        let roundingError = try rmsError(weightsOnly)
        #expect(roundingError > 0)
        #expect(q8Error <= 2 * roundingError, "\(name): q8_0 RMS error \(q8Error), weights rounded alone \(roundingError)")
    }

    /// Over a long context attention splits its heads between threads; every head is
    /// computed exactly as on one thread, so two threads give bit-identical logits.
    @Test func threadedAttentionAndProductsGiveIdenticalLogits() throws {
        let model = try Model.random(hidden: 256, layers: 2, heads: 8, ffn: 256, vocab: 64, context: 512, seed: 5)
        let tokens = (0..<300).map { ($0 * 37 + 11) % 64 }
        let one = try vanillaRunner(model, capacity: 320, threads: 1)
        let two = try vanillaRunner(model, capacity: 320, threads: 2)
        for (position, token) in tokens.enumerated() {
            let a = try one.run(token: token, position: position)
            let b = try two.run(token: token, position: position)
            if position % 50 == 0 || position == tokens.count - 1 { #expect(a == b, "position \(position)") }
        }
        // And the prompt path: 300 rows x 8 heads x 32 dims is well above the split threshold.
        one.reset()
        two.reset()
        #expect(try runBatched(one, tokens) == (try runBatched(two, tokens)))
    }

    /// The pool runs every chunk exactly once, also when jobs come faster than workers wake.
    @Test func poolRunsEveryChunkOnce() {
        let pool = ThreadPool(threads: 2)
        for chunks in [1, 2, 3, 8, 100] {
            for _ in 0..<200 {
                var counts = [Int](repeating: 0, count: chunks)
                counts.withUnsafeMutableBufferPointer { buffer in
                    let base = buffer.baseAddress!
                    pool.run(chunks: chunks) { chunk, total in
                        #expect(total == chunks)
                        base[chunk] += 1  // each chunk index goes to exactly one thread
                    }
                }
                #expect(counts == [Int](repeating: 1, count: chunks))
            }
        }
    }

    @Test func shareCoversTheRangeInGranules() {
        for count in [0, 1, 7, 64, 257] {
            for parts in [1, 2, 3, 8] {
                let ranges = (0..<parts).map { ThreadPool.share(of: count, part: $0, parts: parts) }
                #expect(ranges.map(\.count).reduce(0, +) == count)
                for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(ranges.dropLast().allSatisfy { $0.lowerBound % 4 == 0 && $0.upperBound % 4 == 0 })
            }
        }
    }
}
