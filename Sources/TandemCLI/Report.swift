import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemRuntime
import TandemWorkloads

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a workload (or read a trace) and write one self-contained HTML report.",
        discussion: "Examples: tandem report sor n=512 --output sor.html; tandem report --trace run.json --output run.html")

    @Argument(help: "The workload, then name=value parameters.") var arguments: [String] = []
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Option(help: "Read this Chrome trace (from TANDEM_TRACE) instead of running a workload; given once per rank (run.rank0.json, run.rank1.json, ...), the ranks' traces are merged into one timeline.") var trace: [String] = []
    @Option(help: "Where to write the HTML.") var output: String
    @Option(help: "Also write the trace JSON here.") var traceOutput: String?

    func run() throws {
        let recorded: Trace
        var facts: [(String, String)] = []
        let title: String
        if !trace.isEmpty {
            let traces = try trace.map { path in
                guard let bytes = ProcessInfoLite.contents(of: path) else { throw CLIFailure("cannot read the trace \(path): \(ProcessInfoLite.errnoDescription())") }
                return try ChromeTrace.decode(bytes)
            }
            if traces.count == 1 {
                recorded = traces[0]
            } else {
                let (merged, aligned) = Trace.merged(traces)
                recorded = merged
                facts.append(("ranks", "\(traces.count) traces merged; " + (aligned == traces.count
                    ? "aligned on the end of each one's first collective MPI call"
                    : "\(traces.count - aligned) had no collective MPI call to align on and keep their own clocks")))
            }
            title = trace.joined(separator: ", ")
        } else {
            let (w, params) = try withUsageErrors { () -> (Workload, [String: Double]) in
                guard let name = arguments.first else { throw UsageError(description: "name a workload or pass --trace FILE") }
                let w = try namedWorkload(name)
                return (w, try parseParameters(Array(arguments.dropFirst()), for: w))
            }
            Tandem.resetStatistics()
            let splitsBefore = Tandem.runtime.splitRecords.count
            let (outputs, t) = try Tandem.trace { try w.run(params, dtype: dtype.dtype) }
            recorded = t
            title = "\(w.name) " + params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")
            let s = Tandem.statistics
            facts = [("dtype", "\(dtype.dtype)"),
                     ("outputs", outputs.sorted { $0.key < $1.key }.map { "\($0.key) = \(JSON.number($0.value))" }.joined(separator: ", ")),
                     ("kernels", "\(s.kernelsRun) (ops fused \(s.opsFused))"),
                     ("compiles", "\(s.compileMisses) (memory hits \(s.compileMemoryHits), disk hits \(s.compileDiskHits))"),
                     ("updates", "in place \(s.inPlaceUpdates), fresh \(s.freshUpdates), copied \(s.copiedUpdates)"),
                     ("placed", s.kernelsByDevice.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                        + (s.forcedPlacements > 0 ? " (forced)" : " (auto)")),
                     ("cost model", "kernel time predicted \(CostModel.format(Double(s.predictedNanos) / 1e9)), measured \(CostModel.format(Double(s.measuredNanos) / 1e9)), mean |error| \(CostModel.format(s.meanAbsPredictionError)) per kernel"),
                     ("copies", "to the GPU \(s.bytesToDevice) B, to the host \(s.bytesToHost) B"),
                     ("machine", "\(Machine.current.cpu), \(Machine.current.cores) cores")]
            if s.splitKernels + s.unsplitKernels > 0 {
                facts.append(("split", "\(s.splitKernels) kernels split, \(s.unsplitKernels) run whole on cpu (TANDEM_DEVICE=split)"))
                facts += Report.splitFacts(Array(Tandem.runtime.splitRecords.dropFirst(splitsBefore)))
            }
        }
        if let traceOutput { try recorded.write(to: traceOutput) }
        guard ProcessInfoLite.write(Array(recorded.htmlReport(title: title, facts: facts).utf8), to: output) else {
            throw CLIFailure("cannot write the report \(output): \(ProcessInfoLite.errnoDescription())")
        }
        print("report written to \(output)")
    }
}

extension Report {
    /// One line a split kernel (the eight that ran longest on the host): runs, the host's mean
    /// share of the rows, and the last run's predicted and measured parts.
    static func splitFacts(_ records: [SplitRecord]) -> [(String, String)] {
        var byLabel: [String: [SplitRecord]] = [:]
        for r in records { byLabel[r.label, default: []].append(r) }
        let ranked = byLabel.sorted { a, b in
            a.value.reduce(0) { $0 + ($1.hostSeconds ?? 0) } > b.value.reduce(0) { $0 + ($1.hostSeconds ?? 0) }
        }
        return ranked.prefix(8).map { label, runs in
            let share = runs.reduce(0) { $0 + $1.hostShare } / Double(runs.count)
            return ("split: \(label)", "\(runs.count) runs, host \(Int((share * 100).rounded())) % of the rows on average; last: \(runs.last!)")
        }
    }
}

/// Reads the Chrome trace JSON that `Trace.chromeJSON()` writes back into events.
enum ChromeTrace {
    struct File: Decodable { var traceEvents: [Event] }
    struct Event: Decodable {
        var name: String?
        var cat: String?
        var ph: String
        var ts: Double?
        var dur: Double?
        var tid: Int?
        var args: Args?
    }
    struct Args: Decodable {
        var bytes: Int?
        var points: Int?
        var device: String?
        var detail: String?
        var predicted_us: Double?
        var rank: Int?
    }

    static func decode(_ bytes: [UInt8]) throws -> Trace {
        let file = try JSONDecoder().decode(File.self, from: Data(bytes))
        let events: [TraceEvent] = file.traceEvents.compactMap { e in
            guard e.ph != "M", let cat = e.cat, let kind = TraceEvent.Kind(rawValue: cat) else { return nil }
            return TraceEvent(kind: kind, name: e.name ?? cat, start: UInt64((e.ts ?? 0) * 1000), duration: UInt64((e.dur ?? 0) * 1000),
                              track: kind == .kernel ? (e.tid ?? 0) : -1, bytes: e.args?.bytes ?? 0, points: e.args?.points ?? 0,
                              device: e.args?.device ?? "", detail: e.args?.detail ?? "", predicted: e.args?.predicted_us.map { $0 / 1e6 },
                              rank: e.args?.rank)
        }
        return Trace(events: events, origin: 0)
    }
}
