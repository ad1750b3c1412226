import TandemRuntime

/// An n-dimensional array of `Scalar` with value semantics whose operations are recorded lazily.
///
/// Building expressions does no work; reading values (`scalars`, `item()`, `description`) or
/// `flush()` plans the pending graph into fused kernels and runs them on all cores.
///
///     let x = Tensor<Double>.uniform([1_000_000], seed: 1, in: -1...1)
///     let energy = try (x * x).sum().item()     // one fused kernel, the only sync point
///
/// Copies are cheap and independent: writing into a view of one copy never changes another.
public struct Tensor<Scalar: TensorScalar>: TensorProtocol, Sendable {
    @usableFromInline var handle: TensorHandle

    /// The lazy graph node behind this value.
    public var node: Node { handle.node }

    init(node: Node) {
        precondition(node.dtype == Scalar.dtype, "internal: node type \(node.dtype) for Tensor<\(Scalar.self)>")
        handle = TensorHandle(node)
    }

    init(_ op: Node.Op, shape: [Int]) {
        if let r = Tandem.eager(op, dtype: Scalar.dtype, shape: shape) {
            self.init(node: Node(eager: r, dtype: Scalar.dtype, shape: shape))
            return
        }
        self.init(node: Node(op, dtype: Scalar.dtype, shape: shape))
        let depth = node.pendingDepth
        if depth >= Runtime.flushDepth {
            Tandem.runtime.relieveDepth(node)
        } else if depth >= Runtime.pinCheckDepth && depth % Runtime.pinCheckDepth == 0,
                  Node.orphanedBytes.load(ordering: .relaxed) > Runtime.pinnedLimit(valueBytes: node.count * node.dtype.byteSize) {
            Tandem.runtime.relievePinnedMemory(node)
        }
    }

    /// The extent of each axis.
    public var shape: [Int] { node.shape }
    /// The number of axes.
    public var rank: Int { node.shape.count }
    /// The number of elements.
    public var count: Int { node.count }
    /// The element type of this tensor type (`.float64` for `Tensor<Double>`).
    public static var dtype: DType { Scalar.dtype }

    /// A tensor from elements in row-major order.
    ///
    ///     let m = Tensor<Float>([1, 2, 3, 4, 5, 6], shape: [2, 3])
    public init(_ scalars: [Scalar], shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(Shape.describe(shape))")
        precondition(Shape.count(shape) == scalars.count,
                     "Tensor: cannot reshape array of size \(scalars.count) into shape \(Shape.describe(shape))")
        let buffer = Buffer(dtype: Scalar.dtype, count: scalars.count)
        scalars.withUnsafeBytes { raw in
            // This is safe: Swift's Float, Double, Int32, Int64 and Bool have the C layouts used.
            if let base = raw.baseAddress { buffer.pointer.copyMemory(from: base, byteCount: raw.count) }
        }
        self.init(.storage(buffer), shape: shape)
    }

    /// A one-dimensional tensor of the elements.
    public init(_ scalars: [Scalar]) { self.init(scalars, shape: [scalars.count]) }

    /// A rank-0 tensor holding one value (broadcasts against any shape).
    public init(_ scalar: Scalar) { self.init(.fill(scalar.literal), shape: []) }

    // MARK: - Reading (sync points)

    /// The elements in row-major order. A sync point: runs what this tensor needs and waits.
    public var scalars: [Scalar] {
        get throws { try read(call: "scalars") }
    }

    /// The elements, recording the caller's source line in traces (a sync point).
    ///
    ///     let values = try t.scalars()       // the trace names this file and line
    public func scalars(file: StaticString = #fileID, line: UInt = #line) throws -> [Scalar] {
        try read(call: "scalars() at \(file):\(line)")
    }

    func read(call: @autoclosure () -> String) throws -> [Scalar] {
        let buffer = try Tandem.runtime.read(node, call: call())
        return [Scalar](unsafeUninitializedCapacity: buffer.count) { out, n in
            // This is safe: the buffer holds `count` elements of this exact layout.
            if buffer.count > 0 {
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: buffer.pointer, byteCount: buffer.byteCount)
            }
            n = buffer.count
        }
    }

    /// The single element of a one-element tensor. A sync point.
    ///
    ///     let total = try x.sum().item()
    public func item(file: StaticString = #fileID, line: UInt = #line) throws -> Scalar {
        precondition(count == 1, "item: can only convert an array of size 1 to a Swift scalar, not shape \(Shape.describe(shape))")
        // Straight from the buffer: an array of one element cost a generic allocation, a tenth
        // of a small loop's step that reads a sum every iteration.
        let (buffer, index) = try Tandem.runtime.readElement(node, call: "item() at \(file):\(line)")
        return buffer.pointer.load(fromByteOffset: index * Scalar.dtype.byteSize, as: Scalar.self)
    }

    /// Queues the computation of this tensor and returns without waiting.
    public func flush(file: StaticString = #fileID, line: UInt = #line) throws {
        let start = ProcessInfoLite.monotonicNanos()
        try Tandem.runtime.materialize([node])
        Tracer.shared.record(TraceEvent(kind: .sync, name: "flush() at \(file):\(line)", start: start,
                                        duration: ProcessInfoLite.monotonicNanos() - start))
    }

    /// Graphviz DOT of this tensor's pending graph and the kernels a read would run (nothing runs).
    public func graphviz() -> String { Tandem.graphviz(self) }

    /// The kernel IR a read of this tensor would run now, as text (nothing runs).
    public var kernelIR: String { Tandem.kernelIR(self) }
}

/// Names a graph node on behalf of tensor values, so the planner knows it is still reachable.
@usableFromInline
final class TensorHandle: Sendable {
    let node: Node
    init(_ node: Node) {
        self.node = node
        node.holders.add(1, ordering: .relaxed)
        if node.isCountedOrphan { node.countOrphaned(0) }
    }
    deinit {
        // A stored value that pending nodes still read, named by no tensor now: only their
        // graphs keep its buffer alive (`Runtime.relievePinnedMemory`).
        if node.holders.subtract(1, ordering: .relaxed).newValue == 0, node.pendingDepth == 0,
           node.consumers.load(ordering: .relaxed) > 0 {
            Tandem.runtime.noteOrphaned(node)
        }
    }
}
