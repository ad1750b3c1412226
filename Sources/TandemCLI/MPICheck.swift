import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemDistributed
import TandemMPI
import TandemRuntime

/// `tandem mpi-check WHAT` (hidden): what the distributed test suite runs under `mpirun`, each
/// rank printing lines `rank R KEY VALUES` (values as bit patterns in hex, so the test can fold
/// them itself and compare bits):
///
/// - `collectives`: partials of a wide range of magnitudes (so the order of additions shows in
///   the bits), their rank-ordered sum/max/min in Double, Float and Int64, an allgather of
///   unequal counts, a broadcast from the last rank, a ring of sendReceive.
/// - `halo ROWS`: a distributed `ROWS x 3` tensor, its blocks changed on each rank, halos
///   exchanged, each rank's local block compared with the whole tensor changed the same way.
/// - `error`: a sendReceive to a rank that does not exist (MPI's error, thrown, not fatal).
/// - `die`: the last rank exits abruptly while the others wait in collectives.
/// - `fail`: the last rank throws while the others wait (the job ends through `abort`).
/// - `hang`: the last rank skips a barrier (the others' watchdog ends the job).
struct MPICheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mpi-check", abstract: "Checks of the MPI engine (for the tests).", shouldDisplay: false)

    @Argument(help: "collectives, halo, error, die, fail or hang.") var what: String
    @Argument(help: "Rows of the tensor for halo.") var rows: Int = 7

    func run() throws {
        let world: Communicator
        do { world = try Communicator.world() } catch {
            ProcessInfoLite.warn("tandem: \(error)")
            throw ExitCode(TandemCommand.runtimeFailureStatus)
        }
        do {
            switch what {
            case "collectives": try collectives(world)
            case "halo": try halo(world)
            case "error": try error(world)
            case "die": try die(world)
            case "fail":
                try world.barrier()
                if world.rank == world.size - 1 { throw CLIFailure("a failure on rank \(world.rank)") }
                for _ in 0..<1_000_000 { _ = try world.allreduce(1.0, .sum) }
            case "hang":
                if world.rank != world.size - 1 { try world.barrier() } else { sleep(60) }
            default: throw ValidationError("mpi-check runs collectives, halo, error, die, fail or hang, not \(what)")
            }
        } catch let e as ValidationError { throw e } catch {
            world.abort("\(error)", status: TandemCommand.runtimeFailureStatus)
        }
    }

    /// One line, written at once (lines of different ranks do not mix).
    func say(_ world: Communicator, _ key: String, _ values: [String]) {
        let line = Array("rank \(world.rank) \(key) \(values.joined(separator: ","))\n".utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }

    func hex<T: FixedWidthInteger>(_ v: T) -> String { String(v, radix: 16) }

    func collectives(_ world: Communicator) throws {
        let r = world.rank
        // Magnitudes from 1e-15 to 1e15 by rank and slot, and a last slot of 1e16, -1e16, 1 on
        // ranks 0, 1, 2 (1 added in this order, 0 in the reverse): sums in another order round
        // differently.
        let doubles = (0..<9).map { i -> Double in
            if i == 8 { return r < 3 ? [1e16, -1e16, 1][r] : 0 }
            let e = Double((r * 5 + i * 3) % 31 - 15)
            return (r % 2 == 0 ? 1 : -1) * (1 + 1 / Double(r + i + 3)) * pow(10, e)
        }
        let floats = doubles.map { Float($0 / 1e10) }
        let ints = (0..<4).map { i in Int64(r * 1_000_003 + i) * (i % 2 == 0 ? 1 : -1) }
        say(world, "double-partials", doubles.map { hex($0.bitPattern) })
        say(world, "float-partials", floats.map { hex($0.bitPattern) })
        say(world, "int-partials", ints.map { String($0) })
        for op in ReductionOp.allCases {
            say(world, "double-\(op)", try world.allreduce(doubles, op).map { hex($0.bitPattern) })
            say(world, "float-\(op)", try world.allreduce(floats, op).map { hex($0.bitPattern) })
            say(world, "int-\(op)", try world.allreduce(ints, op).map { String($0) })
        }
        let gathered = try world.allgather((0...r).map { Int32(r * 100 + $0) })
        say(world, "allgather", gathered.map { $0.map(String.init).joined(separator: " ") })
        let root = world.size - 1
        let sent: [Int64] = r == root ? [Int64(world.size * 7), -3, 11] : []
        say(world, "broadcast", try world.broadcast(sent, from: root).map(String.init))
        let right = (r + 1) % world.size, left = (r + world.size - 1) % world.size
        let fromLeft = try world.sendReceive([Int64(r * 10), Int64(r * 10 + 1)], to: right, receiving: 2, from: left)
        say(world, "ring", (fromLeft ?? []).map(String.init))
        say(world, "size", [String(world.size), world.isDistributed ? "mpi" : "single"])
    }

    func halo(_ world: Communicator) throws {
        guard rows >= 0 else { throw ValidationError("rows must be at least 0") }
        let global = Tensor<Double>.uniform([rows, 3], seed: 11, in: -1...1)
        var d = try DistributedTensor(global, halo: 1, on: world)
        // Every rank changes its own rows the same way; after the exchange its halos must hold
        // its neighbours' changed rows.
        if !d.ownedRows.isEmpty { d.local[d.ownedRows] = d.local[d.ownedRows] * 2 + 1 }
        try d.exchangeHalos()
        let changed = try (global * 2 + 1).scalars
        let mine = d.globalRows
        var expected = [Double](repeating: 0, count: (mine.count + 2) * 3)
        let neighbours = d.distribution.activeRanks.contains(world.rank)
        for (k, g) in ((mine.lowerBound - 1)..<(mine.upperBound + 1)).enumerated() where g >= 0 && g < rows {
            // Halo rows are refreshed only from ranks that hold rows; an empty rank's stay zero.
            guard neighbours || mine.contains(g) else { continue }
            for c in 0..<3 { expected[k * 3 + c] = changed[g * 3 + c] }
        }
        let local = try d.local.scalars
        say(world, "halo", [local.map(\.bitPattern) == expected.map(\.bitPattern) ? "ok" : "differs: \(local) vs \(expected)"])
        let whole = try d.gathered().scalars
        say(world, "gathered", [whole.map(\.bitPattern) == changed.map(\.bitPattern) ? "ok" : "differs"])
        say(world, "sum", [hex(try d.sum().bitPattern)])
        say(world, "blocks", [d.distribution.counts.map(String.init).joined(separator: " ")])
    }

    func error(_ world: Communicator) throws {
        do {
            _ = try world.sendReceive([1.0], to: world.size + 5, receiving: 1, from: world.size + 5)
            say(world, "error", ["none"])
        } catch let e as MPIError {
            say(world, "error", [e.description])
        }
        // The communicator still works after an error returned to the program.
        say(world, "after", [String(try world.allreduce(1, .sum))])
    }

    func die(_ world: Communicator) throws {
        try world.barrier()
        if world.rank == world.size - 1 {
            say(world, "dying", [""])
            _exit(9)
        }
        for _ in 0..<1_000_000 { _ = try world.allreduce(Double(world.rank), .sum) }
        say(world, "survived", [""])
    }
}
