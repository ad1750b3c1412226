import Testing
import Tandem
import TandemCompiler
import TandemRuntime
import _TandemTestSupport
import TandemWorkloads

/// Issue 19: loop nests written as Swift closures (`Tandem.loop`), their dependence analysis and
/// how they run, against the sequential nests run in Swift and brute-force dependences.
@Suite("Loop nests", .planned, .serialized)
struct LoopNestTests {
    // MARK: - The dependence tests against brute force

    /// Every direction vector some pair of iterations realises, by enumeration.
    static func bruteDirections(_ f: AffineMap, _ s: AffineMap, extents: [Int]) -> Set<[Dependence.Direction]> {
        var points: [[Int]] = [[]]
        for e in extents { points = points.flatMap { p in (0..<e).map { p + [$0] } } }
        func apply(_ m: AffineMap, _ t: [Int]) -> [Int] {
            (0..<m.inRank).map { a in m.offset[a] + t.indices.reduce(0) { $0 + m.c(a, $1) * t[$1] } }
        }
        var result: Set<[Dependence.Direction]> = []
        for x in points {
            let fx = apply(f, x)
            for y in points where apply(s, y) == fx {
                result.insert(zip(x, y).map { $0 < $1 ? .less : $0 == $1 ? .equal : .greater })
            }
        }
        return result
    }

    @Test("the tests never drop a direction vector some pair of iterations realises (random affine accesses)")
    func soundAgainstBruteForce() {
        var rng = SplitMix(seed: 19)
        var exactCount = 0
        for _ in 0..<3000 {
            let depth = rng.int(1...3), rank = rng.int(1...2)
            let extents = (0..<depth).map { _ in rng.int(1...5) }
            func randomMap() -> AffineMap {
                AffineMap(inRank: rank, outRank: depth, offset: (0..<rank).map { _ in rng.int(-3...3) },
                          coef: (0..<(rank * depth)).map { _ in rng.int(0...3) == 0 ? rng.int(-2...2) : (rng.int(0...1) == 0 ? 0 : 1) })
            }
            let f = randomMap(), s = randomMap()
            let found = Set(Dependence.directions(f, s, extents: extents))
            let truth = LoopNestTests.bruteDirections(f, s, extents: extents)
            #expect(truth.isSubset(of: found), "missed \(truth.subtracting(found)) for \(f) / \(s) over \(extents)")
            if truth == found { exactCount += 1 }
        }
        // Conservative, but not uselessly so: most answers are exact.
        #expect(exactCount > 2400, "exact in \(exactCount) of 3000")
    }

    @Test("the linear systems of triangular loops: no solution is said only where there is none (random systems against enumeration)")
    func loopSystemSoundAgainstBruteForce() {
        var rng = SplitMix(seed: 77)
        var infeasible = 0
        for _ in 0..<3000 {
            let n = rng.int(1...3)
            var system = LoopSystem(variables: n)
            var rows: [(coefs: [Int], constant: Int, equal: Bool)] = []
            // Every variable in -3 ... 3, then a few random rows.
            for v in 0..<n {
                var up = [Int](repeating: 0, count: n), down = up
                up[v] = -1; down[v] = 1
                rows.append((up, 3, false)); rows.append((down, 3, false))
            }
            for _ in 0..<rng.int(1...4) {
                rows.append(((0..<n).map { _ in rng.int(-3...3) }, rng.int(-4...4), rng.int(0...2) == 0))
            }
            for r in rows { if r.equal { system.equal(r.coefs, r.constant) } else { system.atLeastZero(r.coefs, r.constant) } }
            var found = false
            var x = [Int](repeating: -3, count: n)
            search: while true {
                if rows.allSatisfy({ r in
                    let v = zip(r.coefs, x).reduce(r.constant) { $0 + $1.0 * $1.1 }
                    return r.equal ? v == 0 : v >= 0
                }) { found = true; break search }
                var k = 0
                while k < n {
                    x[k] += 1
                    if x[k] <= 3 { break }
                    x[k] = -3
                    k += 1
                }
                if k == n { break }
            }
            if !system.feasible {
                infeasible += 1
                #expect(!found, "\(rows)")
            }
        }
        #expect(infeasible > 300, "\(infeasible) systems found infeasible")
    }

    @Test("simple stencil accesses get exactly their direction")
    func stencilDirections() {
        // write a[t0 + 1], read a[t0]: the element written at x is read at y = x + 1 (x < y).
        let w = AffineMap(inRank: 1, outRank: 1, offset: [1], coef: [1])
        let r = AffineMap(inRank: 1, outRank: 1, offset: [0], coef: [1])
        #expect(Dependence.directions(w, r, extents: [10]) == [[.less]])
        #expect(Dependence.directions(w, w, extents: [10]) == [[.equal]])
        // 2-D: write a[t0, t1], read a[t0, t1 - 1] shifted by one along the inner loop only.
        let w2 = AffineMap.identity(2)
        let r2 = AffineMap(inRank: 2, outRank: 2, offset: [0, -1], coef: [1, 0, 0, 1])
        #expect(Dependence.directions(w2, r2, extents: [5, 5]) == [[.equal, .less]])
        // A transpose: a[t0, t1] against a[t1, t0] meets in both orders and on the diagonal (the
        // subscripts are coupled: the per-axis tests keep more vectors than these three).
        let t = AffineMap(inRank: 2, outRank: 2, offset: [0, 0], coef: [0, 1, 1, 0])
        #expect(Set(Dependence.directions(w2, t, extents: [4, 4])).isSuperset(of: [[.less, .greater], [.equal, .equal], [.greater, .less]]))
    }

    // MARK: - Random nests against the sequential nest

    /// One random statement: `target[w] (=|+=) c0 + Σ c_k * source_k[r_k]`.
    struct Statement {
        var target: Int
        var write: [(loop: Int?, coef: Int, offset: Int)]
        var accumulate: Bool
        var constant: Double
        var reads: [(array: Int, coef: Double, sub: [(loop: Int?, coef: Int, offset: Int)])]
        /// 0: before the nested call, 1: inside it (or the whole nest when flat), 2: after it.
        var level = 1
    }

    /// A random subscript into an axis of size `n` over loops of `extents`: inside the axis.
    static func subscriptItem(_ rng: inout SplitMix, n: Int, extents: [Int]) -> (loop: Int?, coef: Int, offset: Int) {
        if rng.int(0...4) == 0 { return (nil, 0, rng.int(0...(n - 1))) }
        let loop = rng.int(0...(extents.count - 1))
        let coef = [1, 1, 1, -1, 2][rng.int(0...4)]
        let span = coef * (extents[loop] - 1)
        let lo = min(0, span), hi = max(0, span)
        guard hi - lo < n else { return (nil, 0, rng.int(0...(n - 1))) }
        return (loop, coef, rng.int((-lo)...(n - 1 - hi)))
    }

    static func evaluate(_ sub: [(loop: Int?, coef: Int, offset: Int)], _ t: [Int], shape: [Int]) -> Int {
        var flat = 0
        for (a, s) in sub.enumerated() { flat = flat * shape[a] + s.offset + (s.loop.map { s.coef * t[$0] } ?? 0) }
        return flat
    }

    static func initial(_ k: Int, _ shape: [Int]) -> [Double] {
        let count = shape.reduce(1, *)
        var v = [Double](repeating: 0, count: count)
        for i in 0..<count { v[i] = Double((i * 7 + k * 3) % 11) - 5 }
        return v
    }

    /// `LOOPTRIAL=k` runs only trial `k` (the rest are still generated, so it is the same nest);
    /// `PLAINLOOPS=1` runs the statements as ordinary element assignments in Swift loops instead,
    /// to tell the loop machinery from the array API when a trial fails.
    @Test("random affine nests give the sequential nest's values, vectorised where the analysis allows, else one iteration at a time or compiled",
          arguments: [LoopProgramMode.off, .always])
    func randomNests(programs: LoopProgramMode) throws {
        Tandem.loopPrograms = programs
        defer { Tandem.loopPrograms = .auto }
        var rng = SplitMix(seed: 1919)
        let shapes = [[7, 6], [9], [5, 5]]
        var vectorised = 0, peeled = 0, imperfect = 0, compiled = 0
        // Compiled, each nest is a C compile: fewer of them.
        for trial in 0..<(programs == .off ? 400 : 160) {
            let depth = rng.int(1...3)
            let extents = (0..<depth).map { _ in rng.int(1...5) }
            // Half the nests of two or three loops call Tandem.loop again for the inner ones, with
            // statements before, inside and after that call.
            let outer = depth > 1 && rng.int(0...1) == 0 ? rng.int(1...(depth - 1)) : depth
            var statements: [Statement] = []
            for _ in 0..<rng.int(1...3) {
                let level = outer == depth ? 1 : rng.int(0...2)
                let visible = level == 1 ? extents : Array(extents.prefix(outer))
                let target = rng.int(0...2)
                let write = shapes[target].map { LoopNestTests.subscriptItem(&rng, n: $0, extents: visible) }
                let reads = (0..<rng.int(0...3)).map { _ -> (Int, Double, [(loop: Int?, coef: Int, offset: Int)]) in
                    let a = rng.int(0...2)
                    return (a, [0.5, 0.25, -1, 2][rng.int(0...3)], shapes[a].map { LoopNestTests.subscriptItem(&rng, n: $0, extents: visible) })
                }
                statements.append(Statement(target: target, write: write, accumulate: rng.int(0...2) == 0,
                                            constant: Double(rng.int(-2...2)), reads: reads, level: level))
            }
            statements.sort { $0.level < $1.level }
            if let only = ProcessInfoLite.environment("LOOPTRIAL"), Int(only) != trial { continue }
            // The sequential nest in Swift.
            var want: [[Double]] = (0..<3).map { LoopNestTests.initial($0, shapes[$0]) }
            var t = [Int](repeating: 0, count: depth)
            func runStatements(_ level: Int) {
                for s in statements where s.level == level {
                    var v = s.constant
                    for r in s.reads { v += r.coef * want[r.array][LoopNestTests.evaluate(r.sub, t, shape: shapes[r.array])] }
                    let w = LoopNestTests.evaluate(s.write, t, shape: shapes[s.target])
                    want[s.target][w] = s.accumulate ? want[s.target][w] + v : v
                }
            }
            func runReference(_ loop: Int) {
                if loop == depth { return runStatements(1) }
                for x in 0..<extents[loop] { t[loop] = x; runReference(loop + 1) }
            }
            if outer == depth { runReference(0) } else {
                func runOuter(_ loop: Int) {
                    if loop == outer {
                        runStatements(0)
                        runReference(outer)
                        runStatements(2)
                        return
                    }
                    for x in 0..<extents[loop] { t[loop] = x; runOuter(loop + 1) }
                }
                runOuter(0)
            }
            // The same nest through Tandem.loop (or, with PLAINLOOPS, element assignments).
            var arrays = (0..<3).map { Tensor<Double>(LoopNestTests.initial($0, shapes[$0]), shape: shapes[$0]) }
            let before = Tandem.loopStatistics
            func run(_ level: Int, _ idx: [TensorIndex]) {
                func items(_ sub: [(loop: Int?, coef: Int, offset: Int)]) -> [TensorIndex] {
                    sub.map { s in
                        guard let l = s.loop else { return .index(s.offset) }
                        switch idx[l] {
                        case ._loop(let e): return ._loop(e * s.coef + s.offset)
                        case .index(let v): return .index(v * s.coef + s.offset)
                        default: preconditionFailure()
                        }
                    }
                }
                for s in statements where s.level == level {
                    var v = Tensor(s.constant)
                    for r in s.reads { v = v + r.coef * arrays[r.array][indices: items(r.sub)] }
                    if s.accumulate { arrays[s.target][indices: items(s.write)] += v } else { arrays[s.target][indices: items(s.write)] = v }
                }
            }
            func loops(_ ext: ArraySlice<Int>, _ body: ([LoopIndex]) -> Void) {
                let e = Array(ext)
                switch e.count {
                case 1: Tandem.loop(0..<e[0]) { body([$0]) }
                case 2: Tandem.loop(0..<e[0], 0..<e[1]) { body([$0, $1]) }
                default: Tandem.loop(0..<e[0], 0..<e[1], 0..<e[2]) { body([$0, $1, $2]) }
                }
            }
            if ProcessInfoLite.environment("PLAINLOOPS") != nil {
                var t = [Int](repeating: 0, count: depth)
                func go(_ loop: Int) {
                    if loop == depth { return run(1, t.map { .index($0) }) }
                    if loop == outer { run(0, t.map { .index($0) }) }
                    for x in 0..<extents[loop] { t[loop] = x; go(loop + 1) }
                    if loop == outer { run(2, t.map { .index($0) }) }
                }
                if outer == depth { go(0) } else {
                    func goOuter(_ loop: Int) {
                        if loop == outer { return go(outer) }
                        for x in 0..<extents[loop] { t[loop] = x; goOuter(loop + 1) }
                    }
                    goOuter(0)
                }
            } else if outer == depth {
                loops(extents[...]) { run(1, $0.map { ._loop($0) }) }
            } else {
                loops(extents[..<outer]) { o in
                    run(0, o.map { ._loop($0) })
                    loops(extents[outer...]) { inner in run(1, (o + inner).map { ._loop($0) }) }
                    run(2, o.map { ._loop($0) })
                }
            }
            let after = Tandem.loopStatistics
            if after.compiled > before.compiled { compiled += 1 } else if after.peeled > before.peeled { peeled += 1 } else { vectorised += 1 }
            if after.imperfect > before.imperfect { imperfect += 1 }
            var bad = false
            for k in 0..<3 where try arrays[k].scalars.enumerated().contains(where: { abs($1 - want[k][$0]) > 1e-9 * Swift.max(1, abs(want[k][$0])) }) { bad = true }
            if bad { print("FAIL trial \(trial) extents \(extents) outer \(outer) stats \(before) -> \(after)"); for s in statements { print("  ", s) } }
            for k in 0..<3 {
                let got = try arrays[k].scalars
                for (g, w) in zip(got, want[k]) {
                    #expect(abs(g - w) <= 1e-9 * Swift.max(1, abs(w)), "trial \(trial), array \(k): \(got) != \(want[k])")
                }
            }
        }
        // Every way is exercised.
        if programs == .off {
            #expect(vectorised > 20 && peeled > 20 && imperfect > 10 && compiled == 0,
                    "vectorised \(vectorised), peeled \(peeled), imperfect \(imperfect), compiled \(compiled)")
        } else {
            #expect(vectorised > 10 && compiled > 20 && peeled == 0, "vectorised \(vectorised), peeled \(peeled), compiled \(compiled)")
        }
        print("random nests (\(programs)): vectorised \(vectorised), peeled \(peeled), imperfect \(imperfect), compiled \(compiled), \(Tandem.loopStatistics)")
    }

    // MARK: - Programs

    @Test("a nest of element updates long enough to be flushed in the middle gives the sequential values")
    func flushedInTheMiddle() throws {
        // The array paths (compiled loop programs: `loopPrograms`).
        Tandem.loopPrograms = .off
        defer { Tandem.loopPrograms = .auto }
        // Found by the random nests: run point by point, 300 element updates of two tensors,
        // flushed for the depth of the chains while the nest ran (before the recorder's updates
        // were registered as an assignment's are, two elements were added twice).
        var r0 = [Double](repeating: 0, count: 42), r1 = [Double](repeating: 0, count: 9)
        for i in 0..<42 { r0[i] = Double((i * 7) % 11) - 5 }
        for i in 0..<9 { r1[i] = Double((i * 7 + 3) % 11) - 5 }
        var a0 = Tensor<Double>(r0, shape: [7, 6]), a1 = Tensor<Double>(r1)
        for t0 in 0..<4 {
            for t1 in 0..<5 {
                for t2 in 0..<5 {
                    r1[7 - t2] = r1[7 - t2] + 0
                    r0[(t2 + 1) * 6 + 5 - t2] += 1 + 2 * r1[t1] + 2 * r0[6 * 6 + 1]
                    r0[(6 - t2) * 6 + 4 - t0] = 1 + 0.5 * r1[t2 + 2] - r1[t1 + 1] + 2 * r0[t2 * 6 + 4 - t2]
                }
            }
        }
        Tandem.loop(0..<4, 0..<5, 0..<5) { i, j, k in
            a1[7 - k] += Tensor(0.0)
            a0[k + 1, 5 - k] += Tensor(1.0) + 2 * a1[j] + 2 * a0[6, 1]
            a0[6 - k, 4 - i] = Tensor(1.0) + 0.5 * a1[k + 2] - a1[j + 1] + 2 * a0[k, 4 - k]
        }
        #expect(try a0.scalars == r0)
        #expect(try a1.scalars == r1)
    }

    @Test("Jacobi reads the old array and runs as one array operation; Gauss–Seidel in place runs as wavefronts")
    func jacobiAndSeidel() throws {
        // The array paths (compiled loop programs: `loopPrograms`).
        Tandem.loopPrograms = .off
        defer { Tandem.loopPrograms = .auto }
        let n = 12
        let start = (0..<(n * n)).map { Double(($0 * 37) % 17) }
        var a = Tensor<Double>(start, shape: [n, n])
        var b = Tensor<Double>.zeros([n, n])
        let before = Tandem.loopStatistics
        Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in
            b[i, j] = 0.2 * (a[i, j] + a[i - 1, j] + a[i + 1, j] + a[i, j - 1] + a[i, j + 1])
        }
        let mid = Tandem.loopStatistics
        #expect(mid.vectorised == before.vectorised + 1 && mid.peeled == before.peeled)
        var want = [Double](repeating: 0, count: n * n)
        for i in 1..<(n - 1) {
            for j in 1..<(n - 1) {
                want[i * n + j] = 0.2 * (start[i * n + j] + start[(i - 1) * n + j] + start[(i + 1) * n + j] + start[i * n + j - 1] + start[i * n + j + 1])
            }
        }
        #expect(try b.scalars == want)
        // In place: every loop carries a dependence.
        Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in
            a[i, j] = 0.2 * (a[i, j] + a[i - 1, j] + a[i + 1, j] + a[i, j - 1] + a[i, j + 1])
        }
        var s = start
        for i in 1..<(n - 1) {
            for j in 1..<(n - 1) {
                s[i * n + j] = 0.2 * (s[i * n + j] + s[(i - 1) * n + j] + s[(i + 1) * n + j] + s[i * n + j - 1] + s[i * n + j + 1])
            }
        }
        #expect(try a.scalars == s)
        // Every loop carries a dependence; the anti-diagonals i + j = w do not: wavefronts.
        let after = Tandem.loopStatistics
        #expect(after.wavefronts == mid.wavefronts + 1 && after.points == mid.points)
        // PolyBench's seidel-2d (nine points, reading a[i - 1, j + 1] already updated): the
        // hyperplane 2i + j.
        var c = Tensor<Double>(start, shape: [n, n])
        for _ in 0..<2 {
            Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in
                let up = c[i - 1, j - 1] + c[i - 1, j] + c[i - 1, j + 1]
                let mid = c[i, j - 1] + c[i, j] + c[i, j + 1]
                let down = c[i + 1, j - 1] + c[i + 1, j] + c[i + 1, j + 1]
                c[i, j] = (up + mid + down) / 9
            }
        }
        var z = start
        for _ in 0..<2 {
            for i in 1..<(n - 1) {
                for j in 1..<(n - 1) {
                    var t = z[(i - 1) * n + j - 1] + z[(i - 1) * n + j] + z[(i - 1) * n + j + 1]
                    t += z[i * n + j - 1] + z[i * n + j] + z[i * n + j + 1]
                    t += z[(i + 1) * n + j - 1] + z[(i + 1) * n + j] + z[(i + 1) * n + j + 1]
                    z[i * n + j] = t / 9
                }
            }
        }
        let seidel = try c.scalars
        for (g, w) in zip(seidel, z) { #expect(abs(g - w) <= 1e-12 * Swift.max(1, abs(w))) }
        #expect(Tandem.loopStatistics.wavefronts == after.wavefronts + 2 && Tandem.loopStatistics.points == mid.points)
    }

    @Test("a matrix product by += is a reduction over k; a row sweep carries only its outer loop")
    func reductionsAndCarriedOuter() throws {
        // The array paths (compiled loop programs: `loopPrograms`).
        Tandem.loopPrograms = .off
        defer { Tandem.loopPrograms = .auto }
        let (n, m, p) = (5, 4, 6)
        let a = Tensor<Double>.uniform([n, p], seed: 1), b = Tensor<Double>.uniform([p, m], seed: 2)
        var c = Tensor<Double>.ones([n, m])
        let before = Tandem.loopStatistics
        Tandem.loop(0..<n, 0..<m, 0..<p) { i, j, k in c[i, j] += a[i, k] * b[k, j] }
        let after = Tandem.loopStatistics
        #expect(after.reductions == before.reductions + 1 && after.peeled == before.peeled)
        let want = try (a.matmul(b) + 1).scalars
        for (g, w) in zip(try c.scalars, want) { #expect(abs(g - w) < 1e-12) }
        // x[i, j] depends on x[i - 1, j]: i runs in order, j as arrays.
        var x = Tensor<Double>(Array(0..<20).map(Double.init), shape: [4, 5])
        Tandem.loop(1..<4, 0..<5) { i, j in x[i, j] = x[i - 1, j] * 0.5 + x[i, j] }
        var r = Array(0..<20).map(Double.init)
        for i in 1..<4 { for j in 0..<5 { r[i * 5 + j] = r[(i - 1) * 5 + j] * 0.5 + r[i * 5 + j] } }
        #expect(try x.scalars == r)
        let last = Tandem.loopStatistics
        #expect(last.peeled == after.peeled + 1 && last.vectorised == after.vectorised + 3 && last.points == after.points)
        // x[i, j] depends on x[i, j - 1]: j runs in order (moved outward), i as arrays.
        Tandem.loop(0..<4, 1..<5) { i, j in x[i, j] = x[i, j - 1] * 0.25 + x[i, j] }
        for i in 0..<4 { for j in 1..<5 { r[i * 5 + j] = r[i * 5 + j - 1] * 0.25 + r[i * 5 + j] } }
        #expect(try x.scalars == r)
        let swapped = Tandem.loopStatistics
        #expect(swapped.interchanged == last.interchanged + 1 && swapped.points == last.points)
        // A maximum along a loop the write leaves out.
        var best = Tensor<Double>.full([4], -1)
        Tandem.loop(0..<4, 0..<5) { i, j in best[i] = Tensor.maximum(best[i], x[i, j]) }
        #expect(try best.scalars == (0..<4).map { i in r[(i * 5)..<(i * 5 + 5)].max()! })
        // A large product written as a loop runs on the BLAS (or the tiled product), like matmul.
        let (pq, pr, pt) = (80, 72, 96)
        let f = Tensor<Double>.uniform([pq, pt], seed: 5), g = Tensor<Double>.uniform([pt, pr], seed: 6)
        var h = Tensor<Double>.ones([pq, pr])
        let stats = Tandem.statistics
        Tandem.loop(0..<pq) { i in
            Tandem.loop(0..<pr) { j in h[i, j] *= 0.5 }
            Tandem.loop(0..<pt, 0..<pr) { k, j in h[i, j] += 2.0 * f[i, k] * g[k, j] }
        }
        let wantH = try (0.5 + 2.0 * f.matmul(g)).scalars
        for (v, w) in zip(try h.scalars, wantH) { #expect(abs(v - w) <= 1e-12 * Swift.max(1, abs(w))) }
        let now = Tandem.statistics
        #expect(now.blasCalls + now.tiledProducts > stats.blasCalls + stats.tiledProducts)
    }

    @Test("indirect reads: gathered as arrays; through the tensor being written, point by point")
    func indirectReads() throws {
        // The array paths (compiled loop programs: `loopPrograms`).
        Tandem.loopPrograms = .off
        defer { Tandem.loopPrograms = .auto }
        let n = 10
        let perm: [Int64] = [3, 7, 1, 0, 9, 2, 8, 5, 4, 6]
        let p = Tensor<Int64>(perm)
        var xs = [Double](repeating: 0, count: n)
        for i in 0..<n { xs[i] = Double(i) * 1.5 }
        let x = Tensor<Double>(xs)
        var y = Tensor<Double>.zeros([n])
        let before = Tandem.loopStatistics
        Tandem.loop(0..<n) { i in y[i] = x[p[i]] * 2 }
        #expect(try y.scalars == perm.map { xs[Int($0)] * 2 })
        #expect(Tandem.loopStatistics.vectorised == before.vectorised + 1)
        // The index on the second axis, Int32, negative counted from the end of that axis.
        var mv = [Double](repeating: 0, count: 12)
        for i in 0..<12 { mv[i] = Double(i * i) }
        let m = Tensor<Double>(mv, shape: [3, 4])
        let cols = Tensor<Int32>([-1, 0, 2])
        var z = Tensor<Double>.zeros([3, 3])
        Tandem.loop(0..<3, 0..<3) { i, j in z[i, j] = m[i, cols[j]] + Tensor<Double>(j) }
        var wz = [Double]()
        for i in 0..<3 { for (j, c) in [3, 0, 2].enumerated() { wz.append(mv[i * 4 + c] + Double(j)) } }
        #expect(try z.scalars == wz)
        // Reading the tensor being written through an index: the analysis cannot see where, so
        // the nest runs in order.
        var av = [Double](repeating: 0, count: n)
        for i in 0..<n { av[i] = Double(i) }
        var a = Tensor<Double>(av)
        let mid = Tandem.loopStatistics
        Tandem.loop(1..<n) { i in a[i] = a[p[i]] + 1 }
        for i in 1..<n { av[i] = av[Int(perm[i])] + 1 }
        #expect(try a.scalars == av)
        #expect(Tandem.loopStatistics.points == mid.points + n - 1)
    }

    @Test("triangular nests, strides, a nest inside a nest, integers")
    func triangularAndStrides() throws {
        // Forward substitution L y = b with the inner loop's bound set by the outer index.
        let n = 6
        var lv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0...i { lv[i * n + j] = i == j ? 2 + Double(i) : Double((i + 2 * j) % 5) - 2 } }
        let l = Tensor<Double>(lv, shape: [n, n])
        let bv = (0..<n).map { Double($0) - 1.5 }
        var x = Tensor<Double>(bv)
        Tandem.loop(0..<n) { i in
            Tandem.loop(0..<i) { j in x[i] -= l[i, j] * x[j] }
            x[i] = x[i] / l[i, i]
        }
        var y = bv
        for i in 0..<n {
            for j in 0..<i { y[i] -= lv[i * n + j] * y[j] }
            y[i] /= lv[i * n + i]
        }
        for (g, w) in zip(try x.scalars, y) { #expect(abs(g - w) < 1e-12) }
        // Strides and inclusive ranges; an Int32 tensor.
        var k = Tensor<Int32>.zeros([10])
        let src = Tensor<Int32>(Array(0..<10).map(Int32.init))
        Tandem.loop(stride(from: 9, to: 0, by: -3)) { i in k[i] = src[i - 1] * 2 + 1 }
        Tandem.loop(0...1) { i in k[i] = src[i + 8] }
        #expect(try k.scalars == [8, 9, 0, 5, 0, 0, 11, 0, 0, 17])
        // Index values: PolyBench's initialisations.
        let (rows, cols) = (4, 3)
        var init2 = Tensor<Double>.zeros([rows, cols])
        Tandem.loop(0..<rows, 0..<cols) { i, j in
            init2[i, j] = (Tensor<Double>(i) * Tensor<Double>(j + 1)) % Double(rows) / Double(rows)
        }
        var wantInit = [Double]()
        for i in 0..<rows { for j in 0..<cols { wantInit.append(Double((i * (j + 1)) % rows) / Double(rows)) } }
        #expect(try init2.scalars == wantInit)
        var ints = Tensor<Int64>.zeros([5])
        Tandem.loop(0..<5) { i in ints[4 - i] = Tensor<Int64>(2 * i - 1) }
        #expect(try ints.scalars == [7, 5, 3, 1, -1])
    }
}

extension LoopNestTests {
    // MARK: - Compiled loop programs

    @Test("a triangular nest compiles as written: the sequential values bit for bit, in one program; threaded where an inner loop is free and large",
          arguments: [9, 420])
    func compiledTriangular(n: Int) throws {
        // PolyBench's lu in place, against the same loops in Swift. At 420, its second `j` loop
        // (no dependence within an iteration of `i`, about 420^2 / 6 x 5 operations an entry on
        // average) is split over the threads, which wait for each other around it.
        var av = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { av[i * n + j] = i == j ? Double(n) + 1 : Double((i * 3 + j * 5) % 7) / 7 } }
        var a = Tensor<Double>(av, shape: [n, n])
        let before = Tandem.loopStatistics
        Tandem.loop(0..<n) { i in
            Tandem.loop(0..<i) { j in
                Tandem.loop(0..<j) { k in a[i, j] -= a[i, k] * a[k, j] }
                a[i, j] = a[i, j] / a[j, j]
            }
            Tandem.loop(i..<n) { j in
                Tandem.loop(0..<i) { k in a[i, j] -= a[i, k] * a[k, j] }
            }
        }
        var want = av
        for i in 0..<n {
            for j in 0..<i {
                for k in 0..<j { want[i * n + j] -= want[i * n + k] * want[k * n + j] }
                want[i * n + j] /= want[j * n + j]
            }
            for j in i..<n { for k in 0..<i { want[i * n + j] -= want[i * n + k] * want[k * n + j] } }
        }
        #expect(try a.scalars == want)
        let after = Tandem.loopStatistics
        #expect(after.compiled == before.compiled + 1 && after.peeled == before.peeled && after.points == before.points)
        if Tandem.runtime.executor.workers > 1 {
            #expect(after.compiledThreaded == before.compiledThreaded + (n > 9 ? 1 : 0))
        }
    }

    @Test("nussinov's two loops both carry; swapped, the cells of one interval length are split over threads, with the same table")
    func nussinovSwapped() throws {
        guard Tandem.runtime.executor.workers > 1 else { return }
        Tandem.loopPrograms = .always
        defer { Tandem.loopPrograms = .auto }
        let inOrder = try PolyBench.run("nussinov", size: .small)
        Tandem.loopSplitOperations = 0
        defer { Tandem.loopSplitOperations = 1 << 17 }
        let before = Tandem.loopStatistics
        let swapped = try PolyBench.run("nussinov", size: .small)
        let after = Tandem.loopStatistics
        #expect(after.compiledSwapped == before.compiledSwapped + 1 && after.compiledThreaded == before.compiledThreaded + 1)
        #expect(swapped["checksum"] == inOrder["checksum"] && swapped["corner"] == inOrder["corner"])
        // Both loops carry, and a swap would reverse a dependence (x[i][j] reads x[i - 1][j + 1],
        // written at an earlier i and a later j): the nest keeps its order and its values.
        let n = 12
        var xv = [Double](repeating: 1, count: n * n)
        for k in 0..<(n * n) { xv[k] = Double(k % 7) }
        var x = Tensor<Double>(xv, shape: [n, n])
        let kept = Tandem.loopStatistics
        Tandem.loop(1..<n) { i in Tandem.loop(1..<(n - 1)) { j in x[i, j] = x[i - 1, j + 1] * 0.5 + x[i, j - 1] } }
        for i in 1..<n { for j in 1..<(n - 1) { xv[i * n + j] = xv[(i - 1) * n + j + 1] * 0.5 + xv[i * n + j - 1] } }
        #expect(try x.scalars == xv)
        let after2 = Tandem.loopStatistics
        #expect(after2.compiled == kept.compiled + 1 && after2.compiledSwapped == kept.compiledSwapped && after2.compiledThreaded == kept.compiledThreaded)
    }

    @Test("an inner loop is split over threads by its average work an entry, not its largest")
    func threadedByAverageWork() {
        typealias A = LoopProgram.Affine
        // for t0 in 0..<n { for t1 in 0..<n { for t2 in 0..<t0 { x[t0, t1] = x[t0, t1] } } }: the t1
        // loop runs 2 n t0 steps and stores an entry, about 2 n^2 at most and n^2 on average.
        func program(_ n: Int) -> LoopProgram {
            LoopProgram(buffers: [BufferParam(dtype: .float64, isRead: true, isWritten: true)], shapes: [[n, n]],
                        accesses: [LoopProgram.Access(buffer: 0, indices: [A(constant: 0, coefs: [1]), A(constant: 0, coefs: [0, 1])])],
                        steps: [LoopProgram.Step(.load(access: 0), .float64)],
                        body: [.loop(variable: 0, lower: A(constant: 0), upper: A(constant: n), step: 1, body: [
                            .loop(variable: 1, lower: A(constant: 0), upper: A(constant: n), step: 1, body: [
                                .loop(variable: 2, lower: A(constant: 0), upper: A(constant: 0, coefs: [1]), step: 1, body: [
                                    .step(0), .store(access: 0, value: 0)]),
                            ]),
                        ])],
                        variables: 3, intParams: 0, floatParams: 0, parallelOuter: false)
        }
        // 300: 179,400 at most (above 2^17 = 131,072), 89,700 on average: not split.
        #expect(program(300).parallelInnerLoops(minimumOperations: 1 << 17).isEmpty)
        // 400: 159,600 on average: split.
        #expect(program(400).parallelInnerLoops(minimumOperations: 1 << 17) == [1])
    }

    @Test("a compiled nest: another name for the written tensor keeps its values, the outer loop runs in parallel when it carries nothing, constants are parameters, indirect reads of the written tensor")
    func compiledAliasesParallelAndParameters() throws {
        Tandem.loopPrograms = .always
        defer { Tandem.loopPrograms = .auto }
        let n = 40
        var xv = [Double](repeating: 0, count: n)
        for i in 0..<n { xv[i] = Double((i * 7) % 5) - 2 }
        var x = Tensor<Double>(xv)
        let old = x
        // x[i] depends on x[i - 1]; `old` is the tensor as it was before the nest.
        Tandem.loop(1..<n) { i in x[i] = x[i - 1] * 0.5 + old[i] }
        var want = xv
        for i in 1..<n { want[i] = want[i - 1] * 0.5 + xv[i] }
        #expect(try x.scalars == want)
        #expect(try old.scalars == xv)

        // Each row of a triangle on its own: the outer loop carries nothing and runs in chunks.
        let m = 64
        let src = Tensor<Double>.uniform([m, m], seed: 3)
        var tri = Tensor<Double>.zeros([m, m])
        let before = Tandem.loopStatistics
        Tandem.loop(0..<m) { i in
            Tandem.loop(0...i) { j in tri[i, j] = src[i, j] * 2 + Tensor<Double>(i - j) }
        }
        let s = try src.scalars
        var wantTri = [Double](repeating: 0, count: m * m)
        for i in 0..<m { for j in 0...i { wantTri[i * m + j] = s[i * m + j] * 2 + Double(i - j) } }
        #expect(try tri.scalars == wantTri)
        let after = Tandem.loopStatistics
        #expect(after.compiled == before.compiled + 1)
        if Tandem.runtime.executor.workers > 1 { #expect(after.compiledParallel == before.compiledParallel + 1) }

        // A nest run again with another constant reuses its code. The compile counters are the
        // process's, and tests beside this one compile too: a run that compiled nothing shows the
        // reuse (without it every run compiles).
        var y = Tensor<Double>.zeros([n])
        var runsWithoutCompiles = 0
        for dt in [0.5, 0.25, 0.125, 0.0625] {
            let stats = Tandem.statistics
            Tandem.loop(1..<n) { i in y[i] = y[i - 1] + dt }
            var wy = [Double](repeating: 0, count: n)
            for i in 1..<n { wy[i] = wy[i - 1] + dt }
            #expect(try y.scalars == wy)
            let now = Tandem.statistics
            if dt != 0.5 && now.compileMisses + now.compileDiskHits == stats.compileMisses + stats.compileDiskHits { runsWithoutCompiles += 1 }
        }
        #expect(runsWithoutCompiles >= 1, "every run of the nest with another constant compiled")

        // Reading the written tensor through an index: in order, compiled (not point by point).
        Tandem.loopPrograms = .auto
        let perm: [Int64] = [3, 7, 1, 0, 9, 2, 8, 5, 4, 6]
        let p = Tensor<Int64>(perm)
        var av = [Double](repeating: 0, count: 10)
        for i in 0..<10 { av[i] = Double(i) }
        var a = Tensor<Double>(av)
        let mid = Tandem.loopStatistics
        Tandem.loop(1..<10) { i in a[i] = a[p[i]] + 1 }
        for i in 1..<10 { av[i] = av[Int(perm[i])] + 1 }
        #expect(try a.scalars == av)
        #expect(Tandem.loopStatistics.compiled == mid.compiled + 1 && Tandem.loopStatistics.points == mid.points)
    }

    /// doitgen's shape: a temporary each outer iteration zeroes, accumulates into and copies
    /// out. Kept per worker, the outer loop runs in parallel; the temporary ends as the loop in
    /// order leaves it (its last iteration's values). A temporary read before it is written, or
    /// written only in part, keeps the loop in order.
    @Test("temporaries written whole before they are read in each outer iteration are kept per worker: the outer loop runs in parallel, with the sequential values")
    func privateTemporaries() throws {
        Tandem.loopPrograms = .always
        defer { Tandem.loopPrograms = .auto }
        let (nr, nq, np) = (7, 5, 9)
        let av0 = (0..<(nr * nq * np)).map { Double(($0 * 37) % 11) - 5 }, cv = (0..<(np * np)).map { Double(($0 * 13) % 7) * 0.25 }
        var a = Tensor<Double>(av0, shape: [nr, nq, np])
        let c4 = Tensor<Double>(cv, shape: [np, np])
        var sum = Tensor<Double>.zeros([np])
        let before = Tandem.loopStatistics
        Tandem.loop(0..<nr, 0..<nq) { r, q in
            Tandem.loop(0..<np) { p in
                sum[p] = Tensor<Double>(0)
                Tandem.loop(0..<np) { s in sum[p] += a[r, q, s] * c4[s, p] }
            }
            Tandem.loop(0..<np) { p in a[r, q, p] = sum[p] }
        }
        var want = av0, wantSum = [Double](repeating: 0, count: np)
        for r in 0..<nr {
            for q in 0..<nq {
                for p in 0..<np {
                    wantSum[p] = 0
                    for s in 0..<np { wantSum[p] += want[(r * nq + q) * np + s] * cv[s * np + p] }
                }
                for p in 0..<np { want[(r * nq + q) * np + p] = wantSum[p] }
            }
        }
        #expect(try a.scalars == want)
        #expect(try sum.scalars == wantSum, "the temporary holds the last iteration's values")
        let after = Tandem.loopStatistics
        #expect(after.compiled == before.compiled + 1)
        if Tandem.runtime.executor.workers > 1 { #expect(after.compiledParallel == before.compiledParallel + 1, "kept per worker, the outer loop is split") }
        #expect(after.compiledTurned == before.compiledTurned + 1, "the reduction down c4's columns runs inside out")

        // Inner bounds that depend on the outer loop (a triangle), or a value of the prefix used
        // inside: not turned, the same values.
        var tri = Tensor<Double>.zeros([nr, np]), scaled = Tensor<Double>.zeros([nr, np])
        let turned = Tandem.loopStatistics.compiledTurned, fallbacks = Tandem.loopStatistics.notCompiled
        Tandem.loop(0..<nr) { r in
            Tandem.loop(0..<np) { p in
                tri[r, p] = Tensor<Double>(0)
                Tandem.loop(0...p) { s in tri[r, p] += c4[s, p] * a[r, 0, s] }
            }
            Tandem.loop(0..<np) { p in
                let w = c4[p, p] * 2
                scaled[r, p] = w
                Tandem.loop(0..<np) { s in scaled[r, p] += w * c4[s, p] }
            }
        }
        let aNow = try a.scalars
        var wantTri = [Double](repeating: 0, count: nr * np), wantScaled = wantTri
        for r in 0..<nr {
            for p in 0..<np {
                for s in 0...p { wantTri[r * np + p] += cv[s * np + p] * aNow[(r * nq) * np + s] }
                let w = cv[p * np + p] * 2
                wantScaled[r * np + p] = w
                for s in 0..<np { wantScaled[r * np + p] += w * cv[s * np + p] }
            }
        }
        #expect(try tri.scalars == wantTri && scaled.scalars == wantScaled)
        #expect(Tandem.loopStatistics.compiledTurned == turned, "a triangle and a prefix's value stay as written")
        #expect(Tandem.loopStatistics.notCompiled == fallbacks, "turned, they would name values out of scope and fail to compile")

        // Read before written in an iteration (a running total across rows): in order.
        var total = Tensor<Double>.zeros([np])
        var rows = Tensor<Double>.zeros([nr, np])
        let mid = Tandem.loopStatistics
        Tandem.loop(0..<nr) { r in
            Tandem.loop(0..<np) { p in total[p] = total[p] + c4[r, p] }
            Tandem.loop(0..<np) { p in rows[r, p] = total[p] }
        }
        var t = [Double](repeating: 0, count: np), wantRows = [Double](repeating: 0, count: nr * np)
        for r in 0..<nr { for p in 0..<np { t[p] += cv[r * np + p]; wantRows[r * np + p] = t[p] } }
        #expect(try rows.scalars == wantRows && total.scalars == t)
        #expect(Tandem.loopStatistics.compiledParallel == mid.compiledParallel, "a running total is not private")

        // Written in part (the last element left from the iteration before): in order.
        var part = Tensor<Double>.zeros([np])
        var out = Tensor<Double>.zeros([nr, np])
        let late = Tandem.loopStatistics
        Tandem.loop(0..<nr) { r in
            Tandem.loop(0..<(np - 1)) { p in part[p] = c4[r, p] + Tensor<Double>(r) }
            Tandem.loop(0..<np) { p in out[r, p] = part[p] }
        }
        var pv = [Double](repeating: 0, count: np), wantOut = [Double](repeating: 0, count: nr * np)
        for r in 0..<nr {
            for p in 0..<(np - 1) { pv[p] = cv[r * np + p] + Double(r) }
            for p in 0..<np { wantOut[r * np + p] = pv[p] }
        }
        #expect(try out.scalars == wantOut)
        #expect(Tandem.loopStatistics.compiledParallel == late.compiledParallel, "a temporary written in part is not private")
    }

    /// Index checks move out to the loop of the innermost variable an index depends on, and
    /// past loops of constant, non-empty bounds only: an access in a loop that may run no
    /// iteration (`0..<i` at `i` = 0) is not checked where it never happens.
    @Test("index checks hoisted out of inner loops: never for an access a loop that may be empty guards; the sequential values")
    func hoistedChecks() throws {
        Tandem.loopPrograms = .always
        defer { Tandem.loopPrograms = .auto }
        let n = 12
        let xv = (0..<n).map { Double($0) * 0.5 }
        let x = Tensor<Double>(xv)
        var y = Tensor<Double>.zeros([n])
        // x[i - 1] at i = 0 would be outside x: the inner loop is empty there.
        Tandem.loop(0..<n) { i in Tandem.loop(0..<i) { j in y[i] += x[i - 1] * x[j] } }
        var want = [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<i { want[i] += xv[i - 1] * xv[j] } }
        #expect(try y.scalars == want)
        // With constant inner bounds the checks of x[i] and x[i + 1] move out to the i loop.
        var z = Tensor<Double>.zeros([n])
        Tandem.loop(0..<(n - 1)) { i in Tandem.loop(0..<3) { j in z[i] += x[i + 1] * x[j] - x[i] } }
        var wantZ = [Double](repeating: 0, count: n)
        for i in 0..<(n - 1) { for j in 0..<3 { wantZ[i] += xv[i + 1] * xv[j] - xv[i] } }
        #expect(try z.scalars == wantZ)
    }

    @Test("a nest that ran compiled at a call site runs as that program again without the array traces, while its body traces to the same program")
    func programsRemembered() throws {
        Tandem.loopPrograms = .always
        defer { Tandem.loopPrograms = .auto }
        let n = 30
        var y = Tensor<Double>.zeros([n])
        var want = [Double](repeating: 0, count: n)
        func run(_ dt: Double, double: Bool) {
            Tandem.loop(1..<n) { i in
                if double { y[i] = y[i - 1] * 2 + dt } else { y[i] = y[i - 1] + dt }
            }
            for i in 1..<n { want[i] = double ? want[i - 1] * 2 + dt : want[i - 1] + dt }
        }
        run(0.5, double: false)
        let first = Tandem.loopStatistics
        run(0.25, double: false)                          // the same program, another constant
        let second = Tandem.loopStatistics
        #expect(try y.scalars == want)
        #expect(second.programsReused == first.programsReused + 1 && second.compiled == first.compiled + 1)
        run(0.125, double: true)                          // another body at the same place
        let third = Tandem.loopStatistics
        #expect(try y.scalars == want)
        #expect(third.programsReused == second.programsReused && third.compiled == second.compiled + 1)
        Tandem.loopPrograms = .off                        // the mode is part of the decision
        run(1, double: true)
        #expect(try y.scalars == want)
        #expect(Tandem.loopStatistics.compiled == third.compiled && Tandem.loopStatistics.programsReused == third.programsReused)
    }

    @Test("auto compiles time loops around sweeps, and keeps array kernels where the compiled loop would be scalar and the arrays are large")
    func compiledOrArraysByEstimate() throws {
        // A time loop around two sweeps: vectorised either way, and the compiled loop launches
        // nothing (large: its sweeps split over threads).
        for n in [40, 400_000] {
            let steps = n > 1000 ? 3 : 50
            var start = [Double](repeating: 0, count: n)
            for i in 0..<n { start[i] = Double((i * 13) % 17) }
            var a = Tensor<Double>(start), b = Tensor<Double>.zeros([n])
            let before = Tandem.loopStatistics
            Tandem.loop(0..<steps) { _ in
                Tandem.loop(1..<n - 1) { i in b[i] = (a[i - 1] + a[i] + a[i + 1]) / 3 }
                Tandem.loop(1..<n - 1) { i in a[i] = (b[i - 1] + b[i] + b[i + 1]) / 3 }
            }
            var x = start, y = [Double](repeating: 0, count: n)
            for _ in 0..<steps {
                for i in 1..<(n - 1) { y[i] = (x[i - 1] + x[i] + x[i + 1]) / 3 }
                for i in 1..<(n - 1) { x[i] = (y[i - 1] + y[i] + y[i + 1]) / 3 }
            }
            let got = try a.scalars
            #expect(zip(got, x).allSatisfy { abs($0 - $1) <= 1e-12 * Swift.max(1, abs($1)) }, "n \(n)")
            #expect(Tandem.loopStatistics.compiled == before.compiled + 1, "n \(n): \(Tandem.loopStatistics)")
        }
        // A recurrence along the inner loop: compiled, its innermost loop is scalar; as arrays
        // the recurrence's loop runs outside and the rows are vectorised. Short rows of many
        // columns pay for their launches; few columns of long rows do not.
        for (n, m, compiled) in [(50, 40, true), (200_000, 4, false)] {
            var start = [Double](repeating: 0, count: n * m)
            for i in 0..<(n * m) { start[i] = Double((i * 7) % 11) }
            var x = Tensor<Double>(start, shape: [n, m])
            let before = Tandem.loopStatistics
            Tandem.loop(0..<n, 1..<m) { i, j in x[i, j] = x[i, j - 1] * 0.5 + x[i, j] }
            var want = start
            for i in 0..<n { for j in 1..<m { want[i * m + j] = want[i * m + j - 1] * 0.5 + want[i * m + j] } }
            #expect(try x.scalars == want, "n \(n)")
            #expect((Tandem.loopStatistics.compiled > before.compiled) == compiled, "n \(n): \(Tandem.loopStatistics)")
        }
    }

    @Test("a compiled nest's outer loop is cut among threads by work: a triangle's pieces hold equal work, not equal rows")
    func balancedOuterCuts() {
        typealias A = LoopProgram.Affine
        // for t0 in 0..<240 { for t1 in t0..<240 { x[t0, t1] = 1 } }: 2 * (240 - t0) a row.
        func program(innerLower: A, outer: Int = 240) -> LoopProgram {
            LoopProgram(buffers: [BufferParam(dtype: .float64, isRead: false, isWritten: true)], shapes: [[240, 240]],
                        accesses: [LoopProgram.Access(buffer: 0, indices: [A(constant: 0, coefs: [1]), A(constant: 0, coefs: [1, 1])])],
                        steps: [LoopProgram.Step(.compute(.literal(.float(1))), .float64)],
                        body: [.loop(variable: 0, lower: A(constant: 0), upper: A(constant: outer), step: 1, body: [
                            .loop(variable: 1, lower: innerLower, upper: A(constant: 240), step: 1, body: [.step(0), .store(access: 0, value: 0)]),
                        ])],
                        variables: 2, intParams: 0, floatParams: 0, parallelOuter: true)
        }
        let triangle = program(innerLower: A(constant: 0, coefs: [1]))
        #expect(triangle.outerIterationWork(0) == 480 && triangle.outerIterationWork(239) == 2)
        for pieces in [2, 3, 4] {
            let b = triangle.balancedBounds(pieces: pieces)
            #expect(b.count == pieces + 1 && b.first == 0 && b.last == 240 && zip(b, b.dropFirst()).allSatisfy { $0 < $1 }, "\(b)")
            let work = zip(b, b.dropFirst()).map { lo, hi in (lo..<hi).reduce(0.0) { $0 + triangle.outerIterationWork($1) } }
            let even = work.reduce(0, +) / Double(pieces)
            // Within one row of the even share (the heaviest row: 480).
            #expect(work.allSatisfy { abs($0 - even) <= 480 }, "\(b): \(work)")
        }
        // The first half of the rows holds three quarters of the work: the cut comes early.
        #expect((68...73).contains(triangle.balancedBounds(pieces: 2)[1]))
        // Even rows: equal counts; more pieces than rows: one row each; no rows: one empty piece.
        #expect(program(innerLower: A(constant: 0)).balancedBounds(pieces: 4) == [0, 60, 120, 180, 240])
        #expect(program(innerLower: A(constant: 0), outer: 3).balancedBounds(pieces: 8) == [0, 1, 2, 3])
        #expect(program(innerLower: A(constant: 0), outer: 0).balancedBounds(pieces: 2) == [0, 0])
    }

    @Test("random triangular nests compiled as written give the sequential values (outer loops in parallel where the bounds' system allows)")
    func randomTriangularPrograms() throws {
        Tandem.loopPrograms = .always
        defer { Tandem.loopPrograms = .auto }
        var rng = SplitMix(seed: 4242)
        var parallel = 0, total = 0, threaded = 0, swapped = 0
        // A subscript: an affine function of (i, j) that stays inside its axis for i, j < 8.
        typealias Sub = (ci: Int, cj: Int, c: Int)
        let square: [Sub] = [(1, 0, 0), (0, 1, 0), (0, 0, 3), (-1, 0, 7), (0, -1, 7)]
        let line: [Sub] = [(1, 0, 0), (0, 1, 0), (1, 1, 0), (1, 1, 1), (-1, -1, 15), (2, 0, 1)]
        struct Access { var array: Int; var subs: [Sub] }
        struct Stmt { var write: Access; var reads: [(Access, Double)]; var constant: Double; var accumulate: Bool; var inner: Bool }
        for round in 0..<250 {
            // The last hundred split every inner loop that may be split, however small, and put
            // every statement in the inner loop: nests whose two loops both carry have them
            // swapped where that keeps the order of every pair of iterations touching one
            // element (the inner one, then split, is the outer).
            let swapping = round >= 150
            Tandem.loopSplitOperations = swapping ? 0 : 1 << 17
            defer { Tandem.loopSplitOperations = 1 << 17 }
            let n = rng.int(2...8)
            let (lowerKind, upperKind) = [(0, 0), (0, 1), (1, 2), (2, 2), (0, 2), (1, 1)][rng.int(0...5)]
            func access() -> Access {
                let a = rng.int(0...1)
                return Access(array: a, subs: a == 0 ? [square[rng.int(0...4)], square[rng.int(0...4)]] : [line[rng.int(0...5)]])
            }
            var stmts: [Stmt] = []
            for _ in 0..<rng.int(1...4) {
                stmts.append(Stmt(write: access(), reads: (0..<rng.int(0...2)).map { _ in (access(), [0.5, -1, 2][rng.int(0...2)]) },
                                  constant: Double(rng.int(-2...2)), accumulate: rng.int(0...1) == 0, inner: swapping || rng.int(0...2) > 0))
            }
            // j's bounds from i: lower 0, i or i + 1; upper i, i + 1 or n.
            func lower(_ i: Int) -> Int { [0, i, i + 1][lowerKind] }
            func upper(_ i: Int) -> Int { [i, i + 1, n][upperKind] }
            var start0 = [Double](repeating: 0, count: 64), start1 = [Double](repeating: 0, count: 16)
            for k in 0..<64 { start0[k] = Double((k * 5) % 7) - 3 }
            for k in 0..<16 { start1[k] = Double((k * 3) % 5) - 2 }
            // The nest in Swift.
            var want = [start0, start1]
            func flat(_ a: Access, _ i: Int, _ j: Int) -> Int {
                let v = a.subs.map { $0.ci * i + $0.cj * j + $0.c }
                return a.array == 0 ? v[0] * 8 + v[1] : v[0]
            }
            func apply(_ s: Stmt, _ i: Int, _ j: Int) {
                var v = s.constant
                for (r, c) in s.reads { v += c * want[r.array][flat(r, i, j)] }
                let w = flat(s.write, i, j)
                want[s.write.array][w] = s.accumulate ? want[s.write.array][w] + v : v
            }
            for i in 0..<n {
                for s in stmts where !s.inner { apply(s, i, 0) }
                if lower(i) < upper(i) { for j in lower(i)..<upper(i) { for s in stmts where s.inner { apply(s, i, j) } } }
            }
            // The same through Tandem.loop.
            var arrays = [Tensor<Double>(start0, shape: [8, 8]), Tensor<Double>(start1)]
            func index(_ a: Access, _ i: LoopIndex, _ j: LoopIndex) -> [TensorIndex] {
                a.subs.map { ._loop($0.ci * i + $0.cj * j + $0.c) }
            }
            func run(_ s: Stmt, _ i: LoopIndex, _ j: LoopIndex) {
                var v = Tensor(s.constant)
                for (r, c) in s.reads { v = v + c * arrays[r.array][indices: index(r, i, j)] }
                if s.accumulate { arrays[s.write.array][indices: index(s.write, i, j)] += v } else { arrays[s.write.array][indices: index(s.write, i, j)] = v }
            }
            let before = Tandem.loopStatistics
            Tandem.loop(0..<n) { i in
                for s in stmts where !s.inner { run(s, i, 0 * i) }
                let lo: LoopIndex = [0 * i, i, i + 1][lowerKind], hi: LoopIndex = [i, i + 1, 0 * i + n][upperKind]
                Tandem.loop(lo..<hi) { j in for s in stmts where s.inner { run(s, i, j) } }
            }
            let after = Tandem.loopStatistics
            total += 1
            if after.compiledParallel > before.compiledParallel { parallel += 1 }
            if after.compiledThreaded > before.compiledThreaded { threaded += 1 }
            if after.compiledSwapped > before.compiledSwapped { swapped += 1 }
            // Compiled, or (constant inner bounds, nothing carried) run as arrays over the tree.
            #expect(after.compiled == before.compiled + 1 || after.vectorised == before.vectorised + 1)
            for k in 0..<2 {
                let got = try arrays[k].scalars
                #expect(zip(got, want[k]).allSatisfy { abs($0 - $1) <= 1e-9 * Swift.max(1, abs($1)) },
                        "n \(n) bounds \(lowerKind) \(upperKind) \(stmts.map { "\($0)" }): array \(k) \(got) != \(want[k])")
            }
        }
        if Tandem.runtime.executor.workers > 1 {
            #expect(parallel > 10, "\(parallel) of \(total) in parallel")
            #expect(threaded > 10, "\(threaded) of \(total) threaded")
            #expect(swapped > 5, "\(swapped) of \(total) with their loops swapped")
        }
        print("random triangular programs: \(parallel) of \(total) with the outer loop in parallel, \(threaded) threaded, \(swapped) swapped")
    }

    /// One call site for every body of `knownTrees` (the loop tree is remembered by site and extents).
    static func oneSite(_ n: Int, _ body: (LoopIndex) -> Void) { Tandem.loop(0..<n) { i in body(i) } }

    @Test("a loop tree remembered at a call site: reused while the body has it, traced again when its loops change")
    func knownTrees() throws {
        let n = 6
        let a = Tensor<Double>.uniform([n, 9], seed: 8)
        let s = try a.scalars
        func rowSums(_ m: Int) -> [Double] { (0..<n).map { i in (0..<m).reduce(0.0) { $0 + s[i * 9 + $1] } } }
        let start = Tandem.loopStatistics
        for (round, m) in [5, 5, 7, 5, 0, 9].enumerated() {
            var out = Tensor<Double>.zeros([n])
            let before = Tandem.loopStatistics
            if m == 0 {
                // No nested call at all this time.
                LoopNestTests.oneSite(n) { i in out[i] = a[i, 0] * 2 }
                #expect(try out.scalars == (0..<n).map { s[$0 * 9] * 2 }, "round \(round)")
            } else {
                LoopNestTests.oneSite(n) { i in
                    out[i] = Tensor<Double>(0)
                    Tandem.loop(0..<m) { j in out[i] += a[i, j] }
                }
                // A reduction as arrays adds in another order than the loop: within rounding.
                #expect(zip(try out.scalars, rowSums(m)).allSatisfy { abs($0 - $1) <= 1e-12 }, "round \(round): \(m) columns")
                // At least: the OpenCL suite may run PolyBench's nests at the same time.
                #expect(Tandem.loopStatistics.imperfect >= before.imperfect + 1, "round \(round) did not run as one loop tree")
            }
        }
        // Used once (the second 5); changed three times (7 after 5, 5 after 7, none after 5).
        let end = Tandem.loopStatistics
        #expect(end.treesReused >= start.treesReused + 1 && end.treesChanged >= start.treesChanged + 3, "\(start) \(end)")
        // Bounds from the outer index this time (irregular): traced from the start.
        var tri = Tensor<Double>.zeros([n])
        LoopNestTests.oneSite(n) { i in
            tri[i] = Tensor<Double>(0)
            Tandem.loop(0..<i) { j in tri[i] += a[i, j] }
        }
        #expect(zip(try tri.scalars, (0..<n).map { i in (0..<i).reduce(0.0) { $0 + s[i * 9 + $1] } }).allSatisfy { abs($0 - $1) <= 1e-12 })
    }

    @Test("a reduction of a value inside a nest stops the program with a message, not a sum over the iteration space")
    func reductionOfAnElementRefused() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Tensor<Double>.ones([8])
            var b = Tensor<Double>.zeros([8])
            Tandem.loop(0..<8) { i in b[i] = a[i].sum() }
            _ = try? b.scalars
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("a reduction (sum, max, mean, ...) of a value inside a loop nest"), "\(text)")
    }

    @Test("an index outside its tensor in a compiled nest stops the program with the axis and the size")
    func compiledOutOfBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let n = 6
            let l = Tensor<Double>.ones([n, n])
            var x = Tensor<Double>.zeros([n])
            Tandem.loop(0..<n) { i in
                Tandem.loop(0..<i + 2) { j in x[i] += l[i, j] }
            }
            _ = try? x.scalars
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        // The compiled nest's check (a C compiler is there wherever the tests run).
        #expect(text.contains("the read index of axis 1 reaches 6, outside its size 6"), "\(text)")
    }

    @Test("an index outside its tensor in a loop split over threads stops the program; no thread waits forever")
    func compiledThreadedOutOfBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let n = 240
            let src = Tensor<Double>.ones([n, n + 1])
            var a = Tensor<Double>.zeros([n, n + 1])
            Tandem.loop(1..<n) { i in
                a[i, 0] = a[i - 1, 0] + 1                        // carried by i
                Tandem.loop(0..<n + 1) { j in                    // free, and large: split
                    Tandem.loop(0..<i) { k in a[i, j] += src[k, j] }   // triangular: compiled at once
                    a[i, j] += src[i + 1, j]                     // i + 1 reaches n at the last i, in every share
                }
            }
            _ = try? a.scalars
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("the read index of axis 0 reaches 240, outside its size 240"), "\(text)")
    }

    /// NumPy's outputs of `bench/polybench/polybench.py --size mini` (checksum, first element);
    /// the NumPy versions were checked against the sequential C loops run in Python.
    static let polybenchMini: [String: (Double, Double)] = [
        "gemm": (4365.0, 0.06),
        "2mm": (17079.477272727276, 6.740234375),
        "syrk": (3330.766666666667, 0.15333333333333332),
        "gesummv": (547.725, 1.8850000000000002),
        "atax": (1151.8518421052634, 24.43298245614035),
        "bicg": (719.2299498746867, 13.503968253968253),
        "mvt": (739.25, 0.0),
        "doitgen": (1971.0, 0.0),
        "trisolv": (12.365172214194999, 0.0),
        "lu": (1106.0, 1.0),
        "cholesky": (7296.12875, 1.0),
        "covariance": (16038.0, 0.0),
        "correlation": (784.0, 1.0),
        "jacobi-1d": (16.622753795581623, 0.06666666666666667),
        "jacobi-2d": (7311.598061091434, 0.06666666666666667),
        "heat-3d": (14500.0, 10.0),
        "fdtd-2d": (6839.525179632956, 20.65661528184171),
        "seidel-2d": (16850.0, 0.05),
        "floyd-warshall": (6594.0, 2.0),
        "nussinov": (16254.0, 0.0),
        "durbin": (-1.0398412758009046, 0.3146541388894406),
    ]

    /// The same in float32 (`--dtype f32`: NumPy's float32 arrays, within 1e-4).
    static let polybenchMini32: [String: (Double, Double)] = [
        "gemm": (4365.000079035759, 0.06000000238418579),
        "2mm": (17079.477582216263, 6.740234375),
        "syrk": (3330.7665940746665, 0.15333333611488342),
        "gesummv": (547.7250202894211, 1.8850001096725464),
        "atax": (1151.8518447875977, 24.432981491088867),
        "bicg": (719.2299652099609, 13.503968238830566),
        "mvt": (739.2500099185854, 0.0),
        "doitgen": (1970.999992132187, 0.0),
        "trisolv": (12.365169882774353, 0.0),
        "lu": (1105.9999959878623, 1.0),
        "cholesky": (7296.128751337528, 1.0),
        "covariance": (16038.000130094588, 0.0),
        "correlation": (784.0001221895218, 1.0),
        "jacobi-1d": (16.622763119637966, 0.06666667014360428),
        "jacobi-2d": (7311.602118223906, 0.06666667014360428),
        "heat-3d": (14500.0, 10.0),
        "fdtd-2d": (6839.525155425072, 20.6566162109375),
        "seidel-2d": (16850.000528536737, 0.05000000074505806),
        "floyd-warshall": (6594.0, 2.0),
        "nussinov": (16254.0, 0.0),
        "durbin": (-1.0398671999573708, 0.31447386741638184),
    ]

    @Test("PolyBench kernels written as loop nests give NumPy's values (mini, float64 and float32; compiled where auto chooses it, and the array paths alone)",
          arguments: [LoopProgramMode.auto, .off])
    func polybenchMiniValues(programs: LoopProgramMode) throws {
        Tandem.loopPrograms = programs
        defer { Tandem.loopPrograms = .auto }
        for (dtype, table, tolerance) in [(DType.float64, LoopNestTests.polybenchMini, 1e-9), (.float32, LoopNestTests.polybenchMini32, 1e-4)] {
            // nussinov on the array paths runs 36,000 points one at a time (20 s): compiled only.
            for k in PolyBench.kernels where programs != .off || k != "nussinov" {
                let out = try PolyBench.run(k, size: .mini, dtype: dtype)
                let (sum, corner) = table[k]!
                // durbin's recursion amplifies rounding: in float32 the array paths' sums
                // (accumulated in double) end 3e-4 from NumPy's float32 dot, the compiled
                // loop's (in float, in order) 4e-8.
                let tolerance = k == "durbin" && dtype == .float32 && programs == .off ? 1e-3 : tolerance
                #expect(abs(out["checksum"]! - sum) <= tolerance * Swift.max(1, abs(sum)), "\(k) \(dtype): \(out)")
                #expect(abs(out["corner"]! - corner) <= tolerance * Swift.max(1, abs(corner)), "\(k) \(dtype): \(out)")
            }
        }
    }
}

/// A small deterministic generator for the random tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
}
