import TandemIR

// NumPy's elementwise mathematics beyond the basic arithmetic of `Tensor+Elementwise.swift`.
// Each is one fused elementwise operation (C99 <math.h> on the CPU and CUDA, the same libm in the
// interpreter, so compiled and interpreted results agree bit for bit), or a composition of
// existing ones where that is exact (`isNaN` is `x .!= x`, `sign` two selects).

extension Tensor where Scalar: FloatingTensorScalar {
    /// Tangent (radians; `numpy.tan`).
    public func tan() -> Tensor { unary(.tan) }
    /// Arcsine in radians (`numpy.arcsin`); NaN outside [-1, 1].
    public func asin() -> Tensor { unary(.asin) }
    /// Arccosine in radians (`numpy.arccos`); NaN outside [-1, 1].
    public func acos() -> Tensor { unary(.acos) }
    /// Arctangent in radians (`numpy.arctan`).
    public func atan() -> Tensor { unary(.atan) }
    /// Hyperbolic sine (`numpy.sinh`).
    public func sinh() -> Tensor { unary(.sinh) }
    /// Hyperbolic cosine (`numpy.cosh`).
    public func cosh() -> Tensor { unary(.cosh) }
    /// Inverse hyperbolic sine (`numpy.arcsinh`).
    public func asinh() -> Tensor { unary(.asinh) }
    /// Inverse hyperbolic cosine (`numpy.arccosh`); NaN below 1.
    public func acosh() -> Tensor { unary(.acosh) }
    /// Inverse hyperbolic tangent (`numpy.arctanh`); NaN outside [-1, 1].
    public func atanh() -> Tensor { unary(.atanh) }
    /// `log(1 + x)`, accurate for small `x` (`numpy.log1p`).
    ///
    ///     let nll = (-z).exp().log1p()      // log(1 + e^-z) without cancellation
    public func log1p() -> Tensor { unary(.log1p) }
    /// `exp(x) - 1`, accurate for small `x` (`numpy.expm1`).
    public func expm1() -> Tensor { unary(.expm1) }
    /// Base-2 logarithm (`numpy.log2`).
    public func log2() -> Tensor { unary(.log2) }
    /// Base-10 logarithm (`numpy.log10`).
    public func log10() -> Tensor { unary(.log10) }
    /// 2 raised to each element (`numpy.exp2`).
    public func exp2() -> Tensor { unary(.exp2) }
    /// Cube root (`numpy.cbrt`); negative inputs give negative roots.
    public func cbrt() -> Tensor { unary(.cbrt) }
    /// Rounds toward zero (`numpy.trunc`).
    public func trunc() -> Tensor { unary(.trunc) }
    /// Rounds to the nearest integer, ties to even, like `numpy.round` and `numpy.rint`
    /// (not Swift's `rounded()`, which rounds ties away from zero).
    ///
    ///     Tensor<Double>([0.5, 1.5, 2.5]).round()   // 0, 2, 2
    public func round() -> Tensor { unary(.rint) }

    /// Rounded to `decimals` decimal places, ties to even, by NumPy's rule (`numpy.round(x,
    /// decimals)`): `rint(x * 10^d) / 10^d`, or `rint(x / 10^-d) * 10^-d` for negative `d` (so
    /// the results are NumPy's, binary fractions and all).
    ///
    ///     let cents = x.round(decimals: 2)
    public func round(decimals: Int) -> Tensor {
        if decimals == 0 { return round() }
        var p: Scalar = 1
        for _ in 0..<Swift.abs(decimals) { p *= 10 }
        return decimals > 0 ? (self * p).round() / p : (self / p).round() * p
    }

    /// The angle of the point `(x, y)` in radians, in `-π...π` (`numpy.arctan2(y, x)`).
    ///
    ///     let theta = Tensor.atan2(y, x)
    public static func atan2(_ y: Tensor, _ x: Tensor) -> Tensor { binary(.atan2, y, x, "arctan2") }
    /// `sqrt(x² + y²)` without overflow or underflow in between (`numpy.hypot`), as
    /// `larger · sqrt(1 + (smaller/larger)²)`: Tandem's own, the same bits on every CPU
    /// placement and within 2 ulp of C's `hypot` (which is a call per element that no compiler
    /// vectorises; this is a few vector instructions).
    ///
    ///     let r = Tensor.hypot(x, y)
    public static func hypot(_ x: Tensor, _ y: Tensor) -> Tensor { binary(.hypot, x, y, "hypot") }

    /// Whether each element is NaN (`numpy.isnan`).
    ///
    ///     let bad = x.isNaN().sum()          // how many NaNs
    public func isNaN() -> Tensor<Bool> { self .!= self }
    /// Whether each element is neither infinite nor NaN (`numpy.isfinite`).
    public func isFinite() -> Tensor<Bool> { abs() .< Scalar.infinity }
    /// Whether each element is +∞ or -∞ (`numpy.isinf`).
    public func isInfinite() -> Tensor<Bool> { abs() .== Scalar.infinity }
    /// `1 / x` (`numpy.reciprocal`).
    public func reciprocal() -> Tensor { Scalar(1) / self }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// -1, 0 or 1 by the sign of each element; NaN stays NaN and -0.0 gives 0 (`numpy.sign`).
    ///
    ///     let s = Tensor<Double>([-2, 0, 3]).sign()   // -1, 0, 1
    public func sign() -> Tensor {
        // x - x is +0 for ±0 and every integer, NaN for NaN; ±∞ are caught by the comparisons.
        select(self .> Scalar.zero, Tensor(1), select(self .< Scalar.zero, Tensor(Scalar.zero - 1), self - self))
    }

    /// `x * x` (`numpy.square`).
    public func square() -> Tensor { self * self }

    /// Each element limited to `lower...upper`: `minimum(maximum(x, lower), upper)` as in
    /// `numpy.clip`; NaN stays NaN.
    ///
    ///     let p = probabilities.clip(1e-12, 1 - 1e-12)
    public func clip(_ lower: Scalar, _ upper: Scalar) -> Tensor {
        Tensor.minimum(Tensor.maximum(self, Tensor(lower)), Tensor(upper))
    }
    /// `clip` with tensor bounds (broadcast).
    public func clip(_ lower: Tensor, _ upper: Tensor) -> Tensor { Tensor.minimum(Tensor.maximum(self, lower), upper) }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// The larger of each pair ignoring NaN (`numpy.fmax`): NaN only where both are NaN;
    /// `Tensor.maximum` propagates NaN instead.
    ///
    ///     let upper = Tensor.fmax(x, y)
    public static func fmax(_ a: Tensor, _ b: Tensor) -> Tensor {
        select(a.isNaN(), b, select(b.isNaN(), a, maximum(a, b)))
    }

    /// The smaller of each pair ignoring NaN (`numpy.fmin`).
    ///
    ///     let lower = Tensor.fmin(x, y)
    public static func fmin(_ a: Tensor, _ b: Tensor) -> Tensor {
        select(a.isNaN(), b, select(b.isNaN(), a, minimum(a, b)))
    }

    /// The magnitude of each element with the sign of `sign`'s (`numpy.copysign`); -0.0 counts
    /// as negative. (A NaN's sign bit is not read: a NaN sign counts as positive.)
    ///
    ///     let signed = x.abs().copysign(y)
    public func copysign(_ sign: Tensor) -> Tensor {
        let negative = (sign .< 0) .| ((1 / sign) .< 0)
        return select(negative, -abs(), abs())
    }

    /// The Heaviside step (`numpy.heaviside`): 0 below zero, 1 above, `atZero` at zero, NaN at NaN.
    ///
    ///     let step = x.heaviside(0.5)
    public func heaviside(_ atZero: Scalar) -> Tensor {
        select(self .< 0, Tensor(0), select(self .> 0, Tensor(1), select(self .== 0, Tensor(atZero), self)))
    }
}

/// `x.tan()`, under NumPy's free-function spelling.
public func tan<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.tan() }
/// `x.asin()`, under NumPy's free-function spelling.
public func asin<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.asin() }
/// `x.acos()`, under NumPy's free-function spelling.
public func acos<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.acos() }
/// `x.atan()`, under NumPy's free-function spelling.
public func atan<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.atan() }
/// `x.sinh()`, under NumPy's free-function spelling.
public func sinh<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.sinh() }
/// `x.cosh()`, under NumPy's free-function spelling.
public func cosh<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.cosh() }
/// `x.asinh()`, under NumPy's free-function spelling.
public func asinh<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.asinh() }
/// `x.acosh()`, under NumPy's free-function spelling.
public func acosh<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.acosh() }
/// `x.atanh()`, under NumPy's free-function spelling.
public func atanh<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.atanh() }
/// `x.log1p()`, under NumPy's free-function spelling.
public func log1p<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.log1p() }
/// `x.expm1()`, under NumPy's free-function spelling.
public func expm1<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.expm1() }
/// `x.log2()`, under NumPy's free-function spelling.
public func log2<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.log2() }
/// `x.log10()`, under NumPy's free-function spelling.
public func log10<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.log10() }
/// `x.exp2()`, under NumPy's free-function spelling.
public func exp2<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.exp2() }
/// `x.cbrt()`, under NumPy's free-function spelling.
public func cbrt<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.cbrt() }
/// `x.trunc()`, under NumPy's free-function spelling.
public func trunc<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.trunc() }
/// `x.round()`, under NumPy's free-function spelling.
public func round<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.round() }
/// `numpy.arctan2(y, x)`.
public func atan2<S: FloatingTensorScalar>(_ y: Tensor<S>, _ x: Tensor<S>) -> Tensor<S> { Tensor.atan2(y, x) }
/// `numpy.hypot(x, y)`.
public func hypot<S: FloatingTensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>) -> Tensor<S> { Tensor.hypot(x, y) }
/// `x.square()`, under NumPy's free-function spelling.
public func square<S: NumericTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.square() }
/// `x.sign()`, under NumPy's free-function spelling.
public func sign<S: NumericTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.sign() }
/// `numpy.clip(x, lower, upper)`.
public func clip<S: NumericTensorScalar>(_ x: Tensor<S>, _ lower: S, _ upper: S) -> Tensor<S> { x.clip(lower, upper) }

// MARK: - Selection

/// `condition ? a : b` elementwise, with broadcasting: `numpy.where` under a name Swift accepts
/// without backticks (`where` is a keyword; the backticked spelling stays for NumPy habits).
///
///     let x = Tensor<Double>([-1, 0.5, 2])
///     let clipped = select(x .> 1.0, Tensor(1.0), x)        // -1, 0.5, 1
///     let relu = select(x .> 0.0, x, 0)
public func select<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    let ab = Tensor<S>.broadcastShape(a.shape, b.shape, "where")
    let shape = Tensor<S>.broadcastShape(condition.shape, ab, "where")
    return Tensor<S>(.select(condition.broadcastNode(to: shape), a.broadcastNode(to: shape), b.broadcastNode(to: shape)), shape: shape)
}
/// `select(condition, a, b)` with a scalar where the condition holds.
public func select<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: S, _ b: Tensor<S>) -> Tensor<S> { select(condition, Tensor(a), b) }
/// Each element from the first choice whose condition holds there, else `otherwise`
/// (`numpy.select(condlist, choicelist, default)`), with broadcasting: nested selects, lazy and
/// fused into one expression.
///
///     let x = Tensor<Double>([-3, 0, 3])
///     let piecewise = select([x .< -1.0, x .> 1.0], [x * 10, x * 100], otherwise: Tensor(-7.0))   // -30, -7, 300
public func select<S: TensorScalar>(_ conditions: [Tensor<Bool>], _ choices: [Tensor<S>], otherwise: Tensor<S>) -> Tensor<S> {
    precondition(conditions.count == choices.count, "select: list of cases must be same length as list of conditions")
    var out = otherwise
    for (c, v) in zip(conditions, choices).reversed() { out = select(c, v, out) }
    return out
}
/// `select(condition, a, b)` with a scalar where it does not.
public func select<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: Tensor<S>, _ b: S) -> Tensor<S> { select(condition, a, Tensor(b)) }
/// `select(condition, a, b)` with scalars on both sides.
public func select<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: S, _ b: S) -> Tensor<S> { select(condition, Tensor(a), Tensor(b)) }

// MARK: - Bool tensors

extension Tensor where Scalar == Bool {
    /// Elementwise equality of truth values (`numpy.equal` on bool arrays).
    ///
    ///     let accuracy = (predicted .== labels).mean()
    public static func .== (a: Tensor, b: Tensor) -> Tensor { binary(.eq, a, b, "equal") }
    /// Elementwise inequality, which is exclusive or (`numpy.not_equal`, `^` on bool arrays).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { binary(.ne, a, b, "not_equal") }
    /// Elementwise equality with one truth value.
    public static func .== (a: Tensor, b: Bool) -> Tensor { a .== Tensor(b) }
    /// Elementwise inequality with one truth value.
    public static func .!= (a: Tensor, b: Bool) -> Tensor { a .!= Tensor(b) }
    /// Elementwise exclusive or (`numpy.logical_xor`).
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a .!= b }

    /// How many elements are true over `axes` (all when nil), as `Int64` like NumPy's `sum`.
    ///
    ///     let inside = (x * x + y * y .<= 1.0).sum()     // a count
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor<Int64> {
        cast(to: Int64.self).sum(axes: axes, keepDims: keepDims)
    }
    /// `sum(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor<Int64> { sum(axes: [axis], keepDims: keepDims) }
    /// Running counts of true elements along `axis` (flattened first when nil), `Int64`, as
    /// NumPy's `np.cumsum(mask)`. A sync point, as the other `cumsum`s: the mask is computed
    /// (fused with what makes it) and counted on the host.
    ///
    ///     let seen = try (x .> 0.5).cumsum()       // how many so far, at each element
    public func cumsum(axis: Int? = nil) throws -> Tensor<Int64> { try cast(to: Int64.self).cumsum(axis: axis) }
    /// The fraction of true elements over `axes` (all when nil), in `Double`.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor<Double> {
        cast(to: Double.self).mean(axes: axes, keepDims: keepDims)
    }
    /// `mean(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor<Double> { mean(axes: [axis], keepDims: keepDims) }
    /// Whether any element is true over `axes` (all when nil), like `numpy.any`.
    ///
    ///     if try (x.isNaN()).any().item() { print("NaN found") }
    public func any(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        // Counts (not max/min): an empty tensor has an answer, false for any and true for all.
        sum(axes: axes, keepDims: keepDims) .> Int64(0)
    }
    /// `any(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func any(axis: Int, keepDims: Bool = false) -> Tensor { any(axes: [axis], keepDims: keepDims) }
    /// Whether every element is true over `axes` (all when nil), like `numpy.all`.
    public func all(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        (.!self).sum(axes: axes, keepDims: keepDims) .== Int64(0)
    }
    /// `all(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func all(axis: Int, keepDims: Bool = false) -> Tensor { all(axes: [axis], keepDims: keepDims) }
}

// Bool is not promoted by `+ - *` overloads (NumPy's `count + inside`): each extra overload of
// an arithmetic operator multiplies the type checker's work on long expressions (a ten-term
// stencil went from 14 s to rejected in a model of these operators). Cast instead:
// `count + Tensor<Int32>(inside)`, or count with `inside.sum()`.

// MARK: - Statistics

extension Tensor where Scalar: FloatingTensorScalar {
    /// Variance over `axes` (all when nil) with `ddof` delta degrees of freedom, like
    /// `numpy.var`: the mean of squared deviations from the mean, times `n / (n - ddof)`.
    /// Two passes (the mean, then the deviations), so it is as accurate as NumPy's.
    ///
    ///     let sampleVariance = x.variance(ddof: 1)
    public func variance(axes: [Int]? = nil, ddof: Int = 0, keepDims: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, "var")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let d = self - mean(axes: ax, keepDims: true)
        return (d * d).sum(axes: ax, keepDims: keepDims) / Scalar(Swift.max(n - ddof, 0))
    }
    /// `variance(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func variance(axis: Int, ddof: Int = 0, keepDims: Bool = false) -> Tensor {
        variance(axes: [axis], ddof: ddof, keepDims: keepDims)
    }
    /// Standard deviation: the square root of `variance` (`numpy.std`, same `ddof`).
    public func std(axes: [Int]? = nil, ddof: Int = 0, keepDims: Bool = false) -> Tensor {
        variance(axes: axes, ddof: ddof, keepDims: keepDims).sqrt()
    }
    /// `std(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func std(axis: Int, ddof: Int = 0, keepDims: Bool = false) -> Tensor { std(axes: [axis], ddof: ddof, keepDims: keepDims) }
}

extension Tensor where Scalar: BinaryInteger & NumericTensorScalar {
    /// The mean of integers, in `Double` (as NumPy's `mean` of an integer array).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor<Double> {
        cast(to: Double.self).mean(axes: axes, keepDims: keepDims)
    }
    /// `mean(axes: [axis], ...)`: along one axis (negative axes count from the end).
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor<Double> { mean(axes: [axis], keepDims: keepDims) }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// The flat (row-major) index of the first maximum, like `numpy.argmax` without an axis.
    public func argmax() -> Tensor<Int64> { reshaped([-1]).argmax(axis: 0) }
    /// The flat (row-major) index of the first minimum, like `numpy.argmin` without an axis.
    public func argmin() -> Tensor<Int64> { reshaped([-1]).argmin(axis: 0) }
}

// MARK: - Creation alike another tensor

extension Tensor {
    /// A tensor of `other`'s shape with every element `value` (`numpy.full_like`).
    public static func full<T: TensorScalar>(like other: Tensor<T>, _ value: Scalar) -> Tensor { full(other.shape, value) }
}

extension Tensor where Scalar: Numeric {
    /// Zeros of `other`'s shape (`numpy.zeros_like`; the element type is this tensor type's).
    ///
    ///     var next = Tensor<Double>.zeros(like: grid)
    public static func zeros<T: TensorScalar>(like other: Tensor<T>) -> Tensor { zeros(other.shape) }
    /// Ones of `other`'s shape (`numpy.ones_like`).
    public static func ones<T: TensorScalar>(like other: Tensor<T>) -> Tensor { ones(other.shape) }

    /// `numpy.empty`: a tensor of `shape` whose values the program writes before it reads them.
    /// Tandem's are zeros: a fill costs no memory until materialised, and a write into it is
    /// fused or done in place, so nothing is saved by leaving it uninitialised, and a value read
    /// before it is written is 0, never garbage.
    ///
    ///     var y = Tensor<Double>.empty([8])          // np.empty(8)
    public static func empty(_ shape: [Int]) -> Tensor { zeros(shape) }
    /// `numpy.empty_like`: see `empty(_:)` (zeros of `other`'s shape).
    public static func empty<T: TensorScalar>(like other: Tensor<T>) -> Tensor { zeros(other.shape) }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// Counter-based standard normal numbers scaled to `mean` and `std`, reproducible (the same
    /// values on every run and in any order; across placements within the last bits of `log`
    /// and `cos`, see the README): element i is the Box–Muller transform
    /// `sqrt(-2 log(1 - u1)) * cos(2π u2)` of the uniforms `u1` (seed `seed`) and `u2` (seed
    /// `seed ^ 0x9E3779B9`) at the same index, computed in `Scalar`, then `mean + std * z`.
    /// (Not NumPy's stream: NumPy's generators are sequential.)
    ///
    ///     let noise = Tensor<Double>.normal([1000], seed: 3, std: 0.1)
    public static func normal(_ shape: [Int], seed: UInt64, mean: Double = 0, std: Double = 1) -> Tensor {
        let u1 = Tensor.uniform(shape, seed: seed), u2 = Tensor.uniform(shape, seed: seed ^ 0x9E37_79B9)
        let z = ((Scalar(1) - u1).log() * Scalar(-2)).sqrt() * (u2 * Scalar(2 * Double.pi)).cos()
        return z * Scalar(std) + Scalar(mean)
    }
}

// MARK: - Bitwise operations on integers

extension Tensor where Scalar: IntegerTensorScalar {
    /// Bitwise and (`numpy.bitwise_and`, `&` on integer arrays).
    ///
    ///     let low = codes .& 0xFF
    public static func .& (a: Tensor, b: Tensor) -> Tensor { binary(.bitAnd, a, b, "bitwise_and") }
    /// Bitwise or (`numpy.bitwise_or`).
    public static func .| (a: Tensor, b: Tensor) -> Tensor { binary(.bitOr, a, b, "bitwise_or") }
    /// Bitwise exclusive or (`numpy.bitwise_xor`).
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { binary(.bitXor, a, b, "bitwise_xor") }
    /// Bitwise and of each element with a scalar (`codes .& 0xFF`).
    public static func .& (a: Tensor, b: Scalar) -> Tensor { a .& Tensor(b) }
    /// Bitwise or of each element with a scalar.
    public static func .| (a: Tensor, b: Scalar) -> Tensor { a .| Tensor(b) }
    /// Bitwise exclusive or of each element with a scalar.
    public static func .^ (a: Tensor, b: Scalar) -> Tensor { a .^ Tensor(b) }
    /// Bitwise not (`numpy.invert`, `~` on integer arrays).
    public static prefix func ~ (a: Tensor) -> Tensor { a.unary(.bitNot) }
    /// Left shift (`numpy.left_shift`): a count outside `0..<bitWidth` gives 0.
    ///
    ///     let bits = Tensor<Int64>(1) << Tensor<Int64>.arange(0, 8)    // 1, 2, 4, ..., 128
    public static func << (a: Tensor, b: Tensor) -> Tensor { binary(.shiftLeft, a, b, "left_shift") }
    /// Arithmetic right shift (`numpy.right_shift`): a count outside `0..<bitWidth` gives 0, or
    /// -1 for negative values.
    public static func >> (a: Tensor, b: Tensor) -> Tensor { binary(.shiftRight, a, b, "right_shift") }
    /// Left shift of each element by a scalar count (outside `0..<bitWidth`: 0).
    public static func << (a: Tensor, b: Scalar) -> Tensor { a << Tensor(b) }
    /// Arithmetic right shift of each element by a scalar count (outside `0..<bitWidth`: 0, or -1 for negative values).
    public static func >> (a: Tensor, b: Scalar) -> Tensor { a >> Tensor(b) }
}
