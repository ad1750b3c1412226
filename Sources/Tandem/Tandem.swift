@_exported import TandemIR
import TandemCompiler
import TandemRuntime
import TandemInterpreter
import TandemCPU
import TandemCUDA
import TandemOpenCL
#if canImport(Glibc)
import Glibc
#endif

@_exported import enum TandemRuntime.DeviceChoice
@_exported import enum TandemRuntime.EagerMode
@_exported import struct TandemRuntime.Statistics
@_exported import enum TandemRuntime.TandemError
@_exported import struct TandemRuntime.Trace
@_exported import struct TandemRuntime.TraceEvent
@_exported import enum TandemModel.Placement
@_exported import struct TandemModel.MachineProfile

/// Process-wide entry points: devices, statistics, explicit flushes and plan inspection.
///
///     let s = Tandem.statistics          // kernels run, ops fused, compiles, ...
///     try Tandem.withDevice(.interpreter) { try x.sum().item() }
public enum Tandem {
    static let shared: (runtime: Runtime, cpu: CPUDevice, cuda: CUDADevice, openCL: OpenCLDevice) = {
        let statistics = StatisticsBox()
        let cpu = CPUDevice(statistics: statistics)
        // The GPU is probed at the first sync that could use it, never at link time.
        let cuda = CUDADevice(statistics: statistics)
        // Likewise the OpenCL loader (`TANDEM_DEVICE=opencl`, `withDevice(.opencl)`).
        let openCL = OpenCLDevice(statistics: statistics, cacheDirectory: cpu.cache.directory)
        let runtime = Runtime(devices: [cpu, InterpreterDevice()], queued: [cuda, openCL], statistics: statistics,
                              profile: { Calibration.profileForRuntime(workers: Tandem.runtime.executor.workers) })
        // Kernel runs count across processes, so a compile is amortised over a kernel's life.
        runtime.kernelHistory = KernelHistory(path: cpu.cache.directory + "/kernel-history")
        // And what their runs measured against the profile's predictions (`KernelFactorStore`).
        runtime.kernelFactorStore = KernelFactorStore(path: cpu.cache.directory + "/kernel-factors")
        // Which code variant each hot kernel runs fastest with (`Tuner`, `TANDEM_TUNE`), for this
        // machine and this binary.
        let executable = ProcessInfoLite.executablePath
        runtime.tuner = Tuner.fromEnvironment(database: TuningDatabase(
            path: cpu.cache.directory + "/tuning.json",
            machine: {
                let id = Tandem.runtime.costModel.profile.identity
                return "\(id.cpuModel), \(id.workers) workers, \(id.compiler)"
            },
            // The binary's hash is known from an earlier process (remembered by its stamp) or
            // made on the side; only a save waits for it.
            tandem: { wait in executable.flatMap { wait ? BinaryFingerprint.of($0) : BinaryFingerprint.ifKnown($0) } }))
        atexit { Tandem.runtime.saveKernelHistory() }
        // Background compiles still pending finish in processes of their own after exit, so the
        // next run finds the code (`Runtime.finishBackgroundCompilesAfterExit`): a detached
        // grandchild with every descriptor closed, one per kernel at a time across processes.
        // TANDEM_COMPILE_AFTER_EXIT=0 turns it off.
        if ProcessInfoLite.environment("TANDEM_COMPILE_AFTER_EXIT") != "0" {
            atexit { _ = Tandem.runtime.finishBackgroundCompilesAfterExit() }
        }
        if ProcessInfoLite.environment("TANDEM_TRACE") != nil {
            Tracer.shared.start()
            atexit { Tandem.writeTraceAtExit() }
        }
        if ProcessInfoLite.environment("TANDEM_PROFILE") != nil {
            atexit { ProcessInfoLite.warn(Tandem.profileSummary()) }
        }
        return (runtime, cpu, cuda, openCL)
    }()

    /// `TANDEM_TRACE`'s file at exit. A rank of an MPI job writes its own (`run.rank1.json`,
    /// `MPILaunch.fileForRank`), its events marked with its rank; `tandem report --trace` given
    /// every rank's file merges them into one timeline.
    static func writeTraceAtExit() {
        guard let asked = ProcessInfoLite.environment("TANDEM_TRACE") else { return }
        let launch = MPILaunch.current
        let path = launch.fileForRank(asked)
        do {
            let trace = Tracer.shared.stop()
            try (launch.isLaunched ? trace.forRank(launch.rank ?? 0) : trace).write(to: path)
            ProcessInfoLite.warn("tandem: trace written to \(path) (open it in ui.perfetto.dev or chrome://tracing)")
        } catch {
            ProcessInfoLite.warn("tandem: could not write the trace: \(error)")
        }
    }

    /// A compact account of the run, in the spirit of Bohrium's `prof`: counters, then the
    /// kernels that took the most time (`TANDEM_PROFILE=1` prints it at exit).
    public static func profileSummary() -> String {
        let s = statistics
        let fusedPerKernel = Double(s.opsFused) / Double(max(s.kernelsRun, 1))
        var lines = ["tandem profile:",
                     "  syncs \(s.syncs), plans \(s.plans) (planning \(seconds(s.planNanos)), \(s.planNodes) nodes, \(microsPerNode(s)) µs a node), kernels \(s.kernelsRun), ops fused \(s.opsFused) (\((fusedPerKernel * 100).rounded() / 100) per kernel)",
                     "  elements \(s.elements), bytes accessed \(s.bytesMoved), copied to the GPU \(s.bytesToDevice), back to the host \(s.bytesToHost)",
                     "  compiles \(s.compileMisses) (\(seconds(s.compileNanos))), cache hits memory \(s.compileMemoryHits) disk \(s.compileDiskHits), rejected \(s.cacheRejected)",
                     "  plan cache: hits \(s.planCacheHits), misses \(s.planCacheMisses); planning \(microsPerKernel(s)) µs a kernel, \(microsPerReusedKernel(s)) µs a kernel of a reused plan",
                     "  nodes kept for their holders \(s.keptNodes)",
                     "  operations computed at once on the calling thread (eager) \(s.eagerOps), of them slice writes in place \(s.eagerWritesInPlace); turned off for repeating \(s.eagerStops)",
                     "  updates in place \(s.inPlaceUpdates), fresh \(s.freshUpdates), copied \(s.copiedUpdates); fallbacks \(s.fallbacks)",
                     "  lagged passes \(s.laggedPasses), runs of code specialised to their launch \(s.specializedRuns), runs of tuned variants \(s.variantRuns), kernels run as stages of sequences \(s.sequenceStages), reductions fused into their consumer's epilogue \(s.fusedEpilogues)",
                     "  kernels by placement: " + s.kernelsByDevice.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                        + " (\(s.forcedPlacements) forced)",
                     "  cost model: kernel time predicted \(seconds(s.predictedNanos)), measured \(seconds(s.measuredNanos)), mean |error| \((s.meanAbsPredictionError * 1e8).rounded() / 100) µs per kernel",
                     "  rate corrections from measured kernels: " + rateCorrectionsSummary(),
                     "  kernels by time:"]
        lines.append(runtime.profileSummary())
        return lines.joined(separator: "\n")
    }

    private static func microsPerNode(_ s: Statistics) -> Double {
        (Double(s.planNanos) / 1e3 / Double(max(s.planNodes, 1)) * 100).rounded() / 100
    }

    private static func rateCorrectionsSummary() -> String {
        let c = runtime.rateCorrections.withLock { $0 }
        let rows = Placement.allCases.compactMap { p -> String? in
            guard let n = c.samples[p] else { return nil }
            return "\(p) x\((c.factor(p) * 100).rounded() / 100) (\(n) kernels)"
        }
        return rows.isEmpty ? "none (no kernel took 50 µs)" : rows.joined(separator: ", ")
    }

    private static func microsPerKernel(_ s: Statistics) -> Double {
        (Double(s.planNanos) / 1e3 / Double(max(s.kernelsRun, 1)) * 100).rounded() / 100
    }

    private static func microsPerReusedKernel(_ s: Statistics) -> Double {
        (Double(s.planHitNanos) / 1e3 / Double(max(s.planHitKernels, 1)) * 100).rounded() / 100
    }

    private static func seconds(_ nanos: UInt64) -> String { "\((Double(nanos) / 1e7).rounded() / 100) s" }

    /// Records every kernel, compile, plan, sync, allocation and fallback while `body` runs.
    ///
    ///     let (energy, trace) = try Tandem.trace { try (x * x).sum().item() }
    ///     try trace.write(to: "run.json")       // open in ui.perfetto.dev or chrome://tracing
    public static func trace<R>(_ body: () throws -> R) rethrows -> (R, Trace) {
        _ = runtime
        let session = Tracer.shared.start()
        do {
            let r = try body()
            return (r, Tracer.shared.stop(session))
        } catch {
            Tracer.shared.stop(session)
            throw error
        }
    }

    /// Graphviz DOT of what a sync of `tensors` would run now: the pending graph, with each
    /// kernel of the plan drawn as a cluster around the nodes it fuses (nothing runs).
    ///
    ///     let delta = grid[1..<513, 1..<513] * 0.25, total = delta.sum()
    ///     print(Tandem.graphviz(delta, total))   // render with `dot -Tsvg`
    public static func graphviz(_ tensors: any TensorParts...) -> String {
        runtime.graphviz(tensors.flatMap(\.partNodes))
    }

    /// The runtime every tensor uses, created at first use with the CPU and interpreter devices.
    public static var runtime: Runtime { shared.runtime }

    /// The CPU device: its compiler (or why none was found) and its kernel cache.
    public static var cpu: CPUDevice { shared.cpu }

    /// Whether host code compiled outside the kernels (the tiled product, compiled loop nests)
    /// may run here: the placement in force lets the host's compiled code run (`auto`, `cpu`,
    /// `cpu-1`) and there is a C compiler.
    static var hostCodeAllowed: Bool {
        let choice = runtime.deviceChoice
        return (choice == .auto || choice == .cpu || choice == .cpu1) && shared.cpu.availability == .available
    }

    /// The threads such code may split its work over: one under `cpu-1`, every worker otherwise.
    static var hostThreads: Int { runtime.deviceChoice == .cpu1 ? 1 : runtime.executor.workers }

    /// Counters since start or the last `resetStatistics()`.
    public static var statistics: Statistics { runtime.statistics.snapshot }

    /// Sets every counter of `statistics` back to zero (a benchmark's runs counted apart).
    public static func resetStatistics() { runtime.statistics.reset() }

    /// Runs `body` with kernels placed on `device` (overrides `TANDEM_DEVICE` for this task).
    ///
    ///     let exact = try Tandem.withDevice(.interpreter) { try (a * b).sum().item() }
    public static func withDevice<R>(_ device: DeviceChoice, _ body: () throws -> R) rethrows -> R {
        try Runtime.withScopedDevice(device, body)
    }

    /// Runs `body` with operations on a few stored values computed at once (`.always`), always
    /// recorded and planned (`.off`), or as `TANDEM_EAGER` says for the process (`.auto`, the
    /// default: eager while the recent syncs' plans were new; README "Operations computed at
    /// once"). For comparing the two paths, and for code whose graphs are inspected
    /// (`kernelIR`, `graphviz`) on small tensors.
    ///
    ///     let planned = try Tandem.withEager(.off) { try (a * b).sum().item() }
    public static func withEager<R>(_ mode: EagerMode, _ body: () throws -> R) rethrows -> R {
        try Runtime.withEagerMode(mode, body)
    }

    /// Async variant of `withDevice(_:_:)`.
    public static func withDevice<R>(_ device: DeviceChoice, _ body: () async throws -> R) async rethrows -> R {
        try await Runtime.withScopedDevice(device, body)
    }

    /// Runs `body` with every kernel that can be cut split between the CPU and the accelerator
    /// (`DeviceChoice.split`): rows `0..<r` of its outer axis as compiled C on the workers, the
    /// rest on OpenCL, at once. `hostShare` fixes `r / rows` (0 ... 1; rounded to a multiple of
    /// 64 rows in a kernel of one axis); nil lets the cost model choose the share at which both
    /// parts are predicted to finish together. Each split is in `Tandem.runtime.splitRecords`.
    /// Throws at the first sync when no accelerator runs parts of kernels.
    ///
    ///     let x = Tensor<Double>.uniform([4096, 512], seed: 1, in: 0...1)
    ///     // The row sums are split (rows 0..<2048 on the CPU); the maximum of them is not.
    ///     let y = try Tandem.withSplit(hostShare: 0.5) { try (x * 2 + 1).sum(axis: 1).max().item() }
    public static func withSplit<R>(hostShare: Double?, _ body: () throws -> R) throws -> R {
        if let s = hostShare, !(0...1).contains(s) {
            throw TandemError.deviceUnavailable(device: "split", reason: "the host's share \(s) is not between 0 and 1")
        }
        return try Runtime.withScopedDevice(.split) { try Runtime.$scopedSplitShare.withValue(hostShare, operation: body) }
    }

    /// Queues the computation of all `tensors` as one plan (so they share kernels) and returns
    /// without waiting. Reading any of them afterwards waits only for what it needs.
    ///
    ///     try Tandem.flush(callSum, putSum)      // one fused kernel computes both sums
    ///     let c = try callSum.item(), p = try putSum.item()
    public static func flush(_ tensors: any TensorParts...) throws {
        try runtime.materialize(tensors.flatMap(\.partNodes))
    }

    /// `flush` of a list built at run time.
    ///
    ///     try Tandem.flush(fields)          // fields: [Tensor<Double>]
    public static func flush(_ tensors: [any TensorParts]) throws {
        try runtime.materialize(tensors.flatMap(\.partNodes))
    }

    /// Computes `tensors` (as one plan, like `flush`) and waits until their values are in host
    /// memory, without copying them out: the barrier before timing or before handing buffers on.
    ///
    ///     try Tandem.wait(u, v)
    public static func wait(_ tensors: any TensorParts...) throws { try wait(tensors) }

    /// `wait` of a list built at run time.
    public static func wait(_ tensors: [any TensorParts]) throws {
        let nodes = tensors.flatMap(\.partNodes)
        try runtime.materialize(nodes)
        for node in nodes { _ = try runtime.read(node, call: "Tandem.wait") }
    }

    /// Waits until everything queued so far (by any sync point or flush) has run.
    ///
    ///     try Tandem.flush(a); try Tandem.flush(b)
    ///     try Tandem.waitForAll()
    public static func waitForAll() throws { try runtime.waitAll() }

    /// The kernel IR a sync of `tensors` would run now, as text (nothing runs).
    public static func kernelIR(_ tensors: any TensorParts...) -> String {
        let plan = runtime.preview(tensors.flatMap(\.partNodes))
        return plan.kernels.enumerated().map { i, k in
            "// kernel \(i): \(k.label)\n" + KernelPrinter.print(k.kernel, launch: k.launch)
        }.joined(separator: "\n")
    }

    /// The C source of the kernels a sync of `tensors` would run now (nothing runs).
    public static func generatedC(_ tensors: any TensorParts...) -> [String] {
        runtime.preview(tensors.flatMap(\.partNodes)).kernels.map { CRenderer.render($0.kernel) }
    }

    /// The kernels a sync of `tensors` would run now (nothing runs).
    public static func plan(_ tensors: any TensorParts...) -> Plan {
        runtime.preview(tensors.flatMap(\.partNodes))
    }
}

/// Anything backed by a lazy graph node (every `Tensor`).
public protocol TensorProtocol: TensorParts {
    var node: Node { get }
}

/// A value made of lazy tensors: a `Tensor` (one part) or a `ComplexTensor` (its real and
/// imaginary parts). Syncs (`Tandem.flush`, `Tandem.wait`) and saves (`Tandem.savez`, which
/// stores a complex tensor's parts interleaved as NumPy's complex dtypes) take either.
///
///     try Tandem.flush(t, ComplexTensor(real: x, imaginary: y))
public protocol TensorParts {
    /// The graph nodes of the value's parts, real part first.
    var partNodes: [Node] { get }
}

extension TensorProtocol {
    /// A tensor is one part.
    public var partNodes: [Node] { [node] }
}

extension ComplexTensor: TensorParts {
    /// The real part's node, then the imaginary part's.
    public var partNodes: [Node] { [real.node, imaginary.node] }
}
