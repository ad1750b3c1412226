import ComplexModule
import RealModule
import TandemIR

// Complex arithmetic written as the real operations NumPy's complex loops perform, so that it
// fuses and runs on every device. A real operand is promoted as NumPy promotes it (imaginary
// part +0): `z * 2` is `(2re - 0im, 0re + 2im)`, not `(2re, 2im)`, which differs in the sign of
// zeros and where a part is infinite, as NumPy's does.
//
// Type-checking cost, measured (`swiftc -typecheck` of TypeCheckTests' ten-term real stencil
// expression, 2.1 s without complex operators): every overload of `+ - * /` is a candidate at
// every operator of every expression, real ones included. Generic real-scalar overloads made
// that expression 2.95 s; declared for `Double` and `Float` apiece and disfavoured, 2.4 s.
// Overloads mixing a real *tensor* with a complex one cost another 0.3 s and are left out:
// `z * ComplexTensor(x)` promotes a real tensor explicitly, as `Tensor(x)` converts dtypes.
// `Complex` scalars keep generic, favoured overloads: an integer literal (`2 * z`) is a
// `Complex` too, and picks them over the disfavoured real ones with the same result (NumPy
// promotes the real 2 to 2 + 0i as well); a float literal or a `Double` can only be real.

extension ComplexTensor {
    static func add(_ a: ComplexTensor, _ b: ComplexTensor) -> ComplexTensor {
        ComplexTensor(real: a.real + b.real, imaginary: a.imaginary + b.imaginary)
    }

    static func subtract(_ a: ComplexTensor, _ b: ComplexTensor) -> ComplexTensor {
        ComplexTensor(real: a.real - b.real, imaginary: a.imaginary - b.imaginary)
    }

    /// `(ac - bd) + (ad + bc)i`, each product rounded (NumPy's SIMD loops fuse one multiply-add
    /// into each part, so their bits can differ in the last place, and more where a part cancels).
    static func multiply(_ a: ComplexTensor, _ b: ComplexTensor) -> ComplexTensor {
        ComplexTensor(real: a.real * b.real - a.imaginary * b.imaginary,
                      imaginary: a.real * b.imaginary + a.imaginary * b.real)
    }

    /// Smith's method, branch for branch as NumPy's division loop (the same bits): the ratio of
    /// the divisor's smaller part to its larger keeps intermediate values in range; a zero divisor
    /// divides each part by +0 (infinities and NaNs, as NumPy).
    static func divide(_ a: ComplexTensor, _ b: ComplexTensor) -> ComplexTensor {
        let (ar, ai, br, bi) = (a.real, a.imaginary, b.real, b.imaginary)
        let brAbs = br.abs(), biAbs = bi.abs()
        let realLarger = brAbs .>= biAbs
        let zero = (brAbs .== 0) .& (biAbs .== 0)
        let rat1 = bi / br, scale1 = 1 / (br + bi * rat1)
        let rat2 = br / bi, scale2 = 1 / (bi + br * rat2)
        let re = select(realLarger, select(zero, ar / brAbs, (ar + ai * rat1) * scale1), (ar * rat2 + ai) * scale2)
        let im = select(realLarger, select(zero, ai / brAbs, (ai - ar * rat1) * scale1), (ai * rat2 - ar) * scale2)
        return ComplexTensor(real: re, imaginary: im)
    }

    // MARK: - Operators

    /// Element-wise sum, broadcast as NumPy broadcasts.
    ///
    ///     let w = ComplexTensor(x) + ComplexTensor(real: y, imaginary: z)
    public static func + (a: ComplexTensor, b: ComplexTensor) -> ComplexTensor { add(a, b) }
    /// Element-wise difference.
    public static func - (a: ComplexTensor, b: ComplexTensor) -> ComplexTensor { subtract(a, b) }
    /// Element-wise complex product.
    public static func * (a: ComplexTensor, b: ComplexTensor) -> ComplexTensor { multiply(a, b) }
    /// Element-wise complex quotient (Smith's method, as NumPy).
    public static func / (a: ComplexTensor, b: ComplexTensor) -> ComplexTensor { divide(a, b) }

    /// With a complex scalar.
    ///
    ///     let rotated = ComplexTensor(x) * Complex(0, 1)
    public static func + (a: ComplexTensor, b: Complex<RealType>) -> ComplexTensor { a + ComplexTensor(b) }
    /// With a complex scalar.
    public static func - (a: ComplexTensor, b: Complex<RealType>) -> ComplexTensor { a - ComplexTensor(b) }
    /// With a complex scalar.
    public static func * (a: ComplexTensor, b: Complex<RealType>) -> ComplexTensor { a * ComplexTensor(b) }
    /// With a complex scalar.
    public static func / (a: ComplexTensor, b: Complex<RealType>) -> ComplexTensor { a / ComplexTensor(b) }
    /// A complex scalar with a complex tensor.
    public static func + (a: Complex<RealType>, b: ComplexTensor) -> ComplexTensor { ComplexTensor(a) + b }
    /// A complex scalar with a complex tensor.
    public static func - (a: Complex<RealType>, b: ComplexTensor) -> ComplexTensor { ComplexTensor(a) - b }
    /// A complex scalar with a complex tensor.
    public static func * (a: Complex<RealType>, b: ComplexTensor) -> ComplexTensor { ComplexTensor(a) * b }
    /// A complex scalar with a complex tensor.
    public static func / (a: Complex<RealType>, b: ComplexTensor) -> ComplexTensor { ComplexTensor(a) / b }

    /// Negation of both parts.
    public static prefix func - (a: ComplexTensor) -> ComplexTensor { ComplexTensor(real: -a.real, imaginary: -a.imaginary) }

    /// `a = a + b`.
    ///
    ///     var acc = ComplexTensor<Double>.zeros([8])
    ///     acc += ComplexTensor(x)
    public static func += (a: inout ComplexTensor, b: ComplexTensor) { a = add(a, b) }
    /// `a = a - b`.
    public static func -= (a: inout ComplexTensor, b: ComplexTensor) { a = subtract(a, b) }
    /// `a = a * b`.
    public static func *= (a: inout ComplexTensor, b: ComplexTensor) { a = multiply(a, b) }
    /// `a = a / b`.
    public static func /= (a: inout ComplexTensor, b: ComplexTensor) { a = divide(a, b) }
    /// `a = a * b` with a complex scalar.
    @_disfavoredOverload
    public static func *= (a: inout ComplexTensor, b: Complex<RealType>) { a = multiply(a, ComplexTensor(b)) }
    /// `a = a / b` with a complex scalar.
    @_disfavoredOverload
    public static func /= (a: inout ComplexTensor, b: Complex<RealType>) { a = divide(a, ComplexTensor(b)) }
    /// `a = a + b` with a complex scalar.
    @_disfavoredOverload
    public static func += (a: inout ComplexTensor, b: Complex<RealType>) { a = add(a, ComplexTensor(b)) }
    /// `a = a - b` with a complex scalar.
    @_disfavoredOverload
    public static func -= (a: inout ComplexTensor, b: Complex<RealType>) { a = subtract(a, ComplexTensor(b)) }
    /// `a = a * b` with a real scalar.
    public static func *= (a: inout ComplexTensor, b: RealType) { a = multiply(a, ComplexTensor(Tensor(b))) }
    /// `a = a / b` with a real scalar.
    public static func /= (a: inout ComplexTensor, b: RealType) { a = divide(a, ComplexTensor(Tensor(b))) }

    /// Where both parts are equal (`numpy.equal`; NaN is unequal to everything).
    ///
    ///     let same = ComplexTensor(x) .== ComplexTensor(y)
    public static func .== (a: ComplexTensor, b: ComplexTensor) -> Tensor<Bool> {
        (a.real .== b.real) .& (a.imaginary .== b.imaginary)
    }
    /// Where either part differs (`numpy.not_equal`).
    public static func .!= (a: ComplexTensor, b: ComplexTensor) -> Tensor<Bool> {
        (a.real .!= b.real) .| (a.imaginary .!= b.imaginary)
    }

    // MARK: - Functions

    /// The complex conjugate (`numpy.conj`).
    ///
    ///     let adjoint = ComplexTensor(real: a, imaginary: a).conj().transposed
    public func conj() -> ComplexTensor { ComplexTensor(real: real, imaginary: -imaginary) }

    /// The magnitude `|z|` without overflow or underflow in between (`numpy.abs`): `hypot(re,
    /// im)`, Tandem's own (`Tensor.hypot`), which computes `larger · sqrt(1 + (smaller/larger)²)`
    /// as NumPy's vector loop does and vectorises; within an ulp or two of NumPy's.
    ///
    ///     let r = ComplexTensor(real: x, imaginary: y).abs()
    public func abs() -> Tensor<RealType> { Tensor.hypot(real, imaginary) }

    /// The argument in radians, in `-π...π` (`numpy.angle`: `arctan2(im, re)`, the same bits).
    ///
    ///     let phase = ComplexTensor(real: x, imaginary: y).angle()
    public func angle() -> Tensor<RealType> { Tensor.atan2(imaginary, real) }

    /// `e^z = e^re (cos im + i sin im)` (`numpy.exp`; within a few ulp of NumPy's where the parts
    /// are finite and `e^re` does not overflow).
    ///
    ///     let wave = ComplexTensor(real: Tensor<Double>.zeros([8]), imaginary: x).exp()
    public func exp() -> ComplexTensor {
        let scale = real.exp()
        return ComplexTensor(real: scale * imaginary.cos(), imaginary: scale * imaginary.sin())
    }

    /// The principal logarithm `log|z| + i·angle(z)` (`numpy.log`; near `|z| = 1` the real part
    /// loses the relative accuracy that C's `clog` keeps).
    ///
    ///     let l = ComplexTensor(real: x, imaginary: y).log()
    public func log() -> ComplexTensor { ComplexTensor(real: abs().log(), imaginary: angle()) }

    /// The principal square root, with a non-negative real part and the sign of the imaginary
    /// part (including -0) on the imaginary result (`numpy.sqrt`; within a few ulp).
    ///
    ///     let roots = ComplexTensor(real: -x, imaginary: Tensor<Double>.zeros([8])).sqrt()
    public func sqrt() -> ComplexTensor {
        let r = abs()
        let t = ((real.abs() + r) * 0.5).sqrt()
        let twice = t * 2
        // The sign bit of the imaginary part: 1/-0 is -inf.
        let negative = (imaginary .< 0) .| ((imaginary .== 0) .& (1 / imaginary .< 0))
        let bothZero = (real .== 0) .& (imaginary .== 0)
        let nonNegative = real .>= 0
        let re = select(bothZero, Tensor<RealType>(0), select(nonNegative, t, imaginary.abs() / twice))
        let im = select(bothZero, imaginary, select(nonNegative, imaginary / twice, select(negative, -t, t)))
        return ComplexTensor(real: re, imaginary: im)
    }

    // MARK: - Reductions

    /// Sum over `axes` (all when nil): the parts summed apart, as NumPy's complex sum is
    /// (each accumulated in Double, deterministic).
    ///
    ///     let total = try ComplexTensor(x).sum().item()
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> ComplexTensor {
        ComplexTensor(real: real.sum(axes: axes, keepDims: keepDims), imaginary: imaginary.sum(axes: axes, keepDims: keepDims))
    }
    /// `sum(axes: [axis], ...)`.
    public func sum(axis: Int, keepDims: Bool = false) -> ComplexTensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all when nil): the sum divided by the count as a complex division,
    /// as NumPy's `mean` divides.
    ///
    ///     let centre = try ComplexTensor(real: x, imaginary: y).mean().item()
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> ComplexTensor {
        let n = real.reductionAxes(axes, "mean").reduce(1) { $0 * shape[$1] }
        return ComplexTensor.divide(sum(axes: axes, keepDims: keepDims), ComplexTensor(Tensor(RealType(n))))
    }
    /// `mean(axes: [axis], ...)`.
    public func mean(axis: Int, keepDims: Bool = false) -> ComplexTensor { mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes` (all when nil), `numpy.var` of complex values: the mean of
    /// `|z - mean|²`, real, which is the real parts' variance plus the imaginary parts'
    /// (`ddof` as for real tensors).
    ///
    ///     let spread = ComplexTensor(real: x, imaginary: y).variance()
    public func variance(axes: [Int]? = nil, ddof: Int = 0, keepDims: Bool = false) -> Tensor<RealType> {
        real.variance(axes: axes, ddof: ddof, keepDims: keepDims) + imaginary.variance(axes: axes, ddof: ddof, keepDims: keepDims)
    }
    /// `variance(axes: [axis], ...)`.
    public func variance(axis: Int, ddof: Int = 0, keepDims: Bool = false) -> Tensor<RealType> {
        variance(axes: [axis], ddof: ddof, keepDims: keepDims)
    }
    /// The square root of `variance` (`numpy.std` of complex values).
    public func std(axes: [Int]? = nil, ddof: Int = 0, keepDims: Bool = false) -> Tensor<RealType> {
        variance(axes: axes, ddof: ddof, keepDims: keepDims).sqrt()
    }
    /// `std(axes: [axis], ...)`.
    public func std(axis: Int, ddof: Int = 0, keepDims: Bool = false) -> Tensor<RealType> { std(axes: [axis], ddof: ddof, keepDims: keepDims) }

    /// Running sums along `axis` (flattened when nil), `numpy.cumsum`: each part's own. A sync
    /// point, as for real tensors.
    ///
    ///     let path = try ComplexTensor(real: x, imaginary: y).cumsum()
    public func cumsum(axis: Int? = nil) throws -> ComplexTensor {
        ComplexTensor(real: try real.cumsum(axis: axis), imaginary: try imaginary.cumsum(axis: axis))
    }

    /// Where either part is NaN (`numpy.isnan`).
    ///
    ///     let bad = ComplexTensor(real: x, imaginary: y).isNaN()
    public func isNaN() -> Tensor<Bool> { real.isNaN() .| imaginary.isNaN() }
    /// Where both parts are finite (`numpy.isfinite`).
    public func isFinite() -> Tensor<Bool> { real.isFinite() .& imaginary.isFinite() }
    /// Where either part is infinite (`numpy.isinf`).
    public func isInfinite() -> Tensor<Bool> { real.isInfinite() .| imaginary.isInfinite() }

    // MARK: - Linear algebra

    /// The matrix product with NumPy's `matmul` meaning (vectors, batches, broadcasting), as
    /// four real products: `(A + iB)(C + iD) = (AC - BD) + i(AD + BC)`; large ones run on the BLAS
    /// as real products do.
    ///
    ///     let p = ComplexTensor(real: a, imaginary: a).matmul(ComplexTensor(b))
    public func matmul(_ other: ComplexTensor) -> ComplexTensor {
        ComplexTensor(real: real.matmul(other.real) - imaginary.matmul(other.imaginary),
                      imaginary: real.matmul(other.imaginary) + imaginary.matmul(other.real))
    }

    /// The product with a real matrix or vector (two real products).
    ///
    ///     let p = ComplexTensor(real: a, imaginary: a).matmul(b)
    public func matmul(_ other: Tensor<RealType>) -> ComplexTensor {
        ComplexTensor(real: real.matmul(other), imaginary: imaginary.matmul(other))
    }
}

/// `condition ? a : b` element-wise, broadcast (`numpy.where` for complex tensors).
///
///     let clipped = select(x .> 0.5, ComplexTensor(x), ComplexTensor<Double>.zeros([8]))
public func select<R: ComplexComponent>(_ condition: Tensor<Bool>, _ a: ComplexTensor<R>, _ b: ComplexTensor<R>) -> ComplexTensor<R> {
    ComplexTensor(real: select(condition, a.real, b.real), imaginary: select(condition, a.imaginary, b.imaginary))
}

/// `condition ? a : b` element-wise for complex tensors, like `numpy.where` (the same as
/// `select(_:_:_:)`, which needs no backticks).
///
///     let kept = `where`(x .> 0.5, ComplexTensor(x), ComplexTensor<Double>.zeros([8]))
public func `where`<R: ComplexComponent>(_ condition: Tensor<Bool>, _ a: ComplexTensor<R>, _ b: ComplexTensor<R>) -> ComplexTensor<R> {
    select(condition, a, b)
}

extension ComplexTensor where RealType == Double {
    /// With a real scalar (promoted to complex).
    ///
    ///     let half = ComplexTensor(x) * 0.5
    @_disfavoredOverload
    public static func + (a: ComplexTensor, b: Double) -> ComplexTensor { add(a, ComplexTensor(Tensor(b))) }
    /// With a real scalar (promoted to complex).
    @_disfavoredOverload
    public static func - (a: ComplexTensor, b: Double) -> ComplexTensor { subtract(a, ComplexTensor(Tensor(b))) }
    /// With a real scalar (promoted to complex).
    @_disfavoredOverload
    public static func * (a: ComplexTensor, b: Double) -> ComplexTensor { multiply(a, ComplexTensor(Tensor(b))) }
    /// With a real scalar (promoted to complex).
    @_disfavoredOverload
    public static func / (a: ComplexTensor, b: Double) -> ComplexTensor { divide(a, ComplexTensor(Tensor(b))) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func + (a: Double, b: ComplexTensor) -> ComplexTensor { add(ComplexTensor(Tensor(a)), b) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func - (a: Double, b: ComplexTensor) -> ComplexTensor { subtract(ComplexTensor(Tensor(a)), b) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func * (a: Double, b: ComplexTensor) -> ComplexTensor { multiply(ComplexTensor(Tensor(a)), b) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func / (a: Double, b: ComplexTensor) -> ComplexTensor { divide(ComplexTensor(Tensor(a)), b) }
}

extension ComplexTensor where RealType == Float {
    /// With a real scalar (promoted to complex).
    ///
    ///     let half = ComplexTensor(x) * 0.5
    @_disfavoredOverload
    public static func + (a: ComplexTensor, b: Float) -> ComplexTensor { add(a, ComplexTensor(Tensor(b))) }
    /// With a real scalar (promoted to complex).
    @_disfavoredOverload
    public static func - (a: ComplexTensor, b: Float) -> ComplexTensor { subtract(a, ComplexTensor(Tensor(b))) }
    /// With a real scalar (promoted to complex).
    @_disfavoredOverload
    public static func * (a: ComplexTensor, b: Float) -> ComplexTensor { multiply(a, ComplexTensor(Tensor(b))) }
    /// With a real scalar (promoted to complex).
    @_disfavoredOverload
    public static func / (a: ComplexTensor, b: Float) -> ComplexTensor { divide(a, ComplexTensor(Tensor(b))) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func + (a: Float, b: ComplexTensor) -> ComplexTensor { add(ComplexTensor(Tensor(a)), b) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func - (a: Float, b: ComplexTensor) -> ComplexTensor { subtract(ComplexTensor(Tensor(a)), b) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func * (a: Float, b: ComplexTensor) -> ComplexTensor { multiply(ComplexTensor(Tensor(a)), b) }
    /// A real scalar with a complex tensor (promoted to complex).
    @_disfavoredOverload
    public static func / (a: Float, b: ComplexTensor) -> ComplexTensor { divide(ComplexTensor(Tensor(a)), b) }
}
