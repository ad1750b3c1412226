import TandemIR
import TandemModel

/// Interpreted kernels whose compile pays back as one of a batch, not alone.
///
/// The background compiler compiles what is queued meanwhile as one translation unit: one
/// compiler start and link for all of them (`CRenderer.translationUnit`), so a kernel's share of
/// a batch is its proportional part of a compile (`CostModel.compileRate` times its weight), not
/// the fixed part (`compileBaseSeconds`: most of a small kernel's compile). Priced alone, a loop
/// of several kernels that each save a few milliseconds a run stays interpreted until each one
/// alone has paid for a whole compile: softmax regression's five hot kernels (2-10 ms an epoch
/// interpreted, 0.2-1 ms compiled) were requested 15 epochs in, 0.6-0.7 s into a 1 s first run.
///
/// A kernel whose expected saving (`Runtime.decide`'s doubling rule) covers its share but not a
/// whole compile waits here; the pool is requested as one batch once the savings beyond the
/// shares cover one fixed part. (Joining the batch of a kernel requested alone, whose fixed part
/// is paid anyway, made that kernel wait for the others' compiles: logistic regression's
/// gradient, 0.1 s alone, came 0.55 s later in a batch of four.) Kernels not seen for `windowNanos` leave (a
/// phase of the program that is over pays for nothing). Kept under the graph lock.
///
///     var pool = SideCompilePool()
///     let now = ProcessInfoLite.monotonicNanos()
///     let batch = pool.offer(kernel, saving: 0.02, features: KernelFeatures(kernel), model: model, lost: 1, now: now)
struct SideCompilePool {
    /// How long a kernel stays in the pool without being offered again.
    static let windowNanos: UInt64 = 2_000_000_000
    /// Most kernels pooled (the oldest leave first): eight batches' worth.
    static let capacity = 8 * BackgroundCompiler.maxBatch

    private var pool: [Kernel: (surplus: Double, seen: UInt64)] = [:]

    var count: Int { pool.count }

    /// `kernel` was requested alone (it pays for a compile of its own).
    mutating func remove(_ kernel: Kernel) { pool.removeValue(forKey: kernel) }

    /// Offers an interpreted kernel that was not requested alone, with the saving its compile
    /// is expected to bring (seconds, over the runs ahead) and `lost`, the share of a compile's
    /// time the program loses (`Runtime.decide`). Returns the kernels to request now: the
    /// whole pool once its savings beyond their shares cover one compile's fixed part, else
    /// none.
    mutating func offer(_ kernel: Kernel, saving: Double, features: KernelFeatures, model: CostModel, lost: Double,
                        now: UInt64) -> [Kernel] {
        let share = (model.compileTime(features) - model.compileBaseSeconds) * lost
        guard saving > share else {
            pool.removeValue(forKey: kernel)
            return []
        }
        pool[kernel] = (saving - share, now)
        prune(now: now)
        let surplus = pool.values.reduce(0) { $0 + $1.surplus }
        guard surplus >= model.compileBaseSeconds * lost else { return [] }
        return takeAll(now: now)
    }

    private mutating func prune(now: UInt64) {
        pool = pool.filter { now &- $0.value.seen <= SideCompilePool.windowNanos }
        if pool.count > SideCompilePool.capacity {
            let oldest = pool.sorted { $0.value.seen < $1.value.seen }.prefix(pool.count - SideCompilePool.capacity)
            for (k, _) in oldest { pool.removeValue(forKey: k) }
        }
    }

    private mutating func takeAll(now: UInt64) -> [Kernel] {
        prune(now: now)
        // The largest savings first: the background compiler takes them in order, in batches.
        let kernels = pool.sorted { $0.value.surplus > $1.value.surplus }.map(\.key)
        pool.removeAll(keepingCapacity: true)
        return kernels
    }
}
