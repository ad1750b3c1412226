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
    /// The share of its rows the host wrote last, when a split kernel wrote it (the rest on the
    /// device); nil otherwise (then `planned` says where it is). A split reading it at another
    /// share moves the rows between the cuts (`Runtime.splitCut` prices that).
    @exclusivity(unchecked) var hostShare: Double?
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
    /// A kernel cut in two (`DeviceChoice.split`): the host's code, the device's, and where.
    case split(any PreparedKernel, any QueuedKernel, SplitCut)
}

/// The process-wide runtime: plans pending graphs at sync points, compiles kernels through the
/// chosen device, and queues them on the executor in dependency order.
///
/// One lock (the graph lock) covers planning, node realisation and task registration; building
/// tensors takes no lock, and kernels run outside it.
public final class Runtime: @unchecked Sendable {
    /// The device chosen for the current task (`Tandem.withDevice`, through `withScopedDevice`),
    /// overriding `TANDEM_DEVICE`.
    public static let scopedDevice = ScopedValue<DeviceChoice>()
    /// The host's share of each split kernel's rows (`Tandem.withSplit(hostShare:)`), or nil for
    /// the model's.
    @TaskLocal public static var scopedSplitShare: Double?

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
    public var deviceChoice: DeviceChoice { Runtime.scopedDevice.value ?? defaultChoice }

    /// Runs `body` with `device` as this task's `deviceChoice` (`Tandem.withDevice`).
    public static func withScopedDevice<R>(_ device: DeviceChoice, _ body: () throws -> R) rethrows -> R {
        try scopedDevice.withValue(device, body)
    }

    /// Async variant of `withScopedDevice(_:_:)`.
    public static func withScopedDevice<R>(_ device: DeviceChoice, _ body: () async throws -> R) async rethrows -> R {
        try await scopedDevice.withValue(device, body)
    }
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
        self.splitFallback = Fallback(statistics: statistics, name: "not split") {
            "tandem: split: a kernel that cannot be cut runs whole on cpu (\($0)); said once, each counted (statistics' unsplit kernels)"
        }
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
    /// Kernels' measured factors across processes (`KernelFactorStore`): read at a kernel's
    /// first decision in this process, written at exit with the history.
    public var kernelFactorStore: KernelFactorStore?
    /// Chooses among kernels' code variants by measuring them (`Tuner`, `TANDEM_TUNE`); `Tandem`
    /// gives it the cache folder's database, saved at exit with the history.
    public var tuner = Tuner.fromEnvironment(database: nil)

    /// Tunes from here with `tuner`, forgetting the plans made so far: a plan's kernels keep the
    /// code their tuner settled on, which the new tuner would otherwise never see again (`tandem
    /// tune-eval`'s phases: the rules, then tuned, then exhaustive). Call it with no work pending.
    ///
    ///     Tandem.runtime.replaceTuner(Tuner(mode: .off, database: nil))
    public func replaceTuner(_ tuner: Tuner) {
        graphLock.withLock { _ in
            self.tuner = tuner
            planCache?.removeAll()
        }
    }

    /// The compile rate measured by earlier processes (`compile-rate` beside the kernel history,
    /// seconds per instruction), read once. A second run of a program otherwise priced its
    /// compiles with the profile's prior until one of its own compiles finished (mandelbrot's
    /// 500-instruction kernels at 3.8 s each, 0.8 s on this machine), and kept them interpreted.
    let storedCompileRate = Mutex<Double??>(nil)

    /// Compiles kernels that run in the interpreter but would run faster compiled.
    let background: BackgroundCompiler

    /// Measured time of each kernel's interpreted runs in this process (`record`).
    let interpretedNanos = Mutex<[Kernel: UInt64]>([:])

    /// Whether operations turn eager (`Runtime+Eager.swift`).
    let eagerState = EagerState()
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

    // MARK: - Sync

    /// Plans and queues everything `nodes` need, plus pending updates held by live tensors.
    /// Returns once the work is queued; nothing is lost if compilation throws. A sync is four
    /// parts: `planned` (the plan, cached by graph), `place` (each kernel's device and code;
    /// Runtime+Placement), `submit` (tasks, lagged passes; Runtime+Submit) and `realize`.
    public func materialize(_ nodes: [Node]) throws {
        // The model is made before the lock when it is not yet known (the profile source may
        // calibrate), else when a kernel needs a fresh decision: a sync whose decisions are all
        // reused needs none.
        // (`if case`: comparing the optional with nil copied the whole model.)
        let known = modelState.withLock { state -> Bool in if case .some = state { return true } else { return false } }
        var model: CostModel? = known ? nil : compileCorrected(costModel)
        try graphLock.withLock { _ in
            // A small constant asked for (an eager operation's scalar result read by `item()`,
            // `Tensor.zeros([n])` before its first element write) is filled here, not planned:
            // a plan of a fill kernel cost a sync, and its plan-cache hit turned eager off.
            for n in nodes { Runtime.storeSmallConstant(n) }
            let roots = nodes.filter { $0.storage == nil } + takePendingUpdates()
            if roots.isEmpty { return }
            let (options, forced) = try self.options()
            let (plan, hit, planNanos) = planned(roots, options: options)
            let ready: [(ReadyCode, PlacementDecision)]
            do {
                ready = try place(plan, options: options, forced: forced, model: &model)
            } catch {
                // Give the pending updates back: the graph is untouched.
                pendingUpdates.withLock { list in
                    list.append(contentsOf: roots.filter { if case .update = $0.op { return true }; return false }.map { PendingUpdate(node: $0) })
                }
                throw error
            }
            let lagged = submit(plan, ready)
            realize(plan, hit: hit, planNanos: planNanos, lagged: lagged, forced: forced)
        }
    }

    /// The plan for `roots` (the plan cache's, or a fresh one), whether the cache had it, and
    /// the time planning took; drawn to `TANDEM_GRAPH` and traced (graph lock).
    func planned(_ roots: [Node], options: [Placement]) -> (plan: Plan, hit: Bool, nanos: UInt64) {
        let planStart = Executor.now()
        // Small kernels run as stages of sequence kernels when every option is on the host (a
        // split, which cuts kernels one by one, keeps them apart).
        let sequences = formsSequences && !options.contains(where: \.isAccelerator) && deviceChoice != .split
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
        return (plan, hit, planNanos)
    }

    /// After `plan` is queued: its nodes take their results (the graph behind them is let go)
    /// and the sync is counted (graph lock).
    func realize(_ plan: Plan, hit: Bool, planNanos: UInt64, lagged: Int, forced: Bool) {
        var bytes = 0, points = 0, fused = 0
        for i in plan.kernels.indices {
            points += plan.kernels[i].points
            fused += plan.kernels[i].fusedOps.count
            bytes += plan.kernels[i].bytesAccessed
        }
        noteEagerPlan(hit: hit, kernels: plan.kernels.count)
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
            s.fusedEpilogues += plan.fusedEpilogues
            if forced { s.forcedPlacements += plan.kernels.count }
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
    /// A kernel `DeviceChoice.split` does not cut: it runs whole on the CPU.
    let splitFallback: Fallback
    /// The split kernels run so far (`splitRecords`).
    let splitLog = Mutex<[SplitEntry]>([])
    /// Each split kernel's parts, measured against their predictions, and its last share
    /// (bounded like `splitLog`).
    let splitMemory = Mutex<[Kernel: SplitMemory]>([:])
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
