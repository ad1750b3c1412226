import TandemIR

// Partial sorts (`numpy.partition`, `numpy.argpartition`: top-k and order statistics without
// a full sort) and `numpy.array_split`. The partitions are host operations over lanes, like the
// sorts of Tensor+Sort.swift, by Hoare's selection on each element's order key (NaN last, -0.0
// equal to 0.0), expected linear time.

extension Tensor where Scalar: NumericTensorScalar {
    /// Each lane along `axis` rearranged so the element at `kth` is the one a sort would put
    /// there, everything before it no greater and everything after no smaller
    /// (`numpy.partition`; NaN sorts last). The order within each side is unspecified, as in
    /// NumPy (it may differ from NumPy's). A sync point.
    ///
    ///     let smallestThree = try x.partition(2)[0..<3]
    public func partition(_ kth: Int, axis: Int = -1) throws -> Tensor {
        let order = try argpartition(kth, axis: axis)
        return try take(along: order, axis: axis)
    }

    /// The indices that would partition each lane along `axis` at `kth` (`numpy.argpartition`):
    /// `x.take(along: x.argpartition(k), axis:)` is `x.partition(k)`. Negative `kth` counts
    /// from the end. A sync point.
    ///
    ///     let top = try (-x).argpartition(3)[0..<4]    // indices of the four largest, any order
    public func argpartition(_ kth: Int, axis: Int = -1) throws -> Tensor<Int64> {
        precondition(rank >= 1, "argpartition: a 0-d array cannot be partitioned")
        let a = Tensor.axis(axis, rank: rank, "argpartition")
        let n = shape[a]
        let k = kth < 0 ? kth + n : kth
        precondition(k >= 0 && k < n, "argpartition: kth(=\(kth)) out of bounds (\(n))")
        return try mapLanes(axis: a, "argpartition") { lane in
            var keys = Tensor.orderKeys(lane)
            var index = (0..<lane.count).map(Int64.init)
            selectKth(&keys, &index, k)
            return index
        }
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The order that sorts by several keys, the last the primary one (`numpy.lexsort`): ties of
    /// a key are broken by the key before it, then by position. Each key a vector of the same
    /// length. Stable sorts by each key from the first to the last. A sync point.
    ///
    ///     let byNameThenAge = try Tensor.lexsort([x, y])       // by y, then x
    public static func lexsort(_ keys: [Tensor]) throws -> Tensor<Int64> {
        precondition(!keys.isEmpty, "lexsort: need sequence of keys with len > 0 in lexsort")
        let n = keys[0].count
        for k in keys { precondition(k.rank == 1 && k.count == n, "lexsort: all keys need to be the same shape (vectors of one length)") }
        var order = try keys[0].argsort()
        for key in keys.dropFirst() {
            // Stable by this key among the order so far: later keys decide, earlier ones break ties.
            order = order.take(try key.take(order).argsort())
        }
        return order
    }
}

extension Tensor {
    /// `sections` pieces along `axis` as equal as they can be (`numpy.array_split`): the first
    /// `count % sections` one element longer. Views.
    ///
    ///     let parts = x.arraySplit(3)       // 8 elements: 3, 3, 2
    public func arraySplit(_ sections: Int, axis: Int = 0) -> [Tensor] {
        precondition(sections > 0, "array_split: number sections must be larger than 0.")
        let a = Tensor.axis(axis, rank: rank, "array_split")
        let n = shape[a], each = n / sections, extra = n % sections
        var cuts: [Int] = []
        var at = 0
        for s in 0..<(sections - 1) {
            at += each + (s < extra ? 1 : 0)
            cuts.append(at)
        }
        return split(at: cuts, axis: a)
    }
}

/// Rearranges `keys` (and `index` alongside) so `keys[k]` is the k-th smallest, none after it
/// smaller and none before it larger: Hoare's selection with the median of three as pivot,
/// and a heap sort of the range once it has been split too often (introselect's guard
/// against quadratic inputs).
func selectKth(_ keys: inout [UInt64], _ index: inout [Int64], _ k: Int) {
    let count = keys.count
    guard count > 1 else { return }
    var budget = 2 * (count.bitWidth - count.leadingZeroBitCount)
    // Through the arrays' memory: swapAt on two inout arrays, checked at every access, made
    // argpartition of 500 lanes of 2,000 slower than a full argsort of them (85-100 ms, 43-55).
    keys.withUnsafeMutableBufferPointer { kp in
        index.withUnsafeMutableBufferPointer { ip in
            let key = kp.baseAddress!, idx = ip.baseAddress!
            @inline(__always) func swap(_ i: Int, _ j: Int) {
                let t = key[i]; key[i] = key[j]; key[j] = t
                let u = idx[i]; idx[i] = idx[j]; idx[j] = u
            }
            var lo = 0, hi = count - 1
            while hi > lo {
                if budget == 0 {
                    // Too many unbalanced splits: sort what is left (the order is then complete).
                    let order = (lo...hi).sorted { key[$0] < key[$1] || (key[$0] == key[$1] && $0 < $1) }
                    let k2 = order.map { key[$0] }, i2 = order.map { idx[$0] }
                    for (p, q) in (lo...hi).enumerated() { key[q] = k2[p]; idx[q] = i2[p] }
                    return
                }
                budget -= 1
                let mid = lo + (hi - lo) / 2
                if key[mid] < key[lo] { swap(mid, lo) }
                if key[hi] < key[lo] { swap(hi, lo) }
                if key[hi] < key[mid] { swap(hi, mid) }
                let pivot = key[mid]
                var i = lo, j = hi
                while i <= j {
                    while key[i] < pivot { i += 1 }
                    while key[j] > pivot { j -= 1 }
                    if i <= j { swap(i, j); i += 1; j -= 1 }
                }
                if k <= j { hi = j } else if k >= i { lo = i } else { return }
            }
        }
    }
}
