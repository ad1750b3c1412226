import Synchronization
import TandemCompiler
import TandemIR

/// When operations on a few stored values are computed at once on the calling thread
/// (`TANDEM_EAGER`; `Eager` in the interpreter's target computes them, `Tensor` asks first).
public enum EagerMode: String, Sendable, CaseIterable {
    /// Every operation is recorded and planned.
    case off
    /// Eager while the plans of recent syncs were not reused (`Runtime.eagerGate`): the program's
    /// graphs do not repeat, so each would be planned from scratch.
    case auto
    /// Eager whenever the operands allow it (for tests and experiments).
    case always
}

// The decision and its bookkeeping.
//
// A program that works an element or a row at a time builds graphs whose shapes or offsets
// change at every statement: no plan is reused, and planning costs 7-9 µs a node where NumPy
// spends about 1 µs on the whole operation. A time-stepped program builds the same graph every
// step: its plans are reused, and its fused kernels beat operation-at-a-time work on small
// grids too (npbench's channel flow on 61 x 61 grids: 0.54 s planned and fused, 1.40 s eager).
// So eager is tentatively on from the start (stored operands only, `EagerState.tentative`)
// until a plan is reused, turns fully on after `eagerMissesToStart` syncs in a row whose plans
// were new, and off when the eager operations repeat: each one's signature (operation, types,
// shape, and every operand's offset and strides, what a plan's key holds), paired with the one
// before it, is looked up among the last several thousand, and a window whose distinct pairs
// were mostly seen in earlier windows is a step of a program that repeats, whose recorded
// steps would make plans that are reused.
// Distinct operations, not all: an element-at-a-time sweep reads each element two or three
// times in a row and adds scalars with one signature all along (npbench's seidel_2d: 80 % of
// its operations repeat within a few, 5-10 % of its distinct ones come from earlier windows).
// Turned off, the next syncs say again, and eager turns on after six new plans in a row. When
// no plan was reused since the stop, the stop was wrong for this program (seidel_2d's graphs
// are cut at other places every time step, so its recorded steps are not reused: 0.9 s
// planned, 0.2 s eager), and the next stop needs twice the repeating windows in a row; when
// some were, the program repeats but also plans afresh now and then (npbench's adi: its column
// sweeps are reused every time step: 0.045 s planned against 0.095 s eager), and the start
// waits for twice the new plans in a row.
extension Runtime {
    /// Consecutive syncs with a new plan before operations turn eager (`EagerMode.auto`), at
    /// first; up to `eagerMissesLimit` (`EagerState.notePlan`).
    public static let eagerMissesToStart = 6
    static let eagerMissesLimit = 48
    /// Eager operations judged at a time, and the share of a window's distinct operations seen
    /// in earlier windows that makes it a repeating one.
    static let eagerWindow = 512
    static let eagerRepeatShare = 0.75
    /// The most repeating windows in a row a stop can come to need (`EagerState.windowsToStop`).
    static let eagerWindowsLimit = 64

    /// The most elements an eager write fills or copies whole on the calling thread: a constant
    /// written into while eager operations are tentative (`storeConstants`), a stored tensor
    /// another one shares (`var A = A0; A[i, j] = v`: value semantics). The recorded write
    /// would fill or copy it too, on the workers; past this the recorded one is taken.
    public static let eagerWholeTensorLimit = 1 << 24

    /// The mode for the current task (`Tandem.withEager`), overriding `eagerMode`.
    public static let scopedEagerMode = ScopedValue<EagerMode>()

    /// The process's mode: `TANDEM_EAGER` (`auto` by default), read once.
    public static let eagerMode: EagerMode = {
        guard let v = ProcessInfoLite.environment("TANDEM_EAGER")?.lowercased() else { return .auto }
        if let m = EagerMode(rawValue: v) { return m }
        ProcessInfoLite.warn("tandem: TANDEM_EAGER=\(v) is not one of off, auto, always; using auto")
        return .auto
    }()

    /// Whether an operation on stored values may be computed now, on the calling thread,
    /// instead of recorded: the mode allows it (`auto`: the recent syncs' plans were new), the
    /// device choice here is `auto` (a forced placement runs every kernel where it is forced),
    /// and no task is queued or running, so every stored buffer's values are complete and
    /// nothing queued still reads a buffer an eager write changes.
    ///
    /// Under `auto`, queued work is waited for first (the calling thread helps run it): eager
    /// operations are on only while the recent syncs planned small graphs afresh, whose kernels
    /// finish in microseconds, and a program that flushes such graphs as its chains grow (an
    /// element-at-a-time loop without reads) would otherwise always find its last flush still
    /// running and never turn eager. Also while tentative (a process's start): a program whose
    /// input was read from a file or whose first sync left a kernel queued found it busy,
    /// recorded, and every later operation read that pending value (npbench's gramschmidt:
    /// first run 0.07 -> 0.11 s when it did not wait).
    public var eagerGate: Bool { eagerOpen && eagerReady }

    /// `eagerGate` once `eagerOpen` has been seen true (the rest of the test).
    public var eagerReady: Bool {
        // A forced placement, or kernels being recorded (`tandem selftest`), want kernels.
        guard deviceChoice == .auto, PlanRecorder.active == nil else { return false }
        if !executor.isIdle { executor.waitAll() }
        return executor.isIdle
    }

    /// The mode's part of `eagerGate`, from atomics alone (asked at every small operation; the
    /// task-local scope is read only while some `withEagerMode` scope is open).
    public var eagerOpen: Bool { eagerAllowed(tentatively: true) }

    /// Whether an eager operation may compute its pending operands first (`materialize`): not
    /// while `auto` is only tentatively on (a process's start, before any sync said whether its
    /// plans are reused), where an operation whose operands are not all stored is recorded as
    /// before (a constant written into is filled on the host: `storeConstants`). A program
    /// that builds its first values as graphs (random positions scaled, a grid's border) keeps
    /// them fused; one that works element by element on stored arrays is eager from its first
    /// statement.
    public var eagerMaterializes: Bool { eagerAllowed(tentatively: false) }

    /// The mode's answer: `auto` is on after six new plans in a row, or (`tentatively`) while
    /// `EagerState.tentative` holds.
    @inline(__always)
    private func eagerAllowed(tentatively: Bool) -> Bool {
        switch Runtime.scopedEagerMode.value ?? Runtime.eagerMode {
        case .off: return false
        case .auto: return eagerState.isOn || (tentatively && eagerState.isTentative)
        case .always: return true
        }
    }

    /// Stores those of `nodes` that are constants of at most `eagerWholeTensorLimit` elements
    /// (filled on the calling thread, no kernel, no pending update flushed: unlike
    /// `materialize`); true when every one of `nodes` is stored now (or a view of a stored one).
    /// For an eager write's target while eager operations are tentative: `Tensor.zeros([m, n])`
    /// before its first element write (NumPy's `np.zeros`, npbench's gramschmidt).
    public func storeConstants(_ nodes: [Node]) -> Bool {
        graphLock.withLock { _ in
            var all = true
            for n in nodes {
                Runtime.storeSmallConstant(n, limit: Runtime.eagerWholeTensorLimit)
                if !Runtime.holdsValues(n) { all = false }
            }
            return all
        }
    }

    /// Runs `body` with `mode` in effect for the current task (`Tandem.withEager`).
    public static func withEagerMode<R>(_ mode: EagerMode, _ body: () throws -> R) rethrows -> R {
        try scopedEagerMode.withValue(mode, body)
    }

    /// Async variant of `withEagerMode(_:_:)`.
    public static func withEagerMode<R>(_ mode: EagerMode, _ body: () async throws -> R) async rethrows -> R {
        try await scopedEagerMode.withValue(mode, body)
    }

    /// Runs `body` under the graph lock (no sync changes a node's operation meanwhile) with a
    /// test of whether a buffer's host memory holds its values (not when an accelerator has used
    /// it: the device's copy is the truth then). `body` sets the operation's signature when it
    /// computed it (0: it did not), which `auto` uses to see whether operations repeat.
    public func withEagerAccess<T>(_ body: ((Buffer) -> Bool, inout UInt64) -> T) -> T {
        graphLock.withLock { _ in
            var signature: UInt64 = 0
            let result = body({ b in (b.schedule as? BufferSchedule)?.deviceSeen != true }, &signature)
            if signature != 0 { noteSignature(signature) }
            return result
        }
    }

    /// A sync's plan was reused (`hit`) or made new: counts toward turning eager on (graph lock).
    func noteEagerPlan(hit: Bool, kernels: Int) {
        guard kernels > 0 else { return }
        eagerState.notePlan(hit: hit)
    }

    /// One eager operation's signature: its window's share of distinct operations seen in
    /// earlier windows decides whether eager stays on (graph lock).
    private func noteSignature(_ signature: UInt64) {
        let s = eagerState
        let mayStop = Runtime.eagerMode == .auto && !Runtime.scopedEagerMode.anyScopeOpen
        guard s.note(signature, mayStop: mayStop) else { return }
        statistics.update { $0.eagerStops += 1 }
        Tracer.shared.record(TraceEvent(kind: .placement, name: "eager off", start: ProcessInfoLite.monotonicNanos(),
                                        device: "eager",
                                        detail: "the distinct operations of the last \(s.windowsToStop * Runtime.eagerWindow) eager operations were mostly seen before: recorded and planned again"))
    }

    /// When an eager operation starts, for its trace event: 0 while tracing is off (the clock
    /// costs a tenth of a small operation).
    public var eagerStart: UInt64 { Tracer.shared.isEnabled ? ProcessInfoLite.monotonicNanos() : 0 }

    /// Counts an eager operation (`Statistics.eagerOps`), and traces it when tracing is on.
    /// `start`: the operation's start (`eagerStart`).
    public func noteEager(_ name: @autoclosure () -> String, start: UInt64, elements: Int, inPlace: Bool = false) {
        statistics.countEager(inPlace: inPlace)
        guard start != 0 else { return }
        Tracer.shared.record(TraceEvent(kind: .kernel, name: name(), start: start,
                                        duration: ProcessInfoLite.monotonicNanos() - start, points: elements,
                                        device: "eager", detail: "computed at once on the calling thread"))
    }
}

/// The state behind `Runtime.eagerGate` (the window's fields under the graph lock).
final class EagerState: @unchecked Sendable {
    /// Pairs of operations remembered (a period of a few thousand operations fits, with few
    /// collisions: 2,048 pairs lose about 6 %).
    static let slots = 16384
    /// Consecutive syncs whose plans were new.
    let misses = Atomic<Int>(0)
    /// On from the process's start until the first reused plan or stop for repeating: eager
    /// operations on stored operands only (`Runtime.eagerMaterializes`). An element-at-a-time
    /// program's first statements are then eager where six syncs of new plans came first, each
    /// planned from scratch (npbench's durbin flushes 700-node graphs as its chain of writes
    /// grows: 0.16 s of planning in a 0.28 s first run).
    let tentative = Atomic<Bool>(true)
    /// Recent signatures, and the window each was last counted in: side by side, one cache
    /// line a lookup (two arrays cost two misses an operation, 5 % of an element sweep), in
    /// memory of this state's own (no array's uniqueness and bounds checks on the hot path).
    struct Seen {
        var signature: UInt64
        var window: UInt32
    }
    let seen: UnsafeMutablePointer<Seen> = {
        let p = UnsafeMutablePointer<Seen>.allocate(capacity: slots)
        p.initialize(repeating: Seen(signature: 0, window: UInt32.max), count: slots)
        return p
    }()

    deinit { seen.deallocate() }
    /// The current window: its operations, distinct signatures, and those seen in earlier windows.
    var window: UInt32 = 0
    var operations = 0
    var distinct = 0
    var earlier = 0
    /// Repeating windows in a row, and how many a stop needs (doubled each time a stop was
    /// followed by a run of new plans with no reused one: `notePlan`).
    var repeatedWindows = 0
    var windowsToStop = 1
    /// The most windows back a signature of the current window was last seen in, and the most
    /// over the current run of repeating windows: the program's period, in windows.
    var span = 0
    var runSpan = 0
    /// Set by a stop for repeating, cleared when eager turns on again; plans reused since.
    var stoppedForRepeats = false
    var hitsSinceStop = 0
    /// `misses` needed to turn eager on; and needed now: after a stop for a repetition of a
    /// period of P windows, P times as many (up to `eagerMissesLimit`), so that the recorded
    /// steps last a period and can be reused before eager operations start again (npbench's adi:
    /// a time step is a dozen windows and dozens of flushes; six new plans turned eager on
    /// again before any recorded step came round, every stop looked wrong, and warm reps stayed
    /// eager at 2.4x the time of recorded ones).
    let missesToStart = Atomic<Int>(Runtime.eagerMissesToStart)
    let needed = Atomic<Int>(Runtime.eagerMissesToStart)

    /// The last operation's signature (`note`).
    var previous: UInt64 = 0

    /// Counts one eager operation's signature; true when its window ends a run of repeating
    /// windows that stops eager operations (`mayStop`: the mode is the process's `auto`).
    func note(_ operation: UInt64, mayStop: Bool) -> Bool {
        // The pair of this operation and the one before it is what is looked up: a program
        // that repeats repeats its sequence, while an element sweep reads the same elements
        // again in other company (npbench's nussinov reads row i's elements again for every
        // column j, and its single operations mostly repeated: two wrong stops, 44 ms of
        // planning in a 0.12 s run).
        // Mixed so that every bit of the slot depends on both (the signatures themselves end
        // in a set bit, which as the slot's low bit left half the table unused).
        var h = (previous ^ (operation << 29 | operation >> 35)) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        previous = operation
        let slot = Int(truncatingIfNeeded: h & UInt64(EagerState.slots - 1))
        let signature = h | 1
        let entry = seen + slot, current = window
        if entry.pointee.signature == signature {
            // Counted once a window: seen in an earlier one, or already in this one.
            let last = entry.pointee.window
            if last != current {
                span = max(span, Int(current &- last))
                entry.pointee.window = current
                distinct += 1
                earlier += 1
            }
        } else {
            entry.pointee = Seen(signature: signature, window: current)
            distinct += 1
        }
        operations += 1
        guard operations >= Runtime.eagerWindow else { return false }
        let repeated = Double(earlier) >= Runtime.eagerRepeatShare * Double(distinct)
        operations = 0
        distinct = 0
        earlier = 0
        window &+= 1
        repeatedWindows = repeated ? repeatedWindows + 1 : 0
        runSpan = repeated ? max(runSpan, span) : 0
        span = 0
        // The repetition has to last the program's period (in windows) times the windows a
        // stop needs: recorded after the stop, the first period is planned afresh and pays
        // only when more periods follow, so a long period (npbench's adi: a time step of
        // 6,000 operations; a whole solver called again) needs longer proof than a short one.
        let period = min(max(runSpan, 1), Runtime.eagerWindowsLimit)
        guard repeatedWindows >= windowsToStop * period, mayStop else { return false }
        misses.store(0, ordering: .relaxed)
        needed.store(min(missesToStart.load(ordering: .relaxed) * period, Runtime.eagerMissesLimit), ordering: .relaxed)
        tentative.store(false, ordering: .relaxed)
        repeatedWindows = 0
        runSpan = 0
        stoppedForRepeats = true
        hitsSinceStop = 0
        return true
    }

    /// Counts a sync's plan, reused (`hit`) or new.
    func notePlan(hit: Bool) {
        if hit {
            misses.store(0, ordering: .relaxed)
            tentative.store(false, ordering: .relaxed)
            hitsSinceStop += 1
            return
        }
        if misses.add(1, ordering: .relaxed).newValue == needed.load(ordering: .relaxed) && stoppedForRepeats {
            // Eager again after a stop for repeating. No plan reused since: the repetition
            // brought none, and the next stop needs longer proof. Some: the program's steps
            // are reused between new plans, and this start waits for twice the run of them.
            stoppedForRepeats = false
            let base = missesToStart.load(ordering: .relaxed)
            if hitsSinceStop == 0 {
                windowsToStop = min(2 * windowsToStop, Runtime.eagerWindowsLimit)
            } else {
                missesToStart.store(min(2 * base, Runtime.eagerMissesLimit), ordering: .relaxed)
            }
            needed.store(missesToStart.load(ordering: .relaxed), ordering: .relaxed)
        }
    }

    /// Whether `auto` computes operations at once now.
    var isOn: Bool { misses.load(ordering: .relaxed) >= needed.load(ordering: .relaxed) }

    /// Whether `auto` computes operations on stored operands at once (`tentative`).
    var isTentative: Bool { tentative.load(ordering: .relaxed) }
}
