/// What the cost model knows about this machine: rates and latencies measured by the calibrator
/// (`tandem calibrate`, or a quick calibration at first use), never constants.
///
/// Stored as readable JSON in the cache folder (`machine-profile.json`) with the machine's
/// identity; a profile whose identity differs from the running machine is recalibrated.
///
///     let profile = MachineProfile(identity: id, cpu: measured, gpu: nil)
///     let t = CostModel(profile: profile).predict(features, run, on: .cpuAll)
public struct MachineProfile: Codable, Sendable, Equatable {
    /// Bumped when the meaning of a field changes; older files are recalibrated.
    public static let currentVersion = 10

    public var version: Int
    public var identity: MachineIdentity
    /// True for the quick calibration made at first use (fewer, smaller measurements).
    public var quick: Bool
    /// Seconds the calibration took.
    public var calibrationSeconds: Double
    public var cpu: CPUProfile
    /// Nil when no GPU was usable at calibration time (the model then never offers one).
    public var gpu: GPUProfile?
    /// The OpenCL device's measurements in the GPU's terms; nil when it was not measured (the
    /// model then never offers it under `auto`).
    public var openCL: GPUProfile? = nil

    public init(identity: MachineIdentity, quick: Bool, calibrationSeconds: Double, cpu: CPUProfile, gpu: GPUProfile?) {
        self.version = MachineProfile.currentVersion
        self.identity = identity
        self.quick = quick
        self.calibrationSeconds = calibrationSeconds
        self.cpu = cpu
        self.gpu = gpu
    }
}

extension MachineProfile {
    /// What the model assumes before this machine has been measured: the rates of a two-core
    /// x86-64 server VM (Xeon, AVX2, clang 21; a quick calibration of 2026-12-02, rounded to one
    /// or two significant digits), with memory bandwidth scaled to `identity.workers` up to four.
    /// It only has to place kernels sensibly for the first run (compiled code for real work,
    /// the interpreter for tiny one-off kernels) while the real measurement runs on the side
    /// (`Calibration.profileForRuntime`); `calibrationSeconds` is 0 and `quick` true.
    public static func builtIn(identity: MachineIdentity) -> MachineProfile {
        let w = Double(max(1, min(identity.workers, 4)))
        let cpu = CPUProfile(
            bandwidthOneThread: 1.0e10, bandwidthAllThreads: 1.0e10 * (1 + 0.1 * (w - 1)),
            f32: OpCosts(simple: 2e-11, divide: 2e-10, sqrt: 2.5e-10, transcendental: 1.6e-9, erf: 5.6e-9, pow: 5.4e-9, remainder: 5e-9,
                         random: 6.6e-10),
            f64: OpCosts(simple: 2.5e-11, divide: 6.5e-10, sqrt: 1e-9, transcendental: 5.3e-9, erf: 1.5e-8, pow: 1.2e-8, remainder: 5e-9,
                         random: 4.3e-10),
            // (remainders: `tandem calibrate` on the AMD EPYC VM, 2026-12-06, quotients near
            // 1000, a dependent chain: compiled (`tk_fmod`) f64 5.4 ns, f32 4.9; glibc 2.36's fmod,
            // before it, 10.8 and 17-28; interpreted (fmod) 16.5. PolyBench initialises every
            // array with `(i * j % n) / n`; priced as a division, 0.65 ns, such a kernel ran 17x
            // its prediction and the rate correction it taught slowed every later choice.)
            // The interpreter's rates are its block path's (maps and reduction bodies run over
            // rows): about twice what `tandem calibrate` measured (2026-12-05, AMD EPYC VM, two
            // cores, after rows were stacked, loads vectorised and exp moved to C: 2.8-3.1e-10 an
            // instruction, 0 an access, 3.3e-9 a transcendental, 4.0e-8 an erf), so a first run
            // errs towards compiling. Exp is Tandem's own, in rows; log, sin, cos and the other
            // transcendentals are libm's, called an element at a time: 2.8-3.6 and 19-21 ns
            // (calibrated 2026-12-07, the same VM, a chain of logs and cosines; priced together
            // at exp's rate, an Asian option's 50 fused steps were predicted at 54 ms
            // interpreted, run in 458, and chosen over its compiled code). (The rates were 1e-9 an
            // instruction and 1e-9 an access, 3.6 and 5 times the interpreter's by then, and
            // 9e-8 a transcendental: fir_filter's first run compiled three kernels of 0.08-0.32 s
            // that it interprets in 0.07-0.14 s.)
            launchSeconds: 7e-5, chunkSeconds: 6.5e-7, interpreterSecondsPerInstruction: 5.5e-10,
            interpreterOps: OpCosts(simple: 0, divide: 5e-10, sqrt: 3e-9, transcendental: 3e-8, erf: 8e-8, pow: 4e-8, remainder: 2e-8, random: 2.5e-9,
                                    exp: 6e-9),
            interpreterAccessSeconds: 2e-10,
            accessSeconds: 9.6e-11, loopSeconds: 1.4e-10, firstTouchSecondsPerByte: 3.3e-10, stridedAccessSeconds: 3.9e-10,
            // (a reduction's fold runs in loops over blocks since 2026-12-05: `tandem calibrate`
            // measured 2.3e-8 s a point before, under 1e-11 after; 5e-8 here priced a first
            // run's integer sum at 36 ms that took 1.2)
            callSeconds: 8e-7, interpreterCallSeconds: 3.2e-6, interpreterPointSeconds: 1e-9, interpreterReductionSeconds: 2e-9,
            interpreterRowSeconds: 1.1e-7,
            interpreterSpeedup: 1 + 0.6 * (w - 1),
            compileSeconds: 0.32, loadSeconds: 8.4e-5)
        var p = MachineProfile(identity: identity, quick: true, calibrationSeconds: 0, cpu: cpu, gpu: nil)
        p.cpu.cacheBandwidth = [BandwidthLevel(name: "L2", maxBytes: 1 << 20, oneThread: 6.9e10, allThreads: 6.9e10 * w),
                                BandwidthLevel(name: "L3", maxBytes: 32 << 20, oneThread: 1.2e10, allThreads: 1.2e10 * (1 + 0.1 * (w - 1)))]
        return p
    }

    /// The largest ratio between two measurements of the same machine over the rates that decide
    /// placements (bandwidths, simple and transcendental op costs, launch and chunk costs): 1
    /// when they agree, large when something else ran on the machine during one of them.
    public static func spread(_ a: MachineProfile, _ b: MachineProfile) -> Double {
        let pairs: [(Double, Double)] = [
            (a.cpu.bandwidthOneThread, b.cpu.bandwidthOneThread), (a.cpu.bandwidthAllThreads, b.cpu.bandwidthAllThreads),
            (a.cpu.f64.simple, b.cpu.f64.simple), (a.cpu.f64.transcendental, b.cpu.f64.transcendental),
            (a.cpu.f32.simple, b.cpu.f32.simple), (a.cpu.launchSeconds, b.cpu.launchSeconds),
            (a.cpu.chunkSeconds, b.cpu.chunkSeconds), (a.cpu.interpreterSecondsPerInstruction, b.cpu.interpreterSecondsPerInstruction),
        ]
        return pairs.reduce(1.0) { worst, pair in
            let (x, y) = pair
            guard x > 0, y > 0, x.isFinite, y.isFinite else { return worst }
            return max(worst, max(x, y) / min(x, y))
        }
    }

    /// This profile for a runtime of `workers` workers, fewer than it was measured with: its
    /// one-thread figures as measured, its all-worker figures (memory and cache bandwidth, the
    /// interpreter's speed-up) moved towards the one-thread ones in proportion to the workers
    /// given up, so one worker gets exactly the one-thread figures. An estimate between two
    /// measurements, what a process on a share of the cores (an MPI rank, `TANDEM_THREADS=1`)
    /// starts from instead of the built-in estimates; measured kernel times correct it online.
    ///
    ///     let rank = profile.narrowed(toWorkers: 1)   // rank.identity.workers == 1
    public func narrowed(toWorkers workers: Int) -> MachineProfile {
        let measuredWith = identity.workers
        guard workers >= 1, workers < measuredWith else { return self }
        let kept = Double(workers - 1) / Double(measuredWith - 1)
        func between(_ one: Double, _ all: Double) -> Double { one + (all - one) * kept }
        var p = self
        p.identity.workers = workers
        p.cpu.bandwidthAllThreads = between(cpu.bandwidthOneThread, cpu.bandwidthAllThreads)
        p.cpu.cacheBandwidth = cpu.cacheBandwidth.map {
            BandwidthLevel(name: $0.name, maxBytes: $0.maxBytes, oneThread: $0.oneThread, allThreads: between($0.oneThread, $0.allThreads))
        }
        p.cpu.interpreterSpeedup = between(1, cpu.interpreterSpeedup)
        return p
    }
}

/// Which machine a profile was measured on.
public struct MachineIdentity: Codable, Sendable, Equatable {
    public var host: String
    public var cpuModel: String
    /// Worker threads the runtime uses (`TANDEM_THREADS` or the online cores).
    public var workers: Int
    /// The C compiler's identity, or "none".
    public var compiler: String
    /// The GPU's name and driver, or nil.
    public var gpu: String?

    public init(host: String, cpuModel: String, workers: Int, compiler: String, gpu: String?) {
        self.host = host
        self.cpuModel = cpuModel
        self.workers = workers
        self.compiler = compiler
        self.gpu = gpu
    }
}

/// Seconds per element for one operation of each class, by element type (`f32`, `f64`).
///
/// Integer and Boolean operations are priced as the float type of their width (i32 and b8 as
/// f32, i64 as f64): the calibrator does not measure them separately because no standard
/// workload spends its time there.
public struct OpCosts: Codable, Sendable, Equatable {
    public var simple: Double
    public var divide: Double
    public var sqrt: Double
    /// Tandem's own exponential (vectorised in compiled code, a row function interpreted).
    public var exp: Double
    /// The math library's transcendentals (log, sin, cos, tanh, ...: scalar calls), measured on
    /// a chain of logs and cosines.
    public var transcendental: Double
    public var erf: Double
    public var pow: Double
    /// A floating-point remainder (`fmod`, NumPy's `%` before its sign fix): a scalar libm
    /// call whose time grows with the quotient's exponent (about 15 ns for quotients up to
    /// 10^4 here), thirty times a division, and vectorised by no math library. Integer
    /// remainders are divisions.
    public var remainder: Double
    /// One counter-based uniform (SplitMix64, scaled to the type): integer multiplies that do not
    /// vectorise everywhere.
    public var random: Double

    /// `exp` defaults to `transcendental`.
    public init(simple: Double, divide: Double, sqrt: Double, transcendental: Double, erf: Double, pow: Double, remainder: Double,
                random: Double, exp: Double? = nil) {
        self.simple = simple
        self.divide = divide
        self.sqrt = sqrt
        self.exp = exp ?? transcendental
        self.transcendental = transcendental
        self.erf = erf
        self.pow = pow
        self.remainder = remainder
        self.random = random
    }

    public subscript(_ c: OpClassKey) -> Double {
        get {
            switch c {
            case .simple: simple
            case .divide: divide
            case .sqrt: sqrt
            case .exp: exp
            case .transcendental: transcendental
            case .erf: erf
            case .pow: pow
            case .remainder: remainder
            case .random: random
            }
        }
        set {
            switch c {
            case .simple: simple = newValue
            case .divide: divide = newValue
            case .sqrt: sqrt = newValue
            case .exp: exp = newValue
            case .transcendental: transcendental = newValue
            case .erf: erf = newValue
            case .pow: pow = newValue
            case .remainder: remainder = newValue
            case .random: random = newValue
            }
        }
    }

    public static func uniform(_ s: Double) -> OpCosts { OpCosts(simple: s, divide: s, sqrt: s, transcendental: s, erf: s, pow: s, remainder: s, random: s, exp: s) }
}

/// The operation classes the model prices (mirrors `OpClass` of the IR, kept here so the profile
/// file's keys do not depend on the IR's spelling).
public enum OpClassKey: String, Codable, Sendable, CaseIterable {
    case simple, divide, sqrt, exp, transcendental, erf, pow, remainder, random
}

/// Streaming bandwidth for kernels whose bytes fit in `maxBytes` (a cache level).
public struct BandwidthLevel: Codable, Sendable, Equatable {
    public var name: String
    public var maxBytes: Int
    public var oneThread: Double
    public var allThreads: Double
    public init(name: String, maxBytes: Int, oneThread: Double, allThreads: Double) {
        self.name = name
        self.maxBytes = maxBytes
        self.oneThread = oneThread
        self.allThreads = allThreads
    }
}

public struct CPUProfile: Codable, Sendable, Equatable {
    /// Streaming bandwidth (bytes read plus written per second) from memory, of one thread and of
    /// all workers, and the faster levels for kernels whose bytes fit in a cache (ascending).
    public var bandwidthOneThread: Double
    public var bandwidthAllThreads: Double
    public var cacheBandwidth: [BandwidthLevel] = []
    /// Per-element compute cost on one thread of compiled C, data in cache.
    public var f32: OpCosts
    public var f64: OpCosts
    /// Per access (a load or a store) per point, and per start of an innermost loop, one thread,
    /// data in cache: what a point costs besides its operations.
    public var accessSeconds: Double
    public var loopSeconds: Double
    /// Per load whose innermost stride is neither 0 nor 1 (a gather: no vector load, a cache line
    /// per element), one thread, data in L2.
    public var stridedAccessSeconds: Double
    /// One call of a compiled kernel's entry point on a tiny range, and of the interpreter's.
    public var callSeconds: Double
    public var interpreterCallSeconds: Double
    /// Writing memory for the first time (page faults and zeroing by the kernel), per byte.
    public var firstTouchSecondsPerByte: Double
    /// From queueing a one-chunk task on the worker pool to its completion (empty kernel).
    public var launchSeconds: Double
    /// Extra cost of each further chunk of a task (queueing, waking a worker).
    public var chunkSeconds: Double
    /// The interpreter's cost per IR instruction per point, one thread, and the extra cost of an
    /// operation of each class on top of that (its scalar math library call).
    public var interpreterSecondsPerInstruction: Double
    public var interpreterOps: OpCosts
    /// The interpreter's extra cost per load (address arithmetic through the access's strides),
    /// per point whatever it computes (walking the domain), and per reduction per point.
    public var interpreterAccessSeconds: Double
    public var interpreterPointSeconds: Double
    /// How much faster the interpreter runs on all workers than on one (it allocates as it goes,
    /// so it scales worse than compiled code).
    public var interpreterSpeedup: Double
    public var interpreterReductionSeconds: Double
    /// The interpreter's cost per run of a kernel's innermost loop (a row: a block's setup, its
    /// accesses' offsets, the fold's dispatch), one thread: what a reduction over short rows
    /// (kmeans' 4 coordinates, a logistic regression's 8 features) pays per row, beside which
    /// its points cost little.
    public var interpreterRowSeconds: Double
    /// Compiling one typical kernel with the C compiler, and loading a cached one (`dlopen`).
    public var compileSeconds: Double
    public var loadSeconds: Double

    public init(bandwidthOneThread: Double, bandwidthAllThreads: Double, f32: OpCosts, f64: OpCosts, launchSeconds: Double,
                chunkSeconds: Double, interpreterSecondsPerInstruction: Double, interpreterOps: OpCosts = .uniform(0),
                interpreterAccessSeconds: Double = 0, accessSeconds: Double = 0, loopSeconds: Double = 0,
                firstTouchSecondsPerByte: Double = 0, stridedAccessSeconds: Double = 0, callSeconds: Double = 0,
                interpreterCallSeconds: Double = 0, interpreterPointSeconds: Double = 0, interpreterReductionSeconds: Double = 0,
                interpreterRowSeconds: Double = 0, interpreterSpeedup: Double = 1,
                compileSeconds: Double, loadSeconds: Double) {
        self.interpreterRowSeconds = interpreterRowSeconds
        self.interpreterPointSeconds = interpreterPointSeconds
        self.interpreterSpeedup = interpreterSpeedup
        self.interpreterReductionSeconds = interpreterReductionSeconds
        self.stridedAccessSeconds = stridedAccessSeconds
        self.callSeconds = callSeconds
        self.interpreterCallSeconds = interpreterCallSeconds
        self.interpreterOps = interpreterOps
        self.interpreterAccessSeconds = interpreterAccessSeconds
        self.accessSeconds = accessSeconds
        self.loopSeconds = loopSeconds
        self.firstTouchSecondsPerByte = firstTouchSecondsPerByte
        self.bandwidthOneThread = bandwidthOneThread
        self.bandwidthAllThreads = bandwidthAllThreads
        self.f32 = f32
        self.f64 = f64
        self.launchSeconds = launchSeconds
        self.chunkSeconds = chunkSeconds
        self.interpreterSecondsPerInstruction = interpreterSecondsPerInstruction
        self.compileSeconds = compileSeconds
        self.loadSeconds = loadSeconds
    }
}

/// One direction of the host–device link.
public struct LinkProfile: Codable, Sendable, Equatable {
    public var pageableBandwidth: Double
    public var pinnedBandwidth: Double
    public var latencySeconds: Double
    public init(pageableBandwidth: Double, pinnedBandwidth: Double, latencySeconds: Double) {
        self.pageableBandwidth = pageableBandwidth
        self.pinnedBandwidth = pinnedBandwidth
        self.latencySeconds = latencySeconds
    }
}

public struct GPUProfile: Codable, Sendable, Equatable {
    public var name: String
    public var multiprocessors: Int
    /// Blocks of `threadsPerBlock` threads resident on one multiprocessor at once.
    public var blocksPerMultiprocessor: Int
    public var threadsPerBlock: Int
    /// Device memory bandwidth (bytes read plus written per second) of a full wave.
    public var bandwidth: Double
    /// Per-element cost of one operation for the whole device at full occupancy (seconds per
    /// element, that is the inverse of the device's element throughput).
    public var f32: OpCosts
    public var f64: OpCosts
    /// Kernel launch latency (enqueue to start, empty kernel).
    public var launchSeconds: Double
    /// NVRTC compile plus module load of one typical kernel, and loading a cached CUBIN.
    public var compileSeconds: Double
    public var loadSeconds: Double
    public var hostToDevice: LinkProfile
    public var deviceToHost: LinkProfile
    /// Copies of at least this many bytes go through pinned staging.
    public var pinnedThreshold: Int
    /// Seconds per byte a kernel pays to write memory the device has just allocated, beyond
    /// writing warm memory: the page faults of a device whose memory is the host's (PoCL); about
    /// zero on a GPU. Nil in profiles measured before it was (read as zero).
    public var firstTouchSecondsPerByte: Double?
    /// Whether the measured device runs on the host's own cores (an OpenCL CPU device such as
    /// PoCL). `auto` never offers such a device, and with this known from the profile it does
    /// not even load its driver: PoCL's LLVM took 30 ms of every program's first sync only to be
    /// turned down. Nil in profiles measured before it was (the driver is loaded to find out).
    /// A device installed later is offered after the next `tandem calibrate` (which measures it).
    public var sharesHostCores: Bool?

    public init(name: String, multiprocessors: Int, blocksPerMultiprocessor: Int, threadsPerBlock: Int, bandwidth: Double,
                f32: OpCosts, f64: OpCosts, launchSeconds: Double, compileSeconds: Double, loadSeconds: Double,
                hostToDevice: LinkProfile, deviceToHost: LinkProfile, pinnedThreshold: Int, firstTouchSecondsPerByte: Double? = nil,
                sharesHostCores: Bool? = nil) {
        self.firstTouchSecondsPerByte = firstTouchSecondsPerByte
        self.sharesHostCores = sharesHostCores
        self.name = name
        self.multiprocessors = multiprocessors
        self.blocksPerMultiprocessor = blocksPerMultiprocessor
        self.threadsPerBlock = threadsPerBlock
        self.bandwidth = bandwidth
        self.f32 = f32
        self.f64 = f64
        self.launchSeconds = launchSeconds
        self.compileSeconds = compileSeconds
        self.loadSeconds = loadSeconds
        self.hostToDevice = hostToDevice
        self.deviceToHost = deviceToHost
        self.pinnedThreshold = pinnedThreshold
    }

    /// Blocks the device holds at once: one wave.
    public var waveBlocks: Int { multiprocessors * blocksPerMultiprocessor }
}

extension MachineProfile {
    /// Why this profile cannot be used, or nil: every number must be finite and non-negative,
    /// bandwidths and thread counts positive, per-operation and per-access costs under a
    /// millisecond, latencies under a second, compile times under ten minutes, bandwidths under
    /// 10^14 bytes a second. A profile edited by hand or written by a broken calibration (a
    /// negative rate, NaN, 1e300) trapped in placement arithmetic; it is measured again instead.
    public var validationProblem: String? {
        func check(_ path: String, _ value: ProfileNumber) -> String? {
            guard case .double(let d) = value else {
                if case .int(let i) = value, i < 0 { return "\(path) = \(i)" }
                return nil
            }
            guard d.isFinite, d >= 0 else { return "\(path) = \(d)" }
            // The field's path in lowercase ASCII bytes, searched without `String.contains`
            // (the generic string search cost a process's first sync about a millisecond
            // over the profile's fields).
            let name = Array(path.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
            func has(_ word: StaticString) -> Bool {
                let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
                guard w.count <= name.count else { return false }
                return (0...(name.count - w.count)).contains { i in (0..<w.count).allSatisfy { name[i + $0] == w[$0] } }
            }
            func ends(_ word: StaticString) -> Bool {
                let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
                return w.count <= name.count && (0..<w.count).allSatisfy { name[name.count - w.count + $0] == w[$0] }
            }
            if has("bandwidth") || ends("onethread") || ends("allthreads") {
                guard d > 0, d < 1e14 else { return "\(path) = \(d) bytes/s" }
            } else if has("compileseconds") || has("calibrationseconds") {
                guard d < 600 else { return "\(path) = \(d) s" }
            } else if has("speedup") {
                guard d > 0, d < 1e4 else { return "\(path) = \(d)" }
            } else if has("launch") || has("latency") || has("call") || has("load") || has("chunk") {
                guard d < 1 else { return "\(path) = \(d) s" }
            } else {
                guard d < 1e-3 else { return "\(path) = \(d) s" }
            }
            return nil
        }
        func walk(_ fields: [(String, ProfileNumber)], _ prefix: String) -> String? {
            for (name, value) in fields { if let p = check(prefix + "." + name, value) { return p } }
            return nil
        }
        if let p = walk(cpu.numbers, "cpu") { return p }
        if let gpu, let p = walk(gpu.numbers, "gpu") { return p }
        if let openCL, let p = walk(openCL.numbers, "openCL") { return p }
        if let p = check("calibrationSeconds", .double(calibrationSeconds)) { return p }
        guard identity.workers > 0 else { return "identity.workers = \(identity.workers)" }
        for (name, g) in [("gpu", gpu), ("openCL", openCL)] {
            if let g, g.multiprocessors <= 0 || g.threadsPerBlock <= 0 || g.blocksPerMultiprocessor <= 0 {
                return "\(name) geometry \(g.multiprocessors) x \(g.blocksPerMultiprocessor) x \(g.threadsPerBlock)"
            }
        }
        return nil
    }
}

/// A number of a profile, for `MachineProfile.validationProblem`.
public enum ProfileNumber: Equatable, Sendable {
    case double(Double)
    case int(Int)
}

// Every number of each part of a profile by its field's name, in declaration order (an
// array's elements named "?"). Written out: walking the fields with `Mirror` cost a process's
// first sync about two milliseconds (the runtime's first conformance lookups for each type).
// The test `ProfileValidationTests.numbersAreEveryField` compares these lists with such a walk,
// so a field added to a struct and not here fails it.
extension OpCosts {
    public var numbers: [(String, ProfileNumber)] {
        [("simple", .double(simple)), ("divide", .double(divide)), ("sqrt", .double(sqrt)), ("exp", .double(exp)),
         ("transcendental", .double(transcendental)),
         ("erf", .double(erf)), ("pow", .double(pow)), ("remainder", .double(remainder)),
         ("random", .double(random))]
    }
}

extension BandwidthLevel {
    public var numbers: [(String, ProfileNumber)] {
        [("maxBytes", .int(maxBytes)), ("oneThread", .double(oneThread)), ("allThreads", .double(allThreads))]
    }
}

extension LinkProfile {
    public var numbers: [(String, ProfileNumber)] {
        [("pageableBandwidth", .double(pageableBandwidth)), ("pinnedBandwidth", .double(pinnedBandwidth)), ("latencySeconds", .double(latencySeconds))]
    }
}

/// The numbers of `parts` under `name` (`name.part`).
func profileNumbers(under name: String, _ parts: [(String, ProfileNumber)]) -> [(String, ProfileNumber)] {
    parts.map { (name + "." + $0.0, $0.1) }
}

extension CPUProfile {
    public var numbers: [(String, ProfileNumber)] {
        var out: [(String, ProfileNumber)] = [("bandwidthOneThread", .double(bandwidthOneThread)), ("bandwidthAllThreads", .double(bandwidthAllThreads))]
        for level in cacheBandwidth { out += profileNumbers(under: "cacheBandwidth.?", level.numbers) }
        out += profileNumbers(under: "f32", f32.numbers) + profileNumbers(under: "f64", f64.numbers)
        out += [("accessSeconds", .double(accessSeconds)), ("loopSeconds", .double(loopSeconds)), ("stridedAccessSeconds", .double(stridedAccessSeconds)),
                ("callSeconds", .double(callSeconds)), ("interpreterCallSeconds", .double(interpreterCallSeconds)),
                ("firstTouchSecondsPerByte", .double(firstTouchSecondsPerByte)), ("launchSeconds", .double(launchSeconds)),
                ("chunkSeconds", .double(chunkSeconds)), ("interpreterSecondsPerInstruction", .double(interpreterSecondsPerInstruction))]
        out += profileNumbers(under: "interpreterOps", interpreterOps.numbers)
        out += [("interpreterAccessSeconds", .double(interpreterAccessSeconds)), ("interpreterPointSeconds", .double(interpreterPointSeconds)),
                ("interpreterSpeedup", .double(interpreterSpeedup)), ("interpreterReductionSeconds", .double(interpreterReductionSeconds)),
                ("interpreterRowSeconds", .double(interpreterRowSeconds)),
                ("compileSeconds", .double(compileSeconds)), ("loadSeconds", .double(loadSeconds))]
        return out
    }
}

extension GPUProfile {
    public var numbers: [(String, ProfileNumber)] {
        var out: [(String, ProfileNumber)] = [("multiprocessors", .int(multiprocessors)), ("blocksPerMultiprocessor", .int(blocksPerMultiprocessor)),
                                              ("threadsPerBlock", .int(threadsPerBlock)), ("bandwidth", .double(bandwidth))]
        out += profileNumbers(under: "f32", f32.numbers) + profileNumbers(under: "f64", f64.numbers)
        out += [("launchSeconds", .double(launchSeconds)), ("compileSeconds", .double(compileSeconds)), ("loadSeconds", .double(loadSeconds))]
        out += profileNumbers(under: "hostToDevice", hostToDevice.numbers) + profileNumbers(under: "deviceToHost", deviceToHost.numbers)
        out.append(("pinnedThreshold", .int(pinnedThreshold)))
        if let firstTouchSecondsPerByte { out.append(("firstTouchSecondsPerByte", .double(firstTouchSecondsPerByte))) }
        return out
    }
}
