import Testing
@testable import Tandem
import _TandemTestSupport

/// Row writes in place (issue 15, point 3): a slice write whose right-hand side is a reduction
/// is stored straight into the destination's buffer when nothing else reads the old version.
@Suite("Row writes in place", .planned)
struct RowWriteTests {
    @Test("writing a reduction into each row moves each row once, in place, with the reduction's values",
          arguments: [1, 7, 40])
    func reductionRows(_ syncEvery: Int) throws {
        let n = 120, m = 48
        let x = Tensor<Double>.uniform([n, n, m], seed: 51, in: -1...1)
        try x.flush()
        let expected = try x.sum(axis: 2).scalars
        var out = Tensor<Double>.zeros([n, n])
        try out.flush()
        // Counted from the plans themselves (the global counters are shared with tests running
        // alongside); 40 < Runtime.maxPendingUpdates, so no flush happens unseen.
        var inPlace = 0, other = 0, bytes = 0
        func sync() throws {
            let plan = Tandem.plan(out)
            inPlace += plan.inPlaceUpdates
            other += plan.freshUpdates + plan.copiedUpdates
            bytes += plan.kernels.reduce(0) { $0 + $1.bytesAccessed }
            try out.flush()
        }
        for i in 0..<n {
            out[i, .all] = x[i].sum(axis: 1)
            if (i + 1) % syncEvery == 0 { try sync() }
        }
        try sync()
        #expect(try out.scalars == expected)
        #expect(inPlace == n && other == 0, "in place \(inPlace), fresh or copied \(other)")
        // Each row of x is read once and each row of out written once (no copy of the rest).
        #expect(bytes <= (n * n * m + 2 * n * n) * 8, "\(bytes) bytes")
    }

    @Test("a reduction of the destination itself, and overlapping row writes, keep NumPy's order")
    func readsAndOverlaps() throws {
        let n = 16
        var out = Tensor<Double>.uniform([n, n], seed: 52, in: 0...1)
        var eager = try out.scalars
        let a = Tensor<Double>.uniform([2, n, 5], seed: 53, in: 0...1)
        let aSums = try a.sum(axis: 2).scalars
        for i in 0..<6 {
            // Reads the whole destination: the sums are of the old version.
            out[i, .all] = out.sum(axis: 0)
            var column = [Double](repeating: 0, count: n)
            for r in 0..<n { for c in 0..<n { column[c] += eager[r * n + c] } }
            for c in 0..<n { eager[i * n + c] = column[c] }
            // Two rows at i+1, i+2, then the second of them again: the later write wins.
            out[(i + 1)..<(i + 3), .all] = a.sum(axis: 2)
            for r in 0..<2 { for c in 0..<n { eager[(i + 1 + r) * n + c] = aSums[r * n + c] } }
            out[(i + 2)..<(i + 3), .all] = a[1..<2].sum(axis: 2) * 2
            for c in 0..<n { eager[(i + 2) * n + c] = aSums[n + c] * 2 }
        }
        let got = try out.scalars
        for (g, e) in zip(got, eager) { #expect(Swift.abs(g - e) <= 1e-12 * Swift.max(1, Swift.abs(e))) }
    }
}

/// npbench's durbin, reduced: a prefix of `y` updated in place from itself, then one element
/// written, with a 0-d scalar chain carried across the loop. No reduction: every placement must
/// give exactly the loop on Swift Doubles.
@Suite("In-place prefix updates with a carried scalar chain", .planned)
struct DurbinTests {
    static func reference(_ n: Int) -> [Double] {
        let rs = (0..<n).map { Double(n) + 1 - Double($0) }
        var y = [Double](repeating: 0, count: n), a = -rs[0], b = 1.0
        y[0] = -rs[0]
        for k in 1..<n {
            b *= 1.0 - a * a
            a = -(rs[k] + 0.5) / b / Double(n * n)
            for i in 0..<k { y[i] += a * y[i] }
            y[k] = a
        }
        return y
    }

    @Test("durbin's recurrence: the bits of the plain loop", arguments: [20, 45, 60, 200])
    func durbin(_ n: Int) throws {
        let r = Double(n) + 1 - Tensor<Double>.arange(Double(n))
        try Tandem.wait(r)
        var y = Tensor<Double>.zeros([n]), alpha = -r[0], beta = Tensor(1.0)
        y[0] = -r[0]
        for k in 1..<n {
            beta *= 1.0 - alpha * alpha
            alpha = -(r[k] + 0.5) / beta / Double(n * n)
            y[..<k] += alpha * y[..<k]
            y[k] = alpha
        }
        let got = try y.scalars, want = Self.reference(n)
        let bad = (0..<n).filter { got[$0] != want[$0] }
        let worst = (0..<n).map { Swift.abs(got[$0] - want[$0]) }.max() ?? 0
        #expect(bad.isEmpty, "n=\(n): \(bad.count) elements differ (worst by \(worst), max |y| \(want.map(Swift.abs).max()!)), first at \(bad.first ?? -1): \(bad.first.map { got[$0] } ?? 0) vs \(bad.first.map { want[$0] } ?? 0)")
    }

    @Test("npbench's durbin itself (flipped reads, dot products): NumPy's values", arguments: [48, 60, 120])
    func npbenchDurbin(_ n: Int) throws {
        let rs = (0..<n).map { Double(n) + 1 - Double($0) }
        var ys = [Double](repeating: 0, count: n), a = -rs[0], b = 1.0
        ys[0] = -rs[0]
        for k in 1..<n {
            b *= 1.0 - a * a
            a = -(rs[k] + (0..<k).reduce(0.0) { $0 + rs[k - 1 - $1] * ys[$1] }) / b
            let flipped = Array(ys[..<k].reversed())
            for i in 0..<k { ys[i] += a * flipped[i] }
            ys[k] = a
        }
        let r = Tensor(rs, shape: [n])
        var y = Tensor<Double>.zeros([n]), alpha = -r[0], beta = Tensor(1.0)
        y[0] = -r[0]
        for k in 1..<n {
            beta *= 1.0 - alpha * alpha
            alpha = -(r[k] + r[..<k].flipped().dot(y[..<k])) / beta
            y[..<k] += alpha * y[..<k].flipped()
            y[k] = alpha
        }
        let got = try y.scalars, scale = ys.map(Swift.abs).max()!
        let worst = (0..<n).map { Swift.abs(got[$0] - ys[$0]) }.max()!
        #expect(worst <= 1e-9 * scale, "n=\(n): off by \(worst) (max |y| \(scale))")
    }

    @Test("a value written into an array and still read afterwards keeps its value when the array is then updated in place")
    func writtenValueStillRead() throws {
        let x = Tensor<Double>.uniform([64, 8], seed: 71, in: -1...1)
        try Tandem.wait(x)
        let rowSums = try x.sum(axis: 1).scalars          // on its own (the same bits on every placement)
        // Held by a tensor: `a` is read after `y[0, .all]` has been updated in place.
        var y = Tensor<Double>.zeros([4, 64])
        let a = x.sum(axis: 1)
        y[0, .all] = a
        y[0, .all] += 1
        y[1, .all] = a * 2
        #expect(try a.scalars == rowSums)
        #expect(try y[0].scalars == rowSums.map { $0 + 1 } && y[1].scalars == rowSums.map { $0 * 2 })
        // Read by a later kernel of the same plan, after the in-place update.
        var z = Tensor<Double>.zeros([3, 64])
        let b = x.sum(axis: 1) * 3
        z[0, .all] = b
        z[0, .all] *= 0.5
        z[2, .all] = b + 1
        let want = rowSums.map { $0 * 3 }
        #expect(try z[0].scalars == want.map { $0 * 0.5 } && z[2].scalars == want.map { $0 + 1 })
    }
}
