#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemRuntime

/// Compiled CUBIN images in memory and on disk (`cuda/` beside the CPU cache under
/// `TANDEM_CACHE_DIR` or `~/.cache/tandem`), keyed by SHA-256 of (source, NVRTC's version, path
/// and library hash (`NVRTC.cacheIdentity`), architecture), with the CPU cache's ownership, permission and hash checks (`VerifiedFileCache`).
///
///     let cache = CUDAKernelCache()
///     let cubin = try cache.cubin(source: src, architecture: "sm_90", nvrtc: nvrtc, statistics: stats)
///
/// Only the image is cached: loading it into a context (`cuModuleLoadData`) is per process and
/// per device, and is done by `CUDADevice`.
public final class CUDAKernelCache: Sendable {
    public let directory: String
    let files: VerifiedFileCache
    private let images = Mutex<[String: [UInt8]]>([:])

    public init(directory: String? = nil) {
        self.directory = directory ?? VerifiedFileCache.defaultRoot
        self.files = VerifiedFileCache(root: self.directory, subfolder: "cuda", suffix: ".cubin")
    }

    public static func key(source: String, nvrtc: String, architecture: String) -> String {
        VerifiedFileCache.key([source, nvrtc, architecture])
    }

    public func entryPath(_ key: String) -> String { files.entryPath(key) }

    /// Whether `cubin(source:...)` would find the image in memory, on disk, or compile it.
    public func state(source: String, architecture: String, nvrtc: NVRTC) -> CodeState {
        let key = CUDAKernelCache.key(source: source, nvrtc: nvrtc.cacheIdentity, architecture: architecture)
        if images.withLock({ $0[key] }) != nil { return .onDisk }     // still to be loaded as a module
        return access(entryPath(key), F_OK) == 0 ? .onDisk : .missing
    }

    /// Forgets the images in memory (the disk stays), as a new process would start.
    public func dropMemory() { images.withLock { $0.removeAll() } }

    /// The CUBIN for `source` on `architecture`: from memory, from a verified disk entry, or
    /// compiled now by NVRTC (throws `TandemError.compileFailed` with the log and the source).
    public func cubin(source: String, architecture: String, nvrtc: NVRTC, statistics: StatisticsBox) throws -> [UInt8] {
        let key = CUDAKernelCache.key(source: source, nvrtc: nvrtc.cacheIdentity, architecture: architecture)
        if let image = images.withLock({ $0[key] }) {
            statistics.update { $0.compileMemoryHits += 1 }
            return image
        }
        try files.ensureFolders()
        switch files.read(key) {
        case .hit(_, let bytes):
            statistics.update { $0.compileDiskHits += 1 }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (disk hit)", start: ProcessInfoLite.monotonicNanos(), device: "cuda", detail: "disk"))
            images.withLock { $0[key] = bytes }
            return bytes
        case .rejected:
            statistics.update { $0.cacheRejected += 1 }
        case .miss:
            break
        }
        let start = ProcessInfoLite.monotonicNanos()
        let image = try nvrtc.compile(source, architecture: architecture)
        try files.store(key, bytes: image)
        let elapsed = ProcessInfoLite.monotonicNanos() - start
        statistics.update {
            $0.compileMisses += 1
            $0.compileNanos += elapsed
        }
        Tracer.shared.record(TraceEvent(kind: .compile, name: "compile", start: start, duration: elapsed, device: "cuda",
                                        detail: "\(nvrtc.identity) \(architecture) miss \(key.prefix(12))"))
        images.withLock { $0[key] = image }
        return image
    }
}
