#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemRuntime

/// The ranks of a job and what they do together: every rank runs the same program, and each
/// collective call must be made by every rank, in the same order.
///
/// `Communicator.world()` is `MPI_COMM_WORLD` when the process was started by `mpirun`
/// (`MPILaunch`), and a world of one rank otherwise, in which every collective is the identity
/// and no MPI library is loaded. Errors are returned, not fatal (`MPI_ERRORS_RETURN` is set on
/// the communicator) and thrown as `MPIError` with MPI's message. Calls are serialised by a
/// lock (MPI is initialised with `MPI_THREAD_SERIALIZED`), and a call that waits longer than
/// `TANDEM_MPI_TIMEOUT` seconds ends the rank with a message (`Watchdog`).
///
///     let world = try Communicator.world()
///     let partial = Double(world.rank + 1)
///     let total = try world.allreduce(partial, .sum)    // 1 + 2 + ... in rank order, on every rank
///     if world.rank == 0 { print("\(world.size) ranks, total \(total)") }
public final class Communicator: Sendable {
    /// This process's rank, from 0.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    /// What carries the messages, for reports: "Open MPI (libmpi.so.40)" or "one process".
    public let engine: String
    /// Whether this world is an MPI job (false: one rank, no MPI loaded).
    public var isDistributed: Bool { mpi != nil }

    let mpi: MPILibrary?
    let watchdog: Watchdog?
    /// One MPI call at a time (`MPI_THREAD_SERIALIZED`).
    let calls = Mutex<Void>(())
    /// Time inside MPI calls, and whether collectives wait for every rank first (`statistics`).
    let clock = CallClock()

    private init(rank: Int, size: Int, engine: String, mpi: MPILibrary?, watchdog: Watchdog?) {
        self.rank = rank
        self.size = size
        self.engine = engine
        self.mpi = mpi
        self.watchdog = watchdog
    }

    /// All the ranks of the job (started once, at the first call): MPI is loaded and initialised
    /// only when an MPI launcher started the process; otherwise a world of one rank. Throws
    /// `MPIUnavailable` when the process was launched but Open MPI cannot be loaded or set up.
    public static func world() throws -> Communicator { try worldResult.get() }

    private static let worldResult = Result<Communicator, any Error> { try start(MPILaunch.current) }

    /// Set once `MPI_Init_thread` succeeded; cleared by `MPI_Finalize` or `abort`.
    private static let live = Atomic<Bool>(false)

    private static func start(_ launch: MPILaunch) throws -> Communicator {
        guard let evidence = launch.evidence else {
            return Communicator(rank: 0, size: 1, engine: "one process (not started by mpirun)", mpi: nil, watchdog: nil)
        }
        let mpi: MPILibrary
        switch MPILibrary.shared {
        case .success(let m): mpi = m
        case .failure(let why):
            throw MPIUnavailable(reason: "this process was started by an MPI launcher (\(evidence)) but MPI cannot be used: \(why.reason)")
        }
        var initialized: Int32 = 0
        try mpi.check(mpi.MPI_Initialized(&initialized), "MPI_Initialized")
        if initialized == 0 {
            var provided: Int32 = 0
            try mpi.check(mpi.MPI_Init_thread(nil, nil, MPIConstant.threadSerialized, &provided), "MPI_Init_thread")
            guard provided >= MPIConstant.threadSerialized else {
                throw MPIUnavailable(reason: "\(mpi.library.path) provides thread level \(provided), and Tandem needs MPI_THREAD_SERIALIZED (2): its calls come from more than the main thread")
            }
        }
        live.store(true, ordering: .relaxed)
        atexit { Communicator.finalizeAtExit() }
        let world = mpi.handles.commWorld
        try mpi.check(mpi.MPI_Comm_set_errhandler(world, mpi.handles.errorsReturn), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try mpi.check(mpi.MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
        try mpi.check(mpi.MPI_Comm_size(world, &size), "MPI_Comm_size")
        if let expected = launch.size, expected != Int(size) {
            throw MPIUnavailable(reason: "the launcher started \(expected) ranks (\(evidence)) but \(mpi.library.path) sees \(size): was the job started by another MPI's launcher? Tandem uses Open MPI's mpirun")
        }
        let name = mpi.library.path.split(separator: "/").last.map(String.init) ?? mpi.library.path
        return Communicator(rank: Int(rank), size: Int(size), engine: "Open MPI (\(name))", mpi: mpi,
                            watchdog: Watchdog.start(rank: Int(rank), size: Int(size)))
    }

    /// `MPI_Finalize` at exit, so that a program that returns normally ends its job cleanly
    /// (an Open MPI rank that exits without it makes `mpirun` report the job as failed).
    private static func finalizeAtExit() {
        guard live.exchange(false, ordering: .relaxed), case .success(let world) = worldResult, let mpi = world.mpi else { return }
        world.calls.withLock { _ in
            world.watchdog?.enter("MPI_Finalize")
            _ = mpi.MPI_Finalize()
            world.watchdog?.leave()
        }
    }

    /// Runs one MPI call under the lock and the watchdog, and checks its result. Its time, from
    /// before the lock to the result, counts as waiting for a barrier and as communication for
    /// any other call (`statistics`), and is a `communication` event of the trace while one is
    /// recorded (`bytes`: what this rank sends).
    func call(_ name: String, bytes: Int32 = 0, _ body: (MPILibrary, MPI_Comm) -> Int32) throws {
        guard let mpi else { preconditionFailure("\(name) on the 1-rank world") }
        let start = ProcessInfoLite.monotonicNanos()
        defer {
            let waiting = name == "MPI_Barrier"
            let spent = clock.record(since: start, waiting: waiting)
            Tracer.shared.record(TraceEvent(kind: .communication, name: name, start: start, duration: spent,
                                            bytes: Int(bytes), detail: waiting ? "wait" : ""))
        }
        try calls.withLock { _ in
            watchdog?.enter(name)
            defer { watchdog?.leave() }
            try mpi.check(body(mpi, mpi.handles.commWorld), name)
        }
    }

    /// Seconds since an arbitrary moment, the same clock on every call of this rank
    /// (`MPI_Wtime`; the monotonic clock in a 1-rank world).
    ///
    ///     let world = try Communicator.world()
    ///     let start = world.wallTime()
    ///     try world.barrier()
    ///     let waited = world.wallTime() - start
    public func wallTime() -> Double {
        if let mpi { return mpi.MPI_Wtime() }
        return Double(ProcessInfoLite.monotonicNanos()) * 1e-9
    }

    /// Waits until every rank has called it (`MPI_Barrier`).
    ///
    ///     try Communicator.world().barrier()
    public func barrier() throws {
        guard mpi != nil else { return }
        try call("MPI_Barrier") { mpi, comm in mpi.MPI_Barrier(comm) }
    }

    /// Ends the whole job: says `message` on standard error with this rank's number, then
    /// `MPI_Abort`, which makes `mpirun` stop every other rank (a 1-rank world exits). The way
    /// out of an error on one rank: returning from `main` instead would leave the other ranks
    /// waiting in their next collective.
    ///
    ///     let world = try Communicator.world()
    ///     if world.size > 64 { world.abort("this program is tuned for at most 64 ranks", status: 2) }
    public func abort(_ message: String, status: Int32 = 1) -> Never {
        ProcessInfoLite.warn(size > 1 ? "tandem: rank \(rank) of \(size): \(message)" : "tandem: \(message)")
        if let mpi, Communicator.live.exchange(false, ordering: .relaxed) {
            // Not under the lock: another thread of this rank may be blocked in a call.
            _ = mpi.MPI_Abort(mpi.handles.commWorld, status)
        }
        exit(status)
    }
}
