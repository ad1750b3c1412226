#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Testing
import Tandem
import TandemDistributed
import TandemMPI
import TandemRuntime
import _TandemTestSupport
import TandemWorkloads

/// Issue 22, the workloads: what needs no MPI job (a plain test process is a world of one rank).
@Suite("Distributed workloads, one process", .planned)
struct DistributedWorkloadLocalTests {
    static let small: [(String, [String: Double])] = [
        ("red_black_sor", ["n": 31, "iterations": 10]),
        ("shallow_water", ["n": 20, "steps": 10]),
        ("nbody", ["n": 100, "steps": 3]),
        ("gmm_em", ["n": 1000, "d": 3, "k": 4, "iterations": 3]),
    ]

    @Test("every distributed workload on one rank gives the single-process outputs", arguments: [DType.float64, .float32])
    func oneRank(_ dtype: DType) throws {
        let world = try Communicator.world()
        let tolerance = dtype == .float64 ? 1e-12 : 1e-6
        for (name, params) in Self.small {
            let distributed = try #require(DistributedWorkloads.named(name)).prepare(params, dtype: dtype, on: world).run()
            let single = try #require(Workloads.named(name)).run(params, dtype: dtype)
            #expect(distributed.keys.sorted() == single.keys.sorted(), "\(name)")
            for (k, want) in single {
                let got = try #require(distributed[k])
                #expect(Swift.abs(got - want) <= tolerance * Swift.max(Swift.abs(want), 1e-300), "\(name) \(dtype) \(k): \(got) vs \(want)")
            }
        }
    }

    @Test("tensor collectives on one rank: allgather joins the one block, allreduce is the identity; a wrong block shape is an error")
    func tensorCollectives() throws {
        let world = try Communicator.world()
        let block = Tensor<Double>.uniform([4, 3], seed: 5)
        #expect(try world.allgather(block, rest: [3]).scalars == block.scalars)
        #expect(try world.allgather(block, rest: [3]).shape == [4, 3])
        #expect(try world.allgather(Tensor<Float>.zeros([0, 3]), rest: [3]).shape == [0, 3])
        #expect(try world.allreduce(block, .sum).scalars == block.scalars)
        #expect(throws: DistributionError.self) { try world.allgather(block, rest: [2]) }
    }

    @Test("a 1-rank world makes no MPI calls: its statistics stay zero")
    func statisticsWithoutMPI() throws {
        let world = try Communicator.world()
        world.resetStatistics()
        world.separatesWaiting = true
        defer { world.separatesWaiting = false }
        _ = try world.allreduce([1.0, 2.0], .sum)
        try world.barrier()
        #expect(world.statistics == CommunicatorStatistics())
    }
}

/// Issue 22, the workloads under `mpirun` with 1 to 4 ranks on this machine (oversubscribed).
/// Nested in the engine's suite, whose `.serialized` and `.enabled(if:)` it inherits: two
/// `mpirun` started at the same moment can race creating Open MPI's session directory
/// (`/tmp/ompi.<host>.<uid>`: "mkdir ... File exists", orte_init failed), so no two jobs of the
/// suites start together.
extension DistributedMPITests {
    @Suite("Distributed workloads, under mpirun", .planned)
    struct Workloads {
        struct Case: Sendable, CustomTestStringConvertible {
            let workload: String, params: [String], ranks: Int, dtype: String
            var testDescription: String { "\(workload) \(params.joined(separator: " ")), \(ranks) rank\(ranks == 1 ? "" : "s"), \(dtype)" }
        }

        /// expected.json's small cases (their reference values are built in): rows that divide
        /// unevenly over 2 or 3 ranks in each (33 plate rows: 17/16; 22 grid rows: 8/7/7; 100
        /// bodies: 34/33/33; 1000 points or options: 334/333/333).
        static let referenceCases: [Case] = {
            let workloads: [(String, [String])] = [
                ("red_black_sor", ["n=31", "iterations=10"]),
                ("shallow_water", ["n=20", "steps=10"]),
                ("nbody", ["n=100", "steps=3"]),
                ("gmm_em", ["n=1000", "d=3", "k=4", "iterations=3"]),
                ("black_scholes", ["n=1000", "iterations=1"]),
            ]
            return workloads.flatMap { w, p in
                [1, 2, 3].flatMap { r in ["f64", "f32"].map { Case(workload: w, params: p, ranks: r, dtype: $0) } }
            }
        }()

        @Test("tandem run WORKLOAD --distributed --check: the reference and the single-process outputs within tolerance, the same bits on every rank",
              arguments: referenceCases)
        func reference(_ c: Case) throws {
            let output = try checkedRun(c)
            #expect(output.contains("reference values: built in, compared"), "\(output)")
        }

        /// `tandem run` of `c` with `--distributed --check` under mpirun: it exits 0, says its
        /// ranks and passes its check. Its output.
        func checkedRun(_ c: Case, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let r = try MPIJob.run(ranks: c.ranks, ["run", c.workload] + c.params + ["--dtype", c.dtype, "--distributed", "--check"])
            #expect(r.status == 0, "\(r.output)", sourceLocation: sourceLocation)
            #expect(r.output.contains("distributed over \(c.ranks) rank"), "\(r.output)", sourceLocation: sourceLocation)
            #expect(r.output.contains("check: pass"), "\(r.output)", sourceLocation: sourceLocation)
            return r.output
        }

        @Test("fewer rows than ranks, one row per rank, uneven blocks: --check passes (compared with one process)",
              arguments: [
                  // 3 plate rows over 4 ranks (the last holds none); 4 rows over 4 (one each); 7 over 3.
                  Case(workload: "red_black_sor", params: ["n=1", "iterations=5"], ranks: 4, dtype: "f64"),
                  Case(workload: "red_black_sor", params: ["n=2", "iterations=5"], ranks: 4, dtype: "f32"),
                  Case(workload: "red_black_sor", params: ["n=5", "iterations=7"], ranks: 3, dtype: "f64"),
                  // 3 grid rows over 3 ranks: the walls of rows 0 and 2 are made from halo rows.
                  Case(workload: "shallow_water", params: ["n=1", "steps=5"], ranks: 3, dtype: "f64"),
                  Case(workload: "shallow_water", params: ["n=1", "steps=5"], ranks: 4, dtype: "f32"),
                  Case(workload: "shallow_water", params: ["n=3", "steps=5"], ranks: 3, dtype: "f32"),
                  // 2 bodies or points over 3 ranks (one holds none); 7 bodies, 101 points over 3.
                  Case(workload: "nbody", params: ["n=2", "steps=3"], ranks: 3, dtype: "f64"),
                  Case(workload: "nbody", params: ["n=7", "steps=3"], ranks: 3, dtype: "f32"),
                  Case(workload: "gmm_em", params: ["n=2", "d=2", "k=3", "iterations=3"], ranks: 3, dtype: "f32"),
                  Case(workload: "gmm_em", params: ["n=101", "d=3", "k=4", "iterations=3"], ranks: 3, dtype: "f64"),
                  // 2 options over 3 ranks; 1001 over 2, four rates.
                  Case(workload: "black_scholes", params: ["n=2", "iterations=2"], ranks: 3, dtype: "f64"),
                  Case(workload: "black_scholes", params: ["n=1001", "iterations=4"], ranks: 2, dtype: "f32"),
              ])
        func edges(_ c: Case) throws {
            let output = try checkedRun(c)
            #expect(output.contains("one process: "), "\(output)")
        }

        struct BenchOutput: Decodable {
            struct Rank: Decodable { var rank: Int; var wall, compute, communication, wait: Double; var calls: Int }
            struct Row: Decodable { var workload: String; var dtype: String; var check: String; var ranks: [Rank] }
            var ranks: Int
            var rows: [Row]
        }

        @Test("tandem bench --distributed: every rank's compute, communication and wait, adding up to its wall time", arguments: [2, 3])
        func bench(_ ranks: Int) throws {
            let r = try MPIJob.run(ranks: ranks, ["bench", "--distributed", "--size", "small", "--workloads", "shallow_water,gmm_em",
                                                  "--dtype", "f64", "--repeats", "2", "--json"])
            #expect(r.status == 0, "\(r.output)")
            let line = try #require(r.output.split(separator: "\n").first { $0.hasPrefix("{") }, "\(r.output)")
            let out = try JSONDecoder().decode(BenchOutput.self, from: Data(line.utf8))
            #expect(out.ranks == ranks)
            #expect(out.rows.map(\.workload) == ["shallow_water", "gmm_em"])
            for row in out.rows {
                #expect(row.check == "pass", "\(row.workload): \(row.check)")
                #expect(row.ranks.map(\.rank) == Array(0..<ranks))
                let wall0 = row.ranks[0].wall
                for t in row.ranks {
                    let label = "\(row.workload) rank \(t.rank): \(t)"
                    #expect(t.wall > 0 && t.compute > 0 && t.communication > 0 && t.wait > 0, "\(label)")
                    // The parts are measured apart (compute is what MPI calls leave of the wall):
                    // the MPI time must fit in the wall time, and the three add up to it.
                    #expect(t.communication + t.wait <= t.wall, "\(label)")
                    #expect(Swift.abs(t.compute + t.communication + t.wait - t.wall) <= 1e-6 + 1e-3 * t.wall, "\(label)")
                    // Every run starts and ends with a barrier: the ranks' walls nearly agree (a
                    // rank descheduled as its first barrier returns starts its clock late).
                    #expect(Swift.abs(t.wall - wall0) <= 0.25 * wall0 + 0.02, "\(label) vs rank 0's wall \(wall0)")
                    // The ranks make the same collectives, each timed once.
                    #expect(t.calls == row.ranks[0].calls && t.calls > 0, "\(label)")
                }
            }
        }

        @Test("TANDEM_TRACE under mpirun: one trace per rank with its MPI calls; tandem report merges them into one timeline")
        func tracePerRank() throws {
            let dir = TestScratch.path("rank-traces-\(UInt32.random(in: 0...UInt32.max))")
            mkdir(dir, 0o700)
            defer { for f in ["run.rank0.json", "run.rank1.json", "run.json", "all.html", "all.json"] { unlink(dir + "/" + f) }; rmdir(dir) }
            let r = try MPIJob.run(ranks: 2, ["run", "shallow_water", "n=20", "steps=4", "--distributed"], environment: ["TANDEM_TRACE=\(dir)/run.json"])
            #expect(r.status == 0, "\(r.output)")
            #expect(ProcessInfoLite.contents(of: dir + "/run.json") == nil, "the ranks wrote over one file")
            for rank in 0..<2 {
                let text = String(decoding: try #require(ProcessInfoLite.contents(of: dir + "/run.rank\(rank).json")), as: UTF8.self)
                #expect(text.contains("\"rank \(rank): MPI\"") && text.contains("\"name\": \"MPI_Sendrecv\"") && text.contains("\"rank\": \(rank)"), "rank \(rank)")
            }
            let bin = try #require(CLITests.binary)
            let report = try Subprocess.run([bin, "report", "--trace", dir + "/run.rank0.json", "--trace", dir + "/run.rank1.json",
                                             "--output", dir + "/all.html", "--trace-output", dir + "/all.json"]).get()
            #expect(report.status == 0, "\(report.output)")
            let html = String(decoding: try #require(ProcessInfoLite.contents(of: dir + "/all.html")), as: UTF8.self)
            #expect(html.contains("2 traces merged; aligned on the end of each one's first collective MPI call"))
            #expect(html.contains(">rank 0 MPI<") && html.contains(">rank 1 MPI<") && html.contains("MPI calls"))
            // A row for each rank's CPU tracks: which ones (a worker, or the calling thread's
            // inline kernels, track -1) depends on where the placements put the kernels.
            #expect(html.contains(">rank 0 CPU worker ") && html.contains(">rank 1 CPU worker "))
            let merged = String(decoding: try #require(ProcessInfoLite.contents(of: dir + "/all.json")), as: UTF8.self)
            #expect(merged.contains("\"rank 0: host\"") && merged.contains("\"rank 1: host\""))
        }

        @Test("tandem bench --distributed prints rank 0's table of every rank; a name that is no distributed workload is a usage error")
        func benchTable() throws {
            let r = try MPIJob.run(ranks: 2, ["bench", "--distributed", "--size", "small", "--workloads", "nbody", "--dtype", "f32", "--repeats", "1"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.output.contains("distributed over 2 ranks"), "\(r.output)")
            #expect(r.output.contains("communication s") && r.output.contains("wait s") && r.output.contains("compute s"), "\(r.output)")
            let rows = r.output.split(separator: "\n").filter { $0.hasPrefix("nbody ") }
            #expect(rows.count == 2 && rows[0].contains(" 0/2 ") && rows[1].contains(" 1/2 ") && rows[0].contains(" pass"), "\(r.output)")
            let bad = try MPIJob.run(ranks: 2, ["bench", "--distributed", "--workloads", "black_scholes,nope"])
            #expect(bad.status == 2, "\(bad.output)")
            #expect(bad.output.contains("'nope' does not run distributed"), "\(bad.output)")
        }
    }
}
