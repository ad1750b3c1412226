import ArgumentParser
import FoundationEssentials
import Tandem
import TandemMPI
import TandemRuntime
import TandemWorkloads

/// `tandem bench --distributed`: the distributed workloads over the ranks of an MPI job (every
/// rank runs this under `mpirun`; rank 0 prints), with each rank's time split into compute,
/// communication and waiting.
///
/// How the times are measured, on each rank's monotonic clock: every MPI call through the
/// `Communicator` is timed (`Communicator.statistics`), and with `separatesWaiting` on, each
/// collective starts with a barrier, so the time a rank spends waiting for a late rank lands in
/// that barrier, not in the transfer that follows. A timed run starts after a barrier (all
/// ranks together) and ends after one more barrier (its wait is the time this rank waited for
/// the slowest to finish); then, per rank:
///
/// - wall: from the start to the end of that last barrier (nearly the same on every rank);
/// - communication: time inside MPI calls other than barriers;
/// - wait: time inside barriers (before each collective, and at the end);
/// - compute: wall minus both, the time outside MPI calls: planning, kernels, reading values.
///
/// The barriers are part of the bench's runs only (`tandem run --distributed` has none), and
/// their own latency, a few microseconds per collective between ranks of one machine, counts as
/// waiting. With more ranks than cores, a rank descheduled just after a barrier keeps its
/// partners waiting in the transfer that follows: that counts as communication. The run reported is the median of `--repeats` by rank 0's wall time, after a
/// warm-up run (compiles); its outputs are checked against the reference values where built in,
/// and to be the same bits on every rank.
extension Bench {
    /// One rank's share of one timed run.
    struct RankTimes: Codable, Equatable {
        var rank: Int
        var wall: Double
        var compute: Double
        var communication: Double
        var wait: Double
        var calls: Int
    }

    struct DistributedRow: Codable {
        var workload: String
        var dtype: String
        var params: [String: Double]
        var outputs: [String: Double]
        var check: String
        var ranks: [RankTimes]
    }

    func runDistributedBench(_ types: [DTypeOption]) throws {
        guard !peers else { throw ValidationError("--peers runs in one process; leave it out with --distributed") }
        let selected = try withUsageErrors { () -> [DistributedWorkload] in
            guard let names = workloads?.split(separator: ",").map(String.init) else { return DistributedWorkloads.all }
            return try names.map { n in
                guard let w = DistributedWorkloads.named(n) else {
                    throw UsageError(description: "'\(n)' does not run distributed; --distributed runs \(DistributedWorkloads.all.map(\.workload.name).joined(separator: ", "))")
                }
                return w
            }
        }
        try DistributedJob.run { world in try benchDistributed(selected, types, world) }
    }

    /// The runs on this rank; the exit status every rank agrees on (rank 0's checks).
    private func benchDistributed(_ selected: [DistributedWorkload], _ types: [DTypeOption], _ world: Communicator) throws -> Int32 {
        var rows: [DistributedRow] = []
        for t in types {
            for d in selected {
                let w = d.workload
                let params = size.parameters(w.name)
                var full: [String: Double] = [:]
                for p in w.parameters { full[p.name] = params[p.name] ?? p.defaultValue }
                let prepared = try d.prepare(params, dtype: t.dtype, on: world)
                world.separatesWaiting = true
                _ = try prepared.run()
                var mine: [[Double]] = []
                var outputs: [String: Double] = [:]
                for _ in 0..<repeats {
                    try world.barrier()
                    world.resetStatistics()
                    let start = now()
                    outputs = try prepared.run()
                    try world.barrier()
                    let wall = now() - start
                    let s = world.statistics
                    mine.append([wall, s.communicationSeconds, s.waitSeconds, Double(s.calls)])
                }
                world.separatesWaiting = false
                let keys = outputs.keys.sorted()
                let bits = try world.allgather(keys.map { outputs[$0]!.bitPattern })
                let all = try world.allgather(mine.flatMap { $0 })
                if world.rank == 0 {
                    // The median run by rank 0's wall time, and every rank's figures of that run.
                    let chosen = mine.indices.sorted { mine[$0][0] < mine[$1][0] }[mine.count / 2]
                    let ranks = all.enumerated().map { r, flat -> RankTimes in
                        let v = Array(flat[(chosen * 4)..<(chosen * 4 + 4)])
                        return RankTimes(rank: r, wall: v[0], compute: Swift.max(0, v[0] - v[1] - v[2]), communication: v[1], wait: v[2], calls: Int(v[3]))
                    }
                    var problems: [String] = []
                    for (r, b) in bits.enumerated() where b != bits[0] { problems.append("rank \(r)'s outputs are not rank 0's bits") }
                    var check = "no reference"
                    if let want = Reference.outputs(w.name, full) ?? PythonReference.outputs(w.name, full) {
                        let bad = want.filter { k, v in !t.agrees(outputs[k] ?? .nan, v) }
                        problems += bad.keys.sorted().map { "\($0)=\(outputs[$0] ?? .nan) want \(want[$0]!)" }
                        check = "pass"
                    }
                    if !problems.isEmpty { check = "FAIL " + problems.joined(separator: ", ") }
                    rows.append(DistributedRow(workload: w.name, dtype: t.rawValue, params: full, outputs: outputs, check: check, ranks: ranks))
                    if !json { ProcessInfoLite.warn("bench: \(w.name) \(t.rawValue) \(format3(ranks[0].wall)) s over \(world.size) ranks (\(check))") }
                }
            }
        }
        var status: Int32 = 0
        if world.rank == 0 {
            if json {
                struct Out: Codable { var size: String; var ranks: Int; var engine: String; var machine: Machine; var rows: [DistributedRow] }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(Out(size: size.rawValue, ranks: world.size, engine: world.engine,
                                                              machine: Machine.current, rows: rows)), as: UTF8.self))
            } else {
                print(distributedTable(rows, world))
            }
            status = rows.contains { $0.check.hasPrefix("FAIL") } ? 1 : 0
        }
        return try world.broadcast(status, from: 0)
    }

    func distributedTable(_ rows: [DistributedRow], _ world: Communicator) -> String {
        func s(_ x: Double) -> String {
            let micro = (x * 1e6).rounded()
            let whole = Int(micro) / 1_000_000, frac = Int(micro) % 1_000_000
            let digits = String(frac)
            return "\(whole)." + String(repeating: "0", count: 6 - digits.count) + digits
        }
        let header = ["workload", "dtype", "rank", "wall s", "compute s", "communication s", "wait s", "MPI calls", "check"]
        var lines = [header]
        for r in rows {
            for t in r.ranks {
                lines.append([r.workload, r.dtype, "\(t.rank)/\(world.size)", s(t.wall), s(t.compute), s(t.communication), s(t.wait),
                              String(t.calls), t.rank == 0 ? r.check : ""])
            }
        }
        let widths = (0..<header.count).map { c in lines.map { $0[c].count }.max()! }
        let table = lines.enumerated().map { i, row in
            let line = row.enumerated().map { c, cell in cell + String(repeating: " ", count: widths[c] - cell.count) }.joined(separator: "  ")
            return i == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n")
        return "distributed over \(world.size) rank\(world.size == 1 ? "" : "s") (\(world.engine)), size \(size.rawValue), median of \(repeats) run\(repeats == 1 ? "" : "s") by rank 0's wall time\n"
            + table + "\n"
            + "(per rank: communication = time inside MPI calls other than barriers; wait = time in barriers, one before each collective\n"
            + " and one at the end, waiting for the slowest rank; compute = wall - communication - wait, the time outside MPI calls)"
    }
}
