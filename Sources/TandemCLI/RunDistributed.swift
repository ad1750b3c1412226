import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemMPI
import TandemRuntime
import TandemWorkloads

/// `tandem run WORKLOAD --distributed`: the workload over the ranks of an MPI job (every rank
/// runs this; rank 0 prints). With `--check`, rank 0 also runs the workload in one process and
/// compares (and with the reference values where built in), and every rank's outputs are checked
/// to be the same bits as rank 0's. A failure on any rank ends the whole job (`Communicator.abort`).
extension Run {
    /// Gives each rank its share of the cores before the runtime starts (`MPILaunch.threadsPerRank`),
    /// unless `TANDEM_THREADS` says otherwise.
    static func shareCoresAmongRanks() {
        let launch = MPILaunch.current
        guard launch.isLaunched, ProcessInfoLite.environment("TANDEM_THREADS") == nil else { return }
        setenv("TANDEM_THREADS", String(launch.threadsPerRank), 1)
    }

    func runDistributed(_ w: Workload, _ params: [String: Double], _ full: [String: Double]) throws {
        guard let distributed = DistributedWorkloads.named(w.name) else {
            let names = DistributedWorkloads.all.map(\.workload.name).joined(separator: ", ")
            if (MPILaunch.current.rank ?? 0) == 0 {
                ProcessInfoLite.warn("tandem: --distributed runs \(names); \(w.name) runs in one process (without --distributed)")
            }
            throw ExitCode(2)
        }
        try DistributedJob.run { world in try runDistributed(distributed, params, full, world) }
    }

    /// The run on this rank; the exit status every rank agrees on (rank 0's check).
    private func runDistributed(_ d: DistributedWorkload, _ params: [String: Double], _ full: [String: Double],
                                _ world: Communicator) throws -> Int32 {
        let w = d.workload
        let prepared = try d.prepare(params, dtype: dtype.dtype, on: world)
        Tandem.resetStatistics()
        try world.barrier()
        let start = world.wallTime()
        let outputs = try prepared.run()
        let seconds = try world.allreduce(world.wallTime() - start, .max)
        let stats = Tandem.statistics
        let keys = outputs.keys.sorted()
        // Every rank's outputs, to check that they are rank 0's bits.
        let all = check ? try world.allgather(keys.map { outputs[$0]!.bitPattern }) : []
        var status: Int32 = 0
        if world.rank == 0 {
            var problems: [String] = []
            var lines: [String] = []
            if check {
                for (r, bits) in all.enumerated() where bits != all[0] {
                    problems.append("rank \(r)'s outputs are not rank 0's bits")
                }
                let single = try w.run(params, dtype: dtype.dtype)
                lines.append("one process: " + keys.map { "\($0) = \(JSON.number(single[$0] ?? .nan))" }.joined(separator: ", "))
                problems += compare(outputs, single, "one process")
                if let reference = Reference.outputs(w.name, full) {
                    problems += compare(outputs, reference, "the reference")
                    lines.append("reference values: built in, compared")
                } else {
                    lines.append("reference values: none built in for these parameters (compared with one process only)")
                }
            }
            let ranks = "\(world.size) rank\(world.size == 1 ? "" : "s")"
            let device = stats.kernelsByDevice.keys.sorted().joined(separator: "+")
            let verdict = check ? (problems.isEmpty ? "pass" : "fail") : "skipped"
            if json {
                let p = full.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(JSON.number($0.value))" }.joined(separator: ", ")
                let o = keys.map { "\"\($0)\": \(JSON.number(outputs[$0]!))" }.joined(separator: ", ")
                print("{\"workload\": \"\(w.name)\", \"params\": {\(p)}, \"dtype\": \"\(dtype.dtype)\", \"distributed\": {\"ranks\": \(world.size), \"engine\": \"\(world.engine)\"}, \"device\": \"\(device)\", \"outputs\": {\(o)}, \"seconds\": \(JSON.number(seconds)), \"check\": \"\(verdict)\"}")
            } else {
                print("\(w.name) \(full.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")) [\(dtype.dtype), distributed over \(ranks), \(world.engine); rank 0 on \(device)]")
                for k in keys { print("  \(k) = \(JSON.number(outputs[k]!))") }
                print("  time \(format3(seconds)) s (the slowest rank), rank 0: kernels \(stats.kernelsRun), ops fused \(stats.opsFused)")
                for line in lines { print("  " + line) }
                if check { print("  check: \(verdict)" + (problems.isEmpty ? "" : " (" + problems.joined(separator: "; ") + ")")) }
            }
            status = problems.isEmpty ? 0 : 1
        }
        return try world.broadcast(status, from: 0)
    }

    /// Mismatches of `got` against `want` within the element type's tolerance.
    private func compare(_ got: [String: Double], _ want: [String: Double], _ what: String) -> [String] {
        want.sorted { $0.key < $1.key }.compactMap { k, v in
            let g = got[k] ?? .nan
            return dtype.agrees(g, v) ? nil : "\(k): \(g) vs \(v) (\(what))"
        }
    }
}

/// A command's work on every rank of an MPI job (`run --distributed`, `bench --distributed`).
enum DistributedJob {
    /// Joins the job's world (said in one line and the runtime-failure exit when it cannot) and
    /// runs `body` on this rank. From there a failure on one rank ends every rank
    /// (`Communicator.abort`): returning would leave the others waiting in their next
    /// collective. `body` returns the exit status every rank agrees on; a nonzero one exits.
    static func run(_ body: (Communicator) throws -> Int32) throws {
        let world: Communicator
        do { world = try Communicator.world() } catch {
            ProcessInfoLite.warn("tandem: \(error)")
            throw ExitCode(TandemCommand.runtimeFailureStatus)
        }
        let status: Int32
        do {
            status = try body(world)
        } catch {
            world.abort("\(String("\(error)".split(separator: "\n").first ?? ""))", status: TandemCommand.runtimeFailureStatus)
        }
        if status != 0 { throw ExitCode(status) }
    }
}
