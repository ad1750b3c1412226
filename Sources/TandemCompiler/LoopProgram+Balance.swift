import TandemIR

// How a loop program's outermost loop is cut among threads when it carries no dependence: by
// the work of its iterations, not their number. A triangular nest (covariance's `j in i..<m`,
// syrk's `j in 0...i`) split into equal halves of `i` gave one thread three quarters of the
// work, and two threads ran it no faster than one.
extension LoopProgram {
    /// The steps and stores one iteration `t` of the outermost loop runs, estimated: every loop
    /// inside counted at its trip count for the values of the loops around it, a loop's body
    /// taken at the mean of its own variable (exact where bounds are affine in one enclosing
    /// variable; within a few per cent for deeper triangles).
    public func outerIterationWork(_ t: Int) -> Double {
        guard case .loop(_, _, _, _, let top) = body.first else { return 0 }
        return outerIterationWork(t, of: top)
    }

    /// The steps and stores `items` (in the outermost loop's body) run in its iteration `t`,
    /// estimated as `outerIterationWork` does.
    public func outerIterationWork(_ t: Int, of top: [Item]) -> Double {
        guard case .loop(let k0, _, _, _, _) = body.first else { return 0 }
        var values = [Double](repeating: 0, count: max(variables, 1))
        values[k0] = Double(t)
        func value(_ a: Affine) -> Double {
            var v = Double(a.constant)
            for (k, c) in a.coefs.enumerated() where c != 0 && k < values.count { v += Double(c) * values[k] }
            return v
        }
        func work(_ items: [Item]) -> Double {
            var total = 0.0
            for item in items {
                switch item {
                case .step, .store: total += 1
                case .loop(let k, let lower, let upper, let step, let inner):
                    let span = step > 0 ? value(upper) - value(lower) : value(lower) - value(upper)
                    let trips = max(0, (span / Double(abs(step))).rounded(.up))
                    guard trips > 0 else { continue }
                    let saved = values[k]
                    values[k] = (trips - 1) / 2
                    total += trips * work(inner)
                    values[k] = saved
                }
            }
            return total
        }
        return work(top)
    }

    /// Where contiguous ranges of the outermost loop's iterations begin and end: bounds from 0
    /// to `outerCount`, one range per piece (as many as there are iterations at most, one when
    /// there are none), cut so that each holds about the same work (`outerIterationWork`);
    /// equal counts where the work is even. Deterministic: a function of the program alone.
    ///
    ///     let b = program.balancedBounds(pieces: 2)      // [0, 71, 240] for a 240-row triangle
    public func balancedBounds(pieces: Int) -> [Int] {
        let count = outerCount, p = max(1, min(pieces, max(count, 1)))
        guard count > 0 else { return [0, 0] }
        var prefix = [Double](repeating: 0, count: count + 1)
        for t in 0..<count { prefix[t + 1] = prefix[t] + max(outerIterationWork(t), 1) }
        let total = prefix[count]
        var bounds = [0]
        var t = 0
        for c in 1..<p {
            let target = total * Double(c) / Double(p)
            while t < count && prefix[t + 1] <= target { t += 1 }
            // The cut nearer the target, never behind the last one.
            if t < count && target - prefix[t] > prefix[t + 1] - target { t += 1 }
            bounds.append(max(t, bounds.last!))
        }
        bounds.append(count)
        return bounds
    }
}
