#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Environment and machine facts without Foundation.
public enum ProcessInfoLite {
    public static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC).
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The bytes of a file, or nil when it cannot be read.
    public static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 16) }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// The last system error in words ("Read-only file system"), for one-line messages; read it
    /// right after the failing call.
    public static func errnoDescription() -> String { String(cString: strerror(errno)) }

    /// Writes `bytes` to `path` (created or truncated, mode 0644). Returns false on failure
    /// (`errno` says why).
    @discardableResult
    public static func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) } == bytes.count
    }

    /// An executable by path, or by name on `PATH`.
    public static func executable(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in (environment("PATH") ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// This process's executable (`/proc/self/exe`), or nil where it cannot be read.
    public static var executablePath: String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the name of each entry of `folder` (`.` and `..` included) until it
    /// returns false; nothing when the folder cannot be opened.
    public static func forEachEntry(in folder: String, _ body: (String) -> Bool) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        // The name is read where it lies: `entry.pointee` would copy a whole `dirent`, and glibc
        // packs entries by `d_reclen`, shorter than the struct for short names, so the copy of
        // the last entry of its buffer read past the end (a crash in memmove listing a /tmp of a
        // few hundred entries).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if !body(name) { return }
        }
    }

    /// Seconds since `path` was last modified (not followed through a link), or nil when it
    /// does not exist.
    ///
    /// Now is read from the fine-grained clock: `time(nil)` reads the coarse one, which Linux
    /// (6.13 and later, multigrain timestamps) lets fall behind the time it stamps a file with,
    /// so a file touched just after a second began was a second in the future (here 13,550 of
    /// 2,000,000 touches, in bursts) and a folder's sweep stamp, set a moment before, was not
    /// recent.
    public static func age(of path: String) -> Int? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        #if os(Linux)
        let modified = st.st_mtim.tv_sec
        #else
        let modified = st.st_mtimespec.tv_sec
        #endif
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec - modified)
    }

    /// Creates the marker file `path` exclusively (private, not through a link), taking it over
    /// when it is older than `staleAfter` seconds (a leftover of a process that was killed).
    /// Returns whether this process now holds it. One piece of work at a time across processes
    /// (a compile handed on at exit, the calibration handed on at exit) is claimed this way.
    public static func claimMarker(_ path: String, staleAfter: Int) -> Bool {
        func create() -> Bool {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
            if fd >= 0 { close(fd); return true }
            return false
        }
        if create() { return true }
        if let age = age(of: path), age <= staleAfter { return false }
        unlink(path)
        return create()
    }

    /// Paths matching a shell pattern, sorted (so the newest Python comes last).
    public static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// Python's package folders, found without starting Python: the active virtual environment
    /// or conda prefix, the user's (`~/.local`, pyenv's versions), the prefix of each `python3`
    /// on `PATH`, and the system's. Libraries that pip wheels carry (NVRTC, NumPy's OpenBLAS)
    /// are looked for in them.
    public static func pythonSitePackages() -> [String] {
        var patterns: [String] = []
        for prefix in [environment("VIRTUAL_ENV"), environment("CONDA_PREFIX")].compactMap({ $0 }) {
            patterns.append(prefix + "/lib/python3*/site-packages")
        }
        if let home = environment("HOME") {
            patterns.append(home + "/.local/lib/python3*/site-packages")
            patterns.append((environment("PYENV_ROOT") ?? home + "/.pyenv") + "/versions/*/lib/python3*/site-packages")
        }
        for dir in (environment("PATH") ?? "").split(separator: ":") {
            let exe = "\(dir)/python3"
            guard access(exe, X_OK) == 0 else { continue }
            // <prefix>/bin/python3 -> <prefix>/lib/python3*/site-packages, for the folder on PATH
            // (a virtual environment's python3 is a link to the system's, so the folder itself
            // names the environment) and for where the link leads.
            var paths = [exe]
            if let real = realpath(exe, nil) { paths.append(String(cString: real)); free(real) }
            for path in paths {
                let bin = path[..<(path.lastIndex(of: "/") ?? path.endIndex)]
                let prefix = bin[..<(bin.lastIndex(of: "/") ?? bin.endIndex)]
                if !prefix.isEmpty { patterns.append(prefix + "/lib/python3*/site-packages") }
            }
        }
        patterns += ["/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3/dist-packages"]
        var seen: Set<String> = []
        return patterns.flatMap(glob).filter { seen.insert($0).inserted }
    }

    /// Writes one line to standard error.
    public static func warn(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
