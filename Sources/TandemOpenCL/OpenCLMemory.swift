#if canImport(Glibc)
import Glibc
#endif
import TandemIR
import TandemRuntime

/// Device memory and copies through OpenCL, for `DeviceResidency`. A device address is the
/// buffer object's handle (`cl_mem`) as an integer. One in-order queue orders copies and kernels.
final class OpenCLMemory: DeviceMemoryBackend {
    let cl: OpenCLDriver
    let context: cl_context
    let queue: cl_command_queue
    /// Bytes Tandem may allocate (the pool's blocks included), nil for the device's own limit.
    let limit: Int?
    private var allocated = 0

    init(cl: OpenCLDriver, context: cl_context, queue: cl_command_queue, limit: Int?) {
        self.cl = cl
        self.context = context
        self.queue = queue
        self.limit = limit
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
        return UInt64(UInt(bitPattern: mem))
    }

    func free(_ address: UInt64, bytes: Int) throws {
        // The object goes once the commands queued on it have finished (OpenCL's rule).
        try cl.check(cl.clReleaseMemObject(OpenCLMemory.handle(address)), "clReleaseMemObject")
        allocated -= bytes
    }

    func copyToDevice(_ buffer: Buffer, address: UInt64) throws {
        guard buffer.byteCount > 0 else { return }
        try cl.check(cl.clEnqueueWriteBuffer(queue, OpenCLMemory.handle(address), 1, 0, buffer.byteCount, buffer.pointer, 0, nil, nil),
                     "clEnqueueWriteBuffer")
    }

    func copyToHost(_ buffer: Buffer, address: UInt64) throws {
        buffer.allocate()
        guard buffer.byteCount > 0 else { return }
        try cl.check(cl.clEnqueueReadBuffer(queue, OpenCLMemory.handle(address), 1, 0, buffer.byteCount, buffer.pointer, 0, nil, nil),
                     "clEnqueueReadBuffer")
    }
}
