#if canImport(Glibc)
import Glibc
#endif
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
/// kernels those OpenBLAS versions use for such CPUs; `tandem devices` says so.
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
    private enum Functions {
        case lp64(Dgemm, Sgemm)
        case ilp64(Dgemm64, Sgemm64)
    }
    private let functions: Functions?

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
            (availability, functions) = (.unavailable("disabled by TANDEM_BLAS=off"), nil)
            return
        }
        var coreNote = ""
        if ProcessInfoLite.environment("OPENBLAS_CORETYPE") == nil, let core = BLAS.coreType() {
            setenv("OPENBLAS_CORETYPE", core, 0)
            coreNote = ", OPENBLAS_CORETYPE=\(core) from the CPU's flags"
        }
        typealias Config = @convention(c) () -> UnsafePointer<CChar>?
        let found = DynamicLibrary.first(of: BLAS.candidates(), needing: "cblas_dgemm/cblas_sgemm") { lib -> (Functions, String?)? in
            if let d = lib.optionalSymbol("cblas_dgemm", as: Dgemm.self), let s = lib.optionalSymbol("cblas_sgemm", as: Sgemm.self) {
                return (.lp64(d, s), lib.optionalSymbol("openblas_get_config", as: Config.self).flatMap { $0() }.map { String(cString: $0) })
            }
            if let d = lib.optionalSymbol("scipy_cblas_dgemm64_", as: Dgemm64.self), let s = lib.optionalSymbol("scipy_cblas_sgemm64_", as: Sgemm64.self) {
                return (.ilp64(d, s), lib.optionalSymbol("scipy_openblas_get_config64_", as: Config.self).flatMap { $0() }.map { String(cString: $0) })
            }
            return nil
        }
        switch found {
        case .success(let (lib, (f, config))):
            let what = config.map { " (\($0)\(coreNote))" } ?? ""
            (availability, functions) = (.available(lib.path + what), f)
        case .failure(let why):
            (availability, functions) = (.unavailable(why.description), nil)
        }
    }

    public var isAvailable: Bool { functions != nil }

    /// Whether `gemm` can take a product of these sides (within the BLAS's integers).
    public func accepts(m: Int, n: Int, k: Int) -> Bool {
        switch functions {
        case nil: false
        case .lp64: [m, n, k].allSatisfy { $0 > 0 && $0 <= Int(Int32.max) }
        case .ilp64: [m, n, k].allSatisfy { $0 > 0 }
        }
    }

    /// `C = A B` for row-major `A` (m × k, leading dimension `lda`), `B` (k × n, `ldb`) and
    /// `C` (m × n, `ldc`), of `Double` (`float64`) or `Float` (`float32`) elements. Check
    /// `accepts` first.
    public func gemm(float32: Bool, m: Int, n: Int, k: Int, a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int,
                     c: UnsafeMutableRawPointer, ldc: Int) {
        precondition(accepts(m: m, n: n, k: k), "internal: gemm of \(m)x\(n)x\(k) without a BLAS that accepts it")
        let rowMajor: Int32 = 101, noTrans: Int32 = 111
        switch (functions!, float32) {
        case (.lp64(_, let sgemm), true):
            sgemm(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a.assumingMemoryBound(to: Float.self), Int32(lda),
                  b.assumingMemoryBound(to: Float.self), Int32(ldb), 0, c.assumingMemoryBound(to: Float.self), Int32(ldc))
        case (.lp64(let dgemm, _), false):
            dgemm(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a.assumingMemoryBound(to: Double.self), Int32(lda),
                  b.assumingMemoryBound(to: Double.self), Int32(ldb), 0, c.assumingMemoryBound(to: Double.self), Int32(ldc))
        case (.ilp64(_, let sgemm), true):
            sgemm(rowMajor, noTrans, noTrans, Int64(m), Int64(n), Int64(k), 1, a.assumingMemoryBound(to: Float.self), Int64(lda),
                  b.assumingMemoryBound(to: Float.self), Int64(ldb), 0, c.assumingMemoryBound(to: Float.self), Int64(ldc))
        case (.ilp64(let dgemm, _), false):
            dgemm(rowMajor, noTrans, noTrans, Int64(m), Int64(n), Int64(k), 1, a.assumingMemoryBound(to: Double.self), Int64(lda),
                  b.assumingMemoryBound(to: Double.self), Int64(ldb), 0, c.assumingMemoryBound(to: Double.self), Int64(ldc))
        }
    }
}
