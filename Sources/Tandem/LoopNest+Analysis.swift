import TandemCompiler

// The analysis of a traced loop nest: whether its statements may run as arrays, with which loop
// run one iteration at a time, or as wavefronts. Split from LoopNest.swift by concern (the
// recorder traces and runs; this decides).
extension LoopRecorder {
    /// What a dependence between a statement's write (at iteration `x`) and another access (at
    /// `y`) must respect.
    enum Rule {
        /// The statement writes the element again: only at the same iteration.
        case selfWrite
        /// A later statement writes it: not at an earlier iteration than this one.
        case laterWrite
        /// A read after the statement in the body: not of a write of a later iteration.
        case readAfter
        /// A read before the statement in the body: not missing a write of an earlier iteration.
        case readBefore
    }

    /// Whether a dependence with direction vector `d` breaks `rule` when the traced loops run as
    /// arrays, except loop `peel` (if any), run one iteration at a time in order.
    /// `nestOrder` gives the sequential nest's order of two iterations from their direction
    /// vector (lexicographic, unless the variables are rewritten, as for wavefronts).
    static func breaks(_ d: [Dependence.Direction], _ rule: Rule, peel: Int?,
                       nestOrder: ([Dependence.Direction]) -> Dependence.Order = Dependence.order(of:)) -> Bool {
        if let k = peel, d[k] != .equal {
            // Ordered by the loop run one iteration at a time: right when that is the nest's order.
            return nestOrder(d) != (d[k] == .less ? .before : .after)
        }
        // Within one iteration of the peeled loop: the order of the others.
        let o = peel.map { k in Dependence.order(of: Array(d[..<k] + d[(k + 1)...])) } ?? nestOrder(d)
        switch rule {
        case .selfWrite: return o != .same
        case .laterWrite, .readAfter: return o == .after
        case .readBefore: return o == .before
        }
    }

    /// Whether wavefronts `skew * u0 + u1 = w` of the first two free variables may run one after
    /// the other, each as arrays: the test of `legal` on the nest rewritten in `(w, u0)`, over
    /// the box around the rewritten iterations (more iterations than there are, so the answer
    /// stays safe), with `w` run one value at a time. Not tried with reductions.
    static func wavefrontLegal(_ f: Frame, skew h: Int) -> Bool {
        guard f.extents.count >= 2, f.mode == .flat, !f.statements.contains(where: { $0.reduced != nil }) else { return false }
        // u0 = v, u1 = w - h v: the column of w is u1's, the column of v is u0's - h u1's.
        func rewrite(_ m: AffineMap) -> AffineMap {
            var coef = m.coef
            for a in 0..<m.inRank {
                let (c0, c1) = (m.c(a, 0), m.c(a, 1))
                coef[a * m.outRank] = c1
                coef[a * m.outRank + 1] = c0 - h * c1
            }
            return AffineMap(inRank: m.inRank, outRank: m.outRank, offset: m.offset, coef: coef)
        }
        let extents = [(f.extents[0] - 1) * h + f.extents[1], f.extents[0]] + f.extents.dropFirst(2)
        let g = Frame(id: f.id, extents: extents, own: extents.count, mode: .flat)
        g.statements = f.statements.map { Statement(state: $0.state, map: rewrite($0.map), reduced: nil, path: $0.path) }
        g.reads = f.reads.map {
            Read(source: $0.source, node: $0.node, base: $0.base, map: rewrite($0.map), position: $0.position, path: $0.path, indirect: $0.indirect)
        }
        // The nest's own order from a direction vector over (w, u0, rest): u0 first; with u0 equal,
        // u1 moves as w does; with both equal, the rest.
        return legal(g, peel: 0) { d in
            if d[1] != .equal { return d[1] == .less ? .before : .after }
            if d[0] != .equal { return d[0] == .less ? .before : .after }
            return Dependence.order(of: Array(d.dropFirst(2)))
        }
    }

    /// Whether running each statement of the traced level over the whole iteration space, one
    /// statement after the other (with loop `peel` run one iteration at a time outside them),
    /// gives what the sequential nest gives.
    static func legal(_ f: Frame, peel: Int?,
                      nestOrder: @escaping ([Dependence.Direction]) -> Dependence.Order = Dependence.order(of:)) -> Bool {
        let e = f.extents
        // Two accesses inside loops `p` and `q` (axes, outermost first) are tested over the
        // axes of either (1 on the others), and ordered by the loops they share, then by the
        // body (`.same`). In a flat trace every access is inside every loop.
        func test(_ a: AffineMap, _ b: AffineMap, _ p: [Int], _ q: [Int], _ rule: Rule) -> Bool {
            if let k = peel {
                return Dependence.directions(a, b, extents: e).contains { breaks($0, rule, peel: k, nestOrder: nestOrder) }
            }
            let box = e.indices.map { p.contains($0) || q.contains($0) ? e[$0] : 1 }
            var shared: [Int] = []
            for (x, y) in zip(p, q) {
                guard x == y else { break }
                shared.append(x)
            }
            let order: ([Dependence.Direction]) -> Dependence.Order = { d in
                for a in shared where d[a] != .equal { return d[a] == .less ? .before : .after }
                return .same
            }
            return Dependence.directions(a, b, extents: box).contains { breaks($0, rule, peel: nil, nestOrder: order) }
        }
        for (si, s) in f.statements.enumerated() {
            if let r = s.reduced {
                // Once per kept point; the loops it leaves out accumulate in order.
                let kept = (0..<e.count).filter { k in (0..<s.map.inRank).contains { s.map.c($0, k) != 0 } }
                let p = peel.flatMap { kept.firstIndex(of: $0) }
                if Dependence.directions(r.map, r.map, extents: r.extents).contains(where: { breaks($0, .selfWrite, peel: p) }) { return false }
            } else if test(s.map, s.map, s.path, s.path, .selfWrite) {
                return false
            }
            for t in f.statements[(si + 1)...] where t.state === s.state {
                if test(s.map, t.map, s.path, t.path, .laterWrite) { return false }
            }
            for r in f.reads where r.source === s.state.standIn || r.source === s.state.original {
                if r.indirect { return false }          // reads it where the analysis cannot see
                if let red = s.reduced, r.node === red.selfRead { continue }
                if test(s.map, r.map, s.path, r.path, si < r.position ? .readAfter : .readBefore) { return false }
            }
        }
        return true
    }
}
