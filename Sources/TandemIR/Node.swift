import Synchronization

/// One node of the lazy graph: an operation, its element type and shape.
///
/// Nodes are built by the public API and never do work. A sync point plans the pending nodes into
/// kernels; every node the plan materialises is then *realised*: its operation is replaced by
/// `.storage(buffer)` and it lets go of its inputs, so the graph behind a live tensor stays short.
///
/// `holders` counts the tensor values that name this node; `consumers` counts the nodes that take it
/// as an input. The planner uses both to decide whether an update may overwrite a buffer in place.
public final class Node: @unchecked Sendable {
    public indirect enum Op: Sendable {
        /// Materialised elements, row-major.
        case storage(Buffer)
        /// Every element equals the value (a kernel parameter, so kernels are reused across values).
        case fill(Literal)
        /// Counter-based uniform numbers: element i is `lo + (hi - lo) * u(seed, i)` (SplitMix64).
        case uniform(seed: UInt64, lo: Double, hi: Double)
        /// `start + step * i` for flat index i, computed in the element type (floats via double).
        case iota(start: Literal, step: Literal)
        case unary(UnaryOp, Node)
        /// Operands have the node's shape (broadcasting is a view) and the same type.
        case binary(BinaryOp, Node, Node)
        /// `condition ? a : b`; all three have the node's shape.
        case select(Node, Node, Node)
        /// Conversion to the node's type.
        case cast(Node)
        /// A view: element `j` of this node is element `map(j)` of the source.
        case view(Node, AffineMap)
        /// The source's elements in row-major order, in the node's shape.
        case reshape(Node)
        /// Reduction of the source over `axes` (sorted); the node's shape is the source's without them.
        case reduce(ReduceOp, Node, axes: [Int])
        /// The base with `value` written at `map(j)` for each index `j` of the value.
        case update(base: Node, map: AffineMap, value: Node)
        /// `source` indexed along `axis` by the integer tensor `index`: the node's shape is
        /// `source.shape[..<axis] + index.shape + source.shape[(axis + 1)...]`, and element
        /// `(p, q, r)` is `source[p, index[q], r]` (`numpy.take`). Negative indices count from the
        /// end; indices still outside the axis are clamped into it (no read outside the source).
        case gather(source: Node, index: Node, axis: Int)

        /// Calls `body` with each input, in `inputs` order, without building an array (nodes
        /// are made and freed by the thousand a second).
        @inline(__always)
        public func forEachInput(_ body: (Node) -> Void) {
            switch self {
            case .storage, .fill, .uniform, .iota: break
            case .unary(_, let a), .cast(let a), .view(let a, _), .reshape(let a), .reduce(_, let a, _): body(a)
            case .binary(_, let a, let b): body(a); body(b)
            case .select(let c, let a, let b): body(c); body(a); body(b)
            case .update(let base, _, let value): body(base); body(value)
            case .gather(let source, let index, _): body(source); body(index)
            }
        }

        /// How many inputs the operation takes (`input(_:)` gives each without a closure or an
        /// array, for the planner's walks).
        @inline(__always)
        public var inputCount: Int {
            switch self {
            case .storage, .fill, .uniform, .iota: 0
            case .unary, .cast, .view, .reshape, .reduce: 1
            case .binary, .update, .gather: 2
            case .select: 3
            }
        }

        /// Input `i` (`0 ..< inputCount`), in `inputs` order.
        @inline(__always)
        public func input(_ i: Int) -> Node {
            switch self {
            case .storage, .fill, .uniform, .iota: preconditionFailure("no inputs")
            case .unary(_, let a), .cast(let a), .view(let a, _), .reshape(let a), .reduce(_, let a, _): return a
            case .binary(_, let a, let b): return i == 0 ? a : b
            case .select(let c, let a, let b): return i == 0 ? c : i == 1 ? a : b
            case .update(let base, _, let value): return i == 0 ? base : value
            case .gather(let source, let index, _): return i == 0 ? source : index
            }
        }

        public var inputs: [Node] {
            switch self {
            case .storage, .fill, .uniform, .iota: []
            case .unary(_, let a), .cast(let a), .view(let a, _), .reshape(let a), .reduce(_, let a, _): [a]
            case .binary(_, let a, let b): [a, b]
            case .select(let c, let a, let b): [c, a, b]
            case .update(let base, _, let value): [base, value]
            case .gather(let source, let index, _): [source, index]
            }
        }
    }

    public let id: UInt64
    public let dtype: DType
    public let shape: [Int]
    /// The operation. Read and replaced only under the runtime's graph lock once the node is shared.
    ///
    /// Fields read at every step of the planner's walks are kept where Swift does not check
    /// them for exclusive access at run time (about 75 instructions an access, a tenth of a
    /// small step's time; the graph lock already orders every access): this one in
    /// `@exclusivity(unchecked)` storage behind a computed property, the walk's scratch and
    /// `computedWithoutStore` in atomics. The attribute on a public stored property is not
    /// honoured by accesses from another module.
    public private(set) var op: Op {
        @inline(__always) get { storedOp }
        @inline(__always) set { storedOp = newValue }
    }
    @exclusivity(unchecked) private nonisolated(unsafe) var storedOp: Op
    /// Set when a sync computed this node inside a kernel without storing it: a later plan that
    /// computes it again is recomputing history (see `Planner.decideDepthAndKeep`). Read and
    /// written only under the runtime's graph lock.
    public var computedWithoutStore: Bool {
        get { computedWithoutStoreFlag.load(ordering: .relaxed) }
        set { computedWithoutStoreFlag.store(newValue, ordering: .relaxed) }
    }
    private let computedWithoutStoreFlag = Atomic<Bool>(false)
    /// Scratch of the walks over the graph (the planner's `Planner.postorder` and
    /// `recountPendingDepth`, under the graph lock): the walk that last reached this node, and
    /// the node's position in the planner's order (-1 while it is being visited). Marking nodes
    /// in place costs no table: the walks run at every sync.
    public var walkEpoch: UInt64 {
        get { walkEpochStore.load(ordering: .relaxed) }
        set { walkEpochStore.store(newValue, ordering: .relaxed) }
    }
    public var walkIndex: Int {
        get { walkIndexStore.load(ordering: .relaxed) }
        set { walkIndexStore.store(newValue, ordering: .relaxed) }
    }
    // Kept in atomics (plain loads and stores when relaxed): a stored `var` is checked for
    // exclusive access at every access from another module, whatever its attributes say.
    private let walkEpochStore = Atomic<UInt64>(0)
    private let walkIndexStore = Atomic<Int>(0)
    /// Tensor values naming this node.
    public let holders = Atomic<Int>(0)
    /// Nodes taking this node as an input.
    public let consumers = Atomic<Int>(0)

    /// Bytes of stored nodes that no tensor names any more while pending nodes still read them:
    /// buffers only pending graphs keep alive (`countOrphaned`). A gauge read at every node
    /// made, so that the walk that finds which graph holds them (`Runtime.relievePinnedMemory`)
    /// runs only when there is something to find.
    public static let orphanedBytes = Atomic<Int>(0)
    /// What this node adds to `orphanedBytes` (0: nothing).
    private let orphanBytes = Atomic<Int>(0)

    /// Sets what this node adds to `orphanedBytes`: its buffer's bytes when the last tensor
    /// naming it lets go while pending nodes read it, 0 when a tensor names it again; freed,
    /// it adds nothing.
    public func countOrphaned(_ bytes: Int) {
        let old = orphanBytes.exchange(bytes, ordering: .relaxed)
        if bytes != old { Node.orphanedBytes.add(bytes &- old, ordering: .relaxed) }
    }

    /// Whether this node counts in `orphanedBytes`.
    public var isCountedOrphan: Bool { orphanBytes.load(ordering: .relaxed) != 0 }

    /// The bytes of this node's buffer while it is stored, else 0: readable without the graph
    /// lock (a tensor let go on one thread while another's sync realises the node), unlike `op`.
    public var storedBytes: Int { storedBytesStore.load(ordering: .relaxed) }
    private let storedBytesStore = Atomic<Int>(0)
    private func noteStorage() {
        if case .storage(let b) = storedOp { storedBytesStore.store(b.byteCount, ordering: .relaxed) } else { storedBytesStore.store(0, ordering: .relaxed) }
    }

    private static let nextID = Atomic<UInt64>(1)
    /// The id the next node made will get at the earliest: every node made after this call has
    /// an id at least this (ids only grow), every node made before, a smaller one.
    public static var nextIDLowerBound: UInt64 { nextID.load(ordering: .relaxed) }

    public init(_ op: Op, dtype: DType, shape: [Int]) {
        self.storedOp = op
        self.dtype = dtype
        self.shape = shape
        self.id = Node.nextID.add(1, ordering: .relaxed).oldValue
        var depth = 0
        op.forEachInput { depth = max(depth, $0.pendingDepth + 1) }
        pendingDepthStore = Atomic(depth)
        Node.retain(op)
        noteStorage()
    }

    /// The longest chain of pending operations below this node (0 for stored data and
    /// generators; reset to 0 when the node is realised). The runtime flushes a graph whose
    /// chains grow past a bound without a sync (`Runtime.flushDepth`).
    public var pendingDepth: Int { pendingDepthStore.load(ordering: .relaxed) }
    private let pendingDepthStore: Atomic<Int>

    /// Recounts `pendingDepth` from the operations below as they are now, storing each pending
    /// node's recount on the way, and returns this node's. A depth is counted when a node is
    /// made, and a sync since then may have realised the chain's lower part: a training loop's
    /// weights, `w = w - rate * gradient(w)`, are computed at each epoch's sync of the loss,
    /// after the next epoch's `w` was built on them, so counted at creation their depth grew by
    /// an epoch's chain every epoch and reached the flush bound every ten epochs (a flush that
    /// cut the loop at a second place: plans that differ from the loop's, compiled again).
    /// Counts are upper bounds (realising only shortens chains), so only inputs counted deeper
    /// than 0 are visited, each once, without recursion. Call under the runtime's graph lock.
    ///
    /// The walk marks the nodes it visits with a fresh `walkEpoch` (no table) and keeps them in
    /// a stack of unretained references (this node keeps them alive), as the planner's walk
    /// does. A node a recount marked since the graph last changed (`exactSince`) holds its exact
    /// depth and is not walked again: a loop that cuts its chains for depth recounts at every
    /// step past the bound, and walking the whole pending chain each time was quadratic in the
    /// steps between cuts (a tenth of a 1-D stencil's run).
    public func recountPendingDepth() -> Int {
        let floor = Node.exactSince.load(ordering: .relaxed)
        if walkEpoch >= floor { return pendingDepth }
        let epoch = Node.walks.add(1, ordering: .relaxed).newValue
        var stack: [UInt] = [Node.bits(self)]
        stack.reserveCapacity(64)
        while let top = stack.popLast() {
            let node = Node.unretained(top)
            if top & 1 != 0 {
                // Inputs visited in this walk, or exact since, hold their recounts; the others
                // (stored data, generators) 0.
                var d = 0
                node.op.forEachInput { d = max(d, $0.pendingDepth + 1) }
                node.pendingDepthStore.store(d, ordering: .relaxed)
                continue
            }
            if node.walkEpoch == epoch { continue }
            node.walkEpoch = epoch
            stack.append(top | 1)
            node.op.forEachInput { input in
                if input.pendingDepth > 0 && input.walkEpoch < floor { stack.append(Node.bits(input)) }
            }
        }
        return pendingDepth
    }

    /// A fresh mark for a walk over the graph (`walkEpoch`) other than a depth recount's; walks
    /// run under the graph lock. The planner's marks say nothing of depths: they end every
    /// recount's marks' claim to be exact, as a change to the graph does (`realize`).
    public static func newWalkEpoch() -> UInt64 {
        let epoch = walks.add(1, ordering: .relaxed).newValue
        exactSince.max(epoch + 1, ordering: .relaxed)
        return epoch
    }
    private static let walks = Atomic<UInt64>(0)
    /// Walk marks from this one on are recounts' made since the graph last changed: their
    /// nodes' depths are exact.
    private static let exactSince = Atomic<UInt64>(1)
    /// Ends the claim of the recounts so far that their depths are exact (a node was realised:
    /// the chains above it are shorter now).
    private static func graphChanged() { exactSince.max(walks.load(ordering: .relaxed) + 1, ordering: .relaxed) }
    /// A node as a stack entry of a walk: its unretained address, the low bit free for a flag.
    @inline(__always) public static func bits(_ n: Node) -> UInt { UInt(bitPattern: Unmanaged.passUnretained(n).toOpaque()) }
    /// The node of a walk's stack entry (`bits`), the flag bit cleared.
    @inline(__always) public static func unretained(_ bits: UInt) -> Node {
        Unmanaged<Node>.fromOpaque(UnsafeRawPointer(bitPattern: bits & ~1)!).takeUnretainedValue()
    }

    /// Releases the operation's inputs without recursion: a chain of thousands of unplanned
    /// nodes (a loop that never syncs) would otherwise free itself one nested `deinit` per node
    /// and overflow the stack. Inputs this node was the last owner of are taken apart here,
    /// their own inputs moved to a work list, so every `deinit` below finds no inputs. The list
    /// lives on the stack while it is short (nodes are freed by the thousand a second, and two
    /// arrays a node cost a small step more than its kernels).
    deinit {
        let orphaned = orphanBytes.load(ordering: .relaxed)
        if orphaned != 0 { Node.orphanedBytes.subtract(orphaned, ordering: .relaxed) }
        Node.release(op)
        // Only an input nothing else names can be freed with this node (a consumer holds its
        // inputs, a tensor its node): without one, there is nothing to take apart.
        var mayFree = false
        op.forEachInput { if $0.consumers.load(ordering: .relaxed) == 0 && $0.holders.load(ordering: .relaxed) == 0 { mayFree = true } }
        guard mayFree else { return }
        withUnsafeTemporaryAllocation(of: Node.self, capacity: FreeList.inline) { room in
            var list = FreeList(room)
            op.forEachInput { list.push($0) }
            op = Node.takenApart
            while var node = list.pop() {
                guard isKnownUniquelyReferenced(&node) else { continue }
                node.op.forEachInput { list.push($0) }
                Node.release(node.op)
                node.op = Node.takenApart
            }
        }
    }

    /// The operation of a node taken apart: one shared value (`Op` is indirect, so a fresh
    /// `.fill` here would allocate a box for every node freed).
    private static let takenApart: Op = .fill(.int(0))

    /// A stack of nodes to take apart: in `room` (on the caller's stack) up to its capacity,
    /// then in an array.
    private struct FreeList {
        static let inline = 32
        let room: UnsafeMutableBufferPointer<Node>
        var count = 0
        var spill: [Node] = []

        init(_ room: UnsafeMutableBufferPointer<Node>) { self.room = room }

        mutating func push(_ n: Node) {
            if count < room.count {
                (room.baseAddress! + count).initialize(to: n)
                count += 1
            } else {
                spill.append(n)
            }
        }

        /// The last node pushed, moved out (the list keeps no reference); nil when empty.
        mutating func pop() -> Node? {
            if let n = spill.popLast() { return n }
            guard count > 0 else { return nil }
            count -= 1
            return (room.baseAddress! + count).move()
        }
    }

    /// A digest of what made this node: its operation (and operator), type and shape, and its
    /// inputs' operations, types and shapes, not any value. The same statement of a loop's body
    /// makes nodes of one signature at every iteration (while its inputs are computed in the
    /// same iteration, as they usually are); `Runtime.relieveDepth` cuts a loop without syncs
    /// at such a statement each time, so the graphs between cuts repeat.
    public var localSignature: UInt64 {
        var h = FNV1a.mix(FNV1a.basis, Node.opCode(op))
        h = FNV1a.mix(FNV1a.mix(h, Int(dtype.rawValue)), shape)
        op.forEachInput { input in
            h = FNV1a.mix(FNV1a.mix(FNV1a.mix(h, Node.opCode(input.op)), Int(input.dtype.rawValue)), input.shape.count)
            h = FNV1a.mix(h, input.shape)
        }
        return h
    }

    /// The operation's kind and operator as one word (no `Hasher`: computed for every value made
    /// past the flush bound).
    private static func opCode(_ op: Op) -> Int {
        switch op {
        case .storage: 1
        case .fill: 2
        case .uniform: 3
        case .iota: 4
        case .unary(let u, _): 5 &+ 16 &* u.ordinal
        case .binary(let b, _, _): 6 &+ 16 &* b.ordinal
        case .select: 7
        case .cast: 8
        case .view(_, let map): 9 &+ 16 &* Int(truncatingIfNeeded: map.digest)
        case .reshape: 10
        case .reduce(let r, _, let axes): 11 &+ 16 &* Int(truncatingIfNeeded: FNV1a.mix(FNV1a.mix(FNV1a.basis, r.ordinal), axes))
        case .update(_, let map, _): 12 &+ 16 &* Int(truncatingIfNeeded: map.digest)
        case .gather(_, _, let axis): 13 &+ 16 &* axis
        }
    }

    public var count: Int { Shape.count(shape) }

    /// The buffer when the node is materialised.
    public var storage: Buffer? {
        if case .storage(let b) = op { return b }
        return nil
    }

    /// Replaces the operation by its result. Call under the runtime's graph lock.
    public func realize(_ buffer: Buffer) {
        let old = op
        op = .storage(buffer)
        noteStorage()
        pendingDepthStore.store(0, ordering: .relaxed)
        Node.graphChanged()
        Node.retain(op)
        Node.release(old)
    }

    /// Replaces the operation by a view of another (realised) node: for results computed
    /// straight into part of another buffer. Call under the runtime's graph lock.
    public func realize(viewOf base: Node, map: AffineMap) {
        let old = op
        op = .view(base, map)
        noteStorage()
        pendingDepthStore.store(1, ordering: .relaxed)
        Node.graphChanged()
        Node.retain(op)
        Node.release(old)
    }

    /// Replaces the operation of a stand-in node no plan has seen yet (`Tandem.loop` gives a
    /// written tensor a stand-in while the nest is traced, and defines it when the nest is
    /// done). Call before any sync can reach the node.
    public func redefine(as newOp: Op) {
        let old = op
        op = newOp
        noteStorage()
        var depth = 0
        newOp.forEachInput { depth = max(depth, $0.pendingDepth + 1) }
        pendingDepthStore.store(depth, ordering: .relaxed)
        Node.graphChanged()
        Node.retain(newOp)
        Node.release(old)
    }

    private static func retain(_ op: Op) {
        if case .storage(let b) = op { b.aliases.add(1, ordering: .relaxed) }
        op.forEachInput { $0.consumers.add(1, ordering: .relaxed) }
    }

    private static func release(_ op: Op) {
        if case .storage(let b) = op { b.aliases.subtract(1, ordering: .relaxed) }
        op.forEachInput { $0.consumers.subtract(1, ordering: .relaxed) }
    }
}
