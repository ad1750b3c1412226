import Foundation
import Synchronization
import TandemIR

/// The tuner's choices across processes: `tuning.json` in the cache folder, readable JSON.
///
///     {"format": 1, "machine": "AMD EPYC, 2 workers, clang 19.1.7 ...", "tandem": "<SHA-256 of the binary>",
///      "kernels": [{"key": "<SHA-256 of the kernel's structure>", "size": 20, "device": "cpu",
///                   "chosen": "laneBlock=16", "label": "sum(mul(...))",
///                   "seconds": {"rule": 0.00121, "laneBlock=16": 0.00108, "laneBlock=64": 0.00125}}]}
///
/// A choice holds for the machine (`machine`: CPU model, workers and C compiler, as the machine
/// profile names them) and the Tandem binary (`tandem`, its fingerprint) that measured it: a file
/// written by another is ignored whole, as is one that is not this format (said once), and is
/// replaced at the next save. Read once (at most `maxBytes`, never through a link, only a private
/// file the user owns), written at exit to a private temporary file renamed over it, merged with
/// what other processes wrote meanwhile (this process's choices win). A choice only selects
/// among variants that compute the same bits, so a stale or edited file can cost speed, never
/// change a result.
public final class TuningDatabase: Sendable {
    public let path: String
    /// Who measured: the machine and the binary (`TuningDatabase.identity`).
    let machine: @Sendable () -> String
    let tandem: @Sendable (_ wait: Bool) -> String?
    public static let maxBytes = 4 << 20
    public static let maxEntries = 4096

    struct Entry: Sendable {
        var chosen: KernelVariant?
        var label: String
        var seconds: [String: Double]
    }

    /// An entry's key: the kernel's structure digest, size class and placement.
    struct Key: Hashable, Sendable {
        let digest: String
        let size: Int
        let device: String
    }

    private struct State {
        var loaded: [Key: Entry]? = nil
        var added: [Key: Entry] = [:]
    }
    private let state = Mutex(State())

    /// `tandem`: the running binary's fingerprint, asked when the file is first read (nil while
    /// it is not known: the file's choices are not used by this process then) and at save
    /// (`wait`: computed if need be).
    public init(path: String, machine: @escaping @Sendable () -> String, tandem: @escaping @Sendable (_ wait: Bool) -> String?) {
        self.path = path
        self.machine = machine
        self.tandem = tandem
    }

    /// The variant saved for a kernel (`.some(nil)`: its rule's code), or nil when none is.
    func choice(_ digest: KernelHistory.Digest, sizeClass: Int, placement: Placement) -> KernelVariant?? {
        let key = Key(digest: digest.hex, size: sizeClass, device: placement.rawValue)
        return state.withLock { s in
            if let e = s.added[key] { return .some(e.chosen) }
            if s.loaded == nil { s.loaded = read(binary: tandem(false)) }
            guard let e = s.loaded![key] else { return nil }
            return .some(e.chosen)
        }
    }

    /// Remembers a choice this process made (saved at exit).
    func keep(_ digest: KernelHistory.Digest, sizeClass: Int, placement: Placement, chosen: KernelVariant?, label: String, seconds: [String: Double]) {
        let key = Key(digest: digest.hex, size: sizeClass, device: placement.rawValue)
        state.withLock { $0.added[key] = Entry(chosen: chosen, label: String(label.prefix(200)), seconds: seconds) }
    }

    /// Writes the file (this process's choices over what it holds now), when there is anything
    /// new; false when it could not be written.
    @discardableResult
    public func save() -> Bool {
        let added = state.withLock { $0.added }
        guard !added.isEmpty else { return true }
        guard let binary = tandem(true) else { return false }
        var merged = read(binary: binary)
        for (k, e) in added { merged[k] = e }
        let kept = merged.sorted { ($0.key.digest, $0.key.size, $0.key.device) < ($1.key.digest, $1.key.size, $1.key.device) }.prefix(TuningDatabase.maxEntries)
        let kernels: [[String: Any]] = kept.map { k, e in
            ["key": k.digest, "size": k.size, "device": k.device, "chosen": e.chosen?.description ?? "rule", "label": e.label, "seconds": e.seconds]
        }
        let object: [String: Any] = ["format": 1, "machine": machine(), "tandem": binary, "kernels": kernels]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return false }
        do {
            try VerifiedFileCache.writeAtomically(path, Array(data))
            return true
        } catch {
            return false
        }
    }

    /// The file's entries, or none when it is missing, unreadable, not this format, or written
    /// on another machine or by another binary.
    private func read(binary: String?) -> [Key: Entry] {
        guard let bytes = VerifiedFileCache.readPrivateFile(path, limit: TuningDatabase.maxBytes) else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              object["format"] as? Int == 1, let kernels = object["kernels"] as? [[String: Any]] else {
            if !TuningDatabase.unreadableSaid.exchange(true, ordering: .relaxed) {
                ProcessInfoLite.warn("tandem: the tuning database \(path) is not Tandem's format; it is ignored and rewritten at exit")
            }
            return [:]
        }
        guard let binary, object["machine"] as? String == machine(), object["tandem"] as? String == binary else { return [:] }
        var table: [Key: Entry] = [:]
        for k in kernels {
            guard let digest = k["key"] as? String, digest.count == 64, let size = k["size"] as? Int, let device = k["device"] as? String,
                  let chosenText = k["chosen"] as? String, let chosen = KernelVariant(description: chosenText) else { continue }
            let seconds = (k["seconds"] as? [String: Double]) ?? [:]
            table[Key(digest: digest, size: size, device: device)] = Entry(chosen: chosenText == "rule" ? nil : chosen, label: k["label"] as? String ?? "", seconds: seconds)
        }
        return table
    }

    /// Whether an unreadable file was said (once a process).
    static let unreadableSaid = Atomic<Bool>(false)
}
