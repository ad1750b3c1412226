/// Tandem's `hypot`, the expression the generated kernels' `tk_hypot`/`tk_hypotf` compute (in
/// `CRenderer+Preamble.swift`), for the interpreter: `larger · sqrt(1 + (smaller/larger)²)`,
/// each operation rounded once (no multiply-add is fused on either side), so the interpreter and
/// compiled code give the same bits. Within 2 ulp of glibc's `hypot`; an infinite argument gives
/// infinity even beside a NaN.
///
///     let h = TandemHypot.hypot(3.0, 4.0)     // 5
public enum TandemHypot {
    @inlinable
    public static func hypot<T: BinaryFloatingPoint>(_ x: T, _ y: T) -> T {
        let a = x.magnitude, b = y.magnitude
        let larger = a > b ? a : b, smaller = a > b ? b : a
        let r: T = larger == 0 ? 0 : smaller / larger
        let h = (r * r + 1).squareRoot() * larger
        return (a == .infinity || b == .infinity) ? .infinity : ((a.isNaN || b.isNaN) ? a + b : h)
    }
}
