import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The numeric inner loops: dot products over weights stored as f32, f16 or bf16 (always
/// accumulating in f32), and the small vector operations of a decoder layer.
///
/// Written for the compiler to vectorise: SIMD16 (one AVX-512 register), independent
/// accumulators to hide FMA latency, and a manual horizontal sum (lowHalf + highHalf),
/// which is much faster than `.sum()`. The Engine target is built with `-target-cpu
/// native`; without it `addingProduct` becomes a libm call per lane (DESIGN.md).

typealias Vector16 = SIMD16<Float>

@inline(__always)
func horizontalSum(_ v: Vector16) -> Float {
    let v8 = v.lowHalf + v.highHalf
    let v4 = v8.lowHalf + v8.highHalf
    let v2 = v4.lowHalf + v4.highHalf
    return v2[0] + v2[1]
}

/// One stored float element type: loads 16 weights starting at element `index` (or one)
/// and widens them to f32. The kernels below are generic over it; the float formats
/// (Formats/FloatWeightFormat.swift) call them through the requirements at the end of this
/// file, which are specialised here.
protocol WeightElement {
    static var byteSize: Int { get }
    static func load16(_ base: UnsafeRawPointer, _ index: Int) -> Vector16
    static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float

    /// `matrixVector` over `rows` for a row-major matrix of this element type.
    static func matrixVector(
        _ weights: UnsafeRawPointer, rows: Range<Int>, columns: Int, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>)
    /// `matrixMatrix` over `rows` for a row-major matrix of this element type.
    static func matrixMatrix(
        _ weights: UnsafeRawPointer, rows: Range<Int>, columns: Int, _ x: UnsafePointer<Float>, xStride: Int,
        tokens: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int)
    /// Widens `count` stored elements to f32.
    static func widen(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int)
}

enum F32Element: WeightElement {
    static var byteSize: Int { 4 }
    @inline(__always)
    static func load16(_ base: UnsafeRawPointer, _ index: Int) -> Vector16 {
        base.loadUnaligned(fromByteOffset: index * 4, as: Vector16.self)
    }
    @inline(__always)
    static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        base.loadUnaligned(fromByteOffset: index * 4, as: Float.self)
    }
    static func widen(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
    }
}

enum F16Element: WeightElement {
    static var byteSize: Int { 2 }
    @inline(__always)
    static func load16(_ base: UnsafeRawPointer, _ index: Int) -> Vector16 {
        // Lane by lane so it inlines into vcvtph2ps; the generic SIMD initializer
        // becomes an out-of-line call here.
        let halves = base.loadUnaligned(fromByteOffset: index * 2, as: SIMD16<Float16>.self)
        var result = Vector16()
        for lane in 0..<16 { result[lane] = Float(halves[lane]) }
        return result
    }
    @inline(__always)
    static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        Float(base.loadUnaligned(fromByteOffset: index * 2, as: Float16.self))
    }
}

/// bfloat16 is the top half of an f32: widening is a 16-bit shift.
enum BF16Element: WeightElement {
    static var byteSize: Int { 2 }
    @inline(__always)
    static func load16(_ base: UnsafeRawPointer, _ index: Int) -> Vector16 {
        let halves = base.loadUnaligned(fromByteOffset: index * 2, as: SIMD16<UInt16>.self)
        var words = SIMD16<UInt32>()
        for lane in 0..<16 { words[lane] = UInt32(halves[lane]) }  // inlines, unlike the SIMD init
        return unsafeBitCast(words &<< 16, to: Vector16.self)
    }
    @inline(__always)
    static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let half = base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)
        return Float(bitPattern: UInt32(half) << 16)
    }
}

/// Dot product of `count` weights (of type `E`) with f32 `x`.
///
/// Two accumulators, not four or eight: out of cache, the tighter loop streamed weights
/// faster (f32 768x12x12x2048 decode 46 -> 51 tokens/s, f16 100 -> 113, interleaved bench
/// runs), and in cache it was as fast.
@inline(__always)
func dot<E: WeightElement>(_: E.Type, _ weights: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
    let xRaw = UnsafeRawPointer(x)
    var acc0 = Vector16(), acc1 = Vector16()
    var i = 0
    while i + 32 <= count {
        acc0.addProduct(E.load16(weights, i), xRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self))
        acc1.addProduct(E.load16(weights, i + 16), xRaw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Vector16.self))
        i += 32
    }
    if i + 16 <= count {
        acc0.addProduct(E.load16(weights, i), xRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self))
        i += 16
    }
    var sum = horizontalSum(acc0 + acc1)
    while i < count {
        sum += E.load1(weights, i) * x[i]
        i += 1
    }
    return sum
}

/// Four dot products at once: rows `w`, `w + rowBytes`, ... (each `count` elements of `E`)
/// with the same `x`: the prompt tiles' leftover tokens, whose weights are already in cache.
@inline(__always)
func dot4<E: WeightElement>(
    _: E.Type, _ w: UnsafeRawPointer, rowBytes: Int, _ x: UnsafePointer<Float>, _ count: Int
) -> (Float, Float, Float, Float) {
    let xRaw = UnsafeRawPointer(x)
    let w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes
    var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
    var b0 = Vector16(), b1 = Vector16(), b2 = Vector16(), b3 = Vector16()
    var i = 0
    while i + 32 <= count {
        let x0 = xRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
        let x1 = xRaw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Vector16.self)
        a0.addProduct(E.load16(w0, i), x0)
        a1.addProduct(E.load16(w1, i), x0)
        a2.addProduct(E.load16(w2, i), x0)
        a3.addProduct(E.load16(w3, i), x0)
        b0.addProduct(E.load16(w0, i + 16), x1)
        b1.addProduct(E.load16(w1, i + 16), x1)
        b2.addProduct(E.load16(w2, i + 16), x1)
        b3.addProduct(E.load16(w3, i + 16), x1)
        i += 32
    }
    while i + 16 <= count {
        let x0 = xRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
        a0.addProduct(E.load16(w0, i), x0)
        a1.addProduct(E.load16(w1, i), x0)
        a2.addProduct(E.load16(w2, i), x0)
        a3.addProduct(E.load16(w3, i), x0)
        i += 16
    }
    var s0 = horizontalSum(a0 + b0), s1 = horizontalSum(a1 + b1)
    var s2 = horizontalSum(a2 + b2), s3 = horizontalSum(a3 + b3)
    while i < count {
        let xi = x[i]
        s0 += E.load1(w0, i) * xi
        s1 += E.load1(w1, i) * xi
        s2 += E.load1(w2, i) * xi
        s3 += E.load1(w3, i) * xi
        i += 1
    }
    return (s0, s1, s2, s3)
}

/// y[r] = sum_c W[r, c] * x[c] for the rows in `rows` of a row-major matrix of `E`
/// elements, one row at a time in address order.
///
/// One sequential stream is what the hardware prefetcher follows best: interleaving four
/// rows (one x load per four rows) and software prefetch of the next rows both made decode
/// slower out of cache, f16 most (768x12x12x2048 f16: 45 -> 80 tokens/s when dropped, in
/// interleaved `depthscope bench` runs; bench/results-2026-11-23.md, round 3).
@inline(__always)
func matrixVector<E: WeightElement>(
    _: E.Type, _ weights: UnsafeRawPointer, rows: Range<Int>, columns: Int,
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>
) {
    let stride = columns * E.byteSize
    for row in rows {
        y[row] = dot(E.self, weights + row * stride, x, columns)
    }
}

/// Y[t, r] = sum_c W[r, c] * X[t, c] for `tokens` rows of X (a prompt processed at once),
/// rows `rows` of W. Tiles of 4 weight rows x 4 tokens: each weight load serves four
/// tokens and each activation load four rows, so the weights stream from memory once per
/// batch and the loop is bound by FMAs, not loads.
@inline(__always)
func matrixMatrix<E: WeightElement>(
    _: E.Type, _ weights: UnsafeRawPointer, rows: Range<Int>, columns: Int,
    _ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
    _ y: UnsafeMutablePointer<Float>, yStride: Int
) {
    let stride = columns * E.byteSize
    var row = rows.lowerBound
    while row + 4 <= rows.upperBound {
        let w0 = weights + row * stride, w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride
        var t = 0
        while t + 4 <= tokens {
            let x0 = UnsafeRawPointer(x + t * xStride), x1 = x0 + xStride * 4
            let x2 = x1 + xStride * 4, x3 = x2 + xStride * 4
            var c00 = Vector16(), c01 = Vector16(), c02 = Vector16(), c03 = Vector16()
            var c10 = Vector16(), c11 = Vector16(), c12 = Vector16(), c13 = Vector16()
            var c20 = Vector16(), c21 = Vector16(), c22 = Vector16(), c23 = Vector16()
            var c30 = Vector16(), c31 = Vector16(), c32 = Vector16(), c33 = Vector16()
            var i = 0
            while i + 16 <= columns {
                let v0 = x0.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
                let v1 = x1.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
                let v2 = x2.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
                let v3 = x3.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
                let r0 = E.load16(w0, i)
                c00.addProduct(r0, v0); c01.addProduct(r0, v1); c02.addProduct(r0, v2); c03.addProduct(r0, v3)
                let r1 = E.load16(w1, i)
                c10.addProduct(r1, v0); c11.addProduct(r1, v1); c12.addProduct(r1, v2); c13.addProduct(r1, v3)
                let r2 = E.load16(w2, i)
                c20.addProduct(r2, v0); c21.addProduct(r2, v1); c22.addProduct(r2, v2); c23.addProduct(r2, v3)
                let r3 = E.load16(w3, i)
                c30.addProduct(r3, v0); c31.addProduct(r3, v1); c32.addProduct(r3, v2); c33.addProduct(r3, v3)
                i += 16
            }
            var sums = (
                horizontalSum(c00), horizontalSum(c01), horizontalSum(c02), horizontalSum(c03),
                horizontalSum(c10), horizontalSum(c11), horizontalSum(c12), horizontalSum(c13),
                horizontalSum(c20), horizontalSum(c21), horizontalSum(c22), horizontalSum(c23),
                horizontalSum(c30), horizontalSum(c31), horizontalSum(c32), horizontalSum(c33))
            while i < columns {
                let xs0 = x[t * xStride + i], xs1 = x[(t + 1) * xStride + i]
                let xs2 = x[(t + 2) * xStride + i], xs3 = x[(t + 3) * xStride + i]
                let e0 = E.load1(w0, i), e1 = E.load1(w1, i), e2 = E.load1(w2, i), e3 = E.load1(w3, i)
                sums.0 += e0 * xs0; sums.1 += e0 * xs1; sums.2 += e0 * xs2; sums.3 += e0 * xs3
                sums.4 += e1 * xs0; sums.5 += e1 * xs1; sums.6 += e1 * xs2; sums.7 += e1 * xs3
                sums.8 += e2 * xs0; sums.9 += e2 * xs1; sums.10 += e2 * xs2; sums.11 += e2 * xs3
                sums.12 += e3 * xs0; sums.13 += e3 * xs1; sums.14 += e3 * xs2; sums.15 += e3 * xs3
                i += 1
            }
            let out = y + t * yStride + row
            out[0] = sums.0; out[yStride] = sums.1; out[2 * yStride] = sums.2; out[3 * yStride] = sums.3
            out[1] = sums.4; out[yStride + 1] = sums.5; out[2 * yStride + 1] = sums.6; out[3 * yStride + 1] = sums.7
            out[2] = sums.8; out[yStride + 2] = sums.9; out[2 * yStride + 2] = sums.10; out[3 * yStride + 2] = sums.11
            out[3] = sums.12; out[yStride + 3] = sums.13; out[2 * yStride + 3] = sums.14; out[3 * yStride + 3] = sums.15
            t += 4
        }
        while t < tokens {
            let (s0, s1, s2, s3) = dot4(E.self, w0, rowBytes: stride, x + t * xStride, columns)
            let out = y + t * yStride + row
            out[0] = s0; out[1] = s1; out[2] = s2; out[3] = s3
            t += 1
        }
        row += 4
    }
    while row < rows.upperBound {
        for t in 0..<tokens {
            y[t * yStride + row] = dot(E.self, weights + row * stride, x + t * xStride, columns)
        }
        row += 1
    }
}

// Concrete entry points. Debug builds compile file by file, and a generic function called
// from another file is not specialised there (each element load becomes a call through a
// witness table, ~10x slower). These implement WeightElement's requirements here, where
// the conformances are, so each element type's witness is the specialised kernel: other
// files call them (one dynamic call per product chunk at most), never the generics.
extension WeightElement {
    static func matrixVector(
        _ weights: UnsafeRawPointer, rows: Range<Int>, columns: Int, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>
    ) {
        Engine.matrixVector(Self.self, weights, rows: rows, columns: columns, x, y)
    }

    static func matrixMatrix(
        _ weights: UnsafeRawPointer, rows: Range<Int>, columns: Int, _ x: UnsafePointer<Float>, xStride: Int,
        tokens: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        Engine.matrixMatrix(
            Self.self, weights, rows: rows, columns: columns, x, xStride: xStride, tokens: tokens, y, yStride: yStride)
    }

    static func widen(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { destination[i] = load1(source, i) }
    }
}

/// Widens `count` stored elements to f32 (embedding rows, norm weights, biases).
func widen(dtype: TensorDType, _ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
    switch dtype {
    case .f16: for i in 0..<count { destination[i] = F16Element.load1(source, i) }
    case .bf16: for i in 0..<count { destination[i] = BF16Element.load1(source, i) }
    default: destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
    }
}

/// Dot product of two f32 vectors.
func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    dot(F32Element.self, UnsafeRawPointer(a), b, count)
}

/// y = x * rsqrt(mean(x^2) + eps) * weight (RMSNorm, as HF computes it in f32).
func rmsNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
    into y: UnsafeMutablePointer<Float>, count: Int
) {
    let squares = dotF32(x, x, count: count)
    let scale = 1 / (squares / Float(count) + epsilon).squareRoot()
    for i in 0..<count {
        y[i] = weight[i] * (x[i] * scale)
    }
}

/// In-place softmax over `count` values (max-subtracted, f32); every value masked (-inf)
/// gives no weight anywhere rather than NaN. In C (ds_softmax): attention runs it for
/// every head of every token, and one expf call per key was a tenth of a prompt's time.
func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    ds_softmax(x, Int64(count))
}

/// The maximum of `count` logits and the sum of exp(logit - maximum): softmax's
/// denominator, for the probabilities that traces show (top candidates, logit lens, the
/// chosen token) at every step of every token, hence in C (ds_softmax_denominator), 16
/// logits at a time.
func softmaxDenominator(_ logits: UnsafePointer<Float>, count: Int) -> (maximum: Float, total: Double) {
    var maximum: Float = 0
    let total = ds_softmax_denominator(logits, Int64(count), &maximum)
    return (maximum, total)
}

/// gate[i] = silu(gate[i]) * up[i], the SwiGLU activation.
func swiGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// gate[i] = act(gate[i]) * up[i]: the gated MLP's activation (SwiGLU, GeGLU).
func gatedActivation(_ activation: Activation, _ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    switch activation {
    case .silu:
        swiGLU(gate, up, count: count)
    case .geluTanh:
        // PyTorch's tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
        let c: Float = 0.7978845608028654
        for i in 0..<count {
            let g = gate[i]
            gate[i] = 0.5 * g * (1 + tanhf(c * (g + 0.044715 * g * g * g))) * up[i]
        }
    case .gelu:
        for i in 0..<count {
            let g = gate[i]
            gate[i] = 0.5 * g * (1 + erff(g * 0.7071067811865476)) * up[i]
        }
    }
}

/// x[i] *= scale.
func scaleVector(_ x: UnsafeMutablePointer<Float>, by scale: Float, count: Int) {
    for i in 0..<count { x[i] *= scale }
}

/// y[i] += x[i].
func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] += x[i] }
}

/// y[i] += a * x[i].
@inline(__always)
func addScaled(_ x: UnsafePointer<Float>, scale a: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] += a * x[i] }
}
