#if canImport(Glibc)
import Glibc
#endif
import TandemIR
import TandemRuntime

/// Device memory and copies through OpenCL, for `DeviceResidency`. A device address is the
/// buffer object's handle (`cl_mem`) as an integer.
///
/// Copies and kernels overlap: a large upload (`stagedThreshold` bytes or more) is copied into
/// host staging memory Tandem owns and written by a second in-order queue (`copyQueue`) while
/// the kernel queue runs what is ahead of it; a barrier on the kernel queue makes everything
/// queued after the upload wait for it. The host returns once its bytes are in the staging
/// memory, so it may reuse or free its buffer at once (the trade-off, as CUDA's pinned staging:
/// one more host memcpy a large upload). A buffer object that earlier kernels may still use (a
/// block the pool hands out again) is written only after the kernel queue's work so far (a
/// marker), never under a running kernel. Small uploads into such a block, and downloads, stay on
/// the kernel queue, blocking; small uploads into fresh buffer objects block on the copy queue
/// only. Without OpenCL 1.2's barriers every copy blocks the kernel queue, as before.
final class OpenCLMemory: DeviceMemoryBackend {
    let cl: OpenCLDriver
    let context: cl_context
    let queue: cl_command_queue
    /// The upload queue; nil where the loader lacks OpenCL 1.2's barriers or it could not be made.
    let copyQueue: cl_command_queue?
    /// Bytes Tandem may allocate (the pool's blocks included), nil for the device's own limit.
    let limit: Int?
    private var allocated = 0
    /// Uploads at least this large go through staging on the copy queue.
    static let stagedThreshold = 1 << 20
    /// Staging bytes in flight before an upload waits for the oldest.
    static let stagingLimit = 256 << 20
    /// Uploads on the copy queue not known to be finished, oldest first.
    private var pending: [(event: cl_event, staging: UnsafeMutableRawPointer, bytes: Int)] = []
    private var pendingBytes = 0
    /// Buffer objects no queued kernel uses: an upload into one need not wait for the kernel queue.
    private var fresh = FreshBlocks()
    /// Large uploads made on the copy queue (for tests and traces).
    private(set) var stagedUploads = 0

    init(cl: OpenCLDriver, context: cl_context, queue: cl_command_queue, copyQueue: cl_command_queue?, limit: Int?) {
        self.cl = cl
        self.context = context
        self.queue = queue
        self.copyQueue = cl.clEnqueueBarrierWithWaitList != nil && cl.clEnqueueMarkerWithWaitList != nil ? copyQueue : nil
        self.limit = limit
    }

    // The owner finishes the uploads before it releases the queues (`OpenCLContextState`); a
    // queue may be gone by now, so only the host memory is freed here.
    deinit { for p in pending { Glibc.free(p.staging) } }

    func used(_ addresses: [UInt64]) { fresh.used(addresses) }

    /// Frees the staging of uploads that have finished (all of them, waiting, when `all`).
    func reapUploads(all: Bool = false) throws {
        while let first = pending.first {
            if all {
                var e: cl_event? = first.event
                try cl.check(cl.clWaitForEvents(1, &e), "clWaitForEvents")
            } else {
                var status: cl_int = -1
                try cl.check(cl.clGetEventInfo(first.event, CL.eventCommandExecutionStatus, MemoryLayout<cl_int>.size, &status, nil),
                             "clGetEventInfo")
                if status < 0 { throw OpenCLError(call: "an upload on the copy queue", code: status) }
                if status != CL.complete { return }
            }
            _ = cl.clReleaseEvent(first.event)
            Glibc.free(first.staging)
            pendingBytes -= first.bytes
            pending.removeFirst()
        }
    }

    /// Waits for every upload and frees its staging (the device's synchronize).
    func finishUploads() throws {
        if let copyQueue { try cl.check(cl.clFinish(copyQueue), "clFinish(copy queue)") }
        try reapUploads(all: true)
    }

    static func handle(_ address: UInt64) -> cl_mem { OpaquePointer(bitPattern: UInt(address))! }

    /// A buffer object of `bytes`, outside the pool's accounting (also the bandwidth
    /// measurement's); any failure throws.
    func buffer(bytes: Int) throws -> cl_mem {
        var err: cl_int = 0
        guard let mem = cl.clCreateBuffer(context, CL.memReadWrite, bytes, nil, &err), err == CL.success else {
            throw OpenCLError(call: "clCreateBuffer(\(bytes) bytes)", code: err)
        }
        return mem
    }

    func allocate(bytes: Int) throws -> UInt64? {
        if let limit, allocated + bytes > limit { return nil }
        let mem: cl_mem
        do { mem = try buffer(bytes: bytes) } catch let e as OpenCLError where [CL.memObjectAllocationFailure, CL.outOfResources, CL.outOfHostMemory].contains(e.code) {
            return nil
        }
        allocated += bytes
        let address = UInt64(UInt(bitPattern: mem))
        fresh.allocated(address)
        return address
    }

    func free(_ address: UInt64, bytes: Int) throws {
        // The object goes once the commands queued on it have finished (OpenCL's rule).
        try cl.check(cl.clReleaseMemObject(OpenCLMemory.handle(address)), "clReleaseMemObject")
        fresh.freed(address)
        allocated -= bytes
    }

    func copyToDevice(_ buffer: Buffer, address: UInt64) throws {
        let bytes = buffer.byteCount
        guard bytes > 0 else { return }
        if let copyQueue, bytes < OpenCLMemory.stagedThreshold, fresh.isFresh(address) {
            // Small, into a buffer object no kernel uses yet: written (blocking) beside the
            // kernel queue, so it does not wait for the kernel running there; done before any
            // kernel queued after this returns.
            try cl.check(cl.clEnqueueWriteBuffer(copyQueue, OpenCLMemory.handle(address), 1, 0, bytes, buffer.pointer, 0, nil, nil),
                         "clEnqueueWriteBuffer(copy queue)")
            return
        }
        guard let copyQueue, bytes >= OpenCLMemory.stagedThreshold,
              let barrier = cl.clEnqueueBarrierWithWaitList, let marker = cl.clEnqueueMarkerWithWaitList,
              let staging = malloc(bytes) else {
            try cl.check(cl.clEnqueueWriteBuffer(queue, OpenCLMemory.handle(address), 1, 0, bytes, buffer.pointer, 0, nil, nil),
                         "clEnqueueWriteBuffer")
            return
        }
        try reapUploads()
        while pendingBytes + bytes > OpenCLMemory.stagingLimit, let first = pending.first {
            var e: cl_event? = first.event
            try cl.check(cl.clWaitForEvents(1, &e), "clWaitForEvents")
            try reapUploads()
        }
        staging.copyMemory(from: buffer.pointer, byteCount: bytes)
        var wait: cl_event? = nil
        defer { if let wait { _ = cl.clReleaseEvent(wait) } }
        if !fresh.isFresh(address) {
            // Earlier kernels may still read or write this buffer object: after them.
            do { try cl.check(marker(queue, 0, nil, &wait), "clEnqueueMarkerWithWaitList") } catch { Glibc.free(staging); throw error }
            try cl.check(cl.clFlush(queue), "clFlush")
        }
        var done: cl_event? = nil
        let waitList: [cl_event?] = wait.map { [$0] } ?? []
        let written = waitList.withUnsafeBufferPointer { w in
            cl.clEnqueueWriteBuffer(copyQueue, OpenCLMemory.handle(address), 0, 0, bytes, staging,
                                    cl_uint(w.count), w.isEmpty ? nil : w.baseAddress, &done)
        }
        guard written == CL.success, let done else {
            Glibc.free(staging)
            throw OpenCLError(call: "clEnqueueWriteBuffer(copy queue)", code: written)
        }
        pending.append((done, staging, bytes))
        pendingBytes += bytes
        stagedUploads += 1
        try cl.check(cl.clFlush(copyQueue), "clFlush(copy queue)")
        // Everything queued on the kernel queue from now on waits for the upload.
        var d: cl_event? = done
        try cl.check(barrier(queue, 1, &d, nil), "clEnqueueBarrierWithWaitList")
    }

    func copyToHost(_ buffer: Buffer, address: UInt64) throws {
        buffer.allocate()
        guard buffer.byteCount > 0 else { return }
        try cl.check(cl.clEnqueueReadBuffer(queue, OpenCLMemory.handle(address), 1, 0, buffer.byteCount, buffer.pointer, 0, nil, nil),
                     "clEnqueueReadBuffer")
    }

    func copyToDevice(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws {
        precondition(bytes.lowerBound >= 0 && bytes.upperBound <= buffer.byteCount, "internal: a part's bytes outside its buffer")
        guard !bytes.isEmpty else { return }
        // On the kernel queue, blocking: ordered after the kernels that read the old bytes.
        try cl.check(cl.clEnqueueWriteBuffer(queue, OpenCLMemory.handle(address), 1, bytes.lowerBound, bytes.count,
                                             buffer.pointer + bytes.lowerBound, 0, nil, nil), "clEnqueueWriteBuffer (part)")
    }

    func copyToHost(_ buffer: Buffer, address: UInt64, bytes: Range<Int>) throws {
        buffer.allocate()
        precondition(bytes.lowerBound >= 0 && bytes.upperBound <= buffer.byteCount, "internal: a part's bytes outside its buffer")
        guard !bytes.isEmpty else { return }
        try cl.check(cl.clEnqueueReadBuffer(queue, OpenCLMemory.handle(address), 1, bytes.lowerBound, bytes.count,
                                            buffer.pointer + bytes.lowerBound, 0, nil, nil), "clEnqueueReadBuffer (part)")
    }
}
