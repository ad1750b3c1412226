#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// The CBLAS matrix product of the system's BLAS, loaded with `dlopen` at first use (never
/// linked: without a BLAS the package builds and runs, and products use generated kernels).
///
/// Looked for, in order: `TANDEM_BLAS` (a file; `off` disables the BLAS), then OpenBLAS
/// (`libopenblas.so.0`), BLIS (`libblis.so.4`), MKL (`libmkl_rt.so`) and the system's
/// `libcblas.so.3`/`libblas.so.3`, on the loader's path. Only the LP64 interface (32-bit
/// integers) is used; a product with a side over 2³¹ - 1 uses generated kernels.
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
    private let dgemm: Dgemm?
    private let sgemm: Sgemm?

    /// The libraries tried, in order.
    public static func candidates() -> [String] {
        if let explicit = ProcessInfoLite.environment("TANDEM_BLAS"), !explicit.isEmpty { return [explicit] }
        return ["libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libmkl_rt.so", "libcblas.so.3", "libblas.so.3"]
    }

    private init() {
        if ProcessInfoLite.environment("TANDEM_BLAS") == "off" {
            (availability, dgemm, sgemm) = (.unavailable("disabled by TANDEM_BLAS=off"), nil, nil)
            return
        }
        var failures: [String] = []
        for candidate in BLAS.candidates() {
            switch DynamicLibrary.open(candidates: [candidate]) {
            case .failure(let why):
                failures += why.tried
            case .success(let lib):
                guard let d = lib.optionalSymbol("cblas_dgemm", as: Dgemm.self),
                      let s = lib.optionalSymbol("cblas_sgemm", as: Sgemm.self) else {
                    failures.append("\(lib.path) (no cblas_dgemm/cblas_sgemm)")
                    continue
                }
                typealias Config = @convention(c) () -> UnsafePointer<CChar>?
                let config = lib.optionalSymbol("openblas_get_config", as: Config.self).flatMap { $0() }.map { String(cString: $0) }
                (availability, dgemm, sgemm) = (.available(lib.path + (config.map { " (OpenBLAS \($0))" } ?? "")), d, s)
                return
            }
        }
        (availability, dgemm, sgemm) = (.unavailable("tried " + failures.joined(separator: ", ")), nil, nil)
    }

    public var isAvailable: Bool { dgemm != nil }

    /// Whether `gemm` can take a product of these sides (all within CBLAS's 32-bit integers).
    public func accepts(m: Int, n: Int, k: Int) -> Bool {
        isAvailable && [m, n, k].allSatisfy { $0 > 0 && $0 <= Int(Int32.max) }
    }

    /// `C = A B` for row-major `A` (m × k, leading dimension `lda`), `B` (k × n, `ldb`) and
    /// `C` (m × n, `ldc`), of `Double` (`float64`) or `Float` (`float32`) elements. Check
    /// `accepts` first.
    public func gemm(float32: Bool, m: Int, n: Int, k: Int, a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int,
                     c: UnsafeMutableRawPointer, ldc: Int) {
        precondition(accepts(m: m, n: n, k: k), "internal: gemm of \(m)x\(n)x\(k) without a BLAS that accepts it")
        let rowMajor: Int32 = 101, noTrans: Int32 = 111
        if float32 {
            sgemm!(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a.assumingMemoryBound(to: Float.self), Int32(lda),
                   b.assumingMemoryBound(to: Float.self), Int32(ldb), 0, c.assumingMemoryBound(to: Float.self), Int32(ldc))
        } else {
            dgemm!(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a.assumingMemoryBound(to: Double.self), Int32(lda),
                   b.assumingMemoryBound(to: Double.self), Int32(ldb), 0, c.assumingMemoryBound(to: Double.self), Int32(ldc))
        }
    }
}
