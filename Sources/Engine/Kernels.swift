#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The numeric inner loops: dot products over weights stored as f32, f16 or bf16 (always
/// accumulating in f32), and the small vector operations of a decoder layer.
///
/// Written for the compiler to vectorise: SIMD16 (one AVX-512 register), four independent
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

/// Loads 16 weights starting at element `index` and widens them to f32.
protocol WeightElement {
    static var byteSize: Int { get }
    static func load16(_ base: UnsafeRawPointer, _ index: Int) -> Vector16
    static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float
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
@inline(__always)
func dot<E: WeightElement>(_: E.Type, _ weights: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
    let xRaw = UnsafeRawPointer(x)
    var acc0 = Vector16(), acc1 = Vector16(), acc2 = Vector16(), acc3 = Vector16()
    var i = 0
    while i + 64 <= count {
        acc0.addProduct(E.load16(weights, i), xRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self))
        acc1.addProduct(E.load16(weights, i + 16), xRaw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Vector16.self))
        acc2.addProduct(E.load16(weights, i + 32), xRaw.loadUnaligned(fromByteOffset: (i + 32) * 4, as: Vector16.self))
        acc3.addProduct(E.load16(weights, i + 48), xRaw.loadUnaligned(fromByteOffset: (i + 48) * 4, as: Vector16.self))
        i += 64
    }
    while i + 16 <= count {
        acc0.addProduct(E.load16(weights, i), xRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self))
        i += 16
    }
    var sum = horizontalSum((acc0 + acc1) + (acc2 + acc3))
    while i < count {
        sum += E.load1(weights, i) * x[i]
        i += 1
    }
    return sum
}

/// y[r] = sum_c W[r, c] * x[c] for a row-major matrix of `E` elements.
@inline(__always)
func matrixVector<E: WeightElement>(
    _: E.Type, _ weights: UnsafeRawPointer, rows: Int, columns: Int,
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>
) {
    let stride = columns * E.byteSize
    for row in 0..<rows {
        y[row] = dot(E.self, weights + row * stride, x, columns)
    }
}

// Concrete entry points. Debug builds compile file by file, and a generic function called
// from another file is not specialised there (each element load becomes a call through a
// witness table, ~10x slower), so other files call only these.

/// y = W x for a row-major f32, f16 or bf16 matrix (`dtype` must be computable).
func matrixVector(
    dtype: TensorDType, _ weights: UnsafeRawPointer, rows: Int, columns: Int,
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>
) {
    switch dtype {
    case .f16: matrixVector(F16Element.self, weights, rows: rows, columns: columns, x, y)
    case .bf16: matrixVector(BF16Element.self, weights, rows: rows, columns: columns, x, y)
    default: matrixVector(F32Element.self, weights, rows: rows, columns: columns, x, y)
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

/// In-place softmax over `count` values (max-subtracted, f32).
func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var maximum = x[0]
    for i in 1..<count where x[i] > maximum { maximum = x[i] }
    guard maximum > -Float.infinity else {
        // Nothing visible (every value masked): no weight anywhere rather than NaN.
        x.update(repeating: 0, count: count)
        return
    }
    var total: Float = 0
    for i in 0..<count {
        let e = expf(x[i] - maximum)
        x[i] = e
        total += e
    }
    let scale = 1 / total
    for i in 0..<count { x[i] *= scale }
}

/// gate[i] = silu(gate[i]) * up[i], the SwiGLU activation.
func swiGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
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
