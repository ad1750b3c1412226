import Foundation
import Testing
import _TandemTestSupport
import Tandem
import TandemIR
import TandemModel
import TandemCompiler
@testable import TandemRuntime
import TandemInterpreter

/// Kernels' measured factors across processes (issue 14, point 2: predictions use the history).
@Suite("Kernel factors across processes", .planned)
struct KernelFactorStoreTests {
    static func scratch(_ name: String) throws -> String {
        let dir = TestScratch.path("\(name)-\(UInt32.random(in: 0...UInt32.max))")
        try VerifiedFileCache.ensurePrivateDirectory(dir)
        return dir
    }

    @Test("a kernel's first run is kept when it stays its only one; a learned factor when there is one; seeded, the next run learns")
    func firstRunsAndSeeds() {
        let k = CostModelTests.axpb
        var f = KernelFactors()
        f.learn(k, .interpreter, predicted: 1e-3, measured: 8e-3)
        #expect(f.factors(k).isEmpty, "a first run sets no factor here")
        #expect(abs((f.persistable()[k]?[.interpreter] ?? 0) - 8) < 1e-9, "but is kept for the next process")
        f.learn(k, .interpreter, predicted: 1e-3, measured: 2e-3)
        #expect(abs((f.persistable()[k]?[.interpreter] ?? 0) - 2) < 1e-9, "a learned factor wins over the first run")
        var g = KernelFactors()
        g.seed(k, [.cpu1: 4])
        #expect(abs((g.factors(k)[.cpu1] ?? 0) - 4) < 1e-9)
        g.learn(k, .cpu1, predicted: 1e-3, measured: 1e-3)
        #expect(abs((g.factors(k)[.cpu1] ?? 0) - 2) < 1e-9, "half way (in log) from 4 to 1")
    }

    @Test("the file: written privately, read back, merged with another process's, malformed lines and links ignored")
    func file() throws {
        let dir = try Self.scratch("kernel-factors")
        let path = dir + "/kernel-factors"
        let a = CostModelTests.axpb
        var b = a
        b.instrs[1] = Instr(.literal(.float(3)), .float64)
        let first = KernelFactorStore(path: path)
        let ka = KernelHistory.key(a), kb = KernelHistory.key(b)
        first.keep(key: ka, [.interpreter: 6, .cpu1: 0.5, .cuda: 3])
        #expect(first.save())
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let second = KernelFactorStore(path: path)
        let got = second.factors(key: ka)
        #expect(got.count == 2 && abs(got[.interpreter]! - 6) < 1e-4 && abs(got[.cpu1]! - 0.5) < 1e-5, "\(got)")
        second.keep(key: kb, [.cpuAll: 1e9])                       // clamped to the limit
        #expect(second.save())
        let third = KernelFactorStore(path: path)
        #expect(abs(third.factors(key: kb)[.cpuAll]! - KernelFactors.limit) < 1e-3)
        #expect(third.factors(key: ka).count == 2, "the first process's kept")
        // Damage: junk lines are skipped, the good ones still read.
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = "junk\n" + text + "zz 1 2\n\(KernelHistory.key(a)) nowhere 1.0\n\(KernelHistory.key(a)) cpu-1 nan\n"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(KernelFactorStore(path: path).factors(key: ka).count == 2)
        // Many kernels: each found by searching the sorted file, a missing one not.
        let many = KernelFactorStore(path: dir + "/many")
        let keys = (0..<3000).map { i -> String in
            var k = a
            k.instrs[1] = Instr(.literal(.float(Double(i) + 0.5)), .float64)
            return KernelHistory.key(k)
        }
        for (i, k) in keys.enumerated() { many.keep(key: k, [.cpu1: Double(i % 7 + 1), .interpreter: 2]) }
        #expect(many.save())
        let reread = KernelFactorStore(path: dir + "/many")
        for i in [0, 1, 1499, 2998, 2999] {
            let f = reread.factors(key: keys[i])
            #expect(f.count == 2 && abs(f[.cpu1]! - Double(i % 7 + 1)) < 1e-5 && abs(f[.interpreter]! - 2) < 1e-5, "\(i): \(f)")
        }
        #expect(reread.factors(key: ka).isEmpty && reread.factors(key: String(repeating: "f", count: 64)).isEmpty)
        // A link is not followed.
        let link = dir + "/linked"
        #expect(symlink(path, link) == 0)
        #expect(KernelFactorStore(path: link).factors(key: ka).isEmpty)
    }

    @Test("the next process places a kernel run once a program by what its run measured, not the profile alone")
    func nextProcessDecidesWithIt() throws {
        let dir = try Self.scratch("kernel-factors-runtime")
        func runtime() -> Runtime {
            let r = Runtime(devices: [InterpreterDevice()], statistics: StatisticsBox(), workers: 2, profile: { SyntheticProfiles.cpu() })
            r.kernelHistory = KernelHistory(path: dir + "/kernel-history")
            r.kernelFactorStore = KernelFactorStore(path: dir + "/kernel-factors")
            return r
        }
        let x = Tensor<Double>.uniform([4096], seed: 3)
        try x.flush()
        let k = try #require(Planner().plan(roots: [(x * 2 + 1).node]).kernels.first)
        let first = runtime()
        let model = first.costModel
        let predicted = first.decide(k, options: [.interpreter], forced: false, model: model).chosen.compute
        // Its one run took 8x its prediction.
        first.kernelFactors.withLock { $0.learn(k.kernel, .interpreter, predicted: predicted, measured: 8 * predicted) }
        #expect(first.saveKernelHistory())
        let second = runtime()
        let again = second.decide(k, options: [.interpreter], forced: false, model: second.costModel).chosen.compute
        #expect(abs(again / predicted - 8) < 0.01, "predicted \(predicted) s, then \(again) s")
    }
}
