import TandemIR
import TandemRuntime

// NumPy's indexing with several integer index arrays, `x[i, j]` (a diagonal with `i == j`,
// scattered points of an image, `D[idx, idx] = 1`), and with one index array that integers
// separate from its neighbours (`x[0, :, idx]`).
//
// NumPy's rules: the index arrays, with any integer of the same subscript taken as a 0-d index
// array, are broadcast together to one shape B; element `b` of the selection reads, along each
// of their axes, that array's element `b`. The result has B's axes where the advanced items
// stood when they are neighbours in the subscript, else first, and the axes the other items
// keep (slices, `.all`, `.newAxis`, `...`) in their order.
//
// Done as one gather: the view the other items make, its advanced axes moved first and merged
// into one, read at a flat position per element of B (`i * extent_j + j`), computed lazily and
// fused with what uses the result. A subscript with one index array whose integers (if any)
// are its neighbours keeps the `take` it always was.

extension TensorIndex {
    /// Whether `indices` holds an integer tensor.
    static func hasTensor(_ indices: [TensorIndex]) -> Bool {
        indices.contains { if case ._tensor = $0 { return true } else { return false } }
    }

    /// Positions of a subscript's advanced items (integer tensors and integers), when it holds
    /// an integer tensor.
    static func advancedPositions(_ indices: [TensorIndex]) -> [Int] {
        indices.indices.filter {
            switch indices[$0] {
            case ._tensor, .index: return true
            default: return false
            }
        }
    }

    /// Whether positions (sorted) are one run of neighbours.
    static func neighbours(_ positions: [Int]) -> Bool {
        guard let first = positions.first, let last = positions.last else { return true }
        return last - first == positions.count - 1
    }

    /// The one integer tensor of `indices` and its position when it is the subscript's only
    /// index array and its integers (if any) are its neighbours: then `take` along its axis of
    /// the view of the rest gives NumPy's result. Nil otherwise (`Tensor.advancedView`).
    static func takeItem(_ indices: [TensorIndex]) -> (Int, Node)? {
        var found: (Int, Node)? = nil
        for (i, item) in indices.enumerated() {
            guard case ._tensor(let n) = item else { continue }
            if found != nil { return nil }
            found = (i, n)
        }
        guard found != nil, neighbours(advancedPositions(indices)) else { return nil }
        return found
    }
}

extension Tensor {
    /// `self[indices]` for a subscript with integer tensors that `take` alone cannot do (see the
    /// notes above): one gather from the view of the other items.
    func advancedView(_ indices: [TensorIndex]) -> Tensor {
        let (block, flat, rest, front) = advancedBlock(indices)
        let gathered = block.take(flat.node, axis: 0)
        // B's axes stay where the advanced items stood when those are neighbours.
        guard front > 0 else { return gathered }
        let bRank = flat.rank, restRank = rest.count
        let order = Array(bRank..<(bRank + front)) + Array(0..<bRank) + Array((bRank + front)..<(bRank + restRank))
        return gathered.permuted(order)
    }

    /// The pieces of an advanced subscript: this tensor's view by the other items with the
    /// advanced axes first and merged into one (`block`), the flat position along that axis of
    /// each selected element (`flat`, in B's shape), the extents of the other axes, and how
    /// many of them come before B's axes in the result (0 when B goes first).
    func advancedBlock(_ indices: [TensorIndex]) -> (block: Tensor, flat: Tensor<Int64>, rest: [Int], front: Int) {
        let positions = TensorIndex.advancedPositions(indices)
        var basic = indices
        for p in positions { basic[p] = ._all }
        let v = view(basic)
        let viewAxes = positions.map { axes(of: $0, in: basic).view }
        let sourceAxes = positions.map { axes(of: $0, in: basic).source }
        let extents = viewAxes.map { v.shape[$0] }
        // The index arrays broadcast together (NumPy's message when they do not).
        var bShape: [Int] = []
        for p in positions {
            guard case ._tensor(let n) = indices[p] else { continue }
            guard let s = Shape.broadcast(bShape, n.shape) else {
                let shapes = positions.compactMap { p -> String? in
                    if case ._tensor(let n) = indices[p] { return Shape.describe(n.shape) } else { return nil }
                }
                preconditionFailure("shape mismatch: indexing arrays could not be broadcast together with shapes \(shapes.joined(separator: " "))")
            }
            bShape = s
        }
        let selected = Shape.count(bShape)
        var flat = Tensor<Int64>.zeros(bShape)
        var constant: Int64 = 0, stride = 1
        for (k, p) in positions.enumerated().reversed() {
            let n = extents[k], axis = sourceAxes[k]
            switch indices[p] {
            case .index(let i):
                let j = i < 0 ? i + n : i
                precondition(j >= 0 && j < n, "index \(i) is out of bounds for axis \(axis) with size \(n)")
                constant += Int64(j * stride)
            case ._tensor(let node):
                precondition(node.dtype.isInteger, "arrays used as indices must be of integer type, not \(node.dtype)")
                precondition(n > 0 || selected == 0, "index is out of bounds for axis \(axis) with size 0")
                if let buffer = node.storage {
                    // Already computed: checked as NumPy does; a pending one is clamped below.
                    try? Tandem.runtime.wait(for: [buffer])
                    if let i = Tensor.firstOutOfBounds(buffer, extent: n) { preconditionFailure("index \(i) is out of bounds for axis \(axis) with size \(n)") }
                }
                let i = Tensor<Int64>(node: node.dtype == .int64 ? node : Node(.cast(node), dtype: .int64, shape: node.shape))
                let wrapped = select(i .< 0, i + Int64(n), i).clip(0, Int64(Swift.max(n - 1, 0)))
                flat = flat + (stride == 1 ? wrapped : wrapped * Int64(stride))
            default: break
            }
            stride *= n
        }
        if constant != 0 { flat = flat + constant }
        let rest = (0..<v.rank).filter { !viewAxes.contains($0) }
        let block = v.permuted(viewAxes + rest).reshaped([stride] + rest.map { v.shape[$0] })
        let front = TensorIndex.neighbours(positions) ? rest.filter { $0 < viewAxes[0] }.count : 0
        return (block, flat, rest.map { v.shape[$0] }, front)
    }
}
