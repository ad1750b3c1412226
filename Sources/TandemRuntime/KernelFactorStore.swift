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
        var table: [Entry: Double]? = nil          // log factors, once read
        var added: [Entry: Double] = [:]
    }
    private let state = Mutex(State())

    public init(path: String) { self.path = path }

    /// The placements a factor is kept for (those `KernelFactors` learns).
    static let placements: [Placement] = [.interpreter, .cpu1, .cpuAll]

    /// The saved factors of the kernel whose `KernelHistory` key is `key`, by placement (empty
    /// when none). Keyed as the history keys it, so the structure is hashed once a process.
    public func factors(key: String) -> [Placement: Double] {
        guard let key = KernelFactorStore.digest(key) else { return [:] }
        return state.withLock { s in
            if s.table == nil { s.table = KernelFactorStore.read(path) }
            var out: [Placement: Double] = [:]
            for p in KernelFactorStore.placements {
                if let v = s.added[Entry(key: key, placement: p)] ?? s.table![Entry(key: key, placement: p)] { out[p] = Foundation.exp(v) }
            }
            return out
        }
    }

    /// Keeps `factors` (by placement, as ratios) for the kernel whose `KernelHistory` key is
    /// `key`, to be written at `save`.
    public func keep(key: String, _ factors: [Placement: Double]) {
        guard !factors.isEmpty, let key = KernelFactorStore.digest(key) else { return }
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
    static func read(_ path: String) -> [Entry: Double] {
        guard let bytes = KernelHistory.readBytes(path), bytes.count <= maxBytes else { return [:] }
        return parse(bytes)
    }

    /// The lines `<64 hex digits> <placement> <log factor>` of `bytes`.
    static func parse(_ bytes: [UInt8]) -> [Entry: Double] {
        var out: [Entry: Double] = [:]
        out.reserveCapacity(bytes.count / 80)
        KernelHistory.forEachLine(bytes) { text, i, end in
            guard end - i >= 68, text[i + 64] == 32, let key = KernelHistory.Digest(hex: text, at: i) else { return }
            var space = i + 65
            while space < end && text[space] != 32 { space += 1 }
            guard space < end, space - (i + 65) <= 16, end - space - 1 <= 32,
                  let p = Placement(rawValue: String(decoding: UnsafeBufferPointer(rebasing: text[(i + 65)..<space]), as: UTF8.self)),
                  placements.contains(p),
                  let v = Double(String(decoding: UnsafeBufferPointer(rebasing: text[(space + 1)..<end]), as: UTF8.self)),
                  v.isFinite else { return }
            out[Entry(key: key, placement: p)] = KernelFactors.bounded(v)
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
