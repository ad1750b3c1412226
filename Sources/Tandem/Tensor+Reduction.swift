extension Tensor {
    /// Normalised, sorted, unique axes (negative axes count from the end); all axes when nil.
    func reductionAxes(_ axes: [Int]?, _ name: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let norm = axes.map { a -> Int in
            let n = a < 0 ? a + rank : a
            precondition(n >= 0 && n < rank, "\(name): axis \(a) is out of bounds for array of dimension \(rank)")
            return n
        }
        precondition(Set(norm).count == norm.count, "\(name): duplicate value in 'axis'")
        return norm.sorted()
    }

    func reduce<R: TensorScalar>(_ op: ReduceOp, _ axes: [Int]?, keepDims: Bool, _ name: String) -> Tensor<R> {
        let ax = reductionAxes(axes, name)
        if op == .max || op == .min || op.isArg {
            precondition(ax.allSatisfy { shape[$0] > 0 },
                         "\(name): zero-size array to reduction operation \(name) which has no identity")
        }
        if Scalar.dtype == .uint64 && (op == .max || op == .min || op.isArg) { return unsignedOrdered(op, ax, keepDims: keepDims, name) }
        let kept = (0..<rank).filter { !ax.contains($0) }
        let reducedShape = kept.map { shape[$0] }
        let reduced = Tandem.eager(.reduce(op, node, axes: ax), dtype: R.dtype, shape: reducedShape)
            .map { Node(eager: $0, dtype: R.dtype, shape: reducedShape) }
            ?? Node(.reduce(op, node, axes: ax), dtype: R.dtype, shape: reducedShape)
        guard keepDims else { return Tensor<R>(node: reduced) }
        // Keep the reduced axes as extent 1: a view that ignores them.
        let outShape = (0..<rank).map { ax.contains($0) ? 1 : shape[$0] }
        var coef = [Int].filled(0, count: kept.count * rank)
        for (i, d) in kept.enumerated() { coef[i * rank + d] = 1 }
        let map = AffineMap(inRank: kept.count, outRank: rank, offset: [Int].filled(0, count: kept.count), coef: coef)
        return Tensor<R>(.view(reduced, map), shape: outShape)
    }

    /// A `uint64` maximum, minimum or arg reduction. Reductions order integers as `Int64`
    /// (their accumulators, in C, in OpenCL and CUDA, in the interpreter and in the combine of
    /// split reductions' parts), so the values go in with their top bit flipped, which maps
    /// unsigned order onto signed order, and a maximum or minimum comes out flipped back: two
    /// `xor`s fused into the reduction's kernel, and one ordering everywhere.
    private func unsignedOrdered<R: TensorScalar>(_ op: ReduceOp, _ axes: [Int], keepDims: Bool, _ name: String) -> Tensor<R> {
        let top = Literal.int(Int64.min)
        let flipped = Node(.binary(.bitXor, node, Node(.fill(top), dtype: .uint64, shape: shape)), dtype: .uint64, shape: shape)
        let signed = Tensor<Int64>(node: Node(.cast(flipped), dtype: .int64, shape: shape))
        if op.isArg { return signed.reduce(op, axes, keepDims: keepDims, name) }
        let extreme: Tensor<Int64> = signed.reduce(op, axes, keepDims: keepDims, name)
        let back = Node(.cast(extreme.node), dtype: .uint64, shape: extreme.shape)
        return Tensor<R>(node: Node(.binary(.bitXor, back, Node(.fill(top), dtype: .uint64, shape: extreme.shape)),
                                    dtype: .uint64, shape: extreme.shape))
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// Sum over `axes` (all when nil). Float sums accumulate in Double; integer sums wrap.
    /// Parallel and deterministic: the same input gives the same bits on every run.
    ///
    ///     let total = x.sum()                         // rank 0
    ///     let rows = m.sum(axes: [1], keepDims: true) // shape (n, 1)
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.sum, axes, keepDims: keepDims, "sum") }
    /// `sum(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }
    /// Product over `axes` (all when nil).
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.prod, axes, keepDims: keepDims, "prod") }
    /// `prod(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func prod(axis: Int, keepDims: Bool = false) -> Tensor { prod(axes: [axis], keepDims: keepDims) }
    /// Maximum over `axes` (all when nil); NaN propagates.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.max, axes, keepDims: keepDims, "maximum") }
    /// `max(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }
    /// Minimum over `axes` (all when nil); NaN propagates.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.min, axes, keepDims: keepDims, "minimum") }
    /// `min(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    /// Index of the first maximum along `axis` (the first NaN, if any), like `numpy.argmax`.
    public func argmax(axis: Int, keepDims: Bool = false) -> Tensor<Int64> { reduce(.argmax, [axis], keepDims: keepDims, "argmax") }
    /// Index of the first minimum along `axis` (the first NaN, if any), like `numpy.argmin`.
    public func argmin(axis: Int, keepDims: Bool = false) -> Tensor<Int64> { reduce(.argmin, [axis], keepDims: keepDims, "argmin") }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// Mean over `axes` (all when nil): the sum times the reciprocal count, fused with the sum.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims) / Scalar(n)
    }
    /// `mean(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }
}
