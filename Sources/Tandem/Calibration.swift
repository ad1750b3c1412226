import FoundationEssentials
import TandemCompiler
import TandemRuntime
import TandemInterpreter
import TandemCPU
import TandemCUDA
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
    /// The file this process's profile lives in: `machine-profile.json` in the kernel cache
    /// folder, or `machine-profile-1w.json` when the runtime has fewer or more workers than the
    /// machine has cores (`TANDEM_THREADS`, or an MPI rank's share of the cores).
    public static var profilePath: String { profilePath(workers: Tandem.runtime.executor.workers) }

    /// The profile's file for a runtime of `workers` workers: a profile is measured with a number
    /// of workers, and a process with another number keeps its own beside the machine's, so
    /// neither replaces the other (a one-thread `tandem calibrate` used to overwrite the
    /// machine's profile, which the next plain run then measured again).
    public static func profilePath(workers: Int) -> String {
        let count = workers == ProcessInfoLite.cores ? "" : "-\(workers)w"
        return Tandem.cpu.cache.directory + "/machine-profile\(count)\(buildSuffix).json"
    }

    /// A debug build of Tandem runs its own Swift (the interpreter, the runtime) many times slower
    /// than a release build: it keeps a profile of its own, measured on smaller sizes.
    #if DEBUG
    static let buildSuffix = "-debug"
    static let debugShrink = 16
    #else
    static let buildSuffix = ""
    static let debugShrink = 1
    #endif

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
        let gpu = Tandem.cuda.availability == .available ? Tandem.cuda.info.map { "\($0.name) \($0.architecture)" } : nil
        return MachineIdentity(host: String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), cpuModel: model, workers: workers, compiler: compiler, gpu: gpu)
    }

    /// The profile for a runtime of `workers` workers: the one measured with that many, else,
    /// for fewer workers than cores, the machine's profile with its all-worker figures narrowed
    /// to `workers` (`MachineProfile.narrowed(toWorkers:)`: MPI ranks run a share of the cores
    /// each, and measured one-thread rates serve them better than the built-in estimates), said
    /// once; nil when neither was measured.
    public static func load(workers: Int) -> MachineProfile? {
        load(workers: workers, cores: ProcessInfoLite.cores, path: profilePath(workers:))
    }

    /// `load(workers:)` with the machine's cores and the profiles' files given (for tests).
    static func load(workers: Int, cores: Int, path: (Int) -> String) -> MachineProfile? {
        if let exact = load(path: path(workers), workers: workers) { return exact }
        guard workers < cores, let machine = load(path: path(cores), workers: cores) else { return nil }
        if narrowedSaid.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            ProcessInfoLite.warn("tandem: \(workers) worker\(workers == 1 ? "" : "s") of \(cores) cores: the machine profile's all-worker figures are narrowed to \(workers) (`TANDEM_THREADS=\(workers) tandem calibrate` measures a profile for \(workers))")
        }
        return machine.narrowed(toWorkers: workers)
    }

    private static let narrowedSaid = Atomic<Bool>(false)

    /// The profile saved at `path` if it was measured on this machine with `workers` workers
    /// (same identity and format) and its numbers are in range, else nil. Read as the cache reads
    /// entries: a private regular file, not followed through a link, at most 1 MiB. A profile out
    /// of range is said once (it is then measured again).
    public static func load(path: String, workers: Int) -> MachineProfile? {
        guard let bytes = VerifiedFileCache.readPrivateFile(path, limit: 1 << 20),
              let p = MachineProfile.read(json: bytes),
              p.version == MachineProfile.currentVersion, p.identity == identity(workers: workers) else { return nil }
        if let problem = p.validationProblem {
            ProcessInfoLite.warn("tandem: the machine profile \(path) is out of range (\(problem)); measuring the machine again")
            return nil
        }
        return p
    }

    /// Writes the profile as readable JSON (keys sorted, indented), privately (0600) and
    /// atomically: to a temporary file beside it, synced, then renamed over it. Without `path`,
    /// to the file for the profile's number of workers (`profilePath(workers:)`).
    public static func save(_ profile: MachineProfile, path: String? = nil) throws {
        let path = path ?? profilePath(workers: profile.identity.workers)
        if let problem = profile.validationProblem {
            throw TandemError.fileFailed(path: path, reason: "refusing to save a machine profile out of range (\(problem))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(profile)
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !dir.isEmpty { mkdir(dir, 0o700) }
        do {
            try VerifiedFileCache.writeAtomically(path, Array(data))
        } catch {
            throw TandemError.fileFailed(path: path, reason: "cannot write the machine profile: \(error)")
        }
    }

    /// The profile the runtime starts with: the saved one, or a quick calibration (said once, and
    /// saved). An unwritable cache folder only costs the next process another quick calibration.
    static func profileForRuntime(workers: Int) -> MachineProfile {
        if let p = load(workers: workers) { return p }
        let estimates = MachineProfile.builtIn(identity: identity(workers: workers))
        calibrateOnTheSide(workers: workers, replacing: estimates)
        return estimates
    }

    /// Largest `MachineProfile.spread` between the two measurements of a calibration on the side
    /// for it to be trusted: beyond it something else was running, and a profile measured then
    /// would pin bad placements for every later run (a loaded machine's profile put SOR's sweep
    /// on one worker: 0.46-0.53 s against 0.31-0.33 s).
    public static let maxSpread = 1.5

    /// The first run on a machine without a profile: kernels are placed with the built-in
    /// estimates at once. Once the program has run `sideDelaySeconds`, a quick calibration runs
    /// on a background thread, twice; if the two agree (`maxSpread`), the second is saved and
    /// the runtime switches to it, else the estimates stay. A program that exits before a
    /// profile is saved hands the calibration on (`handOffAtExit`): a detached copy of the
    /// program measures the machine after it, and the next run finds the profile. Said once on
    /// standard error. The calibration never runs inside the user's sync and is never counted in
    /// a reported time; a short program does not share its cores with it at all.
    static func calibrateOnTheSide(workers: Int, replacing estimates: MachineProfile) {
        ProcessInfoLite.warn("tandem: no machine profile for this machine: kernels are placed with built-in estimates; a quick calibration runs on the side after \(Int(sideDelaySeconds)) s, or after the program exits, and later runs use it (`tandem calibrate` measures a full one)")
        atexit { Calibration.handOffAtExit() }
        // At the lowest priority (the calibration's compiler runs inherit it): the program's own
        // work comes first, and measurements it disturbs are caught by the spread check.
        let started = startBackgroundThread(niceness: 19) {
            guard Subprocess.sleepUnlessExiting(sideDelaySeconds) else { return }
            guard sideState.compareExchange(expected: SideState.waiting.rawValue, desired: SideState.running.rawValue,
                                            ordering: .relaxed).exchanged else { return }
            do {
                let first = try measure(quick: true, workers: workers, onTheSide: true)
                let second = try measure(quick: true, workers: workers, onTheSide: true)
                let spread = MachineProfile.spread(first, second)
                guard spread <= maxSpread else {
                    sideState.store(SideState.disturbed.rawValue, ordering: .relaxed)
                    ProcessInfoLite.warn("tandem: the calibration on the side was disturbed (two measurements differ by up to \(((spread * 10).rounded()) / 10)x: other work on the machine); keeping the built-in estimates, measuring again after the program exits")
                    return
                }
                let saved: String
                do {
                    try save(second)
                    saved = "saved to \(profilePath(workers: workers))"
                    sideState.store(SideState.saved.rawValue, ordering: .relaxed)
                } catch {
                    saved = "not saved: \(error)"
                    sideState.store(SideState.failed.rawValue, ordering: .relaxed)
                }
                let used = Tandem.runtime.replaceProfile(estimates, with: second)
                ProcessInfoLite.warn("tandem: machine measured on the side in \(((first.calibrationSeconds + second.calibrationSeconds) * 100).rounded() / 100) s (\(saved))" + (used ? "; placements use it from now on" : ""))
            } catch {
                // A compile killed because the program is exiting is no failure to report (the
                // calibration is handed on at exit). The error's first line says what failed (a
                // compile error carries the whole source).
                guard !Subprocess.exiting.load(ordering: .relaxed) else { return }
                sideState.store(SideState.failed.rawValue, ordering: .relaxed)
                let what = "\(error)".split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "\(error)"
                ProcessInfoLite.warn("tandem: calibration failed (\(what)); the built-in estimates stay in use")
            }
        }
        if !started {
            sideState.store(SideState.failed.rawValue, ordering: .relaxed)
            ProcessInfoLite.warn("tandem: could not start the calibration thread; the built-in estimates stay in use")
        }
    }

    /// Measures this machine. `quick` uses small sizes and few repeats (well under a second once
    /// the calibration kernels are in the cache; their first compile adds a few tenths).
    /// `onTheSide`: the program is running; the calibration kernels are compiled one after the
    /// other on the calling (low-priority) thread, not on the worker pool, where twenty compiles
    /// held both workers for most of a second and stalled the program's kernels behind them.
    public static func measure(quick: Bool, workers: Int? = nil, compiled: Bool = true, onTheSide: Bool = false) throws -> MachineProfile {
        // Its expressions are the kernels it times: recorded and planned, never eager.
        try Tandem.withEager(.off) { try measured(quick: quick, workers: workers, compiled: compiled, onTheSide: onTheSide) }
    }

    private static func measured(quick: Bool, workers: Int?, compiled: Bool, onTheSide: Bool) throws -> MachineProfile {
        let start = ProcessInfoLite.monotonicNanos()
        let executor = Tandem.runtime.executor
        let workers = workers ?? executor.workers
        let statistics = StatisticsBox()     // calibration compiles are not the user's
        let cpu = CPUDevice(statistics: statistics, cache: Tandem.cpu.cache, toolchain: Tandem.cpu.toolchain)
        let canCompile = compiled && cpu.availability == .available
        let repeats = quick ? (debugShrink > 1 ? 3 : 5) : 21

        // Pool costs: an empty one-chunk task, then one of 64 chunks a worker, each run by the
        // workers while the caller sleeps (a kernel's task is queued ahead of its wait, so a
        // worker has it by then: a caller running the empty chunk would time no dispatch). The
        // model adds `chunkSeconds` of elapsed time per chunk past the first, so it is the slope
        // between the two; over 4 chunks a worker it was lost in the launch's spread (0.0 µs).
        let empty: @Sendable (Int) -> Void = { _ in }
        let launch = median(quick ? 40 : 400) {
            executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: [empty]), helping: false)
        }
        let manyChunks = workers * 64
        let many = median(quick ? 40 : 200) {
            executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: Array(repeating: empty, count: manyChunks)),
                          helping: false)
        }
        let chunkSeconds = max(0, (many - launch) / Double(max(manyChunks - 1, 1)))

        // The interpreter's rate on a chain of simple operations, then the extra cost of each
        // other class (its scalar math call) on chains of that class.
        let interpN = (quick ? 8192 : 65536) / debugShrink
        let interpreter = InterpreterDevice()
        func interpreted(_ k: PlannedKernel) throws -> Double {
            let code = try interpreter.prepare(k.kernel)
            return timeRepeated(repeats) { code.run(k.launch, lo: 0, hi: k.launch.extent(0)) } / Double(interpN)
        }
        // Two chains of simple operations, 1 and 17 long: the slope is the cost per instruction,
        // the rest the cost of a point (walking the domain, loading and storing).
        let interpShort = kernel(input(Double.self, interpN) * 1.5)
        let interpSimple = kernel(chain(.simple, input(Double.self, interpN), steps: 16))
        let shortInstructions = Double(KernelFeatures(interpShort.kernel).instructions)
        let tShort = try interpreted(interpShort), tLong = try interpreted(interpSimple)
        let interpreterRate = max(0, (tLong - tShort) / (Double(KernelFeatures(interpSimple.kernel).instructions) - shortInstructions))
        let interpreterPoint = max(0, tShort - shortInstructions * interpreterRate)
        // The same long chain split over all workers, as the runtime splits it.
        let longCode = try interpreter.prepare(interpSimple.kernel)
        let parts = max(workers, 1)
        let tAll = best(repeats) {
            executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: (0..<parts).map { c in
                { _ in longCode.run(interpSimple.launch, lo: interpN * c / parts, hi: interpN * (c + 1) / parts) }
            }))
        }
        let interpreterSpeedup = max(1, tLong * Double(interpN) / tAll)
        let interpSum = kernel(input(Double.self, interpN).sum())
        let sumFeatures = KernelFeatures(interpSum.kernel)
        let interpreterReduction = max(0, try interpreted(interpSum) - interpreterPoint - Double(sumFeatures.instructions) * interpreterRate)
        // Rows of four summed: what a point costs beyond the same sum's along one long row is
        // the row's (a quarter of it a point).
        // (`interpN` is a power of two.)
        let interpRows = kernel(input(Double.self, interpN).reshaped([interpN / 4, 4]).sum(axis: 1))
        let interpreterRow = max(0, (try interpreted(interpRows) - interpreterPoint
                                     - Double(KernelFeatures(interpRows.kernel).instructions) * interpreterRate - interpreterReduction) * 4)
        // Loads: eight shifted views of one input summed (8 loads, 7 adds, a store).
        let shifted = input(Double.self, interpN + 8)
        var sum8 = shifted[0..<interpN]
        for i in 1..<8 { sum8 = sum8 + shifted[i..<(interpN + i)] }
        let interpLoads = kernel(sum8)
        let loadFeatures = KernelFeatures(interpLoads.kernel)
        let interpreterAccess = max(0, (try interpreted(interpLoads) - interpreterPoint - Double(loadFeatures.instructions) * interpreterRate) / Double(loadFeatures.loads))
        let tiny = kernel(input(Double.self, 1) * 1.5)
        let tinyInterp = try interpreter.prepare(tiny.kernel)
        let interpreterCall = taskTime(quick ? 40 : 200) { tinyInterp.run(tiny.launch, lo: 0, hi: 1) }
        var interpreterOps = OpCosts.uniform(0)
        for c in OpClassKey.allCases where c != .simple {
            let k = c == .random ? kernel(Tensor<Double>.uniform([interpN], seed: 3) * 1.5) : kernel(chain(c, input(Double.self, interpN), steps: steps(c)))
            let f = KernelFeatures(k.kernel)
            interpreterOps[c] = max(0, (try interpreted(k) - interpreterPoint - Double(f.instructions) * interpreterRate) / Double(f.allOps[c] ?? 1))
        }

        var cpuProfile = CPUProfile(bandwidthOneThread: 1, bandwidthAllThreads: 1, f32: .uniform(0), f64: .uniform(0),
                                    launchSeconds: launch, chunkSeconds: chunkSeconds,
                                    interpreterSecondsPerInstruction: interpreterRate, interpreterOps: interpreterOps,
                                    interpreterAccessSeconds: interpreterAccess, interpreterCallSeconds: interpreterCall,
                                    interpreterPointSeconds: interpreterPoint, interpreterReductionSeconds: interpreterReduction,
                                    interpreterRowSeconds: interpreterRow, interpreterSpeedup: interpreterSpeedup,
                                    compileSeconds: 0, loadSeconds: 0)
        if canCompile, case .success(let tc) = cpu.toolchain {
            // Plan every calibration kernel, then compile them (concurrently on the pool, unless on the side).
            // 64 or 128 MiB each way: past any cache (a debug build measures less, only roughly).
            let bwN = (quick ? 1 << 23 : 1 << 24) / debugShrink
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
            let compileJob: @Sendable (Int) -> Void = { i in
                do {
                    let c = try cpu.prepare(jobList[i].kernel)
                    codes.withLock { $0[i] = c }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            if onTheSide {
                // One failure (a compiler stopped at its time limit) ends it: no queue of
                // compiles behind a stuck compiler.
                for i in jobList.indices where failure.withLock({ $0 == nil }) { compileJob(i) }
            } else {
                executor.wait(executor.submit(label: "calibrate compile", dependencies: [], chunks: jobList.indices.map { i in
                    { _ in compileJob(i) }
                }))
            }
            if let e = failure.withLock({ $0 }) { throw e }
            let code = codes.withLock { $0 }

            // Bandwidth: one pass reads and writes each element once.
            let bw = jobs[0], bwCode = code[0]!
            let bytes = Double(bw.bytesAccessed)
            let oneThread = best(repeats) { bwCode.run(bw.launch, lo: 0, hi: bw.launch.extent(0)) }
            let n0 = bw.launch.extent(0)
            let chunks = CostModel.cpuChunks(points: bw.points, firstExtent: n0, parallelAxes: 1, splitChunks: 0, workers: workers)
            // The caller sleeps, as in the launch's measurement subtracted below (and the cache
            // levels' twin): helping, it ran chunks itself and the task held no full launch.
            let all = best(repeats) {
                executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: (0..<chunks).map { c in
                    { _ in bwCode.run(bw.launch, lo: n0 * c / chunks, hi: n0 * (c + 1) / chunks) }
                }), helping: false)
            }
            cpuProfile.cacheBandwidth = try cacheLevels(cpu: cpu, workers: workers, repeats: repeats, launch: launch)
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
            let fresh = kernel(input(Double.self, (quick ? 1 << 20 : 1 << 22) / debugShrink) * 1.5)
            let freshCode = try cpu.prepare(fresh.kernel)
            let written = Double(fresh.launch.buffers[fresh.kernel.buffers.firstIndex { $0.isWritten }!].byteCount)
            let cold = median(1) { freshCode.run(fresh.launch, lo: 0, hi: fresh.launch.extent(0)) }
            let warm = best(repeats) { freshCode.run(fresh.launch, lo: 0, hi: fresh.launch.extent(0)) }
            cpuProfile.firstTouchSecondsPerByte = max(0, cold - warm) / written

            // The compiler, on the largest calibration kernel, outside the cache.
            let source = CRenderer.render(jobs[costJobs.first { $0.1 == .erf }!.2].kernel)
            let (compile, load) = try cpu.cache.measureCompile(source: source, toolchain: tc)
            cpuProfile.compileSeconds = compile
            cpuProfile.loadSeconds = load
        }
        var gpu: GPUProfile? = nil
        if Tandem.cuda.availability == .available {
            do {
                gpu = try measureAccelerator(Tandem.cuda, .cuda(Tandem.cuda), quick: quick, elements: quick ? 1 << 22 : 1 << 25)
            } catch {
                ProcessInfoLite.warn("tandem: the GPU could not be calibrated (\(error)); the cost model will not offer it")
            }
        }
        // The OpenCL device only in a full calibration: a first build of each of its ~25
        // calibration kernels takes PoCL about a second, too long for the quick one on the side.
        var openCL: GPUProfile? = nil
        if !quick, Tandem.openCL.availability == .available {
            do {
                openCL = try measureAccelerator(Tandem.openCL, .openCL(Tandem.openCL), quick: true, elements: 1 << 22)
            } catch {
                ProcessInfoLite.warn("tandem: the OpenCL device could not be calibrated (\(error)); the cost model will not offer it")
            }
        }
        let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
        var profile = MachineProfile(identity: identity(workers: workers), quick: quick, calibrationSeconds: seconds, cpu: cpuProfile, gpu: gpu)
        profile.openCL = openCL
        // An accelerator measured out of range (a mismeasure) is left out, said, rather than
        // costing the whole profile: the CPU's measurements stand without it.
        for (prefix, name) in [("gpu.", "GPU"), ("openCL.", "OpenCL device")] {
            guard let problem = profile.validationProblem, problem.hasPrefix(prefix) else { continue }
            ProcessInfoLite.warn("tandem: the \(name)'s measurements are out of range (\(problem)); the cost model will not offer it")
            if prefix == "gpu." { profile.gpu = nil } else { profile.openCL = nil }
        }
        return profile
    }

    /// Cache sizes from sysfs (`/sys/devices/system/cpu/cpu0/cache/index*/`): level 2 (per
    /// core) and the last level, in bytes.
    static func cacheSizes() -> [(name: String, bytes: Int)] {
        var out: [(String, Int)] = []
        for i in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(i)"
            guard let level = ProcessInfoLite.contents(of: dir + "/level").flatMap({ Int(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) }),
                  let type = ProcessInfoLite.contents(of: dir + "/type").map({ String(decoding: $0, as: UTF8.self) }),
                  !type.hasPrefix("Instruction"),
                  let sizeText = ProcessInfoLite.contents(of: dir + "/size").map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            let digits = Int(sizeText.filter(\.isNumber)) ?? 0
            let bytes = sizeText.contains("M") ? digits << 20 : (sizeText.contains("K") ? digits << 10 : digits)
            if level >= 2, bytes > 0 { out.append(("L\(level)", bytes)) }
        }
        return out.sorted { $0.1 < $1.1 }
    }

    /// Bandwidth of the copy kernel over working sets that fit each cache level (half of it).
    /// `launch`, the pool's cost for a task, is taken off the all-workers time (the model adds it
    /// separately).
    private static func cacheLevels(cpu: CPUDevice, workers: Int, repeats: Int, launch: Double) throws -> [BandwidthLevel] {
        let executor = Tandem.runtime.executor
        var levels: [BandwidthLevel] = []
        for (name, size) in cacheSizes() {
            let n = max(1024, size / 2 / 16 / debugShrink)    // in + out fill half the level
            let k = kernel(input(Double.self, n) * 1.5)
            let code = try cpu.prepare(k.kernel)
            let bytes = Double(k.bytesAccessed)
            let one = timeRepeated(repeats) { code.run(k.launch, lo: 0, hi: n) }
            // Each worker passes over its part `passes` times (it stays in the level), so the
            // task runs about twenty launches long: one pass a worker was a few microseconds
            // beside a launch of tens, and the difference of the two was noise (L2 "all workers"
            // read 0.6x, then 3x, one worker's rate). The caller sleeps, as in the launch's
            // measurement, so the task holds exactly one launch.
            let passes = min(1000, max(1, Int((20 * launch * Double(workers) / max(one, 1e-9)).rounded(.up))))
            let all = timeRepeated(repeats) {
                executor.wait(executor.submit(label: "calibrate", dependencies: [], chunks: (0..<workers).map { c in
                    { _ in for _ in 0..<passes { code.run(k.launch, lo: n * c / workers, hi: n * (c + 1) / workers) } }
                }), helping: false)
            }
            levels.append(BandwidthLevel(name: name, maxBytes: size, oneThread: bytes / one,
                                         allThreads: bytes * Double(passes) / max(all - launch, all * 0.25)))
        }
        return levels
    }

    /// Operations of class `c` per point in its calibration chain.
    static func steps(_ c: OpClassKey) -> Int {
        switch c {
        case .simple: 16
        case .divide, .sqrt: 16
        case .exp, .transcendental, .erf, .pow, .remainder: 8
        case .random: 1
        }
    }

    /// `steps` operations of class `c` in a dependent chain that stays in a tame range.
    static func chain<S: FloatingTensorScalar>(_ c: OpClassKey, _ x: Tensor<S>, steps: Int) -> Tensor<S> {
        var y = x
        for i in 0..<steps {
            switch c {
            case .simple: y = i % 2 == 0 ? y * S(0.999) : y + S(0.001)
            case .divide: y = S(1) / (y + S(1))
            case .sqrt: y = (y + S(1)).sqrt()
            case .exp: y = (-y).exp()
            // The math library's: logs and cosines in turn (in [0.2, 1) throughout).
            case .transcendental: y = i % 2 == 0 ? (y + S(1)).log() : y.cos()
            case .erf: y = y.erf()
            case .pow: y = (y + S(1)).pow(S(0.7))
            // Quotients near a thousand (an index-like `i * j % n`; fmod's time grows with them),
            // the result back in [0, 7.3).
            case .remainder: y = (y * S(1000) + S(0.5)) % S(7.3)
            case .random: y = y + Tensor<S>.uniform(x.shape, seed: UInt64(i))
            }
        }
        return y
    }

    /// A realised input of `n` values in [0.25, 0.75).
    static func input<S: FloatingTensorScalar>(_: S.Type, _ n: Int) -> Tensor<S> {
        Tensor<S>((0..<n).map { S(0.25 + 0.5 * Double($0 % 1000) / 1000) })
    }

    /// The one kernel that computes `t`, with its buffers given memory.
    static func kernel<S>(_ t: Tensor<S>) -> PlannedKernel {
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
    private static func median(_ n: Int, _ body: () -> Void) -> Double { let t = sortedTimes(n, body); return t[t.count / 2] }

    /// The fastest of `n` runs (rates: what the machine can do when nothing else runs; a busy
    /// machine only ever makes a run slower).
    private static func best(_ n: Int, _ body: () -> Void) -> Double { sortedTimes(n, body)[0] }

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
