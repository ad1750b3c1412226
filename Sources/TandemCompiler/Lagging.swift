import TandemIR

/// Consecutive kernels over the same rows that run as one pass, each a few rows behind the one
/// before: `Lagging.chain(_:)` finds them, `LagChain` says how far behind each runs.
///
/// Red-black SOR updates the red cells (reading the black ones), then the black cells (reading
/// the red ones just written), then the red ones again. Run one after the other, each sweep
/// streams the whole grid through the caches; on a grid about the size of the last-level cache
/// that is memory traffic per sweep. Black row `t` needs only red rows `t - 1 ... t + 1`, so the
/// black sweep can follow the red one a row behind, the next red sweep a row behind that, and so
/// on, the rows they read still in L1 or L2: one pass over the grid for several sweeps.
///
/// Kernel `j` of the chain runs its row `t - shifts[j]` at step `t`, after kernels `0 ..< j` ran
/// theirs. That equals running the kernels one after the other when every pair of conflicting
/// points (the same element, at least one of them a store) of kernels `i < j`, at rows `ti` and
/// `tj`, has `ti - tj <= shifts[j] - shifts[i]`: then kernel `i`'s point always runs first.
/// Run in chunks concurrently, kernel `j`'s rows within `heads[j]` of a chunk's start or
/// `shifts[j]` of its end may conflict with rows of a neighbouring chunk; they run in a second
/// phase, after every chunk's first, boundary by boundary, kernel by kernel in order.
public struct LagChain: Hashable, Sendable {
    /// Rows each kernel runs behind the first (0 for the first; never decreasing).
    public var shifts: [Int]
    /// Rows at a chunk's start each kernel leaves to the second phase (0 for the first).
    public var heads: [Int]
    /// The largest distance in rows between two conflicting points of two of the kernels.
    public var reach: Int
    /// Bytes one row step advances through the buffers the kernels use (the data in flight per
    /// row of shift).
    public var rowBytes: Int

    public init(shifts: [Int], heads: [Int], reach: Int, rowBytes: Int) {
        self.shifts = shifts
        self.heads = heads
        self.reach = reach
        self.rowBytes = rowBytes
    }

    /// Kernels in the chain: this kernel of the plan and the next `count - 1`.
    public var count: Int { shifts.count }

    /// Rows of kernel `j` a chunk `[lo, hi)` runs in the first phase.
    public func inline(_ j: Int, lo: Int, hi: Int) -> Range<Int> {
        let start = min(hi, lo + heads[j])
        return start..<max(start, hi - shifts[j])
    }

    /// Rows of kernel `j` a chunk `[lo, hi)` leaves to the second phase: at its start, at its end.
    public func deferred(_ j: Int, lo: Int, hi: Int) -> (head: Range<Int>, tail: Range<Int>) {
        let run = inline(j, lo: lo, hi: hi)
        return (lo..<run.lowerBound, max(run.upperBound, run.lowerBound)..<hi)
    }

    /// Fewest rows a chunk may have: the deferred rows around two of its boundaries then stay
    /// more than `reach` rows apart, so the second phase may run boundaries concurrently.
    public var minimumChunk: Int { (shifts.max() ?? 0) + (heads.max() ?? 0) + reach + 1 }
}

public enum Lagging {
    /// Most bytes of rows in flight between the first kernel and the last (the largest shift or
    /// head times `rowBytes`): beyond what L2 holds, the later kernels' rows come from memory
    /// again and the pass gains nothing. Red-black SOR float64 at n = 2048 has 33 KB a row pair.
    public static let maxLagBytes = 256 << 10
    /// Least bytes the kernels of a chain access together: below it every sweep stays in cache
    /// anyway, and the second phase's task is pure overhead.
    public static let minimumBytes = 4 << 20
    /// Most kernels in one chain.
    public static let maxChain = 16
    /// Bytes of rows (by `rowBytes`) the lagged pass hands the first kernel per call.
    public static let groupBytes = 128 << 10

    /// How two kernels' accesses meet, row by row.
    enum Conflict: Equatable, Sendable {
        /// No buffer in common.
        case disjoint
        /// Buffers in common; every conflict has `-lead <= t1 - t2 <= lag` (both at least 0; 0
        /// when they only read what they share).
        case bounded(lag: Int, lead: Int)
        /// A conflict that no row distance bounds (another row stride, a broadcast row).
        case unbounded
    }

    struct Use {
        var buffer: Buffer
        var offset: Int
        var rowStride: Int
        var lo: Int
        var hi: Int
        var write: Bool
    }

    /// Every load and store of `p`, with the flat interval `[offset + lo, offset + hi]` it
    /// touches at row 0 and its stride along the first axis.
    static func uses(_ p: PlannedKernel) -> [Use] {
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

    /// How the accesses `u1` of a kernel and `u2` of one run after it meet.
    ///
    /// Conflicts are bounded by address intervals: an access at row `t` touches flat elements
    /// `offset + s0 * t + [lo, hi]`, where `[lo, hi]` spans its inner axes. Two accesses of one
    /// buffer with the same positive row stride `s0` can meet only for
    /// `t1 - t2` in `[(o2 - o1 + lo2 - hi1) / s0, (o2 - o1 + hi2 - lo1) / s0]`; any other pair of
    /// strides is unbounded. The bound ignores parity (red and black cells of one row count as
    /// meeting), which costs a row of shift at most.
    static func conflict(_ u1: [Use], _ u2: [Use]) -> Conflict {
        var shared = false
        var lag = 0, lead = 0
        for a in u1 {
            for b in u2 where a.buffer === b.buffer {
                shared = true
                guard a.write || b.write else { continue }
                guard a.rowStride > 0, a.rowStride == b.rowStride else { return .unbounded }
                let s = a.rowStride
                let most = floorDiv(b.offset - a.offset + b.hi - a.lo, s)    // largest t1 - t2
                let least = -floorDiv(a.offset - b.offset + a.hi - b.lo, s)  // smallest t1 - t2
                if most < least { continue }                                  // never meet
                lag = max(lag, most)
                lead = max(lead, -least)
            }
        }
        return shared ? .bounded(lag: lag, lead: lead) : .disjoint
    }

    /// The longest chain starting at the first of `kernels` (consecutive kernels of a plan), or
    /// nil when it would have fewer than two kernels, access fewer than `minimumBytes`, or when
    /// the first cannot start one (no parallel first axis, a split reduction).
    /// `bytes`: each kernel's `bytesAccessed`, at the same indices as `kernels` (the planner
    /// counts them once; counted at each call, they were a twelfth of a plan's time).
    public static func chain(_ kernels: ArraySlice<PlannedKernel>, bytes kernelBytes: ArraySlice<Int>) -> LagChain? {
        guard let first = kernels.first else { return nil }
        let n0 = first.kernel.rank > 0 ? first.launch.extent(0) : 0
        func eligible(_ p: PlannedKernel) -> Bool {
            // A gather reads rows that depend on data: its row interval is unknown.
            p.kernel.parallelAxes >= 1 && p.splitChunks == 0 && p.launch.extent(0) == n0
                && !p.kernel.readsDataDependentPositions
                // A one-axis kernel's rows are its vector lanes: cut where the shifts fall, its
                // vector math would round some elements differently (`Kernel.usesVectorMath`).
                && !(p.kernel.rank == 1 && p.kernel.usesVectorMath)
        }
        guard eligible(first), n0 > 1 else { return nil }
        // The chain's kernels are at most the next `maxChain`: when even all of them access
        // fewer than `minimumBytes`, no chain is worth its lag, and its conflicts (quadratic in
        // the members) need not be found. A plan of a thousand row writes into one array spent
        // a fifth of its planning here, at every kernel.
        guard kernelBytes.prefix(maxChain).reduce(0, +) >= minimumBytes else { return nil }
        var members: [[Use]] = [uses(first)]
        /// The buffers the chain uses, each with the bytes one row step advances through it.
        var rows: [(buffer: Buffer, bytes: Int)] = []
        func adding(_ u: [Use]) -> [(buffer: Buffer, bytes: Int)] {
            var out = rows
            for use in u where !out.contains(where: { $0.buffer === use.buffer }) {
                out.append((use.buffer, abs(use.rowStride) * use.buffer.dtype.byteSize))
            }
            return out
        }
        rows = adding(members[0])
        var shifts = [0], heads = [0], reach = 0
        var bytes = kernelBytes.first!
        extend: for (next, nextBytes) in zip(kernels.dropFirst(), kernelBytes.dropFirst()) {
            guard members.count < maxChain, eligible(next) else { break }
            let u = uses(next)
            var shift = shifts.last!, head = heads.last!, furthest = reach
            var touchesPrevious = false
            for (i, earlier) in members.enumerated() {
                switch conflict(earlier, u) {
                case .disjoint: continue
                case .unbounded: break extend
                case .bounded(let lag, let lead):
                    if i == members.count - 1 { touchesPrevious = true }
                    shift = max(shift, shifts[i] + lag)
                    head = max(head, heads[i] + lead)
                    furthest = max(furthest, lag, lead)
                }
            }
            let widened = adding(u)
            guard touchesPrevious, max(shift, head) * widened.reduce(0, { $0 + $1.bytes }) <= maxLagBytes else { break }
            members.append(u)
            rows = widened
            shifts.append(shift)
            heads.append(head)
            reach = furthest
            bytes += nextBytes
        }
        guard members.count >= 2, bytes >= minimumBytes else { return nil }
        return LagChain(shifts: shifts, heads: heads, reach: reach, rowBytes: rows.reduce(0) { $0 + $1.bytes })
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
