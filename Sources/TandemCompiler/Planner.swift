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

    public var readBuffers: [Buffer] { accessedBuffers.reads }
    public var writtenBuffers: [Buffer] { accessedBuffers.writes }

    /// The buffers read and the buffers written, in one pass and without intermediate arrays
    /// (asked for at every run of every kernel; `filter` then `map`, twice, cost about 4,000
    /// instructions a small kernel).
    public var accessedBuffers: (reads: [Buffer], writes: [Buffer]) {
        let params = kernel.buffers, bound = launch.buffers
        var reads: [Buffer] = [], writes: [Buffer] = []
        reads.reserveCapacity(params.count)
        for i in params.indices {
            if params[i].isRead { reads.append(bound[i]) }
            if params[i].isWritten { writes.append(bound[i]) }
        }
        return (reads, writes)
    }
}

/// What the runtime remembers about one kernel of a cached plan between the syncs that reuse
/// it (its placement decision): shared by every copy of the plan. Read and written under the
/// runtime's graph lock.
public final class KernelMemo: @unchecked Sendable {
    @exclusivity(unchecked) public var state: AnyObject?
    @exclusivity(unchecked) public var label: String?
    @exclusivity(unchecked) public var bytes: Int?
    /// The runtime's profile entry for this kernel's label (`Runtime.profile`).
    @exclusivity(unchecked) public var profileEntry: AnyObject?
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

    @exclusivity(unchecked) var nodes: [Node] = []
    @exclusivity(unchecked) var index: [ObjectIdentifier: Int] = [:]
    @exclusivity(unchecked) var uses: [Int] = []
    @exclusivity(unchecked) var consumersInPlan: [[Int]] = []
    @exclusivity(unchecked) var materialized: [Bool] = []
    @exclusivity(unchecked) var produced: [Bool] = []
    @exclusivity(unchecked) var buffers: [Buffer?] = []
    @exclusivity(unchecked) var inPlace: [Bool] = []
    /// The bases of the updates decided in place so far (`decideUpdate`), where each decision
    /// scanned every node for one (quadratic in a plan's updates).
    @exclusivity(unchecked) var inPlaceBases: Set<Int> = []
    /// Nodes stored by a kernel of their own, never computed inside a consumer's (depth bound).
    @exclusivity(unchecked) var cut: [Bool] = []
    /// Updates written into a fresh buffer: the value inside the view, the base's border around it.
    @exclusivity(unchecked) var fresh: [Bool] = []
    /// Fresh updates whose border needs no copy (see `decideDeadBorders`).
    @exclusivity(unchecked) var deadBorder: Set<Int> = []
    /// Fresh updates written into the buffer of their base's base (update -> that node), and
    /// the nodes whose buffers were so taken (left unrealised). See `decidePingPong`.
    @exclusivity(unchecked) var pingPong: [Int: Int] = [:]
    @exclusivity(unchecked) var taken: Set<Int> = []
    /// For each such update: the node whose kernel writes its values, and the other readers of
    /// the taken node (checked against the emitted order, `pingPongHolds`).
    @exclusivity(unchecked) var pingPongOrder: [(writer: Int, readers: [Int])] = []
    /// Off for the second plan made when the emitted order broke a ping-pong's condition.
    @exclusivity(unchecked) var allowPingPong = true
    /// Values computed straight into their update's fresh buffer: value index -> update index.
    @exclusivity(unchecked) var placement: [Int: Int] = [:]
    @exclusivity(unchecked) var roots: Set<Int> = []
    @exclusivity(unchecked) var plan = Plan()
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

    static let walks = Atomic<UInt64>(0)

    /// Every node the roots reach, each once, inputs before their consumers (the order every
    /// later pass and the plan cache's key use). Each node's `walkIndex` is its position when
    /// its `walkEpoch` is the returned epoch. Call under the graph lock.
    static func postorder(_ roots: [Node]) -> (nodes: [Node], epoch: UInt64) {
        let epoch = walks.add(1, ordering: .relaxed).newValue
        var nodes: [Node] = []
        nodes.reserveCapacity(64)
        // The work stack holds unretained references (the roots keep every node alive during
        // the walk), the low bit of each set once the node's inputs are on the stack: a stack
        // of (Node, Bool) retained and released every node twice and needed tuple metadata.
        var stack: [UInt] = []
        stack.reserveCapacity(64)
        @inline(__always) func bits(_ n: Node) -> UInt { UInt(bitPattern: Unmanaged.passUnretained(n).toOpaque()) }
        for r in roots { stack.append(bits(r)) }       // the same order as before: the last root first
        while let top = stack.popLast() {
            let node = Unmanaged<Node>.fromOpaque(UnsafeRawPointer(bitPattern: top & ~1)!).takeUnretainedValue()
            if top & 1 != 0 {
                node.walkIndex = nodes.count
                nodes.append(node)
                continue
            }
            if node.walkEpoch == epoch { continue }
            node.walkEpoch = epoch
            node.walkIndex = -1
            stack.append(top | 1)
            let op = node.op
            for i in 0..<op.inputCount {
                let input = op.input(i)
                if input.walkEpoch != epoch { stack.append(bits(input)) }
            }
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

    func collect(_ nodes: [Node], _ index: [ObjectIdentifier: Int]) {
        self.nodes = nodes
        self.index = index
        uses = [Int](repeating: 0, count: nodes.count)
        consumersInPlan = [[Int]](repeating: [], count: nodes.count)
        materialized = nodes.map { $0.storage != nil }
        produced = materialized
        buffers = nodes.map(\.storage)
        inPlace = [Bool](repeating: false, count: nodes.count)
        inPlaceBases = []
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

    func mark(_ node: Node) { materialized[index[ObjectIdentifier(node)]!] = true }

    @exclusivity(unchecked) var subtreeCost: [Int: Int] = [:]

    func decideMaterialization(_ i: Int) {
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
    func decideSharing() {
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
            // its size is computed once into its own small buffer; so is a costly one read a few
            // times over (`hoists`).
            if !materialized[i], isCompute(node), reach[i].contains(where: { Planner.hoists(cost: cost(i), points: $0.points, count: node.count) }) {
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

    /// Whether a node of fused cost `cost` (a transcendental is 4), `count` elements, that a
    /// kernel of `points` points reads through a broadcast is computed once into a buffer of its
    /// own instead of at every point: costing at least a transcendental (`hoistThreshold`) and
    /// broadcast over 8 times its size, or recomputed so often that the repeats cost more than
    /// a stencil may spend (`recomputeBudget` extra operations a point) and more than
    /// `hoistSavings` operations in all. A softmax regression's inputs, drawn by `normal`
    /// (about 26 operations an element) and read 5 times by `X @ W`, were drawn again for
    /// every column of every product of the first sync: 1.45 and 1.98 ms, 0.27 ms drawn once.
    /// A cheaper expression is recomputed however often it is read: Mandelbrot's grid
    /// coordinates (`arange(w) * dx - 2.2`, two operations), hoisted, made its deep unsynced
    /// graph plan 4x longer (16 -> 61 ms).
    static func hoists(cost: Int, points: Int, count: Int) -> Bool {
        let n = max(count, 1)
        guard cost >= hoistThreshold else { return false }
        if points >= 8 * n { return true }
        let repeats = points / n - 1
        return repeats >= 1 && cost * repeats >= recomputeBudget && cost * (points - n) >= hoistSavings
    }

    /// Operations a hoist must save at least (see `hoists`): below that, its kernel and buffer
    /// cost more than the repeats. At 2^16, the probe N-body's `mass / (r2 * sqrt(r2))` (64
    /// bodies, about 10 operations a pair, read 3 times) was hoisted and the program ran 10%
    /// slower: vectorised, the repeats cost less than the kernel's launch.
    static let hoistSavings = 1 << 18

    /// Whether a shared value read by one kernel through shifted views of it (a stencil over a
    /// computed field: shallow water's half-step faces) is cheaper recomputed at each shift than
    /// stored and read back. Recomputing costs `cost` more operations per extra shift; storing
    /// costs a write, its read for ownership and a read per point of memory traffic, and the
    /// kernel that stores it can no longer run in place over what it reads, so its reader must
    /// wait. Measured on shallow_water (2 cores, double, n = 2048): the two face kernels and the
    /// update took 0.55 s for 50 steps as hand-written C, one fused kernel recomputing the faces
    /// 0.32 s. Reads from other kernels, or through maps that are not translations of each other
    /// (broadcasts, transposes), keep the stored value.
    func recomputedInStencil(_ cost: Int, _ reaches: [(domain: ReachDomain, map: AffineMap)]) -> Bool {
        guard let first = reaches.first, reaches.count <= Planner.maxStencilShifts,
              cost * (reaches.count - 1) <= Planner.recomputeBudget else { return false }
        return reaches.allSatisfy { $0.domain == first.domain && $0.map.inRank == first.map.inRank && $0.map.coef == first.map.coef }
    }

    /// Operations in the fused subtree of node i, each shared node counted once (views and
    /// leaves are free), up to `costCap`: the thresholds it is compared with are far below it.
    /// A diamond ladder (`z = z * z`, 64 times) has 2^64 paths but 64 nodes; summing per path
    /// overflowed. The walk is iterative and visits at most `costCap * 16` nodes, so its price
    /// per node is bounded whatever the graph.
    func cost(_ i: Int) -> Int {
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
    static func opCost(_ op: Node.Op) -> Int {
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
    ///   Unless its history costs `costCap` operations a point or more: then the store costs a
    ///   few percent of computing it, and a later read would recompute all of it in a kernel
    ///   of its own, compiled for that read alone (fir_filter's 101-tap sum, computed for its
    ///   error and then again for its sum: a second 0.33 s compile in its first run).
    ///   Recomputing is also kept for cheap values (a view, a single operation on stored data),
    ///   for generators (`uniform`, `arange`), whose price does not grow, and for values larger
    ///   than anything they read (a pairwise `dx` broadcast from two vectors: storing N x N for
    ///   N inputs is what fusion avoids).
    func decideDepthAndKeep() {
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
            } else if !materialized[i], isCompute(node), !node.op.inputs.isEmpty, node.count <= widest[i],
                      node.holders.load(ordering: .relaxed) > 0,
                      recomputes[i] ? cost(i) >= Planner.keepThreshold : cost(i) >= Planner.costCap {
                materialized[i] = true
                plan.keptNodes += 1
            }
        }
        subtreeCost.removeAll()
    }

    /// Nodes that compute values (views and fills are index maps and constants: never stored for reuse).
    func isCompute(_ node: Node) -> Bool {
        switch node.op {
        case .unary, .binary, .select, .cast, .uniform, .iota, .gather: true
        default: false
        }
    }

    func isElementwise(_ node: Node) -> Bool {
        switch node.op {
        case .unary, .binary, .select, .cast, .view, .uniform, .iota, .fill, .gather: true
        default: false
        }
    }

    // MARK: - Scheduling

    func kind(_ i: Int) -> Kind {
        switch nodes[i].op {
        case .reduce(_, let source, let axes): .reduce(source: source.shape, axes: axes)
        case .update: .update
        default: .map(shape: nodes[i].shape)
        }
    }

    /// The map from node i's kernel domain to its source (reductions) or itself.
    func domainMap(_ i: Int) -> (extents: [Int], parallel: Int, map: AffineMap) {
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
    @exclusivity(unchecked) var blockerCache: [Int: [Int]] = [:]

    func cachedBlockers(_ i: Int) -> [Int] {
        if let b = blockerCache[i] { return b }
        let b = blockers(i)
        blockerCache[i] = b
        return b
    }

    func blockers(_ i: Int) -> [Int] {
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
                for r in readers(of: b) where r != i && materialized[r] && nodes[r].storage == nil { out.insert(r) }
            }
        default: go(node, map, top: true)
        }
        // A value computed straight into the buffer of an in-place update writes its base:
        // the base first, and every other kernel reading the old version, as for the update.
        if let u = placement[i], inPlace[u], let b = baseIndex(of: u) {
            if nodes[b].storage == nil { out.insert(b) }
            for r in readers(of: b) where r != i && r != u && materialized[r] && nodes[r].storage == nil { out.insert(r) }
        }
        out.remove(i)
        return Array(out)
    }

    /// How an index map reaches a node's inputs: a view composes its map, a reshape is not affine
    /// in the index (nil), every other operation reads its inputs at the same index.
    func inputMaps(_ n: Node, _ m: AffineMap?) -> [(node: Node, map: AffineMap?)] {
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

    @exclusivity(unchecked) var readCache: [Int: Set<Int>] = [:]

    /// The materialised kernels (not yet stored) that read node b directly: `readSet` inverted
    /// once for all of them, where each in-place update's blockers scanned every node (a plan
    /// of 3,000 small updates spent most of its time there: quadratic in its kernels).
    @exclusivity(unchecked) var readersIndex: [Int: [Int]]?

    func readers(of b: Int) -> [Int] {
        if readersIndex == nil {
            var index: [Int: [Int]] = [:]
            for r in nodes.indices where materialized[r] && nodes[r].storage == nil {
                for x in readSet(r) { index[x, default: []].append(r) }
            }
            readersIndex = index
        }
        return readersIndex![b] ?? []
    }

    /// The materialised nodes r's kernel reads directly.
    func readSet(_ r: Int) -> Set<Int> {
        if let s = readCache[r] { return s }
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
        return s
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
    func location(_ i: Int, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess) {
        if let u = placement[i], case .update(let base, let umap, _) = nodes[u].op {
            return (buffer(u), flat(umap.composed(with: map), base.shape))
        }
        return (buffer(i), flat(map, nodes[i].shape))
    }

    func buffer(_ i: Int) -> Buffer {
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

    func schedule() {
        var pending = nodes.indices.filter { materialized[$0] && !produced[$0] }
        // Readiness kept up to date as nodes are produced, instead of asking every pending node
        // again after each kernel (quadratic in a plan's kernels: a plan of 8,000 small updates
        // spent most of its time there): a node that is not ready waits on its blockers not yet
        // produced, and is asked again when one of them is.
        var isReadyNow = [Bool](repeating: false, count: nodes.count)
        var waiters = [[Int]](repeating: [], count: nodes.count)
        func evaluate(_ i: Int) {
            let missing = cachedBlockers(i).filter { !produced[$0] }
            if missing.isEmpty { isReadyNow[i] = true } else { for m in missing { waiters[m].append(i) } }
        }
        func evaluateAll() {
            isReadyNow = [Bool](repeating: false, count: nodes.count)
            waiters = [[Int]](repeating: [], count: nodes.count)
            for i in pending { evaluate(i) }
        }
        evaluateAll()
        inliners = nil
        while !pending.isEmpty {
            let ready = pending.filter { isReadyNow[$0] }
            // Prefer a node that no pending consumer will compute inline anyway.
            let pick = ready.first { !willBeInlined($0, pending: pending) } ?? ready.first
            guard let first = pick else {
                demoteAnInPlaceUpdate(pending)
                evaluateAll()
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
            var done: [Int] = []
            pending.removeAll { i in
                if produced[i] { done.append(i) }
                return produced[i]
            }
            for d in done {
                isReadyNow[d] = false
                let w = waiters[d]
                waiters[d] = []
                for i in w where !produced[i] && !isReadyNow[i] {
                    if cachedBlockers(i).allSatisfy({ produced[$0] }) { isReadyNow[i] = true }
                }
            }
        }
    }

    /// Whether update u's value is computed straight into u's fresh buffer by a kernel of its own.
    func isPlaced(_ u: Int) -> Bool {
        guard case .update(_, _, let value) = nodes[u].op else { return false }
        return placement[index[ObjectIdentifier(value)]!] == u
    }

    /// For each kernel-forming node, the materialised elementwise nodes its kernel would compute
    /// inline. The walk stops at every materialised node, so it does not change as nodes are
    /// produced and is computed once per node.
    @exclusivity(unchecked) var inlineTargets: [Int: Set<Int>] = [:]

    func targets(_ c: Int) -> Set<Int> {
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

    /// For each node, the kernel-forming nodes pending when scheduling began whose kernels
    /// would compute it inline (`targets` inverted once: asking every pending node for each
    /// candidate was quadratic in a plan's kernels). Pending nodes only leave, by being produced.
    @exclusivity(unchecked) var inliners: [Int: [Int]]?

    /// Whether a pending consumer's kernel will compute node i inline (so i needs no kernel).
    func willBeInlined(_ i: Int, pending: [Int]) -> Bool {
        guard isElementwise(nodes[i]) else { return false }
        if inliners == nil {
            var index: [Int: [Int]] = [:]
            for c in pending { for t in targets(c) { index[t, default: []].append(c) } }
            inliners = index
        }
        return (inliners![i] ?? []).contains { $0 != i && !produced[$0] }
    }

    /// Breaks a cycle of in-place updates waiting on each other's readers by copying one base.
    func demoteAnInPlaceUpdate(_ pending: [Int]) {
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
        readersIndex = nil
        blockerCache.removeAll()
    }

    func emitKernel(_ group: [Int]) {
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

    func append(_ kb: KernelBuilder, reductions: Bool) {
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
