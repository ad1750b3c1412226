#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// A shared library opened with `dlopen` (never closed: its functions live as long as the process).
///
///     switch DynamicLibrary.open(candidates: ["libcuda.so.1", "libcuda.so"]) {
///     case .success(let lib): let f = try lib.symbol("cuInit", as: PFN_cuInit.self)
///     case .failure(let why): print(why)          // every candidate and dlerror's reason
///     }
struct DynamicLibrary: @unchecked Sendable {
    // This is safe: the handle is never closed, so it stays valid for the process.
    let handle: UnsafeMutableRawPointer
    /// The candidate that opened.
    let path: String

    /// The first candidate that opens; otherwise a reason naming every candidate tried (with
    /// `dlerror`'s text for those that exist but would not load).
    static func open(candidates: [String]) -> Result<DynamicLibrary, LibraryNotFound> {
        var failures: [String] = []
        for c in candidates {
            if c.contains("/") && access(c, F_OK) != 0 {
                failures.append(c + " (absent)")
                continue
            }
            if let h = dlopen(c, RTLD_NOW | RTLD_LOCAL) { return .success(DynamicLibrary(handle: h, path: c)) }
            let why = dlerror().map { String(cString: $0) } ?? "unknown"
            failures.append(c.contains("/") ? "\(c) (\(why))" : "\(c) (not on the loader path)")
        }
        return .failure(LibraryNotFound(tried: failures))
    }

    /// The function `name` as `T`; throws naming the symbol and the library when it is absent.
    func symbol<T>(_ name: String, as: T.Type) throws -> T {
        guard let p = dlsym(handle, name) else {
            throw LibraryNotFound(tried: ["\(path) has no symbol \(name) (too old?)"])
        }
        return unsafeBitCast(p, to: T.self)
    }

    /// The function `name` as `T`, or nil.
    func optionalSymbol<T>(_ name: String, as: T.Type) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
    }
}

/// Why a library could not be used: what was tried, in order.
struct LibraryNotFound: Error, CustomStringConvertible {
    var tried: [String]
    var description: String { "tried " + tried.joined(separator: ", ") }
}

/// Where the CUDA libraries are looked for, in order.
///
/// Driver: `libcuda.so.1`, then `libcuda.so`, on the loader's path (the driver is installed with
/// the kernel module, never in a toolkit folder). NVRTC: `TANDEM_NVRTC` (a file) if set, else
/// `libnvrtc.so`, `libnvrtc.so.13`, `libnvrtc.so.12`, `libnvrtc.so.11.2` in `$CUDA_HOME/lib64`,
/// `/usr/local/cuda/lib64`, `/usr/lib/x86_64-linux-gnu`, the `nvidia/cuda_nvrtc/lib` and
/// `nvidia/cu13/lib` folders of pip wheels in the active virtual environment or conda prefix and
/// the system's site-packages (found with `glob`, no Python started), then the bare names on the
/// loader path.
public enum CUDALibraryPaths {
    public static let driverNames = ["libcuda.so.1", "libcuda.so"]
    public static let nvrtcNames = ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]

    public static func driverCandidates() -> [String] { driverNames }

    public static func nvrtcCandidates() -> [String] {
        if let explicit = ProcessInfoLite.environment("TANDEM_NVRTC") { return [explicit] }
        var out: [String] = []
        for d in nvrtcFolders() where access(d, F_OK) == 0 {
            for n in nvrtcNames where access(d + "/" + n, F_OK) == 0 { out.append(d + "/" + n) }
        }
        return out + nvrtcNames
    }

    /// The folders searched for NVRTC before the loader path, in order.
    public static func nvrtcFolders() -> [String] {
        var dirs: [String] = []
        if let home = ProcessInfoLite.environment("CUDA_HOME") { dirs += [home + "/lib64", home + "/lib"] }
        if let home = ProcessInfoLite.environment("CUDA_PATH") { dirs += [home + "/lib64"] }
        dirs += ["/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu"]
        var sitePatterns: [String] = []
        for prefix in [ProcessInfoLite.environment("VIRTUAL_ENV"), ProcessInfoLite.environment("CONDA_PREFIX")].compactMap({ $0 }) {
            sitePatterns.append(prefix + "/lib/python3*/site-packages")
        }
        if let home = ProcessInfoLite.environment("HOME") { sitePatterns.append(home + "/.local/lib/python3*/site-packages") }
        sitePatterns += ["/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3/dist-packages"]
        for site in sitePatterns.flatMap(glob) {
            dirs += [site + "/nvidia/cuda_nvrtc/lib", site + "/nvidia/cu13/lib"]
        }
        return dirs
    }

    /// Paths matching a shell pattern, sorted (newest Python last).
    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
