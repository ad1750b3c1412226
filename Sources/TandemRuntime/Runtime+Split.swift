import Synchronization
import TandemIR
import TandemCompiler
import TandemModel

/// One kernel run split between the host and the accelerator (`DeviceChoice.split`): the share
/// it was given and why, and each part's predicted and measured time.
///
///     let rows = try Tandem.withSplit(hostShare: nil) { try (x * 2 + 1).sum(axis: 1).max().item() }
///     for r in Tandem.runtime.splitRecords { print(r) }     // the row sums' kernel, cut in two
public struct SplitRecord: Sendable, CustomStringConvertible {
    public var label: String
    /// Rows of the kernel's first axis, and how many of them (from the first) ran on the host.
    public var rows: Int
    public var hostRows: Int
    /// The accelerator that ran the other rows.
    public var device: String
    /// The model's prediction at the share it chose, or nil when the share was given
    /// (`Tandem.withSplit(hostShare:)`, `TANDEM_SPLIT_SHARE`) or the device is not measured
    /// in the machine profile (then half the rows each).
    public var predicted: SplitPrediction?
    /// Whether the share was given rather than chosen by the model.
    public var fixed: Bool
    /// Seconds of the host's part (its chunks, or its pieces of a reduction before the combine),
    /// and of the device's part on the device (nil until the device reports it, or when it
    /// does not time kernels).
    public var hostSeconds: Double?
    public var deviceSeconds: Double?
    public var hostShare: Double { rows == 0 ? 1 : Double(hostRows) / Double(rows) }

    public var description: String {
        let measured = "measured host \(hostSeconds.map(CostModel.format) ?? "-"), \(device) \(deviceSeconds.map(CostModel.format) ?? "-")"
        let why = fixed ? "share given" : (predicted.map { "predicted \($0)" } ?? "\(device) not in the machine profile: half each")
        return "\(label): rows 0..<\(hostRows) on cpu, \(hostRows)..<\(rows) on \(device) (\(why); \(measured))"
    }
}

extension SplitRecord {
    /// The record of `cut`, its times not yet measured.
    init(_ label: String, _ cut: SplitCut, device: Placement) {
        self.init(label: label, rows: cut.rows, hostRows: cut.hostRows, device: device.rawValue, predicted: cut.predicted, fixed: cut.fixed)
    }
}

/// Where a split kernel is cut, decided at placement: rows `0..<hostRows` on the host, the rest
/// on the device, and the bytes each part reads and writes.
struct SplitCut {
    var rows: Int
    var hostRows: Int
    var predicted: SplitPrediction?
    var fixed: Bool
    var access: PartAccess
    /// The parts' kernel times predicted at the cut as made, before measured factors: what
    /// their measured times teach the kernel's `SplitMemory` (nil when the device is not priced).
    var raw: SplitPrediction?
    /// A split reduction: the host folds pieces `0..<hostRows` of `rows` (its `SplitPieces`),
    /// the device the rest of the first reduce axis over `deviceLaunch` (the launch shifted to
    /// start there), and the host combines all in order.
    var reduce: (deviceLaunch: Launch, reads: [(buffer: Int, bytes: Range<Int>)])? = nil
}

/// What the runtime remembers of one split kernel: its parts' measured factors and the share
/// it was last cut at.
struct SplitMemory {
    var factors = SplitFactors()
    var share: Double?
    /// The last search: its rows, its inputs' cuts, the factors it used, and what it found.
    var decided: (rows: Int, cuts: [Double], factors: SplitFactors, prediction: SplitPrediction?)?
    /// The least change of the model's share that moves the cut (rows that change sides move
    /// between the devices' memories).
    static let hysteresis = 0.05
}

/// A split record filled in as its parts finish.
final class SplitEntry: Sendable {
    let record: Mutex<SplitRecord>
    init(_ r: SplitRecord) { record = Mutex(r) }
}

extension Runtime {
    /// The split kernels run so far in this process, oldest first (at most `maxSplitRecords`).
    public var splitRecords: [SplitRecord] { splitLog.withLock { $0.map { $0.record.withLock { $0 } } } }

    static let maxSplitRecords = 4096

    /// A part's measured time against its prediction, for the next cut of `kernel`.
    func learnSplit(_ kernel: Kernel, host: Bool, predicted: Double, measured: Double) {
        splitMemory.withLock { table in
            if table.count >= Runtime.maxSplitRecords && table[kernel] == nil { table.removeAll() }
            table[kernel, default: SplitMemory()].factors.learn(host: host, predicted: predicted, measured: measured)
        }
    }

    /// Adds a split to `splitRecords` (the older half goes when it is full).
    func keep(_ entry: SplitEntry) {
        splitLog.withLock { log in
            if log.count >= Runtime.maxSplitRecords { log.removeFirst(log.count / 2) }
            log.append(entry)
        }
    }

    /// The host share forced by `TANDEM_SPLIT_SHARE` (0 ... 1), if set and valid.
    static let environmentSplitShare: Double? = {
        guard let s = ProcessInfoLite.environment("TANDEM_SPLIT_SHARE") else { return nil }
        guard let v = Double(s), (0...1).contains(v) else {
            ProcessInfoLite.warn("tandem: TANDEM_SPLIT_SHARE=\(s) is not a share from 0 to 1; the model chooses")
            return nil
        }
        return v
    }()

    /// The accelerator a split uses: the one in use, else OpenCL, else CUDA, the first that is
    /// available and runs parts of kernels; throws with each one's reason when none does.
    func splitAccelerator() throws -> any QueuedKernelDevice {
        guard isAvailable(.cpuAll) else {
            throw TandemError.deviceUnavailable(device: "split", reason: "the host's part needs compiled C and no C compiler is available")
        }
        var reasons: [String] = []
        let current = acceleratorSlot.withLock { $0?.placement }
        for p in [current, .opencl, .cuda].compactMap({ $0 }) {
            guard let d = queuedDevices[p.rawValue] else { continue }
            if case .unavailable(let why) = d.availability { reasons.append("\(p): \(why)"); continue }
            guard d.runsParts else { reasons.append("\(p): runs whole kernels only"); continue }
            return try useAccelerator(p)
        }
        throw TandemError.deviceUnavailable(device: "split", reason: "no accelerator runs part of a kernel (\(reasons.isEmpty ? "none registered" : reasons.joined(separator: "; ")))")
    }

    /// Why `k` is not split, or nil: a sequence of stages, a kernel with neither a parallel axis
    /// nor a reduction in pieces, one of one row, a reduction in pieces the device cannot share
    /// (arg reductions, a gather bounded by the cut axis), or one the accelerator refuses.
    func splitRefusal(_ k: PlannedKernel, _ accelerator: any QueuedKernelDevice) -> String? {
        if k.kernel.isSequence { return "a sequence of small kernels" }
        if k.kernel.parallelAxes == 0 && k.splitChunks == 0 { return "no parallel axis to cut, nor a reduce axis in pieces" }
        if k.splitChunks > 0 {
            if !accelerator.runsReduceParts { return "a reduction split over its reduce axis (\(accelerator.name) folds no pieces)" }
            if k.kernel.reductions.contains(where: { $0.op.isArg }) { return "an arg reduction (the device's indices would start at its piece)" }
            for instr in k.kernel.instrs {
                if case .gather(_, _, _, _, let extent) = instr.op, extent == k.kernel.parallelAxes {
                    return "a gather bounded by the reduce axis being cut"
                }
            }
        }
        if k.launch.extent(0) < 2 { return "one row" }
        if let why = accelerator.refusal(k.kernel) { return why }
        return nil
    }

    /// The bytes of launch buffer `buffer` that `k` stores into (`stores`) or reads over rows
    /// `rows` of its first axis (every other axis whole), as one span from the lowest to the
    /// highest element, and whether every element of the span is stored (a store with gaps, a
    /// slice's interior, is not: its gaps keep the old values). A gather reads the whole buffer.
    static func span(_ k: PlannedKernel, buffer: Int, rows: Range<Int>, stores: Bool) -> (bytes: Range<Int>, dense: Bool) {
        guard !rows.isEmpty else { return (0..<0, true) }
        let kernel = k.kernel, ints = k.launch.ints
        let size = k.launch.buffers[buffer].dtype.byteSize
        var accesses: [Int] = []
        if stores {
            accesses = kernel.stores.filter { $0.buffer == buffer }.map(\.access)
        } else {
            for instr in kernel.instrs {
                switch instr.op {
                case .load(buffer, let a): accesses.append(a)
                case .gather(buffer, _, _, _, _): return (0..<k.launch.buffers[buffer].byteCount, false)
                default: break
                }
            }
        }
        var lo = Int.max, hi = Int.min, elements = 0
        for a in Set(accesses) {
            let access = kernel.accesses[a]
            // The access over the rows as a flat access over extents starting at 0.
            var flat = Overlap.FlatAccess(offset: Int(ints[access.offset]), strides: access.strides.map { $0.value(ints) })
            var extents = flat.strides.indices.map { k.launch.extent($0) }
            if !extents.isEmpty {
                flat.offset += flat.strides[0] * rows.lowerBound
                extents[0] = rows.count
            }
            guard !extents.contains(0) else { return (0..<0, true) }
            let b = flat.bounds(extents)
            lo = min(lo, b.lo)
            hi = max(hi, b.hi)
            elements += zip(flat.strides, extents).reduce(1) { $1.0 == 0 ? $0 : $0 * $1.1 }
        }
        guard lo <= hi else { return (0..<0, true) }
        return ((lo * size)..<((hi + 1) * size), accesses.count == 1 && elements == hi - lo + 1)
    }

    /// Rows from which `spans` gives one span for all of them rather than one a row.
    static let rowsSpannedApart = 16

    /// `span`, row by row for a few rows (up to `rowsSpannedApart`; a kernel over the first and
    /// the last row of a grid, a border copy, reads two rows, not the grid between them), else
    /// one span; dense when every span is.
    static func spans(_ k: PlannedKernel, buffer: Int, rows: Range<Int>, stores: Bool) -> (bytes: [Range<Int>], dense: Bool) {
        guard rows.count > 1 && rows.count <= rowsSpannedApart else {
            let s = span(k, buffer: buffer, rows: rows, stores: stores)
            return (s.bytes.isEmpty ? [] : [s.bytes], s.dense)
        }
        var set = ByteRanges(), dense = true
        for i in rows {
            let s = span(k, buffer: buffer, rows: i..<(i + 1), stores: stores)
            set.insert(s.bytes)
            dense = dense && s.dense
        }
        return (set.ranges, dense)
    }

    /// Where to cut `k`: the given share, else the model's (the earliest predicted finish of
    /// both parts), rows rounded so a kernel of one axis is cut at a multiple of
    /// `vectorAlignment` (the host's vector loops and the device's widened items start there).
    /// Nil when the parts' stores would share memory (a written buffer whose rows interleave:
    /// each side's span is recorded as valid there only) (graph lock).
    func splitCut(_ k: PlannedKernel, device: Placement, model: CostModel) -> SplitCut? {
        let n0 = k.launch.extent(0)
        var predicted: SplitPrediction? = nil
        let given = Runtime.scopedSplitShare ?? Runtime.environmentSplitShare
        let features = history[k.kernel]?.features ?? KernelFeatures(k.kernel, stagePoints: k.stagePoints)
        let launch = k.launch
        var run = KernelRun(points: k.points, parallelPoints: (0..<k.kernel.parallelAxes).reduce(1) { $0 * launch.extent($1) },
                            firstExtent: n0, splitChunks: 0, bytes: k.bytesAccessed)
        run.innerExtent = launch.extent(k.kernel.rank - 1)
        run.previousRuns = history[k.kernel]?.runs ?? 0
        // Inputs a split left partly on each side: the rows between its cut and this one move.
        var seen: Set<ObjectIdentifier> = []
        var cuts: [(share: Double, bytes: Int)] = []
        for (i, b) in launch.buffers.enumerated() where k.kernel.buffers[i].isRead && seen.insert(ObjectIdentifier(b)).inserted {
            let s = schedule(of: b)
            if let q = s.hostShare {
                cuts.append((q, b.byteCount))
            } else if !s.planned.contains(.device) {
                run.hostOnlyBytes += b.byteCount
            } else if s.planned == .device {
                cuts.append((0, b.byteCount))
            }
        }
        var share = given ?? 0.5
        if given == nil {
            let memory = splitMemory.withLock { $0[k.kernel] } ?? SplitMemory()
            // The search costs a few hundred predictions: a kernel split again at the same sizes
            // whose factors moved little keeps its last prediction.
            let cutShares = cuts.map(\.share)
            if let last = memory.decided, last.rows == n0, last.cuts == cutShares, last.factors.isClose(to: memory.factors) {
                predicted = last.prediction
            } else {
                // A device on the host's cores competes with the workers unless the cores are
                // divided between them (`TANDEM_THREADS` and PoCL's threads within the cores).
                let sequential = accelerator.map { $0.sharesHostCores && executor.workers + $0.hostCoresUsed > ProcessInfoLite.cores } ?? false
                predicted = model.bestSplit(features, run, device: device, factors: memory.factors, cuts: cuts, sequential: sequential)
                splitMemory.withLock { $0[k.kernel, default: SplitMemory()].decided = (n0, cutShares, memory.factors, predicted) }
            }
            share = predicted?.hostShare ?? 0.5
            // A small change of share is not taken: rows that change sides are copied over.
            if let last = memory.share, abs(last - share) < SplitMemory.hysteresis {
                share = last
            } else {
                splitMemory.withLock { table in
                    if table.count >= Runtime.maxSplitRecords && table[k.kernel] == nil { table.removeAll() }
                    table[k.kernel, default: SplitMemory()].share = share
                }
            }
        }
        if k.splitChunks > 0 {
            guard var cut = reductionCut(k, share: share, predicted: predicted, fixed: given != nil) else { return nil }
            let raw = model.split(features, run, device: device, hostShare: Double(cut.hostRows) / Double(cut.rows))
            cut.raw = raw.device.isFinite ? raw : nil
            return cut
        }
        var r = Int((share * Double(n0)).rounded())
        if k.kernel.parallelAxes == 1 && r < n0 { r -= r % Runtime.vectorAlignment }
        // What each part reads and writes. A store with gaps reads its span first (the gaps
        // must be valid on the side that writes, which then holds the whole span).
        var access = PartAccess()
        for b in k.kernel.buffers.indices {
            let param = k.kernel.buffers[b]
            if param.isRead {
                for h in Runtime.spans(k, buffer: b, rows: 0..<r, stores: false).bytes { access.hostReads.append((b, h)) }
                for d in Runtime.spans(k, buffer: b, rows: r..<n0, stores: false).bytes { access.deviceReads.append((b, d)) }
            }
            guard param.isWritten else { continue }
            let h = Runtime.spans(k, buffer: b, rows: 0..<r, stores: true), d = Runtime.spans(k, buffer: b, rows: r..<n0, stores: true)
            // The parts' stores must not share memory, nor may a buffer be written under two
            // names (each side's spans are recorded as its own).
            if h.bytes.contains(where: { x in d.bytes.contains { x.overlaps($0) } }) { return nil }
            if k.launch.buffers.indices.contains(where: { $0 != b && k.launch.buffers[$0] === k.launch.buffers[b] }) { return nil }
            for x in h.bytes {
                access.hostWrites.append((b, x))
                if !h.dense { access.hostReads.append((b, x)) }
            }
            for x in d.bytes {
                access.deviceWrites.append((b, x))
                if !d.dense { access.deviceReads.append((b, x)) }
            }
        }
        let raw = model.split(features, run, device: device, hostShare: Double(r) / Double(n0))
        return SplitCut(rows: n0, hostRows: r, predicted: predicted, fixed: given != nil, access: access,
                        raw: raw.device.isFinite ? raw : nil)
    }

    /// The cut of a split reduction at `share` of its pieces: the host's first pieces, the
    /// device's launch over the rest of the first reduce axis (every access's offset moved to
    /// where the device starts), nil when two accesses that share an offset parameter would move
    /// by different amounts.
    func reductionCut(_ k: PlannedKernel, share: Double, predicted: SplitPrediction?, fixed: Bool) -> SplitCut? {
        let count = k.splitChunks, axis = k.kernel.parallelAxes
        let c0 = min(count, max(0, Int((share * Double(count)).rounded())))
        let extent = k.launch.extent(axis), lo0 = extent * c0 / count
        var ints = k.launch.ints
        var shifts: [Int: Int] = [:]
        for a in k.kernel.accesses {
            let shift = lo0 * a.strides[axis].value(k.launch.ints)
            if let known = shifts[a.offset], known != shift { return nil }
            shifts[a.offset] = shift
        }
        for (param, shift) in shifts { ints[param] += Int64(shift) }
        ints[axis] = Int64(extent - lo0)
        var reads: [(buffer: Int, bytes: Range<Int>)] = []
        for (i, p) in k.kernel.buffers.enumerated() where p.isRead || !p.isWritten {
            reads.append((i, 0..<k.launch.buffers[i].byteCount))
        }
        return SplitCut(rows: count, hostRows: c0, predicted: predicted, fixed: fixed, access: PartAccess(), raw: nil,
                        reduce: (Launch(buffers: k.launch.buffers, ints: ints, floats: k.launch.floats), reads))
    }

    /// Under `DeviceChoice.split`: `code` (the host's compiled code for `k`) with the device's
    /// code and the cut, or `code` itself for a kernel that is not split (said once, counted)
    /// (graph lock).
    func splitCode(_ k: PlannedKernel, _ code: ReadyCode, model: inout CostModel?) throws -> ReadyCode {
        guard case .host(let host) = code, let accelerator, let device = acceleratorPlacement else { return code }
        let m = model ?? compileCorrected(costModel)
        model = m
        var why = splitRefusal(k, accelerator)
        var cut: SplitCut? = nil
        if why == nil {
            cut = splitCut(k, device: device, model: m)
            if cut == nil { why = "its rows' stores interleave in memory" }
        }
        guard let cut else {
            statistics.update { $0.unsplitKernels += 1 }
            splitFallback.record("\(k.label): \(why!)")
            return code
        }
        if cut.hostRows == cut.rows {
            // The host takes every row: the kernel runs as host code (it may then run inline or
            // in a lagged pass, as under `cpu`); recorded as a split at share 1.
            statistics.update { $0.splitKernels += 1 }
            keep(SplitEntry(SplitRecord(k.label, cut, device: device)))
            return code
        }
        return .split(host, try accelerator.prepareQueued(k.kernel), cut)
    }

    /// Queues a split kernel: a task that hands the device its part (the device brings back
    /// the bytes the host's rows read that only it holds, copies over those its rows read and
    /// lacks, records each side's writes, and queues its rows), then a task running the host's
    /// rows in chunks on the workers. Residency is by byte range: each side keeps the rows it
    /// wrote, so a stencil split the same way step after step moves only the rows beside the
    /// cut; the rest moves when something reads it on the other side (graph lock).
    func submitSplit(_ k: PlannedKernel, host: any PreparedKernel, device code: any QueuedKernel, cut: SplitCut, decision: PlacementDecision) {
        guard let accelerator, let placement = acceleratorPlacement else { return }
        if let reduce = cut.reduce {
            submitSplitReduction(k, host: host, device: code, cut: cut, reduce: reduce, decision: decision, accelerator: accelerator, placement: placement)
            return
        }
        queuedDeviceUsed = true
        let (reads, writes) = k.accessedBuffers
        let deps = dependencies(reads: reads, writes: writes)
        let launch = k.launch, label = k.label, points = k.points
        let r = cut.hostRows, n0 = cut.rows
        let (entry, timed) = splitRecord(k, cut, placement: placement, accelerator: accelerator, part: "rows \(r)..<\(n0)")
        let kernel = k.kernel, raw = cut.raw
        let access = cut.access
        let devicePart = executor.submit(label: label + " (device rows)", dependencies: deps, chunks: [{ [self] _ in
            do {
                Runtime.allocate(writes)
                try accelerator.enqueue(code, launch, rows: r..<n0, access: access, timed: timed)
            } catch {
                asyncError.withLock { $0 = $0 ?? error }
            }
        }])
        let target = max(1, CostModel.cpuChunks(points: points * r / max(n0, 1), firstExtent: r, parallelAxes: k.kernel.parallelAxes,
                                                splitChunks: 0, workers: executor.workers))
        var chunks: [@Sendable (Int) -> Void] = []
        for c in 0..<target {
            let lo = Runtime.chunkBound(r, c, target, kernel: k.kernel), hi = Runtime.chunkBound(r, c + 1, target, kernel: k.kernel)
            if lo < hi { chunks.append(Runtime.traced(label, points: points, device: { "cpu" }, lo, hi) { host.run(launch, lo: lo, hi: hi) }) }
        }
        if chunks.isEmpty { chunks.append { _ in } }
        let task = executor.submit(label: label + " (host rows)", dependencies: [devicePart], chunks: chunks, onDone: { [self] t in
            entry.record.withLock { $0.hostSeconds = Double(t.elapsedNanos) / 1e9 }
            if let raw, r > 0 { learnSplit(kernel, host: true, predicted: raw.hostKernel, measured: Double(t.elapsedNanos) / 1e9) }
            statistics.update { $0.splitKernels += 1 }
            let note = "split: rows 0..<\(r) on cpu, \(r)..<\(n0) on \(placement)"
                + (cut.fixed ? " (share given)" : cut.predicted.map { " (\($0))" } ?? " (half each: \(placement) is not in the machine profile)")
            record(decision, label: label, points: points, started: t.startedNanos, measured: nil, note: note)
        })
        // Each side holds its part's rows: a later split at the same cut moves only borders.
        registerWithDevice(task, reads: reads, writes: writes, written: [.host, .device], hostShare: Double(r) / Double(max(n0, 1)))
    }

    /// A split's record, kept in `splitRecords`, and what the device calls with its part's time:
    /// the record completed, the kernel's next cut taught, the part drawn on the device's track.
    func splitRecord(_ k: PlannedKernel, _ cut: SplitCut, placement: Placement, accelerator: any QueuedKernelDevice,
                     part: String) -> (SplitEntry, (@Sendable (Double) -> Void)?) {
        let entry = SplitEntry(SplitRecord(k.label, cut, device: placement))
        keep(entry)
        let kernel = k.kernel, raw = cut.raw, label = k.label, points = k.points
        let timed: (@Sendable (Double) -> Void)? = accelerator.reportsKernelTimes ? { @Sendable [self] seconds in
            entry.record.withLock { $0.deviceSeconds = seconds }
            if let raw { learnSplit(kernel, host: false, predicted: raw.deviceKernel, measured: seconds) }
            let now = ProcessInfoLite.monotonicNanos(), ns = UInt64(max(seconds, 0) * 1e9)
            Tracer.shared.record(TraceEvent(kind: .kernel, name: label, start: now &- min(ns, now), duration: ns, points: points,
                                            device: placement.rawValue, detail: "split: \(part) on the device (drawn ending when it was read back)"))
        } : nil
        return (entry, timed)
    }

    /// Queues a split reduction: a task that brings what the host reads back from the device
    /// (only what only the device holds) and queues the device's pieces with the copy of their
    /// partials into the host's partial memory, then a task folding the host's pieces on the
    /// workers whose finish waits for the device and combines every piece in order, on the
    /// host: the same merge order whatever the share (graph lock).
    func submitSplitReduction(_ k: PlannedKernel, host: any PreparedKernel, device code: any QueuedKernel, cut: SplitCut,
                              reduce: (deviceLaunch: Launch, reads: [(buffer: Int, bytes: Range<Int>)]), decision: PlacementDecision,
                              accelerator: any QueuedKernelDevice, placement: Placement) {
        queuedDeviceUsed = true
        let (reads, writes) = k.accessedBuffers
        let deps = dependencies(reads: reads, writes: writes)
        let label = k.label, points = k.points
        let pieces = SplitPieces(k)
        let c0 = cut.hostRows, count = cut.rows
        let (toHost, stale) = hostSpans(k)
        let (entry, timed) = splitRecord(k, cut, placement: placement, accelerator: accelerator, part: "pieces \(c0)..<\(count)")
        let kernel = k.kernel, raw = cut.raw
        // When the host's pieces were done (before waiting for the device's): their own time.
        let piecesDone = Atomic<UInt64>(0)
        let devicePart = executor.submit(label: label + " (device pieces)", dependencies: deps, chunks: [{ [self] _ in
            do {
                Runtime.allocate(writes)
                try accelerator.hostUse(reads: toHost, writes: stale)
                if c0 < count {
                    try accelerator.enqueueReduceParts(code, reduce.deviceLaunch, parts: count - c0, into: pieces.partials.pointer + c0 * pieces.stride,
                                                       bytes: (count - c0) * pieces.stride, reads: reduce.reads, timed: timed)
                }
            } catch {
                asyncError.withLock { $0 = $0 ?? error }
            }
        }])
        var chunks: [@Sendable (Int) -> Void] = []
        for c in 0..<c0 {
            let r = pieces.range(c)
            chunks.append(Runtime.traced(label, points: points, device: { "cpu" }, r.lowerBound, r.upperBound) { pieces.run(host, piece: c) })
        }
        if chunks.isEmpty { chunks.append { _ in } }
        let task = executor.submit(label: label + " (host pieces)", dependencies: [devicePart], chunks: chunks, finish: { [self] in
            piecesDone.store(ProcessInfoLite.monotonicNanos(), ordering: .relaxed)
            do {
                if c0 < count { try accelerator.synchronize() }
                pieces.combine(host)
            } catch {
                asyncError.withLock { $0 = $0 ?? error }
            }
        }, onDone: { [self] t in
            let hostSeconds = Double(piecesDone.load(ordering: .relaxed) &- t.startedNanos) / 1e9
            entry.record.withLock { $0.hostSeconds = hostSeconds }
            if let raw, c0 > 0 { learnSplit(kernel, host: true, predicted: raw.hostKernel, measured: hostSeconds) }
            statistics.update { $0.splitKernels += 1 }
            let note = "split reduction: pieces 0..<\(c0) on cpu, \(c0)..<\(count) on \(placement), combined on cpu"
            record(decision, label: label, points: points, started: t.startedNanos, measured: nil, note: note)
        })
        // The device read the inputs; the host combined the results.
        registerWithDevice(task, reads: reads, writes: writes, written: .host, hostShare: nil)
    }
}
