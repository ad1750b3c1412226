#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemRuntime
import TandemCPU
import TandemInterpreter
import _TandemTestShims

@Suite("Introspection", .planned, .serialized)
struct IntrospectionTests {
    @Test("the trace is valid Chrome JSON with the kernels, compiles, plan and sync of a known program")
    func traceOfKnownProgram() throws {
        let x = Tensor<Double>.uniform([1 << 21], seed: 77, in: -1...1)
        // On compiled code, so that a compile (or a cache hit, also a compile event) and the
        // workers' tracks are there whatever the cost model would pick on this machine (under
        // auto a first-seen kernel this small stays in the interpreter on a fast machine). Large
        // enough for the workers under any profile: 50,000 elements ran inline on the caller once
        // the profile's launch was measured with the caller asleep (37 µs here).
        let (total, trace) = try Tandem.withDevice(.cpu) { try Tandem.trace { try (x * x + 3).sum().item() } }
        #expect(total > 6_500_000)
        let json = try JSONSerialization.jsonObject(with: Data(trace.chromeJSON().utf8)) as? [String: Any]
        let events = try #require(json?["traceEvents"] as? [[String: Any]])
        let kernels = events.filter { $0["cat"] as? String == "kernel" }
        #expect(kernels.contains { ($0["name"] as? String)?.hasPrefix("sum(") == true && ($0["pid"] as? Int) == 2 })
        #expect(events.contains { $0["cat"] as? String == "plan" })
        #expect(events.contains { $0["cat"] as? String == "compile" })
        // The sync names the reading call and this file's line.
        #expect(events.contains { ($0["name"] as? String)?.contains("item() at TandemTests/IntrospectionTests.swift:") == true })
        for e in kernels { #expect(e["dur"] != nil && e["ts"] != nil && e["tid"] != nil) }
        // One track per worker, named. A waiting caller runs chunks itself, so under the whole
        // suite's load (other suites' tasks on the same workers) it can run every chunk of a
        // sync alone: the program is traced again until a worker has run one (it failed once in
        // a clean-clone CI run that way, with every other expectation met).
        func workerNamed(_ events: [[String: Any]]) -> Bool {
            events.contains { $0["ph"] as? String == "M" && (($0["args"] as? [String: Any])?["name"] as? String)?.hasPrefix("worker") == true }
        }
        var named = workerNamed(events), tries = 1
        while !named && tries < 50 {
            let (_, again) = try Tandem.withDevice(.cpu) { try Tandem.trace { try (x * x + 3).sum().item() } }
            let more = try JSONSerialization.jsonObject(with: Data(again.chromeJSON().utf8)) as? [String: Any]
            named = workerNamed(try #require(more?["traceEvents"] as? [[String: Any]]))
            tries += 1
        }
        #expect(named, "no worker ran a chunk in \(tries) traces")
    }

    @Test("DOT of a small graph and its plan")
    func dotGolden() {
        let a = Tensor<Double>([1, 2, 3]), b = Tensor<Double>([4, 5, 6])
        #expect(Tandem.graphviz(((a + b) * 2).sum()) == """
        digraph tandem {
          rankdir=BT;
          node [fontname="Helvetica", fontsize=10];
          subgraph cluster_k0 {
            label="kernel 0: sum(mul,add)";
            style=rounded;
            n0 [shape=doubleoctagon, label="sum axes [0] () float64"];
            n1 [shape=ellipse, label="mul (3,) float64"];
            n2 [shape=ellipse, label="add (3,) float64"];
            n5 [shape=ellipse, label="fill 2.0 (3,) float64"];
          }
          n3 [shape=box, style=filled, fillcolor="#dddddd", label="buffer (3,) float64"];
          n4 [shape=box, style=filled, fillcolor="#dddddd", label="buffer (3,) float64"];
          n1 -> n0;
          n2 -> n1;
          n5 -> n1;
          n3 -> n2;
          n4 -> n2;
        }

        """)
    }

    @Test("counters match a program whose kernels are known")
    func countersMatch() throws {
        let stats = StatisticsBox()
        let dir = TestScratch.path("counters")
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: dir))
        let runtime = Runtime(devices: [cpu, InterpreterDevice()], statistics: stats, workers: 2, profile: { SyntheticProfiles.cpu() })
        // Each kernel alone (not merged into a sequence kernel), so that they can be counted.
        runtime.formsSequences = false
        func program() -> Tensor<Double> {
            let x = Tensor<Double>([1, 2, 3, 4])
            var y = x * 2 + 1                  // a map kernel (y is needed whole by the update)...
            y[0] = Tensor(0.0)                 // ...an update...
            return (y * y).sum()               // ...and a reduction
        }
        // Forced onto compiled C: under auto such tiny kernels stay in the interpreter.
        let first = try Tandem.withDevice(.cpu) { try runtime.read(program().node) }
        let firstValue: Double = first.pointer.load(as: Double.self)
        #expect(firstValue == 0 + 25 + 49 + 81)
        let s = stats.snapshot
        #expect(s.syncs == 1 && s.plans == 1)
        #expect(s.kernelsRun >= 2)
        #expect(s.kernelsByDevice["cpu"] == s.kernelsRun)
        #expect(s.compileMisses == s.kernelsRun)        // a fresh cache: each kernel compiled once
        #expect(s.opsFused >= 3)                        // mul, add (map) and mul (reduction) at least
        #expect(s.fallbacks == 0)
        _ = try Tandem.withDevice(.cpu) { try runtime.read(program().node) }
        let t = stats.snapshot
        #expect(t.syncs == 2 && t.plans == 2 && t.kernelsRun == 2 * s.kernelsRun)
        #expect(t.compileMisses == s.compileMisses)     // the same program again compiles nothing
        #expect(t.compileMemoryHits == s.kernelsRun)
    }

    @Test("recording with tracing off allocates nothing (malloc calls counted in a separate process)")
    func tracingOffAllocatesNothing() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            func burst() {
                for i in 0..<10_000 {
                    Tracer.shared.record(TraceEvent(kind: .kernel, name: "k\(i)", start: UInt64(i), detail: String(repeating: "x", count: 64)))
                }
            }
            _ = Tracer.shared.isEnabled      // the tracer's one-time initialisation is not per event
            let before = tandem_test_malloc_count()
            burst()
            let off = tandem_test_malloc_count() - before
            Tracer.shared.start()
            let before2 = tandem_test_malloc_count()
            burst()
            let on = tandem_test_malloc_count() - before2
            Tracer.shared.stop()
            ProcessInfoLite.warn("malloc calls: off=\(off) on=\(on)")
        }
        let text = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        try #require(numbers.count >= 2, "\(text)")
        let (off, on) = (numbers[numbers.count - 2], numbers[numbers.count - 1])
        #expect(off == 0, "tracing off: \(off) mallocs for 10,000 events")
        #expect(on >= 10_000, "the counter sees the events built with tracing on: \(on)")
    }
}

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Part of the serialized introspection suite: the tracer is process-wide, and tracing tests
/// running side by side would clear each other's events.
extension IntrospectionTests {
    /// Collects element ids while parsing, and whether the document is well formed.
    final class Collector: NSObject, XMLParserDelegate {
        var ids: [String: String] = [:]
        var rects = 0
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if let id = attributes["id"] { ids[id] = name }
            if name == "rect" { rects += 1 }
        }
    }

    @Test("the HTML report parses and contains its timeline, breakdown and scatter charts")
    func reportParses() throws {
        let x = Tensor<Double>.uniform([20_000], seed: 5, in: 0...1)
        let (_, trace) = try Tandem.trace { try (x.sqrt() * 2).sum().item() }
        let html = trace.htmlReport(title: "test <&> report", facts: [("kernels", "1")])
        let parser = XMLParser(data: Data(html.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "not well formed: \(String(describing: parser.parserError))")
        #expect(collector.ids["timeline"] == "svg")
        #expect(collector.ids["breakdown"] == "svg")
        #expect(collector.ids["scatter"] == "svg")
        #expect(collector.rects > 5)
        #expect(html.contains("test &lt;&amp;&gt; report"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org"))
    }
}
