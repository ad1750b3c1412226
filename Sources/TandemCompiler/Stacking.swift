import TandemIR

/// Stacks two consecutive kernels that differ only in where they read and write into one kernel
/// with an extra axis of extent 2: `Stacking.stack(_:_:)`.
///
/// Red-black SOR writes the cells of one colour in two quarter-grid updates (odd rows, then even
/// rows, each with its own column offset). They are the same kernel with other offsets; as one
/// kernel whose new axis sits inside the row axis, each cache line of the grid is touched once per
/// colour instead of twice. Stacking is allowed only when the stacked kernel's reads and writes of
/// every written buffer are, iteration by iteration, at the same element or disjoint
/// (`Overlap.safe`), so running both halves interleaved gives the same result as in sequence.
public enum Stacking {
    public static func stack(_ a: PlannedKernel, _ b: PlannedKernel) -> PlannedKernel? {
        let k = a.kernel
        guard k == b.kernel, !k.hasReductions, a.splitChunks == 0, b.splitChunks == 0, k.rank >= 1,
              a.launch.floats == b.launch.floats, a.launch.buffers.count == b.launch.buffers.count,
              zip(a.launch.buffers, b.launch.buffers).allSatisfy({ $0 === $1 }),
              k.buffers.contains(where: \.isWritten),
              !k.readsDataDependentPositions else { return nil }
        let offsets = Set(k.accesses.map(\.offset))
        for p in 0..<k.intParams where !offsets.contains(p) && a.launch.ints[p] != b.launch.ints[p] { return nil }

        // The new axis goes at position 1 (inside the outermost, parallel one) when there is one.
        let pos = k.rank >= 2 ? 1 : 0
        func remap(_ p: Int) -> Int { p < pos ? p : p + 1 }  // extents shift past the new one
        var ints = a.launch.ints
        ints.insert(2, at: pos)
        var accesses: [Access] = []
        for access in k.accesses {
            let delta = b.launch.ints[access.offset] - a.launch.ints[access.offset]
            var strides = access.strides.map { s -> Stride in
                if case .param(let p) = s { return .param(remap(p)) }
                return s
            }
            strides.insert(Stride.of(Int(delta), appendingTo: &ints), at: pos)
            accesses.append(Access(offset: remap(access.offset), strides: strides))
        }
        let instrs = k.instrs.map { instr -> Instr in
            var i = instr
            switch instr.op {
            case .param(let p) where !instr.dtype.isFloatingPoint: i.op = .param(remap(p))
            case .uniform(let acc, let seed, let lo, let hi): i.op = .uniform(access: acc, seed: remap(seed), lo: lo, hi: hi)
            case .iota(let acc, let start, let step) where !instr.dtype.isFloatingPoint:
                i.op = .iota(access: acc, start: remap(start), step: remap(step))
            default: break
            }
            return i
        }
        let stacked = Kernel(rank: k.rank + 1, parallelAxes: k.parallelAxes + 1, buffers: k.buffers, accesses: accesses,
                             instrs: instrs, reductions: k.reductions, stores: k.stores, intParams: ints.count,
                             floatParams: k.floatParams)
        let extents = (0..<stacked.rank).map { Int(ints[$0]) }
        func concrete(_ access: Access) -> Overlap.FlatAccess {
            Overlap.FlatAccess(offset: Int(ints[access.offset]), strides: access.strides.map { $0.value(ints) })
        }
        // Every pair of a write and another access of the same buffer must be safe.
        for store in stacked.stores {
            let w = concrete(stacked.accesses[store.access])
            for instr in stacked.instrs {
                if case .load(store.buffer, let r) = instr.op, !Overlap.safe(read: concrete(stacked.accesses[r]), write: w, extents: extents) {
                    return nil
                }
            }
            for other in stacked.stores where other.buffer == store.buffer && other.access != store.access {
                if !Overlap.safe(read: concrete(stacked.accesses[other.access]), write: w, extents: extents) { return nil }
            }
            // No two iterations (of one half or of the two) may write the same element: the
            // store's access must be injective over the stacked domain.
            if !Overlap.injective(w, extents: extents) { return nil }
        }
        var out = a
        out.kernel = stacked
        out.launch = Launch(buffers: a.launch.buffers, ints: ints, floats: a.launch.floats)
        out.points = a.points + b.points
        out.memberIDs = a.memberIDs.union(b.memberIDs)
        return out
    }
}
