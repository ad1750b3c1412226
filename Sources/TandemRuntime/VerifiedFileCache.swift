#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto

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
        var h = SHA256()
        for part in parts {
            h.update(data: Array(part.utf8))
            h.update(data: [0])
        }
        return hex(h.finalize())
    }

    public static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        d.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    public func entryPath(_ key: String) -> String { "\(folder)/\(key)\(suffix)" }
    func hashPath(_ key: String) -> String { "\(folder)/\(key).sha256" }

    public enum Lookup: Equatable {
        case miss
        /// An entry existed but failed verification; it has been deleted.
        case rejected
        /// A verified entry (for `read`, its bytes: the very bytes that were verified).
        case hit(path: String, bytes: [UInt8])
    }

    /// Creates the root and the folder if needed (0700) and checks they are private.
    public func ensureFolders() throws {
        try VerifiedFileCache.ensurePrivateDirectory(root)
        try VerifiedFileCache.ensurePrivateDirectory(folder)
    }

    /// Whether a verified entry for `key` exists (for entries loaded by path, like `dlopen`).
    /// The bytes of a hit are not kept (`bytes` is empty).
    public func lookup(_ key: String) -> Lookup {
        let path = entryPath(key)
        guard access(path, F_OK) == 0 else { return .miss }
        if trustedFile(path), let bytes = try? VerifiedFileCache.readFile(path), matchesRecordedHash(bytes, key) {
            return .hit(path: path, bytes: [])
        }
        unlink(path)
        return .rejected
    }

    /// The bytes of the entry for `key`, read once and verified (no window between check and use).
    public func read(_ key: String) -> Lookup {
        let path = entryPath(key)
        guard access(path, F_OK) == 0 else { return .miss }
        if trustedFile(path), let bytes = try? VerifiedFileCache.readFile(path), matchesRecordedHash(bytes, key) {
            return .hit(path: path, bytes: bytes)
        }
        unlink(path)
        return .rejected
    }

    /// Stores an entry that `produce` writes at the temporary path it is given (a compiler's
    /// output file); returns the entry's path.
    @discardableResult
    public func store(_ key: String, produce: (String) throws -> Void) throws -> String {
        try ensureFolders()
        let tmp = "\(folder)/.\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))\(suffix)"
        defer { unlink(tmp) }
        try produce(tmp)
        // The producer (a compiler) creates its output with the user's umask: under umask 002 it
        // was group-writable, so every entry was rejected by the next process and rebuilt.
        guard chmod(tmp, 0o700) == 0 else {
            throw TandemError.loadFailed(path: tmp, reason: "cannot make the compiled kernel private: \(String(cString: strerror(errno)))")
        }
        let digest = VerifiedFileCache.hex(SHA256.hash(data: try VerifiedFileCache.readFile(tmp)))
        let hashTmp = tmp + ".sha256"
        defer { unlink(hashTmp) }
        try VerifiedFileCache.writeFile(hashTmp, Array(digest.utf8))
        let path = entryPath(key)
        guard rename(hashTmp, hashPath(key)) == 0, rename(tmp, path) == 0 else {
            throw TandemError.loadFailed(path: path, reason: "could not move the compiled kernel into the cache: errno \(errno)")
        }
        return path
    }

    /// Stores `bytes` as the entry for `key`.
    @discardableResult
    public func store(_ key: String, bytes: [UInt8]) throws -> String {
        try store(key) { try VerifiedFileCache.writeFile($0, bytes) }
    }

    private func trustedFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_uid == getuid() && st.st_mode & 0o022 == 0
    }

    private func matchesRecordedHash(_ bytes: [UInt8], _ key: String) -> Bool {
        guard let recorded = try? VerifiedFileCache.readFile(hashPath(key)) else { return false }
        return String(decoding: recorded, as: UTF8.self) == VerifiedFileCache.hex(SHA256.hash(data: bytes))
    }

    static func ensurePrivateDirectory(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) != 0 {
            // Create parents as needed; the cache folder itself is private to the user.
            var path = ""
            for part in dir.split(separator: "/") {
                path += "/" + part
                if stat(path, &st) != 0 { mkdir(path, path == dir ? 0o700 : 0o755) }
            }
            guard stat(dir, &st) == 0 else {
                throw TandemError.loadFailed(path: dir, reason: "cannot create the cache folder: errno \(errno)")
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid(), st.st_mode & 0o022 == 0 else {
            throw TandemError.loadFailed(
                path: dir, reason: "the cache folder must be a directory owned by you and writable by no one else")
        }
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        guard let bytes = ProcessInfoLite.contents(of: path) else {
            throw TandemError.loadFailed(path: path, reason: "cannot read: errno \(errno)")
        }
        return bytes
    }

    /// Creates `path` (it must not exist) with mode 0600 and writes `bytes`.
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o600)
        guard fd >= 0 else { throw TandemError.loadFailed(path: path, reason: "cannot create: errno \(errno)") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
        guard n == bytes.count else { throw TandemError.loadFailed(path: path, reason: "short write") }
    }
}
