import TandemIR

// Flat indices and multi-indices (`numpy.unravel_index`, `numpy.ravel_multi_index`), in
// row-major (C) order, as integer expressions: lazy, fused with what uses them.

/// The multi-index of each flat index into an array of `shape`, one `Int64` tensor per axis
/// (`numpy.unravel_index`, C order): `argmax` of a flattened matrix back to its row and column.
/// Indices must lie in `0..<shape.product` (NumPy raises otherwise; here they are not checked).
///
///     let rc = unravelIndex(m.argmax(), shape: [5, 5])     // [row, column]
public func unravelIndex<S: IndexTensorScalar>(_ indices: Tensor<S>, shape: [Int]) -> [Tensor<Int64>] {
    precondition(shape.allSatisfy { $0 > 0 }, "unravel_index: dimensions must be positive (got \(shape))")
    var rest = indices.cast(to: Int64.self)
    var out: [Tensor<Int64>] = []
    for extent in shape.reversed() {
        out.append(rest % Int64(extent))
        rest = rest / Int64(extent)
    }
    return out.reversed()
}

/// The flat index of each multi-index (one integer tensor per axis, broadcast together) into
/// an array of `shape` (`numpy.ravel_multi_index`, C order), as `Int64`. Indices must lie
/// within their axes (NumPy's default `mode="raise"`; here they are not checked).
///
///     let flat = ravelMultiIndex([Tensor<Int64>([0, 1]), Tensor<Int64>([3, 2])], shape: [5, 5])
public func ravelMultiIndex<S: IndexTensorScalar>(_ indices: [Tensor<S>], shape: [Int]) -> Tensor<Int64> {
    precondition(indices.count == shape.count, "ravel_multi_index: parameter multi_index must be a sequence of length \(shape.count)")
    precondition(!indices.isEmpty, "ravel_multi_index: need at least one axis")
    var flat = indices[0].cast(to: Int64.self)
    for (k, index) in indices.enumerated().dropFirst() { flat = flat * Int64(shape[k]) + index.cast(to: Int64.self) }
    return flat
}
