import TandemIR

/// Where one kernel can run. The runtime offers the options whose device is available.
public enum Placement: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// The Swift interpreter of kernel IR, chunked over all workers: no compile, slow per point.
    case interpreter
    /// Compiled C as one chunk on one worker: no fork/join cost.
    case cpu1 = "cpu-1"
    /// Compiled C split over all workers.
    case cpuAll = "cpu"
    /// CUDA C on the GPU.
    case cuda
    /// OpenCL C on the OpenCL device (a GPU of any vendor, or PoCL on the CPU's cores).
    case opencl

    public var description: String { rawValue }

    /// The resource the option occupies (options on one resource queue behind each other).
    public var resource: Resource { isAccelerator ? .gpu : .cpu }

    /// A device with its own memory and queue (`QueuedKernelDevice`): CUDA or OpenCL.
    public var isAccelerator: Bool { self == .cuda || self == .opencl }

    /// The position in `allCases`.
    public var ordinal: Int {
        switch self {
        case .interpreter: 0
        case .cpu1: 1
        case .cpuAll: 2
        case .cuda: 3
        case .opencl: 4
        }
    }

    public enum Resource: Sendable, Hashable { case cpu, gpu }
}

/// Whether a kernel's code is ready on a device.
public enum CodeState: Sendable, Equatable {
    /// Loaded in this process.
    case ready
    /// Compiled earlier, in the on-disk cache: costs a load.
    case onDisk
    /// Must be compiled.
    case missing
}

/// Static features of a kernel, computed once per kernel structure at codegen (no sizes).
public struct KernelFeatures: Sendable, Equatable {
    /// Operations per domain point by class, for 4-byte-or-narrower and for 8-byte types.
    public var narrowOps: [OpClassKey: Int] = [:]
    public var wideOps: [OpClassKey: Int] = [:]
    /// IR instructions per domain point, loads and stores included (what the interpreter pays).
    public var instructions: Int = 0
    /// Loads and stores per domain point; `stridedLoads` of the loads step through memory along
    /// the innermost axis with a stride other than 0 or 1.
    public var stridedLoads: Int = 0
    public var loads: Int = 0
    public var stores: Int = 0
    public var rank: Int
    public var parallelAxes: Int
    public var reductions: Int
    /// `Kernel.compileWeight`: what the compile time grows with.
    public var compileWeight: Int

    /// The features of `kernel`; of a sequence kernel (`Kernel.sequence`), its stages' counts
    /// averaged over the sequence's points (`KernelRun.points`, their sum), each stage weighed
    /// by its own points in `stagePoints` (from the launch), rounded up; the launch is counted
    /// once. (Summed as if every stage ran over every point, a stencil and its four border
    /// copies were priced 20-40 times their measured 3-6 µs and sent to a worker instead of
    /// running on the calling thread.) Without `stagePoints`, the stages weigh the same.
    public init(_ kernel: Kernel, stagePoints: [Int] = []) {
        compileWeight = kernel.compileWeight
        rank = kernel.rank
        if kernel.isSequence {
            parallelAxes = 0
            reductions = 0
            let weights = stagePoints.count == kernel.stages.count ? stagePoints.map { Swift.max(0, $0) } : kernel.stages.map { _ in 1 }
            let total = Swift.max(1, weights.reduce(0, +))
            func average(_ sum: Int) -> Int { (sum + total - 1) / total }
            var narrow: [OpClassKey: Int] = [:], wide: [OpClassKey: Int] = [:]
            var counts = [0, 0, 0, 0]
            for (stage, w) in zip(kernel.stages, weights) {
                let f = KernelFeatures(stage.kernel)
                for (c, n) in f.narrowOps { narrow[c, default: 0] += n * w }
                for (c, n) in f.wideOps { wide[c, default: 0] += n * w }
                counts[0] += f.instructions * w
                counts[1] += f.stridedLoads * w
                counts[2] += f.loads * w
                counts[3] += f.stores * w
                reductions += f.reductions
            }
            narrowOps = narrow.mapValues(average)
            wideOps = wide.mapValues(average)
            instructions = average(counts[0])
            stridedLoads = average(counts[1])
            loads = average(counts[2])
            stores = average(counts[3])
            return
        }
        parallelAxes = kernel.parallelAxes
        reductions = kernel.reductions.count
        for instr in kernel.instrs where !instr.epilogue {
            instructions += 1
            let cls: OpClassKey?
            var count = 1
            switch instr.op {
            case .unary(let op, _): cls = OpClassKey(op.costClass)
            // A floating-point remainder is a libm call (`fmod`), not a division.
            case .binary(.rem, _, _) where instr.dtype.isFloatingPoint: cls = .remainder
            case .binary(let op, _, _): cls = OpClassKey(op.costClass)
            case .select, .cast: cls = .simple
            // SplitMix64 and the scaling: about a dozen integer and float operations.
            case .uniform: cls = .random
            case .iota: cls = .simple
            case .load(_, let a):
                loads += 1
                if let last = kernel.accesses[a].strides.last, last != .zero, last != .one { stridedLoads += 1 }
                cls = nil
            case .gather:
                // Positions depend on data: priced as a strided load plus the index arithmetic.
                loads += 1
                stridedLoads += 1
                cls = .simple
            default: cls = nil
            }
            guard let cls else { continue }
            if instr.dtype.byteSize == 8 { wideOps[cls, default: 0] += count } else { narrowOps[cls, default: 0] += count }
        }
        stores = kernel.stores.filter { !$0.epilogue }.count
        instructions += stores + kernel.reductions.count
    }

    /// Operations per point by class, whatever their width.
    public var allOps: [OpClassKey: Int] { narrowOps.merging(wideOps, uniquingKeysWith: +) }

    /// Seconds per point of compute with `narrow` and `wide` per-op costs.
    func computePerPoint(narrow: OpCosts, wide: OpCosts) -> Double {
        var s = 0.0
        for (c, n) in narrowOps { s += Double(n) * narrow[c] }
        for (c, n) in wideOps { s += Double(n) * wide[c] }
        return s
    }
}

extension OpClassKey {
    public init(_ c: OpClass) {
        switch c {
        case .simple: self = .simple
        case .divide: self = .divide
        case .sqrt: self = .sqrt
        case .exp: self = .exp
        case .transcendental: self = .transcendental
        case .erf: self = .erf
        case .pow: self = .pow
        }
    }
}

/// What the runtime knows about one run of a kernel: sizes, residency, compiled state, history.
public struct KernelRun: Sendable {
    /// Domain points (product of all extents).
    public var points: Int
    /// Points of the parallel axes (product of their extents).
    public var parallelPoints: Int
    /// Extent of the first axis (CPU chunks split it).
    public var firstExtent: Int
    /// For split reductions, the number of partial chunks (fixed by the sizes); else 0.
    public var splitChunks: Int
    /// Bytes read and written, each access once.
    public var bytes: Int
    /// Extent of the innermost axis (each run of it is one inner loop).
    public var innerExtent: Int = 1
    /// Calls of compiled or interpreted code the run makes per chunk: a sequence kernel's
    /// stages (`Kernel.sequence`) are one call each.
    public var calls: Int = 1
    /// Bytes written into memory never touched before (the allocator has no warm block).
    public var freshBytes: Int = 0
    /// Bytes of inputs valid only on the host (a GPU option must copy them over first).
    public var hostOnlyBytes: Int
    /// Bytes of inputs valid only on the device (a CPU option must copy them back first).
    public var deviceOnlyBytes: Int
    /// Whether compiled code exists, per option that compiles (interpreter is always ready).
    public var code: [Placement: CodeState]
    /// How many times this kernel structure has run, in this process and (by the kernel
    /// history) in earlier ones: amortises compiling, whose code outlives the process.
    public var previousRuns: Int
    /// How many of `previousRuns` were in this process: amortises loading code from the disk
    /// cache, paid once a process. Charged in full at every decision, a 233 µs load kept a heat
    /// solver's 15 µs step kernel (cached on disk, run 119 times a run) in the interpreter at
    /// 86 µs for good, 1.3-2x slower than forcing the CPU.
    public var processRuns: Int = 0

    public init(points: Int, parallelPoints: Int, firstExtent: Int, splitChunks: Int, bytes: Int,
                hostOnlyBytes: Int = 0, deviceOnlyBytes: Int = 0, code: [Placement: CodeState] = [:], previousRuns: Int = 0) {
        self.points = points
        self.parallelPoints = parallelPoints
        self.firstExtent = firstExtent
        self.splitChunks = splitChunks
        self.bytes = bytes
        self.hostOnlyBytes = hostOnlyBytes
        self.deviceOnlyBytes = deviceOnlyBytes
        self.code = code
        self.previousRuns = previousRuns
    }
}

/// A predicted time, in seconds, by component. `compute` is the kernel's own run time (first
/// chunk start to end, as the runtime measures kernels); `launch`, `compile` and `transfer` are
/// paid around it.
public struct Prediction: Sendable, Equatable, CustomStringConvertible {
    public var placement: Placement
    public var transfer = 0.0
    public var compile = 0.0
    public var launch = 0.0
    public var compute = 0.0
    /// The component that bounds compute: "memory" or "compute" (or "interpreter").
    public var bound = ""
    /// Run on the calling thread instead of the worker pool (host placements, one chunk): a
    /// kernel whose run is shorter than waking a worker costs less there (see `CostModel.inline`).
    public var inline = false

    public var total: Double { transfer + compile + launch + compute }

    public init(placement: Placement, transfer: Double = 0, compile: Double = 0, launch: Double = 0, compute: Double = 0) {
        self.placement = placement
        self.transfer = transfer
        self.compile = compile
        self.launch = launch
        self.compute = compute
    }

    public var description: String { "\(placement) \(CostModel.format(total))" }
}

/// The staged cost model: static features from codegen, sizes and residency at run time, rates
/// from the machine profile.
///
/// Compiled CPU kernels follow a roofline: the larger of compute (per-op costs measured with data
/// in cache, divided over the threads that get a chunk) and memory traffic (bytes over the
/// bandwidth of that many threads), plus the pool's launch and per-chunk costs. The GPU adds
/// transfers of operands not resident there, launch latency, and wave quantisation: blocks run
/// in waves of `multiprocessors × blocksPerMultiprocessor`, a partly filled wave costs a full
/// one, so a domain too small to fill the device is starved (it pays a wave for little work).
/// Compiling is charged when the code is not cached, amortised over the runs this kernel has had
/// (`compile / (previousRuns + 1)`): a kernel seen once stays in the interpreter unless compiling
/// pays back at once, one that keeps coming back gets compiled (the ski-rental rule).
///
///     let model = CostModel(profile: profile)
///     let best = model.choose(model.predictAll(features, run, options: [.interpreter, .cpu1, .cpuAll]))
public struct CostModel: Sendable {
    public var profile: MachineProfile
    /// Seconds per unit of `Kernel.compileWeight` of a C compile, measured (`compileTime`); nil
    /// until a compile was measured.
    public var measuredCompileRate: Double? = nil

    /// The profile's `compileSeconds` is taken as the compile of a kernel of this
    /// `compileWeight` (instructions of a map), a quarter of it fixed (the compiler's start and the link), the rest
    /// proportional to the instructions: one number measured on one kernel said 0.32 s for
    /// every kernel, where the machine this was written on compiles a 1- to 40-instruction kernel
    /// in 0.07-0.1 s (alone) and a 538-instruction one (mandelbrot's unrolled iterations) in
    /// 0.31 s, while an option pricer's fused time loop took 1.2 s and the interpreter ran it in
    /// 0.4 s: about 0.45 ms per unit of weight beyond the fixed part, which a 500-unit reference
    /// kernel at the built-in 0.32 s gives (a pessimistic prior kept mandelbrot's 0.13 s kernels
    /// interpreted in every run: no compile ever measured a better rate). The rate this process measures (and earlier ones, `compile-rate` in the cache
    /// folder) replaces the prior.
    public static let compileReferenceInstructions = 500

    /// The fixed part of a C compile (seconds).
    public var compileBaseSeconds: Double { profile.cpu.compileSeconds * 0.25 }

    /// Seconds per unit of compile weight: measured in this process once there is a
    /// measurement (within 1/16 to 16 times the profile's), else the profile's.
    public var compileRate: Double {
        let prior = profile.cpu.compileSeconds * 0.75 / Double(CostModel.compileReferenceInstructions)
        guard let measured = measuredCompileRate else { return prior }
        return Swift.min(prior * 16, Swift.max(prior / 16, measured))
    }

    /// The predicted time of compiling `f`'s kernel to C.
    public func compileTime(_ f: KernelFeatures) -> Double {
        compileBaseSeconds + compileRate * Double(f.compileWeight)
    }

    public init(profile: MachineProfile) { self.profile = profile }

    /// The number of chunks the runtime splits a CPU kernel into (one source of truth for the
    /// executor and the model): split reductions use their fixed chunk count; other kernels split
    /// the first axis into at most 4 chunks per worker of at least 32768 points each.
    public static func cpuChunks(points: Int, firstExtent: Int, parallelAxes: Int, splitChunks: Int, workers: Int) -> Int {
        if splitChunks > 0 { return splitChunks }
        if parallelAxes == 0 { return 1 }
        return max(1, min(firstExtent, min(workers * 4, points / 32768)))
    }

    public var workers: Int { max(1, profile.identity.workers) }

    public func predict(_ f: KernelFeatures, _ run: KernelRun, on placement: Placement) -> Prediction {
        var p = Prediction(placement: placement)
        let cpu = profile.cpu
        switch placement {
        case .interpreter, .cpu1, .cpuAll:
            let chunks = CostModel.cpuChunks(points: run.points, firstExtent: run.firstExtent, parallelAxes: f.parallelAxes,
                                             splitChunks: run.splitChunks, workers: workers)
            let threads = placement == .cpu1 ? 1 : min(workers, chunks)
            p.transfer = transfer(run.deviceOnlyBytes, gpu: profile.gpu, toDevice: false)
            let firstTouch = Double(run.freshBytes) * cpu.firstTouchSecondsPerByte / Double(threads)
            // Dispatch once; each further chunk costs a little (cpu-1 runs one chunk).
            p.launch = cpu.launchSeconds
            let chunkCost = placement == .cpu1 ? 0 : Double(chunks - 1) * cpu.chunkSeconds
            if placement == .interpreter {
                var perPoint = Double(f.instructions) * cpu.interpreterSecondsPerInstruction
                for (c, n) in f.allOps { perPoint += Double(n) * cpu.interpreterOps[c] }
                perPoint += Double(f.loads) * cpu.interpreterAccessSeconds + cpu.interpreterPointSeconds
                    + Double(f.reductions) * cpu.interpreterReductionSeconds
                let speedup = min(Double(threads), max(cpu.interpreterSpeedup, 1))
                let rows = Double(run.points) / Double(max(run.innerExtent, 1))
                p.compute = (Double(run.points) * perPoint + rows * cpu.interpreterRowSeconds) / speedup + chunkCost + firstTouch
                    + Double(chunks * run.calls) / Double(threads) * cpu.interpreterCallSeconds
                p.bound = "interpreter"
            } else {
                let perPoint = f.computePerPoint(narrow: cpu.f32, wide: cpu.f64) + Double(f.loads + f.stores) * cpu.accessSeconds
                    + Double(f.stridedLoads) * cpu.stridedAccessSeconds
                let loops = Double(run.points) / Double(max(run.innerExtent, 1))
                let compute = (Double(run.points) * perPoint + loops * cpu.loopSeconds) / Double(threads)
                // The level the kernel's bytes fit in (a cache), else memory.
                let level = cpu.cacheBandwidth.first { run.bytes <= $0.maxBytes }
                let one = level?.oneThread ?? cpu.bandwidthOneThread, all = level?.allThreads ?? cpu.bandwidthAllThreads
                let bandwidth = threads <= 1 || workers <= 1 ? one : one + (all - one) * Double(threads - 1) / Double(workers - 1)
                let memory = Double(run.bytes) / bandwidth
                p.compute = max(compute, memory) + chunkCost + firstTouch
                    + Double((placement == .cpu1 ? 1 : chunks) * run.calls) / Double(threads) * cpu.callSeconds
                p.bound = memory >= compute ? "memory" : "compute"
                p.compile = codeCost(run.code[placement] ?? run.code[.cpuAll] ?? .ready, compile: compileTime(f), load: cpu.loadSeconds,
                                     run: run)
            }
            // One chunk that runs in less time than waking a worker: the caller runs it.
            if placement != .cpuAll || chunks == 1, p.compute <= cpu.launchSeconds {
                p.inline = true
                p.launch = 0
            }
        case .cuda, .opencl:
            // The OpenCL device has its own measurements (`MachineProfile.openCL`); without
            // them the model never offers it (forced placements still run there).
            guard let gpu = placement == .cuda ? profile.gpu : profile.openCL else {
                p.compute = .infinity
                return p
            }
            p.transfer = transfer(run.hostOnlyBytes, gpu: gpu, toDevice: true)
            p.launch = gpu.launchSeconds * (f.reductions > 0 ? 2 : 1)
            let points = max(run.points, 1)
            let memory = Double(run.bytes) / Double(points) / gpu.bandwidth
            // Each reduction adds its value into a double (or 64-bit) accumulator at every point.
            let compute = f.computePerPoint(narrow: gpu.f32, wide: gpu.f64) + Double(f.reductions) * gpu.f64[.simple]
            p.compute = Double(CostModel.gpuPaddedPoints(points: points, gpu: gpu)) * max(memory, compute)
            // Outputs in memory no earlier kernel wrote (the host's pool has no block of that size
            // either: the same estimate as the CPU's) fault their pages in on a device on host memory.
            p.compute += Double(run.freshBytes) * (gpu.firstTouchSecondsPerByte ?? 0)
            p.bound = memory >= compute ? "memory" : "compute"
            p.compile = codeCost(run.code[placement] ?? .missing, compile: gpu.compileSeconds, load: gpu.loadSeconds, run: run)
        }
        return p
    }

    /// Points the GPU spends time on: blocks of one point per thread, rounded up to whole waves
    /// (wave quantisation; a domain smaller than one wave pays the whole wave: starvation).
    public static func gpuPaddedPoints(points: Int, gpu: GPUProfile) -> Int {
        let threads = max(gpu.threadsPerBlock, 1)
        let blocks = (points + threads - 1) / threads
        let wave = max(gpu.waveBlocks, 1)
        let waves = max(1, (blocks + wave - 1) / wave)
        return waves * wave * threads
    }

    /// Copy time for `bytes` across the link (zero bytes cost nothing).
    func transfer(_ bytes: Int, gpu: GPUProfile?, toDevice: Bool) -> Double {
        guard bytes > 0, let gpu else { return 0 }
        let link = toDevice ? gpu.hostToDevice : gpu.deviceToHost
        let bw = bytes >= gpu.pinnedThreshold ? link.pinnedBandwidth : link.pageableBandwidth
        return link.latencySeconds + Double(bytes) / bw
    }

    /// What getting the code costs, amortised the ski-rental way over as many runs ahead as
    /// behind: a compile over the kernel's runs in every process (its code is cached), a load
    /// from the disk cache over its runs in this one (the next process loads it again).
    func codeCost(_ state: CodeState, compile: Double, load: Double, run: KernelRun) -> Double {
        switch state {
        case .ready: 0
        case .onDisk: load / Double(max(0, run.processRuns) + 1)
        case .missing: compile / Double(run.previousRuns + 1)
        }
    }

    public func predictAll(_ f: KernelFeatures, _ run: KernelRun, options: [Placement]) -> [Prediction] {
        options.map { predict(f, run, on: $0) }
    }

    /// The option that finishes first, given how long each resource is already busy (seconds from
    /// now, predicted). Ties go to the earlier option in `predictions`.
    public func choose(_ predictions: [Prediction], busy: [Placement.Resource: Double] = [:]) -> Prediction {
        var best = predictions[0]
        var bestFinish = Double.infinity
        for p in predictions {
            let finish = (busy[p.placement.resource] ?? 0) + p.total
            if finish < bestFinish {
                best = p
                bestFinish = finish
            }
        }
        return best
    }

    /// Seconds with a unit that fits (`12.3 µs`, `4.56 ms`, `1.23 s`).
    public static func format(_ s: Double) -> String {
        func r(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
        if !s.isFinite { return "∞" }
        if s < 1e-3 { return r(s * 1e6) + " µs" }
        if s < 1 { return r(s * 1e3) + " ms" }
        return r(s) + " s"
    }
}
