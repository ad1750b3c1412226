import TandemIR
import TandemMathC

/// The interpreter's fast path for kernels without reductions (elementwise maps, copies, border
/// writes: most of a program's kernels before they are compiled): each instruction runs over a
/// block of up to `block` points of the innermost axis at once, in a loop with one dispatch,
/// instead of every instruction dispatching at every point. Each operation is the same scalar
/// function as the point path's (`State.unary`, `State.binary`, `State.cast`, with fast loops for
/// the common float arithmetic computing exactly the same expression), so results are bit for
/// bit the point path's.
///
/// Running a block's loads before its stores is only the point order's result when no point
/// reads what another point of the kernel writes: a buffer that is written may be read at the
/// very access it is written at (an in-place `x = x * 0.5 + 1`), or elsewhere where this launch's
/// elements of the two accesses are disjoint (a border copy `p[:, n-1] = p[:, n-2]`), never
/// gathered, and no two distinct buffers of the launch may share memory where one of them is
/// written. Anything else takes the point path (`RowKernel.init` returns nil).
///
///     let rows = RowKernel(kernel, launch)    // nil: use the point path
///     rows?.run(lo: 0, hi: launch.extent(0))
///
/// A class: the interpreter's reduction loops ask for it at every parallel point, and copying a
/// struct of eight arrays there (a retain and a release of each) was 40 % of kmeans' interpreted
/// time.
final class RowKernel {
    static let block = 256

    let kernel: Kernel
    let rank: Int
    let ints: [Int64]
    let floats: [Double]
    let pointers: [UnsafeMutableRawPointer]
    let dtypes: [DType]
    let accesses: [Access]
    let instrs: [Instr]
    let stores: [Store]
    /// Each instruction's register and how many there are (`registerSlots`).
    let slot: [Int]
    let slotCount: Int

    /// Whether `kernel`'s structure allows the row path: a map (no reductions, every axis
    /// parallel), or a reduction whose innermost axis is a reduce axis (its body runs in blocks
    /// along it and the values fold point by point, `State.blockLoop`); and a buffer the body
    /// writes is never gathered. Where it is also read or written at another access, `init`
    /// checks that this launch's elements of the two are disjoint (`otherAccesses`).
    static func eligible(_ kernel: Kernel) -> Bool {
        guard kernel.rank >= 1 else { return false }
        if kernel.reductions.isEmpty {
            guard kernel.parallelAxes == kernel.rank, !kernel.instrs.contains(where: \.epilogue) else { return false }
        } else {
            guard kernel.parallelAxes < kernel.rank else { return false }
        }
        // (Loops, no collections: this runs at every interpreted kernel's preparation.)
        // Epilogue stores run after a parallel point's whole reduction, in the point order
        // either way.
        for s in kernel.stores where !s.epilogue {
            for instr in kernel.instrs {
                if case .gather(let b, _, _, _, _) = instr.op, b == s.buffer { return false }
            }
        }
        return true
    }

    /// The pairs of distinct accesses of one buffer that the body writes at one of them
    /// (another store's or a load's), whose elements must not meet for blocks to run in place
    /// of points.
    static func otherAccesses(_ kernel: Kernel) -> [(Access, Access)] {
        var pairs: [(Access, Access)] = []
        let accesses = kernel.accesses
        for s in kernel.stores where !s.epilogue {
            let a = accesses[s.access]
            for t in kernel.stores where !t.epilogue && t.buffer == s.buffer && accesses[t.access] != a { pairs.append((a, accesses[t.access])) }
            for instr in kernel.instrs {
                if case .load(let b, let l) = instr.op, b == s.buffer, accesses[l] != a { pairs.append((a, accesses[l])) }
            }
        }
        return pairs
    }

    /// Whether accesses `a` and `b` reach no common element over the launch's domain (every
    /// axis `0 ..< ints[axis]`). Exact when their ranges of flat indices do not overlap, or when
    /// both step along the same single axis (a column beside a column); otherwise false, the
    /// safe answer.
    static func disjoint(_ a: Access, _ b: Access, rank: Int, ints: [Int64]) -> Bool {
        func range(_ x: Access) -> (lo: Int, hi: Int, steps: [(axis: Int, stride: Int)]) {
            var lo = Int(ints[x.offset]), hi = lo
            var steps: [(Int, Int)] = []
            for axis in 0..<rank {
                let s = x.strides[axis].value(ints), n = Int(ints[axis])
                guard n > 0 else { return (0, -1, []) }        // an empty domain reaches nothing
                if s == 0 || n == 1 { continue }
                steps.append((axis, s))
                if s > 0 { hi += s * (n - 1) } else { lo += s * (n - 1) }
            }
            return (lo, hi, steps)
        }
        let ra = range(a), rb = range(b)
        if ra.hi < ra.lo || rb.hi < rb.lo || ra.hi < rb.lo || rb.hi < ra.lo { return true }
        // One axis each, the same one with the same stride: elements o + i s. They meet when
        // the offsets differ by a multiple of s smaller than the extent times s.
        if ra.steps.count == 1, rb.steps.count == 1, ra.steps[0].axis == rb.steps[0].axis, ra.steps[0].stride == rb.steps[0].stride {
            let s = Swift.abs(ra.steps[0].stride), d = Swift.abs(Int(ints[a.offset]) - Int(ints[b.offset]))
            return d % s != 0 || d / s >= Int(ints[ra.steps[0].axis])
        }
        return false
    }

    /// The row path for this launch of an eligible kernel, or nil when it must take the point
    /// path: distinct buffers share memory and one of them is written, or a buffer read and
    /// written in place is written at one element from several points (a zero stride along an
    /// axis longer than one), where the point order's result is not the block order's.
    /// `otherAccesses`: the kernel's `otherAccesses`, when the caller found them already (they
    /// depend on the kernel alone; `InterpretedKernel` finds them once).
    init?(_ kernel: Kernel, _ launch: Launch, otherAccesses: [(Access, Access)]? = nil) {
        for (a, b) in otherAccesses ?? RowKernel.otherAccesses(kernel) where !RowKernel.disjoint(a, b, rank: kernel.rank, ints: launch.ints) {
            return nil
        }
        let written = Set(kernel.stores.map(\.buffer))
        let buffers = launch.buffers
        for s in kernel.stores where !s.epilogue {
            let readHere = kernel.instrs.contains { if case .load(s.buffer, _) = $0.op { true } else { false } }
            guard readHere else { continue }
            for (axis, stride) in kernel.accesses[s.access].strides.enumerated()
            where stride.value(launch.ints) == 0 && launch.ints[axis] > 1 { return nil }
        }
        // Distinct buffers sharing memory, one of them written (views of one storage).
        for w in written where buffers[w].isAllocated {
            let wlo = UInt(bitPattern: buffers[w].pointer), whi = wlo + UInt(buffers[w].byteCount)
            for (j, b) in buffers.enumerated() where j != w && b.isAllocated {
                let lo = UInt(bitPattern: b.pointer), hi = lo + UInt(b.byteCount)
                if lo < whi && wlo < hi { return nil }
            }
        }
        self.kernel = kernel
        rank = kernel.rank
        ints = launch.ints
        floats = launch.floats
        pointers = State.pointers(launch)
        dtypes = buffers.map(\.dtype)
        accesses = kernel.accesses
        instrs = kernel.instrs
        stores = kernel.stores
        (slot, slotCount) = RowKernel.registerSlots(kernel)
    }

    /// Each body instruction's register in `Registers` (epilogue instructions have none: they
    /// run point by point), and how many registers there are. A register is taken again once
    /// the last instruction reading its value has run (never by that instruction itself: an
    /// operation reads all of a block before or while writing its own); values that stores,
    /// reductions or the epilogue read stay to the end of the block. A register per instruction
    /// made a fused kernel of 718 operations (an Asian option's 50 steps) write 2.9 MB of
    /// registers per block, out of every cache: interpreted, it ran 8x slower than its
    /// calibrated per-operation costs.
    static func registerSlots(_ kernel: Kernel) -> (slot: [Int], count: Int) {
        let instrs = kernel.instrs, n = instrs.count
        let end = Int.max
        var last = [Int](repeating: -1, count: n)
        for (j, instr) in instrs.enumerated() {
            for a in instr.operands { last[a] = instr.epilogue ? end : max(last[a], j) }
        }
        for s in kernel.stores { last[s.value] = end }
        for r in kernel.reductions { last[r.value] = end }
        var slot = [Int](repeating: 0, count: n)
        var free: [Int] = [], count = 0
        for j in 0..<n where !instrs[j].epilogue {
            if let r = free.popLast() { slot[j] = r } else { slot[j] = count; count += 1 }
            // The operands whose last reader this is, then this value if nothing reads it.
            let operands = instrs[j].operands
            for (x, a) in operands.enumerated() where last[a] == j && !operands[..<x].contains(a) { free.append(slot[a]) }
            if last[j] == -1 { free.append(slot[j]) }
        }
        return (slot, max(count, 1))
    }

    /// A map's points with axis 0 in `lo ..< hi`, block by block along the innermost axis.
    /// Rows shorter than half a block are taken several at a time (`rows` of them along the
    /// next axis out, `runBlock`): each instruction then dispatches once for the whole block
    /// rather than once a row (a 64 x 64 stencil dispatched every instruction 64 times).
    func run(lo: Int, hi: Int) {
        precondition(kernel.reductions.isEmpty, "reductions run in blocks through State.blockLoop")
        let B = RowKernel.block
        var domain = [Int](repeating: 0, count: rank)
        let inner = rank - 1
        let regs = Registers(count: slotCount)
        let rowLength = Int(ints[inner])
        let stacked = inner >= 1 && rowLength > 0 && rowLength <= B / 2 ? B / rowLength : 1
        func rows(_ axis: Int) {
            if axis == inner {
                let (from, to) = inner == 0 ? (lo, hi) : (0, Int(ints[inner]))
                var s = from
                while s < to {
                    let len = min(B, to - s)
                    domain[inner] = s
                    runBlock(domain, len, regs)
                    s += len
                }
                return
            }
            let (from, to) = axis == 0 ? (lo, hi) : (0, Int(ints[axis]))
            if stacked > 1 && axis == inner - 1 {
                domain[inner] = 0
                var v = from
                while v < to {
                    let count = min(stacked, to - v)
                    domain[axis] = v
                    runBlock(domain, rowLength, regs, rows: (axis, count))
                    v += count
                }
                return
            }
            for v in from..<to {
                domain[axis] = v
                rows(axis + 1)
            }
        }
        rows(0)
    }

    /// Row registers: `count` instructions of `block` values each, as Double and Int64 bits.
    /// A float value's Int64 half, and an integer or Bool value's Double half, is left as it
    /// was: every operation reads only the half its operand's type names (the point path's
    /// `Value` likewise), and zeroing the other was a tenth of an interpreted stencil's time.
    final class Registers {
        let f: UnsafeMutablePointer<Double>
        let i: UnsafeMutablePointer<Int64>
        init(count: Int) {
            f = .allocate(capacity: max(count, 1) * RowKernel.block)
            i = .allocate(capacity: max(count, 1) * RowKernel.block)
        }
        deinit {
            f.deallocate()
            i.deallocate()
        }
    }

    /// The flat index of access `a` at `domain`, and its step along the innermost axis.
    private func base(_ a: Access, _ domain: [Int], along axis: Int) -> (Int, Int) {
        var x = Int(ints[a.offset])
        for (axis, s) in a.strides.enumerated() { x += domain[axis] * s.value(ints) }
        return (x, a.strides[axis].value(ints))
    }

    /// The body's (non-epilogue) instructions and stores over `len` points of the innermost
    /// axis (or of `axis`) from `domain`, into `regs` (instruction `n`'s values at
    /// `n * block ..<`). With `rows`, over `rows.count` such rows, one after another along
    /// `rows.axis` from `domain`, side by side in the registers (`rows.count * len` values,
    /// at most a block): loads, generated values and stores go row by row, every other
    /// instruction once over all of them.
    func runBlock(_ domain: [Int], _ len: Int, _ regs: Registers, along axis: Int? = nil, rows: (axis: Int, count: Int)? = nil) {
        let along = axis ?? rank - 1
        let B = RowKernel.block
        let count = rows?.count ?? 1
        let total = len * count
        // Row r of access `a`: its first flat index and its step along `along`.
        @inline(__always) func forEachRow(_ a: Access, _ body: (_ x0: Int, _ step: Int, _ at: Int) -> Void) {
            let (x0, step) = base(a, domain, along: along)
            guard let rows else { body(x0, step, 0); return }
            let rowStep = a.strides[rows.axis].value(ints)
            for r in 0..<rows.count { body(x0 + r * rowStep, step, r * len) }
        }
        for (n, instr) in instrs.enumerated() where !instr.epilogue {
            let rf = regs.f + slot[n] * B, ri = regs.i + slot[n] * B
            let t = instr.dtype
            switch instr.op {
            case .load(let b, let a):
                forEachRow(accesses[a]) { x0, step, at in load(b, x0, step, len, rf + at, ri + at) }
            case .gather(let b, let a, let ix, let stride, let extent):
                let st = Int(ints[stride]), ext = ints[extent]
                let idx = regs.i + slot[ix] * B
                let source = pointers[b], type = dtypes[b]
                // The element type decided once a row, not at every element (a gather's loop
                // was a quarter of an interpreted `lut[index]`): the same values as `State.load`.
                forEachRow(accesses[a]) { x0, step, at in
                    // Where element k of this row is read from.
                    @inline(__always) func from(_ k: Int) -> Int { x0 + k * step + st * Int(State.clampIndex(idx[at + k], ext)) }
                    switch type {
                    case .float64:
                        let q = source.assumingMemoryBound(to: Double.self)
                        for k in 0..<len { rf[at + k] = q[from(k)]; ri[at + k] = 0 }
                    case .float32:
                        let q = source.assumingMemoryBound(to: Float.self)
                        for k in 0..<len { rf[at + k] = Double(q[from(k)]); ri[at + k] = 0 }
                    case .int64, .uint64:
                        let q = source.assumingMemoryBound(to: Int64.self)
                        for k in 0..<len { rf[at + k] = 0; ri[at + k] = q[from(k)] }
                    default:
                        for k in 0..<len {
                            let v = State.load(source, type, from(k))
                            rf[at + k] = v.f
                            ri[at + k] = v.i
                        }
                    }
                }
            case .uniform(let a, let seed, let lo, let hi):
                let s = UInt64(bitPattern: ints[seed]), flo = floats[lo], fhi = floats[hi]
                forEachRow(accesses[a]) { x0, step, at in
                    for k in 0..<len {
                        let v = State.fromDouble(flo + (fhi - flo) * Uniform.unit(seed: s, index: Int64(x0 + k * step)), t)
                        rf[at + k] = v.f
                        ri[at + k] = v.i
                    }
                }
            case .iota(let a, let start, let stepParam):
                forEachRow(accesses[a]) { x0, step, at in
                    for k in 0..<len {
                        let x = x0 + k * step
                        let v = t.isFloatingPoint ? State.fromDouble(floats[start] + floats[stepParam] * Double(x), t)
                                                  : State.fromInt(ints[start] &+ ints[stepParam] &* Int64(x), t)
                        rf[at + k] = v.f
                        ri[at + k] = v.i
                    }
                }
            case .param(let p):
                fill(t.isFloatingPoint ? State.fromDouble(floats[p], t) : State.fromInt(ints[p], t), total, rf, ri)
            case .literal(let l):
                fill(t.isFloatingPoint ? State.fromDouble(l.asDouble, t) : State.fromInt(l.asInt64, t), total, rf, ri)
            case .accumulated:
                preconditionFailure("accumulators are read in the epilogue only")
            case .cast(let a):
                let from = instrs[a].dtype
                let af = regs.f + slot[a] * B, ai = regs.i + slot[a] * B
                if from == .float32 && t == .float64 || from == t {
                    for k in 0..<total { rf[k] = af[k]; ri[k] = ai[k] }
                } else if t == .int64 && !from.isFloatingPoint {
                    // Integers and Bool widen as they are (`State.cast`); counting a mask
                    // (`(x .> 0).sum()`) went through the generic cast an element, 3x a max's time.
                    for k in 0..<total { ri[k] = ai[k] }
                } else if t == .float64 && !from.isFloatingPoint && from != .uint64 {
                    for k in 0..<total { rf[k] = Double(ai[k]) }
                } else if t.isInteger && !from.isFloatingPoint {
                    // Narrowing (or widening) between integers and Bool: wrapped to the width.
                    for k in 0..<total { ri[k] = t.wrap(ai[k]) }
                } else if t.isInteger && t != .int64 {
                    // Floats to a narrow integer saturate (`Literal.saturating`, as `State.cast`).
                    for k in 0..<total { ri[k] = Literal.saturating(af[k], to: t) }
                } else {
                    for k in 0..<total {
                        let v = State.cast(Value(f: af[k], i: ai[k]), from: from, to: t)
                        rf[k] = v.f
                        ri[k] = v.i
                    }
                }
            case .select(let c, let a, let b):
                let ci = regs.i + slot[c] * B, af = regs.f + slot[a] * B, ai = regs.i + slot[a] * B, bf = regs.f + slot[b] * B, bi = regs.i + slot[b] * B
                for k in 0..<total {
                    let take = ci[k] != 0
                    rf[k] = take ? af[k] : bf[k]
                    ri[k] = take ? ai[k] : bi[k]
                }
            case .unary(let op, let a):
                let af = regs.f + slot[a] * B, ai = regs.i + slot[a] * B
                if t == .float64, op == .neg {
                    for k in 0..<total { rf[k] = -af[k] }
                } else if t == .float64, op == .abs {
                    for k in 0..<total { rf[k] = Swift.abs(af[k]) }
                } else if t == .float64, op == .sqrt {
                    for k in 0..<total { rf[k] = af[k].squareRoot() }
                } else if t == .float64, op == .exp {
                    tandem_exp_row(af, rf, total)
                } else if t == .float32, op == .exp {
                    tandem_expf_row(af, rf, total)
                } else {
                    for k in 0..<total {
                        let v = State.unary(op, Value(f: af[k], i: ai[k]), t)
                        rf[k] = v.f
                        ri[k] = v.i
                    }
                }
            case .binary(let op, let a, let b):
                let operand = instrs[a].dtype
                let af = regs.f + slot[a] * B, ai = regs.i + slot[a] * B, bf = regs.f + slot[b] * B, bi = regs.i + slot[b] * B
                if !floatArithmetic(op, t, operand, af, bf, rf, total) && !comparisonOrLogic(op, t, operand, af, ai, bf, bi, rf, ri, total) {
                    for k in 0..<total {
                        let v = State.binary(op, Value(f: af[k], i: ai[k]), Value(f: bf[k], i: bi[k]), operand: operand, t)
                        rf[k] = v.f
                        ri[k] = v.i
                    }
                }
            }
        }
        for s in stores where !s.epilogue {
            let vf = regs.f + slot[s.value] * B, vi = regs.i + slot[s.value] * B
            forEachRow(accesses[s.access]) { x0, step, at in store(s.buffer, x0, step, len, vf + at, vi + at) }
        }
    }

    /// `+ - * / %` on floats in tight loops: the same expressions as `State.binary` (Float results
    /// rounded from the exact Double result, as there). False for anything else.
    private func floatArithmetic(_ op: BinaryOp, _ t: DType, _ operand: DType, _ a: UnsafeMutablePointer<Double>,
                                 _ b: UnsafeMutablePointer<Double>, _ r: UnsafeMutablePointer<Double>, _ len: Int) -> Bool {
        guard t == operand, t == .float64 || t == .float32 else { return false }
        switch op {
        case .add: for k in 0..<len { r[k] = a[k] + b[k] }
        case .sub: for k in 0..<len { r[k] = a[k] - b[k] }
        case .mul: for k in 0..<len { r[k] = a[k] * b[k] }
        case .div: for k in 0..<len { r[k] = a[k] / b[k] }
        case .rem where t == .float64: for k in 0..<len { r[k] = tandem_fmod(a[k], b[k]) }
        case .rem: for k in 0..<len { r[k] = Double(tandem_fmodf(Float(a[k]), Float(b[k]))) }
        default: return false
        }
        if t == .float32 { for k in 0..<len { r[k] = Double(Float(r[k])) } }
        return true
    }

    /// Comparisons and `and`/`or` (a bool: 0 or 1 in the integer bits), float `min`/`max`
    /// (NaN wins) and integer `+ - * / %`, `min`/`max` and bitwise operations (wrapped to the
    /// type's width) in tight loops, for every integer width (an 8-bit image's box filter and
    /// contrast stretch went value by value: a fifth of its interpreted time): the same results as
    /// `State.binary`, which ran them value by value (mandelbrot's `|z|² <= 4` and selects
    /// were a fifth of its interpreted time). False for anything else.
    private func comparisonOrLogic(_ op: BinaryOp, _ t: DType, _ operand: DType,
                                   _ af: UnsafeMutablePointer<Double>, _ ai: UnsafeMutablePointer<Int64>,
                                   _ bf: UnsafeMutablePointer<Double>, _ bi: UnsafeMutablePointer<Int64>,
                                   _ rf: UnsafeMutablePointer<Double>, _ ri: UnsafeMutablePointer<Int64>, _ len: Int) -> Bool {
        let float = operand == .float64 || operand == .float32
        if operand == .uint64 {
            // Held as Int64 bits: ordering, division and remainder are the unsigned ones
            // (`State.unsigned64`, value by value); the rest are the same bits as int64's.
            switch op {
            case .eq, .ne, .and, .or, .add, .sub, .mul, .bitAnd, .bitOr, .bitXor: break
            case .lt, .le, .gt, .ge:
                guard t == .bool else { return false }
                // Signed and unsigned variants of one integer type may alias (Swift's rule).
                let ua = UnsafeMutableRawPointer(ai).assumingMemoryBound(to: UInt64.self)
                let ub = UnsafeMutableRawPointer(bi).assumingMemoryBound(to: UInt64.self)
                compare(op, ua, ub, ri, len)
                return true
            default: return false
            }
        }
        switch op {
        case .eq, .ne, .lt, .le, .gt, .ge:
            guard t == .bool, float || operand.isInteger || operand == .bool else { return false }
            if float { compare(op, af, bf, ri, len) } else { compare(op, ai, bi, ri, len) }
        case .and, .or:
            guard t == .bool else { return false }
            if op == .and { for k in 0..<len { ri[k] = ai[k] & bi[k] } } else { for k in 0..<len { ri[k] = ai[k] | bi[k] } }
        case .min, .max:
            guard t == operand, float || t.isInteger else { return false }
            if !float {
                // Integers: one of the two, already in the type's range.
                if op == .min { for k in 0..<len { ri[k] = Swift.min(ai[k], bi[k]) } } else { for k in 0..<len { ri[k] = Swift.max(ai[k], bi[k]) } }
                return true
            }
            // (a min or max of two floats is one of them: nothing to round for float32)
            if op == .min {
                for k in 0..<len { let p = af[k], q = bf[k]; rf[k] = p.isNaN ? p : (q.isNaN ? q : (p < q ? p : q)) }
            } else {
                for k in 0..<len { let p = af[k], q = bf[k]; rf[k] = p.isNaN ? p : (q.isNaN ? q : (p > q ? p : q)) }
            }
            return true
        case .add, .sub, .mul, .div, .rem, .bitAnd, .bitOr, .bitXor:
            guard operand == t, t.isInteger else { return false }
            switch op {
            case .add: for k in 0..<len { ri[k] = ai[k] &+ bi[k] }
            case .sub: for k in 0..<len { ri[k] = ai[k] &- bi[k] }
            case .mul: for k in 0..<len { ri[k] = ai[k] &* bi[k] }
            // Division by 0 gives 0, by -1 the negation (wrapping), as `State.binary` and the C.
            case .div: for k in 0..<len { let p = ai[k], q = bi[k]; ri[k] = q == 0 ? 0 : (q == -1 ? 0 &- p : p / q) }
            case .rem: for k in 0..<len { let p = ai[k], q = bi[k]; ri[k] = (q == 0 || q == -1) ? 0 : p % q }
            case .bitAnd: for k in 0..<len { ri[k] = ai[k] & bi[k] }
            case .bitOr: for k in 0..<len { ri[k] = ai[k] | bi[k] }
            default: for k in 0..<len { ri[k] = ai[k] ^ bi[k] }
            }
            // Narrow integers are held extended to 64 bits: wrapped back to their width.
            if t == .int32 {
                for k in 0..<len { ri[k] = Int64(Int32(truncatingIfNeeded: ri[k])) }
            } else if t.isNarrowInteger {
                for k in 0..<len { ri[k] = t.wrap(ri[k]) }
            }
        default:
            return false
        }
        return true
    }

    /// `a[k] op b[k]` as 0 or 1 into `r`, for the comparison `op` (floats compared as doubles,
    /// NaN unordered; integers as 64-bit values, as `State.binary` does).
    @inline(__always)
    private func compare<T: Comparable>(_ op: BinaryOp, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                                        _ r: UnsafeMutablePointer<Int64>, _ len: Int) {
        switch op {
        case .eq: for k in 0..<len { r[k] = a[k] == b[k] ? 1 : 0 }
        case .ne: for k in 0..<len { r[k] = a[k] != b[k] ? 1 : 0 }
        case .lt: for k in 0..<len { r[k] = a[k] < b[k] ? 1 : 0 }
        case .le: for k in 0..<len { r[k] = a[k] <= b[k] ? 1 : 0 }
        case .gt: for k in 0..<len { r[k] = a[k] > b[k] ? 1 : 0 }
        default: for k in 0..<len { r[k] = a[k] >= b[k] ? 1 : 0 }
        }
    }

    private func fill(_ v: Value, _ len: Int, _ rf: UnsafeMutablePointer<Double>, _ ri: UnsafeMutablePointer<Int64>) {
        for k in 0..<len { rf[k] = v.f; ri[k] = v.i }
    }

    private func load(_ b: Int, _ x0: Int, _ step: Int, _ len: Int, _ rf: UnsafeMutablePointer<Double>, _ ri: UnsafeMutablePointer<Int64>) {
        let p = pointers[b]
        switch dtypes[b] {
        case .float64:
            // Flat indices of a launch's buffer are in range (checked when it was planned), so
            // the arithmetic wraps instead of trapping; a contiguous row is one copy.
            let q = p.assumingMemoryBound(to: Double.self)
            if step == 1 {
                rf.update(from: q + x0, count: len)
            } else {
                for k in 0..<len { rf[k] = q[x0 &+ k &* step] }
            }
        case .float32:
            let q = p.assumingMemoryBound(to: Float.self)
            for k in 0..<len { rf[k] = Double(q[x0 &+ k &* step]) }
        case .int64, .uint64:
            let q = p.assumingMemoryBound(to: Int64.self)
            if step == 1 {
                ri.update(from: q + x0, count: len)
            } else {
                for k in 0..<len { ri[k] = q[x0 &+ k &* step] }
            }
        case .int32: loadIntegers(Int32.self, p, x0, step, len, ri)
        case .bool, .uint8: loadIntegers(UInt8.self, p, x0, step, len, ri)
        case .int8: loadIntegers(Int8.self, p, x0, step, len, ri)
        case .int16: loadIntegers(Int16.self, p, x0, step, len, ri)
        case .uint16: loadIntegers(UInt16.self, p, x0, step, len, ri)
        case .uint32: loadIntegers(UInt32.self, p, x0, step, len, ri)
        }
    }

    /// `len` integers of type `T` from element `x0`, `step` apart, widened into `ri`.
    @inline(__always)
    private func loadIntegers<T: FixedWidthInteger>(_: T.Type, _ p: UnsafeMutableRawPointer, _ x0: Int, _ step: Int, _ len: Int,
                                                    _ ri: UnsafeMutablePointer<Int64>) {
        let q = p.assumingMemoryBound(to: T.self)
        for k in 0..<len { ri[k] = Int64(q[x0 &+ k &* step]) }
    }

    /// `len` values of `vi` stored as `T` (truncated: already wrapped to the width) from element
    /// `x0`, `step` apart.
    @inline(__always)
    private func storeIntegers<T: FixedWidthInteger>(_: T.Type, _ p: UnsafeMutableRawPointer, _ x0: Int, _ step: Int, _ len: Int,
                                                     _ vi: UnsafeMutablePointer<Int64>) {
        let q = p.assumingMemoryBound(to: T.self)
        for k in 0..<len { q[x0 &+ k &* step] = T(truncatingIfNeeded: vi[k]) }
    }

    private func store(_ b: Int, _ x0: Int, _ step: Int, _ len: Int, _ vf: UnsafeMutablePointer<Double>, _ vi: UnsafeMutablePointer<Int64>) {
        let p = pointers[b]
        switch dtypes[b] {
        case .float64:
            let q = p.assumingMemoryBound(to: Double.self)
            if step == 1 {
                (q + x0).update(from: vf, count: len)
            } else {
                for k in 0..<len { q[x0 &+ k &* step] = vf[k] }
            }
        case .float32:
            let q = p.assumingMemoryBound(to: Float.self)
            for k in 0..<len { q[x0 &+ k &* step] = Float(vf[k]) }
        case .int64, .uint64: storeIntegers(Int64.self, p, x0, step, len, vi)
        case .int32: storeIntegers(Int32.self, p, x0, step, len, vi)
        case .bool, .uint8, .int8: storeIntegers(UInt8.self, p, x0, step, len, vi)
        case .int16, .uint16: storeIntegers(UInt16.self, p, x0, step, len, vi)
        case .uint32: storeIntegers(UInt32.self, p, x0, step, len, vi)
        }
    }
}
