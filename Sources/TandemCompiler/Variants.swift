import TandemIR

extension KernelVariant {
    /// The schedules worth measuring for `k`'s compiled C (`Tuning`), the rules' first (`nil`):
    /// a laned reduction's other block sizes, an elementwise kernel's interleaved loops. Empty
    /// when the kernel has no alternative (a sequence, a reduction with a compiled-in short row,
    /// a loop left to clang's own choice over a fixed stride, a kernel calling vector math). `exhaustive`: every allowed
    /// value; otherwise the rule's neighbours only (two more compiles, not three). `reorder`: also
    /// the variants whose sums round differently (`floatSums`, for a float32 sum: with the
    /// rule's block, and with every block when exhaustive).
    public static func candidates(for k: Kernel, exhaustive: Bool, reorder: Bool = false) -> [KernelVariant?] {
        // A kernel calling a math function whose vector form may round differently from its
        // scalar form (`usesVectorMath`: libmvec's log, sin, ...) has none: another block size or
        // interleave moves elements between the vector loop and its scalar remainder, and
        // changed GMM's variance sum in the last bit.
        guard !k.isSequence, k.literalInts == nil, k.variant == nil, k.rank >= 1, !k.usesVectorMath else { return [] }
        if k.lanedReduction {
            let rule = Emitter.ruleLaneBlock(k)
            let all = laneBlocks.filter { $0 != rule }
            // The neighbours an octave or two away (32: 16 and 64; 8: 16 and 32).
            func octaves(_ w: Int) -> Int { abs(w.trailingZeroBitCount - rule.trailingZeroBitCount) }
            let picked = exhaustive ? all : Array(all.sorted { (octaves($0), $0) < (octaves($1), $1) }.prefix(2))
            let floatSums = reorder && k.reductions.contains { KernelVariant.sumsFloat32(in: $0, of: k) }
            let reordered: [KernelVariant?] = !floatSums ? [] : exhaustive
                ? [KernelVariant(floatSums: true)] + all.map { KernelVariant(laneBlock: $0, floatSums: true) }
                : [KernelVariant(floatSums: true)]
            return [nil] + picked.sorted().map { KernelVariant(laneBlock: $0) } + reordered
        }
        let fixedStride = k.accesses.contains { if case .fixed = $0.strides.last { true } else { false } }
        if k.reductions.isEmpty && !fixedStride && !k.stores.isEmpty {
            return [nil] + interleaves.filter { $0 != 1 }.map { KernelVariant(interleave: $0) }
        }
        return []
    }

    /// Whether `r` sums float32 values in a double accumulator: the reductions `floatSums` puts
    /// in float lanes (the candidates offer it where one is, the renderer applies it to them).
    static func sumsFloat32(in r: Reduction, of k: Kernel) -> Bool {
        r.op == .sum && r.accumulator == .float64 && k.instrs[r.value].dtype == .float32
    }
}
