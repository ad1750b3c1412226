import Testing
import Synchronization
import Tandem
import TandemIR
import TandemModel
import TandemRuntime
import TandemCPU
import TandemInterpreter
#if canImport(Glibc)
import Glibc
#endif

/// A GPU simulated on the host: its memory is separate host buffers, its copies are `memcpy`,
/// its kernels run in the interpreter on its own memory. Nothing reaches the host's buffers
/// unless the runtime asks for a copy, so a missing or misplaced copy gives wrong results.
final class FakeGPU: QueuedKernelDevice, @unchecked Sendable {
    let name = "cuda"
    var availability: Availability { .available }
    private struct State {
        var shadow: [UInt64: Buffer] = [:]
        var valid: [UInt64: Validity] = [:]
        var log: [String] = []
        var kernels = 0
    }
    private let state = Mutex(State())
    private let interpreter = InterpreterDevice()

    struct Code: QueuedKernel {
        let kernel: Kernel
        let code: any PreparedKernel
    }

    var log: [String] { state.withLock { $0.log } }
    var kernelsRun: Int { state.withLock { $0.kernels } }

    func prepareQueued(_ kernel: Kernel) throws -> any QueuedKernel { Code(kernel: kernel, code: try interpreter.prepare(kernel)) }

    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>) throws {
        let code = kernel as! Code
        let k = code.kernel
        state.withLock { s in
            var done: Set<UInt64> = []
            var shadows: [Buffer] = []
            for (i, b) in launch.buffers.enumerated() {
                if s.shadow[b.id] == nil { s.shadow[b.id] = Buffer(dtype: b.dtype, count: b.count) }
                let d = s.shadow[b.id]!
                shadows.append(d)
                let needsOld = k.buffers[i].isRead || !overwrites.contains(b.id)
                // A host buffer never given memory has no values yet: nothing to copy.
                if done.insert(b.id).inserted, needsOld, b.isAllocated, !(s.valid[b.id] ?? .host).contains(.device) {
                    memcpy(d.pointer, b.pointer, b.byteCount)
                    s.log.append("H->D \(b.count)")
                    s.valid[b.id, default: .host].insert(.device)
                }
            }
            let device = Launch(buffers: shadows, ints: launch.ints, floats: launch.floats)
            code.code.run(device, lo: 0, hi: k.parallelAxes > 0 ? launch.extent(0) : 1)
            for (i, b) in launch.buffers.enumerated() where k.buffers[i].isWritten { s.valid[b.id] = .device }
            s.kernels += 1
        }
    }

    func makeHostValid(_ buffer: Buffer) throws {
        state.withLock { s in
            guard s.valid[buffer.id] == .device, let d = s.shadow[buffer.id] else { return }
            buffer.allocate()
            memcpy(buffer.pointer, d.pointer, buffer.byteCount)
            s.log.append("D->H \(buffer.count)")
            s.valid[buffer.id] = .both
        }
    }

    func hostWillWrite(_ buffer: Buffer, overwrites: Bool) throws {
        try makeHostValidIfPartial(buffer, overwrites)
        state.withLock { s in if s.valid[buffer.id] != nil { s.valid[buffer.id] = .host } }
    }

    private func makeHostValidIfPartial(_ buffer: Buffer, _ overwrites: Bool) throws {
        if !overwrites { try makeHostValid(buffer) }
    }

    func synchronize() throws {}
    func validity(of buffer: Buffer) -> Validity { state.withLock { $0.valid[buffer.id] ?? .host } }
    func codeState(_ kernel: Kernel) -> CodeState { .ready }
}

@Suite("Runtime with a queued (GPU-style) device, simulated")
struct QueuedDeviceTests {
    func runtime(_ profile: MachineProfile = SyntheticProfiles.gpu()) -> (Runtime, FakeGPU, StatisticsBox) {
        let stats = StatisticsBox()
        let gpu = FakeGPU()
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: "/tmp/tandem-queued-\(getpid())"))
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
        // A second GPU kernel on y's result reuses what is there (y itself was fused, x is resident).
        _ = try Tandem.withDevice(.cuda) { try rt.read((x * 3).sum().node) }
        #expect(gpu.log == ["H->D 1000", "D->H 1", "D->H 1"])
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
}
