#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR
import TandemRuntime

/// Runs kernel IR in Swift, point by point, with exactly the semantics of the generated C
/// (wrapping integers, saturating casts, NaN-propagating max/min, Float rounded after every
/// operation, Tandem's own exp and erf, floating sums folded in the C code's lanes), so that its
/// results equal compiled code's bit for bit; log, sin, cos, tanh and pow come from libm here and
/// from glibc's vector library in compiled code (within 4 ulp, see the README). It is the
/// reference for differential tests and the path when no compiler exists. Kernels without
/// reductions, and reduction bodies along their innermost reduce axis (or, for rows of at most
/// 32, along the last parallel axis: `State.shortRows`), run over blocks of points
/// (`RowKernel`), with the same bits; what remains point by point is about two orders of
/// magnitude slower than compiled code.
public struct InterpreterDevice: KernelDevice {
    /// Whether kernels without reductions run block by block (`RowKernel`); false runs every
    /// kernel point by point (the differential tests compare the two bit for bit).
    public let rows: Bool
    public init(rows: Bool = true) { self.rows = rows }
    public var name: String { "interpreter" }
    public var availability: Availability { .available }
    public func prepare(_ kernel: Kernel) throws -> any PreparedKernel {
        if kernel.isSequence { return try PreparedSequence(kernel, prepare: prepare) }
        return InterpretedKernel(kernel: kernel, rows: rows)
    }
}

struct InterpretedKernel: PreparedKernel {
    let kernel: Kernel
    /// Whether kernels of this structure may take the row path (`RowKernel`).
    let rows: Bool
    /// `RowKernel.otherAccesses` of the kernel, found once here rather than at every run.
    let otherAccesses: [(Access, Access)]

    init(kernel: Kernel, rows: Bool = true) {
        self.kernel = kernel
        self.rows = rows && RowKernel.eligible(kernel)
        otherAccesses = self.rows ? RowKernel.otherAccesses(kernel) : []
    }

    func run(_ launch: Launch, lo: Int, hi: Int) {
        if rows, kernel.reductions.isEmpty, let r = RowKernel(kernel, launch, otherAccesses: otherAccesses) {
            r.run(lo: lo, hi: hi)
            return
        }
        var st = State(kernel, launch, rows: rows, otherAccesses: otherAccesses)
        let P = kernel.parallelAxes
        if P == 0 {
            st.point(parallel: [], reduceFrom: nil)
            return
        }
        var idx = [Int](repeating: 0, count: P)
        if st.rows != nil, kernel.rank == P + 1, (1...State.shortRow).contains(launch.extent(P)) {
            if launch.extent(P - 1) >= 8 {
                if P == 1 {
                    st.shortRows(outer: idx, from: lo, to: hi)
                    return
                }
                for i0 in lo..<hi {
                    idx[0] = i0
                    st.forEach(axes: 1..<(P - 1), &idx) { st, p in st.shortRows(outer: p, from: 0, to: st.extent(P - 1)) }
                }
                return
            }
            if P >= 2 {
                // Fewer than 8 outputs along the last parallel axis (a product `X @ W` with few
                // columns): blocks of whole rows of it, stacked along the axis outside it.
                if P == 2 {
                    st.shortRows(outer: idx, from: lo, to: hi, stacked: true)
                    return
                }
                for i0 in lo..<hi {
                    idx[0] = i0
                    st.forEach(axes: 1..<(P - 2), &idx) { st, p in st.shortRows(outer: p, from: 0, to: st.extent(P - 2), stacked: true) }
                }
                return
            }
        }
        for i0 in lo..<hi {
            idx[0] = i0
            st.forEach(axes: 1..<P, &idx) { st, p in st.point(parallel: p, reduceFrom: nil) }
        }
    }

    func runSplit(_ launch: Launch, lo: Int, hi: Int, partials: UnsafeMutableRawPointer) {
        var st = State(kernel, launch, rows: rows, otherAccesses: otherAccesses)
        let P = kernel.parallelAxes
        let nred = kernel.reductions.count
        if P == 0 && kernel.rank == 1 && kernel.lanedReduction {
            // The split axis is the innermost loop: one laned run over the chunk, as in C.
            for j in 0..<nred { st.accs[j] = st.identity(j) }
            st.lanedLoop(axis: 0, from: lo, to: hi)
            for j in 0..<nred { st.writeAcc(st.accs[j], partials, j) }
            return
        }
        var idx = [Int](repeating: 0, count: P)
        var q = 0
        st.forEach(axes: 0..<P, &idx) { st, p in
            for j in 0..<nred { st.writeAcc(st.identity(j), partials, q * nred + j) }
            q += 1
        }
        if kernel.rank == P + 1 {
            // One reduce axis, the split one: each parallel point runs a stretch of it at once
            // (in blocks, `blockLoop`, where the row path applies), stretch after stretch, so a
            // reduction down columns (`x.sum(axis: 0)`, the reduce axis innermost in the kernel,
            // strided in memory) is not interpreted point by point with its accumulators read
            // and written around every point (68 ns a point). Each point's values fold in the
            // same order as before (r0 ascending); stretches keep the rows they read in cache.
            let stretch = Swift.max(1, State.splitStretch / Swift.max(1, (0..<P).reduce(1) { $0 * launch.extent($1) }))
            var b = lo
            while b < hi {
                let e = Swift.min(hi, b + stretch)
                q = 0
                st.forEach(axes: 0..<P, &idx) { st, p in
                    for j in 0..<nred { st.accs[j] = st.readAcc(partials, q * nred + j, j) }
                    for (a, v) in p.enumerated() { st.domain[a] = v }
                    if st.rows != nil {
                        st.blockLoop(axis: P, from: b, to: e, lanesFrom: nil)
                    } else {
                        for r in b..<e {
                            st.domain[P] = r
                            st.evaluateBody()
                        }
                    }
                    for j in 0..<nred { st.writeAcc(st.accs[j], partials, q * nred + j) }
                    q += 1
                }
                b = e
            }
            return
        }
        for r0 in lo..<hi {
            q = 0
            st.forEach(axes: 0..<P, &idx) { st, p in
                for j in 0..<nred { st.accs[j] = st.readAcc(partials, q * nred + j, j) }
                st.reduceLoop(parallel: p, r0: r0)
                for j in 0..<nred { st.writeAcc(st.accs[j], partials, q * nred + j) }
                q += 1
            }
        }
    }

    func combine(_ launch: Launch, partials: UnsafeRawPointer, count: Int) {
        var st = State(kernel, launch, rows: rows, otherAccesses: otherAccesses)
        let P = kernel.parallelAxes
        let nred = kernel.reductions.count
        var idx = [Int](repeating: 0, count: P)
        let np = (0..<P).reduce(1) { $0 * launch.extent($1) }
        var q = 0
        st.forEach(axes: 0..<P, &idx) { st, p in
            for j in 0..<nred { st.accs[j] = st.identity(j) }
            for c in 0..<count {
                for j in 0..<nred {
                    let part = st.readPart(UnsafeMutableRawPointer(mutating: partials), (c * np + q) * nred + j, j)
                    st.fold(j, part.value, index: part.index)
                }
            }
            st.epilogue(parallel: p)
            q += 1
        }
    }
}
