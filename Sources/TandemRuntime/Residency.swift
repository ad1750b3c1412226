import TandemIR

/// Where a buffer's current values are: on the host, on the device, both, or nowhere yet (a
/// planned output before its producer ran).
public struct Validity: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let host = Validity(rawValue: 1)
    public static let device = Validity(rawValue: 2)
    public static let both: Validity = [.host, .device]
    public var description: String {
        switch self {
        case []: "none"
        case .host: "host"
        case .device: "device"
        default: "both"
        }
    }
}

/// The bytes each part of a split kernel reads and writes, by launch buffer index: what the
/// device's residency moves before it queues its part (`QueuedKernelDevice.enqueue(_:_:rows:access:timed:)`).
public struct PartAccess: Sendable {
    public var hostReads: [(buffer: Int, bytes: Range<Int>)] = []
    public var hostWrites: [(buffer: Int, bytes: Range<Int>)] = []
    public var deviceReads: [(buffer: Int, bytes: Range<Int>)] = []
    public var deviceWrites: [(buffer: Int, bytes: Range<Int>)] = []
    public init() {}
}

/// One copy the residency logic made, for tests, traces and statistics.
public struct Copy: Equatable, Sendable, CustomStringConvertible {
    public enum Direction: String, Sendable { case toDevice = "H->D", toHost = "D->H" }
    public var direction: Direction
    public var buffer: UInt64
    public var bytes: Int
    public init(_ direction: Direction, buffer: UInt64, bytes: Int) {
        self.direction = direction
        self.buffer = buffer
        self.bytes = bytes
    }
    public var description: String { "\(direction.rawValue) #\(buffer) \(bytes) B" }
}

/// Which buffers of one device are valid where, and the copies a sequence of uses needs: data
/// moves only when a consumer on the other side needs it, and results go back to the host only
/// when the host reads them.
///
/// Rules, per use:
/// - **kernel on the device**: every read buffer must be valid on the device (copied in if it
///   is valid only on the host); a written buffer that holds values only on the host is copied in
///   first unless the kernel overwrites all of it (a partial store must not lose the rest);
///   afterwards written buffers are valid on the device only.
/// - **host read** (a sync point, or a CPU kernel reading): copied back if valid only on the device.
/// - **host write** (a CPU kernel writing): like a device write, mirrored; afterwards host only.
///
/// Device memory comes from a `DeviceMemoryPool`. Out of memory: the pool releases its cached
/// blocks and retries; then the least recently used buffers that the current use does not need
/// are evicted (copied back to the host if the device holds their only copy, marked host-only,
/// their blocks freed) one at a time with a retry after each; when nothing is left to evict,
/// `DeviceMemoryError.outOfMemory` is thrown. No data is lost on any of these paths.
///
/// Not thread-safe by itself: the device owning it serialises calls (the runtime submits under
/// its graph lock).
///
///     let r = DeviceResidency(pool: DeviceMemoryPool(backend: backend), device: "cuda")
///     let copies = try r.deviceUse(reads: [a, b], writes: [c])   // [H->D a, H->D b]
///     let back = try r.hostRead(c)                               // [D->H c]
public final class DeviceResidency {
    public let pool: DeviceMemoryPool
    public let device: String

    struct Entry {
        // Weak: the residency must not keep buffers alive; `forget` is called from the buffer's owner.
        weak var buffer: Buffer?
        var bytes: Int
        /// Where the host's memory and the device's copy hold current values (bytes). Whole
        /// kernels make either side whole; a split kernel's parts leave each side some rows.
        var host: ByteRanges
        var device: ByteRanges
        var address: UInt64?
        var lastUse: UInt64

        var all: Range<Int> { 0..<bytes }
        var validity: Validity {
            var v: Validity = []
            if host.covers(all) { v.insert(.host) }
            if device.covers(all) { v.insert(.device) }
            return v
        }
    }

    private var entries: [UInt64: Entry] = [:]
    private var clock: UInt64 = 0
    /// Every copy made so far, in order (tests and statistics).
    public private(set) var log: [Copy] = []

    public init(pool: DeviceMemoryPool, device: String) {
        self.pool = pool
        self.device = device
    }

    /// Where `buffer` is valid (whole). A buffer never seen is taken to hold its values on the
    /// host when it has host memory, else nowhere; one a split left partly on each side is
    /// valid whole on neither (`ranges(of:)` says which bytes are where).
    public func validity(of buffer: Buffer) -> Validity {
        entries[buffer.id]?.validity ?? (buffer.isAllocated ? .host : [])
    }

    /// Which bytes of `buffer` are valid on the host and on the device.
    public func ranges(of buffer: Buffer) -> (host: ByteRanges, device: ByteRanges) {
        let e = entry(buffer)
        return (e.host, e.device)
    }

    /// The device address of `buffer`, if it has device memory.
    public func address(of buffer: Buffer) -> UInt64? { entries[buffer.id]?.address }

    /// Bytes of device memory held by buffers.
    public var residentBytes: Int { entries.values.reduce(0) { $0 + ($1.address == nil ? 0 : DeviceMemoryPool.sizeClass($1.bytes)) } }

    private func entry(_ b: Buffer) -> Entry {
        entries[b.id] ?? Entry(buffer: b, bytes: b.byteCount, host: b.isAllocated ? ByteRanges(0..<b.byteCount) : ByteRanges(),
                               device: ByteRanges(), address: nil, lastUse: 0)
    }

    /// Makes the buffers of a kernel on the device ready and records its writes. `overwrites`
    /// are written buffers the kernel stores completely (no copy-in needed). Returns the copies
    /// this use caused, in order; afterwards every buffer has a device address.
    @discardableResult
    public func deviceUse(reads: [Buffer], writes: [Buffer], overwrites: Set<UInt64> = []) throws -> [Copy] {
        let all = unique(reads + writes)
        let needs = all.filter { b in reads.contains { $0 === b } || !overwrites.contains(b.id) }.map { ($0, 0..<$0.byteCount) }
        return try deviceUse(buffers: all, reads: needs, writes: unique(writes).map { ($0, 0..<$0.byteCount) })
    }

    /// A device use by ranges: `buffers` get device addresses, the bytes of `reads` (of those
    /// buffers) are copied over where the device lacks them (only those, from the host where it
    /// holds them), and the bytes of `writes` are then valid on the device only.
    @discardableResult
    public func deviceUse(buffers: [Buffer], reads: [(Buffer, Range<Int>)], writes: [(Buffer, Range<Int>)]) throws -> [Copy] {
        clock += 1
        let start = log.count
        let pinned = Set(buffers.map(\.id))
        // Buffer by buffer: its block, then its copies (an eviction to make room for a later
        // buffer then copies after this one's, as it always did).
        for b in buffers {
            var e = entry(b)
            e.lastUse = clock
            if e.address == nil {
                entries[b.id] = e
                e.address = try allocate(e.bytes, pinned: pinned)
            }
            entries[b.id] = e
            for (rb, r) in reads where rb === b { try copyIn(b, r) }
        }
        for (b, r) in writes {
            entries[b.id]!.device.insert(r)
            entries[b.id]!.host.remove(r)
        }
        return Array(log[start...])
    }

    /// Copies the bytes of `r` the device lacks and the host holds (whole when it is all).
    private func copyIn(_ b: Buffer, _ r: Range<Int>) throws {
        var e = entries[b.id]!
        for gap in e.device.missing(in: r) {
            for piece in e.host.intersection(gap) {
                if piece == e.all {
                    try pool.backend.copyToDevice(b, address: e.address!)
                } else {
                    try pool.backend.copyToDevice(b, address: e.address!, bytes: piece)
                }
                log.append(Copy(.toDevice, buffer: b.id, bytes: piece.count))
                e.device.insert(piece)
            }
        }
        entries[b.id] = e
    }

    /// Launches since dead buffers' device blocks were last returned to the pool.
    private var sinceCollect = 0

    /// Everything a queued device does before it launches `kernel` with `launch`, whatever its
    /// driver: dead buffers' blocks back to the pool every 64 launches, every read buffer (and
    /// every buffer the kernel only names) valid on the device and written ones allocated
    /// there (`deviceUse`), the copies counted and traced. Returns the device address of each
    /// of the launch's buffers, in the kernel's order.
    public func prepareLaunch(_ kernel: Kernel, _ launch: Launch, overwrites: Set<UInt64>, statistics: StatisticsBox) throws -> [UInt64] {
        // A buffer the kernel neither reads nor writes still needs an address: treat it as read.
        let reads = kernel.buffers.indices.filter { kernel.buffers[$0].isRead || !kernel.buffers[$0].isWritten }.map { launch.buffers[$0] }
        let writes = kernel.buffers.indices.filter { kernel.buffers[$0].isWritten }.map { launch.buffers[$0] }
        sinceCollect += 1
        if sinceCollect >= 64 {
            // Buffers freed on the host give their device blocks back to the pool (also done on out-of-memory).
            collect()
            sinceCollect = 0
        }
        let start = ProcessInfoLite.monotonicNanos()
        account(try deviceUse(reads: reads, writes: writes, overwrites: overwrites), statistics: statistics, since: start)
        let addresses = launch.buffers.map { address(of: $0)! }
        pool.backend.used(addresses)
        return addresses
    }

    /// `hostRead`, its copies counted and traced: a queued device's `makeHostValid`.
    public func makeHostValid(_ buffer: Buffer, statistics: StatisticsBox) throws {
        let start = ProcessInfoLite.monotonicNanos()
        account(try hostRead(buffer), statistics: statistics, since: start)
    }

    /// `hostWrite`, its copies counted and traced: a queued device's `hostWillWrite`.
    public func hostWillWrite(_ buffer: Buffer, overwrites: Bool, statistics: StatisticsBox) throws {
        let start = ProcessInfoLite.monotonicNanos()
        account(try hostWrite(buffer, overwrites: overwrites), statistics: statistics, since: start)
    }

    /// Counts `copies` in the statistics (bytes each way) and records each as a copy event on the
    /// trace's copy track, timed from `since` (copies queued on a stream are timed as issued).
    public func account(_ copies: [Copy], statistics: StatisticsBox, since start: UInt64) {
        guard !copies.isEmpty else { return }
        let end = ProcessInfoLite.monotonicNanos()
        statistics.update { s in
            for c in copies { if c.direction == .toDevice { s.bytesToDevice += c.bytes } else { s.bytesToHost += c.bytes } }
        }
        for c in copies {
            Tracer.shared.record(TraceEvent(kind: .copy, name: "copy \(c.direction.rawValue)", start: start, duration: end - start,
                                            bytes: c.bytes, device: device, detail: c.direction.rawValue))
        }
    }

    /// Makes bytes `bytes` of `buffer` valid on the host (a host kernel's reads), copying back
    /// what only the device holds. Returns the copies made.
    @discardableResult
    public func hostRead(_ buffer: Buffer, bytes r: Range<Int>) throws -> [Copy] {
        guard var e = entries[buffer.id], let a = e.address else { return [] }
        var copies: [Copy] = []
        for gap in e.host.missing(in: r) {
            for piece in e.device.intersection(gap) {
                if piece == e.all {
                    try pool.backend.copyToHost(buffer, address: a)
                } else {
                    try pool.backend.copyToHost(buffer, address: a, bytes: piece)
                }
                copies.append(Copy(.toHost, buffer: buffer.id, bytes: piece.count))
                e.host.insert(piece)
            }
        }
        log += copies
        entries[buffer.id] = e
        return copies
    }

    /// Records that the host writes bytes `bytes` of `buffer` (a host part of a split kernel):
    /// valid there, stale on the device. No copy.
    public func hostWrote(_ buffer: Buffer, bytes r: Range<Int>) {
        guard entries[buffer.id] != nil else { return }
        entries[buffer.id]!.host.insert(r)
        entries[buffer.id]!.device.remove(r)
    }

    /// Makes `buffer` valid on the host (a read of its values there). Returns the copies made.
    @discardableResult
    public func hostRead(_ buffer: Buffer) throws -> [Copy] { try hostRead(buffer, bytes: 0..<buffer.byteCount) }

    /// Records a write of `buffer` on the host (a CPU kernel). A partial write of a buffer whose
    /// only values are on the device brings them back first.
    @discardableResult
    public func hostWrite(_ buffer: Buffer, overwrites: Bool = false) throws -> [Copy] {
        let copies = overwrites ? [] : try hostRead(buffer)
        hostWrote(buffer, bytes: 0..<buffer.byteCount)
        return copies
    }

    /// `DeviceResidency` side of `QueuedKernelDevice.hostUse`: the bytes read made valid on the
    /// host (copied back where only the device holds them), then the bytes written the host's;
    /// counted and traced.
    public func hostUse(reads: [(buffer: Buffer, bytes: Range<Int>)], writes: [(buffer: Buffer, bytes: Range<Int>)], statistics: StatisticsBox) throws {
        let start = ProcessInfoLite.monotonicNanos()
        var copies: [Copy] = []
        for (b, r) in reads { copies += try hostRead(b, bytes: r) }
        for (b, r) in writes { hostWrote(b, bytes: r) }
        account(copies, statistics: statistics, since: start)
    }

    /// Everything a device does around one part of a split kernel, before queuing it: the
    /// bytes the host's part reads made valid on the host (copied back from the device where
    /// only it has them, before this part is queued, so the copy does not wait for it), those
    /// the device's part reads made valid on the device, and both parts' writes recorded (each
    /// side's rows valid there only). Counted and traced; returns the launch's device addresses.
    public func preparePart(_ launch: Launch, access: PartAccess, statistics: StatisticsBox) throws -> [UInt64] {
        let start = ProcessInfoLite.monotonicNanos()
        var copies: [Copy] = []
        for (i, r) in access.hostReads { copies += try hostRead(launch.buffers[i], bytes: r) }
        copies += try deviceUse(buffers: unique(launch.buffers), reads: access.deviceReads.map { (launch.buffers[$0.buffer], $0.bytes) },
                                writes: access.deviceWrites.map { (launch.buffers[$0.buffer], $0.bytes) })
        for (i, r) in access.hostWrites { hostWrote(launch.buffers[i], bytes: r) }
        account(copies, statistics: statistics, since: start)
        let addresses = launch.buffers.map { address(of: $0)! }
        pool.backend.used(addresses)
        return addresses
    }

    /// Forgets a buffer that is gone (its device block returns to the pool).
    public func forget(_ id: UInt64) {
        guard let e = entries.removeValue(forKey: id) else { return }
        if let a = e.address { pool.release(a, bytes: e.bytes) }
    }

    /// Forgets entries whose buffers have been freed.
    public func collect() {
        for (id, e) in entries where e.buffer == nil { forget(id) }
    }

    private func unique(_ buffers: [Buffer]) -> [Buffer] {
        var seen: Set<UInt64> = []
        return buffers.filter { seen.insert($0.id).inserted }
    }

    /// A block for `bytes`: from the pool (which releases its cache when needed), else after
    /// evicting least recently used buffers outside `pinned`, one at a time.
    private func allocate(_ bytes: Int, pinned: Set<UInt64>) throws -> UInt64 {
        // Blocks of buffers that died since the last collection go back first: a program of
        // one or two kernels a step (Black-Scholes' prices, 32 MB out a step) otherwise got a
        // fresh block every step until the 64th launch, each of its pages faulted in again on
        // a device whose memory is the host's (PoCL: 8x the kernel's time).
        if !pool.hasCached(bytes: bytes) { collect() }
        if let a = try pool.allocate(bytes: bytes) { return a }
        collect()
        if let a = try pool.allocate(bytes: bytes) { return a }
        while let victim = entries.filter({ !pinned.contains($0.key) && $0.value.address != nil }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
            try evict(victim.key)
            try pool.releaseCache()
            if let a = try pool.allocate(bytes: bytes) { return a }
        }
        let pinnedBytes = pinned.compactMap { entries[$0] }.filter { $0.address != nil }.reduce(0) { $0 + $1.bytes }
        throw DeviceMemoryError.outOfMemory(device: device, requested: bytes, pinned: pinnedBytes, cached: pool.cachedBytes)
    }

    /// Scratch device memory for one kernel (partial reductions), with the out-of-memory policy
    /// of buffers; `keeping` are the kernel's own buffers, which are not evicted. Give it back
    /// with `pool.release(_:bytes:)`.
    public func scratch(bytes: Int, keeping: [Buffer]) throws -> UInt64 {
        let a = try allocate(bytes, pinned: Set(keeping.map(\.id)))
        pool.backend.used([a])
        return a
    }

    /// Moves a buffer off the device: the bytes only the device holds are copied back first.
    public func evict(_ id: UInt64) throws {
        guard var e = entries[id], let a = e.address else { return }
        var only = e.device
        for r in e.host.ranges { only.remove(r) }
        if !only.isEmpty {
            guard let b = e.buffer else {
                // Nobody can read it any more: nothing to keep.
                forget(id)
                return
            }
            for piece in only.ranges {
                if piece == e.all { try pool.backend.copyToHost(b, address: a) } else { try pool.backend.copyToHost(b, address: a, bytes: piece) }
                log.append(Copy(.toHost, buffer: id, bytes: piece.count))
                e.host.insert(piece)
            }
        }
        e.device = ByteRanges()
        pool.release(a, bytes: e.bytes)
        e.address = nil
        entries[id] = e
    }
}
