import TandemIR
import TandemInterpreter
import TandemRuntime

// Operations on a few stored values computed at once (`Eager`), as NumPy computes them: a
// program that works an element or a row at a time builds graphs whose shapes change at every
// statement, which no plan is reused for.
extension Tandem {
    /// The result of `op` computed now, when it is small (at most `Eager.maxElements`), every
    /// operand is stored on the host, and the runtime allows it here (`Runtime.eagerGate`; not
    /// while a `Tandem.loop` body is traced, whose reads must stay symbolic); else nil, and the
    /// operation is recorded. One floating-point element comes back as a constant (`Eager.Result`).
    static func eager(_ op: Node.Op, dtype: DType, shape: [Int]) -> Eager.Result? {
        let rt = runtime
        // Atomics first: this is asked at every operation, and eager operations are mostly off.
        guard rt.eagerOpen else { return nil }
        var axes = 0
        for e in shape where e != 1 { axes += 1 }
        let count = Shape.count(shape)
        switch op {
        case .unary, .binary, .select, .cast, .view:
            // Results of one axis (an element, a row, a column, a vector) only. A result of more
            // axes stays recorded, fused with what reads it: stored here, a sum over two of its
            // axes would fold them as one contiguous run, where the kernel computing it from
            // strided operands folds each row (`Eager.reduce`), and the bits would depend on
            // whether eager operations were on. Views of one axis are copied: a view names its
            // base's node, and while it lives a write into the base copies the whole base.
            guard axes <= 1 else { return nil }
            // A long view stays a view (the copy would cost more than NumPy's whole operation on
            // it); eager operations read it where it lies.
            if case .view = op, count > Tandem.eagerViewCopyLimit { return nil }
        case .reduce(let r, let source, _): guard !r.isArg, source.count <= Eager.maxReduceSource else { return nil }
        default: return nil
        }
        guard count <= Eager.maxElements else { return nil }
        // A reduction of a pending source stays recorded (see below): not worth a wait.
        if case .reduce(_, let source, _) = op, !source.isFill, !rt.isStored(source) { return nil }
        guard LoopNest.current == nil, rt.eagerReady else { return nil }
        let start = rt.eagerStart
        func attempt() -> Eager.Result? {
            rt.withEagerAccess { readable, signature -> Eager.Result? in
                if case .view(let source, let map) = op {
                    return Eager.copy(source, map: map, shape: shape, readable: readable, signature: &signature)
                }
                return Eager.evaluate(op, dtype: dtype, shape: shape, readable: readable, signature: &signature)
            }
        }
        var result = attempt()
        if result == nil {
            // Operands still pending (the graph recorded before eager operations turned on):
            // computed now, once, and the operation eager after all (else every later operation
            // would read a pending value and be recorded too).
            // Not a reduction's source: computed apart it would be stored contiguous, and its
            // sum fold in another order than the kernel that fuses the two (above).
            // Not while eager operations are tentative (`Runtime.eagerMaterializes`): the
            // operation is recorded with them.
            var pending: [Node] = []
            if case .reduce = op {} else if rt.eagerMaterializes {
                op.forEachInput { if !rt.isStored($0) && !$0.isFill { pending.append($0) } }
            }
            if !pending.isEmpty, !rt.hasAccelerator, (try? rt.materialize(pending)) != nil, rt.eagerGate { result = attempt() }
        }
        guard let result else { return nil }
        rt.noteEager("eager \(Tandem.eagerName(op))", start: start, elements: count)
        return result
    }

    /// The longest view copied out by `eager` (a row of a small matrix, an element).
    static let eagerViewCopyLimit = 256

    static func eagerName(_ op: Node.Op) -> String {
        switch op {
        case .unary(let u, _): u.rawValue
        case .binary(let b, _, _): b.rawValue
        case .select: "where"
        case .cast: "cast"
        case .reduce(let r, _, _): r.rawValue
        case .view: "view"
        default: "operation"
        }
    }
}

extension Tensor {
    /// `self[i, j, ...]` with an integer for every axis, read now (`Tandem.eager`'s conditions)
    /// from this tensor's own stored buffer: the element's offset straight from the indices,
    /// with no view map or view node (an element-at-a-time loop reads two or three a
    /// statement). nil: the general path (`viewMap`, then `Tandem.eager`'s copy of the view).
    func eagerElement(_ indices: [TensorIndex]) -> Tensor? {
        let rt = Tandem.runtime
        guard rt.eagerOpen, let offset = elementOffset(indices), LoopNest.current == nil, rt.eagerReady else { return nil }
        let start = rt.eagerStart
        let source = node
        guard let r = rt.withEagerAccess({ readable, signature -> Eager.Result? in
            Eager.element(source, at: offset, readable: readable, signature: &signature)
        }) else { return nil }
        rt.noteEager("eager view", start: start, elements: 1)
        return Tensor(node: Node(eager: r, dtype: Scalar.dtype, shape: []))
    }

    /// The row-major offset of the element `indices` name, when they are an integer for every
    /// axis (counted from the end when negative; out of bounds is NumPy's error); else nil.
    func elementOffset(_ indices: [TensorIndex]) -> Int? {
        guard indices.count == rank, rank > 0 else { return nil }
        var offset = 0
        for (d, item) in indices.enumerated() {
            guard case .index(let i) = item else { return nil }
            let n = shape[d]
            let j = i < 0 ? i + n : i
            precondition(j >= 0 && j < n, "index \(i) is out of bounds for axis \(d) with size \(n)")
            offset = offset * n + j
        }
        return offset
    }

    /// `self[i, j, ...] = value` with an integer for every axis and a value of no axes, written
    /// now into this tensor's own stored buffer when nothing else can see it
    /// (`uniquelyStoredBuffer`, `Tandem.eager`'s conditions): the element's offset straight
    /// from the indices, with no view map (an element-at-a-time loop writes one or two a
    /// statement; `eagerElement` is the read). False: the general path (`eagerWrite`, which
    /// also copies a shared tensor, or the recorded write).
    mutating func eagerElementWrite(_ indices: [TensorIndex], _ value: Tensor) -> Bool {
        guard value.rank == 0 else { return false }
        let rt = Tandem.runtime
        guard rt.eagerOpen, let offset = elementOffset(indices), LoopNest.current == nil, rt.eagerReady,
              let own = uniquelyStoredBuffer() else { return false }
        let start = rt.eagerStart
        let v = value.node
        guard rt.withEagerAccess({ readable, signature in
            readable(own) && Eager.write(v, into: own, offset: offset, strides: [], readable: readable, signature: &signature)
        }) else { return false }
        rt.noteEager("eager write", start: start, elements: 1, inPlace: true)
        return true
    }

    /// `self[map] = value` computed now (`Tandem.eager`'s conditions): into this tensor's own
    /// buffer when nothing else can see it (`uniquelyStoredBuffer`), else into a copy of the whole
    /// tensor (up to `Runtime.eagerWholeTensorLimit` elements), after which it is its own. False:
    /// record the write.
    mutating func eagerWrite(map: AffineMap, shape outShape: [Int], value: Tensor) -> Bool {
        let rt = Tandem.runtime
        guard rt.eagerOpen, Shape.count(outShape) <= Eager.maxElements else { return false }
        guard LoopNest.current == nil, rt.eagerReady else { return false }
        let start = rt.eagerStart
        let v = value.broadcastNode(to: outShape)
        let (offset, strides) = map.flatten(rowMajor: shape)
        if !rt.isStored(node) || !(rt.isStored(v) || v.isFill), !rt.hasAccelerator {
            // Pending (recorded before eager operations turned on): computed now, once; only
            // constants, filled on the host, while eager operations are tentative
            // (`Runtime.eagerMaterializes`).
            let stored = rt.eagerMaterializes ? (try? rt.materialize([node, v])) != nil : rt.storeConstants([node, v])
            guard stored, rt.eagerGate else { return false }
        }
        if let own = uniquelyStoredBuffer() {
            guard rt.withEagerAccess({ readable, signature in
                readable(own) && Eager.write(v, into: own, offset: offset, strides: strides, readable: readable, signature: &signature)
            }) else { return false }
            rt.noteEager("eager write", start: start, elements: Shape.count(outShape), inPlace: true)
            return true
        }
        guard count <= Runtime.eagerWholeTensorLimit else { return false }
        let dtype = Scalar.dtype, full = shape, base = node
        guard let copy = rt.withEagerAccess({ readable, signature -> Buffer? in
            // The copy's own signature is not counted: the write's stands for the operation.
            var whole: UInt64 = 0
            guard case .buffer(let c)? = Eager.copy(base, map: .identity(full.count), shape: full, constant: false, readable: readable,
                                                    signature: &whole),
                  Eager.write(v, into: c, offset: offset, strides: strides, readable: readable, signature: &signature) else { return nil }
            return c
        }) else { return false }
        handle = TensorHandle(Node(.storage(copy), dtype: dtype, shape: full))
        rt.noteEager("eager write (copy)", start: start, elements: Shape.count(outShape))
        return true
    }
}

extension Node {
    /// The node holding an eager result: a stored buffer, or a constant.
    convenience init(eager result: Eager.Result, dtype: DType, shape: [Int]) {
        switch result {
        case .buffer(let b): self.init(.storage(b), dtype: dtype, shape: shape)
        case .scalar(let value): self.init(.fill(value), dtype: dtype, shape: shape)
        }
    }

    /// Whether this node is a constant (a fill), which an eager operation reads as it is.
    fileprivate var isFill: Bool { if case .fill = op { true } else { false } }
}
