import Synchronization

/// A fused kernel in Tandem's device-neutral loop-nest IR.
///
/// The iteration domain has `rank` axes; axes `0..<parallelAxes` are independent (any order, any
/// device, any split), the rest are reduced sequentially inside them:
///
///     for p in P (parallel):                 // extents are int parameters 0..<rank
///         acc_j = identity(op_j)
///         for r in R (sequential):
///             body (SSA, per point); inner stores; acc_j = acc_j ⊕ value_j
///         epilogue (SSA over p and acc_j); epilogue stores
///
/// Loads, stores and generated values use affine accesses: `offset + Σ_k stride_k * i_k` into a flat
/// buffer. Extents, offsets and non-unit strides are parameters, so one compiled kernel serves many
/// sizes; strides of 0 and 1 are part of the structure because they decide vectorisation.
/// The `Kernel` value is the structure (hashable, the key of compiled code); `Launch` holds the
/// concrete parameters and buffers of one run.
public struct Kernel: Hashable, Sendable, CustomStringConvertible {
    /// The fields live in one copy-on-write box: a kernel is copied into plans, tables and tasks
    /// at every run, and copying a struct of eight arrays cost eight reference counts each way.
    /// The box also keeps the structural hash, computed once (a kernel is looked up in several
    /// tables at every run); copies share both, and a change to a field gets a box of its own.
    /// The fields themselves (equality and hashing synthesized from them).
    private struct Fields: Hashable {
        var rank: Int
        var parallelAxes: Int
        var buffers: [BufferParam]
        var accesses: [Access]
        var instrs: [Instr]
        var reductions: [Reduction]
        var stores: [Store]
        var intParams: Int
        var floatParams: Int
        var innerExtent: Int?
        var literalInts: [Int64]?
        var entries: Entries
        var stages: [Stage] = []
        var variant: KernelVariant? = nil
    }

    private final class Storage: @unchecked Sendable {
        // Mutated only through `Kernel`'s accessors, and only while uniquely referenced.
        var fields: Fields
        let hash = Atomic<Int>(0)
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    /// Makes the box ready to be changed: copied when shared, its hash forgotten.
    private mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) {
            storage.hash.store(0, ordering: .relaxed)
        } else {
            storage = Storage(storage.fields)
        }
    }

    public var rank: Int {
        get { storage.fields.rank }
        set { makeUnique(); storage.fields.rank = newValue }
    }
    public var parallelAxes: Int {
        get { storage.fields.parallelAxes }
        set { makeUnique(); storage.fields.parallelAxes = newValue }
    }
    public var buffers: [BufferParam] {
        get { storage.fields.buffers }
        set { makeUnique(); storage.fields.buffers = newValue }
    }
    public var accesses: [Access] {
        get { storage.fields.accesses }
        set { makeUnique(); storage.fields.accesses = newValue }
    }
    public var instrs: [Instr] {
        get { storage.fields.instrs }
        set { makeUnique(); storage.fields.instrs = newValue }
    }
    public var reductions: [Reduction] {
        get { storage.fields.reductions }
        set { makeUnique(); storage.fields.reductions = newValue }
    }
    public var stores: [Store] {
        get { storage.fields.stores }
        set { makeUnique(); storage.fields.stores = newValue }
    }
    public var intParams: Int {
        get { storage.fields.intParams }
        set { makeUnique(); storage.fields.intParams = newValue }
    }
    public var floatParams: Int {
        get { storage.fields.floatParams }
        set { makeUnique(); storage.fields.floatParams = newValue }
    }
    /// The innermost axis's extent, when it is part of the structure rather than parameter
    /// `rank - 1` (a short reduce axis under a parallel one; see `KernelBuilder.shortRowBytes`).
    public var innerExtent: Int? {
        get { storage.fields.innerExtent }
        set { makeUnique(); storage.fields.innerExtent = newValue }
    }
    /// Every int parameter's value, when they are part of the structure (a kernel specialised to
    /// one launch; see `Specialization`): the code ignores the launch's ints then.
    public var literalInts: [Int64]? {
        get { storage.fields.literalInts }
        set { makeUnique(); storage.fields.literalInts = newValue }
    }
    /// The schedule of the compiled C, when it is not the fixed rules' (`KernelVariant`, chosen
    /// by `Tuning`): the same results, another kernel to the caches.
    public var variant: KernelVariant? {
        get { storage.fields.variant }
        set { makeUnique(); storage.fields.variant = newValue }
    }

    /// This kernel with its compiled schedule set to `variant` (nil: the rules').
    public func with(variant: KernelVariant?) -> Kernel {
        var k = self
        k.variant = variant
        return k
    }

    /// Which entry points compiled C code has: a reduction kernel runs either over rows
    /// (`tandem_kernel`) or split into chunks (`tandem_kernel_split` and `_combine`), as the
    /// planner decides from its sizes (`PlannedKernel.splitChunks`), never both. Emitting only
    /// the one it needs halves the source of a reduction kernel and its compile time (the body
    /// is in the source once per entry and three times in a laned loop).
    public var entries: Entries {
        get { storage.fields.entries }
        set { makeUnique(); storage.fields.entries = newValue }
    }

    /// The kernels a sequence kernel runs one after the other (`Kernel.sequence`); empty for
    /// every other kernel.
    public var stages: [Stage] {
        get { storage.fields.stages }
        set { makeUnique(); storage.fields.stages = newValue }
    }

    /// Whether this kernel is a sequence of stages (`Kernel.sequence`).
    public var isSequence: Bool { !storage.fields.stages.isEmpty }

    public enum Entries: Hashable, Sendable {
        /// Every entry point (the interpreter, the CUDA dialect, hand-built kernels).
        case all
        case rows
        case split
    }

    public init(rank: Int, parallelAxes: Int, buffers: [BufferParam], accesses: [Access], instrs: [Instr],
                reductions: [Reduction], stores: [Store], intParams: Int, floatParams: Int, innerExtent: Int? = nil) {
        storage = Storage(Fields(rank: rank, parallelAxes: parallelAxes, buffers: buffers, accesses: accesses, instrs: instrs,
                                 reductions: reductions, stores: stores, intParams: intParams, floatParams: floatParams,
                                 innerExtent: innerExtent, literalInts: nil, entries: .all))
    }

    /// What a C compile of the kernel grows with: its body's instructions, stores and
    /// reductions, three times over for a reduction, whose body the C renders in several entry
    /// points (a 714-instruction reduction made 120 KB of C and compiled in 1.1 s; a
    /// 538-instruction map, 34 KB in 0.31 s).
    public var compileWeight: Int {
        if isSequence { return stages.reduce(0) { $0 + $1.kernel.compileWeight } }
        let body = instrs.count(where: { !$0.epilogue }) + stores.count(where: { !$0.epilogue }) + reductions.count
        return reductions.isEmpty ? body : 3 * body
    }

    /// Equal boxes are equal; two kernels whose hashes are both known and differ are not, without
    /// comparing their fields (a dictionary lookup compares its key with every kernel in its probe
    /// sequence, and a field-by-field comparison of two different kernels cost hundreds of
    /// instructions each time).
    public static func == (a: Kernel, b: Kernel) -> Bool {
        if a.storage === b.storage { return true }
        let ha = a.storage.hash.load(ordering: .relaxed), hb = b.storage.hash.load(ordering: .relaxed)
        if ha != 0 && hb != 0 && ha != hb { return false }
        return a.storage.fields == b.storage.fields
    }

    /// Kernels interned so far (`interned()`); bounded, started again when full.
    private static let internTable = Mutex<Set<Kernel>>([])
    static let maxInterned = 4096

    /// This kernel sharing its box with an equal kernel interned before, if any (then the two
    /// compare equal by identity, without comparing their fields), else this one, remembered.
    /// The planner interns what it makes: the runtime looks every kernel up in several tables at
    /// every run (compiled code, history, decisions), and equal kernels from different plans
    /// (the copy of a border in two programs' steps, a plan made again after the plan cache
    /// started over) otherwise compared field by field, a tenth of a small step's time.
    ///
    ///     let k = Kernel(...).interned()
    public func interned() -> Kernel {
        Kernel.internTable.withLock { table in
            if let i = table.firstIndex(of: self) { return table[i] }
            if table.count >= Kernel.maxInterned { table.removeAll(keepingCapacity: true) }
            table.insert(self)
            return self
        }
    }

    public func hash(into hasher: inout Hasher) {
        var h = storage.hash.load(ordering: .relaxed)
        if h == 0 {
            h = storage.fields.hashValue
            if h == 0 { h = 1 }
            storage.hash.store(h, ordering: .relaxed)
        }
        hasher.combine(h)
    }

    public var description: String { structureDescription }

    /// The structure as text, field by field, in the form `String(describing:)` gave when the
    /// fields were stored in the struct itself (persisted keys such as the kernel history's hash
    /// it, so it must not change with the layout).
    ///
    /// Written out by hand: reflection (`\(buffers)` through `Mirror`) cost a process's first
    /// sync about 7 ms, most of it the runtime's first conformance lookups. The test
    /// `KernelHistoryTests.handWrittenDescription` compares it with `reflectedDescription`.
    public var structureDescription: String {
        func list<T>(_ xs: [T], _ item: (T) -> String) -> String { "[" + xs.map(item).joined(separator: ", ") + "]" }
        func stride(_ s: Stride) -> String {
            switch s {
            case .zero: "TandemIR.Stride.zero"
            case .one: "TandemIR.Stride.one"
            case .param(let p): "TandemIR.Stride.param(\(p))"
            case .fixed(let v): "TandemIR.Stride.fixed(\(v))"
            }
        }
        func op(_ o: Instr.Op) -> String {
            let name = "TandemIR.Instr.Op."
            switch o {
            case .load(let b, let a): return name + "load(buffer: \(b), access: \(a))"
            case .gather(let b, let a, let i, let s, let e): return name + "gather(buffer: \(b), access: \(a), index: \(i), stride: \(s), extent: \(e))"
            case .uniform(let a, let seed, let lo, let hi): return name + "uniform(access: \(a), seed: \(seed), lo: \(lo), hi: \(hi))"
            case .iota(let a, let start, let step): return name + "iota(access: \(a), start: \(start), step: \(step))"
            case .param(let p): return name + "param(\(p))"
            case .literal(let l): return name + "literal(\(l.description))"
            case .unary(let u, let a): return name + "unary(TandemIR.UnaryOp.\(u.rawValue), \(a))"
            case .binary(let b, let x, let y): return name + "binary(TandemIR.BinaryOp.\(b.rawValue), \(x), \(y))"
            case .select(let c, let a, let b): return name + "select(\(c), \(a), \(b))"
            case .cast(let a): return name + "cast(\(a))"
            case .accumulated(let r): return name + "accumulated(\(r))"
            }
        }
        let entryName: String
        switch entries {
        case .all: entryName = "all"
        case .rows: entryName = "rows"
        case .split: entryName = "split"
        }
        var text = "Kernel(rank: \(rank), parallelAxes: \(parallelAxes), buffers: "
        text += list(buffers) { "TandemIR.BufferParam(dtype: \($0.dtype.description), isRead: \($0.isRead), isWritten: \($0.isWritten))" }
        text += ", accesses: " + list(accesses) { "TandemIR.Access(offset: \($0.offset), strides: \(list($0.strides, stride)))" }
        text += ", instrs: " + list(instrs) { "TandemIR.Instr(op: \(op($0.op)), dtype: \($0.dtype.description), epilogue: \($0.epilogue))" }
        text += ", reductions: " + list(reductions) {
            "TandemIR.Reduction(op: TandemIR.ReduceOp.\($0.op.rawValue), value: \($0.value), accumulator: \($0.accumulator.description))"
        }
        text += ", stores: " + list(stores) { "TandemIR.Store(buffer: \($0.buffer), access: \($0.access), value: \($0.value), epilogue: \($0.epilogue))" }
        text += ", intParams: \(intParams), floatParams: \(floatParams), innerExtent: " + (innerExtent.map { "Optional(\($0))" } ?? "nil")
        text += ", literalInts: " + (literalInts.map { "Optional(" + list($0) { String($0) } + ")" } ?? "nil")
        text += ", entries: TandemIR.Kernel.Entries.\(entryName)"
        // Only a sequence says its stages: every other kernel's text is as it always was.
        if isSequence {
            text += ", stages: " + list(stages) {
                "Stage(kernel: \($0.kernel.structureDescription), buffers: \(list($0.buffers) { String($0) }), intOffset: \($0.intOffset), floatOffset: \($0.floatOffset))"
            }
        }
        // Likewise only a variant says its schedule.
        if let variant { text += ", variant: \(variant)" }
        return text + ")"
    }

    /// `structureDescription` as reflection gives it (for the test that the two agree).
    var reflectedDescription: String {
        "Kernel(rank: \(rank), parallelAxes: \(parallelAxes), buffers: \(buffers), accesses: \(accesses), instrs: \(instrs), "
            + "reductions: \(reductions), stores: \(stores), intParams: \(intParams), floatParams: \(floatParams), "
            + "innerExtent: \(String(describing: innerExtent)), literalInts: \(String(describing: literalInts)), "
            + "entries: TandemIR.Kernel.Entries.\(entries))"
    }

    public var reduceAxes: Int { rank - parallelAxes }
    public var hasReductions: Bool { !reductions.isEmpty }

    /// Lanes of a laned reduction loop (see `lanedReduction`).
    public static let reductionLanes = 8

    /// Whether each run of the innermost loop, a reduce loop, folds its elements in lanes: element
    /// `i` of the run `start ..< end` goes into lane `(i - start) % 8`, each lane in order from its
    /// identity, and the lanes are combined as `((l0 ⊕ l1) ⊕ (l2 ⊕ l3)) ⊕ ((l4 ⊕ l5) ⊕ (l6 ⊕ l7))`
    /// into the accumulator after the run. That is the one order in which the interpreter and
    /// the C code on any number of workers add floating-point sums and products, so they agree
    /// bit for bit; the C code vectorises it as written (eight independent lanes, no
    /// reassociation left to the compiler), as fast as the `omp simd reduction` it replaces.
    ///
    /// It applies when a floating sum or product is reduced over the innermost axis, with no arg
    /// reduction (those keep the first extremum, in order) and no compiled-in short row (a row of
    /// at most 32 bytes is added in order: clang unrolls it and vectorises across rows). Other
    /// reductions do not depend on the order: integer sums wrap, max and min pick a value.
    public var lanedReduction: Bool {
        rank > parallelAxes && innerExtent == nil && !reductions.isEmpty
            && reductions.allSatisfy { !$0.op.isArg }
            && reductions.contains { ($0.op == .sum || $0.op == .prod) && $0.accumulator.isFloatingPoint }
    }

    /// Whether an instruction reads at a position that depends on data (a gather): no interval
    /// of its reads is known before it runs, so it is neither stacked nor lagged.
    public var readsDataDependentPositions: Bool {
        instrs.contains { if case .gather = $0.op { true } else { false } }
    }

    /// Whether the kernel calls a math function whose vector form (glibc's libmvec, in compiled
    /// loops) may round differently from its scalar form: log, sin, cos and the rest of C's
    /// <math.h> but sqrt, the roundings, and Tandem's own exp, erf, erfc and hypot (written to
    /// vectorise with the same bits). Such a kernel's elements must meet the same code wherever
    /// its work is cut (`Runtime.chunkBound`); lagged passes, which cut it by rows of their own,
    /// leave it out.
    public var usesVectorMath: Bool {
        instrs.contains { instr in
            switch instr.op {
            case .unary(let op, _):
                switch op {
                case .neg, .abs, .sqrt, .exp, .erf, .erfc, .floor, .ceil, .trunc, .rint, .bitNot, .not: return false
                default: return true
                }
            case .binary(let op, _, _):
                return op == .pow || op == .atan2
            default:
                return false
            }
        }
    }

    /// Operation counts by cost class, per innermost point (static features for the cost model).
    public var opCounts: [OpClass: Int] {
        var counts: [OpClass: Int] = [:]
        for instr in instrs where !instr.epilogue {
            switch instr.op {
            case .unary(let op, _): counts[op.costClass, default: 0] += 1
            case .binary(let op, _, _): counts[op.costClass, default: 0] += 1
            case .select, .cast: counts[.simple, default: 0] += 1
            case .uniform: counts[.simple, default: 0] += 12
            default: break
            }
        }
        return counts
    }
}

public struct BufferParam: Hashable, Sendable {
    public var dtype: DType
    public var isRead: Bool
    public var isWritten: Bool
    public init(dtype: DType, isRead: Bool, isWritten: Bool) {
        self.dtype = dtype
        self.isRead = isRead
        self.isWritten = isWritten
    }
}

/// The stride of an access along one domain axis.
public enum Stride: Hashable, Sendable {
    case zero, one
    /// The value is int parameter `n`.
    case param(Int)
    /// A small stride known to the structure (2 up to `Stride.fixedLimit`, or negative): red-black
    /// SOR's every-other-column views. Knowing it, the C compiler loads and stores whole vectors
    /// and shuffles instead of gathering and scattering (float32 sweep 1.36x faster).
    case fixed(Int)

    /// Largest |stride| kept in the structure; one compiled kernel serves every larger stride.
    public static let fixedLimit = 4

    /// The stride for a concrete value: `.zero`, `.one` and values up to `limit` are structure;
    /// any other value is appended to the int parameters `ints` and named by its index there.
    public static func of(_ s: Int, appendingTo ints: inout [Int64], fixedUpTo limit: Int = fixedLimit) -> Stride {
        switch s {
        case 0: return .zero
        case 1: return .one
        case -limit...limit: return .fixed(s)
        default:
            ints.append(Int64(s))
            return .param(ints.count - 1)
        }
    }

    /// The concrete value, reading parameters from `ints`.
    public func value(_ ints: [Int64]) -> Int {
        switch self {
        case .zero: 0
        case .one: 1
        case .fixed(let s): s
        case .param(let p): Int(ints[p])
        }
    }
}

/// `I[offset] + Σ_k stride_k * i_k`.
public struct Access: Hashable, Sendable {
    /// Int parameter holding the offset.
    public var offset: Int
    public var strides: [Stride]
    public init(offset: Int, strides: [Stride]) {
        self.offset = offset
        self.strides = strides
    }
}

/// One SSA instruction; operands name earlier instructions by index.
public struct Instr: Hashable, Sendable {
    public enum Op: Hashable, Sendable {
        /// Element of buffer `buffer` at access `access`.
        case load(buffer: Int, access: Int)
        /// Element of buffer `buffer` at access `access` plus `i * I[stride]`, where `i` is the
        /// integer value of instruction `index` taken modulo-from-the-end (`i < 0` adds
        /// `I[extent]`) and then clamped to `0..<I[extent]`: a gather along one axis, never
        /// outside it.
        case gather(buffer: Int, access: Int, index: Int, stride: Int, extent: Int)
        /// SplitMix64 uniform at flat index `access` of stream int param `seed`, scaled to [F[lo], F[hi]).
        case uniform(access: Int, seed: Int, lo: Int, hi: Int)
        /// `start + step * index`: float params for float types, int params for integers.
        case iota(access: Int, start: Int, step: Int)
        /// A scalar parameter: float param for float types, int param otherwise.
        case param(Int)
        /// A constant of the instruction's type, rendered into the code.
        case literal(Literal)
        case unary(UnaryOp, Int)
        case binary(BinaryOp, Int, Int)
        case select(Int, Int, Int)
        /// Conversion of the operand to the instruction's type.
        case cast(Int)
        /// Result of reduction `n`, in the instruction's type (epilogue only).
        case accumulated(Int)
    }

    public var op: Op
    public var dtype: DType
    /// Evaluated once per parallel point after the reduction loop, not per domain point.
    public var epilogue: Bool

    public init(_ op: Op, _ dtype: DType, epilogue: Bool = false) {
        self.op = op
        self.dtype = dtype
        self.epilogue = epilogue
    }

    public var operands: [Int] {
        switch op {
        case .unary(_, let a), .cast(let a): [a]
        case .binary(_, let a, let b): [a, b]
        case .select(let c, let a, let b): [c, a, b]
        case .gather(_, _, let i, _, _): [i]
        default: []
        }
    }

    /// The buffer this instruction reads and the (affine part of the) access, if it loads.
    public var loaded: (buffer: Int, access: Int)? {
        switch op {
        case .load(let b, let a), .gather(let b, let a, _, _, _): (b, a)
        default: nil
        }
    }
}

public struct Reduction: Hashable, Sendable {
    public var op: ReduceOp
    /// The inner value reduced.
    public var value: Int
    /// The accumulator type: float64 for floating sums and products (Float accumulates in Double),
    /// int64 for integer sums, products and every arg reduction's index.
    public var accumulator: DType
    public init(op: ReduceOp, value: Int, accumulator: DType) {
        self.op = op
        self.value = value
        self.accumulator = accumulator
    }
}

public struct Store: Hashable, Sendable {
    public var buffer: Int
    public var access: Int
    public var value: Int
    /// Stored once per parallel point after the reductions (its access ignores reduce axes).
    public var epilogue: Bool
    public init(buffer: Int, access: Int, value: Int, epilogue: Bool) {
        self.buffer = buffer
        self.access = access
        self.value = value
        self.epilogue = epilogue
    }
}

/// The concrete arguments of one kernel run.
public struct Launch: @unchecked Sendable {
    /// Buffers in the kernel's buffer order. Unchecked: buffers are shared and the scheduler
    /// orders every read and write of them by task dependencies.
    public var buffers: [Buffer]
    /// Extents (0..<rank), then offsets and strides, then int scalars.
    public var ints: [Int64]
    public var floats: [Double]
    public init(buffers: [Buffer], ints: [Int64], floats: [Double]) {
        self.buffers = buffers
        self.ints = ints
        self.floats = floats
    }

    public func extent(_ axis: Int) -> Int { Int(ints[axis]) }
}
