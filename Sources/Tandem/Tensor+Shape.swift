import Synchronization
import TandemIR

// Shape manipulation and joins with NumPy's meaning. Everything here is views (never a copy),
// slice writes into one fresh tensor, or gathers (`rolled`), so the planner fuses them with their
// neighbours: a `concatenate` feeding an elementwise expression is one kernel per piece, written
// in place.

extension Tensor {
    /// Normalises an axis (negative counts from the end) against `rank`, or stops with NumPy's message.
    static func axis(_ axis: Int, rank: Int, _ name: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "\(name): axis \(axis) is out of bounds for array of dimension \(rank)")
        return a
    }

    /// The view keeping every axis but taking `range` along `axis`.
    func slice(axis: Int, _ start: Int, _ end: Int, step: Int = 1) -> Tensor {
        var items = [TensorIndex](repeating: ._all, count: rank)
        items[axis] = .slice(start: start, end: end, step: step)
        return view(items)
    }

    /// The same elements with extent-1 axes removed: all of them when `axes` is nil (a view).
    ///
    ///     let v = Tensor<Double>.zeros([3, 1, 4]).squeezed()     // shape (3, 4)
    public func squeezed(axes: [Int]? = nil) -> Tensor {
        let drop = axes.map { $0.map { Tensor.axis($0, rank: rank, "squeeze") } } ?? (0..<rank).filter { shape[$0] == 1 }
        for a in drop {
            precondition(shape[a] == 1, "squeeze: cannot select an axis to squeeze out which has size not equal to one (axis \(a), size \(shape[a]))")
        }
        if drop.isEmpty { return self }
        return view((0..<rank).map { drop.contains($0) ? .index(0) : ._all })
    }

    /// All elements in one axis, row-major (`numpy.ravel`: a view of contiguous data).
    public func flattened() -> Tensor { reshaped([-1]) }

    /// Axes `a` and `b` exchanged (a view, `numpy.swapaxes`).
    public func swappingAxes(_ a: Int, _ b: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Tensor.axis(a, rank: rank, "swapaxes"), Tensor.axis(b, rank: rank, "swapaxes"))
        return permuted(order)
    }

    /// The elements in reverse order along `axis`, or along every axis when nil (a view, `numpy.flip`).
    ///
    ///     let r = Tensor<Int32>([1, 2, 3]).flipped()          // 3, 2, 1
    public func flipped(axis: Int? = nil) -> Tensor {
        let axes = axis.map { [Tensor.axis($0, rank: rank, "flip")] } ?? Array(0..<rank)
        var items = [TensorIndex](repeating: ._all, count: rank)
        for a in axes where shape[a] > 0 { items[a] = .slice(start: shape[a] - 1, end: -1, step: -1) }
        return view(items)
    }

    /// The elements shifted by `shift` places along `axis`, those pushed off one end coming back
    /// at the other (`numpy.roll`); flattened first when `axis` is nil.
    ///
    ///     let left = u.rolled(by: -1, axis: 1)      // left[i, j] = u[i, j + 1] (periodic)
    public func rolled(by shift: Int, axis: Int? = nil) -> Tensor {
        guard let axis else { return flattened().rolled(by: shift, axis: 0).reshaped(shape) }
        let a = Tensor.axis(axis, rank: rank, "roll")
        let n = shape[a]
        guard n > 0 else { return self }
        let s = ((shift % n) + n) % n
        if s == 0 { return self }
        // A gather along the axis at (i - s) mod n: one expression that fuses with what reads
        // it. As the two slices written into a new tensor it was a fill and two writes, stored
        // before any reader ran (a periodic stencil rolling a 64 x 64 field four times a step,
        // 2,000 steps: 1.3 s, of which planning the writes 0.8 s; now 0.07 s, NumPy's time).
        // The positions are stored for a short axis (a load per element instead of an index
        // computed per element, and one node instead of five a roll), computed for a long one
        // (a flattened image's 16M positions would be 128 MB).
        let index: Tensor<Int64>
        if n <= Tensor.storedRollIndex {
            index = RollIndexCache.index(count: n, shift: s)
        } else {
            let i = Tensor<Int64>.arange(Int64(n))
            index = Tensor<Int64>(.select((i .< Int64(s)).node, (i + Int64(n - s)).node, (i - Int64(s)).node), shape: [n])
        }
        // In range by construction: no bounds check (`take` reads a stored index through).
        return Tensor(.gather(source: node, index: index.node, axis: a), shape: shape)
    }

    /// The longest axis whose roll positions are stored rather than computed (see `rolled`).
    static var storedRollIndex: Int { 1 << 16 }

    /// Each element repeated `count` times along `axis` (`numpy.repeat`); flattened first when
    /// `axis` is nil.
    ///
    ///     Tensor<Int64>([1, 2]).repeated(2)         // 1, 1, 2, 2
    public func repeated(_ count: Int, axis: Int? = nil) -> Tensor {
        precondition(count >= 0, "repeat: negative repeats \(count)")
        guard let axis else { return flattened().repeated(count, axis: 0) }
        let a = Tensor.axis(axis, rank: rank, "repeat")
        var wide = shape
        wide.insert(count, at: a + 1)
        var out = shape
        out[a] *= count
        return expandingDims(at: a + 1).broadcast(to: wide).reshaped(out)
    }

    /// This tensor repeated `reps[k]` times along axis k (`numpy.tile`; `reps` shorter than the
    /// rank repeats the last axes, longer adds leading axes).
    ///
    ///     Tensor<Int64>([1, 2]).tiled([2])          // 1, 2, 1, 2
    public func tiled(_ reps: [Int]) -> Tensor {
        precondition(reps.allSatisfy { $0 >= 0 }, "tile: negative repeats in \(reps)")
        let r = Swift.max(rank, reps.count)
        let base = reshaped([Int](repeating: 1, count: r - rank) + shape)
        let fullReps = [Int](repeating: 1, count: r - reps.count) + reps
        // Axis pairs (rep, extent): broadcast the reps, then merge each pair.
        var pairs: [TensorIndex] = []
        var wide: [Int] = []
        for k in 0..<r {
            pairs += [._newAxis, ._all]
            wide += [fullReps[k], base.shape[k]]
        }
        return base.view(pairs).broadcast(to: wide).reshaped((0..<r).map { fullReps[$0] * base.shape[$0] })
    }

    /// Differences of neighbours along `axis` (default the last), applied `n` times (`numpy.diff`).
    ///
    ///     Tensor<Double>([1, 4, 9, 16]).diff()      // 3, 5, 7
    public func diff(_ n: Int = 1, axis: Int = -1) -> Tensor where Scalar: NumericTensorScalar {
        precondition(n >= 0, "diff: order must be non-negative but got \(n)")
        let a = Tensor.axis(axis, rank: rank, "diff")
        var t = self
        for _ in 0..<n {
            let m = t.shape[a]
            guard m > 0 else { break }
            t = t.slice(axis: a, 1, m) - t.slice(axis: a, 0, m - 1)
        }
        return t
    }

    /// Pieces of this tensor along `axis`: `sections` equal parts (`numpy.split` with an integer;
    /// the extent must divide evenly), each a view.
    ///
    ///     let halves = x.split(2)
    public func split(_ sections: Int, axis: Int = 0) -> [Tensor] {
        let a = Tensor.axis(axis, rank: rank, "split")
        precondition(sections > 0 && shape[a] % sections == 0, "split: array split does not result in an equal division (\(shape[a]) into \(sections))")
        let size = shape[a] / sections
        return (0..<sections).map { slice(axis: a, $0 * size, ($0 + 1) * size) }
    }

    /// Pieces of this tensor along `axis`, cut before each of `indices` (`numpy.split` with a list).
    ///
    ///     let parts = x.split(at: [2, 5])           // x[..<2], x[2..<5], x[5...]
    public func split(at indices: [Int], axis: Int = 0) -> [Tensor] {
        let a = Tensor.axis(axis, rank: rank, "split")
        let n = shape[a]
        var cuts = indices.map { Swift.min(Swift.max($0 < 0 ? $0 + n : $0, 0), n) }
        cuts = [0] + cuts + [n]
        return (0..<(cuts.count - 1)).map { k in slice(axis: a, cuts[k], Swift.max(cuts[k], cuts[k + 1])) }
    }

    /// Tensors joined along an existing `axis` (`numpy.concatenate`): one fresh tensor, each piece
    /// written into its part (fused with the expression that computes the piece).
    ///
    ///     let both = Tensor.concatenate([a, b], axis: 0)
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: need at least one array to concatenate")
        let first = tensors[0]
        let a = Tensor.axis(axis, rank: first.rank, "concatenate")
        for (k, t) in tensors.enumerated() {
            precondition(t.rank == first.rank, "concatenate: all the input array dimensions must match exactly, but array 0 has \(first.rank) dimension(s) and array \(k) has \(t.rank)")
            for d in 0..<t.rank where d != a {
                precondition(t.shape[d] == first.shape[d], "concatenate: all the input array dimensions except for the concatenation axis must match exactly, but along dimension \(d), array 0 has size \(first.shape[d]) and array \(k) has size \(t.shape[d])")
            }
        }
        if tensors.count == 1 { return first }
        var shape = first.shape
        shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        var out = Tensor(.fill(Literal.int(0).converted(to: Scalar.dtype)), shape: shape)
        var at = 0
        for t in tensors {
            let n = t.shape[a]
            if n > 0 {
                var items = [TensorIndex](repeating: ._all, count: first.rank)
                items[a] = .slice(start: at, end: at + n, step: 1)
                out.write(items, t)
            }
            at += n
        }
        return out
    }

    /// Tensors of one shape joined along a new `axis` (`numpy.stack`).
    ///
    ///     let xy = Tensor.stack([x, y], axis: 1)    // shape (n, 2)
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: need at least one array to stack")
        for t in tensors { precondition(t.shape == tensors[0].shape, "stack: all input arrays must have the same shape") }
        let a = axis < 0 ? axis + tensors[0].rank + 1 : axis
        precondition(a >= 0 && a <= tensors[0].rank, "stack: axis \(axis) is out of bounds for array of dimension \(tensors[0].rank + 1)")
        return concatenate(tensors.map { $0.expandingDims(at: a) }, axis: a)
    }

    /// How `pad` fills the border.
    public enum PadMode: Sendable {
        /// Every new element is the value (`mode="constant"`).
        case constant(Scalar)
        /// The nearest edge element, repeated (`mode="edge"`).
        case edge
        /// The other end of the axis, periodically (`mode="wrap"`).
        case wrap
        /// The elements next to the edge mirrored, the edge itself not repeated (`mode="reflect"`).
        case reflect
    }

    /// This tensor with `widths[k] = (before, after)` elements added on each side of axis k
    /// (`numpy.pad`). `widths` with one entry applies it to every axis.
    ///
    ///     let padded = u.padded([(1, 1)], mode: .edge)        // a ghost cell on every side
    ///     let framed = img.padded([(2, 2), (0, 0)], mode: .constant(0))
    public func padded(_ widths: [(before: Int, after: Int)], mode: PadMode) -> Tensor {
        let w = widths.count == 1 ? [(before: Int, after: Int)](repeating: widths[0], count: rank) : widths
        precondition(w.count == rank, "pad: \(widths.count) pad widths for an array of dimension \(rank)")
        precondition(w.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "pad: index can't contain negative values")
        if case .constant(let value) = mode {
            var out = Tensor.full(zip(shape, w).map { $0 + $1.before + $1.after }, value)
            out.write(zip(shape, w).map { .slice(start: $1.before, end: $1.before + $0, step: 1) }, self)
            return out
        }
        var t = self
        for a in 0..<rank where w[a].before > 0 || w[a].after > 0 {
            let n = t.shape[a], (b, e) = w[a]
            precondition(n > 0, "pad: can't extend empty axis \(a) using modes other than 'constant'")
            var pieces: [Tensor] = []
            switch mode {
            case .edge:
                var wide = t.shape
                wide[a] = b
                if b > 0 { pieces.append(t.slice(axis: a, 0, 1).broadcast(to: wide)) }
                pieces.append(t)
                wide[a] = e
                if e > 0 { pieces.append(t.slice(axis: a, n - 1, n).broadcast(to: wide)) }
            case .wrap:
                precondition(b <= n && e <= n, "pad: wrap widths (\(b), \(e)) wider than axis \(a) of size \(n) are not supported")
                if b > 0 { pieces.append(t.slice(axis: a, n - b, n)) }
                pieces.append(t)
                if e > 0 { pieces.append(t.slice(axis: a, 0, e)) }
            case .reflect:
                precondition(b < n && e < n, "pad: reflect widths (\(b), \(e)) need an axis longer than them (axis \(a) has size \(n))")
                if b > 0 { pieces.append(t.slice(axis: a, b, 0, step: -1)) }
                pieces.append(t)
                if e > 0 { pieces.append(t.slice(axis: a, n - 2, n - 2 - e, step: -1)) }
            case .constant:
                preconditionFailure("unreachable")
            }
            t = Tensor.concatenate(pieces, axis: a)
        }
        return t
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The elements on and below the `k`-th diagonal of the last two axes, the rest zero
    /// (`numpy.tril`; `k > 0` keeps diagonals above the main one).
    ///
    ///     let lower = m.lowerTriangle()
    public func lowerTriangle(diagonal k: Int = 0) -> Tensor { triangle(keep: { $0 .<= $1 }, k) }
    /// The elements on and above the `k`-th diagonal of the last two axes, the rest zero (`numpy.triu`).
    public func upperTriangle(diagonal k: Int = 0) -> Tensor { triangle(keep: { $0 .>= $1 }, k) }

    private func triangle(keep: (Tensor<Int64>, Tensor<Int64>) -> Tensor<Bool>, _ k: Int) -> Tensor {
        precondition(rank >= 2, "tril/triu: input must be at least 2-d, got shape \(Shape.describe(shape))")
        let rows = Tensor<Int64>.arange(Int64(shape[rank - 2])).reshaped([shape[rank - 2], 1])
        let cols = Tensor<Int64>.arange(Int64(shape[rank - 1])).reshaped([1, shape[rank - 1]])
        return select(keep(cols - rows, Tensor<Int64>(Int64(k))), self, Tensor(Scalar.zero))
    }
}

/// Coordinate grids from coordinate vectors (`numpy.meshgrid`): with `.xy` indexing (NumPy's
/// default) the grids have shape `(y.count, x.count)`, with `.ij` shape `(x.count, y.count)`.
/// Views, never copies.
///
///     let (gx, gy) = meshgrid(Tensor<Double>.linspace(0, 1, count: 4), Tensor<Double>.linspace(0, 2, count: 3))
public func meshgrid<S: TensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>, indexing: MeshIndexing = .xy) -> (Tensor<S>, Tensor<S>) {
    precondition(x.rank == 1 && y.rank == 1, "meshgrid: coordinates must be 1-d")
    switch indexing {
    case .xy:
        let s = [y.count, x.count]
        return (x.reshaped([1, x.count]).broadcast(to: s), y.reshaped([y.count, 1]).broadcast(to: s))
    case .ij:
        let s = [x.count, y.count]
        return (x.reshaped([x.count, 1]).broadcast(to: s), y.reshaped([1, y.count]).broadcast(to: s))
    }
}

/// Three-dimensional `meshgrid`.
public func meshgrid<S: TensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>, _ z: Tensor<S>, indexing: MeshIndexing = .xy) -> (Tensor<S>, Tensor<S>, Tensor<S>) {
    precondition(x.rank == 1 && y.rank == 1 && z.rank == 1, "meshgrid: coordinates must be 1-d")
    let (a, b) = indexing == .xy ? (y, x) : (x, y)  // NumPy's xy swaps the first two axes only
    let s = [a.count, b.count, z.count]
    let ga = a.reshaped([a.count, 1, 1]).broadcast(to: s), gb = b.reshaped([1, b.count, 1]).broadcast(to: s)
    let gz = z.reshaped([1, 1, z.count]).broadcast(to: s)
    return indexing == .xy ? (gb, ga, gz) : (ga, gb, gz)
}

/// The axis order of `meshgrid` grids.
public enum MeshIndexing: Sendable {
    /// Cartesian: the first grid varies along the last axis (NumPy's default).
    case xy
    /// Matrix: the first grid varies along the first axis.
    case ij
}

/// `numpy.concatenate`.
public func concatenate<S: TensorScalar>(_ tensors: [Tensor<S>], axis: Int = 0) -> Tensor<S> { Tensor.concatenate(tensors, axis: axis) }
/// `numpy.stack`.
public func stack<S: TensorScalar>(_ tensors: [Tensor<S>], axis: Int = 0) -> Tensor<S> { Tensor.stack(tensors, axis: axis) }

/// The stored positions of short rolls (`Tensor.rolled`), made once per axis length and shift
/// and shared by every roll of that kind: a time-stepped program rolls the same axis by the
/// same shifts every step, and building the positions anew each time (an array of the axis's
/// length, then its copy into a buffer) was a quarter of a periodic 1-D wave equation's time
/// (`bench/probes`, `z_wave`: 2,000 points, two rolls a step). Nothing writes into them (they
/// are made here and read only by gathers). At most `maxElements` positions are kept; past
/// that the table starts again.
enum RollIndexCache {
    static let maxElements = 1 << 20
    private struct Key: Hashable { let count: Int, shift: Int }
    private static let table = Mutex<(entries: [Key: Tensor<Int64>], elements: Int)>(([:], 0))

    static func index(count n: Int, shift s: Int) -> Tensor<Int64> {
        let key = Key(count: n, shift: s)
        if let t = table.withLock({ $0.entries[key] }) { return t }
        let t = Tensor<Int64>((0..<n).map { Int64($0 < s ? $0 + n - s : $0 - s) })
        table.withLock { state in
            if state.elements + n > maxElements { state = ([:], 0) }
            if state.entries[key] == nil {
                state.entries[key] = t
                state.elements += n
            }
        }
        return t
    }
}
