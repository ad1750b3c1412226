#if canImport(Glibc)
import Glibc
#endif

/// A CUDA stream: work on it runs in queue order, asynchronously to the host.
final class CUDAStream {
    let driver: CUDADriver
    // This is safe: created in init, destroyed only in deinit.
    let handle: CUstream

    init(_ driver: CUDADriver) throws {
        self.driver = driver
        var s: CUstream? = nil
        // Non-blocking: no implicit ordering with the legacy default stream (which Tandem never uses).
        try driver.check(driver.cuStreamCreate(&s, CUDAFlags.streamNonBlocking), "cuStreamCreate")
        handle = s!
    }

    deinit { _ = driver.cuStreamDestroy(handle) }

    /// Work queued on this stream from now on waits for `event`.
    func wait(_ event: CUDAEvent) throws {
        try driver.check(driver.cuStreamWaitEvent(handle, event.handle, 0), "cuStreamWaitEvent")
    }

    /// Records a new event after everything queued so far.
    func record(timing: Bool = false) throws -> CUDAEvent {
        let e = try CUDAEvent(driver, timing: timing)
        try record(into: e)
        return e
    }

    /// Records `event` again, after everything queued so far: a wait issued afterwards waits
    /// for this point (the driver keeps the most recent record). The per-launch events reuse
    /// one event this way instead of creating and destroying one per launch.
    func record(into event: CUDAEvent) throws {
        try driver.check(driver.cuEventRecord(event.handle, handle), "cuEventRecord")
    }

    func synchronize() throws { try driver.check(driver.cuStreamSynchronize(handle), "cuStreamSynchronize") }
}

/// A point in a stream's queue: other streams wait for it, the host polls or waits for it.
final class CUDAEvent: @unchecked Sendable {
    // This is safe: the handle is created in init and destroyed in deinit; driver calls on one
    // event from several threads are allowed.
    let driver: CUDADriver
    let handle: CUevent

    init(_ driver: CUDADriver, timing: Bool) throws {
        self.driver = driver
        var e: CUevent? = nil
        try driver.check(driver.cuEventCreate(&e, timing ? CUDAFlags.eventDefault : CUDAFlags.eventDisableTiming), "cuEventCreate")
        handle = e!
    }

    deinit { _ = driver.cuEventDestroy(handle) }

    /// Whether the work before the event has finished (`cuEventQuery`, no waiting).
    func isDone() throws -> Bool {
        let r = driver.cuEventQuery(handle)
        if r == CUDAStatus.notReady { return false }
        try driver.check(r, "cuEventQuery")
        return true
    }

    func synchronize() throws { try driver.check(driver.cuEventSynchronize(handle), "cuEventSynchronize") }

    /// Milliseconds from `start` to this event (both recorded with timing).
    func milliseconds(since start: CUDAEvent) throws -> Double {
        var ms: Float = 0
        try driver.check(driver.cuEventElapsedTime(&ms, start.handle, handle), "cuEventElapsedTime")
        return Double(ms)
    }
}

/// Page-locked host memory for large copies, used as a ring of chunks: the host copies a chunk
/// into one slot while the DMA engine moves the previous slot (pageable memory would make every
/// `cuMemcpy*Async` synchronous and slower). Two slots of `chunk` bytes.
///
/// Trade-off: one extra host memcpy per byte, repaid above about a megabyte (below that the copy
/// goes straight from pageable memory).
final class PinnedStaging {
    let driver: CUDADriver
    let chunk: Int
    let base: UnsafeMutableRawPointer
    /// One event per slot, recorded again for each chunk; `used` says which were recorded.
    private let slotDone: [CUDAEvent]
    private var used = [false, false]
    /// Copies smaller than this go directly from or to pageable memory.
    static let threshold = 1 << 20

    init(_ driver: CUDADriver, chunk: Int = 16 << 20) throws {
        self.driver = driver
        self.chunk = chunk
        var p: UnsafeMutableRawPointer? = nil
        try driver.check(driver.cuMemAllocHost(&p, 2 * chunk), "cuMemAllocHost_v2")
        base = p!
        slotDone = [try CUDAEvent(driver, timing: false), try CUDAEvent(driver, timing: false)]
    }

    deinit { _ = driver.cuMemFreeHost(base) }

    /// Host → device through the staging slots, on `stream`; returns when the last chunk is queued.
    func copyToDevice(_ dst: CUdeviceptr, from src: UnsafeRawPointer, bytes: Int, stream: CUDAStream) throws {
        var offset = 0, slot = 0
        while offset < bytes {
            let n = min(chunk, bytes - offset)
            // The slot may still be read by the DMA engine for the copy before last.
            if used[slot] { try slotDone[slot].synchronize() }
            let staging = base + slot * chunk
            staging.copyMemory(from: src + offset, byteCount: n)
            try driver.check(driver.cuMemcpyHtoDAsync(dst + CUdeviceptr(offset), staging, n, stream.handle), "cuMemcpyHtoDAsync_v2")
            try stream.record(into: slotDone[slot])
            used[slot] = true
            offset += n
            slot ^= 1
        }
    }

    /// Device → host through the staging slots; returns when all bytes are in `dst`.
    func copyToHost(_ dst: UnsafeMutableRawPointer, from src: CUdeviceptr, bytes: Int, stream: CUDAStream) throws {
        // Both slots may still be read by earlier host-to-device copies.
        for s in 0..<2 where used[s] { try slotDone[s].synchronize() }
        var offset = 0, slot = 0
        var inFlight: [(slot: Int, offset: Int, n: Int, done: CUDAEvent)] = []
        while offset < bytes || !inFlight.isEmpty {
            if offset < bytes && inFlight.count < 2 {
                let n = min(chunk, bytes - offset)
                try driver.check(driver.cuMemcpyDtoHAsync(base + slot * chunk, src + CUdeviceptr(offset), n, stream.handle), "cuMemcpyDtoHAsync_v2")
                try stream.record(into: slotDone[slot])
                inFlight.append((slot, offset, n, slotDone[slot]))
                offset += n
                slot ^= 1
                continue
            }
            let first = inFlight.removeFirst()
            try first.done.synchronize()
            (dst + first.offset).copyMemory(from: base + first.slot * chunk, byteCount: first.n)
        }
        used = [false, false]
    }
}
