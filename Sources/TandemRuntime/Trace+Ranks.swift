/// The traces of a distributed run's ranks: one file per rank (`TANDEM_TRACE=run.json` under
/// `mpirun` writes `run.rank0.json`, `run.rank1.json`, ...), and one timeline of them all.
extension Trace {
    /// This trace with every event marked as `rank`'s (what a rank writes at exit).
    ///
    ///     let mine = Tracer.shared.snapshot().forRank(1)
    public func forRank(_ rank: Int) -> Trace {
        Trace(events: events.map { var e = $0; e.rank = rank; return e }, origin: origin)
    }

    /// The MPI calls every rank leaves together: a barrier, an all-reduce or an all-gather ends
    /// on every rank once the last one has arrived (a broadcast or a send-receive need not).
    static let collectiveCalls: Set<String> = ["MPI_Barrier", "MPI_Allreduce", "MPI_Allgather", "MPI_Allgatherv"]

    /// When this trace's first collective MPI call ended, in its own clock; nil without one.
    var firstCollectiveEnd: UInt64? {
        events.filter { $0.kind == .communication && Trace.collectiveCalls.contains($0.name) }
            .map { $0.start &+ $0.duration }.min()
    }

    /// The ranks' traces on one time line: each rank's clock shifted so that its first collective
    /// MPI call ends when the first trace's does (every rank leaves a collective when the last
    /// arrives, so this aligns the ranks within that call's exit skew, on one machine or many,
    /// whatever each rank's clock). A trace without a collective call is not shifted; the
    /// result says how many were (`aligned`). Events keep their ranks; a trace without ranks
    /// is taken as rank `i`, its position.
    ///
    ///     let all = Trace.merged([rank0, rank1]).trace      // tandem report --trace a --trace b
    public static func merged(_ traces: [Trace]) -> (trace: Trace, aligned: Int) {
        guard let first = traces.first else { return (Trace(events: [], origin: 0), 0) }
        let anchor = first.firstCollectiveEnd
        var shifted: [(event: TraceEvent, start: Int64)] = []
        var aligned = 0
        for (i, t) in traces.enumerated() {
            var shift = Int64(bitPattern: first.origin &- t.origin)
            if let anchor, let end = t.firstCollectiveEnd {
                shift = Int64(bitPattern: anchor &- end)
                aligned += 1
            }
            for var e in t.events {
                if e.rank == nil { e.rank = i }
                shifted.append((e, Int64(bitPattern: e.start) &+ shift))
            }
        }
        // Clocks that start near zero (traces read back from files) may be shifted below it:
        // everything is lifted by as much.
        let lift = -min(0, shifted.map(\.start).min() ?? 0)
        let events = shifted.sorted { $0.start < $1.start }.map { p in
            var e = p.event
            e.start = UInt64(p.start + lift)
            return e
        }
        let origin = UInt64(bitPattern: Int64(bitPattern: first.origin) &+ lift)
        return (Trace(events: events, origin: origin), aligned)
    }
}
