/// Singular value decomposition A = U diag(S) V^T of a real m x n matrix, by one-sided
/// Jacobi rotations (Hestenes) in f64: rotate pairs of columns until every pair is
/// orthogonal; the column norms are then the singular values. Simple, accurate to machine
/// precision, and fast enough for the layer-sized matrices `convert` factors (it works on
/// the transpose when that has fewer columns).
public struct SingularValueDecomposition: Sendable {
    public let rows: Int
    public let columns: Int
    /// Number of singular values, min(rows, columns).
    public let rank: Int
    /// Singular values, largest first.
    public let values: [Double]
    /// U, rows x rank, column j contiguous: u[j * rows + i].
    private let u: [Double]
    /// V, columns x rank, column j contiguous: v[j * columns + i].
    private let v: [Double]

    /// `matrix` is row-major, rows x columns.
    public init(matrix: [Double], rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        rank = min(rows, columns)
        guard rank > 0 else {
            values = []
            u = []
            v = []
            return
        }
        if columns <= rows {
            // Work on A's columns: W = A V has orthogonal columns, W = U S.
            var work = [Double](repeating: 0, count: rows * columns)
            for i in 0..<rows { for j in 0..<columns { work[j * rows + i] = matrix[i * columns + j] } }
            let (w, basis) = Self.orthogonalise(&work, length: rows, count: columns)
            (values, u, v) = Self.normalise(w, basis, length: rows, count: columns)
        } else {
            // A^T = U' S V'^T, so A = V' S U'^T: the roles of U and V swap.
            var work = matrix  // rows of A = columns of A^T, already contiguous
            let (w, basis) = Self.orthogonalise(&work, length: columns, count: rows)
            (values, v, u) = Self.normalise(w, basis, length: columns, count: rows)
        }
    }

    public func u(_ row: Int, _ j: Int) -> Double { u[j * rows + row] }
    public func v(_ row: Int, _ j: Int) -> Double { v[j * columns + row] }

    /// The best rank-r approximation as two factors, A ~ B A': B = U_r S_r (rows x r) and
    /// A' = V_r^T (r x columns), both row-major f32 (the LoRA factors B and A).
    public func lowRankFactors(_ r: Int) -> (b: [Float], a: [Float]) {
        let r = min(r, rank)
        var b = [Float](repeating: 0, count: rows * r)
        var a = [Float](repeating: 0, count: r * columns)
        for j in 0..<r {
            for i in 0..<rows { b[i * r + j] = Float(u(i, j) * values[j]) }
            for i in 0..<columns { a[j * columns + i] = Float(v(i, j)) }
        }
        return (b, a)
    }

    /// Rotates the `count` columns (each `length` long, contiguous) of `work` until they are
    /// pairwise orthogonal; returns them and the accumulated rotations (count x count).
    private static func orthogonalise(_ work: inout [Double], length: Int, count: Int) -> ([Double], [Double]) {
        var basis = [Double](repeating: 0, count: count * count)
        for j in 0..<count { basis[j * count + j] = 1 }
        let tolerance = 1e-15
        for _ in 0..<60 {
            var rotated = false
            work.withUnsafeMutableBufferPointer { w in
                basis.withUnsafeMutableBufferPointer { b in
                    guard let w = w.baseAddress, let b = b.baseAddress else { return }
                    for p in 0..<(count - 1) {
                        for q in (p + 1)..<count {
                            let x = w + p * length
                            let y = w + q * length
                            var alpha = 0.0
                            var beta = 0.0
                            var gamma = 0.0
                            for i in 0..<length {
                                alpha += x[i] * x[i]
                                beta += y[i] * y[i]
                                gamma += x[i] * y[i]
                            }
                            guard gamma != 0, abs(gamma) > tolerance * (alpha * beta).squareRoot() else { continue }
                            rotated = true
                            let zeta = (beta - alpha) / (2 * gamma)
                            let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                            let c = 1 / (1 + t * t).squareRoot()
                            let s = c * t
                            rotate(x, y, length, c, s)
                            rotate(b + p * count, b + q * count, count, c, s)
                        }
                    }
                }
            }
            if !rotated { break }
        }
        return (work, basis)
    }

    @inline(__always)
    private static func rotate(_ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ c: Double, _ s: Double) {
        for i in 0..<n {
            let a = x[i]
            let b = y[i]
            x[i] = c * a - s * b
            y[i] = s * a + c * b
        }
    }

    /// Column norms become the singular values (sorted, largest first); columns are
    /// normalised (a zero column stays zero).
    private static func normalise(_ work: [Double], _ basis: [Double], length: Int, count: Int)
        -> ([Double], [Double], [Double])
    {
        var norms = [Double](repeating: 0, count: count)
        for j in 0..<count {
            var total = 0.0
            for i in 0..<length { total += work[j * length + i] * work[j * length + i] }
            norms[j] = total.squareRoot()
        }
        let order = (0..<count).sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }
        var left = [Double](repeating: 0, count: length * count)
        var right = [Double](repeating: 0, count: count * count)
        for (slot, j) in order.enumerated() {
            let scale = norms[j] > 0 ? 1 / norms[j] : 0
            for i in 0..<length { left[slot * length + i] = work[j * length + i] * scale }
            for i in 0..<count { right[slot * count + i] = basis[j * count + i] }
        }
        return (order.map { norms[$0] }, left, right)
    }
}
