import TandemMathC

/// Tandem's own exp and erf, operation for operation as the C kernels compute them
/// (`Emitter.expSource`, `Emitter.erfSource`): the same constants, the same fused multiply-adds
/// where the C code writes `fma`, every other operation rounded on its own. The interpreter calls
/// these instead of libm so that it and compiled code give the same bits (libm's exp is within
/// 1 ulp of them, not equal).
protocol TandemMathFloat: BinaryFloatingPoint {
    static func tkExp(_ x: Self) -> Self
}

// The exp itself is C (`TandemMathC`): compiled there, each fused multiply-add is one
// instruction where the CPU has one; Swift's `addingProduct` in a baseline build calls glibc's
// `fma`, 13 calls an exp (a fifth of an interpreted logistic regression).
extension Float: TandemMathFloat {
    @inline(__always) static func tkExp(_ x: Float) -> Float { tandem_expf(x) }
}

extension Double: TandemMathFloat {
    @inline(__always) static func tkExp(_ x: Double) -> Double { tandem_exp(x) }
}

enum TandemMath {
    /// A constant of `erfSource`, as the C literal of type T (`Float(v)` for float code).
    @inline(__always) private static func c<T: TandemMathFloat>(_ v: Double) -> T { T(v) }

    // Cody's coefficients, built once (as literals inside the functions they were arrays built
    // at every call, most of an interpreted erf's time).
    private static let nc: [Double] = [5.64188496988670089e-1, 8.88314979438837594e0, 6.61191906371416295e1, 2.98635138197400131e2,
                                       8.81952221241769090e2, 1.71204761263407058e3, 2.05107837782607147e3]
    private static let dc: [Double] = [1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3,
                                       3.29079923573345963e3, 4.36261909014324716e3, 3.43936767414372164e3]
    private static let n3c: [Double] = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2]
    private static let d3c: [Double] = [2.56852019228982242e0, 1.87295284992346047e0, 5.27905102951428412e-1, 6.05183413124413191e-2]
    private static let smallN: [Double] = [3.16112374387056560e0, 1.13864154151050156e2, 3.77485237685302021e2]
    private static let smallD: [Double] = [2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3]

    /// erfc(y) for y > 0.46875 (Cody), as `tk_erfc_abs`.
    static func erfcAbs<T: TandemMathFloat>(_ y: T) -> T {
        let y2: T = y < c(4.0) ? y : c(4.0)
        var n: T = c(2.15311535474403846e-8) * y2, d = y2
        for (a, b) in zip(nc, dc) {
            n = (n + c(a)) * y2
            d = (d + c(b)) * y2
        }
        let r2 = (n + c(1.23033935479799725e3)) / (d + c(1.23033935480374942e3))
        let y3: T = y > c(4.0) ? y : c(4.0)
        let s = c(1.0) / (y3 * y3)
        var n3: T = c(1.63153871373020978e-2) * s, d3 = s
        for (a, b) in zip(n3c, d3c) {
            n3 = (n3 + c(a)) * s
            d3 = (d3 + c(b)) * s
        }
        let r3 = (c(0.56418958354775628695) - s * (n3 + c(6.58749161529837803e-4)) / (d3 + c(2.33520497626869185e-3))) / y3
        let yc: T = y < c(27.0) ? y : c(27.0)
        let t = (yc * c(16.0)).rounded(.down) / c(16.0), del = (yc - t) * (yc + t)
        let r = (y <= c(4.0) ? r2 : r3) * T.tkExp(-t * t) * T.tkExp(-del)
        return y >= c(26.543) ? c(0.0) : r
    }

    /// erf(x) for |x| <= 0.46875, as `tk_erf_small`.
    static func erfSmall<T: TandemMathFloat>(_ x: T) -> T {
        let z = x * x
        var n: T = c(1.85777706184603153e-1) * z, d = z
        for (a, b) in zip(smallN, smallD) {
            n = (n + c(a)) * z
            d = (d + c(b)) * z
        }
        return x * (n + c(3.20937758913846947e3)) / (d + c(2.84423683343917062e3))
    }

    static func erfc<T: TandemMathFloat>(_ x: T) -> T {
        let y = Swift.abs(x)
        let small = c(1.0) - erfSmall(y <= c(0.46875) ? x : c(0.0))
        let big = erfcAbs(y > c(0.46875) ? y : c(1.0))
        return x.isNaN ? x : (y <= c(0.46875) ? small : (x < c(0.0) ? c(2.0) - big : big))
    }

    static func erf<T: TandemMathFloat>(_ x: T) -> T {
        let y = Swift.abs(x)
        let small = erfSmall(y <= c(0.46875) ? x : c(0.0))
        let big = c(1.0) - erfcAbs(y > c(0.46875) ? y : c(1.0))
        return x.isNaN ? x : (y <= c(0.46875) ? small : (x < c(0.0)) ? -big : big)
    }
}
