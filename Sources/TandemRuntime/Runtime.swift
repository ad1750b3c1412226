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
    var lastWriter: KernelTask?
    var readers: [KernelTask] = []
    /// Where the values will be once everything queued so far has run (for the cost model;
    /// the device's own residency is the truth when work runs).
    var planned: Validity = .host
    /// Whether a GPU kernel has used the buffer: host access must then go through the device.
    var deviceSeen = false
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
    private let graphLock = Mutex(())
    private let devices: [String: any KernelDevice]
    /// The GPU, when one is registered (it may still be unavailable on this machine).
    private let cuda: (any QueuedKernelDevice)?
    /// The first error a queued device reported from a worker; thrown at the next sync.
    private let asyncError = Mutex<(any Error)?>(nil)
    private let defaultChoice: DeviceChoice
    private let pendingUpdates = Mutex<[WeakNode]>([])
    private let warnedFallback = Atomic<Bool>(false)
    /// Measured kernel time and count per kernel label (fused ops), for `TANDEM_PROFILE`.
    public let kernelProfile = Mutex<[String: (count: Int, nanos: UInt64)]>([:])

    /// Pending updates that trigger a flush (memory pressure of the lazy graph).
    public static let maxPendingUpdates = 48

    /// The kernels that took the most time, one line each.
    public func profileSummary(top: Int = 12) -> String {
        let rows = kernelProfile.withLock { $0 }.sorted { $0.value.nanos > $1.value.nanos }.prefix(top)
        return rows.map { "  \(String(format2(Double($0.value.nanos) / 1e9)))s  x\($0.value.count)  \($0.key)" }.joined(separator: "\n")
    }

    /// A pending update and the thread that made it: a sync flushes its own thread's updates.
    /// A class, not a struct: copying a struct with a weak field copies the weak reference (a
    /// side-table operation), and the list is scanned at every slice write.
    final class WeakNode: @unchecked Sendable {
        weak var node: Node?
        let thread: UInt
        init(node: Node, thread: UInt = Runtime.currentThread) {
            self.node = node
            self.thread = thread
        }
    }

    static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self())))) }

    /// A runtime over `devices`. `profile` gives the machine profile the cost model prices
    /// kernels with; it is called once, at the first sync (it may calibrate the machine).
    public init(devices: [any KernelDevice], queued: [any QueuedKernelDevice] = [], statistics: StatisticsBox, workers: Int? = nil,
                profile: @escaping @Sendable () -> MachineProfile) {
        self.cuda = queued.first { $0.name == "cuda" }
        self.statistics = statistics
        var table: [String: any KernelDevice] = [:]
        for d in devices { table[d.name] = d }
        self.devices = table
        let env = ProcessInfoLite.environment("TANDEM_THREADS").flatMap(Int.init)
        self.executor = Executor(workers: workers ?? env ?? ProcessInfoLite.cores)
        let choice = ProcessInfoLite.environment("TANDEM_DEVICE").map { $0.lowercased() }
        self.defaultChoice = choice.flatMap(DeviceChoice.init(rawValue:)) ?? .auto
        if let choice, DeviceChoice(rawValue: choice) == nil {
            ProcessInfoLite.warn("tandem: TANDEM_DEVICE=\(choice) is not one of \(DeviceChoice.allCases.map(\.rawValue).joined(separator: ", ")); using auto")
        }
        self.profileSource = profile
    }

    // MARK: - Placement

    private let profileSource: @Sendable () -> MachineProfile
    private let modelState = Mutex<CostModel?>(nil)
    /// Static features and run counts per kernel structure (graph lock); a kernel's first count
    /// comes from `kernelHistory`, the runs of earlier processes.
    private var history: [Kernel: (features: KernelFeatures, runs: Int, earlier: Int)] = [:]
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
        return kernelHistory.save()
    }
    /// Compiles kernels that run in the interpreter but would run faster compiled.
    let background = BackgroundCompiler()

    /// Waits for the background compiles queued so far (tests and measurements).
    public func drainBackgroundCompiles() { background.drain() }

    /// Plans of graphs seen before, reused with this sync's buffers (graph lock); nil when
    /// `TANDEM_PLAN_CACHE=off` (every sync plans from scratch: for checking the cache).
    private let planCache: PlanCache? = ProcessInfoLite.environment("TANDEM_PLAN_CACHE") == "off" ? nil : PlanCache()

    /// Code-state lookups made and the time they took (graph lock).
    private var lookups: (count: Int, nanos: UInt64) = (0, 0)

    /// When each resource is predicted to be done with what was queued on it (graph lock).
    private var busyUntil: [Placement.Resource: UInt64] = [:]

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

    /// Replaces the machine profile (after `tandem calibrate`, or with a synthetic one in tests).
    public func setProfile(_ profile: MachineProfile) {
        modelState.withLock { $0 = CostModel(profile: profile) }
    }

    /// Replaces the machine profile only if the one in use is still `expected` (a calibration
    /// finished on the side must not undo a profile set meanwhile). Returns whether it did.
    @discardableResult
    public func replaceProfile(_ expected: MachineProfile, with profile: MachineProfile) -> Bool {
        modelState.withLock { state in
            guard state == nil || state?.profile == expected else { return false }
            state = CostModel(profile: profile)
            return true
        }
    }

    /// The device that runs a placement.
    private func device(for p: Placement) -> (any KernelDevice)? {
        switch p {
        case .interpreter: devices["interpreter"]
        case .cpu1, .cpuAll: devices["cpu"]
        case .cuda: devices["cuda"]
        }
    }

    private func isAvailable(_ p: Placement) -> Bool {
        p == .cuda ? cuda?.availability == .available : device(for: p)?.availability == .available
    }

    /// The placements the current choice allows; throws when a forced device is unavailable, and
    /// records a fallback when `auto` has nothing but the interpreter.
    func options() throws -> (options: [Placement], forced: Bool) {
        let choice = Runtime.scopedDevice ?? defaultChoice
        if choice == .cuda {
            guard let cuda else { throw TandemError.deviceUnavailable(device: "cuda", reason: "not registered") }
            if case .unavailable(let reason) = cuda.availability { throw TandemError.deviceUnavailable(device: "cuda", reason: reason) }
            return ([.cuda], true)
        }
        if let forced = choice.forcedPlacement {
            guard let d = device(for: forced) else { throw TandemError.deviceUnavailable(device: forced.rawValue, reason: "not registered") }
            if case .unavailable(let reason) = d.availability { throw TandemError.deviceUnavailable(device: forced.rawValue, reason: reason) }
            return ([forced], true)
        }
        var options: [Placement] = [.interpreter]
        if isAvailable(.cpuAll) {
            options += [.cpu1, .cpuAll]
        } else {
            let reason: String
            if case .unavailable(let r)? = devices["cpu"]?.availability { reason = r } else { reason = "no CPU compiler device" }
            if !warnedFallback.exchange(true, ordering: .relaxed) {
                ProcessInfoLite.warn("tandem: running kernels in the interpreter: \(reason)")
            }
            statistics.update { $0.fallbacks += 1 }
            Tracer.shared.record(TraceEvent(kind: .fallback, name: "fallback to the interpreter", start: ProcessInfoLite.monotonicNanos(), detail: reason))
        }
        if isAvailable(.cuda) { options.append(.cuda) }
        return (options, false)
    }

    /// Compiles `kernels` for the CPU device, as many at once as there are workers, when there
    /// is more than one (a failure is left for the in-order `prepare` to report).
    private func precompile(_ kernels: Set<Kernel>) {
        guard kernels.count > 1, let cpu = devices["cpu"] else { return }
        let list = Array(kernels)
        let width = min(list.count, max(1, executor.workers))
        DispatchQueue.concurrentPerform(iterations: width) { w in
            for i in stride(from: w, to: list.count, by: width) { _ = try? cpu.prepare(list[i]) }
        }
    }

    /// Prices `k` on every option and picks the earliest finish (graph lock held). `compiling`:
    /// kernels of this sync already placed on compiled code, which will be ready when `k` runs.
    func decide(_ k: PlannedKernel, options: [Placement], forced: Bool, model: CostModel,
                compiling: Set<Kernel> = []) -> PlacementDecision {
        let entry = history[k.kernel] ?? { () -> (features: KernelFeatures, runs: Int, earlier: Int) in
            let earlier = kernelHistory?.runs(k.kernel) ?? 0
            return (KernelFeatures(k.kernel), earlier, earlier)
        }()
        let launch = k.launch
        var run = KernelRun(points: k.points,
                            parallelPoints: (0..<k.kernel.parallelAxes).reduce(1) { $0 * launch.extent($1) },
                            firstExtent: k.kernel.rank > 0 ? launch.extent(0) : 1,
                            splitChunks: k.splitChunks, bytes: k.bytesAccessed, previousRuns: entry.runs)
        run.innerExtent = k.kernel.rank > 0 ? launch.extent(k.kernel.rank - 1) : 1
        if cuda != nil {
            // Operands on the wrong side for an option cost a copy there first.
            var seen: Set<ObjectIdentifier> = []
            for b in k.readBuffers where seen.insert(ObjectIdentifier(b)).inserted {
                let where_ = schedule(of: b).planned
                if !where_.contains(.device) { run.hostOnlyBytes += b.byteCount }
                if where_ == .device { run.deviceOnlyBytes += b.byteCount }
            }
        }
        var pending: [Int: Int] = [:]      // sizes this kernel will allocate, to match the pool's blocks
        for i in k.kernel.buffers.indices where k.kernel.buffers[i].isWritten {
            let b = launch.buffers[i]
            guard !b.isAllocated else { continue }
            pending[b.byteCount, default: 0] += 1
            // Only the pages this kernel writes are touched (a border copy writes a few).
            let written = min(b.byteCount, k.points * b.dtype.byteSize)
            if pending[b.byteCount]! > 1 || !BufferPool.shared.recycles(byteCount: b.byteCount) { run.freshBytes += written }
        }
        // Where the code is (loaded, on disk, missing) only matters when compiled code could win
        // at all: looking it up renders and hashes the kernel, so ask only then.
        var code: [Placement: CodeState] = [:]
        for p in options where p != .interpreter { code[p] = .ready }
        run.code = code
        var predictions = model.predictAll(entry.features, run, options: options)
        var allPredictions: [Prediction]? = nil     // every option's, when some cannot be chosen now
        let interpreterTime = predictions.first { $0.placement == .interpreter }?.total
        // Worth a look only if ready code would beat the interpreter by more than looking costs
        // (a kernel's first lookup renders and hashes it; the average is measured here).
        let lookupCost = lookups.count == 0 ? 0 : Double(lookups.nanos) / Double(lookups.count) / 1e9
        let bestReady = predictions.filter { $0.placement != .interpreter }.map(\.total).min() ?? .infinity
        // Loaded code is known at once (no rendering): the usual case for a kernel seen before,
        // and then the predictions made with ready code stand.
        let loaded = options.contains(.cpuAll) && !options.contains(.cuda)
            && (compiling.contains(k.kernel) || device(for: .cpuAll)?.readyCode(k.kernel) != nil)
        var lookedUp = false
        if loaded || options.count == 1 {
        } else if interpreterTime == nil || bestReady + lookupCost / Double(entry.runs + 1) < interpreterTime! {
            // A lookup is made once per kernel and process (its answer is kept), so it is
            // amortised like a compile, over as many runs ahead as behind: a kernel too cheap
            // to look up at its first run (a border copy) is looked up once it keeps coming
            // back, and its code found on disk.
            let t0 = ProcessInfoLite.monotonicNanos()
            for p in options where p != .interpreter {
                code[p] = p == .cuda ? (cuda?.codeState(k.kernel) ?? .missing) : (device(for: p)?.codeState(k.kernel) ?? .missing)
            }
            lookups.count += 1
            lookedUp = true
            lookups.nanos += ProcessInfoLite.monotonicNanos() - t0
            run.code = code
            predictions = model.predictAll(entry.features, run, options: options)
            // While a background compile of this kernel runs, do not compile it here too.
            if !forced, interpreterTime != nil, background.isPending(k.kernel) {
                allPredictions = predictions
                predictions = predictions.filter { $0.placement == .interpreter || $0.placement == .cuda }
            }
        } else if interpreterTime != nil {
            // Not looked up: code not known to be ready could only cost more; the interpreter it is.
            allPredictions = predictions
            predictions = predictions.filter { $0.placement == .interpreter }
        }
        let now = ProcessInfoLite.monotonicNanos()
        var busy: [Placement.Resource: Double] = [:]
        for (r, t) in busyUntil where t > now { busy[r] = Double(t - now) / 1e9 }
        let chosen = model.choose(predictions, busy: busy)
        let start = max(now, busyUntil[chosen.placement.resource] ?? 0)
        busyUntil[chosen.placement.resource] = start + UInt64(min(chosen.total, 1e6) * 1e9)
        history[k.kernel] = (entry.features, entry.runs + 1, entry.earlier)
        // Tiering: the interpreter won only because the code is not compiled yet (or, not looked
        // up, not known to be loaded), and compiled code would pay back: compile it on the side,
        // so a later run finds it ready, without making this one wait. A kernel never looked up
        // used to stay in the interpreter for good (shallow_water's wall copies, every step).
        let knownReady = loaded || (lookedUp && code[.cpuAll] == .ready)
        if !forced, chosen.placement == .interpreter, !knownReady, options.contains(.cpuAll), let cpu = device(for: .cpuAll) {
            var ready = run
            ready.code = [.cpu1: .ready, .cpuAll: .ready]
            let compiledTime = min(model.predict(entry.features, ready, on: .cpuAll).total, model.predict(entry.features, ready, on: .cpu1).total)
            // Expect as many runs ahead as behind (the doubling rule), and weigh the compile by
            // the share of the machine it takes from the interpreter: one core of `workers`,
            // of which the interpreter (which scales poorly) would have used only so much.
            let cpuProfile = model.profile.cpu
            let workers = Double(model.workers)
            let lost = max(0.05, (min(cpuProfile.interpreterSpeedup, workers) - 1) / max(workers - 1, 1))
            let saving = Double(entry.runs + 1) * (chosen.total - compiledTime)
            if saving >= cpuProfile.compileSeconds * lost { background.request(k.kernel, on: cpu) }
        }
        return PlacementDecision(chosen: chosen, options: allPredictions ?? predictions, forced: forced)
    }

    /// A kernel of a reused plan takes the decision made for it at an earlier sync while that
    /// stays sound: the same options, compiled code still loaded, and not too many reuses since
    /// the last full decision (interpreted kernels are revisited sooner: their history may make
    /// compiling pay). Deciding costs microseconds a kernel, as much as running a small one.
    static let decisionReuses = (compiled: 64, interpreted: 8)

    private final class DecisionMemo {
        let decision: PlacementDecision
        let options: [Placement]
        var uses = 0
        init(_ decision: PlacementDecision, options: [Placement]) {
            self.decision = decision
            self.options = options
        }
    }

    /// The earlier decision for `k`, or nil when it must be decided again (then it records the
    /// new one when `k` has a memo) (graph lock).
    private func reusedDecision(_ k: PlannedKernel, options: [Placement], forced: Bool) -> PlacementDecision? {
        guard let memo = k.memo else { return nil }
        if let m = memo.state.map({ unsafeDowncast($0, to: DecisionMemo.self) }), m.options == options, m.decision.forced == forced {
            let p = m.decision.chosen.placement
            m.uses += 1
            let limit = p == .interpreter ? Runtime.decisionReuses.interpreted : Runtime.decisionReuses.compiled
            let ready = p == .interpreter || ((p == .cpu1 || p == .cpuAll) && device(for: p)?.readyCode(k.kernel) != nil)
            if m.uses < limit, ready, var entry = history[k.kernel] {
                entry.runs += 1
                history[k.kernel] = entry
                let now = ProcessInfoLite.monotonicNanos()
                let start = max(now, busyUntil[p.resource] ?? 0)
                busyUntil[p.resource] = start + UInt64(min(m.decision.chosen.total, 1e6) * 1e9)
                return m.decision
            }
        }
        memo.state = nil
        return nil
    }

    /// Remembers a fresh decision for the next reuse of `k`'s plan (graph lock).
    private func remember(_ decision: PlacementDecision, for k: PlannedKernel, options: [Placement]) {
        guard let memo = k.memo, memo.state == nil else { return }
        memo.state = DecisionMemo(decision, options: options)
    }

    public func availability(of name: String) -> Availability {
        devices[name]?.availability ?? .unavailable(reason: "not registered")
    }

    // MARK: - Pending updates

    /// Remembers an update node so the next sync flushes it with everything else.
    public func registerUpdate(_ node: Node) {
        pendingUpdates.withLock { list in
            // Loading a weak reference costs more than the rest of an update: dead entries are
            // swept only once the list is well past the flush threshold.
            if list.count >= 4 * Runtime.maxPendingUpdates { list.removeAll { $0.node == nil } }
            list.append(WeakNode(node: node))
        }
    }

    /// Flushes when too many updates are pending (the lazy graph's memory pressure). Called
    /// before an update is built, not after: while the assignment runs, its right-hand side is
    /// still held, and a flush then would see every base it views as still readable and copy
    /// the whole base instead of writing in place (shallow_water's walls did, every 48 updates).
    public func relieveGraphPressure() throws {
        let me = Runtime.currentThread
        let count = pendingUpdates.withLock { list -> Int in
            // Counted without loading the weak references; only a count at the threshold is
            // checked for dead entries (an update already dropped needs no flush).
            var mine = 0
            for entry in list where entry.thread == me { mine += 1 }
            guard mine >= Runtime.maxPendingUpdates else { return mine }
            list.removeAll { $0.node == nil }
            return list.filter { $0.thread == me }.count
        }
        if count >= Runtime.maxPendingUpdates { try materialize([]) }
    }

    /// The calling thread's pending updates that live tensors still hold (the others are dropped
    /// from the list; other threads' updates wait for their own sync points).
    private func takePendingUpdates() -> [Node] {
        let me = Runtime.currentThread
        return pendingUpdates.withLock { list in
            let mine = list.filter { $0.thread == me }.compactMap(\.node).filter {
                if case .update = $0.op { return $0.holders.load(ordering: .relaxed) > 0 }
                return false
            }
            list.removeAll { $0.thread == me || $0.node == nil }
            return mine
        }
    }

    // MARK: - Sync

    /// Plans and queues everything `nodes` need, plus pending updates held by live tensors.
    /// Returns once the work is queued; nothing is lost if compilation throws.
    public func materialize(_ nodes: [Node]) throws {
        let model = costModel
        try graphLock.withLock { _ in
            let roots = nodes.filter { $0.storage == nil } + takePendingUpdates()
            if roots.isEmpty { return }
            let (options, forced) = try self.options()
            let planStart = Executor.now()
            let (plan, hit) = planCache.map { $0.plan(roots: roots) } ?? (Planner().plan(roots: roots), false)
            if let dir = graphDirectory {
                // One file per sync: the graph as planned, before the nodes are realised.
                let n = graphCount.add(1, ordering: .relaxed).newValue
                let name = "\(dir)/sync-\(String(repeating: "0", count: max(0, 5 - String(n).count)))\(n).dot"
                mkdir(dir, 0o755)
                ProcessInfoLite.write(Array(GraphDOT.render(roots: roots, plan: plan).utf8), to: name)
            }
            let planNanos = Executor.now() - planStart
            Tracer.shared.record(TraceEvent(kind: .plan, name: "plan \(plan.kernels.count) kernels", start: planStart, duration: planNanos,
                                            detail: plan.kernels.map(\.label).joined(separator: "; ")))
            var prepared: [(ReadyCode, PlacementDecision)] = []
            do {
                // Every kernel is placed first; the compiled code the host placements still lack
                // is then compiled in parallel, one compiler run per core (a first run's time is
                // its compiles), and the code is prepared in order.
                var decisions: [PlacementDecision] = []
                var compiling: Set<Kernel> = []
                for k in plan.kernels {
                    let decision: PlacementDecision
                    if let reused = reusedDecision(k, options: options, forced: forced) {
                        decision = reused
                    } else {
                        decision = decide(k, options: options, forced: forced, model: model, compiling: compiling)
                        remember(decision, for: k, options: options)
                    }
                    decisions.append(decision)
                    let p = decision.chosen.placement
                    if p == .cpu1 || p == .cpuAll, device(for: p)?.readyCode(k.kernel) == nil { compiling.insert(k.kernel) }
                }
                precompile(compiling)
                for (k, decision) in zip(plan.kernels, decisions) {
                    let p = decision.chosen.placement
                    // Code compiled just above is taken as it is (not counted as a cache hit).
                    let fresh = compiling.contains(k.kernel) ? device(for: p)?.readyCode(k.kernel) : nil
                    let code: ReadyCode = p == .cuda
                        ? .queued(try cuda!.prepareQueued(k.kernel))
                        : .host(try specializedCode(k, on: p) ?? fresh ?? device(for: p)!.prepare(k.kernel))
                    prepared.append((code, decision))
                }
            } catch {
                // Give the pending updates back: the graph is untouched.
                pendingUpdates.withLock { list in
                    list.append(contentsOf: roots.filter { if case .update = $0.op { return true }; return false }.map { WeakNode(node: $0) })
                }
                throw error
            }
            var bytes = 0, points = 0, fused = 0, lagged = 0
            var i = 0
            while i < plan.kernels.count {
                if let chain = plan.kernels[i].lagChain, i + chain.count <= plan.kernels.count {
                    let members = (i..<(i + chain.count)).compactMap { j -> (PlannedKernel, any PreparedKernel, PlacementDecision)? in
                        if case .host(let c) = prepared[j].0 { return (plan.kernels[j], c, prepared[j].1) }
                        return nil
                    }
                    if members.count == chain.count, lagsOnHost(members.map { ($0.0, $0.2) }) {
                        submitLagged(members, chain: chain)
                        lagged += 1
                        i += chain.count
                        continue
                    }
                }
                submit(plan.kernels[i], prepared[i].0, decision: prepared[i].1)
                i += 1
            }
            for k in plan.kernels {
                points += k.points
                fused += k.fusedOps.count
                bytes += k.bytesAccessed
            }
            for node in plan.unstored { node.computedWithoutStore = true }
            for (node, buffer) in plan.realized { node.realize(buffer) }
            for (node, base, map) in plan.realizedViews { node.realize(viewOf: base, map: map) }
            statistics.update { s in
                s.plans += 1
                if planCache != nil { if hit { s.planCacheHits += 1 } else { s.planCacheMisses += 1 } }
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
                if forced { s.forcedPlacements += plan.kernels.count }
            }
        }
    }

    /// Materialises `node` and blocks until its buffer holds its values. `call` names the reading
    /// API and its source line (for traces).
    public func read(_ node: Node, call: @autoclosure () -> String = "read") throws -> Buffer {
        statistics.update { $0.syncs += 1 }
        let start = ProcessInfoLite.monotonicNanos()
        defer {
            Tracer.shared.record(TraceEvent(kind: .sync, name: call(), start: start, duration: ProcessInfoLite.monotonicNanos() - start,
                                            bytes: node.count * node.dtype.byteSize))
        }
        try materialize([node])
        let (buffer, writer, onDevice) = graphLock.withLock { _ -> (Buffer, KernelTask?, Bool) in
            let b = node.storage!
            let s = b.schedule as? BufferSchedule
            if s?.deviceSeen == true { s?.planned.insert(.host) }
            return (b, s?.lastWriter, s?.deviceSeen ?? false)
        }
        if let writer { executor.wait(writer) }
        try throwAsyncError()
        if onDevice, let cuda { try cuda.makeHostValid(buffer) }
        return buffer
    }

    /// DOT of the pending graph behind `nodes` and the plan a sync would run (nothing runs).
    public func graphviz(_ nodes: [Node]) -> String {
        graphLock.withLock { _ in
            let roots = nodes.filter { $0.storage == nil }
            return GraphDOT.render(roots: nodes, plan: roots.isEmpty ? nil : Planner().plan(roots: roots))
        }
    }

    private let graphDirectory = ProcessInfoLite.environment("TANDEM_GRAPH")
    private let graphCount = Atomic<Int>(0)

    /// The plan a sync of `nodes` would run, without running it (for printing kernel IR).
    public func preview(_ nodes: [Node]) -> Plan {
        graphLock.withLock { _ in Planner().plan(roots: nodes.filter { $0.storage == nil }) }
    }

    /// Blocks until every queued kernel that writes one of `buffers` is done and their host
    /// memory holds the values (copied back from the GPU if it has the only copy).
    public func wait(for buffers: [Buffer]) throws {
        let writers = graphLock.withLock { _ in buffers.compactMap { ($0.schedule as? BufferSchedule)?.lastWriter } }
        for w in writers { executor.wait(w) }
        try throwAsyncError()
        if let cuda {
            for b in buffers where (b.schedule as? BufferSchedule)?.deviceSeen == true { try cuda.makeHostValid(b) }
        }
    }

    /// Throws (once) the first error a queued device reported from a worker thread.
    private func throwAsyncError() throws {
        if let e = asyncError.withLock({ e -> (any Error)? in defer { e = nil }; return e }) { throw e }
    }

    /// Buffers `k` writes completely (every element), by id: their old values need not move.
    private func fullyWritten(_ k: PlannedKernel) -> Set<UInt64> {
        var out: Set<UInt64> = []
        for st in k.kernel.stores {
            let a = k.kernel.accesses[st.access]
            var elements = 1
            for (axis, stride) in a.strides.enumerated() where stride != .zero && (!st.epilogue || axis < k.kernel.parallelAxes) {
                elements *= k.launch.extent(axis)
            }
            let b = k.launch.buffers[st.buffer]
            if elements >= b.count { out.insert(b.id) }
        }
        return out
    }

    private func schedule(of b: Buffer) -> BufferSchedule {
        if let s = b.schedule as? BufferSchedule { return s }
        let s = BufferSchedule()
        b.schedule = s
        return s
    }

    /// The tasks a task reading `reads` and writing `writes` must wait for (graph lock).
    private func dependencies(reads: [Buffer], writes: [Buffer]) -> [KernelTask] {
        var deps: [KernelTask] = []
        for b in reads { if let w = schedule(of: b).lastWriter { deps.append(w) } }
        for b in writes {
            let s = schedule(of: b)
            if let w = s.lastWriter { deps.append(w) }
            deps.append(contentsOf: s.readers.filter { !executor.isDone($0) })
        }
        return deps
    }

    /// Makes `task` the last writer of `writes` and a reader of the rest of `reads` (graph lock).
    private func register(_ task: KernelTask, reads: [Buffer], writes: [Buffer]) {
        for b in reads where !writes.contains(where: { $0 === b }) {
            let s = schedule(of: b)
            s.readers.removeAll { executor.isDone($0) }
            s.readers.append(task)
        }
        for b in writes {
            let s = schedule(of: b)
            s.lastWriter = task
            s.readers = []
        }
    }

    /// Allocates the buffers among `writes` that have no memory yet (when their writer starts).
    private static func allocate(_ writes: [Buffer]) {
        for b in writes where !b.isAllocated {
            b.allocate()
            Tracer.shared.record(TraceEvent(kind: .allocation, name: "allocate", start: ProcessInfoLite.monotonicNanos(), bytes: b.byteCount))
        }
    }

    /// Runs one chunk, recording it as a kernel event on its worker's track when tracing.
    private static func traced(_ label: String, points: Int, device: @escaping @Sendable () -> String, _ lo: Int, _ hi: Int,
                               _ body: @escaping @Sendable () -> Void) -> @Sendable (Int) -> Void {
        { worker in
            guard Tracer.shared.isEnabled else { body(); return }
            let t0 = ProcessInfoLite.monotonicNanos()
            body()
            let t1 = ProcessInfoLite.monotonicNanos()
            Tracer.shared.record(TraceEvent(kind: .kernel, name: label, start: t0, duration: t1 - t0, track: worker,
                                            points: points, device: device(), detail: "\(lo)..<\(hi)"))
        }
    }

    private func profile(_ label: String, _ nanos: UInt64) {
        kernelProfile.withLock { p in
            let old = p[label] ?? (0, 0)
            p[label] = (old.count + 1, old.nanos + nanos)
        }
    }

    private func submit(_ k: PlannedKernel, _ ready: ReadyCode, decision: PlacementDecision) {
        let reads = k.readBuffers, writes = k.writtenBuffers
        var deps = dependencies(reads: reads, writes: writes)
        let launch = k.launch
        let prepared: any PreparedKernel
        switch ready {
        case .queued(let q):
            submitQueued(k, q, deps: deps, decision: decision)
            return
        case .host(let c):
            prepared = c
        }
        // Late binding: an interpreted kernel whose compiled code is being built on the side
        // switches to it if it is ready when the task starts (same chunks, same results).
        let choice = TaskCode(code: prepared, placement: decision.chosen.placement)
        let tiered = decision.chosen.placement == .interpreter && background.isPending(k.kernel)
        let cpuDevice = device(for: .cpuAll), kernel = k.kernel
        if let cuda {
            // Host code after GPU work: bring device-only inputs back, and tell the device its
            // copies of what this kernel writes go stale (in a task of their own, after the GPU
            // kernels they depend on were queued).
            let toHost = reads.filter { schedule(of: $0).deviceSeen }
            let stale = writes.filter { schedule(of: $0).deviceSeen }
            if !toHost.isEmpty || !stale.isEmpty {
                let full = fullyWritten(k)
                let sync = executor.submit(label: "to host", dependencies: deps, chunks: [{ [self] _ in
                    do {
                        for b in toHost { try cuda.makeHostValid(b) }
                        for b in stale { try cuda.hostWillWrite(b, overwrites: full.contains(b.id)) }
                    } catch {
                        asyncError.withLock { $0 = $0 ?? error }
                    }
                }])
                deps = [sync]
            }
            for b in reads { schedule(of: b).planned.insert(.host) }
            for b in writes { schedule(of: b).planned = .host }
        }
        var chunks: [@Sendable (Int) -> Void] = []
        let label = k.label, points = k.points
        let oneThread = decision.chosen.placement == .cpu1
        @Sendable func traced(_ lo: Int, _ hi: Int, _ body: @escaping @Sendable () -> Void) -> @Sendable (Int) -> Void {
            Runtime.traced(label, points: points, device: { choice.placement.rawValue }, lo, hi, body)
        }
        var finish: (@Sendable () -> Void)? = nil
        let chunkCount = CostModel.cpuChunks(points: k.points, firstExtent: k.kernel.rank > 0 ? launch.extent(0) : 1,
                                             parallelAxes: k.kernel.parallelAxes, splitChunks: k.splitChunks, workers: executor.workers)
        if k.splitChunks > 0 {
            // The partial count is fixed by the sizes (determinism); one thread runs them in turn.
            let n = k.splitChunks
            let r0 = launch.extent(k.kernel.parallelAxes)
            let p = (0..<k.kernel.parallelAxes).reduce(1) { $0 * launch.extent($1) }
            let stride = p * k.kernel.reductions.count * 16
            let partials = Partials(byteCount: n * stride)
            let piece: @Sendable (Int) -> Void = { c in
                choice.code.runSplit(launch, lo: r0 * c / n, hi: r0 * (c + 1) / n, partials: partials.pointer + c * stride)
            }
            if oneThread {
                chunks.append(traced(0, r0) { for c in 0..<n { piece(c) } })
            } else {
                for c in 0..<n { chunks.append(traced(r0 * c / n, r0 * (c + 1) / n) { piece(c) }) }
            }
            finish = { choice.code.combine(launch, partials: UnsafeRawPointer(partials.pointer), count: n) }
        } else if k.kernel.parallelAxes == 0 {
            chunks.append(traced(0, 1) { choice.code.run(launch, lo: 0, hi: 1) })
        } else {
            let n0 = launch.extent(0)
            let target = oneThread ? 1 : chunkCount
            for c in 0..<target {
                let lo = n0 * c / target, hi = n0 * (c + 1) / target
                if lo < hi { chunks.append(traced(lo, hi) { choice.code.run(launch, lo: lo, hi: hi) }) }
            }
            if chunks.isEmpty { chunks.append(traced(0, n0) { choice.code.run(launch, lo: 0, hi: n0) }) }
        }
        let onDone: @Sendable (KernelTask) -> Void = { [self] t in
            profile(label, t.elapsedNanos)
            var d = decision
            if choice.placement != d.chosen.placement, let p = d.options.first(where: { $0.placement == choice.placement }) {
                d.chosen = p
                d.switched = true
            }
            record(d, label: label, points: points, started: t.startedNanos, measured: t.elapsedNanos)
        }
        let onReady: @Sendable () -> Void = {
            if tiered, let c = cpuDevice?.readyCode(kernel) {
                choice.code = c
                choice.placement = .cpuAll
            }
            Runtime.allocate(writes)
        }
        // A kernel shorter than a worker's wake-up runs here, when what it waits for is done.
        let task = (decision.chosen.inline && chunks.count == 1
                    ? executor.runInline(label: label, dependencies: deps, chunks: chunks, finish: finish, onDone: onDone, onReady: onReady)
                    : nil)
            ?? executor.submit(label: label, dependencies: deps, chunks: chunks, finish: finish, onDone: onDone, onReady: onReady)
        register(task, reads: reads, writes: writes)
    }

    /// Launches seen per kernel and ints, for kernels `Specialization` applies to (graph lock).
    private var launchCounts: [SpecializationKey: Int] = [:]

    struct SpecializationKey: Hashable {
        var kernel: Kernel
        var ints: [Int64]
    }

    /// The code of `k` compiled for its launch's ints, when `Specialization` applies, the launch
    /// has come back often enough and the code is ready; otherwise nil (and, once the launch has
    /// come back often enough, its compile is queued on the side) (graph lock).
    private func specializedCode(_ k: PlannedKernel, on p: Placement) -> (any PreparedKernel)? {
        guard p == .cpuAll || p == .cpu1, Specialization.applies(to: k.kernel), let cpu = device(for: p) else { return nil }
        let key = SpecializationKey(kernel: k.kernel, ints: k.launch.ints)
        // A program whose launches never repeat would grow this without bound.
        if launchCounts.count > 4096 && launchCounts[key] == nil { launchCounts.removeAll() }
        let runs = launchCounts[key, default: 0] + 1
        launchCounts[key] = runs
        guard runs >= Specialization.minimumRuns else { return nil }
        let special = Specialization.specialized(k.kernel, ints: k.launch.ints)
        if let code = cpu.readyCode(special) {
            statistics.update { $0.specializedRuns += 1 }
            return code
        }
        background.request(special, on: cpu)
        return nil
    }

    /// Whether kernels the planner chained (`Lagging`) run as one lagged pass: all compiled on
    /// the host with the same placement, and no buffer of theirs touched by the GPU (host code
    /// after GPU work needs copies first, which `submit` arranges kernel by kernel).
    private func lagsOnHost(_ members: [(PlannedKernel, PlacementDecision)]) -> Bool {
        let p = members[0].1.chosen.placement
        guard p == .cpuAll || p == .cpu1, members.allSatisfy({ $0.1.chosen.placement == p }) else { return false }
        if cuda != nil {
            for (k, _) in members { for b in k.launch.buffers where schedule(of: b).deviceSeen { return false } }
        }
        return true
    }

    /// Queues a lagged chain (see `Lagging`): a task whose chunks each run the first kernel over
    /// their rows with every later one following `chain.shifts[j]` rows behind, then a task for
    /// the rows next to each chunk boundary, kernel by kernel. The kernels keep their own compiled
    /// code and launches.
    private func submitLagged(_ members: [(PlannedKernel, any PreparedKernel, PlacementDecision)], chain: LagChain) {
        func distinct(_ list: [Buffer]) -> [Buffer] {
            var out: [Buffer] = []
            for b in list where !out.contains(where: { $0 === b }) { out.append(b) }
            return out
        }
        let reads = distinct(members.flatMap { $0.0.readBuffers }), writes = distinct(members.flatMap { $0.0.writtenBuffers })
        let deps = dependencies(reads: reads, writes: writes)
        let steps = members.map { (code: $0.1, launch: $0.0.launch) }
        let k1 = members[0].0
        let n0 = k1.launch.extent(0), m = members.count
        let label = members.map(\.0.label).joined(separator: " ⇢ "), points = members.reduce(0) { $0 + $1.0.points }
        let device = members[0].2.chosen.placement.rawValue
        // Chunks: as many as the first kernel alone would get, but each chunk costs its border
        // rows a second pass, so no more than two per worker, and none shorter than the chain
        // needs for its boundaries to stay apart.
        let target = members[0].2.chosen.placement == .cpu1 ? 1 : max(1, min(executor.workers * 2, n0 / chain.minimumChunk,
            CostModel.cpuChunks(points: k1.points, firstExtent: n0, parallelAxes: k1.kernel.parallelAxes, splitChunks: 0, workers: executor.workers)))
        let ranges = (0..<target).map { c in (n0 * c / target)..<(n0 * (c + 1) / target) }
        // Rows of the first kernel run in groups of about `Lagging.groupBytes` (one call each),
        // each later kernel following as far as its shift allows.
        let group = max(1, Lagging.groupBytes / max(1, chain.rowBytes))
        let pass = ranges.map { r in
            Runtime.traced(label, points: points, device: { device }, r.lowerBound, r.upperBound) {
                let inline = (0..<m).map { chain.inline($0, lo: r.lowerBound, hi: r.upperBound) }
                var done = inline.map(\.lowerBound)
                var t = r.lowerBound
                while t < r.upperBound {
                    let end = min(t + group, r.upperBound)
                    for j in 0..<m {
                        let upTo = min(inline[j].upperBound, end - chain.shifts[j])
                        if upTo > done[j] {
                            steps[j].code.run(steps[j].launch, lo: done[j], hi: upTo)
                            done[j] = upTo
                        }
                    }
                    t = end
                }
            }
        }
        // Boundary b (0 ... chunks) holds the tail rows of the chunk before it and the head rows
        // of the chunk after it; kernels in order, boundaries concurrently.
        let borders = (0...ranges.count).map { b in
            Runtime.traced(label + " (borders)", points: points, device: { device }, b, b + 1) {
                for j in 0..<m {
                    if b > 0 {
                        let tail = chain.deferred(j, lo: ranges[b - 1].lowerBound, hi: ranges[b - 1].upperBound).tail
                        if !tail.isEmpty { steps[j].code.run(steps[j].launch, lo: tail.lowerBound, hi: tail.upperBound) }
                    }
                    if b < ranges.count {
                        let head = chain.deferred(j, lo: ranges[b].lowerBound, hi: ranges[b].upperBound).head
                        if !head.isEmpty { steps[j].code.run(steps[j].launch, lo: head.lowerBound, hi: head.upperBound) }
                    }
                }
            }
        }
        let passTask = executor.submit(label: label, dependencies: deps, chunks: pass, onReady: { Runtime.allocate(writes) })
        // The completion handler captures names and decisions only: a task stays referenced as
        // its buffers' last writer, and a handler holding the launches would keep those buffers
        // alive.
        let records = members.map { (decision: $0.2, label: $0.0.label, points: $0.0.points) }
        let task = executor.submit(label: label + " (borders)", dependencies: [passTask], chunks: borders,
                                   onDone: { [self, weak passTask] t in
            // The chain is timed as a whole, from the first task's start to the second's end.
            let started = passTask?.startedNanos ?? t.startedNanos
            let nanos = t.startedNanos &+ t.elapsedNanos &- started
            profile(label, nanos)
            let note = "one lagged pass of \(m) kernels, shifts \(chain.shifts), timed together: \(CostModel.format(Double(nanos) / 1e9))"
            for r in records { record(r.decision, label: r.label, points: r.points, started: started, measured: nil, note: note) }
        })
        register(task, reads: reads, writes: writes)
    }

    /// Queues a GPU kernel: a task that enqueues it once its inputs' producers are done (the
    /// device copies what it needs and returns at once); the GPU runs it in stream order.
    private func submitQueued(_ k: PlannedKernel, _ code: any QueuedKernel, deps: [KernelTask], decision: PlacementDecision) {
        guard let cuda else { return }
        let launch = k.launch, label = k.label, points = k.points
        let full = fullyWritten(k)
        let reads = k.readBuffers, writes = k.writtenBuffers
        let task = executor.submit(label: label, dependencies: deps, chunks: [{ [self] _ in
            do { try cuda.enqueue(code, launch, overwrites: full) } catch { asyncError.withLock { $0 = $0 ?? error } }
        }], onDone: { [self] t in
            // The task's time is the enqueue, not the GPU's run: the decision is recorded without
            // a model error (GPU kernel times need events; see the CUDA device's trace).
            record(decision, label: label, points: points, started: t.startedNanos, measured: nil)
        })
        for b in reads {
            let s = schedule(of: b)
            s.deviceSeen = true
            s.planned.insert(.device)
            if !writes.contains(where: { $0 === b }) {
                s.readers.removeAll { executor.isDone($0) }
                s.readers.append(task)
            }
        }
        for b in writes {
            let s = schedule(of: b)
            s.deviceSeen = true
            s.planned = .device
            s.lastWriter = task
            s.readers = []
        }
    }
}

extension Runtime {
    /// Records a decision with its prediction and the measured time (statistics, trace).
    fileprivate func record(_ d: PlacementDecision, label: String, points: Int, started: UInt64, measured: UInt64?, note: String? = nil) {
        let predicted = d.chosen.compute, device = d.chosen.placement.rawValue
        // A queued kernel's task only enqueued it: its time on the device is not measured here.
        let error = measured.map { abs(Double($0) / 1e9 - predicted) }
        statistics.update { s in
            s.kernelsByDevice[device, default: 0] += 1
            s.predictedNanos += UInt64(min(predicted, 1e6) * 1e9)
            if let measured, let error {
                s.decisions += 1
                s.measuredNanos += measured
                s.modelAbsErrorNanos += UInt64(min(error, 1e6) * 1e9)
                s.modelRelErrorSum += min(error / max(Double(measured) / 1e9, 1e-9), 1e6)
            }
        }
        Tracer.shared.record(TraceEvent(kind: .placement, name: label, start: started, duration: measured ?? 0, points: points, device: device,
                                        detail: measured == nil ? d.summary + " (\(note ?? "queued; measured on the device"))" : d.summary,
                                        predicted: predicted))
    }

}

/// Where one kernel was placed and why: every option's prediction, and whether it was forced.
public struct PlacementDecision: Sendable {
    public var chosen: Prediction
    public var options: [Prediction]
    public var forced: Bool
    /// Planned for the interpreter, run compiled: the code compiled on the side was ready.
    public var switched = false

    /// "auto: cpu 1.2 ms < cpu-1 2.3 ms < interpreter 40 ms", or "forced cpu (predicted 1.2 ms)".
    public var summary: String {
        if forced { return "forced \(chosen.placement) (predicted \(CostModel.format(chosen.total)), \(chosen.bound))" }
        if switched { return "auto: interpreter planned, compiled code ready when it ran: \(chosen.placement) (predicted \(CostModel.format(chosen.compute)))" }
        return "auto: " + options.sorted { $0.total < $1.total }.map(\.description).joined(separator: " < ")
    }
}

/// Scratch memory for partial reductions, freed when the last chunk closure lets go.
final class Partials: @unchecked Sendable {
    // This is safe: each chunk writes only its own disjoint block; the combine reads after all.
    let pointer: UnsafeMutableRawPointer
    init(byteCount: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 16), alignment: 64) }
    deinit { pointer.deallocate() }
}

/// Environment and machine facts without Foundation.
public enum ProcessInfoLite {
    public static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC).
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The bytes of a file, or nil when it cannot be read.
    public static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 16) }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes `bytes` to `path` (created or truncated, mode 0644). Returns false on failure.
    @discardableResult
    public static func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) } == bytes.count
    }

    /// An executable by path, or by name on `PATH`.
    public static func executable(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in (environment("PATH") ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Writes one line to standard error.
    public static func warn(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
