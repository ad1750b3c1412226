import ArgumentParser
import Synchronization
import Tandem
import TandemCompiler
import TandemCUDA
import TandemRuntime
import TandemWorkloads
import TandemInterpreter

/// `tandem selftest`: the differential checks on every available device, one line per check.
///
/// 1. The six workloads at the small sizes of `expected.json` on `cpu` (f64 and f32) and on the
///    interpreter (f64), outputs against the reference values.
/// 2. Random programs (broadcasts, views, transposes, unary and binary ops, reductions, argmax)
///    compiled on `cpu` against the interpreter.
/// 3. CUDA, for every kernel planned in 1 and 2: with a GPU, the kernel run on the GPU against
///    compiled C with the same fresh inputs (`KernelCheck`); without one but with NVRTC, a
///    compile of the kernel for sm_90 (reported as "compiled", never as "pass": nothing ran);
///    otherwise one line saying why CUDA was skipped.
///
/// 4. With a GPU, every workload at its small size run whole on `cuda` (f64 and f32) and under
///    `auto` against the reference values: the runtime's copies between host and device.
/// 5. Large kernels on each device the runtime can run (the accelerator too): more than one
///    wave of blocks, a reduction split into many parts, row reductions over a second grid
///    dimension and an argmax, against the interpreter.
/// 6. Each accelerator that reports kernels' device times reports one for a timed kernel.
struct Selftest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the differential checks on every available device (compared with the CPU), one pass/fail line per check.")

    @Option(help: "Random programs to check.") var programs: Int = 24
    @Flag(help: "Print only failures and the summary.") var quiet = false

    final class Tally {
        var pass = 0, fail = 0, compiled = 0, skipped = 0
    }

    func report(_ tally: Tally, _ status: String, _ name: String, _ detail: String = "") {
        switch status {
        case "pass": tally.pass += 1
        case "compiled": tally.compiled += 1
        case "skipped": tally.skipped += 1
        default: tally.fail += 1
        }
        if !quiet || status == "FAIL" { print("\(status) \(name)\(detail.isEmpty ? "" : ": " + detail)") }
    }

    func run() throws {
        let tally = Tally()
        let recorder = PlanRecorder()
        try PlanRecorder.$current.withValue(recorder) {
            try workloadChecks(tally)
            try programChecks(tally)
        }
        try cudaChecks(recorder.kernels, tally)
        try queuedChecks(recorder.kernels, on: Tandem.openCL, summary: Tandem.openCL.info?.summary, tally)
        largeChecks(tally)
        deviceTimeChecks(recorder.kernels, tally)
        print("selftest: \(tally.pass) passed, \(tally.fail) failed, \(tally.compiled) compiled only, \(tally.skipped) skipped")
        if tally.fail > 0 { throw ExitCode(1) }
    }

    func workloadChecks(_ tally: Tally) throws {
        var runs: [(DeviceChoice, DTypeOption)] = [(.cpu, .f64), (.cpu, .f32), (.interpreter, .f64), (.auto, .f64)]
        if Tandem.cuda.availability == .available { runs += [(.cuda, .f64), (.cuda, .f32)] }
        // One accelerator a process: on a machine with a usable GPU, OpenCL is checked kernel by
        // kernel below (on the device directly), not through the runtime.
        if Tandem.cuda.availability != .available, Tandem.openCL.availability == .available {
            // And split between the CPU and OpenCL at the model's shares (issue 20).
            runs += [(.opencl, .f64), (.opencl, .f32), (.split, .f64), (.split, .f32)]
        }
        for w in Workloads.all {
            let params = SizeOption.small.parameters(w.name)
            var full: [String: Double] = [:]
            for p in w.parameters { full[p.name] = params[p.name] ?? p.defaultValue }
            guard let expected = Reference.outputs(w.name, full) else {
                report(tally, "FAIL", "\(w.name) small", "no reference values")
                continue
            }
            for (device, dtype) in runs {
                let name = "workload \(w.name) small \(dtype.rawValue) on \(device.rawValue)"
                if device == .cpu, case .unavailable(let why) = Tandem.runtime.availability(of: "cpu") {
                    report(tally, "skipped", name, why)
                    continue
                }
                do {
                    let outputs = try Tandem.withDevice(device) { try w.run(params, dtype: dtype.dtype) }
                    let bad = expected.sorted { $0.key < $1.key }.filter { k, want in
                        !dtype.agrees(outputs[k] ?? .nan, want)
                    }.map { "\($0.key) \(outputs[$0.key] ?? .nan) vs \($0.value)" }
                    report(tally, bad.isEmpty ? "pass" : "FAIL", name, bad.joined(separator: "; "))
                } catch {
                    report(tally, "FAIL", name, "\(error)")
                }
            }
        }
    }

    func programChecks(_ tally: Tally) throws {
        guard Tandem.runtime.availability(of: "cpu") == .available else {
            report(tally, "skipped", "random programs on cpu", "no C compiler")
            return
        }
        for seed in 0..<UInt64(programs) {
            let name = "random program \(seed) on cpu vs interpreter"
            do {
                let compiled = try Tandem.withDevice(.cpu) { () throws -> [[Double]] in var p = RandomProgram(seed: seed); return try p.values() }
                let reference = try Tandem.withDevice(.interpreter) { () throws -> [[Double]] in var p = RandomProgram(seed: seed); return try p.values() }
                var bad = ""
                for (i, (a, b)) in zip(compiled, reference).enumerated() where bad.isEmpty {
                    if a.count != b.count { bad = "output \(i): \(a.count) vs \(b.count) values"; continue }
                    for (x, y) in zip(a, b) where !(x == y || x.isNaN && y.isNaN || Swift.abs(x - y) <= 1e-9 * Swift.max(1, Swift.abs(y))) {
                        bad = "output \(i): \(x) vs \(y)"
                        break
                    }
                }
                report(tally, bad.isEmpty ? "pass" : "FAIL", name, bad)
            } catch {
                report(tally, "FAIL", name, "\(error)")
            }
        }
    }

    /// Every recorded kernel on a queued device against compiled C (the interpreter on a machine
    /// without a C compiler), with the same random inputs. Returns false when the device is unavailable.
    @discardableResult
    func queuedChecks(_ kernels: [PlanRecorder.Recorded], on device: any QueuedKernelDevice, summary: String?, _ tally: Tally) throws -> Bool {
        if case .unavailable(let why) = device.availability {
            report(tally, "skipped", "\(device.name) (all checks)", why)
            return false
        }
        let reference: any KernelDevice = Tandem.cpu.availability == .available ? Tandem.cpu : InterpreterDevice()
        print("\(device.name): \(summary ?? "available"); checking \(kernels.count) kernels against \(reference.name)")
        for (i, k) in kernels.enumerated() {
            let name = "\(device.name) kernel \(i) \(k.label)"
            do {
                let r = try KernelCheck.run(k, on: device, reference: reference, seed: UInt64(i))
                report(tally, r.passed ? "pass" : "FAIL", name, r.detail)
            } catch {
                report(tally, "FAIL", name, "\(error)")
            }
        }
        return true
    }

    /// Kernels large enough to reach the launch geometry's far cases (several waves of blocks,
    /// many reduction parts, rows over the second grid dimension), whole programs on each device
    /// against the interpreter.
    func largeChecks(_ tally: Tally) {
        var devices: [DeviceChoice] = []
        if Tandem.runtime.availability(of: "cpu") == .available { devices.append(.cpu) }
        if Tandem.cuda.availability == .available {
            devices.append(.cuda)
        } else if Tandem.openCL.availability == .available {
            devices.append(.opencl)
        }
        func run() throws -> [Double] {
            let x = Tensor<Double>.uniform([3_000_000], seed: 21, in: -1...1)
            let m = Tensor<Double>.uniform([40, 50_000], seed: 22, in: -1...1)
            let y = (x * 1.5 + 0.25).exp()
            return [try y.sum().item(), try y.max().item(), Double(try x.argmax().item())]
                + (try m.sum(axis: 1).scalars) + (try m.min(axis: 1).scalars)
        }
        let want: [Double]
        do { want = try Tandem.withDevice(.interpreter) { try run() } } catch {
            report(tally, "FAIL", "large kernels on interpreter", "\(error)")
            return
        }
        for device in devices {
            let name = "large kernels (waves, reduction parts, second grid dimension) on \(device.rawValue)"
            do {
                let got = try Tandem.withDevice(device) { try run() }
                let bad = zip(got, want).enumerated().filter { !(Swift.abs($0.element.0 - $0.element.1) <= 1e-12 * Swift.max(1, Swift.abs($0.element.1))) }
                    .prefix(3).map { "value \($0.offset): \($0.element.0) vs \($0.element.1)" }
                report(tally, bad.isEmpty && got.count == want.count ? "pass" : "FAIL", name, bad.joined(separator: "; "))
            } catch {
                report(tally, "FAIL", name, "\(error)")
            }
        }
    }

    /// A timed kernel on each accelerator that says it reports device times gets exactly one
    /// time, positive and below ten seconds, once the device is synchronised.
    func deviceTimeChecks(_ kernels: [PlanRecorder.Recorded], _ tally: Tally) {
        guard let k = kernels.max(by: { $0.kernel.buffers.count < $1.kernel.buffers.count }) else { return }
        let devices: [any QueuedKernelDevice] = [Tandem.cuda, Tandem.openCL]
        for device in devices where device.availability == .available && device.reportsKernelTimes {
            let name = "\(device.name) reports a kernel's device time"
            let seen = Mutex<[Double]>([])
            do {
                let code = try device.prepareQueued(k.kernel)
                try device.enqueue(code, Launch(buffers: KernelCheck.inputs(k, seed: 1), ints: k.ints, floats: k.floats), overwrites: []) { s in
                    seen.withLock { $0.append(s) }
                }
                try device.synchronize()
                let times = seen.withLock { $0 }
                report(tally, times.count == 1 && times[0] > 0 && times[0] < 10 ? "pass" : "FAIL", name, "\(times)")
            } catch {
                report(tally, "FAIL", name, "\(error)")
            }
        }
    }

    func cudaChecks(_ kernels: [PlanRecorder.Recorded], _ tally: Tally) throws {
        if try !queuedChecks(kernels, on: Tandem.cuda, summary: Tandem.cuda.info?.summary, tally) {
            guard case .success(let nvrtc) = NVRTC.shared else { return }
            print("cuda: not run; \(nvrtc.identity) at \(nvrtc.path) compiles the \(kernels.count) kernels for sm_90 instead")
            for (i, k) in kernels.enumerated() {
                let name = "cuda kernel \(i) \(k.label) (sm_90, not run)"
                do {
                    _ = try nvrtc.compile(CRenderer.render(k.kernel, dialect: .cuda), architecture: "sm_90")
                    report(tally, "compiled", name)
                } catch {
                    report(tally, "FAIL", name, "\(error)")
                }
            }
        }
    }
}

/// A random program over Double tensors, the same for the same seed on every device: fresh
/// uniform inputs, broadcasts, strided views, transposes, unary and binary operations and
/// reductions, with some intermediate syncs.
struct RandomProgram {
    var rng: UInt64

    init(seed: UInt64) { rng = seed &* 0x2545F4914F6CDD1D &+ 0x9E3779B97F4A7C15 }

    mutating func next(_ n: Int) -> Int {
        rng &+= 0x9E3779B97F4A7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }

    mutating func shape() -> [Int] { (0..<(1 + next(3))).map { _ in 1 + next(7) } }

    /// Builds the program and reads every tensor it made.
    mutating func values() throws -> [[Double]] {
        var pool: [Tensor<Double>] = (0..<3).map { _ in Tensor<Double>.uniform(shape(), seed: UInt64(next(1 << 20)), in: -2...2) }
        var out: [[Double]] = []
        for _ in 0..<(6 + next(8)) {
            let a = pool[next(pool.count)]
            switch next(8) {
            case 0, 1:
                // A partner that broadcasts: some axes set to 1.
                let b = Tensor<Double>.uniform(a.shape.map { next(3) == 0 ? 1 : $0 }, seed: UInt64(next(1 << 20)), in: -2...2)
                let ops: [(Tensor<Double>, Tensor<Double>) -> Tensor<Double>] = [(+), (-), (*), { Tensor.maximum($0, $1) }, { $0 / ($1.abs() + 1) }]
                pool.append(ops[next(ops.count)](a, b))
            case 2:
                let ops: [(Tensor<Double>) -> Tensor<Double>] = [{ ($0.abs() + 0.5).sqrt() }, { $0.tanh() }, { $0.sin() }, { $0.erf() },
                                                                  { ($0 * 0.25).exp() }, { ($0.abs() + 1).log() }, { $0.erfc() }]
                pool.append(ops[next(ops.count)](a))
            case 3 where a.rank >= 1:
                // A strided view along the first axis.
                let n = a.shape[0], start = next(n), step = 1 + next(2)
                var idx = [TensorIndex.slice(start: start, end: n, step: step)]
                idx += Array(repeating: TensorIndex.slice(start: 0, end: nil, step: 1), count: a.rank - 1)
                pool.append(a[indices: idx] * 1.5)
            case 4 where a.rank >= 2:
                pool.append(a.transposed + 1)
            case 5 where a.rank >= 1:
                let axis = next(a.rank)
                pool.append([a.sum(axis: axis), a.max(axis: axis), a.min(axis: axis)][next(3)])
            case 6 where a.rank >= 1:
                out.append(try Tensor<Double>(a.argmax(axis: a.rank - 1)).scalars)
            default:
                out.append([try a.sum().item()])
            }
        }
        for t in pool { out.append(try t.scalars) }
        return out
    }
}
