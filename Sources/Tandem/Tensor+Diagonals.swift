import TandemIR

// NumPy's diagonal writes: `fill_diagonal`, one strided slice write into the flattened tensor
// (lazy, in place when nothing else reads the old values, fused with what computes the values).

extension Tensor {
    /// Writes `value` on the main diagonal, in place (`numpy.fill_diagonal(a, value, wrap)`).
    ///
    /// NumPy's rule, a strided write into the flattened tensor: for a matrix, every `m + 1`-th
    /// element (m columns); for more axes, which must all have one length, every `1 + n + n² +
    /// ...`-th. A tall matrix is filled down to row `m - 1` only, unless `wrap` is true: then the
    /// stride carries on past the last column, which skips a row each time (NumPy's wrapped
    /// diagonal: in a 5 x 3 matrix (4, 0) follows (2, 2)). Lazy: a slice write, fused with what
    /// follows.
    ///
    ///     var a = Tensor<Double>.zeros([5, 3])
    ///     a.fillDiagonal(7)                          // (0,0), (1,1), (2,2)
    ///     a.fillDiagonal(1, wrap: true)              // and (4,0)
    public mutating func fillDiagonal(_ value: Scalar, wrap: Bool = false) {
        let (step, limit) = diagonalSteps(wrap: wrap)
        guard limit > 0 else { return }
        var flat = reshaped([-1])
        flat[indices: [.slice(start: 0, end: limit, step: step)]] = Tensor(value)
        self = flat.reshaped(shape)
    }

    /// Writes `values` along the main diagonal, in place: its elements in row-major order,
    /// repeated from the start when there are fewer than diagonal positions and cut when there
    /// are more (`numpy.fill_diagonal(a, values, wrap)` with an array: NumPy's `a.flat[...] =
    /// values`); an empty `values` writes nothing. Positions as `fillDiagonal(_:wrap:)` with a
    /// scalar. Lazy.
    ///
    ///     var a = Tensor<Double>.zeros([4, 4])
    ///     a.fillDiagonal(Tensor<Double>([1, 2]))     // 1, 2, 1, 2 down the diagonal
    public mutating func fillDiagonal(_ values: Tensor, wrap: Bool = false) {
        let (step, limit) = diagonalSteps(wrap: wrap)
        guard limit > 0, values.count > 0 else { return }
        let positions = (limit + step - 1) / step
        let source = values.reshaped([-1])
        let repeats = (positions + source.count - 1) / source.count
        let cycled = repeats > 1 ? source.tiled([repeats]) : source
        var flat = reshaped([-1])
        flat[indices: [.slice(start: 0, end: limit, step: step)]] = cycled[0..<positions]
        self = flat.reshaped(shape)
    }

    /// The stride between diagonal elements of the flattened tensor and the end of the flat range
    /// `fill_diagonal` writes (NumPy's `a.flat[:end:step]`), or NumPy's message.
    func diagonalSteps(wrap: Bool) -> (step: Int, limit: Int) {
        precondition(rank >= 2, "fill_diagonal: array must be at least 2-d")
        if rank == 2 {
            let step = shape[1] + 1
            return (step, wrap ? count : Swift.min(count, shape[1] * shape[1]))
        }
        precondition(shape.allSatisfy { $0 == shape[0] }, "fill_diagonal: All dimensions of input must be of equal length")
        var step = 1, power = 1
        for d in shape.dropLast() {
            power *= d
            step += power
        }
        return (step, count)
    }
}
