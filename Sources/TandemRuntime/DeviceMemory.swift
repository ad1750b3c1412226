import TandemIR

/// What a device with its own memory offers the runtime's residency logic: raw allocation and
/// copies. The CUDA device implements it with the driver (`cuMemAlloc_v2`, async copies on its
/// streams); tests implement it with a fake that counts calls and runs out of memory on demand.
///
/// Copies are *enqueued* in the order they are made; the implementation keeps them ordered with
/// the kernels around them (one stream, or events between streams), so the residency logic can
/// treat each copy as done before the next use.
public protocol DeviceMemoryBackend: AnyObject {
    /// `bytes` of device memory, or nil when the device is out of memory (other failures throw).
    func allocate(bytes: Int) throws -> UInt64?
    func free(_ address: UInt64, bytes: Int) throws
    /// Copies the buffer's host memory to `address`.
    func copyToDevice(_ buffer: Buffer, address: UInt64) throws
    /// Copies bytes `bytes` of the buffer's host memory into the same bytes of the block at
    /// `address` (the rows a split kernel's device part reads and lacks).
    func copyToDevice(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws
    /// Copies `address` into the buffer's host memory (allocating it if needed) and returns when
    /// the bytes are there: a host read waits for it.
    func copyToHost(_ buffer: Buffer, address: UInt64) throws
    /// Copies bytes `bytes` of the block at `address` into the same bytes of the buffer's host
    /// memory and returns when they are there (a split kernel's device rows).
    func copyToHost(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws
    /// Kernels are about to use these blocks (the launch's buffers, its scratch): called by
    /// `DeviceResidency`, so a backend can tell blocks no queued kernel touches (`FreshBlocks`).
    func used(_ addresses: [UInt64])
}

extension DeviceMemoryBackend {
    public func used(_ addresses: [UInt64]) {}

    /// A backend that copies whole buffers only: a part cannot come back without overwriting
    /// the host's rows, so it says so.
    public func copyToHost(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws {
        throw DeviceMemoryError.partialCopyUnsupported
    }

    public func copyToDevice(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws {
        throw DeviceMemoryError.partialCopyUnsupported
    }
}

/// Device blocks allocated since a kernel last used them: no queued kernel reads or writes one,
/// so a copy into it need not wait for the kernels queued ahead (a block the pool hands out
/// again may still be read by one). Both accelerators' uploads overlap the running kernel this
/// way.
///
///     var fresh = FreshBlocks()
///     fresh.allocated(0x1000)
///     fresh.isFresh(0x1000)      // true: an upload into it may run beside the kernels
///     fresh.used([0x1000])       // a kernel will use it: later uploads wait for the kernels
public struct FreshBlocks {
    private var blocks: Set<UInt64> = []
    public init() {}
    public mutating func allocated(_ address: UInt64) { blocks.insert(address) }
    public mutating func used(_ addresses: [UInt64]) { if !blocks.isEmpty { for a in addresses { blocks.remove(a) } } }
    public mutating func freed(_ address: UInt64) { blocks.remove(address) }
    public func isFresh(_ address: UInt64) -> Bool { blocks.contains(address) }
}

/// Errors of device memory, thrown from sync points.
public enum DeviceMemoryError: Error, CustomStringConvertible, Equatable {
    /// Nothing more could be freed or evicted: `requested` bytes did not fit next to `pinned`
    /// bytes that the current kernel itself needs.
    case outOfMemory(device: String, requested: Int, pinned: Int, cached: Int)
    /// The device's memory backend copies whole buffers only (a split kernel needs part of one).
    case partialCopyUnsupported

    public var description: String {
        switch self {
        case .outOfMemory(let device, let requested, let pinned, let cached):
            "out of \(device) memory: \(requested) bytes requested; the kernel's own buffers hold \(pinned) bytes, "
                + "every other buffer was evicted to the host and \(cached) cached bytes released (no data was lost)"
        case .partialCopyUnsupported: "this device's memory copies whole buffers only; a split kernel moves parts of them"
        }
    }
}

/// Device memory blocks kept for reuse, by exact size class (no driver allocation per kernel).
///
/// Sizes are rounded up to 512 bytes below 1 MiB and to 1/8 of the power of two above (at most
/// 12.5 % waste), so iterative programs that free and allocate same-shaped temporaries every step
/// hit the cache. On out-of-memory the pool releases every cached block and retries once; what
/// to do next (evicting live buffers) is the caller's policy (`DeviceResidency`).
///
///     let pool = DeviceMemoryPool(backend: fake)
///     let a = try pool.allocate(bytes: 1000)   // backend.allocate(1024)
///     pool.release(a, bytes: 1000)             // kept, not freed
///     _ = try pool.allocate(bytes: 900)        // the same block, no backend call
public final class DeviceMemoryPool {
    public let backend: any DeviceMemoryBackend
    private var free: [Int: [UInt64]] = [:]
    /// Bytes held in cached (free) blocks.
    public private(set) var cachedBytes = 0
    /// Bytes handed out and not yet released.
    public private(set) var liveBytes = 0
    /// Allocations served from the cache / by the backend, for statistics and tests.
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(backend: any DeviceMemoryBackend) { self.backend = backend }

    /// The size class of a request.
    public static func sizeClass(_ bytes: Int) -> Int {
        let b = max(bytes, 1)
        if b <= 1 << 20 { return (b + 511) / 512 * 512 }
        var top = 1 << 20
        while top < b { top <<= 1 }
        let step = top / 8
        return (b + step - 1) / step * step
    }

    /// A block of at least `bytes`, or nil when even after releasing the cache the device has no
    /// room (the caller may evict and retry).
    /// Whether a block for `bytes` is cached (an allocation would not reach the device).
    public func hasCached(bytes: Int) -> Bool { free[DeviceMemoryPool.sizeClass(bytes)] != nil }

    public func allocate(bytes: Int) throws -> UInt64? {
        let size = DeviceMemoryPool.sizeClass(bytes)
        if var list = free[size], let p = list.popLast() {
            free[size] = list.isEmpty ? nil : list
            cachedBytes -= size
            liveBytes += size
            hits += 1
            return p
        }
        if let p = try backend.allocate(bytes: size) {
            misses += 1
            liveBytes += size
            return p
        }
        guard cachedBytes > 0 else { return nil }
        try releaseCache()
        guard let p = try backend.allocate(bytes: size) else { return nil }
        misses += 1
        liveBytes += size
        return p
    }

    /// Returns a block to the cache.
    public func release(_ address: UInt64, bytes: Int) {
        let size = DeviceMemoryPool.sizeClass(bytes)
        free[size, default: []].append(address)
        cachedBytes += size
        liveBytes -= size
    }

    /// Frees every cached block on the device.
    public func releaseCache() throws {
        for (size, list) in free { for p in list { try backend.free(p, bytes: size) } }
        free = [:]
        cachedBytes = 0
    }
}
