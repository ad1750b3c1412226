#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
    public static let flags = ["-O3", "-march=native", "-fno-math-errno", "-fopenmp-simd", "-std=c11",
                               "-fPIC", "-shared", "-w"]

    /// A toolchain at an explicit path (tests use this to simulate a broken compiler).
    public init(path: String, identity: String) {
        self.path = path
        self.identity = identity
    }

    public static func find() -> Result<CPUToolchain, ToolchainError> {
        var candidates: [String] = []
        if let cc = ProcessInfoLite.environment("TANDEM_CC") {
            guard let p = resolve(cc) else { return .failure(.notFound("TANDEM_CC=\(cc) is not an executable")) }
            candidates = [p]
        } else {
            for swift in ["swiftc", "swift"] {
                if let s = resolve(swift) {
                    let real = realpath(s, nil).map { p -> String in defer { free(p) }; return String(cString: p) } ?? s
                    let dir = String(real[..<(real.lastIndex(of: "/") ?? real.endIndex)])
                    candidates.append(dir + "/clang")
                }
            }
            for name in ["clang", "cc", "gcc"] { if let p = resolve(name) { candidates.append(p) } }
        }
        for c in candidates where access(c, X_OK) == 0 {
            switch Subprocess.run([c, "--version"]) {
            case .success(let r) where r.status == 0:
                let first = r.output.split(separator: "\n").first.map(String.init) ?? c
                return .success(CPUToolchain(path: c, identity: first))
            default: continue
            }
        }
        return .failure(.notFound("no C compiler found (set TANDEM_CC, or install clang or gcc)"))
    }

    /// Finds an executable by path or on `PATH`.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in (ProcessInfoLite.environment("PATH") ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Compiles `sourcePath` into the shared object `outputPath`; on failure returns the log.
    func compile(sourcePath: String, outputPath: String) -> (ok: Bool, log: String) {
        let args = [path] + CPUToolchain.flags + ["-o", outputPath, sourcePath, "-lm"]
        switch Subprocess.run(args) {
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

/// Runs a program with an argument vector and collects its combined output.
enum Subprocess {
    struct Result { var status: Int32; var output: String }
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func run(_ argv: [String]) -> Swift.Result<Result, Failure> {
        var template = Array("/tmp/tandem-out-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return .failure(Failure(description: "mkstemp failed: errno \(errno)")) }
        let outPath = String(cString: template)
        defer { close(fd); unlink(outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cargs, environ)
        guard rc == 0 else { return .failure(Failure(description: "could not start \(argv[0]): \(String(cString: strerror(rc)))")) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        lseek(fd, 0, SEEK_SET)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return .success(Result(status: code, output: String(decoding: bytes, as: UTF8.self)))
    }
}
