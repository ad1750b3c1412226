#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import TandemIR
import TandemCompiler

/// Per-buffer ordering state: the task that last wrote the buffer and the tasks reading it since.
final class BufferSchedule {
    @exclusivity(unchecked) var lastWriter: KernelTask?
    @exclusivity(unchecked) var readers: [KernelTask] = []
    /// Where the values will be once everything queued so far has run (for the cost model;
    /// the device's own residency is the truth when work runs).
    @exclusivity(unchecked) var planned: Validity = .host
    /// Whether a GPU kernel has used the buffer: host access must then go through the device.
    @exclusivity(unchecked) var deviceSeen = false
}

/// Runs and time of the kernels with one label (`Runtime.profile`).
final class KernelProfileEntry: Sendable {
    let count = Atomic<Int>(0)
    let nanos = Atomic<UInt64>(0)
}

/// The code a host task runs, chosen when it starts (see late binding in `submit`). Written in
/// `onReady` under the executor's lock before any chunk is queued, read by the chunks after.
final class TaskCode: @unchecked Sendable {
    var code: any PreparedKernel
    var placement: Placement
    init(code: any PreparedKernel, placement: Placement) {
        self.code = code
        self.placement = placement
    }
}

/// Code ready for one kernel: host code run in chunks by the workers, or a queued device's.
enum ReadyCode {
    case host(any PreparedKernel)
    case queued(any QueuedKernel)
}

/// The process-wide runtime: plans pending graphs at sync points, compiles kernels through the
/// chosen device, and queues them on the executor in dependency order.
///
/// One lock (the graph lock) covers planning, node realisation and task registration; building
/// tensors takes no lock, and kernels run outside it.
public final class Runtime: @unchecked Sendable {
    /// The device chosen for the current task (`Tandem.withDevice`), overriding `TANDEM_DEVICE`.
    @TaskLocal public static var scopedDevice: DeviceChoice?

    public let executor: Executor
    public let statistics: StatisticsBox
    let graphLock = Mutex(())
    let devices: [String: any KernelDevice]
    /// The interpreter and the CPU compiler device, looked up once (`device(for:)` is asked
    /// several times a kernel; a String-keyed lookup hashed the name each time).
    let interpreterDevice: (any KernelDevice)?
    let cpuDevice: (any KernelDevice)?
    /// The devices with their own memory and queue (CUDA, OpenCL) that are registered, by name
    /// (each may still be unavailable on this machine).
    let queuedDevices: [String: any QueuedKernelDevice]
    /// The accelerator this process uses and its placement: CUDA when registered, until a
    /// forced choice names another before any kernel ran on one (buffers' device copies are
    /// tracked for one device; `Runtime.useAccelerator`).
    let acceleratorSlot: Mutex<(device: any QueuedKernelDevice, placement: Placement)?>
    var accelerator: (any QueuedKernelDevice)? { acceleratorSlot.withLock { $0?.device } }
    var acceleratorPlacement: Placement? { acceleratorSlot.withLock { $0?.placement } }
    /// Whether this process has a usable accelerator (CUDA, or OpenCL when forced): host-only
    /// paths that would pull its data back (small BLAS products) step aside.
    public var hasAccelerator: Bool {
        guard let d = accelerator, case .available = d.availability else { return false }
        return true
    }
    /// The first error a queued device reported from a worker; thrown at the next sync.
    let asyncError = Mutex<(any Error)?>(nil)
    let defaultChoice: DeviceChoice
    /// The device choice in effect here (`withDevice`'s scope, else `TANDEM_DEVICE`, else `auto`).
    public var deviceChoice: DeviceChoice { Runtime.scopedDevice ?? defaultChoice }
    let pendingUpdates = Mutex<[PendingUpdate]>([])
    /// Per thread, the signatures of the statements at which `relieveDepth` cuts chains.
    let depthAnchors = Mutex<[UInt: [UInt64]]>([:])
    /// How many statements a thread's cuts remember (a loop's independent chains, one each).
    static let maxDepthAnchors = 8
    /// `auto`'s placements, once known (`options()`).
    let autoOptions = Mutex<[Placement]?>(nil)
    /// Measured kernel time and count per kernel label (fused ops), for `TANDEM_PROFILE`.
    let kernelProfile = Mutex<[String: KernelProfileEntry]>([:])

    /// Pending updates that trigger a flush (memory pressure of the lazy graph).
    public static let maxPendingUpdates = 48

    /// The kernels that took the most time, one line each.
    public func profileSummary(top: Int = 12) -> String {
        let rows = kernelProfile.withLock { $0 }.map { (label: $0.key, count: $0.value.count.load(ordering: .relaxed), nanos: $0.value.nanos.load(ordering: .relaxed)) }
            .sorted { $0.nanos > $1.nanos }.prefix(top)
        return rows.map { "  \(String(format2(Double($0.nanos) / 1e9)))s  x\($0.count)  \($0.label)" }.joined(separator: "\n")
    }

    /// A pending update and the thread that made it: a sync flushes its own thread's updates.
    /// A class, not a struct: the list is scanned at every slice write. The reference is strong:
    /// a weak one gave every update node a side table, and then every retain and release of
    /// the node (every view of a stencil's field) took the slow path, a tenth of a small step.
    /// An update no tensor and no node holds any more (`isDead`) is dropped at the next sweep
    /// or sync, so what the list keeps alive is bounded by the flush threshold.
    final class PendingUpdate: @unchecked Sendable {
        let node: Node
        var isDead: Bool { node.holders.load(ordering: .relaxed) == 0 && node.consumers.load(ordering: .relaxed) == 0 }
        let thread: UInt
        /// Where the update writes (see `relieveGraphPressure(site:)`).
        let site: Int
        init(node: Node, thread: UInt = Runtime.currentThread, site: Int = 0) {
            self.node = node
            self.thread = thread
            self.site = site
        }
    }

    static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self())))) }

    /// A runtime over `devices`. `profile` gives the machine profile the cost model prices
    /// kernels with; it is called once, at the first sync (it may calibrate the machine).
    public init(devices: [any KernelDevice], queued: [any QueuedKernelDevice] = [], statistics: StatisticsBox, workers: Int? = nil,
                profile: @escaping @Sendable () -> MachineProfile) {
        var queuedTable: [String: any QueuedKernelDevice] = [:]
        for d in queued { queuedTable[d.name] = d }
        self.queuedDevices = queuedTable
        self.acceleratorSlot = Mutex(queuedTable["cuda"].map { ($0, .cuda) })
        self.statistics = statistics
        var table: [String: any KernelDevice] = [:]
        for d in devices { table[d.name] = d }
        self.devices = table
        self.interpreterDevice = table["interpreter"]
        self.cpuDevice = table["cpu"]
        let threads = ProcessInfoLite.environment("TANDEM_THREADS")
        let env = threads.flatMap(Int.init).flatMap { (1...4096).contains($0) ? $0 : nil }
        if workers == nil, let threads, env == nil {
            ProcessInfoLite.warn("tandem: TANDEM_THREADS=\(threads) is not a number of threads from 1 to 4096; using \(ProcessInfoLite.cores) (the online cores)")
        }
        self.executor = Executor(workers: workers ?? env ?? ProcessInfoLite.cores)
        let choice = ProcessInfoLite.environment("TANDEM_DEVICE").map { $0.lowercased() }
        self.defaultChoice = choice.flatMap(DeviceChoice.init(rawValue:)) ?? .auto
        if let choice, DeviceChoice(rawValue: choice) == nil {
            ProcessInfoLite.warn("tandem: TANDEM_DEVICE=\(choice) is not one of \(DeviceChoice.allCases.map(\.rawValue).joined(separator: ", ")); using auto")
        }
        self.profileSource = profile
        self.compileFallback = Fallback(statistics: statistics, name: "fallback to the interpreter") {
            "tandem: compiled code is unavailable (\($0.prefix(2000))); the interpreter runs such kernels"
        }
        self.noCompilerFallback = Fallback(statistics: statistics, name: "fallback to the interpreter") { "tandem: running kernels in the interpreter: \($0)" }
        let executor = self.executor
        self.background = BackgroundCompiler(fallback: compileFallback) { executor.lend($0) }
    }

    // MARK: - Placement

    let profileSource: @Sendable () -> MachineProfile
    let modelState = Mutex<CostModel?>(nil)
    /// Static features and run counts per kernel structure (graph lock); a kernel's first count
    /// comes from `kernelHistory`, the runs of earlier processes.
    @exclusivity(unchecked) var history: [Kernel: (features: KernelFeatures, runs: Int, earlier: Int)] = [:]

    /// What each kernel's runs measured against their predictions, per host placement (see
    /// `KernelFactors`): learned by workers as kernels finish, applied by `decide`.
    let kernelFactors = Mutex(KernelFactors())
    /// Runs of each kernel across processes (`Tandem` sets it to the cache folder's file and
    /// saves it at exit); nil counts this process's runs only.
    public var kernelHistory: KernelHistory?

    /// Adds this process's runs to `kernelHistory` and writes it (at exit). Counted here, not
    /// per run: hashing a kernel into the history at every decision cost microseconds a sync.
    @discardableResult
    public func saveKernelHistory() -> Bool {
        guard let kernelHistory else { return true }
        // At exit another thread may hold the lock mid-sync: then this process's runs are lost
        // (they only steer placement), rather than the exit hanging.
        _ = graphLock.withLockIfAvailable { _ in
            for (kernel, entry) in history where entry.runs > entry.earlier {
                kernelHistory.record(kernel, runs: entry.runs - entry.earlier)
                history[kernel]!.earlier = entry.runs
            }
        }
        saveCompileRate(beside: kernelHistory.path)
        return kernelHistory.save()
    }

    /// The compile rate measured by earlier processes (`compile-rate` beside the kernel history,
    /// seconds per instruction), read once. A second run of a program otherwise priced its
    /// compiles with the profile's prior until one of its own compiles finished (mandelbrot's
    /// 500-instruction kernels at 3.8 s each, 0.8 s on this machine), and kept them interpreted.
    private let storedCompileRate = Mutex<Double??>(nil)

    static func compileRatePath(beside history: String) -> String {
        guard let slash = history.lastIndex(of: "/") else { return "compile-rate" }
        return String(history[..<slash]) + "/compile-rate"
    }

    func storedRate() -> Double? {
        storedCompileRate.withLock { stored in
            if let known = stored { return known }
            var value: Double? = nil
            if let path = kernelHistory.map({ Runtime.compileRatePath(beside: $0.path) }),
               let bytes = VerifiedFileCache.readPrivateFile(path, limit: 64),
               let v = Double(String(decoding: bytes, as: UTF8.self)), v.isFinite, v > 0, v < 1 {
                value = v
            }
            stored = .some(value)
            return value
        }
    }

    /// Writes this process's measured compile rate (averaged with the stored one) for the next.
    func saveCompileRate(beside history: String) {
        guard let measured = measuredCompileRate(costModel), measured > 0 else { return }
        let rate = storedRate().map { ($0 + measured) / 2 } ?? measured
        try? VerifiedFileCache.writeAtomically(Runtime.compileRatePath(beside: history), Array("\(rate)".utf8))
    }
    /// Compiles kernels that run in the interpreter but would run faster compiled.
    let background: BackgroundCompiler

    /// Hands the background compiles still pending to processes that outlive this one (at exit),
    /// then the kernels that ran longest in the interpreter in this process without compiled
    /// code (`interpretedNanos`, at least `afterExitInterpretedSeconds` each, most first, up to
    /// `BackgroundCompiler.maxAfterExit` in all): the model compiles a kernel during a run only
    /// when the compile pays back in this run or, by its history, in later ones, so a program's
    /// first runs never compiled a kernel whose interpreted run was shorter than its compile,
    /// and mandelbrot's ran interpreted for three runs (1.0-1.3 s against 0.12 s compiled). A
    /// compile after exit costs the user nothing visible; a program run again finds the code.
    @discardableResult
    public func finishBackgroundCompilesAfterExit() -> Int {
        var list = Array(background.pendingAtExit().prefix(BackgroundCompiler.maxAfterExit))
        if list.count < BackgroundCompiler.maxAfterExit, ProcessInfoLite.environment("TANDEM_DEVICE") != "interpreter",
           let cpu = device(for: .cpuAll), cpu.availability == .available {
            let slow = interpretedNanos.withLock { $0 }.filter { $0.value >= UInt64(Runtime.afterExitInterpretedSeconds * 1e9) }
                .sorted { $0.value > $1.value }
            for (kernel, _) in slow where list.count < BackgroundCompiler.maxAfterExit {
                guard cpu.readyCode(kernel) == nil, !list.contains(where: { $0.0 == kernel }) else { continue }
                list.append((kernel, cpu))
            }
        }
        // One process per device, compiling its kernels together (`finishAfterExit`).
        var started = 0, names: [String] = []
        for (_, d) in list where !names.contains(d.name) { names.append(d.name) }
        for name in names {
            let kernels = list.filter { $0.1.name == name }
            started += kernels[0].1.finishAfterExit(kernels.map(\.0))
        }
        return started
    }

    /// Interpreted time a kernel needs in one process to be compiled after it exits.
    public static let afterExitInterpretedSeconds = 0.02

    /// Measured time of each kernel's interpreted runs in this process (`record`).
    let interpretedNanos = Mutex<[Kernel: UInt64]>([:])

    /// Waits for the background compiles queued so far (tests and measurements).
    public func drainBackgroundCompiles() { background.drain() }

    /// Plans of graphs seen before, reused with this sync's buffers (graph lock); nil when
    /// `TANDEM_PLAN_CACHE=off` (every sync plans from scratch: for checking the cache).
    let planCache: PlanCache? = ProcessInfoLite.environment("TANDEM_PLAN_CACHE") == "off" ? nil
        : PlanCache(bindMembers: ProcessInfoLite.environment("TANDEM_GRAPH") != nil)

    /// Whether consecutive small kernels are merged into sequence kernels (`Planner.sequences`)
    /// when every option of a sync is on the host; `TANDEM_SEQUENCES=off` runs each alone (for
    /// checking them; tests set it per runtime). Read under the graph lock.
    @exclusivity(unchecked) public var formsSequences = ProcessInfoLite.environment("TANDEM_SEQUENCES") != "off"

    /// Interpreted kernels whose compile pays back as one of a batch (graph lock).
    @exclusivity(unchecked) var sideCompiles = SideCompilePool()

    /// Code-state lookups made and the time they took (graph lock).
    var lookups: (count: Int, nanos: UInt64) = (0, 0)

    /// The profile's rates as corrected by measured kernel times (see `RateCorrections`):
    /// learned by workers as kernels finish, applied to every prediction.
    public let rateCorrections = Mutex(RateCorrections())

    /// When each resource is predicted to be done with what was queued on it (graph lock).
    @exclusivity(unchecked) var busyUntil: [Placement.Resource: UInt64] = [:]

    /// The cost model, built from the machine profile at first use.
    public var costModel: CostModel {
        if let m = modelState.withLock({ $0 }) { return m }
        // Outside the lock: the profile source may calibrate, which takes a while.
        let m = CostModel(profile: profileSource())
        return modelState.withLock { state in
            if let existing = state { return existing }
            state = m
            return m
        }
    }

    /// `model` with the compile rate (seconds per instruction, beyond the fixed part) measured
    /// from this process's C compiles, once there are any (`CostModel.compileTime`).
    func compileCorrected(_ model: CostModel) -> CostModel {
        guard let rate = measuredCompileRate(model) ?? storedRate() else { return model }
        var m = model
        m.measuredCompileRate = rate
        return m
    }

    /// Seconds per unit of compile weight beyond `model`'s fixed part, from this process's C
    /// compiles; nil before the first.
    func measuredCompileRate(_ model: CostModel) -> Double? {
        let (count, nanos, weight) = statistics.read { ($0.cpuCompiles, $0.cpuCompileNanos, $0.cpuCompileWeight) }
        guard count > 0, weight > 0 else { return nil }
        return Swift.max(0, Double(nanos) / 1e9 - Double(count) * model.compileBaseSeconds) / Double(weight)
    }

    /// Replaces the machine profile (after `tandem calibrate`, or with a synthetic one in tests).
    public func setProfile(_ profile: MachineProfile) {
        modelState.withLock { $0 = CostModel(profile: profile) }
        // Corrections were learned against the old rates.
        rateCorrections.withLock { $0 = RateCorrections() }
    }

    /// Replaces the machine profile only if the one in use is still `expected` (a calibration
    /// finished on the side must not undo a profile set meanwhile). Returns whether it did.
    @discardableResult
    public func replaceProfile(_ expected: MachineProfile, with profile: MachineProfile) -> Bool {
        let replaced = modelState.withLock { state in
            guard state == nil || state?.profile == expected else { return false }
            state = CostModel(profile: profile)
            return true
        }
        // Corrections were learned against the old rates.
        if replaced { rateCorrections.withLock { $0 = RateCorrections() } }
        return replaced
    }

    // MARK: - Pending updates

    /// Remembers an update node so the next sync flushes it with everything else.
    /// `site` names where the update writes (`relieveGraphPressure(site:)`).
    public func registerUpdate(_ node: Node, site: Int = 0) {
        pendingUpdates.withLock { list in
            // Dead entries are swept only once the list is well past the flush threshold.
            if list.count >= 4 * Runtime.maxPendingUpdates { list.removeAll(where: \.isDead) }
            list.append(PendingUpdate(node: node, site: site))
        }
    }

    /// Flushes when too many updates are pending (the lazy graph's memory pressure). Called
    /// before an update is built, not after: while the assignment runs, its right-hand side is
    /// still held, and a flush then would see every base it views as still readable and copy
    /// the whole base instead of writing in place (shallow_water's walls did, every 48 updates).
    ///
    /// `site` names where the coming update writes (its shape and view). Past the threshold, the
    /// flush waits for the update whose site is the first pending one's, up to twice the
    /// threshold: a loop without a sync is then cut at the same place in its body every time,
    /// so its graphs repeat and their plans are reused. Cut every 48 updates, a body of 5 or 261
    /// updates gave graphs starting at ever other places (cavity flow planned 31 of them from
    /// scratch).
    public func relieveGraphPressure(site: Int = 0) throws {
        let me = Runtime.currentThread
        let (count, newest) = pendingUpdates.withLock { list -> (Int, Node?) in
            // Counted without looking at the nodes; only a count at the threshold is
            // checked for dead entries (an update already dropped needs no flush).
            var mine = 0
            var first: Int? = nil
            for entry in list where entry.thread == me {
                mine += 1
                if first == nil { first = entry.site }
            }
            guard mine >= Runtime.maxPendingUpdates else { return (mine, nil) }
            if mine < 2 * Runtime.maxPendingUpdates && first != site { return (0, nil) }
            list.removeAll(where: \.isDead)
            let live = list.filter { $0.thread == me }
            let held = live.contains { $0.node.holders.load(ordering: .relaxed) > 0 }
            return (live.count, held ? nil : live.last?.node)
        }
        // The flush takes the updates tensors hold. When none is held (writes that build a
        // temporary: `concatenate`, `padded`, read by what comes after them), it takes the
        // newest one still read: flushing nothing, a loop padding its field every step grew
        // one graph of all its steps (2,000 steps of a 64 x 64 field: 84 s to plan).
        if count >= Runtime.maxPendingUpdates { try materialize(newest.map { [$0] } ?? []) }
    }

    /// Chains of pending operations this long are flushed as they are built (`relieveDepth`):
    /// the planner's `maxFusedDepth`, at which it cuts such a chain into kernels anyway.
    public static let flushDepth = Planner.maxFusedDepth

    /// Queues the pending graph behind `node`, a value whose chain of pending operations has
    /// reached `flushDepth`: a loop without a sync (`x = x * 0.5 + 1`, 10,000
    /// times) otherwise builds one graph of tens of thousands of nodes that is planned from
    /// scratch at the end, at microseconds a node. Cut at the same place every time (below),
    /// the graphs repeat and their plans are reused (`PlanCache`); the kernels are the ones the
    /// planner's depth bound made already, so nothing is computed that was not before.
    /// While updates are pending, their own flushes bound the graph (`relieveGraphPressure`),
    /// aligned on a place of the loop's body; a flush for depth as well would cut the loop at a
    /// second period and its graphs would stop repeating (cavity flow planned 24 graphs from
    /// scratch instead of 14), so then it waits for them.
    /// Only the calling thread's live updates count: another thread's (a test running beside
    /// this one, a worker of the user's) flush at their own sync points, and waiting for them
    /// let this thread's chain grow unbounded.
    ///
    /// The depth is recounted first (`Node.recountPendingDepth`): counted when the nodes were
    /// made, it misses what syncs realised since, and a training loop whose weights each
    /// epoch's loss read realises was flushed every ten epochs at a second place of the loop
    /// (softmax regression: three more plans, one more compile, in its first run).
    ///
    /// Where the loop is cut: the first cut is at the first node whose chain reaches the bound
    /// (when no update defers it: see below); later ones at the first node past the bound made
    /// by a statement cut at before (`Node.localSignature`, remembered per thread, up to
    /// `maxDepthAnchors` of them). Cut wherever the bound fell, a loop whose body is not one
    /// chain (N-body's positions, velocities and accelerations) was cut at a different
    /// statement each time: a hundred leapfrog steps made ten graphs, all planned from scratch
    /// (five now, half of them reused). A chain that meets none of those statements is cut at
    /// twice the bound, and its statement remembered too (a second independent chain, or a
    /// loop that changed). A read forgets them (`sync`).
    public func relieveDepth(_ node: Node) {
        let depth = node.pendingDepth
        guard depth >= Runtime.flushDepth else { return }
        let me = Runtime.currentThread
        let anchors = depthAnchors.withLock { $0[me] ?? [] }
        let atBound = depth % Runtime.flushDepth == 0 && (anchors.isEmpty || depth >= 2 * Runtime.flushDepth)
        var signature: UInt64? = nil
        if !atBound {
            guard !anchors.isEmpty else { return }
            signature = node.localSignature
            guard anchors.contains(signature!) else { return }
        }
        // Updates written in the loop flush it at their own place; one left pending from before
        // the loop (`linspace` writes its last element) is taken along by this flush instead of
        // holding every flush back until the next read.
        let id = node.id
        if pendingUpdates.withLock({ $0.contains { $0.thread == me && !$0.isDead && id &- $0.node.id < Runtime.updateRhythm } }) { return }
        // Counted when the nodes were made; syncs since may have realised part of the chain.
        if graphLock.withLock({ _ in node.recountPendingDepth() }) < Runtime.flushDepth { return }
        let cut = signature ?? node.localSignature     // before the sync makes the node storage
        do {
            try materialize([node])
            guard !anchors.contains(cut) else { return }
            depthAnchors.withLock { all in
                if all.count >= 64 && all[me] == nil { all.removeAll() }   // threads that ended
                all[me, default: []].append(cut)
                if all[me]!.count > Runtime.maxDepthAnchors { all[me]!.removeFirst() }
            }
        } catch {
            // The graph is intact; the same error is thrown at the next sync point.
        }
    }

    /// How many nodes (by id) may be made after a pending update before it stops deferring the
    /// depth flushes (`relieveDepth`): a loop writing slices writes one within a few hundred.
    static let updateRhythm: UInt64 = 4 * UInt64(flushDepth)

    /// The calling thread's pending updates that live tensors still hold (the others are dropped
    /// from the list; other threads' updates wait for their own sync points).
    func takePendingUpdates() -> [Node] {
        let me = Runtime.currentThread
        return pendingUpdates.withLock { list in
            let mine = list.filter { $0.thread == me }.map(\.node).filter {
                if case .update = $0.op { return $0.holders.load(ordering: .relaxed) > 0 }
                return false
            }
            list.removeAll { $0.thread == me || $0.isDead }
            return mine
        }
    }

    // MARK: - Sync

    /// Plans and queues everything `nodes` need, plus pending updates held by live tensors.
    /// Returns once the work is queued; nothing is lost if compilation throws.
    public func materialize(_ nodes: [Node]) throws {
        // The model is made before the lock when it is not yet known (the profile source may
        // calibrate), else when a kernel needs a fresh decision: a sync whose decisions are all
        // reused needs none.
        // (`if case`: comparing the optional with nil copied the whole model.)
        let known = modelState.withLock { state -> Bool in if case .some = state { return true } else { return false } }
        var model: CostModel? = known ? nil : compileCorrected(costModel)
        try graphLock.withLock { _ in
            let roots = nodes.filter { $0.storage == nil } + takePendingUpdates()
            if roots.isEmpty { return }
            let (options, forced) = try self.options()
            let planStart = Executor.now()
            // Small kernels run as stages of sequence kernels when every option is on the host.
            let sequences = formsSequences && !options.contains(where: \.isAccelerator)
            let (plan, hit) = planCache.map { $0.plan(roots: roots, sequences: sequences) }
                ?? (Planner(sequences: sequences).plan(roots: roots), false)
            if let dir = graphDirectory {
                // One file per sync: the graph as planned, before the nodes are realised.
                let n = graphCount.add(1, ordering: .relaxed).newValue
                let name = "\(dir)/sync-\(String(repeating: "0", count: max(0, 5 - String(n).count)))\(n).dot"
                mkdir(dir, 0o755)
                if !ProcessInfoLite.write(Array(GraphDOT.render(roots: roots, plan: plan).utf8), to: name),
                   graphFailureSaid.exchange(true, ordering: .relaxed) == false {
                    ProcessInfoLite.warn("tandem: TANDEM_GRAPH: cannot write \(name) (\(ProcessInfoLite.errnoDescription())); no graphs are written")
                }
            }
            let planNanos = Executor.now() - planStart
            Tracer.shared.record(TraceEvent(kind: .plan, name: "plan \(plan.kernels.count) kernels", start: planStart, duration: planNanos,
                                            detail: plan.kernels.map(\.label).joined(separator: "; ")))
            var prepared: [(ReadyCode, PlacementDecision)] = []
            // The compiles this sync's decisions put on the side start together, as one batch
            // (released once every kernel is placed, or on a throw).
            background.hold()
            var held = true
            defer { if held { background.release() } }
            do {
                // Every kernel is placed first; the compiled code the host placements still lack
                // is then compiled in parallel, one compiler run per core (a first run's time is
                // its compiles), and the code is prepared in order.
                var decisions: [PlacementDecision] = []
                var memos: [DecisionMemo?] = []
                var compiling: Set<Kernel> = []
                // The kernels are taken by index and passed on borrowed (`for k in` copied each
                // planned kernel, a dozen references retained and released, three times a sync:
                // a sixth of a small loop's sync with a read).
                func place(_ k: PlannedKernel) {
                    let decision: PlacementDecision
                    // A kernel the accelerator refuses (float64 on a device without it) is
                    // placed among the others; forced there, `prepareQueued` says why.
                    var options = options
                    if !forced, options.contains(where: \.isAccelerator), let a = accelerator, a.refusal(k.kernel) != nil {
                        options.removeAll { $0.isAccelerator }
                    }
                    let reused = reusedMemo(k, options: options, forced: forced)
                    memos.append(reused)
                    if let reused {
                        decision = reused.decision
                        if reused.code != nil { decisions.append(decision); return }
                    } else {
                        let m = model ?? compileCorrected(costModel)
                        model = m
                        decision = decide(k, options: options, forced: forced, model: m, compiling: compiling)
                        remember(decision, for: k, options: options)
                    }
                    decisions.append(decision)
                    let p = decision.chosen.placement
                    if p == .cpu1 || p == .cpuAll, device(for: p)?.readyCode(k.kernel) == nil { compiling.insert(k.kernel) }
                }
                for i in plan.kernels.indices { place(plan.kernels[i]) }
                background.release()
                held = false
                precompile(compiling)
                for i in plan.kernels.indices {
                    var decision = decisions[i]
                    if let code = memos[i]?.code {
                        prepared.append((.host(code), decision))
                        continue
                    }
                    let k = plan.kernels[i]
                    let p = decision.chosen.placement
                    // Code compiled just above is taken as it is (not counted as a cache hit).
                    let fresh = compiling.contains(k.kernel) ? device(for: p)?.readyCode(k.kernel) : nil
                    let code: ReadyCode
                    if p.isAccelerator, let accelerator {
                        do {
                            code = .queued(try accelerator.prepareQueued(k.kernel))
                        } catch let error where !forced {
                            // auto chose an accelerator whose code cannot be had (a module the
                            // driver refuses, a build error): it is dropped for this process,
                            // said once, and the kernel runs on the CPU (compiled if it can be).
                            dropAccelerator(p, reason: "\(error)")
                            let compiled = decision.options.contains { $0.placement == .cpuAll } ? (try? device(for: .cpuAll)?.prepare(k.kernel)) : nil
                            let host: Placement = compiled == nil ? .interpreter : .cpuAll
                            code = .host(try compiled ?? device(for: .interpreter)!.prepare(k.kernel))
                            decision.chosen = decision.options.first { $0.placement == host } ?? decision.chosen
                            decision.chosen.placement = host
                        }
                    } else {
                        do {
                            if let special = specializedCode(k, on: p) {
                                code = .host(special)
                                decision.specialised = true
                            } else {
                                let c = try fresh ?? device(for: p)!.prepare(k.kernel)
                                code = .host(c)
                                // The next reuse of this decision takes the code as it is.
                                if let memo = DecisionMemo.of(k.memo), memo.decision.chosen.placement == p,
                                   !Specialization.applies(to: k.kernel) {
                                    memo.code = c
                                }
                            }
                        } catch let error where !forced && p != .interpreter {
                            // auto chose compiled code that cannot be had (a compiler that failed
                            // or was stopped at its time limit): the interpreter runs the kernel,
                            // said once and counted.
                            guard let interpreter = device(for: .interpreter) else { throw error }
                            code = .host(try interpreter.prepare(k.kernel))
                            decision.chosen = decision.options.first { $0.placement == .interpreter } ?? decision.chosen
                            decision.chosen.placement = .interpreter
                            compileFallback.record("\(error)")
                        }
                    }
                    prepared.append((code, decision))
                }
            } catch {
                // Give the pending updates back: the graph is untouched.
                pendingUpdates.withLock { list in
                    list.append(contentsOf: roots.filter { if case .update = $0.op { return true }; return false }.map { PendingUpdate(node: $0) })
                }
                throw error
            }
            var bytes = 0, points = 0, fused = 0, lagged = 0
            // Immutable from here: its elements are passed on borrowed, not copied.
            let ready = prepared
            var i = 0
            while i < plan.kernels.count {
                if let chain = plan.kernels[i].lagChain, i + chain.count <= plan.kernels.count {
                    let members = (i..<(i + chain.count)).compactMap { j -> (PlannedKernel, any PreparedKernel, PlacementDecision)? in
                        if case .host(let c) = ready[j].0 { return (plan.kernels[j], c, ready[j].1) }
                        return nil
                    }
                    if members.count == chain.count, lagsOnHost(members.map { ($0.0, $0.2) }) {
                        submitLagged(members, chain: chain)
                        lagged += 1
                        i += chain.count
                        continue
                    }
                }
                submit(plan.kernels[i], ready[i].0, decision: ready[i].1)
                i += 1
            }
            for i in plan.kernels.indices {
                points += plan.kernels[i].points
                fused += plan.kernels[i].fusedOps.count
                bytes += plan.kernels[i].bytesAccessed
            }
            for node in plan.unstored { node.computedWithoutStore = true }
            for (node, buffer) in plan.realized { node.realize(buffer) }
            for (node, base, map) in plan.realizedViews { node.realize(viewOf: base, map: map) }
            statistics.update { s in
                s.plans += 1
                if hit {
                    s.planCacheHits += 1
                    s.planHitNanos += planNanos
                    s.planHitKernels += plan.kernels.count
                } else if planCache != nil {
                    s.planCacheMisses += 1
                }
                s.planNanos += planNanos
                s.planNodes += plan.nodeCount
                s.keptNodes += plan.keptNodes
                s.kernelsRun += plan.kernels.count
                s.opsFused += fused
                s.elements += points
                s.bytesMoved += bytes
                s.inPlaceUpdates += plan.inPlaceUpdates
                s.copiedUpdates += plan.copiedUpdates
                s.freshUpdates += plan.freshUpdates
                s.laggedPasses += lagged
                s.sequenceStages += plan.sequencedKernels
                if forced { s.forcedPlacements += plan.kernels.count }
            }
        }
    }

    /// DOT of the pending graph behind `nodes` and the plan a sync would run (nothing runs).
    public func graphviz(_ nodes: [Node]) -> String {
        graphLock.withLock { _ in
            let roots = nodes.filter { $0.storage == nil }
            return GraphDOT.render(roots: nodes, plan: roots.isEmpty ? nil : Planner().plan(roots: roots))
        }
    }

    let graphDirectory = ProcessInfoLite.environment("TANDEM_GRAPH")
    /// Whether a failed graph write was said (once a process).
    let graphFailureSaid = Atomic<Bool>(false)
    let graphCount = Atomic<Int>(0)
    /// Compiled code that `auto` chose and could not have, in the foreground or the background.
    let compileFallback: Fallback
    /// `auto` without a C compiler: the interpreter runs every kernel (each sync counted).
    let noCompilerFallback: Fallback
    /// Set when `auto` met an accelerator whose code could not be had: it is offered no more.
    let acceleratorDropped = Atomic<Bool>(false)

    /// No more kernels on the accelerator under `auto` in this process: said once, counted as a
    /// fallback and traced. Forced placements still reach it (and report its errors).
    func dropAccelerator(_ p: Placement, reason: String) {
        guard acceleratorDropped.exchange(true, ordering: .relaxed) == false else { return }
        autoOptions.withLock { $0 = nil }
        statistics.update { $0.fallbacks += 1 }
        Tracer.shared.record(TraceEvent(kind: .fallback, name: "\(p) dropped", start: ProcessInfoLite.monotonicNanos(), detail: reason))
        ProcessInfoLite.warn("tandem: \(p) is dropped for this process (\(reason.split(separator: "\n").first ?? "")); its kernels run on the CPU")
    }

    /// The plan a sync of `nodes` would run, without running it (for printing kernel IR).
    public func preview(_ nodes: [Node]) -> Plan {
        graphLock.withLock { _ in Planner().plan(roots: nodes.filter { $0.storage == nil }) }
    }

    /// Whether a kernel has been queued on the GPU in this process (graph lock): until then no
    /// buffer can be on it, and host kernels skip the per-buffer checks for copies (a CUDA
    /// device is registered on every machine, usable or not).
    @exclusivity(unchecked) var queuedDeviceUsed = false

    /// Launches seen per kernel and ints, for kernels `Specialization` applies to (graph lock).
    @exclusivity(unchecked) var launchCounts: [SpecializationKey: Int] = [:]

    struct SpecializationKey: Hashable {
        var kernel: Kernel
        var ints: [Int64]
    }

}
