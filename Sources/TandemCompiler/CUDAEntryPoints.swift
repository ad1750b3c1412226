import TandemIR

/// The CUDA dialect's entry points. Expressions, instructions, accumulators, constants, erf/erfc
/// and `tk_uniform` come from the shared emitter (`CRenderer.swift`); only the functions around
/// them differ from C:
///
/// - `tandem_kernel(tk_args a)`: a grid-stride loop over the flattened parallel points (the last
///   parallel axis varies fastest between neighbouring threads, so unit-stride accesses coalesce);
///   reduce axes are sequential loops inside one thread, as on the CPU. Used for every kernel
///   without reductions, and for reductions with enough parallel points to fill the GPU.
/// - `tandem_kernel_split(tk_args a, tandem_acc *part, int64_t nparts)`: block `(c, q)` reduces
///   chunk `c` of the flattened reduce axes for parallel point `q` with `TK_THREADS` threads, then
///   folds the threads' accumulators with warp shuffles and one shared-memory step in a fixed
///   pattern; the partial lands in `part[(c * np + q) * 2R + 2j]`, the CPU's layout.
/// - `tandem_kernel_combine(tk_args a, const tandem_acc *parts, int64_t nparts)`: the CPU's
///   in-order fold of the partials and the epilogue, one thread per parallel point.
///
/// Results are deterministic for a given size: the block shape is fixed (`cudaThreads`) and the
/// caller chooses `nparts` from the sizes alone.
///
/// Arguments: buffers, int parameters and float parameters travel **by value** in one struct,
/// `tk_args { void *B[nB]; int64_t I[nI]; double F[nF]; }` (8-byte fields, no padding, so the
/// host passes one array of 64-bit words). Kernel parameters live in the constant bank: no copy
/// of a parameter array per launch, and the loads of `a.I[k]` are uniform. The trade-off is
/// the 4 KiB kernel-parameter limit (about 500 words; `cudaArgumentWords` says how many a kernel
/// needs), checked when the kernel is prepared.
extension Emitter {
    /// Threads per block of every CUDA entry point (also in the source as `TK_THREADS`).
    static let cudaThreads = 256

    static let cudaHeaders = """
    // NVRTC compiles without standard headers: the types and limits used below are declared here.
    typedef signed char int8_t;
    typedef unsigned char uint8_t;
    typedef short int16_t;
    typedef unsigned short uint16_t;
    typedef int int32_t;
    typedef unsigned int uint32_t;
    typedef long long int64_t;
    typedef unsigned long long uint64_t;
    #define INT32_MAX 2147483647
    #define INT32_MIN (-2147483647 - 1)
    #define INT64_MAX 9223372036854775807LL
    #define INT64_MIN (-9223372036854775807LL - 1LL)
    #define INFINITY __int_as_float(0x7f800000)
    #define NAN __int_as_float(0x7fc00000)
    #define TK_THREADS \(cudaThreads)
    """

    mutating func cudaEntryPoints() {
        let nb = max(1, kernel.buffers.count), ni = max(1, kernel.intParams), nf = max(1, kernel.floatParams)
        out += "\ntypedef struct { void *B[\(nb)]; int64_t I[\(ni)]; double F[\(nf)]; } tk_args;\n"
        cudaRows()
        if kernel.hasReductions && kernel.reduceAxes > 0 {
            cudaSplit()
            cudaCombine()
        }
    }

    /// Parameters into locals (uniform loads from the constant bank), buffers into typed pointers.
    private mutating func cudaHeader(_ name: String, _ extra: String) {
        out += "\nextern \"C\" __global__ void __launch_bounds__(TK_THREADS) \(name)(const tk_args a\(extra)) {\n"
        for p in 0..<kernel.intParams { line("const int64_t I\(p) = a.I[\(p)];", 1) }
        for p in 0..<kernel.floatParams { line("const double F\(p) = a.F[\(p)];", 1) }
        for (b, param) in kernel.buffers.enumerated() {
            let t = Emitter.ctype(param.dtype)
            let c = param.isWritten ? "" : "const "
            line("\(c)\(t) *__restrict__ b\(b) = (\(c)\(t) *)a.B[\(b)];", 1)
        }
    }

    /// `np`, the number of parallel points.
    var parallelCount: String { P == 0 ? "1" : (0..<P).map { "I\($0)" }.joined(separator: " * ") }

    /// Declares the reduce axes' indices `iP..i(rank-1)` from the flat reduce index `t_`
    /// (row-major: the last axis fastest), in both accelerator dialects' split entry points.
    mutating func reduceDecompose(_ depth: Int) {
        let r0 = P
        if R == 1 {
            line("const int64_t i\(r0) = t_;", depth)
            return
        }
        line("int64_t r_ = t_;", depth)
        for a in stride(from: kernel.rank - 1, through: r0 + 1, by: -1) {
            line("const int64_t i\(a) = r_ % I\(a); r_ /= I\(a);", depth)
        }
        line("const int64_t i\(r0) = r_;", depth)
    }

    /// Declares `i0..i(P-1)` from the flat parallel index `q` (row-major: the last axis fastest),
    /// in both accelerator dialects.
    /// `axes` (default all `P`) are the leading parallel axes `q` counts over.
    mutating func parallelDecompose(_ depth: Int, axes: Int? = nil) {
        let P = axes ?? self.P
        if P == 0 { return }
        if P == 1 {
            line("const int64_t i0 = q;", depth)
            return
        }
        line("int64_t r_ = q;", depth)
        for a in stride(from: P - 1, through: 1, by: -1) {
            line("const int64_t i\(a) = r_ % I\(a); r_ /= I\(a);", depth)
        }
        line("const int64_t i0 = r_;", depth)
    }

    mutating func gridStride(over count: String, _ depth: Int) {
        line("for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < \(count); q += (int64_t)blockDim.x * gridDim.x) {", depth)
    }

    /// One thread per parallel point; reduce axes are loops inside the thread.
    private mutating func cudaRows() {
        cudaHeader(CRenderer.entry, "")
        line("const int64_t np = \(parallelCount);", 1)
        gridStride(over: "np", 1)
        pointBody(2)
        line("}", 1)
        out += "}\n"
    }

    /// One parallel point's work, from its flat index `q`, in both accelerator dialects' rows
    /// entry points: its indices, the accumulators, the reduce axes as loops, the body, the
    /// epilogue.
    mutating func pointBody(_ depth: Int) {
        parallelDecompose(depth)
        accInit(depth)
        var depth = depth
        for a in P..<kernel.rank {
            line("for (int64_t i\(a) = 0; i\(a) < I\(a); i\(a)++) {", depth)
            depth += 1
        }
        body(depth)
        for _ in P..<kernel.rank { depth -= 1; line("}", depth) }
        epilogue(depth)
    }

    /// Block `(c, q)`: chunk `c` of the flattened reduce axes for parallel point `q`, reduced over
    /// the block in a fixed pattern (deterministic for a given `nparts`). Chunks are contiguous
    /// and in index order, so the in-order fold of `combine` keeps the first extremum.
    private mutating func cudaSplit() {
        cudaHeader(CRenderer.entry + "_split", ", tandem_acc *__restrict__ part, const int64_t nparts")
        let nred = kernel.reductions.count
        line("const int64_t np = \(parallelCount);", 1)
        line("const int64_t nr = \((P..<kernel.rank).map { "I\($0)" }.joined(separator: " * "));", 1)
        line("const int64_t c = blockIdx.x;", 1)
        line("const int64_t lo = nr * c / nparts, hi = nr * (c + 1) / nparts;", 1)
        line("const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;", 1)
        line("__shared__ tandem_acc sh_[(TK_THREADS / 32) * \(2 * nred)];", 1)
        // Every thread of a block has the same q, so the loop is uniform and all lanes shuffle.
        line("for (int64_t q = blockIdx.y; q < np; q += gridDim.y) {", 1)
        var depth = 2
        parallelDecompose(depth)
        accInit(depth)
        // The reduce axes flattened, the last fastest: neighbouring threads read neighbouring
        // elements of a row-major array (coalesced), whatever the number of reduce axes.
        line("for (int64_t t_ = lo + threadIdx.x; t_ < hi; t_ += TK_THREADS) {", depth)
        depth += 1
        reduceDecompose(depth)
        body(depth)
        depth -= 1
        line("}", depth)
        shuffleTree(depth)
        line("if (lane == 0) {", depth)
        for (j, r) in kernel.reductions.enumerated() {
            line("sh_[warp * \(2 * nred) + \(2 * j)].\(accField(r)) = acc\(j); sh_[warp * \(2 * nred) + \(2 * j + 1)].i = arg\(j);", depth + 1)
        }
        line("}", depth)
        line("__syncthreads();", depth)
        line("if (warp == 0) {", depth)
        for (j, r) in kernel.reductions.enumerated() {
            let (v, i) = identity(r)
            line("acc\(j) = lane < TK_THREADS / 32 ? sh_[lane * \(2 * nred) + \(2 * j)].\(accField(r)) : \(v); arg\(j) = lane < TK_THREADS / 32 ? sh_[lane * \(2 * nred) + \(2 * j + 1)].i : \(i);", depth + 1)
        }
        shuffleTree(depth + 1)
        line("if (lane == 0) {", depth + 1)
        for j in 0..<nred { accSave(j, "part[(c * np + q) * \(2 * nred) + \(2 * j)]", "part[(c * np + q) * \(2 * nred) + \(2 * j + 1)]", depth + 2) }
        line("}", depth + 1)
        line("}", depth)
        line("__syncthreads();", depth)
        line("}", 1)
        out += "}\n"
    }

    /// Folds the 32 lanes' accumulators into lane 0: lane `l` takes lane `l + o` for o = 16..1.
    private mutating func shuffleTree(_ depth: Int) {
        line("for (int o_ = 16; o_ > 0; o_ >>= 1) {", depth)
        for (j, r) in kernel.reductions.enumerated() {
            line("{ const \(accType(r)) v_ = __shfl_down_sync(0xffffffffu, acc\(j), o_); const int64_t a_ = __shfl_down_sync(0xffffffffu, arg\(j), o_); \(merge(j, r)) }", depth + 1)
        }
        line("}", depth)
    }

    /// `acc ⊕= (v_, a_)` for two partial results. Sums and products add in the tree's fixed
    /// order; max and min propagate NaN; arg reductions keep the smallest index among equal
    /// extrema (and among NaNs), which is the first extremum whichever threads found them.
    func merge(_ j: Int, _ r: Reduction) -> String {
        let isFloat = accType(r) == "double"
        let a = "acc\(j)", g = "arg\(j)"
        switch r.op {
        case .sum, .prod, .max, .min:
            return update(j, r, value: "v_", index: "a_")
        case .argmax, .argmin:
            let cmp = r.op == .argmax ? ">" : "<"
            let better = isFloat ? "v_ \(cmp) \(a) || (v_ != v_ && \(a) == \(a))" : "v_ \(cmp) \(a)"
            let tie = isFloat ? "(v_ == \(a) || (v_ != v_ && \(a) != \(a)))" : "v_ == \(a)"
            return "if (\(better) || (\(tie) && a_ < \(g))) { \(a) = v_; \(g) = a_; }"
        }
    }

    /// One thread per parallel point folds the partials in chunk order, then runs the epilogue.
    private mutating func cudaCombine() {
        cudaHeader(CRenderer.entry + "_combine", ", const tandem_acc *__restrict__ parts, const int64_t nparts")
        combineBody { $0.gridStride(over: "np", 1) }
    }

    /// A combine entry point's body after its header, in both accelerator dialects: the partials
    /// of each parallel point folded in order and the epilogue, in the loop `loop` opens.
    mutating func combineBody(_ loop: (inout Emitter) -> Void) {
        line("const int64_t np = \(parallelCount);", 1)
        loop(&self)
        parallelDecompose(2)
        foldPartials(2)
        epilogue(2)
        line("}", 1)
        out += "}\n"
    }
}

extension CRenderer {
    /// Threads per block the CUDA entry points are written for (`__launch_bounds__`).
    public static var cudaThreads: Int { Emitter.cudaThreads }

    /// 64-bit words in the CUDA entry points' by-value argument struct
    /// (`tk_args { B[nB]; I[nI]; F[nF] }`, each at least one word long).
    ///
    ///     let words = CRenderer.cudaArgumentWords(kernel)   // must stay within 4 KiB / 8
    public static func cudaArgumentWords(_ k: Kernel) -> (buffers: Int, ints: Int, floats: Int) {
        (max(1, k.buffers.count), max(1, k.intParams), max(1, k.floatParams))
    }
}
