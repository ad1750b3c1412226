import TandemIR

// NumPy's statistics and signal helpers that ports reach for: convolution and correlation,
// weighted averages, NaN-ignoring reductions, covariance and correlation matrices, diagonals,
// Kronecker products, polynomials, `logaddexp`. Each is written with the lazy operations
// (views, broadcasts, reductions), so it fuses with what surrounds it and runs on every device.

/// Which part of a full discrete convolution `convolve` and `correlate` return, as NumPy's
/// `mode`: `.full` every overlap (length n + m - 1), `.same` the middle max(n, m), `.valid`
/// only where the shorter sequence lies wholly inside the longer (max(n, m) - min(n, m) + 1).
public enum ConvolutionMode: Sendable {
    case full, same, valid
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// The discrete linear convolution of two 1-D tensors, like `numpy.convolve` (`mode`
    /// `.full` by default). Each output is a sum over a sliding window of the longer sequence
    /// (a view, no copy) times the shorter one reversed: one fused reduction kernel, whatever
    /// the lengths. Sums are in window order, so the last bits may differ from NumPy's.
    ///
    ///     let smooth = x.convolve(Tensor<Double>([0.25, 0.5, 0.25]), mode: .same)
    public func convolve(_ other: Tensor, mode: ConvolutionMode = .full) -> Tensor {
        precondition(rank == 1 && other.rank == 1, "convolve: object too deep for desired array (both sequences must be 1-D)")
        precondition(shape[0] > 0, "convolve: first argument cannot be empty")
        precondition(other.shape[0] > 0, "convolve: second argument cannot be empty")
        // Convolution is symmetric: the longer sequence slides under the shorter.
        let (long, short) = shape[0] >= other.shape[0] ? (self, other) : (other, self)
        let n = long.shape[0], k = short.shape[0]
        let (start, count): (Int, Int)
        switch mode {
        case .full: (start, count) = (0, n + k - 1)
        case .same: (start, count) = ((k - 1) / 2, n)
        case .valid: (start, count) = (k - 1, n - k + 1)
        }
        if k == 1 { return long * short }
        // full[i] = Σ_j padded[i + j] · short[k - 1 - j], `padded` the long one with k - 1
        // zeros on each side; only the rows of the mode are read.
        let padded = mode == .valid ? long : long.padded([(before: k - 1, after: k - 1)], mode: .constant(0))
        let first = mode == .valid ? 0 : start
        let window = Tensor(.view(padded.node, AffineMap(inRank: 1, outRank: 2, offset: [first], coef: [1, 1])), shape: [count, k])
        return (window * short.flipped()[.newAxis, .all]).sum(axis: 1)
    }

    /// The cross-correlation of two 1-D tensors, like `numpy.correlate` (`mode` `.valid` by
    /// default): c[k] = Σ_n self[n + k] · other[n], that is `convolve(other reversed)`.
    ///
    ///     let lags = x.correlate(y, mode: .full)
    public func correlate(_ other: Tensor, mode: ConvolutionMode = .valid) -> Tensor {
        precondition(rank == 1 && other.rank == 1, "correlate: object too deep for desired array (both sequences must be 1-D)")
        return convolve(other.flipped(), mode: mode)
    }

    /// The weighted average along `axis` (all elements when nil), like `numpy.average`:
    /// Σ w·x / Σ w. `weights` has this tensor's shape, or is 1-D with the length of `axis`.
    /// Without weights, the mean. Weights that sum to zero give NaN or infinity (NumPy raises;
    /// the sum is not known until the result is read).
    ///
    ///     let centre = a.average(weights: Tensor<Double>([1, 2, 1]), axis: 0)
    public func average(weights: Tensor? = nil, axis: Int? = nil) -> Tensor {
        guard let weights else { return axis.map { mean(axis: $0) } ?? mean() }
        guard let axis else {
            precondition(weights.shape == shape, "average: axis must be specified when shapes of a and weights differ")
            return (self * weights).sum() / weights.sum()
        }
        let a = Tensor.axis(axis, rank: rank, "average")
        var w = weights
        if weights.shape != shape {
            precondition(weights.rank == 1, "average: 1D weights expected when shapes of a and weights differ")
            precondition(weights.shape[0] == shape[a], "average: length of weights not compatible with specified axis")
            // Along `axis`, broadcast over the others.
            var items = [TensorIndex](repeating: .newAxis, count: rank)
            items[a] = .all
            w = weights[indices: items]
        }
        return (self * w).sum(axis: a) / w.broadcast(to: shape).sum(axis: a)
    }

    /// The sum over `axes` (all when nil) with NaNs counted as zero, like `numpy.nansum`.
    ///
    ///     let total = x.nanSum()
    public func nanSum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        select(isNaN(), Tensor(0), self).sum(axes: axes, keepDims: keepDims)
    }

    /// The mean over `axes` (all when nil) of the elements that are not NaN, like
    /// `numpy.nanmean` (NaN where every element is NaN).
    ///
    ///     let level = m.nanMean(axes: [1])
    public func nanMean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let present = Tensor(.!isNaN()).sum(axes: axes, keepDims: keepDims)
        return nanSum(axes: axes, keepDims: keepDims) / present
    }

    /// The largest element over `axes` (all when nil) ignoring NaNs, like `numpy.nanmax`
    /// (NaN where every element is NaN).
    ///
    ///     let peak = x.nanMax()
    public func nanMax(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let m = select(isNaN(), Tensor(-Scalar.infinity), self).max(axes: axes, keepDims: keepDims)
        return select(isNaN().all(axes: axes, keepDims: keepDims), Tensor(Scalar.nan), m)
    }

    /// The smallest element over `axes` (all when nil) ignoring NaNs, like `numpy.nanmin`
    /// (NaN where every element is NaN).
    ///
    ///     let lowest = x.nanMin()
    public func nanMin(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let m = select(isNaN(), Tensor(Scalar.infinity), self).min(axes: axes, keepDims: keepDims)
        return select(isNaN().all(axes: axes, keepDims: keepDims), Tensor(Scalar.nan), m)
    }

    /// The variance over `axes` (all when nil) of the elements that are not NaN, like
    /// `numpy.nanvar`: Σ(x - nanMean)² / (count - `ddof`); NaN where no element (or no more
    /// than `ddof`) is present.
    ///
    ///     let spread = x.nanVariance()
    public func nanVariance(axes: [Int]? = nil, ddof: Int = 0, keepDims: Bool = false) -> Tensor {
        let present = Tensor(.!isNaN()).sum(axes: axes, keepDims: keepDims)
        let centred = select(isNaN(), Tensor(0), self - nanMean(axes: axes, keepDims: true))
        let n = present - Scalar(ddof)
        return select(n .> 0, (centred * centred).sum(axes: axes, keepDims: keepDims) / n, Tensor(Scalar.nan))
    }

    /// The standard deviation ignoring NaNs, like `numpy.nanstd`: `nanVariance(...).sqrt()`.
    ///
    ///     let sigma = x.nanStd(ddof: 1)
    public func nanStd(axes: [Int]? = nil, ddof: Int = 0, keepDims: Bool = false) -> Tensor {
        nanVariance(axes: axes, ddof: ddof, keepDims: keepDims).sqrt()
    }

    /// The index of the largest element along `axis` (flat when nil) ignoring NaNs, like
    /// `numpy.nanargmax`. A slice of NaNs only has no answer: NumPy raises; here it stops with
    /// the same message when the result is read (checked on the host: a sync point).
    ///
    ///     let best = try x.nanArgmax()
    public func nanArgmax(axis: Int? = nil) throws -> Tensor<Int64> { try nanArg(axis, largest: true) }

    /// The index of the smallest element ignoring NaNs, like `numpy.nanargmin` (see `nanArgmax`).
    ///
    ///     let lowest = try x.nanArgmin()
    public func nanArgmin(axis: Int? = nil) throws -> Tensor<Int64> { try nanArg(axis, largest: false) }

    private func nanArg(_ axis: Int?, largest: Bool) throws -> Tensor<Int64> {
        let filled = select(isNaN(), Tensor(largest ? -Scalar.infinity : Scalar.infinity), self)
        let allNaN = axis.map { isNaN().all(axis: $0) } ?? isNaN().all()
        let empty = try allNaN.any().item()
        precondition(!empty, "\(largest ? "nanargmax" : "nanargmin"): All-NaN slice encountered")
        if let axis { return largest ? filled.argmax(axis: axis) : filled.argmin(axis: axis) }
        return largest ? filled.argmax() : filled.argmin()
    }

    /// The running sum along `axis` (flattened when nil) with NaNs counted as zero, like
    /// `numpy.nancumsum`. A sync point, as `cumsum`.
    ///
    ///     let running = try x.nanCumsum()
    public func nanCumsum(axis: Int? = nil) throws -> Tensor { try select(isNaN(), Tensor(0), self).cumsum(axis: axis) }

    /// The `q`-th quantile (0...1) along `axis` (all elements when nil) of the elements that are
    /// not NaN (`numpy.nanquantile`, linear interpolation as `quantile`); NaN for a lane of
    /// NaNs only. A sync point.
    ///
    ///     let q90 = try x.nanQuantile(0.9)
    public func nanQuantile(_ q: Double, axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        precondition((0...1).contains(q), "nanquantile: Quantiles must be in the range [0, 1]")
        guard let axis else {
            let r = try flattened().nanQuantile(q, axis: 0)
            return keepDims ? r.reshaped([Int](repeating: 1, count: rank)) : r
        }
        let a = Tensor.axis(axis, rank: rank, "nanquantile")
        let r = try mapLanes(axis: a, "nanquantile") { lane -> [Scalar] in
            let kept = lane.filter { $0 == $0 }
            return [kept.isEmpty ? Scalar.nan : Tensor.laneQuantile(kept[...], q)]
        }
        return keepDims ? r : r.squeezed(axes: [a])
    }

    /// The `q`-th percentile (0...100) ignoring NaNs (`numpy.nanpercentile`). A sync point.
    ///
    ///     let p40 = try x.nanPercentile(40)
    public func nanPercentile(_ q: Double, axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        precondition((0...100).contains(q), "nanpercentile: Percentiles must be in the range [0, 100]")
        return try nanQuantile(q / 100, axis: axis, keepDims: keepDims)
    }

    /// The quantiles `qs` (each 0...1) ignoring NaNs, like `quantile(_: [Double])`
    /// (`numpy.nanquantile` with a list): the q axis first, then the reduced shape; each lane's
    /// non-NaN elements sorted once for all of `qs`. NaN for a lane of NaNs only. A sync point.
    ///
    ///     let quartiles = try x.nanQuantile([0.25, 0.5, 0.75])
    public func nanQuantile(_ qs: [Double], axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        for q in qs { precondition((0...1).contains(q), "nanquantile: Quantiles must be in the range [0, 1]") }
        guard let axis else {
            let r = try flattened().nanQuantile(qs, axis: 0)
            return keepDims ? r.reshaped([qs.count] + [Int](repeating: 1, count: rank)) : r
        }
        let a = Tensor.axis(axis, rank: rank, "nanquantile")
        let r = try mapLanes(axis: a, "nanquantile") { lane -> [Scalar] in
            let kept = lane.filter { $0 == $0 }
            return kept.isEmpty ? [Scalar](repeating: Scalar.nan, count: qs.count) : Tensor.laneQuantiles(kept[...], qs)
        }.movingAxis(a, to: 0)
        return keepDims ? r.expandingDims(at: a + 1) : r
    }

    /// The percentiles `qs` (each 0...100) ignoring NaNs (`numpy.nanpercentile` with a list):
    /// the q axis first, then the reduced shape. A sync point.
    ///
    ///     let band = try x.nanPercentile([5, 95], axis: 0)
    public func nanPercentile(_ qs: [Double], axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        for q in qs { precondition((0...100).contains(q), "nanpercentile: Percentiles must be in the range [0, 100]") }
        return try nanQuantile(qs.map { $0 / 100 }, axis: axis, keepDims: keepDims)
    }

    /// The median ignoring NaNs (`numpy.nanmedian`): the mean of the two middle elements of an
    /// even count, as `median`; NaN for a lane of NaNs only. A sync point.
    ///
    ///     let typical = try x.nanMedian()
    public func nanMedian(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        guard let axis else {
            let r = try flattened().nanMedian(axis: 0)
            return keepDims ? r.reshaped([Int](repeating: 1, count: rank)) : r
        }
        let a = Tensor.axis(axis, rank: rank, "nanmedian")
        let r = try mapLanes(axis: a, "nanmedian") { lane -> [Scalar] in
            let kept = lane.filter { $0 == $0 }
            return [kept.isEmpty ? Scalar.nan : Tensor.laneMedian(kept[...])]
        }
        return keepDims ? r : r.squeezed(axes: [a])
    }

    /// NaN and infinities replaced by finite numbers (`numpy.nan_to_num`): NaN by `nan`, +∞ by
    /// `positiveInfinity` and -∞ by `negativeInfinity` (by default the largest finite magnitudes).
    ///
    ///     let finite = x.nanToNum()
    public func nanToNum(nan: Scalar = 0, positiveInfinity: Scalar? = nil, negativeInfinity: Scalar? = nil) -> Tensor {
        let big = Scalar.greatestFiniteMagnitude
        return select(isNaN(), Tensor(nan), select(self .== Scalar.infinity, Tensor(positiveInfinity ?? big),
                                                   select(self .== -Scalar.infinity, Tensor(negativeInfinity ?? -big), self)))
    }

    /// The normalised sinc, sin(πx)/(πx) (`numpy.sinc`, by NumPy's formula: x = 0 taken as
    /// 1e-20, so sinc(0) is 1 and the values are NumPy's).
    ///
    ///     let kernel = Tensor<Double>.linspace(-3, 3, count: 61).sinc()
    public func sinc() -> Tensor {
        let y = select(self .== 0, Tensor(Scalar(1e-20)), self) * Scalar.pi
        return y.sin() / y
    }

    /// The covariance matrix of the variables in this 1-D or 2-D tensor, like `numpy.cov`:
    /// each row a variable and each column an observation (`rowVariables: false`: the
    /// transpose), normalised by observations - `ddof` (1 by default: the unbiased estimate).
    /// A single variable gives a 0-d tensor, as NumPy does.
    ///
    ///     let c = a.cov(rowVariables: false)
    public func cov(rowVariables: Bool = true, ddof: Int = 1) -> Tensor {
        precondition(rank == 1 || rank == 2, "cov: m has more than 2 dimensions")
        var x = rank == 1 ? self[.newAxis, .all] : self
        if !rowVariables && rank == 2 { x = x.transposed }
        let observations = x.shape[1]
        let centred = x - x.mean(axis: 1, keepDims: true)
        let c = centred.matmul(centred.transposed) / Scalar(observations - ddof)
        return c.shape == [1, 1] ? c[0, 0] : c
    }

    /// The covariance matrix of this tensor's variables and `y`'s together, like
    /// `numpy.cov(m, y)`: `y`'s variables (a 1-D `y` one variable; a matrix's rows, or its
    /// columns when `rowVariables` is false and it has more than one row, as NumPy's) follow
    /// this tensor's, so two 1-D tensors give their 2 x 2 matrix. Both must have the same
    /// number of observations.
    ///
    ///     let c = x.cov(y)          // [[var x, cov(x, y)], [cov(y, x), var y]]
    public func cov(_ y: Tensor, rowVariables: Bool = true, ddof: Int = 1) -> Tensor {
        precondition(rank == 1 || rank == 2, "cov: m has more than 2 dimensions")
        precondition(y.rank == 1 || y.rank == 2, "cov: y has more than 2 dimensions")
        var x = rank == 1 ? self[.newAxis, .all] : self
        if !rowVariables && rank == 2 { x = x.transposed }
        var other = y.rank == 1 ? y[.newAxis, .all] : y
        if !rowVariables && other.shape[0] != 1 { other = other.transposed }
        precondition(x.shape[1] == other.shape[1], "cov: all the input array dimensions except for the concatenation axis must match exactly, but along dimension 1, the array at index 0 has size \(x.shape[1]) and the array at index 1 has size \(other.shape[1])")
        return Tensor.concatenate([x, other], axis: 0).cov(ddof: ddof)
    }

    /// Pearson correlation coefficients of the variables in this 1-D or 2-D tensor, like
    /// `numpy.corrcoef` (rows are variables unless `rowVariables` is false), clipped to
    /// [-1, 1] as NumPy does.
    ///
    ///     let r = a.corrcoef(rowVariables: false)
    public func corrcoef(rowVariables: Bool = true) -> Tensor {
        Tensor.correlation(cov(rowVariables: rowVariables))
    }

    /// Pearson correlation coefficients of this tensor's variables and `y`'s together, like
    /// `numpy.corrcoef(x, y)`: the variables as `cov(_:rowVariables:ddof:)` joins them, so two
    /// 1-D tensors give their 2 x 2 matrix, ones on the diagonal.
    ///
    ///     let r = x.corrcoef(y)[0, 1]       // numpy.corrcoef(x, y)[0, 1]
    public func corrcoef(_ y: Tensor, rowVariables: Bool = true) -> Tensor {
        Tensor.correlation(cov(y, rowVariables: rowVariables))
    }

    /// A covariance matrix normalised by its standard deviations and clipped to [-1, 1], as
    /// `numpy.corrcoef` does (a 0-d covariance gives c / c: 1, or NaN).
    private static func correlation(_ c: Tensor) -> Tensor {
        if c.rank == 0 { return c / c }
        let d = c.diagonal().sqrt()
        return (c / d[.all, .newAxis] / d[.newAxis, .all]).clip(-1, 1)
    }

    /// `log(exp(a) + exp(b))` without overflow, like `numpy.logaddexp`; equal arguments give
    /// a + log 2 (so two infinities of one sign give that infinity).
    ///
    ///     let logTotal = Tensor.logAddExp(x, y)
    public static func logAddExp(_ a: Tensor, _ b: Tensor) -> Tensor {
        let larger = Tensor.maximum(a, b)
        let rest = (-(a - b).abs()).exp().log1p()
        return select(a .== b, a + Scalar(0.693_147_180_559_945_3), larger + rest)   // log 2
    }

    /// `log2(2^a + 2^b)` without overflow, like `numpy.logaddexp2`.
    ///
    ///     let bits = Tensor.logAddExp2(x, y)
    public static func logAddExp2(_ a: Tensor, _ b: Tensor) -> Tensor {
        let larger = Tensor.maximum(a, b)
        // log2(1 + y) as NumPy computes it: log1p(y) times log2(e).
        let rest = (-(a - b).abs()).exp2().log1p() * Scalar(1.442_695_040_888_963_4)
        return select(a .== b, a + 1, larger + rest)
    }

    /// The polynomial with coefficients `p` (highest power first) at each element of `x`, like
    /// `numpy.polyval`, by Horner's rule from zero, as NumPy computes it.
    ///
    ///     let quadratic = Tensor.polyval(Tensor<Double>([1, -3, 2]), x)   // x² - 3x + 2
    public static func polyval(_ p: Tensor, _ x: Tensor) -> Tensor {
        precondition(p.rank == 1, "polyval: the coefficients must be 1-D (got \(p.rank) axes)")
        var y = Tensor.zeros(like: x)
        for i in 0..<p.shape[0] { y = y * x + p[i] }
        return y
    }

    /// Angles in radians converted to degrees (`numpy.degrees`, `rad2deg`).
    ///
    ///     let deg = x.degrees()
    public func degrees() -> Tensor { self * Scalar(180 / Double.pi) }

    /// Angles in degrees converted to radians (`numpy.radians`, `deg2rad`).
    ///
    ///     let rad = x.radians()
    public func radians() -> Tensor { self * Scalar(Double.pi / 180) }
}

/// `Tensor.logAddExp(a, b)` under NumPy's name.
///
///     let l = logaddexp(x, y)
public func logaddexp<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.logAddExp(a, b) }

/// `Tensor.polyval(p, x)` under NumPy's name.
///
///     let values = polyval(Tensor<Double>([2, 0, 1]), x)
public func polyval<S: FloatingTensorScalar>(_ p: Tensor<S>, _ x: Tensor<S>) -> Tensor<S> { Tensor.polyval(p, x) }

/// `a.convolve(v, mode:)` under NumPy's name.
///
///     let c = convolve(x, y, mode: .valid)
public func convolve<S: FloatingTensorScalar>(_ a: Tensor<S>, _ v: Tensor<S>, mode: ConvolutionMode = .full) -> Tensor<S> { a.convolve(v, mode: mode) }

/// `a.correlate(v, mode:)` under NumPy's name.
///
///     let c = correlate(x, y)
public func correlate<S: FloatingTensorScalar>(_ a: Tensor<S>, _ v: Tensor<S>, mode: ConvolutionMode = .valid) -> Tensor<S> { a.correlate(v, mode: mode) }

extension Tensor where Scalar: NumericTensorScalar {
    /// The diagonal `offset` (above the main one positive) of the matrices over `axis1` and
    /// `axis2`, like `numpy.diagonal`: a view (no copy), the diagonal as its last axis after
    /// the remaining axes. Empty when the offset is past the matrix.
    ///
    ///     let d = m.diagonal()
    ///     let upper = m.diagonal(offset: 1)
    public func diagonal(offset: Int = 0, axis1: Int = 0, axis2: Int = 1) -> Tensor {
        precondition(rank >= 2, "diagonal: diag requires an array of at least two dimensions")
        let a1 = Tensor.axis(axis1, rank: rank, "diagonal"), a2 = Tensor.axis(axis2, rank: rank, "diagonal")
        precondition(a1 != a2, "diagonal: axis1 and axis2 cannot be the same")
        let r0 = Swift.max(0, -offset), c0 = Swift.max(0, offset)
        let length = Swift.max(0, Swift.min(shape[a1] - r0, shape[a2] - c0))
        let others = (0..<rank).filter { $0 != a1 && $0 != a2 }
        let outRank = others.count + 1
        var coef = [Int](repeating: 0, count: rank * outRank)
        var start = [Int](repeating: 0, count: rank)
        for (j, d) in others.enumerated() { coef[d * outRank + j] = 1 }
        coef[a1 * outRank + outRank - 1] = 1
        coef[a2 * outRank + outRank - 1] = 1
        if length > 0 { start[a1] = r0; start[a2] = c0 }
        let map = AffineMap(inRank: rank, outRank: outRank, offset: start, coef: coef)
        return Tensor(.view(node, map), shape: others.map { shape[$0] } + [length])
    }

    /// The sum of diagonal `offset` of the matrices over `axis1` and `axis2`, like
    /// `numpy.trace` (a 0-d tensor for a matrix).
    ///
    ///     let tr = m.trace()
    public func trace(offset: Int = 0, axis1: Int = 0, axis2: Int = 1) -> Tensor {
        diagonal(offset: offset, axis1: axis1, axis2: axis2).sum(axis: -1)
    }

    /// The largest minus the smallest element along `axis` (all when nil), like `numpy.ptp`.
    ///
    ///     let range = a.ptp(axis: 0)
    public func ptp(axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        let axes = axis.map { [$0] }
        return max(axes: axes, keepDims: keepDims) - min(axes: axes, keepDims: keepDims)
    }

    /// `numpy.diag`: of a 1-D tensor, the square matrix with it on diagonal `k` (zeros
    /// elsewhere, generated where it is used); of a 2-D tensor, its diagonal `k` (a view).
    ///
    ///     let d = Tensor.diag(Tensor<Double>([1, 2, 3]))
    public static func diag(_ v: Tensor, k: Int = 0) -> Tensor {
        if v.rank == 2 { return v.diagonal(offset: k) }
        precondition(v.rank == 1, "diag: input must be 1- or 2-d")
        let n = v.shape[0] + Swift.abs(k)
        let row = Tensor<Int64>.arange(0, Int64(n))[.all, .newAxis]
        let column = Tensor<Int64>.arange(0, Int64(n))[.newAxis, .all]
        let padded = v.padded([(before: 0, after: Swift.abs(k))], mode: .constant(0))
        // Row i holds v[i] at column i + k (k ≥ 0); column j holds v[j] at row j - k (k < 0).
        let values = k >= 0 ? padded[.all, .newAxis] : padded[.newAxis, .all]
        return select(column - row .== Int64(k), values, Tensor(0))
    }

    /// The Kronecker product, like `numpy.kron`: blocks of `other` scaled by each element of
    /// this tensor (the ranks are evened out by leading axes of length 1).
    ///
    ///     let blocks = Tensor.kron(Tensor<Double>.eye(2), m)
    public static func kron(_ a: Tensor, _ b: Tensor) -> Tensor {
        let r = Swift.max(a.rank, b.rank)
        let sa = [Int](repeating: 1, count: r - a.rank) + a.shape, sb = [Int](repeating: 1, count: r - b.rank) + b.shape
        // a[i0, i1, …] · b[j0, j1, …] at axes (i0, j0, i1, j1, …), then merged pairwise.
        var ia: [TensorIndex] = [], ib: [TensorIndex] = []
        for _ in 0..<r { ia += [.all, .newAxis]; ib += [.newAxis, .all] }
        let product = a.reshaped(sa)[indices: ia] * b.reshaped(sb)[indices: ib]
        return product.reshaped(zip(sa, sb).map { $0 * $1 })
    }
}

/// `Tensor.kron(a, b)` under NumPy's name.
///
///     let k = kron(a, b)
public func kron<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.kron(a, b) }

/// `Tensor.diag(v, k:)` under NumPy's name.
///
///     let d = diag(v)
public func diag<S: NumericTensorScalar>(_ v: Tensor<S>, k: Int = 0) -> Tensor<S> { Tensor.diag(v, k: k) }
