#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Synchronization
import TandemRuntime

/// Compiled kernels in memory and on disk, keyed by SHA-256 of (source, compiler identity, flags,
/// CPU identity), so a second run of a program compiles nothing.
///
/// Loading native code from a folder is a way in for an attacker, so the cache trusts an entry only
/// when: the folder is owned by the user and writable by no one else (it is created 0700), the file
/// is owned by the user and not group- or world-writable, and its SHA-256 matches the one recorded
/// when it was built. Anything else is rebuilt (and counted as rejected), never loaded.
public final class CPUKernelCache: Sendable {
    public let directory: String
    private let loaded = Mutex<[String: LoadedLibrary]>([:])

    public init(directory: String? = nil) {
        if let d = directory {
            self.directory = d
        } else if let d = ProcessInfoLite.environment("TANDEM_CACHE_DIR") {
            self.directory = d
        } else {
            let home = ProcessInfoLite.environment("HOME") ?? "/tmp"
            self.directory = home + "/.cache/tandem"
        }
    }

    public static func key(source: String, toolchain: CPUToolchain) -> String {
        var h = SHA256()
        for part in [source, toolchain.identity, toolchain.flags.joined(separator: " "), CPUIdentity.current] {
            h.update(data: Array(part.utf8))
            h.update(data: [0])
        }
        return hex(h.finalize())
    }

    static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        d.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    public func entryPath(_ key: String) -> String { "\(directory)/cpu/\(key).so" }
    private func hashPath(_ key: String) -> String { "\(directory)/cpu/\(key).sha256" }

    /// Forgets loaded libraries (the disk stays), so the next lookup goes to disk.
    public func dropMemory() { loaded.withLock { $0.removeAll() } }

    /// Whether `library(source:...)` would find the code loaded, on disk, or compile it (for the
    /// cost model; the disk entry is verified only when it is loaded).
    public func state(source: String, toolchain: CPUToolchain) -> CodeState {
        let key = CPUKernelCache.key(source: source, toolchain: toolchain)
        if loaded.withLock({ $0[key] }) != nil { return .ready }
        return access(entryPath(key), F_OK) == 0 ? .onDisk : .missing
    }

    /// Compiles `source` outside the cache and loads it once, returning both times in seconds
    /// (the calibrator measures the compiler this way; nothing is kept).
    public func measureCompile(source: String, toolchain: CPUToolchain) throws -> (compile: Double, load: Double) {
        try ensurePrivateDirectory(directory)
        try ensurePrivateDirectory(directory + "/cpu")
        let tmp = "\(directory)/cpu/.calibrate.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let src = tmp + ".c", obj = tmp + ".so"
        defer { unlink(src); unlink(obj) }
        try writeFile(src, Array(source.utf8))
        let t0 = ProcessInfoLite.monotonicNanos()
        let (ok, log) = toolchain.compile(sourcePath: src, outputPath: obj)
        guard ok else { throw TandemError.compileFailed(compiler: toolchain.path, log: log, source: source) }
        let t1 = ProcessInfoLite.monotonicNanos()
        guard let handle = dlopen(obj, RTLD_NOW | RTLD_LOCAL) else {
            throw TandemError.loadFailed(path: obj, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        let t2 = ProcessInfoLite.monotonicNanos()
        dlclose(handle)
        return (Double(t1 - t0) / 1e9, Double(t2 - t1) / 1e9)
    }

    enum Outcome { case memory, disk, compiled }

    /// The library for `source`, from memory, from a verified disk entry, or compiled now.
    func library(source: String, toolchain: CPUToolchain, statistics: StatisticsBox) throws -> LoadedLibrary {
        let key = CPUKernelCache.key(source: source, toolchain: toolchain)
        if let lib = loaded.withLock({ $0[key] }) {
            statistics.update { $0.compileMemoryHits += 1 }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (memory hit)", start: ProcessInfoLite.monotonicNanos(), detail: "memory"))
            return lib
        }
        try ensurePrivateDirectory(directory)
        try ensurePrivateDirectory(directory + "/cpu")
        let path = entryPath(key)
        if access(path, F_OK) == 0 {
            if verified(path: path, key: key), let lib = try? LoadedLibrary(path: path) {
                statistics.update { $0.compileDiskHits += 1 }
                Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (disk hit)", start: ProcessInfoLite.monotonicNanos(), detail: "disk"))
                loaded.withLock { $0[key] = lib }
                return lib
            }
            statistics.update { $0.cacheRejected += 1 }
            unlink(path)
        }
        let start = ProcessInfoLite.monotonicNanos()
        let tmp = "\(directory)/cpu/.\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let src = tmp + ".c", obj = tmp + ".so"
        defer { unlink(src); unlink(obj) }
        try writeFile(src, Array(source.utf8))
        let (ok, log) = toolchain.compile(sourcePath: src, outputPath: obj)
        guard ok else { throw TandemError.compileFailed(compiler: toolchain.path, log: log, source: source) }
        let digest = try sha256(file: obj)
        try writeFile(hashPath(key) + ".tmp", Array(digest.utf8))
        guard rename(hashPath(key) + ".tmp", hashPath(key)) == 0, rename(obj, path) == 0 else {
            throw TandemError.loadFailed(path: path, reason: "could not move the compiled kernel into the cache: errno \(errno)")
        }
        let lib = try LoadedLibrary(path: path)
        let elapsed = ProcessInfoLite.monotonicNanos() - start
        statistics.update {
            $0.compileMisses += 1
            $0.compileNanos += elapsed
        }
        Tracer.shared.record(TraceEvent(kind: .compile, name: "compile", start: start, duration: elapsed, detail: "miss \(key.prefix(12))"))
        loaded.withLock { $0[key] = lib }
        return lib
    }

    private func verified(path: String, key: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, st.st_uid == getuid(), st.st_mode & 0o022 == 0,
              let recorded = try? readFile(hashPath(key)), let actual = try? sha256(file: path) else { return false }
        return String(decoding: recorded, as: UTF8.self) == actual
    }

    private func ensurePrivateDirectory(_ dir: String) throws {
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

    private func sha256(file: String) throws -> String {
        CPUKernelCache.hex(SHA256.hash(data: try readFile(file)))
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let bytes = ProcessInfoLite.contents(of: path) else {
        throw TandemError.loadFailed(path: path, reason: "cannot read: errno \(errno)")
    }
    return bytes
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o600)
    guard fd >= 0 else { throw TandemError.loadFailed(path: path, reason: "cannot create: errno \(errno)") }
    defer { close(fd) }
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
    guard n == bytes.count else { throw TandemError.loadFailed(path: path, reason: "short write") }
}

/// The machine's CPU model and feature flags (`-march=native` code is only valid on the same CPU).
enum CPUIdentity {
    static let current: String = {
        guard let bytes = try? readFile("/proc/cpuinfo") else { return "unknown-cpu" }
        let text = String(decoding: bytes, as: UTF8.self)
        var model = "", flags = ""
        for line in text.split(separator: "\n") {
            if model.isEmpty && line.hasPrefix("model name") { model = String(line) }
            if flags.isEmpty && (line.hasPrefix("flags") || line.hasPrefix("Features")) { flags = String(line) }
            if !model.isEmpty && !flags.isEmpty { break }
        }
        return model + "|" + flags
    }()
}

/// A `dlopen`ed kernel library and its entry points.
final class LoadedLibrary: @unchecked Sendable {
    typealias Rows = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, Int64, Int64) -> Void
    typealias Split = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, Int64, Int64, UnsafeMutableRawPointer?) -> Void
    typealias Combine = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, UnsafeRawPointer?, Int64) -> Void

    // This is safe: the handle stays open for the life of the process-wide cache entry.
    let handle: UnsafeMutableRawPointer
    let rows: Rows
    let split: Split?
    let combine: Combine?

    init(path: String) throws {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw TandemError.loadFailed(path: path, reason: String(cString: dlerror()))
        }
        handle = h
        guard let r = dlsym(h, "tandem_kernel") else {
            throw TandemError.loadFailed(path: path, reason: "no tandem_kernel symbol")
        }
        rows = unsafeBitCast(r, to: Rows.self)
        split = dlsym(h, "tandem_kernel_split").map { unsafeBitCast($0, to: Split.self) }
        combine = dlsym(h, "tandem_kernel_combine").map { unsafeBitCast($0, to: Combine.self) }
    }
}
