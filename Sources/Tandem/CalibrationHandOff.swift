import TandemRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// The calibration of a machine without a profile, when the program is short. Measured on the
// side, a quick calibration takes one to four seconds next to the program (its kernels compile
// on the first run); a program that ends sooner never saved it, so every later run started it
// again, without a profile, with one core less for the program. Now the calibration on the side
// starts only once the program has run `sideDelaySeconds`, and a program that exits before it
// is saved hands it to a copy of its own executable, started detached at the lowest priority
// with a one-time token (`TANDEM_CALIBRATION_CHILD`): the TandemStart constructor hands that
// copy to `tandem_calibration_child_main` before `main`, which measures, saves and exits. The
// next run finds the profile.

extension Calibration {
    /// How long a program runs before its calibration on the side starts: a shorter program
    /// hands the calibration on at exit instead of sharing its cores with it.
    public static let sideDelaySeconds = 2.0

    enum SideState: Int {
        case waiting, running, saved, disturbed, failed
    }

    /// This process's calibration on the side (`SideState`), once one was started.
    static let sideState = Atomic<Int>(SideState.waiting.rawValue)

    /// Calibrations handed on at exit that have not finished: one at a time across processes
    /// (a marker in the cache folder, stale after `handOffStaleSeconds`).
    static var handOffMarker: String { Tandem.cpu.cache.directory + "/.calibrating" }
    static let handOffStaleSeconds = 300

    /// At exit (registered by `calibrateOnTheSide`): when the calibration on the side has not
    /// been saved (not started, still running, or disturbed by the program itself), starts it
    /// again in a detached copy of this executable. Nothing when it failed (it would again),
    /// when a profile appeared meanwhile, or when another process's hand-off is under way.
    /// Returns whether a copy was started.
    @discardableResult
    static func handOffAtExit() -> Bool {
        let state = SideState(rawValue: sideState.load(ordering: .relaxed)) ?? .failed
        guard state == .waiting || state == .running || state == .disturbed else { return false }
        if ProcessInfoLite.environment("TANDEM_CALIBRATE_AFTER_EXIT") == "0" { return false }
        let workers = Tandem.runtime.executor.workers
        guard load(workers: workers) == nil else { return false }
        let dir = Tandem.cpu.cache.directory
        mkdir(dir, 0o700)
        // One hand-off at a time: an exclusive marker, taken over once it is stale.
        guard ProcessInfoLite.claimMarker(handOffMarker, staleAfter: handOffStaleSeconds) else { return false }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<2).map { _ in
            let s = String(rng.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
        let ticket = dir + "/.calibrate-" + token
        let tfd = open(ticket, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard tfd >= 0 else { unlink(handOffMarker); return false }
        close(tfd)
        guard let exe = ProcessInfoLite.executablePath else { unlink(ticket); unlink(handOffMarker); return false }
        let started = Subprocess.spawnDetached(script: "exec nice -n 19 env TANDEM_CALIBRATION_CHILD=\(token) \(Subprocess.shellQuoted(exe))")
        if !started { unlink(ticket); unlink(handOffMarker) }
        return started
    }

    /// Whether `token` has the form `handOffAtExit` gives its tickets (32 lowercase hex digits):
    /// anything else never names a file.
    static func isTicketToken(_ token: String) -> Bool {
        token.utf8.count == 32 && token.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The copy's work (see the file's comment): the token must name a ticket the parent left
    /// in the cache folder (used once); then the quick calibration, twice, saved when the two
    /// agree. Never returns when the token is good; with a bad one, returns and the program
    /// runs as usual (the variable is cleared either way, so nothing it starts inherits it).
    static func calibrationChild(token: String) {
        unsetenv("TANDEM_CALIBRATION_CHILD")
        guard isTicketToken(token) else { return }
        let dir = Tandem.cpu.cache.directory
        guard unlink(dir + "/.calibrate-" + token) == 0 else { return }
        defer { unlink(handOffMarker); _exit(0) }
        let workers = Tandem.runtime.executor.workers
        guard load(workers: workers) == nil else { return }
        // Compiles handed on at the same exit run first (the next run wants them soonest, and
        // they would disturb the measurements): wait for them, up to two minutes.
        for _ in 0..<1200 where Tandem.cpu.cache.detachedCompilesRunning() { usleep(100_000) }
        do {
            // Up to three measurements, the first two that agree saved. The program has exited,
            // so the machine is as quiet as it will get: when all three disagree it is noisy
            // rather than busy (a shared VM), and the most central of them is saved anyway
            // (the one whose largest spread to the others is least); measured kernel times
            // correct its rates online. Saving nothing would leave every later run without a
            // profile, each handing the calibration on again.
            var measured: [MachineProfile] = []
            var agreed: MachineProfile? = nil
            for _ in 0..<3 where agreed == nil {
                let p = try measure(quick: true, workers: workers)
                if measured.contains(where: { MachineProfile.spread($0, p) <= maxSpread }) { agreed = p }
                measured.append(p)
            }
            func worstSpread(_ p: MachineProfile) -> Double { measured.map { MachineProfile.spread(p, $0) }.max() ?? 1 }
            // A profile out of range is refused by `save`: the next candidate is tried.
            for candidate in (agreed.map { [$0] } ?? []) + measured.sorted(by: { worstSpread($0) < worstSpread($1) }) {
                if (try? save(candidate)) != nil { return }
            }
        } catch {
            // Nothing to tell (no terminal): the next run starts from the estimates again.
        }
    }
}

/// Called by the TandemStart constructor, before `main`, in a copy of a program started by
/// `Calibration.handOffAtExit`.
@_cdecl("tandem_calibration_child_main")
public func tandemCalibrationChildMain(_ token: UnsafePointer<CChar>) {
    Calibration.calibrationChild(token: String(cString: token))
}
