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

    public static func render(_ k: Kernel, dialect: Dialect = .c) -> String {
        var e = Emitter(kernel: k, dialect: dialect)
        return e.source()
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

    init(kernel: Kernel, dialect: Dialect) {
        self.kernel = kernel
        self.dialect = dialect
    }

    var P: Int { kernel.parallelAxes }
    var R: Int { kernel.reduceAxes }

    mutating func source() -> String {
        out = Emitter.preamble(dialect)
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

    /// Columns reduced together (see `columnBlocked`), for one reduction (fewer for more, so
    /// that their lanes stay in the level-1 cache: 8 KB each). Measured on a 2000² `v @ a`, one
    /// thread: 64 columns 1.68 ms, 128 1.59, 256 1.68; keeping the lanes of 4-16 columns in
    /// registers instead 2.0-3.8 (a new row, page and cache line every few elements).
    static let columnBlock = 128

    /// Whether a reduction over the last axis reads memory down columns: its one reduce axis
    /// is strided (a row's length apart: `x.sum(axis: 0)`, `v @ a`) where the innermost parallel
    /// axis is contiguous, and nothing is contiguous along the reduce axis but values that are
    /// the same for every column (the vector of `v @ a`). Each output's loop then touches a new
    /// cache line at every element (a 2000² `v @ a`: 7-11 ms, NumPy's 0.5). Blocked, the
    /// reduce loop runs outside a vectorised loop over `columnBlock` neighbouring outputs, each
    /// with its lanes in a local array, reading along rows.
    ///
    /// The order of every output's sum is unchanged: element `i` still goes into lane
    /// `(i - start) % 8`, each lane in order, combined by the same tree (`Kernel.lanedReduction`;
    /// one lane in order for the reductions that are not laned), so the bits are the
    /// interpreter's and the unblocked code's. Not for arg reductions, stores on the way, a
    /// compiled-in short row, or vector math (whose scalar remainder would depend on where a
    /// worker's range starts).
    var columnBlocked: Bool {
        guard dialect.vectorisedLoops, P >= 1, R == 1, kernel.innerExtent == nil, !kernel.reductions.isEmpty,
              kernel.reductions.count <= 4, kernel.reductions.allSatisfy({ !$0.op.isArg }),
              !kernel.stores.contains(where: { !$0.epilogue }), !kernel.usesVectorMath,
              !kernel.readsDataDependentPositions else { return false }
        let (c, r) = (P - 1, P)
        var strided = false
        for a in kernel.accesses {
            switch a.strides[r] {
            case .zero: continue
            case .one: if a.strides[c] != .zero { return false }
            case .param, .fixed:
                guard a.strides[c] == .one else { return false }
                strided = true
            }
        }
        return strided
    }

    /// The body of `rows` for a column-blocked reduction (see `columnBlocked`).
    private mutating func blockedColumns() {
        let (c, r) = (P - 1, P)
        let lanes = kernel.lanedReduction ? Kernel.reductionLanes : 1
        let cb = Swift.max(32, Emitter.columnBlock / kernel.reductions.count)
        var depth = 1
        for a in 0..<c {
            line("for (int64_t i\(a) = \(a == 0 ? "lo" : "0"); i\(a) < \(a == 0 ? "hi" : "I\(a)"); i\(a)++) {", depth)
            depth += 1
        }
        let (from, to) = c == 0 ? ("lo", "hi") : ("0", "I\(c)")
        line("for (int64_t c0_ = \(from); c0_ < \(to); c0_ += \(cb)) {", depth)
        let d = depth + 1
        line("const int64_t cn_ = \(to) - c0_ < \(cb) ? \(to) - c0_ : \(cb);", d)
        for (j, red) in kernel.reductions.enumerated() {
            line("\(accType(red)) A\(j)_[\(lanes)][\(cb)];", d)
            line("for (int l_ = 0; l_ < \(lanes); l_++) { for (int64_t c_ = 0; c_ < \(cb); c_++) { A\(j)_[l_][c_] = \(identity(red).0); } }", d)
        }
        // Rows in groups of one per lane, each lane's body written out (its lane a constant, so
        // the lane's slice of the array is addressed directly), then the rows left one by one.
        line("int64_t r0_ = 0;", d)
        line("for (; r0_ + \(lanes) <= I\(r); r0_ += \(lanes)) {", d)
        pragma(d + 1, reduction: false)
        line("for (int64_t c_ = 0; c_ < cn_; c_++) {", d + 1)
        line("const int64_t i\(c) = c0_ + c_;", d + 2)
        for l in 0..<lanes {
            line("{", d + 2)
            line("const int64_t i\(r) = r0_ + \(l); const int64_t l_ = \(l); (void)l_;", d + 3)
            body(d + 3, lane: .column)
            line("}", d + 2)
        }
        line("}", d + 1)
        line("}", d)
        line("for (; r0_ < I\(r); r0_++) {", d)
        line("const int64_t i\(r) = r0_; const int64_t l_ = r0_ & \(lanes - 1); (void)l_;", d + 1)
        pragma(d + 1, reduction: false)
        line("for (int64_t c_ = 0; c_ < cn_; c_++) {", d + 1)
        line("const int64_t i\(c) = c0_ + c_;", d + 2)
        body(d + 2, lane: .column)
        line("}", d + 1)
        line("}", d)
        line("for (int64_t c_ = 0; c_ < cn_; c_++) {", d)
        line("const int64_t i\(c) = c0_ + c_;", d + 1)
        accInit(d + 1)
        for (j, red) in kernel.reductions.enumerated() {
            line("\(accType(red)) l\(j)_[\(lanes)]; for (int l_ = 0; l_ < \(lanes); l_++) { l\(j)_[l_] = A\(j)_[l_][c_]; }", d + 1)
            line(update(j, red, value: laneTree(j, red, 0..<lanes), index: "0"), d + 1)
        }
        epilogue(d + 1)
        line("}", d)
        line("}", depth)
        for _ in 0..<c { depth -= 1; line("}", depth) }
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
            line("#pragma clang loop interleave_count(1)", depth)
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

    /// The loops over reduce axes `first ..< rank - 1` (each from 0) around the innermost reduce
    /// loop over the whole last axis, with the body, from `depth`.
    mutating func reduceLoops(from first: Int, _ depth: Int) {
        let last = kernel.rank - 1
        for a in first..<last { line("for (int64_t i\(a) = 0; i\(a) < I\(a); i\(a)++) {", depth + a - first) }
        innermostReduce(last, from: "0", to: "I\(last)", depth + last - first)
        for a in (first..<last).reversed() { line("}", depth + a - first) }
    }

    /// The innermost loop, a reduce loop over `start ..< end` of axis `a`, with the body. A laned
    /// reduction (`Kernel.lanedReduction`) runs in blocks of 32, then of 8: each block's values
    /// are computed by an `omp simd` loop like any elementwise one and added, eight at a time, to
    /// a vector of eight lane accumulators; a tail shorter than eight continues the lanes one
    /// element at a time, and the lanes are combined in a fixed tree and folded into the
    /// accumulators after the loop. Nothing is left to the compiler's
    /// reassociation, so the sum is the interpreter's to the bit, on any number of workers.
    ///
    /// The block's values go to a plain array, copied into a vector after the loop: with a
    /// vector-typed block, clang keeps the vector in a register across iterations and gives up
    /// on large bodies ("loop control flow is not understood"; Black-Scholes ran scalar, 2.5x
    /// slower). Measured on SOR's sweep-and-residual kernel (`bench/micro/laned_sum.c`, 1022^2,
    /// ns a point, `omp simd reduction` against this form): float 0.52-0.60 against 0.37-0.50,
    /// double 0.69-0.72 against 0.70-0.74; on a Black-Scholes-like body
    /// (`bench/micro/bs_lanes.c`) 2.6-3.0 against 2.7-2.9. Accumulating into a lane array
    /// inside the block loop was 0.86-0.92 in float: clang unrolls the block and vectorises it
    /// piecemeal.
    mutating func innermostReduce(_ a: Int, from start: String, to end: String, _ depth: Int) {
        guard kernel.lanedReduction, dialect.vectorisedLoops else {
            pragma(depth, reduction: true)
            line("for (int64_t i\(a) = \(start); i\(a) < \(end); i\(a)++) {", depth)
            body(depth + 1)
            line("}", depth)
            return
        }
        let L = Kernel.reductionLanes
        let reds = kernel.reductions
        func vectorType(_ r: Reduction) -> String { accType(r) == "double" ? "tk_lanes_f64" : "tk_lanes_u64" }
        line("{", depth)
        let d = depth + 1
        for (j, r) in reds.enumerated() {
            let id = identity(r).0
            line("\(vectorType(r)) L\(j)_ = {" + Array(repeating: accType(r) == "double" ? id : "(uint64_t)\(id)", count: L).joined(separator: ", ") + "};", d)
        }
        // A large body goes in blocks of L alone (see `largeLanedBody`).
        let W = kernel.instrs.count(where: { !$0.epilogue }) > Emitter.largeLanedBody ? L : Emitter.laneBlock
        let wide = W == L ? "" : " w_ = s_ + ((e_ - s_) & ~(int64_t)\(W - 1)),"
        line("const int64_t s_ = \(start), e_ = \(end),\(wide) m_ = s_ + ((e_ - s_) & ~(int64_t)\(L - 1));", d)
        // Blocks of W, then of L (rows shorter than W: GMM's 16 components), then the tail. Every
        // block starts a multiple of L after s_, so element i always goes to lane (i - s_) % L.
        for (width, from, to) in W == L ? [(L, "s_", "m_")] : [(W, "s_", "w_"), (L, "w_", "m_")] {
            line("for (int64_t b_ = \(from); b_ < \(to); b_ += \(width)) {", d)
            for (j, r) in reds.enumerated() { line("\(accType(r) == "double" ? "double" : "uint64_t") t\(j)_[\(width)];", d + 1) }
            line("#pragma omp simd", d + 1)
            line("for (int64_t l_ = 0; l_ < \(width); l_++) {", d + 1)
            line("const int64_t i\(a) = b_ + l_;", d + 2)
            body(d + 2, lane: .block)
            line("}", d + 1)
            for (j, r) in reds.enumerated() {
                let isFloat = accType(r) == "double"
                let add = "for (int q_ = 0; q_ < \(width); q_ += \(L)) { \(vectorType(r)) v_; __builtin_memcpy(&v_, t\(j)_ + q_, sizeof v_); "
                switch r.op {
                case .sum: line(add + "L\(j)_ = L\(j)_ + v_; }", d + 1)
                case .prod: line(add + "L\(j)_ = L\(j)_ * v_; }", d + 1)
                case .max, .min:
                    let step = isFloat ? "\(r.op == .max ? "tk_fmaximum" : "tk_fminimum")(L\(j)_[l_], t\(j)_[q_ + l_])"
                        : "((int64_t)t\(j)_[q_ + l_] \(r.op == .max ? ">" : "<") (int64_t)L\(j)_[l_] ? t\(j)_[q_ + l_] : L\(j)_[l_])"
                    line("for (int q_ = 0; q_ < \(width); q_ += \(L)) { for (int l_ = 0; l_ < \(L); l_++) { L\(j)_[l_] = \(step); } }", d + 1)
                case .argmax, .argmin: preconditionFailure("arg reductions are never laned")
                }
            }
            line("}", d)
        }
        for (j, r) in reds.enumerated() {
            line("\(accType(r)) l\(j)_[\(L)]; for (int l_ = 0; l_ < \(L); l_++) { l\(j)_[l_] = (\(accType(r)))L\(j)_[l_]; }", d)
        }
        line("for (int64_t i\(a) = m_; i\(a) < e_; i\(a)++) {", d)
        line("const int64_t l_ = (i\(a) - m_) & \(L - 1);", d + 1)
        body(d + 1, lane: .tail)
        line("}", d)
        for (j, r) in reds.enumerated() {
            line(update(j, r, value: laneTree(j, r, 0..<L), index: "0"), d)
        }
        line("}", depth)
    }

    /// Elements a laned loop computes in one `omp simd` block before adding them to the lanes,
    /// eight at a time: a block of 8 is fully unrolled by clang before vectorisation and then
    /// vectorised piecemeal (SOR's float kernel, `bench/micro/laned_sum.c` harness: 4.8 ns a
    /// point against 3.2 with blocks of 32 and 3.6 with `omp simd reduction`). What is left of a
    /// row after the blocks of 32 runs in blocks of 8, so short rows (GMM's 16 components) still
    /// vectorise.
    static let laneBlock = 32

    /// Instructions in a laned body beyond which its blocks are of eight elements only: the body
    /// is written once per block width and once for the tail, and clang's time grows with it
    /// (FIR's 101-tap sum, ~400 instructions: 0.38 s to compile, 0.25 s without the blocks of
    /// 32), while a body this large vectorises as well in blocks of eight (clang does not unroll
    /// it whole, which is what made small bodies slow in them).
    static let largeLanedBody = 96

    /// Where a laned body's reductions go: the block's vector of values, the lanes (tail), or
    /// a column's lane (`blockedColumns`).
    enum Lane { case block, tail, column }

    /// Lanes `range` of reduction j combined pairwise: `((l0 ⊕ l1) ⊕ (l2 ⊕ l3)) ⊕ ...`.
    func laneTree(_ j: Int, _ r: Reduction, _ range: Range<Int>) -> String {
        if range.count == 1 { return "l\(j)_[\(range.lowerBound)]" }
        let mid = range.lowerBound + range.count / 2
        let (x, y) = (laneTree(j, r, range.lowerBound..<mid), laneTree(j, r, mid..<range.upperBound))
        let isFloat = accType(r) == "double"
        switch r.op {
        case .sum: return isFloat ? "(\(x) + \(y))" : "(int64_t)((uint64_t)\(x) + (uint64_t)\(y))"
        case .prod: return isFloat ? "(\(x) * \(y))" : "(int64_t)((uint64_t)\(x) * (uint64_t)\(y))"
        case .max: return isFloat ? "tk_fmaximum(\(x), \(y))" : "(\(x) > \(y) ? \(x) : \(y))"
        case .min: return isFloat ? "tk_fminimum(\(x), \(y))" : "(\(x) < \(y) ? \(x) : \(y))"
        case .argmax, .argmin: preconditionFailure("arg reductions are never laned")
        }
    }

    // MARK: - Accumulators

    func accType(_ r: Reduction) -> String {
        if r.op.isArg { return kernel.instrs[r.value].dtype.isFloatingPoint ? "double" : "int64_t" }
        return r.accumulator == .float64 ? "double" : "int64_t"
    }

    func accField(_ r: Reduction) -> String { accType(r) == "double" ? "d" : "i" }

    func identity(_ r: Reduction) -> (String, String) {
        let isFloat = accType(r) == "double"
        switch r.op {
        case .sum: return (isFloat ? "0.0" : "0", "0")
        case .prod: return (isFloat ? "1.0" : "1", "0")
        case .max, .argmax: return (isFloat ? "(-INFINITY)" : "INT64_MIN", "0")
        case .min, .argmin: return (isFloat ? "INFINITY" : "INT64_MAX", "0")
        }
    }

    mutating func accInit(_ depth: Int) {
        for (j, r) in kernel.reductions.enumerated() {
            let (v, i) = identity(r)
            line("\(accType(r)) acc\(j) = \(v); int64_t arg\(j) = \(i); (void)arg\(j);", depth)
        }
    }

    mutating func accSave(_ j: Int, _ slot: String, _ argSlot: String, _ depth: Int) {
        let r = kernel.reductions[j]
        line("\(slot).\(accField(r)) = acc\(j); \(argSlot).i = arg\(j);", depth)
    }

    /// `acc ⊕= value`; NaN propagates through max and min, and arg reductions keep the first extremum.
    func update(_ j: Int, _ r: Reduction, value v: String, index: String, into target: String? = nil) -> String {
        let isFloat = accType(r) == "double"
        let a = target ?? "acc\(j)"
        switch r.op {
        case .sum:
            return isFloat ? "\(a) += \(v);" : "\(a) = (int64_t)((uint64_t)\(a) + (uint64_t)(\(v)));"
        case .prod:
            return isFloat ? "\(a) *= \(v);" : "\(a) = (int64_t)((uint64_t)\(a) * (uint64_t)(\(v)));"
        case .max, .min:
            let cmp = r.op == .max ? ">" : "<"
            if isFloat && dialect.vectorisedLoops { return "\(a) = \(r.op == .max ? "tk_fmaximum" : "tk_fminimum")(\(a), \(v));" }
            return isFloat
                ? "{ const double t_ = \(v); \(a) = (\(a) != \(a)) ? \(a) : ((t_ != t_ || t_ \(cmp) \(a)) ? t_ : \(a)); }"
                : "{ const int64_t t_ = \(v); \(a) = t_ \(cmp) \(a) ? t_ : \(a); }"
        case .argmax, .argmin:
            let cmp = r.op == .argmax ? ">" : "<"
            let nanRule = isFloat ? " || (t_ != t_ && \(a) == \(a))" : ""
            return "{ const \(accType(r)) t_ = \(v); if (t_ \(cmp) \(a)\(nanRule)) { \(a) = t_; arg\(j) = \(index); } }"
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
            case .block: line("t\(j)_[l_] = \(accType(r) == "double" ? v : "(uint64_t)(\(v))");", depth)
            case .column: line(update(j, r, value: v, index: "0", into: "A\(j)_[l_][c_]"), depth)
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

    func expression(_ instr: Instr) -> String {
        let t = instr.dtype
        let f32 = t == .float32
        func v(_ i: Int) -> String { "v\(i)" }
        func fn(_ name: String) -> String { f32 ? name + "f" : name }
        switch instr.op {
        case .load(let b, let a): return "b\(b)[\(index(kernel.accesses[a]))]"
        case .gather(let b, let a, let i, let stride, let extent):
            return "b\(b)[\(index(kernel.accesses[a])) + I\(stride) * tk_clamp_index((int64_t)\(v(i)), I\(extent))]"
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
                if operand == .int32 || operand == .int64 {
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
            case .rem: return "\(fn("fmod"))(\(x), \(y))"
            case .pow: return "\(fn("pow"))(\(x), \(y))"
            case .min: return "tk_min_\(f32 ? "f32" : "f64")(\(x), \(y))"
            case .max: return "tk_max_\(f32 ? "f32" : "f64")(\(x), \(y))"
            case .atan2, .hypot: return "\(fn(op.rawValue))(\(x), \(y))"
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
        case .float32: "float"
        case .float64: "double"
        }
    }

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
        let binary = BinaryOp.allCases.filter { [.pow, .atan2, .hypot].contains($0) }.map(\.rawValue) + ["fmod"]
        for name in binary { text += "double \(name)(double, double); float \(name)f(float, float);\n" }
        text += "double fma(double, double, double); float fmaf(float, float, float);\n"
        return text
    }()

    /// The vectors of eight lane accumulators of laned reductions (GCC and clang vector extension).
    static let lanesTypes = """
    typedef double tk_lanes_f64 __attribute__((vector_size(64)));
    typedef uint64_t tk_lanes_u64 __attribute__((vector_size(64)));
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
    private static let cPreamble = makePreamble(.c)
    private static let cudaPreamble = makePreamble(.cuda)
    private static let openCLPreamble = makePreamble(.opencl)

    private static func makePreamble(_ dialect: Dialect) -> String {
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
    \(fn) int64_t tk_shl_w(int64_t a, int64_t b, int64_t w) { return (b < 0 || b >= w) ? 0 : (int64_t)((uint64_t)a << b); }
    \(fn) int64_t tk_shr_w(int64_t a, int64_t b, int64_t w) { return (b < 0 || b >= w) ? (a < 0 ? -1 : 0) : a >> b; }
    \(fn) int64_t tk_clamp_index(int64_t i, int64_t n) { i = i < 0 ? i + n : i; return i < 0 ? 0 : (i >= n ? n - 1 : i); }
    \(fn) float tk_max_f32(float a, float b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
    \(fn) float tk_min_f32(float a, float b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
    \(fn) double tk_max_f64(double a, double b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
    \(fn) double tk_min_f64(double a, double b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
    \(fn) int32_t tk_f2i32(double x) { return x != x ? 0 : (x >= 2147483647.0 ? INT32_MAX : (x <= -2147483648.0 ? INT32_MIN : (int32_t)x)); }
    \(fn) int64_t tk_f2iw(double x, int64_t lo, int64_t hi) { return x != x ? 0 : (x >= (double)hi ? hi : (x <= (double)lo ? lo : (int64_t)x)); }
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
    """
    }
}
