import Synchronization
import TandemCompiler
import TandemRuntime

/// The tracing of `Tandem.loop` bodies and the decision how to run them.
enum LoopNest {
    /// The nest being traced on this task (asked at every small operation: one atomic load
    /// while no nest is traced anywhere).
    static let scope = ScopedValue<LoopRecorder>()
    static var current: LoopRecorder? { scope.value }
    static let statistics = Mutex(LoopStatistics())
    static let traces = Atomic<UInt64>(1)
    /// Loop trees found by discovering traces, by call site and extents (see `knownTree`).
    static let trees = Mutex<[LoopTreeKey: LoopTree]>([:])

    /// Keeps `value` for `key` in `table`, which starts again past `limit` entries (a program
    /// of ever new call sites): the loop trees, the programs by call site.
    static func remember<Key: Hashable & Sendable, Value: Sendable>(_ value: Value, for key: Key, in table: borrowing Mutex<[Key: Value]>,
                                                                    limit: Int = 4096) {
        table.withLock {
            if $0.count >= limit { $0.removeAll(keepingCapacity: true) }
            $0[key] = value
        }
    }

    /// Call sites whose nest last ran as a compiled program, by site, extents and mode, with
    /// that program (see `nest`).
    static let programSites = Mutex<[ProgramSiteKey: LoopProgram]>([:])

    /// Whether a loop program's failed compile has been said (once a process).
    static let programFailureSaid = Atomic<Bool>(false)

    /// Counts and traces a nest the compiled way could not take (the array paths run it).
    static func notCompiled(_ reason: String) {
        statistics.withLock { $0.notCompiled += 1 }
        let now = ProcessInfoLite.monotonicNanos()
        Tracer.shared.record(TraceEvent(kind: .fallback, name: "Tandem.loop not compiled", start: now,
                                        device: "cpu", detail: reason + "; run as array kernels"))
    }

    /// Whether a subscript is one of a loop nest: it has a loop index, or only integers and
    /// index tensors while a body is traced (an element read at a fixed or computed place).
    static func isLoopSubscript(_ indices: [TensorIndex]) -> Bool {
        var elements = true
        for item in indices {
            switch item {
            case ._loop: return true
            case .index, ._tensor: break
            default: elements = false
            }
        }
        return elements && !indices.isEmpty && current != nil
    }

    static func run(_ ranges: [LoopRange], _ site: LoopSite, _ body: ([LoopIndex]) -> Void) {
        if let recorder = current {
            if let p = recorder.program {
                recorder.programNested(p, ranges, body)
                return
            }
            // Inside a traced level, a nested loop cannot join the trace: the enclosing loop
            // runs one iteration at a time, where this call's bounds are known.
            if let frame = recorder.frame {
                recorder.nested(frame, ranges, body)
                return
            }
            recorder.nest(ranges.map { $0.resolved() }, site, body)
            return
        }
        let recorder = LoopRecorder()
        scope.withValue(recorder) {
            recorder.nest(ranges.map { $0.resolved() }, site, body)
        }
        recorder.finish()
    }

    static func read<S: TensorScalar>(_ t: Tensor<S>, _ indices: [TensorIndex]) -> Tensor<S> {
        guard let recorder = current else { preconditionFailure("a loop index is used outside its Tandem.loop") }
        return Tensor<S>(node: recorder.read(t.node, indices))
    }

    static func write<S: TensorScalar>(_ t: inout Tensor<S>, _ indices: [TensorIndex], _ value: Tensor<S>) {
        guard let recorder = current else { preconditionFailure("a loop index is used outside its Tandem.loop") }
        let stand = recorder.write(t.node, indices, value.node)
        if stand !== t.node { t = Tensor<S>(node: stand) }
    }
}

/// One `Tandem.loop` call's state while its body is traced and run.
///
/// A tensor written in the nest is given a stand-in node at its first write (the variable the
/// body writes through holds it from then on); the recorder keeps the tensor's current version
/// (`ArrayState.current`), and when the outermost call returns the stand-in becomes that version.
/// A traced level (`Frame`) builds every read as a view over the whole iteration space and
/// every write as an update, applied at once so that later statements read them; if the
/// analysis rejects the level, those versions are dropped and the outer loop is peeled.
final class LoopRecorder: @unchecked Sendable {
    final class ArrayState {
        let standIn: Node
        let original: Node
        /// The current version, held as a tensor value holds its node: a sync in the middle of
        /// the nest (a long body flushed for depth) must store it, not compute it into a buffer
        /// that an in-place update then overwrites while the nest still reads it.
        private var handle: TensorHandle
        var current: Node {
            get { handle.node }
            set { handle = TensorHandle(newValue) }
        }
        init(standIn: Node, original: Node) {
            self.standIn = standIn
            self.original = original
            handle = TensorHandle(original)
        }
    }

    /// A read of the traced level: of which tensor (`source`: a stand-in or any other node),
    /// from which version (`base`), where, and before which statement.
    struct Read {
        let source: Node
        let node: Node
        let base: Node
        let map: AffineMap
        let position: Int
        /// The axes of the loops the read is inside.
        let path: [Int]
        /// Through an index tensor (`a[idx[i]]`): where it reads is not known before it runs.
        var indirect = false
    }

    struct Statement {
        let state: ArrayState
        /// Iteration space → the tensor's axes.
        let map: AffineMap
        /// For a reduction: the map without the reduced loops, their extents, and the read of
        /// the element it updates.
        var reduced: (map: AffineMap, extents: [Int], selfRead: Node)?
        /// The axes of the loops the write is inside.
        var path: [Int]
    }

    /// One traced level: the loops run as arrays, with their extents.
    ///
    /// A flat trace has the call's own free loops as its axes. A nest whose body calls
    /// `Tandem.loop` again (gemm's `for i { for j ...; for k, j ... }`) is traced twice more:
    /// once to discover the nested loops (`discover`: reads give placeholders, writes do nothing),
    /// then for real with one axis per loop of the whole tree (`imperfect`). Every value then
    /// has an extent on the axes of the loops it is inside (`path`) and 1 on the others, so that
    /// values of an outer loop broadcast into inner ones; the order of two accesses is that of
    /// the loops they share, then of the body.
    final class Frame {
        enum Mode { case flat, discover, imperfect }
        let id: UInt64
        let mode: Mode
        var extents: [Int]
        /// The axes of the loops the body is inside now, and the shape of values there.
        var path: [Int]
        var shape: [Int]
        /// The next axis a nested loop takes (in the order the body calls them).
        var nextAxis: Int
        var reads: [Read] = []
        var statements: [Statement] = []
        var aborted = false
        /// A nested loop whose bounds are not constants, or that differs between the passes.
        var irregular = false
        /// The versions of tensors first written in this trace as they were before it (see
        /// `nest`'s snapshot).
        var held: [TensorHandle] = []
        init(id: UInt64, extents: [Int], own: Int, mode: Mode) {
            self.id = id
            self.extents = extents
            self.mode = mode
            path = Array(0..<own)
            nextAxis = own
            shape = extents.indices.map { $0 < own ? extents[$0] : 1 }
        }
        func enter(_ axes: [Int]) {
            while shape.count < extents.count { shape.append(1) }    // axes found while discovering
            path += axes
            for a in axes { shape[a] = extents[a] }
        }
        func leave(_ count: Int) {
            for a in path.suffix(count) { shape[a] = 1 }
            path.removeLast(count)
        }
    }

    /// A `Tandem.loop` call inside a traced body: in a flat trace, the trace stops (tried again
    /// with nested loops, or the enclosing loop runs one iteration at a time); while discovering
    /// or in an imperfect trace, the call's loops are axes of the same trace.
    func nested(_ f: Frame, _ ranges: [LoopRange], _ body: ([LoopIndex]) -> Void) {
        guard f.mode != .flat else {
            f.aborted = true
            return
        }
        guard !f.irregular, ranges.allSatisfy({ $0.lower.isConstant && $0.upper.isConstant }) else {
            f.irregular = true
            return
        }
        let levels = ranges.map { $0.resolved() }
        let axes = Array(f.nextAxis..<(f.nextAxis + levels.count))
        if f.mode == .discover {
            f.extents += levels.map(\.count)
        } else if axes.last ?? 0 >= f.extents.count || zip(axes, levels).contains(where: { f.extents[$0] != $1.count }) {
            f.irregular = true
            return
        }
        f.nextAxis += levels.count
        if levels.contains(where: { $0.count == 0 }) {
            // An empty loop in one iteration might not be in another: not traced as arrays.
            f.irregular = true
            return
        }
        var indices: [LoopIndex] = []
        for (a, l) in zip(axes, levels) {
            var c = [Int](repeating: 0, count: a + 1)
            c[a] = l.step
            indices.append(LoopIndex(constant: l.lower, coefs: c, trace: f.id))
        }
        f.enter(axes)
        body(indices)
        f.leave(axes.count)
    }

    var states: [ObjectIdentifier: ArrayState] = [:]
    var order: [ArrayState] = []
    var frame: Frame?
    /// Set while the body is traced as a loop program (`LoopNest+Program.swift`).
    var program: ProgramTrace?
    /// Nodes made before the current trace (or body call) began have smaller ids.
    var firstID: UInt64 = 0
    /// The reads made by the current trace or body call.
    var readNodes: Set<ObjectIdentifier> = []
    /// Ids of the nodes of the current trace whose leaves `checkLeaves` has checked (ids, not
    /// addresses: a node freed during the trace may leave its address to a new one).
    var checkedNodes: Set<UInt64> = []

    typealias Level = (lower: Int, step: Int, count: Int)

    /// The iterations of one call still to run: each of its loops' values is an affine function
    /// of a few free variables `u_j ∈ 0 ..< extents[j]` (the traced array axes): at first one per
    /// loop, then fewer as loops are fixed at a value, or two loops replaced by the points of one
    /// wavefront.
    struct Space {
        var constants: [Int]
        /// `coefs[p][j]`: loop `p`'s value per unit of free variable `j`.
        var coefs: [[Int]]
        var extents: [Int]

        init(_ levels: [Level]) {
            constants = levels.map(\.lower)
            coefs = levels.indices.map { p in levels.indices.map { $0 == p ? levels[p].step : 0 } }
            extents = levels.map(\.count)
        }

        /// Free variable `j` fixed at `c`.
        func fixing(_ j: Int, at c: Int) -> Space {
            var s = self
            for p in s.constants.indices {
                s.constants[p] += s.coefs[p][j] * c
                s.coefs[p].remove(at: j)
            }
            s.extents.remove(at: j)
            return s
        }

        /// The points of wavefront `w` of free variables 0 and 1 (`h * u0 + u1 = w`), as one free
        /// variable in their place; nil when the wavefront has none.
        func wave(_ w: Int, skew h: Int) -> Space? {
            let (e0, e1) = (extents[0], extents[1])
            // u1 = w - h * u0 within 0 ..< e1: u0 ≥ ⌈(w - e1 + 1) / h⌉ and u0 ≤ ⌊w / h⌋.
            let need = w - e1 + 1
            let lo = need > 0 ? (need + h - 1) / h : 0, hi = min(e0 - 1, w / h)
            guard hi >= lo else { return nil }
            var s = self
            for p in s.constants.indices {
                let (a, b) = (coefs[p][0], coefs[p][1])
                // u0 = lo + v, u1 = w - h * (lo + v).
                s.constants[p] += a * lo + b * (w - h * lo)
                s.coefs[p] = [a - h * b] + Array(coefs[p].dropFirst(2))
            }
            s.extents = [hi - lo + 1] + Array(extents.dropFirst(2))
            return s
        }
    }

    /// Runs one call's loops (`levels`).
    func nest(_ levels: [Level], _ site: LoopSite, _ body: ([LoopIndex]) -> Void) {
        if levels.contains(where: { $0.count == 0 }) { return }
        nest(Space(levels), body, call: true, site: site)
    }

    /// Runs a space of iterations: traced as arrays when legal; otherwise the outermost free
    /// variable whose values may run one at a time with the others as arrays (interchanged
    /// outward when it is not the first); otherwise wavefronts of the first two, when every
    /// loop carries a dependence but a hyperplane is parallel; otherwise the first variable.
    func nest(_ space: Space, _ body: ([LoopIndex]) -> Void, call: Bool = false, site: LoopSite) {
        if space.extents.isEmpty {
            firstID = Node.nextIDLowerBound
            readNodes = []
            checkedNodes = []
            LoopNest.statistics.withLock { $0.points += 1 }
            body(space.constants.map { LoopIndex(constant: $0) })
            return
        }
        // The versions before the trace stay held while it runs: a sync inside it (for graph
        // pressure) must not update them in place, since a rejected trace goes back to them.
        let snapshot = order.map { ($0, TensorHandle($0.current)) }
        let known = Set(order.map { ObjectIdentifier($0) })
        func rollBack() {
            for (s, c) in snapshot { s.current = c.node }
            for s in order where !known.contains(ObjectIdentifier(s)) { s.current = s.original }
        }
        func trace(_ mode: Frame.Mode, extents: [Int]) -> Frame {
            let f = Frame(id: LoopNest.traces.add(1, ordering: .relaxed).oldValue, extents: extents, own: space.extents.count, mode: mode)
            frame = f
            firstID = Node.nextIDLowerBound
            readNodes = []
            checkedNodes = []
            body(space.constants.indices.map { LoopIndex(constant: space.constants[$0], coefs: space.coefs[$0], trace: f.id) })
            frame = nil
            return f
        }
        /// Keeps a trace whose statements may run as arrays (counted).
        func accepted(_ f: Frame) -> Bool {
            guard !f.aborted, !f.irregular, f.nextAxis == f.extents.count, LoopRecorder.legal(f, peel: nil) else { return false }
            let reductions = f.statements.filter { $0.reduced != nil }.count
            LoopNest.statistics.withLock {
                $0.vectorised += 1
                $0.reductions += reductions
                if f.mode == .imperfect { $0.imperfect += 1 }
            }
            return true
        }
        // A nest that ran as a compiled program here last time runs so again when the body
        // traces to that same program: the decision depends only on the program, the traces
        // of the same body and the mode, and the array traces, their legality tests and the
        // peel and wavefront searches before it were most of a small nest's time (trisolv at
        // 400: 40 µs before a 64 µs loop).
        let siteKey = ProgramSiteKey(site: site, extents: space.extents, mode: LoopRecorder.programMode)
        if call, LoopRecorder.programsAvailable, let known = LoopNest.programSites.withLock({ $0[siteKey] }) {
            if let (p, program) = traceProgram(space, body), program == known, runProgram(p, program) {
                LoopNest.statistics.withLock { $0.programsReused += 1 }
                return
            }
            rollBack()
            LoopNest.programSites.withLock { _ = $0.removeValue(forKey: siteKey) }
        }
        var irregular = false
        let key = LoopTreeKey(site: site, extents: space.extents)
        var f: Frame
        let cached = LoopNest.trees.withLock({ $0[key] }).map { knownTree($0, space, trace: { trace($0, extents: $1) }, accepted: accepted) }
        if case .accepted? = cached {
            LoopNest.statistics.withLock { $0.treesReused += 1 }
            return
        }
        if case .known(let frame)? = cached {
            LoopNest.statistics.withLock { $0.treesReused += 1 }
            rollBack()
            f = frame
        } else {
            if case .changed? = cached {
                LoopNest.statistics.withLock { $0.treesChanged += 1 }
                rollBack()
                LoopNest.trees.withLock { _ = $0.removeValue(forKey: key) }
            }
            f = trace(.flat, extents: space.extents)
            if accepted(f) { return }
            rollBack()
            if f.aborted {
                // The body calls Tandem.loop: find those loops, then trace the whole tree as arrays.
                let found = trace(.discover, extents: space.extents)
                irregular = found.irregular
                if !found.irregular {
                    LoopNest.remember(LoopTree(extents: found.extents), for: key, in: LoopNest.trees)
                    f = trace(.imperfect, extents: found.extents)
                    if accepted(f) { return }
                    rollBack()
                    f.aborted = true
                }
            }
        }
        let peel = f.aborted || space.extents.count < 2 ? nil : (0..<space.extents.count).first { LoopRecorder.legal(f, peel: $0) }
        let skew = f.aborted || space.extents.count < 2 || peel != nil ? nil : (1...3).first { LoopRecorder.wavefrontLegal(f, skew: $0) }
        if call, LoopRecorder.programsAvailable, let (p, program) = traceProgram(space, body) {
            if programPreferred(program, over: f, space, peel: peel, skew: skew, irregular: irregular), runProgram(p, program) {
                LoopNest.remember(program, for: siteKey, in: LoopNest.programSites)
                return
            }
            rollBack()
        }
        if !f.aborted, space.extents.count > 1 {
            if let k = peel {
                LoopNest.statistics.withLock { $0.peeled += 1; if k > 0 { $0.interchanged += 1 } }
                for c in 0..<space.extents[k] { nest(space.fixing(k, at: c), body, site: site) }
                return
            }
            if let h = skew {
                LoopNest.statistics.withLock { $0.wavefronts += 1 }
                let waves = (space.extents[0] - 1) * h + space.extents[1]
                for w in 0..<waves { if let s = space.wave(w, skew: h) { nest(s, body, site: site) } }
                return
            }
        }
        LoopNest.statistics.withLock { $0.peeled += 1 }
        for c in 0..<space.extents[0] { nest(space.fixing(0, at: c), body, site: site) }
    }

    /// What a loop tree known at a call site gave (see `knownTree`).
    enum KnownTree {
        /// The imperfect trace was accepted: it has run (counted).
        case accepted
        /// The frame `nest` goes on with (aborted: the tree does not run as arrays).
        case known(Frame)
        /// The body no longer has that tree: trace from the start (after rolling back).
        case changed
    }

    /// A nest whose body called `Tandem.loop` at this site with these extents before: its loop
    /// tree as the discovering trace found it then, traced as arrays at once, without the flat
    /// and the discovering traces (two of a nested nest's three; a third of gesummv's time at
    /// 250). The imperfect trace checks every nested call's extents against the tree, so a body
    /// whose loops changed (its bounds come from a captured variable) is seen as such.
    func knownTree(_ tree: LoopTree, _ space: Space, trace: (Frame.Mode, [Int]) -> Frame,
                   accepted: (Frame) -> Bool) -> KnownTree {
        let f = trace(.imperfect, tree.extents)
        if accepted(f) { return .accepted }
        guard !f.irregular, !f.aborted, f.nextAxis == f.extents.count, f.nextAxis > space.extents.count else { return .changed }
        f.aborted = true
        return .known(f)
    }

    /// Gives every written tensor's stand-in its final version.
    func finish() {
        for s in order {
            let cur = s.current
            // Held only by the state itself (`current`), read by nothing else: the stand-in can be it.
            if cur !== s.original, cur.consumers.load(ordering: .relaxed) == 0, cur.holders.load(ordering: .relaxed) <= 1 {
                s.standIn.redefine(as: cur.op)      // nothing else reads this version: become it
            } else {
                s.standIn.redefine(as: .view(cur, .identity(cur.shape.count)))
            }
        }
        order = []
        states = [:]
    }
}

/// Where a `Tandem.loop` call is written (the file's name literal and the line).
struct LoopSite: Hashable {
    let file: UInt
    let line: UInt
    init(_ file: StaticString, _ line: UInt) {
        self.file = file.hasPointerRepresentation ? UInt(bitPattern: file.utf8Start) : UInt(file.unicodeScalar.value)
        self.line = line
    }
}

struct LoopTreeKey: Hashable {
    let site: LoopSite
    let extents: [Int]
}

/// A call site of `Tandem.loop` with its extents and the program mode (`LoopNest.programSites`).
struct ProgramSiteKey: Hashable {
    let site: LoopSite
    let extents: [Int]
    let mode: LoopProgramMode
}

/// A body's loop tree as a discovering trace found it: the extents of the call's loops and of
/// every nested call's (kept only for trees whose nested bounds are constants and not empty:
/// an irregular tree is discovered again at every call, since an empty loop may not be empty
/// the next time).
struct LoopTree {
    let extents: [Int]
}
