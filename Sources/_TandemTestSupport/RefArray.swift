#if canImport(Glibc)
import Glibc
#endif

/// A plain eager n-dimensional array of Doubles with NumPy semantics, written independently of
/// Tandem's planner and kernels: the reference that differential tests compare against.
public struct RefArray: Equatable, Sendable, CustomStringConvertible {
    public var shape: [Int]
    public var data: [Double]

    public init(shape: [Int], data: [Double]) {
        precondition(shape.reduce(1, *) == data.count, "RefArray: \(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(shape: [Int], _ f: (Int) -> Double) {
        self.init(shape: shape, data: (0..<shape.reduce(1, *)).map(f))
    }

    /// `numpy.take(self, index, axis)`: negative indices count from the end.
    public func take(_ index: RefArray, axis: Int) -> RefArray {
        let outShape = Array(shape[..<axis]) + index.shape + Array(shape[(axis + 1)...])
        let idx = RefArray.indices(outShape)
        let k = index.rank
        return RefArray(shape: outShape, data: idx.map { o in
            var i = Int(index.at(Array(o[axis..<(axis + k)])))
            if i < 0 { i += shape[axis] }
            return at(Array(o[..<axis]) + [i] + Array(o[(axis + k)...]))
        })
    }

    /// The elements shifted by `shift` along `axis`, wrapping around (`numpy.roll`).
    public func rolled(_ shift: Int, axis: Int) -> RefArray {
        let n = shape[axis]
        return RefArray(shape: shape, data: RefArray.indices(shape).map { o in
            var src = o
            src[axis] = ((o[axis] - shift) % n + n) % n
            return at(src)
        })
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    public var description: String { "RefArray(\(shape), \(data.prefix(8))\(data.count > 8 ? "…" : ""))" }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// All multi-indices of `shape` in row-major order.
    static func indices(_ shape: [Int]) -> [[Int]] {
        let n = shape.reduce(1, *)
        let st = strides(shape)
        return (0..<n).map { f in shape.indices.map { (f / st[$0]) % Swift.max(shape[$0], 1) } }
    }

    func at(_ idx: [Int]) -> Double {
        let st = RefArray.strides(shape)
        var f = 0
        for (d, i) in idx.enumerated() { f += i * st[d] }
        return data[f]
    }

    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    public func broadcast(to target: [Int]) -> RefArray {
        if shape == target { return self }
        let off = target.count - rank
        return RefArray(shape: target, data: RefArray.indices(target).map { idx in
            at((0..<rank).map { d in shape[d] == 1 ? 0 : idx[d + off] })
        })
    }

    public func map(_ f: (Double) -> Double) -> RefArray { RefArray(shape: shape, data: data.map(f)) }

    public static func zip(_ a: RefArray, _ b: RefArray, _ f: (Double, Double) -> Double) -> RefArray {
        let s = broadcastShape(a.shape, b.shape)!
        let x = a.broadcast(to: s), y = b.broadcast(to: s)
        return RefArray(shape: s, data: (0..<x.count).map { f(x.data[$0], y.data[$0]) })
    }

    public static func select(_ c: RefArray, _ a: RefArray, _ b: RefArray) -> RefArray {
        let s = broadcastShape(c.shape, broadcastShape(a.shape, b.shape)!)!
        let cc = c.broadcast(to: s), x = a.broadcast(to: s), y = b.broadcast(to: s)
        return RefArray(shape: s, data: (0..<cc.count).map { cc.data[$0] != 0 ? x.data[$0] : y.data[$0] })
    }

    /// One subscript entry, as NumPy reads it.
    public enum Index: Sendable {
        case index(Int)
        case slice(start: Int, count: Int, step: Int)
        case newAxis
    }

    /// The per-output-axis source positions of a subscript (entries beyond those given are whole axes).
    private func plan(_ items: [Index]) -> (shape: [Int], pick: ([Int]) -> [Int]) {
        var entries = items
        let consumed = items.filter { if case .newAxis = $0 { return false }; return true }.count
        for d in consumed..<rank { entries.append(.slice(start: 0, count: shape[d], step: 1)) }
        var outShape: [Int] = []
        for e in entries {
            switch e {
            case .index: break
            case .slice(_, let c, _): outShape.append(c)
            case .newAxis: outShape.append(1)
            }
        }
        let pick: ([Int]) -> [Int] = { out in
            var src: [Int] = []
            var k = 0
            for e in entries {
                switch e {
                case .index(let i): src.append(i)
                case .slice(let s, _, let step): src.append(s + step * out[k]); k += 1
                case .newAxis: k += 1
                }
            }
            return src
        }
        return (outShape, pick)
    }

    public func view(_ items: [Index]) -> RefArray {
        let (s, pick) = plan(items)
        return RefArray(shape: s, data: RefArray.indices(s).map { at(pick($0)) })
    }

    /// A copy with `value` (broadcast) written at the subscript.
    public func writing(_ items: [Index], _ value: RefArray) -> RefArray {
        let (s, pick) = plan(items)
        let v = value.broadcast(to: s)
        var out = self
        let st = RefArray.strides(shape)
        for (k, idx) in RefArray.indices(s).enumerated() {
            let src = pick(idx)
            var f = 0
            for d in 0..<rank { f += src[d] * st[d] }
            out.data[f] = v.data[k]
        }
        return out
    }

    public func permuted(_ order: [Int]) -> RefArray {
        let s = order.map { shape[$0] }
        return RefArray(shape: s, data: RefArray.indices(s).map { idx in
            var src = [Int](repeating: 0, count: rank)
            for (k, d) in order.enumerated() { src[d] = idx[k] }
            return at(src)
        })
    }

    public func reshaped(_ s: [Int]) -> RefArray { RefArray(shape: s, data: data) }

    public enum Reduction: Sendable { case sum, prod, max, min, argmax, argmin }

    public func reduce(_ op: Reduction, axes: [Int], keepDims: Bool) -> RefArray {
        let kept = (0..<rank).filter { !axes.contains($0) }
        let outShape = kept.map { shape[$0] }
        var groups = [[(Double, Int)]](repeating: [], count: outShape.reduce(1, *))
        let ost = RefArray.strides(outShape)
        let rshape = axes.map { shape[$0] }
        let rst = RefArray.strides(rshape)
        for (f, idx) in RefArray.indices(shape).enumerated() {
            var o = 0
            for (k, d) in kept.enumerated() { o += idx[d] * ost[k] }
            var r = 0
            for (k, d) in axes.enumerated() { r += idx[d] * rst[k] }
            groups[o].append((data[f], r))
        }
        let values: [Double] = groups.map { g in
            let sorted = g.sorted { $0.1 < $1.1 }.map(\.0)
            switch op {
            case .sum: return sorted.reduce(0, +)
            case .prod: return sorted.reduce(1, *)
            case .max: return sorted.contains { $0.isNaN } ? .nan : sorted.max()!
            case .min: return sorted.contains { $0.isNaN } ? .nan : sorted.min()!
            case .argmax:
                if let n = sorted.firstIndex(where: { $0.isNaN }) { return Double(n) }
                return Double(sorted.firstIndex(of: sorted.max()!)!)
            case .argmin:
                if let n = sorted.firstIndex(where: { $0.isNaN }) { return Double(n) }
                return Double(sorted.firstIndex(of: sorted.min()!)!)
            }
        }
        let result = RefArray(shape: outShape, data: values)
        return keepDims ? result.reshaped((0..<rank).map { axes.contains($0) ? 1 : shape[$0] }) : result
    }

    /// Whether every element matches within `relative` (of the larger magnitude) or `absolute`.
    public func matches(_ other: [Double], relative: Double, absolute: Double) -> Bool {
        guard other.count == data.count else { return false }
        for (a, b) in Swift.zip(data, other) {
            if a.isNaN && b.isNaN { continue }
            if a == b { continue }
            if abs(a - b) <= absolute + relative * Swift.max(abs(a), abs(b)) { continue }
            return false
        }
        return true
    }
}

/// A small deterministic generator (SplitMix64) so every failure reproduces from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
