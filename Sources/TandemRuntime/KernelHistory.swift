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

    /// A key as its 32 bytes (the file holds them as 64 hex digits): a table of thousands is
    /// read without making a `String` a line (7,000 lines took 5 ms at the first sync and
    /// again at exit; now a fifth of that).
    struct Digest: Hashable, Comparable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        init<B: Sequence>(bytes: B) where B.Element == UInt8 {
            var w: [UInt64] = [0, 0, 0, 0]
            for (i, b) in bytes.enumerated() where i < 32 { w[i / 8] = w[i / 8] << 8 | UInt64(b) }
            words = (w[0], w[1], w[2], w[3])
        }

        /// The digest of 64 hex digits at `start` of `text`, or nil when one is not a hex digit.
        init?(hex text: UnsafeBufferPointer<UInt8>, at start: Int) {
            var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            var bad: UInt8 = 0
            for k in 0..<4 {
                var word: UInt64 = 0
                for i in (start + 16 * k)..<(start + 16 * k + 16) {
                    let v = Digest.hexValues[Int(text[i])]
                    bad |= v
                    word = word << 4 | UInt64(v & 15)
                }
                switch k {
                case 0: w.0 = word
                case 1: w.1 = word
                case 2: w.2 = word
                default: w.3 = word
                }
            }
            guard bad & 0x80 == 0 else { return nil }
            words = w
        }

        /// Each byte's value as a hex digit, 0x80 for a byte that is not one.
        static let hexValues: [UInt8] = (0..<256).map { c in
            switch c {
            case 48...57: UInt8(c - 48)
            case 97...102: UInt8(c - 87)
            case 65...70: UInt8(c - 55)
            default: 0x80
            }
        }

        /// The 64 lowercase hex digits of the key, appended to `out`.
        func appendHex(to out: inout [UInt8]) {
            for word in [words.0, words.1, words.2, words.3] {
                for i in 0..<16 { out.append(Digest.hexDigits[Int(word >> UInt64(60 - 4 * i) & 15)]) }
            }
        }

        static let hexDigits = Array("0123456789abcdef".utf8)

        var hex: String {
            var out: [UInt8] = []
            out.reserveCapacity(64)
            appendHex(to: &out)
            return String(decoding: out, as: UTF8.self)
        }

        static func == (a: Digest, b: Digest) -> Bool { a.words == b.words }
        func hash(into h: inout Hasher) { h.combine(words.0); h.combine(words.1); h.combine(words.2); h.combine(words.3) }
        static func < (a: Digest, b: Digest) -> Bool { a.words < b.words }
    }

    private struct State {
        /// The file as read, its lines sorted by key (as `save` writes them): each kernel's
        /// earlier runs are found by a binary search over its lines, so a process running
        /// fifteen kernels reads fifteen lines of a history of thousands, not a table of them
        /// all (7,000 lines: 1.6 ms of the first sync).
        var file: [UInt8]? = nil
        /// The whole table, once parsed (after a save, or when the file is not sorted lines).
        /// (A kernel's runs are asked once a process, when the runtime first decides its
        /// placement: what the search finds needs no memo.)
        var table: [Digest: Int]? = nil
        /// Runs added by this process, by key.
        var added: [Digest: Int] = [:]
        var keys: [Kernel: Digest] = [:]

        mutating func key(_ kernel: Kernel) -> Digest {
            if let k = keys[kernel] { return k }
            let k = KernelHistory.digest(kernel)
            keys[kernel] = k
            return k
        }

        mutating func earlier(_ key: Digest, _ path: String) -> Int {
            if let table { return table[key] ?? 0 }
            if file == nil { file = KernelHistory.readBytes(path) ?? [] }
            if let n = file!.withUnsafeBufferPointer({ KernelHistory.lookUp(key, in: $0) }) { return n }
            // A malformed line on the way: the whole table, as `save` reads it.
            let parsed = KernelHistory.parseTable(file!)
            (table, file) = (parsed, nil)
            return parsed[key] ?? 0
        }
    }
    private let state = Mutex(State())

    public init(path: String) { self.path = path }

    /// The stable key of a kernel's structure (the same in every process).
    public static func key(_ kernel: Kernel) -> String { digest(kernel).hex }

    /// The digest of `kernel` (`key(kernel)` as bytes), hashed once a process: the key the
    /// history looks kernels up by, and `KernelFactorStore` too.
    func digest(for kernel: Kernel) -> Digest { state.withLock { $0.key(kernel) } }

    /// SHA-256 of `Kernel.structureBytes` (histories keyed by the text of the structure, before,
    /// are not found again: their kernels count from zero once, and the old lines age out).
    static func digest(_ kernel: Kernel) -> Digest { Digest(bytes: SHA256.hash(data: kernel.structureBytes)) }

    /// Runs of `kernel` recorded by earlier processes and by this one.
    public func runs(_ kernel: Kernel) -> Int {
        state.withLock { s in
            let k = s.key(kernel)
            return s.earlier(k, path) + (s.added[k] ?? 0)
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
            // What others wrote since this process read it, with this process's runs added: the
            // file's sorted lines merged with the few added ones as bytes, or (a file not in
            // that form, or one that would grow past `maxEntries`) through the whole table.
            let current = KernelHistory.readBytes(path) ?? []
            var table: [Digest: Int]? = nil
            let bytes: [UInt8]
            if let fast = KernelHistory.mergedLines(current, s.added) {
                bytes = fast
            } else {
                var merged = KernelHistory.parseTable(current)
                for (k, n) in s.added { merged[k, default: 0] += n }
                if merged.count > KernelHistory.maxEntries {
                    merged = Dictionary(uniqueKeysWithValues: merged.sorted { $0.value > $1.value }.prefix(KernelHistory.maxEntries).map { ($0.key, $0.value) })
                }
                bytes = KernelHistory.lines(merged)
                table = merged
            }
            guard KernelHistory.replace(path, with: bytes) else { return false }
            (s.added, s.table, s.file) = ([:], table, table == nil ? bytes : nil)
            return true
        }
    }

    /// Writes `bytes` to a private temporary file beside `path` (created anew, never through a
    /// link) and renames it over `path`: readers see the old file or the new one, whole.
    static func replace(_ path: String, with bytes: [UInt8]) -> Bool {
        let tmp = "\(path).\(getpid()).tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
        close(fd)
        guard n == bytes.count, rename(tmp, path) == 0 else { unlink(tmp); return false }
        return true
    }

    /// `text` (lines `<64 hex digits> <runs>` in increasing key order, as `save` writes them)
    /// with `added`'s runs added: unchanged lines copied as they are, a key of both rewritten
    /// with the sum, new keys inserted in order. Nil when a line is not such a line, the keys
    /// are not increasing, or the result would hold more than `maxEntries` keys (the caller
    /// then goes through the whole table). A process adds a few dozen keys to a history of
    /// thousands, and parsing, sorting and printing every line at each exit cost 3.5x this copy
    /// (6,658 lines and 30 new keys, a debug build: 49-51 ms against 14).
    static func mergedLines(_ text: [UInt8], _ added: [Digest: Int]) -> [UInt8]? {
        let extra = added.sorted { $0.key < $1.key }
        var out: [UInt8] = []
        out.reserveCapacity(text.count + extra.count * 72)
        func emit(_ key: Digest, _ runs: Int) { appendLine(key, runs, to: &out) }
        var next = 0, count = 0
        var previous: Digest? = nil
        let ok = text.withUnsafeBufferPointer { text -> Bool in
            var i = 0
            while i < text.count {
                var end = i
                while end < text.count && text[end] != 10 { end += 1 }
                guard end - i >= 66, text[i + 64] == 32, let key = Digest(hex: text, at: i) else { return false }
                if let previous, !(previous < key) { return false }
                previous = key
                guard let runs = KernelHistory.runs(text, from: i + 65, to: end), runs > 0 else { return false }
                while next < extra.count && extra[next].key < key { emit(extra[next].key, extra[next].value); next += 1; count += 1 }
                if next < extra.count && extra[next].key == key {
                    emit(key, runs + extra[next].value)
                    next += 1
                } else {
                    out.append(contentsOf: text[i..<end])
                    out.append(10)
                }
                count += 1
                i = end + 1
            }
            return true
        }
        guard ok else { return nil }
        while next < extra.count { emit(extra[next].key, extra[next].value); next += 1; count += 1 }
        return count <= maxEntries ? out : nil
    }

    /// The file's text for `table`: a line `<64 hex digits> <runs>` a key, sorted by key (what
    /// `lookUp` searches), written as bytes (through a `String` a line, 7,000 lines took several
    /// milliseconds of every process's exit).
    static func lines(_ table: [Digest: Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(table.count * 72)
        for (key, runs) in table.sorted(by: { $0.key < $1.key }) { appendLine(key, runs, to: &out) }
        return out
    }

    /// Appends the line `<64 hex digits> <runs>` and its newline.
    static func appendLine(_ key: Digest, _ runs: Int, to out: inout [UInt8]) {
        key.appendHex(to: &out)
        out.append(32)
        var v = max(0, runs)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)      // up to 24 digits, no array a line
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
            for i in (0..<n).reversed() { out.append(d[i]) }
        }
        out.append(10)
    }

    /// The decimal run count in `text[start..<end]`: nil when a character is not a digit, there
    /// are none, or more than 18 (a count that could overflow).
    static func runs(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard end > start, end - start <= 18 else { return nil }
        var runs = 0
        for j in start..<end {
            let c = text[j]
            guard c >= 48, c <= 57 else { return nil }
            runs = runs * 10 + Int(c - 48)
        }
        return runs
    }

    /// The runs recorded in `path`; empty when it is missing, not a regular file, too large or
    /// malformed (malformed lines are skipped).
    static func readTable(_ path: String) -> [Digest: Int] { readBytes(path).map(parseTable) ?? [:] }

    /// The file's bytes: nil when it is missing, not a regular file (never read through a
    /// link) or larger than `maxBytes`.
    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= maxBytes else { return nil }
        let size = Int(st.st_size)
        var got = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            got = read(fd, buffer.baseAddress, size)
            count = got == size ? size : 0
        }
        return got == size ? bytes : nil
    }

    /// The runs of `key` in `text`, lines `<64 hex digits> <runs>` sorted by key, by binary
    /// search: 0 when it is not there, nil when a line met on the way is not such a line (the
    /// caller then parses every line). Lines out of order (a file not written by `save`) can
    /// hide a key: the history only steers placement, and the next save sorts the file.
    static func lookUp(_ key: Digest, in text: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let found = findLine(key, in: text, minLength: 66) else { return nil }
        guard let line = found else { return 0 }
        return KernelHistory.runs(text, from: line.lowerBound + 65, to: line.upperBound)
    }

    /// A line of `text` (lines sorted by the key they start with, `<64 hex digits> ...`, at least
    /// `minLength` bytes) whose key is `key`, by binary search: `.some(nil)` when there is none,
    /// nil when a line met on the way is not such a line.
    static func findLine(_ key: Digest, in text: UnsafeBufferPointer<UInt8>, minLength: Int) -> Range<Int>?? {
        var lo = 0, hi = text.count
        while lo < hi {
            var start = (lo + hi) / 2
            while start > lo && text[start - 1] != 10 { start -= 1 }
            var end = start
            while end < hi && text[end] != 10 { end += 1 }
            guard end - start >= minLength, text[start + 64] == 32, let k = Digest(hex: text, at: start) else { return nil }
            if k == key { return .some(start..<end) }
            if k < key { lo = end + 1 } else { hi = start }
        }
        return .some(nil)
    }

    /// Every line of `bytes` (see `readTable`).
    static func parseTable(_ bytes: [UInt8]) -> [Digest: Int] {
        // Parsed as bytes: through `String` and `Character` it took tens of milliseconds for a
        // few thousand lines, at every process's first sync and again at exit.
        var out: [Digest: Int] = [:]
        out.reserveCapacity(bytes.count / 70)
        forEachLine(bytes) { bytes, i, end in
            // "<64 hex digits> <runs>"
            if end - i >= 66, bytes[i + 64] == 32, let key = Digest(hex: bytes, at: i),
               let runs = KernelHistory.runs(bytes, from: i + 65, to: end), runs > 0 {
                out[key, default: 0] += runs
            }
        }
        return out
    }

    /// Calls `body` with the bytes and each line's bounds (`start..<end`, the newline
    /// excluded), for the files of kernels' keys read as bytes (this one, `KernelFactorStore`).
    static func forEachLine(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>, Int, Int) -> Void) {
        bytes.withUnsafeBufferPointer { text in
            var i = 0
            while i < text.count {
                var end = i
                while end < text.count && text[end] != 10 { end += 1 }
                body(text, i, end)
                i = end + 1
            }
        }
    }
}

