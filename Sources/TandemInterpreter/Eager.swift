import TandemIR

/// Operations on a few stored values computed at once, on the calling thread, as NumPy computes
/// them: no graph node, no plan, no task.
///
/// A program that works an element or a row at a time (`A[i, j] -= A[i, ..<j].dot(A[..<j, j])`
/// in a double loop, a triangular solve, a recurrence) builds graphs whose shapes change at
/// every statement, so no plan is ever reused and each operation paid for planning (7-9 µs a
/// node) what NumPy spends on the whole operation (about 1 µs). When every operand is already
/// in a host buffer (or is a constant) and the result is small, the runtime computes it here
/// instead and the tensor names a stored buffer, or a constant when the result is one float
/// element (`Result`; `Runtime.eagerGate` says when).
///
/// The values are the interpreter's, bit for bit: each element is the interpreter's scalar
/// function of its operands (`State.unary`, `State.binary`, `State.cast`), with loops for
/// float arithmetic that compute exactly the same expression, and a reduction folds in the
/// order the reduction kernel of the same stored operand folds in (`reduce`): the kernel's
/// axes (kept axes first, unit axes squeezed, adjacent axes that every access walks
/// contiguously merged), eight lanes over each innermost run combined pairwise for a floating
/// sum or product, a compiled-in short row added in order (`KernelBuilder.finish`). Sources
/// are bounded below the size at which the planner splits a reduction into chunks.
///
///     if let b = Eager.evaluate(.binary(.add, x, y), dtype: .float64, shape: [3], readable: { _ in true }) { ... }
public enum Eager {
    /// The largest result computed eagerly, in elements. Larger results gain from fusion and
    /// from the workers; below this, what a NumPy-style step costs is its per-operation overhead.
    public static let maxElements = 4096
    /// The largest source a reduction reads eagerly, in elements (the planner splits a
    /// reduction of 32,768 elements or more into chunks, which the order here does not follow).
    public static let maxReduceSource = 16384

    /// What an eager operation made: a new buffer, or one floating-point value, which the
    /// tensor holds as a constant (`Node.Op.fill`): an element read, a dot product, one step of
    /// a recurrence allocates no buffer, and the next operation reads it with stride 0. Integer
    /// and Bool values stay in buffers: a plan's key holds an integer constant's value, so a
    /// recorded graph reading one would be planned again for every value.
    public enum Result {
        case buffer(Buffer)
        case scalar(Literal)
    }

    /// Runs `fill` on the memory of a new result of `count` elements of `dtype`: a buffer, or an
    /// 8-byte slot on the stack when the result is one floating-point element (`Result`).
    static func produce(_ dtype: DType, _ count: Int, _ fill: (UnsafeMutableRawPointer) -> Void) -> Result {
        if count == 1 && dtype.isFloatingPoint {
            var bits: UInt64 = 0
            withUnsafeMutableBytes(of: &bits) { fill($0.baseAddress!) }
            return .scalar(dtype == .float64 ? .float(Double(bitPattern: bits))
                                             : .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))))
        }
        let out = Buffer(dtype: dtype, count: count)
        if count > 0 { fill(out.pointer) }
        return .buffer(out)
    }

    /// An operand: elements at `offset + Σ strides[k] * index[k]` of `pointer` over the index
    /// space of the result, or one constant (then `pointer` points at the constant's bits in a
    /// slot on the caller's stack and every stride is 0).
    struct Operand {
        var pointer: UnsafeMutableRawPointer
        var dtype: DType
        var offset: Int
        var strides: [Int]
        /// Keeps the buffer alive while the operand is read.
        var buffer: Buffer?
    }

    /// Where an operand's elements lie: a buffer (or a constant) with the offset and strides of
    /// its elements over the index space.
    typealias Resolved = (buffer: Buffer?, literal: Literal?, offset: Int, strides: [Int])

    /// The operand `node` of shape `node.shape` as it is stored: a buffer, a view or a reshape
    /// of one, or a constant. nil when it must be computed, lies elsewhere than on the host
    /// (`readable`), or a view chain is deeper than a few views.
    static func resolve(_ node: Node, depth: Int = 0, readable: (Buffer) -> Bool) -> Resolved? {
        guard depth < 8 else { return nil }
        switch node.op {
        case .storage(let b):
            guard b.count == 0 || (b.isAllocated && readable(b)) else { return nil }
            return (b, nil, 0, Shape.rowMajorStrides(node.shape))
        case .fill(let l):
            return (nil, l, 0, [Int].filled(0, count: node.shape.count))
        case .view(let source, let m):
            guard let r = resolve(source, depth: depth + 1, readable: readable) else { return nil }
            return viewed(r, m)
        case .reshape(let source):
            guard let r = resolve(source, depth: depth + 1, readable: readable) else { return nil }
            if r.literal != nil { return (nil, r.literal, 0, [Int].filled(0, count: node.shape.count)) }
            // Row-major contiguous (strides of unit axes do not matter): the flat index carries over.
            var expected = 1
            for d in stride(from: source.shape.count - 1, through: 0, by: -1) where source.shape[d] != 1 {
                guard r.strides[d] == expected else { return nil }
                expected *= source.shape[d]
            }
            return (r.buffer, nil, r.offset, Shape.rowMajorStrides(node.shape))
        default:
            return nil
        }
    }

    /// The operation's kind, for signatures.
    static func tag(_ op: Node.Op) -> Int {
        switch op {
        case .unary(let u, _): 1_000 + u.ordinal
        case .binary(let b, _, _): 2_000 + b.ordinal
        case .select: 3_000
        case .cast: 3_001
        case .reduce(let r, _, let axes): Int(truncatingIfNeeded: FNV1a.mix(UInt64(4_000 + r.ordinal), axes))
        case .view: 5_000
        default: 6_000
        }
    }

    /// A resolved operand seen through view map `m` (element `j` is element `m(j)` of it).
    static func viewed(_ r: Resolved, _ m: AffineMap)
        -> Resolved {
        if r.literal != nil { return (nil, r.literal, 0, [Int].filled(0, count: m.outRank)) }
        var offset = r.offset
        for d in 0..<m.inRank { offset += r.strides[d] * m.offset[d] }
        var strides = [Int].filled(0, count: m.outRank)
        for k in 0..<m.outRank {
            var s = 0
            for d in 0..<m.inRank { s += r.strides[d] * m.coef[d * m.outRank + k] }
            strides[k] = s
        }
        return (r.buffer, nil, offset, strides)
    }

    /// The elements of a stored view as a result of their own (`Tensor`'s subscripts and shape
    /// views of a small stored tensor): a view names its base's node, so while it lives a write
    /// into the base would have to copy the whole base; a copy of a few elements costs less
    /// and leaves the base to be written in place. nil when the source is not stored.
    /// `constant`: one floating-point element may come back as a constant (`Result`); false:
    /// always a buffer.
    public static func copy(_ source: Node, map: AffineMap, shape: [Int], constant: Bool = true, readable: (Buffer) -> Bool,
                            signature: inout UInt64) -> Result? {
        guard let r0 = resolve(source, readable: readable) else { return nil }
        let r = viewed(r0, map)
        signature = FNV1a.mix(FNV1a.mix(FNV1a.mix(FNV1a.mix(FNV1a.basis, 5_000), shape), r.literal == nil ? r.offset : -1), r.strides) | 1
        var room: UInt64 = 0
        return withUnsafeMutableBytes(of: &room) { slot -> Result? in
            guard let x = operand(r, dtype: source.dtype, slot: slot.baseAddress!) else { return nil }
            return constant ? copy(x, shape: shape) : .buffer(copyBuffer(x, shape: shape))
        }
    }

    /// Element `offset` (row-major) of `source` when it is stored in a host buffer, as a result
    /// of its own (`copy` of the view of that element, with the same signature); else nil.
    public static func element(_ source: Node, at offset: Int, readable: (Buffer) -> Bool, signature: inout UInt64) -> Result? {
        guard case .storage(let b) = source.op, b.isAllocated, readable(b), offset < b.count else { return nil }
        // `copy`'s digest for a view of no axes (its shape and strides mix in nothing).
        signature = FNV1a.mix(FNV1a.mix(FNV1a.basis, 5_000), offset) | 1
        let size = source.dtype.byteSize
        return produce(source.dtype, 1) { out in out.copyMemory(from: b.pointer + offset * size, byteCount: size) }
    }

    /// `x`'s elements over `shape`, row-major, in a new result (rows copied whole where they are
    /// contiguous).
    static func copy(_ x: Operand, shape: [Int]) -> Result {
        produce(x.dtype, Shape.count(shape)) { out in
            copyElements(x, shape: shape, into: out, offset: 0, strides: Shape.rowMajorStrides(shape))
        }
    }

    /// `copy(_:shape:)` always into a buffer.
    static func copyBuffer(_ x: Operand, shape: [Int]) -> Buffer {
        let out = Buffer(dtype: x.dtype, count: Shape.count(shape))
        if out.count > 0 { copyElements(x, shape: shape, into: out.pointer, offset: 0, strides: Shape.rowMajorStrides(shape)) }
        return out
    }

    /// Copies `x`'s elements over `shape` to `offset + Σ strides[k] * index[k]` of `p` (same type).
    static func copyElements(_ x: Operand, shape: [Int], into p: UnsafeMutableRawPointer, offset: Int, strides: [Int]) {
        let count = Shape.count(shape)
        guard count > 0 else { return }
        let rank = shape.count
        let len = rank == 0 ? 1 : shape[rank - 1]
        let si = rank == 0 ? 0 : x.strides[rank - 1], di = rank == 0 ? 0 : strides[rank - 1]
        let size = x.dtype.byteSize
        func row(_ src: Int, _ dst: Int) {
            if si == 1 && di == 1 {
                (p + dst * size).copyMemory(from: x.pointer + src * size, byteCount: len * size)
            } else if size == 8 {
                let s = x.pointer.assumingMemoryBound(to: UInt64.self), d = p.assumingMemoryBound(to: UInt64.self)
                for j in 0..<len { d[dst + j * di] = s[src + j * si] }
            } else if size == 4 {
                let s = x.pointer.assumingMemoryBound(to: UInt32.self), d = p.assumingMemoryBound(to: UInt32.self)
                for j in 0..<len { d[dst + j * di] = s[src + j * si] }
            } else {
                for j in 0..<len { (p + (dst + j * di) * size).copyMemory(from: x.pointer + (src + j * si) * size, byteCount: size) }
            }
        }
        if rank <= 1 { return row(x.offset, offset) }
        forEachRow(shape, offsets: [x.offset, offset], strides: [x.strides, strides]) { at in row(at[0], at[1]) }
    }

    /// `node` as an operand, a constant's bits written into `slot` of `constants` (8 bytes a
    /// slot, on the caller's stack: a constant is read there with stride 0).
    static func operand(_ node: Node, slot: Int, constants: UnsafeMutableRawPointer, readable: (Buffer) -> Bool,
                        signature h: inout UInt64) -> Operand? {
        guard let r = resolve(node, readable: readable) else { return nil }
        h = FNV1a.mix(FNV1a.mix(FNV1a.mix(h, Int(node.dtype.rawValue)), r.literal == nil ? r.offset : -1), r.strides)
        return operand(r, dtype: node.dtype, slot: constants + slot * 8)
    }

    /// A resolved operand of type `dtype` as an `Operand`: its buffer where it lies, or a
    /// constant's bits written into `slot` (8 bytes the caller keeps) and read with stride 0.
    static func operand(_ r: Resolved, dtype: DType,
                        slot: UnsafeMutableRawPointer) -> Operand? {
        if let l = r.literal {
            State.storeValue(State.literalValue(l.converted(to: dtype), dtype), slot, dtype, 0)
            return Operand(pointer: slot, dtype: dtype, offset: 0, strides: r.strides, buffer: nil)
        }
        guard let b = r.buffer else { return nil }
        // An empty buffer is never read (the loops run no point).
        let p = b.isAllocated ? b.pointer : UnsafeMutableRawPointer(bitPattern: 64)!
        return Operand(pointer: p, dtype: dtype, offset: r.offset, strides: r.strides, buffer: b)
    }

    /// The result of `op` (a unary, binary, select, cast or non-arg reduction) of type `dtype`
    /// and shape `shape`, in a new buffer or a constant (`Result`); nil when an operand is not stored on the host or the
    /// operation is not one computed here.
    ///
    /// `signature`: set, when the result is computed, to a digest of the operation, its types
    /// and shape and where each operand is read (offsets and strides): what a plan's key holds.
    public static func evaluate(_ op: Node.Op, dtype: DType, shape: [Int], readable: (Buffer) -> Bool,
                                signature: inout UInt64) -> Result? {
        var h = FNV1a.mix(FNV1a.mix(FNV1a.basis, Int(dtype.rawValue)), shape)
        let result = withUnsafeTemporaryAllocation(byteCount: 32, alignment: 16) { room in
            evaluate(op, dtype: dtype, shape: shape, constants: room.baseAddress!, readable: readable, signature: &h)
        }
        if result != nil { signature = h | 1 }
        return result
    }

    private static func evaluate(_ op: Node.Op, dtype: DType, shape: [Int], constants: UnsafeMutableRawPointer,
                                 readable: (Buffer) -> Bool, signature: inout UInt64) -> Result? {
        signature = FNV1a.mix(signature, tag(op))
        switch op {
        case .unary(let u, let a):
            guard let x = operand(a, slot: 0, constants: constants, readable: readable, signature: &signature) else { return nil }
            let neg: FastRow? = dtype == .float64 && a.dtype == .float64 && u == .neg ? { o, p, sx, _, _, n in
                let x = p.assumingMemoryBound(to: Double.self)
                for j in 0..<n { o.assumingMemoryBound(to: Double.self)[j] = -x[j * sx] }
            } : nil
            return elementwise(shape, dtype, [x], fast: neg) { v in State.unary(u, v[0], dtype) }
        case .binary(let b, let a, let c):
            guard let x = operand(a, slot: 0, constants: constants, readable: readable, signature: &signature),
                  let y = operand(c, slot: 1, constants: constants, readable: readable, signature: &signature) else { return nil }
            let operandType = a.dtype
            return elementwise(shape, dtype, [x, y], fast: fastBinary(b, dtype, operandType)) { v in
                State.binary(b, v[0], v[1], operand: operandType, dtype)
            }
        case .select(let c, let a, let b):
            guard let x = operand(c, slot: 0, constants: constants, readable: readable, signature: &signature),
                  let y = operand(a, slot: 1, constants: constants, readable: readable, signature: &signature),
                  let z = operand(b, slot: 2, constants: constants, readable: readable, signature: &signature) else { return nil }
            return elementwise(shape, dtype, [x, y, z], fast: nil) { v in v[0].i != 0 ? v[1] : v[2] }
        case .cast(let a):
            guard let x = operand(a, slot: 0, constants: constants, readable: readable, signature: &signature) else { return nil }
            let from = a.dtype
            if from == dtype { return copy(x, shape: shape) }
            return elementwise(shape, dtype, [x], fast: nil) { v in State.cast(v[0], from: from, to: dtype) }
        case .reduce(let r, let source, let axes):
            guard !r.isArg, source.count <= maxReduceSource,
                  let x = operand(source, slot: 0, constants: constants, readable: readable, signature: &signature) else { return nil }
            return reduce(r, x, sourceShape: source.shape, axes: axes, dtype: dtype)
        default:
            return nil
        }
    }

    /// A loop over one innermost row: the output's start, the first and second operands' starts
    /// and strides along the row (a unary operation's second is its first), the row's length.
    typealias FastRow = (_ out: UnsafeMutableRawPointer, _ x: UnsafeMutableRawPointer, _ sx: Int,
                         _ y: UnsafeMutableRawPointer, _ sy: Int, _ count: Int) -> Void

    /// The loop of float arithmetic that computes what `State.binary` computes (a Float result
    /// of `+ - * /` is the correctly rounded one either way), or nil.
    static func fastBinary(_ op: BinaryOp, _ t: DType, _ operand: DType) -> FastRow? {
        guard t == operand, t == .float64 || t == .float32 else { return nil }
        switch (op, t) {
        case (.add, .float64): return { o, x, sx, y, sy, n in loop(Double.self, o, x, sx, y, sy, n, +) }
        case (.sub, .float64): return { o, x, sx, y, sy, n in loop(Double.self, o, x, sx, y, sy, n, -) }
        case (.mul, .float64): return { o, x, sx, y, sy, n in loop(Double.self, o, x, sx, y, sy, n, *) }
        case (.div, .float64): return { o, x, sx, y, sy, n in loop(Double.self, o, x, sx, y, sy, n, /) }
        case (.add, .float32): return { o, x, sx, y, sy, n in loop(Float.self, o, x, sx, y, sy, n, +) }
        case (.sub, .float32): return { o, x, sx, y, sy, n in loop(Float.self, o, x, sx, y, sy, n, -) }
        case (.mul, .float32): return { o, x, sx, y, sy, n in loop(Float.self, o, x, sx, y, sy, n, *) }
        case (.div, .float32): return { o, x, sx, y, sy, n in loop(Float.self, o, x, sx, y, sy, n, /) }
        default: return nil
        }
    }

    @inline(__always)
    static func loop<T: BinaryFloatingPoint>(_: T.Type, _ o: UnsafeMutableRawPointer, _ px: UnsafeMutableRawPointer, _ sx: Int,
                                             _ py: UnsafeMutableRawPointer, _ sy: Int, _ n: Int, _ f: (T, T) -> T) {
        let out = o.assumingMemoryBound(to: T.self)
        let x = px.assumingMemoryBound(to: T.self), y = py.assumingMemoryBound(to: T.self)
        if sx == 1 && sy == 1 {
            for j in 0..<n { out[j] = f(x[j], y[j]) }
        } else {
            for j in 0..<n { out[j] = f(x[j * sx], y[j * sy]) }
        }
    }

    /// A new row-major result of `shape` whose elements are `scalar` of the operands' elements
    /// (`values[k]` is operand `k`'s), or `fast` over whole innermost rows.
    static func elementwise(_ shape: [Int], _ dtype: DType, _ operands: [Operand], fast: FastRow?,
                            _ scalar: (UnsafeMutablePointer<Value>) -> Value) -> Result {
        let count = Shape.count(shape)
        return produce(dtype, count) { out in
            withUnsafeTemporaryAllocation(of: Value.self, capacity: operands.count) { room in
                let values = room.baseAddress!
                values.initialize(repeating: Value(f: 0, i: 0), count: operands.count)
                elementwise(shape, count, dtype, operands, fast, scalar, out, values)
            }
        }
    }

    private static func elementwise(_ shape: [Int], _ count: Int, _ dtype: DType, _ operands: [Operand], _ fast: FastRow?,
                                    _ scalar: (UnsafeMutablePointer<Value>) -> Value, _ out: UnsafeMutableRawPointer,
                                    _ values: UnsafeMutablePointer<Value>) {
        // The start of operand `k`'s row at element offset `at`, for `fast`.
        func start(_ k: Int, _ at: Int) -> UnsafeMutableRawPointer { operands[k].pointer + at * operands[k].dtype.byteSize }
        let second = operands.count > 1 ? 1 : 0
        // One element or one axis (what `Tandem.eager` computes): one loop, no odometer.
        if let axis = shape.count == 0 ? nil : (shape.firstIndex { $0 != 1 } ?? shape.count - 1),
           shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == 1 }) {
            if let fast, count > 1 {
                fast(out, start(0, operands[0].offset), operands[0].strides[axis],
                     start(second, operands[second].offset), operands[second].strides[axis], count)
            } else {
                for j in 0..<count {
                    for k in operands.indices {
                        values[k] = State.load(operands[k].pointer, operands[k].dtype, operands[k].offset + j * operands[k].strides[axis])
                    }
                    State.storeValue(scalar(values), out, dtype, j)
                }
            }
            return
        }
        let rank = shape.count
        let len = rank == 0 ? 1 : shape[rank - 1]
        let inner = operands.map { rank == 0 ? 0 : $0.strides[rank - 1] }
        let size = dtype.byteSize
        var at = 0
        forEachRow(shape, offsets: operands.map(\.offset), strides: operands.map(\.strides)) { bases in
            if let fast {
                fast(out + at * size, start(0, bases[0]), inner[0], start(second, bases[second]), inner[second], len)
            } else {
                for j in 0..<len {
                    for k in operands.indices {
                        values[k] = State.load(operands[k].pointer, operands[k].dtype, bases[k] + j * inner[k])
                    }
                    State.storeValue(scalar(values), out, dtype, at + j)
                }
            }
            at += len
        }
    }

    /// Calls `body` once for each row of `shape` (each index of its axes but the last, in
    /// row-major order) with every access's element offset at the row's start: access `k`
    /// starts at `offsets[k]` and moves by `strides[k][d]` along axis `d`. The one odometer of
    /// the elementwise, copying and reducing loops here.
    static func forEachRow(_ shape: [Int], offsets: [Int], strides: [[Int]], _ body: ([Int]) -> Void) {
        let outer = max(shape.count - 1, 0)
        var rows = 1
        for d in 0..<outer { rows *= shape[d] }
        var at = offsets
        var index = [Int].filled(0, count: outer)
        for _ in 0..<rows {
            body(at)
            var d = outer - 1
            while d >= 0 {
                index[d] += 1
                for k in at.indices { at[k] += strides[k][d] }
                if index[d] < shape[d] { break }
                for k in at.indices { at[k] -= strides[k][d] * shape[d] }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// An axis of a reduction kernel's domain: its extent, whether it is kept (parallel), and
    /// the source's and the result's strides along it (the result's is 0 along reduce axes).
    struct Axis {
        var extent: Int
        var parallel: Bool
        var source: Int
        var result: Int
    }

    /// The reduction `op` of `x` (over `sourceShape`) along `axes`, folded as the reduction
    /// kernel of a stored source folds (see the type's comment), into a new result of the kept
    /// axes' shape.
    static func reduce(_ op: ReduceOp, _ x: Operand, sourceShape: [Int], axes: [Int], dtype: DType) -> Result {
        let kept = (0..<sourceShape.count).filter { !axes.contains($0) }
        let outShape = kept.map { sourceShape[$0] }
        // The kernel's domain: kept axes, then the reduce axes; each with the source's stride
        // and the result's (0 along reduce axes).
        let outStrides = Shape.rowMajorStrides(outShape)
        var domain: [Axis] = []
        for (i, d) in kept.enumerated() { domain.append(Axis(extent: sourceShape[d], parallel: true, source: x.strides[d], result: outStrides[i])) }
        for d in axes { domain.append(Axis(extent: sourceShape[d], parallel: false, source: x.strides[d], result: 0)) }
        // Squeezed and merged as `KernelBuilder.finish` does (no arg reductions here): an axis
        // merges into the one before when both are of one kind and every access steps over the
        // inner one contiguously. A constant source has no access.
        let constant = x.buffer == nil
        var axesK: [Axis] = []
        for a in domain where a.extent != 1 {
            if let last = axesK.last, last.parallel == a.parallel,
               constant || last.source == a.source * a.extent, last.result == a.result * a.extent {
                axesK[axesK.count - 1] = Axis(extent: last.extent * a.extent, parallel: last.parallel, source: a.source, result: a.result)
            } else {
                axesK.append(a)
            }
        }
        let reduceAxes = axesK.filter { !$0.parallel }
        let isFloat = x.dtype.isFloatingPoint
        let widest = max(x.dtype.byteSize, dtype.byteSize)
        let shortRow = axesK.count >= 2 && !axesK[axesK.count - 1].parallel && axesK[axesK.count - 2].parallel
            && (axesK[axesK.count - 1].extent * widest <= 32 || axesK[axesK.count - 1].extent < Kernel.reductionLanes)
        let laned = !reduceAxes.isEmpty && !shortRow && (op == .sum || op == .prod) && isFloat
        let identity: Acc
        switch op {
        case .sum: identity = Acc()
        case .prod: identity = Acc(f: 1, i: 1)
        case .max: identity = isFloat ? Acc(f: -.infinity) : Acc(i: .min)
        case .min: identity = isFloat ? Acc(f: .infinity) : Acc(i: .max)
        case .argmax, .argmin: preconditionFailure("eager: arg reductions are not computed here")
        }
        let L = Kernel.reductionLanes
        let innerExtent = reduceAxes.last?.extent ?? 1
        let innerStride = reduceAxes.last?.source ?? 0
        let outer = reduceAxes.dropLast()
        let lanedFloatSum = laned && op == .sum && (x.dtype == .float64 || x.dtype == .float32)
        // A run's values, loaded for `State.foldRun` (not needed by a laned float sum, which reads
        // memory, or by no reduce axis at all).
        let width = lanedFloatSum || reduceAxes.isEmpty ? 1 : max(innerExtent, 1)
        return produce(dtype, Shape.count(outShape)) { out in
          withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { vfRoom in
          withUnsafeTemporaryAllocation(of: Int64.self, capacity: width) { viRoom in
          withUnsafeTemporaryAllocation(of: Acc.self, capacity: L) { lanesRoom in
            let vf = vfRoom.baseAddress!, vi = viRoom.baseAddress!, lanes = lanesRoom.baseAddress!
            lanes.initialize(repeating: identity, count: L)
            var o = 0
            // Each kept point, row-major over the result; under it each run of the innermost
            // reduce axis in turn (the outer reduce axes row-major).
            forEachRow(outShape + [1], offsets: [x.offset], strides: [kept.map { x.strides[$0] } + [0]]) { point in
                let base = point[0]
                var acc = identity
                if reduceAxes.isEmpty {
                    let v = State.load(x.pointer, x.dtype, base)
                    var f = v.f, i = v.i
                    State.foldRun(op, isFloat, &acc, &f, &i, from: 0, to: 1, by: 1, index: 0)
                } else {
                    forEachRow(outer.map(\.extent) + [1], offsets: [base], strides: [outer.map(\.source) + [0]]) { run in
                        let runStart = run[0]
                        if lanedFloatSum {
                            // A floating sum in lanes straight from memory: `foldRun`'s additions,
                            // in its order, without the run's values copied out first.
                            acc.f += lanedSum(x, from: runStart, count: innerExtent, stride: innerStride)
                            return
                        }
                        switch x.dtype {
                        case .float64:
                            let p = x.pointer.assumingMemoryBound(to: Double.self) + runStart
                            for j in 0..<innerExtent { vf[j] = p[j * innerStride] }
                        case .float32:
                            let p = x.pointer.assumingMemoryBound(to: Float.self) + runStart
                            for j in 0..<innerExtent { vf[j] = Double(p[j * innerStride]) }
                        default:
                            for j in 0..<innerExtent {
                                let v = State.load(x.pointer, x.dtype, runStart + j * innerStride)
                                vf[j] = v.f
                                vi[j] = v.i
                            }
                        }
                        if laned {
                            for l in 0..<L {
                                lanes[l] = identity
                                State.foldRun(op, isFloat, &lanes[l], vf, vi, from: l, to: innerExtent, by: L, index: 0)
                            }
                            var width = L
                            while width > 1 {
                                width /= 2
                                for l in 0..<width {
                                    var a = lanes[2 * l]
                                    var bf = lanes[2 * l + 1].f, bi = lanes[2 * l + 1].i
                                    State.foldRun(op, isFloat, &a, &bf, &bi, from: 0, to: 1, by: 1, index: 0)
                                    lanes[l] = a
                                }
                            }
                            var tf = lanes[0].f, ti = lanes[0].i
                            State.foldRun(op, isFloat, &acc, &tf, &ti, from: 0, to: 1, by: 1, index: 0)
                        } else {
                            State.foldRun(op, isFloat, &acc, vf, vi, from: 0, to: innerExtent, by: 1, index: 0)
                        }
                    }
                }
                let result = isFloat ? State.fromDouble(acc.f, dtype) : State.fromInt(acc.i, dtype)
                State.storeValue(result, out, dtype, o)
                o += 1
            }
          }
          }
          }
        }
    }

    /// The laned sum of `count` elements of `x` from `start` by `stride` (floating point):
    /// element `j` into lane `j % 8`, each lane from 0 in order, the lanes combined
    /// `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))` (`Kernel.lanedReduction`).
    static func lanedSum(_ x: Operand, from start: Int, count: Int, stride: Int) -> Double {
        var l0 = 0.0, l1 = 0.0, l2 = 0.0, l3 = 0.0, l4 = 0.0, l5 = 0.0, l6 = 0.0, l7 = 0.0
        func run<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>) {
            var j = 0
            while j + 8 <= count {
                l0 += Double(p[j * stride]); l1 += Double(p[(j + 1) * stride])
                l2 += Double(p[(j + 2) * stride]); l3 += Double(p[(j + 3) * stride])
                l4 += Double(p[(j + 4) * stride]); l5 += Double(p[(j + 5) * stride])
                l6 += Double(p[(j + 6) * stride]); l7 += Double(p[(j + 7) * stride])
                j += 8
            }
            var k = 0
            while j < count {
                let v = Double(p[j * stride])
                switch k {
                case 0: l0 += v
                case 1: l1 += v
                case 2: l2 += v
                case 3: l3 += v
                case 4: l4 += v
                case 5: l5 += v
                default: l6 += v
                }
                j += 1
                k += 1
            }
        }
        if x.dtype == .float64 {
            run(UnsafePointer(x.pointer.assumingMemoryBound(to: Double.self) + start))
        } else {
            run(UnsafePointer(x.pointer.assumingMemoryBound(to: Float.self) + start))
        }
        return ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))
    }

    /// Writes `value` (an operand of shape `shape`, already of `buffer`'s type) into `buffer`
    /// at `offset + Σ strides[k] * index[k]`, in place. A value read from the same buffer is
    /// copied out first (NumPy's meaning: the right-hand side is computed before the write).
    /// False when the value is not stored on the host.
    /// `signature` as `evaluate` sets it (the value's operand, where it is written).
    public static func write(_ value: Node, into buffer: Buffer, offset: Int, strides: [Int], readable: (Buffer) -> Bool,
                             signature: inout UInt64) -> Bool {
        var h = FNV1a.mix(FNV1a.mix(FNV1a.mix(FNV1a.basis, 7_000), offset), strides)
        let done = withUnsafeTemporaryAllocation(byteCount: 8, alignment: 16) { room in
            write(value, into: buffer, offset: offset, strides: strides, constants: room.baseAddress!, readable: readable, signature: &h)
        }
        if done { signature = h | 1 }
        return done
    }

    private static func write(_ value: Node, into buffer: Buffer, offset: Int, strides: [Int], constants: UnsafeMutableRawPointer,
                              readable: (Buffer) -> Bool, signature: inout UInt64) -> Bool {
        guard var x = operand(value, slot: 0, constants: constants, readable: readable, signature: &signature) else { return false }
        let shape = value.shape
        var copied: Buffer?
        if x.buffer === buffer {
            let c = copyBuffer(x, shape: shape)
            copied = c
            x = Operand(pointer: c.pointer, dtype: value.dtype, offset: 0, strides: Shape.rowMajorStrides(shape), buffer: c)
        }
        copyElements(x, shape: shape, into: buffer.pointer, offset: offset, strides: strides)
        withExtendedLifetime(copied) {}
        return true
    }
}

extension State {
    /// A literal kernel parameter's value in `t` (`.param` in `evaluate`).
    static func literalValue(_ l: Literal, _ t: DType) -> Value {
        t.isFloatingPoint ? fromDouble(l.asDouble, t) : fromInt(l.asInt64, t)
    }

    /// Stores `v` as element `i` of a buffer of `dtype` at `p` (what `store` does).
    static func storeValue(_ v: Value, _ p: UnsafeMutableRawPointer, _ dtype: DType, _ i: Int) {
        switch dtype {
        case .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: dtype.storeInteger(v.i, p, i)
        case .float32: p.storeBytes(of: Float(v.f), toByteOffset: i * 4, as: Float.self)
        case .float64: p.storeBytes(of: v.f, toByteOffset: i * 8, as: Double.self)
        }
    }
}
