import Dispatch
import TandemIR

// Sorting, order statistics and running sums along an axis. Each lane is processed on the host
// when called (a sync point for the operand): the lane is read contiguously (the axis moved
// last), processed in order, lanes split over the host's threads, and the result is a tensor
// again (its axis moved back as a view). Deterministic: sorts are stable, NaN sorts last
// (NumPy's order), scans add in index order, whatever the split.

extension Tensor {
    /// Runs `body` over each lane along `axis` (the lane's elements in order) and assembles the
    /// lanes it returns (all of one length) with that axis in place again. Lanes run on the
    /// host's threads when there are enough elements to pay for waking them (`parallelElements`),
    /// each lane's result copied straight into the output's buffer: lanes are independent, so
    /// the result does not depend on how they are split.
    func mapLanes<R: TensorScalar>(axis: Int, _ name: String, _ body: @Sendable (ArraySlice<Scalar>) -> [R]) throws -> Tensor<R> {
        let (moved, back) = lanesLast(axis, name)
        let values = try moved.scalars
        let n = moved.shape.last!
        let lanes = n == 0 ? 0 : values.count / n
        // The first lane gives the output's lane length (the body's result for an empty lane
        // when there are none).
        let first = body(lanes == 0 ? [] : values[0..<n])
        let outLength = first.count
        let out = Buffer(dtype: R.dtype, count: lanes * outLength)
        let size = MemoryLayout<R>.stride
        // Results are plain data, copied as bytes (the generic append, unspecialised across
        // modules, cost 50 ms a million elements); the address crosses into the pieces as an integer.
        let address = UInt(bitPattern: out.pointer)
        @Sendable func store(_ r: [R], lane l: Int) {
            precondition(r.count == outLength, "\(name): lanes of different lengths")
            r.withUnsafeBytes { src in
                if let b = src.baseAddress { UnsafeMutableRawPointer(bitPattern: address)!.advanced(by: l * outLength * size).copyMemory(from: b, byteCount: src.count) }
            }
        }
        if lanes > 0 { store(first, lane: 0) }
        let rest = lanes - 1
        if rest > 0 {
            let pieces = values.count < Tensor.parallelElements ? 1 : Swift.min(rest, Tandem.hostThreads)
            DispatchQueue.concurrentPerform(iterations: pieces) { p in
                for l in Swift.stride(from: 1 + p, to: lanes, by: pieces) { store(body(values[(l * n)..<((l + 1) * n)]), lane: l) }
            }
        }
        let outShape = Array(moved.shape.dropLast()) + [outLength]
        return Tensor<R>(.storage(out), shape: outShape).permuted(back)
    }

    /// This tensor with `axis` moved last (a view: its lanes along `axis` become rows) and the
    /// order that moves it back.
    func lanesLast(_ axis: Int, _ name: String) -> (moved: Tensor, back: [Int]) {
        let a = Tensor.axis(axis, rank: rank, name)
        var order = Array(0..<rank)
        order.remove(at: a)
        order.append(a)
        var back = [Int](repeating: 0, count: rank)
        for (k, d) in order.enumerated() { back[d] = k }
        return (permuted(order), back)
    }

    /// Elements from which `mapLanes` splits the lanes over the host's threads.
    static var parallelElements: Int { 1 << 15 }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The elements sorted along `axis` (default the last), ascending, NaN last (`numpy.sort`).
    /// A sync point.
    ///
    ///     let s = try Tensor<Double>([3, 1, 2]).sorted()        // 1, 2, 3
    public func sorted(axis: Int = -1) throws -> Tensor {
        try mapLanes(axis: axis, "sort") { lane in Tensor.sortedLane(lane) }
    }

    /// `lane`'s elements as an array of `T`, this tensor's own element type, copied as bytes:
    /// `as!` between an array of the generic `Scalar` and one of a concrete type converts element
    /// by element (60 ms a million elements), a copy of the bytes takes one.
    static func typed<T>(_ lane: ArraySlice<Scalar>, _: T.Type) -> [T] {
        precondition(MemoryLayout<T>.stride == MemoryLayout<Scalar>.stride, "typed: \(T.self) is not \(Scalar.self)")
        return [T](unsafeUninitializedCapacity: lane.count) { out, n in
            // This is safe: T is Scalar's own (plain-data) type, checked by the caller's switch.
            lane.withUnsafeBytes { if let b = $0.baseAddress { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: b, byteCount: $0.count) } }
            n = lane.count
        }
    }

    /// `values` of this tensor's own element type as `[Scalar]`, copied as bytes (see `typed`).
    static func untyped<T>(_ values: [T]) -> [Scalar] {
        precondition(MemoryLayout<T>.stride == MemoryLayout<Scalar>.stride, "untyped: \(T.self) is not \(Scalar.self)")
        return [Scalar](unsafeUninitializedCapacity: values.count) { out, n in
            // This is safe: T is Scalar's own (plain-data) type.
            values.withUnsafeBytes { if let b = $0.baseAddress { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: b, byteCount: $0.count) } }
            n = values.count
        }
    }

    /// One lane sorted ascending, NaN last, with the element type known: the generic sort, called
    /// from another module, ran through witness tables (1.9 s for a million doubles, NumPy 0.07).
    static func sortedLane(_ lane: ArraySlice<Scalar>) -> [Scalar] {
        switch Scalar.dtype {
        case .float64: untyped(sortedNaNLast(typed(lane, Double.self)[...]))
        case .float32: untyped(sortedNaNLast(typed(lane, Float.self)[...]))
        case .int64: untyped(sortedNaNLast(typed(lane, Int64.self)[...]))
        case .int32: untyped(sortedNaNLast(typed(lane, Int32.self)[...]))
        case .int16: untyped(sortedNaNLast(typed(lane, Int16.self)[...]))
        case .int8: untyped(sortedNaNLast(typed(lane, Int8.self)[...]))
        case .uint64: untyped(sortedNaNLast(typed(lane, UInt64.self)[...]))
        case .uint32: untyped(sortedNaNLast(typed(lane, UInt32.self)[...]))
        case .uint16: untyped(sortedNaNLast(typed(lane, UInt16.self)[...]))
        case .uint8: untyped(sortedNaNLast(typed(lane, UInt8.self)[...]))
        case .bool: preconditionFailure("unreachable: Bool is not numeric")
        }
    }

    /// The positions that sort one lane (stable, NaN last), with the element type known.
    static func argsortLane(_ lane: ArraySlice<Scalar>) -> [Int64] {
        switch Scalar.dtype {
        case .float64: stableOrder(typed(lane, Double.self)[...])
        case .float32: stableOrder(typed(lane, Float.self)[...])
        case .int64: stableOrder(typed(lane, Int64.self)[...])
        case .int32: stableOrder(typed(lane, Int32.self)[...])
        case .int16: stableOrder(typed(lane, Int16.self)[...])
        case .int8: stableOrder(typed(lane, Int8.self)[...])
        case .uint64: stableOrder(typed(lane, UInt64.self)[...])
        case .uint32: stableOrder(typed(lane, UInt32.self)[...])
        case .uint16: stableOrder(typed(lane, UInt16.self)[...])
        case .uint8: stableOrder(typed(lane, UInt8.self)[...])
        case .bool: preconditionFailure("unreachable: Bool is not numeric")
        }
    }

    /// The indices that sort each lane along `axis` (stable: equal elements keep their order;
    /// `numpy.argsort(kind="stable")`). A sync point.
    ///
    ///     let order = try Tensor<Double>([3, 1, 2]).argsort()     // 1, 2, 0
    public func argsort(axis: Int = -1) throws -> Tensor<Int64> {
        try mapLanes(axis: axis, "argsort") { lane in Tensor.argsortLane(lane) }
    }

    /// Running sums along `axis` (`numpy.cumsum`); flattened first when `axis` is nil. Added in
    /// index order in the element type (floats as NumPy does, integers wrap). A sync point.
    ///
    ///     let c = try Tensor<Int64>([1, 2, 3]).cumsum()      // 1, 3, 6
    public func cumsum(axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try flattened().cumsum(axis: 0) }
        return try scanLanes(axis: axis, .sum, "cumsum")
    }

    /// Running products along `axis` (`numpy.cumprod`); flattened first when `axis` is nil.
    public func cumprod(axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try flattened().cumprod(axis: 0) }
        return try scanLanes(axis: axis, .product, "cumprod")
    }

    /// Running maxima along `axis` (`numpy.maximum.accumulate`; flattened first when `axis` is
    /// nil): NaN, once met, carries on, as NumPy's `maximum` propagates it. A sync point.
    ///
    ///     let peak = try Tensor<Double>([1, 3, 2, 5]).cummax()      // 1, 3, 3, 5
    public func cummax(axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try flattened().cummax(axis: 0) }
        return try scanLanes(axis: axis, .max, "maximum.accumulate")
    }

    /// Running minima along `axis` (`numpy.minimum.accumulate`), NaN carried on as in `cummax`.
    /// A sync point.
    ///
    ///     let low = try Tensor<Double>([3, 1, 2, 0]).cummin()       // 3, 1, 1, 0
    public func cummin(axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try flattened().cummin(axis: 0) }
        return try scanLanes(axis: axis, .min, "minimum.accumulate")
    }

    /// Running sums or products along `axis` on raw memory: the lanes (the axis moved last) read
    /// from the operand's buffer and written into the result's, each in index order, lanes split
    /// over the host's threads from `parallelElements` (through `mapLanes` and arrays, a scan
    /// made five passes over its data: 4.4 ms a million doubles, NumPy's 2.8).
    func scanLanes(axis: Int, _ kind: ScanKind, _ name: String) throws -> Tensor {
        let (moved, back) = lanesLast(axis, name)
        let input = try Tandem.runtime.read(moved.node, call: name)
        let n = moved.shape.last!, total = input.count
        let lanes = n == 0 ? 0 : total / n
        let out = Buffer(dtype: Scalar.dtype, count: total)
        let (from, to) = (UInt(bitPattern: input.pointer), UInt(bitPattern: out.pointer))
        let pieces = total < Tensor.parallelElements ? 1 : Swift.max(1, Swift.min(lanes, Tandem.hostThreads))
        withExtendedLifetime(input) {
            DispatchQueue.concurrentPerform(iterations: pieces) { p in
                let lo = lanes * p / pieces, hi = lanes * (p + 1) / pieces
                let src = UnsafeRawPointer(bitPattern: from)!, dst = UnsafeMutableRawPointer(bitPattern: to)!
                switch Scalar.dtype {
                case .float64: scanRaw(src, dst, Double.self, lanes: lo..<hi, n: n, kind)
                case .float32: scanRaw(src, dst, Float.self, lanes: lo..<hi, n: n, kind)
                case .int64: scanRaw(src, dst, Int64.self, lanes: lo..<hi, n: n, kind)
                case .int32: scanRaw(src, dst, Int32.self, lanes: lo..<hi, n: n, kind)
                case .int16: scanRaw(src, dst, Int16.self, lanes: lo..<hi, n: n, kind)
                case .int8: scanRaw(src, dst, Int8.self, lanes: lo..<hi, n: n, kind)
                case .uint64: scanRaw(src, dst, UInt64.self, lanes: lo..<hi, n: n, kind)
                case .uint32: scanRaw(src, dst, UInt32.self, lanes: lo..<hi, n: n, kind)
                case .uint16: scanRaw(src, dst, UInt16.self, lanes: lo..<hi, n: n, kind)
                case .uint8: scanRaw(src, dst, UInt8.self, lanes: lo..<hi, n: n, kind)
                case .bool: preconditionFailure("unreachable: Bool is not numeric")
                }
            }
        }
        return Tensor(.storage(out), shape: moved.shape).permuted(back)
    }
}

/// What a scan accumulates.
enum ScanKind { case sum, product, max, min }

/// An element type a scan runs over, with its running sum, product, maximum and minimum: floats
/// rounding in their own type (as NumPy's) and carrying NaN through maxima and minima (as
/// NumPy's `maximum`), integers wrapping in their width (`&+`, `&*`, as kernels do).
protocol ScanElement: Comparable {
    static func runningSum(_ a: Self, _ b: Self) -> Self
    static func runningProduct(_ a: Self, _ b: Self) -> Self
    static func runningMax(_ a: Self, _ b: Self) -> Self
    static func runningMin(_ a: Self, _ b: Self) -> Self
}
extension ScanElement where Self: BinaryFloatingPoint {
    @inline(__always) static func runningSum(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) static func runningProduct(_ a: Self, _ b: Self) -> Self { a * b }
    // NumPy's `maximum`: `a > b || isnan(a) ? a : b` (a NaN from either side carries on; of
    // two zeros, the later).
    @inline(__always) static func runningMax(_ a: Self, _ b: Self) -> Self { a > b || a.isNaN ? a : b }
    @inline(__always) static func runningMin(_ a: Self, _ b: Self) -> Self { a < b || a.isNaN ? a : b }
}
extension ScanElement where Self: FixedWidthInteger {
    @inline(__always) static func runningSum(_ a: Self, _ b: Self) -> Self { a &+ b }
    @inline(__always) static func runningProduct(_ a: Self, _ b: Self) -> Self { a &* b }
    @inline(__always) static func runningMax(_ a: Self, _ b: Self) -> Self { Swift.max(a, b) }
    @inline(__always) static func runningMin(_ a: Self, _ b: Self) -> Self { Swift.min(a, b) }
}
extension Double: ScanElement {}
extension Float: ScanElement {}
extension Int64: ScanElement {}
extension Int32: ScanElement {}
extension Int16: ScanElement {}
extension Int8: ScanElement {}
extension UInt64: ScanElement {}
extension UInt32: ScanElement {}
extension UInt16: ScanElement {}
extension UInt8: ScanElement {}

/// Running sums, products, maxima or minima of `lanes` of `n` elements of `T` from `src` into
/// `dst`, each lane in index order (specialised at each call from `scanLanes`).
func scanRaw<T: ScanElement>(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ type: T.Type, lanes: Range<Int>, n: Int,
                             _ kind: ScanKind) {
    let x = src.assumingMemoryBound(to: T.self), y = dst.assumingMemoryBound(to: T.self)
    for l in lanes where n > 0 {
        let base = l * n
        var acc = x[base]
        y[base] = acc
        switch kind {
        case .sum: for i in 1..<n { acc = T.runningSum(acc, x[base + i]); y[base + i] = acc }
        case .product: for i in 1..<n { acc = T.runningProduct(acc, x[base + i]); y[base + i] = acc }
        case .max: for i in 1..<n { acc = T.runningMax(acc, x[base + i]); y[base + i] = acc }
        case .min: for i in 1..<n { acc = T.runningMin(acc, x[base + i]); y[base + i] = acc }
        }
    }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// The `k`-th smallest element of `lane` (from 0) and the one after it in order (the same
    /// at the end), found by selection in linear time, not by a sort (a median of 120,000
    /// doubles took 6-12 ms sorted, NumPy's partition 2); nil when the lane holds a NaN
    /// (NumPy's median and percentile are then NaN).
    static func orderStatistics(_ lane: ArraySlice<Scalar>, _ k: Int) -> (Scalar, Scalar)? {
        // Each type's own call: the selection specialised (through `Comparable`'s witness
        // table it was three times slower than the sort it replaces).
        switch Scalar.dtype {
        case .float64:
            var values = typed(lane, Double.self)
            guard let (x, y) = selectNeighbours(&values, k) else { return nil }
            return (untyped([x])[0], untyped([y])[0])
        case .float32:
            var values = typed(lane, Float.self)
            guard let (x, y) = selectNeighbours(&values, k) else { return nil }
            return (untyped([x])[0], untyped([y])[0])
        default: preconditionFailure("unreachable: \(Scalar.dtype) is not a floating-point type")
        }
    }

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
        let r = try mapLanes(axis: a, "quantile") { lane in [Tensor.laneQuantile(lane, q)] }
        return keepDims ? r : r.squeezed(axes: [a])
    }

    /// The percentiles `qs` (each 0...100) along `axis` (all elements when nil), as
    /// `numpy.percentile(x, [q1, q2, ...])`: the q axis first, then the reduced shape (with
    /// `keepDims`, the reduced axes kept as 1 after it). Each lane is sorted once for all of `qs`
    /// and interpolated as `percentile(_:)` does, so each row equals that q's single percentile;
    /// in the element type (NumPy gives float64 for a float32 array and a list: the same values,
    /// rounded). NaN in a lane gives NaN. A sync point.
    ///
    ///     let quartiles = try x.percentile([25, 50, 75])              // shape [3]
    ///     let bands = try m.percentile([5, 95], axis: 0)            // shape [2, 5]
    public func percentile(_ qs: [Double], axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        for q in qs { precondition((0...100).contains(q), "percentile: Percentiles must be in the range [0, 100]") }
        return try quantile(qs.map { $0 / 100 }, axis: axis, keepDims: keepDims)
    }

    /// The quantiles `qs` (each 0...1), like `percentile(_: [Double])` (`numpy.quantile` with a
    /// list): the q axis first, then the reduced shape.
    ///
    ///     let tertiles = try x.quantile([1.0 / 3, 2.0 / 3])
    public func quantile(_ qs: [Double], axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        for q in qs { precondition((0...1).contains(q), "quantile: Quantiles must be in the range [0, 1]") }
        guard let axis else {
            let r = try flattened().quantile(qs, axis: 0)
            return keepDims ? r.reshaped([qs.count] + [Int](repeating: 1, count: rank)) : r
        }
        let a = Tensor.axis(axis, rank: rank, "quantile")
        precondition(shape[a] > 0, "quantile: cannot take a quantile of an empty axis")
        // Each lane's quantiles take its place along `a`, then move in front, as NumPy's q axis.
        let r = try mapLanes(axis: a, "quantile") { lane in Tensor.laneQuantiles(lane, qs) }.movingAxis(a, to: 0)
        return keepDims ? r.expandingDims(at: a + 1) : r
    }

    /// The `q`-th quantile of a non-empty lane by linear interpolation (NaN if it holds one).
    static func laneQuantile(_ lane: ArraySlice<Scalar>, _ q: Double) -> Scalar {
        let position = q * Double(lane.count - 1)
        let lo = Int(position.rounded(.down))
        guard let (x, y) = Tensor.orderStatistics(lane, lo) else { return Scalar.nan }
        return interpolate(x, y, position - Double(lo))
    }

    /// The quantiles `qs` of a non-empty lane, from one sort of it: the same values as
    /// `laneQuantile` for each (all NaN if the lane holds one, which sorts last).
    static func laneQuantiles(_ lane: ArraySlice<Scalar>, _ qs: [Double]) -> [Scalar] {
        if qs.isEmpty { return [] }
        let s = sortedLane(lane)
        if s[s.count - 1].isNaN { return [Scalar](repeating: Scalar.nan, count: qs.count) }
        return qs.map { q in
            let position = q * Double(s.count - 1)
            let lo = Int(position.rounded(.down))
            return interpolate(s[lo], s[Swift.min(lo + 1, s.count - 1)], position - Double(lo))
        }
    }

    /// `x + (y - x) * t` in Double, rounded to the element type, as NumPy's _lerp: from the
    /// upper end, `y - (y - x) * (1 - t)`, when t >= 0.5.
    static func interpolate(_ x: Scalar, _ y: Scalar, _ t: Double) -> Scalar {
        let a = Double(x.literal.asDouble), b = Double(y.literal.asDouble)
        let v = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
        return Scalar(literal: .float(v))
    }

    /// The median of a non-empty lane (NaN if it holds one): the middle element, or the mean
    /// of the two middle ones, (a + b) / 2 in the element type, as NumPy's.
    static func laneMedian(_ lane: ArraySlice<Scalar>) -> Scalar {
        let m = lane.count / 2
        guard let (a, b) = Tensor.orderStatistics(lane, lane.count % 2 == 1 ? m : m - 1) else { return Scalar.nan }
        return lane.count % 2 == 1 ? a : (a + b) / 2
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
        let r = try mapLanes(axis: a, "median") { lane in [Tensor.laneMedian(lane)] }
        return keepDims ? r : r.squeezed(axes: [a])
    }
}

/// Element types sorted by an LSD radix sort on an order-preserving unsigned key: floats'
/// bits with the sign folded (negative values inverted), integers with the sign bit flipped.
/// NaN never gets a key (the callers set NaN apart first).
protocol RadixSortable: Comparable {
    /// Bytes of the key that vary (8 for 64-bit types, 4 for 32-bit ones...).
    static var keyBytes: Int { get }
    var radixKey: UInt64 { get }
    /// The value of a key (`radixKey` inverted).
    init(radixKey: UInt64)
    /// The key that orders equal values alike (a stable order keeps -0.0 and 0.0 as they came).
    var stableKey: UInt64 { get }
}

extension RadixSortable {
    var stableKey: UInt64 { radixKey }
}

extension Double: RadixSortable {
    static var keyBytes: Int { 8 }
    var radixKey: UInt64 { let b = bitPattern; return b >> 63 == 1 ? ~b : b | (1 << 63) }
    init(radixKey k: UInt64) { self.init(bitPattern: k >> 63 == 1 ? k & ~(1 << 63) : ~k) }
    var stableKey: UInt64 { self == 0 ? Double(0).radixKey : radixKey }
}
extension Float: RadixSortable {
    static var keyBytes: Int { 4 }
    var radixKey: UInt64 { let b = bitPattern; return UInt64(b >> 31 == 1 ? ~b : b | (1 << 31)) }
    init(radixKey k: UInt64) { let b = UInt32(truncatingIfNeeded: k); self.init(bitPattern: b >> 31 == 1 ? b & ~(1 << 31) : ~b) }
    var stableKey: UInt64 { self == 0 ? Float(0).radixKey : radixKey }
}
/// Integers: the value with its sign bit flipped (two's complement order becomes unsigned order).
protocol RadixInteger: RadixSortable, FixedWidthInteger {}
extension RadixInteger {
    static var keyBytes: Int { bitWidth / 8 }
    private static var flip: UInt64 { Self.isSigned ? 1 << UInt64(bitWidth - 1) : 0 }
    var radixKey: UInt64 { (UInt64(truncatingIfNeeded: self) & (UInt64.max >> UInt64(64 - Self.bitWidth))) ^ Self.flip }
    init(radixKey k: UInt64) { self.init(truncatingIfNeeded: k ^ Self.flip) }
}
extension Int64: RadixInteger {}
extension Int32: RadixInteger {}
extension Int16: RadixInteger {}
extension Int8: RadixInteger {}
extension UInt64: RadixInteger {}
extension UInt32: RadixInteger {}
extension UInt16: RadixInteger {}
extension UInt8: RadixInteger {}

/// For each of the keys' low `keyBytes` bytes, where each value of that byte starts in a stable
/// counting pass, or nil when every key has the same byte there (the pass would move nothing).
/// All bytes are counted in one pass over the keys (the counts do not depend on their order;
/// a pass a byte: a million doubles sorted in 24 ms, one pass: 22). The one histogram of both
/// radix sorts below.
func radixStarts(_ keys: [UInt64], keyBytes: Int) -> [[Int]?] {
    var counts = [Int](repeating: 0, count: 256 * keyBytes)
    counts.withUnsafeMutableBufferPointer { c in
        keys.withUnsafeBufferPointer { k in
            for key in k {
                var rest = key
                for b in 0..<keyBytes {
                    c[b &* 256 &+ Int(truncatingIfNeeded: rest & 0xFF)] &+= 1
                    rest >>= 8
                }
            }
        }
    }
    return (0..<keyBytes).map { b -> [Int]? in
        var starts = Array(counts[(b * 256)..<((b + 1) * 256)])
        if starts.contains(keys.count) { return nil }
        var total = 0
        for i in 0..<256 { let c = starts[i]; starts[i] = total; total += c }
        return starts
    }
}

/// `keys` sorted ascending in place by LSD radix passes of 8 bits (a pass over a byte every key shares
/// is skipped): the keys alone move, for sorts that need no positions.
func radixSort(_ keys: inout [UInt64], keyBytes: Int) {
    let n = keys.count
    guard n > 1 else { return }
    let allStarts = radixStarts(keys, keyBytes: keyBytes)
    // The passes go back and forth between the keys and one scratch array (uninitialised: it is
    // written in full before it is read).
    var other = [UInt64](unsafeUninitializedCapacity: n) { _, count in count = n }
    for pass in 0..<keyBytes {
        let shift = UInt64(pass * 8)
        guard var starts = allStarts[pass] else { continue }
        keys.withUnsafeBufferPointer { k in
            other.withUnsafeMutableBufferPointer { o in
                starts.withUnsafeMutableBufferPointer { c in
                    for key in k {
                        let d = Int(truncatingIfNeeded: key >> shift) & 0xFF
                        o[c[d]] = key
                        c[d] += 1
                    }
                }
            }
        }
        swap(&keys, &other)
    }
}

/// The positions `0..<keys.count` in the stable ascending order of `keys` (an LSD radix sort,
/// 8 bits a pass, passes over bytes that are the same in every key skipped): linear in the
/// count, where a comparison sort of a million doubles took 80 ms.
func radixOrder(_ input: [UInt64], keyBytes: Int) -> [Int32] {
    let n = input.count
    var order = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = Int32(i) }; c = n }
    guard n > 1 else { return order }
    // The keys move with their positions, so each pass reads both in order; the scratch arrays
    // are uninitialised (each pass writes them in full before they are read).
    var keys = input
    var otherKeys = [UInt64](unsafeUninitializedCapacity: n) { _, count in count = n }
    var other = [Int32](unsafeUninitializedCapacity: n) { _, count in count = n }
    let allStarts = radixStarts(input, keyBytes: keyBytes)
    for pass in 0..<keyBytes {
        let shift = UInt64(pass * 8)
        guard var starts = allStarts[pass] else { continue }
        keys.withUnsafeBufferPointer { k in
            order.withUnsafeBufferPointer { o in
                otherKeys.withUnsafeMutableBufferPointer { ok in
                    other.withUnsafeMutableBufferPointer { oo in
                        starts.withUnsafeMutableBufferPointer { c in
                            for i in 0..<n {
                                let key = k[i], d = Int(truncatingIfNeeded: key >> shift) & 0xFF
                                let at = c[d]
                                ok[at] = key
                                oo[at] = o[i]
                                c[d] = at + 1
                            }
                        }
                    }
                }
            }
        }
        swap(&keys, &otherKeys)
        swap(&order, &other)
    }
    return order
}

/// Below this many elements a comparison sort is as fast as the radix passes' fixed cost.
/// Lanes of doubles in [-1, 1] (`bench/probes` `z_scan`, `sort(axis: -1)`, all threads): 1000
/// lanes of 1000 19.4 ms compared, 8.8 by radix; 10,000 lanes of 100 13.8 compared, 17.1 by
/// radix (it was 2048, set from whole-array sorts).
let radixThreshold = 256

/// A lane sorted ascending with NaN (the one value not equal to itself) last; specialised at
/// each call from `sortedLane`.
func sortedNaNLast<T: RadixSortable>(_ lane: ArraySlice<T>) -> [T] {
    if lane.count < radixThreshold {
        let numbers = lane.filter { $0 == $0 }
        return numbers.count == lane.count ? numbers.sorted() : numbers.sorted() + lane.filter { $0 != $0 }
    }
    // The keys made in one pass over the lane (NaNs counted aside), sorted in place, and turned
    // back into values in the result: three arrays of the lane's length where filtering,
    // mapping and joining made seven (a million doubles spent a sixth of its sort faulting
    // their pages in).
    var keys = [UInt64]()
    keys.reserveCapacity(lane.count)
    var nans = 0
    for v in lane {
        if v == v { keys.append(v.radixKey) } else { nans += 1 }
    }
    radixSort(&keys, keyBytes: T.keyBytes)
    return [T](unsafeUninitializedCapacity: lane.count) { out, count in
        // This is safe: T is a plain-data element type, and every slot is written once.
        keys.withUnsafeBufferPointer { k in for i in 0..<k.count { (out.baseAddress! + i).initialize(to: T(radixKey: k[i])) } }
        if nans > 0 {
            var j = keys.count
            for v in lane where v != v { (out.baseAddress! + j).initialize(to: v); j += 1 }
        }
        count = lane.count
    }
}

/// The positions that sort a lane, ties by position (stable, as NumPy's kind="stable"), NaN last.
func stableOrder<T: RadixSortable>(_ lane: ArraySlice<T>) -> [Int64] {
    let base = lane.startIndex
    var numbers: [T] = [], positions: [Int64] = [], nans: [Int64] = []
    numbers.reserveCapacity(lane.count)
    positions.reserveCapacity(lane.count)
    for i in lane.indices {
        if lane[i] == lane[i] { numbers.append(lane[i]); positions.append(Int64(i - base)) } else { nans.append(Int64(i - base)) }
    }
    if numbers.count < radixThreshold {
        // Radix order is stable; the comparison sort is made stable by the position.
        let pairs = zip(numbers, positions).sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return pairs.map(\.1) + nans
    }
    return radixOrder(numbers.map(\.stableKey), keyBytes: T.keyBytes).map { positions[Int($0)] } + nans
}

/// The `k`-th smallest of `values` (from 0) and the next one in order (the same at the end),
/// leaving `values` partly reordered; nil when a value is NaN. Hoare's selection (quickselect)
/// with a median-of-three pivot, which sorts what is left of the range when a bad run of pivots
/// would make it quadratic (introselect's guard); specialised at each call from
/// `orderStatistics`.
func selectNeighbours<T: BinaryFloatingPoint>(_ values: inout [T], _ k: Int) -> (T, T)? {
    precondition(k >= 0 && k < values.count, "selectNeighbours: \(k) outside 0..<\(values.count)")
    return values.withUnsafeMutableBufferPointer { a -> (T, T)? in
        for v in a where v.isNaN { return nil }
        var lo = 0, hi = a.count - 1
        var rounds = 2 * (Int.bitWidth - a.count.leadingZeroBitCount) + 8
        while hi > lo {
            if rounds == 0 {
                var rest = UnsafeMutableBufferPointer(rebasing: a[lo...hi])
                rest.sort()
                break
            }
            rounds -= 1
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { a.swapAt(mid, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[hi] < a[mid] { a.swapAt(hi, mid) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while pivot < a[j] { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            // a[lo...j] <= pivot <= a[i...hi], and everything strictly between j and i equals it.
            if k <= j { hi = j } else if k >= i { lo = i } else { break }
        }
        // Everything after position k is at least a[k]: the next in order is their least.
        var next = a[k]
        if k + 1 < a.count {
            next = a[k + 1]
            for i in (k + 2)..<a.count where a[i] < next { next = a[i] }
        }
        return (a[k], next)
    }
}
