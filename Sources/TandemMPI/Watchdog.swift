#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemRuntime

/// Ends a rank whose MPI call has waited longer than `TANDEM_MPI_TIMEOUT` seconds (default 300;
/// 0 turns it off), with a message naming the call.
///
/// What Open MPI does by itself: when a rank dies (a signal, a non-zero exit, an exit without
/// `MPI_Finalize`), `mpirun` kills every other rank and says which rank died, so a crash does not
/// hang the job; a rank whose peer vanished mid-message may also see its call fail, which Tandem
/// throws as an `MPIError` (the communicator returns errors). What MPI offers nothing for: ranks
/// that are all alive but wait for each other forever (one skipped a collective, or called
/// another): each would wait in its call. This watchdog is the timeout for that: a background
/// thread looks once a second at the call in progress, and past the limit it says which call
/// waited how long and exits the rank (status 3), after which `mpirun` ends the others.
final class Watchdog: Sendable {
    let rank: Int, size: Int
    let limitSeconds: Double
    /// When the call in progress started (monotonic nanoseconds), 0 when none is.
    private let since = Atomic<UInt64>(0)
    private let name = Mutex<String>("")

    /// The limit `TANDEM_MPI_TIMEOUT` sets, nil when off (a bad value is said once, and the
    /// default used).
    static func limit(_ text: String?) -> Double? {
        let fallback = 300.0
        guard let text else { return fallback }
        guard let v = Double(text), v.isFinite, v >= 0 else {
            ProcessInfoLite.warn("tandem: TANDEM_MPI_TIMEOUT=\(text) is not a number of seconds; using \(Int(fallback))")
            return fallback
        }
        return v == 0 ? nil : v
    }

    /// The watchdog of this rank, running, or nil when the limit is off.
    static func start(rank: Int, size: Int) -> Watchdog? {
        guard let limit = limit(ProcessInfoLite.environment("TANDEM_MPI_TIMEOUT")) else { return nil }
        let dog = Watchdog(rank: rank, size: size, limitSeconds: limit)
        _ = startBackgroundThread(niceness: nil) { dog.watch() }
        return dog
    }

    private init(rank: Int, size: Int, limitSeconds: Double) {
        self.rank = rank
        self.size = size
        self.limitSeconds = limitSeconds
    }

    func enter(_ call: String) {
        name.withLock { $0 = call }
        since.store(max(1, ProcessInfoLite.monotonicNanos()), ordering: .releasing)
    }

    func leave() { since.store(0, ordering: .releasing) }

    private func watch() {
        let step = UInt32(min(1.0, max(0.05, limitSeconds / 4)) * 1e6)
        while true {
            usleep(step)
            let start = since.load(ordering: .acquiring)
            guard start != 0 else { continue }
            let waited = Double(ProcessInfoLite.monotonicNanos() &- start) * 1e-9
            guard waited > limitSeconds else { continue }
            let call = name.withLock { $0 }
            let limitText = limitSeconds == limitSeconds.rounded() ? String(Int(limitSeconds)) : "\(limitSeconds)"
            ProcessInfoLite.warn("tandem: rank \(rank) of \(size): \(call) has waited \(Int(waited.rounded())) s for the other ranks (TANDEM_MPI_TIMEOUT=\(limitText), 0 turns the limit off): a rank stopped, or the ranks did not make the same collective calls; ending this rank, and mpirun ends the others")
            _exit(3)
        }
    }
}
