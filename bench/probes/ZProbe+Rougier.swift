import Foundation
import Tandem

// Programs from N. Rougier's "From Python to Numpy" (github.com/rougier/from-python-to-numpy,
// code/), ported line by line from their NumPy (and, for the game of life, Python-loop) versions
// by a held-out tester who read only the README and the public doc comments; registered as `r6_*`
// examples by examples6.txt. Inputs the book draws at random are drawn by `python3
// bench/probes/rougier.py NAME k=v` and saved under /tmp/rougier/<name>_<sizes>/ (run it first,
// with the same sizes). Each program runs `reps` times in one process, each rep forced to
// completion, and returns first_s, best_s (best of the other reps) and the last rep's checksums
// (the keys rougier.py prints).
public enum ZRougier {
    static func dir(_ name: String, _ sizes: Int...) -> String {
        "/tmp/rougier/\(name)_" + sizes.map(String.init).joined(separator: "x") + "/"
    }

    typealias Rep = (outputs: [any TensorParts], checks: () throws -> [String: Double])

    static func done(_ outputs: [any TensorParts], _ fill: @escaping (inout [String: Double]) throws -> Void) -> Rep {
        (outputs, { var out: [String: Double] = [:]; try fill(&out); return out })
    }

    static func bench(_ reps: Int, _ body: () throws -> Rep) throws -> [String: Double] {
        var times: [Double] = []
        var last: (() throws -> [String: Double])? = nil
        for _ in 0..<Swift.max(reps, 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let rep = try body()
            try Tandem.wait(rep.outputs)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            last = rep.checks
        }
        var result = try last!()
        result["first_s"] = times[0]
        result["best_s"] = times.count > 1 ? times[1...].min()! : times[0]
        return result
    }

    static func checks(_ key: String, _ t: Tensor<Double>, into out: inout [String: Double]) throws {
        let f = t.flattened()
        out[key + "_sum"] = try f.sum().item()
        out[key + "_abs"] = try f.abs().sum().item()
        out[key + "_e0"] = try f[0].item()
        out[key + "_emid"] = try f[f.count / 2].item()
        out[key + "_elast"] = try f[f.count - 1].item()
    }

    // MARK: - game of life (game_of_life_numpy.py)

    public static func life(n: Int = 300, m: Int = 600, steps: Int = 100, reps: Int = 3) throws -> [String: Double] {
        let Z0 = try Tensor<Int64>(npy: dir("life", n, m) + "Z.npy")
        _ = try Z0[0, 0].item()
        return try bench(reps) {
            var Z = Z0
            var M = Tensor<Double>.zeros(Z.shape)
            for _ in 0..<steps {
                let N = (Z[.slice(0, -2), .slice(0, -2)] + Z[.slice(0, -2), .slice(1, -1)] + Z[.slice(0, -2), 2...] +
                         Z[.slice(1, -1), .slice(0, -2)]                                    + Z[.slice(1, -1), 2...] +
                         Z[2...,          .slice(0, -2)] + Z[2...,          .slice(1, -1)] + Z[2...,          2...])
                let birth = (N .== 3) .& (Z[.slice(1, -1), .slice(1, -1)] .== 0)
                let survive = ((N .== 2) .| (N .== 3)) .& (Z[.slice(1, -1), .slice(1, -1)] .== 1)
                Z[.ellipsis] = Tensor(0)
                Z[.slice(1, -1), .slice(1, -1)][birth .| survive] = Tensor(1)

                M[M .> 0.25] = Tensor(0.25)
                M *= 0.995
                M[Z .== 1] = Tensor(1.0)
            }
            return done([Z, M]) { out in
                try checks("Z", Tensor<Double>(Z), into: &out)
                try checks("M", M, into: &out)
            }
        }
    }

    // MARK: - game of life (game_of_life_python.py: compute_neighbours and iterate as loops)

    public static func lifePython(n: Int = 64, steps: Int = 20, reps: Int = 3) throws -> [String: Double] {
        let Z0 = try Tensor<Int64>(npy: dir("life_python", n) + "Z.npy")
        _ = try Z0[0, 0].item()
        return try bench(reps) {
            var Z = Z0
            for _ in 0..<steps {
                // compute_neighbours
                var N = Tensor<Int64>.zeros([n, n])
                Tandem.loop(1..<n - 1, 1..<n - 1) { x, y in
                    N[x, y] = Z[x - 1, y - 1] + Z[x, y - 1] + Z[x + 1, y - 1]
                            + Z[x - 1, y]                   + Z[x + 1, y]
                            + Z[x - 1, y + 1] + Z[x, y + 1] + Z[x + 1, y + 1]
                }
                // iterate: if Z == 1 and (N < 2 or N > 3): Z = 0 elif Z == 0 and N == 3: Z = 1
                Tandem.loop(1..<n - 1, 1..<n - 1) { x, y in
                    let dies = (Z[x, y] .== 1) .& ((N[x, y] .< 2) .| (N[x, y] .> 3))
                    let born = (Z[x, y] .== 0) .& (N[x, y] .== 3)
                    Z[x, y] = select(dies, Tensor<Int64>(0), select(born, Tensor<Int64>(1), Z[x, y]))
                }
            }
            return done([Z]) { out in
                try checks("Z", Tensor<Double>(Z), into: &out)
            }
        }
    }

    // MARK: - Gray-Scott (gray_scott.py)

    public static func grayScott(n: Int = 256, frames: Int = 20, reps: Int = 3) throws -> [String: Double] {
        let d = dir("gray_scott", n)
        let noiseU = try Tensor<Double>(npy: d + "noise_u.npy"), noiseV = try Tensor<Double>(npy: d + "noise_v.npy")
        _ = try noiseU[0, 0].item() + noiseV[0, 0].item()
        let (Du, Dv, F, k) = (0.16, 0.08, 0.035, 0.065)
        return try bench(reps) {
            var U = Tensor<Double>.zeros([n + 2, n + 2]), V = Tensor<Double>.zeros([n + 2, n + 2])
            // u, v = U[1:-1, 1:-1], V[1:-1, 1:-1]: views in NumPy; here written back through U, V
            let r = 20
            U[.slice(1, -1), .slice(1, -1)] = Tensor(1.0)
            U[n / 2 - r..<n / 2 + r, n / 2 - r..<n / 2 + r] = Tensor(0.50)
            V[n / 2 - r..<n / 2 + r, n / 2 - r..<n / 2 + r] = Tensor(0.25)
            U[.slice(1, -1), .slice(1, -1)] += 0.05 * noiseU
            V[.slice(1, -1), .slice(1, -1)] += 0.05 * noiseV
            var vmin = 0.0, vmax = 0.0
            for _ in 0..<frames {
                for _ in 0..<10 {
                    let u = U[.slice(1, -1), .slice(1, -1)], v = V[.slice(1, -1), .slice(1, -1)]
                    let Lu = (                                    U[.slice(0, -2), .slice(1, -1)] +
                              U[.slice(1, -1), .slice(0, -2)] - 4 * U[.slice(1, -1), .slice(1, -1)] + U[.slice(1, -1), 2...] +
                                                                  U[2..., .slice(1, -1)])
                    let Lv = (                                    V[.slice(0, -2), .slice(1, -1)] +
                              V[.slice(1, -1), .slice(0, -2)] - 4 * V[.slice(1, -1), .slice(1, -1)] + V[.slice(1, -1), 2...] +
                                                                  V[2..., .slice(1, -1)])
                    let uvv = u * v * v
                    U[.slice(1, -1), .slice(1, -1)] += (Du * Lu - uvv + F * (1 - u))
                    V[.slice(1, -1), .slice(1, -1)] += (Dv * Lv + uvv - (F + k) * v)
                }
                vmin = try V.min().item()
                vmax = try V.max().item()
            }
            return done([U, V]) { out in
                try checks("U", U, into: &out)
                try checks("V", V, into: &out)
                out["vmin"] = vmin
                out["vmax"] = vmax
            }
        }
    }

    // MARK: - Mandelbrot (mandelbrot_numpy_1.py)

    public static func mandelbrot1(xn: Int = 512, yn: Int = 512, maxiter: Int = 64, reps: Int = 3, variant: Int = 0) throws -> [String: Double] {
        let (xmin, xmax, ymin, ymax, horizon): (Float, Float, Float, Float, Float) = (-2.25, 0.75, -1.25, 1.25, 2.0)
        return try bench(reps) {
            let X = Tensor<Float>.linspace(xmin, xmax, count: xn)
            let Y = Tensor<Float>.linspace(ymin, ymax, count: yn)
            let C = ComplexTensor(real: X[.newAxis, .all], imaginary: Y[.all, .newAxis])
            var N = Tensor<Int64>.zeros(C.shape)
            var Z = ComplexTensor<Float>.zeros(C.shape)
            for n in 0..<maxiter {
                let I = Z.abs() .< horizon
                N[I] = Tensor(Int64(n))
                if variant == 0 {
                    Z[I] = Z[I].pow(2) + C[I]
                } else {                              // not the book's: the lazy form, for comparison
                    Z = select(I, Z.pow(2) + C, Z)
                }
            }
            N[N .== Int64(maxiter - 1)] = Tensor(0)
            return done([N, Z]) { out in
                try checks("N", Tensor<Double>(N), into: &out)
                try checks("Zabs", Tensor<Double>(Z.abs()), into: &out)
                try checks("Zre", Tensor<Double>(Z.real), into: &out)
            }
        }
    }

    // MARK: - Mandelbrot (mandelbrot_numpy_2.py: only the points not yet escaped)

    public static func mandelbrot2(xn: Int = 512, yn: Int = 512, itermax: Int = 64, reps: Int = 3) throws -> [String: Double] {
        let (xmin, xmax, ymin, ymax, horizon): (Float, Float, Float, Float, Float) = (-2.25, 0.75, -1.25, 1.25, 2.0)
        return try bench(reps) {
            let grid = Tensor<Int64>.indices([xn, yn])          // np.mgrid[0:xn, 0:yn]
            var Xi = Tensor<UInt32>(grid[0]), Yi = Tensor<UInt32>(grid[1])
            let X = Tensor<Float>.linspace(xmin, xmax, count: xn)[Xi]
            let Y = Tensor<Float>.linspace(ymin, ymax, count: yn)[Yi]
            var C = ComplexTensor(real: X, imaginary: Y)
            var N_ = Tensor<UInt32>.zeros(C.shape)
            var Z_ = ComplexTensor<Float>.zeros(C.shape)
            Xi = Xi.reshaped([xn * yn])
            Yi = Yi.reshaped([xn * yn])
            C = C.reshaped([xn * yn])

            var Z = ComplexTensor<Float>.zeros(C.shape)
            for i in 0..<itermax {
                if Z.count == 0 { break }
                Z = Z * Z
                Z = Z + C
                var I = Z.abs() .> horizon
                N_[Xi[I], Yi[I]] = Tensor(UInt32(i + 1))
                Z_[Xi[I], Yi[I]] = Z[I]
                I = .!I
                Z = Z[I]
                (Xi, Yi) = (Xi[I], Yi[I])
                C = C[I]
            }
            let (Zt, Nt) = (Z_.transposed, N_.transposed)
            let left = Z.count
            return done([Nt, Zt]) { out in
                try checks("N", Tensor<Double>(Nt), into: &out)
                try checks("Zabs", Tensor<Double>(Zt.abs()), into: &out)
                try checks("Zre", Tensor<Double>(Zt.real), into: &out)
                out["left"] = Double(left)
            }
        }
    }

    // MARK: - Boids (boid_numpy.py, Flock.run)

    static func flockRun(_ position: inout Tensor<Float>, _ velocity: inout Tensor<Float>, width: Float, height: Float) {
        let (minVelocity, maxVelocity, maxAcceleration) = (0.5, 2.0, 0.03)
        let n = position.shape[0]

        let dx = outer(position[.all, 0], position[.all, 0], -)
        let dy = outer(position[.all, 1], position[.all, 1], -)
        let distance = hypot(dx, dy)

        // Compute common distance masks
        let mask0 = distance .> 0
        var mask1 = distance .< 25
        var mask2 = distance .< 50
        mask1 = mask1 .& mask0          // mask_1 *= mask_0
        mask2 = mask2 .& mask0
        let mask3 = mask2
        let mask1Count = Tensor.maximum(mask1.sum(axis: 1), 1)
        let mask2Count = Tensor.maximum(mask2.sum(axis: 1), 1)
        let mask3Count = mask2Count

        // Separation
        var (mask, count) = (mask1, mask1Count)
        var target3 = Tensor.dstack([dx, dy])
        let distance3 = distance.reshaped([n, n, 1])
        target3 = select(distance3 .!= 0, target3 / distance3.pow(2), target3)
        // float32 sum / int64 count: float64 in NumPy
        var steer = Tensor<Double>((target3 * Tensor<Float>(mask.reshaped([n, n, 1]))).sum(axis: 1)) / Tensor<Double>(count.reshaped([n, 1]))
        var norm = (steer * steer).sum(axis: 1).sqrt().reshaped([n, 1])
        steer = maxVelocity * select(norm .!= 0, steer / norm, steer)
        steer -= Tensor<Double>(velocity)

        // Limit acceleration
        norm = (steer * steer).sum(axis: 1).sqrt().reshaped([n, 1])
        steer = select(norm .> maxAcceleration, steer * (maxAcceleration / norm), steer)
        let separation = steer

        // Alignment
        (mask, count) = (mask2, mask2Count)
        var target = Tensor<Double>(matmul(Tensor<Float>(mask), velocity)) / Tensor<Double>(count.reshaped([n, 1]))
        norm = (target * target).sum(axis: 1).sqrt().reshaped([n, 1])
        target = maxVelocity * select(norm .!= 0, target / norm, target)
        steer = target - Tensor<Double>(velocity)
        norm = (steer * steer).sum(axis: 1).sqrt().reshaped([n, 1])
        steer = select(norm .> maxAcceleration, steer * (maxAcceleration / norm), steer)
        let alignment = steer

        // Cohesion
        (mask, count) = (mask3, mask3Count)
        target = Tensor<Double>(matmul(Tensor<Float>(mask), position)) / Tensor<Double>(count.reshaped([n, 1]))
        var desired = target - Tensor<Double>(position)
        norm = (desired * desired).sum(axis: 1).sqrt().reshaped([n, 1])
        desired *= maxVelocity / norm
        steer = desired - Tensor<Double>(velocity)
        norm = (steer * steer).sum(axis: 1).sqrt().reshaped([n, 1])
        steer = select(norm .> maxAcceleration, steer * (maxAcceleration / norm), steer)
        let cohesion = steer

        let acceleration = 1.5 * separation + alignment + cohesion
        velocity = Tensor<Float>(Tensor<Double>(velocity) + acceleration)     // velocity += acceleration

        let vnorm = (velocity * velocity).sum(axis: 1).sqrt().reshaped([n, 1])
        velocity = select(vnorm .> Float(maxVelocity), velocity * (Float(maxVelocity) / vnorm), velocity)
        velocity = select(vnorm .< Float(minVelocity), velocity * (Float(minVelocity) / vnorm), velocity)
        position += velocity

        // Wraparound
        position += Tensor<Float>([width, height])
        position = position.mod(Tensor<Float>([width, height]))
    }

    public static func boids(n: Int = 500, steps: Int = 20, reps: Int = 3) throws -> [String: Double] {
        let d = dir("boids", n)
        let velocity0 = try Tensor<Float>(npy: d + "velocity.npy"), position0 = try Tensor<Float>(npy: d + "position.npy")
        _ = try velocity0[0, 0].item() + position0[0, 0].item()
        return try bench(reps) {
            var (position, velocity) = (position0, velocity0)
            for _ in 0..<steps {
                flockRun(&position, &velocity, width: 640, height: 360)
            }
            let rotate = Float(-Double.pi / 2) + Tensor.atan2(velocity[.all, 1], velocity[.all, 0])
            return done([position, velocity, rotate]) { out in
                try checks("position", Tensor<Double>(position), into: &out)
                try checks("velocity", Tensor<Double>(velocity), into: &out)
                try checks("rotate", Tensor<Double>(rotate), into: &out)
            }
        }
    }

    // MARK: - Maze, Bellman-Ford (maze_numpy.py)

    static func bellmanFord(_ Zin: Tensor<Bool>, _ start: (Int, Int), _ goal: (Int, Int)) throws -> (Tensor<Double>, [(Int, Int)], Int) {
        // We reverse Z such that walls have value 0
        let Z = 1 - Tensor<Int64>(Zin)
        var G = Tensor<Double>.zeros(Z.shape)
        G[start.0, start.1] = Tensor(1.0)
        let gamma = 0.99
        var iterations = 0
        var G_gamma = Tensor<Double>.zeros(G.shape)          // np.empty_like(G)
        while try G[goal.0, goal.1].item() == 0.0 {
            G_gamma = G * gamma                               // np.multiply(G, gamma, out=G_gamma)
            let N = G_gamma[.slice(0, -2), .slice(1, -1)]
            let W = G_gamma[.slice(1, -1), .slice(0, -2)]
            let C = G[.slice(1, -1), .slice(1, -1)]
            let E = G_gamma[.slice(1, -1), 2...]
            let S = G_gamma[2..., .slice(1, -1)]
            G[.slice(1, -1), .slice(1, -1)] = Tensor<Double>(Z[.slice(1, -1), .slice(1, -1)])
                * Tensor.maximum(N, Tensor.maximum(W, Tensor.maximum(C, Tensor.maximum(E, S))))
            iterations += 1
        }
        // Descent gradient to find shortest path from entrance to exit
        var (y, x) = goal
        var P: [(Int, Int)] = []
        let dirs = [(0, -1), (0, +1), (-1, 0), (+1, 0)]
        while (x, y) != start {
            P.append((x, y))
            var neighbours: [Double] = [-1, -1, -1, -1]
            if x > 0 { neighbours[0] = try G[y, x - 1].item() }
            if x < G.shape[1] - 1 { neighbours[1] = try G[y, x + 1].item() }
            if y > 0 { neighbours[2] = try G[y - 1, x].item() }
            if y < G.shape[0] - 1 { neighbours[3] = try G[y + 1, x].item() }
            let a = neighbours.firstIndex(of: neighbours.max()!)!      // np.argmax(neighbours)
            (x, y) = (x + dirs[a].1, y + dirs[a].0)
        }
        P.append((x, y))
        return (G, P, iterations)
    }

    public static func maze(rows: Int = 41, cols: Int = 81, reps: Int = 3) throws -> [String: Double] {
        let Z = try Tensor<Bool>(npy: dir("maze", rows, cols) + "Z.npy")
        _ = try Z[0, 0].item()
        return try bench(reps) {
            let (start, goal) = ((1, 1), (Z.shape[0] - 2, Z.shape[1] - 2))
            let (G, P, iterations) = try bellmanFord(Z, start, goal)
            let Pt = Tensor<Double>(P.flatMap { [Double($0.0), Double($0.1)] }, shape: [P.count, 2])
            return done([G]) { out in
                try checks("G", G, into: &out)
                try checks("P", Pt, into: &out)
                out["path_len"] = Double(P.count)
                out["iterations"] = Double(iterations)
            }
        }
    }

    // MARK: - Smoke (smoke_solver.py, Stam's stable fluids; smoke_1.py's set-up)

    typealias F32 = Tensor<Float>
    nonisolated(unsafe) static var smokeSliceWrite = false

    static func setBnd(_ N: Int, _ b: Int, _ x: inout F32) {
        if b == 1 {
            x[0, .slice(1, -1)] = -x[1, .slice(1, -1)]
            x[-1, .slice(1, -1)] = -x[N, .slice(1, -1)]
        } else {
            x[0, .slice(1, -1)] = x[1, .slice(1, -1)]
            x[-1, .slice(1, -1)] = x[N, .slice(1, -1)]
        }
        if b == 2 {
            x[.slice(1, -1), 0] = -x[.slice(1, -1), 1]
            x[.slice(1, -1), -1] = -x[.slice(1, -1), N]
        } else {
            x[.slice(1, -1), 0] = x[.slice(1, -1), 1]
            x[.slice(1, -1), -1] = x[.slice(1, -1), N]
        }
        x[0, 0] = 0.5 * (x[1, 0] + x[0, 1])
        x[0, -1] = 0.5 * (x[1, -1] + x[0, N])
        x[-1, 0] = 0.5 * (x[N, 0] + x[-1, 1])
        x[-1, -1] = 0.5 * (x[N, -1] + x[-1, N])
    }

    static func linSolve(_ N: Int, _ b: Int, _ x: inout F32, _ x0: F32, _ a: Double, _ c: Double) {
        for _ in 0..<20 {
            x[.slice(1, -1), .slice(1, -1)] = (x0[.slice(1, -1), .slice(1, -1)] +
                                               Float(a) * (x[..<N, .slice(1, -1)] + x[2..., .slice(1, -1)] +
                                                           x[.slice(1, -1), ..<N] + x[.slice(1, -1), 2...])) / Float(c)
            setBnd(N, b, &x)
        }
    }

    static func addSource(_ N: Int, _ x: inout F32, _ s: F32, _ dt: Double) {
        x += Float(dt) * s
    }

    static func diffuse(_ N: Int, _ b: Int, _ x: inout F32, _ x0: F32, _ diff: Double, _ dt: Double) {
        let a = dt * diff * Double(N) * Double(N)
        linSolve(N, b, &x, x0, a, 1 + 4 * a)
    }

    static func advect(_ N: Int, _ b: Int, _ d: inout F32, _ d0: F32, _ u: F32, _ v: F32, _ dt: Double) {
        let dt0 = dt * Double(N)
        let IJ = Tensor<Int64>.indices([N, N])
        var (I, J) = (IJ[0], IJ[1])
        I += 1
        J += 1
        // int64 - float32 is float64 in NumPy
        var X = Tensor<Double>(I) - Tensor<Double>(Float(dt0) * u[I, J])
        var Y = Tensor<Double>(J) - Tensor<Double>(Float(dt0) * v[I, J])

        X = Tensor.minimum(Tensor.maximum(X, 0.5), Double(N) + 0.5)
        let I0 = Tensor<Int64>(X)
        let I1 = I0 + 1
        let S1 = X - Tensor<Double>(I0)
        let S0 = 1 - S1

        Y = Tensor.minimum(Tensor.maximum(Y, 0.5), Double(N) + 0.5)
        let J0 = Tensor<Int64>(Y)
        let J1 = J0 + 1
        let T1 = Y - Tensor<Double>(J0)
        let T0 = 1 - T1

        let left = S0 * (T0 * Tensor<Double>(d0[I0, J0]) + T1 * Tensor<Double>(d0[I0, J1]))
        let right = S1 * (T0 * Tensor<Double>(d0[I1, J0]) + T1 * Tensor<Double>(d0[I1, J1]))
        if smokeSliceWrite {                      // not the book's: the same points as a slice write
            d[1...N, 1...N] = Tensor<Float>(left + right)
        } else {
            d[I, J] = Tensor<Float>(left + right)
        }
        setBnd(N, b, &d)
    }

    static func project(_ N: Int, _ u: inout F32, _ v: inout F32, _ p: inout F32, _ div: inout F32) {
        let h = 1.0 / Double(N)
        div[.slice(1, -1), .slice(1, -1)] = (Float(-0.5 * h) *
                                             (u[2..., .slice(1, -1)] - u[0..<N, .slice(1, -1)] +
                                              v[.slice(1, -1), 2...] - v[.slice(1, -1), 0..<N]))
        p[.slice(1, -1), .slice(1, -1)] = Tensor(0)
        setBnd(N, 0, &div)
        setBnd(N, 0, &p)
        linSolve(N, 0, &p, div, 1, 4)
        u[.slice(1, -1), .slice(1, -1)] -= 0.5 * (p[2..., .slice(1, -1)] - p[0..<N, .slice(1, -1)]) / Float(h)
        v[.slice(1, -1), .slice(1, -1)] -= 0.5 * (p[.slice(1, -1), 2...] - p[.slice(1, -1), 0..<N]) / Float(h)
        setBnd(N, 1, &u)
        setBnd(N, 2, &v)
    }

    // Python swaps names of arrays that the functions write in place; with value semantics the
    // same data flow is these swaps of the inout variables (two each, so every caller's variable
    // ends up holding what NumPy's array object holds).
    static func densStep(_ N: Int, _ x: inout F32, _ x0: inout F32, _ u: F32, _ v: F32, _ diff: Double, _ dt: Double) {
        addSource(N, &x, x0, dt)
        swap(&x0, &x)
        diffuse(N, 0, &x, x0, diff, dt)
        swap(&x0, &x)
        advect(N, 0, &x, x0, u, v, dt)
    }

    static func velStep(_ N: Int, _ u: inout F32, _ v: inout F32, _ u0: inout F32, _ v0: inout F32, _ visc: Double, _ dt: Double) {
        addSource(N, &u, u0, dt)
        addSource(N, &v, v0, dt)
        swap(&u0, &u)
        diffuse(N, 1, &u, u0, visc, dt)
        swap(&v0, &v)
        diffuse(N, 2, &v, v0, visc, dt)
        project(N, &u, &v, &u0, &v0)
        swap(&u0, &u)
        swap(&v0, &v)
        advect(N, 1, &u, u0, u0, v0, dt)
        advect(N, 2, &v, v0, u0, v0, dt)
        project(N, &u, &v, &u0, &v0)
    }

    public static func smoke(N: Int = 128, steps: Int = 10, reps: Int = 3, variant: Int = 0) throws -> [String: Double] {
        smokeSliceWrite = variant == 1
        let d = dir("smoke", N)
        let noiseU = try Tensor<Double>(npy: d + "noise_u.npy"), noiseV = try Tensor<Double>(npy: d + "noise_v.npy")
        _ = try noiseU[0, 0].item() + noiseV[0, 0].item()
        let size = N + 2
        let (dt, diff, visc, force, source) = (0.1, 0.0, 0.0, 5.0, 100.0)
        return try bench(reps) {
            var u = F32.zeros([size, size]), uPrev = F32.zeros([size, size])
            var v = F32.zeros([size, size]), vPrev = F32.zeros([size, size])
            var dens = F32.zeros([size, size]), densPrev = F32.zeros([size, size])

            func disc(radius: Double) -> Tensor<Bool> {
                let center = (Double(size) / 2, Double(size) / 2)
                let xy = Tensor<Double>.indices([size, size])      // np.fromfunction's arguments
                let D = ((xy[0] - center.0).pow(2) + (xy[1] - center.1).pow(2)).sqrt()
                return D .<= radius
            }
            let D = disc(radius: 32) .^ disc(radius: 16)
            dens[.ellipsis] = Tensor<Float>(Tensor<Double>(D) * source / 10)
            u[.all, .all] = Tensor<Float>(force * 0.1 * noiseU)
            v[.all, .all] = Tensor<Float>(force * 0.1 * noiseV)
            var (lo, hi): (Float, Float) = (0, 0)
            for _ in 0..<steps {
                velStep(N, &u, &v, &uPrev, &vPrev, visc, dt)
                densStep(N, &dens, &densPrev, u, v, diff, dt)
                (lo, hi) = (try dens.min().item(), try dens.max().item())
            }
            return done([dens, u, v]) { out in
                try checks("dens", Tensor<Double>(dens), into: &out)
                try checks("u", Tensor<Double>(u), into: &out)
                try checks("v", Tensor<Double>(v), into: &out)
                out["dens_min"] = Double(lo)
                out["dens_max"] = Double(hi)
            }
        }
    }

    // MARK: - Fractal dimension (fractal_dimension.py)

    static func fractalDimension(_ Zin: Tensor<Double>, threshold: Double = 0.9) throws -> (Double, [Int]) {
        func boxcount(_ Z: Tensor<Bool>, _ k: Int) throws -> Int {
            let S = try Z.addReduceAt(Array(stride(from: 0, to: Z.shape[0], by: k)), axis: 0)
                         .addReduceAt(Tensor<Int64>.arange(0, Int64(Z.shape[1]), step: Int64(k)), axis: 1)
            return try ((S .> 0) .& (S .< Int64(k * k))).nonzero()[0].count
        }
        let Z = Zin .< threshold
        let p = Swift.min(Z.shape[0], Z.shape[1])
        let nf = Foundation.pow(2, Foundation.floor(Foundation.log(Double(p)) / Foundation.log(2.0)))
        let n = Int(Foundation.log(nf) / Foundation.log(2.0))
        let sizes = pow(Tensor<Int64>(2), Tensor<Int64>.arange(Int64(n), 1, step: -1))   // 2**np.arange(n, 1, -1)
        var counts: [Int] = []
        for size in try sizes.scalars {
            counts.append(try boxcount(Z, Int(size)))
        }
        let coeffs = try Tensor.polyfit(Tensor<Double>(sizes).log(), Tensor<Double>(counts.map(Double.init)).log(), degree: 1)
        return (-(try coeffs[0].item()), counts)
    }

    public static func fractal(n: Int = 512, m: Int = 768, reps: Int = 3) throws -> [String: Double] {
        let img = try Tensor<Double>(npy: dir("fractal", n, m) + "Z.npy")
        _ = try img[0, 0].item()
        var result: (Double, [Int]) = (0, [])
        return try bench(reps) {
            result = try fractalDimension(img, threshold: 0.25)
            let r = result
            return done([]) { out in
                out["dimension"] = r.0
                for (i, c) in r.1.enumerated() { out["count\(i)"] = Double(c) }
            }
        }
    }

    // MARK: - Random walk (random_walk.py: random_walk_fastest, find_crossing_2)

    static func findCrossing2(_ seq: Tensor<Int64>, _ sub: Tensor<Int64>) throws -> Tensor<Int64> {
        let target = sub.dot(sub)
        // np.correlate of int64: Tandem's correlate takes floats only
        let candidates = try (Tensor<Double>(seq).correlate(Tensor<Double>(sub), mode: .valid) .== Tensor<Double>(target)).nonzero()[0]
        let check = candidates[.all, .newAxis] + Tensor<Int64>.arange(Int64(sub.count))
        let mask = (seq.take(check) .== sub).all(axis: -1)
        return candidates[mask]
    }

    public static func walk(n: Int = 1000, reps: Int = 3) throws -> [String: Double] {
        let steps0 = try Tensor<Int64>(npy: dir("walk", n) + "steps.npy")
        _ = try steps0[0].item()
        return try bench(reps) {
            let steps = steps0
            let W = try steps.cumsum()
            let C = try findCrossing2(W, Tensor<Int64>([+1, 0, -1]))
            return done([W, C]) { out in
                try checks("W", Tensor<Double>(W), into: &out)
                out["crossings"] = Double(C.count)
                out["crossing_sum"] = Double(try C.sum().item())
                out["crossing_first"] = C.count > 0 ? Double(try C[0].item()) : -1
            }
        }
    }

    // MARK: - DART sampling (DART_sampling_numpy.py)

    public static func dart(radius: Double = 0.05, k: Int = 100, reps: Int = 3) throws -> [String: Double] {
        let (width, height) = (1.0, 1.0)
        var n = Int((width + radius) * (height + radius) / (2 * (radius / 2) * (radius / 2) * (3.0).squareRoot())) + 1
        n = 5 * n
        let P0 = try Tensor<Double>(npy: dir("dart", n) + "P.npy")
        _ = try P0[0, 0].item()
        return try bench(reps) {
            let P = P0
            // cdist(P, P)
            let delta = P[.all, .newAxis, .all] - P[.newAxis, .all, .all]
            var D = (delta * delta).sum(axis: 2).sqrt()
            let diagonal = Tensor<Int64>.arange(Int64(n))
            D[diagonal, diagonal] = Tensor(1e10)
            var points = [P[0]], indices: [Int64] = [0]
            var i = 1
            var lastSuccess = 0
            while i < n && i - lastSuccess < k {
                if try D[i, Tensor<Int64>(indices)].min().item() > radius {
                    indices.append(Int64(i))
                    points.append(P[i])
                    lastSuccess = i
                }
                i += 1
            }
            let pts = Tensor.stack(points)
            let last = i
            return done([pts]) { out in
                try checks("points", pts, into: &out)
                out["count"] = Double(points.count)
                out["n"] = Double(n)
                out["last_i"] = Double(last)
            }
        }
    }

    // MARK: - Reproducers (kind=1: host scatters into a large tensor, timed per write)

    public static func repro(kind: Int = 1, n: Int = 768, writes: Int = 100) throws -> [String: Double] {
        var out: [String: Double] = [:]
        func time(_ body: () throws -> Void) rethrows -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        }
        if kind == 1 {
            let i = Tensor<Int64>([1, 2, 3]), j = Tensor<Int64>([4, 5, 6])
            var big = Tensor<UInt32>.zeros([n, n])
            _ = try big.sum().item()
            out["two_index_write_s"] = try time {
                for k in 0..<writes { big[i, j] = Tensor(UInt32(k)) }
                _ = try big.sum().item()
            } / Double(writes)
            var flat = Tensor<Double>.zeros([n * n])
            _ = try flat.sum().item()
            out["flat_index_write_s"] = try time {
                for k in 0..<writes { flat[i] = Tensor(Double(k)) }
                _ = try flat.sum().item()
            } / Double(writes)
            var z = ComplexTensor<Float>.zeros([n, n])
            _ = try z.real.sum().item()
            let v = ComplexTensor<Float>(Tensor<Float>([1, 2, 3]))
            out["complex_two_index_write_s"] = try time {
                for _ in 0..<writes { z[i, j] = v }
                _ = try z.real.sum().item()
            } / Double(writes)
            out["check"] = Double(try big.sum().item()) + (try flat.sum().item()) + Double(try z.real.sum().item())
        }
        return out
    }
}
