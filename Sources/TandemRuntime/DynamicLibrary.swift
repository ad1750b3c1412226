#if canImport(Glibc)
import Glibc
#endif

/// A shared library opened with `dlopen` (never closed: its functions live as long as the process).
///
///     switch DynamicLibrary.open(candidates: ["libcuda.so.1", "libcuda.so"]) {
///     case .success(let lib): let f = try lib.symbol("cuInit", as: PFN_cuInit.self)
///     case .failure(let why): print(why)          // every candidate and dlerror's reason
///     }
public struct DynamicLibrary: @unchecked Sendable {
    // This is safe: the handle is never closed, so it stays valid for the process.
    public let handle: UnsafeMutableRawPointer
    /// The candidate that opened.
    public let path: String

    /// The first candidate that opens; otherwise a reason naming every candidate tried (with
    /// `dlerror`'s text for those that exist but would not load). `global` opens it with
    /// `RTLD_GLOBAL`, for a library whose own plugins resolve its symbols (Open MPI's
    /// `mca_*.so` components need `libmpi`'s); otherwise its symbols stay local.
    public static func open(candidates: [String], global: Bool = false) -> Result<DynamicLibrary, LibraryNotFound> {
        var failures: [String] = []
        for c in candidates {
            if c.contains("/") && access(c, F_OK) != 0 {
                failures.append(c + " (absent)")
                continue
            }
            if let h = dlopen(c, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)) { return .success(DynamicLibrary(handle: h, path: c)) }
            let why = dlerror().map { String(cString: $0) } ?? "unknown"
            failures.append(c.contains("/") ? "\(c) (\(why))" : "\(c) (not on the loader path)")
        }
        return .failure(LibraryNotFound(tried: failures))
    }

    /// The first of `candidates` that opens and in which `use` finds what it needs (nil: it
    /// lacks `needing`, and the next is tried); otherwise every candidate tried and why.
    ///
    ///     let lapack = DynamicLibrary.first(of: ["liblapack.so.3"], needing: "dgetrf_") { lib in
    ///         lib.optionalSymbol("dgetrf_", as: UnsafeRawPointer.self)
    ///     }
    public static func first<T>(of candidates: [String], needing: String, _ use: (DynamicLibrary) -> T?)
        -> Result<(library: DynamicLibrary, found: T), LibraryNotFound> {
        var failures: [String] = []
        for candidate in candidates {
            switch open(candidates: [candidate]) {
            case .failure(let why):
                failures += why.tried
            case .success(let lib):
                if let found = use(lib) { return .success((lib, found)) }
                failures.append("\(lib.path) (no \(needing))")
            }
        }
        return .failure(LibraryNotFound(tried: failures))
    }

    /// The function `name` as `T`; throws naming the symbol and the library when it is absent.
    public func symbol<T>(_ name: String, as: T.Type) throws -> T {
        guard let p = dlsym(handle, name) else {
            throw LibraryNotFound(tried: ["\(path) has no symbol \(name) (too old?)"])
        }
        return unsafeBitCast(p, to: T.self)
    }

    /// The function `name` as `T`, or nil.
    public func optionalSymbol<T>(_ name: String, as: T.Type) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
    }
}

/// Why a library could not be used: what was tried, in order.
public struct LibraryNotFound: Error, CustomStringConvertible {
    public var tried: [String]
    public init(tried: [String]) { self.tried = tried }
    public var description: String { "tried " + tried.joined(separator: ", ") }
}

