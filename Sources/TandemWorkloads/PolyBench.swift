import Tandem

/// PolyBench/C 4.2.1 kernels written with `Tandem.loop`, as their C loops are written, with
/// PolyBench's initialisations and dataset sizes (issue 19's corpus; a first part of it).
/// `bench/polybench/polybench.py` holds NumPy versions of the same definitions, which computed
/// the check values in the tests.
///
///     let out = try PolyBench.run("gemm", size: .mini)   // ["checksum": ..., "corner": ...]
public enum PolyBench {
    public enum Size: String, CaseIterable, Sendable {
        case mini, small, medium, large
    }

    /// The kernels, in PolyBench's order.
    public static let kernels = ["gemm", "2mm", "syrk", "gesummv", "atax", "bicg", "mvt", "doitgen", "trisolv", "lu", "cholesky",
                                 "covariance", "correlation", "jacobi-1d", "jacobi-2d", "heat-3d", "fdtd-2d", "seidel-2d",
                                 "floyd-warshall", "nussinov", "durbin"]

    /// PolyBench's dataset sizes for a kernel (its header's MINI ... LARGE).
    public static func parameters(_ kernel: String, _ size: Size) -> [String: Int] {
        let i = Size.allCases.firstIndex(of: size)!
        switch kernel {
        case "gemm": return ["ni": [20, 60, 200, 1000][i], "nj": [25, 70, 220, 1100][i], "nk": [30, 80, 240, 1200][i]]
        case "atax": return ["m": [38, 116, 390, 1900][i], "n": [42, 124, 410, 2100][i]]
        case "mvt", "trisolv": return ["n": [40, 120, 400, 2000][i]]
        case "jacobi-2d": return ["tsteps": [20, 40, 100, 500][i], "n": [30, 90, 250, 1300][i]]
        case "2mm": return ["ni": [16, 40, 180, 800][i], "nj": [18, 50, 190, 900][i], "nk": [22, 70, 210, 1100][i], "nl": [24, 80, 220, 1200][i]]
        case "syrk": return ["m": [20, 60, 200, 1000][i], "n": [30, 80, 240, 1200][i]]
        case "bicg": return ["m": [38, 116, 390, 1900][i], "n": [42, 124, 410, 2100][i]]
        case "lu", "cholesky": return ["n": [40, 120, 400, 2000][i]]
        case "gesummv": return ["n": [30, 90, 250, 1300][i]]
        case "doitgen": return ["nq": [8, 20, 40, 140][i], "nr": [10, 25, 50, 150][i], "np": [12, 30, 60, 160][i]]
        case "covariance", "correlation": return ["m": [28, 80, 240, 1200][i], "n": [32, 100, 260, 1400][i]]
        case "jacobi-1d": return ["tsteps": [20, 40, 100, 500][i], "n": [30, 120, 400, 2000][i]]
        case "heat-3d": return ["tsteps": [20, 40, 100, 500][i], "n": [10, 20, 40, 120][i]]
        case "fdtd-2d": return ["tmax": [20, 40, 100, 500][i], "nx": [20, 60, 200, 1000][i], "ny": [30, 80, 240, 1200][i]]
        case "seidel-2d": return ["tsteps": [20, 40, 100, 500][i], "n": [40, 120, 400, 2000][i]]
        case "floyd-warshall", "nussinov": return ["n": [60, 180, 500, kernel == "nussinov" ? 2500 : 2800][i]]
        case "durbin": return ["n": [40, 120, 400, 2000][i]]
        default: preconditionFailure("unknown PolyBench kernel \(kernel)")
        }
    }

    /// Runs one kernel and returns the sum of its output array (`checksum`), its first element
    /// (`corner`) and the kernel's time in seconds (`seconds`: from the initialised inputs to the
    /// computed output, as PolyBench times it). A sync point.
    public static func run(_ kernel: String, size: Size, dtype: DType = .float64) throws -> [String: Double] {
        switch dtype {
        case .float64: return try run(kernel, size: size, as: Double.self)
        case .float32: return try run(kernel, size: size, as: Float.self)
        default: preconditionFailure("PolyBench kernels run in float32 or float64, not \(dtype)")
        }
    }

    static func run<S: FloatingTensorScalar>(_ kernel: String, size: Size, as: S.Type) throws -> [String: Double] {
        let p = parameters(kernel, size)
        let timer = Timer()
        let out: Tensor<S>
        switch kernel {
        case "gemm": out = try gemm(ni: p["ni"]!, nj: p["nj"]!, nk: p["nk"]!, timer)
        case "atax": out = try atax(m: p["m"]!, n: p["n"]!, timer)
        case "mvt": out = try mvt(n: p["n"]!, timer)
        case "trisolv": out = try trisolv(n: p["n"]!, timer)
        case "jacobi-2d": out = try jacobi2d(tsteps: p["tsteps"]!, n: p["n"]!, timer)
        case "seidel-2d": out = try seidel2d(tsteps: p["tsteps"]!, n: p["n"]!, timer)
        case "2mm": out = try twoMM(ni: p["ni"]!, nj: p["nj"]!, nk: p["nk"]!, nl: p["nl"]!, timer)
        case "syrk": out = try syrk(m: p["m"]!, n: p["n"]!, timer)
        case "bicg": out = try bicg(m: p["m"]!, n: p["n"]!, timer)
        case "lu": out = try lu(n: p["n"]!, timer)
        case "cholesky": out = try cholesky(n: p["n"]!, timer)
        case "jacobi-1d": out = try jacobi1d(tsteps: p["tsteps"]!, n: p["n"]!, timer)
        case "heat-3d": out = try heat3d(tsteps: p["tsteps"]!, n: p["n"]!, timer)
        case "fdtd-2d": out = try fdtd2d(tmax: p["tmax"]!, nx: p["nx"]!, ny: p["ny"]!, timer)
        case "gesummv": out = try gesummv(n: p["n"]!, timer)
        case "doitgen": out = try doitgen(nr: p["nr"]!, nq: p["nq"]!, np: p["np"]!, timer)
        case "covariance": out = try covariance(m: p["m"]!, n: p["n"]!, timer)
        case "correlation": out = try correlation(m: p["m"]!, n: p["n"]!, timer)
        case "floyd-warshall": out = try floydWarshall(n: p["n"]!, timer)
        case "nussinov": out = try nussinov(n: p["n"]!, timer)
        case "durbin": out = try durbin(n: p["n"]!, timer)
        default: preconditionFailure("unknown PolyBench kernel \(kernel)")
        }
        try timer.stop(out)
        return ["checksum": Double(try out.sum().item()), "corner": Double(try out.reshaped([-1])[0].item()), "seconds": timer.seconds]
    }

    /// Times a kernel from its inputs computed to its output computed.
    final class Timer {
        var started = ContinuousClock.now
        var seconds = 0.0
        func start(_ inputs: any TensorProtocol...) throws {
            try Tandem.wait(inputs)
            started = ContinuousClock.now
        }
        func stop(_ output: any TensorProtocol) throws {
            try Tandem.wait(output)
            let d = started.duration(to: .now)
            seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
    }

    /// `(Double) (expr % m) / d` of PolyBench's initialisations, from index values.
    static func ratio<S: FloatingTensorScalar>(_ v: Tensor<S>, mod m: Int, over d: Int) -> Tensor<S> { v % S(m) / S(d) }

    /// C := alpha A B + beta C.
    static func gemm<S: FloatingTensorScalar>(ni: Int, nj: Int, nk: Int, _ timer: Timer) throws -> Tensor<S> {
        let alpha = S(1.5), beta = S(1.2)
        var c = Tensor<S>.zeros([ni, nj]), a = Tensor<S>.zeros([ni, nk]), b = Tensor<S>.zeros([nk, nj])
        Tandem.loop(0..<ni, 0..<nj) { i, j in c[i, j] = ratio(Tensor(i) * Tensor(j) + 1, mod: ni, over: ni) }
        Tandem.loop(0..<ni, 0..<nk) { i, j in a[i, j] = ratio(Tensor(i) * Tensor(j + 1), mod: nk, over: nk) }
        Tandem.loop(0..<nk, 0..<nj) { i, j in b[i, j] = ratio(Tensor(i) * Tensor(j + 2), mod: nj, over: nj) }
        try timer.start(a, b, c)
        Tandem.loop(0..<ni) { i in
            Tandem.loop(0..<nj) { j in c[i, j] *= beta }
            Tandem.loop(0..<nk, 0..<nj) { k, j in c[i, j] += alpha * a[i, k] * b[k, j] }
        }
        return c
    }

    /// y = Aᵀ (A x).
    static func atax<S: FloatingTensorScalar>(m: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([m, n]), x = Tensor<S>.zeros([n])
        var y = Tensor<S>.zeros([n]), tmp = Tensor<S>.zeros([m])
        Tandem.loop(0..<n) { i in x[i] = 1 + Tensor<S>(i) / S(n) }
        Tandem.loop(0..<m, 0..<n) { i, j in a[i, j] = ratio(Tensor(i + j), mod: n, over: 5 * m) }
        try timer.start(a, x)
        Tandem.loop(0..<n) { i in y[i] = Tensor<S>(0) }
        Tandem.loop(0..<m) { i in
            tmp[i] = Tensor<S>(0)
            Tandem.loop(0..<n) { j in tmp[i] = tmp[i] + a[i, j] * x[j] }
            Tandem.loop(0..<n) { j in y[j] = y[j] + a[i, j] * tmp[i] }
        }
        return y
    }

    /// x1 += A y1, x2 += Aᵀ y2; returns x1 and x2 side by side.
    static func mvt<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([n, n])
        var x1 = Tensor<S>.zeros([n]), x2 = Tensor<S>.zeros([n]), y1 = Tensor<S>.zeros([n]), y2 = Tensor<S>.zeros([n])
        Tandem.loop(0..<n) { i in
            x1[i] = ratio(Tensor(i), mod: n, over: n)
            x2[i] = ratio(Tensor(i + 1), mod: n, over: n)
            y1[i] = ratio(Tensor(i + 3), mod: n, over: n)
            y2[i] = ratio(Tensor(i + 4), mod: n, over: n)
        }
        Tandem.loop(0..<n, 0..<n) { i, j in a[i, j] = ratio(Tensor(i) * Tensor(j), mod: n, over: n) }
        try timer.start(a, x1, x2, y1, y2)
        Tandem.loop(0..<n, 0..<n) { i, j in x1[i] = x1[i] + a[i, j] * y1[j] }
        Tandem.loop(0..<n, 0..<n) { i, j in x2[i] = x2[i] + a[j, i] * y2[j] }
        return Tensor.concatenate([x1, x2])
    }

    /// Forward substitution L x = b.
    static func trisolv<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var l = Tensor<S>.zeros([n, n]), x = Tensor<S>.full([n], -999), b = Tensor<S>.zeros([n])
        Tandem.loop(0..<n) { i in
            b[i] = Tensor<S>(i)
            Tandem.loop(0...i) { j in l[i, j] = (Tensor<S>(i + n - j + 1) * 2) / S(n) }
        }
        try timer.start(l, b, x)
        Tandem.loop(0..<n) { i in
            x[i] = b[i]
            Tandem.loop(0..<i) { j in x[i] -= l[i, j] * x[j] }
            x[i] = x[i] / l[i, i]
        }
        return x
    }

    /// Two Jacobi sweeps a time step (into B, back into A).
    static func jacobi2d<S: FloatingTensorScalar>(tsteps: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([n, n]), b = Tensor<S>.zeros([n, n])
        Tandem.loop(0..<n, 0..<n) { i, j in
            a[i, j] = (Tensor<S>(i) * Tensor<S>(j + 2) + 2) / S(n)
            b[i, j] = (Tensor<S>(i) * Tensor<S>(j + 3) + 3) / S(n)
        }
        try timer.start(a, b)
        Tandem.loop(0..<tsteps) { _ in
            Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in
                b[i, j] = S(0.2) * (a[i, j] + a[i, j - 1] + a[i, 1 + j] + a[1 + i, j] + a[i - 1, j])
            }
            Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in
                a[i, j] = S(0.2) * (b[i, j] + b[i, j - 1] + b[i, 1 + j] + b[1 + i, j] + b[i - 1, j])
            }
        }
        return a
    }

    /// Gauss–Seidel in place over nine points: every loop carries a dependence (compiled as
    /// written, in order; the array ways run it as wavefronts).
    static func seidel2d<S: FloatingTensorScalar>(tsteps: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([n, n])
        Tandem.loop(0..<n, 0..<n) { i, j in a[i, j] = (Tensor<S>(i) * Tensor<S>(j + 2) + 2) / S(n) }
        try timer.start(a)
        Tandem.loop(0..<tsteps, 1...n - 2, 1...n - 2) { _, i, j in
            let above = a[i - 1, j - 1] + a[i - 1, j] + a[i - 1, j + 1]
            let row = a[i, j - 1] + a[i, j] + a[i, j + 1]
            let below = a[i + 1, j - 1] + a[i + 1, j] + a[i + 1, j + 1]
            a[i, j] = (above + row + below) / 9
        }
        return a
    }

    /// All-pairs shortest paths, in place: step k may route every path through vertex k.
    static func floydWarshall<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var path = Tensor<S>.zeros([n, n])
        Tandem.loop(0..<n, 0..<n) { i, j in
            let s = Tensor<S>(i + j)
            let far = (s % S(13) .== S(0)) .| (s % S(7) .== S(0)) .| (s % S(11) .== S(0))
            path[i, j] = select(far, Tensor<S>(999), Tensor<S>(i) * Tensor<S>(j) % S(7) + 1)
        }
        try timer.start(path)
        Tandem.loop(0..<n, 0..<n, 0..<n) { k, i, j in
            let through = path[i, k] + path[k, j]
            path[i, j] = select(path[i, j] .< through, path[i, j], through)
        }
        return path
    }

    /// Nussinov's RNA folding: the best number of base pairs of each subsequence i ... j, from
    /// the shorter ones (a dynamic program over a triangle, rows from the bottom).
    static func nussinov<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var seq = Tensor<S>.zeros([n]), table = Tensor<S>.zeros([n, n])
        Tandem.loop(0..<n) { i in seq[i] = (Tensor<S>(i) + 1) % S(4) }
        try timer.start(seq, table)
        func best(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { select(a .>= b, a, b) }
        Tandem.loop(stride(from: n - 1, through: 0, by: -1)) { i in
            Tandem.loop(i + 1..<n) { j in
                // PolyBench's `j - 1 >= 0` and `i + 1 < n` always hold inside these bounds.
                table[i, j] = best(table[i, j], table[i, j - 1])
                table[i, j] = best(table[i, j], table[i + 1, j])
                let match = select(seq[i] + seq[j] .== S(3), Tensor<S>(1), Tensor<S>(0))
                let apart = Tensor<S>(i) .< Tensor<S>(j - 1)
                table[i, j] = best(table[i, j], table[i + 1, j - 1] + select(apart, match, Tensor<S>(0)))
                Tandem.loop(i + 1..<j) { k in table[i, j] = best(table[i, j], table[i, k] + table[k + 1, j]) }
            }
        }
        return table
    }

    /// Durbin's recursion for a Toeplitz system (Yule–Walker): y from the autocorrelations r.
    /// Its scalars (alpha, beta, the sum) are one-element tensors, written in the nest.
    static func durbin<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var r = Tensor<S>.zeros([n]), y = Tensor<S>.zeros([n]), z = Tensor<S>.zeros([n])
        var alpha = Tensor<S>.zeros([1]), beta = Tensor<S>.zeros([1]), sum = Tensor<S>.zeros([1])
        Tandem.loop(0..<n) { i in r[i] = Tensor<S>(n + 1 - i) }
        try timer.start(r)
        Tandem.loop(0..<1) { _ in
            y[0] = -r[0]
            beta[0] = Tensor<S>(1)
            alpha[0] = -r[0]
        }
        Tandem.loop(1..<n) { k in
            beta[0] = (1 - alpha[0] * alpha[0]) * beta[0]
            sum[0] = Tensor<S>(0)
            Tandem.loop(0..<k) { i in sum[0] += r[k - i - 1] * y[i] }
            alpha[0] = -(r[k] + sum[0]) / beta[0]
            Tandem.loop(0..<k) { i in z[i] = y[i] + alpha[0] * y[k - i - 1] }
            Tandem.loop(0..<k) { i in y[i] = z[i] }
            y[k] = alpha[0]
        }
        return y
    }

    /// D := alpha A B C + beta D.
    static func twoMM<S: FloatingTensorScalar>(ni: Int, nj: Int, nk: Int, nl: Int, _ timer: Timer) throws -> Tensor<S> {
        let alpha = S(1.5), beta = S(1.2)
        var a = Tensor<S>.zeros([ni, nk]), b = Tensor<S>.zeros([nk, nj]), c = Tensor<S>.zeros([nj, nl])
        var d = Tensor<S>.zeros([ni, nl]), tmp = Tensor<S>.zeros([ni, nj])
        Tandem.loop(0..<ni, 0..<nk) { i, j in a[i, j] = ratio(Tensor(i) * Tensor(j) + 1, mod: ni, over: ni) }
        Tandem.loop(0..<nk, 0..<nj) { i, j in b[i, j] = ratio(Tensor(i) * Tensor(j + 1), mod: nj, over: nj) }
        Tandem.loop(0..<nj, 0..<nl) { i, j in c[i, j] = ratio(Tensor(i) * Tensor(j + 3) + 1, mod: nl, over: nl) }
        Tandem.loop(0..<ni, 0..<nl) { i, j in d[i, j] = ratio(Tensor(i) * Tensor(j + 2), mod: nk, over: nk) }
        try timer.start(a, b, c, d)
        Tandem.loop(0..<ni, 0..<nj) { i, j in
            tmp[i, j] = Tensor<S>(0)
            Tandem.loop(0..<nk) { k in tmp[i, j] += alpha * a[i, k] * b[k, j] }
        }
        Tandem.loop(0..<ni, 0..<nl) { i, j in
            d[i, j] *= beta
            Tandem.loop(0..<nj) { k in d[i, j] += tmp[i, k] * c[k, j] }
        }
        return d
    }

    /// C := alpha A Aᵀ + beta C on the lower triangle.
    static func syrk<S: FloatingTensorScalar>(m: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        let alpha = S(1.5), beta = S(1.2)
        var a = Tensor<S>.zeros([n, m]), c = Tensor<S>.zeros([n, n])
        Tandem.loop(0..<n, 0..<m) { i, j in a[i, j] = ratio(Tensor(i) * Tensor(j) + 1, mod: n, over: n) }
        Tandem.loop(0..<n, 0..<n) { i, j in c[i, j] = ratio(Tensor(i) * Tensor(j) + 2, mod: m, over: m) }
        try timer.start(a, c)
        Tandem.loop(0..<n) { i in
            Tandem.loop(0...i) { j in c[i, j] *= beta }
            Tandem.loop(0..<m) { k in
                Tandem.loop(0...i) { j in c[i, j] += alpha * a[i, k] * a[j, k] }
            }
        }
        return c
    }

    /// s = Aᵀ r and q = A p; returns s and q side by side.
    static func bicg<S: FloatingTensorScalar>(m: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([n, m]), s = Tensor<S>.zeros([m]), q = Tensor<S>.zeros([n])
        var p = Tensor<S>.zeros([m]), r = Tensor<S>.zeros([n])
        Tandem.loop(0..<m) { i in p[i] = ratio(Tensor(i), mod: m, over: m) }
        Tandem.loop(0..<n) { i in
            r[i] = ratio(Tensor(i), mod: n, over: n)
            Tandem.loop(0..<m) { j in a[i, j] = ratio(Tensor(i) * Tensor(j + 1), mod: n, over: n) }
        }
        try timer.start(a, p, r)
        Tandem.loop(0..<m) { i in s[i] = Tensor<S>(0) }
        Tandem.loop(0..<n) { i in
            q[i] = Tensor<S>(0)
            Tandem.loop(0..<m) { j in
                s[j] = s[j] + r[i] * a[i, j]
                q[i] = q[i] + a[i, j] * p[j]
            }
        }
        return Tensor.concatenate([s, q])
    }

    /// PolyBench's positive semi-definite matrix for lu and cholesky: L Lᵀ of a unit lower
    /// triangle.
    static func spd<S: FloatingTensorScalar>(n: Int) -> Tensor<S> {
        var l = Tensor<S>.zeros([n, n]), b = Tensor<S>.zeros([n, n])
        Tandem.loop(0..<n) { i in
            Tandem.loop(0...i) { j in l[i, j] = (-Tensor<S>(j)) % S(n) / S(n) + 1 }
            l[i, i] = Tensor<S>(1)
        }
        Tandem.loop(0..<n, 0..<n, 0..<n) { t, r, s in b[r, s] += l[r, t] * l[s, t] }
        return b
    }

    /// LU decomposition in place (Doolittle, no pivoting).
    static func lu<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a: Tensor<S> = spd(n: n)
        try timer.start(a)
        Tandem.loop(0..<n) { i in
            Tandem.loop(0..<i) { j in
                Tandem.loop(0..<j) { k in a[i, j] -= a[i, k] * a[k, j] }
                a[i, j] = a[i, j] / a[j, j]
            }
            Tandem.loop(i..<n) { j in
                Tandem.loop(0..<i) { k in a[i, j] -= a[i, k] * a[k, j] }
            }
        }
        return a
    }

    /// Cholesky decomposition in place (the lower triangle).
    static func cholesky<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a: Tensor<S> = spd(n: n)
        try timer.start(a)
        Tandem.loop(0..<n) { i in
            Tandem.loop(0..<i) { j in
                Tandem.loop(0..<j) { k in a[i, j] -= a[i, k] * a[j, k] }
                a[i, j] = a[i, j] / a[j, j]
            }
            Tandem.loop(0..<i) { k in a[i, i] -= a[i, k] * a[i, k] }
            a[i, i] = a[i, i].sqrt()
        }
        return a
    }

    static func jacobi1d<S: FloatingTensorScalar>(tsteps: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([n]), b = Tensor<S>.zeros([n])
        Tandem.loop(0..<n) { i in
            a[i] = (Tensor<S>(i) + 2) / S(n)
            b[i] = (Tensor<S>(i) + 3) / S(n)
        }
        try timer.start(a, b)
        Tandem.loop(0..<tsteps) { _ in
            Tandem.loop(1..<n - 1) { i in b[i] = S(0.33333) * (a[i - 1] + a[i] + a[i + 1]) }
            Tandem.loop(1..<n - 1) { i in a[i] = S(0.33333) * (b[i - 1] + b[i] + b[i + 1]) }
        }
        return a
    }

    static func heat3d<S: FloatingTensorScalar>(tsteps: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([n, n, n]), b = Tensor<S>.zeros([n, n, n])
        Tandem.loop(0..<n, 0..<n, 0..<n) { i, j, k in
            let v = (Tensor<S>(i) + Tensor<S>(j) + Tensor<S>(n - k)) * 10 / S(n)
            a[i, j, k] = v
            b[i, j, k] = v
        }
        try timer.start(a, b)
        let c = S(0.125)
        Tandem.loop(1...tsteps) { _ in
            Tandem.loop(1..<n - 1, 1..<n - 1, 1..<n - 1) { i, j, k in
                let di = c * (a[i + 1, j, k] - 2 * a[i, j, k] + a[i - 1, j, k])
                let dj = c * (a[i, j + 1, k] - 2 * a[i, j, k] + a[i, j - 1, k])
                let dk = c * (a[i, j, k + 1] - 2 * a[i, j, k] + a[i, j, k - 1])
                b[i, j, k] = di + dj + dk + a[i, j, k]
            }
            Tandem.loop(1..<n - 1, 1..<n - 1, 1..<n - 1) { i, j, k in
                let di = c * (b[i + 1, j, k] - 2 * b[i, j, k] + b[i - 1, j, k])
                let dj = c * (b[i, j + 1, k] - 2 * b[i, j, k] + b[i, j - 1, k])
                let dk = c * (b[i, j, k + 1] - 2 * b[i, j, k] + b[i, j, k - 1])
                a[i, j, k] = di + dj + dk + b[i, j, k]
            }
        }
        return a
    }

    /// Returns hz.
    static func fdtd2d<S: FloatingTensorScalar>(tmax: Int, nx: Int, ny: Int, _ timer: Timer) throws -> Tensor<S> {
        var ex = Tensor<S>.zeros([nx, ny]), ey = Tensor<S>.zeros([nx, ny]), hz = Tensor<S>.zeros([nx, ny])
        var fict = Tensor<S>.zeros([tmax])
        Tandem.loop(0..<tmax) { i in fict[i] = Tensor<S>(i) }
        Tandem.loop(0..<nx, 0..<ny) { i, j in
            ex[i, j] = Tensor<S>(i) * Tensor<S>(j + 1) / S(nx)
            ey[i, j] = Tensor<S>(i) * Tensor<S>(j + 2) / S(ny)
            hz[i, j] = Tensor<S>(i) * Tensor<S>(j + 3) / S(nx)
        }
        try timer.start(ex, ey, hz, fict)
        Tandem.loop(0..<tmax) { t in
            Tandem.loop(0..<ny) { j in ey[0, j] = fict[t] }
            Tandem.loop(1..<nx, 0..<ny) { i, j in ey[i, j] = ey[i, j] - S(0.5) * (hz[i, j] - hz[i - 1, j]) }
            Tandem.loop(0..<nx, 1..<ny) { i, j in ex[i, j] = ex[i, j] - S(0.5) * (hz[i, j] - hz[i, j - 1]) }
            Tandem.loop(0..<nx - 1, 0..<ny - 1) { i, j in
                hz[i, j] = hz[i, j] - S(0.7) * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])
            }
        }
        return hz
    }

    /// y = alpha A x + beta B x.
    static func gesummv<S: FloatingTensorScalar>(n: Int, _ timer: Timer) throws -> Tensor<S> {
        let alpha = S(1.5), beta = S(1.2)
        var a = Tensor<S>.zeros([n, n]), b = Tensor<S>.zeros([n, n]), x = Tensor<S>.zeros([n])
        var tmp = Tensor<S>.zeros([n]), y = Tensor<S>.zeros([n])
        Tandem.loop(0..<n) { i in
            x[i] = ratio(Tensor(i), mod: n, over: n)
            Tandem.loop(0..<n) { j in
                a[i, j] = ratio(Tensor(i) * Tensor(j) + 1, mod: n, over: n)
                b[i, j] = ratio(Tensor(i) * Tensor(j) + 2, mod: n, over: n)
            }
        }
        try timer.start(a, b, x)
        Tandem.loop(0..<n) { i in
            tmp[i] = Tensor<S>(0)
            y[i] = Tensor<S>(0)
            Tandem.loop(0..<n) { j in
                tmp[i] = a[i, j] * x[j] + tmp[i]
                y[i] = b[i, j] * x[j] + y[i]
            }
            y[i] = alpha * tmp[i] + beta * y[i]
        }
        return y
    }

    /// A[r, q, :] = A[r, q, :] C4 for every (r, q), through one temporary row.
    static func doitgen<S: FloatingTensorScalar>(nr: Int, nq: Int, np: Int, _ timer: Timer) throws -> Tensor<S> {
        var a = Tensor<S>.zeros([nr, nq, np]), c4 = Tensor<S>.zeros([np, np]), sum = Tensor<S>.zeros([np])
        Tandem.loop(0..<nr, 0..<nq, 0..<np) { i, j, k in a[i, j, k] = ratio(Tensor(i) * Tensor(j) + Tensor(k), mod: np, over: np) }
        Tandem.loop(0..<np, 0..<np) { i, j in c4[i, j] = ratio(Tensor(i) * Tensor(j), mod: np, over: np) }
        try timer.start(a, c4)
        Tandem.loop(0..<nr, 0..<nq) { r, q in
            Tandem.loop(0..<np) { p in
                sum[p] = Tensor<S>(0)
                Tandem.loop(0..<np) { s in sum[p] += a[r, q, s] * c4[s, p] }
            }
            Tandem.loop(0..<np) { p in a[r, q, p] = sum[p] }
        }
        return a
    }

    /// The column means of `data` (n x m), into `mean`.
    static func columnMeans<S: FloatingTensorScalar>(_ data: Tensor<S>, _ mean: inout Tensor<S>, m: Int, n: Int) {
        Tandem.loop(0..<m) { j in
            mean[j] = Tensor<S>(0)
            Tandem.loop(0..<n) { i in mean[j] += data[i, j] }
            mean[j] /= S(n)
        }
    }

    static func covariance<S: FloatingTensorScalar>(m: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        var data = Tensor<S>.zeros([n, m]), mean = Tensor<S>.zeros([m]), cov = Tensor<S>.zeros([m, m])
        Tandem.loop(0..<n, 0..<m) { i, j in data[i, j] = Tensor<S>(i) * Tensor<S>(j) / S(m) }
        try timer.start(data)
        columnMeans(data, &mean, m: m, n: n)
        Tandem.loop(0..<n, 0..<m) { i, j in data[i, j] -= mean[j] }
        Tandem.loop(0..<m) { i in
            Tandem.loop(i..<m) { j in
                cov[i, j] = Tensor<S>(0)
                Tandem.loop(0..<n) { k in cov[i, j] += data[k, i] * data[k, j] }
                cov[i, j] /= S(n) - 1
                cov[j, i] = cov[i, j]
            }
        }
        return cov
    }

    static func correlation<S: FloatingTensorScalar>(m: Int, n: Int, _ timer: Timer) throws -> Tensor<S> {
        let eps = S(0.1)
        var data = Tensor<S>.zeros([n, m]), mean = Tensor<S>.zeros([m]), stddev = Tensor<S>.zeros([m])
        var corr = Tensor<S>.zeros([m, m])
        Tandem.loop(0..<n, 0..<m) { i, j in data[i, j] = Tensor<S>(i) * Tensor<S>(j) / S(m) + Tensor<S>(i) }
        try timer.start(data)
        columnMeans(data, &mean, m: m, n: n)
        Tandem.loop(0..<m) { j in
            stddev[j] = Tensor<S>(0)
            Tandem.loop(0..<n) { i in stddev[j] += (data[i, j] - mean[j]) * (data[i, j] - mean[j]) }
            stddev[j] /= S(n)
            stddev[j] = stddev[j].sqrt()
            stddev[j] = select(stddev[j] .<= eps, Tensor<S>(1), stddev[j])
        }
        Tandem.loop(0..<n, 0..<m) { i, j in
            data[i, j] -= mean[j]
            data[i, j] /= S(n).squareRoot() * stddev[j]
        }
        Tandem.loop(0..<m - 1) { i in
            corr[i, i] = Tensor<S>(1)
            Tandem.loop(i + 1..<m) { j in
                corr[i, j] = Tensor<S>(0)
                Tandem.loop(0..<n) { k in corr[i, j] += data[k, i] * data[k, j] }
                corr[j, i] = corr[i, j]
            }
        }
        corr[m - 1, m - 1] = Tensor<S>(1)
        return corr
    }
}
