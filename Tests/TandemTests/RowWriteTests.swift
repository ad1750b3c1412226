import Testing
@testable import Tandem
import _TandemTestSupport

/// Row writes in place (issue 15, point 3): a slice write whose right-hand side is a reduction
/// is stored straight into the destination's buffer when nothing else reads the old version.
@Suite("Row writes in place")
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
