import Dispatch
import TandemCompiler
import TandemCPU
import TandemRuntime
import Synchronization

// A nest compiled as written (`LoopProgram`): traced once with symbolic indices into loops,
// loads, arithmetic and stores, rendered to C, and run on the host over copies of the tensors
// it writes. Split from LoopNest.swift by concern (there: the array traces and the choice).

/// The trace of a nest as a loop program: what `read`, `write`, `value(of:)` and nested
/// `Tandem.loop` calls record while it is set on the recorder.
final class ProgramTrace {
    let id: UInt64
    /// Each tensor the nest touches, by the node that names it (the original of a written one).
    var tensors: [Node] = []
    var written: [Bool] = []
    var buffers: [ObjectIdentifier: Int] = [:]
    var accesses: [LoopProgram.Access] = []
    var steps: [LoopProgram.Step] = []
    /// The items of the loops open now, outermost first, and the ids of their blocks.
    var blocks: [[LoopProgram.Item]] = [[]]
    var blockIDs: [Int] = [0]
    var nextBlock = 1
    /// Values traced so far, with the block each was computed in (visible inside it only).
    /// The node is kept so that its identifier is not reused by a node made later.
    var memo: [ObjectIdentifier: (node: Node, step: Int, block: Int)] = [:]
    enum Parameter { case literal(Literal), node(Node) }
    var intParams: [Parameter] = []
    var floatParams: [Parameter] = []
    var variables = 0
    /// Why the nest cannot be a program (the array paths run it then).
    var failure: String?
    /// The first of the two traces (see `traceProgram`), which gives written tensors stand-ins.
    let first: Bool

    init(id: UInt64, first: Bool) {
        self.id = id
        self.first = first
    }

    func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    func buffer(_ key: Node) -> Int {
        if let b = buffers[ObjectIdentifier(key)] { return b }
        buffers[ObjectIdentifier(key)] = tensors.count
        tensors.append(key)
        written.append(false)
        return tensors.count - 1
    }

    func append(_ item: LoopProgram.Item) { blocks[blocks.count - 1].append(item) }

    func step(_ value: LoopProgram.Value, _ dtype: DType, for node: Node) -> Int {
        steps.append(LoopProgram.Step(value, dtype))
        let s = steps.count - 1
        append(.step(s))
        memo[ObjectIdentifier(node)] = (node, s, blockIDs[blockIDs.count - 1])
        return s
    }

    /// The subscript of a tensor of `shape` as one affine index per axis (the checks of
    /// `LoopRecorder.subscriptIndices`; an index that moves is checked by the compiled code).
    func access(_ buffer: Int, _ indices: [TensorIndex], shape: [Int], what: String) -> Int {
        let items = LoopRecorder.subscriptIndices(indices, shape: shape, what: what, trace: id)
        for (a, e) in items.enumerated() where e.isConstant {
            precondition(e.constant >= 0 && e.constant < shape[a],
                         "Tandem.loop: the \(what) index of axis \(a) is \(e.constant), outside its size \(shape[a])")
        }
        accesses.append(LoopProgram.Access(buffer: buffer, indices: items.map(\.affine)))
        return accesses.count - 1
    }

    /// The step computing `node`, made here when it is not visible here yet; nil (with the
    /// reason kept) when the program cannot compute it.
    func emit(_ node: Node, firstID: UInt64) -> Int? {
        if let m = memo[ObjectIdentifier(node)], m.node === node {
            if blockIDs.contains(m.block) { return m.step }
            if case .compute = steps[m.step].value {} else {
                fail("a value read inside a nested loop is used after it")
                return nil
            }
        }
        guard node.count == 1 else {
            preconditionFailure("Tandem.loop: the body uses a whole tensor of shape \(Shape.describe(node.shape)); inside a loop nest read tensors element by element (a[i, j]) and use scalars")
        }
        func parameter(_ p: Parameter) -> Int {
            if node.dtype.isFloatingPoint {
                floatParams.append(p)
                return step(.param(floatParams.count - 1), node.dtype, for: node)
            }
            intParams.append(p)
            return step(.param(intParams.count - 1), node.dtype, for: node)
        }
        if node.id < firstID { return parameter(.node(node)) }       // a scalar from outside
        switch node.op {
        case .fill(let value):
            // A parameter, not a literal of the code: a nest run again with another constant
            // (a time step's `dt`) reuses its compiled code.
            return parameter(.literal(value))
        case .storage:
            return parameter(.node(node))
        case .unary(let op, let a):
            guard let x = emit(a, firstID: firstID) else { return nil }
            return step(.compute(.unary(op, x)), node.dtype, for: node)
        case .binary(let op, let a, let b):
            guard let x = emit(a, firstID: firstID), let y = emit(b, firstID: firstID) else { return nil }
            return step(.compute(.binary(op, x, y)), node.dtype, for: node)
        case .select(let c, let a, let b):
            guard let z = emit(c, firstID: firstID), let x = emit(a, firstID: firstID), let y = emit(b, firstID: firstID) else { return nil }
            return step(.compute(.select(z, x, y)), node.dtype, for: node)
        case .cast(let a):
            guard let x = emit(a, firstID: firstID) else { return nil }
            return step(.compute(.cast(x)), node.dtype, for: node)
        case .view(let a, _), .reshape(let a):
            guard a.count == 1, let x = emit(a, firstID: firstID) else {
                fail("a view of a tensor computed in the body")
                return nil
            }
            return x
        default:
            fail("an operation on whole arrays in the body")
            return nil
        }
    }

    /// Opens a loop of variable `k` (see `close`).
    func open() {
        blocks.append([])
        blockIDs.append(nextBlock)
        nextBlock += 1
    }

    func close(variable k: Int, lower: LoopProgram.Affine, upper: LoopProgram.Affine, step: Int) {
        let body = blocks.removeLast()
        blockIDs.removeLast()
        append(.loop(variable: k, lower: lower, upper: upper, step: step, body: body))
    }
}

extension LoopRecorder {
    static let mode = Mutex<LoopProgramMode>({
        guard let text = ProcessInfoLite.environment("TANDEM_LOOP_PROGRAMS") else { return .auto }
        guard let mode = LoopProgramMode(rawValue: text) else {
            ProcessInfoLite.warn("tandem: TANDEM_LOOP_PROGRAMS=\(text) is not one of auto, always, off; using auto")
            return .auto
        }
        return mode
    }())
    static var programMode: LoopProgramMode { mode.withLock { $0 } }
    /// Code of programs run in this process, by program: a nest run again (a time loop around
    /// it) is neither rendered nor looked up by its source text (30 KB with the preamble).
    static let routines = Mutex<[LoopProgram: CompiledRoutine]>([:])

    /// What `table` holds for `key`, else what `make` makes (outside the lock), kept there; a
    /// table past 512 entries (a program of ever new nests) starts again.
    static func remembered<Key: Hashable & Sendable, Value: Sendable>(_ table: borrowing Mutex<[Key: Value]>, _ key: Key,
                                                 _ make: () throws -> Value) rethrows -> Value {
        if let known = table.withLock({ $0[key] }) { return known }
        let value = try make()
        LoopNest.remember(value, for: key, in: table, limit: 512)
        return value
    }

    /// What the analysis made of programs traced in this process (which loops run split, the
    /// outer two swapped), by the program as written, the threads and the split threshold: a
    /// nest called again (PolyBench's timed repeats, a time loop around it) is not analysed
    /// again (its dependence systems, and the work of each of its iterations, took tens of µs
    /// a call).
    static let analyses = Mutex<[AnalysisKey: LoopProgram]>([:])
    struct AnalysisKey: Hashable {
        let program: LoopProgram
        let threads: Int
        let split: Int
    }

    /// `written` (as traced: nothing split) with the loops that may run at once marked: the
    /// outer loop when it carries nothing, else loops directly inside it large enough to split,
    /// else, where both outer loops carry, the two swapped when that lets the one written
    /// outside run split. Remembered per program (`analyses`).
    static func analysed(_ written: LoopProgram) -> LoopProgram {
        let key = AnalysisKey(program: written, threads: Tandem.hostThreads, split: splitOperations)
        return remembered(analyses, key) { analyse(written, threads: key.threads, split: key.split) }
    }

    private static func analyse(_ written: LoopProgram, threads: Int, split: Int) -> LoopProgram {
        // Inner reductions read down columns run inside out (rows, vectorised), first: what
        // follows analyses the program that runs.
        var made = written.reductionLoopsInterchanged()
        made.parallelOuter = !made.outerCarriesDependence
        if !made.parallelOuter && threads > 1 {
            // Temporaries each outer iteration writes before it reads (doitgen's `sum`) carry
            // nothing from one iteration to the next: kept per worker, the loop may be split.
            let temporaries = made.privatizable()
            if !temporaries.isEmpty && !made.outerCarriesDependence(except: temporaries) {
                made.parallelOuter = true
                made.privateBuffers = temporaries
            }
        }
        if !made.parallelOuter && threads > 1 {
            made.parallelLoops = made.parallelInnerLoops(minimumOperations: split)
            // Both outer loops carry, but perhaps not the outer one along the inner one's
            // iterations: swapped, the loop that was outside may run split (nussinov's cells of
            // one interval length; its wavefronts).
            if made.parallelLoops.isEmpty, var swapped = made.interchangedOuterPair() {
                swapped.parallelOuter = !swapped.outerCarriesDependence
                if !swapped.parallelOuter {
                    swapped.parallelLoops = swapped.parallelInnerLoops(minimumOperations: split)
                }
                if swapped.parallelOuter || !swapped.parallelLoops.isEmpty { made = swapped }
            }
        }
        return made
    }

    /// Where each worker's share of a parallel outer loop begins and ends, by program and
    /// number of pieces (`LoopProgram.balancedBounds`, a walk of every outer iteration).
    static let cuts = Mutex<[CutKey: [Int]]>([:])
    struct CutKey: Hashable {
        let program: LoopProgram
        let pieces: Int
    }

    static func balancedBounds(_ program: LoopProgram, pieces: Int) -> [Int] {
        remembered(cuts, CutKey(program: program, pieces: pieces)) { program.balancedBounds(pieces: pieces) }
    }

    // MARK: - Tracing

    func programRead(_ p: ProgramTrace, _ x: Node, _ indices: [TensorIndex]) -> Node {
        let b = p.buffer(x)
        let node = Node(.storage(Buffer(dtype: x.dtype, count: 1)), dtype: x.dtype, shape: [])
        if let (t, index) = TensorIndex.tensorItem(indices) {
            var others = indices
            others[t] = .index(0)
            let a = p.access(b, others, shape: x.shape, what: "read")
            guard index.dtype.isInteger || index.dtype == .bool, let i = p.emit(index, firstID: firstID) else {
                p.fail("an index tensor that is not an integer element")
                return node
            }
            _ = p.step(.gather(access: a, axis: t, index: i), x.dtype, for: node)
            return node
        }
        let a = p.access(b, indices, shape: x.shape, what: "read")
        _ = p.step(.load(access: a), x.dtype, for: node)
        return node
    }

    func programValue(_ p: ProgramTrace, of e: LoopIndex, dtype: DType) -> Node {
        precondition(e.isConstant || e.trace == p.id, "a loop index is used outside its Tandem.loop")
        let node = Node(.storage(Buffer(dtype: dtype, count: 1)), dtype: dtype, shape: [])
        _ = p.step(.index(e.affine), dtype, for: node)
        return node
    }

    func programWrite(_ p: ProgramTrace, _ x: Node, _ indices: [TensorIndex], _ value: Node) -> Node {
        let known = order.count
        let state = arrayState(x)
        if order.count != known && !p.first { p.fail("a tensor first written in the second trace") }
        let b = p.buffer(state.standIn)
        p.written[b] = true
        precondition(value.count == 1,
                     "Tandem.loop: a value of shape \(Shape.describe(value.shape)) is written to one element")
        let a = p.access(b, indices, shape: x.shape, what: "write")
        let v = value.dtype == x.dtype ? value : Node(.cast(value), dtype: x.dtype, shape: value.shape)
        if let s = p.emit(v, firstID: firstID) { p.append(.store(access: a, value: s)) }
        return state.standIn
    }

    func programNested(_ p: ProgramTrace, _ ranges: [LoopRange], _ body: ([LoopIndex]) -> Void) {
        var indices: [LoopIndex] = []
        var opened: [(Int, LoopProgram.Affine, LoopProgram.Affine, Int)] = []
        for r in ranges {
            for e in [r.lower, r.upper] {
                precondition(e.isConstant || e.trace == p.id, "a loop index is used outside its Tandem.loop")
            }
            let k = p.variables
            p.variables += 1
            var coefs = r.lower.coefs + [Int](repeating: 0, count: max(0, k + 1 - r.lower.coefs.count))
            coefs[k] += r.step
            indices.append(LoopIndex(constant: r.lower.constant, coefs: coefs, trace: p.id))
            opened.append((k, r.lower.affine, r.upper.affine, r.step))
            p.open()
        }
        body(indices)
        for (k, lower, upper, step) in opened.reversed() { p.close(variable: k, lower: lower, upper: upper, step: step) }
    }

    /// The nest over `space` (the outermost call's loops) traced as a loop program, or nil when
    /// it cannot be one (`ProgramTrace.failure` says why; the array ways run it).
    func traceProgram(_ space: Space, _ body: ([LoopIndex]) -> Void) -> (ProgramTrace, LoopProgram)? {
        let d = space.extents.count
        func trace(first: Bool) -> ProgramTrace {
            let p = ProgramTrace(id: LoopNest.traces.add(1, ordering: .relaxed).oldValue, first: first)
            p.variables = d
            for _ in 0..<d { p.open() }
            program = p
            firstID = Node.nextIDLowerBound
            readNodes = []
            checkedNodes = []
            body(space.constants.indices.map { LoopIndex(constant: space.constants[$0], coefs: space.coefs[$0], trace: p.id) })
            program = nil
            for k in (0..<d).reversed() {
                p.close(variable: k, lower: LoopProgram.Affine(constant: 0), upper: LoopProgram.Affine(constant: space.extents[k]), step: 1)
            }
            return p
        }
        // Twice: the first trace gives every written tensor its stand-in, so that in the second
        // a read through the variable that is written (which holds the stand-in from its first
        // write on) and a read of the same tensor under another name (which keeps the values
        // from before the nest) are told apart even before the write in the body.
        let first = trace(first: true)
        let p = first.failure == nil ? trace(first: false) : first
        if let reason = p.failure {
            LoopNest.notCompiled(reason)
            return nil
        }
        let written = LoopProgram(
            buffers: p.tensors.indices.map { BufferParam(dtype: p.tensors[$0].dtype, isRead: true, isWritten: p.written[$0]) },
            shapes: p.tensors.map(\.shape), accesses: p.accesses, steps: p.steps, body: p.blocks[0], variables: p.variables,
            intParams: p.intParams.count, floatParams: p.floatParams.count, parallelOuter: false)
        let made = LoopRecorder.analysed(written)
        return (p, made)
    }

    // MARK: - The choice

    /// Whether the compiled program is expected to finish before the array ways would: those
    /// launch a kernel per statement (or nested nest) per iteration of the loop they run one at
    /// a time (or per wavefront, or per point), each costing about `launchSeconds` to plan and
    /// dispatch, and run its work vectorised on every worker; the program pays no launch but
    /// runs scalar code, on one worker unless its outer loop is parallel. A nest whose body
    /// calls `Tandem.loop` with bounds the array ways cannot trace (triangular ones) or whose
    /// iterations they would run one point at a time is always compiled.
    ///
    /// The estimate is static (seconds an operation on each way, counted over the program's
    /// loops at their largest extents), not the cost model's: the two ways differ by orders of
    /// magnitude where it matters (lu at 400: 80,000 launches against one loop; a time loop
    /// around a large stencil: a few launches of vectorised kernels against scalar code on one
    /// core), and in between either is within a small factor.
    func programPreferred(_ program: LoopProgram, over f: Frame, _ space: Space, peel: Int?, skew: Int?, irregular: Bool) -> Bool {
        if LoopRecorder.programMode == .always || irregular { return true }
        let e = space.extents
        let launches: Double
        if f.aborted {
            // The first loop one iteration at a time, and (at most) the call's other loops
            // too, each iteration running the nests and statements of its innermost level
            // (doitgen's `for r, q { for p ...; for p ... }`: 2,000 iterations of two).
            launches = Double(e.reduce(1, *)) * Double(max(1, LoopRecorder.units(program, depth: e.count)))
        } else {
            let statements = Double(max(1, f.statements.count))
            if let k = peel {
                launches = Double(e[k]) * statements
            } else if let h = skew {
                launches = Double((e[0] - 1) * h + e[1]) * statements
            } else if e.count > 1 {
                // The first loop one iteration at a time, and no loop inside it legal as arrays
                // either: the second too, at least (a wavefront per iteration is as many).
                launches = Double(e[0]) * Double(e[1]) * statements
            } else {
                return true                                     // one point at a time
            }
        }
        let workers = Double(Tandem.hostThreads)
        let operations = Double(program.operations(in: program.body, extents: program.variableExtents()))
        let arrays = launches * LoopRecorder.launchSeconds + operations * LoopRecorder.arraySecondsPerOperation / workers
        // Compiled: vectorised where no innermost loop carries a dependence, on every worker
        // where the outer loop or the loops inside it are split.
        let perOperation = program.innermostLoopsCarry ? LoopRecorder.programSecondsPerOperation : LoopRecorder.arraySecondsPerOperation
        let split = program.parallelOuter || !program.parallelLoops.isEmpty
        let compiled = operations * perOperation / (split ? workers : 1)
        return compiled < arrays
    }

    /// Steps and stores an entry of an inner loop must run (on average over the outer loop's
    /// iterations) for the loop to be split over threads that wait for each other after it
    /// (`Tandem.loopSplitOperations`): a wait costs a few µs on an idle machine, and far more on
    /// a loaded one, where a waiting thread yields its core (lu at 120, 43,000 operations an
    /// entry at most, took 0.27 s threaded beside a build, 1 ms in order).
    static let defaultSplitOperations = 1 << 17
    static let splitSetting = Mutex(defaultSplitOperations)
    static var splitOperations: Int { splitSetting.withLock { $0 } }

    /// What planning, dispatching and synchronising one small kernel costs here (measured:
    /// 20-150 µs, the most for a 3-D stencil's thirty nodes).
    static let launchSeconds = 30e-6
    /// One operation of a loop body in compiled scalar code, loads and stores included
    /// (seidel-2d compiled: 0.4 ns).
    static let programSecondsPerOperation = 0.5e-9
    /// The same vectorised, in a fused array kernel or a compiled innermost loop that carries
    /// nothing (heat-3d's sweeps as arrays: 0.03-0.1 ns; jacobi-2d's compiled: 0.12).
    static let arraySecondsPerOperation = 0.1e-9

    /// The stores and loops in the body of the innermost of the call's own `depth` loops: what
    /// one iteration of its first loop launches on the array ways, at least.
    static func units(_ p: LoopProgram, depth: Int) -> Int {
        var items = p.body
        for _ in 0..<depth {
            guard case .loop(_, _, _, _, let body)? = items.first(where: { if case .loop = $0 { true } else { false } }) else { break }
            items = body
        }
        return items.count { if case .step = $0 { false } else { true } }
    }

    // MARK: - Running

    /// Whether loop programs may run here: the placement lets the host's compiled code run and
    /// there is a C compiler.
    static var programsAvailable: Bool { programMode != .off && Tandem.hostCodeAllowed }

    /// Compiles and runs a traced program over copies of the tensors it writes, which become
    /// their current versions; false (nothing changed) when its code or its inputs could not
    /// be had (said once; the array paths run the nest then).
    func runProgram(_ p: ProgramTrace, _ program: LoopProgram) -> Bool {
        let start = ProcessInfoLite.monotonicNanos()
        let code: CompiledRoutine
        do {
            code = try LoopRecorder.remembered(LoopRecorder.routines, program) {
                try Tandem.shared.cpu.routine(source: LoopProgramRenderer.render(program), weight: program.steps.count)
            }
        } catch {
            if LoopNest.programFailureSaid.exchange(true, ordering: .relaxed) == false {
                ProcessInfoLite.warn("tandem: a Tandem.loop nest could not be compiled as a loop (\(String("\(error)".prefix(300)))); such nests run as array kernels")
            }
            LoopNest.notCompiled("its code could not be compiled: \(String("\(error)".prefix(200)))")
            return false
        }
        var buffers: [Buffer] = []
        var intValues: [Int64] = [], floatValues: [Double] = []
        do {
            // A stand-in's contents are its tensor's current version; any other node (a tensor
            // also held under another name before it was written) is itself.
            let contents = p.tensors.map { states[ObjectIdentifier($0)]?.current ?? $0 }
            // Whatever the reads below need is computed in one sync first.
            var reads = contents
            for case .node(let n) in p.intParams + p.floatParams { reads.append(n) }
            try Tandem.runtime.computeForReading(reads)
            for (b, key) in p.tensors.enumerated() {
                let buffer = try Tandem.runtime.read(contents[b], call: "Tandem.loop")
                if p.written[b] {
                    let copy = Buffer(dtype: key.dtype, count: key.count)
                    copy.pointer.copyMemory(from: buffer.pointer, byteCount: key.count * key.dtype.byteSize)
                    buffers.append(copy)
                } else {
                    buffers.append(buffer)
                }
            }
            func value(_ param: ProgramTrace.Parameter) throws -> Literal {
                switch param {
                case .literal(let l): return l
                case .node(let n):
                    let (buffer, index) = try Tandem.runtime.readElement(n, call: "Tandem.loop")
                    return buffer.literal(at: index)
                }
            }
            intValues = try p.intParams.map { try value($0).asInt64 }
            floatValues = try p.floatParams.map { try value($0).asDouble }
        } catch {
            // The same error comes at the next sync point, where the array paths' kernels run.
            return false
        }
        // The error slot (`LoopProgramRenderer`: access + 1, axis, index, claimed) and the threads'
        // barrier.
        let error = Buffer(dtype: .int64, count: 4), barrier = Buffer(dtype: .int64, count: 2)
        error.pointer.initializeMemory(as: Int64.self, repeating: 0, count: 4)
        barrier.pointer.initializeMemory(as: Int64.self, repeating: 0, count: 2)
        let pointers: [UnsafeMutableRawPointer?] = buffers.map { $0.pointer } + [error.pointer, barrier.pointer]
        let count = program.outerCount
        let workers = Tandem.hostThreads
        let threaded = !program.parallelLoops.isEmpty
        let pieces = program.parallelOuter ? max(1, min(workers, count)) : threaded ? workers : 1
        let (ints, floats) = (intValues, floatValues)
        if threaded {
            // Threads of their own, all running at once: the threads wait for each other inside
            // the code, which the runtime's workers (or a dispatch queue, free to run the pieces
            // one after the other) cannot promise.
            // (pthreads through `startBackgroundThread`, not Foundation's `Thread`: the library
            // does not load Foundation, whose ICU is tens of megabytes mapped at every start.)
            let addresses = pointers.map { UInt(bitPattern: $0) }
            let done = DispatchGroup()
            for w in 1..<pieces {
                done.enter()
                let started = startBackgroundThread(niceness: nil) {
                    code.call(addresses.map { UnsafeMutableRawPointer(bitPattern: $0) }, ints: ints, floats: floats, lo: w, hi: pieces)
                    done.leave()
                }
                // The pieces wait for each other: one that cannot start would hold the rest forever.
                precondition(started, "tandem: could not start a thread for a Tandem.loop program (\(pieces) threads); the system refused one")
            }
            code.call(pointers, ints: ints, floats: floats, lo: 0, hi: pieces)
            done.wait()
        } else if pieces == 1 {
            code.call(pointers, ints: ints, floats: floats, lo: 0, hi: count)
        } else {
            let addresses = pointers.map { UInt(bitPattern: $0) }
            // Cut by work, not by count: a triangle's halves hold a quarter and three quarters.
            let bounds = LoopRecorder.balancedBounds(program, pieces: pieces)
            DispatchQueue.concurrentPerform(iterations: bounds.count - 1) { c in
                code.call(addresses.map { UnsafeMutableRawPointer(bitPattern: $0) }, ints: ints, floats: floats,
                          lo: bounds[c], hi: bounds[c + 1])
            }
        }
        let e = error.pointer.assumingMemoryBound(to: Int64.self)
        if e[0] != 0 {
            let access = program.accesses[Int(e[0]) - 1]
            let written = LoopProgram.isStored(program, access: Int(e[0]) - 1)
            preconditionFailure("Tandem.loop: the \(written ? "write" : "read") index of axis \(e[1]) reaches \(e[2]), outside its size \(program.shapes[access.buffer][Int(e[1])])")
        }
        for (b, key) in p.tensors.enumerated() where p.written[b] {
            states[ObjectIdentifier(key)]!.current = Node(.storage(buffers[b]), dtype: key.dtype, shape: key.shape)
        }
        let nanos = ProcessInfoLite.monotonicNanos() - start
        LoopNest.statistics.withLock {
            $0.compiled += 1
            if pieces > 1 && !threaded { $0.compiledParallel += 1 }
            if threaded { $0.compiledThreaded += 1 }
            if program.swappedOuterLoops { $0.compiledSwapped += 1 }
            if program.interchangedReductions > 0 { $0.compiledTurned += 1 }
        }
        Tracer.shared.record(TraceEvent(kind: .kernel, name: "loop program (\(program.steps.count) steps, \(program.variables) loops)",
                                        start: start, duration: nanos, bytes: p.tensors.reduce(0) { $0 + $1.count * $1.dtype.byteSize },
                                        points: count, device: "cpu",
                                        detail: (threaded ? "inner loops on \(pieces) threads" : pieces > 1 ? "outer loop on \(pieces) workers" : "sequential")
                                            + (program.swappedOuterLoops ? ", the two outer loops swapped" : "")))
        return true
    }
}

extension LoopIndex {
    /// The same affine expression in a loop program's terms (its variables are the trace's).
    var affine: LoopProgram.Affine { LoopProgram.Affine(constant: constant, coefs: coefs) }
}

extension LoopProgram {
    /// Whether access `a` is a store's.
    static func isStored(_ p: LoopProgram, access a: Int) -> Bool {
        func walk(_ items: [Item]) -> Bool {
            items.contains { item in
                switch item {
                case .store(let x, _): x == a
                case .loop(_, _, _, _, let body): walk(body)
                case .step: false
                }
            }
        }
        return walk(p.body)
    }
}
