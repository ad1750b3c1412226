/// An affine map from the index of one array (`outRank` axes) to the index of another (`inRank` axes):
/// `in[d] = offset[d] + Σ_k coef[d][k] * out[k]`.
///
/// Every view Tandem makes (slices, strides, integer indexing, new axes, transposes, broadcasts) is
/// such a map over its source's index space, so views compose by multiplying maps and a view of a
/// view of a buffer is still one affine load. Reshape is not affine in the index and is a node.
public struct AffineMap: Hashable, Sendable, CustomStringConvertible {
    public let inRank: Int
    public let outRank: Int
    public var offset: [Int]
    /// Row-major `inRank x outRank`.
    public var coef: [Int]

    public init(inRank: Int, outRank: Int, offset: [Int], coef: [Int]) {
        precondition(offset.count == inRank && coef.count == inRank * outRank, "malformed affine map")
        self.inRank = inRank
        self.outRank = outRank
        self.offset = offset
        self.coef = coef
    }

    /// Hashes the map as one word, `digest` (equality still compares every entry): kernel
    /// building looks maps up by the thousand, and feeding every entry to `Hasher` was most of a
    /// lookup.
    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    /// A digest of the ranks and entries (FNV-1a over the words; the same in every process).
    public var digest: UInt64 {
        let h = UInt64(truncatingIfNeeded: inRank &* 31 &+ outRank) &* 0x9E37_79B9_7F4A_7C15
        return FNV1a.mix(FNV1a.mix(h, offset), coef)
    }

    public static func identity(_ rank: Int) -> AffineMap {
        // Made once for the usual ranks and shared (their arrays are copied on write): the
        // planner asks for one at every kernel domain and update it looks at.
        if rank < identities.count { return identities[rank] }
        return makeIdentity(rank)
    }

    private static let identities: [AffineMap] = (0...8).map(makeIdentity)

    private static func makeIdentity(_ rank: Int) -> AffineMap {
        var coef = [Int].filled(0, count: rank * rank)
        for i in 0..<rank { coef[i * rank + i] = 1 }
        return AffineMap(inRank: rank, outRank: rank, offset: [Int].filled(0, count: rank), coef: coef)
    }

    public func c(_ d: Int, _ k: Int) -> Int { coef[d * outRank + k] }

    public var isIdentity: Bool {
        guard inRank == outRank, offset.allSatisfy({ $0 == 0 }) else { return false }
        for d in 0..<inRank { for k in 0..<outRank where c(d, k) != (d == k ? 1 : 0) { return false } }
        return true
    }

    /// `self ∘ inner`: first `inner` (domain → middle), then `self` (middle → source).
    public func composed(with inner: AffineMap) -> AffineMap {
        precondition(outRank == inner.inRank, "affine map ranks do not chain")
        var off = offset
        var co = [Int].filled(0, count: inRank * inner.outRank)
        for d in 0..<inRank {
            for m in 0..<outRank {
                let a = c(d, m)
                if a == 0 { continue }
                off[d] += a * inner.offset[m]
                for k in 0..<inner.outRank { co[d * inner.outRank + k] += a * inner.c(m, k) }
            }
        }
        return AffineMap(inRank: inRank, outRank: inner.outRank, offset: off, coef: co)
    }

    /// The flat offset and per-axis strides this map gives into a row-major array of `shape`.
    public func flatten(rowMajor shape: [Int]) -> (offset: Int, strides: [Int]) {
        let rs = Shape.rowMajorStrides(shape)
        var off = 0
        var strides = [Int].filled(0, count: outRank)
        for d in 0..<inRank {
            off += rs[d] * offset[d]
            for k in 0..<outRank { strides[k] += rs[d] * c(d, k) }
        }
        return (off, strides)
    }

    public var description: String {
        (0..<inRank).map { d in
            var terms = offset[d] != 0 ? [String(offset[d])] : []
            for k in 0..<outRank where c(d, k) != 0 { terms.append(c(d, k) == 1 ? "i\(k)" : "\(c(d, k))*i\(k)") }
            return terms.isEmpty ? "0" : terms.joined(separator: "+")
        }.joined(separator: ", ")
    }
}
