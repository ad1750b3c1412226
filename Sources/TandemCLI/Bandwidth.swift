#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemRuntime

/// Memory bandwidth, measured: the machine's (a parallel copy on all cores through the executor)
/// and what a fused Tandem kernel reaches on 10^7 doubles (`y = a * 1.5 + b`: 3 x 8 bytes each).
enum Bandwidth {
    struct Result {
        var machineGBs: Double
        var tandemGBs: Double
    }

    static func measure() throws -> Result {
        let n = 40_000_000  // 320 MB per buffer: far beyond any cache
        let src = Buffer(dtype: .float64, count: n), dst = Buffer(dtype: .float64, count: n)
        memset(src.pointer, 1, src.byteCount)
        memset(dst.pointer, 2, dst.byteCount)
        let executor = Tandem.runtime.executor
        let parts = executor.workers * 4
        var best = 0.0
        for _ in 0..<5 {
            let start = now()
            let chunks: [@Sendable (Int) -> Void] = (0..<parts).map { c in
                let lo = src.byteCount * c / parts, hi = src.byteCount * (c + 1) / parts
                return { _ in memcpy(dst.pointer + lo, src.pointer + lo, hi - lo); _ = (src, dst) }
            }
            executor.wait(executor.submit(label: "memcpy", dependencies: [], chunks: chunks))
            best = Swift.max(best, 2 * Double(src.byteCount) / (now() - start) / 1e9)
        }
        let m = 10_000_000
        let a = Tensor<Double>.uniform([m], seed: 1), b = Tensor<Double>.uniform([m], seed: 2)
        try a.flush(); try b.flush()
        _ = try a[0].item(); _ = try b[0].item()
        var tandem = 0.0
        for i in 0..<6 {
            let y = a * 1.5 + b
            let start = now()
            try y.flush()
            try Tandem.runtime.wait(for: [y.node.storage!])
            if i > 0 { tandem = Swift.max(tandem, 3 * 8 * Double(m) / (now() - start) / 1e9) }
        }
        return Result(machineGBs: best, tandemGBs: tandem)
    }

    /// Bytes a memory-bound workload must move at least (every array read once and written once
    /// per sweep or step), or nil for compute-bound ones.
    static func mustMove(_ workload: String, _ p: [String: Double], elementBytes: Double) -> Double? {
        let n = (p["n"] ?? 0) + 2
        switch workload {
        case "sor": return (p["max_iterations"] ?? 0) * (n * n + (n - 2) * (n - 2)) * elementBytes
        case "red_black_sor": return (p["iterations"] ?? 0) * (n * n + (n - 2) * (n - 2)) * elementBytes
        case "shallow_water": return (p["steps"] ?? 0) * 3 * 2 * n * n * elementBytes
        default: return nil
        }
    }
}

/// Reference outputs computed by `reference.py` (NumPy) for parameters the built-in table lacks.
enum PythonReference {
    static func outputs(_ workload: String, _ params: [String: Double]) -> [String: Double]? {
        guard case .success(let command) = PackageFiles.python("bench/peers/reference.py") else { return nil }
        let args = params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }
        ProcessInfoLite.warn("bench: computing the reference for \(workload) with \(command[1])")
        guard case .success(let r) = Subprocess.run(command + [workload] + args), r.status == 0 else { return nil }
        // The line is {"workload": ..., "outputs": {"k": v, ...}, "seconds": ...}.
        let parts = r.output.split(separator: "{", omittingEmptySubsequences: false)
        guard parts.count >= 3, let body = parts[2].split(separator: "}").first else { return nil }
        var out: [String: Double] = [:]
        for item in body.split(separator: ",") {
            let kv = item.split(separator: ":").map { $0.filter { $0 != "\"" && $0 != " " } }
            if kv.count == 2, let v = Double(kv[1]) { out[kv[0]] = v }
        }
        return out.isEmpty ? nil : out
    }
}

/// Files shipped with the package (the NumPy reference script, the peers), found beside the
/// `tandem` binary, never in the current folder: a script placed where the user happens to
/// stand must not run (`tandem run --check` ran `./bench/peers/reference.py` before).
enum PackageFiles {
    /// `relative` in the package that built this binary: the nearest folder above the binary
    /// with a `Package.swift`, when the file there is a regular file owned by the user or root
    /// and writable by no one else. Nil otherwise.
    static func locate(_ relative: String) -> String? {
        guard var dir = ProcessInfoLite.executablePath else { return nil }
        while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
            dir = String(dir[..<slash])
            guard access(dir + "/Package.swift", F_OK) == 0 else { continue }
            let path = dir + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == getuid() || st.st_uid == 0,
                  st.st_mode & 0o022 == 0 else { return nil }
            return path
        }
        return nil
    }

    /// `[python3, script]` for this package's Python script `relative` (see `locate`), or why it
    /// cannot run, in the one line a peers report prints.
    static func python(_ relative: String) -> Result<[String], Unavailable> {
        guard let python = ProcessInfoLite.executable("python3") else { return .failure(Unavailable(why: "python3 not found")) }
        guard let script = locate(relative) else {
            return .failure(Unavailable(why: "\(relative) not found beside this binary's package (or not safe to run)"))
        }
        return .success([python, script])
    }

    struct Unavailable: Error {
        let why: String
    }
}
