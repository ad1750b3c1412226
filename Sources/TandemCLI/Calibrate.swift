import ArgumentParser
import Tandem
import TandemRuntime

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine for the cost model and save the profile in the cache folder.",
        discussion: """
        Measures memory bandwidth (one thread and all workers), the per-element cost of each \
        operation class in f32 and f64, the worker pool's launch and per-chunk costs, the \
        interpreter's rate and the C compiler's compile and load times, with kernels Tandem \
        generates itself. The profile is written as JSON to the cache folder \
        (TANDEM_CACHE_DIR or ~/.cache/tandem) and used by every later run on this machine.
        """)

    @Flag(help: "The quick calibration a first run makes by itself (smaller sizes, fewer repeats).") var quick = false
    @Flag(help: "Print the profile as JSON instead of a summary.") var json = false

    func run() throws {
        let profile = try Calibration.measure(quick: quick)
        try Calibration.save(profile)
        Tandem.runtime.setProfile(profile)
        if json {
            print(String(decoding: ProcessInfoLite.contents(of: Calibration.profilePath) ?? [], as: UTF8.self))
            return
        }
        let c = profile.cpu
        func gb(_ x: Double) -> String { "\(format2(x / 1e9)) GB/s" }
        func ns(_ x: Double) -> String { "\(format3(x * 1e9)) ns" }
        print("machine: \(profile.identity.cpuModel) on \(profile.identity.host), \(profile.identity.workers) workers")
        print("compiler: \(profile.identity.compiler)")
        print("memory bandwidth: one thread \(gb(c.bandwidthOneThread)), all workers \(gb(c.bandwidthAllThreads))")
        for l in c.cacheBandwidth {
            print("  \(l.name) (\(l.maxBytes >> 10) KiB): one thread \(gb(l.oneThread)), all workers \(gb(l.allThreads))")
        }
        print("per element per operation (one thread, data in cache):")
        for cls in OpClassKey.allCases {
            print("  \(cls.rawValue.padding(14)) f32 \(ns(c.f32[cls]).padding(10)) f64 \(ns(c.f64[cls]))")
        }
        print("per point: \(ns(c.accessSeconds)) per load or store, \(ns(c.loopSeconds)) per inner loop; first touch \(format3(c.firstTouchSecondsPerByte * 1e12)) ns per KB")
        print("worker pool: launch \(CostModel.format(c.launchSeconds)), each further chunk \(CostModel.format(c.chunkSeconds))")
        print("interpreter: \(ns(c.interpreterSecondsPerInstruction)) per instruction per point, \(ns(c.interpreterAccessSeconds)) more per load; more per op: "
              + OpClassKey.allCases.filter { $0 != .simple }.map { "\($0.rawValue) \(ns(c.interpreterOps[$0]))" }.joined(separator: ", "))
        print("C compiler: compile \(CostModel.format(c.compileSeconds)), load \(CostModel.format(c.loadSeconds))")
        func accelerator(_ label: String, _ g: GPUProfile?, none: String) {
            guard let g else { return print("\(label): \(none)") }
            print("\(label): \(g.name): bandwidth \(gb(g.bandwidth)), launch \(CostModel.format(g.launchSeconds)), compile \(CostModel.format(g.compileSeconds)), "
                  + "load \(CostModel.format(g.loadSeconds)); to the device \(gb(g.hostToDevice.pinnedBandwidth)) (large), back \(gb(g.deviceToHost.pinnedBandwidth)); "
                  + "first touch \(g.firstTouchSecondsPerByte.map { "\(format3($0 * 1e12)) ns per KB" } ?? "not measured")")
            print("  per element f64: " + OpClassKey.allCases.map { "\($0.rawValue) \(ns(g.f64[$0]))" }.joined(separator: ", "))
            if g.sharesHostCores == true { print("  runs on this machine's own cores: `auto` does not offer it (forced placements still run there)") }
        }
        accelerator("gpu", profile.gpu, none: "none measured (no usable CUDA device)")
        accelerator("opencl", profile.openCL, none: profile.quick ? "not measured (only a full `tandem calibrate` measures it)" : "none measured (no usable OpenCL device)")
        print("calibration took \(format2(profile.calibrationSeconds)) s; saved to \(Calibration.profilePath)")
    }
}

extension String {
    /// Left-aligned in a field of `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
