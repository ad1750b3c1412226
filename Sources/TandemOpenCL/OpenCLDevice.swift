#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemIR
import TandemCompiler
import TandemRuntime

/// An OpenCL device (a GPU of any vendor, or PoCL on the CPU's cores): kernel IR → OpenCL C (the
/// shared emitter's OpenCL dialect) → a program built by the driver (its binary cached in the
/// verified cache) → launches on an in-order command queue; buffers move by the same residency
/// rules and memory pool as the CUDA device (`DeviceResidency`).
///
/// Chosen with `TANDEM_OPENCL_DEVICE`: an index over every device of every platform, in the
/// loader's order, or a part of the device's or platform's name; by default the first GPU, else
/// the first device. Nothing is loaded until first use.
///
///     let cl = OpenCLDevice(statistics: StatisticsBox())
///     guard cl.availability == .available else { print(cl.availability); return }
///     let code = try cl.prepareQueued(planned.kernel)
///     try cl.enqueue(code, planned.launch, overwrites: [])
///     try cl.makeHostValid(planned.launch.buffers[0])
///
/// Trade-off: uploads are blocking writes. The host memory of a buffer may be written or
/// reused by the host as soon as the residency says the device holds a copy; a non-blocking
/// write would need the host to keep each source alive until its copy finished. Kernels
/// still run asynchronously to the host; on PoCL a copy is a memcpy either way.
public final class OpenCLDevice: QueuedKernelDevice, @unchecked Sendable {
    // Unchecked: all mutable state is inside `state` (a Mutex); the rest is immutable.
    public let name = "opencl"
    public let statistics: StatisticsBox
    /// Program binaries, beside the CPU's and CUDA's entries.
    public let files: VerifiedFileCache
    /// `TANDEM_OPENCL_DEVICE`, or what the caller chose.
    public let selection: String?
    /// Device memory Tandem may hold (`TANDEM_OPENCL_MEMORY_LIMIT`, bytes), below the device's own.
    public let memoryLimit: Int?
    /// Consecutive points each work-item computes, when the caller chose (tests); else the
    /// device's kind decides (`AcceleratorLaunch.pointsPerItem`).
    public let pointsPerItemChoice: Int?
    /// Treats the device as one without `cl_khr_fp64` (tests, on PoCL, which has it).
    public let assumesNoFloat64: Bool
    /// Kernels' reasons for refusal on a device without float64, found once each.
    private let refusals = Mutex<[Kernel: String?]>([:])
    private let probed = Mutex<Result<(OpenCLDriver, OpenCLDeviceInfo), OpenCLUnavailable>?>(nil)
    private let state = Mutex<OpenCLContextState?>(nil)

    /// Options every program is built with: OpenCL C 1.2, and single-precision division and
    /// square root correctly rounded, as in C (by default OpenCL allows 2.5 ulp).
    public static let buildOptions = "-cl-std=CL1.2 -cl-fp32-correctly-rounded-divide-sqrt"

    public init(statistics: StatisticsBox, cacheDirectory: String? = nil, selection: String? = nil, memoryLimit: Int? = nil,
                pointsPerItem: Int? = nil, assumesNoFloat64: Bool = false) {
        precondition((pointsPerItem ?? 1) >= 1, "points per work-item must be at least 1")
        self.pointsPerItemChoice = pointsPerItem
        self.assumesNoFloat64 = assumesNoFloat64
        self.statistics = statistics
        self.files = VerifiedFileCache(root: cacheDirectory ?? VerifiedFileCache.defaultRoot, subfolder: "opencl", suffix: ".clbin")
        self.selection = selection ?? ProcessInfoLite.environment("TANDEM_OPENCL_DEVICE").flatMap { $0.isEmpty ? nil : $0 }
        self.memoryLimit = memoryLimit ?? ProcessInfoLite.environment("TANDEM_OPENCL_MEMORY_LIMIT").flatMap(Int.init)
    }

    /// The loader and the chosen device, found at first use.
    public func probe() -> Result<(OpenCLDriver, OpenCLDeviceInfo), OpenCLUnavailable> {
        probed.withLock { p in
            if let p { return p }
            let r = OpenCLDevice.choose(selection)
            p = r
            return r
        }
    }

    static func choose(_ selection: String?) -> Result<(OpenCLDriver, OpenCLDeviceInfo), OpenCLUnavailable> {
        let cl: OpenCLDriver
        switch OpenCLDriver.shared {
        case .failure(let e): return .failure(e)
        case .success(let d): cl = d
        }
        let all: [OpenCLDeviceInfo]
        do { all = try cl.platforms().flatMap(\.devices) } catch {
            return .failure(OpenCLUnavailable(reason: "the OpenCL platforms could not be listed: \(error)"))
        }
        guard !all.isEmpty else {
            return .failure(OpenCLUnavailable(reason: "the OpenCL loader (\(cl.library.path)) lists no platform or no device (install a driver, e.g. pocl-opencl-icd)"))
        }
        let chosen: OpenCLDeviceInfo
        if let selection {
            if let i = Int(selection) {
                guard all.indices.contains(i) else {
                    return .failure(OpenCLUnavailable(reason: "TANDEM_OPENCL_DEVICE=\(i) but OpenCL lists \(all.count) device(s)"))
                }
                chosen = all[i]
            } else {
                let s = selection.lowercased()
                guard let d = all.first(where: { $0.name.lowercased().contains(s) || $0.platformName.lowercased().contains(s) }) else {
                    return .failure(OpenCLUnavailable(reason: "TANDEM_OPENCL_DEVICE=\(selection) names none of: \(all.map(\.name).joined(separator: "; "))"))
                }
                chosen = d
            }
        } else {
            chosen = all.first(where: \.isGPU) ?? all[0]
        }
        if let why = chosen.unsuitable { return .failure(OpenCLUnavailable(reason: why)) }
        return .success((cl, chosen))
    }

    public var availability: Availability {
        switch probe() {
        case .success: .available
        case .failure(let e): .unavailable(reason: e.reason)
        }
    }

    /// The chosen device's properties, when there is one.
    public var info: OpenCLDeviceInfo? { try? probe().get().1 }

    /// A device that is not a GPU (PoCL's) runs on the host's cores: `auto` does not offer it.
    public var sharesHostCores: Bool { info.map { !$0.isGPU } ?? false }

    /// Its compute units, when it runs on the host's cores (PoCL: one a thread it may use).
    public var hostCoresUsed: Int { sharesHostCores ? (info?.computeUnits ?? 0) : 0 }

    private func withContext<R>(_ body: (OpenCLContextState) throws -> R) throws -> R {
        let (cl, info) = try probe().mapError { TandemError.deviceUnavailable(device: "opencl", reason: $0.reason) }.get()
        return try state.withLock { s in
            if s == nil {
                s = try OpenCLContextState(cl: cl, info: info, statistics: statistics, memoryLimit: memoryLimit, pointsPerItem: pointsPerItem(info),
                                           float64: hasFloat64(info))
            }
            return try body(s!)
        }
    }

    /// Consecutive points each work-item computes on `info`'s device: one on a GPU, eight on a
    /// device on CPU cores (see `AcceleratorLaunch.pointsPerItem`).
    func pointsPerItem(_ info: OpenCLDeviceInfo) -> Int {
        pointsPerItemChoice ?? AcceleratorLaunch.pointsPerItem(runsOnCPUCores: !info.isGPU)
    }

    /// `kernel`'s OpenCL C as this device builds it (one work-item per point where no device
    /// was found).
    ///
    ///     print(Tandem.openCL.source(for: recorded.kernel))
    public func source(for kernel: Kernel) -> String {
        CRenderer.render(kernel, dialect: .opencl, pointsPerItem: info.map(pointsPerItem) ?? 1, float64: info.map(hasFloat64) ?? true)
    }

    /// Whether kernels may use float64 on `info`'s device (`cl_khr_fp64`).
    func hasFloat64(_ info: OpenCLDeviceInfo) -> Bool { info.hasFloat64 && !assumesNoFloat64 }

    /// Why this device does not run `kernel`, or nil: on a device without `cl_khr_fp64`, a
    /// kernel whose OpenCL C needs float64 (`CRenderer.openCLFloat64Use`). `auto` places such a
    /// kernel elsewhere; a forced placement fails with this reason.
    ///
    ///     if let why = Tandem.openCL.refusal(kernel) { print(why) }
    public func refusal(_ kernel: Kernel) -> String? {
        guard let info, !hasFloat64(info) else { return nil }
        if let known = refusals.withLock({ $0[kernel] }) { return known }
        let why = CRenderer.openCLFloat64Use(kernel, pointsPerItem: pointsPerItem(info)).map {
            "\(info.name) has no float64 (cl_khr_fp64) and the kernel needs it: \($0)"
        }
        refusals.withLock { $0[kernel] = why }
        return why
    }

    /// The program's cache key: the source, the device, its driver and the build options.
    func key(_ source: String, _ info: OpenCLDeviceInfo) -> String {
        VerifiedFileCache.key([source, info.platformName, info.platformVersion, info.name, info.driverVersion, OpenCLDevice.buildOptions])
    }

    // MARK: - QueuedKernelDevice

    public func prepareQueued(_ kernel: Kernel) throws -> any QueuedKernel {
        // The planner makes sequences only for syncs that place on the host alone.
        guard !kernel.isSequence else { throw TandemError.deviceUnavailable(device: "opencl", reason: "a sequence kernel runs on the host only") }
        if let why = refusal(kernel) { throw TandemError.deviceUnavailable(device: "opencl", reason: why) }
        let context: OpenCLContextState = try withContext { s in s }
        // Every argument is at most 8 bytes; the extra two of the split entries included.
        let bytes = (kernel.buffers.count + kernel.intParams + kernel.floatParams + 2) * 8
        guard bytes <= context.info.maxParameterBytes else {
            throw TandemError.deviceUnavailable(device: "opencl", reason: "kernel arguments (\(bytes) bytes) exceed the device's \(context.info.maxParameterBytes)")
        }
        return try context.kernel(for: kernel, device: self, lock: state)
    }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>) throws {
        try enqueue(kernel, launch, overwrites: overwrites, timed: nil)
    }

    /// Kernels are timed by the queue's profiling (start of the first launch to end of the last).
    public var reportsKernelTimes: Bool { true }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>, timed: (@Sendable (Double) -> Void)?) throws {
        guard let code = kernel as? OpenCLKernel else { preconditionFailure("a kernel prepared by another device was enqueued on opencl") }
        try withContext { s in
            s.reportTimings()
            try s.enqueue(code, launch, overwrites: overwrites, timed: timed)
        }
    }

    /// Parts of kernels run with a global offset (OpenCL 1.1's `global_work_offset`).
    public var runsParts: Bool { true }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, rows: Range<Int>, access: PartAccess,
                        timed: (@Sendable (Double) -> Void)?) throws {
        guard let code = kernel as? OpenCLKernel else { preconditionFailure("a kernel prepared by another device was enqueued on opencl") }
        try withContext { s in
            s.reportTimings()
            try s.enqueue(code, launch, overwrites: [], timed: timed, rows: rows, access: access)
        }
    }

    /// Pieces of reductions, with the split entry (`enqueueReduceParts`).
    public var runsReduceParts: Bool { true }

    public func enqueueReduceParts(_ kernel: any QueuedKernel, _ launch: Launch, parts: Int, into: UnsafeMutableRawPointer, bytes: Int,
                                   reads: [(buffer: Int, bytes: Range<Int>)], timed: (@Sendable (Double) -> Void)?) throws {
        guard let code = kernel as? OpenCLKernel else { preconditionFailure("a kernel prepared by another device was enqueued on opencl") }
        try withContext { s in
            s.reportTimings()
            try s.enqueueReduceParts(code, launch, parts: parts, into: into, bytes: bytes, reads: reads, timed: timed)
        }
    }

    public func hostUse(reads: [(buffer: Buffer, bytes: Range<Int>)], writes: [(buffer: Buffer, bytes: Range<Int>)]) throws {
        try withContext { s in
            try s.residency.hostUse(reads: reads, writes: writes, statistics: statistics)
            s.reportTimings()
        }
    }

    public func makeHostValid(_ buffer: Buffer) throws {
        try withContext { s in
            try s.residency.makeHostValid(buffer, statistics: statistics)
            s.reportTimings()
        }
    }

    public func hostWillWrite(_ buffer: Buffer, overwrites: Bool) throws {
        try withContext { s in
            try s.residency.hostWillWrite(buffer, overwrites: overwrites, statistics: statistics)
            s.reportTimings()
        }
    }

    public func validity(of buffer: Buffer) -> Validity {
        (try? withContext { s in s.residency.validity(of: buffer) }) ?? .host
    }

    public func codeState(_ kernel: Kernel) -> CodeState {
        // A sequence kernel has no form here (host syncs only make them).
        if kernel.isSequence { return .missing }
        guard case .success(let (_, info)) = probe() else { return .missing }
        if state.withLock({ $0?.kernels[kernel] }) != nil { return .ready }
        return access(files.entryPath(key(source(for: kernel), info)), F_OK) == 0 ? .onDisk : .missing
    }

    public func synchronize() throws {
        try withContext { s in
            try s.cl.check(s.cl.clFinish(s.queue), "clFinish")
            try s.memory.finishUploads()
            s.reportTimings()
        }
    }

    /// Large uploads made on the copy queue so far (overlapping the kernel queue).
    public var stagedUploads: Int { (try? withContext { s in s.memory.stagedUploads }) ?? 0 }

    /// Builds `source` for the device, outside the cache, and releases it: the compiler alone
    /// (the calibration measures it this way), and the path a compile error takes.
    ///
    ///     try Tandem.openCL.build(source: "__kernel void k(__global float *x) { x[0] = 1; }")
    public func build(source: String) throws {
        try withContext { s in _ = s.cl.clReleaseProgram(try s.build(source: source)) }
    }

    /// Seconds to make `kernel`'s entry points from its cached binary (what a later process
    /// pays where this one built it), without installing them; nil when no binary is cached.
    public func timeLoadFromCache(_ kernel: Kernel) throws -> Double? {
        try withContext { s in
            let key = key(s.source(kernel), s.info)
            guard case .hit(_, let bytes) = files.read(key) else { return nil }
            let t0 = ProcessInfoLite.monotonicNanos()
            let program = try s.build(binary: bytes)
            defer { _ = s.cl.clReleaseProgram(program) }
            let entries = try s.entryPoints(kernel, in: program)
            let seconds = Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9
            for e in entries.all { _ = s.cl.clReleaseKernel(e) }
            return seconds
        }
    }

    /// Device-to-device copy bandwidth in bytes a second (read + write), the best of `repeats`
    /// copies of `bytes` (`clEnqueueCopyBuffer`, waited for).
    public func copyBandwidth(bytes: Int = 1 << 28, repeats: Int = 5) throws -> Double {
        try withContext { s in
            let a = try s.memory.buffer(bytes: bytes)
            defer { _ = s.cl.clReleaseMemObject(a) }
            let b = try s.memory.buffer(bytes: bytes)
            defer { _ = s.cl.clReleaseMemObject(b) }
            var best = Double.infinity
            // The first copy also touches the pages: it is not counted.
            for i in 0...max(repeats, 1) {
                try s.cl.check(s.cl.clFinish(s.queue), "clFinish")
                let t0 = ProcessInfoLite.monotonicNanos()
                try s.cl.check(s.cl.clEnqueueCopyBuffer(s.queue, a, b, 0, 0, bytes, 0, nil, nil), "clEnqueueCopyBuffer")
                try s.cl.check(s.cl.clFinish(s.queue), "clFinish")
                if i > 0 { best = min(best, Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9) }
            }
            return 2 * Double(bytes) / best
        }
    }

    /// Bytes of device memory held by live buffers and by the pool's cached blocks.
    public func memoryInUse() -> (live: Int, cached: Int) {
        state.withLock { s in (s?.residency.pool.liveBytes ?? 0, s?.residency.pool.cachedBytes ?? 0) }
    }

    /// Blocks the pool handed out from its cache, and those it had to allocate on the device.
    public func poolCounts() -> (hits: Int, misses: Int) {
        state.withLock { s in (s?.residency.pool.hits ?? 0, s?.residency.pool.misses ?? 0) }
    }
}

/// A built program and its entry points.
final class OpenCLKernel: QueuedKernel, @unchecked Sendable {
    // Unchecked: the handles are set once; arguments are set and launches queued under the
    // device's lock.
    let kernel: Kernel
    let program: cl_program
    let entries: EntryPoints<cl_kernel>
    /// Points each work-item computes, as the source was written (`AcceleratorLaunch.points`),
    /// found once here rather than at every launch.
    let points: Int

    init(kernel: Kernel, program: cl_program, entries: EntryPoints<cl_kernel>, points: Int) {
        self.kernel = kernel
        self.program = program
        self.entries = entries
        self.points = points
    }
}

/// The context, the queue, the memory and the built programs of one OpenCL device.
// Unchecked: only used inside `OpenCLDevice.withContext`, under the device's lock.
final class OpenCLContextState: @unchecked Sendable {
    let cl: OpenCLDriver
    let info: OpenCLDeviceInfo
    let statistics: StatisticsBox
    let context: cl_context
    let queue: cl_command_queue
    let copyQueue: cl_command_queue?
    let memory: OpenCLMemory
    let residency: DeviceResidency
    var kernels: [Kernel: OpenCLKernel] = [:]
    /// Consecutive points each work-item computes (`OpenCLDevice.pointsPerItem`).
    let pointsPerItem: Int
    /// Whether kernels may use float64: else float parameters are passed as float.
    let float64: Bool
    /// Kernels whose device time is still to be read: their first and last launches' events, in
    /// queue order, and whom to tell.
    var timings: [(first: cl_event, last: cl_event, timed: @Sendable (Double) -> Void)] = []

    init(cl: OpenCLDriver, info: OpenCLDeviceInfo, statistics: StatisticsBox, memoryLimit: Int?, pointsPerItem: Int, float64: Bool) throws {
        self.pointsPerItem = pointsPerItem
        self.float64 = float64
        self.cl = cl
        self.info = info
        self.statistics = statistics
        var err: cl_int = 0
        var device: cl_device_id? = info.device
        guard let ctx = cl.clCreateContext(nil, 1, &device, nil, nil, &err), err == CL.success else {
            throw OpenCLError(call: "clCreateContext", code: err)
        }
        context = ctx
        // Profiling on: a kernel's events carry its start and end on the device.
        guard let q = cl.clCreateCommandQueue(ctx, info.device, CL.queueProfilingEnable, &err), err == CL.success else {
            _ = cl.clReleaseContext(ctx)
            throw OpenCLError(call: "clCreateCommandQueue", code: err)
        }
        queue = q
        // The upload queue (see `OpenCLMemory`); without it uploads go on the kernel queue.
        copyQueue = cl.clCreateCommandQueue(ctx, info.device, 0, &err)
        memory = OpenCLMemory(cl: cl, context: ctx, queue: q, copyQueue: err == CL.success ? copyQueue : nil, limit: memoryLimit)
        residency = DeviceResidency(pool: DeviceMemoryPool(backend: memory), device: "opencl")
    }

    deinit {
        _ = cl.clFinish(queue)
        try? memory.finishUploads()
        for t in timings {
            _ = cl.clReleaseEvent(t.first)
            if t.last != t.first { _ = cl.clReleaseEvent(t.last) }
        }
        for k in kernels.values {
            for e in k.entries.all { _ = cl.clReleaseKernel(e) }
            _ = cl.clReleaseProgram(k.program)
        }
        _ = cl.clReleaseCommandQueue(queue)
        if let copyQueue { _ = cl.clReleaseCommandQueue(copyQueue) }
        _ = cl.clReleaseContext(context)
    }

    /// The kernel's entry points: built (or loaded from the cache) outside the device's lock,
    /// so other threads go on enqueuing meanwhile (a PoCL build takes about a second), and
    /// installed under it (a program another thread installed first is kept, ours released).
    func kernel(for kernel: Kernel, device: OpenCLDevice, lock: borrowing Mutex<OpenCLContextState?>) throws -> OpenCLKernel {
        if let k = lock.withLock({ _ in kernels[kernel] }) { return k }
        let built = try program(for: kernel, device: device)
        return try lock.withLock { _ in
            if let k = kernels[kernel] {
                _ = cl.clReleaseProgram(built)
                return k
            }
            let k = OpenCLKernel(kernel: kernel, program: built, entries: try entryPoints(kernel, in: built),
                                 points: AcceleratorLaunch.points(kernel, device: pointsPerItem))
            kernels[kernel] = k
            return k
        }
    }

    /// `kernel`'s OpenCL C for this device.
    func source(_ kernel: Kernel) -> String { CRenderer.render(kernel, dialect: .opencl, pointsPerItem: pointsPerItem, float64: float64) }

    /// `kernel`'s entry points in a built program.
    func entryPoints(_ kernel: Kernel, in program: cl_program) throws -> EntryPoints<cl_kernel> {
        try EntryPoints(kernel) { name in
            var err: cl_int = 0
            guard let k = cl.clCreateKernel(program, name, &err), err == CL.success else { throw OpenCLError(call: "clCreateKernel(\(name))", code: err) }
            return k
        }
    }

    /// The built program of `kernel`: from a cached binary, else from source (stored for the next process).
    func program(for kernel: Kernel, device: OpenCLDevice) throws -> cl_program {
        let source = source(kernel)
        let key = device.key(source, info)
        var program: cl_program? = nil
        if case .hit(_, let bytes) = device.files.read(key) {
            program = try? build(binary: bytes)
            if program != nil {
                statistics.update { $0.compileDiskHits += 1 }
                Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (disk hit)", start: ProcessInfoLite.monotonicNanos(), device: "opencl", detail: "disk"))
            }
        }
        if program == nil {
            // TANDEM_OPENCL_SOURCE=<folder>: each program built from source is also written there
            // (`<key>.cl`), to inspect or build by hand.
            if let folder = ProcessInfoLite.environment("TANDEM_OPENCL_SOURCE") {
                _ = ProcessInfoLite.write(Array(source.utf8), to: "\(folder)/\(key.prefix(16)).cl")
            }
            let start = ProcessInfoLite.monotonicNanos()
            let built = try build(source: source)
            program = built
            let elapsed = ProcessInfoLite.monotonicNanos() - start
            statistics.update {
                $0.compileMisses += 1
                $0.compileNanos += elapsed
            }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile", start: start, duration: elapsed, device: "opencl", detail: "miss \(key.prefix(12))"))
            // A binary that cannot be had or stored costs the next process a build, nothing more.
            if let binary = self.binary(of: built) { _ = try? device.files.store(key, bytes: binary) }
        }
        return program!
    }

    /// Builds `source`; a failure throws `TandemError.compileFailed` with the build log and the source.
    func build(source: String) throws -> cl_program {
        var err: cl_int = 0
        let program: cl_program? = source.withCString { text in
            var p: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return cl.clCreateProgramWithSource(context, 1, &p, &length, &err)
        }
        guard let program, err == CL.success else { throw OpenCLError(call: "clCreateProgramWithSource", code: err) }
        var device: cl_device_id? = info.device
        let r = cl.clBuildProgram(program, 1, &device, OpenCLDevice.buildOptions, nil, nil)
        guard r == CL.success else {
            let log = buildLog(program)
            _ = cl.clReleaseProgram(program)
            throw TandemError.compileFailed(compiler: "OpenCL \(info.platformName) \(info.driverVersion) for \(info.name) (\(CL.name(r)))",
                                            log: log.isEmpty ? "\(CL.name(r)) (\(r)), no build log" : log, source: source)
        }
        return program
    }

    /// A program from a cached binary (it is built again for the device: a no-op for a native one).
    func build(binary: [UInt8]) throws -> cl_program {
        var err: cl_int = 0, status: cl_int = 0
        var device: cl_device_id? = info.device
        var length = binary.count
        let program: cl_program? = binary.withUnsafeBufferPointer { b in
            var p: UnsafePointer<UInt8>? = b.baseAddress
            return cl.clCreateProgramWithBinary(context, 1, &device, &length, &p, &status, &err)
        }
        guard let program, err == CL.success, status == CL.success else { throw OpenCLError(call: "clCreateProgramWithBinary", code: err != CL.success ? err : status) }
        let r = cl.clBuildProgram(program, 1, &device, OpenCLDevice.buildOptions, nil, nil)
        guard r == CL.success else {
            _ = cl.clReleaseProgram(program)
            throw OpenCLError(call: "clBuildProgram (binary)", code: r)
        }
        return program
    }

    func buildLog(_ program: cl_program) -> String {
        cl.string { cl.clGetProgramBuildInfo(program, info.device, CL.programBuildLog, $0, $1, $2) }
    }

    /// The device binary of a built program, for the cache.
    func binary(of program: cl_program) -> [UInt8]? {
        var size = 0
        guard cl.clGetProgramInfo(program, CL.programBinarySizes, MemoryLayout<Int>.size, &size, nil) == CL.success,
              size > 0, size <= VerifiedFileCache.maxEntryBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let ok = bytes.withUnsafeMutableBufferPointer { b -> Bool in
            var p: UnsafeMutablePointer<UInt8>? = b.baseAddress
            return cl.clGetProgramInfo(program, CL.programBinaries, MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &p, nil) == CL.success
        }
        return ok ? bytes : nil
    }
}
