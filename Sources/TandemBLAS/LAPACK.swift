#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// LU factorisation with partial pivoting and the solves that use it, for `solve`, `inverse`
/// and `determinant`, and least squares (`leastSquares`, for `lstsq` and `polyfit`; `dgelsd`
/// when the library has it, else Tandem's own SVD): LAPACK's `dgetrf`/`dgetrs` from the system's library, loaded with
/// `dlopen` at first use (OpenBLAS, which carries LAPACK, then `liblapack.so.3`, then MKL;
/// `TANDEM_LAPACK` names a file, or `off`), or, without one, the same algorithm written here
/// (unblocked right-looking elimination, the pivot the first largest magnitude of its column,
/// as `dgetf2` chooses it) — said by `availability`, which `tandem devices` prints. Matrices
/// are column-major, as LAPACK's, in Double.
///
///     if case .available(let lib) = LAPACK.shared.availability { print("LAPACK:", lib) }
public final class LAPACK: Sendable {
    public static let shared = LAPACK()

    public let availability: BLAS.Availability

    typealias Getrf = @convention(c) (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void
    /// With gfortran's hidden length of the character argument last (ignored by OpenBLAS's C).
    typealias Getrs = @convention(c) (UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Double>,
                                      UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>, Int) -> Void
    /// `dgelsd`: least squares by a divide-and-conquer SVD (what numpy.linalg.lstsq calls).
    typealias Gelsd = @convention(c) (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                      UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                      UnsafePointer<Double>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                      UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void
    private let functions: (getrf: Getrf, getrs: Getrs)?
    /// Absent from a LAPACK too old or cut down: least squares then use Tandem's own SVD.
    private let gelsd: Gelsd?
    /// Cholesky, QR, symmetric eigenvalues and the SVD (`LAPACK+Decompositions.swift`), each
    /// nil where the library lacks it (Tandem's own routine runs instead).
    let decompositions: Decompositions

    /// The libraries tried, in order.
    public static func candidates() -> [String] {
        if let explicit = ProcessInfoLite.environment("TANDEM_LAPACK"), !explicit.isEmpty { return [explicit] }
        return ["libopenblas.so.0", "libopenblas.so", "liblapack.so.3", "libmkl_rt.so"]
    }

    private init() {
        if ProcessInfoLite.environment("TANDEM_LAPACK") == "off" {
            (availability, functions, gelsd) = (.unavailable("disabled by TANDEM_LAPACK=off; Tandem's own LU and SVD run"), nil, nil)
            decompositions = Decompositions()
            return
        }
        // OpenBLAS chooses its kernels when loaded: the same core type as the BLAS (see `BLAS`).
        _ = BLAS.shared.isAvailable
        let found = DynamicLibrary.first(of: LAPACK.candidates(), needing: "dgetrf_/dgetrs_") { lib -> (Getrf, Getrs, Gelsd?, Decompositions)? in
            guard let getrf = lib.optionalSymbol("dgetrf_", as: Getrf.self), let getrs = lib.optionalSymbol("dgetrs_", as: Getrs.self) else { return nil }
            return (getrf, getrs, lib.optionalSymbol("dgelsd_", as: Gelsd.self), Decompositions(lib))
        }
        switch found {
        case .success(let (lib, f)):
            (availability, functions, gelsd) = (.available(lib.path), (f.0, f.1), f.2)
            decompositions = f.3
        case .failure(let why):
            (availability, functions, gelsd) = (.unavailable("\(why); Tandem's own LU and SVD run"), nil, nil)
            decompositions = Decompositions()
        }
    }

    public var isAvailable: Bool { functions != nil }

    /// Whether least squares use the library's `dgelsd` (else Tandem's own SVD).
    public var hasLeastSquares: Bool { gelsd != nil }

    /// Factors the n x n column-major `a` in place into L (unit lower, below the diagonal) and
    /// U, with row `i` swapped with row `pivots[i] - 1` at step `i` (LAPACK's 1-based pivots).
    /// `singular` when a pivot is exactly zero (U is then singular; the factors are complete).
    /// `library` false uses Tandem's own elimination even when LAPACK is loaded.
    public func factor(_ a: inout [Double], n: Int, library: Bool = true) -> (pivots: [Int32], singular: Bool) {
        precondition(a.count == n * n, "internal: factor of \(a.count) elements as \(n) x \(n)")
        var pivots = [Int32](repeating: 0, count: n)
        guard n > 0 else { return (pivots, false) }
        if library, let f = functions, n <= Int(Int32.max) {
            BLAS.shared.chooseThreads(work: n * n * n * 2 / 3)
            var m32 = Int32(n), info: Int32 = 0
            a.withUnsafeMutableBufferPointer { p in pivots.withUnsafeMutableBufferPointer { q in f.getrf(&m32, &m32, p.baseAddress!, &m32, q.baseAddress!, &info) } }
            return (pivots, info > 0)
        }
        var singular = false
        a.withUnsafeMutableBufferPointer { a in
            for k in 0..<n {
                // The first largest magnitude of column k at or below the diagonal.
                var p = k, best = Swift.abs(a[k * n + k])
                for i in (k + 1)..<n where Swift.abs(a[k * n + i]) > best { p = i; best = Swift.abs(a[k * n + i]) }
                pivots[k] = Int32(p + 1)
                if a[k * n + p] == 0 { singular = true; continue }
                if p != k { for j in 0..<n { a.swapAt(j * n + k, j * n + p) } }
                let d = a[k * n + k]
                for i in (k + 1)..<n { a[k * n + i] /= d }
                for j in (k + 1)..<n {
                    let u = a[j * n + k]
                    if u == 0 { continue }
                    for i in (k + 1)..<n { a[j * n + i] -= a[k * n + i] * u }
                }
            }
        }
        return (pivots, singular)
    }

    /// Solves A X = B (or Aᵀ X = B when `transposed`) for the k columns of the column-major
    /// n x k `b`, in place, from `factor`'s result for A (which must not be singular).
    public func solve(_ lu: [Double], pivots: [Int32], n: Int, transposed: Bool, _ b: inout [Double], k: Int, library: Bool = true) {
        precondition(lu.count == n * n && b.count == n * k && pivots.count == n, "internal: solve with mismatched sizes")
        guard n > 0, k > 0 else { return }
        if library, let f = functions, n <= Int(Int32.max), k <= Int(Int32.max) {
            var n32 = Int32(n), k32 = Int32(k), info: Int32 = 0
            let trans: CChar = transposed ? 84 : 78          // "T" or "N"
            withUnsafePointer(to: trans) { t in
                lu.withUnsafeBufferPointer { a in
                    pivots.withUnsafeBufferPointer { q in
                        b.withUnsafeMutableBufferPointer { x in f.getrs(t, &n32, &k32, a.baseAddress!, &n32, q.baseAddress!, x.baseAddress!, &n32, &info, 1) }
                    }
                }
            }
            return
        }
        lu.withUnsafeBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in
                for c in 0..<k {
                    let x = c * n
                    if !transposed {
                        // P B, then L y = P b (unit diagonal), then U x = y.
                        for i in 0..<n { let p = Int(pivots[i]) - 1; if p != i { b.swapAt(x + i, x + p) } }
                        for j in 0..<n { let v = b[x + j]; if v != 0 { for i in (j + 1)..<n { b[x + i] -= a[j * n + i] * v } } }
                        for j in stride(from: n - 1, through: 0, by: -1) {
                            b[x + j] /= a[j * n + j]
                            let v = b[x + j]
                            if v != 0 { for i in 0..<j { b[x + i] -= a[j * n + i] * v } }
                        }
                    } else {
                        // Aᵀ = Uᵀ Lᵀ P: Uᵀ z = b, Lᵀ y = z, then the swaps undone in reverse.
                        for j in 0..<n {
                            var v = b[x + j]
                            for i in 0..<j { v -= a[j * n + i] * b[x + i] }
                            b[x + j] = v / a[j * n + j]
                        }
                        for j in stride(from: n - 1, through: 0, by: -1) {
                            var v = b[x + j]
                            for i in (j + 1)..<n { v -= a[j * n + i] * b[x + i] }
                            b[x + j] = v
                        }
                        for i in stride(from: n - 1, through: 0, by: -1) { let p = Int(pivots[i]) - 1; if p != i { b.swapAt(x + i, x + p) } }
                    }
                }
            }
        }
    }

    /// The least-squares solutions of A X ≈ B with the smallest norm (`numpy.linalg.lstsq`):
    /// `a` is m x n and `b` m x k, both column-major; singular values at most `rcond` times
    /// the largest count as zero. Returns X (n x k, column-major), the effective rank and the
    /// singular values, largest first. LAPACK's `dgelsd` when loaded (`library` true), else
    /// Tandem's own one-sided Jacobi SVD (Hestenes: column pairs rotated until orthogonal to
    /// working precision), slower on large matrices, the same answers to rounding.
    public func leastSquares(_ a: [Double], m: Int, n: Int, _ b: [Double], k: Int, rcond: Double,
                             library: Bool = true) -> (x: [Double], rank: Int, singularValues: [Double]) {
        precondition(a.count == m * n && b.count == m * k, "internal: least squares with mismatched sizes")
        // Nothing to solve (dgelsd would be given one right-hand side in an empty array).
        if m == 0 || n == 0 || k == 0 { return ([Double](repeating: 0, count: n * k), 0, []) }
        if library, let gelsd, m <= Int(Int32.max) / 2, n <= Int(Int32.max) / 2, k <= Int(Int32.max) {
            BLAS.shared.chooseThreads(work: 4 * m * n * Swift.min(m, n))
            let rows = Swift.max(m, n)
            var a = a, bb = [Double](repeating: 0, count: rows * k)
            for c in 0..<k { for i in 0..<m { bb[c * rows + i] = b[c * m + i] } }
            var m32 = Int32(m), n32 = Int32(n), k32 = Int32(k), lda = Int32(m), ldb = Int32(rows)
            var s = [Double](repeating: 0, count: Swift.min(m, n)), rank: Int32 = 0, info: Int32 = 0, rc = rcond
            var query = 0.0, lwork: Int32 = -1, iquery: Int32 = 0
            gelsd(&m32, &n32, &k32, &a, &lda, &bb, &ldb, &s, &rc, &rank, &query, &lwork, &iquery, &info)
            if info == 0 {
                var work = [Double](repeating: 0, count: Swift.max(1, Int(query))), iwork = [Int32](repeating: 0, count: Swift.max(1, Int(iquery)))
                lwork = Int32(work.count)
                gelsd(&m32, &n32, &k32, &a, &lda, &bb, &ldb, &s, &rc, &rank, &work, &lwork, &iwork, &info)
                if info == 0 {
                    var x = [Double](repeating: 0, count: n * k)
                    for c in 0..<k { for i in 0..<n { x[c * n + i] = bb[c * rows + i] } }
                    return (x, Int(rank), s)
                }
            }
            // The SVD did not converge (info > 0): the Jacobi SVD below.
        }
        // One-sided Jacobi: U = A V with V orthogonal, rotated until U's columns are orthogonal;
        // then σⱼ = |uⱼ| and X = Σ over σⱼ above the cutoff of vⱼ (uⱼ · B) / σⱼ².
        let (u, v, sigma, _) = LAPACK.oneSidedJacobi(a, m: m, n: n)
        let cutoff = rcond * (sigma.max() ?? 0)
        var x = [Double](repeating: 0, count: n * k)
        var rank = 0
        for j in 0..<n where sigma[j] > cutoff && sigma[j] > 0 {
            rank += 1
            for c in 0..<k {
                var dot = 0.0
                for i in 0..<m { dot += u[j * m + i] * b[c * m + i] }
                let w = dot / (sigma[j] * sigma[j])
                for i in 0..<n { x[c * n + i] += v[j * n + i] * w }
            }
        }
        return (x, rank, Array(sigma.sorted(by: >).prefix(Swift.min(m, n))))
    }
}
