#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// LU factorisation with partial pivoting and the solves that use it, for `solve`, `inverse`
/// and `determinant`: LAPACK's `dgetrf`/`dgetrs` from the system's library, loaded with
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
    private let functions: (getrf: Getrf, getrs: Getrs)?

    /// The libraries tried, in order.
    public static func candidates() -> [String] {
        if let explicit = ProcessInfoLite.environment("TANDEM_LAPACK"), !explicit.isEmpty { return [explicit] }
        return ["libopenblas.so.0", "libopenblas.so", "liblapack.so.3", "libmkl_rt.so"]
    }

    private init() {
        if ProcessInfoLite.environment("TANDEM_LAPACK") == "off" {
            (availability, functions) = (.unavailable("disabled by TANDEM_LAPACK=off; Tandem's own LU runs"), nil)
            return
        }
        // OpenBLAS chooses its kernels when loaded: the same core type as the BLAS (see `BLAS`).
        _ = BLAS.shared.isAvailable
        let found = DynamicLibrary.first(of: LAPACK.candidates(), needing: "dgetrf_/dgetrs_") { lib -> (Getrf, Getrs)? in
            guard let getrf = lib.optionalSymbol("dgetrf_", as: Getrf.self), let getrs = lib.optionalSymbol("dgetrs_", as: Getrs.self) else { return nil }
            return (getrf, getrs)
        }
        switch found {
        case .success(let (lib, f)): (availability, functions) = (.available(lib.path), f)
        case .failure(let why): (availability, functions) = (.unavailable("\(why); Tandem's own LU runs"), nil)
        }
    }

    public var isAvailable: Bool { functions != nil }

    /// Factors the n x n column-major `a` in place into L (unit lower, below the diagonal) and
    /// U, with row `i` swapped with row `pivots[i] - 1` at step `i` (LAPACK's 1-based pivots).
    /// `singular` when a pivot is exactly zero (U is then singular; the factors are complete).
    /// `library` false uses Tandem's own elimination even when LAPACK is loaded.
    public func factor(_ a: inout [Double], n: Int, library: Bool = true) -> (pivots: [Int32], singular: Bool) {
        precondition(a.count == n * n, "internal: factor of \(a.count) elements as \(n) x \(n)")
        var pivots = [Int32](repeating: 0, count: n)
        guard n > 0 else { return (pivots, false) }
        if library, let f = functions, n <= Int(Int32.max) {
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
}
