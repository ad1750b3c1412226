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
        if kernel.isSequence { return "seq\(kernel.stages.count)(\(ops))" }
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

    private var countBytes: Int { PlannedKernel.bytes(kernel, launch) }

    private static func bytes(_ kernel: Kernel, _ launch: Launch) -> Int {
        if kernel.isSequence { return kernel.stages.reduce(0) { $0 + bytes($1.kernel, launch.stage($1)) } }
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

    /// The extents of each stage of a sequence kernel (its launch's first ints; empty for
    /// another kernel).
    public var stageExtents: [[Int]] {
        kernel.stages.map { s in (0..<s.kernel.rank).map { Int(launch.ints[s.intOffset + $0]) } }
    }

    /// The domain points of each stage of a sequence kernel (empty for another kernel).
    public var stagePoints: [Int] { stageExtents.map { $0.reduce(1, *) } }

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
    /// Set by a run (on any thread) that took far longer than its decision predicted: the
    /// decision in `state` is not reused again (`Runtime.reusedMemo`).
    public let mispredicted = Atomic<Bool>(false)
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
    /// Reductions computed in their consumer's kernel, in its epilogue (`Planner.decideEpilogues`).
    public var fusedEpilogues = 0
    /// Kernels run as stages of sequence kernels (`Planner.formSequences`).
    public var sequencedKernels = 0
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
    /// Steps of the walks that find what each kernel waits for (`Planner.blockers`): about
    /// linear in the graph, not in kernels times the chain below each.
    public var blockerSteps = 0
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
        case reduce(source: [Int], axes: [Int], layout: ReduceLayout)
        case update
    }

    /// How a reduction reads the arrays that differ between its outputs (`reduceLayout`): along
    /// its reduce axis (rows), down it with the outputs side by side (columns), or neither.
    /// Reductions over one domain share a kernel only when their layouts agree.
    enum ReduceLayout: Hashable { case rows, columns, other }
    /// `reduceLayout` by node position, for this plan.
    @exclusivity(unchecked) var layoutCache: [Int: ReduceLayout] = [:]

    @exclusivity(unchecked) var nodes: [Node] = []
    /// The walk (`postorder`) that ordered `nodes`: a node's position is its `walkIndex` while
    /// its `walkEpoch` is this (the walk marks them; no table of positions is made, where the
    /// table's hashing was a tenth of planning a new graph).
    @exclusivity(unchecked) var epoch: UInt64 = 0
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
    /// Whether consecutive small kernels are merged into sequence kernels (`formSequences`):
    /// only for a sync whose kernels run on the host (a sequence has no accelerator form).
    public let sequences: Bool
    /// Values computed straight into their update's fresh buffer: value index -> update index.
    @exclusivity(unchecked) var placement: [Int: Int] = [:]
    /// Reductions computed in the epilogue of a consumer's kernel (`decideEpilogues`): kernel
    /// node -> its reductions.
    @exclusivity(unchecked) var fusedReductions: [Int: [Int]] = [:]
    @exclusivity(unchecked) var roots: Set<Int> = []
    @exclusivity(unchecked) var plan = Plan()

    // Memos of the passes in Planner+Sharing.swift and Planner+Schedule.swift (stored
    // properties cannot live in their extensions).
    /// `cost(i)` once computed, -1 before (emptied when what is materialised changes).
    @exclusivity(unchecked) var subtreeCost: [Int] = []
    @exclusivity(unchecked) var costMarks: [UInt32] = []
    @exclusivity(unchecked) var costStamp: UInt32 = 0
    /// Materialised nodes that must be produced before node i's kernel can run, computed once as
    /// if nothing were produced (producing a node only removes it and what it stood for).
    @exclusivity(unchecked) var blockerCache: [Int: [Int]] = [:]
    @exclusivity(unchecked) var readCache: [Int: Set<Int>] = [:]
    /// The materialised kernels (not yet stored) that read node b directly: `readSet` inverted
    /// once for all of them, where each in-place update's blockers scanned every node (a plan
    /// of 3,000 small updates spent most of its time there: quadratic in its kernels).
    @exclusivity(unchecked) var readersIndex: [Int: [Int]]?
    /// For each kernel-forming node, the materialised elementwise nodes its kernel would compute
    /// inline. The walk stops at every materialised node, so it does not change as nodes are
    /// produced and is computed once per node.
    @exclusivity(unchecked) var inlineTargets: [Int: Set<Int>] = [:]
    /// For each node, the kernel-forming nodes pending when scheduling began whose kernels
    /// would compute it inline (`targets` inverted once: asking every pending node for each
    /// candidate was quadratic in a plan's kernels). Pending nodes only leave, by being produced.
    @exclusivity(unchecked) var inliners: [Int: [Int]]?

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

    /// Materialised nodes a kernel's blocker walk passes through on the way down (each one the
    /// kernel could compute inline at its own index); a node deeper than that is waited for
    /// instead (`blockers`).
    static let maxInlineHops = 2
    /// Where `cost` stops counting.
    static let costCap = 64

    public init(sequences: Bool = false) { self.sequences = sequences }

    /// Plans everything the roots need that is not yet materialised.
    public func plan(roots: [Node]) -> Plan {
        let (nodes, epoch) = Planner.postorder(roots)
        return plan(roots: roots, nodes: nodes, epoch: epoch)
    }

    /// Plans with the graph already walked by `postorder` (the plan cache walks it for its key).
    func plan(roots: [Node], nodes: [Node], epoch: UInt64) -> Plan {
        collect(nodes, epoch)
        plan.nodeCount = nodes.count
        for r in roots { mark(r) }
        self.roots = Set(roots.map { position($0)! })
        for i in nodes.indices { decideMaterialization(i) }
        decideDepthAndKeep()
        decideSharing()
        for i in nodes.indices { if case .update = nodes[i].op { decideUpdate(i) } }
        decideDeadBorders()
        if allowPingPong { decidePingPong() }
        decideEpilogues()
        schedule()
        if !pingPongOrder.isEmpty && !pingPongHolds() {
            let again = Planner(sequences: sequences)
            again.allowPingPong = false
            return again.plan(roots: roots, nodes: nodes, epoch: epoch)
        }
        plan.unstored = nodes.indices.filter { (!materialized[$0] && isCompute(nodes[$0])) || taken.contains($0) }.map { nodes[$0] }
        for i in nodes.indices where materialized[i] && nodes[i].storage == nil && !taken.contains(i) {
            if let u = placement[i], case .update(_, let umap, _) = nodes[u].op {
                plan.realizedViews.append((nodes[i], nodes[u], umap))
            } else {
                plan.realized.append((nodes[i], buffers[i]!))
            }
        }
        let bytes = plan.kernels.map(\.bytesAccessed)
        var i = 0
        while i < plan.kernels.count {
            guard let chain = Lagging.chain(plan.kernels[i...], bytes: bytes[i...]) else { i += 1; continue }
            plan.kernels[i].lagChain = chain
            plan.laggedChains += 1
            i += chain.count
        }
        if sequences { formSequences() }
        for k in plan.kernels.indices { plan.kernels[k].kernel = plan.kernels[k].kernel.interned() }
        PlanRecorder.active?.record(plan.kernels)
        return plan
    }

    // MARK: - Collection

    /// Every node the roots reach, each once, inputs before their consumers (the order every
    /// later pass and the plan cache's key use). Each node's `walkIndex` is its position when
    /// its `walkEpoch` is the returned epoch. Call under the graph lock.
    static func postorder(_ roots: [Node]) -> (nodes: [Node], epoch: UInt64) {
        let epoch = Node.newWalkEpoch()
        var nodes: [Node] = []
        nodes.reserveCapacity(64)
        // The work stack holds unretained references (the roots keep every node alive during
        // the walk), the low bit of each set once the node's inputs are on the stack: a stack
        // of (Node, Bool) retained and released every node twice and needed tuple metadata. It
        // lives on the caller's stack while it is short (a small sync's walk allocated it).
        withUnsafeTemporaryAllocation(of: UInt.self, capacity: 256) { room in
            var count = 0
            var spill: [UInt] = []
            func push(_ v: UInt) {
                if count < room.count { room[count] = v; count += 1 } else { spill.append(v) }
            }
            func pop() -> UInt? {
                if let v = spill.popLast() { return v }
                guard count > 0 else { return nil }
                count -= 1
                return room[count]
            }
            for r in roots { push(Node.bits(r)) }       // the same order as before: the last root first
            while let top = pop() {
                let node = Node.unretained(top)
                if top & 1 != 0 {
                    node.walkIndex = nodes.count
                    nodes.append(node)
                    continue
                }
                if node.walkEpoch == epoch { continue }
                node.walkEpoch = epoch
                node.walkIndex = -1
                push(top | 1)
                let op = node.op
                for i in 0..<op.inputCount {
                    let input = op.input(i)
                    if input.walkEpoch != epoch { push(Node.bits(input)) }
                }
            }
        }
        return (nodes, epoch)
    }

    /// Node n's position in `nodes`, or nil when the walk did not reach it.
    @inline(__always) func position(_ n: Node) -> Int? { Planner.position(n, epoch: epoch) }

    /// Node n's position in the order of the walk `epoch`, or nil when that walk did not reach it.
    @inline(__always) static func position(_ n: Node, epoch: UInt64) -> Int? { n.walkEpoch == epoch ? n.walkIndex : nil }

    func collect(_ nodes: [Node], _ epoch: UInt64) {
        self.nodes = nodes
        self.epoch = epoch
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
                let j = position(input)!
                uses[j] += 1
                consumersInPlan[j].append(i)
            }
        }
    }

    func mark(_ node: Node) { materialized[position(node)!] = true }

    func decideMaterialization(_ i: Int) {
        let node = nodes[i]
        switch node.op {
        case .reduce: materialized[i] = true
        case .update:
            // A base that is an unrealised expression used only here is computed straight into the
            // update's buffer (see decideUpdate), so it is not materialised on its own.
            materialized[i] = true
        case .reshape(let source):
            let j = position(source)!
            switch source.op {
            case .storage, .fill, .uniform, .iota: break
            default: materialized[j] = true
            }
        case .gather(let source, _, _):
            // Read at data-dependent positions: it must be in a buffer of its own.
            if source.storage == nil { materialized[position(source)!] = true }
        default: break
        }
    }
}
