import TandemRuntime

/// One entry of a subscript: an integer (drops the axis), a range or stride (keeps it), or a marker.
public enum TensorIndex: TensorIndexExpression, Sendable {
    case index(Int)
    /// Elements `start, start + step, ...` (count of them); `step` may be negative.
    case slice(start: Int?, end: Int?, step: Int)
    case _all
    case _newAxis
    case _ellipsis
    /// An integer tensor: the axis is replaced by the index tensor's axes, each element taken at
    /// that index (NumPy's integer-array indexing; several index tensors of one subscript are
    /// broadcast together and select points, as NumPy's do).
    case _tensor(Node)
    /// An index of a `Tandem.loop` nest (an affine expression of its loop variables).
    case _loop(LoopIndex)

    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { self }

    /// The items of a variadic subscript (a loop, not `map(\.tensorIndex)`: a key path's
    /// application cost more than the rest of a small view's making).
    @inline(__always)
    static func items(_ expressions: [any TensorIndexExpression]) -> [TensorIndex] {
        var items: [TensorIndex] = []
        items.reserveCapacity(expressions.count)
        for e in expressions { items.append(e.tensorIndex) }
        return items
    }

    /// The view map (view index → source index) and the view's shape for `indices` into a
    /// tensor of `shape`. Not generic, and built in two passes straight into the map's arrays:
    /// subscripts are the commonest call of a stencil program, and the generic version with
    /// its temporary arrays of tuples cost about 5,000 instructions a call.
    static func viewMap(shape: [Int], _ indices: [TensorIndex]) -> (AffineMap, [Int]) {
        let rank = shape.count
        var consumed = 0, ellipsis = -1, columns = 0
        for (k, item) in indices.enumerated() {
            switch item {
            case .index: consumed += 1
            case ._loop: preconditionFailure("a loop index is used outside its Tandem.loop")
            case .slice, ._all, ._tensor: consumed += 1; columns += 1
            case ._newAxis: columns += 1
            case ._ellipsis:
                precondition(ellipsis < 0, "an index can only have a single ellipsis ('...')")
                ellipsis = k
            }
        }
        precondition(consumed <= rank, "too many indices for tensor: tensor is \(rank)-dimensional, but \(consumed) were indexed")
        let implicit = rank - consumed            // whole axes that `...` or the end stand for
        columns += implicit
        var offset = [Int].filled(0, count: rank)
        var coef = [Int].filled(0, count: rank * columns)
        var outShape: [Int] = []
        outShape.reserveCapacity(columns)
        var d = 0, k = 0
        func whole(_ count: Int) {
            for _ in 0..<count {
                coef[d * columns + k] = 1
                outShape.append(shape[d])
                d += 1
                k += 1
            }
        }
        for item in indices {
            switch item {
            case .index(let i):
                let n = shape[d]
                let j = i < 0 ? i + n : i
                precondition(j >= 0 && j < n, "index \(i) is out of bounds for axis \(d) with size \(n)")
                offset[d] = j
                d += 1
            case ._all, ._tensor:
                whole(1)
            case .slice(let s, let e, let step):
                let (start, count) = sliceExtent(start: s, end: e, step: step, size: shape[d], axis: d)
                offset[d] = start
                coef[d * columns + k] = step
                outShape.append(count)
                d += 1
                k += 1
            case ._newAxis:
                outShape.append(1)
                k += 1
            case ._ellipsis:
                whole(implicit)
            case ._loop:
                preconditionFailure("a loop index is used outside its Tandem.loop")
            }
        }
        if ellipsis < 0 { whole(implicit) }
        return (AffineMap(inRank: rank, outRank: columns, offset: offset, coef: coef), outShape)
    }

    /// Start and count of a slice. Negative bounds count from the end as in NumPy (`-3...` is the
    /// last three elements, `..<(-1)` all but the last); for a negative step an end of -1 means
    /// "past the first element", as in `stride(from: n - 1, to: -1, by: -1)`. Bounds must then lie
    /// inside the axis (a Swift habit, unlike NumPy's silent clamping): a mistake is reported
    /// where it is written.
    static func sliceExtent(start: Int?, end: Int?, step: Int, size n: Int, axis: Int) -> (Int, Int) {
        precondition(step != 0, "slice step cannot be zero")
        if step > 0 {
            var s = start ?? 0, e = end ?? n
            if s < 0 { s += n }
            if e < 0 { e += n }
            precondition(s >= 0 && e <= n && s <= e, "range \(start ?? 0)..<\(end ?? n) is out of bounds for axis \(axis) with size \(n)")
            return (s, (e - s + step - 1) / step)
        }
        var s = start ?? n - 1, e = end ?? -1
        if s < 0 { s += n }
        if e < -1 { e += n }
        precondition(s < n && e >= -1 && s >= e, "stride from \(start ?? n - 1) to \(end ?? -1) by \(step) is out of bounds for axis \(axis) with size \(n)")
        return (s, (s - e + (-step) - 1) / (-step))
    }

    /// Whether the item stands for one axis of the indexed tensor (`.newAxis` and `...` do not).
    var consumesAxis: Bool {
        switch self {
        case .index, .slice, ._all, ._tensor, ._loop: true
        case ._newAxis, ._ellipsis: false
        }
    }
}

/// Integer element types (`Int8` ... `Int64`, `UInt8` ... `UInt64`): bitwise operations
/// and shifts, integer means.
public protocol IntegerTensorScalar: NumericTensorScalar, BinaryInteger {}

/// `UInt64` (NumPy's `uint64`): sums and products stay `UInt64` (wrapping), as NumPy keeps them;
/// ordering, division, remainders and right shifts are unsigned; conversions to floats read the
/// value unsigned, and floats convert saturating at 0 and 2^64 - 1.
///
///     let h = Tensor<UInt64>([UInt64.max, 1]) >> 1        // 9223372036854775807, 0
extension UInt64: IntegerTensorScalar {}

/// Integer element types of NumPy's default index width (`Int32`, `Int64`); any integer tensor
/// indexes in a subscript or `take` (`IntegerTensorScalar`).
public protocol IndexTensorScalar: IntegerTensorScalar {}
extension Int32: IndexTensorScalar {}
extension Int64: IndexTensorScalar {}

/// Integer types narrower than NumPy's default integer (`Int8`, `Int16`, `UInt8`, `UInt16`,
/// `UInt32`): their `sum`, `prod`, `cumsum` and `cumprod` are `Int64`, as NumPy widens them (NumPy gives `uint64`
/// for the unsigned ones; `Int64` holds every sum of fewer than 2^31 `UInt32` values exactly).
///
///     let image = Tensor<UInt8>([200, 100, 255])
///     let total = image.sum()            // Tensor<Int64>: 555, not 555 mod 256
public protocol SmallIntegerTensorScalar: IntegerTensorScalar {}
extension Int8: SmallIntegerTensorScalar {}
extension Int16: SmallIntegerTensorScalar {}
extension UInt8: SmallIntegerTensorScalar {}
extension UInt16: SmallIntegerTensorScalar {}
extension UInt32: SmallIntegerTensorScalar {}

extension Tensor where Scalar: SmallIntegerTensorScalar {
    /// The sum over `axes` (all when nil) in `Int64`, as NumPy widens sums of small integers.
    ///
    ///     let counts = Tensor<UInt8>([200, 100]).sum()      // 300
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor<Int64> {
        cast(to: Int64.self).sum(axes: axes, keepDims: keepDims)
    }
    /// `sum(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor<Int64> { sum(axes: [axis], keepDims: keepDims) }
    /// The product over `axes` (all when nil) in `Int64` (wrapping there), as NumPy widens it.
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor<Int64> {
        cast(to: Int64.self).prod(axes: axes, keepDims: keepDims)
    }
    /// `prod(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func prod(axis: Int, keepDims: Bool = false) -> Tensor<Int64> { prod(axes: [axis], keepDims: keepDims) }
    /// Running sums in `Int64` (`numpy.cumsum` widens small integers too). A sync point.
    public func cumsum(axis: Int? = nil) throws -> Tensor<Int64> { try cast(to: Int64.self).cumsum(axis: axis) }
    /// Running products in `Int64` (wrapping there). A sync point.
    public func cumprod(axis: Int? = nil) throws -> Tensor<Int64> { try cast(to: Int64.self).cumprod(axis: axis) }
}

/// An integer tensor in a subscript gathers: `centroids[labels]` is `centroids.take(labels, axis: 0)`.
/// Any integer type indexes, as in NumPy (`Int32` and `Int64` as they are; the others widened to
/// `Int64`, see `indexNode`), so a CSR matrix's `uint32` column indices index directly.
///
///     let cols = Tensor<UInt32>([2, 0])
///     let picked = Tensor<Double>([10, 20, 30])[cols]      // 30, 10
extension Tensor: TensorIndexExpression where Scalar: IntegerTensorScalar {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { ._tensor(indexNode) }

    /// The node a gather or scatter reads these indices from: `Int32` and `Int64` as they are,
    /// other integers as `Int64`. Stored indices are converted at once, so they stay computed
    /// and are bounds-checked as stored `Int64` ones are (a pending index is clamped into the
    /// axis); pending ones lazily, in the gather's kernel. `UInt64` values past `Int64.max`
    /// become `Int64.max`, out of every axis, never a negative position counted from the end.
    var indexNode: Node {
        if Scalar.self == Int64.self || Scalar.self == Int32.self { return node }
        if Tandem.runtime.isStored(node), let values = try? scalars {
            return Tensor<Int64>(values.map { Int64(clamping: $0) }, shape: shape).node
        }
        if Scalar.self == UInt64.self {
            return `where`(self .> Scalar(exactly: Int64.max)!, Tensor<Int64>(Int64.max), cast(to: Int64.self)).node
        }
        return cast(to: Int64.self).node
    }
}

/// Things usable in a tensor subscript: `Int`, ranges and partial ranges, `stride(from:to:by:)`,
/// `.all`, `.newAxis`, `.ellipsis`, an integer tensor (a gather).
///
/// NumPy's `...` is spelled `.ellipsis`: subscripts taking Swift's `...` (`UnboundedRange`)
/// made every two-index subscript in an expression a choice for the type checker, and a
/// ten-term stencil update written as one expression was rejected ("unable to type-check this
/// expression in reasonable time"); without them it type-checks at once (`TypeCheckTests`).
public protocol TensorIndexExpression {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndexExpression where Self == TensorIndex {
    /// Every element of one axis (`:` in NumPy).
    public static var all: TensorIndex { ._all }
    /// A new axis of extent 1 (`None` / `np.newaxis`).
    public static var newAxis: TensorIndex { ._newAxis }
    /// As many `.all` as needed to cover the remaining axes (`...` in NumPy).
    public static var ellipsis: TensorIndex { ._ellipsis }
    /// NumPy's `start:end:step`, where Swift's ranges cannot say it: `t[.slice(1, -1)]` is
    /// `a[1:-1]` (Swift traps on `1..<(-1)`, its bounds out of order), `t[.slice(nil, nil, step: -1)]`
    /// `a[::-1]`. Bounds count from the end when negative; nil is the axis's start or end.
    ///
    ///     let inner = Tensor<Double>.arange(0, 10)[.slice(1, -1)]      // 1 ... 8
    public static func slice(_ start: Int?, _ end: Int?, step: Int = 1) -> TensorIndex { .slice(start: start, end: end, step: step) }
}

extension Int: TensorIndexExpression { public var tensorIndex: TensorIndex { .index(self) } }
/// A list of integers indexes as an integer tensor (NumPy's `m[:, [0, 2]]`).
///
///     let m = Tensor<Double>.arange(0, 12).reshaped([3, 4])
///     let corners = m[.all, [0, 3]]                // shape (3, 2)
extension Array: TensorIndexExpression where Element == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { ._tensor(Tensor<Int64>(map(Int64.init)).node) }
}
extension Range: TensorIndexExpression where Bound == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { .slice(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: TensorIndexExpression where Bound == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { .slice(start: lowerBound, end: upperBound + 1, step: 1) }
}
extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { .slice(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { .slice(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { .slice(start: nil, end: upperBound + 1, step: 1) }
}
extension StrideTo: TensorIndexExpression where Element == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex {
        let (start, end, step) = strideParts(self)
        return .slice(start: start, end: end, step: step)
    }
}
extension StrideThrough: TensorIndexExpression where Element == Int {
    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex {
        let (start, end, step) = strideParts(self)
        return .slice(start: start, end: end + (step > 0 ? 1 : -1), step: step)
    }
}

/// The start, end and step of a standard-library stride. They are not public API, so they are
/// read by reflection (labels `from`/`to`/`through`/`by`, or the older underscored ones) and
/// checked against the sequence itself.
func strideParts<S: Sequence<Int>>(_ s: S) -> (Int, Int, Int) {
    var start: Int?, end: Int?, step: Int?
    for child in Mirror(reflecting: s).children {
        switch child.label {
        case "from", "_start": start = child.value as? Int
        case "to", "through", "_end": end = child.value as? Int
        case "by", "_stride": step = child.value as? Int
        default: break
        }
    }
    guard let start, let end, let step else { preconditionFailure("cannot read the bounds of \(s)") }
    precondition(step != 0, "slice step cannot be zero")
    var it = s.makeIterator()
    if let first = it.next() { precondition(first == start, "cannot read the bounds of \(s)") }
    return (start, end, step)
}

extension Tensor {
    /// The view map (view index → this tensor's index) and the view's shape for `indices`.
    func viewMap(_ indices: [TensorIndex]) -> (AffineMap, [Int]) { TensorIndex.viewMap(shape: shape, indices) }

    /// A view (never a copy), or a write into one: integers drop axes, ranges and strides keep them,
    /// `.newAxis` inserts one, `.all`/`...` keep whole axes. Writes broadcast the right-hand side
    /// and give this value a new version; other copies keep the old one.
    ///
    ///     let interior = grid[1..<513, 1..<513]
    ///     let reds = a[stride(from: 1, to: 513, by: 2), .all]
    ///     grid[0, .all] = Tensor(1.0)
    public subscript(_ indices: any TensorIndexExpression...) -> Tensor {
        get { view(TensorIndex.items(indices)) }
        set { write(TensorIndex.items(indices), newValue) }
    }

    /// A view or write with a subscript built at run time.
    ///
    ///     let items: [TensorIndex] = [.index(0), .slice(start: 1, end: nil, step: 2)]
    ///     let v = t[indices: items]
    public subscript(indices indices: [TensorIndex]) -> Tensor {
        get { view(indices) }
        set { write(indices, newValue) }
    }

    func view(_ indices: [TensorIndex]) -> Tensor {
        if LoopNest.isLoopSubscript(indices) { return LoopNest.read(self, indices) }
        if TensorIndex.hasTensor(indices) {
            guard let (position, index) = TensorIndex.takeItem(indices) else { return advancedView(indices) }
            var rest = indices
            rest[position] = ._all
            return view(rest).take(index, axis: axes(of: position, in: indices).view)
        }
        if let element = eagerElement(indices) { return element }
        let (map, outShape) = viewMap(indices)
        if map.isIdentity && outShape == shape { return self }
        return Tensor(.view(node, map), shape: outShape)
    }
}

extension TensorIndex {
    /// The one integer-tensor item of a loop nest's subscript and its position, if any (more
    /// than one is an error there; arrays take several, `Tensor.advancedView`).
    static func tensorItem(_ indices: [TensorIndex]) -> (Int, Node)? {
        var found: (Int, Node)? = nil
        for (i, item) in indices.enumerated() {
            guard case ._tensor(let n) = item else { continue }
            precondition(found == nil, "a loop nest's subscript takes one integer tensor: take(_:axis:) one axis at a time")
            found = (i, n)
        }
        return found
    }
}

extension Tensor {
    /// The axis of this tensor that subscript item `position` indexes, and the axis of the view
    /// it becomes (integers drop an axis from the view, `.newAxis` adds one to it).
    func axes(of position: Int, in indices: [TensorIndex]) -> (source: Int, view: Int) {
        let consumed = indices.filter(\.consumesAxis).count
        var source = 0, view = 0
        for item in indices[..<position] {
            switch item {
            case .index, ._loop: source += 1
            case .slice, ._all, ._tensor: source += 1; view += 1
            case ._newAxis: view += 1
            case ._ellipsis: source += rank - consumed; view += rank - consumed
            }
        }
        return (source, view)
    }

    mutating func write(_ indices: [TensorIndex], _ value: Tensor) {
        if LoopNest.isLoopSubscript(indices) {
            LoopNest.write(&self, indices, value)
            return
        }
        if TensorIndex.hasTensor(indices) {
            scatterWrite(indices, value)
            return
        }
        if eagerElementWrite(indices, value) { return }
        let (map, outShape) = viewMap(indices)
        guard Shape.broadcast(value.shape, outShape) == outShape else {
            preconditionFailure("could not broadcast input array from shape \(Shape.describe(value.shape)) into shape \(Shape.describe(outShape))")
        }
        if eagerWrite(map: map, shape: outShape, value: value) { return }
        // Where this write goes: a loop's flushes for graph pressure are aligned on it. A digest
        // of the shape and the map, FNV-1a over the words (through `Hasher`, a tenth of a small
        // write's time; a collision only moves where a flush falls).
        let digest = Tensor.mix(Tensor.mix(Tensor.mix(FNV1a.basis, shape), map.offset), map.coef)
        let here = Int(truncatingIfNeeded: digest)
        do { try Tandem.runtime.relieveGraphPressure(site: here) } catch {
            // Only a flush for memory pressure can fail here; the graph is intact and the same
            // error is thrown at the next sync point.
        }
        let v = value.broadcastNode(to: outShape)
        let updated = Node(.update(base: node, map: map, value: v), dtype: Scalar.dtype, shape: shape)
        handle = TensorHandle(updated)
        Tandem.runtime.registerUpdate(updated, site: here)
    }

    /// `digest` with `words` (and their count first) mixed in (`FNV1a`).
    static func mix(_ digest: UInt64, _ words: [Int]) -> UInt64 {
        FNV1a.mix(FNV1a.mix(digest, words.count), words)
    }

    // MARK: - Shape views

    /// Axes in a new order: axis k of the result is axis `order[k]` of this tensor (a view).
    ///
    ///     let t = m.permuted([1, 0])
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permute: axes \(order) don't match array of dimension \(rank)")
        // The identity order is this tensor itself (as `view` returns it for an identity map):
        // a view node would cost a copy kernel at the next read (12 ms a million elements).
        if order == Array(0..<rank) { return self }
        var coef = [Int].filled(0, count: rank * rank)
        for (k, d) in order.enumerated() { coef[d * rank + k] = 1 }
        let map = AffineMap(inRank: rank, outRank: rank, offset: [Int].filled(0, count: rank), coef: coef)
        return Tensor(.view(node, map), shape: order.map { shape[$0] })
    }

    /// The axes reversed (a view); for a matrix, its transpose.
    public var transposed: Tensor { permuted(Array((0..<rank).reversed())) }

    /// The same elements in row-major order with another shape. A view of contiguous data; an
    /// expression or a strided view is materialised first. One extent may be -1 (inferred).
    ///
    ///     let m = Tensor<Double>.arange(0, 12).reshaped([3, -1])
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let rest = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(rest > 0 && count % rest == 0, "cannot reshape array of size \(count) into shape \(Shape.describe(newShape))")
            s[i] = count / rest
        }
        precondition(s.allSatisfy { $0 >= 0 } && Shape.count(s) == count,
                     "cannot reshape array of size \(count) into shape \(Shape.describe(newShape))")
        if s == shape { return self }
        switch node.op {
        case .fill: return Tensor(node.op, shape: s)
        // Stored elements are row-major already: the new shape names the same buffer (one more
        // alias, so an in-place write to either copies first). A reshape node read by a gather
        // or a host operation copied the whole tensor: `x.take(i)` and `x[i, j]` of a stored
        // 900,000-element tensor computed all of it for three points.
        case .storage(let b) where b.count == count: return Tensor(.storage(b), shape: s)
        default: return Tensor(.reshape(node), shape: s)
        }
    }

    /// This tensor broadcast to `shape` (a view with zero strides, never a copy).
    public func broadcast(to newShape: [Int]) -> Tensor {
        precondition(Shape.broadcast(shape, newShape) == newShape,
                     "broadcast_to: operands could not be broadcast together with remapped shapes \(Shape.describe(shape)) \(Shape.describe(newShape))")
        return Tensor(node: broadcastNode(to: newShape))
    }

    /// A new axis of extent 1 at `axis` (a view).
    public func expandingDims(at axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "expand_dims: axis \(axis) is out of bounds for array of dimension \(rank + 1)")
        var items = [TensorIndex](repeating: ._all, count: rank)
        items.insert(._newAxis, at: a)
        return view(items)
    }
}
