#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A block of host memory holding the elements of one materialised tensor, row-major.
///
/// Buffers are reference counted: the memory is freed when no graph node and no queued kernel
/// holds the buffer any more. Scheduling state (which task last wrote it, which read it since)
/// lives in `schedule`, owned by the runtime and only touched under the runtime's lock.
public final class Buffer: @unchecked Sendable {
    public let dtype: DType
    public let count: Int
    public let byteCount: Int
    /// 64-byte aligned host memory (zero-size buffers get one byte). A buffer planned for a
    /// kernel's output gets its memory only when that kernel is about to run (`allocate()`), so
    /// temporaries live from their producer to their last consumer, not for the whole plan.
    public var pointer: UnsafeMutableRawPointer { memory! }
    // Set once, by the first writer's task before any access (ordered by the executor's lock).
    private nonisolated(unsafe) var memory: UnsafeMutableRawPointer?
    public let id: UInt64
    /// Graph leaves currently naming this buffer; an in-place write needs this to be one.
    public let aliases = Atomic<Int>(0)
    /// Runtime scheduling state; only read or written under the runtime's graph lock.
    public var schedule: AnyObject? {
        @inline(__always) get { storedSchedule }
        @inline(__always) set { storedSchedule = newValue }
    }
    // Not checked for exclusive access (the runtime's lock orders every access; the check cost
    // tens of instructions at each of a small kernel's several reads of it).
    @exclusivity(unchecked) private nonisolated(unsafe) var storedSchedule: AnyObject?

    /// A mark for one walk over a graph (the plan cache's key): `keyOwner` is meaningful while
    /// `keyEpoch` is that walk's epoch. Graph lock only; unchecked like `schedule`.
    public var keyEpoch: UInt64 {
        @inline(__always) get { storedKeyEpoch }
        @inline(__always) set { storedKeyEpoch = newValue }
    }
    public var keyOwner: Int {
        @inline(__always) get { storedKeyOwner }
        @inline(__always) set { storedKeyOwner = newValue }
    }
    @exclusivity(unchecked) private nonisolated(unsafe) var storedKeyEpoch: UInt64 = 0
    @exclusivity(unchecked) private nonisolated(unsafe) var storedKeyOwner: Int = 0

    private static let nextID = Atomic<UInt64>(1)
    /// Bytes currently allocated in all buffers, for statistics and tests.
    public static let liveBytes = Atomic<Int>(0)
    /// Largest single allocation seen since the last `resetPeak()`, for tests of fusion.
    public static let peakAllocation = Atomic<Int>(0)

    /// A buffer of `count` elements; with `deferred`, the memory comes at `allocate()`.
    public init(dtype: DType, count: Int, deferred: Bool = false) {
        self.dtype = dtype
        self.count = count
        self.byteCount = count * dtype.byteSize
        self.memory = deferred ? nil : BufferPool.shared.take(byteCount: count * dtype.byteSize)
        self.id = Buffer.nextID.add(1, ordering: .relaxed).oldValue
        Buffer.liveBytes.add(byteCount, ordering: .relaxed)
        var peak = Buffer.peakAllocation.load(ordering: .relaxed)
        while byteCount > peak {
            let (exchanged, original) = Buffer.peakAllocation.compareExchange(
                expected: peak, desired: byteCount, ordering: .relaxed)
            if exchanged { break }
            peak = original
        }
    }

    deinit {
        Buffer.liveBytes.subtract(byteCount, ordering: .relaxed)
        if let memory { BufferPool.shared.give(memory, byteCount: byteCount) }
    }

    /// Gives a deferred buffer its memory. Called by the runtime when the first task writing the
    /// buffer becomes ready, under the executor's lock; does nothing the second time.
    public func allocate() {
        if memory == nil { memory = BufferPool.shared.take(byteCount: byteCount) }
    }

    public var isAllocated: Bool { memory != nil }

    public static func resetPeak() { peakAllocation.store(0, ordering: .relaxed) }

    /// Reads element `i` as a literal of the buffer's type.
    public func literal(at i: Int) -> Literal {
        switch dtype {
        case .bool: .bool(pointer.load(fromByteOffset: i, as: UInt8.self) != 0)
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: .int(dtype.loadInteger(pointer, i))
        case .float32: .float(Double(pointer.load(fromByteOffset: i * 4, as: Float.self)))
        case .float64: .float(pointer.load(fromByteOffset: i * 8, as: Double.self))
        }
    }

    /// Writes every element from a literal (converted to the buffer's type): the first one
    /// stored, then copied over doubling runs.
    public func fill(with value: Literal) {
        guard count > 0 else { return }
        store(value, at: 0)
        let size = dtype.byteSize
        var filled = 1
        while filled < count {
            let n = Swift.min(filled, count - filled)
            (pointer + filled * size).copyMemory(from: pointer, byteCount: n * size)
            filled += n
        }
    }

    /// Writes element `i` from a literal (converted to the buffer's type).
    public func store(_ value: Literal, at i: Int) {
        switch (dtype, value.converted(to: dtype)) {
        case (.bool, let v): pointer.storeBytes(of: v.asInt64 != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        case (.int8, let v), (.int16, let v), (.int32, let v), (.int64, let v), (.uint8, let v), (.uint16, let v), (.uint32, let v), (.uint64, let v):
            dtype.storeInteger(v.asInt64, pointer, i)
        case (.float32, let v): pointer.storeBytes(of: Float(v.asDouble), toByteOffset: i * 4, as: Float.self)
        case (.float64, let v): pointer.storeBytes(of: v.asDouble, toByteOffset: i * 8, as: Double.self)
        }
    }
}

/// Recently freed buffer memory, kept by size for reuse.
///
/// Iterative programs free and allocate same-sized temporaries every step (a sweep's new values,
/// a stencil's faces). Handing back memory that is already mapped and warm in the cache avoids a
/// page fault per 4 KiB of every fresh allocation, which otherwise costs as much as the kernel.
/// The pool holds at most `limit` bytes; past that, the oldest blocks are released.
public final class BufferPool: Sendable {
    /// A quarter of physical memory: enough for the temporaries of several steps in flight.
    public static let shared = BufferPool(limit: physicalBytes() / 4)

    public static func physicalBytes() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : 8 << 30
    }

    /// The most memory this process can have: physical memory, or less under an address-space
    /// or data-segment limit (`ulimit -v`, `RLIMIT_AS` / `RLIMIT_DATA`).
    public static func memoryLimit() -> (bytes: Int, what: String) {
        var best = (bytes: physicalBytes(), what: "physical memory")
        #if os(Linux)
        let limits: [(Int32, String)] = [(Int32(RLIMIT_AS.rawValue), "the address-space limit (ulimit -v)"),
                                         (Int32(RLIMIT_DATA.rawValue), "the data-segment limit (ulimit -d)")]
        #else
        let limits: [(Int32, String)] = [(RLIMIT_AS, "the address-space limit (ulimit -v)"), (RLIMIT_DATA, "the data-segment limit (ulimit -d)")]
        #endif
        for (resource, what) in limits {
            var r = rlimit()
            #if os(Linux)
            let ok = getrlimit(__rlimit_resource_t(UInt32(resource)), &r) == 0
            #else
            let ok = getrlimit(resource, &r) == 0
            #endif
            if ok, r.rlim_cur != rlim_t.max, r.rlim_cur < rlim_t(best.bytes) { best = (Int(r.rlim_cur), what) }
        }
        return best
    }

    /// Fresh memory for `size` bytes, 64-byte aligned. When the system refuses, the pool's free
    /// blocks are released and it is tried once more; then the process stops: one line on
    /// standard error naming the size and the limit, and exit status 71 (`EX_OSERR`), not a
    /// trap with a backtrace inside the allocator (a kernel's output is allocated on a worker
    /// thread, where no error can be thrown to the caller).
    static func allocateFresh(_ size: Int, pool: BufferPool?) -> UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer? = nil
        if posix_memalign(&p, 64, size) == 0, let p { return p }
        pool?.releaseAll()
        if posix_memalign(&p, 64, size) == 0, let p { return p }
        let limit = memoryLimit()
        let gb = { (b: Int) in String((Double(b) / Double(1 << 30) * 100).rounded() / 100) }
        let line = "tandem: out of memory: could not allocate \(size) bytes (\(gb(size)) GiB) for a tensor; "
            + "the limit is \(gb(limit.bytes)) GiB of \(limit.what), \(gb(Buffer.liveBytes.load(ordering: .relaxed))) GiB in tensors with this one\n"
        fflush(nil)
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        _exit(BufferPool.outOfMemoryStatus)
    }

    /// The exit status when a tensor's memory cannot be had (`EX_OSERR`).
    public static let outOfMemoryStatus: Int32 = 71

    /// Frees every block the pool holds.
    func releaseAll() {
        let all: [UInt] = state.withLock { s in
            let out = Array(s.freeSet.keys)
            s = State(seen: s.seen)
            return out
        }
        for p in all { UnsafeMutableRawPointer(bitPattern: p)?.deallocate() }
    }
    /// Addresses (as integers, so the state is plain data) of free blocks by size (the most
    /// recently returned last), and the order they were returned in for eviction, oldest first
    /// from `head`. A block taken stays in `order` (finding and removing it there was a scan of
    /// every free block at every take); each return has a ticket, and an entry of `order` is
    /// live while `freeSet` holds its address with its ticket: eviction skips the others, and
    /// the queue is compacted when most of it is stale or consumed. (Without tickets, a block
    /// returned, taken and returned again left one entry per return that no compaction could
    /// tell from the live one: a loop reusing one block grew the queue by an entry an
    /// iteration and hashed all of it at every return, 19 % of a small stencil's time at
    /// 60,000 steps.)
    private struct State {
        var free: [Int: [UInt]] = [:]
        var freeSet: [UInt: UInt64] = [:]
        var order: [(size: Int, address: UInt, ticket: UInt64)] = []
        var ticket: UInt64 = 0
        var head = 0
        var bytes = 0
        var seen: Set<Int> = []
    }
    private let state = Mutex(State())
    private let limit: Int
    /// The smallest block the pool keeps (a page).
    static let smallest = 4096
    /// Allocations served from the pool / fresh, for statistics and tests.
    public let hits = Atomic<Int>(0)
    public let misses = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Whether blocks of this size have come back to the pool before: then an allocation of it
    /// is most likely served warm (in a pipeline, the block is often freed only after the next
    /// kernel is planned, so "one is free right now" would say no too often).
    public func recycles(byteCount: Int) -> Bool { state.withLock { $0.seen.contains(max(byteCount, 1)) } }

    /// Bytes held in free blocks (for tests).
    var freeBytes: Int { state.withLock { $0.bytes } }
    /// Entries of the eviction queue not yet consumed, stale ones included (for tests).
    var queued: Int { state.withLock { $0.order.count - $0.head } }

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        // Blocks this small never come back to the pool (`give`).
        if size < BufferPool.smallest {
            misses.add(1, ordering: .relaxed)
            return BufferPool.allocateFresh(size, pool: self)
        }
        let reused: UInt? = state.withLock { s in
            // Popped in place (a copy of the list out of the table and back cost an array
            // allocation at every take); an emptied list stays for the size's next block.
            guard let p = s.free[size]?.popLast() else { return nil }
            s.bytes -= size
            s.freeSet[p] = nil
            return p
        }
        if let reused, let p = UnsafeMutableRawPointer(bitPattern: reused) {
            hits.add(1, ordering: .relaxed)
            return p
        }
        misses.add(1, ordering: .relaxed)
        return BufferPool.allocateFresh(size, pool: self)
    }

    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = max(byteCount, 1)
        // Small blocks are cheap to allocate; keep what is worth a page or more.
        guard size >= BufferPool.smallest, size <= limit / 4 else {
            pointer.deallocate()
            return
        }
        let address = UInt(bitPattern: pointer)
        let evicted: [UInt] = state.withLock { s in
            s.free[size, default: []].append(address)
            s.ticket += 1
            s.freeSet[address] = s.ticket
            s.seen.insert(size)
            s.order.append((size, address, s.ticket))
            s.bytes += size
            var out: [UInt] = []
            while s.bytes > limit, s.head < s.order.count {
                let (sz, p, t) = s.order[s.head]
                s.head += 1
                guard s.freeSet[p] == t else { continue }     // taken (or taken and returned again) since
                s.freeSet[p] = nil
                if let i = s.free[sz]?.firstIndex(of: p) {
                    s.free[sz]!.remove(at: i)
                    if s.free[sz]!.isEmpty { s.free[sz] = nil }
                }
                s.bytes -= sz
                out.append(p)
            }
            let live = s.order.count - s.head
            if s.head > 64 && s.head * 2 > s.order.count || live > 2 * s.freeSet.count + 64 {
                s.order = s.order[s.head...].filter { s.freeSet[$0.address] == $0.ticket }
                s.head = 0
            }
            return out
        }
        for p in evicted { UnsafeMutableRawPointer(bitPattern: p)?.deallocate() }
    }
}
