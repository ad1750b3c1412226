import Dispatch
import TandemIR

// NumPy's `np.add.reduceat`: sums over consecutive slices of one axis, given their starts. A
// host operation, as the scans beside it in `Tensor+Sort.swift`: the operand is computed (a sync
// point), its lanes along the axis read contiguously (the axis moved last), split over the
// host's threads, and each slice added in NumPy's order, so floating-point results are NumPy's
// bits: the first element, plus the pairwise sum of the rest (NumPy's reduce loop for `add`).

extension Tensor where Scalar: NumericTensorScalar {
    /// Sums of the slices of `axis` that start at each of `indices` (`np.add.reduceat(x,
    /// indices, axis)`): result `i` is the sum of elements `indices[i] ..< indices[i + 1]`
    /// (to the end for the last), or element `indices[i]` alone when `indices[i] >=
    /// indices[i + 1]`; the result has `indices.count` elements along `axis`. Every index must
    /// lie in `0 ..< n` (NumPy's "index 8 out-of-bounds in add.reduceat [0, 8)" otherwise, and no
    /// negative indices counting from the end).
    ///
    /// A sync point: the slices are summed on the host in NumPy's order (the first element plus
    /// the pairwise sum of the rest, in the element type), so float results are NumPy's bits
    /// (where `sum` accumulates in Double and may differ in the last place); integers wrap. The
    /// element type is the one `sum` gives (`Int64` for small integers and Bool; NumPy widens
    /// `int32` to `int64` too, Tandem's `Int32` stays `Int32` as its `sum` does).
    ///
    ///     let x = Tensor<Double>.arange(8)
    ///     let s = try x.addReduceAt([0, 4, 1, 5])          // 6, 4, 10, 18
    ///     let rows = try m.addReduceAt([0, 2], axis: 0)    // sums of rows 0-1 and 2-4
    public func addReduceAt(_ indices: [Int], axis: Int = 0) throws -> Tensor {
        precondition(rank > 0, "add.reduceat: cannot reduceat on a scalar")
        let a = Tensor.axis(axis, rank: rank, "add.reduceat")
        let n = shape[a]
        for i in indices { precondition(i >= 0 && i < n, "index \(i) out-of-bounds in add.reduceat [0, \(n))") }
        let k = indices.count
        var outShape = shape
        outShape[a] = k
        if k == 0 || count == 0 { return Tensor.zeros(outShape) }
        let (moved, back) = lanesLast(a, "add.reduceat")
        let input = try Tandem.runtime.read(moved.node, call: "add.reduceat")
        let lanes = input.count / n
        let ends = (0..<k).map { $0 + 1 < k ? indices[$0 + 1] : n }
        let out = Buffer(dtype: Scalar.dtype, count: lanes * k)
        let (from, to) = (UInt(bitPattern: input.pointer), UInt(bitPattern: out.pointer))
        let pieces = input.count < Tensor.parallelElements ? 1 : Swift.max(1, Swift.min(lanes, Tandem.hostThreads))
        withExtendedLifetime(input) {
            DispatchQueue.concurrentPerform(iterations: pieces) { p in
                let range = (lanes * p / pieces)..<(lanes * (p + 1) / pieces)
                // The buffers outlive the loop (`input` by `withExtendedLifetime`, `out` below).
                let src = UnsafeRawPointer(bitPattern: from)!, dst = UnsafeMutableRawPointer(bitPattern: to)!
                switch Scalar.dtype {
                case .float64: reduceAtRaw(src, dst, Double.self, lanes: range, n: n, starts: indices, ends: ends)
                case .float32: reduceAtRaw(src, dst, Float.self, lanes: range, n: n, starts: indices, ends: ends)
                case .int64: reduceAtRaw(src, dst, Int64.self, lanes: range, n: n, starts: indices, ends: ends)
                case .int32: reduceAtRaw(src, dst, Int32.self, lanes: range, n: n, starts: indices, ends: ends)
                case .int16: reduceAtRaw(src, dst, Int16.self, lanes: range, n: n, starts: indices, ends: ends)
                case .int8: reduceAtRaw(src, dst, Int8.self, lanes: range, n: n, starts: indices, ends: ends)
                case .uint64: reduceAtRaw(src, dst, UInt64.self, lanes: range, n: n, starts: indices, ends: ends)
                case .uint32: reduceAtRaw(src, dst, UInt32.self, lanes: range, n: n, starts: indices, ends: ends)
                case .uint16: reduceAtRaw(src, dst, UInt16.self, lanes: range, n: n, starts: indices, ends: ends)
                case .uint8: reduceAtRaw(src, dst, UInt8.self, lanes: range, n: n, starts: indices, ends: ends)
                case .bool: preconditionFailure("unreachable: Bool is not numeric")
                }
            }
        }
        return Tensor(.storage(out), shape: Array(moved.shape.dropLast()) + [k]).permuted(back)
    }

    /// `addReduceAt` with the indices in an integer tensor (read first: a sync point for it).
    ///
    ///     let starts = Tensor<Int64>([0, 4, 1, 5])
    ///     let s = try Tensor<Double>.arange(8).addReduceAt(starts)
    public func addReduceAt<I: IndexTensorScalar>(_ indices: Tensor<I>, axis: Int = 0) throws -> Tensor {
        precondition(indices.rank <= 1, "add.reduceat: setting an array element with a sequence. The requested array would exceed the maximum number of dimension of 1.")
        return try addReduceAt(try indices.scalars.map { Int($0) }, axis: axis)
    }
}

extension Tensor where Scalar: SmallIntegerTensorScalar {
    /// `addReduceAt` in `Int64`, as `sum` widens small integers (NumPy gives `int64`, or
    /// `uint64` for the unsigned ones). A sync point.
    ///
    ///     let s = try Tensor<UInt8>([200, 100, 3]).addReduceAt([0, 2])   // 300, 3
    public func addReduceAt(_ indices: [Int], axis: Int = 0) throws -> Tensor<Int64> {
        try cast(to: Int64.self).addReduceAt(indices, axis: axis)
    }
}

extension Tensor where Scalar == Bool {
    /// Counts of true elements in the slices `addReduceAt` sums, as `Int64`
    /// (`np.add.reduceat(mask, indices)`). A sync point.
    ///
    ///     let counts = try (x .> 0.5).addReduceAt([0, 4])
    public func addReduceAt(_ indices: [Int], axis: Int = 0) throws -> Tensor<Int64> {
        try cast(to: Int64.self).addReduceAt(indices, axis: axis)
    }
}

/// An element type `add.reduceat` sums: floats in NumPy's order (the first element plus the
/// pairwise sum of the rest), integers wrapping in their width, as kernels do.
protocol ReduceAtElement {
    /// The sum of the `count` (at least 1) elements from `first`.
    static func sliceSum(_ first: UnsafePointer<Self>, _ count: Int) -> Self
}

extension ReduceAtElement where Self: BinaryFloatingPoint {
    @inline(__always) static func sliceSum(_ first: UnsafePointer<Self>, _ count: Int) -> Self {
        count == 1 ? first[0] : first[0] + pairwiseSum(first + 1, count - 1)
    }

    /// NumPy's `pairwise_sum`: under 8 elements in order from -0 (so that -0s sum to -0), up to
    /// 128 in eight interleaved accumulators added as a tree, beyond that halves (cut at a
    /// multiple of 8) summed apart. The same operations in the same order as its C, so the same
    /// bits.
    static func pairwiseSum(_ a: UnsafePointer<Self>, _ n: Int) -> Self {
        if n < 8 {
            var res: Self = -0.0
            for i in 0..<n { res += a[i] }
            return res
        }
        if n <= 128 {
            var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
            var i = 8
            while i < n - n % 8 {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
                i += 8
            }
            var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n {
                res += a[i]
                i += 1
            }
            return res
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(a, half) + pairwiseSum(a + half, n - half)
    }
}

extension ReduceAtElement where Self: FixedWidthInteger {
    @inline(__always) static func sliceSum(_ first: UnsafePointer<Self>, _ count: Int) -> Self {
        var s = first[0]
        for i in 1..<count { s = s &+ first[i] }
        return s
    }
}

extension Double: ReduceAtElement {}
extension Float: ReduceAtElement {}
extension Int64: ReduceAtElement {}
extension Int32: ReduceAtElement {}
extension Int16: ReduceAtElement {}
extension Int8: ReduceAtElement {}
extension UInt64: ReduceAtElement {}
extension UInt32: ReduceAtElement {}
extension UInt16: ReduceAtElement {}
extension UInt8: ReduceAtElement {}

/// `add.reduceat` of `lanes` of `n` elements of `T` from `src` into lanes of `starts.count`
/// elements in `dst`: slice `i` of a lane is `starts[i] ..< ends[i]`, or its first element
/// alone when empty or reversed (NumPy's rule).
func reduceAtRaw<T: ReduceAtElement>(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ type: T.Type, lanes: Range<Int>, n: Int,
                                     starts: [Int], ends: [Int]) {
    let x = src.assumingMemoryBound(to: T.self), y = dst.assumingMemoryBound(to: T.self)
    let k = starts.count
    for l in lanes {
        let lane = x + l * n
        for i in 0..<k {
            let (s, e) = (starts[i], ends[i])
            y[l * k + i] = s < e ? T.sliceSum(lane + s, e - s) : lane[s]
        }
    }
}
