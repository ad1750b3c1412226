import Synchronization
import TandemModel

/// Counters of what the runtime did since start (or the last `reset`).
public struct Statistics: Sendable, Equatable, CustomStringConvertible {
    public var syncs = 0
    public var plans = 0
    public var kernelsRun = 0
    /// Graph operations fused into kernels, summed over kernels.
    public var opsFused = 0
    /// Elements processed (domain points of kernels run).
    public var elements = 0
    /// Bytes kernels read and wrote (one pass over each access).
    public var bytesMoved = 0
    public var compileMisses = 0
    public var compileMemoryHits = 0
    public var compileDiskHits = 0
    /// Disk entries that failed their ownership, permission or content-hash check and were rebuilt.
    public var cacheRejected = 0
    public var compileNanos: UInt64 = 0
    /// C compiles for the host (foreground and background) and their time: the measured compile
    /// time replaces the profile's estimate in placement once there is one.
    public var cpuCompiles = 0
    public var cpuCompileNanos: UInt64 = 0
    /// The compiled kernels' `Kernel.compileWeight`, summed.
    public var cpuCompileWeight = 0
    /// Time spent planning (fusion, in-place analysis, scheduling) at sync points.
    public var planNanos: UInt64 = 0
    /// Plans taken from the plan cache (the same graph seen before) and planned from scratch.
    public var planCacheHits = 0
    public var planCacheMisses = 0
    /// Of `planNanos` and `kernelsRun`: the plans taken from the plan cache, and their kernels
    /// (planning a kernel of a reused plan is `planHitNanos / planHitKernels`: a time loop's
    /// few misses of its first steps no longer hide it).
    public var planHitNanos: UInt64 = 0
    public var planHitKernels = 0
    /// Graph nodes those plans walked (planning time per node is `planNanos / planNodes`).
    public var planNodes = 0
    /// Computed nodes stored because a live tensor still held them (so a later read of the
    /// tensor does not recompute its history).
    public var keptNodes = 0
    /// Kernels that ran on another device than asked (for example the interpreter with no compiler).
    public var fallbacks = 0
    public var inPlaceUpdates = 0
    public var copiedUpdates = 0
    /// Updates written to a fresh buffer, copying only the border from the old version.
    public var freshUpdates = 0
    /// Lagged passes run (`Lagging`): each runs two or more of `kernelsRun` in one pass.
    public var laggedPasses = 0
    /// Kernels run as stages of sequence kernels (`Kernel.sequence`; `kernelsRun` counts each
    /// sequence once).
    public var sequenceStages = 0
    /// Reductions computed in the epilogue of their consumer's kernel (`Planner.decideEpilogues`):
    /// each one a kernel fewer.
    public var fusedEpilogues = 0
    /// Operations on a few stored values computed at once on the calling thread (`Eager`), and
    /// of those, slice writes into a tensor's own buffer.
    public var eagerOps = 0
    public var eagerWritesInPlace = 0
    /// Times eager operations turned off because they repeated (`Runtime.eagerGate`).
    public var eagerStops = 0
    /// Kernel runs with code compiled for their launch's ints (`Specialization`).
    public var specializedRuns = 0
    /// Placements given a variant of a kernel's code (`Tuner`): each run measured while tuning,
    /// and the first of a chosen variant (a reused plan then keeps the code without counting).
    public var variantRuns = 0
    /// Matrix products handed to the BLAS (`matmul` of large operands) and their time.
    public var blasCalls = 0
    public var blasNanos: UInt64 = 0
    /// Matrix products run by Tandem's tiled kernel (no BLAS found, `TandemCompiler.TiledProduct`)
    /// and their time.
    public var tiledProducts = 0
    public var tiledProductNanos: UInt64 = 0
    /// Bytes copied host to device and device to host.
    public var bytesToDevice = 0
    public var bytesToHost = 0
    /// Kernels run per placement, by position in `Placement.allCases` (counted at every kernel:
    /// a String-keyed table hashed the placement's name each time).
    public var kernelsByPlacement = [Int](repeating: 0, count: Placement.allCases.count)
    /// Kernels run per placement (`interpreter`, `cpu-1`, `cpu`, `cuda`), those that ran any.
    public var kernelsByDevice: [String: Int] {
        var table: [String: Int] = [:]
        for (p, n) in zip(Placement.allCases, kernelsByPlacement) where n > 0 { table[p.rawValue] = n }
        return table
    }
    /// Kernels run split between the host and the accelerator (`DeviceChoice.split`), and
    /// kernels that choice ran whole on the CPU because they could not be cut.
    public var splitKernels = 0
    public var unsplitKernels = 0
    /// Kernels whose placement was forced (`TANDEM_DEVICE` or `withDevice`) rather than chosen.
    public var forcedPlacements = 0
    /// Placement decisions whose kernel has finished, with the sums of predicted and measured
    /// times and of the absolute difference (the model's error).
    public var decisions = 0
    public var predictedNanos: UInt64 = 0
    public var measuredNanos: UInt64 = 0
    public var modelAbsErrorNanos: UInt64 = 0
    /// Sum over decisions of |predicted − measured| / measured.
    public var modelRelErrorSum = 0.0

    /// Mean absolute error of the predicted kernel times, in seconds.
    public var meanAbsPredictionError: Double { decisions == 0 ? 0 : Double(modelAbsErrorNanos) / 1e9 / Double(decisions) }

    public init() {}

    public var compiles: Int { compileMisses }

    public var description: String {
        """
        syncs \(syncs), plans \(plans), kernels \(kernelsRun) (ops fused \(opsFused), \
        \(String(format2(Double(opsFused) / Double(max(kernelsRun, 1))))) per kernel), elements \(elements), \
        bytes \(bytesMoved) (to GPU \(bytesToDevice), to host \(bytesToHost)), compiles \(compileMisses) (memory hits \(compileMemoryHits), disk hits \(compileDiskHits), \
        rejected \(cacheRejected), \(String(format2(Double(compileNanos) / 1e9)))s), planning \(String(format2(Double(planNanos) / 1e9)))s (\(planNodes) nodes), fallbacks \(fallbacks), \
        updates in place \(inPlaceUpdates) / fresh \(freshUpdates) / copied \(copiedUpdates), lagged passes \(laggedPasses), BLAS calls \(blasCalls) (\(String(format2(Double(blasNanos) / 1e9)))s), tiled products \(tiledProducts) (\(String(format2(Double(tiledProductNanos) / 1e9)))s), specialised runs \(specializedRuns), variant runs \(variantRuns), by device \(kernelsByDevice.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")) \
        (forced \(forcedPlacements)), model error \(String(format2(meanAbsPredictionError * 1e6))) µs mean over \(decisions) kernels
        """
    }
}

func format2(_ x: Double) -> String {
    let r = (x * 100).rounded() / 100
    return "\(r)"
}

/// Thread-safe holder of the counters.
public final class StatisticsBox: Sendable {
    private let state = Mutex(Statistics())
    /// `Statistics.eagerOps` and `eagerWritesInPlace`, counted apart: an eager operation takes
    /// a microsecond, and the lock a tenth of one.
    private let eagerOps = Atomic<Int>(0)
    private let eagerWritesInPlace = Atomic<Int>(0)
    public init() {}
    public var snapshot: Statistics {
        var s = state.withLock { $0 }
        s.eagerOps = eagerOps.load(ordering: .relaxed)
        s.eagerWritesInPlace = eagerWritesInPlace.load(ordering: .relaxed)
        return s
    }
    /// One value read under the lock, without copying the whole record (the eager counts are
    /// `snapshot`'s).
    public func read<T>(_ body: (borrowing Statistics) -> T) -> T { state.withLock { body($0) } }
    public func update(_ body: (inout Statistics) -> Void) { state.withLock { body(&$0) } }
    /// Counts an eager operation (`Statistics.eagerOps`).
    public func countEager(inPlace: Bool) {
        eagerOps.add(1, ordering: .relaxed)
        if inPlace { eagerWritesInPlace.add(1, ordering: .relaxed) }
    }
    public func reset() {
        state.withLock { $0 = Statistics() }
        eagerOps.store(0, ordering: .relaxed)
        eagerWritesInPlace.store(0, ordering: .relaxed)
    }
}
