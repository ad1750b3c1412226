import TandemRuntime

// A traced body's reads and writes: the views, gathers and updates they become over the
// iteration space, the checks on them, and writes recognised as reductions. Split from
// LoopNest.swift by concern (there: tracing and running the nest).
extension LoopRecorder {
    /// While discovering a loop tree, reads and index values are this: the body runs only for
    /// its `Tandem.loop` calls.
    private func placeholder(_ dtype: DType) -> Node { Node(.fill(Literal.int(0).converted(to: dtype)), dtype: dtype, shape: []) }

    func read(_ x: Node, _ indices: [TensorIndex]) -> Node {
        if let f = frame, f.mode == .discover { return placeholder(x.dtype) }
        if let p = program { return programRead(p, x, indices) }
        let base = states[ObjectIdentifier(x)]?.current ?? x
        if let (t, idx) = TensorIndex.tensorItem(indices) {
            return indirectRead(x, base: base, indices, tensorAt: t, index: idx)
        }
        let map = accessMap(indices, shape: x.shape, what: "read")
        let v = Node(.view(base, map), dtype: x.dtype, shape: frame?.shape ?? [])
        readNodes.insert(ObjectIdentifier(v))
        if let f = frame { f.reads.append(Read(source: x, node: v, base: base, map: map, position: f.statements.count, path: f.path)) }
        return v
    }

    /// A loop index's value over the traced level (a constant outside one).
    func value(of e: LoopIndex, dtype: DType) -> Node {
        if let f = frame, f.mode == .discover { return placeholder(dtype) }
        if let p = program { return programValue(p, of: e, dtype: dtype) }
        let extents = frame?.shape ?? []
        if !e.isConstant { precondition(e.trace == frame?.id, "a loop index is used outside its Tandem.loop") }
        var v = Node(.fill(Literal.int(Int64(e.constant)).converted(to: dtype)), dtype: dtype, shape: extents)
        for (k, c) in e.coefs.enumerated() where c != 0 {
            let ramp = Node(.iota(start: Literal.int(0).converted(to: dtype), step: Literal.int(Int64(c)).converted(to: dtype)),
                            dtype: dtype, shape: [extents[k]])
            var coef = [Int](repeating: 0, count: extents.count)
            coef[k] = 1
            let spread = Node(.view(ramp, AffineMap(inRank: 1, outRank: extents.count, offset: [0], coef: coef)), dtype: dtype, shape: extents)
            v = Node(.binary(.add, v, spread), dtype: dtype, shape: extents)
        }
        return v
    }

    /// `x[..., idx, ...]` with `idx` an integer element computed in the body: a gather from the
    /// flattened tensor at the affine offset of the other axes plus `idx` times its axis's
    /// stride (negative `idx` counts from the end of the axis; out of the axis, it is clamped
    /// into the tensor, as a pending index of the array API is). The analysis cannot tell where
    /// it reads, so a nest that also writes `x` runs point by point.
    func indirectRead(_ x: Node, base: Node, _ indices: [TensorIndex], tensorAt t: Int, index idx: Node) -> Node {
        let shape = frame?.shape ?? []
        precondition(indices.count == x.shape.count,
                     "Tandem.loop: a read inside a loop nest names every axis (\(indices.count) indices for a tensor of shape \(Shape.describe(x.shape)))")
        precondition(idx.shape == shape || idx.count == 1,
                     "Tandem.loop: an index tensor in a loop subscript must be an element read or computed in the body, not a whole tensor of shape \(Shape.describe(idx.shape))")
        checkLeaves(idx)
        var others = indices
        others[t] = .index(0)
        let map = accessMap(others, shape: x.shape, what: "read")
        let strides = Shape.rowMajorStrides(x.shape)
        var constant = 0
        var coefs = [Int](repeating: 0, count: map.outRank)
        for a in 0..<map.inRank where a != t {
            constant += strides[a] * map.offset[a]
            for k in 0..<map.outRank { coefs[k] += strides[a] * map.c(a, k) }
        }
        let affine = value(of: LoopIndex(constant: constant, coefs: coefs, trace: frame?.id ?? 0), dtype: .int64)
        let i = (idx.dtype == .int64 ? idx : Node(.cast(idx), dtype: .int64, shape: idx.shape)).broadcast(to: shape)
        func fill(_ v: Int) -> Node { Node(.fill(.int(Int64(v))), dtype: .int64, shape: shape) }
        let negative = Node(.binary(.lt, i, fill(0)), dtype: .bool, shape: shape)
        let wrapped = Node(.select(negative, Node(.binary(.add, i, fill(x.shape[t])), dtype: .int64, shape: shape), i), dtype: .int64, shape: shape)
        let offset = Node(.binary(.mul, wrapped, fill(strides[t])), dtype: .int64, shape: shape)
        let flat = Node(.binary(.add, affine, offset), dtype: .int64, shape: shape)
        let source = Node(.reshape(base), dtype: x.dtype, shape: [x.shape.reduce(1, *)])
        let v = Node(.gather(source: source, index: flat, axis: 0), dtype: x.dtype, shape: shape)
        readNodes.insert(ObjectIdentifier(v))
        if let f = frame {
            f.reads.append(Read(source: x, node: v, base: base, map: map, position: f.statements.count, path: f.path, indirect: true))
        }
        return v
    }

    /// The state of the tensor a variable holding `x` names: `x`'s, if it is a stand-in, else a
    /// new one with a stand-in for `x` (which the variable holds from then on).
    func arrayState(_ x: Node) -> ArrayState {
        if let s = states[ObjectIdentifier(x)] { return s }
        let stand = Node(.view(x, .identity(x.shape.count)), dtype: x.dtype, shape: x.shape)
        let state = ArrayState(standIn: stand, original: x)
        states[ObjectIdentifier(stand)] = state
        order.append(state)
        frame?.held.append(TensorHandle(x))
        return state
    }

    /// Records `x[indices] = value`; returns the node the written variable holds from now on.
    func write(_ x: Node, _ indices: [TensorIndex], _ value: Node) -> Node {
        if let f = frame, f.mode == .discover { return x }
        if let p = program { return programWrite(p, x, indices, value) }
        let state = arrayState(x)
        let extents = frame?.shape ?? []
        let map = accessMap(indices, shape: x.shape, what: "write")
        checkLeaves(value)
        precondition(Shape.broadcast(value.shape, extents) == extents,
                     "Tandem.loop: a value of shape \(Shape.describe(value.shape)) is written to one element")
        // As an assignment outside a nest: flush for graph pressure first, register the update.
        do { try Tandem.runtime.relieveGraphPressure(site: 0) } catch {
            // Only a flush for memory pressure can fail here; the same error comes at the next sync.
        }
        if let f = frame, let r = reduction(value, state: state, map: map, frame: f) {
            state.current = Node(.update(base: state.current, map: r.map, value: r.value), dtype: x.dtype, shape: x.shape)
            Tandem.runtime.registerUpdate(state.current)
            f.statements.append(Statement(state: state, map: map, reduced: (r.map, r.extents, r.selfRead), path: f.path))
            return state.standIn
        }
        let v = value.broadcast(to: extents)
        state.current = Node(.update(base: state.current, map: map, value: v), dtype: x.dtype, shape: x.shape)
        Tandem.runtime.registerUpdate(state.current)
        if let f = frame { f.statements.append(Statement(state: state, map: map, reduced: nil, path: f.path)) }
        return state.standIn
    }

    /// The map from the iteration space (the current frame's loops; none outside a trace) to
    /// the axes of a tensor of `shape`, checked to stay inside it.
    func accessMap(_ indices: [TensorIndex], shape: [Int], what: String) -> AffineMap {
        let extents = frame?.extents ?? []
        let d = extents.count, r = shape.count
        let items = LoopRecorder.subscriptIndices(indices, shape: shape, what: what, trace: frame?.id)
        var offset = [Int](repeating: 0, count: r)
        var coef = [Int](repeating: 0, count: r * d)
        for (a, e) in items.enumerated() {
            offset[a] = e.constant
            var lo = e.constant, hi = e.constant
            for (k, c) in e.coefs.enumerated() where c != 0 {
                coef[a * d + k] = c
                let span = c * (extents[k] - 1)
                lo += min(0, span)
                hi += max(0, span)
            }
            precondition(lo >= 0 && hi < shape[a],
                         "Tandem.loop: the \(what) index of axis \(a) runs from \(lo) to \(hi), outside its size \(shape[a])")
        }
        return AffineMap(inRank: r, outRank: d, offset: offset, coef: coef)
    }

    /// A subscript of a tensor of `shape` inside a nest as one loop index per axis (an integer,
    /// counted from the end when negative, as a constant), with the checks every way of running
    /// a nest makes (arrays here, compiled loops in `ProgramTrace.access`): one item per axis,
    /// integers inside their axis, only integers and loop indices, and loop indices of the trace
    /// `trace` (nil: none is being traced).
    static func subscriptIndices(_ indices: [TensorIndex], shape: [Int], what: String, trace: UInt64?) -> [LoopIndex] {
        precondition(indices.count == shape.count,
                     "Tandem.loop: a \(what) inside a loop nest names every axis with an integer or a loop index (\(indices.count) indices for a tensor of shape \(Shape.describe(shape)))")
        return indices.enumerated().map { a, item in
            switch item {
            case .index(let i):
                let j = i < 0 ? i + shape[a] : i
                precondition(j >= 0 && j < shape[a], "Tandem.loop: index \(i) is out of bounds for axis \(a) with size \(shape[a])")
                return LoopIndex(constant: j)
            case ._loop(let e):
                precondition(e.isConstant || (trace != nil && e.trace == trace!), "a loop index is used outside its Tandem.loop")
                return e
            default:
                preconditionFailure("Tandem.loop: a \(what) inside a loop nest takes integers and loop indices (and, to read, one index tensor), not ranges or .all; writes through index tensors are not supported yet")
            }
        }
    }

    /// Every tensor a written value is computed from is a read of this nest, something computed
    /// in its body, or a single element: a whole tensor used in a body would broadcast against
    /// the iteration space instead of meaning one element per iteration.
    func checkLeaves(_ value: Node) {
        var stack = [value]
        while let n = stack.popLast() {
            if readNodes.contains(ObjectIdentifier(n)) { continue }
            if n.id < firstID {
                precondition(n.count == 1,
                             "Tandem.loop: the body uses a whole tensor of shape \(Shape.describe(n.shape)); inside a loop nest read tensors element by element (a[i, j]) and use scalars")
                continue
            }
            // Checked once a trace: a statement's value is built on the ones before it, which
            // were checked when they were written (walked again, every statement cost the
            // whole body's graph so far).
            guard checkedNodes.insert(n.id).inserted else { continue }
            // Every value in a body is one element: a reduction of one would reduce the whole
            // iteration space here (the array trace gives values its shape), not the element.
            if case .reduce = n.op {
                preconditionFailure("Tandem.loop: a reduction (sum, max, mean, ...) of a value inside a loop nest; every value in a body is one element: write the reduction as a loop (s[i] += a[i, j])")
            }
            n.op.forEachInput { stack.append($0) }
        }
    }

    /// A sum over loops `dropped` of a product of two factors, each over some of the traced
    /// level's axes (scalars aside), that is a large matrix product: `c[i, j] += alpha * a[i, k] *
    /// b[k, j]` as `einsum("ik,kj->ij")`, which runs on the BLAS (`Einsum.asMatmul`); nil
    /// otherwise (the generated reduction runs). The product is computed when the statement is
    /// traced, a sync point for its factors.
    static func product(_ term: Node, kept: [Int], dropped: [Int], extents: [Int]) -> Node? {
        guard term.dtype == .float64 || term.dtype == .float32 else { return nil }
        var factors: [Node] = []
        func split(_ n: Node) {
            if case .binary(.mul, let a, let b) = n.op { split(a); split(b) } else { factors.append(n) }
        }
        split(term)
        func isScalar(_ n: Node) -> Bool {
            if n.count == 1 { return true }
            switch n.op {
            case .fill: return true
            case .view(let source, _): return source.count == 1
            default: return false
            }
        }
        // The axes a value depends on (a read's view has every axis of its loops, and depends
        // on those its subscript names); more than it does where that is not known.
        func depends(_ n: Node) -> Set<Int> {
            switch n.op {
            case .fill: return []
            case .view(let source, let map) where map.outRank == n.shape.count:
                var d: Set<Int> = []
                for a in 0..<map.inRank where source.shape[a] != 1 {
                    for k in 0..<map.outRank where map.c(a, k) != 0 && n.shape[k] != 1 { d.insert(k) }
                }
                return d
            case .unary(_, let a), .cast(let a): return depends(a)
            case .binary(_, let a, let b): return depends(a).union(depends(b))
            case .select(let c, let a, let b): return depends(c).union(depends(a)).union(depends(b))
            default: return Set(n.shape.indices.filter { n.shape[$0] != 1 })
            }
        }
        func axes(_ n: Node) -> [Int] { depends(n).sorted() }
        let arrays = factors.filter { !isScalar($0) }
        guard arrays.count == 2, factors.count <= 4 else { return nil }
        let (x, y) = (arrays[0], arrays[1])
        let (ax, ay) = (axes(x), axes(y))
        let shape = term.shape
        // A factor at index 0 of the axes it does not depend on, its own axes in order.
        func squeezed(_ n: Node, _ own: [Int]) -> Node {
            var coef = [Int](repeating: 0, count: shape.count * own.count)
            for (p, a) in own.enumerated() { coef[a * own.count + p] = 1 }
            let map = AffineMap(inRank: shape.count, outRank: own.count, offset: [Int](repeating: 0, count: shape.count), coef: coef)
            return Node(.view(n, map), dtype: n.dtype, shape: own.map { shape[$0] })
        }
        let out = kept.filter { shape[$0] != 1 }
        guard Set(dropped).isSubset(of: Set(ax).intersection(ay)), Set(out).isSubset(of: Set(ax).union(ay)),
              dropped.allSatisfy({ shape[$0] != 1 }), shape.count <= 26 else { return nil }
        // The product's sides, to ask whether the BLAS or the tiled kernel would take it before
        // building anything: a matrix-vector product never does (gesummv's and atax's sums asked
        // through `Einsum.asMatmul`, views and generic tensors made first, a seventh of a trace).
        func size(_ axes: [Int]) -> Int { axes.reduce(1) { $0 * shape[$1] } }
        let batched = out.contains { ax.contains($0) && ay.contains($0) }
        let (n, k, m) = (size(out.filter { ax.contains($0) && !ay.contains($0) }), size(dropped),
                         size(out.filter { ay.contains($0) && !ax.contains($0) }))
        let taken = term.dtype == .float64 ? Tensor<Double>.takesHostPath(n: n, k: k, m: m, batched: batched)
                                           : Tensor<Float>.takesHostPath(n: n, k: k, m: m, batched: batched)
        guard taken else { return nil }
        func label(_ a: Int) -> Character { Character(UnicodeScalar(UInt8(97 + a))) }
        var extent: [Character: Int] = [:]
        for a in shape.indices { extent[label(a)] = shape[a] }
        // The factors without their extent-1 axes; the scalars multiplied into the first.
        var left = squeezed(x, ax)
        let right = squeezed(y, ay)
        for s in factors where isScalar(s) {
            let scalar: Node
            if case .fill(let v) = s.op { scalar = Node(.fill(v), dtype: s.dtype, shape: left.shape) } else {
                scalar = Node(.reshape(s), dtype: s.dtype, shape: []).broadcast(to: left.shape)
            }
            left = Node(.binary(.mul, scalar, left), dtype: left.dtype, shape: left.shape)
        }
        func run<S: NumericTensorScalar>(_: S.Type) -> Node? {
            Einsum.asMatmul(ax.map(label), ay.map(label), output: out.map(label), summed: dropped.map(label),
                            Tensor<S>(node: left), Tensor<S>(node: right), extent: extent)
                .map { Node(.reshape($0.node), dtype: term.dtype, shape: extents) }
        }
        return term.dtype == .float64 ? run(Double.self) : run(Float.self)
    }

    /// `c[p] = c[p] ⊕ term` where `p` leaves out some loops: `c[p] ⊕ reduce(term)` over them.
    func reduction(_ value: Node, state: ArrayState, map: AffineMap, frame f: Frame)
        -> (map: AffineMap, value: Node, extents: [Int], selfRead: Node)? {
        guard case .binary(let op, let l, let r) = value.op else { return nil }
        let reduce: ReduceOp
        switch op {
        case .add, .sub: reduce = .sum
        case .mul: reduce = .prod
        // (uint64's ordering is not the reductions' signed one: its max and min stay loops)
        case .max where value.dtype != .uint64: reduce = .max
        case .min where value.dtype != .uint64: reduce = .min
        default: return nil
        }
        let d = f.extents.count
        let dropped = f.path.filter { k in (0..<map.inRank).allSatisfy { map.c($0, k) == 0 } }.sorted()
        guard !dropped.isEmpty else { return nil }
        func isSelf(_ n: Node) -> Bool {
            f.reads.contains { $0.node === n && $0.base === state.current && $0.map == map
                && ($0.source === state.standIn || $0.source === state.original) }
        }
        let selfRead: Node, term: Node
        if isSelf(l) { (selfRead, term) = (l, r) } else if op != .sub, isSelf(r) { (selfRead, term) = (r, l) } else { return nil }
        let kept = (0..<d).filter { !dropped.contains($0) }
        let extents = kept.map { f.shape[$0] }
        var coef = [Int](repeating: 0, count: map.inRank * kept.count)
        for a in 0..<map.inRank { for (j, k) in kept.enumerated() { coef[a * kept.count + j] = map.c(a, k) } }
        let reducedMap = AffineMap(inRank: map.inRank, outRank: kept.count, offset: map.offset, coef: coef)
        let summed = (reduce == .sum ? LoopRecorder.product(term, kept: kept, dropped: dropped, extents: extents) : nil)
            ?? Node(.reduce(reduce, term, axes: dropped), dtype: term.dtype, shape: extents)
        let old = Node(.view(state.current, reducedMap), dtype: value.dtype, shape: extents)
        let combined = selfRead === l ? Node(.binary(op, old, summed), dtype: value.dtype, shape: extents)
                                      : Node(.binary(op, summed, old), dtype: value.dtype, shape: extents)
        return (reducedMap, combined, extents, selfRead)
    }
}
