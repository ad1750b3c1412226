import TandemIR

// The C emitter's reduction loops: the innermost reduce loop in lanes (`innermostReduce`), the
// column-blocked form of a reduction down columns (`blockedColumns`), and the accumulators they
// fold into. Split from CRenderer.swift by concern (there: the entry points, the body, the
// expressions).

extension Emitter {
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
    mutating func blockedColumns() {
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
            line("for (int l_ = 0; l_ < \(lanes); l_++) { for (int64_t c_ = 0; c_ < cn_; c_++) { A\(j)_[l_][c_] = \(identity(red).0); } }", d)
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
            if floatLanes(r) { line("tk_lanes_f32 F\(j)_ = {0};", d) }
        }
        let W = laneBlock
        let floatLaned = reds.contains(where: floatLanes)
        let wide = W == L ? "" : " w_ = s_ + ((e_ - s_) & ~(int64_t)\(W - 1)),"
        line("const int64_t s_ = \(start), e_ = \(end),\(wide) m_ = s_ + ((e_ - s_) & ~(int64_t)\(L - 1));", d)
        // Blocks of W, then of L (rows shorter than W: GMM's 16 components), then the tail. Every
        // block starts a multiple of L after s_, so element i always goes to lane (i - s_) % L.
        for (width, from, to) in W == L ? [(L, "s_", "m_")] : [(W, "s_", "w_"), (L, "w_", "m_")] {
            line("for (int64_t b_ = \(from); b_ < \(to); b_ += \(width)) {", d)
            for (j, r) in reds.enumerated() { line("\(blockType(r)) t\(j)_[\(width)];", d + 1) }
            line("#pragma omp simd", d + 1)
            line("for (int64_t l_ = 0; l_ < \(width); l_++) {", d + 1)
            line("const int64_t i\(a) = b_ + l_;", d + 2)
            body(d + 2, lane: .block)
            line("}", d + 1)
            addBlock(width: width, d + 1)
            // Float lanes widened every `floatSumSpan` elements, counted from the row's start
            // (a split reduction's chunk's: the planner cuts a row into the same chunks on every
            // run, whatever the workers).
            if width == W && floatLaned {
                line("if (((b_ + \(W) - s_) & \(KernelVariant.floatSumSpan - 1)) == 0) { \(flushFloatLanes) }", d + 1)
            }
            line("}", d)
        }
        // The tail: one more block of L, padded (see `paddedTail`), or element by element.
        if paddedTail {
            line("if (m_ < e_) {", d)
            line("const int64_t t_ = e_ - m_;", d + 1)
            for (j, r) in reds.enumerated() { line("\(blockType(r)) t\(j)_[\(L)];", d + 1) }
            line("#pragma omp simd", d + 1)
            line("for (int64_t l_ = 0; l_ < \(L); l_++) {", d + 1)
            line("const int64_t i\(a) = m_ + l_;", d + 2)
            readMask = "l_ < t_"
            body(d + 2, lane: .paddedTail)
            readMask = nil
            line("}", d + 1)
            addBlock(width: L, d + 1)
            line("}", d)
        }
        if floatLaned { line(flushFloatLanes, d) }
        for (j, r) in reds.enumerated() {
            line("\(accType(r)) l\(j)_[\(L)]; for (int l_ = 0; l_ < \(L); l_++) { l\(j)_[l_] = (\(accType(r)))L\(j)_[l_]; }", d)
        }
        if !paddedTail {
            line("for (int64_t i\(a) = m_; i\(a) < e_; i\(a)++) {", d)
            line("const int64_t l_ = (i\(a) - m_) & \(L - 1);", d + 1)
            body(d + 1, lane: .tail)
            line("}", d)
        }
        for (j, r) in reds.enumerated() {
            line(update(j, r, value: laneTree(j, r, 0..<L), index: "0"), d)
        }
        line("}", depth)
    }

    /// Adds a laned loop's block of values (`t<j>_`, `width` of them) into the lanes `L<j>_`,
    /// eight at a time.
    mutating func addBlock(width: Int, _ d: Int) {
        let L = Kernel.reductionLanes
        for (j, r) in kernel.reductions.enumerated() {
            let isFloat = accType(r) == "double"
            let narrow = blockType(r) == "float"
            let vectorType = narrow ? "tk_lanes_f32" : isFloat ? "tk_lanes_f64" : "tk_lanes_u64"
            let add = "for (int q_ = 0; q_ < \(width); q_ += \(L)) { \(vectorType) v_; __builtin_memcpy(&v_, t\(j)_ + q_, sizeof v_); "
            let wide = narrow ? "__builtin_convertvector(v_, tk_lanes_f64)" : "v_"
            switch r.op {
            case .sum where floatLanes(r): line(add + "F\(j)_ = F\(j)_ + v_; }", d)
            case .sum: line(add + "L\(j)_ = L\(j)_ + \(wide); }", d)
            case .prod: line(add + "L\(j)_ = L\(j)_ * \(wide); }", d)
            case .max, .min:
                let step = isFloat ? "\(r.op == .max ? "tk_fmaximum" : "tk_fminimum")(L\(j)_[l_], t\(j)_[q_ + l_])"
                    : "((int64_t)t\(j)_[q_ + l_] \(r.op == .max ? ">" : "<") (int64_t)L\(j)_[l_] ? t\(j)_[q_ + l_] : L\(j)_[l_])"
                line("for (int q_ = 0; q_ < \(width); q_ += \(L)) { for (int l_ = 0; l_ < \(L); l_++) { L\(j)_[l_] = \(step); } }", d)
            case .argmax, .argmin: preconditionFailure("arg reductions are never laned")
            }
        }
    }

    /// The element type of a laned block's values (`t<j>_`): the accumulator's, except a float32
    /// value summed in double, kept in float until it is added to the lanes (each widened
    /// exactly, so the same bits). With the widening inside the block's `omp simd` loop, clang
    /// picks the vector width of the double and runs the whole float body at half width (4
    /// floats where AVX2 has 8): N-body's float32 force kernel, its sqrt and division included,
    /// was no faster than the float64 one.
    func blockType(_ r: Reduction) -> String {
        guard accType(r) == "double" else { return "uint64_t" }
        return kernel.instrs[r.value].dtype == .float32 ? "float" : "double"
    }

    /// Whether reduction `r`'s block values are summed in float lanes (`KernelVariant.floatSums`:
    /// a float32 sum in a kernel of that variant) before they join the double lanes.
    func floatLanes(_ r: Reduction) -> Bool {
        kernel.variant?.floatSums == true && KernelVariant.sumsFloat32(in: r, of: kernel)
    }

    /// The float lanes added into the double lanes, and cleared.
    var flushFloatLanes: String {
        kernel.reductions.indices.filter { floatLanes(kernel.reductions[$0]) }
            .map { "L\($0)_ = L\($0)_ + __builtin_convertvector(F\($0)_, tk_lanes_f64); F\($0)_ = (tk_lanes_f32){0};" }
            .joined(separator: " ")
    }

    /// Whether a laned loop's tail (the last `(e - s) % 8` elements) runs as one more vector
    /// block whose lanes past the tail's end take the reduction's identity, instead of element
    /// by element. The lanes are the same bits either way: a lane plus 0.0 is the lane (a lane
    /// starts at +0.0 and so is never -0.0), times 1.0 or the maximum with -inf or the minimum
    /// with +inf is the lane, and integer identities are exact; its reads are masked to the
    /// tail (zero past it, no memory touched), so nothing outside the row is read. Element by
    /// element, the tail's lanes went through memory with a variable index: rows of 9-15 and
    /// 25-31 doubles ran 3-4x slower than rows of 16 (`bench/micro/short_rows.c`: 20,000 rows of
    /// 10, `x @ w`, 160 µs against 49 padded; NumPy's gemv 37). Not with stores on the way
    /// (they would be made for the padding too).
    var paddedTail: Bool {
        dialect.vectorisedLoops && !kernel.stores.contains { !$0.epilogue }
    }

    /// Elements this kernel's laned loop computes in one block: its variant's, or the rule's
    /// (`laneBlock`, and a large body in blocks of eight alone: see `largeLanedBody`).
    var laneBlock: Int { kernel.variant?.laneBlock ?? Emitter.ruleLaneBlock(kernel) }

    /// The rules' block for `k`'s laned loop: `laneBlock`, or eight for a large body.
    static func ruleLaneBlock(_ k: Kernel) -> Int {
        k.instrs.count(where: { !$0.epilogue }) > Emitter.largeLanedBody ? Kernel.reductionLanes : Emitter.laneBlock
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

    /// Where a laned body's reductions go: the block's vector of values, the lanes (tail), the
    /// padded tail's block (`paddedTail`), a column's lane (`blockedColumns`), or a step's values
    /// in their own type (an OpenCL work-item's widened fold, `openCLStep`).
    enum Lane { case block, tail, paddedTail, column, values }

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
}
