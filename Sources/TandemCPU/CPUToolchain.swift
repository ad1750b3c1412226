#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Synchronization
import TandemRuntime

/// The C compiler found at run time, and how to run it.
///
/// Search order: `TANDEM_CC` (a path or a name on `PATH`), the `clang` beside the Swift toolchain
/// (`swift`/`swiftc` on `PATH`), then `clang`, `cc`, `gcc` on `PATH`. The compiler is started with
/// an argument vector (`posix_spawn`), never through a shell.
public struct CPUToolchain: Sendable {
    public let path: String
    /// The first line of `--version`, part of every cache key.
    public let identity: String
    /// `-ffp-contract=off`: no multiply-add is fused into an FMA behind the code's back. Clang's
    /// default (`on`) contracts `a + b * c` within an expression, so compiled code rounded once
    /// where the interpreter and NumPy round twice (`linspace` was 1 ulp off in 108 of 250
    /// elements); every placement now rounds every operation.
    public static let baseFlags = ["-O3", "-march=native", "-fno-math-errno", "-ffp-contract=off", "-fopenmp-simd", "-std=c11",
                                   "-fPIC", "-shared", "-w"]

    /// The flags for this compiler: clang with glibc's vector math library (libmvec) also
    /// vectorises exp, log, sin, cos and pow (to within 4 ulp of libm).
    public var flags: [String] { usesLibmvec ? CPUToolchain.baseFlags + ["-fveclib=libmvec"] : CPUToolchain.baseFlags }

    /// Whether kernels link glibc's libmvec.
    public var usesLibmvec: Bool {
        let candidates: [String] = ["/lib/x86_64-linux-gnu/libmvec.so.1", "/usr/lib/x86_64-linux-gnu/libmvec.so.1", "/lib64/libmvec.so.1"]
        return identity.contains("clang") && candidates.contains { (path: String) in access(path, R_OK) == 0 }
    }

    /// A toolchain at an explicit path (tests use this to simulate a broken compiler).
    public init(path: String, identity: String) {
        self.path = path
        self.identity = identity
    }

    public static func find() -> Result<CPUToolchain, ToolchainError> {
        var candidates: [String] = []
        if let cc = ProcessInfoLite.environment("TANDEM_CC") {
            guard let p = ProcessInfoLite.executable(cc) else { return .failure(.notFound("TANDEM_CC=\(cc) is not an executable")) }
            candidates = [p]
        } else {
            for swift in ["swiftc", "swift"] {
                if let s = ProcessInfoLite.executable(swift) {
                    let real = realpath(s, nil).map { p -> String in defer { free(p) }; return String(cString: p) } ?? s
                    let dir = String(real[..<(real.lastIndex(of: "/") ?? real.endIndex)])
                    candidates.append(dir + "/clang")
                }
            }
            for name in ["clang", "cc", "gcc"] { if let p = ProcessInfoLite.executable(name) { candidates.append(p) } }
        }
        for c in candidates where access(c, X_OK) == 0 {
            let identity = BinaryFingerprint.version(of: c) {
                guard case .success(let r) = Subprocess.run([c, "--version"]), r.status == 0 else { return nil }
                return r.output.split(separator: "\n").first.map(String.init) ?? c
            }
            if let identity { return .success(CPUToolchain(path: c, identity: identity)) }
        }
        return .failure(.notFound("no C compiler found (set TANDEM_CC, or install clang or gcc)"))
    }

    /// Seconds a compile may take before it is stopped: `TANDEM_COMPILE_TIMEOUT`, else 120
    /// (a kernel compiles in well under a second; a compiler that never returns blocked a
    /// program forever).
    public static var compileTimeout: Double {
        ProcessInfoLite.environment("TANDEM_COMPILE_TIMEOUT").flatMap(Double.init).map { max(0.1, $0) } ?? 120
    }

    /// Set when a compile ran past the limit: the compiler is not started again in this process
    /// (every later kernel would wait the same limit behind it), and compiles fail at once.
    static let stalled = Mutex<String?>(nil)

    /// The compiler's command line for one kernel.
    func arguments(sourcePath: String, outputPath: String) -> [String] {
        [path] + flags + ["-o", outputPath, sourcePath] + (usesLibmvec ? ["-lmvec"] : []) + ["-lm"]
    }

    /// Compiles `sourcePath` into the shared object `outputPath`; on failure returns the log.
    func compile(sourcePath: String, outputPath: String) -> (ok: Bool, log: String) {
        if let why = CPUToolchain.stalled.withLock({ $0 }) { return (false, why) }
        let args = arguments(sourcePath: sourcePath, outputPath: outputPath)
        let limit = CPUToolchain.compileTimeout
        switch Subprocess.run(args, timeout: limit) {
        case .success(let r) where r.timedOut:
            let why = "the C compiler \(path) did not finish within \(limit) s (TANDEM_COMPILE_TIMEOUT) and was stopped; no more kernels are compiled in this process"
            CPUToolchain.stalled.withLock { $0 = why }
            return (false, why)
        case .success(let r): return (r.status == 0, r.output)
        case .failure(let e): return (false, "\(e)")
        }
    }
}

public enum ToolchainError: Error, CustomStringConvertible {
    case notFound(String)
    public var description: String {
        switch self { case .notFound(let s): s }
    }
}


extension CPUToolchain {
    /// The compiler as the cache key names it (`BinaryFingerprint`): its resolved path and the
    /// SHA-256 of its binary, not only the first line of `--version`.
    public var fingerprint: String { BinaryFingerprint.of(path) }

    /// The fingerprint when it is known without hashing the binary; otherwise nil, and the hash
    /// starts on the side. A program's first sync on a new machine looks kernels up this way:
    /// hashing a 167 MB clang took 0.15-0.6 s, all of it inside the user's first `item()`, while
    /// nothing can be in the cache under a compiler never hashed. Compiles do not wait for it:
    /// their objects are loaded from a temporary and stored under their keys (`fingerprint`)
    /// once the hash is there (`CPUKernelCache.library`).
    public var fingerprintIfKnown: String? { BinaryFingerprint.ifKnown(path) }

    static func computeFingerprint(_ path: String) -> String { BinaryFingerprint.compute(path) }
}
