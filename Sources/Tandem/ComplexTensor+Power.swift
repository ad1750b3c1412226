import ComplexModule
import RealModule

// Powers of complex tensors, written as NumPy's `npy_cpow` computes them so that they fuse and
// run on every device like the rest of the complex arithmetic: an exponent of 0 gives 1, a zero
// base gives 0 or NaN by the sign of the exponent's real part, an integer exponent below 100 in
// magnitude is repeated multiplication (unrolled here, at construction, since the exponent is
// known), and any other exponent is `exp(w · log z)`, the formula of C's `cpow` that NumPy calls.

extension ComplexTensor {
    /// `self` raised to an integer power, element-wise (`numpy.power(z, n)`, `z ** n`).
    ///
    /// For `|n| < 100` this is NumPy's own loop: `z · z` for 2, `z · (z · z)` for 3, otherwise
    /// binary powering from 1 (`aa = aa · p`, `p = p · p`), and for a negative `n` one complex
    /// division `1 / aa` (Smith's method); each product rounded as written, so the results are
    /// `numpy.power`'s bit for bit (its scalar loop performs the same operations in the same
    /// order). NumPy's `z ** 2` and `z ** -1` operators take faster paths (`numpy.square`, whose
    /// vector loop fuses a multiply-add, and `numpy.reciprocal`), which can differ from these
    /// bits in the last place. `n == 0` gives `1 + 0i` everywhere (NaN included), a zero base
    /// gives `0` for `n > 0` and `NaN + NaN i` for `n < 0`, as NumPy's; `|n| >= 100` is
    /// `pow(RealType(n))`. Lazy and fused: a few multiplications a bit of `n`.
    ///
    ///     let z = ComplexTensor<Double>([Complex(1, 2), Complex(-0.5, 0.25)])
    ///     let cube = z.pow(3)                    // z * (z * z), NumPy's bits
    ///     let inverse = z.pow(-2)                // 1 / (z * z)
    public func pow(_ n: Int) -> ComplexTensor {
        if n == 0 { return ComplexTensor.ones(shape) }
        guard n > -100 && n < 100 else { return power(RealType(n), 0) }
        let result: ComplexTensor
        switch n {
        case 1: result = self
        case 2: result = ComplexTensor.multiply(self, self)
        case 3: result = ComplexTensor.multiply(self, ComplexTensor.multiply(self, self))
        default:
            // NumPy's loop over the bits of |n|, starting from the constant 1 + 0i.
            let magnitude = n.magnitude
            var accumulated = ComplexTensor(Complex<RealType>.one)
            var p = self
            var mask: UInt = 1
            while true {
                if magnitude & mask != 0 { accumulated = ComplexTensor.multiply(accumulated, p) }
                mask <<= 1
                if magnitude < mask { break }
                p = ComplexTensor.multiply(p, p)
            }
            result = n < 0 ? ComplexTensor.divide(ComplexTensor(Complex<RealType>.one), accumulated) : accumulated
        }
        return zeroBase(result, exponentRealPart: RealType(n))
    }

    /// `self` raised to a real power, element-wise (`numpy.power(z, p)`).
    ///
    /// An integer `p` below 100 in magnitude is `pow(Int(p))`, as NumPy's `npy_cpow` decides
    /// (its bits); otherwise `exp(p · log z)`, C's `cpow` formula that NumPy calls, from
    /// Tandem's complex `log` and `exp`: within about `(1 + |p · log|z||)` ulp of NumPy's
    /// relative to the result's magnitude (1e-15 · (1 + |p|) for |z| up to 10 in the tests), as
    /// the two libraries' `exp` and `log` round apart. A zero base gives 0 for `p > 0`, NaN
    /// otherwise, `p == 0` gives 1, as NumPy's. Mind that NumPy's `z ** 0.5` operator is
    /// `numpy.sqrt` (use `sqrt()` for its bits); `numpy.power(z, 0.5)` is this. Lazy and fused.
    ///
    ///     let z = ComplexTensor<Double>([Complex(-4, 0), Complex(0, 2)])
    ///     let roots = z.pow(1.0 / 3)             // principal cube roots
    public func pow(_ p: RealType) -> ComplexTensor {
        if p == 0 { return ComplexTensor.ones(shape) }
        if p > -100 && p < 100, p.rounded(.towardZero) == p { return pow(Int(p)) }
        return power(p, 0)
    }

    /// `self` raised to a complex power, element-wise (`numpy.power(z, w)`): a real `w` is
    /// `pow(w.real)` (integers below 100 by multiplication, NumPy's bits), otherwise
    /// `exp(w · log z)`, within about `(1 + |w · log z|)` ulp of NumPy's relative to the
    /// result. A zero base gives 0 where `w`'s real part is positive and NaN otherwise. Lazy
    /// and fused.
    ///
    ///     let z = ComplexTensor<Double>([Complex(1, 1), Complex(-2, 0.5)])
    ///     let w = z.pow(Complex(0.5, 1))
    public func pow(_ w: Complex<RealType>) -> ComplexTensor {
        let (re, im) = w.rawStorage
        if im == 0 { return pow(re) }
        return power(re, im)
    }

    /// `z · z` (`numpy.square`): the same bits as `numpy.power(z, 2)` and NumPy's scalar loop;
    /// NumPy's vector loop for `numpy.square` (and so `z ** 2`) fuses a multiply-add into each
    /// part, so its results can differ in the last place (more where `re² - im²` cancels).
    ///
    ///     let energy = ComplexTensor<Double>([Complex(3, 4)]).square()   // -7 + 24i
    public func square() -> ComplexTensor { ComplexTensor.multiply(self, self) }

    /// `exp(w · log z)` with `w = re + im·i` (C's `cpow`, which NumPy calls for exponents that
    /// are not small integers), the product `w · log z` a full complex product as in C.
    func power(_ re: RealType, _ im: RealType) -> ComplexTensor {
        let product = ComplexTensor.multiply(ComplexTensor(Complex(re, im)), log())
        return zeroBase(product.exp(), exponentRealPart: re)
    }

    /// `result` with NumPy's answer for a zero base (both parts ±0) in place: `0 + 0i` when
    /// the exponent's real part is positive, `NaN + NaN i` otherwise (the exponent is not 0).
    func zeroBase(_ result: ComplexTensor, exponentRealPart: RealType) -> ComplexTensor {
        let zero = (real .== 0) .& (imaginary .== 0)
        let value = ComplexTensor(exponentRealPart > 0 ? Complex<RealType>.zero : Complex(RealType.nan, RealType.nan))
        return select(zero, value, result)
    }
}
