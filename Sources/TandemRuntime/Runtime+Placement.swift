#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import TandemIR
import TandemCompiler
import TandemModel

// Where each kernel of a sync runs: the options the device choice allows, the cost model's
// decision (and its reuse with a cached plan), and compiling what the host placements lack.
extension Runtime {
    /// The device that runs a placement.
    func device(for p: Placement) -> (any KernelDevice)? {
        switch p {
        case .interpreter: interpreterDevice
        case .cpu1, .cpuAll: cpuDevice
        case .cuda, .opencl: nil
        }
    }

    func isAvailable(_ p: Placement) -> Bool {
        guard p.isAccelerator else { return device(for: p)?.availability == .available }
        guard !acceleratorDropped.load(ordering: .relaxed), let (d, placement) = acceleratorSlot.withLock({ $0 }), placement == p else { return false }
        return d.availability == .available
    }

    /// The accelerator `auto` may offer: the one in use when it is usable; before any kernel ran
    /// on one, else CUDA when usable, else the OpenCL device when the machine profile has
    /// measured it (it is not even probed otherwise: finding PoCL costs a first run time, and an
    /// unmeasured device is never chosen). A device on the host's own cores is never offered
    /// (`sharesHostCores`), nor probed when the profile measured it as one.
    func autoAccelerator() -> Placement? {
        let current = acceleratorSlot.withLock { $0 }
        if let (d, p) = current, isAvailable(p) { return d.sharesHostCores ? nil : p }
        guard !queuedDeviceUsed, !acceleratorDropped.load(ordering: .relaxed) else { return nil }
        for p in [Placement.cuda, .opencl] where p != current?.placement {
            guard let d = queuedDevices[p.rawValue] else { continue }
            if p == .opencl, costModel.profile.openCL?.sharesHostCores ?? false { continue }
            if p == .opencl, costModel.profile.openCL == nil { continue }
            if d.availability == .available, !d.sharesHostCores, (try? useAccelerator(p)) != nil { return p }
        }
        return nil
    }

    /// Makes the accelerator of placement `p` the one this process uses and returns it. Throws
    /// when none of that name is registered, or when kernels already ran on another one (one
    /// accelerator a process: the residency of buffers is tracked for one device).
    func useAccelerator(_ p: Placement) throws -> any QueuedKernelDevice {
        guard let d = queuedDevices[p.rawValue] else { throw TandemError.deviceUnavailable(device: p.rawValue, reason: "not registered") }
        let switched = try acceleratorSlot.withLock { slot -> Bool in
            if let slot, slot.placement == p { return false }
            if let slot, queuedDeviceUsed {
                throw TandemError.deviceUnavailable(device: p.rawValue, reason: "this process already ran kernels on \(slot.placement); one accelerator a process")
            }
            slot = (d, p)
            return true
        }
        if switched { autoOptions.withLock { $0 = nil } }
        return d
    }

    /// The placements the current choice allows; throws when a forced device is unavailable, and
    /// records a fallback when `auto` has nothing but the interpreter.
    func options() throws -> (options: [Placement], forced: Bool) {
        let choice = deviceChoice
        if choice == .split {
            _ = try splitAccelerator()
            return ([.cpuAll], true)
        }
        if let forced = choice.forcedPlacement, forced.isAccelerator {
            let d = try useAccelerator(forced)
            if case .unavailable(let reason) = d.availability { throw TandemError.deviceUnavailable(device: forced.rawValue, reason: reason) }
            return ([forced], true)
        }
        if let forced = choice.forcedPlacement {
            guard let d = device(for: forced) else { throw TandemError.deviceUnavailable(device: forced.rawValue, reason: "not registered") }
            if case .unavailable(let reason) = d.availability { throw TandemError.deviceUnavailable(device: forced.rawValue, reason: reason) }
            return ([forced], true)
        }
        if let cached = autoOptions.withLock({ $0 }) { return (cached, false) }
        var options: [Placement] = [.interpreter]
        if isAvailable(.cpuAll) {
            options += [.cpu1, .cpuAll]
        } else {
            let reason: String
            if case .unavailable(let r)? = devices["cpu"]?.availability { reason = r } else { reason = "no CPU compiler device" }
            noCompilerFallback.record(reason)
        }
        if let a = autoAccelerator() { options.append(a) }
        // A device's availability is settled when first asked (a found compiler, a probed
        // driver), so auto's options are too, once the CPU compiler is there; without it, each
        // sync records its fallback.
        if options.contains(.cpuAll) { autoOptions.withLock { $0 = options } }
        return (options, false)
    }

    /// Compiles `kernels` for the CPU device when there is more than one: in as many batches
    /// as there are workers (at most), compiled at once, each batch one compiler run
    /// (`prepare(together:)`), the kernels dealt out by compile weight so the batches finish
    /// together (a failure is left for the in-order `prepare` to report).
    func precompile(_ kernels: Set<Kernel>) {
        guard kernels.count > 1, let cpu = devices["cpu"] else { return }
        let width = min(kernels.count, max(1, executor.workers))
        var batches = [[Kernel]](repeating: [], count: width), weights = [Int](repeating: 0, count: width)
        for k in kernels.sorted(by: { $0.compileWeight > $1.compileWeight }) {
            let lightest = weights.indices.min { weights[$0] < weights[$1] }!
            batches[lightest].append(k)
            weights[lightest] += k.compileWeight
        }
        let dealt = batches
        DispatchQueue.concurrentPerform(iterations: width) { w in _ = cpu.prepare(together: dealt[w]) }
    }

    /// Prices `k` on every option and picks the earliest finish (graph lock held). `compiling`:
    /// kernels of this sync already placed on compiled code, which will be ready when `k` runs.
    func decide(_ k: PlannedKernel, options: [Placement], forced: Bool, model: CostModel,
                compiling: Set<Kernel> = []) -> PlacementDecision {
        let entry = history[k.kernel] ?? { () -> (features: KernelFeatures, runs: Int, earlier: Int) in
            let earlier = kernelHistory?.runs(k.kernel) ?? 0
            // What earlier processes measured of it (a kernel run once a program is otherwise
            // placed by the profile alone, however far off that is, in every run).
            if earlier > 0, let history = kernelHistory, let saved = kernelFactorStore?.factors(history.digest(for: k.kernel)), !saved.isEmpty {
                kernelFactors.withLock { $0.seed(k.kernel, saved) }
            }
            return (KernelFeatures(k.kernel, stagePoints: k.stagePoints), earlier, earlier)
        }()
        let launch = k.launch
        var run = KernelRun(points: k.points,
                            parallelPoints: (0..<k.kernel.parallelAxes).reduce(1) { $0 * launch.extent($1) },
                            firstExtent: k.kernel.rank > 0 ? launch.extent(0) : 1,
                            splitChunks: k.splitChunks, bytes: k.bytesAccessed, previousRuns: entry.runs)
        run.innerExtent = k.kernel.rank > 0 ? launch.extent(k.kernel.rank - 1) : 1
        run.processRuns = entry.runs - entry.earlier
        if k.kernel.isSequence {
            // The runs of the innermost loop are each stage's own: priced as single points, a
            // sequence of two 130-point border copies was predicted 40-100 µs in the
            // interpreter (5-8 µs measured) and its compile requested at once.
            var rows = 0
            for extents in k.stageExtents where !extents.isEmpty {
                rows += extents.reduce(1, *) / Swift.max(1, extents[extents.count - 1])
            }
            run.innerExtent = Swift.max(1, k.points / Swift.max(1, rows))
            run.calls = k.kernel.stages.count
        }
        if acceleratorSlot.withLock({ $0 != nil }) {
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
        let corrections = rateCorrections.withLock { $0 }
        var predictions = corrections.applied(to: model.predictAll(entry.features, run, options: options))
        var allPredictions: [Prediction]? = nil     // every option's, when some cannot be chosen now
        let interpreterTime = predictions.first { $0.placement == .interpreter }?.total
        // Worth a look only if ready code would beat the interpreter by more than looking costs
        // (a kernel's first lookup renders and hashes it; the average is measured here).
        let lookupCost = lookups.count == 0 ? 0 : Double(lookups.nanos) / Double(lookups.count) / 1e9
        let bestReady = predictions.filter { $0.placement != .interpreter }.map(\.total).min() ?? .infinity
        // Loaded code is known at once (no rendering): the usual case for a kernel seen before,
        // and then the predictions made with ready code stand.
        let loaded = options.contains(.cpuAll) && !options.contains(where: \.isAccelerator)
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
                code[p] = p.isAccelerator ? (accelerator?.codeState(k.kernel) ?? .missing) : (device(for: p)?.codeState(k.kernel) ?? .missing)
            }
            lookups.count += 1
            lookedUp = true
            lookups.nanos += ProcessInfoLite.monotonicNanos() - t0
            run.code = code
            predictions = corrections.applied(to: model.predictAll(entry.features, run, options: options))
            // While a background compile of this kernel runs, or another process compiles it
            // (handed on at its exit), do not compile it here too: a sync that compiled it
            // waited for that compile, at the lowest priority beside the others handed on
            // (mandelbrot's second run, started right after the first: 1.8 s instead of 0.3).
            if !forced, interpreterTime != nil,
               background.isPending(k.kernel) || (code[.cpuAll] == .missing && device(for: .cpuAll)?.isCompilingElsewhere(k.kernel) == true) {
                allPredictions = predictions
                predictions = predictions.filter { $0.placement == .interpreter || $0.placement.isAccelerator }
            }
        } else if interpreterTime != nil {
            // Not looked up: code not known to be ready could only cost more; the interpreter it is.
            allPredictions = predictions
            predictions = predictions.filter { $0.placement == .interpreter }
        }
        // This kernel's own measurements replace the placement's correction for it (a profile
        // measured while other work ran put SOR's sweep on one worker for good: 0.8 s against
        // 0.3 s; a placement's correction learned from many small kernels misjudges a big one).
        let measured = kernelFactors.withLock { $0.factors(k.kernel) }
        if !measured.isEmpty {
            predictions = predictions.map { p in
                guard let own = measured[p.placement] else { return p }
                var q = p
                q.compute = q.compute / corrections.factor(p.placement) * own
                return q
            }
        }
        let now = ProcessInfoLite.monotonicNanos()
        var busy: [Placement.Resource: Double] = [:]
        for (r, t) in busyUntil where t > now { busy[r] = Double(t - now) / 1e9 }
        var chosen = model.choose(predictions, busy: busy)
        // Exploration: a kernel long enough to measure, measured where it runs, whose other host
        // placement is predicted close behind runs there now and then (the same code, the same
        // results: placements agree bit for bit), so its measurements, not the profile alone,
        // decide. The first trial compares the profile's own predictions (before corrections: a
        // placement that has run has its rate corrected, one that has not has not, and that gap
        // is what a trial is for); later ones, at growing intervals, the corrected predictions,
        // so one disturbed measurement cannot pin the kernel where it was taken. Only once the
        // chosen placement has its own measurement: a kernel's first runs go where the profile
        // says.
        var explored = false
        if !forced, chosen.placement == .cpu1 || chosen.placement == .cpuAll, chosen.compute >= KernelFactors.explorationSeconds,
           measured[chosen.placement] != nil {
            let other: Placement = chosen.placement == .cpu1 ? .cpuAll : .cpu1
            func raw(_ p: Prediction) -> Double { p.compute / (measured[p.placement] ?? corrections.factor(p.placement)) }
            if let alt = predictions.first(where: { $0.placement == other }) {
                let close = measured[other] == nil ? raw(alt) <= raw(chosen) * KernelFactors.explorationMargin
                    : alt.total <= chosen.total * KernelFactors.explorationMargin
                if close, kernelFactors.withLock({ $0.shouldExplore(k.kernel, other) }) {
                    chosen = alt
                    explored = true
                }
            }
        }
        // Do not stop a sync for a compile that this run alone does not need: when compiled code
        // won only over the runs ahead (its compile amortised) and this run in the interpreter
        // takes less than the whole compile, this run is interpreted and the compile goes on
        // the side (below); the next runs switch to the code when it is there. A first run of
        // cavity_flow spent 0.49 of its 0.66 s in four such compiles of tiny kernels.
        var tierUp = false
        if !forced, chosen.placement == .cpu1 || chosen.placement == .cpuAll, code[chosen.placement] == .missing,
           let interpreted = (allPredictions ?? predictions).first(where: { $0.placement == .interpreter }),
           interpreted.total < model.compileTime(entry.features) {
            chosen = interpreted
            tierUp = true
        }
        occupy(chosen.placement.resource, seconds: chosen.total, now: now)
        history[k.kernel] = (entry.features, entry.runs + 1, entry.earlier)
        // Tiering: the interpreter won only because the code is not compiled yet (or, not looked
        // up, not known to be loaded), and compiled code would pay back: compile it on the side,
        // so a later run finds it ready, without making this one wait. A kernel never looked up
        // used to stay in the interpreter for good (shallow_water's wall copies, every step).
        let knownReady = loaded || (lookedUp && code[.cpuAll] == .ready)
        if !forced, chosen.placement == .interpreter, !knownReady, options.contains(.cpuAll), let cpu = device(for: .cpuAll) {
            var ready = run
            ready.code = [.cpu1: .ready, .cpuAll: .ready]
            let compiledTime = corrections.applied(to: [model.predict(entry.features, ready, on: .cpuAll),
                                                        model.predict(entry.features, ready, on: .cpu1)]).map(\.total).min()!
            // Expect as many runs ahead as behind (the doubling rule), and as many again in the
            // program's next run, which finds the code in the cache (a kernel's compile pays
            // over its life, not one process: `entry.runs` counts earlier processes' runs too);
            // weigh the compile by the share of the machine it takes from the interpreter: one
            // core of `workers`, of which the interpreter (which scales poorly) would have used
            // only so much. (Counting this process alone, kmeans' per-iteration reductions
            // waited five or six of their 10-18 ms interpreted runs for their compile.)
            let cpuProfile = model.profile.cpu
            let workers = Double(model.workers)
            // A kernel the interpreter runs inline on the calling thread leaves the other cores
            // idle: its compile costs next to nothing.
            let lost = chosen.inline && workers > 1 ? 0.05 : max(0.05, (min(cpuProfile.interpreterSpeedup, workers) - 1) / max(workers - 1, 1))
            let saving = Double(2 * (entry.runs + 1)) * (chosen.total - compiledTime)
            // A compile another process is running costs this one only the wait, on the side.
            // A kernel met for the first time (in this process and, by the kernel history, in
            // any earlier one) is not compiled on the side yet: nothing says it comes back, and
            // a compile beside the program takes a core from it (`Executor.lend`). fir_filter's
            // first run compiled its error sum (run once) beside its interpretation, then its
            // 101-tap sum (run once), whose compile outlasted the run: 0.45-0.53 s, against
            // 0.30 s interpreting them alone. From its second run on (the next step of a loop,
            // milliseconds later) the rule applies; a one-off kernel that ran long interpreted
            // is compiled after the program exits (`finishBackgroundCompilesAfterExit`), for
            // the next run.
            if tierUp || cpu.isCompilingElsewhere(k.kernel) || (entry.runs > 0 && saving >= model.compileTime(entry.features) * lost) {
                background.request(k.kernel, on: cpu)
                sideCompiles.remove(k.kernel)
            } else if entry.runs > 0 {
                sideCompiles.offer(k.kernel, saving: saving, features: entry.features, model: model, lost: lost, now: now)
                    .forEach { background.request($0, on: cpu) }
            }
        }
        var decision = PlacementDecision(chosen: chosen, options: allPredictions ?? predictions, forced: forced)
        decision.correction = measured[chosen.placement] ?? corrections.factor(chosen.placement)
        decision.explored = explored
        return decision
    }

    /// A kernel of a reused plan takes the decision made for it at an earlier sync while that
    /// stays sound: a small kernel (predicted under `decisionReuseSeconds`: deciding costs
    /// microseconds, as much as running it), the same options, compiled code still loaded, and
    /// not too many reuses since the last full decision (interpreted kernels are revisited
    /// sooner: their history may make compiling pay). A larger kernel is decided at every run:
    /// reusing an interpreter decision for eight runs of an 85 ms kernel cost logistic
    /// regression's first run 0.6 s, while compiled code would have paid from the fourth.
    static let decisionReuses = (compiled: 64, interpreted: 8)
    static let decisionReuseSeconds = 200e-6
    /// A run this many times longer than its decision's prediction ends the decision's reuse
    /// (`KernelMemo.mispredicted`): covariance's column sum, predicted at 90 µs interpreted and
    /// run at 0.6-0.9 ms, kept that decision for eight runs at a time.
    static let mispredictedFactor = 4.0

    final class DecisionMemo {
        let decision: PlacementDecision
        let options: [Placement]
        @exclusivity(unchecked) var uses = 0
        /// The host code the decision ran with, once prepared: a reuse takes it without looking
        /// the kernel up in the device's tables again. Nil for code specialised to a launch (it
        /// depends on the launch's ints) and for a fallback.
        @exclusivity(unchecked) var code: (any PreparedKernel)?
        /// The decision memo a plan's kernel memo holds, if any.
        static func of(_ memo: KernelMemo?) -> DecisionMemo? { memo?.state.map { unsafeDowncast($0, to: DecisionMemo.self) } }

        init(_ decision: PlacementDecision, options: [Placement]) {
            self.decision = decision
            self.options = options
        }
    }

    /// How far ahead of now a resource may be booked: the queue the model prices is the near
    /// future. Unbounded, the bookings of a long program whose predictions run ahead of its
    /// kernels (a wavefront loop of 100,000 small steps after forced interpreter runs) summed
    /// past `UInt64.max` nanoseconds and trapped.
    static let busyHorizonSeconds = 60.0

    /// Books `resource` for `seconds` after it frees up (not before now), within the horizon.
    func occupy(_ resource: Placement.Resource, seconds: Double, now: UInt64) {
        let horizon = Runtime.busyHorizonSeconds
        let span = UInt64((seconds.isFinite ? Swift.min(Swift.max(seconds, 0), horizon) : horizon) * 1e9)
        let start = Swift.min(Swift.max(now, busyUntil[resource] ?? 0), now + UInt64(horizon * 1e9))
        busyUntil[resource] = start + span
    }

    /// The memo of the earlier decision for `k`, its use counted, or nil when it must be decided
    /// again (then it records the new one when `k` has a memo) (graph lock).
    func reusedMemo(_ k: PlannedKernel, options: [Placement], forced: Bool) -> DecisionMemo? {
        guard let memo = k.memo else { return nil }
        if !memo.mispredicted.exchange(false, ordering: .relaxed), let m = DecisionMemo.of(memo), m.options == options,
           m.decision.forced == forced {
            let p = m.decision.chosen.placement
            m.uses += 1
            let limit = p == .interpreter ? Runtime.decisionReuses.interpreted : Runtime.decisionReuses.compiled
            let ready = p == .interpreter || m.code != nil || ((p == .cpu1 || p == .cpuAll) && device(for: p)?.readyCode(k.kernel) != nil)
            if m.uses < limit, ready, let i = history.index(forKey: k.kernel) {
                history.values[i].runs += 1          // in place: the entry is not copied
                occupy(p.resource, seconds: m.decision.chosen.total, now: ProcessInfoLite.monotonicNanos())
                return m
            }
        }
        memo.state = nil
        return nil
    }

    /// Remembers a fresh decision for the next reuse of `k`'s plan (graph lock).
    func remember(_ decision: PlacementDecision, for k: PlannedKernel, options: [Placement]) {
        guard let memo = k.memo, memo.state == nil, decision.chosen.total < Runtime.decisionReuseSeconds else { return }
        memo.state = DecisionMemo(decision, options: options)
    }

    public func availability(of name: String) -> Availability {
        devices[name]?.availability ?? .unavailable(reason: "not registered")
    }
}

/// Where one kernel was placed and why: every option's prediction, and whether it was forced.
public struct PlacementDecision: Sendable {
    public var chosen: Prediction
    public var options: [Prediction]
    public var forced: Bool
    /// Planned for the interpreter, run compiled: the code compiled on the side was ready.
    public var switched = false
    /// Run with code compiled for this launch's ints (`Specialization`).
    public var specialised = false
    /// Run with a variant of its code (`Tuner`); nil: the rules' code.
    public var variant: KernelVariant? = nil
    /// Its run is measured for the tuner (`Tuner.sample`): its choice is not made yet.
    public var tuning = false
    /// Not the predicted best: run on the other host placement once to measure it
    /// (`KernelFactors`).
    public var explored = false
    /// The factor `RateCorrections` multiplied the chosen prediction's compute time by.
    public var correction = 1.0

    /// This decision as run on `placement`: itself, or (when late binding switched the kernel to
    /// code compiled meanwhile) that option's prediction, marked switched.
    func ran(on placement: Placement) -> PlacementDecision {
        guard placement != chosen.placement, let p = options.first(where: { $0.placement == placement }) else { return self }
        var d = self
        d.chosen = p
        d.switched = true
        return d
    }

    /// "auto: cpu 1.2 ms < cpu-1 2.3 ms < interpreter 40 ms", or "forced cpu (predicted 1.2 ms)".
    public var summary: String {
        if forced { return "forced \(chosen.placement) (predicted \(CostModel.format(chosen.total)), \(chosen.bound))" + (specialised ? "; code specialised to this launch" : "") }
        if switched { return "auto: interpreter planned, compiled code ready when it ran: \(chosen.placement) (predicted \(CostModel.format(chosen.compute)))" }
        return "auto: " + options.sorted { $0.total < $1.total }.map(\.description).joined(separator: " < ")
            + (specialised ? "; code specialised to this launch" : "")
            + (explored ? "; run on \(chosen.placement) once to measure it" : "")
    }
}

extension Runtime {
    // MARK: - Placing a plan

    /// Places every kernel of `plan` and readies its code: each kernel's decision first (reused
    /// from its memo or made fresh; `model` is built at the first fresh one), then the compiled
    /// code the host placements still lack, compiled in parallel, one compiler run per core (a
    /// first run's time is its compiles), then each kernel's code in order. A placement whose
    /// code cannot be had under `auto` falls back (said once, counted); what a forced one
    /// throws is thrown (graph lock).
    func place(_ plan: Plan, options: [Placement], forced: Bool, model: inout CostModel?) throws -> [(ReadyCode, PlacementDecision)] {
        var prepared: [(ReadyCode, PlacementDecision)] = []
        // The compiles this sync's decisions put on the side start together, as one batch
        // (released once every kernel is placed, or on a throw).
        background.hold()
        var held = true
        defer { if held { background.release() } }
        // Every kernel is placed first; the compiled code the host placements still lack
        // is then compiled in parallel, one compiler run per core (a first run's time is
        // its compiles), and the code is prepared in order.
        var decisions: [PlacementDecision] = []
        var memos: [DecisionMemo?] = []
        var compiling: Set<Kernel> = []
        // The kernels are taken by index and passed on borrowed (`for k in` copied each
        // planned kernel, a dozen references retained and released, three times a sync:
        // a sixth of a small loop's sync with a read).
        func placeKernel(_ k: PlannedKernel) {
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
        for i in plan.kernels.indices { placeKernel(plan.kernels[i]) }
        background.release()
        held = false
        precompile(compiling)
        let splitting = forced && deviceChoice == .split
        for i in plan.kernels.indices {
            var decision = decisions[i]
            if let code = memos[i]?.code {
                prepared.append((splitting ? try splitCode(plan.kernels[i], .host(code), model: &model) : .host(code), decision))
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
                        let tuned = tunedCode(k, on: p)
                        let c = try tuned.code ?? fresh ?? device(for: p)!.prepare(k.kernel)
                        code = .host(c)
                        decision.variant = tuned.variant
                        decision.tuning = tuned.measure
                        // The next reuse of this decision takes the code as it is (once the
                        // tuner has nothing more to measure for it).
                        if tuned.settled, let memo = DecisionMemo.of(k.memo), memo.decision.chosen.placement == p,
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
            prepared.append((splitting ? try splitCode(k, code, model: &model) : code, decision))
        }
        return prepared
    }
}
