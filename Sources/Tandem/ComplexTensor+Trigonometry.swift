import ComplexModule
import RealModule

// The complex sine, cosine, tangent and their hyperbolic kin, written as the C library's
// `csin`, `ccosh`, `ctanh`... that NumPy calls (glibc's formulas, branch for branch): products
// of the real functions of each part, with glibc's scaling where `cosh` of a part would
// overflow before the product does, and its answers for infinite and NaN parts (C99's
// Annex G as glibc gives them). Each is one fused elementwise expression over the two parts,
// on every device. Checked against NumPy on finite values, parts past the overflow threshold,
// and every mix of ±0, ±∞ and NaN: the same bits where the real functions round as glibc's do,
// so the interpreter (libm) gives NumPy's bits and compiled code, whose `sin`, `cos` and `exp`
// are vectorised, is within an ulp or two of them.

extension ComplexTensor {
    /// The sine, element-wise (`numpy.sin`): `sin x cosh y + i cos x sinh y` for `z = x + iy`.
    ///
    ///     let s = ComplexTensor<Double>([Complex(1, 2), Complex(0, -1)]).sin()
    public func sin() -> ComplexTensor {
        let (x, y) = (real, imaginary)
        let s = x.sin(), c = x.cos()
        let a = y.abs(), big = a .> Self.coshOverflow
        var re = select(big, Self.scaledHalfExp(s, a), s * y.cosh())
        var im = select(big, Self.signOne(y) * Self.scaledHalfExp(c, a), c * y.sinh())
        // Annex G as glibc answers it: a zero real part stays (with its sign), a non-finite one
        // keeps a zero imaginary part and makes an infinite one +∞.
        re = select(x .== 0, x, re)
        let xNonFinite = .!x.isFinite()
        im = select(xNonFinite .& (y .== 0), y, select(xNonFinite .& y.isInfinite(), RealType.infinity, im))
        return ComplexTensor(real: re, imaginary: im)
    }

    /// The cosine, element-wise (`numpy.cos`): `cos x cosh y - i sin x sinh y`, which is
    /// `cosh(iz)` (as C's `ccos` computes it).
    ///
    ///     let c = ComplexTensor<Double>([Complex(1, 2), Complex(0, -1)]).cos()
    public func cos() -> ComplexTensor { ComplexTensor(real: -imaginary, imaginary: real).cosh() }

    /// The tangent, element-wise (`numpy.tan`): `-i tanh(iz)`, glibc's `ctan` (`(sin 2x + i sinh
    /// 2y) / (cos 2x + cosh 2y)` written as `(sin x cos x + i sinh y cosh y) / (cos² x + sinh² y)`,
    /// and `±i` past the overflow of `cosh y`).
    ///
    ///     let t = ComplexTensor<Double>([Complex(1, 2), Complex(0.5, 0)]).tan()
    public func tan() -> ComplexTensor {
        let t = ComplexTensor(real: -imaginary, imaginary: real).tanh()
        return ComplexTensor(real: t.imaginary, imaginary: -t.real)
    }

    /// The hyperbolic sine, element-wise (`numpy.sinh`): `sinh x cos y + i cosh x sin y`.
    ///
    ///     let s = ComplexTensor<Double>([Complex(1, 2), Complex(-3, 0.5)]).sinh()
    public func sinh() -> ComplexTensor {
        let (x, y) = (real, imaginary)
        let s = y.sin(), c = y.cos()
        let a = x.abs(), big = a .> Self.coshOverflow
        var re = select(big, Self.signOne(x) * Self.scaledHalfExp(c, a), x.sinh() * c)
        var im = select(big, Self.scaledHalfExp(s, a), x.cosh() * s)
        let yNonFinite = .!y.isFinite()
        re = select(yNonFinite .& (x .== 0), x, select(yNonFinite .& x.isInfinite(), RealType.infinity, re))
        im = select(y .== 0, y, im)
        return ComplexTensor(real: re, imaginary: im)
    }

    /// The hyperbolic cosine, element-wise (`numpy.cosh`): `cosh x cos y + i sinh x sin y`.
    ///
    ///     let c = ComplexTensor<Double>([Complex(1, 2), Complex(-3, 0.5)]).cosh()
    public func cosh() -> ComplexTensor {
        let (x, y) = (real, imaginary)
        let s = y.sin(), c = y.cos()
        let a = x.abs(), big = a .> Self.coshOverflow
        var re = select(big, Self.scaledHalfExp(c, a), x.cosh() * c)
        var im = select(big, Self.signOne(x) * Self.scaledHalfExp(s, a), x.sinh() * s)
        let yNonFinite = .!y.isFinite()
        re = select(yNonFinite .& x.isInfinite(), RealType.infinity, re)
        im = select(yNonFinite .& (x .== 0), Tensor<RealType>(0), select(x.isNaN() .& (y .== 0), y, im))
        return ComplexTensor(real: re, imaginary: im)
    }

    /// The hyperbolic tangent, element-wise (`numpy.tanh`): `(sinh x cosh x + i sin y cos y) /
    /// (sinh² x + cos² y)` (glibc's `ctanh`), and `±1` with a vanishing imaginary part once
    /// `|x|` passes half the overflow threshold of `exp`.
    ///
    ///     let t = ComplexTensor<Double>([Complex(1, 2), Complex(-400, 0.5)]).tanh()
    public func tanh() -> ComplexTensor {
        let (x, y) = (real, imaginary)
        let s = y.sin(), c = y.cos(), sh = x.sinh(), ch = x.cosh()
        let den = sh * sh + c * c
        let t = Self.tanhOverflow, exp2t = RealType.exp(2 * t)
        let a = x.abs(), big = a .> t
        // Past t: 4 sin y cos y / e^(2|x|), divided in two steps so that e^(2|x|) never overflows.
        let scaled = (4 * s * c) / exp2t, rest = a - t
        let imBig = select(rest .> t, scaled / exp2t, scaled / (2 * rest).exp())
        var re = select(big, Self.signOne(x), sh * ch / den)
        var im = select(big, imBig, s * c / den)
        let xInfinite = x.isInfinite(), nonFinite = .!x.isFinite() .| .!y.isFinite()
        let reNonFinite = select((y .== 0) .| (x .== 0), x, Tensor<RealType>(RealType.nan))
        let imInfinite = select(y.isFinite() .& (y.abs() .> 1), Self.signZero(s * c), Self.signZero(y))
        re = select(xInfinite, Self.signOne(x), select(nonFinite, reNonFinite, re))
        im = select(xInfinite, imInfinite, select(nonFinite, select(y .== 0, y, Tensor<RealType>(RealType.nan)), im))
        return ComplexTensor(real: re, imaginary: im)
    }

    // MARK: - glibc's thresholds and steps

    /// Where `cosh` overflows, as glibc's complex functions take it: `(int)((MAX_EXP - 1) ln 2)`,
    /// 709 for `Double`, 88 for `Float`.
    static var coshOverflow: RealType {
        RealType(Int(Double(Int(RealType.greatestFiniteMagnitude.exponent)) * 0.6931471805599453))
    }

    /// Half of it for `ctanh`/`ctan`: 354 for `Double`, 44 for `Float`.
    static var tanhOverflow: RealType {
        RealType(Int(Double(Int(RealType.greatestFiniteMagnitude.exponent)) * 0.6931471805599453 / 2))
    }

    /// `v · e^a / 2` for `a` past `coshOverflow`, in glibc's steps (`e^t / 2`, then `e^t` once
    /// more while `a` is still past `t`, then `e^(a - ...)`, or the largest finite value once
    /// three steps would not do), so that a small `v` keeps the product finite and a zero `v`
    /// gives zero, not NaN.
    static func scaledHalfExp(_ v: Tensor<RealType>, _ a: Tensor<RealType>) -> Tensor<RealType> {
        let t = coshOverflow, expT = RealType.exp(t)
        let a1 = a - t, v1 = v * (expT / 2)
        let again = a1 .> t
        let a2 = select(again, a1 - t, a1), v2 = select(again, v1 * expT, v1)
        return select(a2 .> t, v2 * RealType.greatestFiniteMagnitude, v2 * a2.exp())
    }

    /// Whether `x`'s sign is negative (-0 included; a NaN counts as positive).
    static func signNegative(_ x: Tensor<RealType>) -> Tensor<Bool> { (x .< 0) .| ((1 / x) .< 0) }

    /// `copysign(1, x)`.
    static func signOne(_ x: Tensor<RealType>) -> Tensor<RealType> { select(signNegative(x), RealType(-1), RealType(1)) }

    /// `copysign(0, x)`.
    static func signZero(_ x: Tensor<RealType>) -> Tensor<RealType> { select(signNegative(x), -RealType.zero, RealType.zero) }
}
