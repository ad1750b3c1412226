#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

// Cholesky, QR, symmetric eigenvalue and singular value decompositions (numpy.linalg's
// `cholesky`, `qr`, `eigh`/`eigvalsh`, `svd`): LAPACK's `dpotrf`, `dgeqrf` + `dorgqr`, `dsyevd`
// and `dgesdd` (the routines NumPy calls) from the library `LAPACK` loaded, or, where it lacks
// one or none is loaded, Tandem's own: unblocked Cholesky (`dpotf2`'s order), Householder QR
// with `dlarfg`'s reflectors (so R's signs are LAPACK's), cyclic Jacobi for symmetric
// eigenvalues and one-sided Jacobi for singular values (accurate to working precision; slower
// than LAPACK on large matrices). Matrices are column-major, in Double, as LAPACK's.

extension LAPACK {
    typealias Potrf = @convention(c) (UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>, Int) -> Void
    typealias Geqrf = @convention(c) (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void
    typealias Orgqr = @convention(c) (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                      UnsafePointer<Int32>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>) -> Void
    typealias Syevd = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                      UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>, Int, Int) -> Void
    typealias Gesdd = @convention(c) (UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                      UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, Int) -> Void

    /// The decomposition routines of the loaded library (nil where it lacks one).
    struct Decompositions: @unchecked Sendable {
        var potrf: Potrf?
        var qr: (geqrf: Geqrf, orgqr: Orgqr)?
        var syevd: Syevd?
        var gesdd: Gesdd?
        var geev: Geev?

        init() {}

        init(_ lib: DynamicLibrary) {
            potrf = lib.optionalSymbol("dpotrf_", as: Potrf.self)
            if let f = lib.optionalSymbol("dgeqrf_", as: Geqrf.self), let g = lib.optionalSymbol("dorgqr_", as: Orgqr.self) { qr = (f, g) }
            syevd = lib.optionalSymbol("dsyevd_", as: Syevd.self)
            gesdd = lib.optionalSymbol("dgesdd_", as: Gesdd.self)
            geev = lib.optionalSymbol("dgeev_", as: Geev.self)
        }
    }

    /// Which of the decompositions the loaded library provides (for `tandem devices`).
    public var decompositionRoutines: [String] {
        var names: [String] = []
        if decompositions.potrf != nil { names.append("dpotrf") }
        if decompositions.qr != nil { names.append("dgeqrf/dorgqr") }
        if decompositions.syevd != nil { names.append("dsyevd") }
        if decompositions.gesdd != nil { names.append("dgesdd") }
        if decompositions.geev != nil { names.append("dgeev") }
        return names
    }

    static func fits(_ sizes: Int...) -> Bool { sizes.allSatisfy { $0 <= Int(Int32.max) / 2 } }

    // MARK: - Cholesky

    /// Factors the n x n column-major `a` in place as Uᵀ U, reading its upper triangle and
    /// leaving U there (the strictly lower part is not touched). False when `a` is not positive
    /// definite (a pivot not above zero; a NaN pivot runs on into NaN factors, as LAPACK's
    /// does). `library` false uses Tandem's own loop.
    public func cholesky(_ a: inout [Double], n: Int, library: Bool = true) -> Bool {
        precondition(a.count == n * n, "internal: cholesky of \(a.count) elements as \(n) x \(n)")
        guard n > 0 else { return true }
        if library, let potrf = decompositions.potrf, LAPACK.fits(n) {
            BLAS.shared.chooseThreads(work: n * n * n / 3)
            var n32 = Int32(n), info: Int32 = 0
            let uplo: CChar = 85          // "U"
            withUnsafePointer(to: uplo) { u in a.withUnsafeMutableBufferPointer { p in potrf(u, &n32, p.baseAddress!, &n32, &info, 1) } }
            return info == 0
        }
        return a.withUnsafeMutableBufferPointer { a in
            for j in 0..<n {
                var d = a[j + j * n]
                for k in 0..<j { d -= a[k + j * n] * a[k + j * n] }
                guard d > 0 || d.isNaN else { return false }   // NaN runs on, as in LAPACK
                d = d.squareRoot()
                a[j + j * n] = d
                for i in (j + 1)..<n {
                    var v = a[j + i * n]
                    for k in 0..<j { v -= a[k + j * n] * a[k + i * n] }
                    a[j + i * n] = v / d
                }
            }
            return true
        }
    }

    // MARK: - QR

    /// The QR decomposition of the m x n column-major `a`: Q (m x `columns`, orthonormal
    /// columns) and R (`columns` x n, upper trapezoidal), both column-major, where `columns` is
    /// min(m, n) (reduced) or m (`complete`). `library` false uses Tandem's own Householder QR.
    public func qr(_ a: [Double], m: Int, n: Int, complete: Bool, library: Bool = true) -> (q: [Double], r: [Double]) {
        precondition(a.count == m * n, "internal: qr of \(a.count) elements as \(m) x \(n)")
        let k = Swift.min(m, n), columns = complete ? m : k
        var h = a, tau = [Double](repeating: 0, count: k)
        if k > 0, library, let f = decompositions.qr, LAPACK.fits(m, n) {
            BLAS.shared.chooseThreads(work: 2 * m * n * k)
            var m32 = Int32(m), n32 = Int32(n), info: Int32 = 0, query = 0.0, lwork: Int32 = -1
            f.geqrf(&m32, &n32, &h, &m32, &tau, &query, &lwork, &info)
            var work = [Double](repeating: 0, count: Swift.max(1, Int(query), n))
            lwork = Int32(work.count)
            f.geqrf(&m32, &n32, &h, &m32, &tau, &work, &lwork, &info)
            precondition(info == 0, "internal: dgeqrf info \(info)")
        } else {
            LAPACK.householder(&h, m: m, n: n, tau: &tau)
        }
        // R: the upper trapezoid of the factored matrix (rows past min(m, n) zero).
        var r = [Double](repeating: 0, count: columns * n)
        for j in 0..<n { for i in 0..<Swift.min(j + 1, k) { r[i + j * columns] = h[i + j * m] } }
        // Q: the reflectors applied to the first `columns` columns of the identity.
        var q = [Double](repeating: 0, count: m * columns)
        for j in 0..<Swift.min(n, columns) { for i in 0..<m { q[i + j * m] = h[i + j * m] } }
        if k > 0, library, let f = decompositions.qr, LAPACK.fits(m, columns) {
            var m32 = Int32(m), c32 = Int32(columns), k32 = Int32(k), info: Int32 = 0, query = 0.0, lwork: Int32 = -1
            f.orgqr(&m32, &c32, &k32, &q, &m32, tau, &query, &lwork, &info)
            var work = [Double](repeating: 0, count: Swift.max(1, Int(query), columns))
            lwork = Int32(work.count)
            f.orgqr(&m32, &c32, &k32, &q, &m32, tau, &work, &lwork, &info)
            precondition(info == 0, "internal: dorgqr info \(info)")
            return (q, r)
        }
        // Q = H₀ H₁ … H_{k-1} I, applied from the last reflector (each vector's 1 implicit).
        var v = [Double](repeating: 0, count: m * k)
        for j in 0..<k { for i in (j + 1)..<m { v[i + j * m] = h[i + j * m] } }
        q = [Double](repeating: 0, count: m * columns)
        for j in 0..<columns { q[j + j * m] = 1 }
        for j in stride(from: k - 1, through: 0, by: -1) where tau[j] != 0 {
            for c in 0..<columns {
                var w = q[j + c * m]
                for i in (j + 1)..<m { w += v[i + j * m] * q[i + c * m] }
                w *= tau[j]
                q[j + c * m] -= w
                for i in (j + 1)..<m { q[i + c * m] -= w * v[i + j * m] }
            }
        }
        return (q, r)
    }

    /// Householder QR in place, as LAPACK's `dgeqr2`: R on and above the diagonal, each
    /// reflector's vector below it (its leading 1 implicit), the scalars in `tau`. The
    /// reflector of a column x is `dlarfg`'s: β = -sign(x₀)‖x‖, so R's diagonal has LAPACK's signs.
    static func householder(_ a: inout [Double], m: Int, n: Int, tau: inout [Double]) {
        for j in 0..<Swift.min(m, n) {
            let alpha = a[j + j * m]
            var xnorm = 0.0
            for i in (j + 1)..<m { xnorm = xnorm.hypot(a[i + j * m]) }
            if xnorm == 0 { tau[j] = 0; continue }
            let beta = -Double(signOf: alpha, magnitudeOf: alpha.hypot(xnorm))
            tau[j] = (beta - alpha) / beta
            let scale = 1 / (alpha - beta)
            for i in (j + 1)..<m { a[i + j * m] *= scale }
            a[j + j * m] = beta
            for c in (j + 1)..<n {
                var w = a[j + c * m]
                for i in (j + 1)..<m { w += a[i + j * m] * a[i + c * m] }
                w *= tau[j]
                a[j + c * m] -= w
                for i in (j + 1)..<m { a[i + c * m] -= w * a[i + j * m] }
            }
        }
    }

    // MARK: - Symmetric eigenvalues

    /// The eigenvalues of the n x n symmetric column-major `a`, ascending, reading its upper
    /// triangle (`upper`) or its lower one; with `vectors`, also the eigenvectors as the columns
    /// of an n x n column-major matrix (the j-th for the j-th value). Nil when the iteration
    /// did not converge. `library` false uses Tandem's own cyclic Jacobi.
    public func symmetricEigen(_ a: [Double], n: Int, upper: Bool, vectors: Bool,
                               library: Bool = true) -> (values: [Double], vectors: [Double])? {
        precondition(a.count == n * n, "internal: eigen of \(a.count) elements as \(n) x \(n)")
        guard n > 0 else { return ([], []) }
        if library, let syevd = decompositions.syevd, LAPACK.fits(n * n) {
            BLAS.shared.chooseThreads(work: 4 * n * n * n)
            var w = [Double](repeating: 0, count: n), h = a
            var n32 = Int32(n), info: Int32 = 0, query = 0.0, lwork: Int32 = -1, iquery: Int32 = 0, liwork: Int32 = -1
            let jobz: CChar = vectors ? 86 : 78, uplo: CChar = upper ? 85 : 76       // "V"/"N", "U"/"L"
            withUnsafePointer(to: jobz) { j in withUnsafePointer(to: uplo) { u in
                syevd(j, u, &n32, &h, &n32, &w, &query, &lwork, &iquery, &liwork, &info, 1, 1)
                var work = [Double](repeating: 0, count: Swift.max(1, Int(query)))
                var iwork = [Int32](repeating: 0, count: Swift.max(1, Int(iquery)))
                lwork = Int32(work.count); liwork = Int32(iwork.count)
                syevd(j, u, &n32, &h, &n32, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
            } }
            if info < 0 { preconditionFailure("internal: dsyevd info \(info)") }
            return info == 0 ? (w, vectors ? h : []) : nil
        }
        // Cyclic Jacobi: rotations Pᵀ A P that zero one off-diagonal element each, swept over
        // every pair until none is significant; V accumulates the rotations.
        var s = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in 0..<n {
                let (r, c) = (i <= j) == upper ? (i, j) : (j, i)        // read the stored triangle
                s[i + j * n] = a[r + c * n]
            }
        }
        var v = [Double](repeating: 0, count: vectors ? n * n : 0)
        if vectors { for j in 0..<n { v[j + j * n] = 1 } }
        var converged = false
        for _ in 0..<100 {
            var rotated = false
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = s[p + q * n]
                    let app = s[p + p * n], aqq = s[q + q * n]
                    if apq == 0 || Swift.abs(apq) <= 1e-18 * (Swift.abs(app) * Swift.abs(aqq)).squareRoot() { continue }
                    rotated = true
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                    LAPACK.rotate(&s, p * n, q * n, step: 1, count: n, c, sn)        // columns p, q
                    LAPACK.rotate(&s, p, q, step: n, count: n, c, sn)                // rows p, q
                    s[p + q * n] = 0; s[q + p * n] = 0
                    if vectors { LAPACK.rotate(&v, p * n, q * n, step: 1, count: n, c, sn) }
                }
            }
            if !rotated { converged = true; break }
        }
        guard converged else { return nil }
        let order = (0..<n).sorted { s[$0 + $0 * n] < s[$1 + $1 * n] || (s[$0 + $0 * n] == s[$1 + $1 * n] && $0 < $1) }
        let values = order.map { s[$0 + $0 * n] }
        guard vectors else { return (values, []) }
        var out = [Double](repeating: 0, count: n * n)
        for (j, o) in order.enumerated() { for i in 0..<n { out[i + j * n] = v[i + o * n] } }
        return (values, out)
    }

    // MARK: - Singular values

    /// Which singular vectors `svd` computes.
    public enum SingularVectors: Sendable {
        /// None: the values alone.
        case none
        /// min(m, n) of each side.
        case reduced
        /// All m left and n right ones.
        case full
    }

    /// The singular value decomposition A = U Σ Vᵀ of the m x n column-major `a`: the singular
    /// values (min(m, n), largest first), U (m x m or m x min(m, n)) and Vᵀ (n x n or
    /// min(m, n) x n), both column-major (empty for `.none`). Nil when the iteration did not
    /// converge (or `a` holds NaN or infinity). `library` false uses Tandem's own one-sided Jacobi.
    public func svd(_ a: [Double], m: Int, n: Int, vectors: SingularVectors,
                    library: Bool = true) -> (u: [Double], s: [Double], vt: [Double])? {
        precondition(a.count == m * n, "internal: svd of \(a.count) elements as \(m) x \(n)")
        guard a.allSatisfy({ $0.isFinite }) else { return nil }
        let k = Swift.min(m, n)
        let uColumns = vectors == .full ? m : (vectors == .reduced ? k : 0)
        let vtRows = vectors == .full ? n : (vectors == .reduced ? k : 0)
        if k == 0 {
            // Nothing to decompose: the identity where a full basis is asked for.
            var u = [Double](repeating: 0, count: m * uColumns), vt = [Double](repeating: 0, count: vtRows * n)
            for j in 0..<uColumns where j < m { u[j + j * m] = 1 }
            for j in 0..<vtRows where j < n { vt[j + j * vtRows] = 1 }
            return (u, [], vt)
        }
        if library, let gesdd = decompositions.gesdd, LAPACK.fits(m * n, m * m, n * n) {
            BLAS.shared.chooseThreads(work: 4 * m * n * k)
            var h = a, s = [Double](repeating: 0, count: k)
            var u = [Double](repeating: 0, count: Swift.max(1, m * uColumns)), vt = [Double](repeating: 0, count: Swift.max(1, vtRows * n))
            var m32 = Int32(m), n32 = Int32(n), ldu = Int32(m), ldvt = Int32(Swift.max(1, vtRows)), info: Int32 = 0
            var query = 0.0, lwork: Int32 = -1
            var iwork = [Int32](repeating: 0, count: 8 * k)
            let jobz: CChar = vectors == .full ? 65 : (vectors == .reduced ? 83 : 78)      // "A", "S", "N"
            withUnsafePointer(to: jobz) { j in
                gesdd(j, &m32, &n32, &h, &m32, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info, 1)
                var work = [Double](repeating: 0, count: Swift.max(1, Int(query)))
                lwork = Int32(work.count)
                gesdd(j, &m32, &n32, &h, &m32, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info, 1)
            }
            if info < 0 { preconditionFailure("internal: dgesdd info \(info)") }
            guard info == 0 else { return nil }
            return (vectors == .none ? [] : u, s, vectors == .none ? [] : vt)
        }
        // One-sided Jacobi on the taller of A and Aᵀ: B (rows ≥ cols) = W Σ Yᵀ.
        let tall = m >= n
        let rows = tall ? m : n, cols = tall ? n : m
        var b = [Double](repeating: 0, count: rows * cols)
        if tall { b = a } else { for j in 0..<n { for i in 0..<m { b[j + i * n] = a[i + j * m] } } }
        let (w, y, sigma, converged) = LAPACK.oneSidedJacobi(b, m: rows, n: cols)
        guard converged else { return nil }
        let order = (0..<cols).sorted { sigma[$0] > sigma[$1] || (sigma[$0] == sigma[$1] && $0 < $1) }
        let s = order.map { sigma[$0] }
        guard vectors != .none else { return ([], s, []) }
        // W's columns normalised (those of zero σ completed to an orthonormal set), and Y.
        let wColumns = vectors == .full ? rows : cols
        var wn = [Double](repeating: 0, count: rows * wColumns)
        var kept = 0
        for (j, o) in order.enumerated() where sigma[o] > 0 {
            for i in 0..<rows { wn[i + j * rows] = w[i + o * rows] / sigma[o] }
            kept = j + 1
        }
        LAPACK.completeOrthonormal(&wn, m: rows, from: kept, to: wColumns)
        var yo = [Double](repeating: 0, count: cols * cols)
        for (j, o) in order.enumerated() { for i in 0..<cols { yo[i + j * cols] = y[i + o * cols] } }
        // A = W Σ Yᵀ (tall) or A = Y Σ Wᵀ: U and Vᵀ column-major.
        if tall {
            var vt = [Double](repeating: 0, count: cols * cols)
            for j in 0..<cols { for i in 0..<cols { vt[j + i * cols] = yo[i + j * cols] } }
            return (wn, s, vt)
        }
        var vt = [Double](repeating: 0, count: wColumns * rows)
        for j in 0..<wColumns { for i in 0..<rows { vt[j + i * wColumns] = wn[i + j * rows] } }
        return (yo, s, vt)
    }

    /// One-sided Jacobi (Hestenes) on the m x n column-major `a` (m ≥ n): W = A Y with Y
    /// orthogonal (n x n), rotated until W's columns are orthogonal to working precision (or
    /// 80 sweeps: `converged` says which), and the norms of W's columns (the singular values,
    /// in W's order).
    static func oneSidedJacobi(_ a: [Double], m: Int, n: Int) -> (w: [Double], y: [Double], sigma: [Double], converged: Bool) {
        var u = a
        var v = [Double](repeating: 0, count: n * n)
        for j in 0..<n { v[j * n + j] = 1 }
        var converged = false
        for _ in 0..<80 {
            var rotated = false
            for p in 0..<Swift.max(0, n - 1) {
                for q in (p + 1)..<n {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<m {
                        let x = u[p * m + i], y = u[q * m + i]
                        alpha += x * x; beta += y * y; gamma += x * y
                    }
                    if gamma == 0 || Swift.abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (Swift.abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), sn = c * t
                    LAPACK.rotate(&u, p * m, q * m, step: 1, count: m, c, sn)
                    LAPACK.rotate(&v, p * n, q * n, step: 1, count: n, c, sn)
                }
            }
            if !rotated { converged = true; break }
        }
        let sigma = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + u[j * m + $1] * u[j * m + $1] }.squareRoot() }
        return (u, v, sigma, converged)
    }

    /// A plane rotation of two runs of `a` (`count` elements `step` apart, from `first` and
    /// from `second`): x, y -> c x - s y, s x + c y, as the Jacobi iterations rotate columns
    /// and rows.
    @inline(__always) static func rotate(_ a: inout [Double], _ first: Int, _ second: Int, step: Int, count: Int, _ c: Double, _ s: Double) {
        for k in 0..<count {
            let x = a[first + k * step], y = a[second + k * step]
            a[first + k * step] = c * x - s * y
            a[second + k * step] = s * x + c * y
        }
    }

    /// Fills columns `from..<to` of the m-row column-major `q` (whose first `from` columns are
    /// orthonormal) with unit vectors orthogonal to every column before, from the coordinate
    /// axes by Gram–Schmidt twice.
    static func completeOrthonormal(_ q: inout [Double], m: Int, from: Int, to: Int) {
        var filled = from, axis = 0
        while filled < to && axis < m {
            var x = [Double](repeating: 0, count: m)
            x[axis] = 1
            axis += 1
            for _ in 0..<2 {
                for j in 0..<filled {
                    var d = 0.0
                    for i in 0..<m { d += q[i + j * m] * x[i] }
                    for i in 0..<m { x[i] -= d * q[i + j * m] }
                }
            }
            let norm = x.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            if norm < 0.5 { continue }          // (nearly) in the span already
            for i in 0..<m { q[i + filled * m] = x[i] / norm }
            filled += 1
        }
    }
}

private extension Double {
    /// √(self² + other²) without overflow.
    func hypot(_ other: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.hypot(self, other)
        #else
        return (self * self + other * other).squareRoot()
        #endif
    }
}
