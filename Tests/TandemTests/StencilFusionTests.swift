import Testing
@testable import Tandem
import TandemRuntime

/// A stencil over computed fields (shallow water's half-step faces): the faces are recomputed at
/// each shift inside one kernel, the updates go to fresh buffers, and reflecting walls that
/// rewrite the whole border make its copy unnecessary.
@Suite("Stencil fusion", .planned)
struct StencilFusionTests {
    let n = 10

    typealias Grid = [[Double]]

    func fields() throws -> (Tensor<Double>, Tensor<Double>) {
        let h = 1 + Tensor<Double>.uniform([n + 2, n + 2], seed: 21, in: 0...1)
        let u = Tensor<Double>.uniform([n + 2, n + 2], seed: 22, in: -1...1)
        try Tandem.flush(h, u)
        return (h, u)
    }

    func grid(_ t: Tensor<Double>) throws -> Grid {
        let s = try t.scalars
        return (0..<(n + 2)).map { i in Array(s[(i * (n + 2))..<((i + 1) * (n + 2))]) }
    }

    /// One step: faces between rows, then the interior from the faces' differences.
    func step(_ h: inout Tensor<Double>, _ u: inout Tensor<Double>) {
        let inner = 1...n
        let (hs, hn, us, un) = (h[1..., inner], h[..<(n + 1), inner], u[1..., inner], u[..<(n + 1), inner])
        let fx = (hs + hn) * 0.5 - 0.1 * (us - un)
        let gx = (us + un) * 0.5 - 0.1 * (us * us / hs - un * un / hn)
        let (f1, f0, g1, g0) = (fx[1..., .all], fx[..<n, .all], gx[1..., .all], gx[..<n, .all])
        let newH = h[inner, inner] - 0.2 * (f1 - f0)
        let newU = u[inner, inner] - 0.2 * (g1 * g1 / f1 - g0 * g0 / f0)
        h[inner, inner] = newH
        u[inner, inner] = newU
    }

    func referenceStep(_ h: inout Grid, _ u: inout Grid) {
        func f(_ i: Int, _ j: Int) -> Double { (h[i + 1][j] + h[i][j]) * 0.5 - 0.1 * (u[i + 1][j] - u[i][j]) }
        func g(_ i: Int, _ j: Int) -> Double {
            (u[i + 1][j] + u[i][j]) * 0.5 - 0.1 * (u[i + 1][j] * u[i + 1][j] / h[i + 1][j] - u[i][j] * u[i][j] / h[i][j])
        }
        var (h2, u2) = (h, u)
        for i in 1...n {
            for j in 1...n {
                h2[i][j] = h[i][j] - 0.2 * (f(i, j) - f(i - 1, j))
                u2[i][j] = u[i][j] - 0.2 * (g(i, j) * g(i, j) / f(i, j) - g(i - 1, j) * g(i - 1, j) / f(i - 1, j))
            }
        }
        (h, u) = (h2, u2)
    }

    /// Shallow water's walls: columns first, then rows (the corners follow the rows).
    func walls(_ h: inout Tensor<Double>, _ u: inout Tensor<Double>, rows: Bool = true) {
        h[.all, 0] = h[.all, 1]; u[.all, 0] = -u[.all, 1]
        h[.all, -1] = h[.all, -2]; u[.all, -1] = -u[.all, -2]
        guard rows else { return }
        h[0, .all] = h[1, .all]; u[0, .all] = u[1, .all]
        h[-1, .all] = h[-2, .all]; u[-1, .all] = u[-2, .all]
    }

    func referenceWalls(_ h: inout Grid, _ u: inout Grid, rows: Bool = true) {
        let m = n + 2
        for i in 0..<m {
            h[i][0] = h[i][1]; u[i][0] = -u[i][1]
            h[i][m - 1] = h[i][m - 2]; u[i][m - 1] = -u[i][m - 2]
        }
        guard rows else { return }
        h[0] = h[1]; u[0] = u[1]
        h[m - 1] = h[m - 2]; u[m - 1] = u[m - 2]
    }

    func expectClose(_ got: Grid, _ want: Grid) {
        for i in want.indices {
            for j in want[i].indices where Swift.abs(got[i][j] - want[i][j]) > 1e-12 * Swift.max(1, Swift.abs(want[i][j])) {
                Issue.record("(\(i), \(j)): \(got[i][j]) != \(want[i][j])")
                return
            }
        }
    }

    @Test("the faces are recomputed at both shifts inside one kernel that writes both new interiors; no face is stored")
    func facesRecomputed() throws {
        var (h, u) = try fields()
        var (rh, ru) = (try grid(h), try grid(u))
        step(&h, &u)
        referenceStep(&rh, &ru)
        let plan = Tandem.plan(h, u)
        #expect(plan.freshUpdates == 2 && plan.elidedBorders == 0)
        let interior = plan.kernels.filter { $0.points == n * n }
        #expect(interior.count == 1)
        #expect(interior.first?.kernel.stores.count == 2)
        for k in plan.kernels { for b in k.launch.buffers { #expect(b.count != (n + 1) * n) } }
        // Everything but the interior kernel copies the border (h and u are read whole next).
        #expect(plan.kernels.filter { $0.points != n * n }.allSatisfy { $0.points <= 2 * (n + 2) })
        expectClose(try grid(h), rh)
        expectClose(try grid(u), ru)
    }

    @Test("a step followed by walls that rewrite the whole border copies no border, corners included")
    func wallsMakeTheBorderCopyDead() throws {
        var (h, u) = try fields()
        var (rh, ru) = (try grid(h), try grid(u))
        for _ in 0..<2 {
            step(&h, &u); walls(&h, &u)
            referenceStep(&rh, &ru); referenceWalls(&rh, &ru)
        }
        let plan = Tandem.plan(h, u)
        #expect(plan.freshUpdates == 4)
        #expect(plan.elidedBorders == 4)
        // Per step: the interior kernel and four wall kernels (each wall of h and u together).
        #expect(plan.kernels.count == 10)
        expectClose(try grid(h), rh)
        expectClose(try grid(u), ru)
    }

    @Test("a border cell read before the walls rewrite it keeps its copy")
    func borderReadKeepsTheCopy() throws {
        var (h, u) = try fields()
        var (rh, ru) = (try grid(h), try grid(u))
        step(&h, &u)
        let top = h[0, .all].sum()        // the old top row, read from the new version of h
        walls(&h, &u)
        referenceStep(&rh, &ru)
        let wantTop = rh[0].reduce(0, +)
        referenceWalls(&rh, &ru)
        let plan = Tandem.plan(h, u, top)
        #expect(plan.freshUpdates == 2 && plan.elidedBorders == 1)    // u's copy is still dead
        #expect(Swift.abs(try top.item() - wantTop) <= 1e-12 * Swift.abs(wantTop))
        expectClose(try grid(h), rh)
        expectClose(try grid(u), ru)
    }

    @Test("a wall that copies a border cell not yet rewritten carries the old value: the copy stays")
    func wallReadingTheOldBorderKeepsTheCopy() throws {
        var (h, u) = try fields()
        var (rh, ru) = (try grid(h), try grid(u))
        step(&h, &u)
        referenceStep(&rh, &ru)
        // Column 0 of h takes the old last column, then the other walls: rows 1...n of column 0
        // keep values computed from the old border, so h's border copy is live. u's walls make
        // its copy dead.
        h[.all, 0] = h[.all, -1]
        for i in 0..<(n + 2) { rh[i][0] = rh[i][n + 1] }
        h[.all, -1] = h[.all, -2]; h[0, .all] = h[1, .all]; h[-1, .all] = h[-2, .all]
        for i in 0..<(n + 2) { rh[i][n + 1] = rh[i][n] }
        rh[0] = rh[1]; rh[n + 1] = rh[n]
        u[.all, 0] = -u[.all, 1]; u[.all, -1] = -u[.all, -2]; u[0, .all] = u[1, .all]; u[-1, .all] = u[-2, .all]
        for i in 0..<(n + 2) { ru[i][0] = -ru[i][1]; ru[i][n + 1] = -ru[i][n] }
        ru[0] = ru[1]; ru[n + 1] = ru[n]
        let plan = Tandem.plan(h, u)
        #expect(plan.freshUpdates == 2 && plan.elidedBorders == 1)
        expectClose(try grid(h), rh)
        expectClose(try grid(u), ru)
    }

    @Test("walls that leave part of the border unwritten keep the copy")
    func partialWallsKeepTheCopy() throws {
        var (h, u) = try fields()
        var (rh, ru) = (try grid(h), try grid(u))
        step(&h, &u); walls(&h, &u, rows: false)
        referenceStep(&rh, &ru); referenceWalls(&rh, &ru, rows: false)
        let plan = Tandem.plan(h, u)
        #expect(plan.freshUpdates == 2 && plan.elidedBorders == 0)
        expectClose(try grid(h), rh)
        expectClose(try grid(u), ru)
    }

    @Test("a flush for graph pressure comes before an assignment, not inside it: long runs of wall updates stay in place")
    func pressureFlushKeepsUpdatesInPlace() throws {
        var (h, u) = try fields()
        let (hBuffer, uBuffer) = (try #require(h.node.storage), try #require(u.node.storage))
        for _ in 0..<(Runtime.maxPendingUpdates + 10) { walls(&h, &u) }
        try Tandem.flush(h, u)
        // Written in place all along: still the buffers they started in. A flush inside an
        // assignment saw its right-hand side (u's negated column, still held) reading the base,
        // and wrote the update to a new buffer with the rest of the array copied.
        #expect(h.node.storage === hBuffer && u.node.storage === uBuffer)
        let g = try grid(h)
        for i in 1...n { #expect(g[i][0] == g[i][1] && g[i][n + 1] == g[i][n]) }
        #expect(g[0] == g[1] && g[n + 1] == g[n])
    }
}
