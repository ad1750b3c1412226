#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR
import TandemRuntime

// The point interpreter's state: one chunk's copies of the kernel and launch, its registers,
// the walk over the domain and each instruction's value (values: State+Values.swift,
// reductions: State+Reductions.swift; the row path: RowInterpreter.swift). Split from
// InterpreterDevice.swift by concern (there: the device and the prepared kernel).

/// An accumulator: value as Double or Int64 bits (by the reduction's type) and an arg index.
struct Acc {
    var f: Double = 0
    var i: Int64 = 0
    var index: Int64 = 0
    var value: Value { Value(f: f, i: i) }
}

struct Value {
    var f: Double
    var i: Int64
}

/// One chunk's interpreter state. It holds private copies of the kernel's arrays, the launch's
/// parameters and raw buffer pointers: reading shared arrays and `Buffer` objects from every
/// worker would retain and release the same reference counts on each point, and those atomic
/// updates on shared cache lines kept the interpreter from scaling past one worker.
struct State {
    // The kernel's fields, copied here: `Kernel` keeps them in a shared box, and reading one
    // through it at every point (a retain and a release of the array) halved the speed.
    let instrs: [Instr]
    let accesses: [Access]
    let reductions: [Reduction]
    let stores: [Store]
    let rank: Int
    let parallelAxes: Int
    let ints: [Int64]
    let floats: [Double]
    let pointers: [UnsafeMutableRawPointer]
    let dtypes: [DType]
    var regs: [Value]
    var accs: [Acc]
    var domain: [Int]
    /// Whether the innermost reduce loop runs in lanes (`Kernel.lanedReduction`), and the lanes.
    let laned: Bool
    var lanes: [Acc]
    /// The body in blocks along the innermost (reduce) axis, when `RowKernel` applies.
    let rows: RowKernel?
    let rowRegisters: RowKernel.Registers?

    /// `otherAccesses`: the kernel's `RowKernel.otherAccesses`, when the caller found them
    /// already.
    init(_ kernel: Kernel, _ launch: Launch, rows eligible: Bool = false, otherAccesses: [(Access, Access)]? = nil) {
        instrs = kernel.instrs.map { $0 }
        accesses = kernel.accesses.map { Access(offset: $0.offset, strides: $0.strides.map { $0 }) }
        reductions = kernel.reductions.map { $0 }
        stores = kernel.stores.map { $0 }
        rank = kernel.rank
        parallelAxes = kernel.parallelAxes
        ints = launch.ints.map { $0 }
        floats = launch.floats.map { $0 }
        pointers = State.pointers(launch)
        dtypes = launch.buffers.map(\.dtype)
        regs = [Value](repeating: Value(f: 0, i: 0), count: instrs.count)
        accs = [Acc](repeating: Acc(), count: reductions.count)
        domain = [Int](repeating: 0, count: rank)
        laned = kernel.lanedReduction
        lanes = laned ? [Acc](repeating: Acc(), count: Kernel.reductionLanes * reductions.count) : []
        rows = eligible && !kernel.reductions.isEmpty ? RowKernel(kernel, launch, otherAccesses: otherAccesses) : nil
        rowRegisters = rows.map { RowKernel.Registers(count: $0.slotCount) }
    }

    func extent(_ a: Int) -> Int { Int(ints[a]) }

    /// Points a split reduction runs between visits to each parallel point's accumulators
    /// (`InterpretedKernel.runSplit`): rows of a reduction down columns that stay in cache.
    static let splitStretch = 4096

    /// The launch's buffer memory; a buffer the kernel never touches may have none, and gets an
    /// address that is never dereferenced.
    static func pointers(_ launch: Launch) -> [UnsafeMutableRawPointer] {
        launch.buffers.map { $0.isAllocated ? $0.pointer : UnsafeMutableRawPointer(bitPattern: 64)! }
    }

    mutating func forEach(axes: Range<Int>, _ idx: inout [Int], _ body: (inout State, [Int]) -> Void) {
        if axes.isEmpty {
            body(&self, idx)
            return
        }
        let a = axes.lowerBound
        for v in 0..<extent(a) {
            idx[a] = v
            forEach(axes: (a + 1)..<axes.upperBound, &idx, body)
        }
    }

    mutating func point(parallel p: [Int], reduceFrom: Int?) {
        for j in accs.indices { accs[j] = identity(j) }
        for (a, v) in p.enumerated() { domain[a] = v }
        reduceLoop(parallel: p, r0: nil)
        epilogue(parallel: p)
    }

    /// Runs the reduce axes (all of them, or those after a fixed first one) for one parallel point.
    mutating func reduceLoop(parallel p: [Int], r0: Int?) {
        for (a, v) in p.enumerated() { domain[a] = v }
        let P = parallelAxes
        var first = P
        if let r0 {
            domain[P] = r0
            first = P + 1
        }
        inner(axis: first)
    }

    private mutating func inner(axis: Int) {
        if axis == rank {
            evaluateBody()
            return
        }
        if laned && axis == rank - 1 && axis >= parallelAxes {
            lanedLoop(axis: axis, from: 0, to: extent(axis))
            return
        }
        if rows != nil && axis == rank - 1 {
            blockLoop(axis: axis, from: 0, to: extent(axis), lanesFrom: nil)
            return
        }
        if rows != nil && axis == rank - 2 && axis >= parallelAxes && (1...(RowKernel.block / 2)).contains(extent(rank - 1)) {
            stackedRows(axis: axis)
            return
        }
        for v in 0..<extent(axis) {
            domain[axis] = v
            inner(axis: axis + 1)
        }
    }

    /// Reduce rows at most this long run in blocks along the last parallel axis
    /// (`shortRows`).
    static let shortRow = 32

    /// The points `start ..< end` of the last parallel axis (axis P - 1) under `outer` (the
    /// other parallel indices), each reducing a short innermost row: a block of up to 256 points runs the body
    /// at each reduce index in turn (`runBlock` along axis P - 1), each point folding into its
    /// own accumulators (or lanes) in the reduce order, then each point's epilogue runs with the
    /// registers its last reduce index left. The same folds in the same order as `point` at
    /// each point, where a row of four (kmeans' coordinates) paid a block's setup per row.
    ///
    /// `stacked`: `start ..< end` are indices of axis P - 2 instead, and a block is as many
    /// whole rows of axis P - 1 as fit (`runBlock` with `rows`), for a last parallel axis too
    /// short to fill a block (`X @ W` with 5 columns: its 100,000 points of a 10-long row each
    /// paid a block's setup, 300 ns a point).
    mutating func shortRows(outer: [Int], from start: Int, to end: Int, stacked: Bool = false) {
        guard let rows, let regs = rowRegisters else { return }
        let P = parallelAxes, B = RowKernel.block, L = Kernel.reductionLanes, n = accs.count
        let extentE = extent(P)
        // Stacked: `m` points a row of axis P - 1, `perBlock` rows a block.
        let m = stacked ? extent(P - 1) : 1
        guard m > 0 else { return }
        let perBlock = stacked ? Swift.max(1, B / m) : B
        let isFloat = (0..<n).map { accIsFloat($0) }
        // The body's registers an epilogue reads (most read only accumulators and parameters).
        var read: [Int] = []
        for instr in instrs where instr.epilogue {
            for o in instr.operands where !instrs[o].epilogue && !read.contains(o) { read.append(o) }
        }
        for st in stores where st.epilogue && !instrs[st.value].epilogue && !read.contains(st.value) { read.append(st.value) }
        // What each point of a block keeps: its lanes (lane l's accumulators at l * n), or its accumulators.
        let width = laned ? L * n : n
        var kept = [Acc](repeating: Acc(), count: B * width)
        let identities = (0..<n).map { identity($0) }
        var p = outer
        var t = start
        while t < end {
            let count = Swift.min(perBlock, end - t)
            let len = count * m
            for i in 0..<(len * width) { kept[i] = identities[i % n] }
            for (a, v) in outer.enumerated() { domain[a] = v }
            if stacked {
                domain[P - 2] = t
                domain[P - 1] = 0
            } else {
                domain[P - 1] = t
            }
            for r in 0..<extentE {
                domain[P] = r
                if stacked {
                    // Point (i, c) of the block (row i of axis P - 2, column c of axis P - 1) in
                    // register c * count + i: one load per column of the block, not per row.
                    rows.runBlock(domain, count, regs, along: P - 2, rows: (P - 1, m))
                } else {
                    rows.runBlock(domain, len, regs, along: P - 1)
                }
                let lane = laned ? (r % L) * n : 0
                for (j, red) in reductions.enumerated() {
                    let vf = regs.f + rows.slot[red.value] * B, vi = regs.i + rows.slot[red.value] * B
                    kept.withUnsafeMutableBufferPointer { kept in
                        if red.op == .sum && isFloat[j] {
                            // foldRun's float sum, one value a point, without a call a point.
                            for k in 0..<len { kept[k * width + lane + j].f += vf[k] }
                        } else {
                            for k in 0..<len {
                                State.foldRun(red.op, isFloat[j], &kept[k * width + lane + j], vf, vi, from: k, to: k + 1, by: 1, index: r - k)
                            }
                        }
                    }
                }
            }
            // Each point's epilogue, in the point order.
            for q in 0..<len {
                let k = stacked ? (q % m) * count + q / m : q
                if laned && n == 1 && reductions[0].op == .sum && isFloat[0] {
                    // combineLanes' tree for one float sum (pairs in place, then into 0),
                    // without the generic folds.
                    accs[0] = kept.withUnsafeMutableBufferPointer { kept in
                        let base = k * width
                        var w = L
                        while w > 1 {
                            w /= 2
                            for l in 0..<w { kept[base + l].f = kept[base + 2 * l].f + kept[base + 2 * l + 1].f }
                        }
                        return Acc(f: 0.0 + kept[base].f)
                    }
                } else if laned {
                    for i in 0..<width { lanes[i] = kept[k * width + i] }
                    combineLanes(outer: identities)
                } else {
                    for j in 0..<n { accs[j] = kept[k * width + j] }
                }
                // The registers the epilogue reads, and the domain, as the row's last point left them.
                for mi in read { self.regs[mi] = Value(f: regs.f[rows.slot[mi] * B + k], i: regs.i[rows.slot[mi] * B + k]) }
                domain[P] = extentE - 1
                if stacked {
                    p[P - 2] = t + q / m
                    p[P - 1] = q % m
                } else {
                    p[P - 1] = t + q
                }
                epilogue(parallel: p)
            }
            t += count
        }
    }

    /// The innermost reduce loop over `start ..< end` in lanes, as the C code runs it: element i
    /// folds into lane `(i - start) % 8`, the lanes combine pairwise, and the result folds into
    /// the accumulators (see `Kernel.lanedReduction`).
    mutating func lanedLoop(axis: Int, from start: Int, to end: Int) {
        let L = Kernel.reductionLanes, n = accs.count
        resetLanes()
        if rows != nil {
            // The row path folds into the lanes alone: the accumulators are still the outer ones.
            blockLoop(axis: axis, from: start, to: end, lanesFrom: start)
            combineLanes()
            return
        }
        // The point path runs each point's fold in the accumulators: keep the outer ones aside.
        let outer = accs
        for v in start..<end {
            domain[axis] = v
            let l = (v - start) % L
            for j in 0..<n { accs[j] = lanes[l * n + j] }
            evaluateBody()
            for j in 0..<n { lanes[l * n + j] = accs[j] }
        }
        combineLanes(outer: outer)
    }

    /// Every lane of every reduction set to the reduction's identity.
    mutating func resetLanes() {
        let L = Kernel.reductionLanes, n = accs.count
        for j in 0..<n {
            let e = identity(j)
            for l in 0..<L { lanes[l * n + j] = e }
        }
    }

    /// The lanes combined pairwise, then folded into `outer` (nil: the accumulators as they
    /// are, with no copy of them), which becomes the accumulators.
    /// Each reduction's tree in turn, in place in `lanes` (its folds decided once, not at
    /// every pair: a logistic regression's 500,000 rows of 8 combined their lanes through a
    /// generic fold and a copied accumulator array each, a third of its interpreted time).
    mutating func combineLanes(outer: [Acc]? = nil) {
        let L = Kernel.reductionLanes, n = accs.count
        for j in 0..<n {
            let op = reductions[j].op, isFloat = accIsFloat(j)
            var a = outer?[j] ?? accs[j]
            lanes.withUnsafeMutableBufferPointer { lanes in
                var width = L
                while width > 1 {
                    width /= 2
                    for l in 0..<width {
                        var x = lanes[2 * l * n + j]
                        var f = lanes[(2 * l + 1) * n + j].f, i = lanes[(2 * l + 1) * n + j].i
                        State.foldRun(op, isFloat, &x, &f, &i, from: 0, to: 1, by: 1, index: 0)
                        lanes[l * n + j] = x
                    }
                }
                var f = lanes[j].f, i = lanes[j].i
                State.foldRun(op, isFloat, &a, &f, &i, from: 0, to: 1, by: 1, index: 0)
            }
            accs[j] = a
        }
    }

    /// The innermost loop over `start ..< end` in blocks (`RowKernel`): the body's instructions
    /// and stores run over a block, then each point's values fold in the point order, into the
    /// accumulators or, with `lanesFrom`, into lane `(v - lanesFrom) % 8` as `lanedLoop` does;
    /// the registers and the domain are left as the last point left them. Bit for bit
    /// `evaluateBody` at each point.
    mutating func blockLoop(axis: Int, from start: Int, to end: Int, lanesFrom: Int?) {
        guard let rows, let regs = rowRegisters, start < end else { return }
        let B = RowKernel.block
        var s = start, last = 0
        while s < end {
            let len = Swift.min(B, end - s)
            domain[axis] = s
            rows.runBlock(domain, len, regs)
            foldBlock(regs, at: 0, len: len, from: s, lanesFrom: lanesFrom)
            last = len - 1
            s += len
        }
        domain[axis] = end - 1
        keepRegisters(regs, at: last)
    }

    /// Each accumulator (or lane) folds the values of `len` points, the innermost axis's
    /// `from ..< from + len`, held in the row registers from `at`, in the point order, one
    /// reduction at a time: the same folds as point by point, the kind of fold decided once a
    /// block. With `lanesFrom`, point v goes to lane `(v - lanesFrom) % 8`.
    private mutating func foldBlock(_ regs: RowKernel.Registers, at: Int, len: Int, from s: Int, lanesFrom: Int?) {
        let B = RowKernel.block, L = Kernel.reductionLanes, n = accs.count
        let slot = rows!.slot
        for (j, r) in reductions.enumerated() {
            let isFloat = accIsFloat(j)
            let vf = regs.f + slot[r.value] * B + at, vi = regs.i + slot[r.value] * B + at
            if let from = lanesFrom {
                for l in 0..<L {
                    // The block's first point in lane l: (s + k - from) % L == l.
                    let k0 = ((l - (s - from)) % L + L) % L
                    guard k0 < len else { continue }
                    State.foldRun(r.op, isFloat, &lanes[l * n + j], vf, vi, from: k0, to: len, by: L, index: s)
                }
            } else {
                State.foldRun(r.op, isFloat, &accs[j], vf, vi, from: 0, to: len, by: 1, index: s)
            }
        }
    }

    /// The point path's registers as the row registers' value `at` left them (an epilogue
    /// reads the body's values at the last point).
    private mutating func keepRegisters(_ regs: RowKernel.Registers, at k: Int) {
        let B = RowKernel.block
        let slot = rows!.slot
        for (m, instr) in instrs.enumerated() where !instr.epilogue {
            self.regs[m] = Value(f: regs.f[slot[m] * B + k], i: regs.i[slot[m] * B + k])
        }
    }

    /// The last two axes, both reduced, with the innermost at most half a block long: the body
    /// runs over several rows at once (`RowKernel.runBlock` with `rows`), then each row folds
    /// as `lanedLoop` or `blockLoop` folds it alone, in the same order, so the same bits. A
    /// full reduction of a 64 x 64 grid ran each instruction once a row.
    mutating func stackedRows(axis: Int) {
        guard let rows, let regs = rowRegisters else { return }
        let B = RowKernel.block
        let innermost = rank - 1, len = extent(innermost), total = extent(axis), perBlock = B / len
        guard total > 0 else { return }
        domain[innermost] = 0
        var v = 0, last = 0
        while v < total {
            let count = Swift.min(perBlock, total - v)
            domain[axis] = v
            rows.runBlock(domain, len, regs, rows: (axis, count))
            for r in 0..<count {
                if laned {
                    resetLanes()
                    foldBlock(regs, at: r * len, len: len, from: 0, lanesFrom: 0)
                    combineLanes()
                } else {
                    foldBlock(regs, at: r * len, len: len, from: 0, lanesFrom: nil)
                }
            }
            last = (count - 1) * len + len - 1
            v += count
        }
        domain[axis] = total - 1
        domain[innermost] = len - 1
        keepRegisters(regs, at: last)
    }

    private func index(_ a: Access) -> Int {
        var i = Int(ints[a.offset])
        for (axis, s) in a.strides.enumerated() {
            switch s {
            case .zero: continue
            case .one: i += domain[axis]
            case .param(let p): i += domain[axis] * Int(ints[p])
            case .fixed(let s): i += domain[axis] * s
            }
        }
        return i
    }

    mutating func evaluateBody() {
        for (n, instr) in instrs.enumerated() where !instr.epilogue { regs[n] = evaluate(instr) }
        for s in stores where !s.epilogue { store(s) }
        for (j, r) in reductions.enumerated() {
            let idx = rank > 0 ? Int64(domain[rank - 1]) : 0
            fold(j, regs[r.value], index: idx)
        }
    }

    mutating func epilogue(parallel p: [Int]) {
        for (a, v) in p.enumerated() { domain[a] = v }
        for (n, instr) in instrs.enumerated() where instr.epilogue { regs[n] = evaluate(instr) }
        for s in stores where s.epilogue { store(s) }
    }

    private func store(_ s: Store) {
        let v = regs[s.value]
        let i = index(accesses[s.access])
        let p = pointers[s.buffer]
        switch dtypes[s.buffer] {
        case .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: dtypes[s.buffer].storeInteger(v.i, p, i)
        case .float32: p.storeBytes(of: Float(v.f), toByteOffset: i * 4, as: Float.self)
        case .float64: p.storeBytes(of: v.f, toByteOffset: i * 8, as: Double.self)
        }
    }

    // MARK: - Instructions (value semantics: `State+Values.swift`; reductions: `State+Reductions.swift`)


    private func load(_ b: Int, _ i: Int) -> Value { State.load(pointers[b], dtypes[b], i) }

    /// Element `i` of a buffer of `dtype` at `p` (the row path loads single elements this way too).
    static func load(_ p: UnsafeMutableRawPointer, _ dtype: DType, _ i: Int) -> Value {
        switch dtype {
        case .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return Value(f: 0, i: dtype.loadInteger(p, i))
        case .float32: return Value(f: Double(p.load(fromByteOffset: i * 4, as: Float.self)), i: 0)
        case .float64: return Value(f: p.load(fromByteOffset: i * 8, as: Double.self), i: 0)
        }
    }

    private func evaluate(_ instr: Instr) -> Value {
        let t = instr.dtype
        switch instr.op {
        case .load(let b, let a): return load(b, index(accesses[a]))
        case .gather(let b, let a, let i, let stride, let extent):
            return load(b, index(accesses[a]) + Int(ints[stride]) * Int(Self.clampIndex(regs[i].i, ints[extent])))
        case .uniform(let a, let seed, let lo, let hi):
            let u = Uniform.unit(seed: UInt64(bitPattern: ints[seed]), index: Int64(index(accesses[a])))
            let flo = floats[lo], fhi = floats[hi]
            return Self.fromDouble(flo + (fhi - flo) * u, t)
        case .iota(let a, let start, let step):
            let i = index(accesses[a])
            if t.isFloatingPoint { return Self.fromDouble(floats[start] + floats[step] * Double(i), t) }
            return Self.fromInt(ints[start] &+ ints[step] &* Int64(i), t)
        case .param(let p):
            return t.isFloatingPoint ? Self.fromDouble(floats[p], t) : Self.fromInt(ints[p], t)
        case .literal(let l):
            return t.isFloatingPoint ? Self.fromDouble(l.asDouble, t) : Self.fromInt(l.asInt64, t)
        case .accumulated(let j):
            let r = reductions[j]
            if r.op.isArg { return Value(f: 0, i: accs[j].index) }
            return accIsFloat(j) ? Self.fromDouble(accs[j].f, t) : Self.fromInt(accs[j].i, t)
        case .cast(let a): return Self.cast(regs[a], from: instrs[a].dtype, to: t)
        case .select(let c, let a, let b): return regs[c].i != 0 ? regs[a] : regs[b]
        case .unary(let op, let a): return Self.unary(op, regs[a], t)
        case .binary(let op, let a, let b): return Self.binary(op, regs[a], regs[b], operand: instrs[a].dtype, t)
        }
    }
}
