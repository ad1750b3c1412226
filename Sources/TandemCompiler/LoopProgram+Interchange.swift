import TandemIR

// Interchanging a loop program's two outermost loops: the way a nest in which both carry a
// dependence, but the outer one not along the inner one's iterations, becomes a sequence of
// parallel steps. Nussinov's table (`for i in (0..<n).reversed() { for j in i+1..<n { ... } }`)
// fills each cell from shorter intervals only: swapped, the outer loop runs over the interval
// length and the cells of one length are independent (its wavefronts, threaded by the
// renderer with a wait after each).
extension LoopProgram {
    /// The same nest with its two outermost loops swapped, when that keeps its meaning and is
    /// expressible: the outermost loop's body is exactly one loop, of step ±1, whose iteration
    /// count is `a + b * t0` with `b` in -1...1 (rectangular or triangular; bounds that need a
    /// `max` or a division are not swapped), and no two iterations that touch one element (one
    /// of them writing) run in the other order after the swap: none with the outer variable
    /// smaller and the inner one larger at the first (`dependent` with those directions), and
    /// no gathered read of a written tensor. Nil otherwise.
    ///
    /// Variables keep counting iterations from 0: the inner loop's new count variable `u`
    /// stands for `t0 - first(t1)`, substituted into every subscript, index value and bound,
    /// and the variables are renumbered so that the new outer loop is variable 0.
    ///
    ///     if let swapped = program.interchangedOuterPair(), !swapped.parallelLoops.isEmpty { ... }
    public func interchangedOuterPair() -> LoopProgram? {
        guard body.count == 1, case .loop(let k0, let lower0, let upper0, let step0, let top) = body[0], k0 == 0,
              lower0.isConstant, upper0.isConstant,
              top.count == 1, case .loop(let k1, let lower1, let upper1, let step1, let inner) = top[0], k1 == 1,
              abs(step1) == 1 else { return nil }
        let n0 = LoopProgram.count(lower: lower0.constant, upper: upper0.constant, step: step0)
        guard n0 > 0 else { return nil }
        // The inner loop's count as an affine function of t0: a + b t0.
        let span = step1 > 0 ? LoopProgram.subtract(upper1, lower1) : LoopProgram.subtract(lower1, upper1)
        guard span.coefs.indices.allSatisfy({ $0 == 0 || span.coef($0) == 0 }) else { return nil }
        let a = span.constant, b = span.coef(0)
        // The swapped domain: t1 in 0 ..< m; for each, t0 = first + u with u in 0 ..< count(t1).
        let first: Affine, count: Affine, m: Int
        switch b {
        case 0:
            guard a > 0 else { return nil }
            (first, count, m) = (Affine(constant: 0), Affine(constant: n0), a)
        case 1:
            // a + t0 > t1  <=>  t0 >= t1 - a + 1, which is >= 0 for every t1 >= 0 when a <= 1.
            guard a <= 1, a + n0 - 1 > 0 else { return nil }
            (first, count, m) = (Affine(constant: 1 - a, coefs: [0, 1]), Affine(constant: n0 + a - 1, coefs: [0, -1]), a + n0 - 1)
        case -1:
            // a - t0 > t1  <=>  t0 < a - t1, which is <= n0 for every t1 >= 0 when a <= n0.
            guard a <= n0, a > 0 else { return nil }
            (first, count, m) = (Affine(constant: 0), Affine(constant: a, coefs: [0, -1]), a)
        default:
            return nil
        }
        guard interchangeKeepsOrder(k0, k1) else { return nil }
        // t0 := u + first(t1), then the numbers of variables 0 and 1 swapped.
        func moved(_ x: Affine) -> Affine {
            let c0 = x.coef(0)
            var coefs = x.coefs + [Int](repeating: 0, count: max(0, variables - x.coefs.count))
            var constant = x.constant
            if c0 != 0 {
                constant += c0 * first.constant
                for (k, c) in first.coefs.enumerated() where c != 0 { coefs[k] += c0 * c }
            }
            coefs.swapAt(0, 1)
            return Affine(constant: constant, coefs: coefs)
        }
        func moved(_ items: [Item]) -> [Item] {
            items.map { item in
                switch item {
                case .step, .store: item
                case .loop(let k, let lo, let up, let s, let b):
                    .loop(variable: k == 0 ? 1 : k == 1 ? 0 : k, lower: moved(lo), upper: moved(up), step: s, body: moved(b))
                }
            }
        }
        var swapped = self
        swapped.accesses = accesses.map { Access(buffer: $0.buffer, indices: $0.indices.map(moved)) }
        swapped.steps = steps.map { s in
            if case .index(let x) = s.value { return Step(.index(moved(x)), s.dtype) }
            return s
        }
        // `count` is in t1's terms before the renumbering: variable 1 becomes 0.
        var innerCount = count.coefs + [0, 0]
        innerCount.swapAt(0, 1)
        swapped.body = [.loop(variable: 0, lower: Affine(constant: 0), upper: Affine(constant: m), step: 1, body: [
            .loop(variable: 1, lower: Affine(constant: 0), upper: Affine(constant: count.constant, coefs: innerCount), step: 1,
                  body: moved(inner)),
        ])]
        swapped.parallelOuter = false
        swapped.parallelLoops = []
        swapped.swappedOuterLoops = true
        return swapped
    }

    /// Whether no two iterations touching one element (one writing it) would run in the other
    /// order with loops `outer` and `inner` swapped: none with `outer` earlier and `inner` later
    /// at the first; no gathered read of a written tensor.
    func interchangeKeepsOrder(_ outer: Int, _ inner: Int) -> Bool {
        var uses: [Use] = []
        var gathered: Set<Int> = []
        collect(body, [], &uses, &gathered)
        // The write's iteration earlier outside and later inside, or the other way round.
        return !mayTouch(uses, gathered, anyOf: [[outer: .less, inner: .greater], [outer: .greater, inner: .less]])
    }

    /// `x - y`.
    static func subtract(_ x: Affine, _ y: Affine) -> Affine {
        let n = max(x.coefs.count, y.coefs.count)
        return Affine(constant: x.constant - y.constant, coefs: (0..<n).map { x.coef($0) - y.coef($0) })
    }
}
