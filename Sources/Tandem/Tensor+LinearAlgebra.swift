import Dispatch
import TandemBLAS
import TandemCPU
import TandemCompiler
import TandemIR
import TandemRuntime
import Synchronization

/// Whether a failed compile of the tiled product was said (once a process).
let tiledProductFailureSaid = Atomic<Bool>(false)

// Matrix products with NumPy's meaning. Paths, chosen per call:
//
// - Generated: `(a[..., n, k, newAxis] * b[..., newAxis, k, m]).sum(axis: -2)` (a one-column `b`:
//   a sum along `a`'s rows), a lazy reduction the planner fuses with its neighbours, on every
//   device, floats accumulated in Double.
// - BLAS, where the placement is `auto` or `cpu` and a CBLAS was found: a floating-point
//   matrix–matrix product with every side at least 2 (`gemm`; a batched one only when large:
//   both result sides ≥ 8 and 2^18 multiply-adds), and a matrix–vector product whose matrix is
//   already computed (`gemv`, see `vectorProduct`). Below the large size, only without an
//   accelerator (that would pull its data back to the host). The product is computed when
//   `matmul` is called: a sync point for its operands (computed first; a transposed or sliced
//   view of a stored tensor is passed where it lies, as NumPy passes `x.T`), then the BLAS runs
//   on the calling thread, on one BLAS thread below `BLAS.singleThreadWork`. The trade-off: the
//   product no longer fuses, but the generated reduction was 2-20x slower than the BLAS on thin
//   products (softmax regression's 20,000 x 10 x 5 `X @ W`: 388 µs against 102, its transposed
//   `X.T @ G` 206 against 118; 300 x 10 x 5 shapes 5-10x) and 10-50x on large ones, while what
//   fusion saves is a pass over the result. A pending matrix in a matrix–vector product stays
//   generated: fused, it is read once.
// - Tiled: the matrix–matrix products the BLAS would take when no BLAS is found (or
//   `TANDEM_BLAS=off`), with a C compiler (large ones on `cpu-1` too): Tandem's own packed,
//   register-blocked product (`TiledProduct`), compiled once like a kernel and run over blocks
//   of rows on the workers, its operands read through their strides (a transposed view packed
//   in place); faster than this machine's OpenBLAS on 2000², within 1.6x of it on thin
//   products, where the generated broadcast-and-sum path was 200x and 3-4x.
//
// `tandem devices` says which BLAS was found.

extension Tensor where Scalar: NumericTensorScalar {
    /// The matrix product, as NumPy's `matmul` (`a @ b`): 2-D × 2-D is the matrix product;
    /// a 1-D operand is a row (left) or column (right) vector whose axis is removed from the
    /// result; more axes are batches, broadcast against each other.
    ///
    ///     let a = Tensor<Double>.uniform([3, 4], seed: 1), b = Tensor<Double>.uniform([4, 2], seed: 2)
    ///     let c = a.matmul(b)                                    // shape (3, 2)
    ///     let y = a.matmul(Tensor<Double>.ones([4]))             // shape (3,): row sums
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank >= 1 && b.rank >= 1, "matmul: Input operand \(a.rank == 0 ? 0 : 1) does not have enough dimensions (has 0, gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1)")
        // Two vectors: the generated product and sum (no BLAS path takes a 1 x k by k x 1
        // product), without the matrix views (an element-at-a-time loop's dot products).
        if a.rank == 1 && b.rank == 1 {
            precondition(a.count == b.count,
                         "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size \(b.count) is different from \(a.count))")
            return (a * b).sum()
        }
        let a2 = a.rank == 1 ? a.reshaped([1, a.count]) : a
        let b2 = b.rank == 1 ? b.reshaped([b.count, 1]) : b
        let k = a2.shape[a2.rank - 1]
        precondition(b2.shape[b2.rank - 2] == k,
                     "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size \(b2.shape[b2.rank - 2]) is different from \(k))")
        let n = a2.shape[a2.rank - 2], m = b2.shape[b2.rank - 1]
        let batch = broadcastShape(Array(a2.shape.dropLast(2)), Array(b2.shape.dropLast(2)), "matmul")
        if batch.isEmpty, let product = vectorProduct(a, b, n: n, k: k, m: m) { return product }
        if var product = hostProduct(a2, b2, batch: batch, n: n, k: k, m: m) {
            if a.rank == 1 { product = product.squeezed(axes: [product.rank - 2]) }
            if b.rank == 1 { product = product.squeezed(axes: [product.rank - 1]) }
            return product
        }
        // Generated: one broadcast product and one sum, without the vector's extent-1 axis (so
        // that what consumes a matrix-vector product fuses into the reduction's epilogue).
        if a.rank == 1 && b.rank == 1 { return (a * b).sum() }
        if b.rank == 1 { return (a * b).sum(axis: -1) }
        if a.rank == 1 { return (a.reshaped([k, 1]) * b).sum(axis: -2) }
        // A one-column right operand: each output sums one row of `a` times the column, along
        // the rows (contiguous), not down a middle axis of extent-1 columns.
        if m == 1 { return (a2 * b2.swappingAxes(b2.rank - 2, b2.rank - 1)).sum(axis: -1, keepDims: true) }
        return (a2.expandingDims(at: a2.rank).broadcast(to: batch + [n, k, m])
                * b2.expandingDims(at: b2.rank - 2).broadcast(to: batch + [n, k, m])).sum(axis: batch.count + 1)
    }

    /// How a large product runs on the host (see the top of this file).
    private enum HostPath {
        case blas
        case tiled(CompiledRoutine, threads: Int)

        var isBLAS: Bool { if case .blas = self { true } else { false } }
    }

    /// The path for an `n × k` by `k × m` product of this element type, or nil for the
    /// generated one. A tiled product's code is compiled here at its first use (said once if
    /// that fails; the generated path runs instead).
    private static func hostPath(n: Int, k: Int, m: Int, batched: Bool) -> HostPath? {
        guard Scalar.dtype.isFloatingPoint else { return nil }
        let choice = Tandem.runtime.deviceChoice
        let large = n >= 8 && m >= 8 && n * k * m >= 1 << 18
        let small = !batched && n >= 2 && m >= 2 && k >= 2 && !Tandem.runtime.hasAccelerator
        if large || small, BLAS.shared.accepts(m: n, n: m, k: k), choice == .auto || choice == .cpu { return .blas }
        // The tiled kernel for small products too (2-4x the generated reduction on thin ones:
        // 20,000 x 10 x 5, 122 µs against 378), where a small one would take the BLAS.
        guard large || (small && (choice == .auto || choice == .cpu)), Tandem.hostCodeAllowed else { return nil }
        do {
            let code = try Tandem.shared.cpu.routine(source: TiledProduct.source(float32: Scalar.dtype == .float32), weight: 400)
            return .tiled(code, threads: Tandem.hostThreads)
        } catch {
            if tiledProductFailureSaid.exchange(true, ordering: .relaxed) == false {
                ProcessInfoLite.warn("tandem: the tiled matrix product could not be compiled (\(String("\(error)".prefix(300)))); products use generated kernels")
            }
            return nil
        }
    }

    /// The product on the BLAS or the tiled kernel, or nil where the generated path is used.
    private static func hostProduct(_ a: Tensor, _ b: Tensor, batch: [Int], n: Int, k: Int, m: Int) -> Tensor? {
        guard let path = hostPath(n: n, k: k, m: m, batched: !batch.isEmpty) else { return nil }
        if batch.isEmpty {
            switch path {
            case .blas: return blasProduct(a, b, n: n, k: k, m: m)
            case .tiled(let code, let threads): return tiledProduct(a, b, code: code, threads: threads, n: n, k: k, m: m)
            }
        }
        let ra = [Int].filled(1, count: batch.count - (a.rank - 2)) + a.shape.dropLast(2)
        let rb = [Int].filled(1, count: batch.count - (b.rank - 2)) + b.shape.dropLast(2)
        let bufferA: Buffer, bufferB: Buffer
        do {
            try Tandem.runtime.computeForReading([a.node, b.node])      // one sync for both
            bufferA = try Tandem.runtime.read(a.node, call: "matmul operand")
            bufferB = try Tandem.runtime.read(b.node, call: "matmul operand")
        } catch {
            // The same error is thrown at the next sync point, which runs the generated product.
            return nil
        }
        let batches = Shape.count(batch)
        let out = Buffer(dtype: Scalar.dtype, count: batches * n * m)
        let size = Scalar.dtype.byteSize
        let start = ProcessInfoLite.monotonicNanos()
        var index = [Int].filled(0, count: batch.count)
        for c in 0..<batches {
            // Offsets of this batch in each operand: broadcast axes (extent 1) stay at 0.
            var offA = 0, offB = 0
            for d in 0..<batch.count {
                offA = offA * ra[d] + (ra[d] == 1 ? 0 : index[d])
                offB = offB * rb[d] + (rb[d] == 1 ? 0 : index[d])
            }
            let pa = bufferA.pointer + offA * n * k * size, pb = bufferB.pointer + offB * k * m * size, pc = out.pointer + c * n * m * size
            switch path {
            case .blas:
                BLAS.shared.gemm(float32: Scalar.dtype == .float32, m: n, n: m, k: k, a: pa, lda: k, b: pb, ldb: m, c: pc, ldc: m)
            case .tiled(let code, let threads):
                tiled(code, threads: threads, a: pa, strides: (k, 1), b: pb, strides: (m, 1), c: pc, n: n, k: k, m: m)
            }
            Shape.step(&index, through: batch)
        }
        recordHostProduct(blas: path.isBLAS, n: n, k: k, m: m, batches: batches, start: start)
        return Tensor(.storage(out), shape: batch + [n, m])
    }

    /// A matrix–vector product (`a` or `b` a vector, or a matrix of one row or column, the
    /// matrix at least 2 x 2) on the BLAS's `gemv`, where the placement is `auto` or `cpu`, a
    /// BLAS with `gemv` was found, no accelerator is in use and the matrix is already computed
    /// (stored, or a view of a stored tensor); nil otherwise. Like NumPy's `A @ x`: a sync
    /// point for the operands, which are passed where they lie (`x.T @ v` reads `x` transposed,
    /// no copy). The trade-off: the generated product ran 1.4-3x slower than `gemv` on stored
    /// operands (20,000 x 10 doubles, `v @ x`: 93 µs against 31, `x @ v` 53 against 37;
    /// `bench/probes`, `z_thin mode=2`), but it reads a pending matrix (`(x * 2 + 1) @ v`)
    /// once, fused, where the BLAS would first write it out and read it back.
    private static func vectorProduct(_ a: Tensor, _ b: Tensor, n: Int, k: Int, m: Int) -> Tensor? {
        guard Scalar.dtype.isFloatingPoint, k >= 2, (m == 1) != (n == 1), Swift.max(n, m) >= 2,
              a.rank <= 2, b.rank <= 2, !Tandem.runtime.hasAccelerator else { return nil }
        let choice = Tandem.runtime.deviceChoice
        guard choice == .auto || choice == .cpu else { return nil }
        // y = M x with M = a (n x k) when m == 1, y = Mᵀ x with M = b (k x m) when n == 1.
        let (matrix, vector, rows, cols, transpose) = m == 1 ? (a, b, n, k, false) : (b, a, k, m, true)
        // Stored first: asking the BLAS loads it (a few milliseconds, once).
        guard Tandem.runtime.isStored(matrix.node), BLAS.shared.acceptsVector(m: rows, n: cols) else { return nil }
        let om: BLASOperand, x: Buffer, xOffset: Int, incx: Int
        do {
            om = try blasOperand(matrix, rows: rows, cols: cols)
            // Along stored rows shorter than the lanes, the generated product (rows compiled in,
            // all workers) beat one-thread `gemv`: 100,000 x 3 `x @ v` 30 µs against 57. Decided
            // before the vector is read (a pending vector then fuses into the generated product).
            if transpose == om.trans && k < Kernel.reductionLanes { return nil }
            let (buffer, offset, strides) = try Tandem.runtime.readStrided(vector.node, call: "matmul operand")
            // The vector's stride along its k elements: its one axis, or the long one of a 1 x k or k x 1 matrix.
            let stride = vector.rank == 1 ? strides[0] : (vector.shape[0] == 1 ? strides[1] : strides[0])
            if stride >= 1 {
                (x, xOffset, incx) = (buffer, offset, stride)
            } else {
                (x, xOffset, incx) = (try Tandem.runtime.read(vector.node, call: "matmul operand"), 0, 1)
            }
        } catch {
            // The same error is thrown at the next sync point, which runs the generated product.
            return nil
        }
        let length = transpose ? cols : rows
        let out = Buffer(dtype: Scalar.dtype, count: length)
        let start = ProcessInfoLite.monotonicNanos()
        // The stored matrix is M, or Mᵀ when the operand lies transposed.
        BLAS.shared.gemv(float32: Scalar.dtype == .float32, m: om.trans ? cols : rows, n: om.trans ? rows : cols, a: om.pointer, lda: om.ld,
                         trans: transpose != om.trans, x: UnsafeRawPointer(x.pointer + xOffset * Scalar.dtype.byteSize), incx: incx,
                         y: out.pointer)
        recordHostProduct(blas: true, vector: true, n: n, k: k, m: m, batches: 1, start: start)
        let shape = m == 1 ? (b.rank == 1 ? [n] : [n, 1]) : (a.rank == 1 ? [m] : [1, m])
        return withExtendedLifetime((om, x)) { Tensor(.storage(out), shape: shape) }
    }

    /// An operand of `blasProduct`: where its first element lies, its leading dimension, and
    /// whether it is stored transposed (the buffer is kept alive with it).
    private struct BLASOperand {
        let buffer: Buffer
        let pointer: UnsafeRawPointer
        let ld: Int
        let trans: Bool
    }

    /// A 2-D `rows × cols` operand as the BLAS takes it: where it lies when it is a held tensor
    /// or a transposed or sliced view of one with unit stride along one axis (NumPy passes `x.T`
    /// to the BLAS the same way); otherwise a row-major copy. A sync point for the operand.
    private static func blasOperand(_ t: Tensor, rows: Int, cols: Int) throws -> BLASOperand {
        let (buffer, offset, strides) = try Tandem.runtime.readStrided(t.node, call: "matmul operand")
        let pointer = UnsafeRawPointer(buffer.pointer + offset * Scalar.dtype.byteSize)
        let (s0, s1) = (strides[0], strides[1])
        if cols == 1 || s1 == 1 {
            let ld = rows == 1 ? Swift.max(cols, 1) : s0
            if ld >= Swift.max(cols, 1) { return BLASOperand(buffer: buffer, pointer: pointer, ld: ld, trans: false) }
        }
        if rows == 1 || s0 == 1 {
            let ld = cols == 1 ? Swift.max(rows, 1) : s1
            if ld >= Swift.max(rows, 1) { return BLASOperand(buffer: buffer, pointer: pointer, ld: ld, trans: true) }
        }
        // A step slice, a broadcast, a reversed axis: copied row-major (the base is computed).
        let copy = try Tandem.runtime.read(t.node, call: "matmul operand")
        return BLASOperand(buffer: copy, pointer: UnsafeRawPointer(copy.pointer), ld: Swift.max(cols, 1), trans: false)
    }

    /// A 2-D product on the BLAS, its operands passed where they lie (`blasOperand`).
    private static func blasProduct(_ a: Tensor, _ b: Tensor, n: Int, k: Int, m: Int) -> Tensor? {
        let oa: BLASOperand, ob: BLASOperand
        do {
            try Tandem.runtime.computeForReading([a.node, b.node])      // one sync for both
            oa = try blasOperand(a, rows: n, cols: k)
            ob = try blasOperand(b, rows: k, cols: m)
        } catch {
            // The same error is thrown at the next sync point, which runs the generated product.
            return nil
        }
        let out = Buffer(dtype: Scalar.dtype, count: n * m)
        let start = ProcessInfoLite.monotonicNanos()
        BLAS.shared.gemm(float32: Scalar.dtype == .float32, m: n, n: m, k: k, a: oa.pointer, lda: oa.ld, transA: oa.trans,
                         b: ob.pointer, ldb: ob.ld, transB: ob.trans, c: out.pointer, ldc: m)
        recordHostProduct(blas: true, n: n, k: k, m: m, batches: 1, start: start)
        return withExtendedLifetime((oa, ob)) { Tensor(.storage(out), shape: [n, m]) }
    }

    /// Counts and traces a product run on the host (`blas`: the BLAS, else the tiled kernel).
    private static func recordHostProduct(blas isBLAS: Bool, vector: Bool = false, n: Int, k: Int, m: Int, batches: Int, start: UInt64) {
        let nanos = ProcessInfoLite.monotonicNanos() - start
        let size = Scalar.dtype.byteSize
        Tandem.runtime.statistics.update { s in
            if isBLAS {
                s.blasCalls += batches
                s.blasNanos += nanos
            } else {
                s.tiledProducts += batches
                s.tiledProductNanos += nanos
            }
        }
        Tracer.shared.record(TraceEvent(kind: .kernel, name: (isBLAS ? "blas " : "tiled ") + (Scalar.dtype == .float32 ? "s" : "d") + (vector ? "gemv" : "gemm") + " \(n)x\(k)x\(m)" + (batches > 1 ? " x\(batches)" : ""),
                                        start: start, duration: nanos, bytes: (n * k + k * m + n * m) * batches * size,
                                        points: n * m * batches, device: isBLAS ? "blas" : "cpu",
                                        detail: isBLAS ? BLAS.shared.availability.description : "TiledProduct"))
    }

    /// A 2-D product on the tiled kernel, its operands read where they lie (any strides: the
    /// kernel packs them into panels anyway), so a transposed, sliced or broadcast view is not
    /// copied first.
    private static func tiledProduct(_ a: Tensor, _ b: Tensor, code: CompiledRoutine, threads: Int, n: Int, k: Int, m: Int) -> Tensor? {
        let oa: (buffer: Buffer, offset: Int, strides: [Int]), ob: (buffer: Buffer, offset: Int, strides: [Int])
        do {
            try Tandem.runtime.computeForReading([a.node, b.node])      // one sync for both
            oa = try Tandem.runtime.readStrided(a.node, call: "matmul operand")
            ob = try Tandem.runtime.readStrided(b.node, call: "matmul operand")
        } catch {
            // The same error is thrown at the next sync point, which runs the generated product.
            return nil
        }
        let size = Scalar.dtype.byteSize
        let out = Buffer(dtype: Scalar.dtype, count: n * m)
        let start = ProcessInfoLite.monotonicNanos()
        tiled(code, threads: threads, a: oa.buffer.pointer + oa.offset * size, strides: (oa.strides[0], oa.strides[1]),
              b: ob.buffer.pointer + ob.offset * size, strides: (ob.strides[0], ob.strides[1]), c: out.pointer, n: n, k: k, m: m)
        recordHostProduct(blas: false, n: n, k: k, m: m, batches: 1, start: start)
        return withExtendedLifetime((oa.buffer, ob.buffer)) { Tensor(.storage(out), shape: [n, m]) }
    }

    /// One `n × k` by `k × m` product with the tiled kernel, A's element (i, l) at
    /// `a[i * sa.0 + l * sa.1]` and B's (l, j) at `b[l * sb.0 + j * sb.1]`, C row-major: blocks
    /// of `TiledProduct.blockRows` rows of C split over `threads`, each with scratch of its own.
    private static func tiled(_ code: CompiledRoutine, threads: Int, a: UnsafeMutableRawPointer, strides sa: (Int, Int),
                              b: UnsafeMutableRawPointer, strides sb: (Int, Int), c: UnsafeMutableRawPointer, n: Int, k: Int, m: Int) {
        let blocks = (n + TiledProduct.blockRows - 1) / TiledProduct.blockRows
        let pieces = Swift.max(1, Swift.min(threads, blocks))
        let ints: [Int64] = [Int64(n), Int64(m), Int64(k), Int64(sa.0), Int64(sa.1), Int64(sb.0), Int64(sb.1), Int64(m)]
        let scratchBytes = TiledProduct.scratchCount(n: m) * Scalar.dtype.byteSize
        // Raw pointers cross into the pieces as integers; each piece writes its own rows of C.
        let (pa, pb, pc) = (UInt(bitPattern: a), UInt(bitPattern: b), UInt(bitPattern: c))
        DispatchQueue.concurrentPerform(iterations: pieces) { p in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
            defer { scratch.deallocate() }
            code.call([UnsafeMutableRawPointer(bitPattern: pa), UnsafeMutableRawPointer(bitPattern: pb), UnsafeMutableRawPointer(bitPattern: pc), scratch],
                      ints: ints, lo: blocks * p / pieces, hi: blocks * (p + 1) / pieces)
        }
    }

    /// Whether an `n × k` by `k × m` product of this element type runs on the host's BLAS or
    /// tiled kernel (a sync point for its operands) rather than as a generated reduction.
    static func takesHostPath(n: Int, k: Int, m: Int, batched: Bool) -> Bool { hostPath(n: n, k: k, m: m, batched: batched) != nil }

    /// The dot product as NumPy's `dot`: 1-D · 1-D is the inner product (rank 0), 2-D · 2-D the
    /// matrix product, N-D · 1-D a sum over the last axis, and N-D · M-D a sum over the last
    /// axis of `self` and the second-to-last of `other`.
    ///
    ///     let s = Tensor<Double>([1, 2, 3]).dot(Tensor<Double>([4, 5, 6]))   // 32
    public func dot(_ other: Tensor) -> Tensor {
        if rank == 0 || other.rank == 0 { return self * other }
        if rank == 1 && other.rank == 1 {
            precondition(count == other.count, "dot: shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape)) not aligned: \(count) (dim 0) != \(other.count) (dim 0)")
            return (self * other).sum()
        }
        if other.rank <= 2 { return matmul(other) }
        // N-D · M-D: contract the last axis of self with axis -2 of other, keeping all the rest.
        let k = shape[rank - 1]
        precondition(other.shape[other.rank - 2] == k, "dot: shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape)) not aligned: \(k) (dim \(rank - 1)) != \(other.shape[other.rank - 2]) (dim \(other.rank - 2))")
        var order = Array(0..<other.rank)
        order.remove(at: other.rank - 2)
        order.insert(other.rank - 2, at: 0)
        let right = other.permuted(order)                         // (k, rest...)
        let product = reshaped([-1, k]).matmul(right.reshaped([k, -1]))
        return product.reshaped(Array(shape.dropLast()) + Array(right.shape.dropFirst()))
    }
}

/// `numpy.matmul(a, b)` (`a @ b`): see `Tensor.matmul(_:)`.
///
///     let c = matmul(Tensor<Double>.ones([2, 3]), Tensor<Double>.ones([3, 4]))   // all 3
public func matmul<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.matmul(b) }
/// `numpy.dot(a, b)`: see `Tensor.dot(_:)`.
public func dot<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.dot(b) }
/// The outer product of the flattened inputs, shape `(a.count, b.count)` (`numpy.outer`; a view
/// product, fused with what uses it).
///
///     let table = outer(Tensor<Int64>.arange(1, 4), Tensor<Int64>.arange(1, 4))   // 3x3 times table
public func outer<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    a.flattened().reshaped([a.count, 1]) * b.flattened().reshaped([1, b.count])
}

/// Any elementwise operation over every pair of elements (NumPy's `ufunc.outer`:
/// `np.add.outer(a, b)` is `outer(a, b, +)`, `np.maximum.outer` is `outer(a, b, Tensor.maximum)`):
/// shape `a.shape + b.shape`, element `(i..., j...)` is `op(a[i...], b[j...])`. Broadcast views
/// of the inputs, lazy and fused with what uses them.
///
///     let sums = outer(Tensor<Double>([1, 2]), Tensor<Double>([10, 20, 30]), +)   // [[11, 21, 31], [12, 22, 32]]
///     let below = outer(Tensor<Double>([1, 2]), Tensor<Double>([1.5]), .<)         // [[true], [false]]
public func outer<S: TensorScalar, R: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ op: (Tensor<S>, Tensor<S>) -> Tensor<R>) -> Tensor<R> {
    op(a.reshaped(a.shape + [Int](repeating: 1, count: b.rank)), b.reshaped([Int](repeating: 1, count: a.rank) + b.shape))
}

/// Einstein summation over the operands' axes named in `subscripts` (`numpy.einsum`): each
/// operand's axes get one letter; letters missing from the output (after `->`, or, without it,
/// the letters that appear once, in alphabetical order) are summed over; a letter repeated
/// within one operand takes its diagonal. Computed as one broadcast product and one
/// reduction (fused); a two-operand contraction that is a large matrix product runs on the BLAS.
///
///     let c = einsum("ij,jk->ik", a, b)          // matmul
///     let t = einsum("ii", m)                    // trace
///     let g = einsum("bi,bj->ij", x, x)          // Gram matrix over a batch
public func einsum<S: NumericTensorScalar>(_ subscripts: String, _ operands: Tensor<S>...) -> Tensor<S> {
    Einsum.evaluate(subscripts, operands)
}

enum Einsum {
    static func evaluate<S: NumericTensorScalar>(_ subscripts: String, _ operands: [Tensor<S>]) -> Tensor<S> {
        let spec = subscripts.filter { $0 != " " }
        precondition(!spec.contains("."), "einsum: ellipses ('...') are not supported; name every axis")
        var parts = [spec]
        if let arrow = spec.firstRange(of: "->") {
            parts = [String(spec[..<arrow.lowerBound]), String(spec[arrow.upperBound...])]
        }
        precondition(!parts.joined().contains("-") && !parts.joined().contains(">"), "einsum: invalid subscripts '\(subscripts)' (one '->' at most)")
        let inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        precondition(inputs.count == operands.count, "einsum: \(inputs.count) operand subscripts for \(operands.count) operands")
        for label in inputs.joined() + (parts.count == 2 ? Array(parts[1]) : []) {
            precondition(label.isLetter && label.isASCII, "einsum: invalid subscript '\(label)' in '\(subscripts)' (letters only)")
        }
        var extent: [Character: Int] = [:]
        for (k, (labels, t)) in zip(inputs, operands).enumerated() {
            precondition(labels.count == t.rank, "einsum: operand \(k) has \(t.rank) dimensions but subscripts '\(String(labels))' name \(labels.count)")
            for (d, l) in labels.enumerated() {
                if let e = extent[l], e != t.shape[d] {
                    // NumPy broadcasts extent-1 axes; keep the larger extent.
                    precondition(e == 1 || t.shape[d] == 1, "einsum: operands could not be broadcast together: label '\(l)' has extents \(e) and \(t.shape[d])")
                    extent[l] = Swift.max(e, t.shape[d])
                } else {
                    extent[l] = t.shape[d]
                }
            }
        }
        let output: [Character]
        if parts.count == 2 {
            output = Array(parts[1])
            precondition(Set(output).count == output.count, "einsum: output subscript '\(parts[1])' repeats a label")
            for l in output { precondition(extent[l] != nil, "einsum: output subscript '\(l)' appears in no operand") }
        } else {
            let all = inputs.joined()
            output = Set(all).filter { l in all.filter { $0 == l }.count == 1 }.sorted()
        }
        let summed = Set(inputs.joined()).subtracting(output).sorted()
        if operands.count == 2, let product = asMatmul(inputs[0], inputs[1], output: output, summed: summed, operands[0], operands[1], extent: extent) {
            return product
        }
        let space = output + summed
        // Each operand as a view over the whole label space: diagonals for repeated labels,
        // permuted into `space` order, extent-1 axes for labels it lacks, then broadcast.
        var product: Tensor<S>?
        for (labels, t) in zip(inputs, operands) {
            let term = view(t, labels: labels, space: space, extent: extent)
            product = product.map { $0 * term } ?? term
        }
        var result = product!
        if !summed.isEmpty { result = result.sum(axes: Array(output.count..<space.count)) }
        return result
    }

    /// A two-operand contraction as a (batched) matrix product, when it is one and large enough
    /// for the BLAS: batch labels (in both and the output), the left's own, the contracted ones,
    /// the right's own. Nil otherwise (the broadcast product is used).
    static func asMatmul<S: NumericTensorScalar>(_ la: [Character], _ lb: [Character], output: [Character], summed: [Character],
                                                 _ a: Tensor<S>, _ b: Tensor<S>, extent: [Character: Int]) -> Tensor<S>? {
        guard Set(la).count == la.count, Set(lb).count == lb.count,
              zip(la, a.shape).allSatisfy({ extent[$0] == $1 }), zip(lb, b.shape).allSatisfy({ extent[$0] == $1 }),
              summed.allSatisfy({ la.contains($0) && lb.contains($0) }) else { return nil }
        let batch = output.filter { la.contains($0) && lb.contains($0) }
        let left = output.filter { la.contains($0) && !lb.contains($0) }
        let right = output.filter { !la.contains($0) && lb.contains($0) }
        func size(_ ls: [Character]) -> Int { ls.reduce(1) { $0 * extent[$1]! } }
        let n = size(left), k = size(summed), m = size(right)
        guard Tensor<S>.takesHostPath(n: n, k: k, m: m, batched: !batch.isEmpty) else { return nil }
        let batchShape = batch.map { extent[$0]! }
        let ap = a.permuted((batch + left + summed).map { la.firstIndex(of: $0)! }).reshaped(batchShape + [n, k])
        let bp = b.permuted((batch + summed + right).map { lb.firstIndex(of: $0)! }).reshaped(batchShape + [k, m])
        let c = ap.matmul(bp).reshaped((batch + left + right).map { extent[$0]! })
        let order = output.map { (batch + left + right).firstIndex(of: $0)! }
        return c.permuted(order)
    }

    /// `t` (axes named `labels`) as a tensor over `space` (each label's extent in `extent`).
    static func view<S: NumericTensorScalar>(_ t: Tensor<S>, labels: [Character], space: [Character], extent: [Character: Int]) -> Tensor<S> {
        // Source axis d reads space axis position(labels[d]); a label the operand lacks is a
        // broadcast (coefficient 0); a repeated label makes two source axes follow one space axis.
        let r = space.count
        var coef = [Int].filled(0, count: t.rank * r)
        for (d, l) in labels.enumerated() where t.shape[d] != 1 || extent[l] == 1 {
            coef[d * r + space.firstIndex(of: l)!] = 1
        }
        let map = AffineMap(inRank: t.rank, outRank: r, offset: [Int].filled(0, count: t.rank), coef: coef)
        return Tensor<S>(.view(t.node, map), shape: space.map { extent[$0]! })
    }
}
