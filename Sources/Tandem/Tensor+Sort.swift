import TandemIR

// Sorting, order statistics and running sums along an axis. Each lane is processed on the host
// when called (a sync point for the operand): the lane is read contiguously (the axis moved
// last), processed in order, and the result is a tensor again (its axis moved back as a view).
// Deterministic: sorts are stable, NaN sorts last (NumPy's order), scans add in index order.

extension Tensor {
    /// Runs `body` over each lane along `axis` (the lane's elements in order) and assembles the
    /// lanes it returns (all of one length) with that axis in place again.
    func mapLanes<R: TensorScalar>(axis: Int, _ name: String, _ body: (ArraySlice<Scalar>) -> [R]) throws -> Tensor<R> {
        let a = Tensor.axis(axis, rank: rank, name)
        var order = Array(0..<rank)
        order.remove(at: a)
        order.append(a)
        let moved = permuted(order)
        let values = try moved.scalars
        let n = shape[a]
        let lanes = n == 0 ? 0 : values.count / n
        var out: [R] = []
        var outLength = 0
        for l in 0..<lanes {
            let r = body(values[(l * n)..<((l + 1) * n)])
            outLength = r.count
            out += r
        }
        if lanes == 0 { outLength = body([]).count }
        let outShape = Array(moved.shape.dropLast()) + [outLength]
        var back = [Int](repeating: 0, count: rank)
        for (k, d) in order.enumerated() { back[d] = k }
        return Tensor<R>(out, shape: outShape).permuted(back)
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The elements sorted along `axis` (default the last), ascending, NaN last (`numpy.sort`).
    /// A sync point.
    ///
    ///     let s = try Tensor<Double>([3, 1, 2]).sorted()        // 1, 2, 3
    public func sorted(axis: Int = -1) throws -> Tensor {
        try mapLanes(axis: axis, "sort") { lane in
            // NaN is the only value not equal to itself: sorted with `<` apart, then appended.
            var numbers = lane.filter { $0 == $0 }
            numbers.sort()
            return numbers + lane.filter { $0 != $0 }
        }
    }

    /// The indices that sort each lane along `axis` (stable: equal elements keep their order;
    /// `numpy.argsort(kind="stable")`). A sync point.
    ///
    ///     let order = try Tensor<Double>([3, 1, 2]).argsort()     // 1, 2, 0
    public func argsort(axis: Int = -1) throws -> Tensor<Int64> {
        try mapLanes(axis: axis, "argsort") { lane in
            let base = lane.startIndex
            var numbers: [(value: Scalar, index: Int)] = []
            numbers.reserveCapacity(lane.count)
            var nans: [Int64] = []
            for i in lane.indices {
                if lane[i] == lane[i] { numbers.append((lane[i], i - base)) } else { nans.append(Int64(i - base)) }
            }
            // Ties broken by position: stable, as NumPy's kind="stable".
            numbers.sort { $0.value < $1.value || ($0.value == $1.value && $0.index < $1.index) }
            return numbers.map { Int64($0.index) } + nans
        }
    }

    /// Running sums along `axis` (`numpy.cumsum`); flattened first when `axis` is nil. Added in
    /// index order in the element type (floats as NumPy does, integers wrap). A sync point.
    ///
    ///     let c = try Tensor<Int64>([1, 2, 3]).cumsum()      // 1, 3, 6
    public func cumsum(axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try flattened().cumsum(axis: 0) }
        return try mapLanes(axis: axis, "cumsum") { lane in Tensor.scan(lane, .add) }
    }

    /// Running products along `axis` (`numpy.cumprod`); flattened first when `axis` is nil.
    public func cumprod(axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try flattened().cumprod(axis: 0) }
        return try mapLanes(axis: axis, "cumprod") { lane in Tensor.scan(lane, .mul) }
    }

    /// The running sums or products of one lane, in order, in the element type (integers wrap).
    static func scan(_ lane: ArraySlice<Scalar>, _ op: BinaryOp) -> [Scalar] {
        func run<E>(_ values: ArraySlice<E>, _ f: (E, E) -> E) -> [E] {
            var out: [E] = []
            out.reserveCapacity(values.count)
            guard var acc = values.first else { return out }
            out.append(acc)
            for x in values.dropFirst() {
                acc = f(acc, x)
                out.append(acc)
            }
            return out
        }
        let add = op == .add
        switch Scalar.dtype {
        case .float64: return run(lane as! ArraySlice<Double>, add ? { $0 + $1 } : { $0 * $1 }) as! [Scalar]
        case .float32: return run(lane as! ArraySlice<Float>, add ? { $0 + $1 } : { $0 * $1 }) as! [Scalar]
        case .int64: return run(lane as! ArraySlice<Int64>, add ? { $0 &+ $1 } : { $0 &* $1 }) as! [Scalar]
        case .int8, .int16, .int32, .uint8, .uint16, .uint32:
            // Wrapping in the element's width, as kernels do.
            let t = Scalar.dtype
            return run(lane.map { $0.literal.asInt64 }[...], add ? { t.wrap($0 &+ $1) } : { t.wrap($0 &* $1) })
                .map { Scalar(literal: .int($0)) }
        case .bool: preconditionFailure("unreachable: Bool is not numeric")
        }
    }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// The `q`-th percentiles (0...100) along `axis` (all elements when nil), with linear
    /// interpolation between the neighbouring order statistics, as `numpy.percentile`'s default;
    /// NaN in a lane gives NaN. A sync point.
    ///
    ///     let p90 = try x.percentile(90)
    public func percentile(_ q: Double, axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        precondition((0...100).contains(q), "percentile: Percentiles must be in the range [0, 100]")
        return try quantile(q / 100, axis: axis, keepDims: keepDims)
    }

    /// The `q`-th quantiles (0...1), like `percentile` (`numpy.quantile`).
    public func quantile(_ q: Double, axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        precondition((0...1).contains(q), "quantile: Quantiles must be in the range [0, 1]")
        guard let axis else {
            let r = try flattened().quantile(q, axis: 0)
            return keepDims ? r.reshaped([Int](repeating: 1, count: rank)) : r
        }
        let a = Tensor.axis(axis, rank: rank, "quantile")
        precondition(shape[a] > 0, "quantile: cannot take a quantile of an empty axis")
        let r = try mapLanes(axis: a, "quantile") { lane -> [Scalar] in
            if lane.contains(where: { $0.isNaN }) { return [Scalar.nan] }
            let s = lane.sorted()
            let position = q * Double(s.count - 1)
            let lo = Int(position.rounded(.down)), hi = Swift.min(lo + 1, s.count - 1)
            let t = position - Double(lo)
            let a = Double(s[lo].literal.asDouble), b = Double(s[hi].literal.asDouble)
            // NumPy's _lerp: a + (b - a) * t, from the upper end when t >= 0.5.
            let v = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
            return [Scalar(literal: .float(v))]
        }
        return keepDims ? r : r.squeezed(axes: [a])
    }

    /// The median along `axis` (all elements when nil): the 50th percentile (`numpy.median`).
    ///
    ///     let m = try Tensor<Double>([3, 1, 4, 1, 5]).median()   // 3
    public func median(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        guard let axis else {
            let r = try flattened().median(axis: 0)
            return keepDims ? r.reshaped([Int](repeating: 1, count: rank)) : r
        }
        let a = Tensor.axis(axis, rank: rank, "median")
        precondition(shape[a] > 0, "median: cannot take the median of an empty axis")
        let r = try mapLanes(axis: a, "median") { lane -> [Scalar] in
            if lane.contains(where: { $0.isNaN }) { return [Scalar.nan] }
            let s = lane.sorted(), m = s.count / 2
            // NumPy: the mean of the two middle elements, (a + b) / 2, in the element type.
            return [s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2]
        }
        return keepDims ? r : r.squeezed(axes: [a])
    }
}
