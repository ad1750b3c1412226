#if canImport(Glibc)
import Glibc
#endif

// Eigenvalues and right eigenvectors of a general (non-symmetric) real matrix (numpy.linalg's
// `eig`/`eigvals`): LAPACK's `dgeev` (what NumPy calls) from the library loaded, or, where it
// lacks it or none is loaded, Tandem's own: reduction to Hessenberg form by stabilised
// elimination, the Francis double-shift QR iteration for the eigenvalues (EISPACK's `elmhes`
// and `hqr`), and each eigenvector by inverse iteration on the matrix itself in complex
// arithmetic. The trade-off of the fallback: its eigenvalues come in the order the iteration
// finds them (not `dgeev`'s), and it is slower on large matrices; its vectors are normalised
// as `dgeev`'s (unit length, the largest component real), and vectors for a repeated
// eigenvalue are made orthogonal to each other (independent where the matrix has independent
// ones), a real vector's largest component is positive and a conjugate pair's vectors are each
// other's conjugates. Matrices are column-major, in Double.

extension LAPACK {
    typealias Geev = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                     UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
                                     UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
                                     UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>, Int, Int) -> Void

    /// The eigenvalues of a general real matrix (real and imaginary parts; a complex pair as
    /// two consecutive values, the one with the positive imaginary part first) and, with
    /// `vectors`, its right eigenvectors as the columns of two n x n column-major matrices (real
    /// and imaginary parts; the j-th for the j-th value), each of unit length with its largest
    /// component real.
    public struct GeneralEigen: Sendable {
        public var re: [Double]
        public var im: [Double]
        public var vectorsRe: [Double]
        public var vectorsIm: [Double]
    }

    /// The eigen decomposition of the n x n column-major `a` (`GeneralEigen`). Nil when the
    /// iteration did not converge or `a` holds NaN or infinity. `library` false uses Tandem's
    /// own (see the top of this file).
    public func generalEigen(_ a: [Double], n: Int, vectors: Bool, library: Bool = true) -> GeneralEigen? {
        precondition(a.count == n * n, "internal: eig of \(a.count) elements as \(n) x \(n)")
        guard n > 0 else { return GeneralEigen(re: [], im: [], vectorsRe: [], vectorsIm: []) }
        guard a.allSatisfy(\.isFinite) else { return nil }
        if library, let geev = decompositions.geev, LAPACK.fits(n * n) {
            BLAS.shared.chooseThreads(work: 10 * n * n * n)
            var h = a, wr = [Double](repeating: 0, count: n), wi = [Double](repeating: 0, count: n)
            var vr = [Double](repeating: 0, count: vectors ? n * n : 1), vl = [Double](repeating: 0, count: 1)
            var n32 = Int32(n), one: Int32 = 1, ldvr = Int32(vectors ? n : 1), info: Int32 = 0, query = 0.0, lwork: Int32 = -1
            let jobvl: CChar = 78, jobvr: CChar = vectors ? 86 : 78           // "N", "V"/"N"
            withUnsafePointer(to: jobvl) { l in withUnsafePointer(to: jobvr) { r in
                geev(l, r, &n32, &h, &n32, &wr, &wi, &vl, &one, &vr, &ldvr, &query, &lwork, &info, 1, 1)
                var work = [Double](repeating: 0, count: Swift.max(1, Int(query)))
                lwork = Int32(work.count)
                geev(l, r, &n32, &h, &n32, &wr, &wi, &vl, &one, &vr, &ldvr, &work, &lwork, &info, 1, 1)
            } }
            if info < 0 { preconditionFailure("internal: dgeev info \(info)") }
            guard info == 0 else { return nil }
            guard vectors else { return GeneralEigen(re: wr, im: wi, vectorsRe: [], vectorsIm: []) }
            // A complex pair's vectors are stored as the real part in column j and the
            // imaginary part in column j + 1: v_j = x + iy, v_j+1 = x - iy.
            var vre = vr, vim = [Double](repeating: 0, count: n * n)
            var j = 0
            while j < n {
                if wi[j] != 0 && j + 1 < n {
                    for i in 0..<n {
                        let x = vr[i + j * n], y = vr[i + (j + 1) * n]
                        vre[i + j * n] = x; vim[i + j * n] = y
                        vre[i + (j + 1) * n] = x; vim[i + (j + 1) * n] = -y
                    }
                    j += 2
                } else {
                    j += 1
                }
            }
            return GeneralEigen(re: wr, im: wi, vectorsRe: vre, vectorsIm: vim)
        }
        guard let (wr, wi) = LAPACK.hessenbergQR(a, n: n) else { return nil }
        guard vectors else { return GeneralEigen(re: wr, im: wi, vectorsRe: [], vectorsIm: []) }
        let (vre, vim) = LAPACK.inverseIteration(a, n: n, re: wr, im: wi)
        return GeneralEigen(re: wr, im: wi, vectorsRe: vre, vectorsIm: vim)
    }

    /// The eigenvalues of the column-major `a` (EISPACK's `elmhes` then `hqr`, as Numerical
    /// Recipes writes them, 1-based inside), or nil when an eigenvalue took more than 30
    /// iterations.
    static func hessenbergQR(_ a: [Double], n: Int) -> (re: [Double], im: [Double])? {
        // h[i, j] (1-based) is a[i - 1, j - 1].
        let w = n + 1
        var h = [Double](repeating: 0, count: w * w)
        for i in 1...n { for j in 1...n { h[i * w + j] = a[(i - 1) + (j - 1) * n] } }
        @inline(__always) func at(_ i: Int, _ j: Int) -> Int { i * w + j }
        // Hessenberg form by elimination with pivoting.
        if n > 2 {
            for m in 2..<n {
                var x = 0.0, pivot = m
                for j in m...n where Swift.abs(h[at(j, m - 1)]) > Swift.abs(x) { x = h[at(j, m - 1)]; pivot = j }
                if pivot != m {
                    for j in (m - 1)...n { h.swapAt(at(pivot, j), at(m, j)) }
                    for j in 1...n { h.swapAt(at(j, pivot), at(j, m)) }
                }
                guard x != 0, m + 1 <= n else { continue }
                for i in (m + 1)...n {
                    var y = h[at(i, m - 1)]
                    guard y != 0 else { continue }
                    y /= x
                    h[at(i, m - 1)] = y
                    for j in m...n { h[at(i, j)] -= y * h[at(m, j)] }
                    for j in 1...n { h[at(j, m)] += y * h[at(j, i)] }
                }
            }
            // The multipliers left below the subdiagonal are not part of the Hessenberg matrix.
            for i in 3...n { for j in 1...(i - 2) { h[at(i, j)] = 0 } }
        }
        var wr = [Double](repeating: 0, count: n + 1), wi = [Double](repeating: 0, count: n + 1)
        var anorm = 0.0
        for i in 1...n { for j in Swift.max(i - 1, 1)...n { anorm += Swift.abs(h[at(i, j)]) } }
        var nn = n, t = 0.0
        func sign(_ a: Double, _ b: Double) -> Double { b >= 0 ? Swift.abs(a) : -Swift.abs(a) }
        while nn >= 1 {
            var its = 0
            var l = 1
            repeat {
                var ll = nn
                while ll >= 2 {
                    var s = Swift.abs(h[at(ll - 1, ll - 1)]) + Swift.abs(h[at(ll, ll)])
                    if s == 0 { s = anorm }
                    if Swift.abs(h[at(ll, ll - 1)]) + s == s {
                        h[at(ll, ll - 1)] = 0
                        break
                    }
                    ll -= 1
                }
                l = ll
                var x = h[at(nn, nn)]
                if l == nn {
                    wr[nn] = x + t; wi[nn] = 0
                    nn -= 1
                } else {
                    var y = h[at(nn - 1, nn - 1)], w2 = h[at(nn, nn - 1)] * h[at(nn - 1, nn)]
                    if l == nn - 1 {
                        let p = 0.5 * (y - x), q = p * p + w2
                        var z = Swift.abs(q).squareRoot()
                        x += t
                        if q >= 0 {
                            z = p + sign(z, p)
                            wr[nn - 1] = x + z; wr[nn] = x + z
                            if z != 0 { wr[nn] = x - w2 / z }
                            wi[nn - 1] = 0; wi[nn] = 0
                        } else {
                            wr[nn - 1] = x + p; wr[nn] = x + p
                            wi[nn - 1] = -z; wi[nn] = z
                        }
                        nn -= 2
                    } else {
                        if its == 30 { return nil }
                        if its == 10 || its == 20 {
                            t += x
                            for i in 1...nn { h[at(i, i)] -= x }
                            let s = Swift.abs(h[at(nn, nn - 1)]) + Swift.abs(h[at(nn - 1, nn - 2)])
                            x = 0.75 * s; y = x; w2 = -0.4375 * s * s
                        }
                        its += 1
                        var m = nn - 2
                        var p = 0.0, q = 0.0, r = 0.0, z = 0.0
                        while m >= l {
                            z = h[at(m, m)]
                            r = x - z
                            let s0 = y - z
                            p = (r * s0 - w2) / h[at(m + 1, m)] + h[at(m, m + 1)]
                            q = h[at(m + 1, m + 1)] - z - r - s0
                            r = h[at(m + 2, m + 1)]
                            let s = Swift.abs(p) + Swift.abs(q) + Swift.abs(r)
                            p /= s; q /= s; r /= s
                            if m == l { break }
                            let u = Swift.abs(h[at(m, m - 1)]) * (Swift.abs(q) + Swift.abs(r))
                            let v = Swift.abs(p) * (Swift.abs(h[at(m - 1, m - 1)]) + Swift.abs(z) + Swift.abs(h[at(m + 1, m + 1)]))
                            if u + v == v { break }
                            m -= 1
                        }
                        if m + 2 <= nn {
                            for i in (m + 2)...nn {
                                h[at(i, i - 2)] = 0
                                if i != m + 2 { h[at(i, i - 3)] = 0 }
                            }
                        }
                        var k = m
                        while k <= nn - 1 {
                            if k != m {
                                p = h[at(k, k - 1)]
                                q = h[at(k + 1, k - 1)]
                                r = k != nn - 1 ? h[at(k + 2, k - 1)] : 0
                                x = Swift.abs(p) + Swift.abs(q) + Swift.abs(r)
                                if x != 0 { p /= x; q /= x; r /= x }
                            }
                            let s = sign((p * p + q * q + r * r).squareRoot(), p)
                            if s != 0 {
                                if k == m {
                                    if l != m { h[at(k, k - 1)] = -h[at(k, k - 1)] }
                                } else {
                                    h[at(k, k - 1)] = -s * x
                                }
                                p += s
                                x = p / s; y = q / s; z = r / s; q /= p; r /= p
                                for j in k...nn {
                                    p = h[at(k, j)] + q * h[at(k + 1, j)]
                                    if k != nn - 1 {
                                        p += r * h[at(k + 2, j)]
                                        h[at(k + 2, j)] -= p * z
                                    }
                                    h[at(k + 1, j)] -= p * y
                                    h[at(k, j)] -= p * x
                                }
                                let mmin = nn < k + 3 ? nn : k + 3
                                for i in l...mmin {
                                    p = x * h[at(i, k)] + y * h[at(i, k + 1)]
                                    if k != nn - 1 {
                                        p += z * h[at(i, k + 2)]
                                        h[at(i, k + 2)] -= p * r
                                    }
                                    h[at(i, k + 1)] -= p * q
                                    h[at(i, k)] -= p
                                }
                            }
                            k += 1
                        }
                    }
                }
            } while l < nn - 1
        }
        // A complex pair as dgeev gives it: the positive imaginary part first.
        var re = Array(wr[1...]), im = Array(wi[1...])
        var j = 0
        while j + 1 < n {
            if im[j] != 0 && im[j] == -im[j + 1] && re[j] == re[j + 1] {
                if im[j] < 0 { im[j] = -im[j]; im[j + 1] = -im[j + 1] }
                j += 2
            } else {
                j += 1
            }
        }
        return (re, im)
    }

    /// Each eigenvalue's right eigenvector by inverse iteration on the column-major `a`:
    /// (A - λI) x = b solved by complex LU with partial pivoting (λ moved off the spectrum by a
    /// few ulps of the matrix's norm), three times, from a start that differs per eigenvalue;
    /// vectors of (numerically) equal eigenvalues are made orthogonal to the earlier ones. Each
    /// is normalised as dgeev's: unit length, its largest component real. A real eigenvalue's
    /// vector stays real (every imaginary part is exactly zero on the way).
    static func inverseIteration(_ a: [Double], n: Int, re: [Double], im: [Double]) -> (re: [Double], im: [Double]) {
        var norm = 0.0
        for v in a { norm = Swift.max(norm, Swift.abs(v)) }
        let scale = Swift.max(norm, Double.leastNormalMagnitude) * Double(n)
        var vre = [Double](repeating: 0, count: n * n), vim = [Double](repeating: 0, count: n * n)
        for e in 0..<n {
            // The second of a conjugate pair: the conjugate of the first's vector (as dgeev's).
            if e > 0, im[e] < 0, im[e - 1] == -im[e], re[e - 1] == re[e] {
                for i in 0..<n { vre[i + e * n] = vre[i + (e - 1) * n]; vim[i + e * n] = -vim[i + (e - 1) * n] }
                continue
            }
            // M = A - λ'I, column-major, complex.
            let shift = scale * 1e-13
            var mr = a, mi = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                mr[i + i * n] -= re[e] + shift
                mi[i + i * n] -= im[e]
            }
            // LU with partial pivoting (row swaps recorded).
            var piv = [Int](repeating: 0, count: n)
            for k in 0..<n {
                var best = k, bestAbs = -1.0
                for i in k..<n {
                    let m = Swift.abs(mr[i + k * n]) + Swift.abs(mi[i + k * n])
                    if m > bestAbs { bestAbs = m; best = i }
                }
                piv[k] = best
                if best != k { for j in 0..<n { mr.swapAt(k + j * n, best + j * n); mi.swapAt(k + j * n, best + j * n) } }
                if mr[k + k * n] == 0 && mi[k + k * n] == 0 { mr[k + k * n] = shift }      // exactly singular: nudge
                let (pr, pi) = (mr[k + k * n], mi[k + k * n])
                let d = pr * pr + pi * pi
                for i in (k + 1)..<n {
                    let (xr, xi) = (mr[i + k * n], mi[i + k * n])
                    let lr = (xr * pr + xi * pi) / d, li = (xi * pr - xr * pi) / d
                    mr[i + k * n] = lr; mi[i + k * n] = li
                    for j in (k + 1)..<n {
                        let (ur, ui) = (mr[k + j * n], mi[k + j * n])
                        mr[i + j * n] -= lr * ur - li * ui
                        mi[i + j * n] -= lr * ui + li * ur
                    }
                }
            }
            // Start: ones, with the e-th component raised, so that equal eigenvalues start apart.
            func iterate(orthogonalise: Bool) -> (re: [Double], im: [Double]) {
                var xr = [Double](repeating: 1, count: n), xi = [Double](repeating: 0, count: n)
                xr[e] += Double(n)
                for _ in 0..<3 {
                    // Solve L U x = P b.
                    for k in 0..<n where piv[k] != k { xr.swapAt(k, piv[k]); xi.swapAt(k, piv[k]) }
                    for i in 0..<n {
                        for k in 0..<i {
                            let (lr, li) = (mr[i + k * n], mi[i + k * n])
                            xr[i] -= lr * xr[k] - li * xi[k]
                            xi[i] -= lr * xi[k] + li * xr[k]
                        }
                    }
                    for i in stride(from: n - 1, through: 0, by: -1) {
                        for k in (i + 1)..<n {
                            let (ur, ui) = (mr[i + k * n], mi[i + k * n])
                            xr[i] -= ur * xr[k] - ui * xi[k]
                            xi[i] -= ur * xi[k] + ui * xr[k]
                        }
                        let (pr, pi) = (mr[i + i * n], mi[i + i * n])
                        let d = pr * pr + pi * pi
                        (xr[i], xi[i]) = ((xr[i] * pr + xi[i] * pi) / d, (xi[i] * pr - xr[i] * pi) / d)
                    }
                    // Orthogonal to the vectors of the same eigenvalue found before.
                    for f in 0..<e where orthogonalise && Swift.abs(re[f] - re[e]) + Swift.abs(im[f] - im[e]) <= 1e-10 * scale {
                        var dr = 0.0, di = 0.0            // <v_f, x> = conj(v_f) . x
                        for i in 0..<n {
                            let (ar, ai) = (vre[i + f * n], vim[i + f * n])
                            dr += ar * xr[i] + ai * xi[i]
                            di += ar * xi[i] - ai * xr[i]
                        }
                        for i in 0..<n {
                            let (ar, ai) = (vre[i + f * n], vim[i + f * n])
                            xr[i] -= dr * ar - di * ai
                            xi[i] -= dr * ai + di * ar
                        }
                    }
                    var len = 0.0
                    for i in 0..<n { len += xr[i] * xr[i] + xi[i] * xi[i] }
                    len = len.squareRoot()
                    guard len > 0, len.isFinite else { break }
                    for i in 0..<n { xr[i] /= len; xi[i] /= len }
                }
                return (xr, xi)
            }
            // A defective eigenvalue (a Jordan block) has fewer independent vectors than its
            // multiplicity: made orthogonal to the first, the second is no eigenvector at all
            // (|A x - λx| large); it is then taken without, nearly parallel to the first, as
            // dgeev's are.
            var (xr, xi) = iterate(orthogonalise: true)
            if e > 0 {
                var worst = 0.0
                for i in 0..<n {
                    var rr = -(re[e] * xr[i] - im[e] * xi[i]), ri = -(re[e] * xi[i] + im[e] * xr[i])
                    for k in 0..<n { rr += a[i + k * n] * xr[k]; ri += a[i + k * n] * xi[k] }
                    worst = Swift.max(worst, (rr * rr + ri * ri).squareRoot())
                }
                if !(worst <= 1e-8 * scale) { (xr, xi) = iterate(orthogonalise: false) }
            }
            // The largest component made real (a real eigenvalue's vector is real already).
            var big = 0, bigAbs = -1.0
            for i in 0..<n {
                let m = xr[i] * xr[i] + xi[i] * xi[i]
                if m > bigAbs { bigAbs = m; big = i }
            }
            if im[e] != 0, bigAbs > 0 {
                let m = bigAbs.squareRoot(), (cr, ci) = (xr[big] / m, -xi[big] / m)    // conj(x_big) / |x_big|
                for i in 0..<n { (xr[i], xi[i]) = (xr[i] * cr - xi[i] * ci, xr[i] * ci + xi[i] * cr) }
                xi[big] = 0
            } else if xr[big] < 0 {
                // A real vector's sign is free: its largest component positive, for one answer.
                for i in 0..<n { xr[i] = -xr[i] }
            }
            for i in 0..<n { vre[i + e * n] = xr[i]; vim[i + e * n] = xi[i] }
        }
        return (vre, vim)
    }
}
