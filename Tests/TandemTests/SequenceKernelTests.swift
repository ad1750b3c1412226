import Testing
import _TandemTestSupport
import Tandem
import TandemIR
import TandemCompiler
@testable import TandemRuntime
import TandemCPU
import TandemInterpreter
import TandemModel

/// Sequence kernels (issue 15, point 4): consecutive small kernels that cannot fuse (a stencil
/// and the border writes that read what it wrote) merged into one kernel of stages, run one
/// after the other. The results must be those of each kernel run alone, bit for bit, on every
/// host placement.
@Suite("Sequence kernels", .planned)
struct SequenceKernelTests {
    /// A runtime of its own (compiled C in `dir`, the interpreter) that does or does not form
    /// sequences.
    static func runtime(_ dir: String, sequences: Bool) -> Runtime {
        let stats = StatisticsBox()
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: dir))
        let r = Runtime(devices: [cpu, InterpreterDevice()], statistics: stats, workers: 2,
                        profile: { SyntheticProfiles.cpu(compileSeconds: 0.05) })
        r.formsSequences = sequences
        return r
    }

    /// A Poisson relaxation with Neumann and Dirichlet borders (cavity flow's inner loop) and a
    /// small reduction per iteration, on an n x n grid: each step a stencil, four border writes
    /// and a sum, none fusable with the next.
    static func relax(_ n: Int, iterations: Int, seed: UInt64) -> (Tensor<Double>, [Tensor<Double>]) {
        var p = Tensor<Double>.uniform([n, n], seed: seed, in: -1...1)
        let b = Tensor<Double>.uniform([n, n], seed: seed + 1, in: -1...1)
        let inner = 1..<(n - 1), east = 2..<n, west = 0..<(n - 2)
        var sums: [Tensor<Double>] = []
        for _ in 0..<iterations {
            let pn = p
            p[inner, inner] = ((pn[inner, east] + pn[inner, west]) + (pn[east, inner] + pn[west, inner]) - b[inner, inner]) * 0.25
            p[.all, n - 1] = p[.all, n - 2]
            p[0, .all] = p[1, .all]
            p[.all, 0] = p[.all, 1]
            p[n - 1, .all] = Tensor(0.0)
            sums.append((p * p).sum(axis: 1).max())
        }
        return (p, sums)
    }

    static func values(_ rt: Runtime, _ t: Tensor<Double>) throws -> [Double] {
        let b = try rt.read(t.node)
        return Array(UnsafeBufferPointer(start: b.pointer.assumingMemoryBound(to: Double.self), count: b.count))
    }

    @Test("a stencil, its border writes and a small reduction run as sequence kernels, with the bits of each kernel alone, on every host placement")
    func sameBitsEverywhere() throws {
        let dir = TestScratch.path("sequences-bits")
        var results: [String: [Double]] = [:]
        for formed in [false, true] {
            let rt = Self.runtime(dir, sequences: formed)
            for device in [DeviceChoice.interpreter, .cpu1, .cpu] {
                let before = rt.statistics.snapshot
                let got = try Tandem.withDevice(device) { () -> [Double] in
                    let (p, sums) = Self.relax(12, iterations: 5, seed: 7)
                    let s = Tensor.stack(sums)
                    return try Self.values(rt, p) + Self.values(rt, s)
                }
                results["\(formed) \(device)"] = got
                let after = rt.statistics.snapshot
                let stages = after.sequenceStages - before.sequenceStages, kernels = after.kernelsRun - before.kernelsRun
                if formed {
                    // Most of the 5 x 6 small kernels ran as stages of a few sequences.
                    #expect(stages >= 25 && kernels < 10, "\(device): \(stages) stages, \(kernels) kernels")
                } else {
                    #expect(stages == 0 && kernels >= 30, "\(device): no sequence when the runtime forms none")
                }
            }
        }
        let reference = results["false interpreter"]!
        #expect(reference.count == 12 * 12 + 5)
        for (name, got) in results {
            let differing = zip(got, reference).count { $0.bitPattern != $1.bitPattern }
            #expect(got.count == reference.count && differing == 0, "\(name): \(differing) of \(reference.count) values differ")
        }
    }

    @Test("sequences compile stage by stage: each stage is the kernel it is alone, compiled once whatever sequences hold it")
    func compiledByStage() throws {
        let dir = TestScratch.path("sequences-batch")
        let stats = StatisticsBox()
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: dir))
        guard cpu.availability == .available else { return }
        // Sequences of one and of two relaxation steps, straight from the planner: the second
        // holds the first's stages again.
        func planned(_ n: Int, _ iterations: Int) -> [Kernel] {
            let (p, _) = Self.relax(n, iterations: iterations, seed: 3)
            return Planner(sequences: true).plan(roots: [p.node]).kernels.map(\.kernel).filter(\.isSequence)
        }
        let one = try #require(planned(9, 1).first), two = try #require(planned(10, 2).first)
        #expect(two.stages.count > one.stages.count)
        #expect(cpu.codeState(one) == .missing && cpu.readyCode(one) == nil)
        let results = cpu.prepare(together: [one])
        guard case .success = results[0] else { Issue.record("did not compile: \(results[0])"); return }
        for stage in one.stages { #expect(cpu.readyCode(stage.kernel) != nil, "each stage compiled as the kernel it is alone") }
        #expect(cpu.codeState(one) == .ready)
        let distinct = Set(one.stages.map(\.kernel)).count
        #expect(stats.snapshot.compileMisses <= distinct)
        // The longer sequence's stages are the same kernels: ready at once, nothing compiled.
        let misses = stats.snapshot.compileMisses
        let newStages = Set(two.stages.map(\.kernel)).subtracting(one.stages.map(\.kernel))
        _ = try cpu.prepare(two)
        #expect(stats.snapshot.compileMisses - misses <= newStages.count)
        #expect(cpu.readyCode(two) != nil)
    }

    @Test("the sequence's launch gives each stage its own buffers and parameters")
    func stageLaunches() throws {
        let (p, _) = Self.relax(8, iterations: 1, seed: 5)
        let plan = Planner(sequences: true).plan(roots: [p.node])
        let plain = Planner().plan(roots: [p.node])
        let sequence = try #require(plan.kernels.first { $0.kernel.isSequence })
        #expect(plan.sequencedKernels >= sequence.kernel.stages.count)
        // Its stages are kernels of the plain plan, in order, each with that kernel's launch.
        let stages = sequence.kernel.stages
        let start = try #require(plain.kernels.firstIndex { $0.kernel.instrs == stages[0].kernel.instrs && $0.points == sequence.stagePoints[0] })
        for (j, stage) in stages.enumerated() {
            let alone = plain.kernels[start + j]
            let launch = sequence.launch.stage(stage)
            #expect(stage.kernel.instrs == alone.kernel.instrs && stage.kernel.stores == alone.kernel.stores)
            #expect(launch.ints == alone.launch.ints && launch.floats == alone.launch.floats)
            #expect(launch.buffers.count == alone.launch.buffers.count)
        }
        #expect(sequence.points == sequence.stagePoints.reduce(0, +))
    }

    @Test("the plan recorder hands other devices a sequence's stages, each the kernel it is alone, and they pass the kernel-level harness")
    func recordedAsStages() throws {
        let rt = Self.runtime(TestScratch.path("sequences-check"), sequences: true)
        let recorder = PlanRecorder()
        try PlanRecorder.$current.withValue(recorder) {
            _ = try Tandem.withDevice(.cpu1) { try Self.values(rt, Self.relax(10, iterations: 2, seed: 11).0) }
        }
        #expect(rt.statistics.snapshot.sequenceStages >= 5)
        #expect(!recorder.kernels.isEmpty && !recorder.kernels.contains { $0.kernel.isSequence })
        #expect(recorder.kernels.contains { $0.label.contains("stage") })
        for k in recorder.kernels {
            let r = try KernelCheck.run(k, on: HostQueuedDevice(), reference: Tandem.cpu, seed: 4)
            #expect(r.passed, "\(k.label): \(r.detail)")
        }
    }

    @Test("a sequence is priced as its stages: each stage's rows and points, one launch")
    func priced() throws {
        // The built-in profile: a cost per run of the innermost loop as well as per point.
        let stats = StatisticsBox()
        let id = MachineIdentity(host: "test", cpuModel: "test", workers: 2, compiler: "clang", gpu: nil)
        let rt = Runtime(devices: [InterpreterDevice()], statistics: stats, workers: 2, profile: { MachineProfile.builtIn(identity: id) })
        #expect(MachineProfile.builtIn(identity: id).cpu.interpreterCallSeconds > 0)
        // Border copies of a 40 x 40 grid (one row or column each) and their stencil.
        let (p, _) = Self.relax(40, iterations: 1, seed: 2)
        let kernels = Planner(sequences: true).plan(roots: [p.node]).kernels
        let sequence = try #require(kernels.first { $0.kernel.isSequence })
        let plain = Planner().plan(roots: [p.node]).kernels
        let model = rt.costModel
        func interpreted(_ k: PlannedKernel) -> Prediction {
            rt.decide(k, options: [.interpreter], forced: true, model: model).chosen
        }
        let whole = interpreted(sequence)
        // The same stages alone: their compute summed (the sequence launches once).
        let alone = plain.filter { k in sequence.kernel.stages.contains { $0.kernel.instrs == k.kernel.instrs && $0.kernel.stores == k.kernel.stores } }
        try #require(alone.count >= 2)
        let sum = alone.map { interpreted($0).compute }.reduce(0, +)
        #expect(whole.compute <= sum * 1.5 && whole.compute >= sum / 1.5, "sequence \(whole.compute) s, stages alone \(sum) s")
    }
}
