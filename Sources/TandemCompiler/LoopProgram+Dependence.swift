import TandemIR

// The dependence analysis of loop programs: which loops may run split over threads. Split from
// LoopProgramRenderer.swift by concern (there: the C).
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

    /// The loops directly in the outermost loop's body that carry no dependence within one of
    /// its iterations (`dependent` on the accesses inside each such loop, with the outer
    /// variable equal and the loop's own unequal) and run at least `minimumOperations` steps
    /// and stores an entry on average over the outer loop's iterations (`outerIterationWork`):
    /// splitting a smaller one over threads costs more in waiting than it saves. (At their
    /// largest extents, lu's rows at 400 counted 160,000 an entry where they average 53,000,
    /// and two threads waiting for each other 800 times took 25 ms where one took 15.)
    public func parallelInnerLoops(minimumOperations: Int) -> Set<Int> {
        guard case .loop(let k0, let lower, let upper, let step, let top)? = body.first else { return [] }
        let outer = Enclosing(variable: k0, lower: lower, upper: upper, step: step)
        let count = outerCount
        var result: Set<Int> = []
        for item in top {
            guard case .loop(let k, _, _, _, _) = item else { continue }
            let mean = count == 0 ? 0 : (0..<count).reduce(0.0) { $0 + outerIterationWork($1, of: [item]) } / Double(count)
            if mean < Double(minimumOperations) { continue }
            var uses: [Use] = []
            var gathered: Set<Int> = []
            collect([item], [outer], &uses, &gathered)
            if !carries(uses, gathered, [k0: .equal], k) { result.insert(k) }
        }
        return result
    }

    /// Whether some innermost loop (one with no loop in its body) carries a dependence within
    /// one iteration of the loops around it: its iterations must run one after the other, where
    /// a C compiler vectorises an innermost loop that carries none (a running sum into one
    /// element, a recurrence along it: scalar code).
    public var innermostLoopsCarry: Bool {
        func walk(_ items: [Item], _ loops: [Enclosing]) -> Bool {
            for item in items {
                guard case .loop(let k, let lower, let upper, let step, let body) = item else { continue }
                let here = loops + [Enclosing(variable: k, lower: lower, upper: upper, step: step)]
                if body.contains(where: { if case .loop = $0 { true } else { false } }) {
                    if walk(body, here) { return true }
                    continue
                }
                var uses: [Use] = []
                var gathered: Set<Int> = []
                collect(body, here, &uses, &gathered)
                var equal: [Int: Dependence.Direction] = [:]
                for l in loops { equal[l.variable] = .equal }
                if carries(uses, gathered, equal, k) { return true }
            }
            return false
        }
        return walk(body, [])
    }

    /// Whether two iterations of the outermost loop may touch one element, one of them writing
    /// it (`dependent` on every pair of accesses to a written tensor, the outer variables
    /// unequal). A read at a computed position of a written tensor carries one.
    public var outerCarriesDependence: Bool { outerCarriesDependence(except: []) }

    /// `outerCarriesDependence` leaving out the buffers in `except` (kept private to each
    /// worker: `privatizable`).
    public func outerCarriesDependence(except: Set<Int>) -> Bool {
        guard case .loop(let k0, _, _, _, _)? = body.first else { return false }
        var uses: [Use] = []
        var gathered: Set<Int> = []
        collect(body, [], &uses, &gathered)
        uses.removeAll { except.contains(accesses[$0.access].buffer) }
        return carries(uses, gathered.subtracting(except), [:], k0)
    }

    /// A loop around an access: its variable and bounds.
    struct Enclosing {
        let variable: Int
        let lower: Affine
        let upper: Affine
        let step: Int
    }

    struct Use {
        let access: Int
        let write: Bool
        let loops: [Enclosing]
    }

    /// Whether some pair of the uses, one a write of the tensor the other touches, may touch
    /// one element with the given directions and loop `k`'s variables unequal.
    private func carries(_ uses: [Use], _ gathered: Set<Int>, _ directions: [Int: Dependence.Direction], _ k: Int) -> Bool {
        var earlier = directions, later = directions
        earlier[k] = .less
        later[k] = .greater
        return mayTouch(uses, gathered, anyOf: [earlier, later])
    }

    /// Whether some pair of the uses, one a write of the tensor the other touches, may touch one
    /// element with the loops' variables related as one of `anyOf` says (the write's iteration
    /// first); any gathered read of a written tensor may.
    func mayTouch(_ uses: [Use], _ gathered: Set<Int>, anyOf: [[Int: Dependence.Direction]]) -> Bool {
        let written = Set(uses.filter(\.write).map { accesses[$0.access].buffer })
        if !written.isDisjoint(with: gathered) { return true }
        for (i, x) in uses.enumerated() where x.write {
            // Two writes are one pair, met once.
            for (j, y) in uses.enumerated() where j >= i || !y.write {
                guard accesses[x.access].buffer == accesses[y.access].buffer else { continue }
                if anyOf.contains(where: { dependent(x, y, $0) }) { return true }
            }
        }
        return false
    }

    /// Whether `x` at one iteration and `y` at another may touch the same element, with the
    /// variables of loops around both related as `directions` says: the accesses' equations,
    /// each loop's bounds (affine in the loops around it) and the directions as one system
    /// over both iterations' variables (`LoopSystem`). Exact over the rationals where the box
    /// tests of `Dependence` see a triangle's box.
    func dependent(_ x: Use, _ y: Use, _ directions: [Int: Dependence.Direction]) -> Bool {
        let nx = x.loops.count, n = nx + y.loops.count
        var xi: [Int: Int] = [:], yi: [Int: Int] = [:]
        for (p, l) in x.loops.enumerated() { xi[l.variable] = p }
        for (p, l) in y.loops.enumerated() { yi[l.variable] = nx + p }
        var system = LoopSystem(variables: n)
        func row(_ a: Affine, _ index: [Int: Int], scale: Int = 1) -> ([Int], Int) {
            var c = [Int](repeating: 0, count: n)
            for (k, v) in a.coefs.enumerated() where v != 0 {
                guard let p = index[k] else { continue }       // not a loop around it: never
                c[p] += scale * v
            }
            return (c, scale * a.constant)
        }
        for (loops, index) in [(x.loops, xi), (y.loops, yi)] {
            for l in loops {
                let t = index[l.variable]!
                var unit = [Int](repeating: 0, count: n)
                unit[t] = 1
                system.atLeastZero(unit, 0)
                // step > 0: step * t <= upper - lower - 1; step < 0: -step * t <= lower - upper - 1.
                let (u, uc) = row(l.upper, index, scale: l.step > 0 ? 1 : -1)
                let (lo, lc) = row(l.lower, index, scale: l.step > 0 ? 1 : -1)
                var c = [Int](repeating: 0, count: n)
                for q in 0..<n { c[q] = u[q] - lo[q] }
                c[t] -= abs(l.step)
                system.atLeastZero(c, uc - lc - 1)
            }
        }
        for (k, dir) in directions {
            guard let p = xi[k], let q = yi[k] else { continue }
            var c = [Int](repeating: 0, count: n)
            switch dir {
            case .equal:
                c[p] = 1; c[q] = -1
                system.equal(c, 0)
            case .less:
                c[q] = 1; c[p] = -1
                system.atLeastZero(c, -1)
            case .greater:
                c[p] = 1; c[q] = -1
                system.atLeastZero(c, -1)
            }
        }
        let (ax, ay) = (accesses[x.access], accesses[y.access])
        for (a, b) in zip(ax.indices, ay.indices) {
            let (p, pc) = row(a, xi), (q, qc) = row(b, yi)
            system.equal((0..<n).map { p[$0] - q[$0] }, pc - qc)
        }
        return system.feasible
    }

    /// The steps and stores `items` run, each counted once per iteration of the loops in them at
    /// their largest `extents` (`variableExtents()`): what the choice between compiled code and
    /// array kernels, and the split of loops over threads, are priced by.
    ///
    ///     let work = program.operations(in: program.body, extents: program.variableExtents())
    public func operations(in items: [Item], extents: [Int]) -> Int {
        items.reduce(0) { n, item in
            switch item {
            case .step, .store: n + 1
            case .loop(let k, _, _, _, let body): n + extents[k] * operations(in: body, extents: extents)
            }
        }
    }

    func collect(_ items: [Item], _ loops: [Enclosing], _ uses: inout [Use], _ gathered: inout Set<Int>) {
        for item in items {
            switch item {
            case .step(let s):
                switch steps[s].value {
                case .load(let a): uses.append(Use(access: a, write: false, loops: loops))
                case .gather(let a, _, _): gathered.insert(accesses[a].buffer)
                default: break
                }
            case .store(let a, _): uses.append(Use(access: a, write: true, loops: loops))
            case .loop(let k, let lower, let upper, let step, let body):
                collect(body, loops + [Enclosing(variable: k, lower: lower, upper: upper, step: step)], &uses, &gathered)
            }
        }
    }
}
