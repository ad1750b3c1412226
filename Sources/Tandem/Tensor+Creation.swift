#if canImport(Glibc)
import Glibc
#endif

extension Tensor {
    /// A tensor of `shape` with every element `value` (no memory until materialised).
    ///
    ///     let grid = Tensor<Double>.full([4, 4], 2.5)
    public static func full(_ shape: [Int], _ value: Scalar) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "full: negative extent in shape \(Shape.describe(shape))")
        return Tensor(.fill(value.literal), shape: shape)
    }
}

extension Tensor where Scalar: Numeric {
    /// Zeros of `shape`.
    ///
    ///     var grid = Tensor<Double>.zeros([514, 514])
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

    /// Ones of `shape`.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }
}

extension Tensor where Scalar == Bool {
    /// All `false` (`numpy.zeros(shape, dtype=bool)`).
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, false) }
    /// All `true` (`numpy.ones(shape, dtype=bool)`).
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, true) }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// `start, start + step, ...` up to but excluding `end`, like `numpy.arange`.
    ///
    ///     let i = Tensor<Int64>.arange(0, 10)           // 0 ... 9
    ///     let x = Tensor<Double>.arange(0, 1, step: 0.25)
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let t = Scalar.dtype
        let span = (end.literal.asDouble(of: t) - start.literal.asDouble(of: t)) / step.literal.asDouble(of: t)
        let n = Swift.max(0, Int(span.rounded(.up)))
        return Tensor(.iota(start: start.literal, step: step.literal), shape: [n])
    }

    /// `0, 1, ..., end - 1`.
    public static func arange(_ end: Scalar) -> Tensor { arange(0, end) }

    /// The index grids of `shape` (`numpy.indices`, its dense form): a tensor of shape
    /// `[shape.count] + shape` whose row `d` holds each element's index along axis `d`. One
    /// expression of `arange`s broadcast over the other axes (row d chosen by a select on the
    /// first index): generated where it is used, no memory until a kernel stores it, fused
    /// with what reads it. An empty `shape` gives an empty vector, as NumPy.
    ///
    ///     let ij = Tensor<Int64>.indices([2, 3])     // ij[0]: 0 0 0 / 1 1 1, ij[1]: 0 1 2 / 0 1 2
    ///     let radius = (Tensor<Double>.indices([5, 5]) - 2).square().sum(axis: 0).sqrt()
    public static func indices(_ shape: [Int]) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "indices: negative dimensions are not allowed")
        if shape.isEmpty { return zeros([0]) }
        let (zero, one) = (Literal.int(0).converted(to: Scalar.dtype), Literal.int(1).converted(to: Scalar.dtype))
        // The index along axis d, varying along axis d + 1 of the result only.
        func along(_ d: Int) -> Tensor {
            var s = [Int](repeating: 1, count: shape.count + 1)
            s[d + 1] = shape[d]
            return Tensor(.iota(start: zero, step: one), shape: [shape[d]]).reshaped(s)
        }
        var rowShape = [Int](repeating: 1, count: shape.count + 1)
        rowShape[0] = shape.count
        let row = Tensor<Int64>.arange(Int64(shape.count)).reshaped(rowShape)
        var grids = along(shape.count - 1)
        for d in (0..<(shape.count - 1)).reversed() { grids = select(row .== Int64(d), along(d), grids) }
        return grids.broadcast(to: [shape.count] + shape)
    }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// `count` evenly spaced values from `start` to `stop` inclusive, like `numpy.linspace`.
    ///
    ///     let x = Tensor<Double>.linspace(0, 1, count: 5)   // 0, 0.25, 0.5, 0.75, 1
    public static func linspace(_ start: Scalar, _ stop: Scalar, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: count must be non-negative, got \(count)")
        let a = start.literal.asDouble, b = stop.literal.asDouble
        let step = count > 1 ? (b - a) / Double(count - 1) : 0
        var t = Tensor(.iota(start: .float(a), step: .float(step)), shape: [count])
        if count > 1 { t[count - 1] = Tensor(stop) }
        return t
    }

    /// `count` numbers spaced evenly on a log scale, `base` to the powers `linspace(start, stop)`
    /// (`numpy.logspace`).
    ///
    ///     let frequencies = Tensor<Double>.logspace(0, 3, count: 4)     // 1, 10, 100, 1000
    public static func logspace(_ start: Scalar, _ stop: Scalar, count: Int, base: Scalar = 10) -> Tensor {
        Tensor(base).pow(linspace(start, stop, count: count))
    }

    /// `count` numbers in geometric progression from `start` to `stop`, both included
    /// (`numpy.geomspace`): powers of ten of evenly spaced logarithms, the ends exactly
    /// `start` and `stop`. Both must be non-zero and of one sign.
    ///
    ///     let scales = Tensor<Double>.geomspace(1, 1000, count: 4)      // 1, 10, 100, 1000
    public static func geomspace(_ start: Scalar, _ stop: Scalar, count: Int) -> Tensor {
        precondition(start != 0 && stop != 0, "geomspace: Geometric sequence cannot include zero")
        precondition((start < 0) == (stop < 0), "geomspace: start and stop must have the same sign (complex results are not provided)")
        let sign: Scalar = start < 0 ? -1 : 1
        let a = Double(start * sign), b = Double(stop * sign)
        var t = logspace(Scalar(Glibc.log10(a)), Scalar(Glibc.log10(b)), count: count) * sign
        if count > 0 { t[0] = Tensor(start) }
        if count > 1 { t[count - 1] = Tensor(stop) }
        return t
    }

    /// Counter-based uniform numbers in `range`, bit-identical on every device and in any order:
    /// element i is `lo + (hi - lo) * u` computed in Double and rounded to `Scalar`, where u is
    /// SplitMix64 of `(seed << 32) + i` as a multiple of 2^-53 (the definition in `reference.py`).
    ///
    ///     let x = Tensor<Float>.uniform([1024, 1024], seed: 7, in: -1...1)
    public static func uniform(_ shape: [Int], seed: UInt64, in range: ClosedRange<Double> = 0...1) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "uniform: negative extent in shape \(Shape.describe(shape))")
        return Tensor(.uniform(seed: seed, lo: range.lowerBound, hi: range.upperBound), shape: shape)
    }
}
