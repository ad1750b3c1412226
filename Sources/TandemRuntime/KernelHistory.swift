#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Synchronization
import TandemIR

/// How often each kernel structure has run, across processes: `kernel-history` in the cache
/// folder, one line `<SHA-256 of the structure> <runs>` per kernel.
///
/// The cost model amortises a compile over the runs a kernel has had (`KernelRun.previousRuns`).
/// Counted per process, a kernel run once per program run (a border copy, an initialisation)
/// was charged its whole compile in every process and stayed in the interpreter forever; with
/// the history, its second process sees one earlier run, its third two, and so on, until
/// compiling pays.
///
/// The file only steers placement: a corrupt, missing or unreadable one counts as empty, and
/// what it says can at worst make a kernel compile sooner or later. It is read once (at most
/// `maxBytes`, never through a link), and written at exit to a private temporary file renamed
/// over it, merged with what other processes wrote meanwhile (runs add up; a race loses a few
/// counts, never corrupts the file).
public final class KernelHistory: Sendable {
    public let path: String
    /// Largest file read; a larger one is ignored (and rewritten at the next exit).
    public static let maxBytes = 4 << 20
    /// Most kernels kept: the most-run ones.
    public static let maxEntries = 20_000

    private struct State {
        var loaded: [String: Int]? = nil
        /// Runs added by this process, by key.
        var added: [String: Int] = [:]
        var keys: [Kernel: String] = [:]

        mutating func key(_ kernel: Kernel) -> String {
            if let k = keys[kernel] { return k }
            let k = KernelHistory.key(kernel)
            keys[kernel] = k
            return k
        }

        mutating func load(_ path: String) -> [String: Int] {
            if let loaded { return loaded }
            let table = KernelHistory.readTable(path)
            loaded = table
            return table
        }
    }
    private let state = Mutex(State())

    public init(path: String) { self.path = path }

    /// The stable key of a kernel's structure (the same in every process).
    public static func key(_ kernel: Kernel) -> String {
        SHA256.hash(data: Array(kernel.structureDescription.utf8)).map { String(format2hex: $0) }.joined()
    }

    /// Runs of `kernel` recorded by earlier processes and by this one.
    public func runs(_ kernel: Kernel) -> Int {
        state.withLock { s in
            let k = s.key(kernel)
            return (s.load(path)[k] ?? 0) + (s.added[k] ?? 0)
        }
    }

    /// Counts `runs` more runs of `kernel`.
    public func record(_ kernel: Kernel, runs: Int = 1) {
        guard runs > 0 else { return }
        state.withLock { s in s.added[s.key(kernel), default: 0] += runs }
    }

    /// Writes the merged history (at exit). Returns false when it could not be written.
    @discardableResult
    public func save() -> Bool {
        state.withLock { s in
            guard !s.added.isEmpty else { return true }
            var merged = KernelHistory.readTable(path)      // what others wrote since this process read it
            for (k, n) in s.added { merged[k, default: 0] += n }
            if merged.count > KernelHistory.maxEntries {
                merged = Dictionary(uniqueKeysWithValues: merged.sorted { $0.value > $1.value }.prefix(KernelHistory.maxEntries).map { ($0.key, $0.value) })
            }
            let text = merged.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
            let tmp = "\(path).\(getpid()).tmp"
            unlink(tmp)
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { return false }
            let bytes = Array(text.utf8)
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
            close(fd)
            guard n == bytes.count, rename(tmp, path) == 0 else { unlink(tmp); return false }
            s.added = [:]
            s.loaded = merged
            return true
        }
    }

    /// The runs recorded in `path`; empty when it is missing, not a regular file, too large or
    /// malformed (malformed lines are skipped).
    static func readTable(_ path: String) -> [String: Int] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= maxBytes else { return [:] }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, Int(st.st_size)) }
        guard n == Int(st.st_size) else { return [:] }
        // Parsed as bytes: through `String` and `Character` it took tens of milliseconds for a
        // few thousand lines, at every process's first sync and again at exit.
        var out: [String: Int] = [:]
        out.reserveCapacity(Int(st.st_size) / 70)
        func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }
        var i = 0
        while i < bytes.count {
            var end = i
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            // "<64 hex digits> <runs>"
            if end - i >= 66, bytes[i + 64] == 32, (i..<(i + 64)).allSatisfy({ isHex(bytes[$0]) }) {
                var runs = 0, digits = 0, ok = true
                for j in (i + 65)..<end {
                    let c = bytes[j]
                    guard c >= 48, c <= 57, digits < 18 else { ok = false; break }
                    runs = runs * 10 + Int(c - 48)
                    digits += 1
                }
                if ok, digits > 0, runs > 0 {
                    out[String(decoding: bytes[i..<(i + 64)], as: UTF8.self), default: 0] += runs
                }
            }
            i = end + 1
        }
        return out
    }
}

extension String {
    /// Two lowercase hex digits of a byte.
    init(format2hex byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
