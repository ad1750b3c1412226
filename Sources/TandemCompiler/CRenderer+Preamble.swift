import TandemIR

// The C emitter's preamble: the helper functions every kernel may call (integer division and
// remainder with Tandem's semantics, Tandem's own exp and erf, lane types) in each dialect's
// spelling. Split from CRenderer.swift by concern (there: the entry points, the body, the
// expressions).

extension Emitter {
    /// erf and erfc for `double`, or for `float` (suffix `f`: the same approximation in single
    /// precision, so Float kernels vectorise at twice the width).
    static func erfSource(double: Bool, dialect: Dialect) -> String {
        let t = double ? "double" : "float", sfx = double ? "" : "f"
        func lit(_ v: Double) -> String { double ? HexFloat.c(v) : HexFloat.c(Double(Float(v))) + "f" }
        func fn(_ name: String) -> String { name == "exp" ? exp(float: !double, dialect) : double ? name : name + "f" }
        return """
        // erf and erfc from W. J. Cody's rational Chebyshev approximations (Math. Comp. 1969), written
        // without branches: every interval is evaluated and the right one selected, so the loop
        // vectorises (libm's erfc is scalar and stops vectorisation of the whole kernel).
        TK_INLINE \(t) tk_erfc_abs\(sfx)(\(t) y) {
          /* erfc(y) for y > 0.46875: \(fn("exp"))(-y*y) * R(y), with y*y split for accuracy. */
          const \(t) y2 = y < \(lit(4.0)) ? y : \(lit(4.0));
          \(t) n = \(lit(2.15311535474403846e-8)) * y2, d = y2;
          n = (n + \(lit(5.64188496988670089e-1))) * y2; d = (d + \(lit(1.57449261107098347e1))) * y2;
          n = (n + \(lit(8.88314979438837594e0))) * y2;  d = (d + \(lit(1.17693950891312499e2))) * y2;
          n = (n + \(lit(6.61191906371416295e1))) * y2;  d = (d + \(lit(5.37181101862009858e2))) * y2;
          n = (n + \(lit(2.98635138197400131e2))) * y2;  d = (d + \(lit(1.62138957456669019e3))) * y2;
          n = (n + \(lit(8.81952221241769090e2))) * y2;  d = (d + \(lit(3.29079923573345963e3))) * y2;
          n = (n + \(lit(1.71204761263407058e3))) * y2;  d = (d + \(lit(4.36261909014324716e3))) * y2;
          n = (n + \(lit(2.05107837782607147e3))) * y2;  d = (d + \(lit(3.43936767414372164e3))) * y2;
          const \(t) r2 = (n + \(lit(1.23033935479799725e3))) / (d + \(lit(1.23033935480374942e3)));
          const \(t) y3 = y > \(lit(4.0)) ? y : \(lit(4.0)), s = \(lit(1.0)) / (y3 * y3);
          \(t) n3 = \(lit(1.63153871373020978e-2)) * s, d3 = s;
          n3 = (n3 + \(lit(3.05326634961232344e-1))) * s; d3 = (d3 + \(lit(2.56852019228982242e0))) * s;
          n3 = (n3 + \(lit(3.60344899949804439e-1))) * s; d3 = (d3 + \(lit(1.87295284992346047e0))) * s;
          n3 = (n3 + \(lit(1.25781726111229246e-1))) * s; d3 = (d3 + \(lit(5.27905102951428412e-1))) * s;
          n3 = (n3 + \(lit(1.60837851487422766e-2))) * s; d3 = (d3 + \(lit(6.05183413124413191e-2))) * s;
          const \(t) r3 = (\(lit(0.56418958354775628695)) - s * (n3 + \(lit(6.58749161529837803e-4))) / (d3 + \(lit(2.33520497626869185e-3)))) / y3;
          const \(t) yc = y < \(lit(27.0)) ? y : \(lit(27.0));
          const \(t) t = \(fn("floor"))(yc * \(lit(16.0))) / \(lit(16.0)), del = (yc - t) * (yc + t);
          const \(t) r = (y <= \(lit(4.0)) ? r2 : r3) * \(fn("exp"))(-t * t) * \(fn("exp"))(-del);
          return y >= \(lit(26.543)) ? \(lit(0.0)) : r;
        }
        TK_INLINE \(t) tk_erf_small\(sfx)(\(t) x) {
          /* erf(x) for |x| <= 0.46875. */
          const \(t) z = x * x;
          \(t) n = \(lit(1.85777706184603153e-1)) * z, d = z;
          n = (n + \(lit(3.16112374387056560e0))) * z; d = (d + \(lit(2.36012909523441209e1))) * z;
          n = (n + \(lit(1.13864154151050156e2))) * z; d = (d + \(lit(2.44024637934444173e2))) * z;
          n = (n + \(lit(3.77485237685302021e2))) * z; d = (d + \(lit(1.28261652607737228e3))) * z;
          return x * (n + \(lit(3.20937758913846947e3))) / (d + \(lit(2.84423683343917062e3)));
        }
        TK_INLINE \(t) tk_erfc\(sfx)(\(t) x) {
          const \(t) y = \(fn("fabs"))(x), small = \(lit(1.0)) - tk_erf_small\(sfx)(y <= \(lit(0.46875)) ? x : \(lit(0.0))), big = tk_erfc_abs\(sfx)(y > \(lit(0.46875)) ? y : \(lit(1.0)));
          return x != x ? x : (y <= \(lit(0.46875)) ? small : (x < \(lit(0.0)) ? \(lit(2.0)) - big : big));
        }
        TK_INLINE \(t) tk_erf\(sfx)(\(t) x) {
          const \(t) y = \(fn("fabs"))(x), small = tk_erf_small\(sfx)(y <= \(lit(0.46875)) ? x : \(lit(0.0))), big = \(lit(1.0)) - tk_erfc_abs\(sfx)(y > \(lit(0.46875)) ? y : \(lit(1.0)));
          return x != x ? x : (y <= \(lit(0.46875)) ? small : (x < \(lit(0.0)) ? -big : big));
        }
        """
    }

    /// hypot for `double` or `float`, as NumPy's vector loop computes a complex magnitude:
    /// `larger · sqrt(1 + (smaller/larger)²)`, without branches, so that loops vectorise (C's
    /// `hypot` is a call per element that no compiler vectorises: a complex Mandelbrot spent 0.12
    /// of its 0.15 s in it). Within 2 ulp of glibc's (28% of doubles differ, by 1 or 2 ulp; the
    /// same expression in the interpreter, so every CPU placement gives the same bits). An
    /// infinite argument gives infinity even beside a NaN, as C99 says.
    static func hypotSource(double: Bool) -> String {
        let t = double ? "double" : "float", sfx = double ? "" : "f"
        let zero = double ? "0.0" : "0.0f", one = double ? "1.0" : "1.0f"
        return """
        TK_INLINE \(t) tk_hypot\(sfx)(\(t) x, \(t) y) {
          const \(t) a = fabs\(sfx)(x), b = fabs\(sfx)(y);
          const \(t) larger = a > b ? a : b, smaller = a > b ? b : a;
          const \(t) r = larger == \(zero) ? \(zero) : smaller / larger;
          const \(t) h = sqrt\(sfx)(r * r + \(one)) * larger;
          return (a == INFINITY || b == INFINITY) ? (\(t))INFINITY : ((a != a || b != b) ? a + b : h);
        }
        """
    }

    /// fmod for `double` or `float`, exact like C's (the remainder of truncated division, with
    /// the dividend's sign) without a libm call where the quotient is below 2^52 (2^23): the
    /// truncated rounded quotient `t` is the true one or one beyond it, `x - t·y` by one fma is
    /// then exact, and one step of `y` back fixes the second case. A zero divisor, a non-finite
    /// operand or a larger quotient calls the dialect's fmod. In C that call sits in a function
    /// of its own that is never inlined: clang (with `-fno-math-errno`) turns fmod into an
    /// instruction it may compute ahead of the branch, and did, for every element (21 ns an
    /// element against glibc 2.36's 27-29; kept behind the call, 1.6 ns).
    static func fmodSource(double: Bool, dialect: Dialect) -> String {
        let t = double ? "double" : "float", sfx = double ? "" : "f"
        let limit = double ? "0x1p52" : "0x1p23f", zero = double ? "0.0" : "0.0f"
        // Elsewhere fmod is the device's own (a few instructions on a GPU): called directly,
        // under the same name so that every dialect's helper reads the same.
        let wrapper = dialect == .c ? "__attribute__((noinline)) static \(t) tk_fmod\(sfx)_call(\(t) x, \(t) y) { return fmod\(sfx)(x, y); }\n"
                                    : "#define tk_fmod\(sfx)_call fmod\(sfx)\n"
        return wrapper + """
        TK_INLINE \(t) tk_fmod\(sfx)(\(t) x, \(t) y) {
          const \(t) q = x / y;
          if (!(fabs\(sfx)(q) < \(limit)) || fabs\(sfx)(x) == (\(t))INFINITY || fabs\(sfx)(y) == (\(t))INFINITY) return tk_fmod\(sfx)_call(x, y);
          \(t) r = fma\(sfx)(-trunc\(sfx)(q), y, x);
          if (r != \(zero) && ((r < \(zero)) != (x < \(zero)))) r += copysign\(sfx)(fabs\(sfx)(y), x);
          return r == \(zero) ? copysign\(sfx)(\(zero), x) : r;
        }
        """
    }

    /// exp for `float` and `double`, written without branches or tables so that it vectorises
    /// whatever the inputs: libmvec's vector exp calls the scalar libm exp for every lane of a
    /// vector holding one input whose result is not a normal number (GMM's exp(logp - top) is
    /// mostly such inputs in float: 35 ns an element instead of 0.5).
    ///
    /// e^x = 2^k e^r with k = rint(x / ln 2) and r = x - k ln 2 (Cody-Waite, ln 2 in two parts);
    /// e^r from a polynomial on |r| <= ln(2)/2 (float: Cephes' minimax expf coefficients; double:
    /// Taylor to degree 13, truncation below 1e-17). 2^k is applied as two factors 2^(k/2) and
    /// 2^(k - k/2), so a subnormal result is rounded once and k = 128 or 1024 still overflows to
    /// infinity. x is clamped to where the result is 0 or infinity, and NaN passes through.
    /// Below ln(2^-150) (float) or ln(2^-1075) (double) the result rounds to 0 and the polynomial
    /// is replaced by 0 before the scaling, so that no lane multiplies down into the subnormal
    /// range: an underflowing multiply costs a microcode assist for the whole vector, and
    /// GMM's exp(logp - top) is mostly such inputs (float, L2-resident: 0.54 ns an element
    /// before, 0.15 after, 0.16 for inputs near 0; same bits everywhere). Inputs whose result is
    /// a genuine subnormal still pay it; building those from their integer bit pattern instead
    /// costs 30% on ordinary inputs (`bench/micro/exp_subnormal.c`).
    /// Measured against glibc: at most 1 ulp apart in float (every 97th float) and in double.
    static let expSource = """
    TK_INLINE float tk_expf(float x) {
      const float xc = x < -0x1.ap+6f ? -0x1.ap+6f : (x > 0x1.64p+6f ? 0x1.64p+6f : x);
      const float kf = rintf(xc * 0x1.715476p+0f);
      float r = fmaf(kf, -0x1.62e4p-1f, xc);
      r = fmaf(kf, -0x1.7f7d1cp-20f, r);
      float p = 0x1.a0d2cep-13f;
      p = fmaf(p, r, 0x1.6e879cp-10f);
      p = fmaf(p, r, 0x1.11121p-7f);
      p = fmaf(p, r, 0x1.555382p-5f);
      p = fmaf(p, r, 0x1.555554p-3f);
      p = fmaf(p, r, 0x1p-1f);
      p = fmaf(p, r * r, r + 0x1p+0f);
      p = x < -0x1.9fe36ap+6f ? 0x0p+0f : p;
      const int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1;
      union { int32_t i; float f; } s1 = { (k1 + 127) << 23 }, s2 = { (k2 + 127) << 23 };
      const float y = p * s1.f * s2.f;
      return x != x ? x : y;
    }
    TK_INLINE double tk_exp(double x) {
      const double xc = x < -0x1.75p+9 ? -0x1.75p+9 : (x > 0x1.63p+9 ? 0x1.63p+9 : x);
      const double kd = rint(xc * 0x1.71547652b82fep+0);
      double r = fma(kd, -0x1.62e42feep-1, xc);
      r = fma(kd, -0x1.a39ef35793c76p-33, r);
      double p = 0x1.6124613a86d09p-33;
      p = fma(p, r, 0x1.1eed8eff8d898p-29);
      p = fma(p, r, 0x1.ae64567f544e4p-26);
      p = fma(p, r, 0x1.27e4fb7789f5cp-22);
      p = fma(p, r, 0x1.71de3a556c734p-19);
      p = fma(p, r, 0x1.a01a01a01a01ap-16);
      p = fma(p, r, 0x1.a01a01a01a01ap-13);
      p = fma(p, r, 0x1.6c16c16c16c17p-10);
      p = fma(p, r, 0x1.1111111111111p-7);
      p = fma(p, r, 0x1.5555555555555p-5);
      p = fma(p, r, 0x1.5555555555555p-3);
      p = fma(p, r, 0x1p-1);
      p = fma(p, r, 0x1p+0);
      p = fma(p, r, 0x1p+0);
      p = x < -0x1.74910d52d3052p+9 ? 0x0p+0 : p;
      const int64_t k = (int64_t)kd, k1 = k >> 1, k2 = k - k1;
      union { int64_t i; double d; } s1 = { (k1 + 1023) << 52 }, s2 = { (k2 + 1023) << 52 };
      const double y = p * s1.d * s2.d;
      return x != x ? x : y;
    }
    """

    /// The float max/min reductions' step in C: IEEE 754-2019 maximum/minimum (NaN wins). Clang
    /// recognises `__builtin_elementwise_maximum` as a reduction and vectorises the loop, where the
    /// equivalent compare-and-select chain (`tk_max_f64`) stays scalar with a loop-carried select:
    /// GMM's `logp.max(axis: 1)`, 16 floats a row, 0.87 ns an element before, 0.34 after
    /// (`bench/micro/max_reduction.c`). OpenMP's `reduction(max:)` clause is not used: its
    /// combine drops a NaN carried in from an earlier chunk. Other compilers get the select chain.
    /// The two differ only on equal zeros: maximum(-0, +0) is +0; the chain keeps the first.
    static let maximumSource = """
    #if defined(__has_builtin)
    #if __has_builtin(__builtin_elementwise_maximum) && __has_builtin(__builtin_elementwise_minimum)
    #define TK_ELEMENTWISE_MAXIMUM 1
    #endif
    #endif
    #ifdef TK_ELEMENTWISE_MAXIMUM
    #define tk_fmaximum(a, b) __builtin_elementwise_maximum((double)(a), (double)(b))
    #define tk_fminimum(a, b) __builtin_elementwise_minimum((double)(a), (double)(b))
    #else
    #define tk_fmaximum(a, b) tk_max_f64(a, b)
    #define tk_fminimum(a, b) tk_min_f64(a, b)
    #endif
    """

    /// The exp a kernel calls: Tandem's own (`expSource`) in C, the device's own in CUDA.
    static func exp(float: Bool, _ dialect: Dialect) -> String {
        (dialect.ownExp ? "tk_exp" : "exp") + (float ? "f" : "")
    }

    /// What the C code needs of <stdint.h> and <math.h>, declared here instead of included:
    /// parsing the two headers cost a small kernel's compile about 11 of its 93 ms on this
    /// machine's clang (82 ms without them; the code built is the same, libmvec's vector calls
    /// included). The types come from the compiler's own macros; every math function a kernel
    /// may call (C's name for each unary and binary operation, in double and float, and those
    /// the helpers below use) is declared with its <math.h> signature, which is how the
    /// compiler recognises it as the library function it vectorises.
    static let cDeclarations: String = {
        var text = """
        typedef __INT8_TYPE__ int8_t;
        typedef __UINT8_TYPE__ uint8_t;
        typedef __INT16_TYPE__ int16_t;
        typedef __UINT16_TYPE__ uint16_t;
        typedef __INT32_TYPE__ int32_t;
        typedef __UINT32_TYPE__ uint32_t;
        typedef __INT64_TYPE__ int64_t;
        typedef __UINT64_TYPE__ uint64_t;
        #define INT32_MAX __INT32_MAX__
        #define INT32_MIN (-__INT32_MAX__ - 1)
        #define INT64_MAX __INT64_MAX__
        #define INT64_MIN (-__INT64_MAX__ - 1LL)
        #define INFINITY __builtin_inff()

        """
        let operators: Set<UnaryOp> = [.neg, .not, .bitNot]
        var unary = UnaryOp.allCases.filter { !operators.contains($0) }.map { $0 == .abs ? "fabs" : $0.rawValue }
        unary += ["floor", "rint"]
        var seen: Set<String> = []
        for name in unary where seen.insert(name).inserted { text += "double \(name)(double); float \(name)f(float);\n" }
        let binary = BinaryOp.allCases.filter { [.pow, .atan2].contains($0) }.map(\.rawValue) + ["fmod", "copysign"]
        for name in binary { text += "double \(name)(double, double); float \(name)f(float, float);\n" }
        text += "double fma(double, double, double); float fmaf(float, float, float);\n"
        return text
    }()

    /// The vectors of eight lane accumulators of laned reductions (GCC and clang vector extension).
    static let lanesTypes = """
    typedef double tk_lanes_f64 __attribute__((vector_size(64)));
    typedef uint64_t tk_lanes_u64 __attribute__((vector_size(64)));
    typedef float tk_lanes_f32 __attribute__((vector_size(32)));
    """

    /// Helpers shared by every kernel. Constants are emitted as hex-float literals (exact).
    /// The CUDA dialect declares the integer types and limits itself (NVRTC has no standard
    /// headers by default) and makes every helper a `__device__` function; the text is otherwise
    /// the same, so `tk_uniform` and erf/erfc give the same values on both devices.
    static func preamble(_ dialect: Dialect) -> String {
        switch dialect {
        case .c: cPreamble
        case .cuda: cudaPreamble
        case .opencl: openCLPreamble
        }
    }

    // Rendered once: the text does not depend on the kernel, and its hex-float constants took a
    // twentieth of a many-kernel program's time when rendered for every kernel looked up.
    static let cPreamble = makePreamble(.c)
    static let cudaPreamble = makePreamble(.cuda)
    static let openCLPreamble = makePreamble(.opencl)

    static func makePreamble(_ dialect: Dialect) -> String {
        let fn = dialect.helper, inline = dialect.inlineHelper, ul = dialect.unsignedLongSuffix
        let headers = switch dialect {
        case .c: cDeclarations + lanesTypes
        case .cuda: cudaHeaders
        case .opencl: openCLHeaders
        }
        return """
    // Generated by Tandem. Semantics: integer arithmetic wraps; integer x/0 and x%0 are 0;
    // float-to-int casts truncate, saturate and send NaN to 0; max/min propagate NaN.
    \(headers)
    typedef union { double d; int64_t i; } tandem_acc;
    \(fn) int32_t tk_div_i32(int32_t a, int32_t b) { return b == 0 ? 0 : (b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b); }
    \(fn) int64_t tk_div_i64(int64_t a, int64_t b) { return b == 0 ? 0 : (b == -1 ? (int64_t)(0u - (uint64_t)a) : a / b); }
    \(fn) int32_t tk_rem_i32(int32_t a, int32_t b) { return (b == 0 || b == -1) ? 0 : a % b; }
    \(fn) int64_t tk_rem_i64(int64_t a, int64_t b) { return (b == 0 || b == -1) ? 0 : a % b; }
    \(fn) int64_t tk_pow_i64(int64_t a, int64_t b) {
      if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
      uint64_t r = 1, x = (uint64_t)a;
      while (b) { if (b & 1) r *= x; x *= x; b >>= 1; }
      return (int64_t)r;
    }
    \(fn) int32_t tk_pow_i32(int32_t a, int32_t b) { return (int32_t)tk_pow_i64(a, b); }
    \(fn) int32_t tk_shl_i32(int32_t a, int32_t b) { return (b < 0 || b >= 32) ? 0 : (int32_t)((uint32_t)a << b); }
    \(fn) int64_t tk_shl_i64(int64_t a, int64_t b) { return (b < 0 || b >= 64) ? 0 : (int64_t)((uint64_t)a << b); }
    \(fn) int32_t tk_shr_i32(int32_t a, int32_t b) { return (b < 0 || b >= 32) ? (a < 0 ? -1 : 0) : a >> b; }
    \(fn) int64_t tk_shr_i64(int64_t a, int64_t b) { return (b < 0 || b >= 64) ? (a < 0 ? -1 : 0) : a >> b; }
    \(fn) uint64_t tk_div_u64(uint64_t a, uint64_t b) { return b == 0 ? 0 : a / b; }
    \(fn) uint64_t tk_rem_u64(uint64_t a, uint64_t b) { return b == 0 ? 0 : a % b; }
    \(fn) uint64_t tk_pow_u64(uint64_t a, uint64_t b) { uint64_t r = 1; while (b) { if (b & 1) r *= a; a *= a; b >>= 1; } return r; }
    \(fn) uint64_t tk_shl_u64(uint64_t a, uint64_t b) { return b >= 64 ? 0 : a << b; }
    \(fn) uint64_t tk_shr_u64(uint64_t a, uint64_t b) { return b >= 64 ? 0 : a >> b; }
    \(fn) int64_t tk_shl_w(int64_t a, int64_t b, int64_t w) { return (b < 0 || b >= w) ? 0 : (int64_t)((uint64_t)a << b); }
    \(fn) int64_t tk_shr_w(int64_t a, int64_t b, int64_t w) { return (b < 0 || b >= w) ? (a < 0 ? -1 : 0) : a >> b; }
    \(fn) int64_t tk_clamp_index(int64_t i, int64_t n) { i = i < 0 ? i + n : i; return i < 0 ? 0 : (i >= n ? n - 1 : i); }
    \(fn) float tk_max_f32(float a, float b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
    \(fn) float tk_min_f32(float a, float b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
    \(fn) double tk_max_f64(double a, double b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
    \(fn) double tk_min_f64(double a, double b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
    \(fn) int32_t tk_f2i32(double x) { return x != x ? 0 : (x >= 2147483647.0 ? INT32_MAX : (x <= -2147483648.0 ? INT32_MIN : (int32_t)x)); }
    \(fn) int64_t tk_f2iw(double x, int64_t lo, int64_t hi) { return x != x ? 0 : (x >= (double)hi ? hi : (x <= (double)lo ? lo : (int64_t)x)); }
    \(fn) uint64_t tk_f2u64(double x) { return (x != x || x <= 0.0) ? 0 : (x >= 0x1p64 ? ~(uint64_t)0 : (uint64_t)x); }
    \(fn) int64_t tk_f2i64(double x) { return x != x ? 0 : (x >= 0x1p63 ? INT64_MAX : (x <= -0x1p63 ? INT64_MIN : (int64_t)x)); }
    \(fn) double tk_uniform(uint64_t seed, int64_t i) {
      uint64_t z = (seed << 32) + (uint64_t)i + 0x9E3779B97F4A7C15\(ul);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9\(ul);
      z = (z ^ (z >> 27)) * 0x94D049BB133111EB\(ul);
      z = z ^ (z >> 31);
      return (double)(z >> 11) * 0x1p-53;
    }
    #define TK_INLINE \(inline)
    \(dialect.vectorisedLoops ? maximumSource : "")
    \(dialect.ownExp ? expSource : "")\(dialect == .opencl ? "\n" + openCLLogSource : "")
    \(erfSource(double: true, dialect: dialect))
    \(erfSource(double: false, dialect: dialect))
    \(hypotSource(double: true))
    \(hypotSource(double: false))
    \(fmodSource(double: true, dialect: dialect))
    \(fmodSource(double: false, dialect: dialect))
    """
    }
}
