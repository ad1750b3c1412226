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
// Done as one gather from the tensor's elements in row-major order, at a flat position per
// element of the result (the other items' view map's offset and steps, plus each index array's
// element times its axis's step), computed lazily and fused with what uses the result. A
// subscript with one index array whose integers (if any) are its neighbours keeps the `take` it
// always was.

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
    /// notes above): one gather from this tensor's elements in row-major order, at a flat
    /// position for each element of the result (no copy of the rest of the tensor).
    func advancedView(_ indices: [TensorIndex]) -> Tensor {
        let positions = TensorIndex.advancedPositions(indices)
        var basic = indices
        for p in positions { basic[p] = ._all }
        // The view the other items make, as a map: element j of it is element
        // base + sum_k step[k] * j[k] of this tensor's row-major storage.
        let (map, vShape) = viewMap(basic)
        let (base, step) = map.flatten(rowMajor: shape)
        let columns = vShape.count
        let viewAxes = positions.map { axes(of: $0, in: basic).view }
        let sourceAxes = positions.map { axes(of: $0, in: basic).source }
        let rest = (0..<columns).filter { !viewAxes.contains($0) }
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
        // The flat positions, B's axes first, then the other axes of the view.
        let restShape = rest.map { vShape[$0] }
        let outShape = bShape + restShape
        var flat = Tensor<Int64>.zeros(bShape)
        var constant = Int64(base)
        for (k, p) in positions.enumerated() {
            let n = vShape[viewAxes[k]], axis = sourceAxes[k], s = Int64(step[viewAxes[k]])
            switch indices[p] {
            case .index(let i):
                let j = i < 0 ? i + n : i
                precondition(j >= 0 && j < n, "index \(i) is out of bounds for axis \(axis) with size \(n)")
                constant += Int64(j) * s
            case ._tensor(let node):
                precondition(node.dtype.isInteger, "arrays used as indices must be of integer type, not \(node.dtype)")
                precondition(n > 0 || selected == 0, "index is out of bounds for axis \(axis) with size 0")
                Tensor.checkIfComputed(node, extent: n, axis: axis)     // a pending one is clamped below
                let i = Tensor<Int64>(node: node.dtype == .int64 ? node : Node(.cast(node), dtype: .int64, shape: node.shape))
                let wrapped = select(i .< 0, i + Int64(n), i).clip(0, Int64(Swift.max(n - 1, 0)))
                flat = flat + (s == 1 ? wrapped : wrapped * s)
            default: break
            }
        }
        var positionsOut = (flat + constant).reshaped(bShape + [Int](repeating: 1, count: rest.count)).broadcast(to: outShape)
        for (q, r) in rest.enumerated() where vShape[r] > 1 && step[r] != 0 {
            var along = [Int](repeating: 1, count: outShape.count)
            along[bShape.count + q] = vShape[r]
            positionsOut = positionsOut + (Tensor<Int64>.arange(Int64(vShape[r])) * Int64(step[r])).reshaped(along)
        }
        let gathered = flattened().take(positionsOut.node, axis: 0)
        // B's axes stay where the advanced items stood when those are neighbours.
        let front = TensorIndex.neighbours(positions) ? rest.filter { $0 < viewAxes[0] }.count : 0
        guard front > 0 else { return gathered }
        let bRank = bShape.count
        let order = Array(bRank..<(bRank + front)) + Array(0..<bRank) + Array((bRank + front)..<(bRank + rest.count))
        return gathered.permuted(order)
    }
}
