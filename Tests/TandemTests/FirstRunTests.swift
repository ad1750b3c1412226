import Testing
@testable import Tandem
import TandemModel
import TandemRuntime
import _TandemTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The first run on a machine without a profile (issue 14, point 4): kernels are placed with
/// built-in estimates at once, and the calibration runs on the side, trusted only when two
/// measurements agree.
@Suite("First run", .planned)
struct FirstRunTests {
    static let id = MachineIdentity(host: "test", cpuModel: "test", workers: 2, compiler: "clang", gpu: nil)

    @Test("the built-in estimates are complete: every rate the model uses is positive and finite")
    func builtInIsComplete() {
        let p = MachineProfile.builtIn(identity: Self.id)
        let c = p.cpu
        for v in [c.bandwidthOneThread, c.bandwidthAllThreads, c.launchSeconds, c.chunkSeconds, c.compileSeconds, c.loadSeconds,
                  c.interpreterSecondsPerInstruction, c.callSeconds, c.interpreterCallSeconds, c.accessSeconds] {
            #expect(v > 0 && v.isFinite)
        }
        for costs in [c.f32, c.f64] {
            for v in [costs.simple, costs.divide, costs.sqrt, costs.transcendental, costs.erf, costs.pow, costs.random] {
                #expect(v > 0 && v.isFinite)
            }
        }
        #expect(p.version == MachineProfile.currentVersion && p.calibrationSeconds == 0)
    }

    @Test("two measurements that disagree are flagged as disturbed")
    func spread() {
        let a = MachineProfile.builtIn(identity: Self.id)
        #expect(MachineProfile.spread(a, a) == 1)
        var b = a
        b.cpu.bandwidthAllThreads /= 2.5          // another process streamed memory meanwhile
        #expect(MachineProfile.spread(a, b) == 2.5)
        #expect(MachineProfile.spread(a, b) > Calibration.maxSpread)
        var c = a
        c.cpu.f64.simple *= 1.1
        #expect(MachineProfile.spread(a, c) <= Calibration.maxSpread)
    }

    @Test("a calibration finishing on the side does not undo a profile set meanwhile")
    func sideCalibrationDoesNotOverride() {
        let runtime = Runtime(devices: [], statistics: StatisticsBox()) { MachineProfile.builtIn(identity: Self.id) }
        let estimates = runtime.costModel.profile
        var set = estimates
        set.cpu.launchSeconds = 1e-3
        runtime.setProfile(set)
        var measured = estimates
        measured.cpu.launchSeconds = 5e-5
        #expect(!runtime.replaceProfile(estimates, with: measured))
        #expect(runtime.costModel.profile == set)
        runtime.rateCorrections.withLock { $0.learn(.interpreter, predicted: 1e-3, measured: 4e-3) }
        #expect(runtime.replaceProfile(set, with: measured))
        #expect(runtime.costModel.profile == measured)
        // Corrections learned against the replaced rates are dropped with them.
        #expect(runtime.rateCorrections.withLock { $0 } == RateCorrections())
    }

    @Test("without a profile, a run starts at once on the estimates and says so once")
    func firstRunSaysSo() throws {
        let dir = TestScratch.path("first-run-cache")
        let (status, output) = try CLITests().run(["run", "sor", "n=32", "max_iterations=3"], environment: ["TANDEM_CACHE_DIR=\(dir)"])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").filter { $0.contains("built-in estimates") }
        #expect(lines.count == 1, "\(output)")
    }

    @Test("a run that ends before its calibration hands it on: a copy of the program measures the machine after it, and the next run finds the profile")
    func calibrationHandedOnAtExit() throws {
        let dir = TestScratch.path("hand-off-cache")
        let env = ["TANDEM_CACHE_DIR=\(dir)", "TANDEM_CALIBRATE_AFTER_EXIT=1"]
        let (status, output) = try CLITests().run(["run", "sor", "n=32", "max_iterations=3"], environment: env)
        #expect(status == 0, "\(output)")
        #expect(output.contains("built-in estimates"), "\(output)")
        // The copy runs detached at the lowest priority; it removes its marker when done.
        func entries() -> [String] {
            guard let d = opendir(dir) else { return [] }
            defer { closedir(d) }
            var names: [String] = []
            while let e = readdir(d) {
                names.append(withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
            }
            return names
        }
        var done = false
        for _ in 0..<1200 where !done {       // up to 5 minutes on a loaded machine
            let names = entries()
            done = names.contains { $0.hasPrefix("machine-profile") } && !names.contains(".calibrating")
            if !done { usleep(250_000) }
        }
        #expect(done, "no profile measured after the run: \(entries())")
        #expect(!entries().contains { $0.hasPrefix(".calibrate-") }, "the one-time ticket is used up: \(entries())")
        let (again, second) = try CLITests().run(["run", "sor", "n=32", "max_iterations=3"], environment: env)
        #expect(again == 0 && !second.contains("built-in estimates"), "\(second)")
    }

    @Test("only a token of the tickets' form can name a ticket")
    func ticketTokens() {
        // (The child entry itself is exercised by the hand-off test in a separate process: it
        // changes the environment, which a test must not do while others start processes.)
        #expect(Calibration.isTicketToken(String(repeating: "0a", count: 16)))
        for bad in ["", "x", String(repeating: "0A", count: 16), String(repeating: "ab", count: 15), "../" + String(repeating: "a", count: 29),
                    String(repeating: "ab", count: 17)] {
            #expect(!Calibration.isTicketToken(bad), "\(bad)")
        }
    }
}
