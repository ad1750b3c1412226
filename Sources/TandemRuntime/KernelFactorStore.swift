import Foundation
import Synchronization
import TandemIR
import TandemModel

/// What kernels' runs measured against their predictions, across processes: `kernel-factors` in
/// the cache folder, one line `<SHA-256 of the structure> <placement> <factor>` per kernel and
/// host placement (the factor as measured / predicted by the profile alone).
///
/// `KernelFactors` learns within a process, and not from a kernel's first run (it writes pages
/// never touched and finds its inputs out of cache); a kernel run once a program (an
/// initialisation, a final reduction) taught nothing, and every run of the program placed it
/// by the profile alone however far off that was. Here the factors a process learned are kept,
/// and so is the first run's ratio of a kernel that ran only once (for such a kernel the first
/// run is every run); the next process starts from them (`Runtime.decide`).
///
/// The file only steers placement: a missing, corrupt or oversized one counts as empty, values
/// are clamped to `KernelFactors.limit`, and it is read once (at most `maxBytes`, never through
/// a link) and written at exit to a private temporary file renamed over it, merged with what
/// other processes wrote meanwhile (this process's values win).
public final class KernelFactorStore: Sendable {
    public let path: String
    public static let maxBytes = 1 << 20
    /// Most lines kept (this process's first, when there are more).
    public static let maxEntries = 4096

    struct Entry: Hashable {
        let key: KernelHistory.Digest
        let placement: Placement
    }

    private struct State {
        var text: [UInt8]? = nil                   // the file as read, searched by key
        var table: [Entry: Double]? = nil          // log factors, when parsed whole
        var added: [Entry: Double] = [:]
    }
    private let state = Mutex(State())

    public init(path: String) { self.path = path }

    /// The placements a factor is kept for (those `KernelFactors` learns).
    static let placements: [Placement] = [.interpreter, .cpu1, .cpuAll]

    /// The saved factors of the kernel whose `KernelHistory` key is `key`, by placement (empty
    /// when none). Keyed as the history keys it, so the structure is hashed once a process.
    public func factors(key: String) -> [Placement: Double] {
        KernelFactorStore.digest(key).map { factors($0) } ?? [:]
    }

    /// `factors(key:)` by the history's digest (`KernelHistory.digest(for:)`), without the
    /// round trip through 64 hex digits.
    func factors(_ key: KernelHistory.Digest) -> [Placement: Double] {
        state.withLock { s in
            // The sorted file is searched for the key (a process looks up a few kernels: parsing
            // 2,000 lines was 2 ms of its first decision); parsed whole only when a line met on
            // the way is not one the store writes, or once `save` has merged it.
            var saved: [Placement: Double] = [:]
            if s.table == nil {
                if s.text == nil { s.text = KernelFactorStore.readFile(path) }
                if let found = s.text!.withUnsafeBufferPointer({ KernelFactorStore.lookUp(key, in: $0) }) {
                    saved = found
                } else {
                    s.table = KernelFactorStore.parse(s.text!)
                }
            }
            if let table = s.table {
                for p in KernelFactorStore.placements { saved[p] = table[Entry(key: key, placement: p)] }
            }
            var out: [Placement: Double] = [:]
            for p in KernelFactorStore.placements {
                if let v = s.added[Entry(key: key, placement: p)] ?? saved[p] { out[p] = Foundation.exp(v) }
            }
            return out
        }
    }

    /// Keeps `factors` (by placement, as ratios) for the kernel whose `KernelHistory` key is
    /// `key`, to be written at `save`.
    public func keep(key: String, _ factors: [Placement: Double]) {
        if let key = KernelFactorStore.digest(key) { keep(key, factors) }
    }

    /// `keep(key:_:)` by the history's digest.
    func keep(_ key: KernelHistory.Digest, _ factors: [Placement: Double]) {
        guard !factors.isEmpty else { return }
        state.withLock { s in
            for (p, f) in factors where KernelFactorStore.placements.contains(p) && f.isFinite && f > 0 {
                s.added[Entry(key: key, placement: p)] = KernelFactors.bounded(Foundation.log(f))
            }
        }
    }

    /// Writes the file, merged with its current contents (at exit). False when it could not be.
    @discardableResult
    public func save() -> Bool {
        state.withLock { s in
            guard !s.added.isEmpty else { return true }
            var merged = KernelFactorStore.read(path)
            for (e, v) in s.added { merged[e] = v }
            if merged.count > KernelFactorStore.maxEntries {
                // This process's first, then the others in the file's order (arbitrary but fixed).
                var kept = s.added
                for (e, v) in merged where kept.count < KernelFactorStore.maxEntries && kept[e] == nil { kept[e] = v }
                merged = kept
            }
            var out: [UInt8] = []
            out.reserveCapacity(merged.count * 80)
            for (e, v) in merged.sorted(by: { ($0.key.key, $0.key.placement.rawValue) < ($1.key.key, $1.key.placement.rawValue) }) {
                e.key.appendHex(to: &out)
                out.append(32)
                out.append(contentsOf: e.placement.rawValue.utf8)
                out.append(32)
                out.append(contentsOf: "\((v * 1e6).rounded() / 1e6)".utf8)   // not String(format:): 3 µs a line
                out.append(10)
            }
            guard KernelHistory.replace(path, with: out) else { return false }
            (s.table, s.added) = (merged, [:])
            return true
        }
    }

    /// The file's lines as log factors; malformed lines are skipped, an unreadable, oversized or
    /// linked file is empty. Parsed as bytes (through `String.split` and `Character`s, 2,000
    /// lines took 40 ms at the first decision of every process and again at exit).
    static func read(_ path: String) -> [Entry: Double] { parse(readFile(path)) }

    /// The file's bytes; empty when it is missing, linked, not a regular file or oversized.
    static func readFile(_ path: String) -> [UInt8] {
        guard let bytes = KernelHistory.readBytes(path), bytes.count <= maxBytes else { return [] }
        return bytes
    }

    /// The lines `<64 hex digits> <placement> <log factor>` of `bytes`.
    static func parse(_ bytes: [UInt8]) -> [Entry: Double] {
        var out: [Entry: Double] = [:]
        out.reserveCapacity(bytes.count / 80)
        KernelHistory.forEachLine(bytes) { text, i, end in
            if let (key, p, v) = line(text, i, end) { out[Entry(key: key, placement: p)] = v }
        }
        return out
    }

    /// The line `text[i..<end]` as a key, a placement and a (bounded) log factor; nil when it
    /// is not such a line.
    static func line(_ text: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (KernelHistory.Digest, Placement, Double)? {
        guard end - i >= 68, text[i + 64] == 32, let key = KernelHistory.Digest(hex: text, at: i) else { return nil }
        var space = i + 65
        while space < end && text[space] != 32 { space += 1 }
        guard space < end, space - (i + 65) <= 16, end - space - 1 <= 32,
              let p = Placement(rawValue: String(decoding: UnsafeBufferPointer(rebasing: text[(i + 65)..<space]), as: UTF8.self)),
              placements.contains(p),
              let v = Double(String(decoding: UnsafeBufferPointer(rebasing: text[(space + 1)..<end]), as: UTF8.self)),
              v.isFinite else { return nil }
        return (key, p, KernelFactors.bounded(v))
    }

    /// The factors of `key` in `text` (lines sorted by key, as `save` writes them), by binary
    /// search and the lines beside the one found: empty when the key is not there, nil when a
    /// line met is not one the store writes (the caller then parses every line).
    static func lookUp(_ key: KernelHistory.Digest, in text: UnsafeBufferPointer<UInt8>) -> [Placement: Double]? {
        guard let found = KernelHistory.findLine(key, in: text, minLength: 68) else { return nil }
        guard let hit = found else { return [:] }
        var out: [Placement: Double] = [:]
        // Back to the first line of the key, then forward over its lines (one a placement).
        var start = hit.lowerBound
        while start > 0 {
            var prev = start - 1
            while prev > 0 && text[prev - 1] != 10 { prev -= 1 }
            guard start - 1 - prev >= 64, KernelHistory.Digest(hex: text, at: prev) == key else { break }
            start = prev
        }
        while start < text.count {
            var end = start
            while end < text.count && text[end] != 10 { end += 1 }
            guard end - start >= 64, KernelHistory.Digest(hex: text, at: start) == key else { break }
            guard let (_, p, v) = line(text, start, end) else { return nil }
            out[p] = v
            start = end + 1
        }
        return out
    }

    /// A history key (64 hex digits) as its digest; nil when it is not one.
    static func digest(_ key: String) -> KernelHistory.Digest? {
        let bytes = Array(key.utf8)
        guard bytes.count == 64 else { return nil }
        return bytes.withUnsafeBufferPointer { KernelHistory.Digest(hex: $0, at: 0) }
    }
}
