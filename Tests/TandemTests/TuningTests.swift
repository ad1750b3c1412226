#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemIR
import TandemCompiler
@testable import TandemRuntime
import TandemInterpreter

/// Code variants chosen by measuring them (issue 21): every variant computes the rules' bits, the
/// tuner picks the fastest by its own runs and keeps the rule within its margin, choices persist
/// in the tuning database for the same machine and binary only, and `tandem tune` reports them.
@Suite("Tuning: code variants", .planned)
struct TuningTests {
    /// The kernels a program plans, recorded on compiled C.
    func kernels(_ program: () throws -> Void) throws -> [PlanRecorder.Recorded] {
        let recorder = PlanRecorder()
        try PlanRecorder.$current.withValue(recorder) { try Tandem.withDevice(.cpu) { try program() } }
        return recorder.kernels
    }

    /// Every written buffer of `k` run with `variant`'s compiled code, against the interpreter's
    /// run of the rules' kernel, compared bit for bit (NaN with NaN).
    func expectRuleBits(_ k: PlanRecorder.Recorded, _ variant: KernelVariant, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var kernel = k.kernel
        // The rows entry (a split reduction's pieces run the same laned loop).
        if kernel.entries == .split { kernel.entries = .rows }
        let expected = KernelCheck.inputs(k, seed: 7), actual = KernelCheck.inputs(k, seed: 7)
        let hi = kernel.parallelAxes == 0 ? 1 : Int(k.ints[0])
        try InterpreterDevice().prepare(kernel).run(Launch(buffers: expected, ints: k.ints, floats: k.floats), lo: 0, hi: hi)
        try Tandem.cpu.prepare(kernel.with(variant: variant)).run(Launch(buffers: actual, ints: k.ints, floats: k.floats), lo: 0, hi: hi)
        for (i, spec) in kernel.buffers.enumerated() where spec.isWritten {
            for e in 0..<expected[i].count {
                let a = expected[i].literal(at: e).asDouble, b = actual[i].literal(at: e).asDouble
                guard a.bitPattern != b.bitPattern && !(a.isNaN && b.isNaN) else { continue }
                Issue.record("\(k.label) with \(variant): buffer \(i) element \(e) is \(b), the interpreter's \(a)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    @Test("every variant of laned reductions (f64, f32, large bodies, rows around the block sizes) and of elementwise kernels gives the interpreter's bits")
    func variantsKeepBits() throws {
        guard Tandem.cpu.availability == .available else {
            print("TuningTests: no C compiler; the variants' code is not compiled here (skipped)")
            return
        }
        var recorded: [PlanRecorder.Recorded] = []
        for n in [9, 40, 77, 130, 300] {
            let x = Tensor<Double>.uniform([5, n], seed: 3, in: -1...1)
            recorded += try kernels { _ = try ((x * x + 0.5).sqrt() / (x + 3)).sum(axis: 1).scalars }
            let p = Tensor<Float>.uniform([n], seed: 4, in: -1...1), q = Tensor<Float>.uniform([6, 1], seed: 5, in: -1...1)
            recorded += try kernels {
                let dx = p - q, r2 = dx * dx + 0.01
                _ = try (dx * (0.5 / (r2 * r2.sqrt()))).sum(axis: 1).scalars
            }
            recorded += try kernels { _ = try (x.exp() * 0.999).prod(axis: 1).scalars }
            // A 40-tap filter's sum (a large body: blocks of eight by the rule).
            let s = Tensor<Double>.uniform([n + 40], seed: 6, in: -1...1)
            recorded += try kernels {
                var y = s[0..<n] * 0.5
                for t in 1..<40 { y = y + s[t..<(n + t)] * (0.01 * Double(t) - 0.2) }
                _ = try y.sum().item()
            }
            // An elementwise stencil step.
            let u = Tensor<Double>.uniform([6, n + 2], seed: 8, in: 0...1)
            recorded += try kernels { _ = try (u[1..<5, 1..<(n + 1)] * 0.6 + (u[0..<4, 1..<(n + 1)] + u[2..<6, 0..<n]) * 0.2).scalars }
        }
        var laned = 0, elementwise = 0
        for k in recorded {
            for case let v? in KernelVariant.candidates(for: k.kernel, exhaustive: true) {
                if v.laneBlock != nil { laned += 1 } else { elementwise += 1 }
                try expectRuleBits(k, v)
            }
        }
        // Each family was exercised (the programs above have kernels of both kinds).
        #expect(laned >= 30 && elementwise >= 5, "laned \(laned), elementwise \(elementwise)")
    }

    @Test("float32 sums in float lanes (reorder only): within float32's tolerance of the interpreter, the same bits whole, in rows and in any chunks")
    func floatSumsWithinTolerance() throws {
        guard Tandem.cpu.availability == .available else {
            print("TuningTests: no C compiler; the variants' code is not compiled here (skipped)")
            return
        }
        var recorded: [PlanRecorder.Recorded] = []
        for n in [7, 40, 255, 257, 300, 1000, 4099] {
            let p = Tensor<Float>.uniform([n], seed: 4, in: -1...1), q = Tensor<Float>.uniform([6, 1], seed: 5, in: -1...1)
            // N-body's shape: three float32 sums of a body with a square root and a division.
            recorded += try kernels {
                let dx = p - q, r2 = dx * dx + 0.01, f = 0.5 / (r2 * r2.sqrt())
                _ = try (dx * f).sum(axis: 1).scalars
                _ = try (dx * dx * f).sum(axis: 1).scalars
            }
            // A sum beside a max (only the sum goes to float lanes) and a float64 sum (none).
            let x = Tensor<Float>.uniform([3, n], seed: 6, in: 0...2)
            recorded += try kernels { _ = try (x * 3 - 1).sum(axis: 1).scalars; _ = try (x * 3 - 1).max(axis: 1).scalars }
        }
        var checked = 0
        for k in recorded {
            let floatSums = KernelVariant.candidates(for: k.kernel, exhaustive: true, reorder: true).compactMap { $0 }.filter(\.floatSums)
            // Never without `reorder`, and offered exactly where a float32 value is summed.
            #expect(!KernelVariant.candidates(for: k.kernel, exhaustive: true).contains { $0?.floatSums == true })
            let float32Sum = k.kernel.reductions.contains { $0.op == .sum && k.kernel.instrs[$0.value].dtype == .float32 }
            #expect(floatSums.isEmpty == !(float32Sum && k.kernel.lanedReduction), "\(k.label)")
            for v in floatSums {
                // The variant's C sums in float lanes, widened every span.
                let source = CRenderer.render(k.kernel.with(variant: v))
                #expect(source.contains("tk_lanes_f32 F") && source.contains("& \(KernelVariant.floatSumSpan - 1)) == 0)"), "\(k.label)")
                var kernel = k.kernel
                if kernel.entries == .split { kernel.entries = .rows }
                let hi = kernel.parallelAxes == 0 ? 1 : Int(k.ints[0])
                let expected = KernelCheck.inputs(k, seed: 7), whole = KernelCheck.inputs(k, seed: 7), rows = KernelCheck.inputs(k, seed: 7)
                try InterpreterDevice().prepare(kernel).run(Launch(buffers: expected, ints: k.ints, floats: k.floats), lo: 0, hi: hi)
                let code = try Tandem.cpu.prepare(kernel.with(variant: v))
                code.run(Launch(buffers: whole, ints: k.ints, floats: k.floats), lo: 0, hi: hi)
                for r in 0..<hi { code.run(Launch(buffers: rows, ints: k.ints, floats: k.floats), lo: r, hi: r + 1) }
                for (i, spec) in kernel.buffers.enumerated() where spec.isWritten {
                    for e in 0..<expected[i].count {
                        let a = expected[i].literal(at: e).asDouble, b = whole[i].literal(at: e).asDouble, c = rows[i].literal(at: e).asDouble
                        #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "\(k.label) with \(v): element \(e) is \(b), the interpreter's \(a)")
                        #expect(b.bitPattern == c.bitPattern, "\(k.label) with \(v): row by row \(c), whole \(b)")
                    }
                }
                checked += 1
            }
        }
        #expect(checked >= 14, "\(checked) variant kernels checked")
        // A float32 sum over one long axis, split into chunks: every cut of the same chunks gives
        // the same bits, within tolerance of the interpreter's.
        let long = Tensor<Float>.uniform([100_003], seed: 8, in: -1...1)
        let split = try #require(try kernels { _ = try (long * long - 0.25).sum().item() }.first)
        #expect(split.kernel.entries == .split && split.splitChunks > 1, "\(split.kernel.entries) \(split.splitChunks)")
        let variant = try #require(KernelVariant.candidates(for: split.kernel, exhaustive: false, reorder: true).last.flatMap { $0 })
        #expect(variant.floatSums)
        func folded(_ device: any KernelDevice, _ kernel: Kernel) throws -> Double {
            let buffers = KernelCheck.inputs(split, seed: 3), launch = Launch(buffers: buffers, ints: split.ints, floats: split.floats)
            let code = try device.prepare(kernel), parts = split.splitChunks, n = Int(split.ints[0])
            let partials = UnsafeMutableRawPointer.allocate(byteCount: 16 * parts, alignment: 16)
            defer { partials.deallocate() }
            for c in 0..<parts { code.runSplit(launch, lo: n * c / parts, hi: n * (c + 1) / parts, partials: partials + 16 * c) }
            code.combine(launch, partials: partials, count: parts)
            let out = try #require(split.kernel.buffers.indices.last { split.kernel.buffers[$0].isWritten })
            return buffers[out].literal(at: 0).asDouble
        }
        let reference = try folded(InterpreterDevice(), split.kernel)
        let first = try folded(Tandem.cpu, split.kernel.with(variant: variant)), again = try folded(Tandem.cpu, split.kernel.with(variant: variant))
        #expect(abs(first - reference) <= 1e-5 * max(1, abs(reference)) && first.bitPattern == again.bitPattern, "\(first) \(again) \(reference)")
    }

    @Test("candidates: the rule first, then its neighbours (all of them when exhaustive); none for kernels without a choice")
    func candidates() throws {
        let x = Tensor<Double>.uniform([4, 100], seed: 3, in: -1...1)
        let sum = try #require(try kernels { _ = try (x * x).sum(axis: 1).scalars }.first)
        #expect(KernelVariant.candidates(for: sum.kernel, exhaustive: false) == [nil, KernelVariant(laneBlock: 16), KernelVariant(laneBlock: 64)])
        #expect(KernelVariant.candidates(for: sum.kernel, exhaustive: true).count == 4)
        // A short row compiled in, and a variant kernel itself, have no alternatives.
        let short = try #require(try kernels { _ = try Tensor<Double>.uniform([100, 4], seed: 3).sum(axis: 1).scalars }.first)
        #expect(KernelVariant.candidates(for: short.kernel, exhaustive: true).isEmpty)
        #expect(KernelVariant.candidates(for: sum.kernel.with(variant: KernelVariant(laneBlock: 8)), exhaustive: true).isEmpty)
        // Descriptions round-trip; anything else is refused.
        for v in [KernelVariant(), KernelVariant(laneBlock: 64), KernelVariant(interleave: 2)] {
            #expect(KernelVariant(description: v.description) == v)
        }
        #expect(KernelVariant(description: "laneBlock=12") == nil && KernelVariant(description: "unroll=2") == nil)
        // A variant is another kernel to the caches; the rules' keys are unchanged.
        #expect(sum.kernel.with(variant: KernelVariant(laneBlock: 16)).structureBytes != sum.kernel.structureBytes)
        #expect(sum.kernel.with(variant: nil).structureBytes == sum.kernel.structureBytes)
    }

    /// A laned sum kernel to tune in the unit tests below.
    func sumKernel() throws -> Kernel {
        let x = Tensor<Double>.uniform([4, 1000], seed: 9, in: -1...1)
        return try #require(try kernels { _ = try (x * 2).sum(axis: 1).scalars }.first).kernel
    }

    /// Runs `tuner` on `kernel` for `runs` runs, each taking `time(variant)` seconds; returns the
    /// compiles requested.
    @discardableResult
    func drive(_ tuner: Tuner, _ kernel: Kernel, runs: Int, compileSeconds: Double = 0, compiled: Bool = true,
               time: (KernelVariant?) -> Double) -> [KernelVariant?] {
        var requested: [KernelVariant?] = []
        for _ in 0..<runs {
            let (v, _, measure) = tuner.choose(kernel, points: 4000, placement: .cpuAll, label: "sum", compileSeconds: { compileSeconds },
                                               ready: { _ in compiled }, request: { requested.append($0.variant) })
            if measure { tuner.sample(kernel, points: 4000, placement: .cpuAll, variant: v, seconds: time(v)) }
        }
        return requested
    }

    @Test("the tuner measures the candidates side by side and keeps the fastest; within the margin, the rule")
    func choosesFastest() throws {
        let k = try sumKernel()
        let fast = Tuner(mode: .on, database: nil)
        drive(fast, k, runs: 30) { v in v == KernelVariant(laneBlock: 16) ? 0.8e-3 : v == nil ? 1e-3 : 1.1e-3 }
        #expect(fast.report.first?.chosen == .some(KernelVariant(laneBlock: 16)), "\(fast.report)")
        // Each candidate ran its three times (no more: the rule's runs while waiting are not kept).
        #expect(fast.report.first?.candidates.map(\.runs) == [3, 3, 3], "\(fast.report)")
        let close = Tuner(mode: .on, database: nil)
        drive(close, k, runs: 30) { v in v == nil ? 1e-3 : 0.99e-3 }
        #expect(close.report.first?.chosen == .some(nil), "\(close.report)")
        // Exhaustive: every variant, five runs each.
        let all = Tuner(mode: .exhaustive, database: nil)
        drive(all, k, runs: 60) { v in v == KernelVariant(laneBlock: 8) ? 0.5e-3 : 1e-3 }
        #expect(all.report.first?.chosen == .some(KernelVariant(laneBlock: 8)))
        #expect(all.report.first?.candidates.map(\.runs) == [5, 5, 5, 5], "\(all.report)")
    }

    @Test("kernels calling vector math (log: libmvec's vector form may round differently) have no variants; while a candidate compiles, nothing is measured")
    func vectorMathAndCompiling() throws {
        let x = Tensor<Double>.uniform([4, 1000], seed: 9, in: 0.5...2)
        let logSum = try #require(try kernels { _ = try x.log().sum(axis: 1).scalars }.first)
        #expect(logSum.kernel.usesVectorMath && KernelVariant.candidates(for: logSum.kernel, exhaustive: true).isEmpty)
        let logMap = try #require(try kernels { _ = try (x.log() * 2).scalars }.first)
        #expect(KernelVariant.candidates(for: logMap.kernel, exhaustive: true).isEmpty)
        // Tandem's own exp has the same bits in both forms: its kernels keep their variants.
        let expSum = try #require(try kernels { _ = try x.exp().sum(axis: 1).scalars }.first)
        #expect(KernelVariant.candidates(for: expSum.kernel, exhaustive: true).count == 4)
        let k = try sumKernel()
        let waiting = Tuner(mode: .exhaustive, database: nil)
        let requested = drive(waiting, k, runs: 40, compiled: false) { _ in 1e-3 }
        #expect(!requested.isEmpty && waiting.report.first?.chosen == nil)
        #expect(waiting.report.first!.candidates.dropFirst().allSatisfy { $0.runs == 0 }, "\(waiting.report)")
        // Runs never measured (a lagged pass's member): the trial gives up for the rules' code
        // instead of staying open. (Candidates that never become ready: after `stallNanos`.)
        let unmeasured = Tuner(mode: .exhaustive, database: nil)
        for _ in 0...Tuner.stallPlacements {
            _ = unmeasured.choose(k, points: 4000, placement: .cpuAll, label: "sum", compileSeconds: { 0 }, ready: { _ in true }, request: { _ in })
        }
        #expect(unmeasured.report.first?.chosen == .some(nil), "\(unmeasured.report)")
    }

    @Test("short kernels keep the rule with nothing compiled; under `on` a kernel is tuned only once its runs have paid for its candidates' compiles")
    func budget() throws {
        let k = try sumKernel()
        let short = Tuner(mode: .exhaustive, database: nil)
        let none = drive(short, k, runs: 10) { _ in 0.1e-3 }
        #expect(none.isEmpty && short.report.first?.chosen == .some(nil))
        // 2 ms runs, 0.1 s compiles, two candidates: tuning starts after 5 * 0.2 s of runs.
        let hot = Tuner(mode: .on, database: nil)
        #expect(drive(hot, k, runs: 400, compileSeconds: 0.1) { _ in 2e-3 }.isEmpty)
        #expect(!drive(hot, k, runs: 200, compileSeconds: 0.1) { _ in 2e-3 }.isEmpty)
        let off = Tuner(mode: .off, database: nil)
        #expect(off.mode == .off)
    }

    @Test("choices persist for the same machine and binary only; a corrupt database is ignored, said, and rewritten")
    func database() throws {
        let k = try sumKernel()
        let dir = TestScratch.path("tuning-db")
        mkdir(dir, 0o700)
        let path = dir + "/tuning.json"
        unlink(path)
        func db(_ machine: String = "m", _ binary: String = "b") -> TuningDatabase {
            TuningDatabase(path: path, machine: { machine }, tandem: { _ in binary })
        }
        let first = Tuner(mode: .on, database: db())
        drive(first, k, runs: 30) { v in v == KernelVariant(laneBlock: 64) ? 0.5e-3 : 1e-3 }
        #expect(first.database!.save())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let entries = try #require(object["kernels"] as? [[String: Any]])
        #expect(object["machine"] as? String == "m" && object["tandem"] as? String == "b" && entries.count == 1)
        #expect(entries.first?["chosen"] as? String == "laneBlock=64" && entries.first?["device"] as? String == "cpu", "\(object)")
        #expect((entries.first?["seconds"] as? [String: Double])?.count == 3, "\(object)")
        // A later process on the same machine and binary: the choice, nothing measured or
        // compiled but the chosen code.
        let later = Tuner(mode: .on, database: db())
        let requested = drive(later, k, runs: 5) { _ in 1e-3 }
        #expect(later.report.first?.chosen == .some(KernelVariant(laneBlock: 64)) && later.report.first?.fromDatabase == true)
        #expect(requested.isEmpty && later.report.first!.candidates.allSatisfy { $0.runs == 0 })
        // Another binary or machine measures again.
        for other in [db("m", "b2"), db("m2", "b")] {
            let fresh = Tuner(mode: .on, database: other)
            drive(fresh, k, runs: 3) { _ in 1e-3 }
            #expect(fresh.report.first?.fromDatabase == false)
        }
        // A corrupt file: ignored (measured again), rewritten whole at the next save.
        #expect(ProcessInfoLite.write(Array("{\"format\": 1, \"kernels\": [".utf8), to: path))
        let broken = Tuner(mode: .on, database: db())
        drive(broken, k, runs: 30) { v in v == KernelVariant(laneBlock: 16) ? 0.5e-3 : 1e-3 }
        #expect(broken.report.first?.fromDatabase == false && broken.report.first?.chosen == .some(KernelVariant(laneBlock: 16)))
        #expect(broken.database!.save())
        let again = Tuner(mode: .on, database: db())
        drive(again, k, runs: 1) { _ in 1e-3 }
        #expect(again.report.first?.chosen == .some(KernelVariant(laneBlock: 16)))
        // An exhaustive run's choice outside the default mode's candidates (`tandem tune`'s
        // default) is used by a later default-mode process all the same.
        let exhaustive = Tuner(mode: .exhaustive, database: db())
        drive(exhaustive, k, runs: 60) { v in v == KernelVariant(laneBlock: 8) ? 0.5e-3 : 1e-3 }
        #expect(exhaustive.report.first?.chosen == .some(KernelVariant(laneBlock: 8)), "\(exhaustive.report)")
        #expect(!KernelVariant.candidates(for: k, exhaustive: false).contains(KernelVariant(laneBlock: 8)))
        #expect(exhaustive.database!.save())
        let byDefault = Tuner(mode: .on, database: db())
        let none = drive(byDefault, k, runs: 3) { _ in 1e-3 }
        #expect(byDefault.report.first?.chosen == .some(KernelVariant(laneBlock: 8)) && byDefault.report.first?.fromDatabase == true, "\(byDefault.report)")
        #expect(none.isEmpty)
    }

    @Test("TANDEM_TUNE's words; a saved float-lanes choice is used only where reordered sums are allowed")
    func reorderChoices() throws {
        #expect(TuneMode.parse(nil) == (.on, false))
        #expect(TuneMode.parse("exhaustive") == (.exhaustive, false))
        #expect(TuneMode.parse("reorder") == (.on, true))
        #expect(TuneMode.parse("On, Reorder") == (.on, true))
        #expect(TuneMode.parse("exhaustive,reorder") == (.exhaustive, true))
        for bad in ["off,reorder", "on,exhaustive", "fast", ""] { #expect(TuneMode.parse(bad) == (.on, false), "\(bad)") }
        let x = Tensor<Float>.uniform([4, 1000], seed: 9, in: -1...1)
        let k = try #require(try kernels { _ = try (x * 2).sum(axis: 1).scalars }.first).kernel
        let dir = TestScratch.path("tuning-reorder")
        mkdir(dir, 0o700)
        let path = dir + "/tuning.json"
        unlink(path)
        func db() -> TuningDatabase { TuningDatabase(path: path, machine: { "m" }, tandem: { _ in "b" }) }
        let floatSums = KernelVariant(floatSums: true)
        let tuned = Tuner(mode: .exhaustive, reorder: true, database: db())
        drive(tuned, k, runs: 80) { v in v?.floatSums == true && v?.laneBlock == nil ? 0.5e-3 : 1e-3 }
        #expect(tuned.report.first?.chosen == .some(floatSums), "\(tuned.report)")
        #expect(tuned.database!.save())
        // Without reorder the choice is not taken: the kernel is measured among same-bits variants.
        let plain = Tuner(mode: .on, database: db())
        drive(plain, k, runs: 30) { _ in 1e-3 }
        #expect(plain.report.first?.fromDatabase == false && plain.report.first?.candidates.contains { $0.variant?.floatSums == true } == false, "\(plain.report)")
        let reordering = Tuner(mode: .on, reorder: true, database: db())
        drive(reordering, k, runs: 3) { _ in 1e-3 }
        #expect(reordering.report.first?.chosen == .some(floatSums) && reordering.report.first?.fromDatabase == true, "\(reordering.report)")
    }

    @Test("tandem tune measures a workload's variants, reports them, and a second run uses the database")
    func tuneCommand() throws {
        let dir = TestScratch.path("tune-cli")
        let (status, output) = try CLITests().run(["tune", "nbody", "n=2048", "steps=1", "--seconds", "300"], environment: ["TANDEM_CACHE_DIR=\(dir)", "TANDEM_DEVICE=cpu"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("sum(") && output.contains("laneBlock=16") && output.contains("(5 runs)"), "\(output)")
        #expect(!output.contains("still measuring"), "\(output)")
        #expect(access(dir + "/tuning.json", F_OK) == 0)
        let (again, second) = try CLITests().run(["tune", "nbody", "n=2048", "steps=1", "--runs", "5", "--mode", "on"], environment: ["TANDEM_CACHE_DIR=\(dir)", "TANDEM_DEVICE=cpu"])
        #expect(again == 0 && second.contains("(from the database)"), "\(second)")
        // A saved variant whose code an earlier process left in the cache runs from the first
        // step: the force kernel's choice set by hand to laneBlock=16 (compiled by the runs above).
        let path = dir + "/tuning.json"
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var kernels = try #require(object["kernels"] as? [[String: Any]])
        let force = try #require(kernels.firstIndex { ($0["size"] as? Int) == 22 }, "\(kernels)")
        kernels[force]["chosen"] = "laneBlock=16"
        object["kernels"] = kernels
        #expect(ProcessInfoLite.write(Array(try JSONSerialization.data(withJSONObject: object)), to: path))
        let (ran, third) = try CLITests().run(["run", "nbody", "n=2048", "steps=2"], environment: ["TANDEM_CACHE_DIR=\(dir)", "TANDEM_DEVICE=cpu", "TANDEM_PROFILE=1"])
        #expect(ran == 0 && third.contains("runs of tuned variants 2,"), "\(third)")
    }

    @Test("tandem tune-eval times each case under the rules, tuned and exhaustive, without the tuning database")
    func tuneEvalCommand() throws {
        let dir = TestScratch.path("tune-eval")
        let (status, output) = try CLITests().run(["tune-eval", "--size", "small", "--workloads", "sor,nbody", "--repeats", "2", "--seconds", "30", "--json"],
                                                  environment: ["TANDEM_CACHE_DIR=\(dir)"])
        #expect(status == 0, "\(output)")
        let json = try #require(output.firstIndex(of: "{").map { String(output[$0...]) })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(output)")
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.map { $0["workload"] as? String } == ["sor", "nbody"], "\(output)")
        for r in rows {
            for way in ["rules", "tuned", "exhaustive"] { #expect(((r[way] as? Double) ?? 0) > 0, "\(way): \(r)") }
            #expect(((r["tunedRuns"] as? Int) ?? 0) >= 2)
        }
        #expect(access(dir + "/tuning.json", F_OK) != 0, "tune-eval wrote the tuning database")
        let (bad, message) = try CLITests().run(["tune-eval", "--workloads", "nope"], environment: ["TANDEM_CACHE_DIR=\(dir)"])
        #expect(bad == 2 && message.contains("unknown workload 'nope'"), "\(message)")
    }
}
