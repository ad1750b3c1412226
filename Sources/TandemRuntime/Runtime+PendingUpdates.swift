#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TandemIR
import TandemCompiler

// Pending updates and the flushes that bound the lazy graph (graph pressure, chain depth).
// Split from Runtime.swift by concern (the stored state is in the class).
extension Runtime {
    /// A pending update and the thread that made it: a sync flushes its own thread's updates.
    /// A class, not a struct: the list is scanned at every slice write. The reference is strong:
    /// a weak one gave every update node a side table, and then every retain and release of
    /// the node (every view of a stencil's field) took the slow path, a tenth of a small step.
    /// An update no tensor and no node holds any more (`isDead`) is dropped at the next sweep
    /// or sync, so what the list keeps alive is bounded by the flush threshold.
    final class PendingUpdate: @unchecked Sendable {
        let node: Node
        var isDead: Bool { node.holders.load(ordering: .relaxed) == 0 && node.consumers.load(ordering: .relaxed) == 0 }
        let thread: UInt
        /// Where the update writes (see `relieveGraphPressure(site:)`).
        let site: Int
        init(node: Node, thread: UInt = Runtime.currentThread, site: Int = 0) {
            self.node = node
            self.thread = thread
            self.site = site
        }
    }

    static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self())))) }

    // MARK: - Pending updates

    /// Remembers an update node so the next sync flushes it with everything else.
    /// `site` names where the update writes (`relieveGraphPressure(site:)`).
    public func registerUpdate(_ node: Node, site: Int = 0) {
        pendingUpdates.withLock { list in
            // Dead entries are swept only once the list is well past the flush threshold.
            if list.count >= 4 * Runtime.maxPendingUpdates { list.removeAll(where: \.isDead) }
            list.append(PendingUpdate(node: node, site: site))
        }
    }

    /// Flushes when too many updates are pending (the lazy graph's memory pressure). Called
    /// before an update is built, not after: while the assignment runs, its right-hand side is
    /// still held, and a flush then would see every base it views as still readable and copy
    /// the whole base instead of writing in place (shallow_water's walls did, every 48 updates).
    ///
    /// `site` names where the coming update writes (its shape and view). Past the threshold, the
    /// flush waits for the update whose site is the first pending one's, up to twice the
    /// threshold: a loop without a sync is then cut at the same place in its body every time,
    /// so its graphs repeat and their plans are reused. Cut every 48 updates, a body of 5 or 261
    /// updates gave graphs starting at ever other places (cavity flow planned 31 of them from
    /// scratch).
    public func relieveGraphPressure(site: Int = 0) throws {
        let me = Runtime.currentThread
        let (count, newest) = pendingUpdates.withLock { list -> (Int, Node?) in
            // Counted without looking at the nodes; only a count at the threshold is
            // checked for dead entries (an update already dropped needs no flush).
            var mine = 0
            var first: Int? = nil
            for entry in list where entry.thread == me {
                mine += 1
                if first == nil { first = entry.site }
            }
            guard mine >= Runtime.maxPendingUpdates else { return (mine, nil) }
            if mine < 2 * Runtime.maxPendingUpdates && first != site { return (0, nil) }
            list.removeAll(where: \.isDead)
            let live = list.filter { $0.thread == me }
            let held = live.contains { $0.node.holders.load(ordering: .relaxed) > 0 }
            return (live.count, held ? nil : live.last?.node)
        }
        // The flush takes the updates tensors hold. When none is held (writes that build a
        // temporary: `concatenate`, `padded`, read by what comes after them), it takes the
        // newest one still read: flushing nothing, a loop padding its field every step grew
        // one graph of all its steps (2,000 steps of a 64 x 64 field: 84 s to plan).
        if count >= Runtime.maxPendingUpdates { try materialize(newest.map { [$0] } ?? []) }
    }

    /// Chains of pending operations this long are flushed as they are built (`relieveDepth`):
    /// the planner's `maxFusedDepth`, at which it cuts such a chain into kernels anyway.
    public static let flushDepth = Planner.maxFusedDepth

    /// Queues the pending graph behind `node`, a value whose chain of pending operations has
    /// reached `flushDepth`: a loop without a sync (`x = x * 0.5 + 1`, 10,000
    /// times) otherwise builds one graph of tens of thousands of nodes that is planned from
    /// scratch at the end, at microseconds a node. Cut at the same place every time (below),
    /// the graphs repeat and their plans are reused (`PlanCache`); the kernels are the ones the
    /// planner's depth bound made already, so nothing is computed that was not before.
    /// While updates are pending, their own flushes bound the graph (`relieveGraphPressure`),
    /// aligned on a place of the loop's body; a flush for depth as well would cut the loop at a
    /// second period and its graphs would stop repeating (cavity flow planned 24 graphs from
    /// scratch instead of 14), so then it waits for them.
    /// Only the calling thread's live updates count: another thread's (a test running beside
    /// this one, a worker of the user's) flush at their own sync points, and waiting for them
    /// let this thread's chain grow unbounded.
    ///
    /// The depth is recounted first (`Node.recountPendingDepth`): counted when the nodes were
    /// made, it misses what syncs realised since, and a training loop whose weights each
    /// epoch's loss read realises was flushed every ten epochs at a second place of the loop
    /// (softmax regression: three more plans, one more compile, in its first run).
    ///
    /// Where the loop is cut: the first cut is at the first node whose chain reaches the bound
    /// (when no update defers it: see below); later ones at the first node past the bound made
    /// by a statement cut at before (`Node.localSignature`, remembered per thread, up to
    /// `maxDepthAnchors` of them). Cut wherever the bound fell, a loop whose body is not one
    /// chain (N-body's positions, velocities and accelerations) was cut at a different
    /// statement each time: a hundred leapfrog steps made ten graphs, all planned from scratch
    /// (five now, half of them reused). A chain that meets none of those statements is cut at
    /// twice the bound, and its statement remembered too (a second independent chain, or a
    /// loop that changed). A read forgets them (`sync`).
    public func relieveDepth(_ node: Node) {
        let depth = node.pendingDepth
        guard depth >= Runtime.flushDepth else { return }
        let me = Runtime.currentThread
        let anchors = depthAnchors.withLock { $0[me] ?? [] }
        let atBound = depth % Runtime.flushDepth == 0 && (anchors.isEmpty || depth >= 2 * Runtime.flushDepth)
        var signature: UInt64? = nil
        if !atBound {
            guard !anchors.isEmpty else { return }
            signature = node.localSignature
            guard anchors.contains(signature!) else { return }
        }
        // Updates written in the loop flush it at their own place; one left pending from before
        // the loop (`linspace` writes its last element) is taken along by this flush instead of
        // holding every flush back until the next read.
        let id = node.id
        if pendingUpdates.withLock({ $0.contains { $0.thread == me && !$0.isDead && id &- $0.node.id < Runtime.updateRhythm } }) { return }
        // Counted when the nodes were made; syncs since may have realised part of the chain.
        if graphLock.withLock({ _ in node.recountPendingDepth() }) < Runtime.flushDepth { return }
        let cut = signature ?? node.localSignature     // before the sync makes the node storage
        do {
            try materialize([node])
            guard !anchors.contains(cut) else { return }
            depthAnchors.withLock { all in
                if all.count >= 64 && all[me] == nil { all.removeAll() }   // threads that ended
                all[me, default: []].append(cut)
                if all[me]!.count > Runtime.maxDepthAnchors { all[me]!.removeFirst() }
            }
        } catch {
            // The graph is intact; the same error is thrown at the next sync point.
        }
    }

    /// How many nodes (by id) may be made after a pending update before it stops deferring the
    /// depth flushes (`relieveDepth`): a loop writing slices writes one within a few hundred.
    static let updateRhythm: UInt64 = 4 * UInt64(flushDepth)

    /// The calling thread's pending updates that live tensors still hold (the others are dropped
    /// from the list; other threads' updates wait for their own sync points).
    func takePendingUpdates() -> [Node] {
        let me = Runtime.currentThread
        return pendingUpdates.withLock { list in
            let mine = list.filter { $0.thread == me }.map(\.node).filter {
                if case .update = $0.op { return $0.holders.load(ordering: .relaxed) > 0 }
                return false
            }
            list.removeAll { $0.thread == me || $0.isDead }
            return mine
        }
    }
}

// Pending chains that keep dead values alive.
//
// `u += alpha * p` in a loop whose `p` is a new tensor each step (conjugate gradients, any
// accumulation over fresh terms) builds a chain that holds every earlier `p`: nothing reads `u`
// until the end, so each step's `p` buffer stays alive for the chain, though no tensor names it
// any more. NumPy computes `u` at once and frees `p`. Left to the depth bound (`relieveDepth`,
// 192 levels), a 128 x 128 CG kept up to 25 MiB of old `r`s and `p`s alive, and every new buffer
// came fresh from the system (a page fault per 4 KiB: two of its seven kernels an iteration
// took 110 µs instead of 6); 200 iterations on a 1000 x 1000 grid peaked at 1.57 GB (192 MB
// now, NumPy 100 MB). So a chain is checked every `pinCheckDepth` levels, and computed when
// the buffers that only its pending graph keeps alive exceed `pinnedLimit`.
//
// Trade-off, where it is made: computing the chain early costs a kernel every few steps (its
// terms are then read once more than a fused chain reads them) and saves memory and faults;
// the limit (8 of the chain's own arrays, at least 1 MiB) keeps a chain over a few terms fused.
// The walk runs only while `Node.orphanedBytes`, a gauge kept as tensors let go of stored
// values, is past the limit: walking at every checked depth made a 24 x 24 heat equation take
// 0.038-0.059 s instead of 0.021-0.038.
extension Runtime {
    /// Chains are checked for the memory they keep alive every this many levels.
    public static let pinCheckDepth = 16

    /// Bytes of dead buffers a pending value may keep alive before it is computed: 8 arrays of
    /// its own size, at least 1 MiB.
    public static func pinnedLimit(valueBytes: Int) -> Int { Swift.max(1 << 20, 8 * valueBytes) }

    /// Computes `node` when its pending graph is the only holder of more than `pinnedLimit`
    /// bytes of buffers (see above). Called for nodes whose depth is a multiple of
    /// `pinCheckDepth` (once in 16 steps of a chain growing a level a step); the walk stops at
    /// `maxPinWalk` nodes or once past the limit.
    public func relievePinnedMemory(_ node: Node) {
        let depth = node.pendingDepth
        guard depth >= Runtime.pinCheckDepth, depth % Runtime.pinCheckDepth == 0, depth < Runtime.flushDepth else { return }
        let limit = Runtime.pinnedLimit(valueBytes: node.count * node.dtype.byteSize)
        guard graphLock.withLock({ _ in Runtime.pinnedBytes(below: node, limit: limit) }) > limit else { return }
        do {
            try materialize([node])
        } catch {
            // The graph is intact; the same error is thrown at the next sync point.
        }
    }

    /// Bytes of the distinct buffers that `node`'s pending graph reads and that no tensor holds
    /// (stored nodes without holders), counted up to just past `limit`. Call under the graph
    /// lock. Without recursion; a graph past `maxPinWalk` nodes counts what was seen.
    public static func pinnedBytes(below node: Node, limit: Int) -> Int {
        var seen = Set<ObjectIdentifier>()
        var buffers = Set<ObjectIdentifier>()
        var stack: [Node] = [node]
        var bytes = 0
        while let top = stack.popLast(), bytes <= limit, seen.count < maxPinWalk {
            guard seen.insert(ObjectIdentifier(top)).inserted else { continue }
            top.op.forEachInput { input in
                if let buffer = input.storage {
                    if input.holders.load(ordering: .relaxed) == 0, buffers.insert(ObjectIdentifier(buffer)).inserted {
                        bytes += buffer.byteCount
                    }
                } else if input.op.inputCount > 0 {
                    stack.append(input)
                }
            }
        }
        return bytes
    }

    static let maxPinWalk = 1024

    /// Counts `node` in `Node.orphanedBytes` when it is stored and still unnamed. Read through
    /// `Node.storedBytes`, not under the graph lock: skipping the count while another thread's
    /// sync held the lock lost it in a parallel test run, and the chain it gated was never
    /// computed.
    public func noteOrphaned(_ node: Node) {
        let bytes = node.storedBytes
        if bytes > 0, node.holders.load(ordering: .relaxed) == 0 { node.countOrphaned(bytes) }
    }
}
