/// Whether a system of linear equalities and inequalities over integer variables may have a
/// solution: equalities eliminated one variable at a time (with the GCD test on each), then
/// Fourier–Motzkin elimination of the inequalities. Exact over the rationals, so conservative
/// over the integers: "no solution" is certain, "maybe" may be wrong. A system that grows past
/// `maximumRows` during elimination, or whose coefficients overflow, is answered "maybe".
///
/// `Dependence` tests accesses inside rectangular boxes; this serves the loop programs, whose
/// loops have bounds set by the loops around them (`for j in i..<n`, `for k in 0..<i`): with the
/// bounds as inequalities, lu's `j` loop after its `k` loop is seen to carry nothing, where the
/// box around the triangle says it might.
///
///     var s = LoopSystem(variables: 2)
///     s.equal([1, -1], 0)               // x0 - x1 = 0
///     s.atLeastZero([1, -1], -1)        // x0 - x1 - 1 >= 0
///     s.feasible                        // false
public struct LoopSystem: Sendable {
    public let variables: Int
    /// Rows: coefficients of the variables, then the constant.
    var equalities: [[Int]] = []
    var inequalities: [[Int]] = []
    public static let maximumRows = 400

    public init(variables: Int) { self.variables = variables }

    /// `Σ coefs[k] x_k + constant = 0`.
    public mutating func equal(_ coefs: [Int], _ constant: Int) {
        equalities.append(coefs + [Int](repeating: 0, count: variables - coefs.count) + [constant])
    }

    /// `Σ coefs[k] x_k + constant >= 0`.
    public mutating func atLeastZero(_ coefs: [Int], _ constant: Int) {
        inequalities.append(coefs + [Int](repeating: 0, count: variables - coefs.count) + [constant])
    }

    public var feasible: Bool {
        var eqs = equalities, ineqs = inequalities
        let n = variables
        // Equalities: each removes a variable from every other row.
        while var e = eqs.popLast() {
            let vars = (0..<n).filter { e[$0] != 0 }
            if vars.isEmpty {
                if e[n] != 0 { return false }
                continue
            }
            // GCD: the coefficients' divisor must divide the constant.
            let g = vars.reduce(0) { LoopSystem.gcd($0, e[$1]) }
            if e[n] % g != 0 { return false }
            for i in e.indices { e[i] /= g }
            // Eliminate the variable with the smallest coefficient.
            let z = vars.min { abs(e[$0]) < abs(e[$1]) }!
            let c = e[z]
            for i in eqs.indices where eqs[i][z] != 0 {
                guard let r = LoopSystem.combine(eqs[i], c, e, eqs[i][z]) else { return true }
                eqs[i] = r
            }
            for i in ineqs.indices where ineqs[i][z] != 0 {
                // |c| r - sign(c) a e: the variable cancels, and the row keeps its sense.
                guard let r = LoopSystem.combine(ineqs[i], abs(c), e, c > 0 ? ineqs[i][z] : -ineqs[i][z]) else { return true }
                ineqs[i] = r
            }
        }
        // Fourier–Motzkin.
        for z in 0..<n {
            var keep: [[Int]] = [], upper: [[Int]] = [], lower: [[Int]] = []
            for r in ineqs {
                if r[z] > 0 { lower.append(r) } else if r[z] < 0 { upper.append(r) } else { keep.append(r) }
            }
            for l in lower {
                for u in upper {
                    // (-u_z) l + l_z u: the variable cancels, both multipliers positive.
                    guard let r = LoopSystem.combine(l, -u[z], u, -l[z]) else { return true }
                    keep.append(r)
                }
            }
            var next: [[Int]] = []
            var seen: Set<[Int]> = []
            for r in keep {
                guard let r = LoopSystem.reduced(r, n) else { return true }
                if (0..<n).allSatisfy({ r[$0] == 0 }) {
                    if r[n] < 0 { return false }
                    continue
                }
                if seen.insert(r).inserted { next.append(r) }
            }
            if next.count > LoopSystem.maximumRows { return true }
            ineqs = next
        }
        return ineqs.allSatisfy { $0[n] >= 0 }
    }

    /// `a * p - b * q`, nil on overflow.
    static func combine(_ p: [Int], _ a: Int, _ q: [Int], _ b: Int) -> [Int]? {
        var r = p
        for i in r.indices {
            let (x, o1) = p[i].multipliedReportingOverflow(by: a)
            let (y, o2) = q[i].multipliedReportingOverflow(by: b)
            let (s, o3) = x.subtractingReportingOverflow(y)
            if o1 || o2 || o3 { return nil }
            r[i] = s
        }
        return r
    }

    /// The row divided by its variables' common divisor (the constant rounded down for an
    /// inequality, which keeps the same integer points; for an equality only when it divides).
    static func reduced(_ r: [Int], _ n: Int) -> [Int]? {
        let g = (0..<n).reduce(0) { gcd($0, r[$1]) }
        guard g > 1 else { return r }
        var out = r
        for i in 0..<n { out[i] = r[i] / g }
        let c = r[n]
        out[n] = c >= 0 ? c / g : -((-c + g - 1) / g)
        return out
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (abs(a), abs(b))
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
