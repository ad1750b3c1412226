import TandemIR

/// How far a kernel may run behind the kernel before it, row by row, when the two run as one
/// pass over their first axis: `Lagging.bounds(_:_:)`.
///
/// Red-black SOR updates the red cells (reading the black ones), then the black cells (reading
/// the red ones just written). Run one after the other, each sweep streams the whole grid through
/// the caches; on a grid about the size of the last-level cache that is twice the memory traffic
/// of one pass. Black row `t` needs only red rows `t - 1 ... t + 1`, so the black sweep can follow
/// the red one a row behind (`lag` 1), the rows it reads still in L1 or L2: one pass instead of two.
///
/// A row-by-row pass over `[lo, hi)` runs `first` at `t` and then `second` at `t - lag`. It is
/// equivalent to the two kernels in sequence when every pair of conflicting points (the same
/// element, at least one of them a store) has `first`'s row `t1` and `second`'s row `t2` with
/// `-lead <= t1 - t2 <= lag`: then `first(t1)` always runs before `second(t2)`. Run in chunks
/// concurrently, `second`'s rows within `lead` of a chunk's start or `lag` of its end conflict
/// with rows of a neighbouring chunk; they run in a second phase, after every chunk's first
/// (`Lagging.deferred`).
public struct LagBounds: Hashable, Sendable {
    /// Rows `second` runs behind `first`: the largest `t1 - t2` of a conflict (at least 0).
    public var lag: Int
    /// The largest `t2 - t1` of a conflict (at least 0): rows at a chunk's start that wait.
    public var lead: Int
    /// Bytes one row step advances through the buffers the pair shares (the data in flight per
    /// row of lag).
    public var rowBytes: Int

    public init(lag: Int, lead: Int, rowBytes: Int = 0) {
        self.lag = lag
        self.lead = lead
        self.rowBytes = rowBytes
    }
}

public enum Lagging {
    /// Most bytes of rows in flight between the two kernels (lag or lead times `rowBytes`):
    /// beyond what L2 holds, the second kernel's rows come from memory again and the pass gains
    /// nothing. Red-black SOR float64 at n = 2048 has 33 KB per row of lag.
    public static let maxLagBytes = 256 << 10
    /// Least bytes the two kernels access together for the planner to pair them: below it both
    /// sweeps stay in cache anyway, and the second phase's task is pure overhead.
    public static let minimumBytes = 4 << 20
    /// Bytes of rows (as `bytesAccessed` counts them) the lagged pass hands `first` per call.
    public static let groupBytes = 128 << 10

    /// The lag and lead under which `second` may follow `first` row by row, or nil when the pair
    /// cannot (no shared first axis, reductions split along it, an unbounded conflict) or would
    /// not gain (no buffer in common, so no row is read twice).
    ///
    /// Conflicts are bounded by address intervals: an access at row `t` touches flat elements
    /// `offset + s0 * t + [lo, hi]`, where `[lo, hi]` spans its inner axes. Two accesses of one
    /// buffer with the same positive row stride `s0` can meet only for
    /// `t1 - t2` in `[(o2 - o1 + lo2 - hi1) / s0, (o2 - o1 + hi2 - lo1) / s0]`; any other pair of
    /// strides is refused. The bound ignores parity (red and black cells of one row count as
    /// meeting), which costs nothing here: it only makes the lag larger by a row at most.
    public static func bounds(_ first: PlannedKernel, _ second: PlannedKernel) -> LagBounds? {
        let k1 = first.kernel, k2 = second.kernel
        guard k1.parallelAxes >= 1, k2.parallelAxes >= 1, first.splitChunks == 0, second.splitChunks == 0,
              first.launch.extent(0) == second.launch.extent(0), first.launch.extent(0) > 1 else { return nil }
        struct Use { var buffer: Buffer; var offset: Int; var rowStride: Int; var lo: Int; var hi: Int; var write: Bool }
        func uses(_ p: PlannedKernel) -> [Use] {
            let k = p.kernel, ints = p.launch.ints
            func use(_ b: Int, _ a: Int, write: Bool, epilogue: Bool) -> Use {
                let access = k.accesses[a]
                var lo = 0, hi = 0
                for axis in 1..<k.rank where !(epilogue && axis >= k.parallelAxes) {
                    let span = access.strides[axis].value(ints) * (p.launch.extent(axis) - 1)
                    if span < 0 { lo += span } else { hi += span }
                }
                return Use(buffer: p.launch.buffers[b], offset: Int(ints[access.offset]), rowStride: access.strides[0].value(ints),
                           lo: lo, hi: hi, write: write)
            }
            var out: [Use] = []
            for instr in k.instrs { if case .load(let b, let a) = instr.op { out.append(use(b, a, write: false, epilogue: instr.epilogue)) } }
            for s in k.stores { out.append(use(s.buffer, s.access, write: true, epilogue: s.epilogue)) }
            return out
        }
        let u1 = uses(first), u2 = uses(second)
        var shared: [Buffer] = []
        var rowBytes = 0
        var lag = 0, lead = 0
        for a in u1 {
            for b in u2 where a.buffer === b.buffer {
                if !shared.contains(where: { $0 === a.buffer }) {
                    shared.append(a.buffer)
                    rowBytes += abs(a.rowStride) * a.buffer.dtype.byteSize
                }
                guard a.write || b.write else { continue }
                guard a.rowStride > 0, a.rowStride == b.rowStride else { return nil }
                let s = a.rowStride
                let most = floorDiv(b.offset - a.offset + b.hi - a.lo, s)    // largest t1 - t2
                let least = -floorDiv(a.offset - b.offset + a.hi - b.lo, s)  // smallest t1 - t2
                if most < least { continue }                                  // never meet
                lag = max(lag, most)
                lead = max(lead, -least)
            }
        }
        guard !shared.isEmpty, max(lag, lead) * rowBytes <= maxLagBytes else { return nil }
        return LagBounds(lag: lag, lead: lead, rowBytes: rowBytes)
    }

    /// The rows of `second` a chunk `[lo, hi)` leaves to the second phase: those within `lead` of
    /// its start and within `lag` of its end (each row once, in order).
    public static func deferred(lo: Int, hi: Int, _ b: LagBounds) -> [Range<Int>] {
        let head = lo..<min(hi, lo + b.lead)
        let tail = max(head.upperBound, hi - b.lag)..<hi
        return [head, tail].filter { !$0.isEmpty }
    }

    /// The rows of `second` a chunk `[lo, hi)` runs in the first phase, behind `first`.
    public static func inline(lo: Int, hi: Int, _ b: LagBounds) -> Range<Int> {
        let start = min(hi, lo + b.lead)
        return start..<max(start, hi - b.lag)
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
