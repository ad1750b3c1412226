import Testing
import Tandem
import TandemBLAS
import _TandemTestSupport

/// solve, inverse and determinant against residuals, closed forms and NumPy's errors; the LU
/// of the system's LAPACK and Tandem's own elimination against each other.
@Suite("Linear systems: solve, inverse, determinant")
struct SolveTests {
    /// A well-conditioned n x n matrix (a dominant diagonal of mixed signs), row-major.
    func matrix(_ n: Int, seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        var a = (0..<(n * n)).map { _ in Double(Int64(bitPattern: g.next()) % 1000) / 500 }
        for i in 0..<n { a[i * n + i] += (i % 2 == 0 ? 1.0 : -1.0) * Double(n + 2) }
        return a
    }

    func product(_ a: [Double], _ x: [Double], n: Int, k: Int) -> [Double] {
        (0..<(n * k)).map { e in (0..<n).reduce(0.0) { $0 + a[(e / k) * n + $1] * x[$1 * k + e % k] } }
    }

    @Test("solve: A x = b to a residual of 1e-12, vectors and several right-hand sides, sizes 1 to 64, Float")
    func solves() throws {
        for n in [1, 2, 3, 7, 17, 64] {
            let a = matrix(n, seed: UInt64(n))
            let b = (0..<n).map { Double($0 % 5) - 2 }
            let x = try Tensor(a, shape: [n, n]).solve(Tensor(b)).scalars
            for (got, want) in zip(product(a, x, n: n, k: 1), b) { #expect(Swift.abs(got - want) <= 1e-12 * Double(n), "n=\(n)") }
            let k = 3
            let bs = (0..<(n * k)).map { Double($0 % 7) - 3 }
            let xs: Tensor<Double> = try solve(Tensor(a, shape: [n, n]), Tensor(bs, shape: [n, k]))
            #expect(xs.shape == [n, k])
            for (got, want) in zip(product(a, try xs.scalars, n: n, k: k), bs) { #expect(Swift.abs(got - want) <= 1e-12 * Double(n)) }
        }
        let f = try Tensor<Float>([2, 1, 1, 3], shape: [2, 2]).solve(Tensor<Float>([3, 5])).scalars
        #expect(Swift.abs(f[0] - 0.8) < 1e-6 && Swift.abs(f[1] - 1.4) < 1e-6)
    }

    @Test("a stack of matrices: each solved, inverted and its determinant taken; one vector for all")
    func batched() throws {
        let n = 4
        let stack = matrix(n, seed: 1) + matrix(n, seed: 2) + matrix(n, seed: 3)
        let a = Tensor(stack, shape: [3, n, n])
        let b = (0..<(3 * n)).map { Double($0) }
        let x = try a.solve(Tensor(b, shape: [3, n, 1])).scalars
        let shared = try a.solve(Tensor((0..<n).map(Double.init))).scalars
        let dets = try a.determinant().scalars
        #expect(dets.count == 3)
        for m in 0..<3 {
            let am = Array(stack[(m * n * n)..<((m + 1) * n * n)])
            for (got, want) in zip(product(am, Array(x[(m * n)..<((m + 1) * n)]), n: n, k: 1), b[(m * n)..<((m + 1) * n)]) {
                #expect(Swift.abs(got - want) <= 1e-12)
            }
            for (got, want) in zip(product(am, Array(shared[(m * n)..<((m + 1) * n)]), n: n, k: 1), (0..<n).map(Double.init)) {
                #expect(Swift.abs(got - want) <= 1e-12)
            }
            #expect(Swift.abs(dets[m] - (try Tensor(am, shape: [n, n]).determinant().item())) <= 1e-12 * Swift.abs(dets[m]))
        }
    }

    @Test("inverse: A A⁻¹ = I; determinant: closed forms, swaps, singular matrices")
    func inverseAndDeterminant() throws {
        let n = 9
        let a = matrix(n, seed: 9)
        let ai = try inv(Tensor(a, shape: [n, n])).scalars
        let identity = product(a, ai, n: n, k: n)
        for i in 0..<n { for j in 0..<n { #expect(Swift.abs(identity[i * n + j] - (i == j ? 1 : 0)) <= 1e-12) } }
        #expect(try Tensor<Double>([1, 2, 3, 4], shape: [2, 2]).determinant().item() == -2)
        // A permutation (one swap) and a triangular matrix: the sign, and the diagonal's product.
        #expect(try Tensor<Double>([0, 1, 1, 0], shape: [2, 2]).determinant().item() == -1)
        #expect(try det(Tensor<Double>([2, 5, 7, 0, 3, 1, 0, 0, -4], shape: [3, 3])).item() == -24)
        let singular = Tensor<Double>([1, 2, 2, 4], shape: [2, 2])
        #expect(try singular.determinant().item() == 0)
        #expect(throws: LinearAlgebraError(message: "Singular matrix")) { try singular.solve(Tensor<Double>([1, 1])) }
        #expect(throws: LinearAlgebraError(message: "Singular matrix")) { try Tensor<Double>.zeros([3, 3]).inverse() }
    }

    @Test("the system's LAPACK and Tandem's own LU factor and solve alike")
    func ownLUAgreesWithLAPACK() throws {
        for n in [1, 5, 33] {
            let rowMajor = matrix(n, seed: UInt64(100 + n))
            // Column-major, as LAPACK takes it.
            let a = (0..<(n * n)).map { e in rowMajor[(e % n) * n + e / n] }
            var own = a, lib = a
            let (ownPivots, ownSingular) = LAPACK.shared.factor(&own, n: n, library: false)
            let (libPivots, libSingular) = LAPACK.shared.factor(&lib, n: n)
            #expect(!ownSingular && !libSingular)
            if LAPACK.shared.isAvailable {
                #expect(ownPivots == libPivots, "n=\(n)")
                for (x, y) in zip(own, lib) { #expect(Swift.abs(x - y) <= 1e-12 * Swift.max(1, Swift.abs(y))) }
            }
            for transposed in [false, true] {
                let b = (0..<(n * 2)).map { Double($0 % 9) - 4 }
                var x1 = b, x2 = b
                LAPACK.shared.solve(own, pivots: ownPivots, n: n, transposed: transposed, &x1, k: 2, library: false)
                LAPACK.shared.solve(lib, pivots: libPivots, n: n, transposed: transposed, &x2, k: 2)
                // Residual of the own solve against the matrix itself.
                for c in 0..<2 {
                    for i in 0..<n {
                        let got = (0..<n).reduce(0.0) { $0 + (transposed ? a[i * n + $1] : a[$1 * n + i]) * x1[c * n + $1] }
                        #expect(Swift.abs(got - b[c * n + i]) <= 1e-11, "n=\(n) transposed=\(transposed)")
                    }
                }
                for (p, q) in zip(x1, x2) { #expect(Swift.abs(p - q) <= 1e-11 * Swift.max(1, Swift.abs(q))) }
            }
        }
        var zero = [Double](repeating: 0, count: 4)
        #expect(LAPACK.shared.factor(&zero, n: 2, library: false).singular)
    }
}
