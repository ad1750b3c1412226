import TandemIR

/// Renders a `LoopProgram` to C: `tandem_kernel(B, I, F, lo, hi)` runs iterations `lo ..< hi`
/// of the outermost loop (the whole loop, or one worker's chunk when `parallelOuter`), with the
/// same preamble and expression syntax as the kernels' C (`Emitter.expression`), so integer
/// division, float-to-int casts, max/min and erf mean what they mean in every kernel.
///
/// `B` holds the program's buffers, then an `int64_t[3]` error slot: an index outside its tensor
/// stores the access (plus one), the axis and the index there and returns at once.
///
///     let source = LoopProgramRenderer.render(program)
public enum LoopProgramRenderer {
    public static func render(_ p: LoopProgram) -> String {
        var r = Renderer(p)
        return r.source()
    }

    /// Each access's index into its buffer, row-major, as one affine expression.
    public static func flat(_ p: LoopProgram, _ a: LoopProgram.Access) -> LoopProgram.Affine {
        let strides = Shape.rowMajorStrides(p.shapes[a.buffer])
        var constant = 0
        var coefs = [Int](repeating: 0, count: p.variables)
        for (axis, index) in a.indices.enumerated() {
            constant += strides[axis] * index.constant
            for (k, c) in index.coefs.enumerated() { coefs[k] += strides[axis] * c }
        }
        return LoopProgram.Affine(constant: constant, coefs: coefs)
    }

    private struct Renderer {
        let p: LoopProgram
        let expressions: Emitter
        var out = ""
        /// The index checks each loop makes at its entry (`checkSites`), by loop in the order
        /// the renderer meets them (the outermost 0), and the next loop's number.
        let sites: [[(access: Int, axis: Int)]]
        var nextLoop = 1

        init(_ p: LoopProgram) {
            self.p = p
            sites = Renderer.checkSites(p)
            // The expression emitter names operands `v<n>` and asks their types of its kernel's
            // instructions: a kernel whose instructions are the program's steps.
            let instrs = p.steps.map { step -> Instr in
                if case .compute(let op) = step.value { return Instr(op, step.dtype) }
                return Instr(.literal(.int(0)), step.dtype)
            }
            let k = Kernel(rank: 0, parallelAxes: 0, buffers: [], accesses: [], instrs: instrs, reductions: [], stores: [],
                           intParams: 0, floatParams: 0)
            expressions = Emitter(kernel: k, dialect: .c)
        }

        mutating func line(_ s: String, _ depth: Int) { out += String(repeating: "  ", count: depth) + s + "\n" }

        func affine(_ a: LoopProgram.Affine) -> String {
            var terms = [String(a.constant) + "LL"]
            for (k, c) in a.coefs.enumerated() where c != 0 { terms.append(c == 1 ? "t\(k)" : "\(c)LL * t\(k)") }
            return "(" + terms.joined(separator: " + ") + ")"
        }

        func flat(_ access: Int) -> String { affine(LoopProgramRenderer.flat(p, p.accesses[access])) }

        func value(_ s: Int) -> String {
            let step = p.steps[s]
            let t = Emitter.ctype(step.dtype)
            switch step.value {
            case .load(let a):
                return "b\(p.accesses[a].buffer)[\(flat(a))]"
            case .gather(let a, let axis, let index):
                let access = p.accesses[a], shape = p.shapes[access.buffer]
                let stride = Shape.rowMajorStrides(shape)[axis], count = shape.reduce(1, *)
                let i = "(int64_t)v\(index)"
                return "b\(access.buffer)[tk_clamp_index(\(flat(a)) + \(stride)LL * (\(i) < 0 ? \(i) + \(shape[axis])LL : \(i)), \(count)LL)]"
            case .index(let a):
                return "(\(t))\(affine(a))"
            case .param(let n):
                return step.dtype.isFloatingPoint ? "(\(t))F\(n)" : "(\(t))I\(n)"
            case .compute:
                return expressions.expression(expressions.kernel.instrs[s])
            }
        }

        /// Where each index of each access is checked: at the entry of the loop of the innermost
        /// variable it depends on (an affine index is extreme at that loop's first or last
        /// iteration, the loops outside it fixed), and further out past loops of constant,
        /// non-empty bounds, which run the access at every value the index takes. Checked at
        /// the loop that holds the access, the indices a row of doitgen reads from outside its
        /// innermost loop (`A[r, q, s]`, `C4[s, p]`'s `s`) were checked at every entry of a
        /// 60-element loop, as many instructions as the vectorised loop itself. Constant
        /// indices are checked when the program is made. Numbered as `loop` meets the loops.
        static func checkSites(_ p: LoopProgram) -> [[(access: Int, axis: Int)]] {
            guard case .loop(let k0, _, _, _, let top)? = p.body.first else { return [[]] }
            var sites: [[(access: Int, axis: Int)]] = [[]]
            func walk(_ items: [LoopProgram.Item], _ enclosing: [(ordinal: Int, variable: Int, fixed: Bool)]) {
                var seen: [Int] = []
                var gatherAxis: [Int: Int] = [:]
                for item in items {
                    switch item {
                    case .step(let s):
                        switch p.steps[s].value {
                        case .load(let a): if !seen.contains(a) { seen.append(a) }
                        case .gather(let a, let axis, _):
                            if !seen.contains(a) { seen.append(a) }
                            gatherAxis[a] = axis
                        default: break
                        }
                    case .store(let a, _): if !seen.contains(a) { seen.append(a) }
                    case .loop: break
                    }
                }
                for a in seen {
                    for (axis, index) in p.accesses[a].indices.enumerated() where axis != gatherAxis[a] && !index.isConstant {
                        let innermost = enclosing.lastIndex { index.coef($0.variable) != 0 } ?? enclosing.count - 1
                        var q = enclosing.count - 1
                        while q > innermost && enclosing[q].fixed { q -= 1 }
                        sites[enclosing[q].ordinal].append((a, axis))
                    }
                }
                for case .loop(let k, let lower, let upper, let step, let body) in items {
                    let ordinal = sites.count
                    sites.append([])
                    let fixed = lower.isConstant && upper.isConstant
                        && LoopProgram.count(lower: lower.constant, upper: upper.constant, step: step) >= 1
                    walk(body, enclosing + [(ordinal, k, fixed)])
                }
            }
            walk(top, [(0, k0, false)])
            return sites
        }

        /// The checks of loop `ordinal`'s site (`checkSites`), at the loop's variable as it is now.
        mutating func checks(_ ordinal: Int, _ depth: Int) {
            for (a, axis) in sites[ordinal] {
                let access = p.accesses[a], index = access.indices[axis]
                let extent = p.shapes[access.buffer][axis]
                line("{ const int64_t x = \(affine(index)); if (x < 0 || x >= \(extent)LL) { tk_fail(E, \(a + 1), \(axis), x); return; } }", depth)
            }
        }

        mutating func items(_ items: [LoopProgram.Item], _ depth: Int) {
            for item in items {
                switch item {
                case .step(let s):
                    line("const \(Emitter.ctype(p.steps[s].dtype)) v\(s) = \(value(s));", depth)
                case .store(let a, let v):
                    line("b\(p.accesses[a].buffer)[\(flat(a))] = v\(v);", depth)
                case .loop(let k, let lower, let upper, let step, let body):
                    loop(k, lower, upper, step, body, depth, split: false)
                }
            }
        }

        /// A loop; with `split`, thread `w` of `P` runs its share of the iterations.
        mutating func loop(_ k: Int, _ lower: LoopProgram.Affine, _ upper: LoopProgram.Affine, _ step: Int,
                           _ body: [LoopProgram.Item], _ depth: Int, split: Bool) {
            line("{", depth)
            let d = depth + 1
            line("const int64_t lo\(k) = \(affine(lower)), up\(k) = \(affine(upper));", d)
            if step > 0 {
                line("const int64_t c\(k) = up\(k) > lo\(k) ? (up\(k) - lo\(k) + \(step - 1)LL) / \(step)LL : 0;", d)
            } else {
                line("const int64_t c\(k) = lo\(k) > up\(k) ? (lo\(k) - up\(k) + \(-step - 1)LL) / \(-step)LL : 0;", d)
            }
            line("(void)lo\(k); (void)up\(k);", d)
            let (first, end) = split ? ("c\(k) * w / P", "c\(k) * (w + 1) / P") : ("0", "c\(k)")
            line("const int64_t s\(k) = \(first), e\(k) = \(end);", d)
            let ordinal = nextLoop
            nextLoop += 1
            entryChecks(ordinal, k, from: "s\(k)", to: "e\(k)", d)
            line("for (int64_t t\(k) = s\(k); t\(k) < e\(k); t\(k)++) {", d)
            items(body, d + 1)
            line("}", d)
            line("}", depth)
        }

        /// The checks of loop `ordinal`'s site at the first and the last of the iterations
        /// `from ..< to` of its variable `k` (an affine index is extreme at one of them), when
        /// there are any.
        mutating func entryChecks(_ ordinal: Int, _ k: Int, from: String, to: String, _ depth: Int) {
            guard !sites[ordinal].isEmpty else { return }
            line("if (\(to) > \(from)) {", depth)
            line("{ const int64_t t\(k) = \(from);", depth + 1)
            checks(ordinal, depth + 2)
            line("}", depth + 1)
            line("{ const int64_t t\(k) = \(to) - 1;", depth + 1)
            checks(ordinal, depth + 2)
            line("}", depth + 1)
            line("}", depth)
        }

        /// The outermost loop's body when loops in it are split over threads: every thread
        /// computes its values (loads and arithmetic, needed by the split loops), thread 0 alone
        /// stores and runs the other loops, and all wait for each other after each of those and
        /// each split loop, so that what one wrote is there for all to read next.
        mutating func threadedItems(_ items: [LoopProgram.Item], _ depth: Int) {
            // Loads by every thread since the last wait: an item that writes waits first, so
            // that no thread reads an element after another has written it in this iteration.
            var loaded = false
            for item in items {
                if case .step(let s) = item {
                    switch p.steps[s].value {
                    case .load, .gather: loaded = true
                    default: break
                    }
                    self.items([item], depth)
                    continue
                }
                if loaded { line("if (tk_barrier(X, P, E)) return;", depth) }
                loaded = false
                switch item {
                case .step:
                    break
                case .store:
                    line("if (w == 0) {", depth)
                    self.items([item], depth + 1)
                    line("}", depth)
                    line("if (tk_barrier(X, P, E)) return;", depth)
                case .loop(let k, let lower, let upper, let step, let body):
                    if p.parallelLoops.contains(k) {
                        loop(k, lower, upper, step, body, depth, split: true)
                    } else {
                        line("if (w == 0) {", depth)
                        loop(k, lower, upper, step, body, depth + 1, split: false)
                        line("}", depth)
                    }
                    line("if (tk_barrier(X, P, E)) return;", depth)
                }
            }
        }

        mutating func source() -> String {
            out = Emitter.preamble(.c) + LoopProgramRenderer.threadHelpers
            let threaded = !p.parallelLoops.isEmpty
            // Threaded, `lo` and `hi` are this thread's number and the number of threads.
            out += "\nvoid \(CRenderer.entry)(void *const *restrict B, const int64_t *restrict I, const double *restrict F, int64_t lo, int64_t hi) {\n"
            for n in 0..<p.intParams { line("const int64_t I\(n) = I[\(n)];", 1) }
            for n in 0..<p.floatParams { line("const double F\(n) = F[\(n)];", 1) }
            line("(void)I; (void)F;", 1)
            for (b, param) in p.buffers.enumerated() {
                let t = Emitter.ctype(param.dtype), c = param.isWritten ? "" : "const "
                if p.privateBuffers.contains(b) {
                    // This worker's own copy (`LoopProgram.privateBuffers`): every outer
                    // iteration writes it whole before reading it.
                    line("\(t) *restrict g\(b) = (\(t) *)B[\(b)];", 1)
                    line("\(t) tk_p\(b)[\(max(1, p.shapes[b].reduce(1, *)))];", 1)
                    line("\(t) *restrict b\(b) = tk_p\(b);", 1)
                    continue
                }
                // Every written buffer is a copy of its own, so no two pointers that are
                // written alias anything: restrict lets the compiler vectorise.
                line("\(c)\(t) *restrict b\(b) = (\(c)\(t) *)B[\(b)];", 1)
            }
            line("int64_t *E = (int64_t *)B[\(p.buffers.count)];", 1)
            if threaded {
                line("int64_t *X = (int64_t *)B[\(p.buffers.count + 1)];", 1)
                line("const int64_t w = lo, P = hi;", 1)
                line("lo = 0; hi = \(p.outerCount)LL;", 1)
            }
            guard case .loop(let k, _, _, _, let body) = p.body.first, p.body.count == 1 else {
                preconditionFailure("internal: a loop program's body is one loop")
            }
            precondition(k == 0, "internal: a loop program's outer loop is variable 0")
            // The outer loop's values are folded into the subscripts: t0 counts its iterations.
            entryChecks(0, 0, from: "lo", to: "hi", 1)
            line("for (int64_t t0 = lo; t0 < hi; t0++) {", 1)
            if threaded { threadedItems(body, 2) } else { items(body, 2) }
            line("}", 1)
            for b in p.privateBuffers.sorted() {
                // What the loop in order leaves: the last iteration's values.
                line("if (hi > lo && hi == \(p.outerCount)LL) __builtin_memcpy(g\(b), tk_p\(b), sizeof tk_p\(b));", 1)
            }
            out += "}\n"
            return out
        }
    }
}

extension LoopProgramRenderer {
    /// The error slot's first claim wins (threads may fail at once), and the barrier the
    /// threads of a threaded program meet at: `X[0]` counts arrivals, `X[1]` is the generation;
    /// a thread waiting returns 1 when another has failed (it will not arrive), so that no
    /// thread waits forever.
    static let threadHelpers = """

    int sched_yield(void);
    static inline void tk_fail(int64_t *E, int64_t access, int64_t axis, int64_t x) {
      int64_t none = 0;
      if (__atomic_compare_exchange_n(&E[3], &none, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        E[1] = axis; E[2] = x;
        __atomic_store_n(&E[0], access, __ATOMIC_RELEASE);
      }
    }
    static inline int tk_barrier(int64_t *X, int64_t P, int64_t *E) {
      const int64_t g = __atomic_load_n(&X[1], __ATOMIC_ACQUIRE);
      if (__atomic_add_fetch(&X[0], 1, __ATOMIC_ACQ_REL) == P) {
        __atomic_store_n(&X[0], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&X[1], g + 1, __ATOMIC_RELEASE);
        return 0;
      }
      int spins = 0;
      while (__atomic_load_n(&X[1], __ATOMIC_ACQUIRE) == g) {
        if (__atomic_load_n(&E[3], __ATOMIC_ACQUIRE) != 0) return 1;
        if (++spins >= 256) { sched_yield(); spins = 0; }
      }
      return 0;
    }

    """
}
