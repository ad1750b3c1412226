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
    /// 64-byte aligned host memory; never nil (zero-size buffers get one byte).
    public let pointer: UnsafeMutableRawPointer
    public let id: UInt64
    /// Graph leaves currently naming this buffer; an in-place write needs this to be one.
    public let aliases = Atomic<Int>(0)
    /// Runtime scheduling state; only read or written under the runtime's graph lock.
    public nonisolated(unsafe) var schedule: AnyObject?

    private static let nextID = Atomic<UInt64>(1)
    /// Bytes currently allocated in all buffers, for statistics and tests.
    public static let liveBytes = Atomic<Int>(0)
    /// Largest single allocation seen since the last `resetPeak()`, for tests of fusion.
    public static let peakAllocation = Atomic<Int>(0)

    public init(dtype: DType, count: Int) {
        self.dtype = dtype
        self.count = count
        self.byteCount = count * dtype.byteSize
        // This is safe: alignment is a power of two and the size is at least one byte.
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
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
        pointer.deallocate()
    }

    public static func resetPeak() { peakAllocation.store(0, ordering: .relaxed) }

    /// Reads element `i` as a literal of the buffer's type.
    public func literal(at i: Int) -> Literal {
        switch dtype {
        case .bool: .bool(pointer.load(fromByteOffset: i, as: UInt8.self) != 0)
        case .int32: .int(Int64(pointer.load(fromByteOffset: i * 4, as: Int32.self)))
        case .int64: .int(pointer.load(fromByteOffset: i * 8, as: Int64.self))
        case .float32: .float(Double(pointer.load(fromByteOffset: i * 4, as: Float.self)))
        case .float64: .float(pointer.load(fromByteOffset: i * 8, as: Double.self))
        }
    }

    /// Writes element `i` from a literal (converted to the buffer's type).
    public func store(_ value: Literal, at i: Int) {
        switch (dtype, value.converted(to: dtype)) {
        case (.bool, let v): pointer.storeBytes(of: v.asInt64 != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        case (.int32, let v): pointer.storeBytes(of: Int32(truncatingIfNeeded: v.asInt64), toByteOffset: i * 4, as: Int32.self)
        case (.int64, let v): pointer.storeBytes(of: v.asInt64, toByteOffset: i * 8, as: Int64.self)
        case (.float32, let v): pointer.storeBytes(of: Float(v.asDouble), toByteOffset: i * 4, as: Float.self)
        case (.float64, let v): pointer.storeBytes(of: v.asDouble, toByteOffset: i * 8, as: Double.self)
        }
    }
}
