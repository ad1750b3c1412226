import TandemIR

/// Reuses plans across syncs whose pending graphs are the same: an iterative program builds the
/// same graph every step, and planning it from scratch cost tens of microseconds a node.
///
/// The key is everything the planner reads, over the nodes in the order it walks them
/// (`Planner.postorder`): each node's operation and its parameters (view maps, axes, literal
/// values, seeds), type and shape, which inputs it takes (by position), whether a tensor holds
/// it, how many nodes consume it, whether an earlier sync computed it without storing it, which
/// nodes are roots; for a materialised node, which of the others share its buffer, the buffer's
/// size and how many nodes alias it. Two graphs with equal keys get the same plan from the
/// planner, up to the buffers, so a hit takes the plan recorded for the key and binds this
/// graph's buffers into it: the leaves' buffers by position, fresh buffers for what the plan
/// materialises. Only a graph not seen before plans from scratch.
///
/// Floating-point constants (`x * dt`, a boundary value that changes with time) are not part of
/// the key, only which of them are equal: they are kernel parameters, so a graph that differs
/// from a cached one only in their values takes the cached plan with the new values put into
/// its launches. Where a constant's value equals another float parameter of the graph (a
/// `uniform` bound, an `iota` start or step), the two would share one parameter, so the values
/// themselves go into the key. Integer and Bool constants are keyed by value. At most
/// `maxEntries` plans are kept; beyond that the table starts again (a program whose graphs
/// never repeat would otherwise grow it forever).
///
///     let cache = PlanCache()
///     let (plan, hit) = cache.plan(roots: roots)   // under the runtime's graph lock
public final class PlanCache {
    public static let maxEntries = 512
    /// Float constants a key searches in a list before it hashes them.
    public static let linearConstants = 16
    /// Graphs larger than this are planned without the cache (their key would cost more to
    /// build and compare than it saves, and they are rarely repeated).
    public static let maxNodes = 4096

    /// A buffer of a recorded plan: a leaf's storage (by node position) or one the plan makes.
    enum BufferRef {
        case leaf(Int)
        case fresh(Int)
    }

    struct Template {
        var plan: Plan                      // kernels without buffers, no nodes
        var kernelBuffers: [[BufferRef]]
        var kernelMembers: [[Int]]
        var fresh: [(dtype: DType, count: Int)]
        var realized: [(node: Int, buffer: BufferRef)]
        var realizedViews: [(node: Int, base: Int, map: AffineMap)]
        var unstored: [Int]
        /// For each kernel, for each float parameter: the constant class it carries (its value
        /// is that class's value in the graph being bound), or nil for a value of the key.
        var floatSources: [[Int?]]
        /// For each kernel: its seed parameters (`Kernel.seedParams`) and the seed class each
        /// carries.
        var seedSources: [[(param: Int, seed: Int)]] = []
    }

    /// A template behind a reference: a hit takes one reference from the table, not a copy of
    /// the template's dozen arrays (a tenth of a small sync's hit).
    final class Entry {
        let template: Template
        init(_ template: Template) { self.template = template }
    }

    private var entries: [Key: Entry] = [:]

    /// Forgets every plan (and with them the decisions and code their kernels kept).
    public func removeAll() { entries.removeAll() }
    /// The fresh buffers of the plan being bound, by slot; kept between binds (all nil) so a
    /// small step allocates no array for them.
    private var scratch: [Buffer?] = []

    /// A graph's key words with their digest, computed once: hashing a key of thousands of
    /// words through `Hasher` at every lookup cost more than building it. Equal keys are
    /// still compared word for word.
    struct Key: Hashable {
        let digest: UInt64
        let words: [Int]

        init(_ words: [Int]) {
            digest = FNV1a.mix(FNV1a.basis, words)
            self.words = words
        }

        static func == (a: Key, b: Key) -> Bool { a.digest == b.digest && a.words == b.words }
        func hash(into hasher: inout Hasher) { hasher.combine(digest) }
    }
    /// Whether a reused plan names the nodes of each kernel (`PlannedKernel.memberIDs`): only
    /// graph drawings read them, and making the sets cost a small step's kernels an allocation
    /// each.
    let bindMembers: Bool

    public init(bindMembers: Bool = true) { self.bindMembers = bindMembers }

    /// The plan for `roots`, and whether it came from the cache. Call under the graph lock.
    /// `sequences`: whether the planner may merge small kernels into sequence kernels
    /// (`Planner.sequences`; part of the key).
    public func plan(roots: [Node], sequences: Bool = false) -> (plan: Plan, hit: Bool) {
        let (nodes, epoch) = Planner.postorder(roots)
        guard nodes.count <= PlanCache.maxNodes else {
            return (Planner(sequences: sequences).plan(roots: roots, nodes: nodes, epoch: epoch), false)
        }
        var (words, constants, seeds) = PlanCache.key(roots: roots, nodes: nodes, epoch: epoch)
        words.append(sequences ? -102 : -103)
        let key = Key(words)
        if let e = entries[key] {
            return (PlanCache.bind(e.template, nodes, constants: constants, seeds: seeds, members: bindMembers, scratch: &scratch), true)
        }
        let plan = Planner(sequences: sequences).plan(roots: roots, nodes: nodes, epoch: epoch)
        if let t = PlanCache.template(plan, nodes: nodes, epoch: epoch, constants: constants, seeds: seeds) {
            if entries.count >= PlanCache.maxEntries { entries.removeAll() }
            entries[key] = Entry(t)
        }
        return (plan, false)
    }

    /// Plans kept (for tests).
    public var count: Int { entries.count }

    // MARK: - Key

    /// The key, and the distinct floating-point constants of the graph as bit patterns (class
    /// `c` of the key is `constants[c]`).
    /// `nodes` and `epoch` must come from `Planner.postorder` just before (it reads the walk's
    /// positions, and marks buffers with its epoch).
    ///
    /// No dictionary or set is made for a small graph (a small step's key cost twice its
    /// planning-free rest in their allocations and hashing): a buffer's first node is marked on
    /// the buffer, and constants are searched in a list until there are many of them.
    static func key(roots: [Node], nodes: [Node], epoch: UInt64) -> (key: [Int], constants: [UInt64], seeds: [UInt64]) {
        var w: [Int] = []
        w.reserveCapacity(nodes.count * 10 + roots.count + 1)
        var constants: [UInt64] = []
        // Seeds of uniforms, by class as constants are: a Monte Carlo step draws with a fresh
        // seed each time, and keyed by value its graph was planned anew every step.
        var seeds: [UInt64] = []
        var classOf: [UInt64: Int] = [:]          // only past `linearConstants`
        var otherFloats: [UInt64] = []
        for (i, node) in nodes.enumerated() {
            w.append(Int(node.dtype.rawValue))
            w.append(node.shape.count)
            w.append(contentsOf: node.shape)
            w.append((node.holders.load(ordering: .relaxed) > 0 ? 1 : 0) | (node.computedWithoutStore ? 2 : 0))
            w.append(node.consumers.load(ordering: .relaxed))
            switch node.op {
            case .storage(let b):
                w.append(-1)
                if b.keyEpoch != epoch {
                    b.keyEpoch = epoch
                    b.keyOwner = i
                }
                w.append(b.keyOwner)
                w.append(b.count)
                w.append(Int(b.dtype.rawValue))
                w.append(b.aliases.load(ordering: .relaxed))
            case .fill(let l):
                w.append(-2)
                if case .float(let v) = l.converted(to: node.dtype) {
                    // A kernel parameter: only its class (which constants are equal) is keyed.
                    let bits = v.bitPattern
                    let c: Int
                    if constants.count < PlanCache.linearConstants {
                        c = constants.firstIndex(of: bits) ?? constants.count
                        if c == constants.count {
                            constants.append(bits)
                            if constants.count == PlanCache.linearConstants {
                                for (k, x) in constants.enumerated() { classOf[x] = k }
                            }
                        }
                    } else {
                        c = classOf[bits] ?? constants.count
                        if c == constants.count { constants.append(bits); classOf[bits] = c }
                    }
                    w.append(3)
                    w.append(c)
                } else {
                    PlanCache.append(&w, l)
                }
            case .uniform(let seed, let lo, let hi):
                w.append(-3)
                if let c = seeds.firstIndex(of: seed) { w.append(c) } else { w.append(seeds.count); seeds.append(seed) }
                w.append(Int(bitPattern: UInt(lo.bitPattern)))
                w.append(Int(bitPattern: UInt(hi.bitPattern)))
                otherFloats.append(lo.bitPattern)
                otherFloats.append(hi.bitPattern)
            case .iota(let start, let step):
                w.append(-4)
                PlanCache.append(&w, start)
                PlanCache.append(&w, step)
                if node.dtype.isFloatingPoint {
                    otherFloats.append(start.asDouble.bitPattern)
                    otherFloats.append(step.asDouble.bitPattern)
                }
            case .unary(let op, let a):
                w.append(-5)
                w.append(op.ordinal)
                w.append(a.walkIndex)
            case .binary(let op, let a, let b):
                w.append(-6)
                w.append(op.ordinal)
                w.append(a.walkIndex)
                w.append(b.walkIndex)
            case .select(let c, let a, let b):
                w.append(-7)
                w.append(c.walkIndex)
                w.append(a.walkIndex)
                w.append(b.walkIndex)
            case .cast(let a):
                w.append(-8)
                w.append(a.walkIndex)
            case .view(let a, let m):
                w.append(-9)
                w.append(a.walkIndex)
                PlanCache.append(&w, m)
            case .reshape(let a):
                w.append(-10)
                w.append(a.walkIndex)
            case .reduce(let op, let a, let axes):
                w.append(-11)
                w.append(op.ordinal)
                w.append(a.walkIndex)
                w.append(axes.count)
                w.append(contentsOf: axes)
            case .update(let base, let m, let value):
                w.append(-12)
                w.append(base.walkIndex)
                w.append(value.walkIndex)
                PlanCache.append(&w, m)
            case .gather(let source, let index, let axis):
                w.append(-13)
                w.append(source.walkIndex)
                w.append(index.walkIndex)
                w.append(axis)
            }
        }
        w.append(-100)
        for r in roots { w.append(r.walkIndex) }
        // A constant equal to another float parameter shares its parameter: key the values.
        if !otherFloats.isEmpty, !Set(otherFloats).isDisjoint(with: constants) {
            w.append(-101)
            for c in constants { w.append(Int(bitPattern: UInt(c))) }
        }
        return (w, constants, seeds)
    }

    // Helpers of `key` that take the words `inout`: nested functions capturing them made every
    // append a checked access to a boxed variable.
    private static func append(_ w: inout [Int], _ m: AffineMap) {
        w.append(m.inRank)
        w.append(m.outRank)
        w.append(contentsOf: m.offset)
        w.append(contentsOf: m.coef)
    }

    private static func append(_ w: inout [Int], _ l: Literal) {
        switch l {
        case .float(let v): w.append(0); w.append(Int(bitPattern: UInt(v.bitPattern)))
        case .int(let v): w.append(1); w.append(Int(v))
        case .bool(let v): w.append(2); w.append(v ? 1 : 0)
        }
    }

    // MARK: - Recording and binding

    /// The plan with its buffers and nodes replaced by positions; nil when a buffer or member
    /// of it cannot be named that way (then the graph is not cached).
    static func template(_ plan: Plan, nodes: [Node], epoch: UInt64, constants: [UInt64], seeds: [UInt64] = []) -> Template? {
        func index(_ n: Node) -> Int? { Planner.position(n, epoch: epoch) }
        var refs: [ObjectIdentifier: BufferRef] = [:]
        for (i, n) in nodes.enumerated() {
            if let b = n.storage, refs[ObjectIdentifier(b)] == nil { refs[ObjectIdentifier(b)] = .leaf(i) }
        }
        var fresh: [(dtype: DType, count: Int)] = []
        func ref(_ b: Buffer) -> BufferRef {
            if let r = refs[ObjectIdentifier(b)] { return r }
            fresh.append((b.dtype, b.count))
            let r = BufferRef.fresh(fresh.count - 1)
            refs[ObjectIdentifier(b)] = r
            return r
        }
        var idOf: [UInt64: Int] = [:]
        for (i, n) in nodes.enumerated() { idOf[n.id] = i }
        var t = Template(plan: plan, kernelBuffers: [], kernelMembers: [], fresh: [], realized: [], realizedViews: [], unstored: [],
                         floatSources: [])
        var classOf: [UInt64: Int] = [:]
        for (c, bits) in constants.enumerated() { classOf[bits] = c }
        for k in plan.kernels {
            // A float parameter equal to a constant class carries it (the key made sure no
            // other float parameter has that value, or holds the values themselves).
            t.floatSources.append(k.launch.floats.map { classOf[$0.bitPattern] })
            // Each seed parameter holds one of the graph's seeds (a parameter of its own,
            // `KernelBuilder.seedParam`); one that does not is not replayed.
            var sources: [(param: Int, seed: Int)] = []
            for p in k.kernel.seedParams {
                guard p < k.launch.ints.count, let c = seeds.firstIndex(of: UInt64(bitPattern: k.launch.ints[p])) else { return nil }
                sources.append((p, c))
            }
            t.seedSources.append(sources)
            t.kernelBuffers.append(k.launch.buffers.map(ref))
            var members: [Int] = []
            for id in k.memberIDs {
                guard let i = idOf[id] else { return nil }
                members.append(i)
            }
            t.kernelMembers.append(members)
        }
        for (node, buffer) in plan.realized {
            guard let i = index(node) else { return nil }
            t.realized.append((i, ref(buffer)))
        }
        for (node, base, map) in plan.realizedViews {
            guard let i = index(node), let j = index(base) else { return nil }
            t.realizedViews.append((i, j, map))
        }
        for node in plan.unstored {
            guard let i = index(node) else { return nil }
            t.unstored.append(i)
        }
        t.fresh = fresh
        // Keep no buffer or node of this graph alive in the table; each kernel gets the memo
        // its replays share.
        for k in t.plan.kernels.indices {
            t.plan.kernels[k].launch.buffers = []
            t.plan.kernels[k].memberIDs = []
            t.plan.kernels[k].memo = KernelMemo()
        }
        t.plan.realized = []
        t.plan.realizedViews = []
        t.plan.unstored = []
        return t
    }

    /// The recorded plan with this graph's buffers and nodes bound in.
    static func bind(_ t: Template, _ nodes: [Node], constants: [UInt64], seeds: [UInt64] = [], members: Bool = true,
                     scratch fresh: inout [Buffer?]) -> Plan {
        while fresh.count < t.fresh.count { fresh.append(nil) }
        defer { for s in t.fresh.indices { fresh[s] = nil } }
        func buffer(_ r: BufferRef) -> Buffer {
            switch r {
            case .leaf(let i): return nodes[i].storage!
            case .fresh(let s):
                if let b = fresh[s] { return b }
                let b = Buffer(dtype: t.fresh[s].dtype, count: t.fresh[s].count, deferred: true)
                fresh[s] = b
                return b
            }
        }
        var plan = t.plan
        for k in plan.kernels.indices {
            plan.kernels[k].launch.buffers = t.kernelBuffers[k].map(buffer)
            for (j, source) in t.floatSources[k].enumerated() {
                if let c = source { plan.kernels[k].launch.floats[j] = Double(bitPattern: constants[c]) }
            }
            for (p, c) in t.seedSources[k] { plan.kernels[k].launch.ints[p] = Int64(bitPattern: seeds[c]) }
            if members { plan.kernels[k].memberIDs = Set(t.kernelMembers[k].map { nodes[$0].id }) }
        }
        plan.realized = t.realized.map { (nodes[$0.node], buffer($0.buffer)) }
        plan.realizedViews = t.realizedViews.map { (nodes[$0.node], nodes[$0.base], $0.map) }
        plan.unstored = t.unstored.map { nodes[$0] }
        PlanRecorder.active?.record(plan.kernels)
        return plan
    }
}
