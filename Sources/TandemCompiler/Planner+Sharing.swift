import TandemIR

// What the planner materialises beyond the roots (split from Planner.swift by concern): values
// computed more than once (`decideSharing`, with loop-invariant hoisting), their costs, and the
// depth bound and the values kept for the tensors that hold them (`decideDepthAndKeep`).

extension Planner {
    /// Marks elementwise nodes that would be computed more than once: reached from kernels over
    /// different domains, or through different index maps (a stencil's shifted views). Uses at the
    /// same index inside one kernel are shared by common-subexpression elimination instead.
    func decideSharing() {
        struct Reach: Hashable { let domain: ReachDomain; let map: AffineMap; let points: Int }
        var reach = [[Reach]](repeating: [], count: nodes.count)
        func add(_ j: Int, _ r: Reach) {
            if reach[j].count < 4 && !reach[j].contains(r) { reach[j].append(r) }
        }
        func propagate(_ i: Int, _ r: Reach) {
            // Through a reshape the index is not affine: such uses are not counted as reaches.
            forEachInputMap(nodes[i], r.map) { input, m in
                if let m { add(position(input)!, Reach(domain: r.domain, map: m, points: r.points)) }
            }
        }
        for i in nodes.indices.reversed() {
            let node = nodes[i]
            if !materialized[i], uses[i] >= 2, isCompute(node), reach[i].count >= 2, cost(i) >= Planner.shareThreshold,
               !recomputedInStencil(cost(i), reach[i].map { ($0.domain, $0.map) }) {
                materialized[i] = true
            }
            // Loop-invariant hoisting: an expensive expression broadcast over a domain many times
            // its size is computed once into its own small buffer; so is a costly one read a few
            // times over (`hoists`).
            if !materialized[i], isCompute(node), reach[i].contains(where: { Planner.hoists(cost: cost(i), points: $0.points, count: node.count) }) {
                materialized[i] = true
            }
            if materialized[i] {
                if node.storage != nil { continue }
                let (extents, parallel, map) = domainMap(i)
                let domain = ReachDomain.kernel(kind(i), extents, parallel)
                let points = extents.reduce(1, *)
                switch node.op {
                case .reduce(_, let source, _):
                    add(position(source)!, Reach(domain: domain, map: map, points: points))
                case .update(let base, _, let value):
                    add(position(value)!, Reach(domain: domain, map: map, points: points))
                    add(position(base)!, Reach(domain: .copy(base.shape), map: .identity(base.shape.count), points: base.count))
                default:
                    propagate(i, Reach(domain: domain, map: map, points: points))
                }
            } else {
                for r in reach[i] { propagate(i, r) }
            }
        }
    }

    /// Whether a node of fused cost `cost` (a transcendental is 4), `count` elements, that a
    /// kernel of `points` points reads through a broadcast is computed once into a buffer of its
    /// own instead of at every point: costing at least a transcendental (`hoistThreshold`) and
    /// broadcast over 8 times its size, or recomputed so often that the repeats cost more than
    /// a stencil may spend (`recomputeBudget` extra operations a point) and more than
    /// `hoistSavings` operations in all. A softmax regression's inputs, drawn by `normal`
    /// (about 26 operations an element) and read 5 times by `X @ W`, were drawn again for
    /// every column of every product of the first sync: 1.45 and 1.98 ms, 0.27 ms drawn once.
    /// A cheaper expression is recomputed however often it is read: Mandelbrot's grid
    /// coordinates (`arange(w) * dx - 2.2`, two operations), hoisted, made its deep unsynced
    /// graph plan 4x longer (16 -> 61 ms).
    static func hoists(cost: Int, points: Int, count: Int) -> Bool {
        let n = max(count, 1)
        guard cost >= hoistThreshold else { return false }
        if points >= 8 * n { return true }
        let repeats = points / n - 1
        return repeats >= 1 && cost * repeats >= recomputeBudget && cost * (points - n) >= hoistSavings
    }

    /// Operations a hoist must save at least (see `hoists`): below that, its kernel and buffer
    /// cost more than the repeats. At 2^16, the probe N-body's `mass / (r2 * sqrt(r2))` (64
    /// bodies, about 10 operations a pair, read 3 times) was hoisted and the program ran 10%
    /// slower: vectorised, the repeats cost less than the kernel's launch.
    static let hoistSavings = 1 << 18

    /// Whether a shared value read by one kernel through shifted views of it (a stencil over a
    /// computed field: shallow water's half-step faces) is cheaper recomputed at each shift than
    /// stored and read back. Recomputing costs `cost` more operations per extra shift; storing
    /// costs a write, its read for ownership and a read per point of memory traffic, and the
    /// kernel that stores it can no longer run in place over what it reads, so its reader must
    /// wait. Measured on shallow_water (2 cores, double, n = 2048): the two face kernels and the
    /// update took 0.55 s for 50 steps as hand-written C, one fused kernel recomputing the faces
    /// 0.32 s. Reads from other kernels, or through maps that are not translations of each other
    /// (broadcasts, transposes), keep the stored value.
    func recomputedInStencil(_ cost: Int, _ reaches: [(domain: ReachDomain, map: AffineMap)]) -> Bool {
        guard let first = reaches.first, reaches.count <= Planner.maxStencilShifts,
              cost * (reaches.count - 1) <= Planner.recomputeBudget else { return false }
        return reaches.allSatisfy { $0.domain == first.domain && $0.map.inRank == first.map.inRank && $0.map.coef == first.map.coef }
    }

    /// Operations in the fused subtree of node i, each shared node counted once (views and
    /// leaves are free), up to `costCap`: the thresholds it is compared with are far below it.
    /// A diamond ladder (`z = z * z`, 64 times) has 2^64 paths but 64 nodes; summing per path
    /// overflowed. The walk is iterative and visits at most `costCap * 16` nodes, so its price
    /// per node is bounded whatever the graph.
    ///
    /// The walk marks the nodes it met with a stamp of its own in `costMarks` (no set per walk:
    /// the sets' allocations and hashing were most of this function's time).
    func cost(_ i: Int) -> Int {
        if subtreeCost.count != nodes.count {
            subtreeCost = [Int](repeating: -1, count: nodes.count)
            costMarks = [UInt32](repeating: 0, count: nodes.count)
        }
        if subtreeCost[i] >= 0 { return subtreeCost[i] }
        costStamp &+= 1
        if costStamp == 0 {
            costMarks = [UInt32](repeating: 0, count: nodes.count)
            costStamp = 1
        }
        var total = 0, visits = 0
        costMarks[i] = costStamp
        var stack = [i]
        while let k = stack.popLast(), total < Planner.costCap, visits < Planner.costCap * 16 {
            visits += 1
            let op = nodes[k].op
            total += Planner.opCost(op)
            for x in 0..<op.inputCount {
                let j = position(op.input(x))!
                if !materialized[j] && costMarks[j] != costStamp {
                    costMarks[j] = costStamp
                    stack.append(j)
                }
            }
        }
        let c = min(total, Planner.costCap)
        subtreeCost[i] = c
        return c
    }

    /// The operations one node adds to a kernel (a transcendental or a division counts 4).
    static func opCost(_ op: Node.Op) -> Int {
        switch op {
        case .storage, .fill, .iota, .view, .reduce, .update, .reshape: 0
        case .uniform: 4
        case .unary(let u, _): u.costClass == .simple ? 1 : 4
        case .binary(let b, _, _): b.costClass == .simple ? 1 : 4
        default: 1
        }
    }

    /// Bounds what one kernel fuses, and keeps what a live tensor holds. In one pass from the
    /// leaves (`nodes` is in dependency order):
    /// - a node whose chain of fused nodes below it is longer than `maxFusedDepth` is stored by a
    ///   kernel of its own (`cut`), so kernels, and every walk over them, stay shallow: a loop of
    ///   10,000 updates without a sync is a few dozen kernels, not one recursion 20,000 deep;
    /// - a computed node that a tensor still holds is stored when its pending history recomputes
    ///   what an earlier sync computed without storing, and costs at least `keepThreshold`
    ///   operations a point. Reading `x.sum()` in a loop over `x = x * 0.5 + 1` then stores `x`
    ///   on the way (one more output of the sum's kernel) every other iteration instead of
    ///   leaving its whole history to be recomputed at each read: the price of a read stays flat
    ///   over the iterations. A held value whose history is computed for the first time is not
    ///   stored: locals of a loop body (Black-Scholes' `d1`, `d2`) are usually never read again,
    ///   and storing them would cost a store and a fresh buffer per value and iteration, the
    ///   traffic fusion exists to save (not measured: the rule was chosen before measuring).
    ///   Unless its history costs `costCap` operations a point or more: then the store costs a
    ///   few percent of computing it, and a later read would recompute all of it in a kernel
    ///   of its own, compiled for that read alone (fir_filter's 101-tap sum, computed for its
    ///   error and then again for its sum: a second 0.33 s compile in its first run).
    ///   Recomputing is also kept for cheap values (a view, a single operation on stored data),
    ///   for generators (`uniform`, `arange`), whose price does not grow, and for values larger
    ///   than anything they read (a pairwise `dx` broadcast from two vectors: storing N x N for
    ///   N inputs is what fusion avoids).
    func decideDepthAndKeep() {
        var depth = [Int](repeating: 0, count: nodes.count)
        // The most elements of any stored or generated value the node's fused history reads.
        var widest = [Int](repeating: 0, count: nodes.count)
        // Whether the node's fused history holds a node an earlier sync computed without storing.
        var recomputes = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices where nodes[i].storage == nil {
            let node = nodes[i]
            var d = 0
            for input in node.op.inputs {
                let j = position(input)!
                // A materialised elementwise node may still be computed inside its consumer.
                if !(nodes[j].storage != nil || cut[j] || (materialized[j] && !isElementwise(nodes[j]))) { d = max(d, depth[j]) }
                widest[i] = max(widest[i], materialized[j] || input.op.inputs.isEmpty ? input.count : widest[j])
                if !materialized[j] && recomputes[j] { recomputes[i] = true }
            }
            depth[i] = d + 1
            if node.computedWithoutStore { recomputes[i] = true }
            guard isElementwise(node) else { continue }
            if depth[i] > Planner.maxFusedDepth {
                cut[i] = true
                materialized[i] = true
            } else if !materialized[i], isCompute(node), !node.op.inputs.isEmpty, node.count <= widest[i],
                      node.holders.load(ordering: .relaxed) > 0,
                      recomputes[i] ? cost(i) >= Planner.keepThreshold : cost(i) >= Planner.costCap {
                materialized[i] = true
                plan.keptNodes += 1
            }
        }
        subtreeCost = []
    }

    /// Nodes that compute values (views and fills are index maps and constants: never stored for reuse).
    func isCompute(_ node: Node) -> Bool {
        switch node.op {
        case .unary, .binary, .select, .cast, .uniform, .iota, .gather: true
        default: false
        }
    }

    func isElementwise(_ node: Node) -> Bool {
        switch node.op {
        case .unary, .binary, .select, .cast, .view, .uniform, .iota, .fill, .gather: true
        default: false
        }
    }
}
