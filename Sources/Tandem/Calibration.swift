import FoundationEssentials
import TandemCompiler
import TandemRuntime
import TandemInterpreter
import TandemCPU
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Measures the machine for the cost model: memory bandwidth on one thread and on all workers,
/// per-element cost of each operation class in f32 and f64, the worker pool's launch and
/// per-chunk costs, the interpreter's rate, and the C compiler's compile and load times.
///
/// Every measurement runs kernels that Tandem itself generated, compiled and loaded the usual
/// way, timed directly (median of repeats), outside the runtime's scheduler and statistics.
///
///     let profile = try Calibration.measure(quick: false)
///     try Calibration.save(profile)            // the cache folder's machine-profile.json
public enum Calibration {
    /// The file the profile lives in: `machine-profile.json` in the kernel cache folder.
    public static var profilePath: String { Tandem.cpu.cache.directory + "/machine-profile.json" }

    /// This machine as the runtime sees it.
    public static func identity(workers: Int) -> MachineIdentity {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        let cpuinfo = ProcessInfoLite.contents(of: "/proc/cpuinfo").map { String(decoding: $0, as: UTF8.self) } ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String(($0.split(separator: ":", maxSplits: 1).last ?? "").drop { $0 == " " || $0 == "\t" }) } ?? "unknown"
        let compiler: String
        switch Tandem.cpu.toolchain {
        case .success(let tc): compiler = tc.identity
        case .failure: compiler = "none"
        }
        return MachineIdentity(host: String(cString: host), cpuModel: model, workers: workers, compiler: compiler, gpu: nil)
    }

    /// The saved profile if it was measured on this machine (same identity and format), else nil.
    public static func load(path: String = profilePath, workers: Int) -> MachineProfile? {
        guard let bytes = ProcessInfoLite.contents(of: path),
              let p = try? JSONDecoder().decode(MachineProfile.self, from: Data(bytes)),
              p.version == MachineProfile.currentVersion, p.identity == identity(workers: workers) else { return nil }
        return p
    }

    /// Writes the profile as readable JSON (keys sorted, indented).
    public static func save(_ profile: MachineProfile, path: String = profilePath) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(profile)
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !dir.isEmpty { mkdir(dir, 0o700) }
        guard ProcessInfoLite.write(Array(data), to: path) else {
            throw TandemError.loadFailed(path: path, reason: "cannot write the machine profile: errno \(errno)")
        }
    }

    /// The profile the runtime starts with: the saved one, or a quick calibration (said once, and
    /// saved). An unwritable cache folder only costs the next process another quick calibration.
    static func profileForRuntime(workers: Int) -> MachineProfile {
        if let p = load(workers: workers) { return p }
        do {
            let p = try measure(quick: true, workers: workers)
            let saved: String
            do {
                try save(p)
                saved = "saved to \(profilePath)"
            } catch {
                saved = "not saved: \(error)"
            }
            ProcessInfoLite.warn("tandem: no machine profile for this machine; quick calibration took \((p.calibrationSeconds * 100).rounded() / 100) s (\(saved); `tandem calibrate` measures a full one)")
            return p
        } catch {
            // Nothing measurable (a compiler that fails on the calibration kernels): the
            // interpreter-only profile still prices the interpreter from a measurement.
            ProcessInfoLite.warn("tandem: calibration failed (\(error)); only the interpreter is priced from measurements")
            return (try? measure(quick: true, workers: workers, compiled: false))
                ?? MachineProfile(identity: identity(workers: workers), quick: true, calibrationSeconds: 0,
                                  cpu: CPUProfile(bandwidthOneThread: 1, bandwidthAllThreads: 1, f32: .uniform(0), f64: .uniform(0),
                                                  launchSeconds: 0, chunkSeconds: 0, interpreterSecondsPerInstruction: 0,
                                                  compileSeconds: 0, loadSeconds: 0), gpu: nil)
        }
    }

    /// Measures this machine. `quick` uses small sizes and few repeats (well under a second once
    /// the calibration kernels are in the cache; their first compile adds a few tenths).
    public static func measure(quick: Bool, workers: Int? = nil, compiled: Bool = true) throws -> MachineProfile {
        let start = ProcessInfoLite.monotonicNanos()
        let executor = Tandem.runtime.executor
        let workers = workers ?? executor.workers
        let statistics = StatisticsBox()     // calibration compiles are not the user's
        let cpu = CPUDevice(statistics: statistics, cache: Tandem.cpu.cache, toolchain: Tandem.cpu.toolchain)
        let canCompile = compiled && cpu.availability == .available
        let repeats = quick ? 5 : 21

        // Pool costs: an empty one-chunk task, then one with a chunk per 4 × workers.
        let empty: @Sendable (Int) -> Void = { _ in }
        let launch = median(quick ? 40 : 400) {
            executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: [empty]))
        }
        let many = median(quick ? 40 : 400) {
            executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: Array(repeating: empty, count: workers * 4)))
        }
        let chunkSeconds = max(0, (many - launch) / Double(max(workers * 4 - 1, 1)))

        // The interpreter's rate on a chain of simple operations, then the extra cost of each
        // other class (its scalar math call) on chains of that class.
        let interpN = quick ? 1024 : 8192
        let interpreter = InterpreterDevice()
        func interpreted(_ k: PlannedKernel) throws -> Double {
            let code = try interpreter.prepare(k.kernel)
            return timeRepeated(repeats) { code.run(k.launch, lo: 0, hi: k.launch.extent(0)) } / Double(interpN)
        }
        let interpSimple = kernel(chain(.simple, input(Double.self, interpN), steps: 16))
        let interpreterRate = try interpreted(interpSimple) / Double(KernelFeatures(interpSimple.kernel).instructions)
        // Loads: eight shifted views of one input summed (8 loads, 7 adds, a store).
        let shifted = input(Double.self, interpN + 8)
        var sum8 = shifted[0..<interpN]
        for i in 1..<8 { sum8 = sum8 + shifted[i..<(interpN + i)] }
        let interpLoads = kernel(sum8)
        let loadFeatures = KernelFeatures(interpLoads.kernel)
        let interpreterAccess = max(0, (try interpreted(interpLoads) - Double(loadFeatures.instructions) * interpreterRate) / Double(loadFeatures.loads))
        let tiny = kernel(input(Double.self, 1) * 1.5)
        let tinyInterp = try interpreter.prepare(tiny.kernel)
        let interpreterCall = taskTime(quick ? 40 : 200) { tinyInterp.run(tiny.launch, lo: 0, hi: 1) }
        var interpreterOps = OpCosts.uniform(0)
        for c in OpClassKey.allCases where c != .simple {
            let k = c == .random ? kernel(Tensor<Double>.uniform([interpN], seed: 3) * 1.5) : kernel(chain(c, input(Double.self, interpN), steps: steps(c)))
            let f = KernelFeatures(k.kernel)
            interpreterOps[c] = max(0, (try interpreted(k) - Double(f.instructions) * interpreterRate) / Double(f.allOps[c] ?? 1))
        }

        var cpuProfile = CPUProfile(bandwidthOneThread: 1, bandwidthAllThreads: 1, f32: .uniform(0), f64: .uniform(0),
                                    launchSeconds: launch, chunkSeconds: chunkSeconds,
                                    interpreterSecondsPerInstruction: interpreterRate, interpreterOps: interpreterOps,
                                    interpreterAccessSeconds: interpreterAccess, interpreterCallSeconds: interpreterCall,
                                    compileSeconds: 0, loadSeconds: 0)
        if canCompile, case .success(let tc) = cpu.toolchain {
            // Plan every calibration kernel, then compile them concurrently on the pool.
            let bwN = quick ? 1 << 23 : 1 << 24      // 64 or 128 MiB each way: past any cache
            let opN = quick ? 4096 : 16384
            var jobs: [PlannedKernel] = [kernel(input(Double.self, bwN) * 1.5)]
            var costJobs: [(DType, OpClassKey, Int, Int)] = []    // dtype, class, job index, ops per point
            func add<S: FloatingTensorScalar>(_: S.Type) {
                jobs.append(kernel(input(S.self, opN) * S(1.5)))
                for c in OpClassKey.allCases {
                    costJobs.append((S.dtype, c, jobs.count, steps(c)))
                    // A uniform replaces the baseline's load: the difference is the generator.
                    jobs.append(c == .random ? kernel(Tensor<S>.uniform([opN], seed: 3) * S(1.5))
                                             : kernel(chain(c, input(S.self, opN), steps: steps(c))))
                }
            }
            add(Double.self)
            add(Float.self)
            // Short inner loops: rows of 4 summed (one load per point, a store per row).
            let loopJob = jobs.count
            jobs.append(kernel(input(Double.self, opN).reshaped([opN / 4, 4]).sum(axis: 1)))
            // Gathers: every 8th element (one strided load, a multiply, a store per point).
            let gatherJob = jobs.count
            jobs.append(kernel(input(Double.self, opN * 8)[stride(from: 0, to: opN * 8, by: 8)] * 1.5))
            // A call on one point: the entry point's fixed cost.
            let callJob = jobs.count
            jobs.append(tiny)
            let codes = Mutex<[Int: any PreparedKernel]>([:])
            let failure = Mutex<(any Error)?>(nil)
            let jobList = jobs
            executor.wait(executor.submit(label: "calibrate compile", dependencies: [], chunks: jobList.indices.map { i in
                { _ in
                    do {
                        let c = try cpu.prepare(jobList[i].kernel)
                        codes.withLock { $0[i] = c }
                    } catch {
                        failure.withLock { $0 = error }
                    }
                }
            }))
            if let e = failure.withLock({ $0 }) { throw e }
            let code = codes.withLock { $0 }

            // Bandwidth: one pass reads and writes each element once.
            let bw = jobs[0], bwCode = code[0]!
            let bytes = Double(bw.bytesAccessed)
            let oneThread = best(repeats) { bwCode.run(bw.launch, lo: 0, hi: bw.launch.extent(0)) }
            let n0 = bw.launch.extent(0)
            let chunks = CostModel.cpuChunks(points: bw.points, firstExtent: n0, parallelAxes: 1, splitChunks: 0, workers: workers)
            let all = best(repeats) {
                executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: (0..<chunks).map { c in
                    { _ in bwCode.run(bw.launch, lo: n0 * c / chunks, hi: n0 * (c + 1) / chunks) }
                }))
            }
            cpuProfile.bandwidthOneThread = bytes / oneThread
            cpuProfile.bandwidthAllThreads = bytes / max(all - launch - Double(chunks - 1) * chunkSeconds, all * 0.5)

            // Operation costs: a chain of `steps` operations of one class over data in cache,
            // less the time of the same pass with one multiply.
            var baseline: [DType: Double] = [:]
            var costs: [DType: OpCosts] = [.float64: .uniform(0), .float32: .uniform(0)]
            for (i, k) in jobs.enumerated() where i > 0 && i < loopJob {
                let t = timeRepeated(repeats) { code[i]!.run(k.launch, lo: 0, hi: k.launch.extent(0)) }
                let dtype = k.kernel.buffers[0].dtype
                guard let (_, cls, _, n) = costJobs.first(where: { $0.2 == i }) else {
                    baseline[dtype] = t
                    continue
                }
                // The chain's helper operations (an add or a negation per step) are simple ones.
                let simpleExtra = cls == .simple || cls == .random ? 0 : Double(n) * (costs[dtype]![.simple])
                let perOp = (t - baseline[dtype]!) / Double(opN) / Double(n) - simpleExtra / Double(n)
                costs[dtype]![cls] = max(perOp, 1e-12)
            }
            cpuProfile.f64 = costs[.float64]!
            cpuProfile.f32 = costs[.float32]!
            // The baseline pass is two accesses and a multiply per point.
            let access = max(0, (baseline[.float64]! / Double(opN) - costs[.float64]!.simple) / 2)
            cpuProfile.accessSeconds = access
            let loopTime = timeRepeated(repeats) { code[loopJob]!.run(jobs[loopJob].launch, lo: 0, hi: jobs[loopJob].launch.extent(0)) }
            cpuProfile.loopSeconds = max(0, (loopTime - Double(opN) * (access + costs[.float64]!.simple)) / Double(opN / 4))
            let gatherTime = timeRepeated(repeats) { code[gatherJob]!.run(jobs[gatherJob].launch, lo: 0, hi: jobs[gatherJob].launch.extent(0)) }
            cpuProfile.stridedAccessSeconds = max(0, gatherTime / Double(opN) - baseline[.float64]! / Double(opN))
            let tinyCode = code[callJob]!
            cpuProfile.callSeconds = taskTime(quick ? 40 : 200) { tinyCode.run(tiny.launch, lo: 0, hi: 1) }

            // First touch: the same copy into memory never written before, against the warm runs.
            let fresh = kernel(input(Double.self, quick ? 1 << 20 : 1 << 22) * 1.5)
            let freshCode = try cpu.prepare(fresh.kernel)
            let written = Double(fresh.launch.buffers[fresh.kernel.buffers.firstIndex { $0.isWritten }!].byteCount)
            let cold = median(1) { freshCode.run(fresh.launch, lo: 0, hi: fresh.launch.extent(0)) }
            let warm = best(repeats) { freshCode.run(fresh.launch, lo: 0, hi: fresh.launch.extent(0)) }
            cpuProfile.firstTouchSecondsPerByte = max(0, cold - warm) / written

            // The compiler, on the largest calibration kernel, outside the cache.
            let source = CRenderer.render(jobs[costJobs.first { $0.1 == .erf }!.2].kernel)
            let (compile, load) = try Calibration.cpuCompile(source: source, toolchain: tc, cache: cpu.cache)
            cpuProfile.compileSeconds = compile
            cpuProfile.loadSeconds = load
        }
        let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
        return MachineProfile(identity: identity(workers: workers), quick: quick, calibrationSeconds: seconds, cpu: cpuProfile, gpu: nil)
    }

    private static func cpuCompile(source: String, toolchain: CPUToolchain, cache: CPUKernelCache) throws -> (Double, Double) {
        try cache.measureCompile(source: source, toolchain: toolchain)
    }

    /// Operations of class `c` per point in its calibration chain.
    private static func steps(_ c: OpClassKey) -> Int {
        switch c {
        case .simple: 16
        case .divide, .sqrt: 16
        case .transcendental, .erf, .pow: 8
        case .random: 1
        }
    }

    /// `steps` operations of class `c` in a dependent chain that stays in a tame range.
    private static func chain<S: FloatingTensorScalar>(_ c: OpClassKey, _ x: Tensor<S>, steps: Int) -> Tensor<S> {
        var y = x
        for i in 0..<steps {
            switch c {
            case .simple: y = i % 2 == 0 ? y * S(0.999) : y + S(0.001)
            case .divide: y = S(1) / (y + S(1))
            case .sqrt: y = (y + S(1)).sqrt()
            case .transcendental: y = (-y).exp()
            case .erf: y = y.erf()
            case .pow: y = (y + S(1)).pow(S(0.7))
            case .random: y = y + Tensor<S>.uniform(x.shape, seed: UInt64(i))
            }
        }
        return y
    }

    /// A realised input of `n` values in [0.25, 0.75).
    private static func input<S: FloatingTensorScalar>(_: S.Type, _ n: Int) -> Tensor<S> {
        Tensor<S>((0..<n).map { S(0.25 + 0.5 * Double($0 % 1000) / 1000) })
    }

    /// The one kernel that computes `t`, with its buffers given memory.
    private static func kernel<S>(_ t: Tensor<S>) -> PlannedKernel {
        let plan = Planner().plan(roots: [t.node])
        precondition(plan.kernels.count == 1, "a calibration expression must fuse into one kernel")
        let k = plan.kernels[0]
        for b in k.launch.buffers where !b.isAllocated { b.allocate() }
        return k
    }

    /// Seconds per call of `body`: the best of `n` samples, each calling it often enough to last
    /// at least 0.2 ms (a single short call is at the clock's mercy).
    private static func timeRepeated(_ n: Int, _ body: () -> Void) -> Double {
        let once = median(3, body)
        let inner = max(1, Int(2e-4 / max(once, 1e-9)))
        return best(n) { for _ in 0..<inner { body() } } / Double(inner)
    }

    /// A one-point kernel's time as the runtime measures kernels (first chunk start to done, on a
    /// worker, cold: the median of `n` tasks).
    private static func taskTime(_ n: Int, _ body: @escaping @Sendable () -> Void) -> Double {
        let executor = Tandem.runtime.executor
        var times: [Double] = []
        for _ in 0..<n {
            let t = executor.submit(label: "calibrate", dependencies: [], chunks: [{ _ in body() }])
            executor.wait(t)
            times.append(Double(t.elapsedNanos) / 1e9)
        }
        return times.sorted()[n / 2]
    }

    /// Median seconds of `n` runs of `body` (latencies: what a typical call costs).
    private static func median(_ n: Int, _ body: () -> Void) -> Double { sortedTimes(n, body).sorted()[n / 2] }

    /// The fastest of `n` runs (rates: what the machine can do when nothing else runs; a busy
    /// machine only ever makes a run slower).
    private static func best(_ n: Int, _ body: () -> Void) -> Double { sortedTimes(n, body).min()! }

    private static func sortedTimes(_ n: Int, _ body: () -> Void) -> [Double] {
        var times: [Double] = []
        for _ in 0..<max(n, 1) {
            let t0 = ProcessInfoLite.monotonicNanos()
            body()
            times.append(Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9)
        }
        return times.sorted()
    }
}
