import TandemIR

// Lookups in sorted order, computed on the host when called (sync points for their operands,
// like the sorts of Tensor+Sort.swift): `unique`, `searchSorted` and `interp`. Comparisons go
// through an order-preserving unsigned key of each element type (`RadixSortable`), so 64-bit
// integers compare exactly and NaN is greater than every number, as NumPy sorts it.

extension Tensor where Scalar: NumericTensorScalar {
    /// Each element's key in NumPy's sort order: -0.0 and 0.0 equal, NaN above everything.
    static func orderKeys(_ lane: ArraySlice<Scalar>) -> [UInt64] {
        // Inlined into each case, so specialised: generic, it called the key's witnesses an
        // element at a time and was most of an argpartition (500 lanes of 2,000: 45 ms).
        @inline(__always) func keys<T: RadixSortable>(_ t: T.Type) -> [UInt64] {
            precondition(MemoryLayout<T>.stride == MemoryLayout<Scalar>.stride, "orderKeys: \(T.self) is not \(Scalar.self)")
            return lane.withUnsafeBytes { raw in
                // T is Scalar's own (plain-data) type, checked by the switch below.
                let values = raw.assumingMemoryBound(to: T.self)
                return [UInt64](unsafeUninitializedCapacity: values.count) { out, n in
                    for i in 0..<values.count {
                        let v = values[i]
                        out[i] = v == v ? v.stableKey : UInt64.max
                    }
                    n = values.count
                }
            }
        }
        switch Scalar.dtype {
        case .float64: return keys(Double.self)
        case .float32: return keys(Float.self)
        case .int64: return keys(Int64.self)
        case .int32: return keys(Int32.self)
        case .int16: return keys(Int16.self)
        case .int8: return keys(Int8.self)
        case .uint64: return keys(UInt64.self)
        case .uint32: return keys(UInt32.self)
        case .uint16: return keys(UInt16.self)
        case .uint8: return keys(UInt8.self)
        case .bool: preconditionFailure("unreachable: Bool is not numeric")
        }
    }

    /// The distinct elements, sorted, of the whole tensor flattened (`numpy.unique`); NaNs
    /// count as one value, placed last, and -0.0 as 0.0. A sync point.
    ///
    ///     let classes = try Tensor<Int64>([3, 1, 3, 2]).unique()     // 1, 2, 3
    public func unique() throws -> Tensor { try uniqueWithCounts().values }

    /// The distinct elements, sorted, and how many times each occurs (`numpy.unique` with
    /// `return_counts=True`). A sync point.
    ///
    ///     let (values, counts) = try labels.uniqueWithCounts()
    public func uniqueWithCounts() throws -> (values: Tensor, counts: Tensor<Int64>) {
        let flat = try flattened().scalars
        let sorted = Tensor.sortedLane(flat[...])
        let keys = Tensor.orderKeys(sorted[...])
        var firsts: [Int] = [], counts: [Int64] = []
        for i in keys.indices {
            if i > 0 && keys[i] == keys[i - 1] { counts[counts.count - 1] += 1 } else { firsts.append(i); counts.append(1) }
        }
        return (Tensor(firsts.map { sorted[$0] }, shape: [firsts.count]), Tensor<Int64>(counts, shape: [counts.count]))
    }

    /// Where each of `values` would be inserted into this sorted 1-D tensor to keep it sorted
    /// (`numpy.searchsorted`): with `right` false, before any equal elements (`side="left"`),
    /// otherwise after them. The result has `values`' shape. This tensor must be sorted
    /// ascending (NaN last), as NumPy assumes; it is not checked. A sync point.
    ///
    ///     let at = try Tensor<Double>([1, 2, 3]).searchSorted(Tensor<Double>([2, 5]))   // 1, 3
    public func searchSorted(_ values: Tensor, right: Bool = false) throws -> Tensor<Int64> {
        precondition(rank == 1, "searchsorted: the sorted array must be 1-D (got \(rank) axes)")
        let sorted = Tensor.orderKeys(try scalars[...])
        let wanted = Tensor.orderKeys(try values.flattened().scalars[...])
        let out = wanted.map { Int64(insertionPoint(sorted, $0, right: right)) }
        return Tensor<Int64>(out, shape: values.shape)
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The index of the bin each element falls in (`numpy.digitize`): for increasing `bins`,
    /// i with `bins[i-1] <= x < bins[i]` (`right`: `bins[i-1] < x <= bins[i]`), 0 below the
    /// first edge and `bins.count` above the last; decreasing `bins` count from the other
    /// end, as NumPy's. `bins` must be monotonic (checked). A sync point.
    ///
    ///     let bin = try x.digitize(Tensor<Double>([0.25, 0.5, 0.75]))
    public func digitize(_ bins: Tensor, right: Bool = false) throws -> Tensor<Int64> {
        precondition(bins.rank == 1, "digitize: bins must be 1-dimensional (got \(bins.rank) axes)")
        let edges = Tensor.orderKeys(try bins.scalars[...])
        let increasing = zip(edges, edges.dropFirst()).allSatisfy { $0 <= $1 }
        let decreasing = zip(edges, edges.dropFirst()).allSatisfy { $0 >= $1 }
        precondition(increasing || decreasing, "digitize: bins must be monotonically increasing or decreasing")
        let keys = Tensor.orderKeys(try flattened().scalars[...])
        let n = edges.count
        let ascending = increasing ? edges : edges.reversed()
        let out = keys.map { k -> Int64 in
            let at = insertionPoint(ascending, k, right: !right)
            return Int64(increasing ? at : n - at)
        }
        return Tensor<Int64>(out, shape: shape)
    }

    /// Whether each element is among `tests`'s elements (`numpy.isin`), this tensor's shape.
    /// NaN is in nothing (it equals nothing), -0.0 and 0.0 are equal. A sync point.
    ///
    ///     let seen = try labels.isin(Tensor<Int64>([1, 3]))
    public func isin(_ tests: Tensor) throws -> Tensor<Bool> {
        let nanKey = Scalar.dtype.isFloatingPoint ? UInt64.max : nil
        let sorted = Tensor.orderKeys(try tests.flattened().scalars[...]).filter { $0 != nanKey }.sorted()
        let out = Tensor.orderKeys(try flattened().scalars[...]).map { k -> Bool in
            if k == nanKey { return false }
            let at = insertionPoint(sorted, k, right: false)
            return at < sorted.count && sorted[at] == k
        }
        return Tensor<Bool>(out, shape: shape)
    }

    /// The sorted distinct elements of this tensor that are not in `other` (`numpy.setdiff1d`),
    /// both flattened. A sync point.
    ///
    ///     let unseen = try labels.setDifference(predicted)
    public func setDifference(_ other: Tensor) throws -> Tensor {
        let u = try unique()
        return try u.elements(where: .!(try u.isin(other)))
    }

    /// The sorted distinct elements found in both tensors (`numpy.intersect1d`). A sync point.
    ///
    ///     let common = try a.intersection(b)
    public func intersection(_ other: Tensor) throws -> Tensor {
        let u = try unique()
        return try u.elements(where: try u.isin(other))
    }

    /// The sorted distinct elements found in either tensor (`numpy.union1d`). A sync point.
    ///
    ///     let both = try a.union(b)
    public func union(_ other: Tensor) throws -> Tensor {
        try Tensor.concatenate([flattened(), other.flattened()]).unique()
    }
}

extension Tensor where Scalar == Bool {
    /// The indices of the true elements, one row each (`numpy.argwhere`): shape (count, rank),
    /// `Int64`, in row-major order. A sync point.
    ///
    ///     let where2 = try (m .> 0.5).argwhere()       // rows of (i, j)
    public func argwhere() throws -> Tensor<Int64> {
        if rank == 0 { return Tensor<Int64>.zeros([try item() ? 1 : 0, 0]) }
        return Tensor<Int64>.stack(try nonzero(), axis: 1)
    }
}

/// The first position in `keys` (ascending) whose key is not below `key` (`right`: above): the
/// binary search of `searchSorted` and `interp`.
func insertionPoint<K: Comparable>(_ keys: [K], _ key: K, right: Bool) -> Int {
    var lo = 0, hi = keys.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if right ? keys[mid] <= key : keys[mid] < key { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// Piecewise-linear interpolation of the points (`xp`, `fp`) at this tensor's elements, like
    /// `numpy.interp`: `xp` is 1-D and increasing; below `xp[0]` the result is `left` (default
    /// `fp[0]`), above the last point `right` (default its `fp`). In Double, as NumPy returns
    /// float64, with NumPy's formula (`slope * (x - xp[j]) + fp[j]`, exact at the points). A
    /// sync point.
    ///
    ///     let y = try x.interp(Tensor<Double>([0, 1]), Tensor<Double>([10, 20]))
    public func interp(_ xp: Tensor, _ fp: Tensor, left: Double? = nil, right: Double? = nil) throws -> Tensor<Double> {
        precondition(xp.rank == 1 && fp.rank == 1, "interp: xp and fp must be 1-D sequences")
        precondition(xp.count == fp.count, "interp: fp and xp are not of the same length (\(fp.count) and \(xp.count))")
        precondition(xp.count > 0, "interp: array of sample points is empty")
        let px = try xp.cast(to: Double.self).scalars, py = try fp.cast(to: Double.self).scalars
        let x = try cast(to: Double.self).flattened().scalars
        let n = px.count
        let below = left ?? py[0], above = right ?? py[n - 1]
        let out = x.map { v -> Double in
            if v.isNaN { return v }
            if v < px[0] { return below }
            if v > px[n - 1] { return above }
            // The last point with xp[j] <= v (v is within [xp[0], xp[n - 1]]).
            let j = Swift.max(insertionPoint(px, v, right: true) - 1, 0)
            if j == n - 1 || px[j] == v { return py[j] }
            let slope = (py[j + 1] - py[j]) / (px[j + 1] - px[j])
            var r = slope * (v - px[j]) + py[j]
            // NumPy's fallbacks where the slope is infinite or NaN.
            if r.isNaN {
                r = slope * (v - px[j + 1]) + py[j + 1]
                if r.isNaN && py[j] == py[j + 1] { r = py[j] }
            }
            return r
        }
        return Tensor<Double>(out, shape: shape)
    }
}
