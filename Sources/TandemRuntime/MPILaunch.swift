/// How this process was started: as a rank of a job an MPI launcher started, or plainly.
///
/// The decision is made from the environment the launcher sets, before anything is loaded:
/// Open MPI's `mpirun`/`mpiexec` (and `prterun`) set `OMPI_COMM_WORLD_SIZE`,
/// `OMPI_COMM_WORLD_RANK` and `OMPI_COMM_WORLD_LOCAL_SIZE` in every rank, and a PMIx launcher
/// (`srun --mpi=pmix`) sets `PMIX_RANK`. With none of them, the process is a world of one rank
/// and MPI is never loaded: a plain `tandem run sor --distributed` runs on one rank, needs no
/// MPI library, and does not start Open MPI's singleton runtime.
///
///     let launch = MPILaunch.current
///     if launch.isLaunched { print("rank \(launch.rank ?? -1) of \(launch.size ?? -1)") }
public struct MPILaunch: Sendable, Equatable {
    /// The launcher's variable that decided (`OMPI_COMM_WORLD_SIZE=2`), nil for a plain run.
    public let evidence: String?
    /// The rank and size the launcher announced (MPI's own answers are checked against them).
    public let rank: Int?
    public let size: Int?
    /// Ranks of the job on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`; 1 when not said).
    public let localSize: Int

    /// Whether an MPI launcher started this process.
    public var isLaunched: Bool { evidence != nil }

    /// This process's launch, read once.
    public static let current = MPILaunch(environment: ProcessInfoLite.environment)

    /// The launch that `environment` describes.
    public init(environment: (String) -> String?) {
        func int(_ name: String) -> Int? { environment(name).flatMap { Int($0) } }
        if let size = environment("OMPI_COMM_WORLD_SIZE") {
            evidence = "OMPI_COMM_WORLD_SIZE=\(size)"
            rank = int("OMPI_COMM_WORLD_RANK")
            self.size = Int(size)
        } else if let rank = environment("PMIX_RANK") {
            evidence = "PMIX_RANK=\(rank)"
            self.rank = Int(rank)
            size = int("PMIX_SIZE")
        } else {
            evidence = nil
            rank = nil
            size = nil
        }
        localSize = max(1, int("OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1)
    }

    /// Worker threads for each rank when the user did not choose (`TANDEM_THREADS` unset): the
    /// machine's cores shared among its ranks, at least one. Each rank's runtime would otherwise
    /// start a worker per core, and two ranks on two cores would run four busy threads.
    public var threadsPerRank: Int { max(1, ProcessInfoLite.cores / localSize) }

    /// The file a rank writes where a plain run writes `path` (a trace, `TANDEM_TRACE`): the
    /// rank inserted before the extension, `run.json` -> `run.rank1.json`, so that the ranks of a
    /// job do not write over each other; `path` itself for a plain run.
    ///
    ///     MPILaunch.current.fileForRank("run.json")    // "run.rank0.json" under mpirun
    public func fileForRank(_ path: String) -> String {
        guard isLaunched else { return path }
        let tag = "rank\(rank.map(String.init) ?? "unknown")"
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        guard let dot = path[slash...].lastIndex(of: "."), dot > slash else { return path + "." + tag }
        return String(path[..<dot]) + "." + tag + String(path[dot...])
    }
}
