import TandemIR

// How the planner orders and groups the materialised nodes into kernels (split from
// Planner.swift by concern): kernel domains, what blocks a kernel, which nodes a kernel
// computes inline, the schedule, and the emission of each kernel.

extension Planner {
    // MARK: - Scheduling

    func kind(_ i: Int) -> Kind {
        switch nodes[i].op {
        case .reduce(_, let source, let axes): .reduce(source: source.shape, axes: axes, layout: reduceLayout(i, source, axes))
        case .update: .update
        default: .map(shape: nodes[i].shape)
        }
    }

    /// How reduction `i` reads the arrays whose values differ between its outputs, through the
    /// elementwise operations above its source down to the views and arrays they read: each
    /// such read moves along the innermost reduce axis by one element (`rows`), or by more
    /// while it moves by one along the innermost kept axis (`columns`). Arrays the same for
    /// every output (the vector of `A x`) say nothing. Two reductions over one domain, one of
    /// each (PolyBench mvt's `A y1` and `Aᵀ y2`), fused, read one of them across its rows with
    /// a stride in a laned loop (mvt at 400: 100 µs a call on two workers); apart, each kernel
    /// takes its own form (laned rows, blocked columns).
    func reduceLayout(_ i: Int, _ source: Node, _ axes: [Int]) -> ReduceLayout {
        if let known = layoutCache[i] { return known }
        let rank = source.shape.count
        let kept = (0..<rank).filter { !axes.contains($0) }
        var rows = false, columns = false
        if let r = axes.last, let c = kept.last {
            var stack = [source]
            var seen: Set<ObjectIdentifier> = []
            while let n = stack.popLast(), seen.count < 64 {
                guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
                let strides: [Int]
                switch n.op {
                case .unary, .binary, .select, .cast:
                    n.op.forEachInput { stack.append($0) }
                    continue
                case .fill, .iota, .uniform:
                    continue
                case .view(let base, let map):
                    guard map.outRank == rank else { continue }
                    strides = map.flatten(rowMajor: base.shape).strides
                default:
                    strides = Shape.rowMajorStrides(source.shape)
                }
                guard kept.contains(where: { strides[$0] != 0 }) else { continue }     // the same for every output
                if strides[r] == 1 { rows = true } else if strides[r] != 0 && strides[c] == 1 { columns = true }
            }
        }
        let layout: ReduceLayout = rows == columns ? .other : (rows ? .rows : .columns)
        layoutCache[i] = layout
        return layout
    }

    /// The map from node i's kernel domain to its source (reductions) or itself.
    func domainMap(_ i: Int) -> (extents: [Int], parallel: Int, map: AffineMap) {
        let node = nodes[i]
        switch node.op {
        case .reduce(_, let source, let axes):
            return Planner.reduceDomain(source: source.shape, axes: axes)
        case .update(_, _, let value):
            return (value.shape, value.shape.count, .identity(value.shape.count))
        default:
            return (node.shape, node.shape.count, .identity(node.shape.count))
        }
    }

    func cachedBlockers(_ i: Int) -> [Int] {
        if let b = blockerCache[i] { return b }
        let b = blockers(i)
        blockerCache[i] = b
        return b
    }

    func blockers(_ i: Int) -> [Int] {
        var out: Set<Int> = []
        let node = nodes[i]
        let (extents, _, map) = domainMap(i)
        // A kernel computing reductions in its epilogue runs over a wider domain than its node's:
        // it computes nothing inline (`KernelBuilder` is made with `allowInline: false`).
        let inlineOK = kind(i) != .update && fusedReductions[i] == nil
        var seen = Set<KernelBuilder.MemoKey>(minimumCapacity: 32)   // grown from empty, a walk rehashed five times
        var seenUnmapped: Set<Int> = []     // nodes met where the index is not affine (below a reshape, a fused reduction)
        // Materialised nodes the kernel could compute inline: walked through only after the rest,
        // and only when they are not blockers already. A blocker is produced before this kernel
        // runs, and whatever it needs before it, so walking on through it finds nothing new; a
        // time-stepped field read both at its own index and through a gather (a roll) was walked
        // down the whole chain of steps by every step's kernel (quadratic in the steps).
        //
        // Walked through at most `maxInlineHops` deep (materialised nodes passed through on the
        // way down); one deeper is a blocker. A time-stepped field that each step reads at its
        // own index was otherwise walked down every earlier step of the plan by every step's
        // kernel, each step at every offset its stencil reads (a limited 1-D advection, 16 steps
        // a plan: 86% of its planning, planning 70% of its run).
        var inlinable: [(node: Node, map: AffineMap, hops: Int)] = []
        var hops = 0
        func go(_ n: Node, _ m: AffineMap?, top: Bool) {
            plan.blockerSteps += 1
            let j = position(n)!
            if !top, let m, !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return }
            if !top, m == nil, !seenUnmapped.insert(j).inserted { return }
            if !top && materialized[j] {
                if n.storage != nil { return }
                if inlineOK, hops < Planner.maxInlineHops, let m, canInline(n, at: m, domain: extents) {
                    inlinable.append((n, m, hops + 1))
                    return
                }
                out.insert(j)
                return
            }
            forEachInputMap(n, m) { go($0, $1, top: false) }
        }
        func walkInlinable() {
            while let (n, m, h) = inlinable.popLast() {
                if out.contains(position(n)!) { continue }
                hops = h
                forEachInputMap(n, m) { go($0, $1, top: false) }
            }
        }
        switch node.op {
        case .reduce(_, let source, _): go(source, map, top: false)
        case .update(let base, _, let value):
            go(value, map, top: false)
            let b = position(base)!
            if !inPlace[i] { go(base, .identity(base.shape.count), top: false) }
            if inPlace[i] {
                if base.storage == nil { out.insert(b) }
                // Every other kernel reading the old version runs first.
                for r in readers(of: b) where r != i && materialized[r] && nodes[r].storage == nil { out.insert(r) }
            }
        default: go(node, map, top: true)
        }
        walkInlinable()
        // A value computed straight into the buffer of an in-place update writes its base:
        // the base first, and every other kernel reading the old version, as for the update.
        if let u = placement[i], inPlace[u], let b = baseIndex(of: u) {
            if nodes[b].storage == nil { out.insert(b) }
            for r in readers(of: b) where r != i && r != u && materialized[r] && nodes[r].storage == nil { out.insert(r) }
        }
        out.remove(i)
        return Array(out)
    }

    /// How an index map reaches a node's inputs: a view composes its map, a reshape is not affine
    /// in the index (nil), every other operation reads its inputs at the same index.
    func inputMaps(_ n: Node, _ m: AffineMap?) -> [(node: Node, map: AffineMap?)] {
        var out: [(node: Node, map: AffineMap?)] = []
        forEachInputMap(n, m) { out.append(($0, $1)) }
        return out
    }

    /// `inputMaps` without the array: the planner's walks call it at every node they pass, and
    /// the two arrays of `op.inputs.map` were a tenth of their allocations.
    @inline(__always)
    func forEachInputMap(_ n: Node, _ m: AffineMap?, _ body: (Node, AffineMap?) -> Void) {
        let op = n.op
        switch op {
        case .view(let s, let vm): body(s, m.map { vm.composed(with: $0) })
        case .reshape(let s): body(s, nil)
        // A reduction's source has axes its consumer's domain has not (met only when the
        // reduction is computed in its consumer's epilogue: `decideEpilogues`).
        case .reduce(_, let s, _): body(s, nil)
        case .gather(let s, let index, let axis):
            // The index at the node's axes axis..<axis+rank(index); the source anywhere (nil).
            body(s, nil)
            body(index, m.map { Planner.gatherIndexMap(nodeRank: n.shape.count, indexRank: index.shape.count, axis: axis).composed(with: $0) })
        default:
            for i in 0..<op.inputCount { body(op.input(i), m) }
        }
    }

    /// The map from a gather node's index to its index tensor's index (axes axis..<axis+k).
    static func gatherIndexMap(nodeRank r: Int, indexRank k: Int, axis: Int) -> AffineMap {
        var coef = [Int](repeating: 0, count: k * r)
        for d in 0..<k { coef[d * r + axis + d] = 1 }
        return AffineMap(inRank: k, outRank: r, offset: [Int](repeating: 0, count: k), coef: coef)
    }

    func readers(of b: Int) -> [Int] {
        if readersIndex == nil {
            var index: [Int: [Int]] = [:]
            for r in nodes.indices where materialized[r] && nodes[r].storage == nil {
                for x in readSet(r) { index[x, default: []].append(r) }
            }
            readersIndex = index
        }
        return readersIndex![b] ?? []
    }

    /// The materialised nodes r's kernel reads directly.
    func readSet(_ r: Int) -> Set<Int> {
        if let s = readCache[r] { return s }
        var s: Set<Int> = []
        var seen: Set<ObjectIdentifier> = []
        func go(_ n: Node, top: Bool) {
            let j = position(n)!
            if !top && materialized[j] { s.insert(j); return }
            if !seen.insert(ObjectIdentifier(n)).inserted { return }
            n.op.forEachInput { go($0, top: false) }
        }
        go(nodes[r], top: true)
        if case .update = nodes[r].op, !inPlace[r], let base = baseIndex(of: r) { s.insert(base) }
        readCache[r] = s
        return s
    }

    /// Whether a materialised node met at `map` inside a kernel over `domain` can be computed
    /// there and stored on the way: elementwise, and the map visits each of its elements once.
    func canInline(_ node: Node, at map: AffineMap, domain: [Int]) -> Bool {
        guard isElementwise(node), !cut[position(node)!], fusedReductions[position(node)!] == nil, map.inRank == domain.count, map.outRank == domain.count,
              map.offset.allSatisfy({ $0 == 0 }) else { return false }
        for d in 0..<map.inRank {
            var found = false
            for k in 0..<map.outRank where map.c(d, k) != 0 {
                guard map.c(d, k) == 1, !found, domain[k] == node.shape[d] else { return false }
                found = true
            }
            if !found { return false }
        }
        return true
    }

    func isMaterialized(_ node: Node) -> Bool { materialized[position(node)!] }

    /// The dense buffer of a produced node (not of one placed inside an update's buffer).
    func producedBuffer(_ node: Node) -> Buffer? {
        if let s = node.storage { return s }
        let i = position(node)!
        return produced[i] && placement[i] == nil ? buffers[i] : nil
    }

    /// Where a produced node's element `map(j)` lives, or nil when it is not produced yet.
    func producedLocation(_ node: Node, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess)? {
        if let s = node.storage { return (s, flat(map, node.shape)) }
        let i = position(node)!
        return produced[i] ? location(i, map) : nil
    }

    /// Marks a node produced by the kernel being built and says where to store it.
    func claimInline(_ node: Node, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess) {
        let i = position(node)!
        produced[i] = true
        return location(i, map)
    }

    /// The buffer and flat access of node i's element `map(j)`: its own dense buffer, or the view of
    /// the fresh buffer of the update it was placed into.
    func location(_ i: Int, _ map: AffineMap) -> (Buffer, Overlap.FlatAccess) {
        if let u = placement[i], case .update(let base, let umap, _) = nodes[u].op {
            return (buffer(u), flat(umap.composed(with: map), base.shape))
        }
        return (buffer(i), flat(map, nodes[i].shape))
    }

    func buffer(_ i: Int) -> Buffer {
        if let b = buffers[i] { return b }
        let b: Buffer
        if let u = placement[i] {
            b = buffer(u)
        } else if inPlace[i], let base = baseIndex(of: i) {
            b = buffer(base)
        } else {
            b = Buffer(dtype: nodes[i].dtype, count: nodes[i].count, deferred: true)
        }
        buffers[i] = b
        return b
    }

    func schedule() {
        var pending = nodes.indices.filter { materialized[$0] && !produced[$0] }
        // Readiness kept up to date as nodes are produced, instead of asking every pending node
        // again after each kernel (quadratic in a plan's kernels: a plan of 8,000 small updates
        // spent most of its time there): a node that is not ready waits on its blockers not yet
        // produced, and is asked again when one of them is.
        var isReadyNow = [Bool](repeating: false, count: nodes.count)
        var waiters = [[Int]](repeating: [], count: nodes.count)
        func evaluate(_ i: Int) {
            let missing = cachedBlockers(i).filter { !produced[$0] }
            if missing.isEmpty { isReadyNow[i] = true } else { for m in missing { waiters[m].append(i) } }
        }
        func evaluateAll() {
            isReadyNow = [Bool](repeating: false, count: nodes.count)
            waiters = [[Int]](repeating: [], count: nodes.count)
            for i in pending { evaluate(i) }
        }
        evaluateAll()
        inliners = nil
        while !pending.isEmpty {
            let ready = pending.filter { isReadyNow[$0] }
            // Prefer a node that no pending consumer will compute inline anyway.
            let pick = ready.first { !willBeInlined($0, pending: pending) } ?? ready.first
            guard let first = pick else {
                demoteAnInPlaceUpdate(pending)
                evaluateAll()
                continue
            }
            var group = [first]
            let k = kind(first)
            if fusedReductions[first] != nil {
                // Its kernel runs over its reductions' axes too: alone.
            } else if k != .update {
                for j in ready where j != first && kind(j) == k && !produced[j] && fusedReductions[j] == nil { group.append(j) }
            } else if inPlace[first] {
                // In-place updates over the same domain share a kernel: being ready, none of them
                // reads another's base (a reader of a base blocks that base's in-place update).
                let extents = domainMap(first).extents
                for j in ready where j != first && kind(j) == .update && inPlace[j] && !produced[j] && fusedReductions[j] == nil
                    && domainMap(j).extents == extents { group.append(j) }
            } else if fresh[first], !isPlaced(first) {
                // So do updates into fresh buffers: each reads only old versions (a ready update
                // reads no pending one), and values they share (stencil terms) are computed once.
                let extents = domainMap(first).extents
                for j in ready where j != first && kind(j) == .update && fresh[j] && !isPlaced(j) && !produced[j] && fusedReductions[j] == nil
                    && domainMap(j).extents == extents { group.append(j) }
            }
            emitKernel(group)
            var done: [Int] = []
            pending.removeAll { i in
                if produced[i] { done.append(i) }
                return produced[i]
            }
            for d in done {
                isReadyNow[d] = false
                let w = waiters[d]
                waiters[d] = []
                for i in w where !produced[i] && !isReadyNow[i] {
                    if cachedBlockers(i).allSatisfy({ produced[$0] }) { isReadyNow[i] = true }
                }
            }
        }
    }

    /// Whether update u's value is computed straight into u's fresh buffer by a kernel of its own.
    func isPlaced(_ u: Int) -> Bool {
        guard case .update(_, _, let value) = nodes[u].op else { return false }
        return placement[position(value)!] == u
    }

    func targets(_ c: Int) -> Set<Int> {
        if let t = inlineTargets[c] { return t }
        var found: Set<Int> = []
        if kind(c) != .update && fusedReductions[c] == nil {
            let (extents, _, map) = domainMap(c)
            var seen = Set<KernelBuilder.MemoKey>(minimumCapacity: 32)   // grown from empty, a walk rehashed five times
            func go(_ n: Node, _ m: AffineMap?, top: Bool) {
                let j = position(n)!
                if !top && materialized[j] {
                    if isElementwise(n), let m, canInline(n, at: m, domain: extents) { found.insert(j) }
                    return
                }
                if let m, !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return }
                forEachInputMap(n, m) { go($0, $1, top: false) }
            }
            if case .reduce(_, let source, _) = nodes[c].op { go(source, map, top: false) } else { go(nodes[c], map, top: true) }
        }
        inlineTargets[c] = found
        return found
    }

    /// Whether a pending consumer's kernel will compute node i inline (so i needs no kernel).
    func willBeInlined(_ i: Int, pending: [Int]) -> Bool {
        guard isElementwise(nodes[i]) else { return false }
        if inliners == nil {
            var index: [Int: [Int]] = [:]
            for c in pending { for t in targets(c) { index[t, default: []].append(c) } }
            inliners = index
        }
        return (inliners![i] ?? []).contains { $0 != i && !produced[$0] }
    }

    /// Breaks a cycle of in-place updates waiting on each other's readers by copying one base.
    func demoteAnInPlaceUpdate(_ pending: [Int]) {
        // An update whose value was placed into the base can be demoted only while that value
        // is unwritten: it goes back to a buffer of its own.
        func placedValue(_ u: Int) -> Int? {
            guard case .update(_, _, let value) = nodes[u].op else { return nil }
            let v = position(value)!
            return placement[v] == u ? v : nil
        }
        guard let u = pending.first(where: { inPlace[$0] && placedValue($0).map { !produced[$0] } ?? true }) else {
            preconditionFailure("planner: no kernel is ready and no in-place update can be demoted")
        }
        if let v = placedValue(u) {
            placement[v] = nil
            buffers[v] = nil
        }
        inPlace[u] = false
        plan.inPlaceUpdates -= 1
        plan.copiedUpdates += 1
        readCache.removeAll()
        readersIndex = nil
        blockerCache.removeAll()
    }

    func emitKernel(_ group: [Int]) {
        let (extents, parallel, map) = domainMap(group[0])
        if case .update(let base, let umap, let value) = nodes[group[0]].op {
            let u = group[0]
            let target = buffer(u)
            if fresh[u] {
                // Copy each base's values around the written box; the box itself is the value's.
                for f in group where !deadBorder.contains(f) && pingPong[f] == nil {
                    guard case .update(let fb, let fm, let fv) = nodes[f].op else { continue }
                    for box in Planner.complementBoxes(fm, base: fb.shape, value: fv.shape) ?? [] {
                        let rank = fb.shape.count
                        let boxMap = AffineMap(inRank: rank, outRank: rank, offset: box.start, coef: AffineMap.identity(rank).coef)
                        let border = KernelBuilder(extents: box.shape, parallel: rank, planner: self)
                        let v = border.value(of: fb, map: boxMap)
                        border.store(buffer(f), border.flat(boxMap, fb.shape), v, epilogue: false)
                        append(border, reductions: false)
                    }
                }
                if isPlaced(u) {
                    produced[u] = true
                    return
                }
            } else if inPlace[u] && isPlaced(u) {
                // The value's kernel wrote it into the base's buffer: nothing left to do.
                produced[u] = true
                return
            } else if !inPlace[u] {
                // Fill the fresh buffer with the base's values first.
                let copy = KernelBuilder(extents: base.shape, parallel: base.shape.count, planner: self)
                let v = copy.value(of: base, map: .identity(base.shape.count))
                copy.store(target, copy.flat(.identity(base.shape.count), base.shape), v, epilogue: false)
                append(copy, reductions: false)
            }
            // The value's reductions, if any, computed in the epilogue (`decideEpilogues`; such
            // an update is alone in its group): the kernel runs over their axes too, and reads
            // the value through the projection that drops them.
            let epilogue = epilogueDomain(u, own: extents)
            let at = epilogue?.projection ?? map
            let kb = KernelBuilder(extents: epilogue?.extents ?? extents, parallel: parallel, planner: self, allowInline: false,
                                   epilogue: epilogue != nil)
            let v = kb.value(of: value, map: at)
            kb.store(target, kb.flat(epilogue == nil ? umap : umap.composed(with: at), base.shape), v, epilogue: epilogue != nil)
            kb.note(member: nodes[u])
            produced[u] = true
            for other in group.dropFirst() {
                guard case .update(let b2, let m2, let v2) = nodes[other].op else { continue }
                let value2 = kb.value(of: v2, map: at)
                kb.store(buffer(other), kb.flat(m2, b2.shape), value2, epilogue: false)
                kb.note(member: nodes[other])
                produced[other] = true
            }
            append(kb, reductions: false)
            return
        }
        // A node whose reductions are computed in its epilogue (`decideEpilogues`, alone in its
        // group) is stored there, once a point, read through the projection that drops them.
        let epilogue = epilogueDomain(group[0], own: extents)
        let at = epilogue?.projection ?? map
        let kb = KernelBuilder(extents: epilogue?.extents ?? extents, parallel: parallel, planner: self, allowInline: epilogue == nil,
                               epilogue: epilogue != nil)
        for i in group where !produced[i] {
            let node = nodes[i]
            if case .reduce(let op, let source, _) = node.op {
                let v = kb.value(of: source, map: at)
                let acc = kb.reduce(op, v, resultType: node.dtype, sourceType: source.dtype)
                let (b, access) = location(i, Planner.projection(parallel: parallel, rank: extents.count))
                kb.store(b, access, acc, epilogue: true)
                kb.note(member: node)
                produced[i] = true
            } else {
                produced[i] = true
                kb.produce(node, map: at, at: location(i, at))
            }
        }
        append(kb, reductions: true)
    }

    /// Whether a reduction kernel runs better over its parallel points (`rows`) than split over
    /// its reduce axis although it has few points: a single reduce axis, innermost and read
    /// contiguously (every access that moves along it moves by one element), rows of at most
    /// `splitFreeRowLength` elements, and at least `splitFreeParallelPoints` rows. Split, such a
    /// kernel vectorises across rows with strided loads (gesummv's `A x` at 250 x 250: 48-90 µs
    /// for two products); over rows each row is one laned, contiguous loop. Sizes and layout
    /// only, as every split decision: results never depend on the number of threads. The bounds
    /// keep every device busy: up to 256 rows of at most 4,096 elements is a small kernel
    /// anywhere, and a GPU still gets one thread a row.
    static func rowsSuffice(_ kernel: Kernel, parallelPoints p: Int, reduceExtent r0: Int) -> Bool {
        guard kernel.reduceAxes == 1, p >= splitFreeParallelPoints, r0 <= splitFreeRowLength else { return false }
        let r = kernel.parallelAxes
        var contiguous = false
        for a in kernel.accesses where r < a.strides.count {
            switch a.strides[r] {
            case .zero: continue
            case .one: contiguous = true
            case .param, .fixed: return false
            }
        }
        return contiguous
    }

    /// See `rowsSuffice`.
    static let splitFreeParallelPoints = 64
    static let splitFreeRowLength = 4096

    func append(_ kb: KernelBuilder, reductions: Bool) {
        var (kernel, launch) = kb.finish()
        var chunks = 0
        if kernel.hasReductions {
            let p = (0..<kernel.parallelAxes).reduce(1) { $0 * launch.extent($1) }
            let r0 = kernel.reduceAxes > 0 ? launch.extent(kernel.parallelAxes) : 1
            let total = (0..<kernel.rank).reduce(1) { $0 * launch.extent($1) }
            if p <= Planner.maxSplitParallelPoints && r0 >= 2 && !Planner.rowsSuffice(kernel, parallelPoints: p, reduceExtent: r0) {
                chunks = max(1, min(r0, min(64, total / 16384)))
                if chunks == 1 { chunks = 0 }
            }
        }
        if kernel.hasReductions && kernel.reduceAxes > 0 { kernel.entries = chunks > 0 ? .split : .rows }
        let points = (0..<kernel.rank).reduce(1) { $0 * launch.extent($1) }
        let next = PlannedKernel(kernel: kernel, launch: launch, fusedOps: kb.fused, splitChunks: chunks, points: points,
                                 memberIDs: Set(kb.members))
        if let last = plan.kernels.last, let stacked = Stacking.stack(last, next) {
            plan.kernels[plan.kernels.count - 1] = stacked
            plan.stackedKernels += 1
            return
        }
        plan.kernels.append(PlannedKernel(kernel: kernel, launch: launch, fusedOps: kb.fused, splitChunks: chunks, points: points,
                                          memberIDs: Set(kb.members)))
    }
}
