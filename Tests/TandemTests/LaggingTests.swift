import Testing
@testable import Tandem
import TandemCompiler
import TandemIR

/// In-place sweeps where each reads what the one before wrote a few rows away run as one lagged
/// pass on the host (`Lagging`): the planner chains them with the right shifts, and the pass,
/// chunked over the workers with the rows around chunk boundaries run after, gives the
/// interpreter's results (which runs the kernels one after the other).
@Suite("Lagged passes", .planned, .serialized)
struct LaggingTests {
    /// One red-black SOR iteration, both colours (the workload's form).
    static func redBlack<T: FloatingTensorScalar>(_ a: inout Tensor<T>, n: Int) {
        for color in 0..<2 {
            for i0 in 1...2 {
                let j0 = 1 + ((i0 + 1 + color) % 2)
                let rows = stride(from: i0, to: n + 1, by: 2), cols = stride(from: j0, to: n + 1, by: 2)
                let nb = a[stride(from: i0 - 1, to: n, by: 2), cols] + a[stride(from: i0 + 1, to: n + 2, by: 2), cols]
                    + a[rows, stride(from: j0 - 1, to: n, by: 2)] + a[rows, stride(from: j0 + 1, to: n + 2, by: 2)]
                a[rows, cols] = T(-0.5) * a[rows, cols] + T(0.375) * nb
            }
        }
    }

    @Test("red-black SOR: three iterations run as one pass, each sweep a row behind the one before, as the interpreter computes it",
          arguments: [false, true])
    func redBlackSOR(float: Bool) throws {
        func run<T: FloatingTensorScalar>(_: T.Type, n: Int, tolerance: Double) throws {
            func make() -> Tensor<T> {
                var a = Tensor<T>.uniform([n + 2, n + 2], seed: 7, in: 0...1)
                a[0, .all] = Tensor(1)
                return a
            }
            // Three iterations, six colour sweeps: one chain, each sweep a row behind the one
            // before (the next red sweep conflicts with the last black one a row away).
            var probe = make()
            try Tandem.flush(probe)
            for _ in 0..<3 { LaggingTests.redBlack(&probe, n: n) }
            let plan = Tandem.plan(probe)
            let chain = plan.kernels.first?.lagChain
            #expect(plan.kernels.count == 6 && chain?.shifts == Array(0..<6) && chain?.heads == Array(0..<6) && chain?.reach == 1,
                    "\(T.self): \(chain as Any)")
            let sweep = { (d: DeviceChoice) throws -> [T] in
                try Tandem.withDevice(d) {
                    var a = make()
                    for _ in 0..<3 { LaggingTests.redBlack(&a, n: n) }
                    return try a.scalars
                }
            }
            // What this test ran, not the process-wide counter other suites also move: its own
            // kernels (their sizes) recorded as one lagged pass.
            let sizes = Set(plan.kernels.map(\.points))
            let (compiled, trace) = try Tandem.trace { try sweep(.cpu) }
            let lagged = trace.events.filter { $0.kind == .placement && $0.detail.contains("one lagged pass") && sizes.contains($0.points) }
            #expect(lagged.count >= 6, "\(T.self): the iterations ran lagged (\(lagged.count) kernels recorded so)")
            let interpreted = try sweep(.interpreter)
            var worst = 0.0
            for (c, i) in zip(compiled, interpreted) { worst = Swift.max(worst, Swift.abs(Double(c) - Double(i))) }
            #expect(worst <= tolerance, "\(T.self) n=\(n): largest difference \(worst)")
        }
        // Sizes just over `Lagging.minimumBytes`, with at least two chunks of rows.
        if float { try run(Float.self, n: 470, tolerance: 1e-5) } else { try run(Double.self, n: 380, tolerance: 1e-12) }
    }

    /// An in-place sweep over every other column (`Specialization`) runs general code until its
    /// launch has come back `Specialization.minimumRuns` times, then code with every int
    /// parameter compiled in (compiled on the side); the results stay the interpreter's.
    @Test("in-place strided sweeps switch to code compiled for their launch once it comes back, with the interpreter's results")
    func specialisedSweeps() throws {
        let n = 40
        func make() -> Tensor<Double> {
            var a = Tensor<Double>.uniform([n + 2, n + 2], seed: 9, in: 0...1)
            a[0, .all] = Tensor(1)
            return a
        }
        let (compiled, trace) = try Tandem.trace { try Tandem.withDevice(.cpu) { () throws -> [Double] in
            var a = make()
            for _ in 0..<8 {
                LaggingTests.redBlack(&a, n: n)
                try Tandem.flush(a)
                Tandem.runtime.drainBackgroundCompiles()
            }
            return try a.scalars
        } }
        // Both colours' launches come back every iteration: from the third on, their code is
        // compiled for them (ready by the fourth, the background compile drained). Counted in
        // this test's own trace (n = 40: its sweeps are 40 x 20 points), not the process-wide counter.
        let special = trace.events.filter { $0.kind == .placement && $0.detail.contains("code specialised to this launch") && $0.points == n * n / 2 }
        #expect(special.count >= 8, "runs with specialised code: \(special.count)")
        let interpreted = try Tandem.withDevice(.interpreter) { () throws -> [Double] in
            var a = make()
            for _ in 0..<8 { LaggingTests.redBlack(&a, n: n) }
            return try a.scalars
        }
        var worst = 0.0
        for (c, i) in zip(compiled, interpreted) { worst = Swift.max(worst, Swift.abs(c - i)) }
        #expect(worst <= 1e-12, "largest difference \(worst)")

        // The specialised source names every int parameter's value.
        var probe = make()
        try Tandem.flush(probe)
        LaggingTests.redBlack(&probe, n: n)
        let k = try #require(Tandem.plan(probe).kernels.first)
        #expect(Specialization.applies(to: k.kernel))
        let source = CRenderer.render(Specialization.specialized(k.kernel, ints: k.launch.ints))
        for (p, v) in k.launch.ints.enumerated() { #expect(source.contains("const int64_t I\(p) = \(v);"), "I\(p)") }
    }

    /// `b[m + t] = a[t] + a[t + 2m] / 2`, then `a[m + t] = b[t] / 4 + b[t + 2m] - a[m + t]`: the
    /// second reads the first's rows `m` either side, so it runs `m` rows behind (lag and lead
    /// `m` rows; the planner may see the contiguous rows as one axis, then `m * cols` elements),
    /// in groups of many narrow rows; with more than `Lagging.maxLagBytes` in flight the pair is
    /// not made.
    @Test("a pair whose second sweep reads m rows either side runs with lag and lead m rows (up to the limit), as the interpreter computes it",
          arguments: [1, 2, 5, 1100])
    func shiftedRows(m: Int) throws {
        let rows = 6_000 + 2 * m, cols = 16, e = rows - 2 * m
        func sweep(_ a: inout Tensor<Double>, _ b: inout Tensor<Double>) {
            b[m..<(m + e), .all] = a[0..<e, .all] + a[(2 * m)..<(2 * m + e), .all] * 0.5
            a[m..<(m + e), .all] = b[0..<e, .all] * 0.25 + b[(2 * m)..<(2 * m + e), .all] - a[m..<(m + e), .all]
        }
        func inputs() -> (Tensor<Double>, Tensor<Double>) {
            (Tensor<Double>.uniform([rows, cols], seed: 11, in: -1...1), Tensor<Double>.uniform([rows, cols], seed: 12, in: -1...1))
        }
        var (pa, pb) = inputs()
        try Tandem.flush(pa, pb)
        sweep(&pa, &pb)
        let plan = Tandem.plan(pa, pb)
        let elements = plan.kernels.last?.kernel.rank == 1 ? m * cols : m
        let chain = plan.kernels.first?.lagChain
        #expect(plan.kernels.count == 2, "m=\(m): \(plan.kernels.count) kernels")
        if elements * 2 * 8 * (plan.kernels.last?.kernel.rank == 1 ? 1 : cols) <= Lagging.maxLagBytes {
            #expect(chain?.shifts == [0, elements] && chain?.heads == [0, elements], "m=\(m): \(chain as Any)")
        } else {
            #expect(chain == nil, "m=\(m): more than maxLagBytes in flight, yet chained: \(chain as Any)")
        }
        let run = { (d: DeviceChoice) throws -> ([Double], [Double]) in
            try Tandem.withDevice(d) {
                var (a, b) = inputs()
                for _ in 0..<2 { sweep(&a, &b) }
                return (try a.scalars, try b.scalars)
            }
        }
        let compiled = try run(.cpu), interpreted = try run(.interpreter)
        #expect(compiled.0 == interpreted.0 && compiled.1 == interpreted.1, "m=\(m): lagged results differ from the interpreter's")

        // Once the tensors are gone, so are their buffers: the pass's tasks stay referenced as
        // the buffers' last writers, and must not hold them in turn.
        weak var heldA: Buffer?, heldB: Buffer?
        try Tandem.withDevice(.cpu) {
            var (a, b) = inputs()
            try Tandem.flush(a, b)
            (heldA, heldB) = (a.node.storage, b.node.storage)
            sweep(&a, &b)
            _ = try a.scalars
            _ = try b.scalars
        }
        #expect(heldA == nil && heldB == nil, "m=\(m): the buffers of a pass outlive their tensors")
    }
}
