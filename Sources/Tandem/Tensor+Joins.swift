import TandemIR

// NumPy's stacking shortcuts and axis moves, written with `concatenate`, `expandingDims`,
// `permuted` and `flipped` (lazy views and fused joins, like those).

extension Tensor {
    /// Tensors joined along their second axis, or their first when they are vectors
    /// (`numpy.hstack`).
    ///
    ///     let row = Tensor.hstack([x, y])             // 16 elements
    public static func hstack(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "hstack: need at least one array to concatenate")
        return concatenate(tensors.map { $0.rank == 0 ? $0.reshaped([1]) : $0 }, axis: tensors[0].rank <= 1 ? 0 : 1)
    }

    /// Tensors joined along their first axis, vectors taken as rows (`numpy.vstack`).
    ///
    ///     let rows = Tensor.vstack([x, y])            // shape (2, 8)
    public static func vstack(_ tensors: [Tensor]) -> Tensor {
        concatenate(tensors.map { $0.atLeast(2) }, axis: 0)
    }

    /// Tensors joined along their third axis (`numpy.dstack`): a vector (n) taken as (1, n, 1),
    /// a matrix (m, n) as (m, n, 1).
    ///
    ///     let pairs = Tensor.dstack([x, y])           // shape (1, 8, 2)
    public static func dstack(_ tensors: [Tensor]) -> Tensor {
        concatenate(tensors.map { $0.atLeast(3) }, axis: 2)
    }

    /// Vectors as the columns of a matrix, matrices joined beside them (`numpy.column_stack`).
    ///
    ///     let xy = Tensor.columnStack([x, y])         // shape (8, 2)
    public static func columnStack(_ tensors: [Tensor]) -> Tensor {
        concatenate(tensors.map { $0.rank < 2 ? $0.reshaped([-1, 1]) : $0 }, axis: 1)
    }

    /// This tensor with at least `rank` axes, as `numpy.atleast_2d`/`atleast_3d` add them: a
    /// scalar becomes (1, 1[, 1]), a vector (1, n[, 1]), a matrix (m, n, 1).
    func atLeast(_ wanted: Int) -> Tensor {
        switch (rank, wanted) {
        case (0, _): return reshaped([Int](repeating: 1, count: wanted))
        case (1, 2): return reshaped([1, shape[0]])
        case (1, 3): return reshaped([1, shape[0], 1])
        case (2, 3): return reshaped(shape + [1])
        default: return self
        }
    }

    /// The axis `source` moved to position `destination`, the others keeping their order
    /// (`numpy.moveaxis`). A view.
    ///
    ///     let channelsLast = img.expandingDims(at: 0).movingAxis(0, to: 2)
    public func movingAxis(_ source: Int, to destination: Int) -> Tensor {
        let s = Tensor.axis(source, rank: rank, "moveaxis"), d = Tensor.axis(destination, rank: rank, "moveaxis")
        var order = (0..<rank).filter { $0 != s }
        order.insert(s, at: d)
        return permuted(order)
    }

    /// Rotated by 90 degrees `k` times in the plane of `axes`, from the first axis toward the
    /// second (`numpy.rot90`). A view.
    ///
    ///     let turned = m.rotated90()
    public func rotated90(_ k: Int = 1, axes: (Int, Int) = (0, 1)) -> Tensor {
        precondition(rank >= 2, "rot90: Axes must be different and the array at least two-dimensional")
        let a = Tensor.axis(axes.0, rank: rank, "rot90"), b = Tensor.axis(axes.1, rank: rank, "rot90")
        precondition(a != b, "rot90: Axes must be different.")
        var swap = Array(0..<rank)
        swap.swapAt(a, b)
        switch ((k % 4) + 4) % 4 {
        case 0: return self
        case 1: return flipped(axis: b).permuted(swap)
        case 2: return flipped(axis: a).flipped(axis: b)
        default: return permuted(swap).flipped(axis: b)
        }
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The sum of products over `axes` of this tensor and the matching axes of `other`
    /// (`numpy.tensordot`): the result's axes are this tensor's others, then `other`'s.
    /// A matrix product of the two reshaped (the BLAS where a product goes there).
    ///
    ///     let c = Tensor.tensordot(a, b, axes: ([1], [0]))     // a @ b
    public static func tensordot(_ a: Tensor, _ b: Tensor, axes: ([Int], [Int])) -> Tensor {
        precondition(axes.0.count == axes.1.count, "tensordot: shape-mismatch for sum (\(axes.0.count) axes against \(axes.1.count))")
        let ca = axes.0.map { Tensor.axis($0, rank: a.rank, "tensordot") }, cb = axes.1.map { Tensor.axis($0, rank: b.rank, "tensordot") }
        for (x, y) in zip(ca, cb) {
            precondition(a.shape[x] == b.shape[y], "tensordot: shape-mismatch for sum (axis \(x) of \(a.shape[x]) against axis \(y) of \(b.shape[y]))")
        }
        let fa = (0..<a.rank).filter { !ca.contains($0) }, fb = (0..<b.rank).filter { !cb.contains($0) }
        let inner = ca.reduce(1) { $0 * a.shape[$1] }
        let left = a.permuted(fa + ca).reshaped([fa.reduce(1) { $0 * a.shape[$1] }, inner])
        let right = b.permuted(cb + fb).reshaped([inner, fb.reduce(1) { $0 * b.shape[$1] }])
        return left.matmul(right).reshaped(fa.map { a.shape[$0] } + fb.map { b.shape[$0] })
    }

    /// `tensordot` over the last `axes` axes of `a` and the first `axes` of `b` (NumPy's
    /// integer `axes`, 2 by default).
    ///
    ///     let total = Tensor.tensordot(m, m, axes: 2)   // Σ m²
    public static func tensordot(_ a: Tensor, _ b: Tensor, axes: Int = 2) -> Tensor {
        precondition(axes >= 0 && axes <= a.rank && axes <= b.rank, "tensordot: axes \(axes) out of range for ranks \(a.rank) and \(b.rank)")
        return tensordot(a, b, axes: (Array((a.rank - axes)..<a.rank), Array(0..<axes)))
    }

    /// The sum of products over the last axes of `a` and `b` (`numpy.inner`): for vectors
    /// their dot product, for matrices `a @ b.T`.
    ///
    ///     let gram = Tensor.inner(m, m)
    public static func inner(_ a: Tensor, _ b: Tensor) -> Tensor {
        if a.rank == 0 || b.rank == 0 { return a * b }
        return tensordot(a, b, axes: ([a.rank - 1], [b.rank - 1]))
    }
}
