import Testing
@testable import Tandem
import TandemCompiler

@Suite("Fusion", .planned)
struct FusionTests {
    /// An n x n plate with a hot top edge, materialised.
    func hotPlate(_ n: Int) throws -> Tensor<Double> {
        var a = Tensor<Double>.zeros([n, n])
        a[0, .all] = Tensor(1.0)
        try a.flush()
        return a
    }

    @Test("a 20-op elementwise chain ending in sum is one kernel")
    func chainIsOneKernel() throws {
        let x = Tensor<Double>.uniform([10_000], seed: 3, in: -1...1)
        var y = x
        var expected = (try x.scalars)
        for i in 0..<10 {
            y = y * 1.5 + Double(i)          // two ops per round
            expected = expected.map { $0 * 1.5 + Double(i) }
        }
        let total = y.abs().sum()
        let plan = Tandem.plan(total)
        #expect(plan.kernels.count == 1)
        #expect(plan.kernels[0].fusedOps.count == 21)
        let got = try total.item()
        let want = expected.map(Swift.abs).reduce(0, +)
        #expect(Swift.abs(got - want) <= 1e-9 * want)
    }

    @Test("a costly expression a product reads a few times over is computed once into its own buffer; a cheap or small one is recomputed")
    func costlyBroadcastHoisted() throws {
        // The generated product (`auto` and `cpu` run such thin products on the BLAS when one is found).
        try Tandem.withDevice(.interpreter) { try costlyBroadcastHoistedGenerated() }
    }

    func costlyBroadcastHoistedGenerated() throws {
        // X drawn by `normal` (log, sqrt, cos: about 26 operations an element), read 5 times
        // over by `X @ W` ([2000, 5, 10] points for 20,000 elements).
        let n = 2000, d = 10, k = 5
        let w = Tensor<Double>.uniform([d, k], seed: 2, in: -1...1)
        try w.flush()
        func kernelsComputing(_ op: String, _ t: Tensor<Double>) -> [PlannedKernel] {
            Tandem.plan(t).kernels.filter { $0.fusedOps.contains(op) }
        }
        let x = Tensor<Double>.normal([n, d], seed: 7)
        let z = x.matmul(w)
        let drawing = kernelsComputing("cos", z)
        #expect(drawing.count == 1 && !drawing[0].kernel.hasReductions, "X is drawn inside the product: \(Tandem.plan(z).kernels.map(\.label))")
        // A cheap expression (one addition a point) is still read through the broadcast.
        let cheap = (Tensor<Double>.uniform([n, d], seed: 8, in: 0...1) + 1).matmul(w)
        #expect(Tandem.plan(cheap).kernels.count == 1, "\(Tandem.plan(cheap).kernels.map(\.label))")
        // A costly expression of few elements saves too little to be worth a kernel.
        let small = Tensor<Double>.normal([4, d], seed: 9).matmul(w)
        #expect(Tandem.plan(small).kernels.count == 1, "\(Tandem.plan(small).kernels.map(\.label))")
        // The same values either way.
        let xs = try x.scalars, ws = try w.scalars, zs = try z.scalars
        for i in stride(from: 0, to: n, by: 97) {
            for c in 0..<k {
                var want = 0.0
                for j in 0..<d { want += xs[i * d + j] * ws[j * k + c] }
                #expect(Swift.abs(zs[i * k + c] - want) <= 1e-12 * Swift.max(1, Swift.abs(want)))
            }
        }
    }

    @Test("an N x N pairwise computation reduced along an axis allocates no N x N buffer")
    func pairwiseAllocatesNoSquare() throws {
        let n = 300
        let x = Tensor<Double>.uniform([n], seed: 10, in: -1...1)
        let dx = x[.newAxis, .all] - x[.all, .newAxis]          // n x n, never materialised
        let force = (dx / (dx * dx + 0.01).sqrt()).sum(axis: 1)
        let plan = Tandem.plan(force)
        // x feeds the square twice, so it is generated once into n elements; the square itself
        // lives only inside the reduction kernel.
        #expect(plan.kernels.count == 2)
        #expect(plan.kernels.filter { $0.kernel.hasReductions }.count == 1)
        for k in plan.kernels { for b in k.launch.buffers { #expect(b.count < n * n) } }
        let xs = try x.scalars
        let got = try force.scalars
        for i in stride(from: 0, to: n, by: 37) {
            let want = (0..<n).reduce(0.0) { acc, j in
                let d = xs[j] - xs[i]
                return acc + d / (d * d + 0.01).squareRoot()
            }
            #expect(Swift.abs(got[i] - want) <= 1e-9 * Swift.max(1, Swift.abs(want)))
        }
    }

    @Test("SOR: the stencil and its delta are one kernel writing the new interior straight into the new version; only the border is copied")
    func sorPlan() throws {
        var a = try hotPlate(66)
        func sweep(_ a: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>) {
            let c = a[1..<65, 1..<65]
            let work = 0.2 * (c + a[0..<64, 1..<65] + a[2..<66, 1..<65] + a[1..<65, 0..<64] + a[1..<65, 2..<66])
            return (work, (work - c).abs().sum())
        }
        var (work, delta) = sweep(a)
        a[1..<65, 1..<65] = work
        work = Tensor(0.0)
        let plan = Tandem.plan(delta, a)
        #expect(plan.kernels.count == 3)
        #expect(plan.freshUpdates == 1 && plan.inPlaceUpdates == 0 && plan.copiedUpdates == 0)
        // One kernel touches the interior (64 x 64 points); two copy the border (top and bottom
        // rows stacked into one kernel, left and right columns into the other).
        #expect(plan.kernels.filter { $0.points == 64 * 64 }.count == 1)
        #expect(plan.kernels.filter { $0.kernel.hasReductions }.count == 1)
        #expect(plan.kernels.filter { $0.points != 64 * 64 }.allSatisfy { $0.points <= 2 * 66 })
        #expect(plan.stackedKernels == 2)
        #expect(Swift.abs(try delta.item() - 12.8) < 1e-12)
    }

    @Test("red-black SOR writes each colour in place: reads of the other colour never conflict")
    func redBlackInPlace() throws {
        var a = try hotPlate(10)
        let rows = stride(from: 1, to: 9, by: 2), cols = stride(from: 1, to: 9, by: 2)
        func relaxed(_ a: Tensor<Double>) -> Tensor<Double> {
            let nb = a[stride(from: 0, to: 8, by: 2), cols] + a[stride(from: 2, to: 10, by: 2), cols]
                + a[rows, stride(from: 0, to: 8, by: 2)] + a[rows, stride(from: 2, to: 10, by: 2)]
            return -0.5 * a[rows, cols] + 0.375 * nb
        }
        a[rows, cols] = relaxed(a)
        let plan = Tandem.plan(a)
        #expect(plan.kernels.count == 1)
        #expect(plan.inPlaceUpdates == 1)
        let s = try a.sum().item()
        #expect(Swift.abs(s - (10 + 0.375 * 4)) < 1e-12)
    }

    @Test("the two quarter-grid updates of one red-black colour are stacked into one kernel")
    func stackedQuarterUpdates() throws {
        let n = 8
        var a = try hotPlate(n + 2)
        func relaxed(_ a: Tensor<Double>, _ i0: Int, _ j0: Int) -> Tensor<Double> {
            let rows = stride(from: i0, to: n + 1, by: 2), cols = stride(from: j0, to: n + 1, by: 2)
            let nb = a[stride(from: i0 - 1, to: n, by: 2), cols] + a[stride(from: i0 + 1, to: n + 2, by: 2), cols]
                + a[rows, stride(from: j0 - 1, to: n, by: 2)] + a[rows, stride(from: j0 + 1, to: n + 2, by: 2)]
            return -0.5 * a[rows, cols] + 0.375 * nb
        }
        for i0 in 1...2 {
            let j0 = 1 + ((i0 + 1) % 2)
            a[stride(from: i0, to: n + 1, by: 2), stride(from: j0, to: n + 1, by: 2)] = relaxed(a, i0, j0)
        }
        let plan = Tandem.plan(a)
        #expect(plan.kernels.count == 1)
        #expect(plan.stackedKernels == 1)
        // The same colour sweep in plain Swift.
        var g = [[Double]](repeating: [Double](repeating: 0, count: n + 2), count: n + 2)
        for j in 0..<(n + 2) { g[0][j] = 1 }
        let old = g
        for i in 1...n { for j in 1...n where (i + j) % 2 == 0 {
            g[i][j] = -0.5 * old[i][j] + 0.375 * (old[i - 1][j] + old[i + 1][j] + old[i][j - 1] + old[i][j + 1])
        } }
        #expect(try a.scalars == g.flatMap { $0 })
    }

    @Test("in-place updates of different tensors over the same domain share one kernel")
    func groupedUpdates() throws {
        var h = try hotPlate(8), u = try hotPlate(8)
        h[.all, 0] = h[.all, 1]
        u[.all, 0] = -u[.all, 1]
        let plan = Tandem.plan(h, u)
        #expect(plan.kernels.count == 1)
        #expect(plan.inPlaceUpdates == 2)
        #expect(try h[.all, 0].scalars == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(try u[.all, 0].scalars == [-1, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("a live view of the old version forces a copy, with the same result")
    func liveReaderForcesCopy() throws {
        var a = try hotPlate(10)
        let rows = stride(from: 1, to: 9, by: 2), cols = stride(from: 1, to: 9, by: 2)
        let nb = a[stride(from: 0, to: 8, by: 2), cols] + a[stride(from: 2, to: 10, by: 2), cols]
        a[rows, cols] = 0.5 * nb
        #expect(Tandem.plan(a).copiedUpdates == 1)
        #expect(try a.sum().item() == 12)
        #expect(try nb.sum().item() == 4)
    }

    @Test("value semantics: a copy never sees a later write to another")
    func valueSemantics() throws {
        var a = Tensor<Int64>.arange(0, 6)
        let b = a
        a[2..<4] = Tensor(Int64(-1))
        #expect(try a.scalars == [0, 1, -1, -1, 4, 5])
        #expect(try b.scalars == [0, 1, 2, 3, 4, 5])
        var c = b
        c[0] = Tensor(Int64(9))
        #expect(try b.scalars == [0, 1, 2, 3, 4, 5])
        #expect(try c.scalars == [9, 1, 2, 3, 4, 5])
    }

    @Test("a held view keeps the old values after the base is overwritten")
    func heldViewKeepsOldValues() throws {
        var a = Tensor<Double>([1, 2, 3, 4])
        let head = a[0..<2]
        a[0..<2] = Tensor(0.0)
        #expect(try a.scalars == [0, 0, 3, 4])
        #expect(try head.scalars == [1, 2])
    }
}
