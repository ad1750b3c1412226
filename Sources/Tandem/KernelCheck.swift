import TandemCompiler
import TandemRuntime
import TandemCUDA
import TandemOpenCL

/// One kernel run on a queued device (the GPU) and on a reference device (compiled C or the
/// interpreter) with the same fresh random inputs, outputs compared: the kernel-level
/// differential check of `tandem selftest` and of the GPU test suite. It needs no runtime
/// integration of the queued device, only its `prepareQueued`/`enqueue`/`makeHostValid`.
///
///     let recorder = PlanRecorder()                 // (import TandemCompiler)
///     try PlanRecorder.$current.withValue(recorder) { _ = try x.exp().sum().item() }
///     for recorded in recorder.kernels {
///         let r = try KernelCheck.run(recorded, on: Tandem.cuda, reference: Tandem.cpu, seed: 1)
///         print(r.passed ? "pass" : "FAIL \(r.detail)")
///     }
public enum KernelCheck {
    /// The result of one kernel's check.
    public struct Outcome: Sendable {
        /// Whether every written buffer agreed within the dtype's tolerance.
        public var passed: Bool
        /// The largest relative difference seen, or what went wrong.
        public var detail: String
    }

    /// Buffers for one launch of `k`, filled from `seed` (floats in [-2, 2], signed ints in
    /// [-20, 20], unsigned in [0, 40], bools 0/1): the same values for the same seed.
    ///
    ///     let recorder = PlanRecorder()
    ///     try PlanRecorder.$current.withValue(recorder) { _ = try x.exp().sum().item() }
    ///     let k = recorder.kernels[0]
    ///     let buffers = KernelCheck.inputs(k, seed: 1)      // one per kernel buffer
    public static func inputs(_ k: PlanRecorder.Recorded, seed: UInt64) -> [Buffer] {
        var state = seed &* 0x9E3779B97F4A7C15 &+ 1
        func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        return k.buffers.map { spec in
            let b = Buffer(dtype: spec.dtype, count: spec.count)
            for i in 0..<spec.count {
                let u = Double(next() >> 11) * 0x1p-53
                switch spec.dtype {
                case .float32, .float64: b.store(.float(-2 + 4 * u), at: i)
                case .int8, .int16, .int32, .int64: b.store(.int(Int64(u * 41) - 20), at: i)
                case .uint8, .uint16, .uint32, .uint64: b.store(.int(Int64(u * 41)), at: i)
                case .bool: b.store(.bool(u < 0.5), at: i)
                }
            }
            return b
        }
    }

    /// Runs `k` on both devices and compares every written buffer.
    public static func run(_ k: PlanRecorder.Recorded, on device: any QueuedKernelDevice, reference: any KernelDevice,
                           seed: UInt64) throws -> Outcome {
        let expected = inputs(k, seed: seed), actual = inputs(k, seed: seed)
        let refLaunch = Launch(buffers: expected, ints: k.ints, floats: k.floats)
        let code = try reference.prepare(k.kernel)
        // The whole domain in one call: rows() reduces sequentially inside each parallel point.
        let hi = k.kernel.parallelAxes == 0 ? 1 : Int(k.ints[0])
        code.run(refLaunch, lo: 0, hi: hi)
        let queued = try device.prepareQueued(k.kernel)
        try device.enqueue(queued, Launch(buffers: actual, ints: k.ints, floats: k.floats), overwrites: [])
        var worst = 0.0
        for (i, spec) in k.kernel.buffers.enumerated() where spec.isWritten {
            try device.makeHostValid(actual[i])
            let tolerance = spec.dtype == .float32 ? 1e-4 : (spec.dtype == .float64 ? 1e-9 : 0)
            for e in 0..<expected[i].count {
                let a = expected[i].literal(at: e).asDouble, b = actual[i].literal(at: e).asDouble
                if a.isNaN && b.isNaN || a == b { continue }
                let diff = abs(a - b) / max(1, abs(a))
                worst = max(worst, diff)
                if !(diff <= tolerance) {
                    return Outcome(passed: false, detail: "buffer \(i) element \(e): \(b) on \(device.name), \(a) on \(reference.name)")
                }
            }
        }
        return Outcome(passed: true, detail: "max relative difference \(worst)")
    }
}

extension Tandem {
    /// The CUDA device (found and initialised at first use; `availability` says why not).
    /// Kernels run there under `TANDEM_DEVICE=cuda` / `withDevice(.cuda)`, and under `auto`
    /// where the cost model predicts it finishes first.
    public static var cuda: CUDADevice { shared.cuda }

    /// The OpenCL device (the loader found and the device chosen at first use; `availability`
    /// says why not). Kernels run there under `TANDEM_DEVICE=opencl` / `withDevice(.opencl)`;
    /// `auto` offers it once the machine profile has measured it (`MachineProfile.openCL`).
    ///
    ///     if Tandem.openCL.availability == .available { print(Tandem.openCL.info!.summary) }
    public static var openCL: OpenCLDevice { shared.openCL }
}
