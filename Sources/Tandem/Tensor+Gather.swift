import TandemIR
import TandemRuntime

// Indexing by integer tensors and masks.
//
// Gathers (`take`, `x[indices]`) are lazy graph operations: one indexed load per element, fused
// with the expression that computes the index and with what consumes the result, on every
// device. Scatters, masks and counts have data-dependent results (positions written, output
// length): they are computed on the host when called, a sync point for their operands, in one
// deterministic order (repeated indices accumulate in index order).

extension Tensor {
    /// Elements taken at `indices` along `axis` (`numpy.take`): the axis is replaced by the index
    /// tensor's axes; with `axis` nil the tensor is flattened first. Negative indices count from
    /// the end. An index tensor already computed is checked against the axis (NumPy's
    /// `IndexError` message stops the program); one still pending in the lazy graph is clamped
    /// into the axis, never read outside it.
    ///
    ///     let centroids = Tensor<Double>([0, 0, 10, 10], shape: [2, 2])
    ///     let labels = Tensor<Int64>([1, 0, 1])
    ///     let assigned = centroids.take(labels, axis: 0)     // shape (3, 2), also centroids[labels]
    public func take<I: IntegerTensorScalar>(_ indices: Tensor<I>, axis: Int? = nil) -> Tensor {
        take(indices.indexNode, axis: axis)
    }

    func take(_ index: Node, axis: Int?) -> Tensor {
        guard let axis else { return flattened().take(index, axis: 0) }
        let a = Tensor.axis(axis, rank: rank, "take")
        precondition(index.dtype.isInteger, "take: indices must be integers, not \(index.dtype)")
        let n = shape[a]
        precondition(n > 0 || Shape.count(index.shape) == 0, "take: cannot do a non-empty take from an empty axis \(a)")
        Tensor.checkIfComputed(index, extent: n, axis: a)
        let out = Array(shape[..<a]) + index.shape + Array(shape[(a + 1)...])
        return Tensor(.gather(source: node, index: index, axis: a), shape: out)
    }

    /// Elements taken along `axis` at the positions `indices` gives for each lane
    /// (`numpy.take_along_axis`): `indices` has this tensor's rank, and broadcasts against it
    /// on every other axis. Pairs with `argsort`.
    ///
    ///     let order = try m.argsort(axis: 1)        // m: a matrix; each row's order
    ///     let sorted = try m.take(along: order, axis: 1)
    public func take<I: IndexTensorScalar>(along indices: Tensor<I>, axis: Int) throws -> Tensor {
        let a = Tensor.axis(axis, rank: rank, "take_along_axis")
        precondition(indices.rank == rank, "take_along_axis: indices and arr must have the same number of dimensions (\(indices.rank) and \(rank))")
        // Flat positions: the lane's base (broadcast over the other axes) plus index * stride.
        var others = indices.shape
        others[a] = shape[a]
        let common = Tensor.broadcastShape(shape, others, "take_along_axis")
        var outShape = common
        outShape[a] = indices.shape[a]
        let src = broadcast(to: common)
        let strides = Shape.rowMajorStrides(common)
        var base = Tensor<Int64>.zeros(outShape)
        for d in 0..<rank where d != a && common[d] > 1 {
            var s = [Int](repeating: 1, count: rank)
            s[d] = common[d]
            base = base + Tensor<Int64>.arange(Int64(common[d])).reshaped(s) * Int64(strides[d])
        }
        let n = Int64(common[a])
        let i = Tensor<Int64>(indices).broadcast(to: outShape)
        let wrapped = select(i .< Int64(0), i + n, i)
        let flat = base + wrapped * Int64(strides[a])
        try Tensor.checkBounds(i.node, extent: common[a], axis: a)
        return src.flattened().take(flat, axis: 0)
    }

    /// The values of the integer tensor `index` (`Int32` or `Int64`) as positions along an axis
    /// of `extent`, negative ones counted from the end, in a buffer of `Int64`; stops with
    /// NumPy's message at one outside `-extent..<extent`. A sync point.
    static func flatTargets(_ index: Node, extent: Int, axis: Int) throws -> Buffer {
        let source = try Tandem.runtime.read(index, call: "x[indices] = v")      // row-major, whatever its shape
        let n = source.count, e = Int64(extent)
        let out = Buffer(dtype: .int64, count: n)
        let o = out.pointer.assumingMemoryBound(to: Int64.self)
        // Out of bounds is rare: the check is one comparison per index, the message after the loop.
        var bad: Int64? = nil
        withExtendedLifetime(source) {
            if source.dtype == .int32 {
                let p = source.pointer.assumingMemoryBound(to: Int32.self)
                for i in 0..<n {
                    guard let t = wrappedIndex(Int64(p[i]), extent: e) else { bad = Int64(p[i]); break }
                    o[i] = t
                }
            } else {
                let p = source.pointer.assumingMemoryBound(to: Int64.self)
                for i in 0..<n {
                    guard let t = wrappedIndex(p[i], extent: e) else { bad = p[i]; break }
                    o[i] = t
                }
            }
        }
        if let v = bad { preconditionFailure("index \(v) is out of bounds for axis \(axis) with size \(extent)") }
        return out
    }

    /// Stops with NumPy's message when an index of the integer node `index` is outside
    /// `-extent..<extent` (a sync point).
    static func checkBounds(_ index: Node, extent: Int, axis: Int) throws {
        let buffer = try Tandem.runtime.read(index, call: "index check")      // row-major, whatever its shape
        if let i = firstOutOfBounds(buffer, extent: extent) { preconditionFailure("index \(i) is out of bounds for axis \(axis) with size \(extent)") }
    }

    /// Stops with NumPy's `IndexError` message when `index` is already computed and holds a
    /// value outside `-extent..<extent` (waiting only for the kernel writing it); an index
    /// still pending is left to be clamped by the gather.
    static func checkIfComputed(_ index: Node, extent: Int, axis: Int) {
        guard let buffer = index.storage else { return }
        try? Tandem.runtime.wait(for: [buffer])
        if let i = firstOutOfBounds(buffer, extent: extent) { preconditionFailure("index \(i) is out of bounds for axis \(axis) with size \(extent)") }
    }

    /// `v` as a position along an axis of `extent` (a negative one counted from the end), or nil
    /// when it is outside `-extent..<extent`: one unsigned comparison.
    @inline(__always) static func wrappedIndex(_ v: Int64, extent e: Int64) -> Int64? {
        let t = v < 0 ? v &+ e : v
        return UInt64(bitPattern: t) < UInt64(e) ? t : nil
    }

    /// The first integer of `buffer` (its values on the host) outside `-extent..<extent`, or nil:
    /// one comparison an element on the raw memory (an element at a time as a `Literal`, or
    /// copied into an array first, a million-element index took milliseconds to check).
    static func firstOutOfBounds(_ buffer: Buffer, extent: Int) -> Int64? {
        let e = Int64(extent), n = buffer.count
        @inline(__always) func outside(_ v: Int64) -> Bool { wrappedIndex(v, extent: e) == nil }
        return withExtendedLifetime(buffer) {
            switch buffer.dtype {
            case .int64:
                let p = buffer.pointer.assumingMemoryBound(to: Int64.self)
                for k in 0..<n where outside(p[k]) { return p[k] }
            case .int32:
                let p = buffer.pointer.assumingMemoryBound(to: Int32.self)
                for k in 0..<n where outside(Int64(p[k])) { return Int64(p[k]) }
            default:
                for k in 0..<n {
                    let v = buffer.dtype.loadInteger(UnsafeRawPointer(buffer.pointer), k)
                    if outside(v) { return v }
                }
            }
            return nil
        }
    }

    /// `x[..., indices, ...] = value`: the subscript write with an integer tensor, done on the
    /// host at the write (a sync point). Where an index repeats, the last write wins.
    mutating func scatterWrite(_ indices: [TensorIndex], _ value: Tensor) {
        do {
            try scatter(indices, value, accumulate: false)
        } catch {
            preconditionFailure("x[indices] = value: computing the operands failed: \(error)")
        }
    }

    /// Writes `value` (or adds it to what is there, when `accumulate`) at the elements the
    /// subscript `indices` selects, in row-major order of the selection. Done on the buffers'
    /// bytes with the element type known: element by element in generic code, a million-element
    /// scatter took half a second.
    ///
    /// In place when this tensor is stored and nothing else can see its buffer (no other tensor,
    /// view or pending operation: `uniquelyStoredBuffer`), as NumPy writes: a write of a few
    /// elements costs the elements, not the array (a loop writing three elements of a
    /// 2048 x 2048 array at a time took 18 ms a write, copying the array each time). Otherwise
    /// into a copy.
    mutating func scatter(_ indices: [TensorIndex], _ value: Tensor, accumulate: Bool) throws {
        let targetBuffer: Buffer, selectedShape: [Int]
        if rank == 1 && indices.count == 1, case ._tensor(let index) = indices[0] {
            // A vector indexed by an integer tensor: the targets are the indices themselves,
            // wrapped and checked in one pass (no kernel gathering positions).
            targetBuffer = try Tensor.flatTargets(index, extent: shape[0], axis: 0)
            selectedShape = index.shape
        } else if let points = try Tensor.pointTargets(indices, shape: shape) {
            // Every axis indexed by an integer tensor or an integer: the positions from the
            // indices on the host (no kernel over all of this tensor's positions).
            (targetBuffer, selectedShape) = points
        } else {
            // The flat position of every selected element: the same subscript applied to the
            // positions, each index tensor checked against its axis first.
            for (position, item) in indices.enumerated() {
                guard case ._tensor(let index) = item else { continue }
                let axis = Tensor.axis(axes(of: position, in: indices).source, rank: rank, "index")
                try Tensor.checkBounds(index, extent: shape[axis], axis: axis)
            }
            let selected = Tensor<Int64>.arange(Int64(count)).reshaped(shape).view(indices)
            targetBuffer = try Tandem.runtime.read(selected.flattened().node, call: "x[indices] = v")
            selectedShape = selected.shape
        }
        try write(at: targetBuffer, selectedShape: selectedShape, value, accumulate: accumulate)
    }

    /// Writes `value`, broadcast to `selectedShape`, at the flat positions `targetBuffer` holds
    /// (Int64, one per selected element, each within this tensor), or adds it there: in this
    /// tensor's buffer when nothing else can see it, else into a copy (see `scatter`).
    mutating func write(at targetBuffer: Buffer, selectedShape: [Int], _ value: Tensor, accumulate: Bool) throws {
        guard Shape.broadcast(value.shape, selectedShape) == selectedShape else {
            preconditionFailure("shape mismatch: value array of shape \(Shape.describe(value.shape)) could not be broadcast to indexing result of shape \(Shape.describe(selectedShape))")
        }
        // The operands' buffers as they are (no array copies), and the result this tensor's
        // buffer, or a copy of it, written in place (a million-element scatter: 15 ms through
        // arrays).
        let valueNode = value.broadcast(to: selectedShape).flattened().node
        // A pending tensor is computed with the value, in one sync; a stored one is not read
        // before the value is (a value read from this tensor no longer holds it once stored).
        var sourceNode: Node? = nil
        if node.storage == nil {
            sourceNode = flattened().node
            try Tandem.runtime.computeForReading([valueNode, sourceNode!])
        }
        let valueBuffer = try Tandem.runtime.read(valueNode, call: "x[indices] = v")
        if let own = uniquelyStoredBuffer() {
            try Tandem.runtime.prepareHostWrite(own)
            Tensor.write(into: own, targets: targetBuffer, values: valueBuffer, accumulate: accumulate)
            return
        }
        let source = try Tandem.runtime.read(sourceNode ?? flattened().node, call: "x[indices] = v")
        let result = Buffer(dtype: Scalar.dtype, count: count)
        result.pointer.copyMemory(from: source.pointer, byteCount: count * MemoryLayout<Scalar>.stride)
        Tensor.write(into: result, targets: targetBuffer, values: valueBuffer, accumulate: accumulate)
        withExtendedLifetime(source) {}
        self = Tensor(.storage(result), shape: shape)
    }

    /// This tensor's buffer when it is stored and nobody else can see it: no other `Tensor`
    /// shares its handle (a copy of the struct), no other handle or pending operation reads its
    /// node, no other node stores into the buffer. Writing it in place then changes only this
    /// tensor's value.
    mutating func uniquelyStoredBuffer() -> Buffer? {
        guard isKnownUniquelyReferenced(&handle), let b = node.storage, node.holders.load(ordering: .relaxed) == 1,
              node.consumers.load(ordering: .relaxed) == 0, b.aliases.load(ordering: .relaxed) == 1 else { return nil }
        return b
    }

    /// The flat positions of a subscript whose every item is an integer tensor or an integer,
    /// one per axis (NumPy's point selection: the index tensors broadcast together), and the
    /// selection's shape; nil for any other subscript.
    static func pointTargets(_ indices: [TensorIndex], shape: [Int]) throws -> (Buffer, [Int])? {
        guard indices.count == shape.count, indices.contains(where: { if case ._tensor = $0 { return true }; return false }) else { return nil }
        var parts: [(values: Buffer?, constant: Int64, shape: [Int])] = []
        var out: [Int] = []
        for (axis, item) in indices.enumerated() {
            switch item {
            case ._tensor(let index):
                parts.append((try flatTargets(index, extent: shape[axis], axis: axis), 0, index.shape))
            case .index(let i):
                guard let t = wrappedIndex(Int64(i), extent: Int64(shape[axis])) else {
                    preconditionFailure("index \(i) is out of bounds for axis \(axis) with size \(shape[axis])")
                }
                parts.append((nil, t, []))
            default:
                return nil
            }
            guard let b = Shape.broadcast(out, parts[parts.count - 1].shape) else {
                preconditionFailure("shape mismatch: indexing arrays could not be broadcast together with shapes \(parts.map { Shape.describe($0.shape) }.joined(separator: " "))")
            }
            out = b
        }
        let strides = Shape.rowMajorStrides(shape)
        let n = out.reduce(1, *)
        let targets = Buffer(dtype: .int64, count: n)
        let o = targets.pointer.assumingMemoryBound(to: Int64.self)
        // Each part's element strides over the selection's axes (0 where it is broadcast).
        let steps: [[Int]] = parts.map { p in
            let own = Shape.rowMajorStrides(p.shape)
            return out.indices.map { d in
                let k = d - (out.count - p.shape.count)
                return k >= 0 && p.shape[k] != 1 ? own[k] : 0
            }
        }
        var position = [Int](repeating: 0, count: out.count)
        withExtendedLifetime(parts) {
            for i in 0..<n {
                var flat: Int64 = 0
                for (a, p) in parts.enumerated() {
                    if let values = p.values {
                        var at = 0
                        for d in 0..<out.count { at += position[d] * steps[a][d] }
                        flat += values.pointer.assumingMemoryBound(to: Int64.self)[at] * Int64(strides[a])
                    } else {
                        flat += p.constant * Int64(strides[a])
                    }
                }
                o[i] = flat
                Shape.step(&position, through: out)
            }
        }
        return (targets, out)
    }

    /// Writes (or adds) `values`, one per target, at the flat `targets` of `result`.
    static func write(into result: Buffer, targets targetBuffer: Buffer, values valueBuffer: Buffer, accumulate: Bool) {
        let stride = MemoryLayout<Scalar>.stride
        let targets = UnsafeBufferPointer(start: targetBuffer.pointer.assumingMemoryBound(to: Int64.self), count: targetBuffer.count)
        withExtendedLifetime((targetBuffer, valueBuffer)) {
            do {
                // This is safe: every target is a flat position of the tensor (its subscript
                // selected it), and the values have one element per target.
                let ob = result.pointer, vb = UnsafeRawPointer(valueBuffer.pointer)
                if !accumulate {
                    switch stride {
                    case 8:
                        let o = ob.assumingMemoryBound(to: UInt64.self), v = vb.assumingMemoryBound(to: UInt64.self)
                        for (k, t) in targets.enumerated() { o[Int(t)] = v[k] }
                    case 4:
                        let o = ob.assumingMemoryBound(to: UInt32.self), v = vb.assumingMemoryBound(to: UInt32.self)
                        for (k, t) in targets.enumerated() { o[Int(t)] = v[k] }
                    default:
                        for (k, t) in targets.enumerated() { (ob + Int(t) * stride).copyMemory(from: vb + k * stride, byteCount: stride) }
                    }
                    return
                }
                switch Scalar.dtype {
                case .float64: addAt(ob, vb, targets, { (a: Double, b: Double) in a + b })
                case .float32: addAt(ob, vb, targets, { (a: Float, b: Float) in a + b })
                // Integers wrap in their own width, as kernels add.
                case .int64: addAt(ob, vb, targets, { (a: Int64, b: Int64) in a &+ b })
                case .int32: addAt(ob, vb, targets, { (a: Int32, b: Int32) in a &+ b })
                case .int16: addAt(ob, vb, targets, { (a: Int16, b: Int16) in a &+ b })
                case .int8: addAt(ob, vb, targets, { (a: Int8, b: Int8) in a &+ b })
                case .uint64: addAt(ob, vb, targets, { (a: UInt64, b: UInt64) in a &+ b })
                case .uint32: addAt(ob, vb, targets, { (a: UInt32, b: UInt32) in a &+ b })
                case .uint16: addAt(ob, vb, targets, { (a: UInt16, b: UInt16) in a &+ b })
                case .uint8: addAt(ob, vb, targets, { (a: UInt8, b: UInt8) in a &+ b })
                case .bool: preconditionFailure("add(at:) of Bool tensors")
                }
            }
        }
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// Adds `values` at `indices` along the first axis, repeated indices accumulating
    /// (`numpy.add.at(x, indices, values)`), in index order: deterministic. Computed on the host
    /// when called (a sync point for its operands).
    ///
    ///     var counts = Tensor<Int64>.zeros([3])
    ///     try counts.add(at: Tensor<Int64>([0, 2, 0]), Tensor<Int64>(1))   // 2, 0, 1
    public mutating func add<I: IntegerTensorScalar>(at indices: Tensor<I>, _ values: Tensor) throws {
        let items: [TensorIndex] = [._tensor(indices.indexNode)]
        try scatter(items, values, accumulate: true)
    }

    /// Adds `values` at the elements a whole subscript selects, repeated positions accumulating
    /// in order (`numpy.add.at(x, (i, j), values)`; slices and integers may stand beside the
    /// index tensors, `numpy.add.at(x, (slice(None), j), v)`): the subscript's selection as
    /// `x[i, j]` reads it, `values` broadcast to its shape. Deterministic; a sync point.
    ///
    ///     var grid = Tensor<Double>.zeros([3, 4])
    ///     try grid.add(at: Tensor<Int64>([0, 2, 0]), Tensor<Int64>([1, 3, 1]), values: Tensor(1.0))   // (0, 1) gets 2
    public mutating func add(at indices: any TensorIndexExpression..., values: Tensor) throws {
        try scatter(TensorIndex.items(indices), values, accumulate: true)
    }

    /// How many times each value `0..<max(x) + 1` occurs in this integer tensor, or the sum of
    /// `weights` at those places (`numpy.bincount`); at least `minLength` bins. Negative values
    /// stop the program with NumPy's message. A sync point.
    ///
    ///     let hits = try Tensor<Int64>([0, 1, 1, 3]).bincount()    // 1, 2, 0, 1
    public func bincount(minLength: Int = 0) throws -> Tensor<Int64> where Scalar: IntegerTensorScalar {
        let v = try integerValues()
        let (least, most) = Tensor.extremes(v)
        precondition(least >= 0, "bincount: 'list' argument must have no negative elements")
        var out = [Int64](repeating: 0, count: Swift.max(minLength, v.isEmpty ? 0 : Int(most) + 1))
        // Counted on raw memory (checked accesses were most of a million-element count).
        out.withUnsafeMutableBufferPointer { o in v.withUnsafeBufferPointer { x in for k in x { o[Int(k)] &+= 1 } } }
        return Tensor<Int64>(out)
    }

    /// `bincount` with weights: the sum of `weights` at each value, in Double.
    public func bincount<W: FloatingTensorScalar>(weights: Tensor<W>, minLength: Int = 0) throws -> Tensor<Double> where Scalar: IntegerTensorScalar {
        precondition(weights.shape == shape, "bincount: the weights and list don't have the same length")
        let v = try integerValues()
        let w = try weights.cast(to: Double.self).flattened().scalars
        let (least, most) = Tensor.extremes(v)
        precondition(least >= 0, "bincount: 'list' argument must have no negative elements")
        var out = [Double](repeating: 0, count: Swift.max(minLength, v.isEmpty ? 0 : Int(most) + 1))
        out.withUnsafeMutableBufferPointer { o in
            v.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { wt in for k in 0..<x.count { o[Int(x[k])] += wt[k] } } }
        }
        return Tensor<Double>(out)
    }

    /// The least and greatest of `values` in one pass (`(0, -1)` for none).
    static func extremes(_ values: [Int64]) -> (least: Int64, most: Int64) {
        guard !values.isEmpty else { return (0, -1) }
        var least = Int64.max, most = Int64.min
        values.withUnsafeBufferPointer { p in for x in p { least = Swift.min(least, x); most = Swift.max(most, x) } }
        return (least, most)
    }

    /// The elements, row-major, widened to `Int64` from the buffer's bytes: one switch on the
    /// dtype, not a generic conversion an element (called from another module, generic code
    /// runs unspecialised: a uint8 image's histogram took 0.2 s for 3 million pixels).
    func integerValues() throws -> [Int64] {
        let buffer = try Tandem.runtime.read(flattened().node, call: "integer values")
        let dtype = buffer.dtype, p = UnsafeRawPointer(buffer.pointer)
        return [Int64](unsafeUninitializedCapacity: buffer.count) { out, n in
            // This is safe: the buffer holds `count` elements of `dtype`.
            switch dtype {
            case .int64: for i in 0..<buffer.count { out[i] = p.load(fromByteOffset: i * 8, as: Int64.self) }
            case .int32: for i in 0..<buffer.count { out[i] = Int64(p.load(fromByteOffset: i * 4, as: Int32.self)) }
            case .uint8: for i in 0..<buffer.count { out[i] = Int64(p.load(fromByteOffset: i, as: UInt8.self)) }
            default: for i in 0..<buffer.count { out[i] = dtype.loadInteger(p, i) }
            }
            n = buffer.count
        }
    }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// Counts of the elements in `bins` equal-width bins over `range` (default: the elements'
    /// minimum to maximum), and the `bins + 1` edges, as `numpy.histogram`: each bin includes its
    /// left edge, the last also its right; elements outside the range (and NaN) are not counted.
    /// A sync point.
    ///
    ///     let (counts, edges) = try x.histogram(bins: 10, range: 0...1)
    public func histogram(bins: Int = 10, range: ClosedRange<Double>? = nil) throws -> (counts: Tensor<Int64>, edges: Tensor<Double>) {
        var counts = [Int64](repeating: 0, count: bins)
        let edges = try counts.withUnsafeMutableBufferPointer { c in
            try binned(bins: bins, range: range) { _, bin in c[bin] += 1 }
        }
        return (Tensor<Int64>(counts), Tensor<Double>(edges))
    }

    /// The sums of `weights` (this tensor's shape) in `bins` equal-width bins over `range`
    /// (`numpy.histogram(x, bins, range, weights=w)`): the same bins as `histogram(bins:range:)`,
    /// each element's weight added to its bin in element order, in Double. A sync point.
    ///
    ///     let r = Tensor<Double>([0.1, 0.4, 0.45, 0.9]), data = Tensor<Double>([1, 2, 3, 4])
    ///     let (sums, edges) = try r.histogram(bins: 2, range: 0...1, weights: data)   // 6, 4
    public func histogram(bins: Int = 10, range: ClosedRange<Double>? = nil, weights: Tensor) throws -> (counts: Tensor<Double>, edges: Tensor<Double>) {
        precondition(weights.shape == shape, "histogram: weights should have the same shape as a: \(Shape.describe(weights.shape)) and \(Shape.describe(shape))")
        let w = try weights.cast(to: Double.self).scalars
        var sums = [Double](repeating: 0, count: bins)
        let edges = try sums.withUnsafeMutableBufferPointer { c in
            try binned(bins: bins, range: range) { k, bin in c[bin] += w[k] }
        }
        return (Tensor<Double>(sums), Tensor<Double>(edges))
    }

    /// NumPy's equal-bin histogram rule over the elements in order: calls `add(k, bin)` for
    /// each element k inside the range (NaN and those outside left out), and returns the edges.
    private func binned(bins: Int, range: ClosedRange<Double>?, _ add: (_ element: Int, _ bin: Int) -> Void) throws -> [Double] {
        precondition(bins > 0, "histogram: `bins` must be positive, when an integer")
        // Widened by a kernel, not element by element in generic code (unspecialised across
        // modules), and read where it lies: the range in one pass, the bins in another, on raw
        // memory (two filtered copies for the range and checked array accesses took 7.6 ms a
        // million elements, NumPy's 4.4).
        let buffer = try Tandem.runtime.read(cast(to: Double.self).flattened().node, call: "histogram")
        let n = buffer.count, v = UnsafePointer(buffer.pointer.assumingMemoryBound(to: Double.self))
        var lo = 0.0, hi = 1.0
        if let range {
            (lo, hi) = (range.lowerBound, range.upperBound)
        } else {
            var least = Double.infinity, most = -Double.infinity, any = false
            for i in 0..<n where !v[i].isNaN {
                least = Swift.min(least, v[i])
                most = Swift.max(most, v[i])
                any = true
            }
            if any { (lo, hi) = (least, most) } else { (lo, hi) = (0, 1) }
        }
        precondition(lo.isFinite && hi.isFinite, "histogram: autodetected range of [\(lo), \(hi)] is not finite")
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let edges = Tensor.equalBinEdges(lo, hi, bins)
        let norm = Double(bins) / (hi - lo)
        withExtendedLifetime(buffer) {
            edges.withUnsafeBufferPointer { e in
                for k in 0..<n {
                    let x = v[k]
                    guard x >= lo && x <= hi else { continue }
                    // NumPy's rule: the computed bin, then corrected against the edges themselves.
                    var i = Swift.min(Int((x - lo) * norm), bins - 1)
                    if x < e[i] { i -= 1 } else if i + 1 < bins && x >= e[i + 1] { i += 1 }
                    add(k, i)
                }
            }
        }
        return edges
    }

    /// The `bins + 1` edges of equal bins from `lo` to `hi`, as NumPy's histograms make them
    /// (`numpy.linspace`: `k * step + lo`, the last edge `hi` itself).
    static func equalBinEdges(_ lo: Double, _ hi: Double, _ bins: Int) -> [Double] {
        let step = (hi - lo) / Double(bins)
        return (0...bins).map { $0 == bins ? hi : Double($0) * step + lo }
    }

    /// The joint histogram of the pairs (`x[k]`, `y[k]`) (`numpy.histogram2d`): `bins` equal
    /// bins along each (rows for x, columns for y) over `xRange`/`yRange`, by default each
    /// one's extent (NaN left out; an empty or single-valued extent widened by 0.5 each side,
    /// as NumPy's). Edges as NumPy's `linspace`; a pair is counted in bin i when
    /// `edges[i] <= v < edges[i + 1]`, the last edge included, and left out when outside either
    /// range (or NaN). Counts are float64, as NumPy's. A sync point.
    ///
    ///     let (h, xEdges, yEdges) = try Tensor.histogram2d(x, y, bins: (4, 4))
    public static func histogram2d(_ x: Tensor, _ y: Tensor, bins: (Int, Int) = (10, 10),
                                   xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) throws
        -> (counts: Tensor<Double>, xEdges: Tensor<Double>, yEdges: Tensor<Double>) {
        precondition(x.rank == 1 && y.rank == 1 && x.count == y.count, "histogram2d: x and y must be vectors of one length")
        precondition(bins.0 > 0 && bins.1 > 0, "histogram2d: `bins` must be positive")
        let xs = try x.cast(to: Double.self).scalars, ys = try y.cast(to: Double.self).scalars
        func edges(_ v: [Double], _ range: ClosedRange<Double>?, _ n: Int) -> [Double] {
            var (lo, hi) = range.map { ($0.lowerBound, $0.upperBound) } ?? (0, 1)
            if range == nil {
                let present = v.filter { !$0.isNaN }
                if let a = present.min(), let b = present.max() { (lo, hi) = (a, b) }
            }
            precondition(lo.isFinite && hi.isFinite, "histogram2d: range of [\(lo), \(hi)] is not finite")
            if lo == hi { lo -= 0.5; hi += 0.5 }
            return Tensor.equalBinEdges(lo, hi, n)
        }
        let ex = edges(xs, xRange, bins.0), ey = edges(ys, yRange, bins.1)
        // NumPy's histogramdd: searchsorted on the right, the last edge moved into the last bin.
        func bin(_ v: Double, _ e: [Double]) -> Int? {
            guard !v.isNaN, v >= e[0], v <= e[e.count - 1] else { return nil }
            return v == e[e.count - 1] ? e.count - 2 : insertionPoint(e, v, right: true) - 1
        }
        var counts = [Double](repeating: 0, count: bins.0 * bins.1)
        for k in 0..<xs.count {
            guard let i = bin(xs[k], ex), let j = bin(ys[k], ey) else { continue }
            counts[i * bins.1 + j] += 1
        }
        return (Tensor<Double>(counts, shape: [bins.0, bins.1]), Tensor<Double>(ex), Tensor<Double>(ey))
    }
}

extension Tensor {
    /// The elements where `mask` is true, in row-major order, as one axis (NumPy's `x[mask]`).
    /// The length depends on the data, so this is a sync point.
    ///
    ///     let positive = try x.elements(where: x .> 0.0)
    public func elements(where mask: Tensor<Bool>) throws -> Tensor {
        checkMask(mask)
        let (maskNode, valuesNode) = (mask.broadcast(to: shape).flattened().node, flattened().node)
        try Tandem.runtime.computeForReading([maskNode, valuesNode])      // one sync for both
        let maskBuffer = try Tandem.runtime.read(maskNode, call: "x[mask]")
        let values = try Tandem.runtime.read(valuesNode, call: "x[mask]")
        let m = UnsafeRawPointer(maskBuffer.pointer).assumingMemoryBound(to: UInt8.self)
        let (kept, end) = maskExtent(m, count)
        let out = Buffer(dtype: Scalar.dtype, count: kept)
        // Copied as bytes, without branches up to the last kept element: every element is
        // written at the next free place, which advances only past a kept one (see `nonzero`).
        let stride = MemoryLayout<Scalar>.stride
        let from = UnsafeRawPointer(values.pointer), to = out.pointer
        var at = 0
        switch stride {
        case 8:
            let f = from.assumingMemoryBound(to: UInt64.self), t = to.assumingMemoryBound(to: UInt64.self)
            for i in 0..<end { t[at] = f[i]; at &+= Int(m[i]) }
        case 4:
            let f = from.assumingMemoryBound(to: UInt32.self), t = to.assumingMemoryBound(to: UInt32.self)
            for i in 0..<end { t[at] = f[i]; at &+= Int(m[i]) }
        default:
            for i in 0..<end {
                (to + at * stride).copyMemory(from: from + i * stride, byteCount: stride)
                at &+= Int(m[i])
            }
        }
        return withExtendedLifetime((maskBuffer, values)) { Tensor(.storage(out), shape: [kept]) }
    }
}

extension Tensor where Scalar == Bool {
    /// The indices of the true elements, one `Int64` tensor per axis (`numpy.nonzero`), in
    /// row-major order. A sync point.
    ///
    ///     let i = try (m .> 0.5).nonzero()          // m: a matrix
    ///     let (rows, cols) = (i[0], i[1])
    public func nonzero() throws -> [Tensor<Int64>] {
        // Read as bytes (a Bool is one byte, 0 or 1), counted first, then each axis's indices
        // written into a buffer of that length, the multi-index stepped without divisions.
        // Without branches (an index written at every element, kept by advancing past it only
        // where the byte is 1) up to the last true element: a branch per element mispredicted
        // half the time on a random mask (6.6 ms a million, NumPy's 0.5).
        let buffer = try Tandem.runtime.read(flattened().node, call: "nonzero")
        let p = UnsafeRawPointer(buffer.pointer).assumingMemoryBound(to: UInt8.self)
        let (total, end) = maskExtent(p, count)
        let axes = Swift.max(rank, 1)
        let outs = (0..<axes).map { _ in Buffer(dtype: .int64, count: total) }
        if rank <= 1 {
            let o = outs[0].pointer.assumingMemoryBound(to: Int64.self)
            var k = 0
            for i in 0..<end {
                o[k] = rank == 0 ? 0 : Int64(i)
                k &+= Int(p[i])
            }
        } else {
            let o = outs.map { $0.pointer.assumingMemoryBound(to: Int64.self) }
            var index = [Int64](repeating: 0, count: rank), k = 0
            let extents = shape.map(Int64.init)
            for i in 0..<end {
                for d in 0..<rank { o[d][k] = index[d] }
                k &+= Int(p[i])
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < extents[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return withExtendedLifetime(buffer) { outs.map { Tensor<Int64>(.storage($0), shape: [total]) } }
    }

    /// How many elements are true (`numpy.count_nonzero`), lazily.
    public func countNonzero() -> Tensor<Int64> { sum() }
}

/// `out[targets[k]] += values[k]` in order (repeated targets accumulate, as `numpy.add.at`), on
/// raw memory holding elements of `T` (specialised at each call from `write(into:targets:values:accumulate:)`).
func addAt<T>(_ out: UnsafeMutableRawPointer, _ values: UnsafeRawPointer, _ targets: UnsafeBufferPointer<Int64>, _ add: (T, T) -> T) {
    let o = out.assumingMemoryBound(to: T.self), v = values.assumingMemoryBound(to: T.self)
    for (k, t) in targets.enumerated() { o[Int(t)] = add(o[Int(t)], v[k]) }
}

/// How many of the `n` mask bytes at `p` (each 0 or 1) are set, and one past the last set one
/// (0 when none is): the bound of the branch-free loops of `nonzero` and `x[mask]`.
func maskExtent(_ p: UnsafePointer<UInt8>, _ n: Int) -> (count: Int, end: Int) {
    var count = 0
    for i in 0..<n { count &+= Int(p[i]) }
    var end = n
    while end > 0 && p[end - 1] == 0 { end -= 1 }
    return (count, end)
}
