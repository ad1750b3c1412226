import Synchronization
import TandemRuntime

/// Where one rank's time went in its MPI calls, from `Communicator.statistics`: the figures a
/// per-rank breakdown of a distributed run is made of (`tandem bench --distributed`).
///
/// Every call through the communicator is timed on this rank's monotonic clock, from before
/// Tandem's call lock to MPI's result. A barrier is pure waiting for the other ranks, and counts
/// as `waitSeconds`; every other call (`MPI_Allgather`, `MPI_Sendrecv`, ...) counts as
/// `communicationSeconds`, which then includes any time it spent waiting for a late partner,
/// unless `separatesWaiting` is on. The time outside MPI calls (planning, kernels, reading
/// values) is the rest of the rank's wall time.
///
///     let world = try Communicator.world()
///     world.resetStatistics()
///     _ = try world.allreduce(1.0, .sum)
///     let s = world.statistics        // s.calls == 1 under mpirun; all zero in a 1-rank world
public struct CommunicatorStatistics: Sendable, Equatable {
    /// MPI calls made (a collective of two MPI calls, such as `allgather`, counts two).
    public var calls = 0
    /// Seconds inside MPI calls other than barriers: moving data (and, unless waiting is
    /// separated, waiting for the partners of the call to arrive).
    public var communicationSeconds = 0.0
    /// Seconds inside barriers: waiting for the other ranks.
    public var waitSeconds = 0.0

    /// Figures as given (zero by default: a rank that made no MPI call).
    ///
    ///     let none = CommunicatorStatistics()       // what a 1-rank world's statistics stay
    public init(calls: Int = 0, communicationSeconds: Double = 0, waitSeconds: Double = 0) {
        self.calls = calls
        self.communicationSeconds = communicationSeconds
        self.waitSeconds = waitSeconds
    }
}

/// The counters behind `Communicator.statistics` (atomic: MPI calls may come from any thread).
final class CallClock: Sendable {
    private let calls = Atomic<Int>(0)
    private let communicationNanos = Atomic<UInt64>(0)
    private let waitNanos = Atomic<UInt64>(0)
    /// Whether every collective first waits for all ranks in a barrier (`separatesWaiting`).
    let separates = Atomic<Bool>(false)

    /// Counts one call that began at `start` and returns its duration (for the trace).
    @discardableResult
    func record(since start: UInt64, waiting: Bool) -> UInt64 {
        let spent = ProcessInfoLite.monotonicNanos() &- start
        calls.add(1, ordering: .relaxed)
        if waiting { waitNanos.add(spent, ordering: .relaxed) } else { communicationNanos.add(spent, ordering: .relaxed) }
        return spent
    }

    var snapshot: CommunicatorStatistics {
        CommunicatorStatistics(calls: calls.load(ordering: .relaxed),
                               communicationSeconds: Double(communicationNanos.load(ordering: .relaxed)) * 1e-9,
                               waitSeconds: Double(waitNanos.load(ordering: .relaxed)) * 1e-9)
    }

    func reset() {
        calls.store(0, ordering: .relaxed)
        communicationNanos.store(0, ordering: .relaxed)
        waitNanos.store(0, ordering: .relaxed)
    }
}

extension Communicator {
    /// This rank's time in MPI calls since the start or the last `resetStatistics()`.
    ///
    ///     let world = try Communicator.world()
    ///     let s = world.statistics
    ///     print("rank \(world.rank): \(s.calls) MPI calls, \(s.communicationSeconds) s moving data, \(s.waitSeconds) s waiting")
    public var statistics: CommunicatorStatistics { clock.snapshot }

    /// Sets this rank's MPI call counters to zero.
    ///
    ///     try Communicator.world().resetStatistics()
    public func resetStatistics() { clock.reset() }

    /// Whether each collective (`broadcast`, `allgather`, `allreduce`, `sendReceive`) first
    /// waits in a barrier until every rank has arrived; off by default.
    ///
    /// On, the time a rank waits for the slowest one (load imbalance, a late neighbour) is
    /// measured apart, as `waitSeconds`, and `communicationSeconds` holds only calls that all
    /// ranks entered together: the split `tandem bench --distributed` reports. The price is one
    /// barrier per collective (a few microseconds between the ranks of one machine, counted as
    /// waiting), and a neighbour exchange then waits for every rank, not only its neighbours.
    /// Every rank must set the same value (the barriers are collective).
    ///
    ///     let world = try Communicator.world()
    ///     world.separatesWaiting = true
    ///     _ = try world.allreduce(Double(world.rank), .sum)
    ///     let waited = world.statistics.waitSeconds        // time in the barrier before it
    public var separatesWaiting: Bool {
        get { clock.separates.load(ordering: .relaxed) }
        set { clock.separates.store(newValue, ordering: .relaxed) }
    }

    /// The barrier a collective starts with when `separatesWaiting` is on (counted as waiting).
    func arrive() throws {
        guard separatesWaiting else { return }
        try barrier()
    }
}
