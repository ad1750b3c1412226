import Testing
import _TandemTestSupport
@testable import Tandem
import TandemIR
import TandemModel
@testable import TandemRuntime
import TandemCPU
import TandemInterpreter

/// Issue 20: one kernel split between the host and an accelerator. On the simulated GPU (the
/// interpreter over its own memory: a missing or misplaced copy gives wrong values) the parts
/// must give the interpreter's bits exactly, at every share; on PoCL, the same programs within
/// the accelerator tolerance.
@Suite("Split kernels", .planned, .serialized)
struct SplitTests {
    func runtime(_ profile: MachineProfile = SyntheticProfiles.gpu()) -> (Runtime, FakeGPU, StatisticsBox) {
        let stats = StatisticsBox()
        let gpu = FakeGPU(statistics: stats)
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: TestScratch.path("split")))
        return (Runtime(devices: [cpu, InterpreterDevice()], queued: [gpu], statistics: stats, workers: 2, profile: { profile }), gpu, stats)
    }

    static func values(_ rt: Runtime, _ t: Tensor<Double>) throws -> [Double] {
        let b = try rt.read(t.node)
        return Array(UnsafeBufferPointer(start: b.pointer.assumingMemoryBound(to: Double.self), count: t.count))
    }

    /// Reductions that split into pieces: a sum, a sum and a max of one kernel, and the sums of
    /// `m`'s rows (each program read back as doubles).
    static func reductionPrograms(_ rt: Runtime, _ x: Tensor<Double>, _ m: Tensor<Double>) -> [(String, () throws -> [Double])] {
        [
            ("sum", { try values(rt, (x * x + 1).sum()) }),
            ("sum and max", {
                let a = (x * 3).sum(), b = x.max()
                try rt.materialize([a.node, b.node])
                return try values(rt, a) + values(rt, b)
            }),
            ("row sums", { try values(rt, (m * 2).sum(axis: 1)) }),
        ]
    }

    /// Programs whose kernels split along their first axis: elementwise, an in-place stencil
    /// written into a slice, two outputs of one kernel, and a reduction of each row.
    static func programs(_ n: Int, _ m: Int) -> [(name: String, run: (Runtime) throws -> [Double])] {
        let x = Tensor<Double>.uniform([n, m], seed: 7, in: -1...1)
        return [
            ("elementwise", { rt in try values(rt, (x * 3 - 1) * x + 0.5) }),
            ("stencil", { rt in
                var a = Tensor<Double>.arange(0, Double(n * m)).reshaped([n, m]) * 0.001
                for _ in 0..<3 {
                    var b = a
                    b[1..<(n - 1), 1..<(m - 1)] = (a[0..<(n - 2), 1..<(m - 1)] + a[2..<n, 1..<(m - 1)]
                                                     + a[1..<(n - 1), 0..<(m - 2)] + a[1..<(n - 1), 2..<m]) * 0.25
                    a = b
                }
                return try values(rt, a)
            }),
            ("two outputs", { rt in
                let p = x * 2 + 1, q = x * x - p
                try rt.materialize([p.node, q.node])
                return try values(rt, p) + values(rt, q)
            }),
            ("row sums", { rt in try values(rt, (x * x + 1).sum(axis: 1)) }),
        ]
    }

    @Test("split kernels give the interpreter's bits at shares 0, 1 and between, at odd sizes", arguments: [(37, 53), (130, 7), (1000, 3)])
    func matchesInterpreter(size: (Int, Int)) throws {
        for (name, run) in Self.programs(size.0, size.1) {
            let (rt, gpu, stats) = runtime()
            let expected = try Tandem.withDevice(.interpreter) { try run(rt) }
            for share in [0.0, 1.0, 0.3, 0.71] {
                let partsBefore = gpu.partsRun.count, splitBefore = stats.snapshot.splitKernels
                let got = try Tandem.withSplit(hostShare: share) { try run(rt) }
                #expect(got.count == expected.count)
                #expect(zip(got, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name) \(size) share \(share)")
                let split = stats.snapshot.splitKernels - splitBefore
                #expect(split > 0, "\(name) \(size): nothing was split")
                // Each kernel cut where the share says (a kernel of one parallel axis at a
                // multiple of 64 rows below it), and its other rows run on the device.
                let records = rt.splitRecords.suffix(split)
                for r in records {
                    let exact = Int((share * Double(r.rows)).rounded())
                    #expect(r.fixed && r.hostRows <= exact && r.hostRows > exact - 64, "\(name): \(r)")
                }
                let parts = Array(gpu.partsRun.dropFirst(partsBefore))
                #expect(parts == records.filter { $0.hostRows < $0.rows }.map { $0.hostRows..<$0.rows }, "\(name)")
            }
        }
    }

    @Test("only the device's rows come back, and the host's share decides where the cut is")
    func copiesOnlyTheDevicesRows() throws {
        let (rt, gpu, stats) = runtime()
        // Stored data, read through a view that keeps the kernel two-dimensional.
        let x = Tensor<Double>((0..<1280).map { Double($0) * 0.5 }).reshaped([40, 32])
        let y = try Tandem.withSplit(hostShare: 0.25) { try Self.values(rt, x[0..<40, 0..<25] * 2 + 1) }
        var want: [Double] = []
        for i in 0..<40 { for j in 0..<25 { want.append(Double(i * 32 + j) * 0.5 * 2 + 1) } }
        #expect(y == want)
        #expect(stats.snapshot.splitKernels == 1)
        let r = try #require(rt.splitRecords.last)
        #expect(r.hostRows == 10 && r.rows == 40)
        #expect(gpu.partsRun == [10..<40])
        // The device got x's rows 10..<40 (elements 320 ... 39 * 32 + 24), nothing more; y's
        // device rows came back when y was read, nothing else.
        #expect(gpu.log == ["H->D \(39 * 32 + 25 - 320)", "D->H 750"])
    }

    @Test("a stencil split the same way step after step moves only the rows beside the cut (rows stored whole)")
    func bordersOnly() throws {
        let (rt, gpu, stats) = runtime()
        let (n, m) = (200, 64)
        var a = Tensor<Double>.arange(0, Double(n * m)).reshaped([n, m]) * 0.001
        let expected = try Tandem.withDevice(.interpreter) { () throws -> [Double] in
            var b = a
            for _ in 0..<4 {
                var c = b
                c[1..<(n - 1), 0..<m] = (b[0..<(n - 2), 0..<m] + b[2..<n, 0..<m]) * 0.5
                b = c
            }
            return try Self.values(rt, b)
        }
        let got = try Tandem.withSplit(hostShare: 0.5) { () throws -> [Double] in
            for _ in 0..<4 {
                var c = a
                c[1..<(n - 1), 0..<m] = (a[0..<(n - 2), 0..<m] + a[2..<n, 0..<m]) * 0.5
                a = c
                try rt.materialize([a.node])
            }
            return try Self.values(rt, a)
        }
        #expect(got == expected)
        #expect(stats.snapshot.splitKernels >= 4, "\(gpu.log)")
        // Whole buffers would move n * m elements each way every step.
        let grid = n * m * 8
        #expect(stats.snapshot.bytesToDevice < grid / 4, "\(gpu.log)")
        #expect(stats.snapshot.bytesToHost < grid * 6 / 10, "\(gpu.log)")
    }

    @Test("a kernel that cannot be cut runs whole on the CPU, said and counted")
    func refusals() throws {
        let (rt, _, stats) = runtime()
        let x = Tensor<Double>.uniform([5000], seed: 2, in: 0...1)
        let total = try Tandem.withSplit(hostShare: 0.5) { try Self.values(rt, (x * x).sum()) }
        let expected = try Tandem.withDevice(.interpreter) { try Self.values(rt, (x * x).sum()) }
        #expect(total == expected)
        #expect(stats.snapshot.unsplitKernels >= 1 && stats.snapshot.fallbacks >= 1)
    }

    @Test("a reduction in pieces splits its pieces: the host's first, the device's the rest, combined in order on the host")
    func reductions() throws {
        let (rt, gpu, stats) = runtime()
        let x = Tensor<Double>((0..<300_001).map { Double($0 % 1000) * 0.001 - 0.4 })
        let m = Tensor<Double>((0..<(24 * 50_000)).map { Double($0 % 977) * 0.01 }).reshaped([24, 50_000])
        let programs = Self.reductionPrograms(rt, x, m)
        for (name, run) in programs {
            let expected = try Tandem.withDevice(.interpreter) { try run() }
            for share in [0.0, 0.4, 1.0] {
                let before = gpu.reducePartsRun.count, splits = stats.snapshot.splitKernels
                let got = try Tandem.withSplit(hostShare: share) { try run() }
                #expect(got.count == expected.count)
                for (g, e) in zip(got, expected) { #expect(abs(g - e) <= 1e-9 * max(1, abs(e)), "\(name) share \(share): \(g) vs \(e)") }
                #expect(stats.snapshot.splitKernels > splits, "\(name) share \(share): nothing was split")
                // The device folded the pieces the host left (none at share 1: then it runs whole on the host).
                #expect(share == 1 ? gpu.reducePartsRun.count == before : gpu.reducePartsRun.count > before, "\(name) share \(share)")
            }
        }
        // An arg reduction is not split (the device's indices would start at its piece).
        let before = stats.snapshot.unsplitKernels
        _ = try Tandem.withSplit(hostShare: 0.5) { try Self.values(rt, x.argmax().cast(to: Double.self)) }
        #expect(stats.snapshot.unsplitKernels > before)
    }

    @Test("a share outside 0...1 is an error, before anything runs")
    func badShare() {
        #expect(throws: TandemError.self) { try Tandem.withSplit(hostShare: 1.5) { 0 } }
    }

    @Test("with no share given, the model's is recorded with both parts' predictions")
    func modelShare() throws {
        let (rt, _, _) = runtime()
        let x = Tensor<Double>.uniform([512, 512], seed: 5, in: 0...1)
        let expected = try Tandem.withDevice(.interpreter) { try Self.values(rt, x * 0.5 + x) }
        let got = try Tandem.withSplit(hostShare: nil) { try Self.values(rt, x * 0.5 + x) }
        #expect(got == expected)
        let r = try #require(rt.splitRecords.last)
        let p = try #require(r.predicted)
        #expect(!r.fixed && abs(p.hostShare - r.hostShare) <= 64.0 / 512 + 1e-9 && p.host > 0 || p.hostShare == 0)
        #expect(r.description.contains("predicted host"))
    }
}

/// The split's share in the cost model: it moves toward the device as the device gets faster or
/// its operands are already there, toward the host as the link gets slower.
@Suite("Split share in the cost model", .planned)
struct SplitModelTests {
    static let n = 10_000_000

    static func share(_ profile: MachineProfile, hostOnly: Bool = true) -> SplitPrediction {
        let model = CostModel(profile: profile)
        let run = CostModelTests.run(n, hostOnly: hostOnly ? 8 * n : 0)
        return model.bestSplit(KernelFeatures(CostModelTests.axpb), run, device: .cuda)!
    }

    @Test("the chosen share finishes no later than either device alone, and both parts end close together")
    func balanced() {
        let base = Self.share(SyntheticProfiles.gpu())
        #expect(base.hostShare > 0.1 && base.hostShare < 0.9, "\(base)")
        #expect(abs(base.host - base.device) <= 0.1 * base.finish, "\(base)")
        let model = CostModel(profile: SyntheticProfiles.gpu())
        let run = CostModelTests.run(Self.n, hostOnly: 8 * Self.n)
        for whole in [0.0, 1.0] {
            #expect(base.finish <= model.split(KernelFeatures(CostModelTests.axpb), run, device: .cuda, hostShare: whole).finish)
        }
    }

    @Test("a slower device, a slower link or operands not on the device move rows to the host")
    func direction() {
        let base = Self.share(SyntheticProfiles.gpu())
        var slow = SyntheticProfiles.gpu()
        slow.gpu!.bandwidth /= 50
        #expect(Self.share(slow).hostShare > base.hostShare)
        #expect(Self.share(SyntheticProfiles.gpu(hostToDevice: 5e9)).hostShare > base.hostShare)
        #expect(Self.share(SyntheticProfiles.gpu(), hostOnly: false).hostShare < base.hostShare)
    }

    @Test("measured parts move the share: a device part that ran four times its prediction gets fewer rows")
    func learned() {
        let model = CostModel(profile: SyntheticProfiles.gpu())
        let run = CostModelTests.run(Self.n, hostOnly: 8 * Self.n)
        let base = model.bestSplit(KernelFeatures(CostModelTests.axpb), run, device: .cuda)!
        var f = SplitFactors()
        for _ in 0..<8 { f.learn(host: false, predicted: base.deviceKernel, measured: 4 * base.deviceKernel) }
        #expect(abs(f.device - 4) < 0.1 && f.host == 1)
        #expect(model.bestSplit(KernelFeatures(CostModelTests.axpb), run, device: .cuda, factors: f)!.hostShare > base.hostShare)
    }

    @Test("parts that compete for the same cores are not split; an input cut elsewhere pulls the cut to it, less once the kernel has run often")
    func sharingAndCuts() {
        let model = CostModel(profile: SyntheticProfiles.gpu())
        let f = KernelFeatures(CostModelTests.axpb)
        let run = CostModelTests.run(Self.n, hostOnly: 8 * Self.n)
        let base = model.bestSplit(f, run, device: .cuda)!
        let shared = model.bestSplit(f, run, device: .cuda, sequential: true)!
        #expect(shared.hostShare == 0 || shared.hostShare == 1, "\(shared)")
        #expect(shared.finish <= model.split(f, run, device: .cuda, hostShare: base.hostShare, sequential: true).finish)
        // An input a split left with a share q of its rows on the host: the cut lies between
        // the share without it and q, and is no slower than ignoring it.
        for q in [0.05, 0.2, 0.5, 0.8] {
            let cut = [(share: q, bytes: 8 * Self.n)]
            let pulled = model.bestSplit(f, run, device: .cuda, cuts: cut)!
            #expect(pulled.hostShare >= min(base.hostShare, q) - 1e-9 && pulled.hostShare <= max(base.hostShare, q) + 1e-9, "\(q): \(base) \(pulled)")
            // Within a device launch: the input's own cut is kept when that close (rows stay put).
            #expect(pulled.finish <= model.split(f, run, device: .cuda, hostShare: base.hostShare, cuts: cut).finish + model.profile.gpu!.launchSeconds + 1e-12)
        }
        // Amortised over a kernel's many runs, a move no longer holds the cut back.
        let near = [(share: base.hostShare + 0.2, bytes: 8 * Self.n)]
        var often = run
        often.previousRuns = 1000
        #expect(abs(model.bestSplit(f, often, device: .cuda, cuts: near)!.hostShare - base.hostShare) <= 0.011)
    }

    @Test("a device the profile has not measured is not priced")
    func unmeasured() {
        let model = CostModel(profile: SyntheticProfiles.cpu())
        #expect(model.bestSplit(KernelFeatures(CostModelTests.axpb), CostModelTests.run(1000), device: .opencl) == nil)
    }
}

/// The split on PoCL: the host's C and OpenCL C at once, on the shared runtime.
@Suite("Split kernels on OpenCL", .planned, .enabled(if: openCLAvailable), .serialized)
struct OpenCLSplitTests {
    @Test("elementwise, stencil, two-output and row-sum kernels split at several shares agree with the interpreter",
          arguments: [(37, 53), (1000, 3), (3, 700)])
    func agrees(size: (Int, Int)) throws {
        let rt = Tandem.runtime
        for (name, run) in SplitTests.programs(size.0, size.1) {
            let expected = try Tandem.withDevice(.interpreter) { try run(rt) }
            for share in [0.0, 1.0, 0.5, 0.23] {
                let before = rt.statistics.snapshot.splitKernels
                let got = try Tandem.withSplit(hostShare: share) { try run(rt) }
                #expect(rt.statistics.snapshot.splitKernels > before, "\(name): nothing was split")
                #expect(got.count == expected.count)
                for (i, (g, e)) in zip(got, expected).enumerated() where !(abs(g - e) <= 1e-12 * max(1, abs(e))) {
                    Issue.record("\(name) \(size) share \(share) element \(i): \(g) against \(e)")
                    break
                }
            }
        }
    }

    @Test("reductions in pieces: the device's pieces from the split entry, combined on the host, agree with the interpreter")
    func reductions() throws {
        let rt = Tandem.runtime
        let x = Tensor<Double>.uniform([300_001], seed: 4, in: -1...1)
        let m = Tensor<Double>.uniform([24, 50_000], seed: 5, in: 0...1)
        let f = Tensor<Float>.uniform([200_003], seed: 6, in: 0...1)
        let programs = SplitTests.reductionPrograms(rt, x, m) + [("float sum", { [try Double(f.sum().item())] })]
        for (name, run) in programs {
            let expected = try Tandem.withDevice(.interpreter) { try run() }
            for share in [0.0, 0.3, 0.5] {
                let before = rt.statistics.snapshot.splitKernels
                let got = try Tandem.withSplit(hostShare: share) { try run() }
                #expect(rt.statistics.snapshot.splitKernels > before, "\(name): nothing was split")
                for (g, e) in zip(got, expected) { #expect(abs(g - e) <= 1e-6 * max(1, abs(e)), "\(name) share \(share): \(g) vs \(e)") }
            }
        }
    }

    @Test("one axis: the cut falls on a multiple of 64 rows; the model's share is recorded")
    func oneAxis() throws {
        let rt = Tandem.runtime
        let x = Tensor<Double>.uniform([100_003], seed: 9, in: 0...1)
        let expected = try Tandem.withDevice(.interpreter) { try SplitTests.values(rt, x * x + 2) }
        for share in [0.37, nil] as [Double?] {
            let got = try Tandem.withSplit(hostShare: share) { try SplitTests.values(rt, x * x + 2) }
            #expect(got == expected)
            let r = try #require(rt.splitRecords.last)
            #expect(r.hostRows % 64 == 0 || r.hostRows == r.rows)
            #expect(r.fixed == (share != nil))
        }
    }
}

@Suite("Byte ranges of a buffer", .planned)
struct ByteRangesTests {
    @Test("insert merges touching ranges, remove cuts, missing lists the gaps; checked against a set of bytes")
    func againstASet() {
        var g = SplitMix(seed: 11)
        for _ in 0..<200 {
            var ranges = ByteRanges(), bytes = Set<Int>()
            for _ in 0..<8 {
                let a = Int(g.next() % 60), b = a + Int(g.next() % 20)
                if g.next() % 3 == 0 { ranges.remove(a..<b); bytes.subtract(a..<b) } else { ranges.insert(a..<b); bytes.formUnion(a..<b) }
                #expect(Set(ranges.ranges.flatMap { Array($0) }) == bytes)
                #expect(zip(ranges.ranges, ranges.ranges.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound } && ranges.ranges.allSatisfy { !$0.isEmpty })
                let q = Int(g.next() % 40)..<(40 + Int(g.next() % 40))
                #expect(Set(ranges.missing(in: q).flatMap { Array($0) }) == Set(q).subtracting(bytes))
                #expect(Set(ranges.intersection(q).flatMap { Array($0) }) == Set(q).intersection(bytes))
            }
        }
    }
}

