#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Synchronization

/// A folder of compiled code on disk, shared by the device caches (`cpu/` shared objects,
/// `cuda/` CUBIN images), each entry named by the SHA-256 key of what produced it.
///
/// Loading native code from a folder is a way in for an attacker, so an entry is trusted only
/// when: the folder is owned by the user and writable by no one else (it is created 0700), the
/// file is owned by the user and not group- or world-writable, and its SHA-256 matches the one
/// recorded beside it when it was stored. Anything else is deleted and reported as rejected, never
/// used. Entries are written under a temporary name and renamed into place, so a reader never
/// sees half an entry and concurrent writers of one key are harmless.
///
///     let cache = VerifiedFileCache(root: VerifiedFileCache.defaultRoot, subfolder: "cuda", suffix: ".cubin")
///     let key = VerifiedFileCache.key([source, "NVRTC 12.9", "sm_90"])
///     if case .hit(_, let bytes) = cache.read(key) { use(bytes) } else { try cache.store(key, bytes: cubin) }
///
/// Entries are opened once and checked on that descriptor (`open(_:)`); a shared object is then
/// loaded from the descriptor itself, so a file swapped in after the check is never what runs.
public struct VerifiedFileCache: Sendable {
    /// The cache root (`TANDEM_CACHE_DIR`, else `~/.cache/tandem`).
    public let root: String
    /// `root/subfolder`, where the entries are.
    public let folder: String
    public let suffix: String

    public init(root: String, subfolder: String, suffix: String) {
        self.root = root
        self.folder = root + "/" + subfolder
        self.suffix = suffix
    }

    /// `TANDEM_CACHE_DIR`, else `~/.cache/tandem`, as an absolute path without empty, `.` or
    /// trailing components (a relative `TANDEM_CACHE_DIR` is resolved against the current folder).
    public static var defaultRoot: String {
        if let d = ProcessInfoLite.environment("TANDEM_CACHE_DIR") { return normalized(d) }
        return normalized((ProcessInfoLite.environment("HOME") ?? "/tmp") + "/.cache/tandem")
    }

    /// `path` made absolute (against the current folder) with `//`, `/./` and trailing `/`
    /// removed, so the last component is the one created private (`ensurePrivateDirectory`).
    public static func normalized(_ path: String) -> String {
        var full = path
        if !full.hasPrefix("/") {
            var buf = [CChar](repeating: 0, count: 4096)
            if getcwd(&buf, buf.count) != nil {
                full = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + full
            }
        }
        let parts = full.split(separator: "/").filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }

    /// SHA-256 (hex) of the parts, each followed by a NUL byte (so `["ab", "c"]` ≠ `["a", "bc"]`).
    public static func key(_ parts: [String]) -> String {
        key(parts, prefix: nil)
    }

    /// A text most first parts of `key` begin with (a renderer's preamble), hashed once: the
    /// hash of a part that begins with it resumes from this state instead of hashing it again.
    public struct KeyPrefix: Sendable {
        let bytes: [UInt8]
        let state: SHA256

        public init(_ text: String) {
            bytes = Array(text.utf8)
            var h = SHA256()
            h.update(data: bytes)
            state = h
        }
    }

    /// `key(parts)`, the same digest, with the hash of `prefix` taken from its state when the
    /// first part begins with it. A kernel's C source is its preamble (12 KB, the same for
    /// every kernel) and a short body; hashing it whole for every kernel a first sync looks up
    /// in the cache was a quarter of the lookups' time.
    public static func key(_ parts: [String], prefix: KeyPrefix?) -> String {
        var h = SHA256()
        for (i, part) in parts.enumerated() {
            var part = part
            part.withUTF8 { bytes in
                if i == 0, let prefix, bytes.starts(with: prefix.bytes) {
                    h = prefix.state
                    h.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[prefix.bytes.count...])))
                } else {
                    h.update(bufferPointer: UnsafeRawBufferPointer(bytes))
                }
            }
            h.update(data: [0])
        }
        return hex(h.finalize())
    }

    public static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        d.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    public func entryPath(_ key: String) -> String { "\(folder)/\(key)\(suffix)" }
    public func hashPath(_ key: String) -> String { "\(folder)/\(key).sha256" }

    public enum Lookup: Equatable {
        case miss
        /// An entry existed but failed verification; it has been deleted.
        case rejected
        /// A verified entry: its bytes, the very bytes that were verified.
        case hit(path: String, bytes: [UInt8])
    }

    /// An entry opened and verified through one descriptor: the caller loads `fd` itself
    /// (`dlopen("/proc/self/fd/N")`), so what was hashed is what runs, whatever happens to the
    /// path meanwhile.
    public struct OpenEntry: Sendable {
        public let path: String
        /// Open, read-only, close-on-exec; owned by the caller.
        public let fd: Int32
        public let bytes: [UInt8]
    }

    public enum OpenLookup {
        case miss
        case rejected(reason: String)
        case hit(OpenEntry)
    }

    /// The most bytes an entry (a shared object, a CUBIN image) may have.
    public static let maxEntryBytes = 256 << 20

    /// Creates the root and the folder if needed (0700) and checks they are private, and that no
    /// folder above them lets others replace them.
    public func ensureFolders() throws {
        try VerifiedFileCache.ensurePrivateDirectory(root)
        try VerifiedFileCache.ensurePrivateDirectory(folder)
        try VerifiedFileCache.checkParents(of: root)
        // On the side: listing a folder of ten thousand entries took 12 ms of a program's first
        // sync (a quarter second program).
        if VerifiedFileCache.swept.withLock({ $0.insert(folder).inserted }), VerifiedFileCache.sweepDue(folder) {
            let me = self
            if !startBackgroundThread(niceness: 19, { me.removeLeftovers() }) { removeLeftovers() }
        }
    }

    /// Seconds between two sweeps of a folder by any process: a leftover is removed only once it
    /// is `leftoverAge` (300 s) old, so sweeping more often finds nothing new, and a folder of
    /// thousands of entries listed by every short program took a core for 5-15 ms of each.
    public static let sweepInterval = 600

    /// Whether the folder's last sweep (the time of its `.swept` stamp) is `sweepInterval` or
    /// more ago; if so the stamp is set to now (made private, never through a link).
    public static func sweepDue(_ folder: String) -> Bool {
        let stamp = folder + "/.swept"
        if let age = ProcessInfoLite.age(of: stamp), age >= 0, age < sweepInterval { return false }
        let fd = Glibc.open(stamp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
        if fd >= 0 {
            _ = futimens(fd, nil)
            close(fd)
        }
        return true
    }

    /// `ensureFolders`, and the folder can take new entries: a read-only cache (a shared folder,
    /// a read-only mount) is named as such, not by the temporary file a compiler could not
    /// create. Its entries can still be read.
    public func ensureWritable() throws {
        try ensureFolders()
        guard access(folder, W_OK) == 0 else {
            throw TandemError.fileFailed(path: folder, reason: "the cache folder is not writable (\(ProcessInfoLite.errnoDescription())): compiled code cannot be stored")
        }
    }

    /// Folders already swept of leftovers by this process.
    private static let swept = Mutex<Set<String>>([])

    /// Removes the temporary files (`.<key>.<pid>.<n>...`) of processes that no longer exist and
    /// that are older than `leftoverAge` seconds: a writer killed between creating and renaming
    /// its entry leaves them behind. Files of live processes, and recent ones, are never touched.
    public func removeLeftovers(olderThan leftoverAge: Int = 300) {
        ProcessInfoLite.forEachEntry(in: folder) { name in
            guard name.hasPrefix("."), name != ".", name != ".." else { return true }
            let parts = name.dropFirst().split(separator: ".")
            guard parts.count >= 3, let pid = pid_t(parts[1]), pid > 0 else { return true }
            if kill(pid, 0) == 0 || errno != ESRCH { return true }
            let path = folder + "/" + name
            if let age = ProcessInfoLite.age(of: path), age > leftoverAge { unlink(path) }
            return true
        }
    }

    /// Opens the entry for `key` once (`O_NOFOLLOW`: a symbolic link is refused, not followed;
    /// `O_NONBLOCK`: a FIFO cannot block), checks on that descriptor that it is a regular file
    /// owned by the user, writable by no one else and of a bounded size, reads its bytes from
    /// it and compares their SHA-256 with the record beside it (read the same way, 64 bytes).
    /// Anything else is deleted and reported with the reason.
    public func open(_ key: String) -> OpenLookup {
        let path = entryPath(key)
        var lst = stat()
        guard lstat(path, &lst) == 0 else { return .miss }
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            VerifiedFileCache.remove(path, ifStill: lst)
            return .rejected(reason: "\(path): cannot open it without following links (\(why))")
        }
        func reject(_ why: String) -> OpenLookup {
            var checked = stat()
            if fstat(fd, &checked) == 0 { VerifiedFileCache.remove(path, ifStill: checked) }
            close(fd)
            return .rejected(reason: "\(path): \(why)")
        }
        guard let bytes = VerifiedFileCache.readTrusted(fd, limit: VerifiedFileCache.maxEntryBytes) else {
            return reject("not a regular file owned by you, writable by no one else, under \(VerifiedFileCache.maxEntryBytes >> 20) MiB")
        }
        guard let record = VerifiedFileCache.readPrivateFile(hashPath(key), limit: 64) else {
            return reject("no hash record that is a private regular file of 64 bytes")
        }
        guard String(decoding: record, as: UTF8.self) == VerifiedFileCache.hex(SHA256.hash(data: bytes)) else {
            return reject("its SHA-256 differs from the one recorded when it was stored")
        }
        return .hit(OpenEntry(path: path, fd: fd, bytes: bytes))
    }

    /// Removes the file at `path` only if it is still the one `checked` describes (same device
    /// and inode). A writer may rename a good entry over the path between a reader's check and
    /// its removal (two processes storing one key): the reader used to delete that good entry.
    /// The file is first renamed aside, atomically; if what moved is not the checked file, it is
    /// linked back (unless a newer one took the place meanwhile), so only the rejected file is
    /// ever deleted.
    public static func remove(_ path: String, ifStill checked: stat) {
        // Named like a writer's temporary (`.<key>.<pid>.<n>...`), so the leftover sweep removes it
        // if this process dies before it does.
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let key = path[slash...].prefix { $0 != "." }
        let aside = "\(path[..<slash]).\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).rejected"
        guard rename(path, aside) == 0 else { return }
        var moved = stat()
        if lstat(aside, &moved) == 0, moved.st_dev != checked.st_dev || moved.st_ino != checked.st_ino {
            _ = link(aside, path)           // fails, harmlessly, when a newer entry is already there
        }
        unlink(aside)
    }

    /// The bytes of the entry for `key`, read once and verified (no window between check and use).
    public func read(_ key: String) -> Lookup {
        switch open(key) {
        case .miss: return .miss
        case .rejected: return .rejected
        case .hit(let entry):
            close(entry.fd)
            return .hit(path: entry.path, bytes: entry.bytes)
        }
    }

    /// All the bytes behind `fd` when it is a regular file owned by the user, not writable by
    /// group or others, of at most `limit` bytes; nil otherwise (nothing beyond `limit` is read).
    public static func readTrusted(_ fd: Int32, limit: Int) -> [UInt8]? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == getuid(), st.st_mode & 0o022 == 0,
              st.st_size >= 0, Int(st.st_size) <= limit else { return nil }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        // A file that grew after fstat is not the file that was checked.
        var extra: UInt8 = 0
        guard pread(fd, &extra, 1, off_t(size)) == 0 else { return nil }
        return bytes
    }

    /// The bytes of the file at `path` when it is a private regular file of at most `limit`
    /// bytes (`readTrusted`), opened without following a link or blocking; nil otherwise.
    public static func readPrivateFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readTrusted(fd, limit: limit)
    }

    /// Writes `bytes` to `path` privately (0600) and atomically: to a temporary file beside it,
    /// synced, then renamed over it; the temporary is removed on any failure.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let tmp = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        defer { unlink(tmp) }
        try writeFile(tmp, bytes)
        let fd = Glibc.open(tmp, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, path) == 0 else {
            throw TandemError.fileFailed(path: path, reason: "cannot replace it: \(String(cString: strerror(errno)))")
        }
    }

    /// Why the cache folder `root` would not serve (its entries refused and never loaded, or
    /// nothing kept), or nil when it is safe or does not exist yet (it is created private).
    /// `tandem devices` says it.
    public static func safetyProblem(_ root: String) -> String? {
        var st = stat()
        if lstat(root, &st) == 0 {
            if (st.st_mode & S_IFMT) != S_IFDIR { return "\(root) is not a directory" }
            if st.st_uid != getuid() { return "\(root) is owned by uid \(st.st_uid), not by you" }
            if st.st_mode & 0o022 != 0 { return "\(root) can be written by others (mode \(String(st.st_mode & 0o7777, radix: 8)))" }
            if access(root, W_OK) != 0 { return "\(root) cannot be written (\(ProcessInfoLite.errnoDescription())): nothing compiled is kept" }
        }
        do { try checkParents(of: root) } catch { return "\(error)" }
        return nil
    }

    /// Throws naming the first folder above `dir` that someone else could write (and so replace
    /// `dir` in): not owned by the user or root, or group/world-writable without the sticky bit.
    static func checkParents(of dir: String) throws {
        var path = dir
        while let slash = path.lastIndex(of: "/"), path != "/" {
            path = slash == path.startIndex ? "/" : String(path[..<slash])
            var st = stat()
            guard stat(path, &st) == 0 else { return }
            let othersWrite = st.st_mode & 0o022 != 0 && st.st_mode & S_ISVTX == 0
            guard (st.st_uid == getuid() || st.st_uid == 0) && !othersWrite else {
                throw TandemError.fileFailed(
                    path: dir, reason: "the cache is unsafe: \(path) above it can be written by others (mode \(String(st.st_mode & 0o7777, radix: 8)), owner \(st.st_uid))")
            }
        }
    }

    /// Stores an entry that `produce` writes at the temporary path it is given (a compiler's
    /// output file); returns the entry's path.
    @discardableResult
    public func store(_ key: String, produce: (String) throws -> Void) throws -> String {
        try ensureWritable()
        let tmp = "\(folder)/.\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))\(suffix)"
        defer { unlink(tmp) }
        try produce(tmp)
        // The producer (a compiler) creates its output with the user's umask: under umask 002 it
        // was group-writable, so every entry was rejected by the next process and rebuilt.
        guard chmod(tmp, 0o700) == 0 else {
            throw TandemError.fileFailed(path: tmp, reason: "cannot make the compiled kernel private: \(String(cString: strerror(errno)))")
        }
        let digest = VerifiedFileCache.hex(SHA256.hash(data: try VerifiedFileCache.readFile(tmp)))
        let hashTmp = tmp + ".sha256"
        defer { unlink(hashTmp) }
        try VerifiedFileCache.writeFile(hashTmp, Array(digest.utf8))
        let path = entryPath(key)
        guard rename(hashTmp, hashPath(key)) == 0, rename(tmp, path) == 0 else {
            throw TandemError.fileFailed(path: path, reason: "could not move the compiled kernel into the cache: \(ProcessInfoLite.errnoDescription())")
        }
        return path
    }

    /// Stores `bytes` as the entry for `key`.
    @discardableResult
    public func store(_ key: String, bytes: [UInt8]) throws -> String {
        try store(key) { try VerifiedFileCache.writeFile($0, bytes) }
    }

    public static func ensurePrivateDirectory(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) != 0 {
            // Create parents as needed; the cache folder itself is private to the user.
            // The reason given is mkdir's own (`EACCES`, `EROFS`), not the final stat's `ENOENT`.
            var path = "", failure: String? = nil
            for part in dir.split(separator: "/") {
                path += "/" + part
                if stat(path, &st) != 0, mkdir(path, path == dir ? 0o700 : 0o755) != 0, errno != EEXIST {
                    failure = "cannot create \(path == dir ? "the cache folder" : path): \(ProcessInfoLite.errnoDescription())"
                    break
                }
            }
            guard stat(dir, &st) == 0 else {
                throw TandemError.fileFailed(path: dir, reason: failure ?? "cannot create the cache folder: \(ProcessInfoLite.errnoDescription())")
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid(), st.st_mode & 0o022 == 0 else {
            throw TandemError.fileFailed(
                path: dir, reason: "the cache folder must be a directory owned by you and writable by no one else")
        }
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        guard let bytes = ProcessInfoLite.contents(of: path) else {
            throw TandemError.fileFailed(path: path, reason: "cannot read: \(ProcessInfoLite.errnoDescription())")
        }
        return bytes
    }

    /// Creates `path` (it must not exist) with mode 0600 and writes `bytes`.
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o600)
        guard fd >= 0 else { throw TandemError.fileFailed(path: path, reason: "cannot create: \(ProcessInfoLite.errnoDescription())") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
        guard n == bytes.count else { throw TandemError.fileFailed(path: path, reason: "short write") }
    }
}
