#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Runs a program with an argument vector and collects its combined output.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        /// Set when the program ran past the time limit and was killed (with its process group).
        public var timedOut = false
    }
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Process groups of programs started with a time limit and still running: killed when this
    /// process exits, so a compile on a background thread never outlives the program (a stuck
    /// compiler's children were left behind).
    private static let running = Mutex<Set<pid_t>>([])
    private static let exitHook: Void = { atexit { Subprocess.killRunning() } }()

    static func track(_ pid: pid_t) {
        _ = exitHook
        running.withLock { _ = $0.insert(pid) }
    }

    static func untrack(_ pid: pid_t) { running.withLock { _ = $0.remove(pid) } }

    /// Set when this process is exiting and its timed children were killed: a compile that
    /// fails then was stopped, not broken.
    public static let exiting = Atomic<Bool>(false)

    /// Sleeps `seconds` in steps of 50 ms; false as soon as the process is exiting (`exiting`):
    /// how work put off to the side (the quick calibration, the compiler's hash) waits for the
    /// program to have run a while, without holding its exit.
    public static func sleepUnlessExiting(_ seconds: Double) -> Bool {
        var waited = 0.0
        while waited < seconds {
            usleep(50_000)
            waited += 0.05
            if exiting.load(ordering: .relaxed) { return false }
        }
        return true
    }

    static func killRunning() {
        exiting.store(true, ordering: .relaxed)
        for pid in running.withLock({ $0 }) {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
    }

    /// Runs `argv` (no shell), waits, and returns the exit status and combined output. With a
    /// `timeout` (seconds), a program still running then is killed with everything it started
    /// (it runs in a process group of its own) and the result says `timedOut`.
    public static func run(_ argv: [String], timeout: Double? = nil) -> Swift.Result<Result, Failure> {
        var template = Array("/tmp/tandem-out-XXXXXX".utf8CString)
        // Removed from /tmp at once and read back through the descriptor: a process killed
        // while its child runs leaves nothing behind (hundreds of `tandem-out-*` files had
        // piled up from killed test runs). Close-on-exec: other children never inherit it.
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return .failure(Failure(description: "mkstemp failed: \(ProcessInfoLite.errnoDescription())")) }
        unlink(String(cString: template))
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if timeout != nil {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        var pid = pid_t()
        // A machine busy starting processes can refuse one for a moment (EAGAIN): try again
        // briefly rather than report a compiler as missing.
        var rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cargs, environ)
        var attempts = 1
        while rc == EAGAIN && attempts < 20 {
            usleep(UInt32(5_000 * attempts))
            rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cargs, environ)
            attempts += 1
        }
        guard rc == 0 else { return .failure(Failure(description: "could not start \(argv[0]): \(String(cString: strerror(rc)))")) }
        if timeout != nil { Subprocess.track(pid) }
        defer { if timeout != nil { Subprocess.untrack(pid) } }
        var status: Int32 = 0
        var timedOut = false
        if let timeout {
            let deadline = ProcessInfoLite.monotonicNanos() + UInt64(max(0, timeout) * 1e9)
            var pause: UInt32 = 1_000
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno != EINTR) { break }
                if ProcessInfoLite.monotonicNanos() >= deadline {
                    timedOut = true
                    kill(-pid, SIGKILL)
                    kill(pid, SIGKILL)
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    break
                }
                usleep(pause)
                pause = min(pause * 2, 20_000)
            }
        } else {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let exited = (status & 0x7f) == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        lseek(fd, 0, SEEK_SET)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return .success(Result(status: code, output: String(decoding: bytes, as: UTF8.self), timedOut: timedOut))
    }
}

extension Subprocess {
    /// `s` as one word for `/bin/sh`: in single quotes, each quote inside closed, escaped and
    /// reopened.
    public static func shellQuoted(_ s: String) -> String {
        "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// Runs the shell `script` in the background of a shell that exits at once (and is reaped
    /// here), so the script is no child of this process: it outlives it, is not killed at exit
    /// (`finishAfterExit`), and never shows up in this process's `wait` calls. A detached child
    /// left unreaped hung the test suite: swift-testing's exit-test monitor waits for any child
    /// and spun on the stranger. Every descriptor the process holds is closed in the child (0, 1
    /// and 2 go to /dev/null): an exiting test's pipes, or a shell's, must not stay open until the
    /// script ends. Returns whether it started; false, starting nothing, where descriptors cannot
    /// be closed that way (`closeFrom` is nil).
    public static func spawnDetached(script: String) -> Bool {
        guard let closeFrom = Subprocess.closeFrom else { return false }
        let argv = ["/bin/sh", "-c", "( \(script) ) </dev/null >/dev/null 2>&1 &"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard closeFrom(&actions, 3) == 0 else { return false }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        #if os(Linux)
        posix_spawnattr_setflags(&attributes, Int16(0x80))      // POSIX_SPAWN_SETSID
        #endif
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid = pid_t()
        guard posix_spawn(&pid, argv[0], &actions, &attributes, &cargs, environ) == 0 else { return false }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return true
    }
}

extension Subprocess {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time:
    /// Swift's Glibc module does not declare it (it is a GNU extension).
    static let closeFrom: CloseFrom? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
        #else
        return nil
        #endif
    }()
}

/// Runs `body` on a new detached thread whose scheduling priority is lowered by `niceness`
/// (Linux: per thread; the processes it starts, such as compiler runs, inherit it), so that work
/// on the side yields the cores to the program; with `nil`, the thread keeps the caller's
/// priority. Returns false when no thread could be started.
@discardableResult
public func startBackgroundThread(niceness: Int32?, _ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        let niceness: Int32?
        init(_ body: @escaping @Sendable () -> Void, _ niceness: Int32?) { self.body = body; self.niceness = niceness }
    }
    let box = Unmanaged.passRetained(Box(body, niceness))
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
        #if os(Linux)
        // On Linux PRIO_PROCESS with id 0 is the calling thread (the nice value is per thread).
        if let niceness = box.niceness { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
        #endif
        box.body()
        return nil
    }, box.toOpaque())
    guard rc == 0 else { box.release(); return false }
    pthread_detach(thread)
    return true
}
