import TandemIR

/// Whether a kernel may store into a buffer it also reads: `Overlap.safe(read:write:extents:)`
/// says yes when every iteration reads only elements that no *other* iteration writes.
///
/// NumPy evaluates the right-hand side of `a[view] = expr` completely before writing, so an
/// in-place store is correct only if each read is at the written element itself (same access) or
/// at elements the store never touches. Red-black SOR passes (it reads the other colour); Jacobi
/// SOR fails (it reads the neighbours it overwrites) and gets a temporary instead.
public enum Overlap {
    public struct FlatAccess: Hashable, Sendable {
        public var offset: Int
        public var strides: [Int]
        public init(offset: Int, strides: [Int]) {
            self.offset = offset
            self.strides = strides
        }

        /// The flat access that `map` makes into a row-major array of `shape`.
        public init(_ map: AffineMap, rowMajor shape: [Int]) {
            (offset, strides) = map.flatten(rowMajor: shape)
        }

        /// The lowest and the highest element the access reaches over `extents` (none empty).
        public func bounds(_ extents: [Int]) -> (lo: Int, hi: Int) {
            var lo = offset, hi = offset
            for (k, e) in extents.enumerated() {
                let span = strides[k] * (e - 1)
                if span < 0 { lo += span } else { hi += span }
            }
            return (lo, hi)
        }
    }

    public static func safe(read: FlatAccess, write: FlatAccess, extents: [Int]) -> Bool {
        if extents.contains(0) { return true }
        let axes = extents.indices.filter { extents[$0] > 1 }
        // The same access reads each iteration's own element, which no other iteration writes
        // only if no two iterations reach one element. (Without that condition two stacked
        // slice updates, `q[1...] -= p[..<(-1)]` then `q[..<(-1)] -= p[1...]`, were one kernel
        // whose second half read what its first wrote: interpreted in blocks, wrong.)
        let sameLattice = axes.allSatisfy { read.strides[$0] == write.strides[$0] }
        if read.offset == write.offset && sameLattice && injective(write, extents: extents) { return true }
        if disjointBounds(read, write, extents) { return true }
        guard sameLattice else { return false }
        // Same lattice: the sets meet iff offset difference = Σ a_k s_k with |a_k| < extent_k.
        let terms = axes.map { (abs(write.strides[$0]), extents[$0]) }.filter { $0.0 != 0 }
            .sorted { $0.0 > $1.0 }
        var budget = 1_000_000
        return !representable(read.offset - write.offset, terms[...], &budget)
    }

    /// Whether no two iterations over `extents` reach the same element: the axes, by increasing
    /// stride, each step past everything the finer ones reach (row-major views, stacked
    /// halves a row apart). Sufficient, not necessary: an access it cannot show injective
    /// counts as not (the safe answer).
    public static func injective(_ a: FlatAccess, extents: [Int]) -> Bool {
        var reach = 0
        for (s, e) in extents.indices.filter({ extents[$0] > 1 }).map({ (abs(a.strides[$0]), extents[$0]) }).sorted(by: { $0.0 < $1.0 }) {
            guard s > reach else { return false }
            reach += s * (e - 1)
        }
        return true
    }

    private static func disjointBounds(_ a: FlatAccess, _ b: FlatAccess, _ extents: [Int]) -> Bool {
        let (alo, ahi) = a.bounds(extents), (blo, bhi) = b.bounds(extents)
        return ahi < blo || bhi < alo
    }

    /// Depth-first search for coefficients, pruned by the reach of the remaining axes; gives up
    /// (answers "representable", the conservative side) when the budget runs out.
    private static func representable(_ d: Int, _ terms: ArraySlice<(Int, Int)>, _ budget: inout Int) -> Bool {
        guard let (s, e) = terms.first else { return d == 0 }
        let rest = terms.dropFirst()
        let reach = rest.reduce(0) { $0 + $1.0 * ($1.1 - 1) }
        if rest.isEmpty { return d % s == 0 && abs(d / s) < e }
        // a with |d - a s| <= reach
        let lo = max(-(e - 1), Int((Double(d - reach) / Double(s)).rounded(.up)))
        let hi = min(e - 1, Int((Double(d + reach) / Double(s)).rounded(.down)))
        if lo > hi { return false }
        for a in lo...hi {
            budget -= 1
            if budget <= 0 { return true }
            if representable(d - a * s, rest, &budget) { return true }
        }
        return false
    }
}
