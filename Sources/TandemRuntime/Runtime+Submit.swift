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

// Queuing a planned kernel: its dependencies by buffer, its chunks on the workers (or inline on
// the calling thread), lagged chains, queued devices, and the record of what ran.
extension Runtime {
    /// Where chunk `c` of `target` starts along the first axis of `kernel` (`c == target`: the
    /// end). In a one-axis kernel that axis is also the vectorised one, and the compiled loop
    /// runs vector code over whole vectors from a chunk's start and scalar code over the rest:
    /// where vector and scalar math differ (libmvec's log, sin, cos ... against libm's), an
    /// element's bits would depend on where the chunks fall, so on the thread count and the
    /// placement. Starting every chunk at a multiple of `vectorAlignment` elements gives each
    /// element the same code as one chunk over the whole axis.
    static func chunkBound(_ n0: Int, _ c: Int, _ target: Int, kernel: Kernel) -> Int {
        let x = n0 * c / target
        guard kernel.rank == 1, c < target else { return x }
        return x - x % vectorAlignment
    }

    /// A multiple of every vector width the compiled loops use (8 doubles of 512 bits, times
    /// unrolling), in elements.
    static let vectorAlignment = 64

    /// The bytes a host kernel reads and writes of the buffers the accelerator has seen (graph
    /// lock): each access's span over the whole domain (`span`), a write with gaps also read;
    /// whole buffers for a sequence kernel (its stages have accesses of their own).
    func hostSpans(_ k: PlannedKernel) -> (reads: [(buffer: Buffer, bytes: Range<Int>)], writes: [(buffer: Buffer, bytes: Range<Int>)]) {
        var reads: [(buffer: Buffer, bytes: Range<Int>)] = [], writes: [(buffer: Buffer, bytes: Range<Int>)] = []
        let all = 0..<(k.kernel.rank > 0 ? k.launch.extent(0) : 1)
        for (i, b) in k.launch.buffers.enumerated() where schedule(of: b).deviceSeen {
            let param = k.kernel.buffers[i]
            if k.kernel.isSequence || k.kernel.rank == 0 {
                if param.isRead || param.isWritten { reads.append((b, 0..<b.byteCount)) }
                if param.isWritten { writes.append((b, 0..<b.byteCount)) }
                continue
            }
            if param.isRead {
                for r in Runtime.spans(k, buffer: i, rows: all, stores: false).bytes { reads.append((b, r)) }
            }
            if param.isWritten {
                let w = Runtime.spans(k, buffer: i, rows: all, stores: true)
                for x in w.bytes {
                    if !w.dense { reads.append((b, x)) }
                    writes.append((b, x))
                }
            }
        }
        return (reads, writes)
    }

    /// Buffers `k` writes completely (every element), by id: their old values need not move.
    func fullyWritten(_ k: PlannedKernel) -> Set<UInt64> {
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

    func schedule(of b: Buffer) -> BufferSchedule {
        if let s = b.schedule as? BufferSchedule { return s }
        let s = BufferSchedule()
        b.schedule = s
        return s
    }

    /// The tasks a task reading `reads` and writing `writes` must wait for (graph lock).
    func dependencies(reads: [Buffer], writes: [Buffer]) -> [KernelTask] {
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
    func register(_ task: KernelTask, reads: [Buffer], writes: [Buffer]) {
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
    static func allocate(_ writes: [Buffer]) {
        for b in writes where !b.isAllocated {
            b.allocate()
            Tracer.shared.record(TraceEvent(kind: .allocation, name: "allocate", start: ProcessInfoLite.monotonicNanos(), bytes: b.byteCount))
        }
    }

    /// Runs one chunk, recording it as a kernel event on its worker's track when tracing.
    static func traced(_ label: String, points: Int, device: @escaping @Sendable () -> String, _ lo: Int, _ hi: Int,
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

    /// Counts a run of `label` taking `nanos` (`TANDEM_PROFILE`'s kernels by time). A cached
    /// plan's kernel keeps its entry in its memo, so a reused kernel adds to two atomics
    /// instead of hashing its label under a lock at every run.
    func profile(_ label: String, _ nanos: UInt64, memo: KernelMemo? = nil) {
        let entry: KernelProfileEntry
        if let e = memo?.profileEntry {
            entry = unsafeDowncast(e, to: KernelProfileEntry.self)
        } else {
            entry = kernelProfile.withLock { p in
                if let e = p[label] { return e }
                let e = KernelProfileEntry()
                p[label] = e
                return e
            }
            memo?.profileEntry = entry
        }
        entry.count.add(1, ordering: .relaxed)
        entry.nanos.add(nanos, ordering: .relaxed)
    }

    func submit(_ k: PlannedKernel, _ ready: ReadyCode, decision: PlacementDecision) {
        let (reads, writes) = k.accessedBuffers
        var deps = dependencies(reads: reads, writes: writes)
        let launch = k.launch
        let prepared: any PreparedKernel
        switch ready {
        case .queued(let q):
            submitQueued(k, q, deps: deps, decision: decision)
            return
        case .split(let host, let device, let cut):
            submitSplit(k, host: host, device: device, cut: cut, decision: decision)
            return
        case .host(let c):
            prepared = c
        }
        // Late binding: an interpreted kernel whose compiled code is being built on the side
        // switches to it if it is ready when the task starts (same chunks, same results).
        let tiered = decision.chosen.placement == .interpreter && background.isPending(k.kernel)
        let chunkCount = CostModel.cpuChunks(points: k.points, firstExtent: k.kernel.rank > 0 ? launch.extent(0) : 1,
                                             parallelAxes: k.kernel.parallelAxes, splitChunks: k.splitChunks, workers: executor.workers)
        if runNow(k, prepared, decision: decision, chunkCount: chunkCount, tiered: tiered, deps: deps, reads: reads, writes: writes) { return }
        let choice = TaskCode(code: prepared, placement: decision.chosen.placement)
        let cpuDevice = device(for: .cpuAll), kernel = k.kernel
        if queuedDeviceUsed, let accelerator {
            // Host code after GPU work: bring device-only inputs back, and tell the device its
            // copies of what this kernel writes go stale (in a task of their own, after the GPU
            // kernels they depend on were queued).
            let (toHost, stale) = hostSpans(k)
            if !toHost.isEmpty || !stale.isEmpty {
                let sync = executor.submit(label: "to host", dependencies: deps, chunks: [{ [self] _ in
                    do {
                        try accelerator.hostUse(reads: toHost, writes: stale)
                    } catch {
                        asyncError.withLock { $0 = $0 ?? error }
                    }
                }])
                deps = [sync]
            }
            for b in reads { schedule(of: b).planned.insert(.host) }
            for b in writes {
                schedule(of: b).planned = .host
                schedule(of: b).hostShare = nil
            }
        }
        var chunks: [@Sendable (Int) -> Void] = []
        let label = k.label, points = k.points
        let oneThread = decision.chosen.placement == .cpu1
        @Sendable func traced(_ lo: Int, _ hi: Int, _ body: @escaping @Sendable () -> Void) -> @Sendable (Int) -> Void {
            Runtime.traced(label, points: points, device: { choice.placement.rawValue }, lo, hi, body)
        }
        var finish: (@Sendable () -> Void)? = nil
        if k.splitChunks > 0 {
            // The partial count is fixed by the sizes (determinism); one thread runs them in turn.
            let pieces = SplitPieces(k)
            if oneThread {
                chunks.append(traced(0, pieces.extent) { for c in 0..<pieces.count { pieces.run(choice.code, piece: c) } })
            } else {
                for c in 0..<pieces.count {
                    let r = pieces.range(c)
                    chunks.append(traced(r.lowerBound, r.upperBound) { pieces.run(choice.code, piece: c) })
                }
            }
            finish = { pieces.combine(choice.code) }
        } else if k.kernel.parallelAxes == 0 {
            chunks.append(traced(0, 1) { choice.code.run(launch, lo: 0, hi: 1) })
        } else {
            let n0 = launch.extent(0)
            let target = oneThread ? 1 : chunkCount
            for c in 0..<target {
                let lo = Runtime.chunkBound(n0, c, target, kernel: k.kernel), hi = Runtime.chunkBound(n0, c + 1, target, kernel: k.kernel)
                if lo < hi { chunks.append(traced(lo, hi) { choice.code.run(launch, lo: lo, hi: hi) }) }
            }
            if chunks.isEmpty { chunks.append(traced(0, n0) { choice.code.run(launch, lo: 0, hi: n0) }) }
        }
        let memo = k.memo
        let onDone: @Sendable (KernelTask) -> Void = { [self] t in
            profile(label, t.elapsedNanos)
            record(decision.ran(on: choice.placement), label: label, points: points, started: t.startedNanos, measured: t.elapsedNanos, kernel: kernel,
                   memo: memo)
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

    /// Runs `k` here and now, without a task, when it is a kernel the model runs inline on the
    /// calling thread in one piece, all it waits for is done and no GPU holds its buffers; returns
    /// false (running nothing) otherwise. The same code over the same pieces as the task would
    /// run (so the same results); what a task costs (closures, the task, its registration in the
    /// buffers' schedules, two trips through the executor's lock) was most of a small kernel's
    /// dispatch in a time-stepped program. `chunkCount`: the chunks `submit` would cut it into
    /// on all workers (graph lock).
    func runNow(_ k: PlannedKernel, _ prepared: any PreparedKernel, decision: PlacementDecision, chunkCount: Int, tiered: Bool,
                deps: [KernelTask], reads: [Buffer], writes: [Buffer]) -> Bool {
        guard decision.chosen.inline else { return false }
        // Buffers a GPU kernel has used need copies or invalidation first, which tasks arrange.
        if queuedDeviceUsed { for b in k.launch.buffers where schedule(of: b).deviceSeen { return false } }
        let launch = k.launch, kernel = k.kernel
        let oneThread = decision.chosen.placement == .cpu1
        if k.splitChunks > 1 && !oneThread { return false }
        let n0 = kernel.parallelAxes == 0 ? 1 : launch.extent(0)
        if k.splitChunks == 0 && kernel.parallelAxes > 0 && !oneThread && n0 > 1 && chunkCount > 1 { return false }
        guard executor.areDone(deps) else { return false }
        var code = prepared, placement = decision.chosen.placement
        if tiered, let c = device(for: .cpuAll)?.readyCode(kernel) {
            code = c
            placement = .cpuAll
        }
        if queuedDeviceUsed {
            for b in reads { schedule(of: b).planned.insert(.host) }
            for b in writes {
                schedule(of: b).planned = .host
                schedule(of: b).hostShare = nil
            }
        }
        Runtime.allocate(writes)
        let t0 = Executor.now()
        if k.splitChunks > 0 {
            let pieces = SplitPieces(k)
            for c in 0..<pieces.count { pieces.run(code, piece: c) }
            pieces.combine(code)
        } else {
            code.run(launch, lo: 0, hi: n0)
        }
        let t1 = Executor.now()
        let label = k.label
        if Tracer.shared.isEnabled {
            Tracer.shared.record(TraceEvent(kind: .kernel, name: label, start: t0, duration: t1 - t0, track: Executor.callerTrack,
                                            points: k.points, device: placement.rawValue, detail: "0..<\(n0)"))
        }
        profile(label, t1 - t0, memo: k.memo)
        record(decision.ran(on: placement), label: label, points: k.points, started: t0, measured: t1 - t0, kernel: kernel, memo: k.memo)
        // Done: nothing is left to wait for, neither by readers nor by later writers.
        for b in writes {
            let s = schedule(of: b)
            s.lastWriter = nil
            s.readers = []
        }
        return true
    }

    /// The code of `k` compiled for its launch's ints, when `Specialization` applies, the launch
    /// has come back often enough and the code is ready; otherwise nil (and, once the launch has
    /// come back often enough, its compile is queued on the side) (graph lock).
    func specializedCode(_ k: PlannedKernel, on p: Placement) -> (any PreparedKernel)? {
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

    /// The code the tuner has `k` run on host placement `p` (`Tuner.choose`): a variant's, when
    /// it is being measured or was chosen and its code is ready; nil for the rules' code.
    /// `settled`: the choice is final in this process (the code may be kept with the plan);
    /// `measure`: the run is one the tuner compares (graph lock).
    func tunedCode(_ k: PlannedKernel, on p: Placement) -> (code: (any PreparedKernel)?, variant: KernelVariant?, settled: Bool, measure: Bool) {
        guard tuner.mode != .off, p == .cpu1 || p == .cpuAll, let cpu = device(for: p) else { return (nil, nil, true, false) }
        let features = history[k.kernel]?.features
        let choice = tuner.choose(k.kernel, points: k.points, placement: p, label: k.label,
                                  compileSeconds: { features.map { costModel.compileTime($0) } ?? 0.2 },
                                  ready: { Runtime.loadedIfOnDisk($0, cpu) }, request: { background.request($0, on: cpu) })
        guard let v = choice.variant, let code = cpu.readyCode(k.kernel.with(variant: v)) else {
            return (nil, nil, choice.settled && choice.variant == nil, choice.measure && choice.variant == nil)
        }
        statistics.update { $0.variantRuns += 1 }
        return (code, v, choice.settled, choice.measure)
    }

    /// Whether `variant`'s code is ready on `cpu`, loaded now when an earlier process left it in
    /// the cache (a load, not a compile): a choice from the tuning database then runs from the
    /// first sync, where waiting for the side compiler's queue ran N-body's rules' code for all
    /// four of its steps in two runs of three.
    static func loadedIfOnDisk(_ variant: Kernel, _ cpu: any KernelDevice) -> Bool {
        if cpu.readyCode(variant) != nil { return true }
        return cpu.codeState(variant) == .onDisk && (try? cpu.prepare(variant)) != nil
    }

    /// Whether kernels the planner chained (`Lagging`) run as one lagged pass: all compiled on
    /// the host with the same placement, and no buffer of theirs touched by the GPU (host code
    /// after GPU work needs copies first, which `submit` arranges kernel by kernel).
    func lagsOnHost(_ members: [(PlannedKernel, PlacementDecision)]) -> Bool {
        let p = members[0].1.chosen.placement
        guard p == .cpuAll || p == .cpu1, members.allSatisfy({ $0.1.chosen.placement == p }) else { return false }
        if queuedDeviceUsed {
            for (k, _) in members { for b in k.launch.buffers where schedule(of: b).deviceSeen { return false } }
        }
        return true
    }

    /// Queues a lagged chain (see `Lagging`): a task whose chunks each run the first kernel over
    /// their rows with every later one following `chain.shifts[j]` rows behind, then a task for
    /// the rows next to each chunk boundary, kernel by kernel. The kernels keep their own compiled
    /// code and launches.
    func submitLagged(_ members: [(PlannedKernel, any PreparedKernel, PlacementDecision)], chain: LagChain) {
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
        let ranges = (0..<target).map { c in Runtime.chunkBound(n0, c, target, kernel: k1.kernel)..<Runtime.chunkBound(n0, c + 1, target, kernel: k1.kernel) }
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
    func submitQueued(_ k: PlannedKernel, _ code: any QueuedKernel, deps: [KernelTask], decision: PlacementDecision) {
        guard let accelerator else { return }
        queuedDeviceUsed = true
        let launch = k.launch, label = k.label, points = k.points
        let full = fullyWritten(k)
        let (reads, writes) = k.accessedBuffers
        // The device's own time of the kernel, where it reports one, arrives later; it then
        // teaches the model like a host kernel's (`recordDeviceTime`).
        let timed: (@Sendable (Double) -> Void)? = accelerator.reportsKernelTimes
            ? { @Sendable [self] seconds in recordDeviceTime(decision, label: label, points: points, seconds: seconds) } : nil
        let task = executor.submit(label: label, dependencies: deps, chunks: [{ [self] _ in
            do { try accelerator.enqueue(code, launch, overwrites: full, timed: timed) } catch { asyncError.withLock { $0 = $0 ?? error } }
        }], onDone: { [self] t in
            // The task's time is the enqueue, not the device's run: counted here, measured later.
            record(decision, label: label, points: points, started: t.startedNanos, measured: nil)
        })
        registerWithDevice(task, reads: reads, writes: writes, written: .device, hostShare: nil)
    }

    /// `register` for a task whose kernel the accelerator runs (whole, or a part of it): its
    /// buffers are seen by the device, read ones are valid there too, written ones where
    /// `written` says (`hostShare`: the host's share of their rows after a split) (graph lock).
    func registerWithDevice(_ task: KernelTask, reads: [Buffer], writes: [Buffer], written: Validity, hostShare: Double?) {
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
            s.planned = written
            s.hostShare = hostShare
            s.lastWriter = task
            s.readers = []
        }
    }
}

/// The pieces of a split reduction: `count` ranges of its first reduce axis (fixed by the sizes,
/// so the same on every placement and thread count), each folding into its own block of
/// partials, combined in order by `combine`.
struct SplitPieces: Sendable {
    let count: Int
    /// The first reduce axis's extent.
    let extent: Int
    let launch: Launch
    let partials: Partials
    let stride: Int

    init(_ k: PlannedKernel) {
        let launch = k.launch, axes = k.kernel.parallelAxes
        count = k.splitChunks
        extent = launch.extent(axes)
        self.launch = launch
        stride = (0..<axes).reduce(1) { $0 * launch.extent($1) } * k.kernel.reductions.count * 16
        partials = Partials(byteCount: count * stride)
    }

    func range(_ c: Int) -> Range<Int> { (extent * c / count)..<(extent * (c + 1) / count) }

    func run(_ code: any PreparedKernel, piece c: Int) {
        let r = range(c)
        code.runSplit(launch, lo: r.lowerBound, hi: r.upperBound, partials: partials.pointer + c * stride)
    }

    func combine(_ code: any PreparedKernel) { code.combine(launch, partials: UnsafeRawPointer(partials.pointer), count: count) }
}

/// Scratch memory for partial reductions, freed when the last chunk closure lets go.
final class Partials: @unchecked Sendable {
    // This is safe: each chunk writes only its own disjoint block; the combine reads after all.
    let pointer: UnsafeMutableRawPointer
    init(byteCount: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 16), alignment: 64) }
    deinit { pointer.deallocate() }
}

extension Runtime {
    /// Queues the kernels of `plan` in order with their code (`ready`, from `place`): a lag
    /// chain whose members all run on the host goes as one lagged pass, every other kernel as
    /// its own submission. Returns how many lagged passes were queued (graph lock).
    func submit(_ plan: Plan, _ ready: [(ReadyCode, PlacementDecision)]) -> Int {
        var lagged = 0
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
        return lagged
    }
}
