#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR
import TandemMathC

// The value semantics of the interpreter's instructions, shared by the point and row paths:
// casts, unary and binary operations exactly as the generated C computes them.
extension State {
    /// `v` of type `from` converted to `t` (saturating float-to-int casts, as in C).
    static func cast(_ v: Value, from: DType, to t: DType) -> Value {
        switch t {
        case .bool: return Value(f: 0, i: (from.isFloatingPoint ? v.f != 0 : v.i != 0) ? 1 : 0)
        case .int64: return Value(f: 0, i: from.isFloatingPoint ? Literal.saturatingInt64(v.f) : v.i)
        case .int8, .int16, .int32, .uint8, .uint16, .uint32, .uint64:
            return Value(f: 0, i: from.isFloatingPoint ? Literal.saturating(v.f, to: t) : t.wrap(v.i))
        case .float32, .float64:
            return Self.fromDouble(from.isFloatingPoint ? v.f : (from == .uint64 ? Double(UInt64(bitPattern: v.i)) : Double(v.i)), t)
        }
    }

    /// A unary operation on `v`, computed in `t` (Float rounded after the operation).
    static func unary(_ op: UnaryOp, _ v: Value, _ t: DType) -> Value {
        if t == .bool { return Value(f: 0, i: v.i ^ 1) }
        if t.isInteger {
            switch op {
            case .neg: return Self.fromInt(0 &- v.i, t)
            case .abs: return Self.fromInt(v.i < 0 && !t.isUnsigned ? 0 &- v.i : v.i, t)
            case .bitNot: return Self.fromInt(~v.i, t)
            default: preconditionFailure("\(op) is not defined for integers")
            }
        }
        let x = v.f
        let r: Double
        if t == .float32 {
            let xf = Float(x)
            switch op {
            case .neg: r = Double(-xf)
            case .abs: r = Double(Swift.abs(xf))
            case .sqrt: r = Double(xf.squareRoot())
            case .exp: r = Double(Float.tkExp(xf))
            case .log: r = Double(logf(xf))
            case .sin: r = Double(sinf(xf))
            case .cos: r = Double(cosf(xf))
            case .tanh: r = Double(tanhf(xf))
            case .erf: r = Double(TandemMath.erf(xf))
            case .erfc: r = Double(TandemMath.erfc(xf))
            case .floor: r = Double(xf.rounded(.down))
            case .ceil: r = Double(xf.rounded(.up))
            case .tan: r = Double(tanf(xf))
            case .asin: r = Double(asinf(xf))
            case .acos: r = Double(acosf(xf))
            case .atan: r = Double(atanf(xf))
            case .sinh: r = Double(sinhf(xf))
            case .cosh: r = Double(coshf(xf))
            case .asinh: r = Double(asinhf(xf))
            case .acosh: r = Double(acoshf(xf))
            case .atanh: r = Double(atanhf(xf))
            case .log1p: r = Double(log1pf(xf))
            case .expm1: r = Double(expm1f(xf))
            case .log2: r = Double(log2f(xf))
            case .log10: r = Double(log10f(xf))
            case .exp2: r = Double(exp2f(xf))
            case .cbrt: r = Double(cbrtf(xf))
            case .trunc: r = Double(xf.rounded(.towardZero))
            case .rint: r = Double(xf.rounded(.toNearestOrEven))
            case .not, .bitNot: preconditionFailure("\(op) is not defined for floats")
            }
        } else {
            switch op {
            case .neg: r = -x
            case .abs: r = Swift.abs(x)
            case .sqrt: r = x.squareRoot()
            case .exp: r = Double.tkExp(x)
            case .log: r = Glibc.log(x)
            case .sin: r = Glibc.sin(x)
            case .cos: r = Glibc.cos(x)
            case .tanh: r = Glibc.tanh(x)
            case .erf: r = TandemMath.erf(x)
            case .erfc: r = TandemMath.erfc(x)
            case .floor: r = x.rounded(.down)
            case .ceil: r = x.rounded(.up)
            case .tan: r = Glibc.tan(x)
            case .asin: r = Glibc.asin(x)
            case .acos: r = Glibc.acos(x)
            case .atan: r = Glibc.atan(x)
            case .sinh: r = Glibc.sinh(x)
            case .cosh: r = Glibc.cosh(x)
            case .asinh: r = Glibc.asinh(x)
            case .acosh: r = Glibc.acosh(x)
            case .atanh: r = Glibc.atanh(x)
            case .log1p: r = Glibc.log1p(x)
            case .expm1: r = Glibc.expm1(x)
            case .log2: r = Glibc.log2(x)
            case .log10: r = Glibc.log10(x)
            case .exp2: r = Glibc.exp2(x)
            case .cbrt: r = Glibc.cbrt(x)
            case .trunc: r = x.rounded(.towardZero)
            case .rint: r = x.rounded(.toNearestOrEven)
            case .not, .bitNot: preconditionFailure("\(op) is not defined for floats")
            }
        }
        return Value(f: r, i: 0)
    }

    /// A binary operation on operands of type `operand`, with result type `t`.
    static func binary(_ op: BinaryOp, _ x: Value, _ y: Value, operand: DType, _ t: DType) -> Value {
        if operand == .uint64 { return unsigned64(op, UInt64(bitPattern: x.i), UInt64(bitPattern: y.i), t) }
        switch op {
        case .eq: return Self.bool(operand.isFloatingPoint ? x.f == y.f : x.i == y.i)
        case .ne: return Self.bool(operand.isFloatingPoint ? x.f != y.f : x.i != y.i)
        case .lt: return Self.bool(operand.isFloatingPoint ? x.f < y.f : x.i < y.i)
        case .le: return Self.bool(operand.isFloatingPoint ? x.f <= y.f : x.i <= y.i)
        case .gt: return Self.bool(operand.isFloatingPoint ? x.f > y.f : x.i > y.i)
        case .ge: return Self.bool(operand.isFloatingPoint ? x.f >= y.f : x.i >= y.i)
        case .and: return Value(f: 0, i: x.i & y.i)
        case .or: return Value(f: 0, i: x.i | y.i)
        default: break
        }
        if operand.isInteger {
            let p = x.i, q = y.i
            let r: Int64
            switch op {
            case .add: r = p &+ q
            case .sub: r = p &- q
            case .mul: r = p &* q
            case .div: r = q == 0 ? 0 : (q == -1 ? 0 &- p : p / q)
            case .rem: r = (q == 0 || q == -1) ? 0 : p % q
            case .pow: r = Self.intPow(p, q)
            case .min: r = Swift.min(p, q)
            case .max: r = Swift.max(p, q)
            case .bitAnd: r = p & q
            case .bitOr: r = p | q
            case .bitXor: r = p ^ q
            case .shiftLeft, .shiftRight:
                // Narrow values are held extended to 64 bits (unsigned ones never negative), so
                // a 64-bit shift wrapped to the width is the type's own shift.
                if q < 0 || q >= Int64(operand.bits) { r = op == .shiftLeft ? 0 : (p < 0 ? -1 : 0) }
                else if op == .shiftLeft { r = p << q }
                else { r = p >> q }
            default: preconditionFailure("unreachable")
            }
            // Wrap to the operand width, as the C does.
            return Self.fromInt(operand.wrap(r), t)
        }
        let p = x.f, q = y.f
        var r: Double
        let f32 = t == .float32
        switch op {
        case .add: r = p + q
        case .sub: r = p - q
        case .mul: r = p * q
        case .div: r = p / q
        case .rem: r = f32 ? Double(tandem_fmodf(Float(p), Float(q))) : tandem_fmod(p, q)      // libm's bits, faster
        case .pow: r = f32 ? Double(powf(Float(p), Float(q))) : Glibc.pow(p, q)
        case .min: r = p.isNaN ? p : (q.isNaN ? q : (p < q ? p : q))
        case .max: r = p.isNaN ? p : (q.isNaN ? q : (p > q ? p : q))
        case .atan2: r = f32 ? Double(atan2f(Float(p), Float(q))) : Glibc.atan2(p, q)
        case .hypot: r = f32 ? Double(TandemHypot.hypot(Float(p), Float(q))) : TandemHypot.hypot(p, q)
        default: preconditionFailure("unreachable")
        }
        if f32 { r = Double(Float(r)) }
        return Value(f: r, i: 0)
    }

    /// A binary operation on `uint64` operands (held as `Int64` bits elsewhere): ordering,
    /// division, remainder, powers and right shifts are the unsigned ones, as the C computes them
    /// (`tk_div_u64` and the others).
    static func unsigned64(_ op: BinaryOp, _ p: UInt64, _ q: UInt64, _ t: DType) -> Value {
        let r: UInt64
        switch op {
        case .eq: return Self.bool(p == q)
        case .ne: return Self.bool(p != q)
        case .lt: return Self.bool(p < q)
        case .le: return Self.bool(p <= q)
        case .gt: return Self.bool(p > q)
        case .ge: return Self.bool(p >= q)
        case .and: return Value(f: 0, i: Int64(bitPattern: p & q))
        case .or: return Value(f: 0, i: Int64(bitPattern: p | q))
        case .add: r = p &+ q
        case .sub: r = p &- q
        case .mul: r = p &* q
        case .div: r = q == 0 ? 0 : p / q
        case .rem: r = q == 0 ? 0 : p % q
        case .pow: r = Self.wrappingPow(p, q)
        case .min: r = Swift.min(p, q)
        case .max: r = Swift.max(p, q)
        case .bitAnd: r = p & q
        case .bitOr: r = p | q
        case .bitXor: r = p ^ q
        case .shiftLeft: r = q >= 64 ? 0 : p << q
        case .shiftRight: r = q >= 64 ? 0 : p >> q
        default: preconditionFailure("\(op) is not defined for integers")
        }
        return Self.fromInt(Int64(bitPattern: r), t)
    }

    /// A gather's index: negative counts from the end, then clamped into `0..<extent` (as
    /// `tk_clamp_index` in C).
    static func clampIndex(_ i: Int64, _ extent: Int64) -> Int64 {
        let j = i < 0 ? i &+ extent : i
        return j < 0 ? 0 : (j >= extent ? extent - 1 : j)
    }

    static func intPow(_ a: Int64, _ b: Int64) -> Int64 {
        if b < 0 { return a == 1 ? 1 : (a == -1 ? ((b & 1) != 0 ? -1 : 1) : 0) }
        return Int64(bitPattern: wrappingPow(UInt64(bitPattern: a), UInt64(b)))
    }

    /// `x` to the power `e` by squaring, wrapping at 64 bits (the bits of a signed power too).
    static func wrappingPow(_ x: UInt64, _ e: UInt64) -> UInt64 {
        var r: UInt64 = 1, x = x, e = e
        while e != 0 {
            if e & 1 != 0 { r = r &* x }
            x = x &* x
            e >>= 1
        }
        return r
    }

    static func bool(_ b: Bool) -> Value { Value(f: 0, i: b ? 1 : 0) }

    static func fromDouble(_ d: Double, _ t: DType) -> Value {
        switch t {
        case .float32: Value(f: Double(Float(d)), i: 0)
        case .float64: Value(f: d, i: 0)
        case .uint64: Value(f: 0, i: Literal.saturatingUInt64(d))
        default: Self.fromInt(Literal.saturatingInt64(d), t)
        }
    }

    static func fromInt(_ i: Int64, _ t: DType) -> Value {
        switch t {
        case .bool: Value(f: 0, i: i != 0 ? 1 : 0)
        case .int8, .int16, .int32, .uint8, .uint16, .uint32: Value(f: 0, i: t.wrap(i))
        case .int64, .uint64: Value(f: 0, i: i)
        case .float32: Value(f: Double(Float(i)), i: 0)
        case .float64: Value(f: Double(i), i: 0)
        }
    }
}
