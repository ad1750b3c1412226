import Testing
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
@testable import Tandem
import _TandemTestSupport

/// Random graphs of ops (broadcasts, strided views, slice writes with aliasing, reductions,
/// comparisons, reshapes, gathers, intermediate syncs; now and then inputs large enough for split
/// reductions, several chunks and lagged passes) evaluated by compiled C, by the interpreter,
/// under `auto`, and by the eager Double reference. Each seed draws its program and inputs; the
/// fixed seeds run every time, and `TANDEM_FUZZ_SEEDS=N` adds N fresh random seeds per dtype for
/// long runs (a failure names its seed as the test's argument: rerun it by adding it to the list).
@Suite("Differential", .planned, .serialized)
struct DifferentialTests {
    /// `count` seeds from `base`, plus `TANDEM_FUZZ_SEEDS` random ones.
    static func seeds(_ base: Int, _ count: Int) -> [Int] {
        let extra = ProcessInfo.processInfo.environment["TANDEM_FUZZ_SEEDS"].flatMap(Int.init) ?? 0
        return Array(base..<(base + count)) + (0..<Swift.max(0, extra)).map { _ in Int.random(in: 100_000...Int(Int32.max)) }
    }

    @Test("float64 random graphs", arguments: seeds(0, 24))
    func float64(seed: Int) throws { try check(Double.self, seed: UInt64(seed)) }

    @Test("float32 random graphs", arguments: seeds(1000, 16))
    func float32(seed: Int) throws { try check(Float.self, seed: UInt64(seed)) }

    @Test("int32 random graphs", arguments: seeds(2000, 12))
    func int32(seed: Int) throws { try check(Int32.self, seed: UInt64(seed)) }

    @Test("int64 random graphs", arguments: seeds(3000, 12))
    func int64(seed: Int) throws { try check(Int64.self, seed: UInt64(seed)) }

    /// The narrow integer types: products and sums leave their range all the time, so these
    /// check the wrapping of every operation, reduction and view on each placement.
    @Test("int8, int16, uint8, uint16 and uint32 random graphs", arguments: seeds(4000, 4))
    func smallIntegers(seed: Int) throws {
        try check(Int8.self, seed: UInt64(seed))
        try check(Int16.self, seed: UInt64(seed + 100))
        try check(UInt8.self, seed: UInt64(seed + 200))
        try check(UInt16.self, seed: UInt64(seed + 300))
        try check(UInt32.self, seed: UInt64(seed + 400))
    }

    /// Few parallel points over a long reduce axis: the planner splits the reduce axis over the
    /// workers, and the C partials live in local arrays (up to `maxSplitParallelPoints` of them).
    @Test("split reductions (sum, max, argmax, argmin; 1 to 256 columns, NaN included) agree with the interpreter and a direct fold")
    func splitReductions() throws {
        for columns in [1, 3, 16, 256] {
            let rows = 70_000 / columns * 2
            let x = Tensor<Double>.uniform([rows, columns], seed: UInt64(columns), in: -3...3)
            var y = x * 1
            y[rows / 2, 0] = Tensor(.nan)
            let run = { (d: DeviceChoice) in
                try Tandem.withDevice(d) {
                    (try x.sum(axis: 0).scalars, try y.max(axis: 0).scalars, try x.argmax(axis: 0).scalars, try x.argmin(axis: 0).scalars)
                }
            }
            let compiled = try run(.cpu), interpreted = try run(.interpreter)
            let xs = try x.scalars
            for c in 0..<columns {
                var sum = 0.0, best = -Double.infinity, worst = Double.infinity, arg = 0, argMin = 0
                for r in 0..<rows {
                    let v = xs[r * columns + c]
                    sum += v
                    if v > best { best = v; arg = r }
                    if v < worst { worst = v; argMin = r }
                }
                #expect(Swift.abs(compiled.0[c] - sum) <= 1e-9 * Swift.max(1, Swift.abs(sum)), "\(columns) columns: sum \(compiled.0[c]) vs \(sum)")
                #expect(Swift.abs(interpreted.0[c] - sum) <= 1e-9 * Swift.max(1, Swift.abs(sum)))
                #expect(c == 0 ? compiled.1[c].isNaN : compiled.1[c] == best, "\(columns) columns: max \(compiled.1[c]) vs \(best)")
                #expect(c == 0 ? interpreted.1[c].isNaN : interpreted.1[c] == best)
                #expect(compiled.2[c] == Int64(arg) && interpreted.2[c] == Int64(arg), "\(columns) columns: argmax")
                #expect(compiled.3[c] == Int64(argMin) && interpreted.3[c] == Int64(argMin), "\(columns) columns: argmin")
            }
            #expect(Tandem.plan(x.sum(axis: 0)).kernels.allSatisfy { $0.splitChunks > 1 }, "\(columns) columns: the sum is split")
        }
    }

    /// Between 64 and 256 rows of at most 4,096 contiguous elements, a row reduction runs over
    /// its rows (one laned loop a row), not split over its reduce axis with strided loads; too
    /// few rows, rows too long, or a reduction down columns still split.
    @Test("row reductions with enough short contiguous rows run over rows, and agree with the interpreter")
    func rowReductionsOverRows() throws {
        let a = Tensor<Double>.uniform([250, 250], seed: 5, in: -1...1), b = Tensor<Double>.uniform([250, 250], seed: 6, in: -1...1)
        let v = Tensor<Double>.uniform([250], seed: 7, in: -1...1)
        let y = 1.5 * (a * v).sum(axis: 1) + 1.2 * (b * v).sum(axis: 1)
        #expect(Tandem.plan(y).kernels.allSatisfy { $0.splitChunks == 0 }, "gesummv's products run over rows")
        let compiled = try Tandem.withDevice(.cpu) { try y.scalars }, interpreted = try Tandem.withDevice(.interpreter) { try y.scalars }
        let (av, bv, vv) = (try a.scalars, try b.scalars, try v.scalars)
        for i in 0..<250 {
            var s = 0.0, t = 0.0
            for j in 0..<250 { s += av[i * 250 + j] * vv[j]; t += bv[i * 250 + j] * vv[j] }
            let want = 1.5 * s + 1.2 * t
            #expect(Swift.abs(compiled[i] - want) <= 1e-12 * Swift.max(1, Swift.abs(want)) && compiled[i] == interpreted[i], "row \(i)")
        }
        let few = Tensor<Double>.uniform([32, 4000], seed: 8, in: 0...1), long = Tensor<Double>.uniform([100, 5000], seed: 9, in: 0...1)
        #expect(Tandem.plan(few.sum(axis: 1)).kernels.allSatisfy { $0.splitChunks > 1 }, "32 rows: split")
        #expect(Tandem.plan(long.sum(axis: 1)).kernels.allSatisfy { $0.splitChunks > 1 }, "rows of 5,000: split")
        #expect(Tandem.plan(a.sum(axis: 0)).kernels.allSatisfy { $0.splitChunks > 1 }, "down columns: split")
    }

    /// `A y1` and `Aᵀ y2` over one domain: one reads A along its rows, the other down its
    /// columns; each gets a kernel of its own form instead of one that reads A strided.
    @Test("reductions of one domain that read along rows and down columns run as separate kernels, with the interpreter's values")
    func rowAndColumnReductionsApart() throws {
        let n = 300
        let a = Tensor<Double>.uniform([n, n], seed: 11, in: -1...1)
        let y1 = Tensor<Double>.uniform([n], seed: 12, in: -1...1), y2 = Tensor<Double>.uniform([n], seed: 13, in: -1...1)
        let x1 = (a * y1[.newAxis, .all]).sum(axis: 1), x2 = (a.transposed * y2[.newAxis, .all]).sum(axis: 1)
        let kernels = Tandem.plan(x1, x2).kernels.filter { $0.kernel.hasReductions }
        #expect(kernels.count == 2, "\(kernels.map(\.fusedOps))")
        let compiled = try Tandem.withDevice(.cpu) { (try x1.scalars, try x2.scalars) }
        let interpreted = try Tandem.withDevice(.interpreter) { (try x1.scalars, try x2.scalars) }
        #expect(compiled.0 == interpreted.0 && compiled.1 == interpreted.1)
        let (av, v1, v2) = (try a.scalars, try y1.scalars, try y2.scalars)
        for i in stride(from: 0, to: n, by: 37) {
            var s1 = 0.0, s2 = 0.0
            for j in 0..<n { s1 += av[i * n + j] * v1[j]; s2 += av[j * n + i] * v2[j] }
            #expect(Swift.abs(compiled.0[i] - s1) <= 1e-12 * Swift.max(1, Swift.abs(s1)) && Swift.abs(compiled.1[i] - s2) <= 1e-12 * Swift.max(1, Swift.abs(s2)))
        }
        // Two reductions that both read along rows still share a kernel.
        let both = Tandem.plan((a * y1[.newAxis, .all]).sum(axis: 1), (a * y2[.newAxis, .all]).sum(axis: 1)).kernels.filter { $0.kernel.hasReductions }
        #expect(both.count == 1)
    }

    /// Max and min along the innermost axis vectorise in C (`__builtin_elementwise_maximum`):
    /// a NaN in any lane, vector body or remainder, must win; -inf rows and empty-ish rows keep
    /// their value; float32 rows accumulate in double and store back exactly.
    @Test("row-wise max and min (vectorised): NaN in any lane wins, -inf rows kept, float and double")
    func rowReductions() throws {
        func run<T: FloatingTensorScalar>(_: T.Type, columns: Int) throws {
            let rows = 4_000
            var x = Tensor<T>.uniform([rows, columns], seed: UInt64(40 + columns), in: -5...5)
            // NaN at the first, a middle and the last column of three rows; a row of -inf.
            for (r, c) in [(1, 0), (2, columns / 2), (rows - 1, columns - 1)] { x[r, c] = Tensor<T>(T.nan) }
            x[3, .all] = Tensor<T>(-T.infinity)
            let (mx, mn) = try Tandem.withDevice(.cpu) { (try x.max(axis: 1).scalars, try x.min(axis: 1).scalars) }
            let xs = try x.scalars
            for r in 0..<rows {
                let row = xs[(r * columns)..<((r + 1) * columns)]
                if row.contains(where: { $0.isNaN }) {
                    #expect(mx[r].isNaN && mn[r].isNaN, "\(T.self) \(columns) columns, row \(r): max \(mx[r]), min \(mn[r])")
                } else {
                    #expect(mx[r] == row.max()! && mn[r] == row.min()!, "\(T.self) \(columns) columns, row \(r)")
                }
            }
        }
        for columns in [1, 7, 16, 37] {
            try run(Float.self, columns: columns)
            try run(Double.self, columns: columns)
        }
    }

    /// Short rows reduced under a parallel axis compile their length and row stride in
    /// (`KernelBuilder.shortRowBytes`): GMM's log-density shape, for several row lengths in one
    /// process, must each get their own code and agree with a direct fold.
    @Test("short-row reductions (GMM's shape, rows of 1 to 9) compile their length in and agree with a direct fold")
    func shortRows() throws {
        func run<T: FloatingTensorScalar>(_: T.Type, d: Int, tolerance: Double) throws {
            let n = 3_000, k = 5
            let x = Tensor<T>.uniform([n, d], seed: UInt64(d), in: -2...2)
            let mu = Tensor<T>.uniform([k, d], seed: UInt64(100 + d), in: -2...2)
            let v = Tensor<T>.uniform([k, d], seed: UInt64(200 + d), in: 0.5...1.5)
            let diff = x[.all, .newAxis, .all] - mu[.newAxis]
            let s = (diff * diff / v[.newAxis]).sum(axis: 2), m = (diff * v[.newAxis]).max(axis: 2)
            let plan = Tandem.plan(s)
            // Compiled in: rows of at most 32 bytes, and rows shorter than the eight lanes.
            let short = (d * T.dtype.byteSize <= 32 || d < 8) && d > 1
            #expect(plan.kernels.contains { $0.kernel.innerExtent == (short ? d : nil) && $0.kernel.reductions.count == 1 } ,
                    "\(T.self) d=\(d): inner extent \(plan.kernels.map { $0.kernel.innerExtent as Any })")
            let (gs, gm) = try Tandem.withDevice(.cpu) { (try s.scalars, try m.scalars) }
            let xs = try x.scalars, ms = try mu.scalars, vs = try v.scalars
            for i in stride(from: 0, to: n, by: 7) {
                for c in 0..<k {
                    var want = 0.0, top = -Double.infinity
                    for j in 0..<d {
                        let t = Double(xs[i * d + j]) - Double(ms[c * d + j])
                        want += t * t / Double(vs[c * d + j])
                        top = Swift.max(top, Double(T(t) * vs[c * d + j]))
                    }
                    #expect(Swift.abs(Double(gs[i * k + c]) - want) <= tolerance * Swift.max(1, Swift.abs(want)), "\(T.self) d=\(d) (\(i), \(c))")
                    #expect(Double(gm[i * k + c]) == top, "\(T.self) d=\(d) max (\(i), \(c))")
                }
            }
        }
        for d in [1, 2, 3, 4, 5, 8, 9] {
            try run(Float.self, d: d, tolerance: 1e-5)
            try run(Double.self, d: d, tolerance: 1e-12)
        }
    }

    func check<T: NumericTensorScalar>(_: T.Type, seed: UInt64) throws {
        let compiled = try Tandem.withDevice(.cpu) { try Program<T>(seed: seed).run() }
        let interpreted = try Tandem.withDevice(.interpreter) { try Program<T>(seed: seed).run() }
        let automatic = try Tandem.withDevice(.auto) { try Program<T>(seed: seed).run() }
        let reference = Program<T>(seed: seed).reference()
        #expect(compiled.count == reference.count)
        let (rel, abs): (Double, Double) = switch T.dtype {
        case .float64: (1e-9, 1e-9)
        case .float32: (2e-4, 2e-4)
        default: (0, 0)
        }
        for (i, ref) in reference.enumerated() {
            #expect(ref.matches(compiled[i], relative: rel, absolute: abs),
                    "seed \(seed) value \(i) compiled: \(compiled[i].prefix(6)) vs reference \(ref)")
            #expect(ref.matches(interpreted[i], relative: rel, absolute: abs),
                    "seed \(seed) value \(i) interpreted: \(interpreted[i].prefix(6)) vs reference \(ref)")
            #expect(ref.matches(automatic[i], relative: rel, absolute: abs),
                    "seed \(seed) value \(i) auto: \(automatic[i].prefix(6)) vs reference \(ref)")
        }
    }
}

/// A random program applied in lockstep to tensors and to reference arrays. Building it twice
/// from the same seed gives the same program; each run draws its own inputs from the seed.
final class Program<T: NumericTensorScalar> {
    var rng: SeededGenerator
    var tensors: [Tensor<T>] = []
    var refs: [RefArray] = []
    var extra: [RefArray] = []
    var extraTensors: [() throws -> [Double]] = []
    let isFloat = T.dtype.isFloatingPoint
    var useTensors = true

    init(seed: UInt64) { rng = SeededGenerator(seed: seed &* 0x2545F4914F6CDD1D &+ 17) }

    func run() throws -> [[Double]] {
        useTensors = true
        try build()
        var out: [[Double]] = []
        for t in tensors { out.append(try t.scalars.map { $0.literal.asDouble }) }
        for e in extraTensors { out.append(try e()) }
        return out
    }

    func reference() -> [RefArray] {
        useTensors = false
        try! build()
        return refs + extra
    }

    /// Rounds a reference value to what the element type holds.
    func round(_ x: Double) -> Double {
        switch T.dtype {
        case .float32: Double(Float(x))
        case .int8, .int16, .int32, .uint8, .uint16, .uint32: Double(T.dtype.wrap(Int64(x)))
        default: x
        }
    }

    func rounded(_ r: RefArray) -> RefArray { r.map(round) }

    func randomShape() -> [Int] {
        // Now and then large: split reductions, several chunks per worker, lagged passes. Not
        // for float32, whose long sums drift from the Double reference beyond any fixed tolerance.
        if T.dtype != .float32 && Int.random(in: 0..<6, using: &rng) == 0 {
            return Bool.random(using: &rng) ? [Int.random(in: 20_000...70_000, using: &rng)]
                                            : [Int.random(in: 150...400, using: &rng), Int.random(in: 40...160, using: &rng)]
        }
        let rank = Int.random(in: 0...3, using: &rng)
        return (0..<rank).map { _ in Int.random(in: 1...6, using: &rng) }
    }

    func input(_ shape: [Int]) {
        let n = shape.reduce(1, *)
        let data: [Double] = (0..<n).map { _ in
            isFloat ? round(Double.random(in: -2...2, using: &rng)) : round(Double(Int.random(in: -20...20, using: &rng)))
        }
        refs.append(RefArray(shape: shape, data: data))
        if useTensors { tensors.append(Tensor<T>(data.map { T(literal: Literal.float($0).converted(to: T.dtype)) }, shape: shape)) }
    }

    /// A shape that broadcasts with `s`: some axes set to 1, maybe fewer leading axes.
    func partner(_ s: [Int]) -> [Int] {
        var p = s.map { Bool.random(using: &rng) && Int.random(in: 0..<3, using: &rng) == 0 ? 1 : $0 }
        if !p.isEmpty && Int.random(in: 0..<4, using: &rng) == 0 { p.removeFirst() }
        return p
    }

    func push(_ t: @autoclosure () -> Tensor<T>, _ r: RefArray, replacing i: Int? = nil) {
        if let i {
            refs[i] = r
            if useTensors { tensors[i] = t() }
        } else {
            refs.append(r)
            if useTensors { tensors.append(t()) }
        }
    }

    func pick() -> Int { Int.random(in: 0..<refs.count, using: &rng) }

    func randomIndex(_ shape: [Int], allowIndex: Bool = true) -> ([TensorIndex], [RefArray.Index]) {
        var t: [TensorIndex] = [], r: [RefArray.Index] = []
        for n in shape {
            let choice = Int.random(in: 0..<6, using: &rng)
            if allowIndex && choice == 0 {
                let i = Int.random(in: 0..<n, using: &rng)
                t.append(.index(i)); r.append(.index(i))
            } else if choice == 1 {
                let step = [-1, -2].randomElement(using: &rng)!
                let start = Int.random(in: 0..<n, using: &rng)
                let count = (start + (-step)) / (-step)
                let c = Int.random(in: 1...count, using: &rng)
                let end = Swift.max(-1, start + step * c)
                t.append(.slice(start: start, end: end, step: step)); r.append(.slice(start: start, count: c, step: step))
            } else if choice == 2 && allowIndex {
                t.append(._newAxis); r.append(.newAxis)
                t.append(._all); r.append(.slice(start: 0, count: n, step: 1))
            } else {
                let step = [1, 1, 2, 3].randomElement(using: &rng)!
                let start = Int.random(in: 0..<n, using: &rng)
                let maxCount = (n - start + step - 1) / step
                let c = Int.random(in: 1...maxCount, using: &rng)
                t.append(.slice(start: start, end: Swift.min(n, start + step * c), step: step)); r.append(.slice(start: start, count: c, step: step))
            }
        }
        return (t, r)
    }

    func build() throws {
        for _ in 0..<3 { input(randomShape()) }
        let steps = Int.random(in: 6...14, using: &rng)
        for _ in 0..<steps { try step() }
    }

    /// `mean` is defined on float tensors only.
    static func mean(_ t: Tensor<T>, axis: Int) -> Tensor<T> {
        if let d = t as? Tensor<Double> { return d.mean(axes: [axis]) as! Tensor<T> }
        if let f = t as? Tensor<Float> { return f.mean(axes: [axis]) as! Tensor<T> }
        preconditionFailure("mean of \(T.self)")
    }

    func step() throws {
        let i = pick()
        let a = refs[i]
        let ta = useTensors ? tensors[i] : nil
        let replace: Int? = Bool.random(using: &rng) ? i : nil
        switch Int.random(in: 0..<18, using: &rng) {
        case 0, 1: // binary with broadcasting against a fresh input
            input(partner(a.shape))
            let b = refs.last!, tb = useTensors ? tensors.last! : nil
            let op = Int.random(in: 0..<(isFloat ? 6 : 5), using: &rng)
            let fs: [(Double, Double) -> Double] = [(+), (-), { Swift.max($0, $1) }, { Swift.min($0, $1) }, { $0 * $1 }, { $0 / (Swift.abs($1) + 1) }]
            let r = rounded(RefArray.zip(a, b, fs[op]))
            if !isFloat && op == 4 { return }  // integer products can leave Double's exact range
            push({
                switch op {
                case 0: return ta! + tb!
                case 1: return ta! - tb!
                case 2: return Tensor.maximum(ta!, tb!)
                case 3: return Tensor.minimum(ta!, tb!)
                case 4: return ta! * tb!
                default: return ta! / (tb!.abs() + T(literal: Literal.int(1).converted(to: T.dtype)))
                }
            }(), r, replacing: replace)
        case 2: // unary
            if isFloat {
                let op = Int.random(in: 0..<7, using: &rng)
                let fs: [(Double) -> Double] = [{ ($0.magnitude + 0.5).squareRoot() }, { Glibc.tanh($0) }, { Glibc.sin($0) },
                                                { Glibc.erf($0) }, { $0.rounded(.down) }, { Glibc.log($0.magnitude + 1) }, { Glibc.exp($0 * 0.25) }]
                let ops: [UnaryOp] = [.sqrt, .tanh, .sin, .erf, .floor, .log, .exp]
                let pre: (Tensor<T>) -> Tensor<T> = { t in
                    switch op {
                    case 0: return t.abs() + T(literal: Literal.float(0.5).converted(to: T.dtype))
                    case 5: return t.abs() + T(literal: Literal.int(1).converted(to: T.dtype))
                    case 6: return t * T(literal: Literal.float(0.25).converted(to: T.dtype))
                    default: return t
                    }
                }
                push(pre(ta!).unary(ops[op]), rounded(a.map(fs[op])), replacing: replace)
            } else {
                if Bool.random(using: &rng) { push(-ta!, rounded(a.map { -$0 }), replacing: replace) } else {
                    push(ta! % T(literal: Literal.int(7).converted(to: T.dtype)), a.map { Double(Int64($0) % 7) }, replacing: replace)
                }
            }
        case 3: // scalar on either side
            let c = round(isFloat ? Double.random(in: -1.5...1.5, using: &rng) : Double(Int.random(in: -3...3, using: &rng)))
            let ct = T(literal: Literal.float(c).converted(to: T.dtype))
            // Integer products in wrapping Int64 arithmetic: a uint32 times a wrapped -3 is
            // beyond Double's exact range, but its low 32 bits are exact this way.
            let times: (Double) -> Double = isFloat ? { $0 * c } : { Double(Int64($0) &* Int64(c)) }
            if Bool.random(using: &rng) { push(ta! * ct, rounded(a.map(times)), replacing: replace) } else {
                push(ct - ta!, rounded(a.map { c - $0 }), replacing: replace)
            }
        case 4: // view
            let (ti, ri) = randomIndex(a.shape)
            push(ta![indices: ti], a.view(ri))
        case 5: // transpose
            guard a.rank >= 2 else { return }
            let order = Array((0..<a.rank).shuffled(using: &rng))
            push(ta!.permuted(order), a.permuted(order))
        case 6: // reduction
            guard a.rank >= 1 else { return }
            let axes = (0..<a.rank).filter { _ in Bool.random(using: &rng) }
            let keep = Bool.random(using: &rng)
            let op = Int.random(in: 0..<3, using: &rng)
            let kinds: [RefArray.Reduction] = [.sum, .max, .min]
            let r = rounded(a.reduce(kinds[op], axes: axes.isEmpty ? Array(0..<a.rank) : axes, keepDims: keep))
            let ax: [Int]? = axes.isEmpty ? nil : axes
            push(op == 0 ? ta!.sum(axes: ax, keepDims: keep) : (op == 1 ? ta!.max(axes: ax, keepDims: keep) : ta!.min(axes: ax, keepDims: keep)), r)
        case 7: // slice write with a broadcast right-hand side
            let (ti, ri) = randomIndex(a.shape, allowIndex: Bool.random(using: &rng))
            let viewShape = a.view(ri).shape
            input(partner(viewShape))
            let v = refs.last!, tv = useTensors ? tensors.last! : nil
            var t = ta
            if useTensors { precondition(t!.shape == a.shape, "desync \(t!.shape) \(a.shape) \(ti)"); t![indices: ti] = tv! }
            push(t!, a.writing(ri, v), replacing: replace)
        case 8: // aliasing write: a[0..<n-1] = f(a[1..<n]) or the reverse (SOR-like)
            guard a.rank >= 1, a.shape[0] >= 2 else { return }
            let n = a.shape[0]
            let forward = Bool.random(using: &rng)
            let dst: [RefArray.Index] = [.slice(start: forward ? 0 : 1, count: n - 1, step: 1)]
            let src: [RefArray.Index] = [.slice(start: forward ? 1 : 0, count: n - 1, step: 1)]
            let tdst: [TensorIndex] = [.slice(start: forward ? 0 : 1, end: forward ? n - 1 : n, step: 1)]
            let tsrc: [TensorIndex] = [.slice(start: forward ? 1 : 0, end: forward ? n : n - 1, step: 1)]
            var t = ta
            if useTensors { t![indices: tdst] = t![indices: tsrc] + t![indices: tdst] }
            push(t!, rounded(a.writing(dst, RefArray.zip(a.view(src), a.view(dst), +))), replacing: i)
        case 9: // where
            input(partner(a.shape))
            let b = refs.last!, tb = useTensors ? tensors.last! : nil
            let c = RefArray.zip(a, b) { $0 > $1 ? 1 : 0 }
            push(useTensors ? `where`(ta! .> tb!, ta!, tb! * T(literal: Literal.int(2).converted(to: T.dtype))) : ta!, rounded(RefArray.select(c, a, b.map { $0 * 2 })), replacing: replace)
        case 10: // reshape
            guard a.count > 0 else { return }
            let flat = [a.count]
            push(ta!.reshaped(flat), a.reshaped(flat))
        case 12: // gather along a random axis with a random index tensor (negative indices too)
            guard a.rank >= 1 else { return }
            let axis = Int.random(in: 0..<a.rank, using: &rng)
            let n = a.shape[axis]
            let ishape = (0..<Int.random(in: 0...2, using: &rng)).map { _ in Int.random(in: 1...4, using: &rng) }
            let ivalues = (0..<ishape.reduce(1, *)).map { _ in Int64(Int.random(in: -n..<n, using: &rng)) }
            let index = RefArray(shape: ishape, data: ivalues.map(Double.init))
            // Half the time the index is an expression (fused into the gather's kernel).
            let lazy = Bool.random(using: &rng)
            push({
                let t = Tensor<Int64>(ivalues, shape: ishape)
                return ta!.take(lazy ? t * 1 : t, axis: axis)
            }(), a.take(index, axis: axis))
        case 13: // roll, flip, concatenate
            guard a.rank >= 1 else { return }
            let axis = Int.random(in: 0..<a.rank, using: &rng)
            let shift = Int.random(in: -7...7, using: &rng)
            if Bool.random(using: &rng) {
                push(ta!.rolled(by: shift, axis: axis), a.rolled(shift, axis: axis))
            } else {
                let n = a.shape[axis]
                var items = [RefArray.Index](repeating: .slice(start: 0, count: 0, step: 1), count: a.rank)
                for d in 0..<a.rank { items[d] = .slice(start: 0, count: a.shape[d], step: 1) }
                items[axis] = .slice(start: n - 1, count: n, step: -1)
                push(ta!.flipped(axis: axis), a.view(items))
            }
        case 14: // every comparison, as 0 and 1 in the element type
            input(partner(a.shape))
            let b = refs.last!, tb = useTensors ? tensors.last! : nil
            let op = Int.random(in: 0..<6, using: &rng)
            let fs: [(Double, Double) -> Bool] = [(<), (<=), (>), (>=), (==), (!=)]
            let r = RefArray.zip(a, b) { fs[op]($0, $1) ? 1 : 0 }
            push({
                let c: Tensor<Bool>
                switch op {
                case 0: c = ta! .< tb!
                case 1: c = ta! .<= tb!
                case 2: c = ta! .> tb!
                case 3: c = ta! .>= tb!
                case 4: c = ta! .== tb!
                default: c = ta! .!= tb!
                }
                return c.cast(to: T.self)
            }(), r, replacing: replace)
        case 15: // cos, erfc, ceil, pow on floats; integer division (toward zero) on integers
            if isFloat {
                let op = Int.random(in: 0..<4, using: &rng)
                let fs: [(Double) -> Double] = [{ Glibc.cos($0) }, { Glibc.erfc($0) }, { $0.rounded(.up) }, { Glibc.pow($0.magnitude + 0.5, 1.5) }]
                push({
                    switch op {
                    case 0: return ta!.unary(.cos)
                    case 1: return ta!.unary(.erfc)
                    case 2: return ta!.unary(.ceil)
                    default: return pow(ta!.abs() + T(literal: Literal.float(0.5).converted(to: T.dtype)), T(literal: Literal.float(1.5).converted(to: T.dtype)))
                    }
                }(), rounded(a.map(fs[op])), replacing: replace)
            } else {
                input(partner(a.shape))
                let b = refs.last!, tb = useTensors ? tensors.last! : nil
                let one = T(literal: Literal.int(1).converted(to: T.dtype))
                push(ta! / (tb!.abs() + one), RefArray.zip(a, b) { Double(Int64($0) / (Int64(Swift.abs($1)) + 1)) }, replacing: replace)
            }
        case 16: // product along one short axis; mean (floats)
            guard a.rank >= 1, let axis = (0..<a.rank).filter({ a.shape[$0] <= 6 }).randomElement(using: &rng) else { return }
            // Integer products of grown values would wrap, where the Double reference does not.
            if !isFloat && a.data.contains(where: { Swift.abs($0) > 100 }) { return }
            if isFloat && Bool.random(using: &rng) {
                push(Program.mean(ta!, axis: axis), rounded(a.reduce(.sum, axes: [axis], keepDims: false).map { $0 / Double(a.shape[axis]) }))
            } else {
                push(ta!.prod(axes: [axis]), rounded(a.reduce(.prod, axes: [axis], keepDims: false)))
            }
        case 17: // argmin along the last axis, read at once
            guard a.rank >= 1 else { return }
            extra.append(a.reduce(.argmin, axes: [a.rank - 1], keepDims: false))
            if useTensors {
                let arg = ta!.argmin(axis: a.rank - 1)
                extraTensors.append { try arg.scalars.map { Double($0) } }
            }
        default: // an intermediate sync, then keep building on the realised value
            if useTensors { _ = try ta!.sum().item() }
            if a.rank >= 1 {
                let r = a.reduce(.argmax, axes: [a.rank - 1], keepDims: false)
                extra.append(r)
                if useTensors {
                    let arg = ta!.argmax(axis: a.rank - 1)
                    extraTensors.append { try arg.scalars.map { Double($0) } }
                }
            }
        }
    }
}
