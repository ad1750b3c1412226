import TandemIR

// How the planner writes updates (`base` with `value` at `map`): in place, into a fresh buffer
// with the border copied around it (or not, when later writes rewrite the border unread, or when
// the version two steps back lends its buffer), or over a copy; and the box arithmetic these
// decisions use. Split from Planner.swift by concern; the planner's state is in the class.
extension Planner {
    // MARK: - Updates

    func decideUpdate(_ u: Int) {
        guard case .update(let base, let map, let value) = nodes[u].op else { return }
        let b = position(base)!
        let v = position(value)!
        // Only whether the update writes a box matters here (its complement, the border a fresh
        // version copies, is made where it is copied).
        let isBox = Planner.writtenBox(map, value: value.shape) != nil
        // A materialised value can be computed straight into a fresh buffer for the new version,
        // leaving only the border to copy: cheaper than storing it and copying it over the base.
        let placeable = isBox && materialized[v] && value.storage == nil && !roots.contains(v)
            && placement[v] == nil && !consumersInPlan[v].contains { c in
                // Readers that need the value in a dense buffer of its own.
                switch nodes[c].op {
                case .reshape: return true
                case .gather(let source, _, _): return source === value
                default: return false
                }
            }
            && { if case .update = value.op { return false }; return true }()
        // A value computed into the base's buffer that others read too gets a buffer of its own
        // (copied in by the base's update): this update may overwrite the base's buffer, and
        // the value's other readers are not ordered against it (`placedValueIsShared`).
        if placedValueIsShared(b), let placed = placedValue(of: b) { placement[placed] = nil }
        // The base's buffer can be taken over when nobody else will read the old version.
        let canTakeBase = materialized[b] && base.holders.load(ordering: .relaxed) == 0
            && !inPlaceBases.contains(b)
            && (base.storage.map({ $0.aliases.load(ordering: .relaxed) == 1 }) ?? true)
            && contained(b, excluding: u)
        // A materialised value that does not read the base at all (a reduction written into a
        // row) is computed straight into the base's buffer: nothing is copied. A fresh buffer
        // would copy the whole border, the rest of the array, at every such write: a loop of
        // row writes moved gigabytes for a result of a megabyte. Its kernel then writes the
        // base, so it waits for the old version's readers as an in-place update does.
        if canTakeBase, placeable, !reaches(value, base) {
            inPlace[u] = true
            inPlaceBases.insert(b)
            placement[v] = u
            plan.inPlaceUpdates += 1
            return
        }
        if canTakeBase, !placeable {
            // The right-hand side may read the base only where it writes or where it never writes.
            let write = flat(map, base.shape)
            var conflict = false
            walkLoads([(value, .identity(value.shape.count))]) { node, m in
                if node === base, let m, Overlap.safe(read: flat(m, node.shape), write: write, extents: value.shape) { return }
                if node === base { conflict = true }
            }
            if conflict && isBox {
                fresh[u] = true
                plan.freshUpdates += 1
                return
            }
            if conflict { materialized[v] = true }
            inPlace[u] = true
            inPlaceBases.insert(b)
            plan.inPlaceUpdates += 1
        } else if isBox {
            fresh[u] = true
            if placeable { placement[v] = u }
            plan.freshUpdates += 1
        } else {
            plan.copiedUpdates += base.storage == nil && !materialized[b] ? 0 : 1
        }
    }

    /// The value computed straight into update `b`'s buffer (`placement`), when there is one.
    func placedValue(of b: Int) -> Int? {
        guard case .update(_, _, let value) = nodes[b].op, let v = position(value), placement[v] == b else { return nil }
        return v
    }

    /// Whether update `b`'s placed value (`placedValue(of:)`) is read by more than `b`: by
    /// another node of the plan, a pending node outside it or a tensor. It lives in `b`'s
    /// buffer, and a later update that overwrites that buffer (in place, or as a ping-pong
    /// version) is not ordered against those readers: npbench's durbin wrote `y[k] = alpha`
    /// and read `alpha` in the next step, after `y[..<k + 1] += alpha * y[..<k + 1]` had
    /// rewritten `y[k]` in place (wrong from the 42nd step, once `alpha`'s chain was deep enough
    /// to be stored). Such a value gets its own buffer when an update takes the base on
    /// (`decideUpdate`); a ping-pong version does not take that buffer. SOR's sweep, whose
    /// delta reads its value in the same kernel, keeps writing into the fresh version: nothing
    /// overwrites that version in its plan.
    func placedValueIsShared(_ b: Int) -> Bool {
        guard let v = placedValue(of: b) else { return false }
        return consumersInPlan[v] != [b] || nodes[v].holders.load(ordering: .relaxed) > 0
            || nodes[v].consumers.load(ordering: .relaxed) != uses[v]
    }

    /// Whether `target` is among the nodes `start` is computed from (itself included).
    func reaches(_ start: Node, _ target: Node) -> Bool {
        var stack = [start]
        var seen: Set<ObjectIdentifier> = []
        while let n = stack.popLast() {
            if n === target { return true }
            guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
            n.op.forEachInput { stack.append($0) }
        }
        return false
    }

    /// The box an update writes, `lo ..< hi` per base axis, or nil when its view is not a box
    /// (unit steps, each value axis on its own base axis).
    static func writtenBox(_ map: AffineMap, value: [Int]) -> (lo: [Int], hi: [Int])? {
        // (No sets or filtered arrays: asked for every update of every plan made.)
        guard map.outRank <= 64 else { return nil }
        var lo: [Int] = [], hi: [Int] = []
        lo.reserveCapacity(map.inRank)
        hi.reserveCapacity(map.inRank)
        var used: UInt64 = 0
        for d in 0..<map.inRank {
            var axis = -1, count = 0
            for k in 0..<map.outRank where map.c(d, k) != 0 { axis = k; count += 1 }
            if count == 0 {
                lo.append(map.offset[d]); hi.append(map.offset[d] + 1)
            } else if count == 1, map.c(d, axis) == 1, used & (1 << UInt64(axis)) == 0 {
                used |= 1 << UInt64(axis)
                lo.append(map.offset[d]); hi.append(map.offset[d] + value[axis])
            } else {
                return nil
            }
        }
        for k in 0..<map.outRank where used & (1 << UInt64(k)) == 0 && value[k] != 1 { return nil }
        return (lo, hi)
    }

    /// The boxes that cover `base` minus the box an update writes, or nil when the update's view
    /// is not a box (see `writtenBox`).
    static func complementBoxes(_ map: AffineMap, base: [Int], value: [Int]) -> [(start: [Int], shape: [Int])]? {
        guard let (lo, hi) = writtenBox(map, value: value) else { return nil }
        var boxes: [(start: [Int], shape: [Int])] = []
        for d in 0..<base.count {
            for (a, z) in [(0, lo[d]), (hi[d], base[d])] where z > a {
                var start: [Int] = [], shape: [Int] = []
                for e in 0..<base.count {
                    if e < d { start.append(lo[e]); shape.append(hi[e] - lo[e]) }
                    else if e == d { start.append(a); shape.append(z - a) }
                    else { start.append(0); shape.append(base[e]) }
                }
                boxes.append((start, shape))
            }
        }
        return boxes
    }

    /// A box `lo ..< hi` per axis.
    struct Box {
        var lo: [Int]
        var hi: [Int]
        var isEmpty: Bool { zip(lo, hi).contains { $0 >= $1 } }
        func overlaps(_ other: Box) -> Bool { lo.indices.allSatisfy { lo[$0] < other.hi[$0] && other.lo[$0] < hi[$0] } }
    }

    /// Finds fresh updates whose border copy is dead: the new version is only ever read through
    /// a chain of in-place updates of it (each the only update of the one before, none held by a
    /// tensor or a root of the plan) that together write the whole border before any other
    /// kernel of the plan reads a part of it. Shallow water's interior update is followed by its
    /// reflecting walls, which rewrite every border cell from the interior; its border copy was
    /// six small kernels a step (a fifth of the step's time in float32).
    ///
    /// The walls themselves read border cells not yet written (the column walls copy rows 0 and
    /// n+1 too, before the row walls rewrite them): a chain update's value may read unwritten
    /// cells, and the cells it computes from them stay unwritten (the exact preimage through
    /// axis-aligned maps, the whole written box otherwise).
    ///
    /// Runs after every in-place decision. If scheduling later demotes a chain member to a copy,
    /// the copy carries the unwritten cells along and the chain's later writes still cover them.
    func decideDeadBorders() {
        let candidates = nodes.indices.filter { fresh[$0] }
        guard !candidates.isEmpty else { return }
        // Made when a candidate first needs it: most fresh updates stop at the checks before
        // (walking every kernel's loads for it was half of this pass).
        var reads: [Int: [Read]]? = nil
        for u in candidates {
            guard case .update(let base, let map, let value) = nodes[u].op,
                  let boxes = Planner.complementBoxes(map, base: base.shape, value: value.shape) else { continue }
            var pending = boxes.map { Box(lo: $0.start, hi: zip($0.start, $0.shape).map { $0 + $1 }) }
            var x = u
            var dead = false
            while true {
                pending.removeAll(where: \.isEmpty)
                if pending.isEmpty { dead = true; break }
                guard !roots.contains(x), nodes[x].holders.load(ordering: .relaxed) == 0,
                      nodes[x].consumers.load(ordering: .relaxed) == uses[x] else { break }
                let next = consumersInPlan[x].filter { baseIndex(of: $0) == x }
                guard next.count == 1, let w = next.first, inPlace[w],
                      case .update(_, let wmap, let wvalue) = nodes[w].op,
                      let written = Planner.writtenBox(wmap, value: wvalue.shape) else { break }
                var tainted: [Box] = []
                var unsafe = false
                if reads == nil { reads = kernelReads() }
                for read in reads![x] ?? [] {
                    guard let m = read.map else { unsafe = true; break }
                    for p in pending {
                        guard Planner.bounds(m, read.extents).overlaps(p) else { continue }
                        // Another kernel reading an unwritten cell sees garbage.
                        guard read.reader == w, let cells = Planner.preimage(m, read.extents, p) else { unsafe = true; break }
                        tainted.append(Planner.image(wmap, cells))
                    }
                    if unsafe { break }
                }
                if unsafe { break }
                pending = pending.flatMap { Planner.subtract(Box(lo: written.lo, hi: written.hi), from: $0) } + tainted
                x = w
            }
            if dead {
                deadBorder.insert(u)
                plan.elidedBorders += 1
            }
        }
    }

    /// Finds fresh updates that can be written into the buffer of the version two steps back,
    /// with no border copy: a Jacobi sweep `u[1...n, 1...n] = f(u)` repeated without a sync makes
    /// a chain of fresh versions u1, u2, u3, ... each a copy of the one before with the box
    /// replaced, so u3's border is u1's border, and u1's buffer, dead once u2 is computed, already
    /// holds it. Versions then alternate between two buffers and each sweep is one kernel, not the
    /// value's kernel plus a border copy (two thirds of a small-grid Jacobi's kernels).
    ///
    /// Update u (fresh, base b) takes the buffer of b's base bb when:
    /// - b is a fresh update of the plan with the same map as u, its border copied (not elided),
    ///   and no in-place update writes into b or bb (their buffers then hold what their nodes say);
    /// - bb is a fresh update of the plan or a leaf whose buffer no other node shares, of u's type
    ///   and size, not held, not a root, read by nothing outside the plan (`contained`), and its
    ///   buffer not taken by another update;
    /// - every kernel that reads bb is b's own or one that b or u's writer (its value's kernel, or
    ///   its own) depends on, not the writer itself, and the writer depends on b: every read of the
    ///   old values comes before the first write of the new ones (the runtime orders kernels by
    ///   their buffers, reads before later writes). Fusion could still put a reader into the
    ///   writer's kernel: the emitted order is checked (`pingPongHolds`), and the graph planned
    ///   again without ping-pong when it does not hold.
    /// A taken update stays unrealised: a later read of it (there can be none outside the plan)
    /// would recompute it rather than read the buffer now holding another version.
    func decidePingPong() {
        let candidates = nodes.indices.filter { fresh[$0] && !deadBorder.contains($0) }
        guard candidates.count >= 2 else { return }      // u and its base b, both fresh
        var reads: [Int: [Read]]? = nil
        let inPlaceBases = Set(nodes.indices.filter { inPlace[$0] }.compactMap { baseIndex(of: $0) })
        for u in candidates {
            guard case .update(let b, let umap, let value) = nodes[u].op, let bi = position(b),
                  fresh[bi], !deadBorder.contains(bi), case .update(let bb, let bmap, _) = b.op, bmap == umap,
                  let bbi = position(bb), !taken.contains(bbi), !inPlaceBases.contains(bi), !inPlaceBases.contains(bbi),
                  bb.dtype == nodes[u].dtype, bb.shape == nodes[u].shape, !roots.contains(bbi),
                  bb.holders.load(ordering: .relaxed) == 0, !placedValueIsShared(bbi) else { continue }
            if let storage = bb.storage {
                guard storage.aliases.load(ordering: .relaxed) == 1, storage.count == nodes[u].count,
                      storage.dtype == nodes[u].dtype else { continue }
            } else {
                guard fresh[bbi] else { continue }
            }
            guard contained(bbi, excluding: bi) else { continue }
            let vi = position(value)!
            let writer = placement[vi] == u ? vi : u
            if writer == vi, !reaches(value, b) { continue }
            if reads == nil { reads = kernelReads() }
            let readers = Set((reads![bbi] ?? []).map(\.reader)).subtracting([bi])
            if readers.contains(writer) || readers.contains(where: { !reaches(b, nodes[$0]) && !reaches(nodes[writer], nodes[$0]) }) {
                continue
            }
            pingPong[u] = bbi
            pingPongOrder.append((writer, Array(readers)))
            taken.insert(bbi)
            buffers[u] = buffer(bbi)
            plan.elidedBorders += 1
        }
    }

    /// Whether, in the emitted kernels, every kernel of a taken node's readers comes before the
    /// first kernel of the writer that overwrites it (and each is found).
    func pingPongHolds() -> Bool {
        func kernels(of i: Int) -> [Int] {
            let id = nodes[i].id
            return plan.kernels.indices.filter { plan.kernels[$0].memberIDs.contains(id) }
        }
        for (writer, readers) in pingPongOrder {
            guard let first = kernels(of: writer).first else { return false }
            for r in readers {
                let ks = kernels(of: r)
                if ks.isEmpty || ks.contains(where: { $0 >= first }) { return false }
            }
        }
        return true
    }

    /// The domain points (a box) that `map` sends into `box`, for a map whose every output axis
    /// follows at most one domain axis with step 1 or -1; nil otherwise.
    static func preimage(_ map: AffineMap, _ extents: [Int], _ box: Box) -> Box? {
        var lo = extents.map { _ in 0 }, hi = extents
        for d in 0..<map.inRank {
            let axes = (0..<map.outRank).filter { map.c(d, $0) != 0 }
            switch axes.count {
            case 0:
                if map.offset[d] < box.lo[d] || map.offset[d] >= box.hi[d] { return Box(lo: lo, hi: lo) }
            case 1:
                let k = axes[0], c = map.c(d, k)
                guard c == 1 || c == -1 else { return nil }
                // box.lo <= offset + c i < box.hi
                let (a, b) = c == 1 ? (box.lo[d] - map.offset[d], box.hi[d] - map.offset[d])
                                    : (map.offset[d] - box.hi[d] + 1, map.offset[d] - box.lo[d] + 1)
                lo[k] = max(lo[k], a); hi[k] = min(hi[k], b)
            default:
                return nil
            }
        }
        return Box(lo: lo, hi: zip(lo, hi).map { max($0, $1) })
    }

    /// The bounding box of what `map` sends a domain box to.
    static func image(_ map: AffineMap, _ cells: Box) -> Box {
        let extents = zip(cells.lo, cells.hi).map { $1 - $0 }
        if extents.contains(where: { $0 <= 0 }) { return Box(lo: map.offset, hi: map.offset) }
        var shifted = map
        for d in 0..<map.inRank {
            for k in 0..<map.outRank { shifted.offset[d] += map.c(d, k) * cells.lo[k] }
        }
        return bounds(shifted, extents)
    }

    /// `a` minus `b`, as disjoint boxes.
    static func subtract(_ b: Box, from a: Box) -> [Box] {
        guard a.overlaps(b) else { return [a] }
        var out: [Box] = []
        var rest = a
        for d in a.lo.indices {
            if rest.lo[d] < b.lo[d] {
                var piece = rest; piece.hi[d] = b.lo[d]; out.append(piece); rest.lo[d] = b.lo[d]
            }
            if b.hi[d] < rest.hi[d] {
                var piece = rest; piece.lo[d] = b.hi[d]; out.append(piece); rest.hi[d] = b.hi[d]
            }
        }
        return out
    }

    /// A kernel's read of a materialised node: which node's kernel reads it, through which map
    /// (nil where the index is not affine) over which domain.
    struct Read { var reader: Int; var map: AffineMap?; var extents: [Int] }

    /// For each materialised node, what the plan's kernels read of it, leaving out an in-place
    /// update's read of its own base.
    func kernelReads() -> [Int: [Read]] {
        var out: [Int: [Read]] = [:]
        for r in nodes.indices where materialized[r] && nodes[r].storage == nil {
            let starts: [(node: Node, map: AffineMap?)]
            let extents: [Int]
            switch nodes[r].op {
            case .reduce(_, let source, _):
                let dm = domainMap(r)
                (starts, extents) = ([(source, dm.map)], dm.extents)
            case .update(let base, _, let value):
                (starts, extents) = ([(value, .identity(value.shape.count))], value.shape)
                if !inPlace[r] {
                    out[position(base)!, default: []].append(Read(reader: r, map: .identity(base.shape.count), extents: base.shape))
                }
            default:
                extents = nodes[r].shape
                starts = inputMaps(nodes[r], .identity(extents.count))
            }
            walkLoads(starts) { n, m in out[position(n)!, default: []].append(Read(reader: r, map: m, extents: extents)) }
        }
        return out
    }

    /// The bounding box of `map` over a domain of `extents`.
    static func bounds(_ map: AffineMap, _ extents: [Int]) -> Box {
        var lo = map.offset, hi = map.offset
        if extents.contains(0) { return Box(lo: lo, hi: hi) }
        for d in 0..<map.inRank {
            for k in 0..<map.outRank {
                let reach = map.c(d, k) * (extents[k] - 1)
                if reach < 0 { lo[d] += reach } else { hi[d] += reach }
            }
        }
        return Box(lo: lo, hi: hi.map { $0 + 1 })
    }

    func baseIndex(of u: Int) -> Int? {
        if case .update(let base, _, _) = nodes[u].op { return position(base) }
        return nil
    }

    /// True when every reader of node i other than `excluding` is in the plan and either
    /// materialised by it or itself contained (so no value outside the plan can read i later).
    func contained(_ i: Int, excluding: Int) -> Bool {
        guard nodes[i].consumers.load(ordering: .relaxed) == uses[i] else { return false }
        for c in consumersInPlan[i] where c != excluding {
            if materialized[c] { continue }
            if nodes[c].holders.load(ordering: .relaxed) != 0 { return false }
            if !contained(c, excluding: excluding) { return false }
        }
        return true
    }

    func flat(_ map: AffineMap, _ shape: [Int]) -> Overlap.FlatAccess { Overlap.FlatAccess(map, rowMajor: shape) }

    /// Calls `visit` for each materialised or stored node reached from `starts` through fused
    /// operations, with the index map it is read through (nil when the index is not affine, as
    /// through a reshape, whose input is always materialised or a leaf).
    func walkLoads(_ starts: [(node: Node, map: AffineMap?)], _ visit: (Node, AffineMap?) -> Void) {
        var seen = Set<KernelBuilder.MemoKey>(minimumCapacity: 32)   // grown from empty, a walk rehashed five times
        func go(_ n: Node, _ m: AffineMap?) {
            guard let m else { visit(n, nil); return }
            if !seen.insert(.init(node: ObjectIdentifier(n), map: m)).inserted { return }
            let i = position(n)!
            if materialized[i] { visit(n, m); return }
            forEachInputMap(n, m) { go($0, $1) }
        }
        for (node, map) in starts { go(node, map) }
    }
}
