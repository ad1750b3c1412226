#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Synchronization

/// A program or library as a cache key names it: its resolved path and the SHA-256 of its
/// bytes, not only the version it reports (a wrapper printing clang's banner, or another NVRTC
/// reporting the same version, could otherwise fill the cache with entries a normal run would
/// later load). The hash is computed once per binary and remembered in the cache folder
/// (`compilers/`) under the binary's device, inode, size and modification time, so a process
/// pays one `stat` for it. The C compiler (`CPUToolchain`) and NVRTC are keyed this way.
///
///     let f = BinaryFingerprint.of("/usr/bin/clang")      // "/usr/lib/llvm-19/bin/clang 3f5a..."
public enum BinaryFingerprint {
    /// Fingerprints known (`known`) and binaries being hashed (`computing`), under `state`: a
    /// caller of `of` waits for a hash under way rather than starting a second one, and any
    /// hash that finishes wakes every waiter (`publish`).
    private static let state = Condition()
    nonisolated(unsafe) private static var known: [String: String] = [:]
    nonisolated(unsafe) private static var computing: Set<String> = []
    /// Binaries whose hash was started on the side.
    private static let hashStarted = Mutex<Set<String>>([])

    /// The fingerprint of the binary at `path`, hashed now if it is not known (or, while
    /// another thread hashes it, when that hash is done).
    public static func of(_ path: String) -> String {
        state.lock()
        while known[path] == nil && computing.contains(path) { state.wait() }
        if let f = known[path] {
            state.unlock()
            return f
        }
        computing.insert(path)
        state.unlock()
        return publish(path, compute(path))
    }

    /// Records `f` as the fingerprint of `path` (the first one published stays: a second hash
    /// of the same bytes is the same) and wakes every caller waiting for it.
    private static func publish(_ path: String, _ f: String) -> String {
        state.withLock {
            if known[path] == nil { known[path] = f }
            computing.remove(path)
            state.broadcast()
            return known[path]!
        }
    }

    /// Waits up to `seconds` for the hash of `path` under way (the one `ifKnown` started at the
    /// lowest priority), then hashes it on the calling thread if it is still not known: at exit,
    /// on a busy machine, a hash at nice 19 may not get a core for a long time.
    public static func finish(_ path: String, waiting seconds: Double) {
        let deadline = ProcessInfoLite.monotonicNanos() + UInt64(seconds * 1e9)
        while true {
            let (isKnown, underWay) = state.withLock { (known[path] != nil, computing.contains(path)) }
            if isKnown { return }
            if !underWay {
                _ = of(path)
                return
            }
            if ProcessInfoLite.monotonicNanos() >= deadline {
                _ = publish(path, compute(path))
                return
            }
            usleep(2_000)
        }
    }

    /// The fingerprint when it is known without hashing the binary (in memory, or remembered in
    /// `compilers/`); otherwise nil, and the hash starts on a background thread at the lowest
    /// priority once the program has run `sideHashDelaySeconds`: on a machine's first run it
    /// is 0.1 s of a core (a 167 MB clang), which the program's interpreted kernels and
    /// compiles need more (heat's first run on two cores took 0.27 s hashing beside them,
    /// 0.19-0.22 s with the hash known). Started at once, even at the lowest priority, it still
    /// cost a first run of cavity_flow a tenth (0.26-0.31 s against 0.25-0.27 s with the hash
    /// known: it reads 167 MB through the caches the program's kernels use whenever a core
    /// idles). Nothing waits for it while the program runs (`whenKnown` waits without hashing);
    /// what needs it at exit (`CPUKernelCache`'s stores and hand-offs) gets it there (`finish`,
    /// which hashes it then if it is not under way), when the cores are free.
    public static func ifKnown(_ path: String) -> String? {
        if let f = state.withLock({ known[path] }) { return f }
        if let f = remembered(path) { return publish(path, f) }
        if hashStarted.withLock({ $0.insert(path).inserted }) {
            _ = startBackgroundThread(niceness: 19) {
                // As the calibration's (`Calibration.sideDelaySeconds`): a short program hashes
                // at exit, a long one on the side while its own work dominates.
                guard Subprocess.sleepUnlessExiting(sideHashDelaySeconds) else { return }
                _ = BinaryFingerprint.of(path)
            }
        }
        return nil
    }

    /// How long a program runs before an unknown compiler is hashed on the side (`ifKnown`).
    public static let sideHashDelaySeconds = 2.0

    /// The fingerprint of `path` once someone has computed it (the hash `ifKnown` starts, or
    /// `finish` at exit), waiting without hashing: for work that can wait for it at no cost
    /// to the program (`CPUKernelCache`'s stores of kernels compiled before it was known).
    public static func whenKnown(_ path: String) -> String {
        state.lock()
        while known[path] == nil { state.wait() }
        let f = known[path]!
        state.unlock()
        return f
    }

    /// The resolved path and the binary's stamp (device, inode, size, modification time).
    private static func stamped(_ path: String) -> (real: String, stamp: String)? {
        guard let resolved = realpath(path, nil) else { return nil }
        let real = String(cString: resolved)
        free(resolved)
        var st = stat()
        guard stat(real, &st) == 0 else { return nil }
        return (real, "\(st.st_dev) \(st.st_ino) \(st.st_size) \(st.st_mtim.tv_sec) \(st.st_mtim.tv_nsec)")
    }

    /// Where `compilers/` keeps what is remembered of the binary at `real`: its hash, or the
    /// record `what` names (`--version`'s line).
    private static func record(_ real: String, _ what: String? = nil) -> (folder: String, file: String) {
        let folder = VerifiedFileCache.defaultRoot + "/compilers"
        return (folder, folder + "/" + VerifiedFileCache.key([real] + (what.map { [$0] } ?? [])))
    }

    /// The value of a record (`<stamp>\n<value>`, at most `limit` bytes) when its stamp is the
    /// binary's now.
    private static func rememberedValue(_ record: (folder: String, file: String), stamp: String, limit: Int) -> String? {
        guard let bytes = VerifiedFileCache.readPrivateFile(record.file, limit: limit) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        return lines.count == 2 && lines[0] == stamp ? String(lines[1]) : nil
    }

    /// Writes a record (best effort: remembering only saves work).
    private static func remember(_ value: String, in record: (folder: String, file: String), stamp: String) {
        if (try? VerifiedFileCache.ensurePrivateDirectory(VerifiedFileCache.defaultRoot)) != nil,
           (try? VerifiedFileCache.ensurePrivateDirectory(record.folder)) != nil {
            try? VerifiedFileCache.writeAtomically(record.file, Array("\(stamp)\n\(value)".utf8))
        }
    }

    /// The fingerprint remembered in `compilers/` for the binary as it is now, if any.
    public static func remembered(_ path: String) -> String? {
        guard let (real, stamp) = stamped(path) else { return nil }
        return remembered(real: real, stamp: stamp)
    }

    private static func remembered(real: String, stamp: String) -> String? {
        rememberedValue(record(real), stamp: stamp, limit: 1024).map { "\(real) \($0)" }
    }

    /// The first line `path --version` prints, remembered in `compilers/` under the binary's
    /// stamp as its hash is, so that finding the C compiler (`CPUToolchain.find`) does not start
    /// it in every process (50 ms at every program's start here). `ask` runs the binary when
    /// nothing is remembered for it as it is now; nil (it failed) is not remembered.
    ///
    ///     let line = BinaryFingerprint.version(of: "/usr/bin/clang") { "clang version 19.1.7" }
    public static func version(of path: String, ask: () -> String?) -> String? {
        guard let (real, stamp) = stamped(path) else { return ask() }
        let versionRecord = record(real, "--version")
        if let line = rememberedValue(versionRecord, stamp: stamp, limit: 4096) { return line }
        guard let line = ask(), !line.isEmpty, !line.contains("\n") else { return nil }
        remember(line, in: versionRecord, stamp: stamp)
        return line
    }

    /// Hashes the binary at `path` (unless remembered) and remembers the result.
    public static func compute(_ path: String) -> String {
        guard let (real, stamp) = stamped(path) else { return "\(path) (unresolved or unreadable)" }
        if let known = remembered(real: real, stamp: stamp) { return known }
        let hashRecord = record(real)
        // Hash the binary (once per machine and version).
        let fd = open(real, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "\(real) (unreadable)" }
        defer { close(fd) }
        var hasher = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 20) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            hasher.update(data: chunk[0..<n])
        }
        let digest = VerifiedFileCache.hex(hasher.finalize())
        remember(digest, in: hashRecord, stamp: stamp)
        return "\(real) \(digest)"
    }
}
