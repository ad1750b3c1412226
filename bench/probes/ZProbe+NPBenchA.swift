import Foundation
import Tandem

// npbench (spcl/npbench) kernels ported line by line from their NumPy versions by a held-out
// tester who read only the README and the public doc comments; registered as `n5_*` examples by
// examples5a.txt. Inputs: npbench's `initialize`, saved by `python3 bench/probes/npbench_a.py NAME
// [S|M]` under /tmp/npb/NAME_<size>/ (m=0: S, m=1: M). Each program runs its kernel `reps` times
// in one process, each rep forced to completion by reading its outputs' checksums, and returns
// first_s (first rep, compiles included), best_s (best of the rest) and the last rep's checksums
// (the keys npbench_a.py prints).
public enum ZNPBenchA {
    static func dir(_ name: String, _ m: Int) -> String { "/tmp/npb/\(name)_\(m == 0 ? "S" : "M")/" }

    typealias Rep = (outputs: [any TensorParts], checks: () throws -> [String: Double])

    /// One rep's outputs (waited for inside the timing: `Tandem.wait`) and its checksums (read after
    /// the timing, for the last rep only: NumPy's timing has no checksum reads either).
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

    static func checks(_ key: String, _ z: ComplexTensor<Double>, into out: inout [String: Double]) throws {
        let f = z.flattened()
        out[key + "_re_sum"] = try f.real.sum().item()
        out[key + "_im_sum"] = try f.imaginary.sum().item()
        out[key + "_abs"] = try f.abs().sum().item()
        for (tag, i) in [("e0", 0), ("emid", f.count / 2), ("elast", f.count - 1)] {
            let v = try f[i].item()
            out["\(key)_\(tag)_re"] = v.real
            out["\(key)_\(tag)_im"] = v.imaginary
        }
    }

    // MARK: - weather_stencils/hdiff

    public static func hdiff(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("hdiff", m)
        let inField = try Tensor<Double>(npy: d + "in_field.npy")
        let outField0 = try Tensor<Double>(npy: d + "out_field.npy")
        let coeff = try Tensor<Double>(npy: d + "coeff.npy")
        _ = try inField[0, 0, 0].item() + outField0[0, 0, 0].item() + coeff[0, 0, 0].item()
        return try bench(reps) {
            var outField = outField0
            let (I, J) = (outField.shape[0], outField.shape[1])
            let neighbours = inField[2..<I + 4, 1..<J + 3, .all] + inField[0..<I + 2, 1..<J + 3, .all]
                + inField[1..<I + 3, 2..<J + 4, .all] + inField[1..<I + 3, 0..<J + 2, .all]
            let lapField = 4.0 * inField[1..<I + 3, 1..<J + 3, .all] - neighbours

            var res = lapField[1..., 1..<J + 1, .all] - lapField[..<(-1), 1..<J + 1, .all]
            let flxField: Tensor<Double> = `where`(
                res * (inField[2..<I + 3, 2..<J + 2, .all] - inField[1..<I + 2, 2..<J + 2, .all]) .> 0, 0, res)

            res = lapField[1..<I + 1, 1..., .all] - lapField[1..<I + 1, ..<(-1), .all]
            let flyField: Tensor<Double> = `where`(
                res * (inField[2..<I + 2, 2..<J + 3, .all] - inField[2..<I + 2, 1..<J + 2, .all]) .> 0, 0, res)

            let fluxes = flxField[1..., .all, .all] - flxField[..<(-1), .all, .all] + flyField[.all, 1..., .all]
                - flyField[.all, ..<(-1), .all]
            outField[.all, .all, .all] = inField[2..<I + 2, 2..<J + 2, .all] - coeff[.all, .all, .all] * fluxes
            return done([outField]) { out in
                try checks("out_field", outField, into: &out)
            }
        }
    }

    // MARK: - weather_stencils/vadv

    public static func vadv(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("vadv", m)
        let utensStage0 = try Tensor<Double>(npy: d + "utens_stage.npy")
        let uStage = try Tensor<Double>(npy: d + "u_stage.npy")
        let wcon = try Tensor<Double>(npy: d + "wcon.npy")
        let uPos = try Tensor<Double>(npy: d + "u_pos.npy")
        let utens = try Tensor<Double>(npy: d + "utens.npy")
        let dtrStage = try Tensor<Double>(npy: d + "dtr_stage.npy").item()
        _ = try utensStage0[0, 0, 0].item() + uStage[0, 0, 0].item() + wcon[0, 0, 0].item()
            + uPos[0, 0, 0].item() + utens[0, 0, 0].item()
        let BET_M = 0.5, BET_P = 0.5
        return try bench(reps) {
            var utensStage = utensStage0
            let (I, J, K) = (utensStage.shape[0], utensStage.shape[1], utensStage.shape[2])
            var ccol = Tensor<Double>.zeros([I, J, K])   // np.ndarray: uninitialised
            var dcol = Tensor<Double>.zeros([I, J, K])
            var dataCol = Tensor<Double>.zeros([I, J])

            for k in 0..<1 {
                let gcv = 0.25 * (wcon[1..., .all, k + 1] + wcon[..<(-1), .all, k + 1])
                let cs = gcv * BET_M

                ccol[.all, .all, k] = gcv * BET_P
                let bcol = dtrStage - ccol[.all, .all, k]

                let correctionTerm = -cs * (uStage[.all, .all, k + 1] - uStage[.all, .all, k])
                dcol[.all, .all, k] = dtrStage * uPos[.all, .all, k] + utens[.all, .all, k]
                    + utensStage[.all, .all, k] + correctionTerm

                let divided = 1.0 / bcol
                ccol[.all, .all, k] = ccol[.all, .all, k] * divided
                dcol[.all, .all, k] = dcol[.all, .all, k] * divided
            }

            for k in 1..<(K - 1) {
                let gav = -0.25 * (wcon[1..., .all, k] + wcon[..<(-1), .all, k])
                let gcv = 0.25 * (wcon[1..., .all, k + 1] + wcon[..<(-1), .all, k + 1])

                let as_ = gav * BET_M
                let cs = gcv * BET_M

                let acol = gav * BET_P
                ccol[.all, .all, k] = gcv * BET_P
                let bcol = dtrStage - acol - ccol[.all, .all, k]

                let lower = -as_ * (uStage[.all, .all, k - 1] - uStage[.all, .all, k])
                let correctionTerm = lower - cs * (uStage[.all, .all, k + 1] - uStage[.all, .all, k])
                dcol[.all, .all, k] = dtrStage * uPos[.all, .all, k] + utens[.all, .all, k]
                    + utensStage[.all, .all, k] + correctionTerm

                let divided = 1.0 / (bcol - ccol[.all, .all, k - 1] * acol)
                ccol[.all, .all, k] = ccol[.all, .all, k] * divided
                dcol[.all, .all, k] = (dcol[.all, .all, k] - dcol[.all, .all, k - 1] * acol) * divided
            }

            for k in (K - 1)..<K {
                let gav = -0.25 * (wcon[1..., .all, k] + wcon[..<(-1), .all, k])
                let as_ = gav * BET_M
                let acol = gav * BET_P
                let bcol = dtrStage - acol

                let correctionTerm = -as_ * (uStage[.all, .all, k - 1] - uStage[.all, .all, k])
                dcol[.all, .all, k] = dtrStage * uPos[.all, .all, k] + utens[.all, .all, k]
                    + utensStage[.all, .all, k] + correctionTerm

                let divided = 1.0 / (bcol - ccol[.all, .all, k - 1] * acol)
                dcol[.all, .all, k] = (dcol[.all, .all, k] - dcol[.all, .all, k - 1] * acol) * divided
            }

            for k in stride(from: K - 1, to: K - 2, by: -1) {
                let datacol = dcol[.all, .all, k]
                dataCol[.all, .all] = datacol
                utensStage[.all, .all, k] = dtrStage * (datacol - uPos[.all, .all, k])
            }

            for k in stride(from: K - 2, to: -1, by: -1) {
                let datacol = dcol[.all, .all, k] - ccol[.all, .all, k] * dataCol[.all, .all]
                dataCol[.all, .all] = datacol
                utensStage[.all, .all, k] = dtrStage * (datacol - uPos[.all, .all, k])
            }
            return done([utensStage]) { out in
                try checks("utens_stage", utensStage, into: &out)
            }
        }
    }

    // MARK: - deep_learning/softmax

    static func softmax(_ x: Tensor<Float>) -> Tensor<Float> {
        let tmpMax = x.max(axis: -1, keepDims: true)
        let tmpOut = (x - tmpMax).exp()
        let tmpSum = tmpOut.sum(axis: -1, keepDims: true)
        return tmpOut / tmpSum
    }

    public static func softmax(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let x = try Tensor<Float>(npy: dir("softmax", m) + "x.npy")
        _ = try x[0, 0, 0, 0].item()
        return try bench(reps) {
            let r = softmax(x)
            return done([r]) { out in
                try checks("out", Tensor<Double>(r), into: &out)
            }
        }
    }

    // MARK: - deep_learning/conv2d_bias (also lenet's and resnet's conv2d)

    /// npbench's conv2d: a Python loop over output pixels, each a sum of a broadcast product.
    static func conv2d(_ input: Tensor<Float>, _ weights: Tensor<Float>) -> Tensor<Float> {
        let K = weights.shape[0]
        let N = input.shape[0]
        let hOut = input.shape[1] - K + 1
        let wOut = input.shape[2] - K + 1
        let cOut = weights.shape[3]
        var output = Tensor<Float>.zeros([N, hOut, wOut, cOut])   // np.empty
        for i in 0..<hOut {
            for j in 0..<wOut {
                output[.all, i, j, .all] = (input[.all, i..<i + K, j..<j + K, .all, .newAxis]
                    * weights[.newAxis, .all, .all, .all]).sum(axes: [1, 2, 3])
            }
        }
        return output
    }

    /// The same with a float64 input (resnet's padded array is float64): NumPy's product is
    /// float64, stored into the float32 output.
    static func conv2d(_ input: Tensor<Double>, _ weights: Tensor<Float>) -> Tensor<Float> {
        let K = weights.shape[0]
        let N = input.shape[0]
        let hOut = input.shape[1] - K + 1
        let wOut = input.shape[2] - K + 1
        let cOut = weights.shape[3]
        let w = Tensor<Double>(weights)
        var output = Tensor<Float>.zeros([N, hOut, wOut, cOut])
        for i in 0..<hOut {
            for j in 0..<wOut {
                output[.all, i, j, .all] = Tensor<Float>((input[.all, i..<i + K, j..<j + K, .all, .newAxis]
                    * w[.newAxis, .all, .all, .all]).sum(axes: [1, 2, 3]))
            }
        }
        return output
    }

    public static func conv2dBias(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("conv2d_bias", m)
        let input = try Tensor<Float>(npy: d + "input.npy")
        let weights = try Tensor<Float>(npy: d + "weights.npy")
        let bias = try Tensor<Float>(npy: d + "bias.npy")
        _ = try input[0, 0, 0, 0].item() + weights[0, 0, 0, 0].item() + bias[0].item()
        return try bench(reps) {
            let r = conv2d(input, weights) + bias
            return done([r]) { out in
                try checks("out", Tensor<Double>(r), into: &out)
            }
        }
    }

    // MARK: - deep_learning/mlp

    static func relu(_ x: Tensor<Float>) -> Tensor<Float> { Tensor.maximum(x, 0) }
    static func relu(_ x: Tensor<Double>) -> Tensor<Double> { Tensor.maximum(x, 0) }

    public static func mlp(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("mlp", m)
        let input = try Tensor<Float>(npy: d + "input.npy")
        let w1 = try Tensor<Float>(npy: d + "w1.npy"), b1 = try Tensor<Float>(npy: d + "b1.npy")
        let w2 = try Tensor<Float>(npy: d + "w2.npy"), b2 = try Tensor<Float>(npy: d + "b2.npy")
        let w3 = try Tensor<Float>(npy: d + "w3.npy"), b3 = try Tensor<Float>(npy: d + "b3.npy")
        _ = try input[0, 0].item() + w1[0, 0].item() + b1[0].item() + w2[0, 0].item() + b2[0].item()
            + w3[0, 0].item() + b3[0].item()
        return try bench(reps) {
            var x = relu(input.matmul(w1) + b1)
            x = relu(x.matmul(w2) + b2)
            x = softmax(x.matmul(w3) + b3)
            return done([x]) { out in
                try checks("out", Tensor<Double>(x), into: &out)
            }
        }
    }

    // MARK: - deep_learning/lenet

    static func maxpool2d(_ x: Tensor<Float>) -> Tensor<Float> {
        var output = Tensor<Float>.zeros([x.shape[0], x.shape[1] / 2, x.shape[2] / 2, x.shape[3]])
        for i in 0..<(x.shape[1] / 2) {
            for j in 0..<(x.shape[2] / 2) {
                output[.all, i, j, .all] = x[.all, (2 * i)..<(2 * i + 2), (2 * j)..<(2 * j + 2), .all].max(axes: [1, 2])
            }
        }
        return output
    }

    public static func lenet(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("lenet", m)
        func f(_ name: String) throws -> Tensor<Float> { try Tensor<Float>(npy: d + name + ".npy") }
        let input = try f("input"), conv1 = try f("conv1"), conv1bias = try f("conv1bias")
        let conv2 = try f("conv2"), conv2bias = try f("conv2bias")
        let fc1w = try f("fc1w"), fc1b = try f("fc1b"), fc2w = try f("fc2w"), fc2b = try f("fc2b")
        let fc3w = try f("fc3w"), fc3b = try f("fc3b")
        for t in [input, conv1, conv1bias, conv2, conv2bias, fc1w, fc1b, fc2w, fc2b, fc3w, fc3b] {
            _ = try t.flattened()[0].item()
        }
        let N = input.shape[0]
        let (H, W) = (input.shape[1], input.shape[2])
        let cBeforeFc1 = 16 * ((((H - 4) / 2) - 4) / 2) * ((((W - 4) / 2) - 4) / 2)
        return try bench(reps) {
            var x = relu(conv2d(input, conv1) + conv1bias)
            x = maxpool2d(x)
            x = relu(conv2d(x, conv2) + conv2bias)
            x = maxpool2d(x)
            x = x.reshaped([N, cBeforeFc1])
            x = relu(x.matmul(fc1w) + fc1b)
            x = relu(x.matmul(fc2w) + fc2b)
            let r = x.matmul(fc3w) + fc3b
            return done([r]) { out in
                try checks("out", Tensor<Double>(r), into: &out)
            }
        }
    }

    // MARK: - azimint_naive, azimint_hist

    public static func azimintNaive(m: Int = 0, npt: Int = 1000, reps: Int = 5) throws -> [String: Double] {
        let d = dir("azimint_naive", m)
        let data = try Tensor<Double>(npy: d + "data.npy"), radius = try Tensor<Double>(npy: d + "radius.npy")
        _ = try data[0].item() + radius[0].item()
        return try bench(reps) {
            let rmax = try radius.max().item()
            var res = Tensor<Double>.zeros([npt])
            for i in 0..<npt {
                let r1 = rmax * Double(i) / Double(npt)
                let r2 = rmax * Double(i + 1) / Double(npt)
                let maskR12 = (radius .>= r1) .& (radius .< r2)
                let valuesR12 = data[maskR12]
                res[i] = valuesR12.mean()
            }
            return done([res]) { out in
                try checks("out", res, into: &out)
            }
        }
    }

    /// `numpy.histogram(a, bins, weights=w)[0]`: Tandem's histogram takes no weights, so NumPy's own
    /// binning (its index formula and edge corrections) written out, then `bincount(weights:)`.
    static func weightedHistogram(_ a: Tensor<Double>, bins: Int, weights: Tensor<Double>) throws -> Tensor<Double> {
        let first = try a.min().item(), last = try a.max().item()
        let edges = Tensor<Double>.linspace(first, last, count: bins + 1)
        let fIndices = (a - first) / (last - first) * Double(bins)
        var indices = Tensor<Int64>(fIndices)
        indices = select(indices .== Int64(bins), indices - 1, indices)
        let decrement = a .< edges[indices]
        indices = indices - Tensor<Int64>(decrement)
        let increment = (a .>= edges[indices + 1]) .& (indices .!= Int64(bins - 1))
        indices = indices + Tensor<Int64>(increment)
        return try indices.bincount(weights: weights, minLength: bins)
    }

    public static func azimintHist(m: Int = 0, npt: Int = 1000, reps: Int = 5) throws -> [String: Double] {
        let d = dir("azimint_hist", m)
        let data = try Tensor<Double>(npy: d + "data.npy"), radius = try Tensor<Double>(npy: d + "radius.npy")
        _ = try data[0].item() + radius[0].item()
        return try bench(reps) {
            let histu = try radius.histogram(bins: npt).counts
            let histw = try weightedHistogram(radius, bins: npt, weights: data)
            let r = histw / Tensor<Double>(histu)
            return done([r]) { out in
                try checks("out", r, into: &out)
            }
        }
    }

    // MARK: - pythran/arc_distance

    public static func arcDistance(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("arc_distance", m)
        let theta1 = try Tensor<Double>(npy: d + "theta_1.npy"), phi1 = try Tensor<Double>(npy: d + "phi_1.npy")
        let theta2 = try Tensor<Double>(npy: d + "theta_2.npy"), phi2 = try Tensor<Double>(npy: d + "phi_2.npy")
        _ = try theta1[0].item() + phi1[0].item() + theta2[0].item() + phi2[0].item()
        return try bench(reps) {
            let a = ((theta2 - theta1) / 2).sin().pow(2)
            let temp = a + theta1.cos() * theta2.cos() * ((phi2 - phi1) / 2).sin().pow(2)
            let distanceMatrix = 2 * Tensor.atan2(temp.sqrt(), (1 - temp).sqrt())
            return done([distanceMatrix]) { out in
                try checks("out", distanceMatrix, into: &out)
            }
        }
    }

    // MARK: - compute

    public static func compute(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("compute", m)
        let array1 = try Tensor<Int64>(npy: d + "array_1.npy"), array2 = try Tensor<Int64>(npy: d + "array_2.npy")
        let a = try Tensor<Int64>(npy: d + "a.npy").item(), b = try Tensor<Int64>(npy: d + "b.npy").item()
        let c = try Tensor<Int64>(npy: d + "c.npy").item()
        _ = try array1[0, 0].item() + array2[0, 0].item()
        return try bench(reps) {
            let r = array1.clip(2, 10) * a + array2 * b + c
            return done([r]) { out in
                try checks("out", Tensor<Double>(r), into: &out)
            }
        }
    }

    // MARK: - go_fast

    public static func goFast(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let a = try Tensor<Double>(npy: dir("go_fast", m) + "a.npy")
        _ = try a[0, 0].item()
        return try bench(reps) {
            var trace = Tensor<Double>(0.0)
            for i in 0..<a.shape[0] {
                trace += a[i, i].tanh()
            }
            let r = a + trace
            return done([r]) { out in
                try checks("out", r, into: &out)
            }
        }
    }

    // MARK: - mandelbrot1, mandelbrot2 (no inputs: npbench's parameters)

    public static func mandelbrot1(xmin: Double = -1.75, xmax: Double = 0.25, xn: Int = 125, ymin: Double = -1.0,
                                   ymax: Double = 1.0, yn: Int = 125, maxiter: Int = 60, horizon: Double = 2.0,
                                   reps: Int = 5) throws -> [String: Double] {
        try bench(reps) {
            let X = Tensor<Double>.linspace(xmin, xmax, count: xn)
            let Y = Tensor<Double>.linspace(ymin, ymax, count: yn)
            let C = ComplexTensor(real: X[.newAxis, .all].broadcast(to: [yn, xn]),
                                  imaginary: Y[.all, .newAxis].broadcast(to: [yn, xn]))
            var N = Tensor<Int64>.zeros(C.shape)
            var Z = ComplexTensor<Double>.zeros(C.shape)
            for n in 0..<maxiter {
                let I = Z.abs() .< horizon
                N[I] = Tensor(Int64(n))
                // Z[I] = Z[I]**2 + C[I]: ComplexTensor has no boolean subscript; elementwise, so a select
                Z = select(I, Z.pow(2) + C, Z)
            }
            N[N .== Int64(maxiter - 1)] = Tensor(Int64(0))
            return done([Z, N]) { out in
                try checks("out0", Z, into: &out)
                try checks("out1", Tensor<Double>(N), into: &out)
            }
        }
    }

    public static func mandelbrot2(xmin: Double = -2.0, xmax: Double = 0.5, xn: Int = 200, ymin: Double = -1.25,
                                   ymax: Double = 1.25, yn: Int = 200, itermax: Int = 40, horizon: Double = 2.0,
                                   reps: Int = 5) throws -> [String: Double] {
        try bench(reps) {
            let grid = Tensor<Int64>.indices([xn, yn])
            var Xi = grid[0], Yi = grid[1]
            let X = Tensor<Double>.linspace(xmin, xmax, count: xn)[Xi]
            let Y = Tensor<Double>.linspace(ymin, ymax, count: yn)[Yi]
            var C = ComplexTensor(real: X, imaginary: Y)
            var N_ = Tensor<Int64>.zeros(C.shape)
            var Z_ = ComplexTensor<Double>.zeros(C.shape)
            Xi = Xi.reshaped([xn * yn])
            Yi = Yi.reshaped([xn * yn])
            C = C.reshaped([xn * yn])

            var Z = ComplexTensor<Double>.zeros(C.shape)
            for i in 0..<itermax {
                if Z.count == 0 { break }

                Z = Z * Z
                Z = Z + C

                let I = Z.abs() .> horizon
                let (xs, ys) = (Xi[I], Yi[I])
                N_[xs, ys] = Tensor(Int64(i + 1))
                // Z_[Xi[I], Yi[I]] = Z[I]: no boolean subscript on ComplexTensor; by parts
                Z_[xs, ys] = ComplexTensor(real: Z.real[I], imaginary: Z.imaginary[I])

                let keep = .!I
                Z = ComplexTensor(real: Z.real[keep], imaginary: Z.imaginary[keep])
                (Xi, Yi) = (Xi[keep], Yi[keep])
                C = ComplexTensor(real: C.real[keep], imaginary: C.imaginary[keep])
            }
            return done([Z_, N_]) { out in
                try checks("out0", Z_.transposed, into: &out)
                try checks("out1", Tensor<Double>(N_.transposed), into: &out)
            }
        }
    }

    // MARK: - contour_integral

    /// `numpy.linalg.solve` of complex systems: Tandem's `solve` takes real tensors only, so the
    /// real 2n x 2n system [[Ar, -Ai], [Ai, Ar]] [Xr; Xi] = [Br; Bi].
    static func complexSolve(_ a: ComplexTensor<Double>, _ b: ComplexTensor<Double>) throws -> ComplexTensor<Double> {
        let n = a.shape[0]
        let top = Tensor.concatenate([a.real, -a.imaginary], axis: 1)
        let bottom = Tensor.concatenate([a.imaginary, a.real], axis: 1)
        let big = Tensor.concatenate([top, bottom], axis: 0)
        let rhs = Tensor.concatenate([b.real, b.imaginary], axis: 0)
        let s = try big.solve(rhs)
        return ComplexTensor(real: s[0..<n], imaginary: s[n...])
    }

    public static func contourIntegral(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("contour_integral", m)
        let ham = try ComplexTensor<Double>(npy: d + "Ham.npy")
        let intPts = try ComplexTensor<Double>(npy: d + "int_pts.npy")
        let Y = try ComplexTensor<Double>(npy: d + "Y.npy")
        let (NR, NM, slabPerBc) = (ham.shape[1], Y.shape[1], ham.shape[0] - 1)
        _ = try ham[0, 0, 0].item().real + intPts[0].item().real + Y[0, 0].item().real
        return try bench(reps) {
            var P0 = ComplexTensor<Double>.zeros([NR, NM])
            var P1 = ComplexTensor<Double>.zeros([NR, NM])
            for z in try intPts.scalars {
                var Tz = ComplexTensor<Double>.zeros([NR, NR])
                for n in 0..<(slabPerBc + 1) {
                    let zz = ComplexTensor(z).pow(Double(slabPerBc) / 2 - Double(n))
                    Tz += zz * ham[n]
                }
                var X: ComplexTensor<Double>
                if NR == NM {
                    X = try complexSolve(Tz, ComplexTensor(Tensor<Double>.eye(NR)))   // inv: no complex inverse either
                } else {
                    X = try complexSolve(Tz, Y)
                }
                if z.length < 1.0 {
                    X = -X
                }
                P0 += X
                P1 += z * X
            }
            return done([P0, P1]) { out in
                try checks("out0", P0, into: &out)
                try checks("out1", P1, into: &out)
            }
        }
    }

    // MARK: - spmv

    public static func spmv(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("spmv", m)
        let aRow = try Tensor<UInt32>(npy: d + "A_row.npy"), aCol = try Tensor<UInt32>(npy: d + "A_col.npy")
        let aVal = try Tensor<Double>(npy: d + "A_val.npy"), x = try Tensor<Double>(npy: d + "x.npy")
        _ = try Double(aRow[0].item()) + Double(aCol[0].item()) + aVal[0].item() + x[0].item()
        return try bench(reps) {
            var y = Tensor<Double>.zeros([aRow.count - 1])   // np.empty
            let rowPtr = try aRow.scalars.map { Int($0) }         // A_row[i] read per row in NumPy
            for i in 0..<(aRow.count - 1) {
                let cols = aCol[rowPtr[i]..<rowPtr[i + 1]]
                let vals = aVal[rowPtr[i]..<rowPtr[i + 1]]
                y[i] = vals.matmul(x[Tensor<Int64>(cols)])    // uint32 is no index type: cast
            }
            return done([y]) { out in
                try checks("out", y, into: &out)
            }
        }
    }

    // MARK: - crc16 (a scalar loop over the bytes: plain Swift on the host)

    public static func crc16(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let data = try Tensor<UInt8>(npy: dir("crc16", m) + "data.npy")
        _ = try data[0].item()
        let poly = 0x8408
        return try bench(reps) {
            var crc = 0xFFFF
            for b in try data.scalars {
                var curByte = 0xFF & Int(b)
                for _ in 0..<8 {
                    if ((crc & 0x0001) ^ (curByte & 0x0001)) != 0 {
                        crc = (crc >> 1) ^ poly
                    } else {
                        crc >>= 1
                    }
                    curByte >>= 1
                }
            }
            crc = (~crc & 0xFFFF)
            crc = (crc << 8) | ((crc >> 8) & 0xFF)
            let value = Double(crc & 0xFFFF)
            return done([]) { out in out["out_value"] = value }
        }
    }

    // MARK: - stockham_fft

    /// exp(-2j * pi * i * j / d) as NumPy computes it: the argument's real part is zero, its
    /// imaginary part ((-2 pi i) j) / d.
    static func twiddles(_ i: Tensor<Double>, _ j: Tensor<Double>, _ d: Double) -> ComplexTensor<Double> {
        let theta = (-2.0 * Double.pi) * i * j / d
        return ComplexTensor(real: Tensor<Double>.zeros(theta.shape), imaginary: theta).exp()
    }

    public static func stockhamFFT(m: Int = 0, R: Int = 2, K: Int = 15, reps: Int = 5) throws -> [String: Double] {
        let d = dir("stockham_fft", m)
        let x = try ComplexTensor<Double>(npy: d + "x.npy")
        let y0 = try ComplexTensor<Double>(npy: d + "y.npy")
        let N = x.count
        func ipow(_ b: Int, _ e: Int) -> Int { (0..<e).reduce(1) { r, _ in r * b } }
        precondition(ipow(R, K) == N, "stockham_fft: N = R^K")
        _ = try x[0].item().real + y0[0].item().real
        return try bench(reps) {
            var y = y0
            let rr = Tensor<Double>.indices([R, R])
            let dftMat = twiddles(rr[0], rr[1], Double(R))
            y[.all] = x[.all]

            let ij = Tensor<Double>.indices([R, ipow(R, K)])
            let (iiCoord, jjCoord) = (ij[0], ij[1])

            for i in 0..<K {
                let yv = y.reshaped([ipow(R, i), R, ipow(R, K - i - 1)])
                let tmpPerm = yv.permuted([1, 0, 2])
                var D = ComplexTensor<Double>.zeros([R, ipow(R, i), ipow(R, K - i - 1)])
                let tmp = twiddles(iiCoord[.all, ..<ipow(R, i)], jjCoord[.all, ..<ipow(R, i)], Double(ipow(R, i + 1)))
                // np.repeat: ComplexTensor has no `repeated`; by parts
                let t3 = tmp.reshaped([R, ipow(R, i), 1])
                D[.all, .all, .all] = ComplexTensor(real: t3.real.repeated(ipow(R, K - i - 1), axis: 2),
                                                    imaginary: t3.imaginary.repeated(ipow(R, K - i - 1), axis: 2))
                let tmpTwid = tmpPerm.reshaped([N]) * D.reshaped([N])
                y[.all] = dftMat.matmul(tmpTwid.reshaped([R, ipow(R, K - 1)])).reshaped([N])
            }
            return done([y]) { out in
                try checks("y", y, into: &out)
            }
        }
    }

    // MARK: - scattering_self_energies

    public static func scatteringSelfEnergies(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("scattering_self_energies", m)
        let neighIdx = try Tensor<Int32>(npy: d + "neigh_idx.npy")
        let dH = try ComplexTensor<Double>(npy: d + "dH.npy")
        let G = try ComplexTensor<Double>(npy: d + "G.npy")
        let D = try ComplexTensor<Double>(npy: d + "D.npy")
        let sigma0 = try ComplexTensor<Double>(npy: d + "Sigma.npy")
        _ = try dH.flattened()[0].item().real + G.flattened()[0].item().real + D.flattened()[0].item().real
            + sigma0.flattened()[0].item().real
        let nb = try neighIdx.scalars.map { Int($0) }, NB = neighIdx.shape[1]
        return try bench(reps) {
            var Sigma = sigma0
            for k in 0..<G.shape[0] {
                for E in 0..<G.shape[1] {
                    for q in 0..<D.shape[0] {
                        for w in 0..<D.shape[1] {
                            for i in 0..<D.shape[D.shape.count - 2] {
                                for j in 0..<D.shape[D.shape.count - 1] {
                                    for a in 0..<neighIdx.shape[0] {
                                        for b in 0..<neighIdx.shape[1] {
                                            if E - w >= 0 {
                                                let dHG = G[k, E - w, nb[a * NB + b]].matmul(dH[a, b, i])
                                                let dHD = dH[a, b, j] * D[q, w, a, b, i, j]
                                                Sigma[k, E, a] += dHG.matmul(dHD)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return done([Sigma]) { out in
                try checks("Sigma", Sigma, into: &out)
            }
        }
    }

    // MARK: - deep_learning/resnet

    static func batchnorm2d(_ x: Tensor<Double>, eps: Double = 1e-5) -> Tensor<Double> {
        let mean = x.mean(axis: 0, keepDims: true)
        let std = x.std(axis: 0, keepDims: true)
        return (x - mean) / (std + eps).sqrt()
    }

    static func batchnorm2d(_ x: Tensor<Float>, eps: Float = 1e-5) -> Tensor<Float> {
        let mean = x.mean(axis: 0, keepDims: true)
        let std = x.std(axis: 0, keepDims: true)
        return (x - mean) / (std + eps).sqrt()
    }

    public static func resnet(m: Int = 0, reps: Int = 5) throws -> [String: Double] {
        let d = dir("resnet", m)
        let input = try Tensor<Float>(npy: d + "input.npy")
        let conv1 = try Tensor<Float>(npy: d + "conv1.npy"), conv2 = try Tensor<Float>(npy: d + "conv2.npy")
        let conv3 = try Tensor<Float>(npy: d + "conv3.npy")
        _ = try input[0, 0, 0, 0].item() + conv1[0, 0, 0, 0].item() + conv2[0, 0, 0, 0].item() + conv3[0, 0, 0, 0].item()
        return try bench(reps) {
            // np.zeros: float64
            var padded = Tensor<Double>.zeros([input.shape[0], input.shape[1] + 2, input.shape[2] + 2, conv1.shape[3]])
            padded[.all, .slice(1, -1), .slice(1, -1), .all] = Tensor<Double>(conv2d(input, conv1))
            var x = batchnorm2d(padded)
            x = relu(x)

            var y = conv2d(x, conv2)      // float64 input: float32 output
            y = batchnorm2d(y)
            y = relu(y)
            y = conv2d(y, conv3)
            y = batchnorm2d(y)
            let r = relu(y + input)
            return done([r]) { out in
                try checks("out", Tensor<Double>(r), into: &out)
            }
        }
    }

    // MARK: - reproducers of the defects in the report (`tandem example n5_repro kind=K n=N`, with
    // TANDEM_PROFILE=1 for the counters)

    public static func repro(kind: Int = 1, n: Int = 1000) throws -> [String: Double] {
        let t0 = DispatchTime.now().uptimeNanoseconds
        var out: [String: Double] = [:]
        switch kind {
        case 1:   // tiny real products accumulated in a loop (scattering_self_energies' shape)
            let a = Tensor<Double>.uniform([3, 3], seed: 1), b = Tensor<Double>.uniform([3, 3], seed: 2)
            var s = Tensor<Double>.zeros([3, 3])
            for _ in 0..<n { s = s + a.matmul(b) }
            out["sum"] = try s.sum().item()
        case 2:   // the same written as broadcast multiply and sum (no matmul)
            let a = Tensor<Double>.uniform([3, 3], seed: 1), b = Tensor<Double>.uniform([3, 3], seed: 2)
            var s = Tensor<Double>.zeros([3, 3])
            for _ in 0..<n { s = s + (a[.all, .all, .newAxis] * b[.newAxis, .all, .all]).sum(axis: 1) }
            out["sum"] = try s.sum().item()
        case 3, 4, 5:   // azimint_naive's loop: a mask from two float constants, a masked read, a mean
            let x = Tensor<Double>.uniform([400_000], seed: 3), data = Tensor<Double>.uniform([400_000], seed: 4)
            _ = try x.sum().item() + data.sum().item()
            var res = Tensor<Double>.zeros([n])
            var host: [Double] = []
            for i in 0..<n {
                let (r1, r2) = kind == 5 ? (0.25, 0.5) : (Double(i) / Double(n), Double(i + 1) / Double(n))
                let values = data[(x .>= r1) .& (x .< r2)]
                if kind == 4 { host.append(try values.mean().item()) } else { res[i] = values.mean() }
            }
            out["sum"] = kind == 4 ? host.reduce(0, +) : try res.sum().item()
        case 6:   // go_fast: a scalar accumulated over n diagonal elements, lazily
            let a = Tensor<Double>.uniform([n, n], seed: 5)
            _ = try a.sum().item()
            var trace = Tensor<Double>(0.0)
            for i in 0..<n { trace += a[i, i].tanh() }
            out["sum"] = try trace.item()
        case 7:   // spmv: one element written per iteration from a short dot product
            let v = Tensor<Double>.uniform([2 * n], seed: 6), x = Tensor<Double>.uniform([n], seed: 7)
            let idx = Tensor<Int64>.randomIntegers([2 * n], seed: 8, in: 0..<Int64(n))
            _ = try v.sum().item() + x.sum().item() + Double(idx.sum().item())
            var y = Tensor<Double>.zeros([n])
            for i in 0..<n { y[i] = v[(2 * i)..<(2 * i + 2)].matmul(x[idx[(2 * i)..<(2 * i + 2)]]) }
            out["sum"] = try y.sum().item()
        default:
            break
        }
        out["seconds"] = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        return out
    }
}
