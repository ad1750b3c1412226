import TandemIR

// Reductions turned inside out: a loop whose body ends with an inner loop that accumulates into
// one element per outer iteration, reading memory down a column, becomes the outer loop's other
// statements alone, then the inner loop outside with the outer one inside it, where the column
// is a row and the accumulators a vector.
extension LoopProgram {
    /// The program with every loop (inside the outermost) of the form
    ///
    ///     for p { prefix; for s { T[I(p)] = f(T[I(p)], x[s, p], ...) } }
    ///
    /// rewritten as `for p { prefix }; for s { for p { ... } }` where that is the same program
    /// and makes the inner loop read rows: PolyBench doitgen's `sum[p] += A[r, q, s] * C4[s, p]`,
    /// whose `s` loop read `C4` down a column and carried its sum (scalar code), runs over `p`
    /// inside (contiguous, nothing carried: vectorised). Each element's accumulation keeps its
    /// order (`s` ascending for every `p`), so the values are the same bits.
    ///
    /// The same program: the inner loop's bounds do not depend on `p`; it contains no loop; its
    /// only stores, and the prefix's, are to one element `T[I(p)]` whose subscripts depend on
    /// `p` (a different element for every `p`) and not on `s`; `T` is read there only, never
    /// gathered; every other buffer read there is not written in the loop; and no value the
    /// prefix computes is used inside. Then iteration `p` touches only `T[I(p)]` and read-only
    /// data, so the prefixes may all run first and the `s` and `p` loops may swap. Worth it when
    /// some read moves by more than one element along `s` and every read moves by at most one
    /// along `p`.
    public func reductionLoopsInterchanged() -> LoopProgram {
        guard body.count == 1, case .loop(let k0, let lower, let upper, let step, let top) = body[0] else { return self }
        var changed = 0
        let rewritten = interchangingReductions(top, &changed)
        guard changed > 0 else { return self }
        var p = self
        p.body = [.loop(variable: k0, lower: lower, upper: upper, step: step, body: rewritten)]
        p.interchangedReductions = changed
        return p
    }

    private func interchangingReductions(_ items: [Item], _ changed: inout Int) -> [Item] {
        var out: [Item] = []
        for item in items {
            guard case .loop(let k, let lower, let upper, let step, let inner) = item else {
                out.append(item)
                continue
            }
            if let split = interchangedReduction(k, lower, upper, step, inner) {
                out += split
                changed += 1
            } else {
                out.append(.loop(variable: k, lower: lower, upper: upper, step: step, body: interchangingReductions(inner, &changed)))
            }
        }
        return out
    }

    private func interchangedReduction(_ p: Int, _ lower: Affine, _ upper: Affine, _ step: Int, _ inner: [Item]) -> [Item]? {
        guard case .loop(let s, let sLower, let sUpper, let sStep, let sBody)? = inner.last,
              sLower.coef(p) == 0, sUpper.coef(p) == 0 else { return nil }
        let prefix = Array(inner.dropLast())
        func isLoop(_ i: Item) -> Bool { if case .loop = i { true } else { false } }
        guard !prefix.contains(where: isLoop), !sBody.contains(where: isLoop) else { return nil }
        // The one element written.
        var target: Access? = nil
        for case .store(let a, _) in prefix + sBody {
            if let t = target { guard accesses[a] == t else { return nil } } else { target = accesses[a] }
        }
        guard let t = target, t.indices.allSatisfy({ $0.coef(s) == 0 }), t.indices.contains(where: { $0.coef(p) != 0 }) else { return nil }
        // Reads of the written buffer at that element only; values of the prefix not used inside.
        var prefixSteps: Set<Int> = []
        for case .step(let n) in prefix { prefixSteps.insert(n) }
        for item in prefix + sBody {
            switch item {
            case .step(let n):
                switch steps[n].value {
                case .load(let a): if accesses[a].buffer == t.buffer && accesses[a] != t { return nil }
                case .gather(let a, _, _): if accesses[a].buffer == t.buffer { return nil }
                default: break
                }
            case .store, .loop: break
            }
        }
        for item in sBody {
            switch item {
            case .step(let n):
                if !prefixSteps.isDisjoint(with: stepOperands(n)) { return nil }
            case .store(_, let v):
                if prefixSteps.contains(v) { return nil }
            case .loop: break
            }
        }
        // Worth it: a read strided along `s`, every read contiguous or fixed along `p`.
        var stridedAlongS = false
        for case .step(let n) in sBody {
            guard case .load(let a) = steps[n].value else { continue }
            let flat = LoopProgramRenderer.flat(self, accesses[a])
            guard abs(flat.coef(p)) <= 1 else { return nil }
            if abs(flat.coef(s)) > 1 { stridedAlongS = true }
        }
        guard stridedAlongS else { return nil }
        let swapped: Item = .loop(variable: s, lower: sLower, upper: sUpper, step: sStep,
                                  body: [.loop(variable: p, lower: lower, upper: upper, step: step, body: sBody)])
        return (prefix.isEmpty ? [] : [.loop(variable: p, lower: lower, upper: upper, step: step, body: prefix)]) + [swapped]
    }

    /// The steps step `n` computes from.
    private func stepOperands(_ n: Int) -> [Int] {
        switch steps[n].value {
        case .compute(let op): Instr(op, steps[n].dtype).operands
        case .gather(_, _, let index): [index]
        case .load, .index, .param: []
        }
    }
}
