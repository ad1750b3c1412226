#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One thing that happened, for traces and reports. Times are monotonic nanoseconds.
public struct TraceEvent: Sendable {
    /// Whether `device` names a device with its own queue (its kernels are drawn on their own track).
    public static func isAccelerator(_ device: String) -> Bool { device == "cuda" || device == "opencl" }
    public enum Kind: String, Sendable {
        /// One chunk of a kernel on one worker (`track` is the worker).
        case kernel
        /// A compile: `detail` is "miss", "memory" or "disk".
        case compile
        /// A read or flush: `detail` is the call and its source line.
        case sync
        /// Planning a sync point into kernels.
        case plan
        /// A buffer given memory: `bytes`.
        case allocation
        /// A kernel run elsewhere than asked: `detail` is the reason.
        case fallback
        /// A copy between host and device: `bytes`, `detail` is the direction.
        case copy
        /// One kernel's placement: `device` chosen, `predicted` time, measured `duration`, and in
        /// `detail` every option's prediction (or that it was forced).
        case placement
        /// One MPI call of a distributed run, from before its lock to its result: `name` is the
        /// call (`MPI_Allreduce`), `bytes` what this rank sent, `detail` "wait" for a barrier.
        case communication
    }

    public var kind: Kind
    public var name: String
    public var start: UInt64
    public var duration: UInt64
    /// Worker index for kernels; -1 for the calling thread.
    public var track: Int
    public var bytes: Int
    public var points: Int
    public var device: String
    public var detail: String
    /// The cost model's prediction for kernels, in seconds, when there is one.
    public var predicted: Double?
    /// The MPI rank that recorded it, in the trace of a distributed run (nil in a plain run).
    public var rank: Int? = nil

    public init(kind: Kind, name: String, start: UInt64, duration: UInt64 = 0, track: Int = -1, bytes: Int = 0,
                points: Int = 0, device: String = "", detail: String = "", predicted: Double? = nil, rank: Int? = nil) {
        self.kind = kind
        self.name = name
        self.start = start
        self.duration = duration
        self.track = track
        self.bytes = bytes
        self.points = points
        self.device = device
        self.detail = detail
        self.predicted = predicted
        self.rank = rank
    }
}

/// Records events while tracing is on, at the cost of one atomic load per event site when off
/// (the event is built in an autoclosure that is not called).
///
///     let session = Tracer.shared.start()
///     ... run tensors ...
///     let json = Tracer.shared.stop(session).chromeJSON()
public final class Tracer: Sendable {
    public static let shared = Tracer()
    private let enabled = Atomic<Bool>(false)
    private let events = Mutex<[TraceEvent]>([])
    private let origin = Atomic<UInt64>(0)

    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Recordings in progress, and where each began in `events`: `Tandem.trace` may be called
    /// from several threads at once (tests run in parallel), and one caller's stop must neither
    /// end another's recording nor clear its events.
    private let sessions = Mutex<[Int: Int]>([:])
    private let nextSession = Atomic<Int>(1)

    /// Starts a recording and returns its number for `stop(_:)`. The first recording in progress
    /// clears earlier events and sets the origin; later ones share them.
    @discardableResult
    public func start() -> Int {
        let id = nextSession.add(1, ordering: .relaxed).oldValue
        sessions.withLock { s in
            if s.isEmpty {
                events.withLock { $0.removeAll() }
                origin.store(ProcessInfoLite.monotonicNanos(), ordering: .relaxed)
            }
            s[id] = events.withLock { $0.count }
            enabled.store(true, ordering: .releasing)
        }
        return id
    }

    /// Ends recording `session` and returns the events recorded since it started (other
    /// threads' events of that time included; filter by name or size to keep one's own).
    /// Recording stops when no recording is left.
    @discardableResult
    public func stop(_ session: Int) -> Trace {
        let from: Int = sessions.withLock { s in
            let from = s.removeValue(forKey: session) ?? 0
            if s.isEmpty { enabled.store(false, ordering: .releasing) }
            return from
        }
        let all = events.withLock { $0 }
        return Trace(events: Array(all[min(from, all.count)...]), origin: origin.load(ordering: .relaxed))
    }

    /// Ends every recording and returns all events (`TANDEM_TRACE` at exit).
    @discardableResult
    public func stop() -> Trace {
        sessions.withLock { s in
            s.removeAll()
            enabled.store(false, ordering: .releasing)
        }
        return snapshot()
    }

    /// The events so far (recording goes on).
    public func snapshot() -> Trace {
        Trace(events: events.withLock { $0 }, origin: origin.load(ordering: .relaxed))
    }

    @inline(__always)
    public func record(_ event: @autoclosure () -> TraceEvent) {
        guard enabled.load(ordering: .relaxed) else { return }
        let e = event()
        events.withLock { $0.append(e) }
    }
}

/// Recorded events, exportable as Chrome / Perfetto trace JSON.
public struct Trace: Sendable {
    public var events: [TraceEvent]
    public var origin: UInt64

    public init(events: [TraceEvent], origin: UInt64) {
        self.events = events
        self.origin = origin
    }

    /// The Trace Event Format (`{"traceEvents": [...]}`) that Perfetto's UI and chrome://tracing
    /// load: process 1 is the host (syncs, planning, compiles on the calling thread), process 2 the
    /// CPU with one thread per worker, process 3 the host–device copies, process 4 the placement
    /// decisions (predicted time in the arguments), process 5 the GPU's compute stream, process 6
    /// the MPI calls of a distributed run; kernels are complete events named by their fused ops.
    /// Events of MPI ranks (`TraceEvent.rank`: one rank's trace, or the ranks `merged`) go to
    /// processes of their own, `10 * rank` above those, named "rank 1: CPU" and so on, so a
    /// merged trace shows every rank's timeline one under another.
    public func chromeJSON() -> String {
        var out: [String] = []
        func meta(_ pid: Int, _ tid: Int?, _ what: String, _ name: String) {
            let t = tid.map { ", \"tid\": \($0)" } ?? ""
            out.append("{\"ph\": \"M\", \"pid\": \(pid)\(t), \"name\": \"\(what)\", \"args\": {\"name\": \(Trace.quote(name))}}")
        }
        let ranks = Set(events.map(\.rank)).sorted { ($0 ?? -1) < ($1 ?? -1) }
        for rank in ranks {
            let base = 10 * (rank ?? 0)
            let label = rank.map { "rank \($0): " } ?? ""
            let mine = events.filter { $0.rank == rank }
            meta(base + 1, nil, "process_name", label + "host")
            meta(base + 1, 0, "thread_name", "calling thread")
            meta(base + 2, nil, "process_name", label + "CPU")
            let workers = Set(mine.filter { $0.kind == .kernel && !TraceEvent.isAccelerator($0.device) }.map(\.track)).sorted()
            for w in workers { meta(base + 2, w, "thread_name", w < 0 ? "calling thread (kernels run inline)" : "worker \(w)") }
            if mine.contains(where: { $0.kind == .copy }) { meta(base + 3, nil, "process_name", label + "copies") }
            if mine.contains(where: { $0.kind == .placement }) { meta(base + 4, nil, "process_name", label + "placement (predicted vs measured)") }
            if let gpu = mine.first(where: { $0.kind == .kernel && TraceEvent.isAccelerator($0.device) }) {
                meta(base + 5, nil, "process_name", label + (gpu.device == "cuda" ? "GPU" : "OpenCL device"))
                meta(base + 5, 0, "thread_name", gpu.device == "cuda" ? "compute stream" : "command queue")
            }
            if mine.contains(where: { $0.kind == .communication }) {
                meta(base + 6, nil, "process_name", label + "MPI")
                meta(base + 6, 0, "thread_name", "calls (barriers: waiting)")
            }
        }
        for e in events {
            let ts = Double(e.start &- min(origin, e.start)) / 1000
            let dur = Double(e.duration) / 1000
            var args: [String] = []
            if e.bytes != 0 { args.append("\"bytes\": \(e.bytes)") }
            if e.points != 0 { args.append("\"points\": \(e.points)") }
            if !e.device.isEmpty { args.append("\"device\": \(Trace.quote(e.device))") }
            if !e.detail.isEmpty { args.append("\"detail\": \(Trace.quote(e.detail))") }
            // JSON has no infinity: a placement the model could not price has no prediction.
            if let p = e.predicted, p.isFinite { args.append("\"predicted_us\": \(p * 1e6)") }
            if let r = e.rank { args.append("\"rank\": \(r)") }
            let (pid, tid) = switch e.kind {
            case .kernel where TraceEvent.isAccelerator(e.device): (5, 0)
            case .kernel: (2, e.track)
            case .copy: (3, 0)
            case .placement: (4, 0)
            case .communication: (6, 0)
            default: (1, 0)
            }
            let phase = e.duration > 0 || e.kind == .kernel ? "\"ph\": \"X\", \"dur\": \(dur)" : "\"ph\": \"i\", \"s\": \"t\""
            out.append("{\"name\": \(Trace.quote(e.name)), \"cat\": \"\(e.kind.rawValue)\", \(phase), \"ts\": \(ts), \"pid\": \(pid + 10 * (e.rank ?? 0)), \"tid\": \(tid), \"args\": {\(args.joined(separator: ", "))}}")
        }
        return "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n" + out.joined(separator: ",\n") + "\n]}\n"
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 { r += String(format4(u.value)) } else { r.unicodeScalars.append(u) }
            }
        }
        return r + "\""
    }

    private static func format4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }

    /// Writes the Chrome JSON to `path`.
    public func write(to path: String) throws {
        guard ProcessInfoLite.write(Array(chromeJSON().utf8), to: path) else {
            throw TandemError.fileFailed(path: path, reason: "cannot write the trace: \(ProcessInfoLite.errnoDescription())")
        }
    }
}
