import TandemIR

/// Lowers fused graph nodes over one iteration domain into kernel IR: `value(of:map:)` turns a node
/// seen through an affine map into SSA, pushing views down to affine loads, sharing identical
/// subexpressions, and storing materialised intermediates met on the way (multi-output fusion).
final class KernelBuilder {
    struct MemoKey: Hashable {
        let node: ObjectIdentifier
        let map: AffineMap
        /// Whether the value is computed in the epilogue (a kernel computing reductions in its
        /// epilogue may meet one node in its body and, at the same index map, in its epilogue).
        var epilogue = false
    }

    let extents: [Int]
    let parallel: Int
    unowned let planner: Planner
    /// Update kernels must not store intermediates: their in-place analysis assumed pure loads.
    let allowInline: Bool

    @exclusivity(unchecked) private(set) var instrs: [Instr] = []
    private var cse = [Instr: Int](minimumCapacity: 32)      // grown from empty, rehashed at 1, 2, 4, 8, 16
    private var memo = [MemoKey: Int](minimumCapacity: 32)
    @exclusivity(unchecked) private(set) var buffers: [Buffer] = []
    private var bufferIndex: [ObjectIdentifier: Int] = [:]
    private var isRead: [Bool] = []
    private var isWritten: [Bool] = []
    private var accesses: [Overlap.FlatAccess] = []
    private var accessIndex: [Overlap.FlatAccess: Int] = [:]
    private var scalarInts: [Int64] = []
    private var floats: [Double] = []
    private var floatIndex: [UInt64: Int] = [:]
    private var intIndex: [Int64: Int] = [:]
    private var seedIndex: [Int64: Int] = [:]
    @exclusivity(unchecked) private(set) var reductions: [Reduction] = []
    @exclusivity(unchecked) private(set) var stores: [Store] = []
    @exclusivity(unchecked) private(set) var fused: [String] = []
    /// Ids of the graph nodes this kernel computes or stores (its fusion group).
    @exclusivity(unchecked) private(set) var members: [UInt64] = []
    private var fusedIDs: Set<ObjectIdentifier> = []

    /// Whether what is computed now goes to the epilogue (once a parallel point, after the
    /// reductions) rather than the body: set for a kernel that computes its node's reductions in
    /// its epilogue (`Planner.decideEpilogues`), and off while a reduction's source is built.
    private var inEpilogue: Bool

    init(extents: [Int], parallel: Int, planner: Planner, allowInline: Bool = true, epilogue: Bool = false) {
        self.extents = extents
        self.parallel = parallel
        self.planner = planner
        self.allowInline = allowInline
        self.inEpilogue = epilogue
    }

    var rank: Int { extents.count }

    // MARK: - Values

    /// The SSA value of `node` at domain index `i`, where the node's own index is `map(i)`.
    func value(of node: Node, map: AffineMap) -> Int {
        let key = MemoKey(node: ObjectIdentifier(node), map: map, epilogue: inEpilogue)
        if let v = memo[key] { return v }
        let v: Int
        if let stored = storedHere[ObjectIdentifier(node)], stored != map {
            // Stored by this very kernel at another index: its buffer is not complete yet, so
            // compute the value again instead of loading it.
            v = compute(node, map)
        } else if let (buffer, access) = planner.producedLocation(node, map) {
            v = load(buffer, access, node.dtype)
        } else if planner.isMaterialized(node) {
            precondition(allowInline && planner.canInline(node, at: map, domain: extents),
                         "planner: node \(node.id) \(node.op) shape \(node.shape) at map [\(map)] over \(extents) used before it was produced (inline allowed: \(allowInline))")
            v = produce(node, map: map, at: planner.claimInline(node, map))
        } else {
            v = compute(node, map)
        }
        memo[key] = v
        return v
    }

    /// Computes `node` at `map` (bijective over the domain) and stores it at `location`.
    @discardableResult
    func produce(_ node: Node, map: AffineMap, at location: (Buffer, Overlap.FlatAccess)) -> Int {
        storedHere[ObjectIdentifier(node)] = map
        let v = compute(node, map)
        store(location.0, location.1, v, epilogue: inEpilogue)
        memo[MemoKey(node: ObjectIdentifier(node), map: map, epilogue: inEpilogue)] = v
        return v
    }

    private var storedHere: [ObjectIdentifier: AffineMap] = [:]

    private func compute(_ node: Node, _ map: AffineMap) -> Int {
        members.append(node.id)
        let op = node.op
        switch op {
        case .storage(let buffer):
            return load(buffer, flat(map, node.shape), node.dtype)
        case .fill(let literal):
            return param(literal.converted(to: node.dtype), node.dtype)
        case .uniform(let seed, let lo, let hi):
            note(node, "uniform")
            let a = accessID(flat(map, node.shape))
            return emit(Instr(.uniform(access: a, seed: seedParam(Int64(bitPattern: seed)),
                                       lo: floatParam(lo), hi: floatParam(hi)), node.dtype))
        case .iota(let start, let step):
            note(node, "iota")
            let a = accessID(flat(map, node.shape))
            if node.dtype.isFloatingPoint {
                return emit(Instr(.iota(access: a, start: floatParam(start.asDouble), step: floatParam(step.asDouble)), node.dtype))
            }
            return emit(Instr(.iota(access: a, start: intParam(start.asInt64), step: intParam(step.asInt64)), node.dtype))
        case .unary(let u, let x):
            note(node, u.rawValue)
            return emit(Instr(.unary(u, value(of: x, map: map)), node.dtype))
        case .binary(let b, let x, let y):
            note(node, b.rawValue)
            return emit(Instr(.binary(b, value(of: x, map: map), value(of: y, map: map)), node.dtype))
        case .select(let c, let x, let y):
            note(node, "where")
            return emit(Instr(.select(value(of: c, map: map), value(of: x, map: map), value(of: y, map: map)), node.dtype))
        case .cast(let x):
            note(node, "cast")
            let v = value(of: x, map: map)
            return x.dtype == node.dtype ? v : emit(Instr(.cast(v), node.dtype))
        case .view(let source, let vmap):
            return value(of: source, map: vmap.composed(with: map))
        case .reshape(let source):
            // The reshape's row-major flat index is the source's flat index.
            let f = flat(map, node.shape)
            if let buffer = planner.producedBuffer(source) { return load(buffer, f, node.dtype) }
            switch source.op {
            case .fill(let literal): return param(literal.converted(to: node.dtype), node.dtype)
            case .uniform, .iota:
                let reshaped = AffineMap(inRank: 1, outRank: rank, offset: [f.offset], coef: f.strides)
                return value(of: source, map: reshaped.composedFlat(over: source.shape))
            default:
                preconditionFailure("planner: reshape of an unmaterialised node \(source.id)")
            }
        case .gather(let source, let index, let axis):
            note(node, "gather")
            let r = node.shape.count, k = index.shape.count, s = source.shape.count
            // The index is read at the node's axes axis..<axis+k; the source at the others, with
            // its gathered axis added from the index value.
            let i = value(of: index, map: Planner.gatherIndexMap(nodeRank: r, indexRank: k, axis: axis).composed(with: map))
            var scoef = [Int](repeating: 0, count: s * r)
            for d in 0..<s where d != axis { scoef[d * r + (d < axis ? d : d - 1 + k)] = 1 }
            let smap = AffineMap(inRank: s, outRank: r, offset: [Int](repeating: 0, count: s), coef: scoef)
            guard let buffer = planner.producedBuffer(source) else {
                preconditionFailure("planner: gather source \(source.id) is not produced")
            }
            let b = bufferID(buffer)
            isRead[b] = true
            let stride = source.shape[(axis + 1)...].reduce(1, *)
            return emit(Instr(.gather(buffer: b, access: accessID(flat(smap.composed(with: map), source.shape)), index: i,
                                      stride: intParam(Int64(stride)), extent: intParam(Int64(source.shape[axis]))), node.dtype))
        case .reduce(let op, let source, let axes):
            // A reduction computed in this kernel's epilogue (`Planner.decideEpilogues`): its
            // source in the body over the kernel's reduce axes, its value in the epilogue.
            precondition(inEpilogue && map == Planner.projection(parallel: parallel, rank: rank),
                         "planner: reduction node \(node.id) met at [\(map)] outside an epilogue over \(extents)")
            note(node, op.rawValue)
            inEpilogue = false
            let v = value(of: source, map: Planner.reduceDomain(source: source.shape, axes: axes).map)
            inEpilogue = true
            return reduce(op, v, resultType: node.dtype, sourceType: source.dtype)
        case .update:
            preconditionFailure("planner: \(op) node \(node.id) must be materialised")
        }
    }

    private func note(_ node: Node, _ name: String) {
        if fusedIDs.insert(ObjectIdentifier(node)).inserted { fused.append(name) }
    }

    /// Records a node this kernel produces without computing it elementwise (a reduction, an update).
    func note(member node: Node) { members.append(node.id) }

    // MARK: - Emission

    func emit(_ instr: Instr) -> Int {
        var instr = instr
        if inEpilogue { instr.epilogue = true }
        if let v = cse[instr] { return v }
        instrs.append(instr)
        cse[instr] = instrs.count - 1
        return instrs.count - 1
    }

    func param(_ literal: Literal, _ dtype: DType) -> Int {
        switch literal {
        case .float(let v): emit(Instr(.param(floatParam(v)), dtype))
        case .int(let v): emit(Instr(.param(intParam(v)), dtype))
        case .bool(let v): emit(Instr(.param(intParam(v ? 1 : 0)), dtype))
        }
    }

    func load(_ buffer: Buffer, _ access: Overlap.FlatAccess, _ dtype: DType) -> Int {
        let b = bufferID(buffer)
        isRead[b] = true
        return emit(Instr(.load(buffer: b, access: accessID(access)), dtype))
    }

    func store(_ buffer: Buffer, _ access: Overlap.FlatAccess, _ value: Int, epilogue: Bool) {
        let b = bufferID(buffer)
        isWritten[b] = true
        stores.append(Store(buffer: b, access: accessID(access), value: value, epilogue: epilogue))
    }

    func reduce(_ op: ReduceOp, _ value: Int, resultType: DType, sourceType: DType) -> Int {
        let acc: DType = op.isArg ? .int64 : (sourceType.isFloatingPoint ? .float64 : .int64)
        reductions.append(Reduction(op: op, value: value, accumulator: acc))
        return emit(Instr(.accumulated(reductions.count - 1), resultType, epilogue: true))
    }

    func bufferID(_ buffer: Buffer) -> Int {
        if let i = bufferIndex[ObjectIdentifier(buffer)] { return i }
        buffers.append(buffer)
        isRead.append(false)
        isWritten.append(false)
        bufferIndex[ObjectIdentifier(buffer)] = buffers.count - 1
        return buffers.count - 1
    }

    private func accessID(_ a: Overlap.FlatAccess) -> Int {
        if let i = accessIndex[a] { return i }
        accesses.append(a)
        accessIndex[a] = accesses.count - 1
        return accesses.count - 1
    }

    /// A seed's parameter: shared only with equal seeds, never with another int (a plan
    /// reused for a fresh seed writes the new seed there, `PlanCache`).
    private func seedParam(_ v: Int64) -> Int { scalarInt(v, &seedIndex) }

    private func intParam(_ v: Int64) -> Int { scalarInt(v, &intIndex) }

    /// The scalar int parameter holding `v`, shared with the earlier ones of `index`.
    private func scalarInt(_ v: Int64, _ index: inout [Int64: Int]) -> Int {
        if let i = index[v] { return i }
        scalarInts.append(v)
        index[v] = scalarInts.count - 1
        return scalarInts.count - 1
    }

    private func floatParam(_ v: Double) -> Int {
        if let i = floatIndex[v.bitPattern] { return i }
        floats.append(v)
        floatIndex[v.bitPattern] = floats.count - 1
        return floats.count - 1
    }

    func flat(_ map: AffineMap, _ shape: [Int]) -> Overlap.FlatAccess { Overlap.FlatAccess(map, rowMajor: shape) }

    // MARK: - Finalisation

    /// Squeezes unit axes, merges adjacent axes that every access walks contiguously, and turns
    /// extents, offsets and strides into parameters. Returns the kernel and its launch.
    func finish() -> (Kernel, Launch) {
        let hasArg = reductions.contains { $0.op.isArg }
        // Domain axes kept after squeezing (extent 1 axes contribute nothing).
        var axes: [(extent: Int, parallel: Bool, members: [Int])] = []
        for k in 0..<rank where extents[k] != 1 || (hasArg && k >= parallel) {
            axes.append((extents[k], k < parallel, [k]))
        }
        // Merge axis j into j-1 when every access has stride[j-1] == stride[j] * extent[j].
        if !hasArg {
            var merged: [(extent: Int, parallel: Bool, members: [Int])] = []
            for axis in axes {
                if let last = merged.last, last.parallel == axis.parallel,
                   accesses.allSatisfy({ a in
                       let outer = a.strides[last.members.last!]
                       return outer == a.strides[axis.members[0]] * axis.extent
                   }) {
                    merged[merged.count - 1].extent *= axis.extent
                    merged[merged.count - 1].members.append(axis.members[0])
                } else {
                    merged.append(axis)
                }
            }
            axes = merged
        }
        // A short row reduced under a parallel axis (GMM's 8 features per component) becomes
        // structure, with the strides that step between rows: see `shortRowBytes`.
        let widest = (buffers.map(\.dtype.byteSize) + instrs.map(\.dtype.byteSize)).max() ?? 8
        let shortRow = !hasArg && axes.count >= 2 && !axes[axes.count - 1].parallel && axes[axes.count - 2].parallel
            && (axes[axes.count - 1].extent * widest <= KernelBuilder.shortRowBytes
                || axes[axes.count - 1].extent < Kernel.reductionLanes)
        // An axis's stride for an access is the stride of its innermost member.
        var ints: [Int64] = axes.map { Int64($0.extent) }
        var symbolic: [Access] = []
        for a in accesses {
            let offsetParam = ints.count
            ints.append(Int64(a.offset))
            var strides: [Stride] = []
            for (j, axis) in axes.enumerated() {
                let limit = shortRow && j == axes.count - 2 ? KernelBuilder.shortRowStrideLimit : Stride.fixedLimit
                strides.append(Stride.of(a.strides[axis.members.last!], appendingTo: &ints, fixedUpTo: limit))
            }
            symbolic.append(Access(offset: offsetParam, strides: strides))
        }
        let scalarBase = ints.count
        ints.append(contentsOf: scalarInts)
        let remapped = instrs.map { instr -> Instr in
            var i = instr
            switch instr.op {
            case .param(let p) where !instr.dtype.isFloatingPoint: i.op = .param(p + scalarBase)
            case .uniform(let a, let seed, let lo, let hi): i.op = .uniform(access: a, seed: seed + scalarBase, lo: lo, hi: hi)
            case .iota(let a, let start, let step) where !instr.dtype.isFloatingPoint:
                i.op = .iota(access: a, start: start + scalarBase, step: step + scalarBase)
            case .gather(let b, let a, let index, let stride, let extent):
                i.op = .gather(buffer: b, access: a, index: index, stride: stride + scalarBase, extent: extent + scalarBase)
            default: break
            }
            return i
        }
        let parallelCount = axes.filter(\.parallel).count
        let kernel = Kernel(
            rank: axes.count, parallelAxes: parallelCount,
            buffers: buffers.indices.map { BufferParam(dtype: buffers[$0].dtype, isRead: isRead[$0], isWritten: isWritten[$0]) },
            accesses: symbolic, instrs: remapped, reductions: reductions, stores: stores,
            intParams: ints.count, floatParams: floats.count, innerExtent: shortRow ? axes[axes.count - 1].extent : nil)
        return (kernel, Launch(buffers: buffers, ints: ints, floats: floats))
    }

    /// A reduce axis under a parallel axis whose rows fit one AVX2 vector (at most 32 bytes of
    /// the widest type the kernel loads or computes: 8 floats, 4 doubles) has its extent, and the
    /// strides of the axis outside it (up to `shortRowStrideLimit`), compiled in. Clang then unrolls the row and
    /// vectorises across rows with interleaved loads instead of running a vector loop shorter than
    /// its width with a horizontal sum at every point. GMM's log-density (16 components x 8
    /// features, one thread, ns a point, runtime -> compiled in): float d=8 0.37 -> 0.20, d=4
    /// 0.61 -> 0.15; double d=4 0.92 -> 0.18. Longer rows go the other way (float d=16 0.23 ->
    /// 0.62, double d=8 0.30 -> 0.67), so they keep the runtime loop. The price is one compiled
    /// kernel per row length and row stride.
    ///
    /// A row shorter than the reduction's eight lanes (`Kernel.reductionLanes`) is compiled in
    /// whatever its bytes: the laned loop would run all of it in its scalar tail, one libm call
    /// per element where the body has a transcendental. Rows of 5-7 doubles, [100000, d], one
    /// thread, ns a point, laned -> compiled in: `(a * b).sum(axis: 1)` 1.3-1.7 -> 0.42-0.57,
    /// `(b * a.log()).sum(axis: 1)` 4.1-4.4 -> 2.1-2.3 (bench/RESULTS.md). Such a row is then
    /// added in index order, which is also NumPy's order below eight elements.
    public static let shortRowBytes = 32
    public static let shortRowStrideLimit = 64
}

extension AffineMap {
    /// Given a map whose single output is a flat row-major index into `shape`, returns the map to
    /// the multi-index of `shape` for leaves that are indexed by flat position (generators).
    /// Generators only use the flat index, so this keeps the flat form in axis 0 of a rank-1 view.
    func composedFlat(over shape: [Int]) -> AffineMap {
        // Express flat index f as the multi-index (0, ..., 0, f) of a row-major shape: valid because
        // generators compute from the flattened index, which equals f for that multi-index.
        let r = shape.count
        guard r > 0 else { return AffineMap(inRank: 0, outRank: outRank, offset: [], coef: []) }
        var off = [Int](repeating: 0, count: r)
        var co = [Int](repeating: 0, count: r * outRank)
        off[r - 1] = offset[0]
        for k in 0..<outRank { co[(r - 1) * outRank + k] = coef[k] }
        return AffineMap(inRank: r, outRank: outRank, offset: off, coef: co)
    }
}
