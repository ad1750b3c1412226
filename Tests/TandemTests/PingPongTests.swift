import Testing
@testable import Tandem
import TandemRuntime

/// Jacobi-style sweeps repeated without a sync: each new version of the grid is a fresh buffer
/// with the old border around the new interior; from the third version on, a version takes the
/// buffer of the one two steps back (whose border is already right), so only the first sweep of
/// a sync copies a border. Every case is checked against plain Swift loops, and against the same
/// program with the old versions kept alive (which rules the buffer reuse out): bit for bit.
@Suite("Ping-pong buffers for repeated fresh updates", .planned)
struct PingPongTests {
    let n = 12

    func start(seed: UInt64) throws -> Tensor<Double> {
        let u = Tensor<Double>.uniform([n + 2, n + 2], seed: seed, in: 0...1)
        try Tandem.flush(u)
        return u
    }

    /// One Jacobi sweep of the interior.
    func sweep(_ u: Tensor<Double>, _ f: Tensor<Double>) -> Tensor<Double> {
        let i = 1...n
        var next = u
        next[i, i] = 0.25 * (u[0..<n, i] + u[2...(n + 1), i] + u[i, 0..<n] + u[i, 2...(n + 1)] + f)
        return next
    }

    func referenceSweep(_ u: [Double], _ f: [Double]) -> [Double] {
        let m = n + 2
        var out = u
        for r in 1...n {
            for c in 1...n {
                // The same additions in the same order as the tensor expression.
                var s = u[(r - 1) * m + c] + u[(r + 1) * m + c]
                s = s + u[r * m + c - 1]
                s = s + u[r * m + c + 1]
                s = s + f[(r - 1) * n + (c - 1)]
                out[r * m + c] = 0.25 * s
            }
        }
        return out
    }

    func expectSame(_ got: [Double], _ want: [Double], _ what: String) {
        for k in want.indices where got[k].bitPattern != want[k].bitPattern {
            Issue.record("\(what): element \(k): \(got[k]) != \(want[k])")
            return
        }
    }

    @Test("six sweeps without a sync: one border copy, five versions in reused buffers, the same bits as loops and as the program keeping every version",
          arguments: [1, 2, 6])
    func jacobi(sweeps: Int) throws {
        let f = Tensor<Double>.uniform([n, n], seed: 7, in: 0...1)
        try Tandem.flush(f)
        var u = try start(seed: 3)
        var reference = try u.scalars
        let fs = try f.scalars
        var kept: [Tensor<Double>] = []
        var w = try start(seed: 3)                  // the same values, its own chain
        for _ in 0..<sweeps {
            u = sweep(u, f)
            w = sweep(w, f)
            kept.append(w)
            reference = referenceSweep(reference, fs)
        }
        let plan = Tandem.plan(u)
        #expect(plan.freshUpdates == sweeps)
        // The first version copies the border; the second takes the starting grid's buffer (a
        // leaf nobody holds), every later one the buffer of the version two steps back.
        #expect(plan.elidedBorders == sweeps - 1)
        expectSame(try u.scalars, reference, "u")
        // With every version held, no buffer can be taken.
        expectSame(try w.scalars, reference, "kept")
        _ = kept
    }

    @Test("a leapfrog step reads the version two steps back in its value: no buffer is taken, results are right")
    func leapfrog() throws {
        let i = 1...n
        var old = try start(seed: 11)
        var cur = try start(seed: 12)
        var ro = try old.scalars, rc = try cur.scalars
        let m = n + 2
        for _ in 0..<5 {
            var next = cur
            next[i, i] = 2 * cur[i, i] - old[i, i] + 0.1 * (cur[0..<n, i] + cur[2...(n + 1), i] - 2 * cur[i, i])
            old = cur
            cur = next
            var rn = rc
            for r in 1...n {
                for c in 1...n {
                    let k = r * m + c
                    rn[k] = 2 * rc[k] - ro[k] + 0.1 * (rc[k - m] + rc[k + m] - 2 * rc[k])
                }
            }
            ro = rc
            rc = rn
        }
        let plan = Tandem.plan(cur, old)
        #expect(plan.elidedBorders == 0)
        expectSame(try cur.scalars, rc, "cur")
        expectSame(try old.scalars, ro, "old")
    }

    @Test("the change of every sweep read at the end, a view of an old version held: the old values stay readable")
    func oldVersionsRead() throws {
        let f = Tensor<Double>.zeros([n, n])
        var u = try start(seed: 5)
        var reference = try u.scalars
        let fs = [Double](repeating: 0, count: n * n)
        var changes: [Tensor<Double>] = []
        var wantChanges: [Double] = []
        var heldView: Tensor<Double>? = nil
        var wantView: [Double] = []
        let m = n + 2
        for k in 0..<6 {
            let next = sweep(u, f)
            changes.append((next[1...n, 1...n] - u[1...n, 1...n]).abs().max())
            if k == 2 {
                heldView = u[1...n, 1...n]
                wantView = (1...n).flatMap { r in (1...n).map { c in reference[r * m + c] } }
            }
            u = next
            let r2 = referenceSweep(reference, fs)
            wantChanges.append((1...n).flatMap { r in (1...n).map { c in Swift.abs(r2[r * m + c] - reference[r * m + c]) } }.max()!)
            reference = r2
        }
        try Tandem.flush(u, heldView!)
        expectSame(try u.scalars, reference, "u")
        expectSame(try heldView!.scalars, wantView, "held view")
        for (c, want) in zip(changes, wantChanges) { #expect(try c.item() == want) }
    }
}
