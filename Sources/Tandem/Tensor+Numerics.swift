import TandemIR

// NumPy's numerical helpers that ports reach for beside the operators: identity matrices,
// norms, closeness tests, finite differences, the trapezoid rule and cross products. Each is
// written with the lazy operations (views, broadcasts, reductions), so it fuses with what
// surrounds it and runs on every device; only `allclose` reads (a sync point).

extension Tensor where Scalar: NumericTensorScalar {
    /// An `n` x `m` matrix with ones on diagonal `k` (0 the main one, above it positive) and
    /// zeros elsewhere, like `numpy.eye`; `m` defaults to `n`. Generated where it is used (no
    /// memory until a kernel stores it).
    ///
    ///     let i3 = Tensor<Double>.eye(3)
    ///     let superdiagonal = Tensor<Float>.eye(4, k: 1)
    public static func eye(_ n: Int, _ m: Int? = nil, k: Int = 0) -> Tensor {
        Tensor(diagonalOfElements(n, m ?? n, "eye") .== Int64(k))
    }

    /// For each element of an `n` x `m` matrix, the diagonal it lies on (column - row: 0 the
    /// main one), generated where it is used; the shape of `eye` and `tri`.
    static func diagonalOfElements(_ n: Int, _ m: Int, _ name: String) -> Tensor<Int64> {
        precondition(n >= 0 && m >= 0, "\(name): negative dimensions are not allowed")
        return Tensor<Int64>.arange(0, Int64(m))[.newAxis, .all] - Tensor<Int64>.arange(0, Int64(n))[.all, .newAxis]
    }

    /// An `n` x `m` matrix of ones at and below diagonal `k` and zeros above it (`numpy.tri`);
    /// `m` defaults to `n`. Generated where it is used, as `eye`.
    ///
    ///     let lowerOnes = Tensor<Double>.tri(4)
    public static func tri(_ n: Int, _ m: Int? = nil, k: Int = 0) -> Tensor {
        Tensor(diagonalOfElements(n, m ?? n, "tri") .<= Int64(k))
    }

    /// The Vandermonde matrix of a vector (`numpy.vander`): column j is `x` to the power
    /// `columns - 1 - j` (`increasing`: to the power j), by repeated products as NumPy's, so
    /// integer powers are exact. `columns` defaults to the length of `x`.
    ///
    ///     let design = Tensor.vander(x, columns: 3, increasing: true)   // 1, x, x²
    public static func vander(_ x: Tensor, columns: Int? = nil, increasing: Bool = false) -> Tensor {
        precondition(x.rank == 1, "vander: x must be a one-dimensional array or sequence.")
        let n = columns ?? x.shape[0]
        precondition(n >= 0, "vander: negative dimensions are not allowed")
        if n == 0 { return Tensor.zeros([x.shape[0], 0]) }
        var powers: [Tensor] = []
        var p = Tensor.ones([x.shape[0]])
        for j in 0..<n {
            if j > 0 { p = p * x }
            powers.append(p)
        }
        return Tensor.stack(increasing ? powers : powers.reversed(), axis: 1)
    }

    /// The number of non-zero elements over `axes` (all when nil), like `numpy.count_nonzero`,
    /// as `Int64`.
    ///
    ///     let active = x.countNonzero()
    public func countNonzero(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor<Int64> {
        Tensor<Int64>(self .!= Scalar.zero).sum(axes: axes, keepDims: keepDims)
    }

    /// The flat (row-major) indices of the non-zero elements (`numpy.flatnonzero`), `Int64`.
    /// A sync point.
    ///
    ///     let at = try x.flatNonzero()
    public func flatNonzero() throws -> Tensor<Int64> { try (flattened() .!= Scalar.zero).nonzero()[0] }

    /// Whether `other` has this tensor's shape and equal elements (`numpy.array_equal`; NaN is
    /// not equal to NaN unless `equalNaN`). A sync point.
    ///
    ///     let unchanged = try a.arrayEqual(b)
    public func arrayEqual(_ other: Tensor, equalNaN: Bool = false) throws -> Bool {
        guard shape == other.shape else { return false }
        if count == 0 { return true }
        var same = self .== other
        if equalNaN && Scalar.dtype.isFloatingPoint { same = same .| ((self .!= self) .& (other .!= other)) }
        return try same.all().item()
    }

    /// The `n` x `n` identity matrix (`numpy.identity`).
    ///
    ///     let i = Tensor<Double>.identity(4)
    public static func identity(_ n: Int) -> Tensor { eye(n) }

    /// The cross product of 3-element vectors along `axis` (default the last), broadcasting the
    /// others, like `numpy.cross`; of 2-element vectors, the z component alone (that axis
    /// dropped), as NumPy gives it.
    ///
    ///     let z = Tensor<Double>([1, 0, 0]).cross(Tensor<Double>([0, 1, 0]))   // 0, 0, 1
    public func cross(_ other: Tensor, axis: Int = -1) -> Tensor {
        let a = Tensor.axis(axis, rank: rank, "cross"), b = Tensor.axis(axis, rank: other.rank, "cross")
        let n = shape[a], m = other.shape[b]
        precondition((n == 2 || n == 3) && n == m,
                     "cross: incompatible dimensions for cross product (dimension must be 2 or 3, got \(n) and \(m))")
        func part(_ t: Tensor, _ ax: Int, _ i: Int) -> Tensor { t.slice(axis: ax, i, i + 1).squeezed(axes: [ax]) }
        let (x0, x1) = (part(self, a, 0), part(self, a, 1)), (y0, y1) = (part(other, b, 0), part(other, b, 1))
        let z = x0 * y1 - x1 * y0
        if n == 2 { return z }
        let (x2, y2) = (part(self, a, 2), part(other, b, 2))
        let parts = [x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, z]
        // The components go back along the axis at its place (counted from the end, as the
        // broadcast result may have more axes than either operand).
        let outRank = parts[0].rank + 1
        let at = outRank - (rank - a)
        return Tensor.stack(parts, axis: Swift.max(0, at))
    }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// A vector or matrix norm, like `numpy.linalg.norm`.
    ///
    /// - With `axis` set: the vector norm along that axis. `ord` nil or 2: the Euclidean norm;
    ///   1: the sum of magnitudes; `.infinity` / `-.infinity`: the largest / smallest
    ///   magnitude; 0: the count of non-zero elements; any other p: (Σ|x|^p)^(1/p).
    /// - With `axis` nil: `ord` nil, the Euclidean norm of all elements flattened (for a matrix
    ///   the Frobenius norm, NumPy's default); a vector takes any `ord` as above; a matrix takes
    ///   1 / -1 (largest / smallest column sum of magnitudes) and `.infinity` / `-.infinity`
    ///   (row sums). The spectral and nuclear norms (`ord` 2, -2) need singular values, a sync
    ///   point this lazy function does not take: asking for them stops with a message (take
    ///   the largest or smallest of `singularValues()`).
    ///
    ///     let length = v.norm()
    ///     let rowLengths = m.norm(axis: 1)
    ///     let largest = v.norm(ord: .infinity)
    public func norm(ord: Double? = nil, axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        if let axis {
            let a = Tensor.axis(axis, rank: rank, "norm")
            return vectorNorm(ord ?? 2, axes: [a], keepDims: keepDims)
        }
        let all = Array(0..<rank)
        guard let ord else { return vectorNorm(2, axes: all, keepDims: keepDims) }
        if rank == 1 { return vectorNorm(ord, axes: all, keepDims: keepDims) }
        precondition(rank == 2, "norm: Improper number of dimensions to norm (an ord on \(rank) axes; name an axis)")
        // Column sums (ord ±1) or row sums (ord ±infinity) of magnitudes, then their extreme.
        let sums: Tensor
        switch ord {
        case 1, -1: sums = abs().sum(axis: 0, keepDims: true)
        case .infinity, -.infinity: sums = abs().sum(axis: 1, keepDims: true)
        default:
            preconditionFailure("norm: the matrix norm of ord \(ord) is not provided (ord 2 and -2 need singular values); use 1, -1, .infinity, -.infinity, or nil for Frobenius; the largest or smallest of singularValues() for 2 or -2")
        }
        let extreme = ord > 0 ? sums.max(axes: all, keepDims: true) : sums.min(axes: all, keepDims: true)
        return keepDims ? extreme : extreme.reshaped([])
    }

    func vectorNorm(_ ord: Double, axes: [Int], keepDims: Bool) -> Tensor {
        switch ord {
        case .infinity: return abs().max(axes: axes, keepDims: keepDims)
        case -.infinity: return abs().min(axes: axes, keepDims: keepDims)
        case 0: return Tensor(self .!= Scalar(0)).sum(axes: axes, keepDims: keepDims)
        case 1: return abs().sum(axes: axes, keepDims: keepDims)
        case 2: return (self * self).sum(axes: axes, keepDims: keepDims).sqrt()
        default: return abs().pow(Scalar(ord)).sum(axes: axes, keepDims: keepDims).pow(Scalar(1 / ord))
        }
    }

    /// Where this tensor and `other` are equal within a tolerance, elementwise with
    /// broadcasting, like `numpy.isclose`: `|a - b| <= atol + rtol * |b|` (not symmetric, as in
    /// NumPy); infinities are close to themselves only; NaN is close to nothing, or to NaN when
    /// `equalNaN`.
    ///
    ///     let same = x.isClose(to: y, rtol: 1e-9)
    public func isClose(to other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Tensor<Bool> {
        let near = (self - other).abs() .<= Scalar(atol) + Scalar(rtol) * other.abs()
        var close = (isFinite() .& other.isFinite() .& near) .| (self .== other)
        if equalNaN { close = close .| (isNaN() .& other.isNaN()) }
        return close
    }

    /// Whether every element is close to `other`'s (`isClose(to:)`, then `all`), like
    /// `numpy.allclose`. A sync point.
    ///
    ///     let converged = try x.allClose(to: y, atol: 1e-10)
    public func allClose(to other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) throws -> Bool {
        try isClose(to: other, rtol: rtol, atol: atol, equalNaN: equalNaN).all().item()
    }

    /// The derivative along `axis` by finite differences, like `numpy.gradient` with uniform
    /// `spacing` and first-order edges: central differences `(f[i+1] - f[i-1]) / 2h` inside,
    /// one-sided ones at the two ends. The axis needs at least two elements.
    ///
    ///     let slope = x.gradient(spacing: 0.1)
    public func gradient(spacing: Double = 1, axis: Int = -1) -> Tensor {
        let a = Tensor.axis(axis, rank: rank, "gradient")
        let n = shape[a]
        precondition(n >= 2, "gradient: Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) elements are required")
        let h = Scalar(spacing)
        let first = (slice(axis: a, 1, 2) - slice(axis: a, 0, 1)) / h
        let last = (slice(axis: a, n - 1, n) - slice(axis: a, n - 2, n - 1)) / h
        guard n > 2 else { return Tensor.concatenate([first, last], axis: a) }
        let inside = (slice(axis: a, 2, n) - slice(axis: a, 0, n - 2)) / (2 * h)
        return Tensor.concatenate([first, inside, last], axis: a)
    }

    /// The integral along `axis` by the trapezoid rule with uniform spacing `dx`, like
    /// `numpy.trapezoid` (`trapz`): Σ dx (y[i] + y[i+1]) / 2.
    ///
    ///     let area = y.trapezoid(dx: 0.01)
    public func trapezoid(dx: Double = 1, axis: Int = -1) -> Tensor {
        let a = Tensor.axis(axis, rank: rank, "trapezoid")
        let n = shape[a]
        guard n >= 2 else { return slice(axis: a, 0, 0).sum(axis: a) }       // no interval: 0
        return (Scalar(dx) * (slice(axis: a, 1, n) + slice(axis: a, 0, n - 1)) / 2).sum(axis: a)
    }

    /// The integral along `axis` by the trapezoid rule at sample points `x` (one per element
    /// along the axis), like `numpy.trapezoid(y, x)`: Σ (x[i+1] - x[i]) (y[i] + y[i+1]) / 2.
    ///
    ///     let area = y.trapezoid(x: Tensor<Double>.linspace(0, 1, count: 8))
    public func trapezoid(x: Tensor, axis: Int = -1) -> Tensor {
        let a = Tensor.axis(axis, rank: rank, "trapezoid")
        precondition(x.rank == 1 && x.shape[0] == shape[a],
                     "trapezoid: x has shape \(Shape.describe(x.shape)); it needs one point per element along axis \(a) (\(shape[a]))")
        let n = shape[a]
        guard n >= 2 else { return slice(axis: a, 0, 0).sum(axis: a) }
        // The spacings along the axis, with axes of extent 1 after it for broadcasting.
        var d = x.diff()
        for _ in 0..<(rank - 1 - a) { d = d.expandingDims(at: d.rank) }
        return (d * (slice(axis: a, 1, n) + slice(axis: a, 0, n - 1)) / 2).sum(axis: a)
    }
}

/// Elementwise closeness of `a` and `b` (`numpy.isclose`; see `Tensor.isClose(to:)`).
///
///     let ok = isclose(x, y, atol: 1e-12)
public func isclose<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, rtol: Double = 1e-5, atol: Double = 1e-8,
                                             equalNaN: Bool = false) -> Tensor<Bool> {
    a.isClose(to: b, rtol: rtol, atol: atol, equalNaN: equalNaN)
}

/// Whether all of `a` is close to `b` (`numpy.allclose`; see `Tensor.allClose(to:)`). A sync point.
///
///     let same = try allclose(x, y)
public func allclose<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, rtol: Double = 1e-5, atol: Double = 1e-8,
                                              equalNaN: Bool = false) throws -> Bool {
    try a.allClose(to: b, rtol: rtol, atol: atol, equalNaN: equalNaN)
}
