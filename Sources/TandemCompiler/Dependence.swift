import Synchronization
import TandemIR

/// Dependence tests between two affine accesses of one array inside a rectangular loop nest
/// (`Tandem.loop`): can iteration `x` of the first access and iteration `y` of the second touch
/// the same element, and in which order of `x` and `y`?
///
/// The nest's iterations are normalised to `t_k ∈ 0 ... extents[k] - 1`; an access is an
/// `AffineMap` from them to the array's axes (`inRank` = the array's rank, `outRank` = the
/// nest's depth). Each array axis gives one equation `Σ_k (a_k x_k − b_k y_k) = c`. For each
/// direction vector (per loop: `x_k < y_k`, `=` or `>`) every equation is tested with the GCD
/// test and Banerjee's bounds (the extreme values of the left side over the vertices of the
/// region the direction allows, which are exact for one equation over the reals). A direction
/// vector that fails either test for some equation is impossible. The tests are conservative:
/// they may keep a direction vector no pair of iterations realises (coupled subscripts,
/// several equations), never drop one that some pair does, so a loop they call free of
/// carried dependences has none.
///
///     let d = Dependence.directions(write, read, extents: [n - 2, n - 2])
///     let carried = d.contains { Dependence.order(of: $0) == .before }
public enum Dependence {
    /// How `x_k` relates to `y_k` on loop `k`.
    public enum Direction: Sendable, Hashable, CustomStringConvertible {
        case less, equal, greater
        public var description: String { self == .less ? "<" : self == .equal ? "=" : ">" }
    }

    /// How iteration `x` (of the first access) is ordered against `y` (of the second) in the
    /// nest's sequential order: before it, the same iteration, or after it.
    public enum Order: Sendable { case before, same, after }

    /// The lexicographic order a direction vector stands for.
    public static func order(of d: [Direction]) -> Order {
        for k in d where k != .equal { return k == .less ? .before : .after }
        return .same
    }

    /// Every direction vector not ruled out for `first` at iteration `x` and `second` at
    /// iteration `y` touching the same element. Empty: the two never touch the same element.
    ///
    /// Remembered (a pure function of the two maps and the extents): a nest called again, at
    /// every PolyBench repeat or every step of a time loop around it, asks the same questions
    /// of the same accesses, and the search was a third of a 250 x 250 gesummv's analysis.
    public static func directions(_ first: AffineMap, _ second: AffineMap, extents: [Int]) -> [[Direction]] {
        precondition(first.inRank == second.inRank && first.outRank == extents.count && second.outRank == extents.count,
                     "internal: dependence test of maps of different shapes")
        let key = Question(first: first, second: second, extents: extents)
        if let known = answers.withLock({ $0[key] }) { return known }
        let found = search(first, second, extents: extents)
        answers.withLock { table in
            if table.count >= answersKept { table.removeAll(keepingCapacity: true) }
            table[key] = found
        }
        return found
    }

    /// A `directions` question, as its answers are remembered.
    private struct Question: Hashable, Sendable {
        let first: AffineMap, second: AffineMap, extents: [Int]
    }
    private static let answers = Mutex<[Question: [[Direction]]]>([:])
    /// Answers remembered at most (the table starts again past it; a program's nests ask a few
    /// hundred questions).
    static let answersKept = 4096

    private static func search(_ first: AffineMap, _ second: AffineMap, extents: [Int]) -> [[Direction]] {
        let depth = extents.count
        if extents.contains(where: { $0 <= 0 }) { return [] }
        var result: [[Direction]] = []
        var d = [Direction](repeating: .equal, count: depth)
        func search(_ k: Int) {
            if k == depth {
                if feasible(first, second, extents: extents, d) { result.append(d) }
                return
            }
            for dir in [Direction.less, .equal, .greater] {
                if dir != .equal && extents[k] < 2 { continue }          // one iteration: only `=`
                d[k] = dir
                // Prune: the directions chosen so far, any (`*`) for the rest.
                if partiallyFeasible(first, second, extents: extents, d, upTo: k + 1) { search(k + 1) }
            }
        }
        search(0)
        return result
    }

    /// Whether some pair of iterations in the given order touches the same element.
    public static func exists(_ first: AffineMap, _ second: AffineMap, extents: [Int], order: Order) -> Bool {
        directions(first, second, extents: extents).contains { Dependence.order(of: $0) == order }
    }

    // MARK: - The tests

    /// One equation's left side contribution on loop `k` under a direction (nil: any), as its
    /// least and greatest values, or nil when the direction leaves no iterations.
    static func bounds(a: Int, b: Int, upper u: Int, _ dir: Direction?) -> (lo: Int, hi: Int)? {
        // The vertices of the region of (x, y), 0 ≤ x, y ≤ u, the direction allows; a linear
        // function takes its extremes at them.
        let vertices: [(Int, Int)]
        switch dir {
        case nil: vertices = [(0, 0), (0, u), (u, 0), (u, u)]
        case .equal?: vertices = [(0, 0), (u, u)]
        case .less?:
            guard u >= 1 else { return nil }
            vertices = [(0, 1), (0, u), (u - 1, u)]
        case .greater?:
            guard u >= 1 else { return nil }
            vertices = [(1, 0), (u, 0), (u, u - 1)]
        }
        var lo = Int.max, hi = Int.min
        for (x, y) in vertices {
            let v = a * x - b * y
            lo = min(lo, v)
            hi = max(hi, v)
        }
        return (lo, hi)
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (abs(a), abs(b))
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    static func feasible(_ f: AffineMap, _ s: AffineMap, extents: [Int], _ d: [Direction]) -> Bool {
        partiallyFeasible(f, s, extents: extents, d, upTo: d.count)
    }

    /// The tests with directions `d[0 ..< upTo]` and any direction on the other loops.
    static func partiallyFeasible(_ f: AffineMap, _ s: AffineMap, extents: [Int], _ d: [Direction], upTo: Int) -> Bool {
        feasible(f, s, extents: extents, extents.indices.map { $0 < upTo ? d[$0] : nil })
    }

    /// The tests with direction `d[k]` on each loop `k` (nil: any).
    ///
    ///     // A dependence carried by loop 2 within one iteration of loop 0:
    ///     Dependence.feasible(w, r, extents: e, [.equal, nil, .less])
    public static func feasible(_ f: AffineMap, _ s: AffineMap, extents: [Int], _ d: [Direction?]) -> Bool {
        let depth = extents.count
        for axis in 0..<f.inRank {
            let c = s.offset[axis] - f.offset[axis]
            var lo = 0, hi = 0, g = 0
            for k in 0..<depth {
                let a = f.c(axis, k), b = s.c(axis, k)
                let dir = d[k]
                guard let (l, h) = bounds(a: a, b: b, upper: extents[k] - 1, dir) else { return false }
                lo += l
                hi += h
                // GCD: with x_k = y_k the loop contributes (a - b) x_k; otherwise a and b apart.
                if dir == .equal { g = gcd(g, a - b) } else { g = gcd(gcd(g, a), b) }
            }
            if c < lo || c > hi { return false }
            if g == 0 ? c != 0 : c % g != 0 { return false }
        }
        return true
    }
}
