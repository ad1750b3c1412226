import TandemIR

/// How a kernel runs on a queued device (CUDA, OpenCL), as a pure function of the kernel and its
/// sizes: one work-item per parallel point (`rows`), or a reduction split over work-groups and
/// combined in order (`splitCombine`). The number of parts depends on the sizes alone, so a
/// reduction gives the same bits on every device model and every run.
///
///     AcceleratorLaunch.plan(kernel, ints: launch.ints, computeUnits: 132, threads: 256)   // .rows(blocks: 4224)
public enum AcceleratorLaunch {
    /// Parallel points from which a reduction runs one work-item per point, below which it is
    /// split over work-groups.
    public static let rowsThreshold = 16384
    /// Reduce elements per work-group of the split pass.
    public static let elementsPerPart = 8192
    public static let maxParts = 1024

    public enum Plan: Equatable, CustomStringConvertible {
        /// `tandem_kernel` on a grid-stride loop of `blocks` work-groups.
        case rows(blocks: Int)
        /// `tandem_kernel_split` on (parts, gridY) work-groups, then `tandem_kernel_combine` on
        /// `combineBlocks` work-groups; `partialBytes` of scratch for the partials.
        case splitCombine(parts: Int, gridY: Int, combineBlocks: Int, partialBytes: Int)

        public var description: String {
            switch self {
            case .rows(let b): "rows \(b) blocks"
            case .splitCombine(let p, let y, let c, _): "split \(p)x\(y) blocks, combine \(c) blocks"
            }
        }
    }

    /// Consecutive points each work-item computes on a device that runs work-items as loops on
    /// CPU cores (PoCL, a CPU OpenCL driver), where a GPU gives each its own: such a device
    /// vectorises across work-items only while each work-item is straight-line code, and a
    /// body that clang's SLP vectoriser has already paired (Black-Scholes' two `erfc`) runs
    /// scalar. Eight points a work-item are vectorised inside the work-item instead (a sum folds
    /// them into eight lanes): Black-Scholes' body on PoCL, 4·10^6 points, 52 -> 14 ns a point
    /// elementwise and 33 -> 15 as a sum (`bench/opencl/points_per_item.py`); 4 and 16 measured
    /// the same as 8.
    public static func pointsPerItem(runsOnCPUCores: Bool) -> Int { runsOnCPUCores ? 8 : 1 }

    /// The points each work-item of `kernel` computes on a device of `points` per work-item:
    /// twice as many for a kernel whose values are all four bytes or narrower (a float kernel
    /// fills a vector of doubles' width twice: N-body's float all-pairs sums on PoCL, 3.85 ->
    /// 2.68 ms a call with 16 points against 8). A float sum's widening to its double
    /// accumulator and what follows the reduction (the epilogue) do not count.
    public static func points(_ kernel: Kernel, device points: Int) -> Int {
        guard points > 1 else { return points }
        let widenings = Set(kernel.reductions.filter { unwidened($0, in: kernel) != $0.value }.map(\.value))
        let narrow = kernel.instrs.indices.allSatisfy { i in
            kernel.instrs[i].epilogue || kernel.instrs[i].dtype.byteSize <= 4 || widenings.contains(i)
        }
        return narrow ? 2 * points : points
    }

    /// The instruction whose value reduction `r` takes before its widening to float64 (a float
    /// sum's values are cast to double in the IR), or `r.value` when there is none.
    static func unwidened(_ r: Reduction, in kernel: Kernel) -> Int {
        if case .cast(let a) = kernel.instrs[r.value].op, kernel.instrs[r.value].dtype == .float64, kernel.instrs[a].dtype == .float32 { return a }
        return r.value
    }

    /// Whether `tandem_kernel` computes `points` consecutive points of the innermost parallel axis
    /// in each work-item, when `points > 1`: kernels with parallel axes and no reduce axes, and
    /// column reductions (`reducesColumns`).
    public static func widensRows(_ kernel: Kernel, points: Int) -> Bool {
        points > 1 && kernel.parallelAxes > 0 && (kernel.reduceAxes == 0 || reducesColumns(kernel))
    }

    /// A reduction whose memory accesses (loads and the stores made at every point) run along
    /// the innermost parallel axis more often than along the innermost reduce axis (a sum over
    /// rows, `x.sum(axis: 0)`, `X.T @ w`; GMM's responsibilities read and written down their
    /// columns beside a short vector read along them): a work-item then takes adjacent columns
    /// and adds each in order down the reduce axes, a vector of columns a step, where a
    /// work-item a column strided through memory (GMM's weighted means on PoCL: 43 -> 8 ms for
    /// 12.8·10^6 points; with the stores counted, its `exp` sums 14.7 -> 4 ms and the whole
    /// medium run 0.51-0.65 -> 0.41-0.45 s). No arg reductions.
    public static func reducesColumns(_ kernel: Kernel) -> Bool {
        let P = kernel.parallelAxes, last = kernel.rank - 1
        guard P > 0, kernel.reduceAxes > 0, kernel.reductions.allSatisfy({ !$0.op.isArg }) else { return false }
        var along = 0, across = 0
        func count(_ a: Int) {
            let strides = kernel.accesses[a].strides
            if strides[last] == .one { across += 1 } else if strides[P - 1] == .one { along += 1 }
        }
        for instr in kernel.instrs { if case .load(_, let a) = instr.op { count(a) } }
        for store in kernel.stores where !store.epilogue { count(store.access) }
        return along > across
    }

    /// Whether a work-item's own fold of a reduction takes `points` consecutive elements a step
    /// into `points` lanes, combined in order after its last step: the split pass's fold, and the
    /// innermost reduce loop of the rows entry, for every reduction but the arg ones (whose
    /// first extremum needs the elements in order), when `points > 1`.
    public static func widensSplit(_ kernel: Kernel, points: Int) -> Bool {
        points > 1 && kernel.reductions.allSatisfy { !$0.op.isArg }
    }

    /// Parallel points per compute unit from which a device on CPU cores (`points > 1`) runs a
    /// reduction one work-item per point rather than split: such a device runs a work-group on
    /// one core, so the split's tree of 128 work-items buys no parallelism a row, only barriers
    /// (N-body's all-pairs sums, 2,000 rows of 2,000 on PoCL: 6.9 ms split, see RESULTS).
    public static let cpuRowsPerUnit = 8

    /// Work-items of a `.rows` launch: one per parallel point, or per `points` of each row of the
    /// innermost parallel axis when the rows entry is widened (`widensRows`).
    public static func rowItems(_ kernel: Kernel, ints: [Int64], points: Int) -> Int {
        let P = kernel.parallelAxes
        let all = (0..<P).reduce(1) { $0 * Int(ints[$1]) }
        guard widensRows(kernel, points: points) else { return all }
        let inner = Int(ints[P - 1])
        guard inner > 0 else { return 0 }
        return all / inner * ((inner + points - 1) / points)
    }

    /// The work-items of the rows entry that compute rows `rows` of the first axis: the first
    /// one's global index and how many. Items go in order of the first axis, the same number a
    /// row, except in a widened kernel of one parallel axis (an item takes `points` elements),
    /// where `rows` must start at a multiple of `points`.
    public static func partItems(_ kernel: Kernel, ints: [Int64], points: Int, rows: Range<Int>) -> (first: Int, count: Int) {
        let n0 = Int(ints[0])
        guard n0 > 0, !rows.isEmpty else { return (0, 0) }
        if kernel.parallelAxes == 1 && widensRows(kernel, points: points) {
            precondition(rows.lowerBound % points == 0, "internal: a part of a widened kernel starts inside a work-item")
            let first = rows.lowerBound / points
            return (first, (rows.upperBound + points - 1) / points - first)
        }
        let perRow = rowItems(kernel, ints: ints, points: points) / n0
        return (rows.lowerBound * perRow, rows.count * perRow)
    }

    /// How to run `kernel` with these int parameters (extents are `ints[0..<rank]`) on a device
    /// with `computeUnits` multiprocessors and work-groups of `threads`.
    /// `points` is the device's points per work-item (`pointsPerItem`): more than one, a device
    /// on CPU cores, whose reductions run a work-item per point from `cpuRowsPerUnit` points a
    /// compute unit.
    public static func plan(_ kernel: Kernel, ints: [Int64], computeUnits: Int, threads: Int, points: Int = 1) -> Plan {
        let np = (0..<kernel.parallelAxes).reduce(1) { $0 * Int(ints[$1]) }
        // Enough blocks for several waves on every unit; the grid-stride loop covers the rest.
        let maxBlocks = max(1, computeUnits) * 32
        func blocks(_ n: Int) -> Int { max(1, min((n + threads - 1) / threads, maxBlocks)) }
        let reduces = kernel.hasReductions && kernel.reduceAxes > 0
        let rowsFrom = points > 1 ? max(1, computeUnits) * cpuRowsPerUnit : rowsThreshold
        guard reduces, kernel.parallelAxes == 0 || np < rowsFrom else { return .rows(blocks: blocks(np)) }
        let nr = (kernel.parallelAxes..<kernel.rank).reduce(1) { $0 * Int(ints[$1]) }
        let parts = max(1, min(maxParts, nr / elementsPerPart))
        return .splitCombine(parts: parts, gridY: max(1, min(np, 65535)), combineBlocks: max(1, min((np + threads - 1) / threads, 65535)),
                             partialBytes: parts * np * kernel.reductions.count * 16)
    }
}

/// A kernel's entry points on a queued device (`tandem_kernel`, and `_split` and `_combine` when
/// it reduces), looked up by name in a loaded CUDA module or a built OpenCL program.
///
///     let entries = try EntryPoints(kernel) { name in try module.function(name) }
public struct EntryPoints<Handle> {
    public let rows: Handle
    public let split: Handle?
    public let combine: Handle?

    public init(_ kernel: Kernel, lookup: (String) throws -> Handle) rethrows {
        rows = try lookup(CRenderer.entry)
        let reduces = kernel.hasReductions && kernel.reduceAxes > 0
        split = reduces ? try lookup(CRenderer.entry + "_split") : nil
        combine = reduces ? try lookup(CRenderer.entry + "_combine") : nil
    }

    /// Every handle, for releasing them.
    public var all: [Handle] { [rows] + (split.map { [$0] } ?? []) + (combine.map { [$0] } ?? []) }
}
