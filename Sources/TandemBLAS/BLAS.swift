#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemRuntime

/// The CBLAS matrix product of the system's BLAS, loaded with `dlopen` at first use (never
/// linked: without a BLAS the package builds and runs, and products use generated kernels).
///
/// Looked for, in order: `TANDEM_BLAS` (a file; `off` disables the BLAS), then OpenBLAS
/// (`libopenblas.so.0`), BLIS (`libblis.so.4`), MKL (`libmkl_rt.so`) and the system's
/// `libcblas.so.3`/`libblas.so.3`, on the loader's path, then the OpenBLAS that NumPy's wheels
/// carry (`numpy.libs/libscipy_openblas64_*.so`, its 64-bit-integer interface
/// `scipy_cblas_dgemm64_`), so a machine with NumPy has the BLAS NumPy uses. A product with a
/// side over 2³¹ - 1 on a 32-bit-integer BLAS uses generated kernels.
///
/// OpenBLAS picks its kernels for the CPU when it is loaded; an older OpenBLAS that does not
/// know a newer CPU falls back to its slowest ones (Debian 12's 0.3.21 on an AVX-512 Xeon:
/// "Prescott", 20 GFLOP/s instead of 140). Unless `OPENBLAS_CORETYPE` is set, it is set before
/// loading from the CPU's flags (`SkylakeX` with AVX-512, `Haswell` with AVX2 and FMA), the
/// kernels those OpenBLAS versions use for such CPUs; `tandem devices` says so. Likewise
/// `OPENBLAS_THREAD_TIMEOUT` (`threadTimeout`), so that idle BLAS threads stop spinning soon.
///
///     if case .available(let lib) = BLAS.shared.availability { print("BLAS:", lib) }
public final class BLAS: Sendable {
    public static let shared = BLAS()

    public enum Availability: Sendable, Equatable, CustomStringConvertible {
        /// Loaded: the library's path and what it says of itself (OpenBLAS's configuration).
        case available(String)
        /// Not found or disabled, and why.
        case unavailable(String)

        public var description: String {
            switch self {
            case .available(let s): s
            case .unavailable(let why): "unavailable: \(why)"
            }
        }
    }

    public let availability: Availability

    typealias Dgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
                                      UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    /// The same with 64-bit integers (an ILP64 build such as NumPy's `scipy_openblas64_`).
    typealias Dgemm64 = @convention(c) (Int32, Int32, Int32, Int64, Int64, Int64, Double, UnsafePointer<Double>?, Int64,
                                        UnsafePointer<Double>?, Int64, Double, UnsafeMutablePointer<Double>?, Int64) -> Void
    typealias Sgemm64 = @convention(c) (Int32, Int32, Int32, Int64, Int64, Int64, Float, UnsafePointer<Float>?, Int64,
                                        UnsafePointer<Float>?, Int64, Float, UnsafeMutablePointer<Float>?, Int64) -> Void
    typealias Dgemv = @convention(c) (Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32,
                                      Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias Sgemv = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                      Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Dgemv64 = @convention(c) (Int32, Int32, Int64, Int64, Double, UnsafePointer<Double>?, Int64, UnsafePointer<Double>?, Int64,
                                        Double, UnsafeMutablePointer<Double>?, Int64) -> Void
    typealias Sgemv64 = @convention(c) (Int32, Int32, Int64, Int64, Float, UnsafePointer<Float>?, Int64, UnsafePointer<Float>?, Int64,
                                        Float, UnsafeMutablePointer<Float>?, Int64) -> Void
    private enum Functions {
        case lp64(Dgemm, Sgemm)
        case ilp64(Dgemm64, Sgemm64)
    }
    private enum VectorFunctions {
        case lp64(Dgemv, Sgemv)
        case ilp64(Dgemv64, Sgemv64)
    }
    private let functions: Functions?
    /// The matrix–vector product, when the library has it (every CBLAS does; looked up apart so
    /// that a library without it still serves `gemm`).
    private let vectorFunctions: VectorFunctions?
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetThreads = @convention(c) () -> Int32
    /// OpenBLAS's thread count control, when the library is an OpenBLAS, with the count it
    /// started with.
    private let threadControl: (set: SetThreads, initial: Int32)?
    /// The thread count last set through `threadControl` (0: not yet).
    private let threadsSet = Atomic<Int32>(0)

    /// Multiply-adds below which a product runs on one BLAS thread. OpenBLAS splits smaller
    /// products over its threads than pays on a machine whose cores also run Tandem's workers:
    /// its threads sleep between calls and their wake-up, or their spinning beside Tandem's
    /// workers, made 20,000 x 10 x 5 products 133-241 µs and their transposed 247-550 (runs
    /// alternating between the two) against 105 and 118 on one thread; from about 4M
    /// multiply-adds the threads pay (100,000 x 20 x 3: 650 µs against 1,050; `bench/probes`,
    /// `z_thin`, the seventeenth session).
    public static let singleThreadWork = 1 << 22

    /// `OPENBLAS_THREAD_TIMEOUT` set before loading unless the user set it: OpenBLAS's threads
    /// wait for work spinning (`sched_yield`) for 2^n cycles before they sleep, 2^28 by default
    /// (about 0.1 s here) after the library is loaded and after every call it splits. Tandem's
    /// workers and its host passes (a median's lanes) share those cores: in a bootstrap port
    /// that computed one small correlation by BLAS, the spinning threads took a third of the
    /// program's samples (`perf`), and it ran 0.095-0.11 s against 0.067-0.085 with 2^20
    /// (0.4 ms: calls closer than that still find them awake).
    public static let threadTimeout = 20

    /// The libraries tried, in order.
    public static func candidates() -> [String] {
        if let explicit = ProcessInfoLite.environment("TANDEM_BLAS"), !explicit.isEmpty { return [explicit] }
        let numpys = ProcessInfoLite.pythonSitePackages().flatMap { site in
            ProcessInfoLite.glob(site + "/numpy.libs/libscipy_openblas64_*.so") + ProcessInfoLite.glob(site + "/scipy_openblas64/lib/libscipy_openblas64_*.so")
        }
        return ["libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libmkl_rt.so", "libcblas.so.3", "libblas.so.3"] + numpys
    }

    /// `OPENBLAS_CORETYPE` for this CPU (see the type's comment), or nil to leave it to OpenBLAS.
    static func coreType() -> String? {
        #if arch(x86_64)
        guard let info = ProcessInfoLite.contents(of: "/proc/cpuinfo") else { return nil }
        let text = String(decoding: info, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        #endif
        return nil
    }

    private init() {
        if ProcessInfoLite.environment("TANDEM_BLAS") == "off" {
            (availability, functions, vectorFunctions, threadControl) = (.unavailable("disabled by TANDEM_BLAS=off"), nil, nil, nil)
            return
        }
        var coreNote = ""
        if ProcessInfoLite.environment("OPENBLAS_CORETYPE") == nil, let core = BLAS.coreType() {
            setenv("OPENBLAS_CORETYPE", core, 0)
            coreNote = ", OPENBLAS_CORETYPE=\(core) from the CPU's flags"
        }
        if ProcessInfoLite.environment("OPENBLAS_THREAD_TIMEOUT") == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", String(BLAS.threadTimeout), 0)
            coreNote += ", OPENBLAS_THREAD_TIMEOUT=\(BLAS.threadTimeout)"
        }
        typealias Config = @convention(c) () -> UnsafePointer<CChar>?
        struct Loaded {
            var functions: Functions
            var vector: VectorFunctions?
            var config: String?
            var threads: (set: SetThreads, initial: Int32)?
        }
        let found = DynamicLibrary.first(of: BLAS.candidates(), needing: "cblas_dgemm/cblas_sgemm") { lib -> Loaded? in
            // The plain CBLAS names, else those of NumPy's 64-bit-integer OpenBLAS.
            let (prefix, suffix) = lib.optionalSymbol("cblas_dgemm", as: UnsafeRawPointer.self) != nil ? ("", "") : ("scipy_", "64_")
            func symbol<T>(_ name: String, _ type: T.Type) -> T? { lib.optionalSymbol(prefix + name + suffix, as: type) }
            var loaded: Loaded
            if suffix.isEmpty, let d = symbol("cblas_dgemm", Dgemm.self), let s = symbol("cblas_sgemm", Sgemm.self) {
                loaded = Loaded(functions: .lp64(d, s))
                if let dv = symbol("cblas_dgemv", Dgemv.self), let sv = symbol("cblas_sgemv", Sgemv.self) { loaded.vector = .lp64(dv, sv) }
            } else if !suffix.isEmpty, let d = symbol("cblas_dgemm", Dgemm64.self), let s = symbol("cblas_sgemm", Sgemm64.self) {
                loaded = Loaded(functions: .ilp64(d, s))
                if let dv = symbol("cblas_dgemv", Dgemv64.self), let sv = symbol("cblas_sgemv", Sgemv64.self) { loaded.vector = .ilp64(dv, sv) }
            } else {
                return nil
            }
            loaded.config = symbol("openblas_get_config", Config.self).flatMap { $0() }.map { String(cString: $0) }
            if let set = symbol("openblas_set_num_threads", SetThreads.self), let get = symbol("openblas_get_num_threads", GetThreads.self) {
                loaded.threads = (set, get())
            }
            return loaded
        }
        switch found {
        case .success(let (lib, loaded)):
            let what = loaded.config.map { " (\($0)\(coreNote))" } ?? ""
            (availability, functions, vectorFunctions, threadControl) = (.available(lib.path + what), loaded.functions, loaded.vector, loaded.threads)
        case .failure(let why):
            (availability, functions, vectorFunctions, threadControl) = (.unavailable(why.description), nil, nil, nil)
        }
    }

    public var isAvailable: Bool { functions != nil }

    /// Whether `gemm` can take a product of these sides (within the BLAS's integers).
    public func accepts(m: Int, n: Int, k: Int) -> Bool {
        switch functions {
        case nil: false
        case .lp64: BLAS.fit([m, n, k], lp64: true)
        case .ilp64: BLAS.fit([m, n, k], lp64: false)
        }
    }

    /// Whether every side is positive and, for a 32-bit-integer interface, fits its `Int32`.
    private static func fit(_ sides: [Int], lp64: Bool) -> Bool {
        sides.allSatisfy { $0 > 0 && (!lp64 || $0 <= Int(Int32.max)) }
    }

    /// `C = op(A) op(B)` for row-major `A` (m × k, leading dimension `lda`; stored k × m when
    /// `transA`), `B` (k × n, `ldb`; stored n × k when `transB`) and `C` (m × n, `ldc`), of
    /// `Double` (`float64`) or `Float` (`float32`) elements. Check `accepts` first.
    public func gemm(float32: Bool, m: Int, n: Int, k: Int, a: UnsafeRawPointer, lda: Int, transA: Bool = false,
                     b: UnsafeRawPointer, ldb: Int, transB: Bool = false, c: UnsafeMutableRawPointer, ldc: Int) {
        precondition(accepts(m: m, n: n, k: k), "internal: gemm of \(m)x\(n)x\(k) without a BLAS that accepts it")
        chooseThreads(work: m * n * k)
        let rowMajor: Int32 = 101
        let ta: Int32 = transA ? 112 : 111, tb: Int32 = transB ? 112 : 111      // CblasTrans : CblasNoTrans
        switch (functions!, float32) {
        case (.lp64(_, let sgemm), true):
            sgemm(rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, a.assumingMemoryBound(to: Float.self), Int32(lda),
                  b.assumingMemoryBound(to: Float.self), Int32(ldb), 0, c.assumingMemoryBound(to: Float.self), Int32(ldc))
        case (.lp64(let dgemm, _), false):
            dgemm(rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, a.assumingMemoryBound(to: Double.self), Int32(lda),
                  b.assumingMemoryBound(to: Double.self), Int32(ldb), 0, c.assumingMemoryBound(to: Double.self), Int32(ldc))
        case (.ilp64(_, let sgemm), true):
            sgemm(rowMajor, ta, tb, Int64(m), Int64(n), Int64(k), 1, a.assumingMemoryBound(to: Float.self), Int64(lda),
                  b.assumingMemoryBound(to: Float.self), Int64(ldb), 0, c.assumingMemoryBound(to: Float.self), Int64(ldc))
        case (.ilp64(let dgemm, _), false):
            dgemm(rowMajor, ta, tb, Int64(m), Int64(n), Int64(k), 1, a.assumingMemoryBound(to: Double.self), Int64(lda),
                  b.assumingMemoryBound(to: Double.self), Int64(ldb), 0, c.assumingMemoryBound(to: Double.self), Int64(ldc))
        }
    }

    /// Runs the BLAS on one thread for `work` multiply-adds below `singleThreadWork`, on the
    /// library's own count otherwise (OpenBLAS; other libraries keep theirs). LAPACK's routines
    /// (`LAPACK`, the same library) call it too: the count is the library's, whoever set it last.
    func chooseThreads(work: Int) {
        guard let control = threadControl else { return }
        let want: Int32 = work < BLAS.singleThreadWork ? 1 : control.initial
        if threadsSet.exchange(want, ordering: .relaxed) != want { control.set(want) }
    }

    /// Whether `gemv` can take an `m × n` matrix (a library with `cblas_dgemv`, within its integers).
    public func acceptsVector(m: Int, n: Int) -> Bool {
        switch vectorFunctions {
        case nil: false
        case .lp64: BLAS.fit([m, n], lp64: true)
        case .ilp64: BLAS.fit([m, n], lp64: false)
        }
    }

    /// `y = op(A) x` for row-major `A` (m × n, leading dimension `lda`), `op(A)` = `A` or, with
    /// `trans`, its transpose; `x` with element stride `incx` (at least 1) and `y` contiguous.
    /// Check `acceptsVector` first.
    public func gemv(float32: Bool, m: Int, n: Int, a: UnsafeRawPointer, lda: Int, trans: Bool, x: UnsafeRawPointer, incx: Int,
                     y: UnsafeMutableRawPointer) {
        precondition(acceptsVector(m: m, n: n) && incx >= 1, "internal: gemv of \(m)x\(n) without a BLAS that accepts it")
        chooseThreads(work: m * n)
        let rowMajor: Int32 = 101, t: Int32 = trans ? 112 : 111
        switch (vectorFunctions!, float32) {
        case (.lp64(_, let sgemv), true):
            sgemv(rowMajor, t, Int32(m), Int32(n), 1, a.assumingMemoryBound(to: Float.self), Int32(lda), x.assumingMemoryBound(to: Float.self),
                  Int32(incx), 0, y.assumingMemoryBound(to: Float.self), 1)
        case (.lp64(let dgemv, _), false):
            dgemv(rowMajor, t, Int32(m), Int32(n), 1, a.assumingMemoryBound(to: Double.self), Int32(lda), x.assumingMemoryBound(to: Double.self),
                  Int32(incx), 0, y.assumingMemoryBound(to: Double.self), 1)
        case (.ilp64(_, let sgemv), true):
            sgemv(rowMajor, t, Int64(m), Int64(n), 1, a.assumingMemoryBound(to: Float.self), Int64(lda), x.assumingMemoryBound(to: Float.self),
                  Int64(incx), 0, y.assumingMemoryBound(to: Float.self), 1)
        case (.ilp64(let dgemv, _), false):
            dgemv(rowMajor, t, Int64(m), Int64(n), 1, a.assumingMemoryBound(to: Double.self), Int64(lda), x.assumingMemoryBound(to: Double.self),
                  Int64(incx), 0, y.assumingMemoryBound(to: Double.self), 1)
        }
    }
}
