import Testing
import TandemIR
import TandemModel
@testable import TandemRuntime

/// Kernels whose compile pays back only as one of a batch (`SideCompilePool`): pooled until
/// their savings beyond their shares of a batch cover one compile's fixed part.
@Suite("Side compile pool")
struct SideCompilePoolTests {
    /// Kernels that differ only in their int parameter count: distinct keys.
    static func kernel(_ i: Int) -> Kernel {
        Kernel(rank: 1, parallelAxes: 1, buffers: [], accesses: [], instrs: [], reductions: [], stores: [], intParams: i + 1, floatParams: 0)
    }

    /// A compile of 0.1 s for the reference kernel: 25 ms fixed, 0.15 ms per unit of weight;
    /// weight 100: a share of 15 ms in a batch.
    static let model = CostModel(profile: SyntheticProfiles.cpu(compileSeconds: 0.1))
    static func features(_ k: Kernel) -> KernelFeatures {
        var f = KernelFeatures(k)
        f.compileWeight = 100
        return f
    }

    @Test("kernels that each save less than a compile are requested together once their savings cover its fixed part, largest first")
    func batchOncePaid() {
        var pool = SideCompilePool()
        let a = Self.kernel(1), b = Self.kernel(2), c = Self.kernel(3)
        let m = Self.model
        #expect(abs(m.compileBaseSeconds - 0.025) < 1e-12)
        #expect(abs(m.compileTime(Self.features(a)) - 0.04) < 1e-12)
        // Saves less than its own share: never worth compiling, not pooled.
        #expect(pool.offer(c, saving: 0.01, features: Self.features(c), model: m, lost: 1, now: 0).isEmpty)
        #expect(pool.count == 0)
        // 10 ms beyond its share: pooled, not enough for a compile's fixed 25 ms.
        #expect(pool.offer(a, saving: 0.025, features: Self.features(a), model: m, lost: 1, now: 1).isEmpty)
        #expect(pool.count == 1)
        // Offered again with a larger saving: its surplus is replaced, not added.
        #expect(pool.offer(a, saving: 0.026, features: Self.features(a), model: m, lost: 1, now: 2).isEmpty)
        #expect(pool.count == 1)
        // 15 ms more: 26 ms in all, the batch pays; the larger surplus leads.
        #expect(pool.offer(b, saving: 0.030, features: Self.features(b), model: m, lost: 1, now: 3) == [b, a])
        #expect(pool.count == 0)
    }

    @Test("the share of the machine a compile takes scales what it must save")
    func lostScales() {
        var pool = SideCompilePool()
        let a = Self.kernel(1)
        // With the compile costing the program a tenth of its time, 2 ms beyond a 1.5 ms share
        // covers a tenth of the fixed 25 ms.
        #expect(pool.offer(a, saving: 0.0045, features: Self.features(a), model: Self.model, lost: 0.1, now: 0) == [a])
    }

    @Test("a kernel not seen for the window leaves the pool; one requested alone leaves it at once")
    func window() {
        var pool = SideCompilePool()
        let a = Self.kernel(1), b = Self.kernel(2), c = Self.kernel(3)
        let m = Self.model
        #expect(pool.offer(a, saving: 0.035, features: Self.features(a), model: m, lost: 1, now: 0).isEmpty)
        // 20 ms + 20 ms would pay, but `a` was last seen longer ago than the window.
        let later = SideCompilePool.windowNanos + 1
        #expect(pool.offer(b, saving: 0.035, features: Self.features(b), model: m, lost: 1, now: later).isEmpty)
        #expect(pool.count == 1)
        #expect(pool.offer(c, saving: 0.019, features: Self.features(c), model: m, lost: 1, now: later).isEmpty)   // 24 ms in all
        pool.remove(b)
        #expect(pool.count == 1)
        #expect(pool.offer(a, saving: 0.05, features: Self.features(a), model: m, lost: 1, now: later) == [a, c])
    }
}
