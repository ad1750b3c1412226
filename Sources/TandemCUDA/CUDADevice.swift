#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemIR
import TandemCompiler
import TandemRuntime

/// An NVIDIA GPU through the driver API: kernel IR → CUDA C (the shared emitter's CUDA dialect)
/// → CUBIN for the device's own architecture (NVRTC, cached) → `cuModuleLoadData` → launches
/// queued on a compute stream; buffers move by the residency rules (`DeviceResidency`) on a copy
/// stream, ordered with the kernels by events; device memory comes from a pool.
///
/// Nothing is loaded or initialised until first use (`availability`, `prepareQueued`), so a
/// machine without CUDA pays nothing.
///
///     let gpu = CUDADevice(statistics: StatisticsBox())
///     guard gpu.availability == .available else { print(gpu.availability); return }
///     let code = try gpu.prepareQueued(planned.kernel)
///     try gpu.enqueue(code, planned.launch, overwrites: [])
///     try gpu.makeHostValid(planned.launch.buffers[0])
public final class CUDADevice: QueuedKernelDevice, @unchecked Sendable {
    // Unchecked: all mutable state is inside `state` (a Mutex); the rest is immutable.
    public let name = "cuda"
    /// Copies of at least this many bytes go through pinned staging.
    public static let pinnedThreshold = PinnedStaging.threshold
    public let statistics: StatisticsBox
    public let cache: CUDAKernelCache
    /// Which GPU (`TANDEM_CUDA_DEVICE`, default 0).
    public let ordinal: Int
    private let probed = Mutex<Result<(CUDADriver, NVRTC, CUDADeviceInfo), CUDAUnavailable>?>(nil)
    private let state = Mutex<CUDAContextState?>(nil)

    public init(statistics: StatisticsBox, cache: CUDAKernelCache = CUDAKernelCache(), ordinal: Int? = nil) {
        self.statistics = statistics
        self.cache = cache
        self.ordinal = ordinal ?? ProcessInfoLite.environment("TANDEM_CUDA_DEVICE").flatMap(Int.init) ?? 0
    }

    /// Driver, NVRTC and the device's properties, found at first use.
    public func probe() -> Result<(CUDADriver, NVRTC, CUDADeviceInfo), CUDAUnavailable> {
        probed.withLock { p in
            if let p { return p }
            // In order, each only when the one before succeeded: without a driver, looking for
            // NVRTC (its library candidates, NumPy's and pip's folders) cost every process's
            // first sync about a millisecond for nothing.
            let r: Result<(CUDADriver, NVRTC, CUDADeviceInfo), CUDAUnavailable>
            switch CUDADriver.shared.flatMap({ d in CUDADeviceInfo.probe().map { (d, $0) } }) {
            case .failure(let e): r = .failure(e)
            case .success(let (d, gpus)):
                switch NVRTC.matchingDriver {
                case .failure(let e): r = .failure(CUDAUnavailable(reason: "a GPU is present but \(e.reason)"))
                case .success(let n):
                    if ordinal < gpus.count { r = .success((d, n, gpus[ordinal])) } else {
                        r = .failure(CUDAUnavailable(reason: "TANDEM_CUDA_DEVICE=\(ordinal) but the driver lists \(gpus.count) GPU(s)"))
                    }
                }
            }
            p = r
            return r
        }
    }

    public var availability: Availability {
        switch probe() {
        case .success: .available
        case .failure(let e): .unavailable(reason: e.reason)
        }
    }

    /// The device's properties, when there is one.
    public var info: CUDADeviceInfo? { try? probe().get().2 }

    /// Runs `body` with the context current on this thread (created at first use).
    private func withContext<R>(_ body: (CUDAContextState) throws -> R) throws -> R {
        let (driver, nvrtc, info) = try probe().mapError { TandemError.deviceUnavailable(device: "cuda", reason: $0.reason) }.get()
        return try state.withLock { s in
            if s == nil { s = try CUDAContextState(driver: driver, nvrtc: nvrtc, info: info, statistics: statistics) }
            // The primary context must be current on the calling thread for every driver call.
            try driver.check(driver.cuCtxSetCurrent(s!.context), "cuCtxSetCurrent")
            return try body(s!)
        }
    }

    // MARK: - QueuedKernelDevice

    public func prepareQueued(_ kernel: Kernel) throws -> any QueuedKernel {
        // The planner makes sequences only for syncs that place on the host alone.
        guard !kernel.isSequence else { throw TandemError.deviceUnavailable(device: "cuda", reason: "a sequence kernel runs on the host only") }
        let words = CRenderer.cudaArgumentWords(kernel)
        guard (words.buffers + words.ints + words.floats) * 8 <= CUDALaunch.maxArgumentBytes else {
            throw TandemError.deviceUnavailable(device: "cuda", reason: "kernel arguments exceed \(CUDALaunch.maxArgumentBytes) bytes")
        }
        if let loaded = state.withLock({ $0?.modules[kernel] }) { return loaded }
        // NVRTC runs outside the device's lock: other threads go on enqueuing kernels and
        // copies meanwhile (a compile takes tens to hundreds of milliseconds).
        let (_, nvrtc, info) = try probe().mapError { TandemError.deviceUnavailable(device: "cuda", reason: $0.reason) }.get()
        let image = try cache.cubin(source: CRenderer.render(kernel, dialect: .cuda), architecture: info.architecture, nvrtc: nvrtc, statistics: statistics)
        return try withContext { s in try s.module(for: kernel, image: image) }
    }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>) throws {
        try enqueue(kernel, launch, overwrites: overwrites, timed: nil)
    }

    /// Kernels are timed by a pair of timing events around their launches on the compute stream.
    public var reportsKernelTimes: Bool { true }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>, timed: (@Sendable (Double) -> Void)?) throws {
        guard let code = kernel as? CUDAKernel else { preconditionFailure("a kernel prepared by another device was enqueued on cuda") }
        try withContext { s in
            s.reportTimings()
            try s.enqueue(code, launch, overwrites: overwrites, timed: timed)
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
        guard case .success(let (_, nvrtc, info)) = probe() else { return .missing }
        if state.withLock({ $0?.modules[kernel] }) != nil { return .ready }
        return cache.state(source: CRenderer.render(kernel, dialect: .cuda), architecture: info.architecture, nvrtc: nvrtc)
    }

    public func synchronize() throws {
        try withContext { s in
            try s.compute.synchronize()
            try s.copy.synchronize()
            s.reportTimings()
        }
    }

    /// Device-to-device copy bandwidth in bytes per second, measured with events over a copy of
    /// `bytes` (the reference for "fraction of the memory bandwidth" of the benchmarks).
    public func copyBandwidth(bytes: Int = 1 << 30, repeats: Int = 10) throws -> Double {
        try withContext { s in
            var a: CUdeviceptr = 0, b: CUdeviceptr = 0
            try s.driver.check(s.driver.cuMemAlloc(&a, bytes), "cuMemAlloc_v2")
            defer { _ = s.driver.cuMemFree(a) }
            try s.driver.check(s.driver.cuMemAlloc(&b, bytes), "cuMemAlloc_v2")
            defer { _ = s.driver.cuMemFree(b) }
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = try s.compute.record(timing: true)
                try s.driver.check(s.driver.cuMemcpyDtoDAsync(b, a, bytes, s.compute.handle), "cuMemcpyDtoDAsync_v2")
                let end = try s.compute.record(timing: true)
                try end.synchronize()
                best = min(best, try end.milliseconds(since: start))
            }
            return 2 * Double(bytes) / (best * 1e-3)  // read + write
        }
    }
}

/// A loaded module and its entry points.
final class CUDAKernel: QueuedKernel, @unchecked Sendable {
    // This is safe: the handles are set once and used under the device's lock.
    let kernel: Kernel
    let module: CUmodule
    let entries: EntryPoints<CUfunction>

    init(kernel: Kernel, module: CUmodule, entries: EntryPoints<CUfunction>) {
        self.kernel = kernel
        self.module = module
        self.entries = entries
    }
}

/// The primary context, the streams, the memory and the loaded modules of one GPU.
// Unchecked: only used inside `CUDADevice.withContext`, under the device's lock.
final class CUDAContextState: @unchecked Sendable {
    let driver: CUDADriver
    let nvrtc: NVRTC
    let info: CUDADeviceInfo
    let statistics: StatisticsBox
    let device: CUdevice
    let context: CUcontext
    let compute: CUDAStream
    let copy: CUDAStream
    let memory: CUDAMemory
    let residency: DeviceResidency
    var modules: [Kernel: CUDAKernel] = [:]
    /// Timed kernels not yet reported, in stream order: the events around their launches.
    var timings: [(start: CUDAEvent, end: CUDAEvent, timed: @Sendable (Double) -> Void)] = []
    /// Timing events whose kernels were reported, for reuse (two events a timed kernel otherwise).
    var spareTimingEvents: [CUDAEvent] = []

    init(driver: CUDADriver, nvrtc: NVRTC, info: CUDADeviceInfo, statistics: StatisticsBox) throws {
        self.driver = driver
        self.nvrtc = nvrtc
        self.info = info
        self.statistics = statistics
        var dev: CUdevice = 0
        try driver.check(driver.cuDeviceGet(&dev, Int32(info.ordinal)), "cuDeviceGet")
        device = dev
        var ctx: CUcontext? = nil
        // Host threads waiting for the GPU block instead of spinning (the default, "auto", spins
        // when there are fewer threads than cores: a sync would take a core from the CPU's
        // kernels). Best effort: a context another library made active keeps its flags.
        _ = driver.cuDevicePrimaryCtxSetFlags?(dev, CUDAFlags.contextBlockingSync)
        // The primary context (shared with CuPy, PyTorch and the runtime API in this process),
        // not cuCtxCreate, whose signature changed in CUDA 13.
        try driver.check(driver.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain")
        context = ctx!
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        compute = try CUDAStream(driver)
        copy = try CUDAStream(driver)
        memory = try CUDAMemory(driver: driver, compute: compute, copy: copy)
        residency = DeviceResidency(pool: DeviceMemoryPool(backend: memory), device: "cuda")
    }

    deinit {
        // The timing events go while the context is still retained.
        timings.removeAll()
        spareTimingEvents.removeAll()
        modules.values.forEach { _ = driver.cuModuleUnload($0.module) }
        _ = driver.cuDevicePrimaryCtxRelease(device)
    }

    /// The loaded module of `kernel`, loading `image` (its CUBIN) unless another thread did.
    func module(for kernel: Kernel, image: [UInt8]) throws -> CUDAKernel {
        if let m = modules[kernel] { return m }
        var mod: CUmodule? = nil
        try image.withUnsafeBytes { try driver.check(driver.cuModuleLoadData(&mod, $0.baseAddress), "cuModuleLoadData") }
        func function(_ name: String) throws -> CUfunction {
            var f: CUfunction? = nil
            try driver.check(driver.cuModuleGetFunction(&f, mod, name), "cuModuleGetFunction(\(name))")
            return f!
        }
        let k = CUDAKernel(kernel: kernel, module: mod!, entries: try EntryPoints(kernel, lookup: function))
        modules[kernel] = k
        return k
    }

    /// A timing event, reused when one is spare; nil when none can be made (the kernel then
    /// goes untimed: a timing never stops a kernel).
    private func timingEvent() -> CUDAEvent? {
        if let e = spareTimingEvents.popLast() { return e }
        return try? CUDAEvent(driver, timing: true)
    }

    /// Reports the device times of the timed kernels that have finished, oldest first (the
    /// stream is in order: the first one not finished ends the pass). A timing that cannot be
    /// read is dropped.
    func reportTimings() {
        while let t = timings.first {
            let done: Bool
            do { done = try t.end.isDone() } catch { done = true }
            guard done else { return }
            timings.removeFirst()
            if let ms = try? t.end.milliseconds(since: t.start), ms.isFinite, ms >= 0 { t.timed(ms / 1e3) }
            spareTimingEvents += [t.start, t.end]
        }
    }

    func enqueue(_ code: CUDAKernel, _ launch: Launch, overwrites: Set<UInt64>, timed: (@Sendable (Double) -> Void)? = nil) throws {
        let k = code.kernel
        memory.copiesQueued = false
        let addresses = try residency.prepareLaunch(k, launch, overwrites: overwrites, statistics: statistics)
        // The kernel starts after the copies it needs.
        if memory.copiesQueued {
            try copy.record(into: memory.copyDone)
            try compute.wait(memory.copyDone)
        }
        var blob = CUDALaunch.argumentWords(kernel: k, addresses: addresses, ints: launch.ints, floats: launch.floats)
        let plan = CUDALaunch.plan(k, ints: launch.ints, multiprocessors: info.multiprocessors)
        let start = ProcessInfoLite.monotonicNanos()
        // A timed kernel: events around its launches (after the copies it waits for).
        var timing: (start: CUDAEvent, end: CUDAEvent)? = nil
        if timed != nil, let a = timingEvent() {
            // An event made but not used goes back to the spares.
            if let b = timingEvent() {
                if (try? compute.record(into: a)) != nil { timing = (a, b) } else { spareTimingEvents += [a, b] }
            } else {
                spareTimingEvents.append(a)
            }
        }
        try blob.withUnsafeMutableBytes { args in
            switch plan {
            case .rows(let blocks):
                try launchKernel(code.entries.rows, grid: (blocks, 1), args.baseAddress!, extra: [])
            case .splitCombine(let parts, let gridY, let combineBlocks, let partialBytes):
                let temp = try residency.scratch(bytes: partialBytes, keeping: launch.buffers)
                defer { residency.pool.release(temp, bytes: partialBytes) }  // stream-ordered: reused only by later work
                var p = temp, n = Int64(parts)
                try withUnsafeMutableBytes(of: &p) { pp in
                    try withUnsafeMutableBytes(of: &n) { np in
                        try launchKernel(code.entries.split!, grid: (parts, gridY), args.baseAddress!, extra: [pp.baseAddress!, np.baseAddress!])
                        try launchKernel(code.entries.combine!, grid: (combineBlocks, 1), args.baseAddress!, extra: [pp.baseAddress!, np.baseAddress!])
                    }
                }
            }
        }
        if let timing, let timed {
            if (try? compute.record(into: timing.end)) != nil { timings.append((timing.start, timing.end, timed)) } else { spareTimingEvents += [timing.start, timing.end] }
        }
        try compute.record(into: memory.computeDone)
        memory.computeRecorded = true
        Tracer.shared.record(TraceEvent(kind: .kernel, name: "enqueue", start: start, duration: ProcessInfoLite.monotonicNanos() - start,
                                        device: "cuda", detail: "\(plan)"))
    }

    private func launchKernel(_ f: CUfunction, grid: (Int, Int), _ args: UnsafeMutableRawPointer, extra: [UnsafeMutableRawPointer]) throws {
        var params: [UnsafeMutableRawPointer?] = [args] + extra
        try params.withUnsafeMutableBufferPointer { p in
            try driver.check(driver.cuLaunchKernel(f, UInt32(grid.0), UInt32(grid.1), 1, UInt32(CRenderer.cudaThreads), 1, 1, 0,
                                                   compute.handle, p.baseAddress, nil), "cuLaunchKernel")
        }
    }
}

/// Device memory and copies through the driver, for `DeviceResidency`.
///
/// Ordering: a copy into a block some queued kernel may use (one the pool hands out again, or
/// one a kernel used) goes on the copy stream after the last kernel queued on the compute
/// stream; a copy into a block allocated since (`FreshBlocks`) goes at once, beside the running
/// kernel: copies of the next kernel's new inputs overlap the kernel ahead. A kernel waits for
/// the copies queued for it. Host reads wait for their copy to finish.
final class CUDAMemory: DeviceMemoryBackend {
    let driver: CUDADriver
    let compute: CUDAStream
    let copy: CUDAStream
    let staging: PinnedStaging
    /// Recorded after each kernel on the compute stream, and after the copies a kernel waits
    /// for on the copy stream: two events for the life of the context, not two a launch.
    let computeDone: CUDAEvent
    let copyDone: CUDAEvent
    var computeRecorded = false
    /// Set when a host-to-device copy was queued since the flag was cleared.
    var copiesQueued = false
    /// Blocks no queued kernel uses: copies into them need not wait for the compute stream.
    private var fresh = FreshBlocks()

    init(driver: CUDADriver, compute: CUDAStream, copy: CUDAStream) throws {
        self.driver = driver
        self.compute = compute
        self.copy = copy
        staging = try PinnedStaging(driver)
        computeDone = try CUDAEvent(driver, timing: false)
        copyDone = try CUDAEvent(driver, timing: false)
    }

    func allocate(bytes: Int) throws -> UInt64? {
        var p: CUdeviceptr = 0
        let r = driver.cuMemAlloc(&p, bytes)
        if r == CUDAStatus.outOfMemory { return nil }
        try driver.check(r, "cuMemAlloc_v2")
        fresh.allocated(p)
        return p
    }

    func free(_ address: UInt64, bytes: Int) throws {
        // The block may still be used by queued work: wait for it before giving it back.
        try compute.synchronize()
        try copy.synchronize()
        try driver.check(driver.cuMemFree(address), "cuMemFree_v2")
        fresh.freed(address)
    }

    func used(_ addresses: [UInt64]) { fresh.used(addresses) }

    private func afterCompute() throws {
        if computeRecorded { try copy.wait(computeDone) }
    }

    func copyToDevice(_ buffer: Buffer, address: UInt64) throws {
        if !fresh.isFresh(address) { try afterCompute() }
        if buffer.byteCount >= PinnedStaging.threshold {
            try staging.copyToDevice(address, from: buffer.pointer, bytes: buffer.byteCount, stream: copy)
        } else {
            try driver.check(driver.cuMemcpyHtoDAsync(address, buffer.pointer, buffer.byteCount, copy.handle), "cuMemcpyHtoDAsync_v2")
        }
        copiesQueued = true
    }

    func copyToHost(_ buffer: Buffer, address: UInt64) throws {
        try afterCompute()
        buffer.allocate()
        if buffer.byteCount >= PinnedStaging.threshold {
            try staging.copyToHost(buffer.pointer, from: address, bytes: buffer.byteCount, stream: copy)
        } else {
            try driver.check(driver.cuMemcpyDtoHAsync(buffer.pointer, address, buffer.byteCount, copy.handle), "cuMemcpyDtoHAsync_v2")
            try copy.synchronize()
        }
    }
}
