#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR
import TandemRuntime

/// Runs kernel IR in Swift, point by point, with exactly the semantics of the generated C
/// (wrapping integers, saturating casts, NaN-propagating max/min, Float rounded after every
/// operation, Tandem's own exp and erf, floating sums folded in the C code's lanes), so that its
/// results equal compiled code's bit for bit; log, sin, cos, tanh and pow come from libm here and
/// from glibc's vector library in compiled code (within 4 ulp, see the README). It is the
/// reference for differential tests and the path when no compiler exists. Kernels without
/// reductions, and reduction bodies along their innermost reduce axis, run over blocks of points
/// (`RowKernel`), with the same bits; what remains point by point is about two orders of
/// magnitude slower than compiled code.
public struct InterpreterDevice: KernelDevice {
    /// Whether kernels without reductions run block by block (`RowKernel`); false runs every
    /// kernel point by point (the differential tests compare the two bit for bit).
    public let rows: Bool
    public init(rows: Bool = true) { self.rows = rows }
    public var name: String { "interpreter" }
    public var availability: Availability { .available }
    public func prepare(_ kernel: Kernel) throws -> any PreparedKernel { InterpretedKernel(kernel: kernel, rows: rows) }
}

struct InterpretedKernel: PreparedKernel {
    let kernel: Kernel
    /// Whether kernels of this structure may take the row path (`RowKernel`).
    let rows: Bool

    init(kernel: Kernel, rows: Bool = true) {
        self.kernel = kernel
        self.rows = rows && RowKernel.eligible(kernel)
    }

    func run(_ launch: Launch, lo: Int, hi: Int) {
        if rows, kernel.reductions.isEmpty, let r = RowKernel(kernel, launch) {
            r.run(lo: lo, hi: hi)
            return
        }
        var st = State(kernel, launch, rows: rows)
        let P = kernel.parallelAxes
        if P == 0 {
            st.point(parallel: [], reduceFrom: nil)
            return
        }
        var idx = [Int](repeating: 0, count: P)
        for i0 in lo..<hi {
            idx[0] = i0
            st.forEach(axes: 1..<P, &idx) { st, p in st.point(parallel: p, reduceFrom: nil) }
        }
    }

    func runSplit(_ launch: Launch, lo: Int, hi: Int, partials: UnsafeMutableRawPointer) {
        var st = State(kernel, launch, rows: rows)
        let P = kernel.parallelAxes
        let nred = kernel.reductions.count
        if P == 0 && kernel.rank == 1 && kernel.lanedReduction {
            // The split axis is the innermost loop: one laned run over the chunk, as in C.
            for j in 0..<nred { st.accs[j] = st.identity(j) }
            st.lanedLoop(axis: 0, from: lo, to: hi)
            for j in 0..<nred { st.writeAcc(st.accs[j], partials, j) }
            return
        }
        var idx = [Int](repeating: 0, count: P)
        var q = 0
        st.forEach(axes: 0..<P, &idx) { st, p in
            for j in 0..<nred { st.writeAcc(st.identity(j), partials, q * nred + j) }
            q += 1
        }
        if kernel.rank == P + 1 {
            // One reduce axis, the split one: each parallel point runs a stretch of it at once
            // (in blocks, `blockLoop`, where the row path applies), stretch after stretch, so a
            // reduction down columns (`x.sum(axis: 0)`, the reduce axis innermost in the kernel,
            // strided in memory) is not interpreted point by point with its accumulators read
            // and written around every point (68 ns a point). Each point's values fold in the
            // same order as before (r0 ascending); stretches keep the rows they read in cache.
            let stretch = Swift.max(1, State.splitStretch / Swift.max(1, (0..<P).reduce(1) { $0 * launch.extent($1) }))
            var b = lo
            while b < hi {
                let e = Swift.min(hi, b + stretch)
                q = 0
                st.forEach(axes: 0..<P, &idx) { st, p in
                    for j in 0..<nred { st.accs[j] = st.readAcc(partials, q * nred + j, j) }
                    for (a, v) in p.enumerated() { st.domain[a] = v }
                    if st.rows != nil {
                        st.blockLoop(axis: P, from: b, to: e, lanesFrom: nil)
                    } else {
                        for r in b..<e {
                            st.domain[P] = r
                            st.evaluateBody()
                        }
                    }
                    for j in 0..<nred { st.writeAcc(st.accs[j], partials, q * nred + j) }
                    q += 1
                }
                b = e
            }
            return
        }
        for r0 in lo..<hi {
            q = 0
            st.forEach(axes: 0..<P, &idx) { st, p in
                for j in 0..<nred { st.accs[j] = st.readAcc(partials, q * nred + j, j) }
                st.reduceLoop(parallel: p, r0: r0)
                for j in 0..<nred { st.writeAcc(st.accs[j], partials, q * nred + j) }
                q += 1
            }
        }
    }

    func combine(_ launch: Launch, partials: UnsafeRawPointer, count: Int) {
        var st = State(kernel, launch, rows: rows)
        let P = kernel.parallelAxes
        let nred = kernel.reductions.count
        var idx = [Int](repeating: 0, count: P)
        let np = (0..<P).reduce(1) { $0 * launch.extent($1) }
        var q = 0
        st.forEach(axes: 0..<P, &idx) { st, p in
            for j in 0..<nred { st.accs[j] = st.identity(j) }
            for c in 0..<count {
                for j in 0..<nred {
                    let part = st.readPart(UnsafeMutableRawPointer(mutating: partials), (c * np + q) * nred + j, j)
                    st.fold(j, part.value, index: part.index)
                }
            }
            st.epilogue(parallel: p)
            q += 1
        }
    }
}

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

    init(_ kernel: Kernel, _ launch: Launch, rows eligible: Bool = false) {
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
        rows = eligible && !kernel.reductions.isEmpty ? RowKernel(kernel, launch) : nil
        rowRegisters = rows.map { _ in RowKernel.Registers(count: kernel.instrs.count) }
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
        for v in 0..<extent(axis) {
            domain[axis] = v
            inner(axis: axis + 1)
        }
    }

    /// The innermost reduce loop over `start ..< end` in lanes, as the C code runs it: element i
    /// folds into lane `(i - start) % 8`, the lanes combine pairwise, and the result folds into
    /// the accumulators (see `Kernel.lanedReduction`).
    mutating func lanedLoop(axis: Int, from start: Int, to end: Int) {
        let L = Kernel.reductionLanes, n = accs.count
        let outer = accs
        for l in 0..<L { for j in 0..<n { lanes[l * n + j] = identity(j) } }
        if rows != nil {
            blockLoop(axis: axis, from: start, to: end, lanesFrom: start)
        } else {
            for v in start..<end {
                domain[axis] = v
                let l = (v - start) % L
                for j in 0..<n { accs[j] = lanes[l * n + j] }
                evaluateBody()
                for j in 0..<n { lanes[l * n + j] = accs[j] }
            }
        }
        var width = L
        while width > 1 {
            width /= 2
            for l in 0..<width {
                for j in 0..<n { accs[j] = lanes[2 * l * n + j] }
                for j in 0..<n { fold(j, lanes[(2 * l + 1) * n + j].value, index: 0) }
                for j in 0..<n { lanes[l * n + j] = accs[j] }
            }
        }
        accs = outer
        for j in 0..<n { fold(j, lanes[j].value, index: 0) }
    }

    /// The innermost loop over `start ..< end` in blocks (`RowKernel`): the body's instructions
    /// and stores run over a block, then each point's values fold in the point order, into the
    /// accumulators or, with `lanesFrom`, into lane `(v - lanesFrom) % 8` as `lanedLoop` does;
    /// the registers and the domain are left as the last point left them. Bit for bit
    /// `evaluateBody` at each point.
    mutating func blockLoop(axis: Int, from start: Int, to end: Int, lanesFrom: Int?) {
        guard let rows, let regs = rowRegisters, start < end else { return }
        let B = RowKernel.block, L = Kernel.reductionLanes, n = accs.count
        var s = start, last = 0
        while s < end {
            let len = Swift.min(B, end - s)
            domain[axis] = s
            rows.runBlock(domain, len, regs)
            // Each accumulator (or lane) folds its points in the point order, one reduction at
            // a time: the same folds as point by point, the kind of fold decided once a block.
            for (j, r) in reductions.enumerated() {
                let isFloat = accIsFloat(j)
                let vf = regs.f + r.value * B, vi = regs.i + r.value * B
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
            last = len - 1
            s += len
        }
        domain[axis] = end - 1
        for (m, instr) in instrs.enumerated() where !instr.epilogue {
            self.regs[m] = Value(f: regs.f[m * B + last], i: regs.i[m * B + last])
        }
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
        case .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32: dtypes[s.buffer].storeInteger(v.i, p, i)
        case .float32: p.storeBytes(of: Float(v.f), toByteOffset: i * 4, as: Float.self)
        case .float64: p.storeBytes(of: v.f, toByteOffset: i * 8, as: Double.self)
        }
    }

    // MARK: - Reductions

    private func accIsFloat(_ j: Int) -> Bool {
        let r = reductions[j]
        if r.op.isArg { return instrs[r.value].dtype.isFloatingPoint }
        return r.accumulator == .float64
    }

    func identity(_ j: Int) -> Acc {
        let isFloat = accIsFloat(j)
        switch reductions[j].op {
        case .sum: return Acc()
        case .prod: return Acc(f: 1, i: 1)
        case .max, .argmax: return isFloat ? Acc(f: -.infinity) : Acc(i: .min)
        case .min, .argmin: return isFloat ? Acc(f: .infinity) : Acc(i: .max)
        }
    }

    mutating func fold(_ j: Int, _ v: Value, index: Int64) {
        let isFloat = accIsFloat(j)
        var a = accs[j]
        switch reductions[j].op {
        case .sum: if isFloat { a.f += v.f } else { a.i = a.i &+ v.i }
        case .prod: if isFloat { a.f *= v.f } else { a.i = a.i &* v.i }
        case .max:
            if isFloat { if !a.f.isNaN && (v.f.isNaN || v.f > a.f) { a.f = v.f } } else if v.i > a.i { a.i = v.i }
        case .min:
            if isFloat { if !a.f.isNaN && (v.f.isNaN || v.f < a.f) { a.f = v.f } } else if v.i < a.i { a.i = v.i }
        case .argmax:
            if isFloat {
                if v.f > a.f || (v.f.isNaN && !a.f.isNaN) { a.f = v.f; a.index = index }
            } else if v.i > a.i { a.i = v.i; a.index = index }
        case .argmin:
            if isFloat {
                if v.f < a.f || (v.f.isNaN && !a.f.isNaN) { a.f = v.f; a.index = index }
            } else if v.i < a.i { a.i = v.i; a.index = index }
        }
        accs[j] = a
    }

    /// `fold` of the values at `from, from + by, ... < to` of a block (point k's index
    /// `index + k`) into `a`, in that order: the same comparisons and arithmetic, in loops.
    static func foldRun(_ op: ReduceOp, _ isFloat: Bool, _ a: inout Acc, _ vf: UnsafeMutablePointer<Double>,
                        _ vi: UnsafeMutablePointer<Int64>, from: Int, to: Int, by: Int, index: Int) {
        var k = from
        switch op {
        case .sum:
            if isFloat { var x = a.f; while k < to { x += vf[k]; k += by }; a.f = x }
            else { var x = a.i; while k < to { x = x &+ vi[k]; k += by }; a.i = x }
        case .prod:
            if isFloat { var x = a.f; while k < to { x *= vf[k]; k += by }; a.f = x }
            else { var x = a.i; while k < to { x = x &* vi[k]; k += by }; a.i = x }
        case .max:
            if isFloat {
                while k < to { let v = vf[k]; if !a.f.isNaN && (v.isNaN || v > a.f) { a.f = v }; k += by }
            } else {
                while k < to { if vi[k] > a.i { a.i = vi[k] }; k += by }
            }
        case .min:
            if isFloat {
                while k < to { let v = vf[k]; if !a.f.isNaN && (v.isNaN || v < a.f) { a.f = v }; k += by }
            } else {
                while k < to { if vi[k] < a.i { a.i = vi[k] }; k += by }
            }
        case .argmax:
            if isFloat {
                while k < to { let v = vf[k]; if v > a.f || (v.isNaN && !a.f.isNaN) { a.f = v; a.index = Int64(index + k) }; k += by }
            } else {
                while k < to { if vi[k] > a.i { a.i = vi[k]; a.index = Int64(index + k) }; k += by }
            }
        case .argmin:
            if isFloat {
                while k < to { let v = vf[k]; if v < a.f || (v.isNaN && !a.f.isNaN) { a.f = v; a.index = Int64(index + k) }; k += by }
            } else {
                while k < to { if vi[k] < a.i { a.i = vi[k]; a.index = Int64(index + k) }; k += by }
            }
        }
    }

    func readPart(_ p: UnsafeMutableRawPointer, _ slot: Int, _ j: Int) -> (value: Value, index: Int64, acc: Acc) {
        let base = slot * 16
        let isFloat = accIsFloat(j)
        let f = isFloat ? p.load(fromByteOffset: base, as: Double.self) : 0
        let i = isFloat ? 0 : p.load(fromByteOffset: base, as: Int64.self)
        let idx = p.load(fromByteOffset: base + 8, as: Int64.self)
        return (Value(f: f, i: i), idx, Acc(f: f, i: i, index: idx))
    }

    func readAcc(_ p: UnsafeMutableRawPointer, _ slot: Int, _ j: Int) -> Acc {
        readPart(p, slot, j).acc
    }

    func writeAcc(_ a: Acc, _ p: UnsafeMutableRawPointer, _ slot: Int) {
        let j = slot % max(reductions.count, 1)
        if accIsFloat(j) { p.storeBytes(of: a.f, toByteOffset: slot * 16, as: Double.self) } else {
            p.storeBytes(of: a.i, toByteOffset: slot * 16, as: Int64.self)
        }
        p.storeBytes(of: a.index, toByteOffset: slot * 16 + 8, as: Int64.self)
    }

    // MARK: - Instructions

    private func load(_ b: Int, _ i: Int) -> Value { State.load(pointers[b], dtypes[b], i) }

    /// Element `i` of a buffer of `dtype` at `p` (the row path loads single elements this way too).
    static func load(_ p: UnsafeMutableRawPointer, _ dtype: DType, _ i: Int) -> Value {
        switch dtype {
        case .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32: return Value(f: 0, i: dtype.loadInteger(p, i))
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

    /// `v` of type `from` converted to `t` (saturating float-to-int casts, as in C).
    static func cast(_ v: Value, from: DType, to t: DType) -> Value {
        switch t {
        case .bool: return Value(f: 0, i: (from.isFloatingPoint ? v.f != 0 : v.i != 0) ? 1 : 0)
        case .int64: return Value(f: 0, i: from.isFloatingPoint ? Literal.saturatingInt64(v.f) : v.i)
        case .int8, .int16, .int32, .uint8, .uint16, .uint32:
            return Value(f: 0, i: from.isFloatingPoint ? Literal.saturating(v.f, to: t) : t.wrap(v.i))
        case .float32, .float64: return Self.fromDouble(from.isFloatingPoint ? v.f : Double(v.i), t)
        }
    }

    /// A unary operation on `v`, computed in `t` (Float rounded after the operation).
    static func unary(_ op: UnaryOp, _ v: Value, _ t: DType) -> Value {
        if t == .bool { return Value(f: 0, i: v.i ^ 1) }
        if t.isInteger {
            switch op {
            case .neg: return Self.fromInt(0 &- v.i, t)
            case .abs: return Self.fromInt(v.i < 0 ? 0 &- v.i : v.i, t)
            case .bitNot: return Self.fromInt(~v.i, t)
            default: preconditionFailure("\(op) is not defined for integers")
            }
        }
        let x = v.f
        let r: Double
        if t == .float32 {
            let xf = Float(x)
            switch op {
            case .neg: r = Double(-xf)
            case .abs: r = Double(Swift.abs(xf))
            case .sqrt: r = Double(xf.squareRoot())
            case .exp: r = Double(Float.tkExp(xf))
            case .log: r = Double(logf(xf))
            case .sin: r = Double(sinf(xf))
            case .cos: r = Double(cosf(xf))
            case .tanh: r = Double(tanhf(xf))
            case .erf: r = Double(TandemMath.erf(xf))
            case .erfc: r = Double(TandemMath.erfc(xf))
            case .floor: r = Double(xf.rounded(.down))
            case .ceil: r = Double(xf.rounded(.up))
            case .tan: r = Double(tanf(xf))
            case .asin: r = Double(asinf(xf))
            case .acos: r = Double(acosf(xf))
            case .atan: r = Double(atanf(xf))
            case .sinh: r = Double(sinhf(xf))
            case .cosh: r = Double(coshf(xf))
            case .asinh: r = Double(asinhf(xf))
            case .acosh: r = Double(acoshf(xf))
            case .atanh: r = Double(atanhf(xf))
            case .log1p: r = Double(log1pf(xf))
            case .expm1: r = Double(expm1f(xf))
            case .log2: r = Double(log2f(xf))
            case .log10: r = Double(log10f(xf))
            case .exp2: r = Double(exp2f(xf))
            case .cbrt: r = Double(cbrtf(xf))
            case .trunc: r = Double(xf.rounded(.towardZero))
            case .rint: r = Double(xf.rounded(.toNearestOrEven))
            case .not, .bitNot: preconditionFailure("\(op) is not defined for floats")
            }
        } else {
            switch op {
            case .neg: r = -x
            case .abs: r = Swift.abs(x)
            case .sqrt: r = x.squareRoot()
            case .exp: r = Double.tkExp(x)
            case .log: r = Glibc.log(x)
            case .sin: r = Glibc.sin(x)
            case .cos: r = Glibc.cos(x)
            case .tanh: r = Glibc.tanh(x)
            case .erf: r = TandemMath.erf(x)
            case .erfc: r = TandemMath.erfc(x)
            case .floor: r = x.rounded(.down)
            case .ceil: r = x.rounded(.up)
            case .tan: r = Glibc.tan(x)
            case .asin: r = Glibc.asin(x)
            case .acos: r = Glibc.acos(x)
            case .atan: r = Glibc.atan(x)
            case .sinh: r = Glibc.sinh(x)
            case .cosh: r = Glibc.cosh(x)
            case .asinh: r = Glibc.asinh(x)
            case .acosh: r = Glibc.acosh(x)
            case .atanh: r = Glibc.atanh(x)
            case .log1p: r = Glibc.log1p(x)
            case .expm1: r = Glibc.expm1(x)
            case .log2: r = Glibc.log2(x)
            case .log10: r = Glibc.log10(x)
            case .exp2: r = Glibc.exp2(x)
            case .cbrt: r = Glibc.cbrt(x)
            case .trunc: r = x.rounded(.towardZero)
            case .rint: r = x.rounded(.toNearestOrEven)
            case .not, .bitNot: preconditionFailure("\(op) is not defined for floats")
            }
        }
        return Value(f: r, i: 0)
    }

    /// A binary operation on operands of type `operand`, with result type `t`.
    static func binary(_ op: BinaryOp, _ x: Value, _ y: Value, operand: DType, _ t: DType) -> Value {
        switch op {
        case .eq: return Self.bool(operand.isFloatingPoint ? x.f == y.f : x.i == y.i)
        case .ne: return Self.bool(operand.isFloatingPoint ? x.f != y.f : x.i != y.i)
        case .lt: return Self.bool(operand.isFloatingPoint ? x.f < y.f : x.i < y.i)
        case .le: return Self.bool(operand.isFloatingPoint ? x.f <= y.f : x.i <= y.i)
        case .gt: return Self.bool(operand.isFloatingPoint ? x.f > y.f : x.i > y.i)
        case .ge: return Self.bool(operand.isFloatingPoint ? x.f >= y.f : x.i >= y.i)
        case .and: return Value(f: 0, i: x.i & y.i)
        case .or: return Value(f: 0, i: x.i | y.i)
        default: break
        }
        if operand.isInteger {
            let p = x.i, q = y.i
            let r: Int64
            switch op {
            case .add: r = p &+ q
            case .sub: r = p &- q
            case .mul: r = p &* q
            case .div: r = q == 0 ? 0 : (q == -1 ? 0 &- p : p / q)
            case .rem: r = (q == 0 || q == -1) ? 0 : p % q
            case .pow: r = Self.intPow(p, q)
            case .min: r = Swift.min(p, q)
            case .max: r = Swift.max(p, q)
            case .bitAnd: r = p & q
            case .bitOr: r = p | q
            case .bitXor: r = p ^ q
            case .shiftLeft, .shiftRight:
                // Narrow values are held extended to 64 bits (unsigned ones never negative), so
                // a 64-bit shift wrapped to the width is the type's own shift.
                if q < 0 || q >= Int64(operand.bits) { r = op == .shiftLeft ? 0 : (p < 0 ? -1 : 0) }
                else if op == .shiftLeft { r = p << q }
                else { r = p >> q }
            default: preconditionFailure("unreachable")
            }
            // Wrap to the operand width, as the C does.
            return Self.fromInt(operand.wrap(r), t)
        }
        let p = x.f, q = y.f
        var r: Double
        let f32 = t == .float32
        switch op {
        case .add: r = p + q
        case .sub: r = p - q
        case .mul: r = p * q
        case .div: r = p / q
        case .rem: r = f32 ? Double(fmodf(Float(p), Float(q))) : fmod(p, q)
        case .pow: r = f32 ? Double(powf(Float(p), Float(q))) : Glibc.pow(p, q)
        case .min: r = p.isNaN ? p : (q.isNaN ? q : (p < q ? p : q))
        case .max: r = p.isNaN ? p : (q.isNaN ? q : (p > q ? p : q))
        case .atan2: r = f32 ? Double(atan2f(Float(p), Float(q))) : Glibc.atan2(p, q)
        case .hypot: r = f32 ? Double(hypotf(Float(p), Float(q))) : Glibc.hypot(p, q)
        default: preconditionFailure("unreachable")
        }
        if f32 { r = Double(Float(r)) }
        return Value(f: r, i: 0)
    }

    /// A gather's index: negative counts from the end, then clamped into `0..<extent` (as
    /// `tk_clamp_index` in C).
    static func clampIndex(_ i: Int64, _ extent: Int64) -> Int64 {
        let j = i < 0 ? i &+ extent : i
        return j < 0 ? 0 : (j >= extent ? extent - 1 : j)
    }

    static func intPow(_ a: Int64, _ b: Int64) -> Int64 {
        if b < 0 { return a == 1 ? 1 : (a == -1 ? ((b & 1) != 0 ? -1 : 1) : 0) }
        var r: UInt64 = 1, x = UInt64(bitPattern: a), e = b
        while e != 0 {
            if e & 1 != 0 { r = r &* x }
            x = x &* x
            e >>= 1
        }
        return Int64(bitPattern: r)
    }

    static func bool(_ b: Bool) -> Value { Value(f: 0, i: b ? 1 : 0) }

    static func fromDouble(_ d: Double, _ t: DType) -> Value {
        switch t {
        case .float32: Value(f: Double(Float(d)), i: 0)
        case .float64: Value(f: d, i: 0)
        default: Self.fromInt(Literal.saturatingInt64(d), t)
        }
    }

    static func fromInt(_ i: Int64, _ t: DType) -> Value {
        switch t {
        case .bool: Value(f: 0, i: i != 0 ? 1 : 0)
        case .int8, .int16, .int32, .uint8, .uint16, .uint32: Value(f: 0, i: t.wrap(i))
        case .int64: Value(f: 0, i: i)
        case .float32: Value(f: Double(Float(i)), i: 0)
        case .float64: Value(f: Double(i), i: 0)
        }
    }
}
