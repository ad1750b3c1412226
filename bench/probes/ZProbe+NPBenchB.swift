import Foundation
import Tandem

// npbench's NumPy versions of PolyBench (npbench/benchmarks/polybench/<name>/<name>_numpy.py)
// and three of its apps, ported line by line as the array code they are by a held-out tester
// (README and public doc comments only). Registered as `n5b_*` examples by examples5b.txt; the
// NumPy side, with npbench's sources embedded, is npbench_b.py. Each program builds npbench's
// inputs (ported `initialize`; random ones loaded from the .npy files npbench_b.py saves), waits
// for them, then runs the kernel `reps` times on fresh copies, each rep timed up to its outputs
// being in memory and summed; it returns first_s, best_s and checksums of the last rep's outputs.
public enum ZNPBenchB {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func bench(_ reps: Int, _ kernel: () throws -> [(String, Tensor<Double>)]) throws -> [String: Double] {
        var times: [Double] = []
        var last: [(String, Tensor<Double>)] = []
        for _ in 0..<Swift.max(reps, 1) {
            let t0 = now()
            let outs = try kernel()
            try Tandem.wait(outs.map { $0.1 as any TensorParts })
            for (_, o) in outs { _ = try o.sum().item() }
            times.append(Double(now() - t0) / 1e9)
            last = outs
        }
        var r: [String: Double] = ["first_s": times[0], "best_s": times.count > 1 ? times[1...].min()! : times[0]]
        for (name, o) in last { r.merge(try checksums(name, o)) { a, _ in a } }
        return r
    }

    /// The sum, the sum of magnitudes and three elements (flat positions as npbench_b.py's).
    static func checksums(_ name: String, _ a: Tensor<Double>) throws -> [String: Double] {
        let flat = a.flattened()
        let n = a.count
        var r = [name + "_sum": try flat.sum().item(), name + "_abs": try flat.abs().sum().item()]
        let idx = Set([Swift.min(7 * n / 100 + 3, n - 1), Swift.min(37 * n / 100 + 1, n - 1), Swift.min(61 * n / 100 + 1, n - 1)]).sorted()
        for (k, i) in idx.enumerated() { r["\(name)_e\(k)"] = try flat[i].item() }
        return r
    }

    /// np.fromfunction's two float64 index grids.
    static func grid(_ a: Int, _ b: Int) -> (Tensor<Double>, Tensor<Double>) {
        let ij = Tensor<Double>.indices([a, b])
        return (ij[0], ij[1])
    }

    static func iota(_ n: Int) -> Tensor<Double> { Tensor<Double>.arange(Double(n)) }

    // MARK: - Stencils

    public static func jacobi2d(tsteps: Int, n: Int, reps: Int) throws -> [String: Double] {
        let (i, j) = grid(n, n)
        let A0 = i * (j + 2) / Double(n)
        let B0 = i * (j + 3) / Double(n)
        try Tandem.wait(A0, B0)
        let c = 1..<(n - 1)
        return try bench(reps) {
            var A = A0, B = B0
            for _ in 1..<tsteps {
                B[c, c] = 0.2 * (A[c, c] + A[c, ..<(n - 2)] + A[c, 2...] + A[2..., c] + A[..<(n - 2), c])
                A[c, c] = 0.2 * (B[c, c] + B[c, ..<(n - 2)] + B[c, 2...] + B[2..., c] + B[..<(n - 2), c])
            }
            return [("A", A), ("B", B)]
        }
    }

    public static func heat3d(tsteps: Int, n: Int, reps: Int) throws -> [String: Double] {
        let ijk = Tensor<Double>.indices([n, n, n])
        let A0 = (ijk[0] + ijk[1] + (Double(n) - ijk[2])) * 10 / Double(n)
        let B0 = A0
        try Tandem.wait(A0, B0)
        let c = 1..<(n - 1), lo = ..<(n - 2)
        func step(_ A: Tensor<Double>) -> Tensor<Double> {
            let ti = 0.125 * (A[2..., c, c] - 2.0 * A[c, c, c] + A[lo, c, c])
            let tj = 0.125 * (A[c, 2..., c] - 2.0 * A[c, c, c] + A[c, lo, c])
            let tk = 0.125 * (A[c, c, 2...] - 2.0 * A[c, c, c] + A[c, c, lo])
            return ti + tj + tk + A[c, c, c]
        }
        return try bench(reps) {
            var A = A0, B = B0
            for _ in 1..<tsteps {
                B[c, c, c] = step(A)
                A[c, c, c] = step(B)
            }
            return [("A", A), ("B", B)]
        }
    }

    public static func fdtd2d(tmax: Int, nx: Int, ny: Int, reps: Int) throws -> [String: Double] {
        let (i, j) = grid(nx, ny)
        let ex0 = i * (j + 1) / Double(nx)
        let ey0 = i * (j + 2) / Double(ny)
        let hz0 = i * (j + 3) / Double(nx)
        let fict = iota(tmax)
        try Tandem.wait(ex0, ey0, hz0, fict)
        return try bench(reps) {
            var ex = ex0, ey = ey0, hz = hz0
            for t in 0..<tmax {
                ey[0, .all] = fict[t]
                ey[1..., .all] -= 0.5 * (hz[1..., .all] - hz[..<(nx - 1), .all])
                ex[.all, 1...] -= 0.5 * (hz[.all, 1...] - hz[.all, ..<(ny - 1)])
                hz[..<(nx - 1), ..<(ny - 1)] -= 0.7 * (ex[..<(nx - 1), 1...] - ex[..<(nx - 1), ..<(ny - 1)] + ey[1..., ..<(ny - 1)] - ey[..<(nx - 1), ..<(ny - 1)])
            }
            return [("ex", ex), ("ey", ey), ("hz", hz)]
        }
    }

    public static func adi(tsteps: Int, n: Int, reps: Int) throws -> [String: Double] {
        let (i, j) = grid(n, n)
        let u0 = (i + Double(n) - j) / Double(n)
        try Tandem.wait(u0)
        return try bench(reps) {
            var u = u0
            var v = Tensor<Double>.zeros([n, n]), p = Tensor<Double>.zeros([n, n]), q = Tensor<Double>.zeros([n, n])   // np.empty
            let DX = 1.0 / Double(n), DY = 1.0 / Double(n), DT = 1.0 / Double(tsteps)
            let B1 = 2.0, B2 = 1.0
            let mul1 = B1 * DT / (DX * DX), mul2 = B2 * DT / (DY * DY)
            let a = -mul1 / 2.0, b = 1.0 + mul2, c = a
            let d = -mul2 / 2.0, e = 1.0 + mul2, f = d
            let r = 1..<(n - 1)
            for _ in 1...tsteps {
                v[0, r] = Tensor(1.0)
                p[r, 0] = Tensor(0.0)
                q[r, 0] = v[0, r]
                for j in 1..<(n - 1) {
                    p[r, j] = -c / (a * p[r, j - 1] + b)
                    let num = -d * u[j, 0..<(n - 2)] + (1.0 + 2.0 * d) * u[j, r] - f * u[j, 2..<n] - a * q[r, j - 1]
                    q[r, j] = num / (a * p[r, j - 1] + b)
                }
                v[n - 1, r] = Tensor(1.0)
                for j in stride(from: n - 2, to: 0, by: -1) {
                    v[j, r] = p[r, j] * v[j + 1, r] + q[r, j]
                }
                u[r, 0] = Tensor(1.0)
                p[r, 0] = Tensor(0.0)
                q[r, 0] = u[r, 0]
                for j in 1..<(n - 1) {
                    p[r, j] = -f / (d * p[r, j - 1] + e)
                    let num = -a * v[0..<(n - 2), j] + (1.0 + 2.0 * a) * v[r, j] - c * v[2..<n, j] - d * q[r, j - 1]
                    q[r, j] = num / (d * p[r, j - 1] + e)
                }
                u[r, n - 1] = Tensor(1.0)
                for j in stride(from: n - 2, to: 0, by: -1) {
                    u[r, j] = p[r, j] * u[r, j + 1] + q[r, j]
                }
            }
            return [("u", u)]
        }
    }

    public static func deriche(w: Int, h: Int, reps: Int) throws -> [String: Double] {
        let alpha = 0.25
        let (i, j) = grid(w, h)
        let imgIn = (313 * i + 991 * j).mod(65536.0) / 65535.0
        try Tandem.wait(imgIn)
        return try bench(reps) {
            let k = (1.0 - exp(-alpha)) * (1.0 - exp(-alpha)) / (1.0 + alpha * exp(-alpha) - exp(2.0 * alpha))
            let a1 = k, a5 = k
            let a2 = k * exp(-alpha) * (alpha - 1.0), a6 = a2
            let a3 = k * exp(-alpha) * (alpha + 1.0), a7 = a3
            let a4 = -k * exp(-2.0 * alpha), a8 = a4
            let b1 = pow(2.0, -alpha)
            let b2 = -exp(-2.0 * alpha)
            let c1 = 1.0, c2 = 1.0

            var y1 = Tensor<Double>.zeros([w, h])   // np.empty_like
            y1[.all, 0] = a1 * imgIn[.all, 0]
            y1[.all, 1] = a1 * imgIn[.all, 1] + a2 * imgIn[.all, 0] + b1 * y1[.all, 0]
            for j in 2..<h {
                y1[.all, j] = a1 * imgIn[.all, j] + a2 * imgIn[.all, j - 1] + b1 * y1[.all, j - 1] + b2 * y1[.all, j - 2]
            }
            var y2 = Tensor<Double>.zeros([w, h])
            y2[.all, h - 1] = Tensor(0.0)
            y2[.all, h - 2] = a3 * imgIn[.all, h - 1]
            for j in stride(from: h - 3, through: 0, by: -1) {
                y2[.all, j] = a3 * imgIn[.all, j + 1] + a4 * imgIn[.all, j + 2] + b1 * y2[.all, j + 1] + b2 * y2[.all, j + 2]
            }
            var imgOut = c1 * (y1 + y2)

            y1[0, .all] = a5 * imgOut[0, .all]
            y1[1, .all] = a5 * imgOut[1, .all] + a6 * imgOut[0, .all] + b1 * y1[0, .all]
            for i in 2..<w {
                y1[i, .all] = a5 * imgOut[i, .all] + a6 * imgOut[i - 1, .all] + b1 * y1[i - 1, .all] + b2 * y1[i - 2, .all]
            }
            y2[w - 1, .all] = Tensor(0.0)
            y2[w - 2, .all] = a7 * imgOut[w - 1, .all]
            for i in stride(from: w - 3, through: 0, by: -1) {
                y2[i, .all] = a7 * imgOut[i + 1, .all] + a8 * imgOut[i + 2, .all] + b1 * y2[i + 1, .all] + b2 * y2[i + 2, .all]
            }
            imgOut[.ellipsis] = c2 * (y1 + y2)
            return [("imgOut", imgOut)]
        }
    }

    // MARK: - Linear algebra solvers

    public static func gramschmidt(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let A0 = try Tensor<Double>(npy: "/tmp/npb/gramschmidt/A_\(m)x\(n).npy")
        try Tandem.wait(A0)
        return try bench(reps) {
            var A = A0
            var Q = Tensor<Double>.zeros([m, n])
            var R = Tensor<Double>.zeros([n, n])
            for k in 0..<n {
                let nrm = A[.all, k].dot(A[.all, k])
                R[k, k] = nrm.sqrt()
                Q[.all, k] = A[.all, k] / R[k, k]
                for j in (k + 1)..<n {
                    R[k, j] = Q[.all, k].dot(A[.all, j])
                    A[.all, j] -= Q[.all, k] * R[k, j]
                }
            }
            return [("Q", Q), ("R", R)]
        }
    }

    public static func durbin(n: Int, reps: Int) throws -> [String: Double] {
        let r = Double(n) + 1 - iota(n)
        try Tandem.wait(r)
        return try bench(reps) {
            var y = Tensor<Double>.zeros([n])   // np.empty_like
            var alpha = -r[0]
            var beta = Tensor(1.0)
            y[0] = -r[0]
            for k in 1..<n {
                beta *= 1.0 - alpha * alpha
                alpha = -(r[k] + r[..<k].flipped().dot(y[..<k])) / beta
                y[..<k] += alpha * y[..<k].flipped()
                y[k] = alpha
            }
            return [("y", y)]
        }
    }

    /// PolyBench's lu/ludcmp/cholesky input: A[i, :i+1] = (-j % N) / N + 1, the rest 0, diagonal 1; A @ A.T.
    static func spdInput(_ n: Int) -> Tensor<Double> {
        let (i, j) = grid(n, n)
        let lower = (-j).mod(Double(n)) / Double(n) + 1
        let A: Tensor<Double> = select(j .< i, lower, select(j .== i, Tensor(1.0), Tensor(0.0)))
        return A.matmul(A.transposed)
    }

    public static func ludcmp(n: Int, reps: Int) throws -> [String: Double] {
        let A0 = spdInput(n)
        let b = (iota(n) + 1) / Double(n) / 2.0 + 4.0
        try Tandem.wait(A0, b)
        return try bench(reps) {
            var A = A0
            var x = Tensor<Double>.zeros([n]), y = Tensor<Double>.zeros([n])
            for i in 0..<n {
                for j in 0..<i {
                    A[i, j] -= A[i, ..<j].matmul(A[..<j, j])
                    A[i, j] /= A[j, j]
                }
                for j in i..<n {
                    A[i, j] -= A[i, ..<i].matmul(A[..<i, j])
                }
            }
            for i in 0..<n {
                y[i] = b[i] - A[i, ..<i].matmul(y[..<i])
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                x[i] = (y[i] - A[i, (i + 1)...].matmul(x[(i + 1)...])) / A[i, i]
            }
            return [("x", x), ("y", y), ("A", A)]
        }
    }

    public static func lu(n: Int, reps: Int) throws -> [String: Double] {
        let A0 = spdInput(n)
        try Tandem.wait(A0)
        return try bench(reps) {
            var A = A0
            for i in 0..<n {
                for j in 0..<i {
                    A[i, j] -= A[i, ..<j].matmul(A[..<j, j])
                    A[i, j] /= A[j, j]
                }
                for j in i..<n {
                    A[i, j] -= A[i, ..<i].matmul(A[..<i, j])
                }
            }
            return [("A", A)]
        }
    }

    public static func cholesky(n: Int, reps: Int) throws -> [String: Double] {
        let A0 = spdInput(n)
        try Tandem.wait(A0)
        return try bench(reps) {
            var A = A0
            A[0, 0] = A[0, 0].sqrt()
            for i in 1..<n {
                for j in 0..<i {
                    A[i, j] -= A[i, ..<j].dot(A[j, ..<j])
                    A[i, j] /= A[j, j]
                }
                A[i, i] -= A[i, ..<i].dot(A[i, ..<i])
                A[i, i] = A[i, i].sqrt()
            }
            return [("A", A)]
        }
    }

    public static func trisolv(n: Int, reps: Int) throws -> [String: Double] {
        let (i, j) = grid(n, n)
        let L = (i + Double(n) - j + 1) * 2 / Double(n)
        let x0 = Tensor<Double>.full([n], -999)
        let b = iota(n)
        try Tandem.wait(L, x0, b)
        return try bench(reps) {
            var x = x0
            for i in 0..<n {
                x[i] = (b[i] - L[i, ..<i].matmul(x[..<i])) / L[i, i]
            }
            return [("x", x)]
        }
    }

    // MARK: - BLAS-like

    public static func gemver(n: Int, reps: Int) throws -> [String: Double] {
        let alpha = 1.5, beta = 1.2
        let fn = Double(n)
        let (i, j) = grid(n, n)
        let A0 = (i * j).mod(fn) / fn
        let k = iota(n)
        let u1 = k, u2 = ((k + 1) / fn) / 2.0, v1 = ((k + 1) / fn) / 4.0, v2 = ((k + 1) / fn) / 6.0
        let w0 = Tensor<Double>.zeros([n]), x0 = Tensor<Double>.zeros([n])
        let y = ((k + 1) / fn) / 8.0, z = ((k + 1) / fn) / 9.0
        try Tandem.wait(A0, u1, u2, v1, v2, w0, x0, y, z)
        return try bench(reps) {
            var A = A0, w = w0, x = x0
            A += outer(u1, v1) + outer(u2, v2)
            x += (beta * y).matmul(A) + z
            w += (alpha * A).matmul(x)
            return [("A", A), ("w", w), ("x", x)]
        }
    }

    public static func doitgen(nr: Int, nq: Int, np: Int, reps: Int) throws -> [String: Double] {
        let ijk = Tensor<Double>.indices([nr, nq, np])
        let A0 = (ijk[0] * ijk[1] + ijk[2]).mod(Double(np)) / Double(np)
        let (i, j) = grid(np, np)
        let C4 = (i * j).mod(Double(np)) / Double(np)
        try Tandem.wait(A0, C4)
        return try bench(reps) {
            var A = A0
            A[.ellipsis] = A.reshaped([nr, nq, 1, np]).matmul(C4).reshaped([nr, nq, np])
            return [("A", A)]
        }
    }

    public static func k3mm(ni: Int, nj: Int, nk: Int, nl: Int, nm: Int, reps: Int) throws -> [String: Double] {
        var (i, j) = grid(ni, nk)
        let A = (i * j + 1).mod(Double(ni)) / Double(5 * ni)
        (i, j) = grid(nk, nj)
        let B = (i * (j + 1) + 2).mod(Double(nj)) / Double(5 * nj)
        (i, j) = grid(nj, nm)
        let C = (i * (j + 3)).mod(Double(nl)) / Double(5 * nl)
        (i, j) = grid(nm, nl)
        let D = (i * (j + 2) + 2).mod(Double(nk)) / Double(5 * nk)
        try Tandem.wait(A, B, C, D)
        return try bench(reps) {
            [("E", A.matmul(B).matmul(C).matmul(D))]
        }
    }

    public static func symm(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let alpha = 1.5, beta = 1.2
        var (i, j) = grid(m, n)
        let C0 = (i + j).mod(100.0) / Double(m)
        let B = (Double(n) + i - j).mod(100.0) / Double(m)
        (i, j) = grid(m, m)
        let A: Tensor<Double> = select(j .<= i, (i + j).mod(100.0) / Double(m), Tensor(-999.0))
        try Tandem.wait(C0, B, A)
        return try bench(reps) {
            var C = C0
            var temp2 = Tensor<Double>.zeros([n])   // np.empty
            C *= beta
            for i in 0..<m {
                for j in 0..<n {
                    C[..<i, j] += alpha * B[i, j] * A[i, ..<i]
                    temp2[j] = B[..<i, j].matmul(A[i, ..<i])
                }
                C[i, .all] += alpha * B[i, .all] * A[i, i] + alpha * temp2
            }
            return [("C", C)]
        }
    }

    public static func syr2k(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let alpha = 1.5, beta = 1.2
        var (i, j) = grid(n, n)
        let C0 = (i * j + 3).mod(Double(n)) / Double(m)
        (i, j) = grid(n, m)
        let A = (i * j + 1).mod(Double(n)) / Double(n)
        let B = (i * j + 2).mod(Double(m)) / Double(m)
        try Tandem.wait(C0, A, B)
        return try bench(reps) {
            var C = C0
            for i in 0..<n {
                C[i, ...i] *= beta
                for k in 0..<m {
                    C[i, ...i] += A[...i, k] * alpha * B[i, k] + B[...i, k] * alpha * A[i, k]
                }
            }
            return [("C", C)]
        }
    }

    public static func trmm(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let alpha = 1.5
        var (i, j) = grid(m, m)
        var A0 = (i * j).mod(Double(m)) / Double(m)
        for d in 0..<m { A0[d, d] = Tensor(1.0) }
        (i, j) = grid(m, n)
        let B0 = (Double(n) + i - j).mod(Double(n)) / Double(n)
        let A = A0
        try Tandem.wait(A, B0)
        return try bench(reps) {
            var B = B0
            for i in 0..<m {
                for j in 0..<n {
                    B[i, j] += A[(i + 1)..., i].dot(B[(i + 1)..., j])
                }
            }
            B *= alpha
            return [("B", B)]
        }
    }

    // MARK: - Graphs and dynamic programming (integers)

    public static func floydWarshall(n: Int, reps: Int) throws -> [String: Double] {
        let ij = Tensor<Int32>.indices([n, n])
        let s = ij[0] + ij[1]
        let far = (s % 13 .== 0) .| (s % 7 .== 0) .| (s % 11 .== 0)
        let path0: Tensor<Int32> = select(far, Int32(999), ij[0] * ij[1] % 7 + 1)
        try Tandem.wait(path0)
        return try bench(reps) {
            var path = path0
            for k in 0..<n {
                // np.add.outer(path[:, k], path[k, :]): no add.outer, broadcast a column and a row
                path[.ellipsis] = Tensor.minimum(path, path[.all, k].reshaped([n, 1]) + path[k, .all].reshaped([1, n]))
            }
            return [("path", Tensor<Double>(path))]
        }
    }

    public static func nussinov(n: Int, reps: Int) throws -> [String: Double] {
        let seq = (Tensor<Int32>.arange(Int32(n)) + 1) % 4
        try Tandem.wait(seq)
        func match(_ b1: Int32, _ b2: Int32) -> Int32 { b1 + b2 == 3 ? 1 : 0 }
        return try bench(reps) {
            let s = try seq.scalars
            var table = Tensor<Int32>.zeros([n, n])
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in (i + 1)..<n {
                    if j - 1 >= 0 {
                        table[i, j] = Tensor.maximum(table[i, j], table[i, j - 1])
                    }
                    if i + 1 < n {
                        table[i, j] = Tensor.maximum(table[i, j], table[i + 1, j])
                    }
                    if j - 1 >= 0 && i + 1 < n {
                        if i < j - 1 {
                            table[i, j] = Tensor.maximum(table[i, j], table[i + 1, j - 1] + match(s[i], s[j]))
                        } else {
                            table[i, j] = Tensor.maximum(table[i, j], table[i + 1, j - 1])
                        }
                    }
                    for k in (i + 1)..<j {
                        table[i, j] = Tensor.maximum(table[i, j], table[i, k] + table[k + 1, j])
                    }
                }
            }
            return [("table", Tensor<Double>(table))]
        }
    }

    public static func seidel2d(tsteps: Int, n: Int, reps: Int) throws -> [String: Double] {
        let (i, j) = grid(n, n)
        let A0 = (i * (j + 2) + 2) / Double(n)
        try Tandem.wait(A0)
        let c = 1..<(n - 1)
        return try bench(reps) {
            var A = A0
            for _ in 0..<(tsteps - 1) {
                for i in 1..<(n - 1) {
                    let up = A[i - 1, ..<(n - 2)] + A[i - 1, c] + A[i - 1, 2...]
                    A[i, c] += up + A[i, 2...] + A[i + 1, ..<(n - 2)] + A[i + 1, c] + A[i + 1, 2...]
                    for j in 1..<(n - 1) {
                        A[i, j] += A[i, j - 1]
                        A[i, j] /= 9.0
                    }
                }
            }
            return [("A", A)]
        }
    }

    // MARK: - Data mining

    public static func correlation(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let floatN = Double(n)
        let (i, j) = grid(n, m)
        let data0 = (i * j) / Double(m) + i
        try Tandem.wait(data0)
        return try bench(reps) {
            var data = data0
            let mean = data.mean(axis: 0)
            var stddev = data.std(axis: 0)
            stddev[stddev .<= 0.1] = Tensor(1.0)
            data -= mean
            data /= floatN.squareRoot() * stddev
            var corr = Tensor<Double>.eye(m)
            for i in 0..<(m - 1) {
                let v = data[.all, i].matmul(data[.all, (i + 1)..<m])
                corr[(i + 1)..<m, i] = v
                corr[i, (i + 1)..<m] = v
            }
            return [("corr", corr)]
        }
    }

    public static func covariance(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let floatN = Double(n)
        let (i, j) = grid(n, m)
        let data0 = (i * j) / Double(m)
        try Tandem.wait(data0)
        return try bench(reps) {
            var data = data0
            let mean = data.mean(axis: 0)
            data -= mean
            var cov = Tensor<Double>.zeros([m, m])
            for i in 0..<m {
                let v = data[.all, i].matmul(data[.all, i..<m]) / (floatN - 1.0)
                cov[i..<m, i] = v
                cov[i, i..<m] = v
            }
            return [("cov", cov)]
        }
    }

    // MARK: - Matrix-vector kernels

    public static func atax(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let fn = Double(n)
        let x = 1 + iota(n) / fn
        let (i, j) = grid(m, n)
        let A = (i + j).mod(Double(n)) / Double(5 * m)
        try Tandem.wait(x, A)
        return try bench(reps) { [("y", A.matmul(x).matmul(A))] }
    }

    public static func bicg(m: Int, n: Int, reps: Int) throws -> [String: Double] {
        let (i, j) = grid(n, m)
        let A = (i * (j + 1)).mod(Double(n)) / Double(n)
        let p = iota(m).mod(Double(m)) / Double(m)
        let r = iota(n).mod(Double(n)) / Double(n)
        try Tandem.wait(A, p, r)
        return try bench(reps) { [("s", r.matmul(A)), ("q", A.matmul(p))] }
    }

    public static func mvt(n: Int, reps: Int) throws -> [String: Double] {
        let fn = Double(n)
        let k = iota(n)
        let x10 = k.mod(fn) / fn, x20 = (k + 1).mod(fn) / fn
        let y1 = (k + 3).mod(fn) / fn, y2 = (k + 4).mod(fn) / fn
        let (i, j) = grid(n, n)
        let A = (i * j).mod(fn) / fn
        try Tandem.wait(x10, x20, y1, y2, A)
        return try bench(reps) {
            var x1 = x10, x2 = x20
            x1 += A.matmul(y1)
            x2 += y2.matmul(A)
            return [("x1", x1), ("x2", x2)]
        }
    }

    public static func gesummv(n: Int, reps: Int) throws -> [String: Double] {
        let alpha = 1.5, beta = 1.2
        let fn = Double(n)
        let (i, j) = grid(n, n)
        let A = (i * j + 1).mod(fn) / fn
        let B = (i * j + 2).mod(fn) / fn
        let x = iota(n).mod(fn) / fn
        try Tandem.wait(A, B, x)
        return try bench(reps) { [("y", (alpha * A).matmul(x) + (beta * B).matmul(x))] }
    }

    public static func jacobi1d(tsteps: Int, n: Int, reps: Int) throws -> [String: Double] {
        let A0 = (iota(n) + 2) / Double(n)
        let B0 = (iota(n) + 3) / Double(n)
        try Tandem.wait(A0, B0)
        let c = 1..<(n - 1)
        return try bench(reps) {
            var A = A0, B = B0
            for _ in 1..<tsteps {
                B[c] = 0.33333 * (A[..<(n - 2)] + A[c] + A[2...])
                A[c] = 0.33333 * (B[..<(n - 2)] + B[c] + B[2...])
            }
            return [("A", A), ("B", B)]
        }
    }
    // MARK: - Apps (npbench/benchmarks/<name>/<name>_numpy.py)

    public static func channelFlow(ny: Int, nx: Int, nit: Int, rho: Double, nu: Double, F: Double, reps: Int) throws -> [String: Double] {
        let u0 = Tensor<Double>.zeros([ny, nx]), v0 = Tensor<Double>.zeros([ny, nx]), p0 = Tensor<Double>.ones([ny, nx])
        let dx = 2 / Double(nx - 1), dy = 2 / Double(ny - 1)
        let dt = 0.1 / Double((nx - 1) * (ny - 1))
        try Tandem.wait(u0, v0, p0)
        let r: TensorIndex = .slice(1, -1), n: TensorIndex = .slice(2, nil), s: TensorIndex = .slice(0, -2)
        // The three column sets npbench writes out in full: interior, x = 2 (periodic), x = 0 (periodic).
        let columns: [(c: TensorIndex, e: TensorIndex, w: TensorIndex)] = [(.slice(1, -1), .slice(2, nil), .slice(0, -2)),
                                                                           (.index(nx - 1), .index(0), .index(nx - 2)),
                                                                           (.index(0), .index(1), .index(nx - 1))]

        func buildUpB(_ rho: Double, _ dt: Double, _ dx: Double, _ dy: Double, _ u: Tensor<Double>, _ v: Tensor<Double>) -> Tensor<Double> {
            var b = Tensor<Double>.zeros(like: u)
            for (c, e, w) in columns {
                let dudx = (u[r, e] - u[r, w]) / (2 * dx)
                let dvdy = (v[n, c] - v[s, c]) / (2 * dy)
                let cross = (u[n, c] - u[s, c]) / (2 * dy) * (v[r, e] - v[r, w]) / (2 * dx)
                let inner: Tensor<Double> = 1 / dt * (dudx + dvdy) - dudx.pow(2) - 2 * cross - dvdy.pow(2)
                b[r, c] = rho * inner
            }
            return b
        }

        func pressurePoissonPeriodic(_ nit: Int, _ p: inout Tensor<Double>, _ dx: Double, _ dy: Double, _ b: Tensor<Double>) {
            for _ in 0..<nit {
                let pn = p
                for (c, e, w) in columns {
                    let lap: Tensor<Double> = ((pn[r, e] + pn[r, w]) * pow(dy, 2) + (pn[n, c] + pn[s, c]) * pow(dx, 2)) / (2 * (pow(dx, 2) + pow(dy, 2)))
                    p[r, c] = lap - pow(dx, 2) * pow(dy, 2) / (2 * (pow(dx, 2) + pow(dy, 2))) * b[r, c]
                }
                p[ny - 1, .all] = p[ny - 2, .all]
                p[0, .all] = p[1, .all]
            }
        }

        return try bench(reps) {
            var u = u0, v = v0, p = p0
            var udiff = 1.0
            var stepcount = 0
            while udiff > 0.001 {
                let un = u, vn = v
                let b = buildUpB(rho, dt, dx, dy, u, v)
                pressurePoissonPeriodic(nit, &p, dx, dy, b)
                for (c, e, w) in columns {
                    let adv: Tensor<Double> = un[r, c] - un[r, c] * dt / dx * (un[r, c] - un[r, w]) - vn[r, c] * dt / dy * (un[r, c] - un[s, c])
                    let diff: Tensor<Double> = dt / pow(dx, 2) * (un[r, e] - 2 * un[r, c] + un[r, w]) + dt / pow(dy, 2) * (un[n, c] - 2 * un[r, c] + un[s, c])
                    u[r, c] = adv - dt / (2 * rho * dx) * (p[r, e] - p[r, w]) + nu * diff + F * dt
                }
                for (c, e, w) in columns {
                    let adv: Tensor<Double> = vn[r, c] - un[r, c] * dt / dx * (vn[r, c] - vn[r, w]) - vn[r, c] * dt / dy * (vn[r, c] - vn[s, c])
                    let diff: Tensor<Double> = dt / pow(dx, 2) * (vn[r, e] - 2 * vn[r, c] + vn[r, w]) + dt / pow(dy, 2) * (vn[n, c] - 2 * vn[r, c] + vn[s, c])
                    v[r, c] = adv - dt / (2 * rho * dy) * (p[n, c] - p[s, c]) + nu * diff
                }
                u[0, .all] = Tensor(0.0)
                u[ny - 1, .all] = Tensor(0.0)
                v[0, .all] = Tensor(0.0)
                v[ny - 1, .all] = Tensor(0.0)
                udiff = try ((u.sum() - un.sum()) / u.sum()).item()
                stepcount += 1
            }
            return [("u", u), ("v", v), ("p", p), ("steps", Tensor(Double(stepcount)))]
        }
    }

    public static func cavityFlow(ny: Int, nx: Int, nt: Int, nit: Int, rho: Double, nu: Double, reps: Int) throws -> [String: Double] {
        let u0 = Tensor<Double>.zeros([ny, nx]), v0 = Tensor<Double>.zeros([ny, nx]), p0 = Tensor<Double>.zeros([ny, nx])
        let dx = 2 / Double(nx - 1), dy = 2 / Double(ny - 1)
        let dt = 0.1 / Double((nx - 1) * (ny - 1))
        try Tandem.wait(u0, v0, p0)
        let c = 1..<(nx - 1), r = 1..<(ny - 1)
        let e = 2..<nx, w = 0..<(nx - 2), n = 2..<ny, s = 0..<(ny - 2)

        func buildUpB(_ b: inout Tensor<Double>, _ rho: Double, _ dt: Double, _ u: Tensor<Double>, _ v: Tensor<Double>, _ dx: Double, _ dy: Double) {
            let dudx = (u[r, e] - u[r, w]) / (2 * dx)
            let dvdy = (v[n, c] - v[s, c]) / (2 * dy)
            let cross = (u[n, c] - u[s, c]) / (2 * dy) * (v[r, e] - v[r, w]) / (2 * dx)
            let inner: Tensor<Double> = 1 / dt * (dudx + dvdy) - dudx.pow(2) - 2 * cross - dvdy.pow(2)
            b[r, c] = rho * inner
        }

        func pressurePoisson(_ nit: Int, _ p: inout Tensor<Double>, _ dx: Double, _ dy: Double, _ b: Tensor<Double>) {
            for _ in 0..<nit {
                let pn = p
                let lap: Tensor<Double> = ((pn[r, e] + pn[r, w]) * pow(dy, 2) + (pn[n, c] + pn[s, c]) * pow(dx, 2)) / (2 * (pow(dx, 2) + pow(dy, 2)))
                p[r, c] = lap - pow(dx, 2) * pow(dy, 2) / (2 * (pow(dx, 2) + pow(dy, 2))) * b[r, c]
                p[.all, nx - 1] = p[.all, nx - 2]
                p[0, .all] = p[1, .all]
                p[.all, 0] = p[.all, 1]
                p[ny - 1, .all] = Tensor(0.0)
            }
        }

        return try bench(reps) {
            var u = u0, v = v0, p = p0
            var b = Tensor<Double>.zeros([ny, nx])
            for _ in 0..<nt {
                let un = u, vn = v
                buildUpB(&b, rho, dt, u, v, dx, dy)
                pressurePoisson(nit, &p, dx, dy, b)
                let uadv: Tensor<Double> = un[r, c] - un[r, c] * dt / dx * (un[r, c] - un[r, w]) - vn[r, c] * dt / dy * (un[r, c] - un[s, c])
                let udiff: Tensor<Double> = dt / pow(dx, 2) * (un[r, e] - 2 * un[r, c] + un[r, w]) + dt / pow(dy, 2) * (un[n, c] - 2 * un[r, c] + un[s, c])
                u[r, c] = uadv - dt / (2 * rho * dx) * (p[r, e] - p[r, w]) + nu * udiff
                let vadv: Tensor<Double> = vn[r, c] - un[r, c] * dt / dx * (vn[r, c] - vn[r, w]) - vn[r, c] * dt / dy * (vn[r, c] - vn[s, c])
                let vdiff: Tensor<Double> = dt / pow(dx, 2) * (vn[r, e] - 2 * vn[r, c] + vn[r, w]) + dt / pow(dy, 2) * (vn[n, c] - 2 * vn[r, c] + vn[s, c])
                v[r, c] = vadv - dt / (2 * rho * dy) * (p[n, c] - p[s, c]) + nu * vdiff
                u[0, .all] = Tensor(0.0)
                u[.all, 0] = Tensor(0.0)
                u[.all, nx - 1] = Tensor(0.0)
                u[ny - 1, .all] = Tensor(1.0)
                v[0, .all] = Tensor(0.0)
                v[ny - 1, .all] = Tensor(0.0)
                v[.all, 0] = Tensor(0.0)
                v[.all, nx - 1] = Tensor(0.0)
            }
            return [("u", u), ("v", v), ("p", p)]
        }
    }

    public static func nbody(N: Int, tEnd: Double, dt: Double, softening: Double, G: Double, reps: Int) throws -> [String: Double] {
        let mass0 = 20.0 * Tensor<Double>.ones([N, 1]) / Double(N)
        let pos0 = try Tensor<Double>(npy: "/tmp/npb/nbody/pos_\(N)x3.npy")
        let vel0 = try Tensor<Double>(npy: "/tmp/npb/nbody/vel_\(N)x3.npy")
        let Nt = Int((tEnd / dt).rounded(.up))
        try Tandem.wait(mass0, pos0, vel0)

        func getAcc(_ pos: Tensor<Double>, _ mass: Tensor<Double>, _ G: Double, _ softening: Double) -> Tensor<Double> {
            let x = pos[.all, 0..<1], y = pos[.all, 1..<2], z = pos[.all, 2..<3]
            let dx = x.transposed - x, dy = y.transposed - y, dz = z.transposed - z
            var inv_r3 = dx.pow(2) + dy.pow(2) + dz.pow(2) + pow(softening, 2)
            // inv_r3[inv_r3 > 0] = inv_r3[inv_r3 > 0]**(-1.5): a mask read is a sync point; `where` instead
            inv_r3 = select(inv_r3 .> 0, inv_r3.pow(-1.5), inv_r3)
            let ax = (G * (dx * inv_r3)).matmul(mass)
            let ay = (G * (dy * inv_r3)).matmul(mass)
            let az = (G * (dz * inv_r3)).matmul(mass)
            return Tensor.hstack([ax, ay, az])
        }

        func getEnergy(_ pos: Tensor<Double>, _ vel: Tensor<Double>, _ mass: Tensor<Double>, _ G: Double) -> (Tensor<Double>, Tensor<Double>) {
            let KE = 0.5 * (mass * vel.pow(2)).sum()
            let x = pos[.all, 0..<1], y = pos[.all, 1..<2], z = pos[.all, 2..<3]
            let dx = x.transposed - x, dy = y.transposed - y, dz = z.transposed - z
            var inv_r = (dx.pow(2) + dy.pow(2) + dz.pow(2)).sqrt()
            inv_r = select(inv_r .> 0, 1.0 / inv_r, inv_r)
            let PE = G * (-(mass * mass.transposed) * inv_r).upperTriangle(diagonal: 1).sum()
            return (KE, PE)
        }

        return try bench(reps) {
            var pos = pos0, vel = vel0
            let mass = mass0
            vel -= (mass * vel).mean(axis: 0) / mass.mean()
            var acc = getAcc(pos, mass, G, softening)
            var KE = Tensor<Double>.zeros([Nt + 1]), PE = Tensor<Double>.zeros([Nt + 1])   // np.ndarray
            (KE[0], PE[0]) = getEnergy(pos, vel, mass, G)
            var t = 0.0
            for i in 0..<Nt {
                vel += acc * dt / 2.0
                pos += vel * dt
                acc = getAcc(pos, mass, G, softening)
                vel += acc * dt / 2.0
                t += dt
                (KE[i + 1], PE[i + 1]) = getEnergy(pos, vel, mass, G)
            }
            _ = t
            return [("KE", KE), ("PE", PE)]
        }
    }

    // MARK: - Reproducer of the wrong durbin result (n5b_durbin_repro)

    /// durbin's recurrence cut down to elementwise operations (no reduction, so the same bits as
    /// the same loop on Swift Doubles are expected): a 0-d `beta` carried from step to step, a
    /// coefficient from it, `y[..<k] += alpha * y[..<k]`, `y[k] = alpha`. Returns the largest
    /// difference from the host loop over max |y| (0 expected; 1.2e-4 measured at n = 60).
    public static func durbinRepro(n: Int) throws -> [String: Double] {
        let r = Double(n) + 1 - Tensor<Double>.arange(Double(n))
        try Tandem.wait(r)
        var y = Tensor<Double>.zeros([n])
        var alpha = -r[0]
        var beta = Tensor(1.0)
        y[0] = -r[0]
        for k in 1..<n {
            beta *= 1.0 - alpha * alpha
            alpha = -(r[k] + 0.5) / beta / Double(n * n)
            y[..<k] += alpha * y[..<k]
            y[k] = alpha
        }
        let got = try y.scalars
        // The same loop on the host.
        let hr = (0..<n).map { Double(n) + 1 - Double($0) }
        var hy = [Double](repeating: 0, count: n)
        var ha = -hr[0], hb = 1.0
        hy[0] = -hr[0]
        for k in 1..<n {
            hb *= 1.0 - ha * ha
            ha = -(hr[k] + 0.5) / hb / Double(n * n)
            for i in 0..<k { hy[i] = hy[i] + ha * hy[i] }
            hy[k] = ha
        }
        var err = 0.0, big = 0.0
        for i in 0..<n { err = Swift.max(err, Swift.abs(got[i] - hy[i])); big = Swift.max(big, Swift.abs(hy[i])) }
        return ["normrel": err / big]
    }
}
