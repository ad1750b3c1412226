import Testing
import _TandemTestSupport
import Synchronization
import Tandem
import TandemIR
import TandemModel
@testable import TandemRuntime
import TandemCPU
import TandemInterpreter
#if canImport(Glibc)
import Glibc
#endif

/// Device memory for the simulated GPU: blocks are host buffers, addresses their pointers.
final class HostBackedMemory: DeviceMemoryBackend {
    var blocks: [UInt64: Buffer] = [:]
    func allocate(bytes: Int) throws -> UInt64? {
        let b = Buffer(dtype: .bool, count: max(bytes, 1))
        let address = UInt64(UInt(bitPattern: b.pointer))
        blocks[address] = b
        return address
    }
    func free(_ address: UInt64, bytes: Int) throws { blocks[address] = nil }
    func copyToDevice(_ buffer: Buffer, address: UInt64) throws {
        memcpy(UnsafeMutableRawPointer(bitPattern: UInt(address))!, buffer.pointer, buffer.byteCount)
    }
    func copyToHost(_ buffer: Buffer, address: UInt64) throws {
        buffer.allocate()
        memcpy(buffer.pointer, UnsafeRawPointer(bitPattern: UInt(address))!, buffer.byteCount)
    }
    func copyToDevice(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws {
        memcpy(UnsafeMutableRawPointer(bitPattern: UInt(address))! + bytes.lowerBound, buffer.pointer + bytes.lowerBound, bytes.count)
    }
    func copyToHost(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws {
        buffer.allocate()
        memcpy(buffer.pointer + bytes.lowerBound, UnsafeRawPointer(bitPattern: UInt(address))! + bytes.lowerBound, bytes.count)
    }
}

/// A GPU simulated on the host: the product's residency and memory pool over separate host
/// memory, kernels run by the interpreter on that memory. Nothing reaches the host's buffers
/// unless the runtime asks for a copy, so a missing or misplaced copy gives wrong results.
final class FakeGPU: QueuedKernelDevice, @unchecked Sendable {
    let name: String
    let sharesHostCores: Bool
    var availability: Availability {
        availabilityAsked.add(1, ordering: .relaxed)
        return .available
    }
    /// How often `availability` was read (a real driver loads itself to answer).
    let availabilityAsked = Atomic<Int>(0)
    let statistics: StatisticsBox
    private struct State {
        var residency: DeviceResidency
        var memory: HostBackedMemory
        var kernels = 0
        var parts: [Range<Int>] = []
        var reduceParts: [Int] = []
    }
    private let state: Mutex<State>
    private let interpreter = InterpreterDevice()
    /// When set, every `prepareQueued` fails as a module the driver refuses would.
    let refusal: String?
    /// Kernels this device refuses, with the reason (as an OpenCL device without float64 does).
    let refuses: (@Sendable (Kernel) -> String?)?
    let prepares = Atomic<Int>(0)

    init(statistics: StatisticsBox, refusal: String? = nil, name: String = "cuda", sharesHostCores: Bool = false,
         refuses: (@Sendable (Kernel) -> String?)? = nil) {
        self.refuses = refuses
        self.statistics = statistics
        self.name = name
        self.sharesHostCores = sharesHostCores
        self.refusal = refusal
        let memory = HostBackedMemory()
        state = Mutex(State(residency: DeviceResidency(pool: DeviceMemoryPool(backend: memory), device: "cuda"), memory: memory))
    }

    struct Code: QueuedKernel {
        let kernel: Kernel
        let code: any PreparedKernel
    }

    /// Every copy so far, in order, as "H->D n" / "D->H n" (element counts).
    var log: [String] { state.withLock { s in s.residency.log.map { "\($0.direction.rawValue) \($0.bytes / 8)" } } }
    var kernelsRun: Int { state.withLock { $0.kernels } }

    func refusal(_ kernel: Kernel) -> String? { refuses?(kernel) }

    func prepareQueued(_ kernel: Kernel) throws -> any QueuedKernel {
        prepares.add(1, ordering: .relaxed)
        if let refusal { throw TandemError.loadFailed(path: "module", reason: refusal) }
        if let why = refuses?(kernel) { throw TandemError.deviceUnavailable(device: name, reason: why) }
        return Code(kernel: kernel, code: try interpreter.prepare(kernel))
    }

    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>) throws {
        try enqueue(kernel, launch, rows: nil, overwrites: overwrites, access: nil)
    }

    /// Parts of kernels (split kernels): the interpreter over the rows given, on device memory.
    var runsParts: Bool { true }
    /// Rows of the first axis each part ran, in order.
    var partsRun: [Range<Int>] { state.withLock { $0.parts } }

    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, rows: Range<Int>, access: PartAccess,
                 timed: (@Sendable (Double) -> Void)?) throws {
        try enqueue(kernel, launch, rows: rows, overwrites: [], access: access)
        timed?(1e-6)
    }

    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, rows: Range<Int>?, overwrites: Set<UInt64>, access: PartAccess?) throws {
        let code = kernel as! Code
        let k = code.kernel
        try state.withLock { s in
            if let access {
                _ = try s.residency.preparePart(launch, access: access, statistics: statistics)
            } else {
                let reads = k.buffers.indices.filter { k.buffers[$0].isRead || !k.buffers[$0].isWritten }.map { launch.buffers[$0] }
                let writes = k.buffers.indices.filter { k.buffers[$0].isWritten }.map { launch.buffers[$0] }
                let start = ProcessInfoLite.monotonicNanos()
                s.residency.account(try s.residency.deviceUse(reads: reads, writes: writes, overwrites: overwrites), statistics: statistics, since: start)
            }
            guard !(rows?.isEmpty ?? false) else { return }
            // The kernel works on the device's memory: typed scratch copies of the blocks the
            // residency chose, written back to the blocks afterwards.
            let (blocks, shadows) = Self.shadows(launch, s.residency)
            let all = 0..<(k.parallelAxes > 0 ? launch.extent(0) : 1)
            code.code.run(Launch(buffers: shadows, ints: launch.ints, floats: launch.floats), lo: (rows ?? all).lowerBound, hi: (rows ?? all).upperBound)
            for (i, d) in shadows.enumerated() where k.buffers[i].isWritten { memcpy(blocks[i], d.pointer, d.byteCount) }
            s.kernels += 1
            if let rows { s.parts.append(rows) }
        }
    }

    /// The device blocks of `launch`'s buffers and typed copies of them for the interpreter.
    static func shadows(_ launch: Launch, _ residency: DeviceResidency) -> (blocks: [UnsafeMutableRawPointer], shadows: [Buffer]) {
        let blocks = launch.buffers.map { UnsafeMutableRawPointer(bitPattern: UInt(residency.address(of: $0)!))! }
        let shadows = zip(launch.buffers, blocks).map { b, block -> Buffer in
            let d = Buffer(dtype: b.dtype, count: b.count)
            memcpy(d.pointer, block, b.byteCount)
            return d
        }
        return (blocks, shadows)
    }

    /// Pieces of reductions: the interpreter's split entry over device memory.
    var runsReduceParts: Bool { true }

    func enqueueReduceParts(_ kernel: any QueuedKernel, _ launch: Launch, parts: Int, into: UnsafeMutableRawPointer, bytes: Int,
                            reads: [(buffer: Int, bytes: Range<Int>)], timed: (@Sendable (Double) -> Void)?) throws {
        let code = kernel as! Code
        let k = code.kernel
        try state.withLock { s in
            var access = PartAccess()
            access.deviceReads = reads
            _ = try s.residency.preparePart(launch, access: access, statistics: statistics)
            let shadow = Launch(buffers: Self.shadows(launch, s.residency).shadows, ints: launch.ints, floats: launch.floats)
            let extent = Int(launch.ints[k.parallelAxes]), stride = bytes / max(parts, 1)
            for c in 0..<parts {
                code.code.runSplit(shadow, lo: extent * c / parts, hi: extent * (c + 1) / parts, partials: into + c * stride)
            }
            s.kernels += 1
            s.reduceParts.append(parts)
        }
    }
    /// Pieces each split reduction's device side folded, in order.
    var reducePartsRun: [Int] { state.withLock { $0.reduceParts } }

    func hostUse(reads: [(buffer: Buffer, bytes: Range<Int>)], writes: [(buffer: Buffer, bytes: Range<Int>)]) throws {
        try state.withLock { s in try s.residency.hostUse(reads: reads, writes: writes, statistics: statistics) }
    }

    func makeHostValid(_ buffer: Buffer) throws {
        try state.withLock { s in try s.residency.makeHostValid(buffer, statistics: statistics) }
    }

    func hostWillWrite(_ buffer: Buffer, overwrites: Bool) throws {
        try state.withLock { s in try s.residency.hostWillWrite(buffer, overwrites: overwrites, statistics: statistics) }
    }

    func synchronize() throws {}
    func validity(of buffer: Buffer) -> Validity { state.withLock { $0.residency.validity(of: buffer) } }
    func codeState(_ kernel: Kernel) -> CodeState { .ready }
}

@Suite("Runtime with a queued (GPU-style) device, simulated", .planned)
struct QueuedDeviceTests {
    func runtime(_ profile: MachineProfile = SyntheticProfiles.gpu(), refusal: String? = nil) -> (Runtime, FakeGPU, StatisticsBox) {
        let stats = StatisticsBox()
        let gpu = FakeGPU(statistics: stats, refusal: refusal)
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: TestScratch.path("queued")))
        return (Runtime(devices: [cpu, InterpreterDevice()], queued: [gpu], statistics: stats, workers: 2, profile: { profile }), gpu, stats)
    }

    @Test("forced onto the GPU: inputs go over once, results come back only when read")
    func copiesOnlyWhenNeeded() throws {
        let (rt, gpu, stats) = runtime()
        let x = Tensor<Double>((0..<1000).map(Double.init))      // host data
        let y = x * 2 + 1
        let total = try Tandem.withDevice(.cuda) { try rt.read(y.sum().node) }
        #expect(total.pointer.load(as: Double.self) == 1000 * 999 + 1000)
        #expect(gpu.kernelsRun >= 1 && stats.snapshot.kernelsByDevice["cuda"] == stats.snapshot.kernelsRun)
        // x went over; only the one-element sum came back.
        #expect(gpu.log == ["H->D 1000", "D->H 1"])
        #expect(stats.snapshot.bytesToDevice == 8000 && stats.snapshot.bytesToHost == 8)
        // A second GPU kernel on y's result reuses what is there (y itself was fused, x is resident).
        _ = try Tandem.withDevice(.cuda) { try rt.read((x * 3).sum().node) }
        #expect(gpu.log == ["H->D 1000", "D->H 1", "D->H 1"])
    }

    @Test("copies are events on the trace's copy track, with bytes and direction")
    func copyEvents() throws {
        let (rt, _, _) = runtime()
        let x = Tensor<Double>((0..<512).map(Double.init))
        let ((), trace) = try Tandem.trace {
            _ = try Tandem.withDevice(.cuda) { try rt.read((x * x).node) }
        }
        // Other tests trace meanwhile: this test's copies are the 4096-byte ones.
        let copies = trace.events.filter { $0.kind == .copy && $0.bytes == 4096 }
        #expect(copies.contains { $0.detail == "H->D" } && copies.contains { $0.detail == "D->H" })
        let json = trace.chromeJSON()
        #expect(json.contains("\"name\": \"copies\"") && json.contains("\"cat\": \"copy\""))
        #expect(json.contains("queued; measured on the device"))
    }

    @Test("alternating CPU and GPU kernels give the interpreter's results, copying at each switch")
    func mixed() throws {
        let (rt, gpu, _) = runtime()
        func program(_ step: (Int, () throws -> Void) throws -> Void) throws -> [Double] {
            var a = Tensor<Double>.arange(0, 4096).reshaped([64, 64]) * 0.001
            for i in 0..<6 {
                try step(i) {
                    var b = a
                    b[1..<63, 1..<63] = (a[0..<62, 1..<63] + a[2..<64, 1..<63] + a[1..<63, 0..<62] + a[1..<63, 2..<64]) * 0.25
                    a = b
                    _ = try rt.read(a.node)
                }
            }
            return Array(UnsafeBufferPointer(start: try rt.read(a.node).pointer.assumingMemoryBound(to: Double.self), count: 4096))
        }
        let expected = try program { _, body in try Tandem.withDevice(.interpreter, body) }
        let got = try program { i, body in try Tandem.withDevice(i % 2 == 0 ? .cuda : .cpu, body) }
        #expect(got == expected)
        #expect(gpu.log.contains { $0.hasPrefix("H->D") } && gpu.log.contains { $0.hasPrefix("D->H") })
    }

    @Test("auto sends a large kernel with GPU-resident inputs to the GPU and a tiny host one to the CPU")
    func autoUsesResidency() throws {
        let (rt, gpu, stats) = runtime()
        let onGPU = Tensor<Double>.arange(0, Double(1 << 20)) * 2         // computed on the GPU, left there
        try Tandem.withDevice(.cuda) { try rt.materialize([onGPU.node]) }
        let before = stats.snapshot.kernelsByDevice["cuda"] ?? 0
        _ = try rt.read((onGPU * onGPU).sum().node)                // auto
        #expect((stats.snapshot.kernelsByDevice["cuda"] ?? 0) > before)
        let tiny = Tensor<Double>([1, 2, 3])
        let kernelsBefore = gpu.kernelsRun
        let s = try rt.read((tiny * 2).sum().node)                 // auto: not worth a copy and a launch
        #expect(s.pointer.load(as: Double.self) == 12)
        #expect(gpu.kernelsRun == kernelsBefore)
    }

    @Test("under auto, a GPU whose module cannot be loaded is dropped once and the work runs on the CPU; forced, it is an error")
    func refusedModuleDropsTheGPU() throws {
        let (rt, gpu, stats) = runtime(refusal: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION")
        let x = Tensor<Double>.arange(0, Double(1 << 20))
        var sums: [Double] = []
        for i in 1...3 {
            let s = try rt.read((x * Double(i)).sum().node)                 // auto: the GPU is priced fastest
            sums.append(s.pointer.load(as: Double.self))
        }
        let n = Double(1 << 20)
        #expect(sums == [1, 2, 3].map { $0 * n * (n - 1) / 2 })
        #expect(gpu.prepares.load(ordering: .relaxed) == 1, "the GPU was tried again after it was dropped")
        #expect(gpu.kernelsRun == 0 && stats.snapshot.fallbacks >= 1)
        #expect(throws: TandemError.self) { try Tandem.withDevice(.cuda) { _ = try rt.read((x * 5).sum().node) } }
    }

    @Test("auto places a kernel the accelerator refuses (float64 on a device without it) on the host, the others on the device; forced there, the refusal is the error")
    func refusedKernels() throws {
        let stats = StatisticsBox()
        let gpu = FakeGPU(statistics: stats, refuses: { k in
            k.buffers.contains { $0.dtype == .float64 } ? "synthetic GPU has no float64 (cl_khr_fp64) and the kernel needs it" : nil
        })
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: TestScratch.path("queued")))
        let profile = SyntheticProfiles.gpu()
        let rt = Runtime(devices: [cpu, InterpreterDevice()], queued: [gpu], statistics: stats, workers: 2, profile: { profile })
        let n = 1 << 20
        let x = Tensor<Float>.arange(0, Float(n)), y = Tensor<Double>.arange(0, Double(n))
        for _ in 0..<2 {
            // auto: both priced fastest on the device (synced apart: one kernel each).
            let a = try rt.read((x * 2 + 1).node), b = try rt.read((y * 2 + 1).node)
            #expect(a.pointer.load(fromByteOffset: 4 * 3, as: Float.self) == 7)
            #expect(b.pointer.load(fromByteOffset: 8 * 3, as: Double.self) == 7)
        }
        #expect(gpu.kernelsRun == 2, "the float32 kernel runs on the device, the float64 one never: \(gpu.kernelsRun)")
        #expect(stats.snapshot.fallbacks == 0, "a refused kernel dropped the device")
        // Forced onto the device, the float64 kernel fails with the device's reason.
        do {
            try Tandem.withDevice(.cuda) { try rt.materialize([(y * 3).node]) }
            Issue.record("a refused kernel ran")
        } catch let TandemError.deviceUnavailable(_, reason) {
            #expect(reason.contains("no float64"), "\(reason)")
        }
    }

    @Test("auto offers a measured OpenCL GPU when there is no CUDA device, and never an OpenCL device on the host's cores")
    func autoOpenCL() throws {
        for shares in [false, true] {
            let stats = StatisticsBox()
            var profile = SyntheticProfiles.gpu()
            profile.openCL = profile.gpu
            profile.gpu = nil
            let device = FakeGPU(statistics: stats, name: "opencl", sharesHostCores: shares)
            let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: TestScratch.path("queued")))
            let measured = profile
            let rt = Runtime(devices: [cpu, InterpreterDevice()], queued: [device], statistics: stats, workers: 2, profile: { measured })
            let x = Tensor<Double>.arange(0, Double(1 << 22))
            let s = try rt.read((x * 1e-6).exp().sum().node)                  // auto: priced fastest on the device
            #expect(s.pointer.load(as: Double.self).isFinite)
            if shares {
                #expect(device.kernelsRun == 0, "auto placed kernels on a device that shares the host's cores")
            } else {
                #expect(device.kernelsRun > 0 && stats.snapshot.kernelsByPlacement[Placement.opencl.ordinal] > 0)
            }
        }
    }

    @Test("auto does not even probe an OpenCL device the machine profile measured on the host's own cores")
    func autoSkipsProfiledHostOpenCL() throws {
        // PoCL's driver took 30 ms of every program's first sync to load, only for the device to
        // be turned down as one on the host's cores. Probed when the profile does not say so.
        for said in [Bool?.some(true), nil] {
            let stats = StatisticsBox()
            var profile = SyntheticProfiles.gpu()
            profile.openCL = profile.gpu
            profile.openCL?.sharesHostCores = said
            profile.gpu = nil
            let device = FakeGPU(statistics: stats, name: "opencl", sharesHostCores: true)
            let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: TestScratch.path("queued")))
            let measured = profile
            let rt = Runtime(devices: [cpu, InterpreterDevice()], queued: [device], statistics: stats, workers: 2, profile: { measured })
            let x = Tensor<Double>.arange(0, 4096)
            let s = try rt.read((x * 1e-6).exp().sum().node)
            #expect(s.pointer.load(as: Double.self).isFinite)
            #expect(device.kernelsRun == 0)
            if said == true {
                #expect(device.availabilityAsked.load(ordering: .relaxed) == 0, "the profile said the device shares the host's cores")
            } else {
                #expect(device.availabilityAsked.load(ordering: .relaxed) > 0, "an older profile does not say: the device is probed")
            }
        }
    }

    @Test("a registered GPU that has run nothing leaves small host kernels on the calling thread, with no task")
    func unusedGPUKeepsSmallKernelsInline() throws {
        // A CUDA device is registered on every machine, usable or not: until a kernel is queued
        // on it, no buffer can be on it, and a small host kernel runs at once on the caller
        // (no task is left as its buffer's writer). It did not while a GPU was merely
        // registered, which every CLI run and every user program has.
        let (rt, gpu, _) = runtime()
        var x = Tensor<Double>.uniform([64], seed: 3, in: 0...1)
        var expected = try Tandem.withDevice(.interpreter) { try x.scalars }
        for _ in 0..<6 {
            x = x * 0.5 + 1
            expected = expected.map { $0 * 0.5 + 1 }
            try Tandem.withDevice(.cpu) { try rt.materialize([x.node]) }
            let schedule = x.node.storage?.schedule as? BufferSchedule
            #expect(schedule != nil && schedule?.lastWriter == nil)
        }
        #expect(gpu.kernelsRun == 0)
        let got = Array(UnsafeBufferPointer(start: try rt.read(x.node).pointer.assumingMemoryBound(to: Double.self), count: 64))
        #expect(got == expected)
    }
}
