import Testing
import Foundation
import _TandemTestSupport
@testable import Tandem
import TandemInterpreter
import TandemRuntime
import TandemIR

/// Flushes for graph pressure in a loop without a sync: they wait for the place in the loop's
/// body where the graph since the last flush began, so the graphs repeat and their plans are
/// reused.
@Suite("Graph pressure", .planned)
struct GraphPressureTests {
    /// A loop of `steps` iterations, each writing one element at `period` places of an 8-element
    /// vector, on a private runtime; returns the vector and the runtime's statistics.
    func loop(period: Int, steps: Int, aligned: Bool) throws -> ([Double], Statistics) {
        let stats = StatisticsBox()
        let runtime = Runtime(devices: [InterpreterDevice()], statistics: stats, workers: 2, profile: { SyntheticProfiles.cpu() })
        var t = Tensor<Double>.zeros([8])
        for step in 0..<steps {
            for k in 0..<period {
                // As `Tensor.write` does: relieve the pressure before the update is built.
                let site = aligned ? k + 1 : 0
                try runtime.relieveGraphPressure(site: site)
                let value = Tensor<Double>(Double(step * period + k)).node
                let map = AffineMap(inRank: 1, outRank: 0, offset: [k], coef: [])
                t = Tensor<Double>(.update(base: t.node, map: map, value: value), shape: [8])
                runtime.registerUpdate(t.node, site: site)
            }
        }
        let b = try runtime.read(t.node)
        return ((0..<8).map { b.pointer.assumingMemoryBound(to: Double.self)[$0] }, stats.read { $0 })
    }

    @Test("a body of 5 updates is cut every 50 updates, at the same place: its graphs' plans are reused")
    func alignedFlushesRepeat() throws {
        let period = 5, steps = 60
        let (values, s) = try loop(period: period, steps: steps, aligned: true)
        let want = (0..<8).map { k in k < period ? Double((steps - 1) * period + k) : 0 }
        #expect(values == want)
        // 300 updates: flushes every 50 updates, each graph but the first (whose base is not
        // yet stored) the same.
        #expect(s.plans >= 6)
        #expect(s.planCacheMisses <= 3, "\(s.planCacheMisses) misses in \(s.plans) plans")
        // The reused plans' share of planning time and kernels is counted apart (TANDEM_PROFILE's
        // "µs a kernel of a reused plan").
        #expect(s.planHitKernels > 0 && s.planHitKernels < s.kernelsRun, "\(s.planHitKernels) of \(s.kernelsRun)")
        #expect(s.planHitNanos > 0 && s.planHitNanos < s.planNanos)
        // Where every update looks alike to the flush (one site), it is cut at 48 updates: the
        // graphs start at five different places of the body.
        let (same, unaligned) = try loop(period: period, steps: steps, aligned: false)
        #expect(same == want)
        #expect(unaligned.planCacheMisses > s.planCacheMisses, "\(unaligned.planCacheMisses) against \(s.planCacheMisses)")
    }

    @Test("a site that never comes back is cut at twice the threshold")
    func unalignedCutAtTwiceTheThreshold() throws {
        let stats = StatisticsBox()
        let runtime = Runtime(devices: [InterpreterDevice()], statistics: stats, workers: 2, profile: { SyntheticProfiles.cpu() })
        var t = Tensor<Double>.zeros([8])
        for i in 0..<(2 * Runtime.maxPendingUpdates) {
            try runtime.relieveGraphPressure(site: 1000 + i)      // every site new
            let map = AffineMap(inRank: 1, outRank: 0, offset: [i % 8], coef: [])
            t = Tensor<Double>(.update(base: t.node, map: map, value: Tensor<Double>(Double(i)).node), shape: [8])
            runtime.registerUpdate(t.node, site: 1000 + i)
        }
        #expect(stats.read { $0.plans } == 0)
        try runtime.relieveGraphPressure(site: 5000)
        #expect(stats.read { $0.plans } == 1)
    }

    @Test("a chain summing fresh terms that nothing else holds is computed once they pass its limit; terms tensors hold keep it pending", arguments: [false, true])
    func chainOverDeadTermsIsComputed(termsHeld: Bool) throws {
        // Conjugate gradients' `u += alpha * p`: `u` is not read until the end, each step's `p`
        // is a new stored tensor, and without the check the chain held every old `p`.
        let n = 16_384, steps = 40
        var u = Tensor<Double>.zeros([n])
        var p = Tensor<Double>.uniform([n], seed: 7)
        var held: [Tensor<Double>] = []
        var want = [Double](repeating: 0, count: n), pv = try p.scalars
        for k in 0..<steps {
            p = p * 0.5 + Double(k)
            try p.flush()
            if termsHeld { held.append(p) }
            u += 0.25 * p
            for i in 0..<n { pv[i] = pv[i] * 0.5 + Double(k); want[i] += 0.25 * pv[i] }
        }
        let bytes = n * 8
        if termsHeld {
            // Nothing freed by computing it: the chain stays one fused graph.
            #expect(u.node.pendingDepth > 32)
            #expect(Runtime.pinnedBytes(below: u.node, limit: .max) == 0)
        } else {
            // Checked every 16 levels: at most 16 dead terms alive, not 40.
            #expect(u.node.pendingDepth < Runtime.pinCheckDepth)
            #expect(Runtime.pinnedBytes(below: u.node, limit: .max) <= Runtime.pinCheckDepth * bytes)
            #expect(Runtime.pinnedLimit(valueBytes: bytes) < Runtime.pinCheckDepth * bytes, "the test's terms would not pass the limit")
        }
        let got = try u.scalars
        #expect(got.indices.allSatisfy { abs(got[$0] - want[$0]) <= 1e-12 * abs(want[$0]) }, "values differ from plain Swift")
        _ = held
    }

    @Test("a chain of operations without a sync is queued every flushDepth operations, its plans reused, its values exact")
    func deepChainsFlushAsTheyGrow() throws {
        // Without the flush the whole chain waited for the read and was planned from scratch
        // at microseconds a node (a loop of 10,000 steps: 22 us a step against NumPy's 3).
        try expectChainFlushed(count: 41, seed: 61)
    }

    /// x = x * 0.5 + 1 adds two operations a step; 3 x flushDepth of them without a sync are
    /// flushed twice on the way, so what is pending at the end is less than one bound deep, and
    /// the values are exact.
    func expectChainFlushed(count: Int, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var x = Tensor<Double>.uniform([count], seed: seed, in: 0...1)
        var expected = try x.scalars
        for _ in 0..<(3 * Runtime.flushDepth / 2) {
            x = x * 0.5 + 1
            expected = expected.map { $0 * 0.5 + 1 }
        }
        #expect(x.node.pendingDepth < Runtime.flushDepth, "\(x.node.pendingDepth)", sourceLocation: sourceLocation)
        #expect(try x.scalars == expected, sourceLocation: sourceLocation)
    }

    @Test("a write left pending before a loop without syncs does not hold back its depth flushes")
    func staleWritesDoNotHoldDepthFlushes() throws {
        // `linspace` writes its last element; nothing reads it before the loop. Deferred to that
        // write, the loop's chain grew to its whole length before the read (a periodic 1-D
        // stencil of 2,000 steps was planned as one graph of 68,000 nodes).
        var x = Tensor<Double>.linspace(0, 1, count: 17)
        var expected = (0..<17).map { Double($0) / 16 }
        for _ in 0..<(3 * Runtime.flushDepth / 2) {
            x = x * 0.5 + 1
            expected = expected.map { $0 * 0.5 + 1 }
        }
        #expect(x.node.pendingDepth < Runtime.flushDepth, "\(x.node.pendingDepth)")
        #expect(try x.scalars == expected)
    }

    @Test("a loop padding its field every step without a read is flushed as it goes")
    func paddedTemporariesAreFlushed() throws {
        // `padded` writes its pieces into a temporary that the stencil then reads: pending
        // writes no tensor holds once the step's expression is built. Flushing only the writes
        // tensors hold flushed nothing, and the depth flush waited for those writes: the loop
        // grew one graph of all its steps (2,000 steps of a 64 x 64 field: 84 s to plan).
        let n = 6
        var u = Tensor<Double>((0..<(n * n)).map { Double($0 % 7) }, shape: [n, n])
        var e = (0..<(n * n)).map { Double($0 % 7) }
        for _ in 0..<300 {
            let g = u.padded([(1, 1)], mode: .wrap)
            u = 0.25 * (g[0..<n, 1...n] + g[2...(n + 1), 1...n] + g[1...n, 0..<n] + g[1...n, 2...(n + 1)])
            var next = e
            for i in 0..<n {
                for j in 0..<n {
                    let up = e[((i + n - 1) % n) * n + j], down = e[((i + 1) % n) * n + j]
                    let left = e[i * n + (j + n - 1) % n], right = e[i * n + (j + 1) % n]
                    next[i * n + j] = 0.25 * (((up + down) + left) + right)
                }
            }
            e = next
        }
        // Counted when made, depths include what later flushes realised: recounted, the chain
        // still pending is what was built since the last flush.
        let pending = u.node.recountPendingDepth()
        #expect(pending < 2 * Runtime.flushDepth, "\(pending)")
        #expect(try u.scalars == e)
    }

    @Test("a chain whose lower part a sync realised after it was built is recounted, not flushed for the depth counted then")
    func staleDepthsAreRecounted() throws {
        // A training loop's shape: each step builds the next value on the pending one, then a
        // read realises the pending one. Counted at creation, the depth grows by a step's chain
        // each step though at most two operations are ever pending below the newest value.
        var x = Tensor<Double>.uniform([9], seed: 64, in: 0...1)
        var expected = try x.scalars
        let steps = Runtime.flushDepth / 2 - 1
        for _ in 0..<steps {
            let next = x * 0.5 + 1
            expected = expected.map { $0 * 0.5 + 1 }
            _ = try x.scalars
            x = next
        }
        #expect(x.node.storage == nil)
        #expect(x.node.pendingDepth == 2 * steps, "counted at creation")
        // Two more operations reach the bound as counted: the recount finds 4 and nothing is flushed.
        let z = x * 0.5 + 1
        #expect(z.node.storage == nil, "flushed for a depth of \(2 * steps + 2) counted before the syncs that realised most of it")
        #expect(z.node.pendingDepth == 4)
        #expect(x.node.pendingDepth == 2, "the recount is kept below too")
        #expect(try z.scalars == expected.map { $0 * 0.5 + 1 })
    }

    @Test("a recount is trusted until a node is realised: the next one walks below again")
    func recountsAreKeptUntilTheGraphChanges() throws {
        // A loop cut for depth recounts at each step past the bound; nodes recounted since the
        // graph last changed are not walked again, and a realised node ends that.
        var a = Tensor<Double>.uniform([7], seed: 66, in: 0...1)
        var expected = try a.scalars
        for _ in 0..<20 {
            a = a * 0.5 + 1
            expected = expected.map { $0 * 0.5 + 1 }
        }
        let b = a * 2 + 1
        let counted = b.node.pendingDepth
        #expect(counted >= 40)
        #expect(b.node.recountPendingDepth() == counted)
        let c = b + 1
        #expect(c.node.recountPendingDepth() == counted + 1)
        #expect(try a.scalars == expected)      // realises a: two operations below b now
        #expect(b.node.recountPendingDepth() == 2)
        #expect(c.node.recountPendingDepth() == 3)
        #expect(try c.scalars == expected.map { ($0 * 2 + 1) + 1 })
    }

    @Test("a diamond ladder past the flush bound is recounted once a node, not once a path, and flushed")
    func deepDiamondLadderIsRecountedOnceANode() throws {
        // Each step reads the last twice: 2^100 paths below the end, 200 nodes deep.
        var z = Tensor<Double>.uniform([6], seed: 65, in: 0.5...1)
        var expected = try z.scalars
        for _ in 0..<(Runtime.flushDepth / 2 + 4) {
            z = z * 0.5 + z * 0.25
            expected = expected.map { $0 * 0.5 + $0 * 0.25 }
        }
        #expect(z.node.pendingDepth < Runtime.flushDepth, "\(z.node.pendingDepth)")
        #expect(try z.scalars == expected)
    }

    @Test("another thread's pending write does not stop this thread's chain from being queued")
    func otherThreadsUpdatesDoNotBlockDepthFlushes() throws {
        // The global runtime's list of pending updates is shared by all threads; a write left
        // pending on another thread (a test beside this one, a user's worker) once made every
        // depth flush of this thread wait, and the chain grew to its full length.
        let written = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let other = Thread {
            var held = Tensor<Double>.zeros([4])
            held[1] = Tensor<Double>(2)
            written.signal()
            done.wait()
            _ = try? held.scalars
        }
        other.start()
        written.wait()
        defer { done.signal() }
        try expectChainFlushed(count: 17, seed: 62)
    }
}
