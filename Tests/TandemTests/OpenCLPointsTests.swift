import Testing
import _TandemTestSupport
import TandemIR
import TandemCompiler
import TandemRuntime
import TandemOpenCL
import TandemInterpreter
@testable import Tandem

/// Work-items of several points (`AcceleratorLaunch.pointsPerItem`: eight on a device on CPU
/// cores, one on a GPU): every kernel shape gives the interpreter's values whatever the width,
/// tails of rows and of reduction chunks included.
@Suite("OpenCL work-items of several points", .planned, .enabled(if: openCLAvailable), .serialized)
struct OpenCLPointsTests {
    /// Kernels of every shape the widths change: elementwise of rank 1-3 at odd extents, a
    /// strided (transposed) read, an in-place stencil, two outputs, and reductions of each kind
    /// (full, over rows, integer, float32, arg) with chunk ends that are not multiples of 8.
    func kernels() throws -> [PlanRecorder.Recorded] {
        let x = Tensor<Double>.uniform([100_003], seed: 1, in: -1...1)
        let m = Tensor<Double>.uniform([37, 53], seed: 2, in: -1...1)
        let c = Tensor<Double>.uniform([5, 7, 9], seed: 3, in: -1...1)
        let f = Tensor<Float>.uniform([9_999], seed: 4, in: -1...1)
        let n = Tensor<Int32>.arange(0, 20_011)
        let w = Tensor<Double>.uniform([3, 667, 29], seed: 7, in: -1...1).reshaped([2001, 29])
        let base = Tensor<Double>.uniform([7, 6, 40], seed: 6, in: -1...1)
        try base.flush()
        let p = base.permuted([2, 1, 0])    // [40, 6, 7], no two axes mergeable, columns
        let wide = Tensor<Double>.uniform([40, 6, 9], seed: 8, in: -1...1)
        try wide.flush()
        let s = wide[0..<40, 0..<6, 0..<7]  // rows of 7 contiguous, 6 of them 9 apart
        var u = Tensor<Double>.uniform([33, 35], seed: 5, in: 0...1)
        for t in [x, m, c, u, w] { try t.flush() }
        try f.flush()
        try n.flush()
        return try recordKernels {
            try (x.exp() * 2 + 1).flush()
            try (m.sin() + m * m).flush()
            try (m.transposed * 2).flush()
            try (c * c - 1).flush()
            let a = x * 3, b = x - 1
            try Tandem.flush(a, b)
            u[1..<32, 1..<34] = 0.25 * (u[0..<31, 1..<34] + u[2..<33, 1..<34] + u[1..<32, 0..<33] + u[1..<32, 2..<35])
            try u.flush()
            _ = try x.sum().item()
            _ = try (x * x).max().item()
            _ = try x.min().item()
            _ = try x[0..<61].prod().item()
            _ = try m.sum(axis: 1).scalars
            _ = try p.sum(axes: [1, 2]).scalars
            _ = try s.sum(axes: [1, 2]).scalars
            _ = try m.sum(axis: 0).scalars                       // columns: 53 of 37 rows
            _ = try (w * 2).min(axis: 0).scalars                 // 3 x 8 + 5 columns of 2,001 rows
            _ = try (w * w).sum(axes: [0, 1]).scalars            // columns under two reduce axes
            _ = try (p * p).max(axes: [1, 2]).scalars
            _ = try f.sum().item()
            _ = try (n % 7).sum().item()
            _ = try x.argmax().item()
        }
    }

    @Test("work-items of 1, 3 and 8 points give the interpreter's values on every kernel shape")
    func everyWidth() throws {
        let ks = try kernels()
        try #require(ks.count >= 20, "\(ks.count) kernels recorded")
        // Two reduce axes under one parallel one: the laned rows entry's outer reduce loop; and
        // column reductions, one and two reduce axes.
        #expect(ks.contains { $0.kernel.reduceAxes == 2 && $0.kernel.parallelAxes == 1 && !AcceleratorLaunch.reducesColumns($0.kernel) })
        #expect(ks.filter { AcceleratorLaunch.reducesColumns($0.kernel) }.count >= 2)
        var widened = (rows: 0, split: 0)
        for points in [1, 3, 8] {
            let d = privateOpenCLDevice(pointsPerItem: points)
            for (i, k) in ks.enumerated() {
                let source = d.source(for: k.kernel)
                let w = AcceleratorLaunch.points(k.kernel, device: points)
                #expect(w == points || (points > 1 && w == 2 * points && k.kernel.buffers.allSatisfy { $0.dtype.byteSize <= 4 || $0.isWritten }))
                let wide = source.contains("const int m_ = (int)min((int64_t)\(w)")
                #expect(wide == (points > 1 && (AcceleratorLaunch.widensRows(k.kernel, points: points)
                                                || (k.kernel.hasReductions && k.kernel.reduceAxes > 0 && AcceleratorLaunch.widensSplit(k.kernel, points: points)))),
                        "kernel \(i), \(points) points")
                if points == 8 && wide {
                    if AcceleratorLaunch.widensRows(k.kernel, points: points) { widened.rows += 1 } else { widened.split += 1 }
                }
                for seed in [UInt64(7), 8] {
                    let r = try KernelCheck.run(k, on: d, reference: InterpreterDevice(), seed: seed)
                    #expect(r.passed, "kernel \(i), \(points) points a work-item: \(r.detail)\n\(source)")
                }
            }
        }
        // Both entry points were widened somewhere (the check above is not vacuous).
        #expect(widened.rows >= 5 && widened.split >= 5, "\(widened)")
    }

    @Test("columns or rows: by whether the accesses made at every point run more along the parallel axis or the reduce axis")
    func columnsOrRows() {
        // sum over j of exp(a[i + j*n] - v[j]), with exp(...) also stored at a's place (GMM's
        // responsibilities): a read and a store down the columns, one read along the rows.
        func kernel(storeAlong: Bool) -> Kernel {
            Kernel(rank: 2, parallelAxes: 1,
                   buffers: [BufferParam(dtype: .float64, isRead: true, isWritten: false), BufferParam(dtype: .float64, isRead: true, isWritten: false),
                             BufferParam(dtype: .float64, isRead: false, isWritten: true)],
                   accesses: [Access(offset: 2, strides: [.one, .param(3)]), Access(offset: 4, strides: [.zero, .one]),
                              Access(offset: 5, strides: storeAlong ? [.one, .param(3)] : [.param(3), .one])],
                   instrs: [Instr(.load(buffer: 0, access: 0), .float64), Instr(.load(buffer: 1, access: 1), .float64),
                            Instr(.binary(.sub, 0, 1), .float64), Instr(.unary(.exp, 2), .float64)],
                   reductions: [Reduction(op: .sum, value: 3, accumulator: .float64)],
                   stores: [Store(buffer: 2, access: 2, value: 3, epilogue: false)], intParams: 6, floatParams: 0)
        }
        #expect(AcceleratorLaunch.reducesColumns(kernel(storeAlong: true)))       // 2 down the columns, 1 along the rows
        #expect(!AcceleratorLaunch.reducesColumns(kernel(storeAlong: false)))     // 1 and 2
    }

    @Test("the device on CPU cores takes eight points a work-item, a GPU one; the launch covers every point once")
    func launchItems() throws {
        #expect(AcceleratorLaunch.pointsPerItem(runsOnCPUCores: true) == 8)
        #expect(AcceleratorLaunch.pointsPerItem(runsOnCPUCores: false) == 1)
        // A kernel of float values (a float sum included) takes twice the device's points; one
        // with a double anywhere before its epilogue, the device's.
        let f = Tensor<Float>.uniform([1000], seed: 3, in: 0...1)
        try f.flush()
        let floats = try #require(recordKernels { _ = try (f * f).sum().item() }.first)
        let mixed = try #require(recordKernels { _ = try (f.cast(to: Double.self) * 3).cast(to: Float.self).sum().item() }.first)
        #expect(AcceleratorLaunch.points(floats.kernel, device: 8) == 16 && AcceleratorLaunch.points(floats.kernel, device: 1) == 1)
        #expect(AcceleratorLaunch.points(mixed.kernel, device: 8) == 8)
        let m = Tensor<Double>.uniform([37, 53], seed: 2, in: -1...1)
        try m.flush()
        // A transposed read keeps two parallel axes: rows of 37 points, 53 of them.
        let k = try #require(recordKernels { try (m.transposed * 2).flush() }.first)
        try #require(k.kernel.parallelAxes == 2 && k.ints[0] == 53 && k.ints[1] == 37, "\(k.ints)")
        #expect(AcceleratorLaunch.rowItems(k.kernel, ints: k.ints, points: 1) == 53 * 37)
        #expect(AcceleratorLaunch.rowItems(k.kernel, ints: k.ints, points: 8) == 53 * 5)    // 37 = 4 x 8 + 5
        #expect(AcceleratorLaunch.rowItems(k.kernel, ints: k.ints, points: 37) == 53)
        #expect(AcceleratorLaunch.rowItems(k.kernel, ints: k.ints, points: 64) == 53)
        // Reductions: a device on CPU cores runs them a work-item per point from 8 points a compute
        // unit (a work-group runs on one core there: the split's tree buys nothing), a GPU from 16,384.
        let rows = try #require(recordKernels { _ = try m.sum(axis: 1).scalars }.first)
        func plan(_ points: Int, units: Int) -> AcceleratorLaunch.Plan {
            AcceleratorLaunch.plan(rows.kernel, ints: rows.ints, computeUnits: units, threads: CRenderer.openCLThreads, points: points)
        }
        #expect(plan(8, units: 2) == .rows(blocks: 1))
        if case .splitCombine = plan(8, units: 8) {} else { Issue.record("37 rows on 8 units of CPU cores: \(plan(8, units: 8))") }
        if case .splitCombine = plan(1, units: 2) {} else { Issue.record("37 rows on a GPU: \(plan(1, units: 2))") }
        // A GPU's source is the one-point form, unchanged.
        #expect(CRenderer.render(k.kernel, dialect: .opencl) == CRenderer.render(k.kernel, dialect: .opencl, pointsPerItem: 1))
        #expect(!CRenderer.render(k.kernel, dialect: .opencl).contains("const int m_"))
    }
}
