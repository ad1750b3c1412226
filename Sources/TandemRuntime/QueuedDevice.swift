import TandemIR

/// A device with its own memory that runs kernels asynchronously, in queue order (a GPU).
///
/// `KernelDevice`/`PreparedKernel` describe host-memory devices run in chunks by the executor's
/// workers (`run(lo:hi:)` on host pointers); that model does not fit a GPU, whose kernels are
/// queued whole on a stream and whose buffers live in device memory. This protocol is the
/// minimal extension: the runtime prepares the kernel once, then *enqueues* each launch (the
/// device moves buffers by its residency rules and returns at once), tells the device about host
/// reads and host writes, and about buffers that are gone.
///
/// Integration into `Runtime.submit` (not done in this file): for a kernel placed on such a
/// device, call `enqueue` instead of building executor chunks, in submission order (the device's
/// stream orders its own kernels and copies); at a sync point, call `makeHostValid` on the read
/// buffer instead of (or after) waiting for its last executor task; before a CPU task writes or
/// reads a buffer the device may hold, call `hostWillWrite` / `makeHostValid` from that task.
///
///     let code = try cuda.prepareQueued(k.kernel)
///     try cuda.enqueue(code, k.launch, overwrites: [])    // returns before the GPU is done
///     try cuda.makeHostValid(result)                       // copies back, waits for it
public protocol QueuedKernelDevice: AnyObject, Sendable {
    /// Stable name used in statistics, traces and `TANDEM_DEVICE`.
    var name: String { get }
    /// Whether the device can run kernels on this machine, and if not, why; settled when first
    /// asked (see `KernelDevice.availability`).
    var availability: Availability { get }
    /// Compiles (or fetches from cache) the code for a kernel. Throws with the compiler's log.
    func prepareQueued(_ kernel: Kernel) throws -> any QueuedKernel
    /// Queues one run of `kernel`, after every copy its buffers need. `overwrites` names written
    /// buffers (by `Buffer.id`) the kernel stores completely, so their old values need not move.
    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>) throws
    /// Makes the buffer's host memory hold its current values (copying back if the device has
    /// the only copy) and returns when they are there.
    func makeHostValid(_ buffer: Buffer) throws
    /// The host is about to write the buffer (a CPU kernel): a partial write of values that are
    /// only on the device brings them back first; afterwards the device copy is stale.
    func hostWillWrite(_ buffer: Buffer, overwrites: Bool) throws
    /// Blocks until everything queued has finished.
    func synchronize() throws
    /// Where the buffer's current values are (host, device or both), as the device knows it.
    func validity(of buffer: Buffer) -> Validity
    /// Whether `prepareQueued` would find the kernel loaded, cached on disk, or compile it.
    func codeState(_ kernel: Kernel) -> CodeState
    /// Whether the device runs on the host's own cores (see the default below).
    var sharesHostCores: Bool { get }
    /// How many of the host's cores the device runs on when it shares them (PoCL's compute
    /// units); 0 for a device of its own.
    var hostCoresUsed: Int { get }
    /// Why the device does not run `kernel` (an OpenCL device without float64 and a kernel
    /// that needs it), or nil: `auto` places such a kernel elsewhere, a forced placement fails
    /// with the reason (`prepareQueued` throws it).
    func refusal(_ kernel: Kernel) -> String?
    /// Whether `enqueue(_:_:overwrites:timed:)` reports kernels' times on the device.
    var reportsKernelTimes: Bool { get }
    /// `enqueue`, and `timed` is called once with the kernel's seconds on the device (its first
    /// launch's start to its last launch's end), when they are known: at a later call on the
    /// device, on the thread that makes it. A device that cannot time kernels never calls it.
    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>, timed: (@Sendable (Double) -> Void)?) throws
    /// Whether the device runs part of a kernel (`enqueue(_:_:rows:access:timed:)`): one side
    /// of a split kernel (`DeviceChoice.split`).
    var runsParts: Bool { get }
    /// Queues rows `rows` of the kernel's first axis only, with its one-point-a-work-item entry
    /// (the device's part of a split kernel; `rows` ends at the axis's end, and starts at a
    /// multiple of 64 in a kernel of one parallel axis), after moving the bytes `access` names
    /// (`DeviceResidency.preparePart`): the host's part's reads back to the host where only the
    /// device holds them, the device's part's reads over; each part's writes valid on its side
    /// only. Nothing comes back afterwards until the host reads it.
    func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, rows: Range<Int>, access: PartAccess,
                 timed: (@Sendable (Double) -> Void)?) throws
    /// Whether the device folds pieces of a reduction for the host to combine
    /// (`enqueueReduceParts`): one side of a split reduction.
    var runsReduceParts: Bool { get }
    /// Queues `parts` partial folds of `kernel` over `launch` (a launch whose first reduce axis
    /// starts where the host's pieces end), each over an equal share of its reduce axes, in the
    /// host's partial layout (`tandem_acc` value and index per reduction per parallel point),
    /// and their copy into `into` (`bytes` of it); returns at once. The bytes `reads` names are
    /// made valid on the device first. `synchronize()` waits for them.
    func enqueueReduceParts(_ kernel: any QueuedKernel, _ launch: Launch, parts: Int, into: UnsafeMutableRawPointer, bytes: Int,
                            reads: [(buffer: Int, bytes: Range<Int>)], timed: (@Sendable (Double) -> Void)?) throws
    /// A host kernel is about to read bytes `reads` and write bytes `writes` of buffers the
    /// device may hold: the bytes read that only the device holds come back (those only), and
    /// the written bytes are the host's afterwards (a write given also as a read keeps the
    /// bytes between its elements). By default whole buffers (`makeHostValid`, `hostWillWrite`).
    func hostUse(reads: [(buffer: Buffer, bytes: Range<Int>)], writes: [(buffer: Buffer, bytes: Range<Int>)]) throws
}

extension QueuedKernelDevice {
    /// Whether the device runs on the host's own cores (an OpenCL CPU device such as PoCL).
    /// `auto` never offers such a device: the cost model counts it as a resource of its own,
    /// beside the CPU, while it competes for the same cores (measured: PoCL under `auto` made
    /// programs 1.2-3.4x slower than the CPU alone). Forced placements still use it.
    public var sharesHostCores: Bool { false }
    public var hostCoresUsed: Int { 0 }
    /// Devices that run every kernel.
    public func refusal(_ kernel: Kernel) -> String? { nil }

    /// Devices that do not time their kernels (CUDA, until its events are read back).
    public var reportsKernelTimes: Bool { false }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, overwrites: Set<UInt64>, timed: (@Sendable (Double) -> Void)?) throws {
        try enqueue(kernel, launch, overwrites: overwrites)
    }

    /// Devices that run whole kernels only (CUDA, until its rows entry takes an offset).
    public var runsParts: Bool { false }

    public func enqueue(_ kernel: any QueuedKernel, _ launch: Launch, rows: Range<Int>, access: PartAccess,
                        timed: (@Sendable (Double) -> Void)?) throws {
        throw TandemError.deviceUnavailable(device: name, reason: "it runs whole kernels only, not part of a split kernel")
    }

    public var runsReduceParts: Bool { false }

    public func enqueueReduceParts(_ kernel: any QueuedKernel, _ launch: Launch, parts: Int, into: UnsafeMutableRawPointer, bytes: Int,
                                   reads: [(buffer: Int, bytes: Range<Int>)], timed: (@Sendable (Double) -> Void)?) throws {
        throw TandemError.deviceUnavailable(device: name, reason: "it runs whole reductions only, not pieces of a split one")
    }

    public func hostUse(reads: [(buffer: Buffer, bytes: Range<Int>)], writes: [(buffer: Buffer, bytes: Range<Int>)]) throws {
        for (b, _) in reads { try makeHostValid(b) }
        for (b, r) in writes { try hostWillWrite(b, overwrites: r == 0..<b.byteCount || reads.contains { $0.buffer === b }) }
    }
}

/// Code for one kernel on a `QueuedKernelDevice`.
public protocol QueuedKernel: Sendable {
    var kernel: Kernel { get }
}
