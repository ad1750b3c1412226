#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR

// Reading results: a sync that blocks until values are on the host, and the waits.
extension Runtime {
    /// Materialises `node` and blocks until its buffer holds its values. `call` names the reading
    /// API and its source line (for traces).
    public func read(_ node: Node, call: @autoclosure () -> String = "read") throws -> Buffer {
        try sync(call, bytes: node.count * node.dtype.byteSize) {
            if let (base, map) = graphLock.withLock({ _ in Runtime.viewOfKept(node) }) {
                return Runtime.gather(try hostBuffer(base), shape: base.shape, map: map, viewShape: node.shape)
            }
            return try hostBuffer(node)
        }
    }

    /// Whether `node`'s values are already in a buffer (stored, or a view of a stored tensor):
    /// reading it computes nothing.
    public func isStored(_ node: Node) -> Bool {
        graphLock.withLock { _ in Runtime.holdsValues(node) }
    }

    /// `isStored` with the graph lock held.
    static func holdsValues(_ node: Node) -> Bool {
        if node.storage != nil { return true }
        if case .view(let base, _) = node.op { return base.storage != nil }
        return false
    }

    /// The values of `node` on the host where they already lie (a sync point, like `read`): a
    /// view of a held or stored tensor (a transpose, a slice) is not copied but described, as
    /// the base's buffer with the element offset and per-axis element strides of the view, for
    /// callers that take strided operands (the BLAS); anything else is materialised, row-major.
    ///
    ///     let (buffer, offset, strides) = try runtime.readStrided(x.transposed.node)
    public func readStrided(_ node: Node, call: @autoclosure () -> String = "read") throws -> (buffer: Buffer, offset: Int, strides: [Int]) {
        try sync(call, bytes: node.count * node.dtype.byteSize) {
            if let (base, map) = graphLock.withLock({ _ in Runtime.viewOfKept(node) }) {
                let (offset, strides) = map.flatten(rowMajor: base.shape)
                return (try hostBuffer(base), offset, strides)
            }
            return (try hostBuffer(node), 0, Shape.rowMajorStrides(node.shape))
        }
    }

    /// Computes, in one sync, everything reading each of `nodes` will need (a view of a held
    /// or stored tensor needs its base, as `read` reads it): the reads after it then compute
    /// nothing. A caller about to read several tensors (a compiled `Tandem.loop` nest reads
    /// every tensor it touches) plans and runs their pending work together, one plan and a few
    /// fused kernels, instead of one sync each (durbin's nest read its six tensors through
    /// syncs of one-element kernels: seven plans a call, three now).
    ///
    ///     try runtime.computeForReading([a.node, b.node])
    ///     let (x, y) = (try runtime.read(a.node), try runtime.read(b.node))
    public func computeForReading(_ nodes: [Node]) throws {
        let needed = graphLock.withLock { _ -> [Node] in
            nodes.compactMap { node in
                if node.storage != nil { return nil }
                return Runtime.viewOfKept(node)?.base ?? node
            }
        }
        if needed.count > 1 { try materialize(needed) }
    }

    /// The one element of `node` (a sync point): the buffer holding it and its element index
    /// there. An element of a held or stored tensor's view is read in place (no copy, no
    /// buffer made for it; see `viewOfKept`).
    public func readElement(_ node: Node, call: @autoclosure () -> String = "read") throws -> (buffer: Buffer, index: Int) {
        try sync(call, bytes: node.dtype.byteSize) {
            if let (base, map) = graphLock.withLock({ _ in Runtime.viewOfKept(node) }) {
                return (try hostBuffer(base), map.flatten(rowMajor: base.shape).offset)
            }
            return (try hostBuffer(node), 0)
        }
    }

    /// Runs a read as one sync point: counted, and traced under `call` with `bytes`.
    private func sync<T>(_ call: () -> String, bytes: Int, _ body: () throws -> T) throws -> T {
        statistics.update { $0.syncs += 1 }
        // A read starts the thread's next stretch of deep chains afresh: they are cut first
        // at the bound again (the same places as after the previous read, so their plans are
        // reused too), not held back for a statement of the code before the read.
        let me = Runtime.currentThread
        depthAnchors.withLock { _ = $0.removeValue(forKey: me) }
        let start = ProcessInfoLite.monotonicNanos()
        defer {
            Tracer.shared.record(TraceEvent(kind: .sync, name: call(), start: start, duration: ProcessInfoLite.monotonicNanos() - start,
                                            bytes: bytes))
        }
        return try body()
    }

    /// The base and map of `node` when it is a view of a value a tensor holds (or that is
    /// stored already): such a view is read from that value, which is computed and kept, its
    /// elements copied out on the host. Reading `x[0]` of a loop's `x` each iteration then runs
    /// one kernel an iteration (the step, storing `x`) instead of a kernel for the element, the
    /// step every other iteration and a copy kernel; an element of a stored tensor is read
    /// without any. A view of a temporary (nil here) still computes only the elements it shows.
    /// Call under the graph lock (a node's operation is replaced there when a sync realises it).
    static func viewOfKept(_ node: Node) -> (base: Node, map: AffineMap)? {
        guard node.storage == nil, case .view(let base, let map) = node.op,
              base.storage != nil || base.holders.load(ordering: .relaxed) > 0, base.count > 0 else { return nil }
        return (base, map)
    }

    /// Materialises `node` and returns its buffer once it holds the values on the host.
    func hostBuffer(_ node: Node) throws -> Buffer {
        try materialize([node])
        let (buffer, writer, onDevice) = graphLock.withLock { _ -> (Buffer, KernelTask?, Bool) in
            let b = node.storage!
            let s = b.schedule as? BufferSchedule
            if s?.deviceSeen == true { s?.planned.insert(.host) }
            return (b, s?.lastWriter, s?.deviceSeen ?? false)
        }
        if let writer { executor.wait(writer) }
        try throwAsyncError()
        if onDevice, let accelerator { try accelerator.makeHostValid(buffer) }
        return buffer
    }

    /// The most elements of a constant that `materialize` stores on the calling thread.
    static let constantStoredOnHost = 4096

    /// Stores `node` when it is a constant of at most `limit` elements: filled here, not by a
    /// planned kernel (graph lock).
    static func storeSmallConstant(_ node: Node, limit: Int = constantStoredOnHost) {
        guard case .fill(let value) = node.op, node.count <= limit else { return }
        let b = Buffer(dtype: node.dtype, count: node.count)
        b.fill(with: value)
        node.realize(b)
    }

    /// The elements of the view `map` (of shape `viewShape`) of `source` (row-major, of
    /// `shape`), in a buffer of their own, copied on the host.
    static func gather(_ source: Buffer, shape: [Int], map: AffineMap, viewShape extents: [Int]) -> Buffer {
        let count = Shape.count(extents)
        let out = Buffer(dtype: source.dtype, count: count)
        guard count > 0 else { return out }
        let (offset, strides) = map.flatten(rowMajor: shape)
        let size = source.dtype.byteSize
        guard let inner = extents.last, let step = strides.last else {
            out.pointer.copyMemory(from: source.pointer + offset * size, byteCount: size)
            return out
        }
        // A run of the innermost axis at a time, copied by a typed loop (or one memcpy when
        // contiguous): element by element through `copyMemory`, a million-element transpose
        // took milliseconds.
        func run<T>(_ type: T.Type, _ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer) {
            let d = dst.assumingMemoryBound(to: T.self), s = src.assumingMemoryBound(to: T.self)
            for j in 0..<inner { d[j] = s[j * step] }
        }
        var index = [Int].filled(0, count: extents.count - 1)
        var flat = offset
        for r in 0..<(count / inner) {
            let dst = out.pointer + r * inner * size, src = UnsafeRawPointer(source.pointer + flat * size)
            if step == 1 {
                dst.copyMemory(from: src, byteCount: inner * size)
            } else {
                switch size {
                case 8: run(UInt64.self, dst, src)
                case 4: run(UInt32.self, dst, src)
                case 2: run(UInt16.self, dst, src)
                default: run(UInt8.self, dst, src)
                }
            }
            var k = extents.count - 2
            while k >= 0 {
                index[k] += 1
                flat += strides[k]
                if index[k] < extents[k] { break }
                flat -= strides[k] * extents[k]
                index[k] = 0
                k -= 1
            }
        }
        return out
    }

    /// Blocks until every queued kernel that writes one of `buffers` is done and their host
    /// memory holds the values (copied back from the GPU if it has the only copy).
    public func wait(for buffers: [Buffer]) throws {
        let writers = graphLock.withLock { _ in buffers.compactMap { ($0.schedule as? BufferSchedule)?.lastWriter } }
        for w in writers { executor.wait(w) }
        try throwAsyncError()
        if let accelerator {
            for b in buffers where (b.schedule as? BufferSchedule)?.deviceSeen == true { try accelerator.makeHostValid(b) }
        }
    }

    /// Blocks until everything queued so far has run, on the host and on the accelerator (host
    /// memory of GPU results is made valid only by reading them).
    public func waitAll() throws {
        executor.waitAll()
        try throwAsyncError()
        if queuedDeviceUsed, let accelerator { try accelerator.synchronize() }
    }

    /// Makes `buffer` ready for a write on the host in place (a scatter into a tensor nothing
    /// else can see): everything queued has run (a kernel queued before may still read it), and
    /// an accelerator's copy of it, if any, is brought back first and marked stale.
    ///
    ///     try runtime.prepareHostWrite(buffer)
    public func prepareHostWrite(_ buffer: Buffer) throws {
        try waitAll()
        if queuedDeviceUsed, let accelerator { try accelerator.hostWillWrite(buffer, overwrites: false) }
    }

    /// Throws (once) the first error a queued device reported from a worker thread.
    func throwAsyncError() throws {
        if let e = asyncError.withLock({ e -> (any Error)? in defer { e = nil }; return e }) { throw e }
    }
}
