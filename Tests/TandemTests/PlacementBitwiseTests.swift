#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Tandem

/// One answer whatever the placement (issue 14, point 3): the interpreter, compiled C on one
/// worker and compiled C on all workers give the same bits, compared with `==`, not a tolerance.
@Suite("Placements agree bit for bit", .planned)
struct PlacementBitwiseTests {
    static let placements: [DeviceChoice] = [.interpreter, .cpu1, .cpu]

    /// The value of `make()` under every CPU placement, each computed from scratch.
    func everywhere<T: TensorScalar>(_ make: () -> Tensor<T>) throws -> [[T]] {
        try Self.placements.map { p in try Tandem.withDevice(p) { try make().scalars } }
    }

    func expectSameBits<T: TensorScalar & Equatable>(_ results: [[T]], _ what: String,
                                                    sourceLocation: SourceLocation = #_sourceLocation) {
        for (p, r) in zip(Self.placements.dropFirst(), results.dropFirst()) {
            #expect(r == results[0], "\(what): \(p) differs from the interpreter", sourceLocation: sourceLocation)
        }
    }

    @Test("sums of every length around the lane width, and split sums", arguments: [1, 7, 8, 9, 17, 1000, 4099, 300_001])
    func sums(_ n: Int) throws {
        expectSameBits(try everywhere { Tensor<Double>.uniform([n], seed: 30, in: 0...100).sum() }, "f64 sum of \(n)")
        expectSameBits(try everywhere { Tensor<Float>.uniform([n], seed: 31, in: -1...1).sum() }, "f32 sum of \(n)")
        expectSameBits(try everywhere { (Tensor<Double>.uniform([n], seed: 32, in: 0.999...1.001)).prod() }, "f64 prod of \(n)")
        expectSameBits(try everywhere { Tensor<Double>.uniform([n], seed: 33, in: -1...1).mean() }, "f64 mean of \(n)")
        // Integer sums and max: not laned, folded in order (split over the axis when long).
        expectSameBits(try everywhere { Tensor<Int64>(Tensor<Double>.uniform([n], seed: 34, in: -1e6...1e6)).sum() }, "int64 sum of \(n)")
        expectSameBits(try everywhere { Tensor<Double>.uniform([n], seed: 35, in: -1...1).max() }, "f64 max of \(n)")
    }

    @Test("vector math (log, cos) in one-axis kernels: one worker and all workers agree bit for bit",
          arguments: [1000, 4099, 65_537, 300_001])
    func vectorMath(_ n: Int) throws {
        let r = try [DeviceChoice.cpu1, .cpu].map { p in try Tandem.withDevice(p) { try Tensor<Double>.normal([n], seed: 11).scalars } }
        #expect(r[0].indices.first { r[0][$0].bitPattern != r[1][$0].bitPattern } == nil, "normal([\(n)]): cpu-1 and cpu differ")
        let f = try [DeviceChoice.cpu1, .cpu].map { p in
            try Tandem.withDevice(p) { try (Tensor<Float>.uniform([n], seed: 12, in: 0.1...3).log().sin()).scalars }
        }
        #expect(f[0].indices.first { f[0][$0].bitPattern != f[1][$0].bitPattern } == nil, "f32 sin(log(x)) of \(n): cpu-1 and cpu differ")
    }

    @Test("Tandem's exp in the interpreter (C, a fused multiply-add an instruction) gives compiled code's bits: edges and a sweep, f64 and f32")
    func expEverywhere() throws {
        var edges: [Double] = [-Double.infinity, -1000, -745.2, -745.13, -708.4, -103.9, -87.4, -1e-300, -0.0, 0]
        edges += [1e-300, 0.5, 1, 88.7, 88.8, 709.7, 709.8, 710, 1000, Double.infinity, Double.nan]
        let sweep: [Double] = (0..<3001).map { (i: Int) -> Double in -750 + Double(i) * 0.5 + Double(i % 7) * 1e-3 }
        let x64: [Double] = edges + sweep
        let r64: [[Double]] = try everywhere { Tensor<Double>(x64).exp() }
        let x32: [Float] = (edges + sweep.map { (v: Double) -> Double in v / 7 }).map { Float($0) }
        let r32: [[Float]] = try everywhere { Tensor<Float>(x32).exp() }
        let bits64: [[UInt64]] = r64.map { $0.map { $0.bitPattern } }
        let bits32: [[UInt32]] = r32.map { $0.map { $0.bitPattern } }
        for (i, p) in Self.placements.enumerated().dropFirst() {
            let d64 = bits64[0].indices.filter { bits64[i][$0] != bits64[0][$0] }
            let d32 = bits32[0].indices.filter { bits32[i][$0] != bits32[0][$0] }
            #expect(d64.isEmpty, "f64 exp: \(p) differs from the interpreter at \(d64.count) values, first exp(\(d64.first.map { x64[$0] } ?? 0))")
            #expect(d32.isEmpty, "f32 exp: \(p) differs from the interpreter at \(d32.count) values, first exp(\(d32.first.map { x32[$0] } ?? 0))")
        }
        // And from libm by at most an ulp or so where both are finite and normal.
        for (x, y) in zip(x64, r64[0]) where y.isNormal && Glibc.exp(x).isNormal {
            #expect(Swift.abs(y - Glibc.exp(x)) <= 2 * y.ulp, "exp(\(x)) = \(y), libm \(Glibc.exp(x))")
        }
    }

    @Test("the issue's example: one sum, one answer")
    func issueExample() throws {
        let results = try everywhere { Tensor<Double>.uniform([1000], seed: 30, in: 0...100).sum() }
        expectSameBits(results, "sum")
    }

    @Test("row, column and multi-axis sums, with fused expressions and stores on the way",
          arguments: [[37, 1001], [5, 3, 129], [300, 2], [2, 64, 700]])
    func axisSums(_ shape: [Int]) throws {
        let x = { Tensor<Double>.uniform(shape, seed: 34, in: -2...2) }
        for axis in 0..<shape.count {
            expectSameBits(try everywhere { (x() * x() + 0.5).sum(axis: axis) }, "sum(axis: \(axis)) of \(shape)")
        }
        expectSameBits(try everywhere { x().sum(axes: Array(1..<shape.count)) }, "sum over trailing axes of \(shape)")
        expectSameBits(try everywhere { x().exp().sum(axes: [0, shape.count - 1]) }, "sum(exp) over the first and last axes of \(shape)")
        expectSameBits(try everywhere { Tensor<Float>(x()).sum(axis: shape.count - 1) }, "f32 row sums of \(shape)")
    }

    @Test("short rows under many outputs (kmeans' 4 coordinates, 8 features), which the interpreter runs in blocks of outputs",
          arguments: [[1000, 4], [513, 8], [3, 300, 31], [257, 1], [300, 5, 10], [2, 77, 3, 9], [20, 1, 32]])
    func shortRows(_ shape: [Int]) throws {
        let x = { Tensor<Double>.uniform(shape, seed: 41, in: -2...2) }
        let last = shape.count - 1
        expectSameBits(try everywhere { (x() * x() - 0.25).sum(axis: last) }, "sum of short rows \(shape)")
        expectSameBits(try everywhere { Tensor<Float>(x()).sum(axis: last) / 3 }, "f32 sum of short rows \(shape)")
        expectSameBits(try everywhere { x().min(axis: last) + x().max(axis: last) }, "min + max of short rows \(shape)")
        expectSameBits(try everywhere { x().argmin(axis: last) }, "argmin of short rows \(shape)")
        expectSameBits(try everywhere { Tensor<Int64>(x() * 1000).sum(axis: last) }, "int64 sum of short rows \(shape)")
        // A product with few columns (softmax regression's `X @ W`) as matmul generates it (`auto`
        // and `cpu` run it on the BLAS when one is found): rows of `shape[last]` under 5 outputs.
        let w = { Tensor<Double>.uniform([shape[last], 5], seed: 42, in: -1...1) }
        expectSameBits(try everywhere { (x().expandingDims(at: last + 1) * w()).sum(axis: last) }, "\(shape) @ [\(shape[last]), 5]")
    }

    @Test("reductions down columns, compiled in blocks of columns read along rows: the interpreter's bits",
          arguments: [[8, 128], [37, 1001], [1003, 129], [3, 17, 300], [100_003, 8], [5, 20_011, 3]])
    func columnReductions(_ shape: [Int]) throws {
        let x = { Tensor<Double>.uniform(shape, seed: 37, in: -2...2) }
        let axis = shape.count - 2
        if shape[axis] < 100 {
            // Few rows: not split over the rows (a tall matrix's partial sums are row-major already).
            let c = Tandem.generatedC((x() * 2).sum(axis: axis)).joined()
            #expect(c.contains("c0_"), "a column sum of \(shape) is not rendered in blocks of columns")
        }
        if shape[axis] > 10_000 {
            // Long columns: split over the rows, which the interpreter runs a stretch of rows per column at a time.
            #expect(Tandem.plan((x() * 2).sum(axis: axis)).kernels.contains { $0.splitChunks > 0 }, "a column sum of \(shape) is not split")
        }
        expectSameBits(try everywhere { (x() * x() + 0.5).sum(axis: axis) }, "sum(axis: \(axis)) of \(shape)")
        expectSameBits(try everywhere { x().mean(axis: axis) }, "mean(axis: \(axis)) of \(shape)")
        expectSameBits(try everywhere { Tensor<Float>(x()).sum(axis: axis) }, "f32 sum(axis: \(axis)) of \(shape)")
        expectSameBits(try everywhere { Tensor<Int64>(x() * 1000).sum(axis: axis) }, "int64 sum(axis: \(axis)) of \(shape)")
        // Max and min (one lane each), with a NaN in some columns.
        let nan = { `where`(x() .> 1.99, Tensor<Double>(.nan), x()) }
        for (name, bits) in [("max", try everywhere { nan().max(axis: axis) }.map { $0.map(\.bitPattern) }),
                             ("min", try everywhere { nan().min(axis: axis) }.map { $0.map(\.bitPattern) })] {
            #expect(bits.allSatisfy { $0 == bits[0] }, "\(name)(axis: \(axis)) with NaN of \(shape) differs between placements")
        }
        // Two reductions of one kernel, and a vector-matrix product.
        expectSameBits(try everywhere { x().sum(axis: axis) * x().max(axis: axis) }, "sum * max (axis: \(axis)) of \(shape)")
        if shape.count == 2 {
            let v = { Tensor<Double>.uniform([shape[0]], seed: 38, in: -1...1) }
            expectSameBits(try everywhere { v().matmul(x()) }, "v @ a of \(shape)")
        }
    }

    @Test("float32 rows summed, multiplied, maxed and minned in double after a float body (N-body's forces): the interpreter's bits, and the body at float width",
          arguments: [[5, 1], [33, 7], [17, 40], [9, 71], [3, 1000]])
    func float32LanedBodies(_ shape: [Int]) throws {
        let (rows, n) = (shape[0], shape[1])
        let p = { Tensor<Float>.uniform([n], seed: 43, in: -1...1) }
        let q = { Tensor<Float>.uniform([rows, 1], seed: 44, in: -1...1) }
        // dx * G m / (r2 sqrt(r2)) summed along the row, as N-body writes it.
        let force = { () -> Tensor<Float> in
            let dx = p() - q(), r2 = dx * dx + 0.01
            return (dx * (0.5 / (r2 * r2.sqrt()))).sum(axis: 1)
        }
        expectSameBits(try everywhere(force), "f32 force sums of \(shape)")
        expectSameBits(try everywhere { ((p() - q()).abs() + 0.99).prod(axis: 1) }, "f32 products of \(shape)")
        expectSameBits(try everywhere { (p() * q()).abs().sqrt().max(axis: 1) + (p() / q()).min(axis: 1) }, "f32 max + min of \(shape)")
        // The float body's values stay float in the block (widened as they are added), so the
        // compiler vectorises the body at float width, not at the accumulator's. (Rows of a few
        // elements have their length compiled in instead of lanes.)
        let c = Tandem.generatedC(force()).joined()
        if n >= 40 { #expect(c.contains("float t0_[") && c.contains("__builtin_convertvector(v_, tk_lanes_f64)"), "\(c)") }
    }

    @Test("a sum over a large body (blocks of eight alone, FIR-like): the interpreter's bits", arguments: [7, 4099, 300_001])
    func largeLanedBody(_ n: Int) throws {
        // A 60-tap filter's sum: each tap a shifted read times a weight, all fused in one body.
        let make = { () -> Tensor<Double> in
            let x = Tensor<Double>.uniform([n + 60], seed: 39, in: -1...1)
            var y = x[0..<n] * 0.5
            for k in 1..<60 { y = y + x[k..<(n + k)] * (0.01 * Double(k) - 0.3) }
            return y.sum()
        }
        let c = Tandem.generatedC(make()).joined()
        #expect(c.contains("b_ += 8") && !c.contains("b_ += 32"), "the large body still has blocks of 32")
        expectSameBits(try everywhere(make), "60-tap sum of \(n)")
    }

    @Test("multiply-adds are not contracted into FMAs: linspace matches NumPy's i * step + start")
    func noContraction() throws {
        let n = 250
        let step = (0.25 - -1.75) / Double(n - 1)
        var want = (0..<n).map { Double($0) * step + -1.75 }
        want[n - 1] = 0.25
        for p in Self.placements {
            let got = try Tandem.withDevice(p) { try Tensor<Double>.linspace(-1.75, 0.25, count: n).scalars }
            #expect(got == want, "linspace on \(p)")
        }
        let a = { Tensor<Double>.uniform([4099], seed: 35, in: -3...3) }
        let b = { Tensor<Double>.uniform([4099], seed: 36, in: -3...3) }
        expectSameBits(try everywhere { a() * b() + a() - b() * 0.3 }, "a * b + a - b * 0.3")
        let (xa, xb) = (try a().scalars, try b().scalars)
        let eager = zip(xa, xb).map { $0 * $1 + $0 - $1 * 0.3 }
        #expect(try Tandem.withDevice(.cpu) { try (a() * b() + a() - b() * 0.3).scalars } == eager)
    }
}

/// The same program in separate processes with 1 and 3 worker threads, on the interpreter and on
/// one worker: every output printed with all its digits is the same.
@Suite("Thread counts agree bit for bit", .planned)
struct ThreadCountBitwiseTests {
    @Test("workloads give the same outputs with 1 and 3 threads, on the interpreter, on one worker and without the plan cache",
          arguments: [["black_scholes", "n=5000"], ["sor", "n=48", "max_iterations=30"], ["nbody", "n=100", "steps=3"],
                      ["shallow_water", "n=32", "steps=5"]])
    func workloads(_ args: [String]) throws {
        var outputs: [String: String] = [:]
        for env in ["TANDEM_THREADS=1", "TANDEM_THREADS=3", "TANDEM_DEVICE=interpreter", "TANDEM_DEVICE=cpu-1", "TANDEM_PLAN_CACHE=off"] {
            let (status, output) = try CLITests().run(["run"] + args + ["--json"], environment: [env])
            #expect(status == 0, "\(env): \(output)")
            // The JSON line's "outputs" object, as printed (shortest round-trip digits).
            let line = output.split(separator: "\n").first { $0.contains("\"outputs\"") }.map(String.init) ?? ""
            let start = line.range(of: "\"outputs\": {")?.upperBound
            let values = start.flatMap { s in line[s...].firstIndex(of: "}").map { String(line[s..<$0]) } } ?? "missing: \(output)"
            outputs[env] = values
        }
        #expect(Set(outputs.values).count == 1, "\(outputs)")
    }
}
