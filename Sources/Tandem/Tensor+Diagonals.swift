import TandemIR

// NumPy's diagonal writes and triangle indices: `fill_diagonal`, `triu_indices`,
// `tril_indices`. The write is one strided slice write into the flattened tensor (lazy, in place
// when nothing else reads the old values, fused with what computes the values); the indices are
// known from the sizes alone and are made on the host as constants, as `arange`'s are.

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

extension Tensor where Scalar == Int64 {
    /// The row and column indices of the upper triangle of an `n` x `m` matrix, from diagonal
    /// `k` up (`numpy.triu_indices(n, k, m)`): row-major order, `m` defaulting to `n`. Constants
    /// made on the host from the sizes (no sync point); `Int64`, as NumPy's.
    ///
    ///     let (rows, columns) = Tensor.triuIndices(4, k: 1)     // the strict upper triangle
    ///     let upper = m[rows, columns]                           // its elements (a gather)
    public static func triuIndices(_ n: Int, k: Int = 0, m: Int? = nil) -> (Tensor<Int64>, Tensor<Int64>) {
        triangleIndices(n, m ?? n) { row, columns in Swift.min(columns, Swift.max(0, row + k))..<columns }
    }

    /// The row and column indices of the lower triangle of an `n` x `m` matrix, up to diagonal
    /// `k` (`numpy.tril_indices(n, k, m)`): row-major order, `m` defaulting to `n`, `Int64`.
    ///
    ///     let (rows, columns) = Tensor.trilIndices(3)           // (0,0), (1,0), (1,1), (2,0)...
    public static func trilIndices(_ n: Int, k: Int = 0, m: Int? = nil) -> (Tensor<Int64>, Tensor<Int64>) {
        triangleIndices(n, m ?? n) { row, columns in 0..<Swift.max(0, Swift.min(columns, row + k + 1)) }
    }

    /// The (row, column) pairs whose columns `kept(row, m)` gives, row by row. A negative `n` or
    /// `m` counts as 0 (NumPy returns empty indices for them, no error).
    static func triangleIndices(_ n: Int, _ m: Int, _ kept: (Int, Int) -> Range<Int>) -> (Tensor<Int64>, Tensor<Int64>) {
        var rows: [Int64] = [], columns: [Int64] = []
        for i in 0..<Swift.max(0, n) {
            let r = kept(i, Swift.max(0, m))
            guard !r.isEmpty else { continue }
            rows += repeatElement(Int64(i), count: r.count)
            columns += r.lazy.map { Int64($0) }
        }
        return (Tensor(rows, shape: [rows.count]), Tensor(columns, shape: [columns.count]))
    }
}
