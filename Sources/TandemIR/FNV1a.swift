/// FNV-1a over 64-bit words: the one-word digests that plan-cache keys (`PlanCache.Key`),
/// affine maps (`AffineMap.hash`) and slice-write sites fold their integers into, where feeding
/// each word to `Hasher` was most of the lookup. Equality is still checked word by word where a
/// digest keys a table; a collision only costs a comparison.
///
///     let d = FNV1a.mix(FNV1a.basis, [4, 5, 6])     // a digest of the three words
public enum FNV1a {
    /// The offset basis a digest starts from.
    public static let basis: UInt64 = 0xcbf2_9ce4_8422_2325

    /// `digest` with `word` folded in.
    @inlinable @inline(__always)
    public static func mix(_ digest: UInt64, _ word: Int) -> UInt64 {
        (digest ^ UInt64(bitPattern: Int64(word))) &* 0x100_0000_01b3
    }

    /// `digest` with each of `words` folded in, in order.
    @inlinable
    public static func mix(_ digest: UInt64, _ words: [Int]) -> UInt64 {
        var d = digest
        for w in words { d = mix(d, w) }
        return d
    }
}
