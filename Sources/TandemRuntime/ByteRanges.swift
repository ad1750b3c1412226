/// A set of byte offsets of one buffer, as sorted, disjoint, non-adjacent ranges: where a
/// buffer's values are valid on one side (`DeviceResidency`), when a split kernel left some
/// rows on the host and the others on the device.
///
///     var valid = ByteRanges(0..<800)
///     valid.remove(200..<400)
///     valid.missing(in: 0..<800)      // [200..<400]
public struct ByteRanges: Equatable, Sendable, CustomStringConvertible {
    public private(set) var ranges: [Range<Int>] = []

    public init() {}
    public init(_ r: Range<Int>) { if !r.isEmpty { ranges = [r] } }

    public var isEmpty: Bool { ranges.isEmpty }
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    public mutating func insert(_ r: Range<Int>) {
        guard !r.isEmpty else { return }
        var lo = r.lowerBound, hi = r.upperBound
        var out: [Range<Int>] = []
        var placed = false
        for x in ranges {
            if x.upperBound < lo {
                out.append(x)
            } else if x.lowerBound > hi {
                if !placed { out.append(lo..<hi); placed = true }
                out.append(x)
            } else {
                lo = min(lo, x.lowerBound)
                hi = max(hi, x.upperBound)
            }
        }
        if !placed { out.append(lo..<hi) }
        ranges = out
    }

    public mutating func remove(_ r: Range<Int>) {
        guard !r.isEmpty else { return }
        var out: [Range<Int>] = []
        for x in ranges {
            if x.upperBound <= r.lowerBound || x.lowerBound >= r.upperBound {
                out.append(x)
                continue
            }
            if x.lowerBound < r.lowerBound { out.append(x.lowerBound..<r.lowerBound) }
            if x.upperBound > r.upperBound { out.append(r.upperBound..<x.upperBound) }
        }
        ranges = out
    }

    /// The parts of `r` not in the set, in order.
    public func missing(in r: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var at = r.lowerBound
        for x in ranges where x.upperBound > at && x.lowerBound < r.upperBound {
            if x.lowerBound > at { out.append(at..<x.lowerBound) }
            at = max(at, x.upperBound)
            if at >= r.upperBound { break }
        }
        if at < r.upperBound { out.append(at..<r.upperBound) }
        return out
    }

    /// The parts of `r` in the set, in order.
    public func intersection(_ r: Range<Int>) -> [Range<Int>] {
        ranges.compactMap { x in
            let lo = max(x.lowerBound, r.lowerBound), hi = min(x.upperBound, r.upperBound)
            return lo < hi ? lo..<hi : nil
        }
    }

    public func covers(_ r: Range<Int>) -> Bool { r.isEmpty || missing(in: r).isEmpty }

    public var description: String { "[" + ranges.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ") + "]" }
}
