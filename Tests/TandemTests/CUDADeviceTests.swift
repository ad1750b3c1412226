import Testing
import Synchronization
@testable import Tandem
import TandemCompiler
import TandemCUDA
import TandemRuntime
import TandemInterpreter
import TandemWorkloads

/// The kernels planned while `body` runs.
func recordKernels(_ body: () throws -> Void) rethrows -> [PlanRecorder.Recorded] {
    let recorder = PlanRecorder()
    try PlanRecorder.$current.withValue(recorder) { try body() }
    return recorder.kernels
}

/// The workloads at small sizes (every kernel shape they plan, in seconds on the CPU).
let smallWorkloads: [String: [String: Double]] = [
    "black_scholes": ["n": 1000, "iterations": 1], "sor": ["n": 30, "max_iterations": 20],
    "red_black_sor": ["n": 31, "iterations": 3], "shallow_water": ["n": 20, "steps": 3],
    "nbody": ["n": 100, "steps": 2], "gmm_em": ["n": 1000, "d": 3, "k": 4, "iterations": 2],
]

/// The interpreter behind the queued-device protocol (host memory, runs at enqueue): lets the
/// kernel-level differential harness be checked on a machine without a GPU.
final class HostQueuedDevice: QueuedKernelDevice, @unchecked Sendable {
    struct Code: QueuedKernel {
        let kernel: Kernel
        let prepared: any PreparedKernel
    }
    let name = "interpreter-queued"
    let availability = Availability.available
    let inner = InterpreterDevice()
    func prepareQueued(_ kernel: Kernel) throws -> any QueuedKernel { Code(kernel: kernel, prepared: try inner.prepare(kernel)) }
    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>) throws {
        let k = kernel.kernel
        (kernel as! Code).prepared.run(launch, lo: 0, hi: k.parallelAxes == 0 ? 1 : launch.extent(0))
    }
    func makeHostValid(_ buffer: Buffer) throws {}
    func hostWillWrite(_ buffer: Buffer, overwrites: Bool) throws {}
    func synchronize() throws {}
    func validity(of buffer: Buffer) -> Validity { .host }
    func codeState(_ kernel: Kernel) -> CodeState { .ready }
}

@Suite("CUDA device without a GPU", .planned)
struct CUDADeviceTests {
    func kernel(parallel: Int, rank: Int, reductions: Int) -> Kernel {
        Kernel(rank: rank, parallelAxes: parallel, buffers: [BufferParam(dtype: .float64, isRead: true, isWritten: false)],
               accesses: [], instrs: [], reductions: Array(repeating: Reduction(op: .sum, value: 0, accumulator: .float64), count: reductions),
               stores: [], intParams: rank, floatParams: 0)
    }

    @Test("the GPU suite's large kernels reach several waves, many reduction parts and the second grid dimension")
    func largeKernelPlans() throws {
        let (x, m) = CUDAGPUTests.largeShapes()
        let elementwise = try #require(recordKernels { _ = Tandem.plan((x * 1.5 + 0.25).exp()) }.first)
        // 3·10^6 points in blocks of 256 on an H100's 132 SMs: 11,719 blocks needed, 4,224 launched.
        guard case .rows(let blocks) = CUDALaunch.plan(elementwise.kernel, ints: elementwise.ints, multiprocessors: 132) else {
            Issue.record("elementwise kernel not planned as rows")
            return
        }
        #expect(blocks * CRenderer.cudaThreads < 3_000_000, "one wave covers it all: \(blocks) blocks")
        let sum = try #require(recordKernels { _ = Tandem.plan(x.sum()) }.first)
        guard case .splitCombine(let parts, _, _, _) = CUDALaunch.plan(sum.kernel, ints: sum.ints, multiprocessors: 132) else {
            Issue.record("full sum not split")
            return
        }
        #expect(parts > 1)
        let rows = try #require(recordKernels { _ = Tandem.plan(m.sum(axis: 1)) }.first)
        guard case .splitCombine(_, let gridY, _, _) = CUDALaunch.plan(rows.kernel, ints: rows.ints, multiprocessors: 132) else {
            Issue.record("row sums not split")
            return
        }
        #expect(gridY == 40)
    }

    @Test("launch geometry: elementwise on a grid-stride loop, reductions split by size alone")
    func launchPlans() {
        // Elementwise over 10^7 points on 132 SMs: 32 blocks per SM, the loop covers the rest.
        #expect(CUDALaunch.plan(kernel(parallel: 1, rank: 1, reductions: 0), ints: [10_000_000], multiprocessors: 132) == .rows(blocks: 132 * 32))
        #expect(CUDALaunch.plan(kernel(parallel: 1, rank: 1, reductions: 0), ints: [1000], multiprocessors: 132) == .rows(blocks: 4))
        // A full reduction of 10^7 elements: 1024 parts (the cap), one parallel point.
        let full = CUDALaunch.plan(kernel(parallel: 0, rank: 1, reductions: 1), ints: [10_000_000], multiprocessors: 132)
        #expect(full == .splitCombine(parts: 1024, gridY: 1, combineBlocks: 1, partialBytes: 1024 * 16))
        // The same size on a smaller GPU: the same split, hence the same bits.
        #expect(CUDALaunch.plan(kernel(parallel: 0, rank: 1, reductions: 1), ints: [10_000_000], multiprocessors: 20) == full)
        // Many rows each reduced: one thread per row.
        #expect(CUDALaunch.plan(kernel(parallel: 1, rank: 2, reductions: 1), ints: [100_000, 16], multiprocessors: 132) == .rows(blocks: 391))
        // Few columns over many rows (GMM's sums over points): split over the rows.
        #expect(CUDALaunch.plan(kernel(parallel: 1, rank: 2, reductions: 2), ints: [16, 1_000_000], multiprocessors: 132)
                == .splitCombine(parts: 122, gridY: 16, combineBlocks: 1, partialBytes: 122 * 16 * 2 * 16))
    }

    @Test("arguments are packed as tk_args: addresses, ints, float bit patterns, no empty section")
    func argumentPacking() {
        var k = kernel(parallel: 1, rank: 1, reductions: 0)
        k.buffers.append(BufferParam(dtype: .float32, isRead: false, isWritten: true))
        k.intParams = 3
        let words = CUDALaunch.argumentWords(kernel: k, addresses: [0xA000, 0xB000], ints: [7, -1, 9], floats: [])
        #expect(words == [0xA000, 0xB000, 7, UInt64(bitPattern: -1), 9, 0])
        k.floatParams = 1
        #expect(CUDALaunch.argumentWords(kernel: k, addresses: [1, 2], ints: [1, 2, 3], floats: [0.5]).last == (0.5).bitPattern)
    }

    @Test("without a driver the device is unavailable, with the reason, and nothing crashes")
    func unavailableWithoutDriver() throws {
        guard case .failure = CUDADriver.shared else { return }  // a machine with a driver: nothing to check here
        let gpu = CUDADevice(statistics: StatisticsBox())
        guard case .unavailable(let reason) = gpu.availability else { Issue.record("available without a driver"); return }
        #expect(reason.contains("libcuda.so.1"))
        #expect(gpu.info == nil)
        let x = Tensor<Double>.uniform([10], seed: 1)
        #expect(throws: TandemError.self) { _ = try gpu.prepareQueued(Tandem.plan(x.sum()).kernels[0].kernel) }
    }

    @Test("the kernel-level differential harness passes compiled C against the interpreter on every workload kernel")
    func kernelCheckHarness() throws {
        var kernels: [PlanRecorder.Recorded] = []
        for w in Workloads.all {
            kernels += try recordKernels { _ = try w.run(smallWorkloads[w.name]!, dtype: .float32) }
        }
        #expect(kernels.count > 30)
        for k in kernels {
            let r = try KernelCheck.run(k, on: HostQueuedDevice(), reference: Tandem.cpu, seed: 7)
            #expect(r.passed, "\(k.label): \(r.detail)")
        }
    }

    @Test("the harness fails when the device computes something else")
    func kernelCheckCanFail() throws {
        let x = Tensor<Double>.uniform([100], seed: 2)
        let right = try recordKernels { _ = try (x * 2).sum().item() }
        let wrong = try recordKernels { _ = try (x + 2).sum().item() }
        // Run x * 2's launch with the code of x + 2: the outputs differ.
        var k = right.last!
        k.kernel = wrong.last!.kernel
        let r = try KernelCheck.run(k, on: HostQueuedDevice(), reference: ConstantSwap(right.last!.kernel), seed: 3)
        #expect(!r.passed)
    }
}

/// A reference device that runs another kernel than asked (to prove the harness can fail).
struct ConstantSwap: KernelDevice {
    let kernel: Kernel
    init(_ k: Kernel) { kernel = k }
    var name: String { "swapped" }
    var availability: Availability { .available }
    func prepare(_ ignored: Kernel) throws -> any PreparedKernel { try InterpreterDevice().prepare(kernel) }
}

let cudaAvailable: Bool = Tandem.cuda.availability == .available

/// Runs on a machine with an NVIDIA GPU, driver and NVRTC; skipped elsewhere.
@Suite("CUDA on the GPU", .planned, .enabled(if: cudaAvailable), .serialized)
struct CUDAGPUTests {
    @Test("every workload kernel gives the CPU's results on the GPU", arguments: ["f32", "f64"])
    func workloadKernels(dtype: String) throws {
        for w in Workloads.all {
            let kernels = try recordKernels { _ = try w.run(smallWorkloads[w.name]!, dtype: dtype == "f32" ? .float32 : .float64) }
            for k in kernels {
                let r = try KernelCheck.run(k, on: Tandem.cuda, reference: Tandem.cpu, seed: 11)
                #expect(r.passed, "\(w.name) \(k.label): \(r.detail)")
            }
        }
    }

    @Test("random differential programs' kernels give the CPU's results on the GPU")
    func randomKernels() throws {
        var kernels: [PlanRecorder.Recorded] = []
        kernels += try recordKernels { for s in 0..<8 { _ = try Program<Double>(seed: UInt64(s)).run() } }
        kernels += try recordKernels { for s in 0..<6 { _ = try Program<Float>(seed: UInt64(1000 + s)).run() } }
        kernels += try recordKernels { for s in 0..<6 { _ = try Program<Int64>(seed: UInt64(3000 + s)).run() } }
        kernels += try recordKernels { for s in 0..<3 { _ = try Program<UInt8>(seed: UInt64(4200 + s)).run() } }
        kernels += try recordKernels { for s in 0..<3 { _ = try Program<Int16>(seed: UInt64(4100 + s)).run() } }
        for k in kernels {
            let r = try KernelCheck.run(k, on: Tandem.cuda, reference: Tandem.cpu, seed: 5)
            #expect(r.passed, "\(k.label): \(r.detail)")
        }
    }

    @Test("uniform on the GPU is bit-identical to the CPU's")
    func uniformBits() throws {
        let kernels = recordKernels { _ = Tandem.plan(Tensor<Double>.uniform([1 << 20], seed: 77)) }
        let k = try #require(kernels.first)
        let r = try KernelCheck.run(k, on: Tandem.cuda, reference: Tandem.cpu, seed: 1)
        #expect(r.passed && r.detail == "max relative difference 0.0", "\(r.detail)")
    }

    /// The shapes of `largeShapes`: more than one wave of blocks, a reduction in many parts, and
    /// row reductions over the second grid dimension (the plans are checked without a GPU below).
    @Test("large kernels: several waves, many reduction parts, the second grid dimension, as the interpreter computes them")
    func largeKernels() throws {
        let (x, m) = CUDAGPUTests.largeShapes()
        func run() throws -> [Double] {
            let y = (x * 1.5 + 0.25).exp()
            return [try y.sum().item(), try y.max().item(), Double(try x.argmax().item())] + (try m.sum(axis: 1).scalars) + (try m.min(axis: 1).scalars)
        }
        let got = try Tandem.withDevice(.cuda) { try run() }
        let want = try Tandem.withDevice(.interpreter) { try run() }
        for (i, (a, b)) in zip(got, want).enumerated() {
            #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "value \(i): \(a) on the GPU, \(b) in the interpreter")
        }
    }

    static func largeShapes() -> (Tensor<Double>, Tensor<Double>) {
        (Tensor<Double>.uniform([3_000_000], seed: 21, in: -1...1), Tensor<Double>.uniform([40, 50_000], seed: 22, in: -1...1))
    }

    @Test("kernel times on the GPU are reported once each, after they ran, in stream order")
    func kernelTimes() throws {
        let x = Tensor<Double>.uniform([2_000_000], seed: 8, in: 0...1)
        let k = try #require(recordKernels { _ = try (x * 2).exp().sum().item() }.first)
        let seen = Mutex<[Double]>([])
        let code = try Tandem.cuda.prepareQueued(k.kernel)
        for i in 0..<3 {
            try Tandem.cuda.enqueue(code, Launch(buffers: KernelCheck.inputs(k, seed: UInt64(i)), ints: k.ints, floats: k.floats), overwrites: []) { s in
                seen.withLock { $0.append(s) }
            }
        }
        try Tandem.cuda.synchronize()
        let times = seen.withLock { $0 }
        #expect(Tandem.cuda.reportsKernelTimes && times.count == 3, "\(times)")
        #expect(times.allSatisfy { $0 > 0 && $0 < 1 }, "\(times)")
    }

    @Test("device-to-device copy bandwidth is measured")
    func bandwidth() throws {
        #expect(try Tandem.cuda.copyBandwidth(bytes: 256 << 20, repeats: 3) > 1e10)
    }
}
