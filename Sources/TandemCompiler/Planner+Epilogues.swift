import TandemIR

// Reductions computed in the kernel of the elementwise value that reads them (split from the
// schedule by concern): `x.mean(axis: 1)`, `(x * x).sum().sqrt()`, `A[i, j] -= a.dot(b)`.

extension Planner {
    /// Decides which reductions are computed inside their consumer's kernel, in its epilogue,
    /// instead of by a kernel of their own whose buffer the consumer then reads.
    ///
    /// A reduction `R` is so fused into the kernel of node `K` (an elementwise value stored on
    /// its own, or an update) when `K`'s kernel is the only reader of `R` (no other node, in
    /// this plan or pending outside it, and no tensor holds `R`), reads it at its own index
    /// (`R`'s shape is `K`'s domain, through no view that moves or broadcasts it), and `R` is
    /// not a root nor written straight into an update's buffer. `K`'s kernel then runs over its
    /// domain and `R`'s reduce axes: `R`'s source in the body, `R`'s accumulated value and
    /// everything of `K` above it in the epilogue, once a point. Several reductions over the
    /// same reduce extents can share one such kernel (`x.sum(axis: 1) / y.sum(axis: 1)`);
    /// another one is left to a kernel of its own. Reductions whose sources share a computed
    /// value (N-body's three force sums, over the same pair terms) are fused only all into the
    /// same kernel, else each keeps its own and they run as one kernel as before; and only
    /// reductions of up to `maxEpiloguePoints` source elements are fused.
    ///
    /// Why: a reduction followed by an elementwise step was two kernels (a mean: the sum, then
    /// the division), each planned, placed and launched; in a program that updates one element
    /// at a time (`A[i, j] -= A[i, ..<j].dot(A[..<j, j])`, npbench's lu and cholesky) that was
    /// two kernels a statement where one does. Results are the same bits: the reduction folds
    /// in the same order (the fused kernel has the same extents, so the same split and lanes),
    /// and the epilogue computes what the consumer's kernel computed.
    ///
    /// Where `K` writes a buffer that `R` reads (an update in place, `A[i, j] -= ...` reading
    /// `A`), the kernel reads all of `R`'s inputs before it writes only when it has one point;
    /// with more points another point's write could land before this point's reads, so then
    /// `R` keeps its own kernel. A value computed into an update's buffer that an older version
    /// lends (`decidePingPong`) is not fused either.
    func decideEpilogues() {
        // Every kernel that will read a reduction, and at which map: a reduction read by more
        // than one kernel (another reduction's source, an update's copied base, a second
        // consumer) keeps its own. A kernel that may not take reductions is recorded as -1.
        var metBy: [Int: (kernel: Int, map: AffineMap?, count: Int)] = [:]
        // Which reduction's source first computed each node, and the reductions whose sources
        // share a computed node: such reductions are one kernel when they run together (N-body's
        // three force sums share the pair terms), so each is fused only with its partners.
        var computedFor = [Int](repeating: -1, count: nodes.count)
        var partners: [Int: Set<Int>] = [:]
        func walk(_ start: Node, _ map: AffineMap?, kernel k: Int, top: Bool, reduction: Int? = nil) {
            var seen: Set<KernelBuilder.MemoKey> = []
            var seenUnmapped: Set<Int> = []
            func go(_ n: Node, _ m: AffineMap?, top: Bool) {
                let j = position(n)!
                if !top {
                    if let m { if !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return } }
                    else if !seenUnmapped.insert(j).inserted { return }
                    if materialized[j] {
                        if case .reduce = n.op {
                            if let e = metBy[j] { metBy[j] = (e.kernel, e.map, e.count + 1) } else { metBy[j] = (k, m, 1) }
                        }
                        return
                    }
                    if let r = reduction {
                        if computedFor[j] < 0 { computedFor[j] = r }
                        else if computedFor[j] != r {
                            partners[r, default: []].insert(computedFor[j])
                            partners[computedFor[j], default: []].insert(r)
                        }
                    }
                }
                forEachInputMap(n, m) { go($0, $1, top: false) }
            }
            go(start, map, top: top)
        }
        for k in nodes.indices where materialized[k] && nodes[k].storage == nil {
            let node = nodes[k]
            switch node.op {
            case .reduce(_, let source, _):
                walk(source, nil, kernel: -1, top: false, reduction: k)
            case .update(let base, _, let value):
                // The base is read by the copies around (or under) the written box.
                walk(base, nil, kernel: -1, top: false)
                if isPlaced(k) { continue }     // the value's own kernel wrote it
                walk(value, .identity(value.shape.count), kernel: pingPong[k] == nil ? k : -1, top: false)
            default:
                let lent = placement[k].map { pingPong[$0] != nil } ?? false
                walk(node, .identity(node.shape.count), kernel: lent ? -1 : k, top: true)
            }
        }
        var into: [Int: Int] = [:]
        var extentsOf: [Int: [Int]] = [:]      // the reduce extents of each kernel's first reduction
        for (r, met) in metBy.sorted(by: { $0.key < $1.key }) {
            guard met.count == 1, met.kernel >= 0, let m = met.map, canFuseEpilogue(r, into: met.kernel, at: m) else { continue }
            let extents = Planner.reduceExtents(nodes[r])
            if let first = extentsOf[met.kernel], first != extents { continue }
            extentsOf[met.kernel] = extents
            into[r] = met.kernel
        }
        // A reduction whose partners are not all fused into the same kernel keeps its own
        // kernel (and so do its partners: that kernel computes them together).
        var changed = true
        while changed {
            changed = false
            for (r, k) in into where (partners[r] ?? []).contains(where: { into[$0] != k }) {
                into[r] = nil
                changed = true
            }
        }
        for (r, k) in into.sorted(by: { $0.key < $1.key }) {
            fusedReductions[k, default: []].append(r)
            materialized[r] = false
            plan.fusedEpilogues += 1
        }
    }

    private func canFuseEpilogue(_ r: Int, into k: Int, at map: AffineMap) -> Bool {
        let red = nodes[r]
        guard red.storage == nil, !roots.contains(r), placement[r] == nil, !taken.contains(r),
              red.holders.load(ordering: .relaxed) == 0, red.consumers.load(ordering: .relaxed) == uses[r] else { return false }
        // The kernel's domain, and the buffer it writes when that is an update's base.
        let domain: [Int]
        var writtenBase: Node? = nil
        switch nodes[k].op {
        case .update(let base, _, let value):
            domain = value.shape
            if inPlace[k] { writtenBase = base }
        case .reduce:
            return false
        default:
            domain = nodes[k].shape
            if let u = placement[k], inPlace[u], let b = baseIndex(of: u) { writtenBase = nodes[b] }
        }
        guard red.shape == domain, map == .identity(domain.count), Planner.reduceExtents(red).allSatisfy({ $0 > 0 }) else { return false }
        guard case .reduce(_, let source, _) = red.op, source.count <= Planner.maxEpiloguePoints else { return false }
        if let base = writtenBase, domain.reduce(1, *) > 1, reaches(red, base) { return false }
        return true
    }

    /// The most points (the reduction's source elements) a kernel with reductions in its
    /// epilogue runs over. What fusing saves is a kernel's planning, placement and launch, tens
    /// of microseconds, which a small kernel's work does not dwarf; over large domains it saved
    /// nothing measurable and moved the schedule: GMM's medium EM step (10^6 points, 16
    /// components, 8 features) ran 1.21-1.41 s fused against 1.05-1.24 s apart on all workers
    /// (its variance kernel then waited for the component sums it divides by, and the kernels
    /// around it changed their lagged passes).
    static let maxEpiloguePoints = 1 << 16

    /// The extents of a reduction's reduce axes, in axis order.
    static func reduceExtents(_ node: Node) -> [Int] {
        guard case .reduce(_, let source, let axes) = node.op else { return [] }
        return axes.map { source.shape[$0] }
    }

    /// The domain of node k's kernel when it computes reductions in its epilogue: its own
    /// extents, then the reductions' reduce extents; and the map from that domain to its own
    /// index (the reduce axes dropped).
    func epilogueDomain(_ k: Int, own: [Int]) -> (extents: [Int], projection: AffineMap)? {
        guard let fused = fusedReductions[k], let first = fused.first else { return nil }
        let extents = own + Planner.reduceExtents(nodes[first])
        return (extents, Planner.projection(parallel: own.count, rank: extents.count))
    }

    /// The map from a domain of `rank` axes to its first `parallel` ones, in order (the reduce
    /// axes dropped): where a reduction kernel stores its results, and how a kernel with
    /// reductions in its epilogue reads its node's values.
    static func projection(parallel: Int, rank: Int) -> AffineMap {
        var coef = [Int](repeating: 0, count: parallel * rank)
        for d in 0..<parallel { coef[d * rank + d] = 1 }
        return AffineMap(inRank: parallel, outRank: rank, offset: [Int](repeating: 0, count: parallel), coef: coef)
    }

    /// A reduction's kernel domain (its kept axes, then its reduced ones), how many of them are
    /// parallel, and the map from that domain to its source's index: a reduction kernel's
    /// (`domainMap`), and the body of one computed in a consumer's epilogue.
    static func reduceDomain(source shape: [Int], axes: [Int]) -> (extents: [Int], parallel: Int, map: AffineMap) {
        let kept = (0..<shape.count).filter { !axes.contains($0) }
        let order = kept + axes
        var coef = [Int](repeating: 0, count: order.count * order.count)
        for (pos, d) in order.enumerated() { coef[d * order.count + pos] = 1 }
        let map = AffineMap(inRank: order.count, outRank: order.count, offset: [Int](repeating: 0, count: order.count), coef: coef)
        return (order.map { shape[$0] }, kept.count, map)
    }
}
