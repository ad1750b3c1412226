import TandemIR

/// The OpenCL dialect's entry points: the same three kernels as the CUDA dialect
/// (`CUDAEntryPoints.swift`), around the same shared expressions, accumulators and helpers:
///
/// - `tandem_kernel`: one work-item per parallel point (the NDRange is exactly the points), reduce
///   axes as loops inside the work-item.
/// - `tandem_kernel_split`: work-group `(c, q)` reduces chunk `c` of the flattened reduce axes for
///   parallel point `q` with `TK_THREADS` work-items, folded in local memory by a fixed tree
///   (OpenCL C 1.2 has no sub-group shuffles); the partial lands in `part[(c * np + q) * 2R + 2j]`,
///   the CPU's and CUDA's layout.
/// - `tandem_kernel_combine`: the in-order fold of the partials and the epilogue, one work-item
///   per parallel point.
///
/// Arguments are passed one by one (`clSetKernelArg`): the buffers as `__global` pointers, then
/// the int parameters as `long`, the float parameters as `double` (as `float` for a device
/// without `cl_khr_fp64`), then the split entries' partials and their count. Without
/// `cl_khr_fp64` the source has no `double`: a kernel that needs one (float64 values, a float
/// sum's double accumulator, `tk_uniform`) is refused before anything is compiled
/// (`CRenderer.openCLFloat64Use`).
extension Emitter {
    /// Work-items per work-group of the split entry point (also `TK_THREADS` in the source). A
    /// constant, not the device's maximum, so a reduction's bits do not depend on the device.
    static let openCLThreads = 128

    static let openCLHeaders: String = {
        var text = """
        #pragma OPENCL EXTENSION cl_khr_fp64 : enable
        // Multiply-adds are not fused behind the code's back (the C kernels are compiled with
        // -ffp-contract=off): the same expression gives the same bits on every device.
        #pragma OPENCL FP_CONTRACT OFF
        typedef char int8_t;
        typedef uchar uint8_t;
        typedef short int16_t;
        typedef ushort uint16_t;
        typedef int int32_t;
        typedef uint uint32_t;
        typedef long int64_t;
        typedef ulong uint64_t;
        #define INT32_MAX 2147483647
        #define INT32_MIN (-2147483647 - 1)
        #define INT64_MAX 9223372036854775807L
        #define INT64_MIN (-9223372036854775807L - 1L)
        #define TK_THREADS \(openCLThreads)
        // OpenCL's math functions are overloaded on the argument type: C's float names map to them.

        """
        // The exactly rounded ones go to the compiler's builtins where it has them (clang-based
        // implementations): PoCL calls its library's fma, rint, floor... out of line, which
        // keeps a kernel calling them (Tandem's own exp) from being vectorised across
        // work-items. A builtin gives the same bits: these operations have one right answer.
        let exact: Set<String> = ["fma", "rint", "floor", "ceil", "trunc", "fabs", "sqrt"]
        let operators: Set<UnaryOp> = [.neg, .not, .bitNot, .erf, .erfc]
        var names = UnaryOp.allCases.filter { !operators.contains($0) }.map { $0 == .abs ? "fabs" : $0.rawValue }
        names += ["floor", "rint", "fma", "fmod", "copysign"] + BinaryOp.allCases.filter { [.pow, .atan2].contains($0) }.map(\.rawValue)
        var seen: Set<String> = [], builtins: [String] = []
        for name in names where seen.insert(name).inserted {
            if exact.contains(name) { builtins.append(name) } else if name == "log" {
                // An implementation may define its builtins as macros (PoCL does): replaced, not redefined.
                text += "#undef log\n#define log tk_log\n#define logf tk_logf\n"     // Tandem's own (`openCLLogSource`)
            } else {
                text += "#define \(name)f \(name)\n"
            }
        }
        let condition = builtins.map { "__has_builtin(__builtin_\($0))" }.joined(separator: " && ")
        text += "#if defined(__has_builtin)\n#if \(condition)\n#define TK_EXACT_BUILTINS 1\n#endif\n#endif\n#ifdef TK_EXACT_BUILTINS\n"
        for name in builtins { text += "#define \(name)f __builtin_\(name)f\n#undef \(name)\n#define \(name) __builtin_\(name)\n" }
        text += "#else\n"
        for name in builtins { text += "#define \(name)f \(name)\n" }
        text += "#endif\n"
        return text
    }()

    /// The OpenCL preamble for a device without `cl_khr_fp64`: without the extension's pragma
    /// and without every top-level item that mentions `double` (the helpers written in double,
    /// whose names are `dropped`); the accumulator union holds a float. A kernel that still
    /// needs one of them is refused (`CRenderer.openCLFloat64Use`).
    static let openCLPreambleWithoutFloat64: (text: String, dropped: [String]) = {
        let pragma = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable"
        var text = "", dropped: [String] = [], item = "", depth = 0
        func finish() {
            defer { item = "" }
            if item.hasPrefix("typedef union { double d; int64_t i; } tandem_acc;") {
                text += "typedef union { float d; int64_t i; } tandem_acc;\n"
            } else if item.contains("double") {
                // The helper's name: the first `tk_...(` of its first line.
                let chars = Array(item)
                if let start = (0..<max(0, chars.count - 2)).first(where: { chars[$0] == "t" && chars[$0 + 1] == "k" && chars[$0 + 2] == "_" }),
                   let open = chars[start...].firstIndex(of: "(") {
                    dropped.append(String(chars[start..<open]))
                }
            } else {
                text += item
            }
        }
        for line in openCLPreamble.split(separator: "\n", omittingEmptySubsequences: false) where line != pragma {
            item += line + "\n"
            for c in line.utf8 { if c == UInt8(ascii: "{") { depth += 1 } else if c == UInt8(ascii: "}") { depth -= 1 } }
            if depth == 0 { finish() }
        }
        if !item.isEmpty { finish() }
        if text.hasSuffix("\n") && !openCLPreamble.hasSuffix("\n") { text.removeLast() }
        return (text, dropped)
    }()

    /// log for OpenCL: fdlibm's `__ieee754_log` and `__ieee754_logf` (Sun, 1993: error below
    /// 1 ulp), written without branches so a kernel calling them can be vectorised (PoCL's log
    /// is an out-of-line call to SLEEF's scalar log). The float version is fdlibm's own, in
    /// float: the double log, rounded, ran at half the float vector width (Black-Scholes in
    /// float on PoCL, 4 x 10^7 points: 0.50 -> 0.47 s).
    static let openCLLogSource = """
    TK_INLINE double tk_log(double x) {
      union { double d; int64_t i; } u = { x };
      const int sub = u.i < 0x0010000000000000L;
      u.d = sub ? x * 0x1p54 : x;
      int64_t hx = u.i >> 32;
      int64_t k = (hx >> 20) - 1023 - (sub ? 54 : 0);
      hx &= 0x000fffff;
      const int64_t i = (hx + 0x95f64) & 0x100000;
      u.i = ((hx | (i ^ 0x3ff00000)) << 32) | (u.i & 0xffffffffL);
      k += i >> 20;
      const double f = u.d - 1.0, s = f / (2.0 + f), dk = (double)k, z = s * s, w = z * z;
      const double t1 = w * (0x1.999999997fa04p-2 + w * (0x1.c71c51d8e78afp-3 + w * 0x1.39a09d078c69fp-3));
      const double t2 = z * (0x1.5555555555593p-1 + w * (0x1.2492494229359p-2 + w * (0x1.7466496cb03dep-3 + w * 0x1.2f112df3e5244p-3)));
      const double R = t2 + t1, hfsq = 0.5 * f * f;
      const double big = dk * 0x1.62e42feep-1 - ((hfsq - (s * (hfsq + R) + dk * 0x1.a39ef35793c76p-33)) - f);
      const double small = dk * 0x1.62e42feep-1 - ((s * (f - R) - dk * 0x1.a39ef35793c76p-33) - f);
      const double r = ((hx - 0x6147a) | (0x6b851 - hx)) > 0 ? big : small;
      return x != x ? x : (x < 0.0 ? NAN : (x == 0.0 ? -INFINITY : (x == INFINITY ? x : r)));
    }
    TK_INLINE float tk_logf(float x) {
      union { float f; int32_t i; } u = { x };
      const int sub = u.i < 0x00800000;
      u.f = sub ? x * 0x1p25f : x;
      int32_t ix = u.i;
      int32_t k = (ix >> 23) - 127 - (sub ? 25 : 0);
      ix &= 0x007fffff;
      const int32_t i = (ix + (0x95f64 << 3)) & 0x800000;
      u.i = ix | (i ^ 0x3f800000);
      k += i >> 23;
      const float f = u.f - 1.0f, s = f / (2.0f + f), dk = (float)k, z = s * s, w = z * z;
      const float t1 = w * (0x1.99999ap-2f + w * (0x1.c71c52p-3f + w * 0x1.39a09ep-3f));
      const float t2 = z * (0x1.555556p-1f + w * (0x1.24924ap-2f + w * (0x1.74664ap-3f + w * 0x1.2f112ep-3f)));
      const float R = t2 + t1, hfsq = 0.5f * f * f;
      const float big = dk * 0x1.62e3p-1f - ((hfsq - (s * (hfsq + R) + dk * 0x1.2fefa2p-17f)) - f);
      const float small = dk * 0x1.62e3p-1f - ((s * (f - R) - dk * 0x1.2fefa2p-17f) - f);
      const float r = ((ix - (0x6147a << 3)) | ((0x6b851 << 3) - ix)) > 0 ? big : small;
      return x != x ? x : (x < 0.0f ? NAN : (x == 0.0f ? -INFINITY : (x == INFINITY ? x : r)));
    }
    """

    mutating func openCLEntryPoints() {
        if AcceleratorLaunch.widensRows(kernel, points: pointsPerItem) { openCLWideRows() } else { openCLRows() }
        if kernel.hasReductions && kernel.reduceAxes > 0 {
            openCLSplit()
            openCLCombine()
        }
    }

    /// `__kernel void name(buffers, ints, floats, extra)`, with the parameters' locals.
    private mutating func openCLHeader(_ name: String, _ extra: String) {
        var params: [String] = []
        for (b, param) in kernel.buffers.enumerated() {
            params.append("__global \(param.isWritten ? "" : "const ")\(Emitter.ctype(param.dtype)) *restrict b\(b)")
        }
        for p in 0..<kernel.intParams { params.append("const long I\(p)") }
        for p in 0..<kernel.floatParams { params.append("const \(float64 ? "double" : "float") F\(p)") }
        if !extra.isEmpty { params.append(extra) }
        out += "\n__kernel void \(name)(\(params.joined(separator: ", "))) {\n"
    }

    /// One work-item per parallel point, the NDRange exactly the points (no grid-stride loop and
    /// no bounds test): straight-line work-items are what an implementation vectorises across
    /// (PoCL's work-group loops; Black-Scholes ran 6.7x slower than C with a grid-stride loop).
    private mutating func openCLRows() {
        openCLHeader(CRenderer.entry, "")
        if P > 0 { line("const int64_t q = (int64_t)get_global_id(0);", 1) }
        if R > 0 && AcceleratorLaunch.widensSplit(kernel, points: pointsPerItem) {
            lanedPointBody(1)
        } else {
            pointBody(1)
        }
        out += "}\n"
    }

    /// A parallel point whose innermost reduce loop goes `pointsPerItem` elements a step into as
    /// many lanes (`AcceleratorLaunch.widensSplit`; element `i` of the axis into lane `i % W`),
    /// folded in order into the accumulators before the epilogue: on a device on CPU cores the
    /// steps vectorise inside the work-item.
    private mutating func lanedPointBody(_ depth: Int) {
        let W = pointsPerItem, last = kernel.rank - 1
        parallelDecompose(depth)
        accInit(depth)
        laneInit(depth)
        var d = depth
        for a in P..<last {
            line("for (int64_t i\(a) = 0; i\(a) < I\(a); i\(a)++) {", d)
            d += 1
        }
        line("for (int64_t b_ = 0; b_ < I\(last); b_ += \(W)) {", d)
        line("const int m_ = (int)min((int64_t)\(W), I\(last) - b_);", d + 1)
        openCLStep(d + 1) { e, d in e.line("const int64_t i\(last) = b_ + l_;", d) }
        line("}", d)
        for _ in P..<last { d -= 1; line("}", d) }
        laneFold(depth)
        epilogue(depth)
    }

    /// One step of a widened fold: the body over `m_` points (the first `declare`s the point's
    /// indices from `l_`) into arrays of the values' own type, then those values into the lanes.
    /// Two loops, as the C dialect's laned blocks: with the conversion to the accumulator's type
    /// inside the body, float kernels ran at the double width (Black-Scholes' float sum on PoCL,
    /// 13.4 ns a point in one loop, 8.0 in two).
    private mutating func openCLStep(_ depth: Int, declare: (inout Emitter, Int) -> Void) {
        // The value each reduction takes, before a widening to float64 (a float sum's values
        // are cast to double in the IR: kept as floats here, widened in the second loop).
        let values = kernel.reductions.map { AcceleratorLaunch.unwidened($0, in: kernel) }
        for (j, v) in values.enumerated() {
            line("\(Emitter.ctype(kernel.instrs[v].dtype)) t\(j)_[\(pointsPerItem)];", depth)
        }
        line("for (int l_ = 0; l_ < m_; l_++) {", depth)
        declare(&self, depth + 1)
        body(depth + 1, lane: .values)
        for (j, v) in values.enumerated() { line("t\(j)_[l_] = v\(v);", depth + 1) }
        line("}", depth)
        line("for (int l_ = 0; l_ < m_; l_++) {", depth)
        for (j, r) in kernel.reductions.enumerated() {
            let v = kernel.instrs[values[j]].dtype == .float32 ? "(double)t\(j)_[l_]" : "t\(j)_[l_]"
            line(update(j, r, value: v, index: "0", into: "l\(j)_[l_]"), depth + 1)
        }
        line("}", depth)
    }

    /// The lanes of a widened fold (`pointsPerItem` of each reduction), at the identity.
    private mutating func laneInit(_ depth: Int) {
        for (j, r) in kernel.reductions.enumerated() {
            line("\(accType(r)) l\(j)_[\(pointsPerItem)]; for (int l_ = 0; l_ < \(pointsPerItem); l_++) { l\(j)_[l_] = \(identity(r).0); }", depth)
        }
    }

    /// The lanes in order into the accumulators: the same fold on every device of this width.
    private mutating func laneFold(_ depth: Int) {
        for (j, r) in kernel.reductions.enumerated() {
            for l in 0..<pointsPerItem { line(update(j, r, value: "l\(j)_[\(l)]", index: "0"), depth) }
        }
    }

    /// `pointsPerItem` consecutive points of the innermost parallel axis in each work-item
    /// (`AcceleratorLaunch.widensRows`, for devices on CPU cores): work-item `g` takes row
    /// `g / nw_` of the outer axes and points `(g % nw_) * W ..< min(+ W, extent)` of the
    /// innermost, in one loop the device vectorises inside the work-item. A row's last work-item
    /// takes what is left of it.
    private mutating func openCLWideRows() {
        let W = pointsPerItem, a = P - 1
        openCLHeader(CRenderer.entry, "")
        line("const int64_t g_ = (int64_t)get_global_id(0);", 1)
        if P == 1 {
            line("const int64_t j_ = g_ * \(W);", 1)
        } else {
            line("const int64_t nw_ = (I\(a) + \(W - 1)) / \(W);", 1)
            line("const int64_t q = g_ / nw_, j_ = (g_ - q * nw_) * \(W);", 1)
            parallelDecompose(1, axes: P - 1)
        }
        line("const int m_ = (int)min((int64_t)\(W), I\(a) - j_);", 1)
        if R > 0 {
            // Columns (`reducesColumns`): each point's lane is its accumulator, added in order
            // down the reduce axes, the points of a step side by side.
            laneInit(1)
            var d = 1
            for r in P..<kernel.rank {
                line("for (int64_t i\(r) = 0; i\(r) < I\(r); i\(r)++) {", d)
                d += 1
            }
            line("for (int l_ = 0; l_ < m_; l_++) {", d)
            line("const int64_t i\(a) = j_ + l_;", d + 1)
            body(d + 1, lane: .tail)
            line("}", d)
            for _ in P..<kernel.rank { d -= 1; line("}", d) }
        }
        line("for (int l_ = 0; l_ < m_; l_++) {", 1)
        line("const int64_t i\(a) = j_ + l_;", 2)
        if R > 0 {
            for (j, r) in kernel.reductions.enumerated() {
                line("\(accType(r)) acc\(j) = l\(j)_[l_]; int64_t arg\(j) = 0; (void)arg\(j);", 2)
            }
        } else {
            accInit(2)
            body(2)
        }
        epilogue(2)
        line("}", 1)
        out += "}\n"
    }

    /// Work-group `(c, q)`: chunk `c` of the flattened reduce axes for parallel point `q`, folded
    /// over the group by halving (work-item `l` takes `l + s` for s = TK_THREADS/2 ... 1): the
    /// same pattern on every device, so the bits depend on the sizes alone.
    private mutating func openCLSplit() {
        openCLHeader(CRenderer.entry + "_split", "__global tandem_acc *restrict part, const long nparts")
        let nred = kernel.reductions.count
        let w = 2 * nred
        line("const int64_t np = \(parallelCount);", 1)
        line("const int64_t nr = \((P..<kernel.rank).map { "I\($0)" }.joined(separator: " * "));", 1)
        line("const int64_t c = (int64_t)get_group_id(0);", 1)
        line("const int64_t lo = nr * c / nparts, hi = nr * (c + 1) / nparts;", 1)
        line("const int lid = (int)get_local_id(0);", 1)
        line("__local tandem_acc sh_[TK_THREADS * \(w)];", 1)
        line("for (int64_t q = (int64_t)get_group_id(1); q < np; q += (int64_t)get_num_groups(1)) {", 1)
        let depth = 2
        parallelDecompose(depth)
        accInit(depth)
        let W = AcceleratorLaunch.widensSplit(kernel, points: pointsPerItem) ? pointsPerItem : 1
        // Lanes (see `widensSplit`): element `tb_ + l` of a step goes into lane `l`.
        if W > 1 { laneInit(depth) }
        // The trip count is the same for every work-item of the group (the bound test is inside):
        // an implementation may then run the work-items side by side within each iteration
        // (PoCL's implicit loop barriers vectorise across them; with `t_ < hi` as the loop's
        // own test, Black-Scholes' sum ran scalar). Each work-item folds the same elements in
        // the same order either way.
        if W == 1 {
            line("const int64_t nj_ = (hi - lo + TK_THREADS - 1) / TK_THREADS;", depth)
            line("for (int64_t j_ = 0; j_ < nj_; j_++) {", depth)
            line("const int64_t t_ = lo + j_ * TK_THREADS + lid;", depth + 1)
            line("if (t_ < hi) {", depth + 1)
            reduceDecompose(depth + 2)
            body(depth + 2)
        } else {
            line("const int64_t nj_ = (hi - lo + TK_THREADS * \(W) - 1) / (TK_THREADS * \(W));", depth)
            line("for (int64_t j_ = 0; j_ < nj_; j_++) {", depth)
            line("const int64_t tb_ = lo + (j_ * TK_THREADS + lid) * \(W);", depth + 1)
            line("const int m_ = (int)min((int64_t)\(W), hi - tb_);", depth + 1)
            openCLStep(depth + 1) { e, d in
                e.line("const int64_t t_ = tb_ + l_;", d)
                e.reduceDecompose(d)
            }
        }
        if W == 1 { line("}", depth + 1) }
        line("}", depth)
        if W > 1 { laneFold(depth) }
        for j in 0..<nred { accSave(j, "sh_[lid * \(w) + \(2 * j)]", "sh_[lid * \(w) + \(2 * j + 1)]", depth) }
        line("barrier(CLK_LOCAL_MEM_FENCE);", depth)
        line("for (int s_ = TK_THREADS / 2; s_ > 0; s_ >>= 1) {", depth)
        line("if (lid < s_) {", depth + 1)
        for (j, r) in kernel.reductions.enumerated() {
            let f = accField(r), t = accType(r)
            line("{ \(t) acc\(j) = sh_[lid * \(w) + \(2 * j)].\(f); int64_t arg\(j) = sh_[lid * \(w) + \(2 * j + 1)].i;", depth + 2)
            line("  const \(t) v_ = sh_[(lid + s_) * \(w) + \(2 * j)].\(f); const int64_t a_ = sh_[(lid + s_) * \(w) + \(2 * j + 1)].i;", depth + 2)
            line("  \(merge(j, r)) (void)a_;", depth + 2)
            line("  sh_[lid * \(w) + \(2 * j)].\(f) = acc\(j); sh_[lid * \(w) + \(2 * j + 1)].i = arg\(j); }", depth + 2)
        }
        line("}", depth + 1)
        line("barrier(CLK_LOCAL_MEM_FENCE);", depth + 1)
        line("}", depth)
        line("if (lid == 0) {", depth)
        for j in 0..<nred {
            line("part[(c * np + q) * \(w) + \(2 * j)] = sh_[\(2 * j)]; part[(c * np + q) * \(w) + \(2 * j + 1)] = sh_[\(2 * j + 1)];", depth + 1)
        }
        line("}", depth)
        // The local array is written again for the next q only after every work-item read it.
        line("barrier(CLK_LOCAL_MEM_FENCE);", depth)
        line("}", 1)
        out += "}\n"
    }

    private mutating func openCLCombine() {
        openCLHeader(CRenderer.entry + "_combine", "__global const tandem_acc *restrict parts, const long nparts")
        combineBody { $0.line("for (int64_t q = (int64_t)get_global_id(0); q < np; q += (int64_t)get_global_size(0)) {", 1) }
    }
}

extension CRenderer {
    /// Work-items per work-group the OpenCL split entry point is written for.
    public static var openCLThreads: Int { Emitter.openCLThreads }
}
