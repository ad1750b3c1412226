#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TandemRuntime

/// Compiled kernels in memory and on disk, keyed by SHA-256 of (source, compiler identity, flags,
/// CPU identity), so a second run of a program compiles nothing.
///
/// The disk side is a `VerifiedFileCache` (`cpu/` under the cache root): an entry is loaded only
/// from a private folder, owned by the user, with the SHA-256 recorded when it was built.
/// Anything else is rebuilt (and counted as rejected), never loaded.
public final class CPUKernelCache: Sendable {
    public let directory: String
    let files: VerifiedFileCache
    private let loaded = Mutex<[String: LoadedLibrary]>([:])

    public init(directory: String? = nil) {
        self.directory = directory ?? VerifiedFileCache.defaultRoot
        self.files = VerifiedFileCache(root: self.directory, subfolder: "cpu", suffix: ".so")
    }

    public static func key(source: String, toolchain: CPUToolchain) -> String {
        VerifiedFileCache.key([source, toolchain.identity, toolchain.flags.joined(separator: " "), CPUIdentity.current])
    }

    public func entryPath(_ key: String) -> String { files.entryPath(key) }

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
        try files.ensureFolders()
        let tmp = "\(files.folder)/.calibrate.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let src = tmp + ".c", obj = tmp + ".so"
        defer { unlink(src); unlink(obj) }
        try VerifiedFileCache.writeFile(src, Array(source.utf8))
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

    /// The library for `source`, from memory, from a verified disk entry, or compiled now.
    func library(source: String, toolchain: CPUToolchain, statistics: StatisticsBox) throws -> LoadedLibrary {
        let key = CPUKernelCache.key(source: source, toolchain: toolchain)
        if let lib = loaded.withLock({ $0[key] }) {
            statistics.update { $0.compileMemoryHits += 1 }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (memory hit)", start: ProcessInfoLite.monotonicNanos(), detail: "memory"))
            return lib
        }
        try files.ensureFolders()
        switch files.lookup(key) {
        case .hit(let path, _):
            if let lib = try? LoadedLibrary(path: path) {
                statistics.update { $0.compileDiskHits += 1 }
                Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (disk hit)", start: ProcessInfoLite.monotonicNanos(), detail: "disk"))
                loaded.withLock { $0[key] = lib }
                return lib
            }
            statistics.update { $0.cacheRejected += 1 }
        case .rejected:
            statistics.update { $0.cacheRejected += 1 }
        case .miss:
            break
        }
        let start = ProcessInfoLite.monotonicNanos()
        let path = try files.store(key) { obj in
            let src = obj + ".c"
            defer { unlink(src) }
            try VerifiedFileCache.writeFile(src, Array(source.utf8))
            let (ok, log) = toolchain.compile(sourcePath: src, outputPath: obj)
            guard ok else { throw TandemError.compileFailed(compiler: toolchain.path, log: log, source: source) }
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
}

/// The machine's CPU model and feature flags (`-march=native` code is only valid on the same CPU).
enum CPUIdentity {
    static let current: String = {
        guard let bytes = ProcessInfoLite.contents(of: "/proc/cpuinfo") else { return "unknown-cpu" }
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
    let rows: Rows?
    let split: Split?
    let combine: Combine?

    init(path: String) throws {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw TandemError.loadFailed(path: path, reason: String(cString: dlerror()))
        }
        handle = h
        rows = dlsym(h, "tandem_kernel").map { unsafeBitCast($0, to: Rows.self) }
        split = dlsym(h, "tandem_kernel_split").map { unsafeBitCast($0, to: Split.self) }
        combine = dlsym(h, "tandem_kernel_combine").map { unsafeBitCast($0, to: Combine.self) }
        // A kernel has rows, or split and combine (`Kernel.entries`), or all three.
        guard rows != nil || (split != nil && combine != nil) else {
            throw TandemError.loadFailed(path: path, reason: "no tandem_kernel or tandem_kernel_split/_combine symbols")
        }
    }
}
