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

        init(_ p: LoopProgram) {
            self.p = p
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

        /// The accesses of the items directly in a loop's body (not in loops inside it).
        func directAccesses(_ items: [LoopProgram.Item]) -> [Int] {
            var seen: [Int] = []
            for item in items {
                switch item {
                case .step(let s):
                    switch p.steps[s].value {
                    case .load(let a), .gather(let a, _, _): if !seen.contains(a) { seen.append(a) }
                    default: break
                    }
                case .store(let a, _): if !seen.contains(a) { seen.append(a) }
                case .loop: break
                }
            }
            return seen
        }

        /// Each index of the loop's direct accesses, at the loop's variable `t` as it is now.
        mutating func checks(_ items: [LoopProgram.Item], _ depth: Int) {
            for a in directAccesses(items) {
                let access = p.accesses[a]
                var gatherAxis: Int? = nil
                for item in items {
                    if case .step(let s) = item, case .gather(a, let axis, _) = p.steps[s].value { gatherAxis = axis }
                }
                for (axis, index) in access.indices.enumerated() where axis != gatherAxis && !index.isConstant {
                    let extent = p.shapes[access.buffer][axis]
                    line("{ const int64_t x = \(affine(index)); if (x < 0 || x >= \(extent)LL) { E[0] = \(a + 1); E[1] = \(axis); E[2] = x; return; } }", depth)
                }
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
                    line("{", depth)
                    let d = depth + 1
                    line("const int64_t lo\(k) = \(affine(lower)), up\(k) = \(affine(upper));", d)
                    if step > 0 {
                        line("const int64_t c\(k) = up\(k) > lo\(k) ? (up\(k) - lo\(k) + \(step - 1)LL) / \(step)LL : 0;", d)
                    } else {
                        line("const int64_t c\(k) = lo\(k) > up\(k) ? (lo\(k) - up\(k) + \(-step - 1)LL) / \(-step)LL : 0;", d)
                    }
                    line("(void)lo\(k); (void)up\(k);", d)
                    if !directAccesses(body).isEmpty {
                        line("if (c\(k) > 0) {", d)
                        line("{ const int64_t t\(k) = 0;", d + 1)
                        checks(body, d + 2)
                        line("}", d + 1)
                        line("{ const int64_t t\(k) = c\(k) - 1;", d + 1)
                        checks(body, d + 2)
                        line("}", d + 1)
                        line("}", d)
                    }
                    line("for (int64_t t\(k) = 0; t\(k) < c\(k); t\(k)++) {", d)
                    self.items(body, d + 1)
                    line("}", d)
                    line("}", depth)
                }
            }
        }

        mutating func source() -> String {
            out = Emitter.preamble(.c)
            out += "\nvoid \(CRenderer.entry)(void *const *restrict B, const int64_t *restrict I, const double *restrict F, int64_t lo, int64_t hi) {\n"
            for n in 0..<p.intParams { line("const int64_t I\(n) = I[\(n)];", 1) }
            for n in 0..<p.floatParams { line("const double F\(n) = F[\(n)];", 1) }
            line("(void)I; (void)F;", 1)
            for (b, param) in p.buffers.enumerated() {
                let t = Emitter.ctype(param.dtype), c = param.isWritten ? "" : "const "
                // Every written buffer is a copy of its own, so no two pointers that are
                // written alias anything: restrict lets the compiler vectorise.
                line("\(c)\(t) *restrict b\(b) = (\(c)\(t) *)B[\(b)];", 1)
            }
            line("int64_t *E = (int64_t *)B[\(p.buffers.count)];", 1)
            guard case .loop(let k, _, _, _, let body) = p.body.first, p.body.count == 1 else {
                preconditionFailure("internal: a loop program's body is one loop")
            }
            precondition(k == 0, "internal: a loop program's outer loop is variable 0")
            // The outer loop's values are folded into the subscripts: t0 counts its iterations.
            if !directAccesses(body).isEmpty {
                line("if (hi > lo) {", 1)
                line("{ const int64_t t0 = lo;", 2)
                checks(body, 3)
                line("}", 2)
                line("{ const int64_t t0 = hi - 1;", 2)
                checks(body, 3)
                line("}", 2)
                line("}", 1)
            }
            line("for (int64_t t0 = lo; t0 < hi; t0++) {", 1)
            items(body, 2)
            line("}", 1)
            out += "}\n"
            return out
        }
    }
}

extension LoopProgram {
    /// For each variable, a number of iterations no loop of it exceeds (at least 1): its bounds
    /// taken at their extremes over the variables outside it.
    public func variableExtents() -> [Int] {
        var extents = [Int](repeating: 1, count: variables)
        func range(_ a: Affine) -> (Int, Int) {
            var lo = a.constant, hi = a.constant
            for (k, c) in a.coefs.enumerated() where c != 0 {
                let span = c * (extents[k] - 1)
                lo += min(0, span)
                hi += max(0, span)
            }
            return (lo, hi)
        }
        func walk(_ items: [Item]) {
            for item in items {
                guard case .loop(let k, let lower, let upper, let step, let body) = item else { continue }
                let (l0, l1) = range(lower), (u0, u1) = range(upper)
                let most = step > 0 ? LoopProgram.count(lower: l0, upper: u1, step: step) : LoopProgram.count(lower: l1, upper: u0, step: step)
                extents[k] = max(1, most)
                walk(body)
            }
        }
        walk(body)
        return extents
    }

    /// Whether two iterations of the outermost loop may touch one element, one of them writing
    /// it: the GCD and Banerjee tests (`Dependence`) on every pair of accesses to a written
    /// tensor, with the outer variables unequal and any relation on the others, over the box
    /// of `variableExtents()` (more iterations than there are: the answer stays safe). A read
    /// at a computed position of a written tensor carries one.
    public var outerCarriesDependence: Bool {
        let extents = variableExtents()
        var uses: [(access: Int, write: Bool)] = []
        var gathered: Set<Int> = []
        func walk(_ items: [Item]) {
            for item in items {
                switch item {
                case .step(let s):
                    switch steps[s].value {
                    case .load(let a): uses.append((a, false))
                    case .gather(let a, _, _): gathered.insert(accesses[a].buffer)
                    default: break
                    }
                case .store(let a, _): uses.append((a, true))
                case .loop(_, _, _, _, let body): walk(body)
                }
            }
        }
        walk(body)
        let written = Set(uses.filter(\.write).map { accesses[$0.access].buffer })
        if !written.isDisjoint(with: gathered) { return true }
        func map(_ a: Access) -> AffineMap {
            var coef = [Int](repeating: 0, count: a.indices.count * variables)
            for (axis, index) in a.indices.enumerated() { for k in 0..<variables { coef[axis * variables + k] = index.coef(k) } }
            return AffineMap(inRank: a.indices.count, outRank: variables, offset: a.indices.map(\.constant), coef: coef)
        }
        var d = [Dependence.Direction](repeating: .equal, count: variables)
        for (i, x) in uses.enumerated() where x.write {
            for (j, y) in uses.enumerated() where j >= i || !y.write {
                let (ax, ay) = (accesses[x.access], accesses[y.access])
                guard ax.buffer == ay.buffer else { continue }
                let (mx, my) = (map(ax), map(ay))
                for dir in [Dependence.Direction.less, .greater] {
                    d[0] = dir
                    if Dependence.partiallyFeasible(mx, my, extents: extents, d, upTo: 1) { return true }
                }
            }
        }
        return false
    }
}
