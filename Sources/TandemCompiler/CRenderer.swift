import TandemIR

/// Renders kernel IR to C source: `CRenderer.render(_:)`.
///
/// A kernel becomes `tandem_kernel` (parallel over a range of the first parallel axis) or, when it
/// reduces and its plan splits it, `tandem_kernel_split` (a range of the first reduce axis into
/// partial accumulators) and `tandem_kernel_combine` (partials folded in chunk order, then the
/// epilogue); `Kernel.entries` says which. Parameters are read once into locals; the innermost
/// loop carries `#pragma omp simd`, which clang honours under `-fopenmp-simd` without an OpenMP
/// runtime; a floating sum or product over the innermost axis runs in eight fixed lanes
/// (`innermostReduce`, `Kernel.lanedReduction`) instead of a reassociating reduction clause.
/// The expression syntax is shared with the CUDA and OpenCL dialects (see `Dialect`).
public enum CRenderer {
    public static let entry = "tandem_kernel"

    /// `pointsPerItem` (OpenCL only) is the device's number of consecutive points a work-item
    /// computes, 1 for a GPU, more for a device that runs work-items as loops on CPU cores (see
    /// `AcceleratorLaunch.pointsPerItem`; a kernel of narrow values takes twice as many,
    /// `AcceleratorLaunch.points`).
    /// `float64: false` (OpenCL only) writes for a device without `cl_khr_fp64`: no `double`
    /// anywhere but where the kernel itself needs it (`openCLFloat64Use` says where).
    public static func render(_ k: Kernel, dialect: Dialect = .c, pointsPerItem: Int = 1, float64: Bool = true) -> String {
        // A sequence kernel has no text of its own: each device runs its stages' code in order
        // (`CPUDevice` compiles them one by one, as the kernels they are alone).
        precondition(!k.isSequence, "internal: a sequence kernel is rendered stage by stage")
        precondition(pointsPerItem >= 1 && (pointsPerItem == 1 || dialect == .opencl), "internal: points per work-item are OpenCL's")
        precondition(float64 || dialect == .opencl, "internal: only OpenCL devices may lack float64")
        var e = Emitter(kernel: k, dialect: dialect)
        e.pointsPerItem = AcceleratorLaunch.points(k, device: pointsPerItem)
        e.float64 = float64
        return e.source()
    }

    /// Why `k` cannot run on an OpenCL device without `cl_khr_fp64`, or nil when its OpenCL C
    /// needs no `double`: float64 values, a float32 sum (accumulated in double, as on every
    /// device), a conversion through double, or a helper written in double (`tk_uniform`).
    ///
    ///     CRenderer.openCLFloat64Use(kernel)   // "float64 arithmetic in the kernel" or nil
    public static func openCLFloat64Use(_ k: Kernel, pointsPerItem: Int = 1) -> String? {
        let source = render(k, dialect: .opencl, pointsPerItem: pointsPerItem, float64: false)
        let body = source.utf8.dropFirst(Emitter.openCLPreambleWithoutFloat64.text.utf8.count)
        let text = String(decoding: body, as: UTF8.self)
        if text.contains("double") { return "float64 arithmetic in the kernel" }
        if let helper = Emitter.openCLPreambleWithoutFloat64.dropped.first(where: { text.contains($0 + "(") }) {
            return "\(helper), which is written in float64"
        }
        return nil
    }
}

/// The target language of the shared emitter. What differs between the languages is said here,
/// once, as a table; the emitter asks it instead of branching on the dialect (the entry points
/// around the shared expressions are each dialect's own: `CUDAEntryPoints.swift`,
/// `OpenCLEntryPoints.swift`).
///
/// | | C | CUDA | OpenCL |
/// |---|---|---|---|
/// | `restrict` | `restrict` | `__restrict__` | `restrict` |
/// | helper functions | `static inline` | `static __device__ __forceinline__` | `static inline` |
/// | global pointers | plain | plain | `__global` |
/// | 64-bit literal suffix | `LL` / `ull` | `LL` / `ull` | `L` / `UL` |
/// | exp | Tandem's (`tk_exp`) | the device's | Tandem's |
/// | `float` math | `expf`... | `expf`... | overloads (`expf` defined as `exp`) |
/// | types and limits | declared (`cDeclarations`) | declared (`cudaHeaders`) | declared (`openCLHeaders`) |
/// | threads, blocks | workers' ranges | `threadIdx`/`blockIdx`, `__syncthreads`, shuffles | `get_local_id`/`get_group_id`, `barrier`, local-memory tree |
public enum Dialect: Sendable {
    case c
    case cuda
    case opencl

    var restrict: String { self == .cuda ? "__restrict__" : "restrict" }
    /// Qualifiers of the shared helper functions, and of those that must be inlined.
    /// OpenCL's are marked unused: implementations print the build's warnings (PoCL: "22
    /// warnings generated" on standard error at every build), and most helpers go unused.
    var helper: String {
        switch self {
        case .c: "static inline"
        case .cuda: "static __device__ __forceinline__"
        case .opencl: "static inline __attribute__((unused))"
        }
    }
    var inlineHelper: String {
        switch self {
        case .c: "static inline __attribute__((always_inline))"
        case .cuda: "static __device__ __forceinline__"
        case .opencl: "static inline __attribute__((always_inline, unused))"
        }
    }
    /// The address space of kernel arguments that point to device memory.
    var global: String { self == .opencl ? "__global " : "" }
    /// Suffixes of 64-bit integer literals (OpenCL C's `long` is 64 bits; `long long` is reserved).
    var longSuffix: String { self == .opencl ? "L" : "LL" }
    var unsignedLongSuffix: String { self == .opencl ? "UL" : "ull" }
    /// Whether kernels call Tandem's own exp (the same bits as the C kernels) or the device's.
    var ownExp: Bool { self != .cuda }
    /// Whether the kernel is host loops a C compiler vectorises: `omp simd` pragmas, laned
    /// reductions and the elementwise maximum builtins are written for it alone.
    var vectorisedLoops: Bool { self == .c }
}

struct Emitter {
    let kernel: Kernel
    let dialect: Dialect
    var out = ""
    /// Consecutive points each OpenCL work-item computes (`CRenderer.render`).
    var pointsPerItem = 1
    /// Whether the OpenCL device has `cl_khr_fp64` (`CRenderer.render`).
    var float64 = true
    /// While set, a condition every memory read of the body is masked by (a laned loop's padded
    /// tail, see `innermostReduce`): a read where it is false gives zero and touches no memory.
    var readMask: String?

    init(kernel: Kernel, dialect: Dialect) {
        self.kernel = kernel
        self.dialect = dialect
    }

    var P: Int { kernel.parallelAxes }
    var R: Int { kernel.reduceAxes }

    mutating func source() -> String {
        out = dialect == .opencl && !float64 ? Emitter.openCLPreambleWithoutFloat64.text : Emitter.preamble(dialect)
        switch dialect {
        case .cuda:
            cudaEntryPoints()
            return out
        case .opencl:
            openCLEntryPoints()
            return out
        case .c: break
        }
        if kernel.entries != .split || !(kernel.hasReductions && kernel.reduceAxes > 0) { rows() }
        if kernel.hasReductions && kernel.reduceAxes > 0 && kernel.entries != .rows {
            split()
            combine()
        }
        return out
    }

    mutating func line(_ s: String, _ depth: Int) { out += String(repeating: "  ", count: depth) + s + "\n" }

    // MARK: - Functions

    mutating func header(_ name: String, _ extra: String) {
        let r = dialect.restrict
        out += "\nvoid \(name)(void *const *\(r) B, const int64_t *\(r) I, const double *\(r) F\(extra)) {\n"
        for p in 0..<kernel.intParams {
            if let values = kernel.literalInts { line("const int64_t I\(p) = \(values[p]);", 1); continue }
            if p == kernel.rank - 1, let e = kernel.innerExtent { line("const int64_t I\(p) = \(e);", 1); continue }
            line("const int64_t I\(p) = I[\(p)];", 1)
        }
        for p in 0..<kernel.floatParams { line("const double F\(p) = F[\(p)];", 1) }
        line("(void)I; (void)F;", 1)
        for (b, param) in kernel.buffers.enumerated() {
            let t = Emitter.ctype(param.dtype)
            line("\(param.isWritten ? "" : "const ")\(t) *\(dialect.restrict) b\(b) = (\(param.isWritten ? "" : "const ")\(t) *)B[\(b)];", 1)
        }
    }

    /// Parallel over [lo, hi) of axis 0 (or once, when there are no parallel axes).
    private mutating func rows() {
        header(CRenderer.entry, ", int64_t lo, int64_t hi")
        if P == 0 { line("(void)lo; (void)hi;", 1) }
        if columnBlocked {
            blockedColumns()
            return
        }
        var depth = 1
        for a in 0..<P {
            if a == kernel.rank - 1 { pragma(depth, reduction: false) }
            line("for (int64_t i\(a) = \(a == 0 ? "lo" : "0"); i\(a) < \(a == 0 ? "hi" : "I\(a)"); i\(a)++) {", depth)
            depth += 1
        }
        accInit(depth)
        if R > 0 {
            reduceLoops(from: P, depth)
        } else {
            body(depth)
        }
        epilogue(depth)
        for _ in 0..<P { depth -= 1; line("}", depth) }
        out += "}\n"
    }

    /// Partial reductions over [lo, hi) of the first reduce axis, into `part[q][j]` (q: flat P index).
    private mutating func split() {
        header(CRenderer.entry + "_split", ", int64_t lo, int64_t hi, tandem_acc *\(dialect.restrict) part")
        let nred = kernel.reductions.count
        let r0 = P
        if P == 0 {
            accInit(1)
            if r0 == kernel.rank - 1 {
                innermostReduce(r0, from: "lo", to: "hi", 1)
            } else {
                line("for (int64_t i\(r0) = lo; i\(r0) < hi; i\(r0)++) {", 1)
                reduceLoops(from: r0 + 1, 2)
                line("}", 1)
            }
            for j in 0..<nred { accSave(j, "part[\(2 * j)]", "part[\(2 * j + 1)]", 1) }
            out += "}\n"
            return
        }
        line("const int64_t np = \((0..<P).map { "I\($0)" }.joined(separator: " * "));", 1)
        // The accumulators of every parallel point live in contiguous local arrays during the
        // chunk (the innermost parallel loop then vectorises with plain loads and stores) and go
        // to `part` once at the end. Updating `part` in place gathered and scattered through its
        // interleaved layout at every point (GMM's 16 responsibilities summed over a million
        // points: 14 ns a point). The planner splits no kernel with more parallel points than the
        // arrays hold; one that did would be a planner bug, and stops here rather than overrun.
        let room = Planner.maxSplitParallelPoints
        line("if (np > \(room)) __builtin_trap();", 1)
        let reds = kernel.reductions
        for (j, r) in reds.enumerated() {
            line("\(accType(r)) la\(j)[\(room)];" + (r.op.isArg ? " int64_t lg\(j)[\(room)];" : ""), 1)
        }
        line("for (int64_t q = 0; q < np; q++) {", 1)
        for (j, r) in reds.enumerated() {
            let (v, i) = identity(r)
            line("la\(j)[q] = \(v);" + (r.op.isArg ? " lg\(j)[q] = \(i);" : ""), 2)
        }
        line("}", 1)
        line("for (int64_t i\(r0) = lo; i\(r0) < hi; i\(r0)++) {", 1)
        var depth = 2
        for a in 0..<P {
            if a == P - 1 && R == 1 { pragma(depth, reduction: false) }
            line("for (int64_t i\(a) = 0; i\(a) < I\(a); i\(a)++) {", depth)
            depth += 1
        }
        line("const int64_t q = \(flatP());", depth)
        for (j, r) in reds.enumerated() {
            line("\(accType(r)) acc\(j) = la\(j)[q]; int64_t arg\(j) = \(r.op.isArg ? "lg\(j)[q]" : "0"); (void)arg\(j);", depth)
        }
        let innerStart = depth
        if R == 1 {
            body(depth)
        } else {
            reduceLoops(from: r0 + 1, depth)
        }
        precondition(depth == innerStart)
        for (j, r) in reds.enumerated() { line("la\(j)[q] = acc\(j);" + (r.op.isArg ? " lg\(j)[q] = arg\(j);" : ""), depth) }
        for _ in 0..<P { depth -= 1; line("}", depth) }
        line("}", 1)
        line("for (int64_t q = 0; q < np; q++) {", 1)
        for (j, r) in reds.enumerated() {
            line("part[q * \(2 * nred) + \(2 * j)].\(accField(r)) = la\(j)[q]; part[q * \(2 * nred) + \(2 * j + 1)].i = \(r.op.isArg ? "lg\(j)[q]" : "0");", 2)
        }
        line("}", 1)
        out += "}\n"
    }

    /// Folds `nparts` partials in order and runs the epilogue.
    private mutating func combine() {
        header(CRenderer.entry + "_combine", ", const tandem_acc *\(dialect.restrict) parts, int64_t nparts")
        var depth = 1
        for a in 0..<P {
            line("for (int64_t i\(a) = 0; i\(a) < I\(a); i\(a)++) {", depth)
            depth += 1
        }
        line("const int64_t q = \(P == 0 ? "0" : flatP()); const int64_t np = \(P == 0 ? "1" : (0..<P).map { "I\($0)" }.joined(separator: " * ")); (void)np;", depth)
        foldPartials(depth)
        epilogue(depth)
        for _ in 0..<P { depth -= 1; line("}", depth) }
        out += "}\n"
    }

    /// Accumulators from their identities, then the `nparts` partials of parallel point `q` folded
    /// in chunk order (both dialects' combine entry points).
    mutating func foldPartials(_ depth: Int) {
        let nred = kernel.reductions.count
        accInit(depth)
        line("for (int64_t c = 0; c < nparts; c++) {", depth)
        for (j, r) in kernel.reductions.enumerated() {
            let slot = "parts[(c * np + q) * \(2 * nred) + \(2 * j)]"
            let idx = "parts[(c * np + q) * \(2 * nred) + \(2 * j + 1)].i"
            line(update(j, r, value: "\(slot).\(accField(r))", index: idx), depth + 1)
        }
        line("}", depth)
    }

    func flatP() -> String {
        var s = "i0"
        for a in 1..<max(P, 1) where a < P { s = "(\(s)) * I\(a) + i\(a)" }
        return s
    }

    mutating func pragma(_ depth: Int, reduction: Bool) {
        guard dialect.vectorisedLoops else { return }
        // With a small constant stride in the innermost loop (`Stride.fixed`), clang's own choice
        // (vector loads and shuffles, when it pays) beats a forced `omp simd`, which gathers and
        // scatters: red-black SOR's colour sweep, float32, 1.86 ms forced, 1.37 ms left to clang.
        if !reduction && kernel.accesses.contains(where: { if case .fixed = $0.strides.last { true } else { false } }) { return }
        if !reduction || kernel.reductions.isEmpty {
            line("#pragma omp simd", depth)
            line("#pragma clang loop interleave_count(\(kernel.variant?.interleave ?? 1))", depth)
            return
        }
        // Max and min vectorise as recurrences clang recognises (see `maximumSource`), without a
        // clause; arg reductions (first extremum and its index) stay scalar.
        // A compiled-in short row of a floating sum or product is added in order (see
        // `Kernel.lanedReduction`): no clause that would let the compiler reassociate it.
        let ordered = kernel.innerExtent != nil
            && kernel.reductions.contains { ($0.op == .sum || $0.op == .prod) && $0.accumulator.isFloatingPoint }
        if kernel.reductions.allSatisfy({ !$0.op.isArg }) && !ordered {
            var clauses: [String] = []
            let sums = kernel.reductions.indices.filter { kernel.reductions[$0].op == .sum }.map { "acc\($0)" }
            let prods = kernel.reductions.indices.filter { kernel.reductions[$0].op == .prod }.map { "acc\($0)" }
            if !sums.isEmpty { clauses.append("reduction(+:\(sums.joined(separator: ",")))") }
            if !prods.isEmpty { clauses.append("reduction(*:\(prods.joined(separator: ",")))") }
            line((["#pragma omp simd"] + clauses).joined(separator: " "), depth)
            // Reduce axes are often short (GMM: 8 features, 16 components); unrolling by 4 on top
            // of the vector width would send all of such a loop down the scalar remainder.
            line("#pragma clang loop interleave_count(1)", depth)
        }
    }

    // MARK: - Body

    /// The loop body; in a laned loop, reductions set their block value or fold into their lane.
    mutating func body(_ depth: Int, lane: Lane? = nil) {
        for (i, instr) in kernel.instrs.enumerated() where !instr.epilogue {
            line("const \(Emitter.ctype(instr.dtype)) v\(i) = \(expression(instr));", depth)
        }
        for s in kernel.stores where !s.epilogue {
            line("b\(s.buffer)[\(index(kernel.accesses[s.access]))] = v\(s.value);", depth)
        }
        for (j, r) in kernel.reductions.enumerated() {
            let v = kernel.instrs[r.value].dtype == .float32 ? "(double)v\(r.value)" : "v\(r.value)"
            switch lane {
            case nil: line(update(j, r, value: v, index: "i\(kernel.rank - 1)"), depth)
            case .tail: line(update(j, r, value: v, index: "i\(kernel.rank - 1)", into: "l\(j)_[l_]"), depth)
            case .block, .paddedTail:
                let type = blockType(r)
                let value = type == "uint64_t" ? "(uint64_t)(\(v))" : type == "float" ? "v\(r.value)" : v
                guard lane == .paddedTail else { line("t\(j)_[l_] = \(value);", depth); break }
                let id = type == "double" ? identity(r).0 : "(\(type))\(identity(r).0)"
                line("t\(j)_[l_] = l_ < t_ ? \(value) : \(id);", depth)
            case .column: line(update(j, r, value: v, index: "0", into: "A\(j)_[l_][c_]"), depth)
            case .values: break     // the caller stores them (`openCLStep`)
            }
        }
    }

    mutating func epilogue(_ depth: Int) {
        for (i, instr) in kernel.instrs.enumerated() where instr.epilogue {
            line("const \(Emitter.ctype(instr.dtype)) v\(i) = \(expression(instr));", depth)
        }
        for s in kernel.stores where s.epilogue {
            line("b\(s.buffer)[\(index(kernel.accesses[s.access]))] = v\(s.value);", depth)
        }
    }

    func index(_ a: Access) -> String {
        var terms = ["I\(a.offset)"]
        for (k, s) in a.strides.enumerated() {
            switch s {
            case .zero: continue
            case .one: terms.append("i\(k)")
            case .param(let p): terms.append("i\(k) * I\(p)")
            case .fixed(let s): terms.append("i\(k) * \(s)")
            }
        }
        return terms.joined(separator: " + ")
    }

    // MARK: - Expressions

    /// A memory read under `readMask` (zero where the mask is false), or as it is.
    func masked(_ read: String, _ t: DType) -> String {
        guard let m = readMask else { return read }
        return "(\(m) ? \(read) : (\(Emitter.ctype(t)))0)"
    }

    func expression(_ instr: Instr) -> String {
        let t = instr.dtype
        let f32 = t == .float32
        func v(_ i: Int) -> String { "v\(i)" }
        func fn(_ name: String) -> String { f32 ? name + "f" : name }
        switch instr.op {
        case .load(let b, let a): return masked("b\(b)[\(index(kernel.accesses[a]))]", t)
        case .gather(let b, let a, let i, let stride, let extent):
            return masked("b\(b)[\(index(kernel.accesses[a])) + I\(stride) * tk_clamp_index((int64_t)\(v(i)), I\(extent))]", t)
        case .uniform(let a, let seed, let lo, let hi):
            return "(\(Emitter.ctype(t)))(F\(lo) + (F\(hi) - F\(lo)) * tk_uniform((uint64_t)I\(seed), \(index(kernel.accesses[a]))))"
        case .iota(let a, let start, let step):
            if t.isFloatingPoint { return "(\(Emitter.ctype(t)))(F\(start) + F\(step) * (double)(\(index(kernel.accesses[a]))))" }
            return "(\(Emitter.ctype(t)))(I\(start) + I\(step) * (\(index(kernel.accesses[a]))))"
        case .param(let p):
            return t.isFloatingPoint ? "(\(Emitter.ctype(t)))F\(p)" : "(\(Emitter.ctype(t)))I\(p)"
        case .literal(let l):
            switch l {
            case .float(let d): return f32 ? "(float)\(HexFloat.c(d))" : HexFloat.c(d)
            case .int(let i): return "(\(Emitter.ctype(t)))\(i)\(dialect.longSuffix)"
            case .bool(let b): return b ? "1" : "0"
            }
        case .accumulated(let j):
            let r = kernel.reductions[j]
            return r.op.isArg ? "arg\(j)" : "(\(Emitter.ctype(t)))acc\(j)"
        case .cast(let a):
            let from = kernel.instrs[a].dtype
            return Emitter.cast(v(a), from: from, to: t)
        case .select(let c, let a, let b): return "(\(v(c)) ? \(v(a)) : \(v(b)))"
        case .unary(let op, let a):
            let x = v(a)
            if t == .bool { return "(uint8_t)(\(x) ^ 1)" }  // not
            if t.isInteger {
                let u = t.bits <= 32 ? "uint32_t" : "uint64_t"
                switch op {
                case .neg: return "(\(Emitter.ctype(t)))(0u - (\(u))\(x))"
                case .abs where t.isUnsigned: return x
                case .abs: return "(\(x) < 0 ? (\(Emitter.ctype(t)))(0u - (\(u))\(x)) : \(x))"
                case .bitNot: return "(\(Emitter.ctype(t)))(~\(x))"
                default: preconditionFailure("\(op) is not defined for integers")
                }
            }
            switch op {
            case .neg: return "(-\(x))"
            case .abs: return "\(fn("fabs"))(\(x))"
            case .not, .bitNot: preconditionFailure("\(op) is not defined for floats")
            case .erf, .erfc:
                // Tandem's own branch-free erf/erfc (vectorisable), in the element's precision.
                return f32 ? "tk_\(op.rawValue)f(\(x))" : "tk_\(op.rawValue)(\(x))"
            case .exp: return "\(Emitter.exp(float: f32, dialect))(\(x))"
            default: return "\(fn(op.rawValue))(\(x))"
            }
        case .binary(let op, let a, let b):
            let x = v(a), y = v(b)
            let operand = kernel.instrs[a].dtype
            switch op {
            case .eq: return "(uint8_t)(\(x) == \(y))"
            case .ne: return "(uint8_t)(\(x) != \(y))"
            case .lt: return "(uint8_t)(\(x) < \(y))"
            case .le: return "(uint8_t)(\(x) <= \(y))"
            case .gt: return "(uint8_t)(\(x) > \(y))"
            case .ge: return "(uint8_t)(\(x) >= \(y))"
            case .and: return "(uint8_t)(\(x) & \(y))"
            case .or: return "(uint8_t)(\(x) | \(y))"
            default: break
            }
            if operand.isInteger {
                // Arithmetic in an unsigned type at least as wide as int (wraps, never
                // overflows a promoted int), then back to the operand type.
                let u = operand.bits <= 32 ? "uint32_t" : "uint64_t"
                let ct = Emitter.ctype(operand)
                if operand == .int32 || operand == .int64 || operand == .uint64 {
                    let s = operand.shortName
                    switch op {
                    case .div: return "tk_div_\(s)(\(x), \(y))"
                    case .rem: return "tk_rem_\(s)(\(x), \(y))"
                    case .pow: return "tk_pow_\(s)(\(x), \(y))"
                    case .shiftLeft: return "tk_shl_\(s)(\(x), \(y))"
                    case .shiftRight: return "tk_shr_\(s)(\(x), \(y))"
                    default: break
                    }
                }
                // The other widths go through the 64-bit helpers: their values (unsigned ones
                // included) are exact as int64, and the result wraps back to the width.
                switch op {
                case .add: return "(\(ct))((\(u))\(x) + (\(u))\(y))"
                case .sub: return "(\(ct))((\(u))\(x) - (\(u))\(y))"
                case .mul: return "(\(ct))((\(u))\(x) * (\(u))\(y))"
                case .div: return "(\(ct))tk_div_i64(\(x), \(y))"
                case .rem: return "(\(ct))tk_rem_i64(\(x), \(y))"
                case .pow: return "(\(ct))tk_pow_i64(\(x), \(y))"
                case .min: return "(\(x) < \(y) ? \(x) : \(y))"
                case .max: return "(\(x) > \(y) ? \(x) : \(y))"
                case .bitAnd: return "(\(ct))(\(x) & \(y))"
                case .bitOr: return "(\(ct))(\(x) | \(y))"
                case .bitXor: return "(\(ct))(\(x) ^ \(y))"
                case .shiftLeft: return "(\(ct))tk_shl_w(\(x), \(y), \(operand.bits))"
                case .shiftRight: return "(\(ct))tk_shr_w(\(x), \(y), \(operand.bits))"
                default: preconditionFailure("unreachable")
                }
            }
            switch op {
            case .add: return "(\(x) + \(y))"
            case .sub: return "(\(x) - \(y))"
            case .mul: return "(\(x) * \(y))"
            case .div: return "(\(x) / \(y))"
            case .rem: return "tk_fmod\(f32 ? "f" : "")(\(x), \(y))"
            case .pow: return "\(fn("pow"))(\(x), \(y))"
            case .min: return "tk_min_\(f32 ? "f32" : "f64")(\(x), \(y))"
            case .max: return "tk_max_\(f32 ? "f32" : "f64")(\(x), \(y))"
            case .atan2: return "\(fn(op.rawValue))(\(x), \(y))"
            case .hypot: return "tk_hypot\(f32 ? "f" : "")(\(x), \(y))"
            default: preconditionFailure("unreachable")
            }
        }
    }

    static func cast(_ x: String, from: DType, to: DType) -> String {
        if from == to { return x }
        switch to {
        case .bool: return "(uint8_t)(\(x) != 0)"
        case .int32: return from.isFloatingPoint ? "tk_f2i32((double)\(x))" : "(int32_t)\(x)"
        case .int64: return from.isFloatingPoint ? "tk_f2i64((double)\(x))" : "(int64_t)\(x)"
        case .uint64: return from.isFloatingPoint ? "tk_f2u64((double)\(x))" : "(uint64_t)\(x)"
        case .int8, .int16, .uint8, .uint16, .uint32:
            let ct = ctype(to), (lo, hi) = to.integerRange
            return from.isFloatingPoint ? "(\(ct))tk_f2iw((double)\(x), \(lo), \(hi))" : "(\(ct))\(x)"
        case .float32: return "(float)\(x)"
        case .float64: return "(double)\(x)"
        }
    }

    static func ctype(_ t: DType) -> String {
        switch t {
        case .bool: "uint8_t"
        case .int8: "int8_t"
        case .int16: "int16_t"
        case .int32: "int32_t"
        case .int64: "int64_t"
        case .uint8: "uint8_t"
        case .uint16: "uint16_t"
        case .uint32: "uint32_t"
        case .uint64: "uint64_t"
        case .float32: "float"
        case .float64: "double"
        }
    }
}
