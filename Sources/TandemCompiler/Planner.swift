import Synchronization
import TandemIR

/// One kernel of a plan, with the concrete arguments of its run.
public struct PlannedKernel: @unchecked Sendable {
    public var kernel: Kernel
    public var launch: Launch
    /// Graph operations fused into this kernel, by name, in order of appearance.
    public var fusedOps: [String]
    /// For kernels with reductions: the number of chunks the first reduce axis is split into
    /// (partial results combined in chunk order), or 0 to parallelise over the parallel axes.
    /// Chosen from sizes alone, so results do not depend on the number of threads.
    public var splitChunks: Int
    /// Domain points (product of extents).
    public var points: Int
    /// Ids of the graph nodes computed or stored by this kernel (its fusion group).
    public var memberIDs: Set<UInt64> = []
    /// Set when this kernel and the next `count - 1` of the plan may run as one pass over their
    /// first axis, each a few rows behind the one before (see `Lagging`); the runtime does so
    /// when all of them run on the host.
    public var lagChain: LagChain?
    /// State the runtime keeps for this kernel across the syncs that reuse its plan (see
    /// `PlanCache`); nil for a plan made from scratch.
    public var memo: KernelMemo?

    /// A short name from the fused operations, e.g. `sum(abs,sub,mul,add)` (kept in the memo of
    /// a cached plan's kernel: it is asked for at every run).
    public var label: String {
        if let l = memo?.label { return l }
        let l = makeLabel
        memo?.label = l
        return l
    }

    private var makeLabel: String {
        let ops = fusedOps.prefix(6).joined(separator: ",") + (fusedOps.count > 6 ? ",…" : "")
        if let r = kernel.reductions.first { return "\(r.op.rawValue)(\(ops))" }
        return ops.isEmpty ? "copy" : ops
    }

    /// Bytes the kernel reads and writes, each access counted once over the axes it varies along
    /// (kept in the memo of a cached plan's kernel, whose launch sizes are fixed).
    public var bytesAccessed: Int {
        if let b = memo?.bytes { return b }
        let b = countBytes
        memo?.bytes = b
        return b
    }

    private var countBytes: Int {
        // (buffer, access) pairs seen, as bits: a kernel has few of each.
        let accessCount = kernel.accesses.count
        var seen = [Bool](repeating: false, count: kernel.buffers.count * accessCount)
        var total = 0
        func count(_ buffer: Int, _ access: Int) {
            guard !seen[buffer * accessCount + access] else { return }
            seen[buffer * accessCount + access] = true
            let a = kernel.accesses[access]
            var elements = 1
            for (axis, s) in a.strides.enumerated() where s != .zero { elements *= launch.extent(axis) }
            total += elements * kernel.buffers[buffer].dtype.byteSize
        }
        for instr in kernel.instrs { if let (b, a) = instr.loaded { count(b, a) } }
        for s in kernel.stores { count(s.buffer, s.access) }
        return total
    }

    public var readBuffers: [Buffer] { kernel.buffers.indices.filter { kernel.buffers[$0].isRead }.map { launch.buffers[$0] } }
    public var writtenBuffers: [Buffer] { kernel.buffers.indices.filter { kernel.buffers[$0].isWritten }.map { launch.buffers[$0] } }
}

/// What the runtime remembers about one kernel of a cached plan between the syncs that reuse
/// it (its placement decision): shared by every copy of the plan. Read and written under the
/// runtime's graph lock.
public final class KernelMemo: @unchecked Sendable {
    public var state: AnyObject?
    public var label: String?
    public var bytes: Int?
    public init() {}
}

/// The kernels a sync point runs, in an order that respects every dependency, and the nodes they
/// materialise (to be realised as storage once the kernels are queued).
public struct Plan: @unchecked Sendable {
    public var kernels: [PlannedKernel] = []
    public var realized: [(node: Node, buffer: Buffer)] = []
    /// Nodes computed straight into the view of an update's buffer: realised as that view.
    public var realizedViews: [(node: Node, base: Node, map: AffineMap)] = []
    /// Updates written to a fresh buffer with only the border copied from the old version.
    public var freshUpdates = 0
    /// Of those, updates whose border copy was left out: later in-place updates of the plan
    /// overwrite the whole border before anything reads it (a stencil step followed by its walls).
    public var elidedBorders = 0
    /// Kernels merged into the kernel before them (same code, other offsets).
    public var stackedKernels = 0
    /// Runs of kernels that may run as one lagged pass (`Lagging`).
    public var laggedChains = 0
    /// Updates that had to copy their base (another reader needed the old values).
    public var copiedUpdates = 0
    /// Updates stored in place.
    public var inPlaceUpdates = 0
    /// Computed nodes stored because a live tensor holds them (see `Planner.decideDepthAndKeep`).
    public var keptNodes = 0
    /// Graph nodes the planner walked.
    public var nodeCount = 0
    /// Nodes the kernels compute without storing them (marked `computedWithoutStore` once the
    /// plan is queued).
    public var unstored: [Node] = []
}

/// Plans pending graph nodes into kernels: `Planner.plan(roots:)` decides what is materialised,
/// which updates may write in place, and groups the rest into as few kernels as possible.
///
/// Policy, in order:
/// 1. Roots, reductions, updates and the inputs of non-trivial reshapes are materialised.
/// 2. An elementwise node used more than once is materialised when its fused subtree is not
///    trivial (recomputing a cheap expression beats a store and reloads; an expensive one does not),
///    except when one kernel reads it through a few shifted views (a stencil over a computed field)
///    and recomputing it at each shift stays within `recomputeBudget` operations.
/// 3. An update writes into its base's buffer when nothing outside the plan can still read the old
///    values and the kernel reads the base only at the written element or where it never writes;
///    otherwise the value goes to a fresh buffer with the base's border copied around it (the
///    copy is left out when later in-place updates rewrite the whole border unread, or when the
///    update takes the buffer of the version two steps back, whose border is already the same:
///    `decidePingPong`), or the right-hand side to a temporary (NumPy semantics), or the base is
///    copied.
/// 4. Kernels are emitted when their inputs are ready; a materialised elementwise node met at a
///    bijective index map is computed inside its consumer's kernel and stored on the way, and ready
///    nodes over the same domain share one kernel.
///
/// Call under the runtime's graph lock: the planner reads node operations.
public final class Planner {
    /// A reduction kernel with at most this many parallel points (and a reduce axis) is split
    /// over its first reduce axis instead of its parallel points, which could not keep the
    /// workers busy; the C emitter keeps that many accumulators in local arrays.
    public static let maxSplitParallelPoints = 256

    /// The domain of a kernel that reads a node (compared, never printed: a string built per
    /// node cost microseconds a sync).
    enum ReachDomain: Hashable {
        case kernel(Kind, [Int], Int)
        case copy([Int])
    }

    enum Kind: Hashable {
        case map(shape: [Int])
        case reduce(source: [Int], axes: [Int])
        case update
    }

    private var nodes: [Node] = []
    private var index: [ObjectIdentifier: Int] = [:]
    private var uses: [Int] = []
    private var consumersInPlan: [[Int]] = []
    private var materialized: [Bool] = []
    private var produced: [Bool] = []
    private var buffers: [Buffer?] = []
    private var inPlace: [Bool] = []
    /// Nodes stored by a kernel of their own, never computed inside a consumer's (depth bound).
    private var cut: [Bool] = []
    /// Updates written into a fresh buffer: the value inside the view, the base's border around it.
    private var fresh: [Bool] = []
    /// Fresh updates whose border needs no copy (see `decideDeadBorders`).
    private var deadBorder: Set<Int> = []
    /// Fresh updates written into the buffer of their base's base (update -> that node), and
    /// the nodes whose buffers were so taken (left unrealised). See `decidePingPong`.
    private var pingPong: [Int: Int] = [:]
    private var taken: Set<Int> = []
    /// For each such update: the node whose kernel writes its values, and the other readers of
    /// the taken node (checked against the emitted order, `pingPongHolds`).
    private var pingPongOrder: [(writer: Int, readers: [Int])] = []
    /// Off for the second plan made when the emitted order broke a ping-pong's condition.
    var allowPingPong = true
    /// Values computed straight into their update's fresh buffer: value index -> update index.
    private var placement: [Int: Int] = [:]
    private var roots: Set<Int> = []
    private var plan = Plan()
    /// Minimum fused subtree size for a shared elementwise node to be stored rather than recomputed.
    public static let shareThreshold = 3
    /// Most extra operations per point (a division or a transcendental counts 4) a stencil may
    /// spend recomputing a shared value at its shifts instead of storing it (see
    /// `recomputedInStencil`): shallow water's costliest face is 23.
    public static let recomputeBudget = 32
    /// Most shifts of one value a kernel recomputes (reaches are tracked up to 4).
    public static let maxStencilShifts = 3
    /// Minimum fused subtree cost (a transcendental is 4) for a broadcast expression to be hoisted.
    public static let hoistThreshold = 4
    /// Minimum pending cost per point of a computed node that a live tensor holds for the plan
    /// that computes it to store it (see `decideDepthAndKeep`).
    public static let keepThreshold = 3
    /// Longest chain of nodes one kernel computes before a node of it is stored on its own.
    public static let maxFusedDepth = 192
    /// Where `cost` stops counting.
    static let costCap = 64

    public init() {}

    /// Plans everything the roots need that is not yet materialised.
    public func plan(roots: [Node]) -> Plan {
        let nodes = Planner.postorder(roots).nodes
        return plan(roots: roots, nodes: nodes, index: Planner.positions(nodes))
    }

    /// Plans with the graph already walked by `postorder` (the plan cache walks it for its key).
    func plan(roots: [Node], nodes: [Node], index: [ObjectIdentifier: Int]) -> Plan {
        collect(nodes, index)
        plan.nodeCount = nodes.count
        for r in roots { mark(r) }
        self.roots = Set(roots.map { index[ObjectIdentifier($0)]! })
        for i in nodes.indices { decideMaterialization(i) }
        decideDepthAndKeep()
        decideSharing()
        for i in nodes.indices { if case .update = nodes[i].op { decideUpdate(i) } }
        decideDeadBorders()
        if allowPingPong { decidePingPong() }
        schedule()
        if !pingPongOrder.isEmpty && !pingPongHolds() {
            let again = Planner()
            again.allowPingPong = false
            return again.plan(roots: roots, nodes: nodes, index: index)
        }
        plan.unstored = nodes.indices.filter { (!materialized[$0] && isCompute(nodes[$0])) || taken.contains($0) }.map { nodes[$0] }
        for i in nodes.indices where materialized[i] && nodes[i].storage == nil && !taken.contains(i) {
            if let u = placement[i], case .update(_, let umap, _) = nodes[u].op {
                plan.realizedViews.append((nodes[i], nodes[u], umap))
            } else {
                plan.realized.append((nodes[i], buffers[i]!))
            }
        }
        var i = 0
        while i < plan.kernels.count {
            guard let chain = Lagging.chain(plan.kernels[i...]) else { i += 1; continue }
            plan.kernels[i].lagChain = chain
            plan.laggedChains += 1
            i += chain.count
        }
        for k in plan.kernels.indices { plan.kernels[k].kernel = plan.kernels[k].kernel.interned() }
        PlanRecorder.current?.record(plan.kernels)
        return plan
    }

    // MARK: - Collection

    private static let walks = Atomic<UInt64>(0)

    /// Every node the roots reach, each once, inputs before their consumers (the order every
    /// later pass and the plan cache's key use). Each node's `walkIndex` is its position when
    /// its `walkEpoch` is the returned epoch. Call under the graph lock.
    static func postorder(_ roots: [Node]) -> (nodes: [Node], epoch: UInt64) {
        let epoch = walks.add(1, ordering: .relaxed).newValue
        var nodes: [Node] = []
        var stack: [(Node, Bool)] = roots.map { ($0, false) }
        while let (node, expanded) = stack.popLast() {
            if expanded {
                node.walkIndex = nodes.count
                nodes.append(node)
                continue
            }
            if node.walkEpoch == epoch { continue }
            node.walkEpoch = epoch
            node.walkIndex = -1
            stack.append((node, true))
            node.op.forEachInput { input in if input.walkEpoch != epoch { stack.append((input, false)) } }
        }
        return (nodes, epoch)
    }

    /// The position of each node in `nodes`, as a table (for the planner's many lookups).
    static func positions(_ nodes: [Node]) -> [ObjectIdentifier: Int] {
        var index: [ObjectIdentifier: Int] = [:]
        index.reserveCapacity(nodes.count)
        for (i, n) in nodes.enumerated() { index[ObjectIdentifier(n)] = i }
        return index
    }

    private func collect(_ nodes: [Node], _ index: [ObjectIdentifier: Int]) {
        self.nodes = nodes
        self.index = index
        uses = [Int](repeating: 0, count: nodes.count)
        consumersInPlan = [[Int]](repeating: [], count: nodes.count)
        materialized = nodes.map { $0.storage != nil }
        produced = materialized
        buffers = nodes.map(\.storage)
        inPlace = [Bool](repeating: false, count: nodes.count)
        cut = [Bool](repeating: false, count: nodes.count)
        fresh = [Bool](repeating: false, count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for input in node.op.inputs {
                let j = index[ObjectIdentifier(input)]!
                uses[j] += 1
                consumersInPlan[j].append(i)
            }
        }
    }

    private func mark(_ node: Node) { materialized[index[ObjectIdentifier(node)]!] = true }

    private var subtreeCost: [Int: Int] = [:]

    private func decideMaterialization(_ i: Int) {
        let node = nodes[i]
        switch node.op {
        case .reduce: materialized[i] = true
        case .update:
            // A base that is an unrealised expression used only here is computed straight into the
            // update's buffer (see decideUpdate), so it is not materialised on its own.
            materialized[i] = true
        case .reshape(let source):
            let j = index[ObjectIdentifier(source)]!
            switch source.op {
            case .storage, .fill, .uniform, .iota: break
            default: materialized[j] = true
            }
        case .gather(let source, _, _):
            // Read at data-dependent positions: it must be in a buffer of its own.
            if source.storage == nil { materialized[index[ObjectIdentifier(source)]!] = true }
        default: break
        }
    }

    /// Marks elementwise nodes that would be computed more than once: reached from kernels over
    /// different domains, or through different index maps (a stencil's shifted views). Uses at the
    /// same index inside one kernel are shared by common-subexpression elimination instead.
    private func decideSharing() {
        struct Reach: Hashable { let domain: ReachDomain; let map: AffineMap; let points: Int }
        var reach = [[Reach]](repeating: [], count: nodes.count)
        func add(_ j: Int, _ r: Reach) {
            if reach[j].count < 4 && !reach[j].contains(r) { reach[j].append(r) }
        }
        func propagate(_ i: Int, _ r: Reach) {
            // Through a reshape the index is not affine: such uses are not counted as reaches.
            for (input, m) in inputMaps(nodes[i], r.map) {
                if let m { add(index[ObjectIdentifier(input)]!, Reach(domain: r.domain, map: m, points: r.points)) }
            }
        }
        for i in nodes.indices.reversed() {
            let node = nodes[i]
            if !materialized[i], uses[i] >= 2, isCompute(node), reach[i].count >= 2, cost(i) >= Planner.shareThreshold,
               !recomputedInStencil(cost(i), reach[i].map { ($0.domain, $0.map) }) {
                materialized[i] = true
            }
            // Loop-invariant hoisting: an expensive expression broadcast over a domain many times
            // its size is computed once into its own small buffer.
            if !materialized[i], isCompute(node), reach[i].contains(where: { $0.points >= 8 * max(node.count, 1) }),
               cost(i) >= Planner.hoistThreshold {
                materialized[i] = true
            }
            if materialized[i] {
                if node.storage != nil { continue }
                let (extents, parallel, map) = domainMap(i)
                let domain = ReachDomain.kernel(kind(i), extents, parallel)
                let points = extents.reduce(1, *)
                switch node.op {
                case .reduce(_, let source, _):
                    add(index[ObjectIdentifier(source)]!, Reach(domain: domain, map: map, points: points))
                case .update(let base, _, let value):
                    add(index[ObjectIdentifier(value)]!, Reach(domain: domain, map: map, points: points))
                    add(index[ObjectIdentifier(base)]!, Reach(domain: .copy(base.shape), map: .identity(base.shape.count), points: base.count))
                default:
                    propagate(i, Reach(domain: domain, map: map, points: points))
                }
            } else {
                for r in reach[i] { propagate(i, r) }
            }
        }
    }

    /// Whether a shared value read by one kernel through shifted views of it (a stencil over a
    /// computed field: shallow water's half-step faces) is cheaper recomputed at each shift than
    /// stored and read back. Recomputing costs `cost` more operations per extra shift; storing
    /// costs a write, its read for ownership and a read per point of memory traffic, and the
    /// kernel that stores it can no longer run in place over what it reads, so its reader must
    /// wait. Measured on shallow_water (2 cores, double, n = 2048): the two face kernels and the
    /// update took 0.55 s for 50 steps as hand-written C, one fused kernel recomputing the faces
    /// 0.32 s. Reads from other kernels, or through maps that are not translations of each other
    /// (broadcasts, transposes), keep the stored value.
    private func recomputedInStencil(_ cost: Int, _ reaches: [(domain: ReachDomain, map: AffineMap)]) -> Bool {
        guard let first = reaches.first, reaches.count <= Planner.maxStencilShifts,
              cost * (reaches.count - 1) <= Planner.recomputeBudget else { return false }
        return reaches.allSatisfy { $0.domain == first.domain && $0.map.inRank == first.map.inRank && $0.map.coef == first.map.coef }
    }

    /// Operations in the fused subtree of node i, each shared node counted once (views and
    /// leaves are free), up to `costCap`: the thresholds it is compared with are far below it.
    /// A diamond ladder (`z = z * z`, 64 times) has 2^64 paths but 64 nodes; summing per path
    /// overflowed. The walk is iterative and visits at most `costCap * 16` nodes, so its price
    /// per node is bounded whatever the graph.
    private func cost(_ i: Int) -> Int {
        if let c = subtreeCost[i] { return c }
        var total = 0, visits = 0
        var seen: Set<Int> = [i]
        var stack = [i]
        while let k = stack.popLast(), total < Planner.costCap, visits < Planner.costCap * 16 {
            visits += 1
            total += Planner.opCost(nodes[k].op)
            for input in nodes[k].op.inputs {
                let j = index[ObjectIdentifier(input)]!
                if !materialized[j], seen.insert(j).inserted { stack.append(j) }
            }
        }
        let c = min(total, Planner.costCap)
        subtreeCost[i] = c
        return c
    }

    /// The operations one node adds to a kernel (a transcendental or a division counts 4).
    private static func opCost(_ op: Node.Op) -> Int {
        switch op {
        case .storage, .fill, .iota, .view, .reduce, .update, .reshape: 0
        case .uniform: 4
        case .unary(let u, _): u.costClass == .simple ? 1 : 4
        case .binary(let b, _, _): b.costClass == .simple ? 1 : 4
        default: 1
        }
    }

    /// Bounds what one kernel fuses, and keeps what a live tensor holds. In one pass from the
    /// leaves (`nodes` is in dependency order):
    /// - a node whose chain of fused nodes below it is longer than `maxFusedDepth` is stored by a
    ///   kernel of its own (`cut`), so kernels, and every walk over them, stay shallow: a loop of
    ///   10,000 updates without a sync is a few dozen kernels, not one recursion 20,000 deep;
    /// - a computed node that a tensor still holds is stored when its pending history recomputes
    ///   what an earlier sync computed without storing, and costs at least `keepThreshold`
    ///   operations a point. Reading `x.sum()` in a loop over `x = x * 0.5 + 1` then stores `x`
    ///   on the way (one more output of the sum's kernel) every other iteration instead of
    ///   leaving its whole history to be recomputed at each read: the price of a read stays flat
    ///   over the iterations. A held value whose history is computed for the first time is not
    ///   stored: locals of a loop body (Black-Scholes' `d1`, `d2`) are usually never read again,
    ///   and storing them would cost a store and a fresh buffer per value and iteration, the
    ///   traffic fusion exists to save (not measured: the rule was chosen before measuring).
    ///   Recomputing is also kept for cheap values (a view, a single operation on stored data),
    ///   for generators (`uniform`, `arange`), whose price does not grow, and for values larger
    ///   than anything they read (a pairwise `dx` broadcast from two vectors: storing N x N for
    ///   N inputs is what fusion avoids).
    private func decideDepthAndKeep() {
        var depth = [Int](repeating: 0, count: nodes.count)
        // The most elements of any stored or generated value the node's fused history reads.
        var widest = [Int](repeating: 0, count: nodes.count)
        // Whether the node's fused history holds a node an earlier sync computed without storing.
        var recomputes = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices where nodes[i].storage == nil {
            let node = nodes[i]
            var d = 0
            for input in node.op.inputs {
                let j = index[ObjectIdentifier(input)]!
                // A materialised elementwise node may still be computed inside its consumer.
                if !(nodes[j].storage != nil || cut[j] || (materialized[j] && !isElementwise(nodes[j]))) { d = max(d, depth[j]) }
                widest[i] = max(widest[i], materialized[j] || input.op.inputs.isEmpty ? input.count : widest[j])
                if !materialized[j] && recomputes[j] { recomputes[i] = true }
            }
            depth[i] = d + 1
            if node.computedWithoutStore { recomputes[i] = true }
            guard isElementwise(node) else { continue }
            if depth[i] > Planner.maxFusedDepth {
                cut[i] = true
                materialized[i] = true
            } else if !materialized[i], recomputes[i], isCompute(node), !node.op.inputs.isEmpty, node.count <= widest[i],
                      node.holders.load(ordering: .relaxed) > 0, cost(i) >= Planner.keepThreshold {
                materialized[i] = true
                plan.keptNodes += 1
            }
        }
        subtreeCost.removeAll()
    }

    /// Nodes that compute values (views and fills are index maps and constants: never stored for reuse).
    private func isCompute(_ node: Node) -> Bool {
        switch node.op {
        case .unary, .binary, .select, .cast, .uniform, .iota, .gather: true
        default: false
        }
    }

    private func isElementwise(_ node: Node) -> Bool {
        switch node.op {
        case .unary, .binary, .select, .cast, .view, .uniform, .iota, .fill, .gather: true
        default: false
        }
    }

    // MARK: - Updates

    private func decideUpdate(_ u: Int) {
        guard case .update(let base, let map, let value) = nodes[u].op else { return }
        let b = index[ObjectIdentifier(base)]!
        let v = index[ObjectIdentifier(value)]!
        let box = Planner.complementBoxes(map, base: base.shape, value: value.shape)
        // A materialised value can be computed straight into a fresh buffer for the new version,
        // leaving only the border to copy: cheaper than storing it and copying it over the base.
        let placeable = box != nil && materialized[v] && value.storage == nil && !roots.contains(v)
            && placement[v] == nil && !consumersInPlan[v].contains { c in
                // Readers that need the value in a dense buffer of its own.
                switch nodes[c].op {
                case .reshape: return true
                case .gather(let source, _, _): return source === value
                default: return false
                }
            }
            && { if case .update = value.op { return false }; return true }()
        // The base's buffer can be taken over when nobody else will read the old version.
        let canTakeBase = materialized[b] && base.holders.load(ordering: .relaxed) == 0
            && !nodes.indices.contains(where: { inPlace[$0] && baseIndex(of: $0) == b })
            && (base.storage.map({ $0.aliases.load(ordering: .relaxed) == 1 }) ?? true)
            && contained(b, excluding: u)
        // A materialised value that does not read the base at all (a reduction written into a
        // row) is computed straight into the base's buffer: nothing is copied. A fresh buffer
        // would copy the whole border, the rest of the array, at every such write: a loop of
        // row writes moved gigabytes for a result of a megabyte. Its kernel then writes the
        // base, so it waits for the old version's readers as an in-place update does.
        if canTakeBase, placeable, !reaches(value, base) {
            inPlace[u] = true
            placement[v] = u
            plan.inPlaceUpdates += 1
            return
        }
        if canTakeBase, !placeable {
            // The right-hand side may read the base only where it writes or where it never writes.
            let write = flat(map, base.shape)
            var conflict = false
            walkLoads([(value, .identity(value.shape.count))]) { node, m in
                if node === base, let m, Overlap.safe(read: flat(m, node.shape), write: write, extents: value.shape) { return }
                if node === base { conflict = true }
            }
            if conflict && box != nil {
                fresh[u] = true
                plan.freshUpdates += 1
                return
            }
            if conflict { materialized[v] = true }
            inPlace[u] = true
            plan.inPlaceUpdates += 1
        } else if box != nil {
            fresh[u] = true
            if placeable { placement[v] = u }
            plan.freshUpdates += 1
        } else {
            plan.copiedUpdates += base.storage == nil && !materialized[b] ? 0 : 1
        }
    }

    /// Whether `target` is among the nodes `start` is computed from (itself included).
    private func reaches(_ start: Node, _ target: Node) -> Bool {
        var stack = [start]
        var seen: Set<ObjectIdentifier> = []
        while let n = stack.popLast() {
            if n === target { return true }
            guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
            n.op.forEachInput { stack.append($0) }
        }
        return false
    }

    /// The box an update writes, `lo ..< hi` per base axis, or nil when its view is not a box
    /// (unit steps, each value axis on its own base axis).
    static func writtenBox(_ map: AffineMap, value: [Int]) -> (lo: [Int], hi: [Int])? {
        var lo: [Int] = [], hi: [Int] = []
        var used: Set<Int> = []
        for d in 0..<map.inRank {
            let nz = (0..<map.outRank).filter { map.c(d, $0) != 0 }
            if nz.isEmpty {
                lo.append(map.offset[d]); hi.append(map.offset[d] + 1)
            } else if nz.count == 1, map.c(d, nz[0]) == 1, used.insert(nz[0]).inserted {
                lo.append(map.offset[d]); hi.append(map.offset[d] + value[nz[0]])
            } else {
                return nil
            }
        }
        for k in 0..<map.outRank where !used.contains(k) && value[k] != 1 { return nil }
        return (lo, hi)
    }

    /// The boxes that cover `base` minus the box an update writes, or nil when the update's view
    /// is not a box (see `writtenBox`).
    static func complementBoxes(_ map: AffineMap, base: [Int], value: [Int]) -> [(start: [Int], shape: [Int])]? {
        guard let (lo, hi) = writtenBox(map, value: value) else { return nil }
        var boxes: [(start: [Int], shape: [Int])] = []
        for d in 0..<base.count {
            for (a, z) in [(0, lo[d]), (hi[d], base[d])] where z > a {
                var start: [Int] = [], shape: [Int] = []
                for e in 0..<base.count {
                    if e < d { start.append(lo[e]); shape.append(hi[e] - lo[e]) }
                    else if e == d { start.append(a); shape.append(z - a) }
                    else { start.append(0); shape.append(base[e]) }
                }
                boxes.append((start, shape))
            }
        }
        return boxes
    }

    /// A box `lo ..< hi` per axis.
    struct Box {
        var lo: [Int]
        var hi: [Int]
        var isEmpty: Bool { zip(lo, hi).contains { $0 >= $1 } }
        func overlaps(_ other: Box) -> Bool { lo.indices.allSatisfy { lo[$0] < other.hi[$0] && other.lo[$0] < hi[$0] } }
    }

    /// Finds fresh updates whose border copy is dead: the new version is only ever read through
    /// a chain of in-place updates of it (each the only update of the one before, none held by a
    /// tensor or a root of the plan) that together write the whole border before any other
    /// kernel of the plan reads a part of it. Shallow water's interior update is followed by its
    /// reflecting walls, which rewrite every border cell from the interior; its border copy was
    /// six small kernels a step (a fifth of the step's time in float32).
    ///
    /// The walls themselves read border cells not yet written (the column walls copy rows 0 and
    /// n+1 too, before the row walls rewrite them): a chain update's value may read unwritten
    /// cells, and the cells it computes from them stay unwritten (the exact preimage through
    /// axis-aligned maps, the whole written box otherwise).
    ///
    /// Runs after every in-place decision. If scheduling later demotes a chain member to a copy,
    /// the copy carries the unwritten cells along and the chain's later writes still cover them.
    private func decideDeadBorders() {
        let candidates = nodes.indices.filter { fresh[$0] }
        guard !candidates.isEmpty else { return }
        let reads = kernelReads()
        for u in candidates {
            guard case .update(let base, let map, let value) = nodes[u].op,
                  let boxes = Planner.complementBoxes(map, base: base.shape, value: value.shape) else { continue }
            var pending = boxes.map { Box(lo: $0.start, hi: zip($0.start, $0.shape).map { $0 + $1 }) }
            var x = u
            var dead = false
            while true {
                pending.removeAll(where: \.isEmpty)
                if pending.isEmpty { dead = true; break }
                guard !roots.contains(x), nodes[x].holders.load(ordering: .relaxed) == 0,
                      nodes[x].consumers.load(ordering: .relaxed) == uses[x] else { break }
                let next = consumersInPlan[x].filter { baseIndex(of: $0) == x }
                guard next.count == 1, let w = next.first, inPlace[w],
                      case .update(_, let wmap, let wvalue) = nodes[w].op,
                      let written = Planner.writtenBox(wmap, value: wvalue.shape) else { break }
                var tainted: [Box] = []
                var unsafe = false
                for read in reads[x] ?? [] {
                    guard let m = read.map else { unsafe = true; break }
                    for p in pending {
                        guard Planner.bounds(m, read.extents).overlaps(p) else { continue }
                        // Another kernel reading an unwritten cell sees garbage.
                        guard read.reader == w, let cells = Planner.preimage(m, read.extents, p) else { unsafe = true; break }
                        tainted.append(Planner.image(wmap, cells))
                    }
                    if unsafe { break }
                }
                if unsafe { break }
                pending = pending.flatMap { Planner.subtract(Box(lo: written.lo, hi: written.hi), from: $0) } + tainted
                x = w
            }
            if dead {
                deadBorder.insert(u)
                plan.elidedBorders += 1
            }
        }
    }

    /// Finds fresh updates that can be written into the buffer of the version two steps back,
    /// with no border copy: a Jacobi sweep `u[1...n, 1...n] = f(u)` repeated without a sync makes
    /// a chain of fresh versions u1, u2, u3, ... each a copy of the one before with the box
    /// replaced, so u3's border is u1's border, and u1's buffer, dead once u2 is computed, already
    /// holds it. Versions then alternate between two buffers and each sweep is one kernel, not the
    /// value's kernel plus a border copy (two thirds of a small-grid Jacobi's kernels).
    ///
    /// Update u (fresh, base b) takes the buffer of b's base bb when:
    /// - b is a fresh update of the plan with the same map as u, its border copied (not elided),
    ///   and no in-place update writes into b or bb (their buffers then hold what their nodes say);
    /// - bb is a fresh update of the plan or a leaf whose buffer no other node shares, of u's type
    ///   and size, not held, not a root, read by nothing outside the plan (`contained`), and its
    ///   buffer not taken by another update;
    /// - every kernel that reads bb is b's own or one that b or u's writer (its value's kernel, or
    ///   its own) depends on, not the writer itself, and the writer depends on b: every read of the
    ///   old values comes before the first write of the new ones (the runtime orders kernels by
    ///   their buffers, reads before later writes). Fusion could still put a reader into the
    ///   writer's kernel: the emitted order is checked (`pingPongHolds`), and the graph planned
    ///   again without ping-pong when it does not hold.
    /// A taken update stays unrealised: a later read of it (there can be none outside the plan)
    /// would recompute it rather than read the buffer now holding another version.
    private func decidePingPong() {
        let candidates = nodes.indices.filter { fresh[$0] && !deadBorder.contains($0) }
        guard candidates.count >= 2 else { return }      // u and its base b, both fresh
        var reads: [Int: [Read]]? = nil
        let inPlaceBases = Set(nodes.indices.filter { inPlace[$0] }.compactMap { baseIndex(of: $0) })
        for u in candidates {
            guard case .update(let b, let umap, let value) = nodes[u].op, let bi = index[ObjectIdentifier(b)],
                  fresh[bi], !deadBorder.contains(bi), case .update(let bb, let bmap, _) = b.op, bmap == umap,
                  let bbi = index[ObjectIdentifier(bb)], !taken.contains(bbi), !inPlaceBases.contains(bi), !inPlaceBases.contains(bbi),
                  bb.dtype == nodes[u].dtype, bb.shape == nodes[u].shape, !roots.contains(bbi),
                  bb.holders.load(ordering: .relaxed) == 0 else { continue }
            if let storage = bb.storage {
                guard storage.aliases.load(ordering: .relaxed) == 1, storage.count == nodes[u].count,
                      storage.dtype == nodes[u].dtype else { continue }
            } else {
                guard fresh[bbi] else { continue }
            }
            guard contained(bbi, excluding: bi) else { continue }
            let vi = index[ObjectIdentifier(value)]!
            let writer = placement[vi] == u ? vi : u
            if writer == vi, !reaches(value, b) { continue }
            if reads == nil { reads = kernelReads() }
            let readers = Set((reads![bbi] ?? []).map(\.reader)).subtracting([bi])
            if readers.contains(writer) || readers.contains(where: { !reaches(b, nodes[$0]) && !reaches(nodes[writer], nodes[$0]) }) {
                continue
            }
            pingPong[u] = bbi
            pingPongOrder.append((writer, Array(readers)))
            taken.insert(bbi)
            buffers[u] = buffer(bbi)
            plan.elidedBorders += 1
        }
    }

    /// Whether, in the emitted kernels, every kernel of a taken node's readers comes before the
    /// first kernel of the writer that overwrites it (and each is found).
    private func pingPongHolds() -> Bool {
        func kernels(of i: Int) -> [Int] {
            let id = nodes[i].id
            return plan.kernels.indices.filter { plan.kernels[$0].memberIDs.contains(id) }
        }
        for (writer, readers) in pingPongOrder {
            guard let first = kernels(of: writer).first else { return false }
            for r in readers {
                let ks = kernels(of: r)
                if ks.isEmpty || ks.contains(where: { $0 >= first }) { return false }
            }
        }
        return true
    }

    /// The domain points (a box) that `map` sends into `box`, for a map whose every output axis
    /// follows at most one domain axis with step 1 or -1; nil otherwise.
    static func preimage(_ map: AffineMap, _ extents: [Int], _ box: Box) -> Box? {
        var lo = extents.map { _ in 0 }, hi = extents
        for d in 0..<map.inRank {
            let axes = (0..<map.outRank).filter { map.c(d, $0) != 0 }
            switch axes.count {
            case 0:
                if map.offset[d] < box.lo[d] || map.offset[d] >= box.hi[d] { return Box(lo: lo, hi: lo) }
            case 1:
                let k = axes[0], c = map.c(d, k)
                guard c == 1 || c == -1 else { return nil }
                // box.lo <= offset + c i < box.hi
                let (a, b) = c == 1 ? (box.lo[d] - map.offset[d], box.hi[d] - map.offset[d])
                                    : (map.offset[d] - box.hi[d] + 1, map.offset[d] - box.lo[d] + 1)
                lo[k] = max(lo[k], a); hi[k] = min(hi[k], b)
            default:
                return nil
            }
        }
        return Box(lo: lo, hi: zip(lo, hi).map { max($0, $1) })
    }

    /// The bounding box of what `map` sends a domain box to.
    static func image(_ map: AffineMap, _ cells: Box) -> Box {
        let extents = zip(cells.lo, cells.hi).map { $1 - $0 }
        if extents.contains(where: { $0 <= 0 }) { return Box(lo: map.offset, hi: map.offset) }
        var shifted = map
        for d in 0..<map.inRank {
            for k in 0..<map.outRank { shifted.offset[d] += map.c(d, k) * cells.lo[k] }
        }
        return bounds(shifted, extents)
    }

    /// `a` minus `b`, as disjoint boxes.
    static func subtract(_ b: Box, from a: Box) -> [Box] {
        guard a.overlaps(b) else { return [a] }
        var out: [Box] = []
        var rest = a
        for d in a.lo.indices {
            if rest.lo[d] < b.lo[d] {
                var piece = rest; piece.hi[d] = b.lo[d]; out.append(piece); rest.lo[d] = b.lo[d]
            }
            if b.hi[d] < rest.hi[d] {
                var piece = rest; piece.lo[d] = b.hi[d]; out.append(piece); rest.hi[d] = b.hi[d]
            }
        }
        return out
    }

    /// A kernel's read of a materialised node: which node's kernel reads it, through which map
    /// (nil where the index is not affine) over which domain.
    struct Read { var reader: Int; var map: AffineMap?; var extents: [Int] }

    /// For each materialised node, what the plan's kernels read of it, leaving out an in-place
    /// update's read of its own base.
    private func kernelReads() -> [Int: [Read]] {
        var out: [Int: [Read]] = [:]
        for r in nodes.indices where materialized[r] && nodes[r].storage == nil {
            let starts: [(node: Node, map: AffineMap?)]
            let extents: [Int]
            switch nodes[r].op {
            case .reduce(_, let source, _):
                let dm = domainMap(r)
                (starts, extents) = ([(source, dm.map)], dm.extents)
            case .update(let base, _, let value):
                (starts, extents) = ([(value, .identity(value.shape.count))], value.shape)
                if !inPlace[r] {
                    out[index[ObjectIdentifier(base)]!, default: []].append(Read(reader: r, map: .identity(base.shape.count), extents: base.shape))
                }
            default:
                extents = nodes[r].shape
                starts = inputMaps(nodes[r], .identity(extents.count))
            }
            walkLoads(starts) { n, m in out[index[ObjectIdentifier(n)]!, default: []].append(Read(reader: r, map: m, extents: extents)) }
        }
        return out
    }

    /// The bounding box of `map` over a domain of `extents`.
    static func bounds(_ map: AffineMap, _ extents: [Int]) -> Box {
        var lo = map.offset, hi = map.offset
        if extents.contains(0) { return Box(lo: lo, hi: hi) }
        for d in 0..<map.inRank {
            for k in 0..<map.outRank {
                let reach = map.c(d, k) * (extents[k] - 1)
                if reach < 0 { lo[d] += reach } else { hi[d] += reach }
            }
        }
        return Box(lo: lo, hi: hi.map { $0 + 1 })
    }

    private func baseIndex(of u: Int) -> Int? {
        if case .update(let base, _, _) = nodes[u].op { return index[ObjectIdentifier(base)] }
        return nil
    }

    /// True when every reader of node i other than `excluding` is in the plan and either
    /// materialised by it or itself contained (so no value outside the plan can read i later).
    private func contained(_ i: Int, excluding: Int) -> Bool {
        guard nodes[i].consumers.load(ordering: .relaxed) == uses[i] else { return false }
        for c in consumersInPlan[i] where c != excluding {
            if materialized[c] { continue }
            if nodes[c].holders.load(ordering: .relaxed) != 0 { return false }
            if !contained(c, excluding: excluding) { return false }
        }
        return true
    }

    private func flat(_ map: AffineMap, _ shape: [Int]) -> Overlap.FlatAccess { Overlap.FlatAccess(map, rowMajor: shape) }

    /// Calls `visit` for each materialised or stored node reached from `starts` through fused
    /// operations, with the index map it is read through (nil when the index is not affine, as
    /// through a reshape, whose input is always materialised or a leaf).
    private func walkLoads(_ starts: [(node: Node, map: AffineMap?)], _ visit: (Node, AffineMap?) -> Void) {
        var seen: Set<KernelBuilder.MemoKey> = []
        func go(_ n: Node, _ m: AffineMap?) {
            guard let m else { visit(n, nil); return }
            if !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return }
            let i = index[ObjectIdentifier(n)]!
            if materialized[i] { visit(n, m); return }
            for (input, im) in inputMaps(n, m) { go(input, im) }
        }
        for (node, map) in starts { go(node, map) }
    }

    // MARK: - Scheduling

    private func kind(_ i: Int) -> Kind {
        switch nodes[i].op {
        case .reduce(_, let source, let axes): .reduce(source: source.shape, axes: axes)
        case .update: .update
        default: .map(shape: nodes[i].shape)
        }
    }

    /// The map from node i's kernel domain to its source (reductions) or itself.
    private func domainMap(_ i: Int) -> (extents: [Int], parallel: Int, map: AffineMap) {
        let node = nodes[i]
        switch node.op {
        case .reduce(_, let source, let axes):
            let kept = (0..<source.shape.count).filter { !axes.contains($0) }
            let order = kept + axes
            var coef = [Int](repeating: 0, count: order.count * order.count)
            for (pos, d) in order.enumerated() { coef[d * order.count + pos] = 1 }
            let map = AffineMap(inRank: order.count, outRank: order.count, offset: [Int](repeating: 0, count: order.count), coef: coef)
            return (order.map { source.shape[$0] }, kept.count, map)
        case .update(_, _, let value):
            return (value.shape, value.shape.count, .identity(value.shape.count))
        default:
            return (node.shape, node.shape.count, .identity(node.shape.count))
        }
    }

    /// Materialised nodes that must be produced before node i's kernel can run, computed once as
    /// if nothing were produced (producing a node only removes it and what it stood for).
    private var blockerCache: [Int: [Int]] = [:]

    private func isReady(_ i: Int) -> Bool {
        if let b = blockerCache[i] { return b.allSatisfy { produced[$0] } }
        let b = blockers(i)
        blockerCache[i] = b
        return b.allSatisfy { produced[$0] }
    }

    private func blockers(_ i: Int) -> [Int] {
        var out: Set<Int> = []
        let node = nodes[i]
        let (extents, _, map) = domainMap(i)
        let inlineOK = kind(i) != .update
        var seen: Set<KernelBuilder.MemoKey> = []
        func go(_ n: Node, _ m: AffineMap?, top: Bool) {
            let j = index[ObjectIdentifier(n)]!
            if !top, let m, !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return }
            if !top && materialized[j] {
                if n.storage != nil { return }
                if inlineOK, let m, canInline(n, at: m, domain: extents) {
                    for (input, im) in inputMaps(n, m) { go(input, im, top: false) }
                    return
                }
                out.insert(j)
                return
            }
            for (input, im) in inputMaps(n, m) { go(input, im, top: false) }
        }
        switch node.op {
        case .reduce(_, let source, _): go(source, map, top: false)
        case .update(let base, _, let value):
            go(value, map, top: false)
            let b = index[ObjectIdentifier(base)]!
            if !inPlace[i] { go(base, .identity(base.shape.count), top: false) }
            if inPlace[i] {
                if base.storage == nil { out.insert(b) }
                // Every other kernel reading the old version runs first.
                for r in nodes.indices where r != i && materialized[r] && nodes[r].storage == nil && reads(r, b) { out.insert(r) }
            }
        default: go(node, map, top: true)
        }
        // A value computed straight into the buffer of an in-place update writes its base:
        // the base first, and every other kernel reading the old version, as for the update.
        if let u = placement[i], inPlace[u], let b = baseIndex(of: u) {
            if nodes[b].storage == nil { out.insert(b) }
            for r in nodes.indices where r != i && r != u && materialized[r] && nodes[r].storage == nil && reads(r, b) { out.insert(r) }
        }
        out.remove(i)
        return Array(out)
    }

    /// How an index map reaches a node's inputs: a view composes its map, a reshape is not affine
    /// in the index (nil), every other operation reads its inputs at the same index.
    private func inputMaps(_ n: Node, _ m: AffineMap?) -> [(node: Node, map: AffineMap?)] {
        switch n.op {
        case .view(let s, let vm): [(s, m.map { vm.composed(with: $0) })]
        case .reshape(let s): [(s, nil)]
        case .gather(let s, let index, let axis):
            // The index at the node's axes axis..<axis+rank(index); the source anywhere (nil).
            [(s, nil), (index, m.map { Planner.gatherIndexMap(nodeRank: n.shape.count, indexRank: index.shape.count, axis: axis).composed(with: $0) })]
        default: n.op.inputs.map { ($0, m) }
        }
    }

    /// The map from a gather node's index to its index tensor's index (axes axis..<axis+k).
    static func gatherIndexMap(nodeRank r: Int, indexRank k: Int, axis: Int) -> AffineMap {
        var coef = [Int](repeating: 0, count: k * r)
        for d in 0..<k { coef[d * r + axis + d] = 1 }
        return AffineMap(inRank: k, outRank: r, offset: [Int](repeating: 0, count: k), coef: coef)
    }

    private var readCache: [Int: Set<Int>] = [:]

    /// Whether materialised node r's kernel reads node b (materialised) directly.
    private func reads(_ r: Int, _ b: Int) -> Bool {
        if let s = readCache[r] { return s.contains(b) }
        var s: Set<Int> = []
        var seen: Set<ObjectIdentifier> = []
        func go(_ n: Node, top: Bool) {
            let j = index[ObjectIdentifier(n)]!
            if !top && materialized[j] { s.insert(j); return }
            if !seen.insert(ObjectIdentifier(n)).inserted { return }
            for input in n.op.inputs { go(input, top: false) }
        }
        go(nodes[r], top: true)
        if case .update = nodes[r].op, !inPlace[r], let base = baseIndex(of: r) { s.insert(base) }
        readCache[r] = s
        return s.contains(b)
    }

    /// Whether a materialised node met at `map` inside a kernel over `domain` can be computed
    /// there and stored on the way: elementwise, and the map visits each of its elements once.
    func canInline(_ node: Node, at map: AffineMap, domain: [Int]) -> Bool {
        guard isElementwise(node), !cut[index[ObjectIdentifier(node)]!], map.inRank == domain.count, map.outRank == domain.count,
              map.offset.allSatisfy({ $0 == 0 }) else { return false }
        for d in 0..<map.inRank {
            var found = false
            for k in 0..<map.outRank where map.c(d, k) != 0 {
                guard map.c(d, k) == 1, !found, domain[k] == node.shape[d] else { return false }
                found = true
            }
            if !found { return false }
        }
        return true
    }

    func isMaterialized(_ node: Node) -> Bool { materialized[index[ObjectIdentifier(node)]!] }

    /// The dense buffer of a produced node (not of one placed inside an update's buffer).
    func producedBuffer(_ node: Node) -> Buffer? {
        if let s = node.storage { return s }
        let i = index[ObjectIdentifier(node)]!
        return produced[i] && placement[i] == nil ? buffers[i] : nil
    }

    /// Where a produced node's element `map(j)` lives, or nil when it is not produced yet.
    func producedLocation(_ node: Node, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess)? {
        if let s = node.storage { return (s, flat(map, node.shape)) }
        let i = index[ObjectIdentifier(node)]!
        return produced[i] ? location(i, map) : nil
    }

    /// Marks a node produced by the kernel being built and says where to store it.
    func claimInline(_ node: Node, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess) {
        let i = index[ObjectIdentifier(node)]!
        produced[i] = true
        return location(i, map)
    }

    /// The buffer and flat access of node i's element `map(j)`: its own dense buffer, or the view of
    /// the fresh buffer of the update it was placed into.
    private func location(_ i: Int, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess) {
        if let u = placement[i], case .update(let base, let umap, _) = nodes[u].op {
            return (buffer(u), flat(umap.composed(with: map), base.shape))
        }
        return (buffer(i), flat(map, nodes[i].shape))
    }

    private func buffer(_ i: Int) -> Buffer {
        if let b = buffers[i] { return b }
        let b: Buffer
        if let u = placement[i] {
            b = buffer(u)
        } else if inPlace[i], let base = baseIndex(of: i) {
            b = buffer(base)
        } else {
            b = Buffer(dtype: nodes[i].dtype, count: nodes[i].count, deferred: true)
        }
        buffers[i] = b
        return b
    }

    private func schedule() {
        var pending = nodes.indices.filter { materialized[$0] && !produced[$0] }
        while !pending.isEmpty {
            let ready = pending.filter { isReady($0) }
            // Prefer a node that no pending consumer will compute inline anyway.
            let pick = ready.first { !willBeInlined($0, pending: pending) } ?? ready.first
            guard let first = pick else {
                demoteAnInPlaceUpdate(pending)
                continue
            }
            var group = [first]
            let k = kind(first)
            if k != .update {
                for j in ready where j != first && kind(j) == k && !produced[j] { group.append(j) }
            } else if inPlace[first] {
                // In-place updates over the same domain share a kernel: being ready, none of them
                // reads another's base (a reader of a base blocks that base's in-place update).
                let extents = domainMap(first).extents
                for j in ready where j != first && kind(j) == .update && inPlace[j] && !produced[j]
                    && domainMap(j).extents == extents { group.append(j) }
            } else if fresh[first], !isPlaced(first) {
                // So do updates into fresh buffers: each reads only old versions (a ready update
                // reads no pending one), and values they share (stencil terms) are computed once.
                let extents = domainMap(first).extents
                for j in ready where j != first && kind(j) == .update && fresh[j] && !isPlaced(j) && !produced[j]
                    && domainMap(j).extents == extents { group.append(j) }
            }
            emitKernel(group)
            pending.removeAll { produced[$0] }
        }
    }

    /// Whether update u's value is computed straight into u's fresh buffer by a kernel of its own.
    private func isPlaced(_ u: Int) -> Bool {
        guard case .update(_, _, let value) = nodes[u].op else { return false }
        return placement[index[ObjectIdentifier(value)]!] == u
    }

    /// For each kernel-forming node, the materialised elementwise nodes its kernel would compute
    /// inline. The walk stops at every materialised node, so it does not change as nodes are
    /// produced and is computed once per node.
    private var inlineTargets: [Int: Set<Int>] = [:]

    private func targets(_ c: Int) -> Set<Int> {
        if let t = inlineTargets[c] { return t }
        var found: Set<Int> = []
        if kind(c) != .update {
            let (extents, _, map) = domainMap(c)
            var seen: Set<KernelBuilder.MemoKey> = []
            func go(_ n: Node, _ m: AffineMap?, top: Bool) {
                let j = index[ObjectIdentifier(n)]!
                if !top && materialized[j] {
                    if isElementwise(n), let m, canInline(n, at: m, domain: extents) { found.insert(j) }
                    return
                }
                if let m, !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return }
                for (input, im) in inputMaps(n, m) { go(input, im, top: false) }
            }
            if case .reduce(_, let source, _) = nodes[c].op { go(source, map, top: false) } else { go(nodes[c], map, top: true) }
        }
        inlineTargets[c] = found
        return found
    }

    /// Whether a pending consumer's kernel will compute node i inline (so i needs no kernel).
    private func willBeInlined(_ i: Int, pending: [Int]) -> Bool {
        guard isElementwise(nodes[i]) else { return false }
        return pending.contains { $0 != i && targets($0).contains(i) }
    }

    /// Breaks a cycle of in-place updates waiting on each other's readers by copying one base.
    private func demoteAnInPlaceUpdate(_ pending: [Int]) {
        // An update whose value was placed into the base can be demoted only while that value
        // is unwritten: it goes back to a buffer of its own.
        func placedValue(_ u: Int) -> Int? {
            guard case .update(_, _, let value) = nodes[u].op else { return nil }
            let v = index[ObjectIdentifier(value)]!
            return placement[v] == u ? v : nil
        }
        guard let u = pending.first(where: { inPlace[$0] && placedValue($0).map { !produced[$0] } ?? true }) else {
            preconditionFailure("planner: no kernel is ready and no in-place update can be demoted")
        }
        if let v = placedValue(u) {
            placement[v] = nil
            buffers[v] = nil
        }
        inPlace[u] = false
        plan.inPlaceUpdates -= 1
        plan.copiedUpdates += 1
        readCache.removeAll()
        blockerCache.removeAll()
    }

    private func emitKernel(_ group: [Int]) {
        let (extents, parallel, map) = domainMap(group[0])
        if case .update(let base, let umap, let value) = nodes[group[0]].op {
            let u = group[0]
            let target = buffer(u)
            if fresh[u] {
                // Copy each base's values around the written box; the box itself is the value's.
                for f in group where !deadBorder.contains(f) && pingPong[f] == nil {
                    guard case .update(let fb, let fm, let fv) = nodes[f].op else { continue }
                    for box in Planner.complementBoxes(fm, base: fb.shape, value: fv.shape) ?? [] {
                        let rank = fb.shape.count
                        let boxMap = AffineMap(inRank: rank, outRank: rank, offset: box.start, coef: AffineMap.identity(rank).coef)
                        let border = KernelBuilder(extents: box.shape, parallel: rank, planner: self)
                        let v = border.value(of: fb, map: boxMap)
                        border.store(buffer(f), border.flat(boxMap, fb.shape), v, epilogue: false)
                        append(border, reductions: false)
                    }
                }
                if isPlaced(u) {
                    produced[u] = true
                    return
                }
            } else if inPlace[u] && isPlaced(u) {
                // The value's kernel wrote it into the base's buffer: nothing left to do.
                produced[u] = true
                return
            } else if !inPlace[u] {
                // Fill the fresh buffer with the base's values first.
                let copy = KernelBuilder(extents: base.shape, parallel: base.shape.count, planner: self)
                let v = copy.value(of: base, map: .identity(base.shape.count))
                copy.store(target, copy.flat(.identity(base.shape.count), base.shape), v, epilogue: false)
                append(copy, reductions: false)
            }
            let kb = KernelBuilder(extents: extents, parallel: parallel, planner: self, allowInline: false)
            let v = kb.value(of: value, map: map)
            kb.store(target, kb.flat(umap, base.shape), v, epilogue: false)
            kb.note(member: nodes[u])
            produced[u] = true
            for other in group.dropFirst() {
                guard case .update(let b2, let m2, let v2) = nodes[other].op else { continue }
                let value2 = kb.value(of: v2, map: map)
                kb.store(buffer(other), kb.flat(m2, b2.shape), value2, epilogue: false)
                kb.note(member: nodes[other])
                produced[other] = true
            }
            append(kb, reductions: false)
            return
        }
        let kb = KernelBuilder(extents: extents, parallel: parallel, planner: self)
        for i in group where !produced[i] {
            let node = nodes[i]
            if case .reduce(let op, let source, _) = node.op {
                let v = kb.value(of: source, map: map)
                let acc = kb.reduce(op, v, resultType: node.dtype, sourceType: source.dtype)
                let outMap = AffineMap(inRank: parallel, outRank: extents.count, offset: [Int](repeating: 0, count: parallel),
                                       coef: (0..<parallel).flatMap { d in (0..<extents.count).map { $0 == d ? 1 : 0 } })
                let (b, access) = location(i, outMap)
                kb.store(b, access, acc, epilogue: true)
                kb.note(member: node)
                produced[i] = true
            } else {
                produced[i] = true
                kb.produce(node, map: map, at: location(i, map))
            }
        }
        append(kb, reductions: true)
    }

    private func append(_ kb: KernelBuilder, reductions: Bool) {
        var (kernel, launch) = kb.finish()
        var chunks = 0
        if kernel.hasReductions {
            let p = (0..<kernel.parallelAxes).reduce(1) { $0 * launch.extent($1) }
            let r0 = kernel.reduceAxes > 0 ? launch.extent(kernel.parallelAxes) : 1
            let total = (0..<kernel.rank).reduce(1) { $0 * launch.extent($1) }
            if p <= Planner.maxSplitParallelPoints && r0 >= 2 {
                chunks = max(1, min(r0, min(64, total / 16384)))
                if chunks == 1 { chunks = 0 }
            }
        }
        if kernel.hasReductions && kernel.reduceAxes > 0 { kernel.entries = chunks > 0 ? .split : .rows }
        let points = (0..<kernel.rank).reduce(1) { $0 * launch.extent($1) }
        let next = PlannedKernel(kernel: kernel, launch: launch, fusedOps: kb.fused, splitChunks: chunks, points: points,
                                 memberIDs: Set(kb.members))
        if let last = plan.kernels.last, let stacked = Stacking.stack(last, next) {
            plan.kernels[plan.kernels.count - 1] = stacked
            plan.stackedKernels += 1
            return
        }
        plan.kernels.append(PlannedKernel(kernel: kernel, launch: launch, fusedOps: kb.fused, splitChunks: chunks, points: points,
                                          memberIDs: Set(kb.members)))
    }
}
