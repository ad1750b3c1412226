#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

extension Trace {
    /// One self-contained HTML page (inline SVG, no scripts, no network): a timeline per device,
    /// where the time went (compute, copies, compile, planning, idle), predicted against measured
    /// kernel times, and the costliest kernels.
    ///
    ///     let (_, trace) = try Tandem.trace { try run() }
    ///     let html = trace.htmlReport(title: "sor n=2048")
    public func htmlReport(title: String, facts: [(String, String)] = []) -> String {
        let kernels = events.filter { $0.kind == .kernel && !TraceEvent.isAccelerator($0.device) }
        let gpuKernels = events.filter { $0.kind == .kernel && TraceEvent.isAccelerator($0.device) }
        let start = events.map(\.start).min() ?? origin
        let end = events.map { $0.start + $0.duration }.max() ?? start
        let wall = Double(max(end - start, 1))
        // A distributed run's merged trace has each rank's tracks; a plain run one set, rank nil.
        let ranks = Set(events.map(\.rank)).sorted { ($0 ?? -1) < ($1 ?? -1) }
        struct Worker: Hashable { var rank: Int?; var track: Int }
        let workers = Set(kernels.map { Worker(rank: $0.rank, track: $0.track) })
        // Where the time went, in worker-seconds.
        let busy = kernels.reduce(0.0) { $0 + Double($1.duration) }
        let compile = events.filter { $0.kind == .compile }.reduce(0.0) { $0 + Double($1.duration) }
        let plan = events.filter { $0.kind == .plan }.reduce(0.0) { $0 + Double($1.duration) }
        let copies = events.filter { $0.kind == .copy }.reduce(0.0) { $0 + Double($1.duration) }
        let communication = events.filter { $0.kind == .communication }.reduce(0.0) { $0 + Double($1.duration) }
        let idle = max(0, wall * Double(max(workers.count, 1)) - busy)

        var html = """
        <!DOCTYPE html>
        <html lang="en" xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="utf-8"/><title>\(escape(title))</title>
        <style>
        body { font: 14px/1.4 -apple-system, Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
        h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
        table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: left; border-bottom: 1px solid #eee; }
        .note { color: #666; }
        </style></head><body>
        <h1>Tandem report: \(escape(title))</h1>
        <table>
        """
        for (k, v) in facts { html += "<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>\n" }
        html += "<tr><th>wall time traced</th><td>\(ms(wall)) ms</td></tr>\n"
        html += "<tr><th>kernel chunks</th><td>\(kernels.count) on \(workers.count) workers" + (ranks.count > 1 ? " of \(ranks.count) ranks" : "") + "</td></tr>\n</table>\n"

        // Timeline: one row per worker (device CPU), one for the host's plans, compiles and syncs,
        // one for MPI calls; each rank's rows in turn.
        html += "<h2>Timeline</h2>\n"
        let width = 1000.0, rowH = 22.0, left = ranks.count > 1 ? 150.0 : 110.0
        var rows: [(String, [TraceEvent])] = []
        for rank in ranks {
            let label = rank.map { "rank \($0) " } ?? ""
            let mine = events.filter { $0.rank == rank }
            let myKernels = kernels.filter { $0.rank == rank }, myGPU = gpuKernels.filter { $0.rank == rank }
            rows.append((label + "host", mine.filter { [.plan, .compile, .sync].contains($0.kind) && $0.duration > 0 }))
            rows += Set(myKernels.map(\.track)).sorted().map { w in (label + "CPU worker \(w)", myKernels.filter { $0.track == w }) }
            if !myGPU.isEmpty { rows.append((label + "GPU (enqueues)", myGPU)) }
            if mine.contains(where: { $0.kind == .copy }) { rows.append((label + "copies", mine.filter { $0.kind == .copy })) }
            if mine.contains(where: { $0.kind == .communication }) { rows.append((label + "MPI", mine.filter { $0.kind == .communication })) }
        }
        let height = Double(rows.count) * rowH + 30
        html += "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 10))\" height=\"\(Int(height))\">\n"
        for (r, (name, row)) in rows.enumerated() {
            let y = Double(r) * rowH + 4
            html += "<text x=\"4\" y=\"\(y + 15)\" font-size=\"12\">\(escape(name))</text>\n"
            html += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(width)\" height=\"\(rowH - 4)\" fill=\"#f6f6f6\"/>\n"
            for e in row {
                let x = left + Double(e.start - start) / wall * width
                let w = max(0.5, Double(e.duration) / wall * width)
                html += "<rect x=\"\(f(x))\" y=\"\(y)\" width=\"\(f(w))\" height=\"\(rowH - 4)\" fill=\"\(color(e))\"><title>\(escape(e.name)) \(us(Double(e.duration))) µs \(escape(e.detail))</title></rect>\n"
            }
        }
        html += "<text x=\"\(left)\" y=\"\(height - 4)\" font-size=\"11\">0</text><text x=\"\(left + width - 60)\" y=\"\(height - 4)\" font-size=\"11\">\(ms(wall)) ms</text>\n</svg>\n"

        // Where the time went.
        html += "<h2>Where the time went (worker time)</h2>\n"
        let parts: [(String, Double, String)] = [("compute", busy, "#4e79a7"), ("copies", copies, "#f28e2b"),
                                                 ("compile", compile, "#e15759"), ("planning", plan, "#76b7b2"), ("idle", idle, "#bab0ac")]
            + (communication > 0 ? [("MPI calls", communication, "#b07aa1")] : [])
        let total = max(parts.reduce(0) { $0 + $1.1 }, 1)
        html += "<svg id=\"breakdown\" xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"\(parts.count * 26 + 10)\">\n"
        for (i, (name, value, c)) in parts.enumerated() {
            let y = Double(i) * 26 + 4
            html += "<text x=\"4\" y=\"\(y + 15)\" font-size=\"12\">\(name)</text>"
            html += "<rect x=\"90\" y=\"\(y)\" width=\"\(f(max(0.5, value / total * 540)))\" height=\"18\" fill=\"\(c)\"/>"
            html += "<text x=\"\(f(96 + value / total * 540))\" y=\"\(y + 14)\" font-size=\"12\">\(ms(value)) ms (\(Int((100 * value / total).rounded()))%)</text>\n"
        }
        html += "</svg>\n"

        // Predicted against measured kernel time.
        html += "<h2>Predicted against measured kernel time</h2>\n"
        let predicted = events.filter { $0.kind == .placement && $0.predicted != nil && $0.duration > 0 }
        html += "<svg id=\"scatter\" xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" height=\"420\">\n"
        html += "<rect x=\"50\" y=\"10\" width=\"350\" height=\"350\" fill=\"#fbfbfb\" stroke=\"#999\"/>"
        html += "<line x1=\"50\" y1=\"360\" x2=\"400\" y2=\"10\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>"
        html += "<text x=\"160\" y=\"395\" font-size=\"12\">measured (log)</text><text x=\"4\" y=\"190\" font-size=\"12\">predicted</text>\n"
        if predicted.isEmpty {
            html += "<text x=\"70\" y=\"190\" font-size=\"13\" fill=\"#666\">no predictions recorded: no cost model ran</text>\n"
        } else {
            let values = predicted.flatMap { [Double($0.duration) / 1e9, $0.predicted!] }.filter { $0 > 0 }
            let lo = log10(values.min() ?? 1e-6), hi = max(log10(values.max() ?? 1), lo + 1)
            func pos(_ v: Double) -> Double { (log10(max(v, 1e-12)) - lo) / (hi - lo) * 350 }
            for e in predicted {
                let fill = e.device == "interpreter" ? "#e15759" : (e.device == "cpu-1" ? "#59a14f" : "#4e79a7")
                html += "<circle cx=\"\(f(50 + pos(Double(e.duration) / 1e9)))\" cy=\"\(f(360 - pos(e.predicted!)))\" r=\"3\" fill=\"\(fill)\" fill-opacity=\"0.6\"><title>\(escape(e.name)) on \(escape(e.device)): predicted \(us(e.predicted! * 1e9)) µs, measured \(us(Double(e.duration))) µs; \(escape(e.detail))</title></circle>\n"
            }
            let errors = predicted.map { Swift.abs($0.predicted! - Double($0.duration) / 1e9) }
            html += "<text x=\"60\" y=\"30\" font-size=\"12\">\(predicted.count) kernels; mean |error| \(us(errors.reduce(0, +) / Double(errors.count) * 1e9)) µs</text>\n"
            html += "<text x=\"60\" y=\"46\" font-size=\"11\" fill=\"#4e79a7\">● cpu</text><text x=\"110\" y=\"46\" font-size=\"11\" fill=\"#59a14f\">● cpu-1</text><text x=\"170\" y=\"46\" font-size=\"11\" fill=\"#e15759\">● interpreter</text>\n"
        }
        html += "</svg>\n"

        // Costliest kernels.
        var byName: [String: (Int, Double)] = [:]
        for k in kernels { let o = byName[k.name] ?? (0, 0); byName[k.name] = (o.0 + 1, o.1 + Double(k.duration)) }
        html += "<h2>Kernels by time</h2>\n<table><tr><th>kernel (fused ops)</th><th>chunks</th><th>worker ms</th></tr>\n"
        for (name, (n, t)) in byName.sorted(by: { $0.value.1 > $1.value.1 }).prefix(15) {
            html += "<tr><td>\(escape(name))</td><td>\(n)</td><td>\(ms(t))</td></tr>\n"
        }
        html += "</table>\n<p class=\"note\">Generated by Tandem from \(events.count) trace events.</p>\n</body></html>\n"
        return html
    }

    private func escape(_ s: String) -> String {
        var r = ""
        for c in s {
            switch c {
            case "<": r += "&lt;"
            case ">": r += "&gt;"
            case "&": r += "&amp;"
            case "\"": r += "&quot;"
            default: r.append(c)
            }
        }
        return r
    }

    private func f(_ x: Double) -> String { "\((x * 10).rounded() / 10)" }
    private func ms(_ nanos: Double) -> String { "\((nanos / 1e4).rounded() / 100)" }
    private func us(_ nanos: Double) -> String { "\((nanos / 10).rounded() / 100)" }

    private func color(_ e: TraceEvent) -> String {
        switch e.kind {
        case .compile: return "#e15759"
        case .plan: return "#76b7b2"
        case .sync: return "#59a14f"
        case .copy: return "#f28e2b"
        case .communication: return e.detail == "wait" ? "#bab0ac" : "#b07aa1"
        default:
            let palette = ["#4e79a7", "#9c755f", "#edc948", "#b07aa1", "#ff9da7", "#86bcb6", "#8cd17d", "#499894"]
            var h: UInt32 = 2166136261
            for b in e.name.utf8 { h = (h ^ UInt32(b)) &* 16777619 }
            return palette[Int(h % UInt32(palette.count))]
        }
    }
}
