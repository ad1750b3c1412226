import TandemIR

// NumPy's floored division and modulo (`numpy.floor_divide`, `numpy.mod`, `divmod`, and
// Python's `//` and `%`), beside Swift's truncating `/` and `%`: a port of `(i - 1) % n` or
// `x % period` with a negative left side gives another answer under Swift's rule, so the NumPy
// meaning has its own names. Each is an expression of the existing lazy operations (a
// remainder, comparisons and selects), so it fuses with its neighbours on every device.

extension Tensor where Scalar: FloatingTensorScalar {
    /// The remainder with the sign of the divisor (`numpy.mod`, Python's `%`): NumPy's rule,
    /// `fmod` moved into the divisor's direction when the signs differ, a zero remainder
    /// signed as the divisor; `x mod 0` is NaN. Swift's `%` keeps the dividend's sign.
    ///
    ///     let wrapped = x.mod(1.0)          // in [0, 1) also for negative x
    public func mod(_ divisor: Tensor) -> Tensor { Tensor.floored(self, divisor).remainder }

    /// `mod` by a scalar.
    ///
    ///     let phase = x.mod(2 * Double.pi)
    public func mod(_ divisor: Scalar) -> Tensor { mod(Tensor(divisor)) }

    /// The quotient rounded toward negative infinity (`numpy.floor_divide`, Python's `//`), by
    /// NumPy's rule: `(x - mod) / y`, one less where the remainder was moved, then rounded to
    /// the nearest integer; `x // 0` is `x / 0` (an infinity or NaN).
    ///
    ///     let cell = x.floorDivide(0.5)
    public func floorDivide(_ divisor: Tensor) -> Tensor { Tensor.floored(self, divisor).quotient }

    /// `floorDivide` by a scalar.
    ///
    ///     let whole = x.floorDivide(2)
    public func floorDivide(_ divisor: Scalar) -> Tensor { floorDivide(Tensor(divisor)) }

    /// NumPy's `npy_divmod`, written with tensors.
    static func floored(_ a: Tensor, _ b: Tensor) -> (quotient: Tensor, remainder: Tensor) {
        let m = a % b                                           // fmod: the dividend's sign
        let moved = (m .!= 0) .& ((b .< 0) .!= (m .< 0))
        let zero = select(b .< 0, Scalar(-0.0), Scalar(0))
        let remainder = select(m .!= 0, select(moved, m + b, m), zero)
        let exact = (a - m) / b
        let d = select(moved, exact - 1, exact)
        let f = d.floor()
        let rounded = select(d - f .> 0.5, f + 1, f)
        let q = a / b
        let quotient = select(b .== 0, q, select(d .!= 0, rounded, q * 0))
        return (quotient, remainder)
    }
}

extension Tensor where Scalar: IntegerTensorScalar {
    /// The remainder with the sign of the divisor (`numpy.mod`, Python's `%`); `x mod 0` is 0,
    /// NumPy's result. Swift's `%` keeps the dividend's sign.
    ///
    ///     let left = Tensor<Int64>.arange(-2, 3).mod(5)     // 3, 4, 0, 1, 2
    public func mod(_ divisor: Tensor) -> Tensor {
        let r = self % divisor                                  // truncated; 0 for a zero divisor
        return select((r .!= 0) .& ((r .< 0) .!= (divisor .< 0)), r + divisor, r)
    }

    /// `mod` by a scalar.
    ///
    ///     let wrapped = Tensor<Int64>.arange(-2, 3).mod(5)
    public func mod(_ divisor: Scalar) -> Tensor { mod(Tensor(divisor)) }

    /// The quotient rounded toward negative infinity (`numpy.floor_divide`, Python's `//`);
    /// `x // 0` is 0, NumPy's result. Swift's `/` truncates toward zero.
    ///
    ///     let q = Tensor<Int64>.arange(-3, 3).floorDivide(2)   // -2, -1, -1, 0, 0, 1
    public func floorDivide(_ divisor: Tensor) -> Tensor {
        let q = self / divisor, r = self % divisor
        return select((r .!= 0) .& ((self .< 0) .!= (divisor .< 0)), q - 1, q)
    }

    /// `floorDivide` by a scalar.
    ///
    ///     let q = Tensor<Int64>.arange(-3, 3).floorDivide(2)
    public func floorDivide(_ divisor: Scalar) -> Tensor { floorDivide(Tensor(divisor)) }
}

/// `a.mod(b)` (`numpy.mod`, `numpy.remainder`, Python's `%`): the remainder with the divisor's sign.
///
///     let wrapped = mod(x, 1.0)
public func mod<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.mod(b) }
/// `a.mod(b)` by a scalar.
///
///     let wrapped = mod(x, 1.0)
public func mod<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: S) -> Tensor<S> { a.mod(b) }
/// `a.mod(b)` for integer tensors.
///
///     let i = mod(Tensor<Int64>.arange(-2, 3), Int64(5))
public func mod<S: IntegerTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.mod(b) }
/// `a.mod(b)` for integer tensors, by a scalar.
///
///     let i = mod(Tensor<Int64>.arange(-2, 3), Int64(5))
public func mod<S: IntegerTensorScalar>(_ a: Tensor<S>, _ b: S) -> Tensor<S> { a.mod(b) }

/// `a.floorDivide(b)` (`numpy.floor_divide`, Python's `//`).
///
///     let q = floorDivide(x, 0.5)
public func floorDivide<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: S) -> Tensor<S> { a.floorDivide(b) }
/// `a.floorDivide(b)` (`numpy.floor_divide`, Python's `//`).
///
///     let q = floorDivide(x, y)
public func floorDivide<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.floorDivide(b) }
/// `a.floorDivide(b)` for integer tensors.
///
///     let q = floorDivide(Tensor<Int64>.arange(-3, 3), Int64(2))
public func floorDivide<S: IntegerTensorScalar>(_ a: Tensor<S>, _ b: S) -> Tensor<S> { a.floorDivide(b) }
/// `a.floorDivide(b)` for integer tensors.
///
///     let q = floorDivide(Tensor<Int64>.arange(-3, 3), Tensor<Int64>.arange(1, 7))
public func floorDivide<S: IntegerTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.floorDivide(b) }

/// `(a.floorDivide(b), a.mod(b))` (Python's `divmod`, `numpy.divmod`): both from one remainder.
///
///     let (q, r) = divmod(x, 0.5)
public func divmod<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: S) -> (Tensor<S>, Tensor<S>) {
    let f = Tensor<S>.floored(a, Tensor(b))
    return (f.quotient, f.remainder)
}
/// `(a.floorDivide(b), a.mod(b))` for tensors.
///
///     let (q, r) = divmod(x, y)
public func divmod<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
    let f = Tensor<S>.floored(a, b)
    return (f.quotient, f.remainder)
}
