import TandemCompiler
import TandemRuntime
import TandemCUDA
import TandemOpenCL

/// What the calibration needs of a queued device beyond `QueuedKernelDevice`: its geometry,
/// its compiler alone, and its own memory's bandwidth.
struct AcceleratorFacts {
    var name: String
    var computeUnits: Int
    var blocksPerUnit: Int
    var threadsPerBlock: Int
    /// Copies of at least this many bytes are priced at the large-copy rate (CUDA: they go
    /// through pinned staging).
    var pinnedThreshold: Int
    /// Compiles `kernel`'s source with the device's compiler, outside every cache, and keeps nothing.
    var compileOnly: (Kernel) throws -> Void
    /// Device-to-device copy bandwidth (read + write), bytes a second.
    var bandwidth: (_ bytes: Int, _ repeats: Int) throws -> Double
    /// Seconds to load a kernel whose code is cached, measured directly; nil: the difference
    /// between a first prepare and the compiler alone (CUDA, where the compile is all of it).
    var loadCached: ((Kernel) throws -> Double?)? = nil

    static func cuda(_ d: CUDADevice) -> AcceleratorFacts {
        let info = d.info!
        return AcceleratorFacts(
            name: info.name, computeUnits: info.multiprocessors,
            blocksPerUnit: max(1, info.maxThreadsPerMultiprocessor / CRenderer.cudaThreads), threadsPerBlock: CRenderer.cudaThreads,
            pinnedThreshold: CUDADevice.pinnedThreshold,
            compileOnly: { k in
                guard case .success(let (_, nvrtc, info)) = d.probe() else { throw TandemError.deviceUnavailable(device: "cuda", reason: "NVRTC") }
                _ = try nvrtc.compile(CRenderer.render(k, dialect: .cuda), architecture: info.architecture)
            },
            bandwidth: { try d.copyBandwidth(bytes: $0, repeats: $1) })
    }

    static func openCL(_ d: OpenCLDevice) -> AcceleratorFacts {
        let info = d.info!
        // OpenCL does not say how many work-groups a compute unit holds at once: one. Copies
        // are not staged; from a megabyte on they are priced at the large-copy rate measured.
        return AcceleratorFacts(
            name: info.name, computeUnits: info.computeUnits, blocksPerUnit: 1, threadsPerBlock: CRenderer.openCLThreads,
            pinnedThreshold: 1 << 20,
            compileOnly: { k in try d.build(source: d.source(for: k)) },
            bandwidth: { try d.copyBandwidth(bytes: $0, repeats: $1) },
            // PoCL makes a program's machine code when its kernels are first made, not in
            // clBuildProgram: a first prepare less the build alone is not the load.
            loadCached: { try d.timeLoadFromCache($0) })
    }
}

extension Calibration {
    /// A queued device (the GPU, the OpenCL device), in the cost model's GPU terms: device
    /// bandwidth (device-to-device copy), per-element cost of each operation class on
    /// `elements` points, launch latency, compile and load, and both directions of the link,
    /// large copies and small ones. Everything runs through the same queued-device calls the
    /// runtime uses.
    static func measureAccelerator(_ device: any QueuedKernelDevice, _ facts: AcceleratorFacts, quick: Bool, elements n: Int) throws -> GPUProfile {
        let repeats = quick ? 3 : 9
        /// Seconds of `body` followed by a device synchronisation: the best of `repeats`.
        func timed(_ body: () throws -> Void) throws -> Double {
            var bestTime = Double.infinity
            for _ in 0..<repeats {
                try device.synchronize()
                let t0 = ProcessInfoLite.monotonicNanos()
                try body()
                try device.synchronize()
                bestTime = min(bestTime, Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9)
            }
            return bestTime
        }
        /// Seconds of one run of `body` followed by a device synchronisation (for work that
        /// differs between runs, such as a copy only the first run makes).
        func once(_ body: () throws -> Void) throws -> Double {
            try device.synchronize()
            let t0 = ProcessInfoLite.monotonicNanos()
            try body()
            try device.synchronize()
            return Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9
        }
        func run(_ k: PlannedKernel, _ code: any QueuedKernel) throws {
            let full = Set(k.kernel.stores.map { k.launch.buffers[$0.buffer].id })
            try device.enqueue(code, k.launch, overwrites: full)
        }

        // A device without float64 (OpenCL without cl_khr_fp64) is measured in float32: its
        // float64 costs are its float32 ones, never used (it refuses every float64 kernel).
        if device.refusal(kernel(input(Double.self, 1) * 1.5).kernel) != nil { return try measure(Float.self) }
        return try measure(Double.self)

        func measure<E: FloatingTensorScalar>(_: E.Type) throws -> GPUProfile {
            let size = MemoryLayout<E>.size
            // Compile: a kernel no cache has seen (a fresh constant in its source).
            let x = input(E.self, n)
            let fresh = kernel(x * E(1.5 + Double(UInt32.random(in: 1...UInt32.max)) * 0x1p-60))
            let c0 = ProcessInfoLite.monotonicNanos()
            let freshCode = try device.prepareQueued(fresh.kernel)
            let compile = Double(ProcessInfoLite.monotonicNanos() - c0) / 1e9
            // The compiler alone on another fresh kernel of the same shape: the rest of `compile`
            // is the load that cached code still pays.
            let other = kernel(x * E(2.5 + Double(UInt32.random(in: 1...UInt32.max)) * 0x1p-60))
            let n0 = ProcessInfoLite.monotonicNanos()
            try facts.compileOnly(other.kernel)
            let difference = compile - Double(ProcessInfoLite.monotonicNanos() - n0) / 1e9
            let load = max(try facts.loadCached?(fresh.kernel) ?? difference, 1e-6)

            // Host to device, large: the first run copies x over; later runs find it there.
            let bytes = Double(x.node.count * size)
            var first = Double.infinity
            for _ in 0..<repeats {
                try device.hostWillWrite(x.node.storage!, overwrites: true)     // the device copy is stale again
                first = min(first, try once { try run(fresh, freshCode) })
            }
            let resident = try timed { try run(fresh, freshCode) }
            let out = fresh.launch.buffers[fresh.kernel.stores[0].buffer]
            var back = Double.infinity
            for _ in 0..<repeats {
                try run(fresh, freshCode)
                try device.synchronize()
                let t0 = ProcessInfoLite.monotonicNanos()
                try device.makeHostValid(out)
                back = min(back, Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9)
            }
            // Small copies: latency from 8 bytes, rate from 512 KiB.
            func link(_ count: Int) throws -> (toDevice: Double, toHost: Double) {
                let small = input(E.self, count)
                let k = kernel(small * E(1.5))
                let code = try device.prepareQueued(k.kernel)
                let alone = try timed { try run(k, code) }
                var to = Double.infinity, from = Double.infinity
                for _ in 0..<repeats {
                    try device.hostWillWrite(small.node.storage!, overwrites: true)
                    to = min(to, try once { try run(k, code) } - alone)
                    try run(k, code)
                    try device.synchronize()
                    let t0 = ProcessInfoLite.monotonicNanos()
                    try device.makeHostValid(k.launch.buffers[k.kernel.stores[0].buffer])
                    from = min(from, Double(ProcessInfoLite.monotonicNanos() - t0) / 1e9)
                }
                return (max(to, 1e-7), max(from, 1e-7))
            }
            let tiny = try link(1), mid = try link(1 << 16)
            let midBytes = Double((1 << 16) * size)

            // Launch latency: a one-point kernel, queued and waited for.
            let one = kernel(input(E.self, 1) * E(1.5))
            let oneCode = try device.prepareQueued(one.kernel)
            _ = try timed { try run(one, oneCode) }
            let launch = try timed { try run(one, oneCode) }

            // Operation classes over `n` points, data resident.
            func costs<S: FloatingTensorScalar>(_: S.Type) throws -> OpCosts {
                let base = kernel(input(S.self, n) * S(1.5))
                let baseCode = try device.prepareQueued(base.kernel)
                try run(base, baseCode)
                let tBase = try timed { try run(base, baseCode) }
                var c = OpCosts.uniform(0)
                for cls in OpClassKey.allCases {
                    // Simple operations hide behind the memory traffic in a chain of 16 (PoCL: 0.003
                    // ns each, a tenth of what a compute-bound kernel pays: N-body's all-pairs sums
                    // were predicted at a fifth of their time): their chain grows fourfold, up to 128
                    // (one kernel: `Planner.maxFusedDepth`), until it takes as long as the traffic.
                    var count = steps(cls), t = 0.0
                    while true {
                        let k = cls == .random ? kernel(Tensor<S>.uniform([n], seed: 3) * S(1.5)) : kernel(chain(cls, input(S.self, n), steps: count))
                        // Random numbers are drawn in double: a device without float64 refuses
                        // every kernel that draws them, so their cost is never asked (left at
                        // the floor below).
                        if device.refusal(k.kernel) != nil { t = tBase; break }
                        let code = try device.prepareQueued(k.kernel)
                        try run(k, code)
                        t = try timed { try run(k, code) }
                        guard cls == .simple, count * 4 <= 128, t - tBase < tBase else { break }
                        count *= 4
                    }
                    c[cls] = max((t - tBase) / Double(n) / Double(count), 1e-15)
                }
                return c
            }
            // First touch: the same kernel writing memory the device has just allocated, then
            // writing it again (its input resident both times; a size no earlier buffer had, so the
            // device's pool has no block for it). PoCL: 8 MB written in 0.47 ms warm, 2-2.5 ms fresh.
            let y = input(E.self, n + 4096)
            let upload = kernel(y * E(1.5)), touched = kernel(y * E(2.5))
            let touchCode = try device.prepareQueued(touched.kernel)
            try run(upload, try device.prepareQueued(upload.kernel))
            let freshWrite = try once { try run(touched, touchCode) }
            let warm = try timed { try run(touched, touchCode) }
            let firstTouch = max(freshWrite - warm, 0) / Double((n + 4096) * size)
            let f32 = try costs(Float.self)
            return GPUProfile(name: facts.name, multiprocessors: facts.computeUnits, blocksPerMultiprocessor: facts.blocksPerUnit,
                              threadsPerBlock: facts.threadsPerBlock,
                              bandwidth: try facts.bandwidth(quick ? 1 << 26 : 1 << 29, repeats),
                              f32: f32, f64: E.self == Double.self ? try costs(Double.self) : f32,
                              launchSeconds: launch, compileSeconds: compile, loadSeconds: load,
                              hostToDevice: LinkProfile(pageableBandwidth: midBytes / max(mid.toDevice - tiny.toDevice, 1e-7),
                                                        pinnedBandwidth: bytes / max(first - resident, 1e-7), latencySeconds: tiny.toDevice),
                              deviceToHost: LinkProfile(pageableBandwidth: midBytes / max(mid.toHost - tiny.toHost, 1e-7),
                                                        pinnedBandwidth: bytes / back, latencySeconds: tiny.toHost),
                              pinnedThreshold: facts.pinnedThreshold, firstTouchSecondsPerByte: firstTouch,
                              sharesHostCores: device.sharesHostCores)
        }
    }
}
