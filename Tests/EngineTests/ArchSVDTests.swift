import Foundation
import Testing

@testable import Engine

/// The Jacobi SVD that `convert` uses for its LoRA initialisation.
@Suite struct ArchSVDTests {
    /// Deterministic pseudo-random values in [-1, 1).
    func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> [Double] {
        var random = SeededRandom(seed: seed)
        return (0..<(rows * columns)).map { _ in Double(random.nextUnitFloat()) * 2 - 1 }
    }

    func reconstruct(_ svd: SingularValueDecomposition) -> [Double] {
        var out = [Double](repeating: 0, count: svd.rows * svd.columns)
        for i in 0..<svd.rows {
            for j in 0..<svd.columns {
                var total = 0.0
                for t in 0..<svd.rank { total += svd.u(i, t) * svd.values[t] * svd.v(j, t) }
                out[i * svd.columns + j] = total
            }
        }
        return out
    }

    func maxGramError(_ element: (Int, Int) -> Double, length: Int, rank: Int) -> Double {
        var worst = 0.0
        for a in 0..<rank {
            for b in 0..<rank {
                var dot = 0.0
                for i in 0..<length { dot += element(i, a) * element(i, b) }
                worst = max(worst, abs(dot - (a == b ? 1 : 0)))
            }
        }
        return worst
    }

    @Test(arguments: [(5, 3), (3, 5), (8, 8), (32, 16), (16, 48), (1, 4)])
    func decomposesAndReconstructs(rows: Int, columns: Int) {
        let matrix = randomMatrix(rows, columns, seed: UInt64(rows * 100 + columns))
        let svd = SingularValueDecomposition(matrix: matrix, rows: rows, columns: columns)
        #expect(svd.rank == min(rows, columns))
        let error = zip(reconstruct(svd), matrix).map { abs($0 - $1) }.max() ?? 0
        #expect(error < 1e-12, "reconstruction error \(error)")
        #expect(maxGramError(svd.u, length: rows, rank: svd.rank) < 1e-12, "U is not orthonormal")
        #expect(maxGramError(svd.v, length: columns, rank: svd.rank) < 1e-12, "V is not orthonormal")
        #expect(zip(svd.values, svd.values.dropFirst()).allSatisfy { $0 >= $1 }, "not sorted: \(svd.values)")
        #expect(svd.values.allSatisfy { $0 >= 0 })
    }

    /// A matrix built as Q1 diag(s) Q2^T from Givens rotations has singular values s.
    @Test func findsKnownSingularValues() {
        let n = 6
        let expected: [Double] = [9, 5, 3.5, 2, 0.25, 0]
        var matrix = [Double](repeating: 0, count: n * n)
        for i in 0..<n { matrix[i * n + i] = expected[i] }
        func rotateRows(_ p: Int, _ q: Int, _ angle: Double) {
            for j in 0..<n {
                let (a, b) = (matrix[p * n + j], matrix[q * n + j])
                matrix[p * n + j] = cos(angle) * a - sin(angle) * b
                matrix[q * n + j] = sin(angle) * a + cos(angle) * b
            }
        }
        func rotateColumns(_ p: Int, _ q: Int, _ angle: Double) {
            for i in 0..<n {
                let (a, b) = (matrix[i * n + p], matrix[i * n + q])
                matrix[i * n + p] = cos(angle) * a - sin(angle) * b
                matrix[i * n + q] = sin(angle) * a + cos(angle) * b
            }
        }
        for (p, q, angle) in [(0, 3, 0.7), (1, 5, -1.3), (2, 4, 0.4), (0, 5, 2.1), (3, 4, -0.2)] {
            rotateRows(p, q, angle)
            rotateColumns(q, p, angle * 0.6)
        }
        let svd = SingularValueDecomposition(matrix: matrix, rows: n, columns: n)
        for (got, want) in zip(svd.values, expected) { #expect(abs(got - want) < 1e-12, "\(svd.values)") }
    }

    /// Eckart-Young: the rank-r factors leave exactly the discarded singular values.
    @Test func lowRankFactorsAreTheBestApproximation() {
        let (rows, columns, rank) = (12, 7, 3)
        let matrix = randomMatrix(rows, columns, seed: 99)
        let svd = SingularValueDecomposition(matrix: matrix, rows: rows, columns: columns)
        let (b, a) = svd.lowRankFactors(rank)
        #expect(b.count == rows * rank && a.count == rank * columns)
        var residual = 0.0
        for i in 0..<rows {
            for j in 0..<columns {
                var product = 0.0
                for t in 0..<rank { product += Double(b[i * rank + t]) * Double(a[t * columns + j]) }
                residual += pow(matrix[i * columns + j] - product, 2)
            }
        }
        let discarded = svd.values[rank...].reduce(0) { $0 + $1 * $1 }
        #expect(abs(residual.squareRoot() - discarded.squareRoot()) < 1e-5, "\(residual) vs \(discarded)")
    }

    @Test func handlesZeroAndRankOneMatrices() {
        let zero = SingularValueDecomposition(matrix: [Double](repeating: 0, count: 12), rows: 3, columns: 4)
        #expect(zero.values == [0, 0, 0])
        let rankOne = SingularValueDecomposition(matrix: [1, 2, 2, 4, 3, 6], rows: 3, columns: 2)
        #expect(abs(rankOne.values[0] - (70.0).squareRoot()) < 1e-12)
        #expect(abs(rankOne.values[1]) < 1e-12)
    }
}
