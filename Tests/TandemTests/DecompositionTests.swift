import Foundation
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemBLAS

/// Matrix decompositions (`cholesky`, `qr`, `eigh`/`eigvalsh`, `svd`, `pinv`, `matrixRank`):
/// NumPy 2.4's printed values for fixed matrices, the defining identities on random ones (also
/// stacked, wide, tall, rank-deficient and float32), and Tandem's own routines against the
/// library's at the `LAPACK` level (both paths run whatever the machine has).
@Suite("Decompositions")
struct DecompositionTests {
    static func close(_ a: [Double], _ b: [Double], _ tol: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        let scale = Swift.max(1, b.map(Swift.abs).max() ?? 0)
        let worst = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
        #expect(worst <= tol * scale, "largest difference \(worst)", sourceLocation: sourceLocation)
    }

    /// Row-major m x n product.
    static func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for l in 0..<k { c[i * n + j] += a[i * k + l] * b[l * n + j] } } }
        return c
    }

    static func transpose(_ a: [Double], m: Int, n: Int) -> [Double] {
        var t = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { t[j * m + i] = a[i * n + j] } }
        return t
    }

    /// Whether the columns of the row-major m x n `q` are orthonormal.
    static func orthonormalColumns(_ q: [Double], m: Int, n: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        var eye = [Double](repeating: 0, count: n * n)
        for j in 0..<n { eye[j * n + j] = 1 }
        close(product(transpose(q, m: m, n: n), q, m: n, k: m, n: n), eye, 1e-12, sourceLocation: sourceLocation)
    }

    @Test("cholesky: NumPy's factor, upper, a stack, float32, and a matrix that is not positive definite")
    func cholesky() throws {
        let b = Tensor<Double>([4, 1, 2, 1, 3, 0.5, 2, 0.5, 5], shape: [3, 3])
        let l = try b.cholesky()
        Self.close(try l.scalars, [2, 0, 0, 0.5, 1.6583123951777, 0, 1, 0, 2])
        Self.close(try b.cholesky(upper: true).scalars, try l.transposed.scalars)
        // Only the lower triangle is read.
        let lowerOnly = Tensor<Double>([4, 99, 99, 1, 3, 99, 2, 0.5, 5], shape: [3, 3])
        Self.close(try lowerOnly.cholesky().scalars, try l.scalars)
        let stack = Tensor<Double>.stack([b, Tensor<Double>.eye(3) * 9])
        let ls = try stack.cholesky()
        #expect(ls.shape == [2, 3, 3])
        Self.close(try ls[1].scalars, try (Tensor<Double>.eye(3) * 3).scalars)
        Self.close(try Tensor<Double>(try Tensor<Float>(b).cholesky()).scalars, try l.scalars, 1e-6)
        #expect(throws: LinearAlgebraError(message: "Matrix is not positive definite")) {
            try Tensor<Double>([1, 2, 2, 1], shape: [2, 2]).cholesky()
        }
        // NaN runs on into the factor, as NumPy's (LAPACK's) does.
        #expect(try Tensor<Double>([.nan, 0, 0, 1], shape: [2, 2]).cholesky().scalars[0].isNaN)
        var nan: [Double] = [.nan, 0, 0, 1]
        #expect(LAPACK.shared.cholesky(&nan, n: 2, library: false) && nan[0].isNaN)
    }

    @Test("qr: NumPy's reduced and complete factors, and Q R = A with orthonormal Q on tall, wide and stacked matrices")
    func qr() throws {
        let a = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let (q, r) = try a.qr()
        Self.close(try q.scalars, [-0.16903085094570325, 0.8970852271450607, -0.50709255283711, 0.27602622373694136,
                                   -0.8451542547285166, -0.345032779671177])
        Self.close(try r.scalars, [-5.916079783099616, -7.437357441610946, 0, 0.8280786712108248])
        let (qc, rc) = try a.qr(complete: true)
        #expect(qc.shape == [3, 3] && rc.shape == [3, 2])
        Self.close(try qc.scalars, [-0.16903085094570325, 0.8970852271450607, 0.40824829046386274, -0.50709255283711, 0.27602622373694136,
                                    -0.8164965809277261, -0.8451542547285166, -0.345032779671177, 0.40824829046386313])
        Self.close(try rc.scalars, [-5.916079783099616, -7.437357441610946, 0, 0.8280786712108248, 0, 0])
        for (m, n) in [(6, 4), (4, 6), (5, 5), (1, 3), (3, 1)] {
            let x = Tensor<Double>.uniform([2, m, n], seed: UInt64(40 + m * 7 + n), in: -1...1)
            for complete in [false, true] {
                let (q, r) = try x.qr(complete: complete)
                let c = complete ? m : Swift.min(m, n)
                #expect(q.shape == [2, m, c] && r.shape == [2, c, n])
                for b in 0..<2 {
                    let qv = try q[b].scalars, rv = try r[b].scalars
                    Self.orthonormalColumns(qv, m: m, n: c)
                    for i in 0..<c { for j in 0..<Swift.min(i, n) { #expect(rv[i * n + j] == 0) } }
                    Self.close(Self.product(qv, rv, m: m, k: c, n: n), try x[b].scalars)
                }
            }
        }
    }

    @Test("eigh and eigvalsh: NumPy's values and vectors (up to sign), A v = λ v, the triangle read, a stack")
    func eigh() throws {
        let b = Tensor<Double>([4, 1, 2, 1, 3, 0.5, 2, 0.5, 5], shape: [3, 3])
        let (w, v) = try b.eigh()
        Self.close(try w.scalars, [2.0965216172967187, 3.0722239520050754, 6.831254430698205])
        let numpy: [Double] = [-0.7167430662893416, -0.3257672733027812, -0.616567158200162, 0.5748726248246245, -0.7765018813719533,
                               -0.25800444463819483, 0.39471615390480125, 0.5393704773814453, -0.743827026919507]
        let vv = try v.scalars
        for j in 0..<3 {
            let sign: Double = vv[j] * numpy[j] < 0 ? -1 : 1
            Self.close((0..<3).map { sign * vv[$0 * 3 + j] }, (0..<3).map { numpy[$0 * 3 + j] })
        }
        Self.close(try b.eigvalsh().scalars, try w.scalars)
        // The lower triangle by default, the upper with `upper`.
        let lower = Tensor<Double>([4, 77, 77, 1, 3, 77, 2, 0.5, 5], shape: [3, 3])
        Self.close(try lower.eigvalsh().scalars, try w.scalars)
        Self.close(try lower.transposed.eigvalsh(upper: true).scalars, try w.scalars)
        // A random symmetric stack: A V = V diag(λ), V orthonormal, λ ascending.
        let x = Tensor<Double>.uniform([3, 7, 7], seed: 47, in: -1...1)
        let sym = x + x.swappingAxes(1, 2)
        let (ws, vs) = try sym.eigh()
        for k in 0..<3 {
            let a = try sym[k].scalars, vk = try vs[k].scalars, wk = try ws[k].scalars
            #expect(wk == wk.sorted())
            Self.orthonormalColumns(vk, m: 7, n: 7)
            var scaled = vk
            for i in 0..<7 { for j in 0..<7 { scaled[i * 7 + j] *= wk[j] } }
            Self.close(Self.product(a, vk, m: 7, k: 7, n: 7), scaled, 1e-11)
        }
    }

    @Test("svd: NumPy's values and vectors (up to sign), U Σ Vᵀ = A full and reduced, tall, wide, rank-deficient, float32")
    func svd() throws {
        let a = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let (u, s, vt) = try a.svd()
        #expect(u.shape == [3, 3] && s.shape == [2] && vt.shape == [2, 2])
        Self.close(try s.scalars, [9.525518091565107, 0.514300580658644])
        Self.close(try a.singularValues().scalars, try s.scalars)
        let numpyU: [Double] = [-0.2298476964000714, 0.8834610176985254, -0.5247448187602937, 0.24078249213254635,
                                -0.8196419411205158, -0.4018960334334318]
        let uv = try u.scalars
        for j in 0..<2 {
            let sign: Double = uv[j] * numpyU[j] < 0 ? -1 : 1
            Self.close((0..<3).map { sign * uv[$0 * 3 + j] }, (0..<3).map { numpyU[$0 * 2 + j] })
        }
        for (m, n) in [(6, 4), (4, 6), (5, 5), (1, 4), (4, 1)] {
            let x = Tensor<Double>.uniform([2, m, n], seed: UInt64(50 + m * 7 + n), in: -1...1)
            for full in [false, true] {
                let (u, s, vt) = try x.svd(fullMatrices: full)
                let k = Swift.min(m, n), uc = full ? m : k, vr = full ? n : k
                #expect(u.shape == [2, m, uc] && s.shape == [2, k] && vt.shape == [2, vr, n])
                for b in 0..<2 {
                    let uv = try u[b].scalars, sv = try s[b].scalars, vv = try vt[b].scalars
                    #expect(sv == sv.sorted(by: >))
                    Self.orthonormalColumns(uv, m: m, n: uc)
                    Self.orthonormalColumns(Self.transpose(vv, m: vr, n: n), m: n, n: vr)
                    var us = [Double](repeating: 0, count: m * k)
                    for i in 0..<m { for j in 0..<k { us[i * k + j] = uv[i * uc + j] * sv[j] } }
                    Self.close(Self.product(us, Array(vv[0..<(k * n)]), m: m, k: k, n: n), try x[b].scalars)
                }
            }
        }
        // Rank one: one singular value, the rest of U and Vᵀ still orthonormal.
        let ones = Tensor<Double>.ones([4, 3])
        let (uo, so, _) = try ones.svd()
        Self.close(try so.scalars, [Double(12).squareRoot(), 0, 0])
        Self.orthonormalColumns(try uo.scalars, m: 4, n: 4)
        Self.close(try Tensor<Double>(try Tensor<Float>(a).singularValues()).scalars, try s.scalars, 1e-6)
        #expect(throws: LinearAlgebraError(message: "SVD did not converge")) {
            try Tensor<Double>([.nan, 0, 0, 1], shape: [2, 2]).svd()
        }
    }

    @Test("pinv and matrixRank: NumPy's pseudo-inverse, the Penrose identities, ranks of full and deficient matrices")
    func pseudoInverseAndRank() throws {
        let a = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let p = try a.pseudoInverse()
        #expect(p.shape == [2, 3])
        Self.close(try p.scalars, [-1.3333333333333337, -0.3333333333333329, 0.6666666666666666, 1.083333333333334, 0.33333333333333304,
                                   -0.4166666666666667])
        let x = Tensor<Double>.uniform([5, 3], seed: 61, in: -1...1).matmul(Tensor<Double>.uniform([3, 6], seed: 62, in: -1...1))
        let xp = try pinv(x)
        Self.close(try x.matmul(xp).matmul(x).scalars, try x.scalars, 1e-10)
        Self.close(try xp.matmul(x).matmul(xp).scalars, try xp.scalars, 1e-10)
        #expect(try x.matrixRank().item() == 3)
        #expect(try Tensor<Double>.eye(4).matrixRank().item() == 4)
        #expect(try Tensor<Double>.ones([3, 3]).matrixRank().item() == 1)
        #expect(try Tensor<Double>.zeros([3, 3]).matrixRank().item() == 0)
        #expect(try Tensor<Double>.stack([Tensor.eye(3), Tensor.ones([3, 3])]).matrixRank().scalars == [3, 1])
    }

    @Test("Tandem's own Cholesky, QR, Jacobi eigenvalues and Jacobi SVD agree with the library's routines")
    func ownRoutinesAgreeWithTheLibrary() throws {
        let lapack = LAPACK.shared
        let values = try Tensor<Double>.uniform([7, 5], seed: 63, in: -1...1).scalars
        let a = Self.transpose(values, m: 7, n: 5)            // column-major 7 x 5
        for complete in [false, true] {
            let own = lapack.qr(a, m: 7, n: 5, complete: complete, library: false)
            let lib = lapack.qr(a, m: 7, n: 5, complete: complete)
            Self.close(own.r, lib.r)
            Self.close(own.q, lib.q)
        }
        var spd = Self.product(Self.transpose(values, m: 7, n: 5), values, m: 5, k: 7, n: 5)
        for i in 0..<5 { spd[i * 5 + i] += 1 }
        var c1 = spd, c2 = spd
        #expect(lapack.cholesky(&c1, n: 5, library: false) && lapack.cholesky(&c2, n: 5))
        for j in 0..<5 { for i in 0...j { #expect(Swift.abs(c1[i + j * 5] - c2[i + j * 5]) <= 1e-12) } }
        let e1 = try #require(lapack.symmetricEigen(spd, n: 5, upper: true, vectors: true, library: false))
        let e2 = try #require(lapack.symmetricEigen(spd, n: 5, upper: true, vectors: true))
        Self.close(e1.values, e2.values)
        for j in 0..<5 {
            let dot = (0..<5).reduce(0.0) { $0 + e1.vectors[$1 + j * 5] * e2.vectors[$1 + j * 5] }
            #expect(Swift.abs(Swift.abs(dot) - 1) <= 1e-10, "eigenvector \(j) differs beyond its sign")
        }
        for (m, n) in [(7, 5), (5, 7)] {
            let cm = m == 7 ? a : values                         // column-major m x n either way
            for vectors in [LAPACK.SingularVectors.none, .reduced, .full] {
                let s1 = try #require(lapack.svd(cm, m: m, n: n, vectors: vectors, library: false))
                let s2 = try #require(lapack.svd(cm, m: m, n: n, vectors: vectors))
                Self.close(s1.s, s2.s)
                #expect(s1.u.count == s2.u.count && s1.vt.count == s2.vt.count)
            }
        }
    }
}
