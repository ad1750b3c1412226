import TandemBLAS
import TandemIR

// Matrix decompositions on the host, like numpy.linalg's (sync points for their operands):
// `cholesky`, `qr`, `eigh`/`eigvalsh`, `svd`/`singularValues`, and what the SVD gives,
// `pseudoInverse` (`pinv`) and `matrixRank`. Each works on the last two axes of a stack of
// matrices, as NumPy's do. LAPACK's routines when the system has them (the ones NumPy calls:
// `tandem devices` names what was found), else Tandem's own (`LAPACK`). Computed in double;
// float32 results are rounded back (NumPy computes them in single precision, so the last bits
// differ). Signs of eigenvectors and singular vectors are whatever the routine produced, as in
// NumPy: compare them up to sign.
//
// Trade-off: row-major matrices are handed to LAPACK as they lie, which LAPACK reads as the
// transpose; `cholesky`, `eigh` and `svd` are written in terms of that transpose (no copy), `qr`
// copies each matrix into column order first (the QR of the transpose is another thing).

extension Tensor where Scalar: FloatingTensorScalar {
    /// The batch shape and the two matrix sides of a stack of matrices, or NumPy's message.
    private func matrixSides(_ name: String) -> (batch: [Int], m: Int, n: Int) {
        precondition(rank >= 2, "\(name): \(rank)-dimensional array given. Array must be at least two-dimensional")
        return (Array(shape.dropLast(2)), shape[rank - 2], shape[rank - 1])
    }

    /// `matrixSides`, and every element in Double, row-major.
    private func matrixStack(_ name: String) throws -> (batch: [Int], m: Int, n: Int, values: [Double]) {
        let (batch, m, n) = matrixSides(name)
        return (batch, m, n, try cast(to: Double.self).scalars)
    }

    /// The Cholesky factor of each symmetric positive-definite matrix (`numpy.linalg.cholesky`):
    /// the lower-triangular L with `self == L @ L.T` (or, `upper`, U with `self == U.T @ U`).
    /// Only the lower triangle is read (the upper one with `upper`). Throws
    /// `LinearAlgebraError` ("Matrix is not positive definite") when a pivot is not above zero;
    /// NaN in the matrix gives NaN in the factor, as NumPy's. A sync point.
    ///
    ///     let l = try m.cholesky()
    public func cholesky(upper: Bool = false) throws -> Tensor {
        let (batch, n) = squareStack("cholesky")
        var values = try cast(to: Double.self).scalars
        let count = n == 0 ? 0 : values.count / (n * n)
        for b in 0..<count {
            // Row-major A is the column-major Aᵀ, whose upper triangle is A's lower: factored as
            // Uᵀ U, its U read row-major is A's L. For `upper`, A itself (column order) is given.
            // One matrix is factored where it lies (its copies cost as much as LAPACK at 400²).
            var a = count == 1 && !upper ? values : [Double](repeating: 0, count: n * n)
            if count > 1 || upper { for i in 0..<n { for j in 0..<n { a[upper ? i + j * n : i * n + j] = values[b * n * n + i * n + j] } } }
            if count == 1 && !upper { values = [] }         // `a` the only owner: no copy on write
            guard LAPACK.shared.cholesky(&a, n: n) else { throw LinearAlgebraError(message: "Matrix is not positive definite") }
            // Zeros above L's diagonal (below U's), the factor in place.
            for i in 0..<n { for j in (i + 1)..<n { a[i * n + j] = 0 } }
            if count == 1 && !upper { values = a; break }
            for i in 0..<n { for j in 0..<n { values[b * n * n + (upper ? j * n + i : i * n + j)] = a[i * n + j] } }
        }
        return Tensor<Double>(values, shape: batch + [n, n]).cast(to: Scalar.self)
    }

    /// The QR decomposition of each m x n matrix (`numpy.linalg.qr`): Q with orthonormal
    /// columns and upper-triangular (trapezoidal) R with `self == Q @ R`. Reduced (NumPy's
    /// default): Q is m x k and R k x n, k = min(m, n); `complete`: Q is m x m, R m x n.
    /// R's diagonal has LAPACK's signs (Householder reflectors, as NumPy's). A sync point.
    ///
    ///     let (q, r) = try a.qr()
    public func qr(complete: Bool = false) throws -> (q: Tensor, r: Tensor) {
        let (batch, m, n, values) = try matrixStack("qr")
        let columns = complete ? m : Swift.min(m, n), count = batch.reduce(1, *)
        var qs = [Double](repeating: 0, count: count * m * columns), rs = [Double](repeating: 0, count: count * columns * n)
        for b in 0..<count where m * n > 0 || columns > 0 {
            var a = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { a[i + j * m] = values[b * m * n + i * n + j] } }
            let (q, r) = LAPACK.shared.qr(a, m: m, n: n, complete: complete)
            for i in 0..<m { for j in 0..<columns { qs[b * m * columns + i * columns + j] = q[i + j * m] } }
            for i in 0..<columns { for j in 0..<n { rs[b * columns * n + i * n + j] = r[i + j * columns] } }
        }
        return (Tensor<Double>(qs, shape: batch + [m, columns]).cast(to: Scalar.self),
                Tensor<Double>(rs, shape: batch + [columns, n]).cast(to: Scalar.self))
    }

    /// The eigenvalues (ascending) and eigenvectors of each symmetric matrix
    /// (`numpy.linalg.eigh`): `vectors[..., :, j]` is the unit eigenvector of `values[..., j]`.
    /// Only the lower triangle is read (NumPy's `UPLO="L"`), or the upper one with `upper`.
    /// Throws `LinearAlgebraError` ("Eigenvalues did not converge") if the iteration fails.
    /// A sync point.
    ///
    ///     let (values, vectors) = try m.eigh()
    public func eigh(upper: Bool = false) throws -> (values: Tensor, vectors: Tensor) {
        let (v, w) = try symmetricEigen(upper: upper, vectors: true)
        return (v, w!)
    }

    /// The eigenvalues of each symmetric matrix, ascending (`numpy.linalg.eigvalsh`): as
    /// `eigh`, without the vectors. A sync point.
    ///
    ///     let spectrum = try m.eigvalsh()
    public func eigvalsh(upper: Bool = false) throws -> Tensor {
        try symmetricEigen(upper: upper, vectors: false).values
    }

    private func symmetricEigen(upper: Bool, vectors: Bool) throws -> (values: Tensor, vectors: Tensor?) {
        let (batch, n) = squareStack(vectors ? "eigh" : "eigvalsh")
        let values = try cast(to: Double.self).scalars, count = batch.reduce(1, *)
        var ws = [Double](repeating: 0, count: count * n), vs = [Double](repeating: 0, count: vectors ? count * n * n : 0)
        for b in 0..<count where n > 0 {
            // Row-major A is the column-major Aᵀ = A: its upper triangle is A's lower.
            let a = Array(values[(b * n * n)..<((b + 1) * n * n)])
            guard let (w, v) = LAPACK.shared.symmetricEigen(a, n: n, upper: !upper, vectors: vectors) else {
                throw LinearAlgebraError(message: "Eigenvalues did not converge")
            }
            for j in 0..<n { ws[b * n + j] = w[j] }
            if vectors { for i in 0..<n { for j in 0..<n { vs[b * n * n + i * n + j] = v[i + j * n] } } }
        }
        return (Tensor<Double>(ws, shape: batch + [n]).cast(to: Scalar.self),
                vectors ? Tensor<Double>(vs, shape: batch + [n, n]).cast(to: Scalar.self) : nil)
    }

    /// The singular value decomposition of each m x n matrix (`numpy.linalg.svd`):
    /// `self == u @ diag(s) @ vt`, the singular values `s` largest first. With `fullMatrices`
    /// (NumPy's default) `u` is m x m and `vt` n x n; without, m x k and k x n, k = min(m, n).
    /// Throws `LinearAlgebraError` ("SVD did not converge") if the iteration fails or the matrix
    /// holds NaN or infinity. A sync point.
    ///
    ///     let (u, s, vt) = try a.svd(fullMatrices: false)
    public func svd(fullMatrices: Bool = true) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        let r = try singularDecomposition(fullMatrices ? .full : .reduced)
        return (r.u, r.s, r.vt)
    }

    /// The singular values of each matrix, largest first (`numpy.linalg.svd(a,
    /// compute_uv=False)`, `numpy.linalg.svdvals`). A sync point.
    ///
    ///     let sigma = try a.singularValues()
    public func singularValues() throws -> Tensor { try singularDecomposition(.none).s }

    private func singularDecomposition(_ vectors: LAPACK.SingularVectors) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        let (batch, m, n, values) = try matrixStack("svd")
        let k = Swift.min(m, n), count = batch.reduce(1, *)
        let uc = vectors == .full ? m : k, vr = vectors == .full ? n : k
        var us = [Double](), ss = [Double](repeating: 0, count: count * k), vts = [Double]()
        if vectors != .none {
            us = [Double](repeating: 0, count: count * m * uc)
            vts = [Double](repeating: 0, count: count * vr * n)
        }
        for b in 0..<count {
            // Row-major A is the column-major Aᵀ (n x m) = V Σ Uᵀ: LAPACK's left vectors of it,
            // read row-major, are A's Vᵀ, and its Vᵀ, read row-major, is A's U. No copy.
            let a = Array(values[(b * m * n)..<((b + 1) * m * n)])
            guard let (u, s, vt) = LAPACK.shared.svd(a, m: n, n: m, vectors: vectors) else {
                throw LinearAlgebraError(message: "SVD did not converge")
            }
            for j in 0..<k { ss[b * k + j] = s[j] }
            if vectors != .none {
                for i in 0..<(m * uc) { us[b * m * uc + i] = vt[i] }
                for i in 0..<(vr * n) { vts[b * vr * n + i] = u[i] }
            }
        }
        let none = Tensor<Double>([], shape: [0]).cast(to: Scalar.self)
        return (vectors == .none ? none : Tensor<Double>(us, shape: batch + [m, uc]).cast(to: Scalar.self),
                Tensor<Double>(ss, shape: batch + [k]).cast(to: Scalar.self),
                vectors == .none ? none : Tensor<Double>(vts, shape: batch + [vr, n]).cast(to: Scalar.self))
    }

    /// The Moore–Penrose pseudo-inverse of each matrix (`numpy.linalg.pinv`), n x m for an
    /// m x n matrix: from the SVD, singular values at most `rcond` times the largest taken as
    /// zero (NumPy's default 1e-15). A sync point.
    ///
    ///     let aPlus = try a.pseudoInverse()
    public func pseudoInverse(rcond: Double = 1e-15) throws -> Tensor {
        let (batch, m, n) = matrixSides("pinv")
        if m == 0 || n == 0 { return Tensor.zeros(batch + [n, m]) }
        let (u, s, vt) = try singularDecomposition(.reduced)
        let sv = try s.cast(to: Double.self).scalars, k = Swift.min(m, n)
        var scale = [Double](repeating: 0, count: sv.count)
        for b in 0..<(sv.count / k) {
            let largest = sv[(b * k)..<((b + 1) * k)].max() ?? 0
            for j in 0..<k where sv[b * k + j] > rcond * largest { scale[b * k + j] = 1 / sv[b * k + j] }
        }
        // A⁺ = V diag(1/σ) Uᵀ.
        let inverted = Tensor<Double>(scale, shape: batch + [k]).cast(to: Scalar.self)
        return (vt.swappingAxes(rank - 2, rank - 1) * inverted.expandingDims(at: rank - 2)).matmul(u.swappingAxes(rank - 2, rank - 1))
    }

    /// The rank of each matrix (`numpy.linalg.matrix_rank`): how many singular values are above
    /// `tolerance`, by default the largest times max(m, n) times the element type's epsilon
    /// (NumPy's). The batch shape, as `Int64`. A sync point.
    ///
    ///     let r = try a.matrixRank().item()
    public func matrixRank(tolerance: Double? = nil) throws -> Tensor<Int64> {
        let (batch, m, n) = matrixSides("matrix_rank")
        let k = Swift.min(m, n)
        let sv = try singularValues().cast(to: Double.self).scalars
        var ranks = [Int64](repeating: 0, count: batch.reduce(1, *))
        for b in ranks.indices where k > 0 {
            let row = sv[(b * k)..<((b + 1) * k)]
            let tol = tolerance ?? (row.max() ?? 0) * Double(Swift.max(m, n)) * Double(Scalar.ulpOfOne)
            ranks[b] = Int64(row.filter { $0 > tol }.count)
        }
        return Tensor<Int64>(ranks, shape: batch)
    }
}

/// `a.cholesky(upper:)` (`numpy.linalg.cholesky`). A sync point.
///
///     let l = try cholesky(m)
public func cholesky<S: FloatingTensorScalar>(_ a: Tensor<S>, upper: Bool = false) throws -> Tensor<S> { try a.cholesky(upper: upper) }

/// `a.qr(complete:)` (`numpy.linalg.qr`; `complete` is NumPy's `mode="complete"`). A sync point.
///
///     let (q, r) = try qr(a)
public func qr<S: FloatingTensorScalar>(_ a: Tensor<S>, complete: Bool = false) throws -> (q: Tensor<S>, r: Tensor<S>) {
    try a.qr(complete: complete)
}

/// `a.eigh(upper:)` (`numpy.linalg.eigh`). A sync point.
///
///     let (values, vectors) = try eigh(m)
public func eigh<S: FloatingTensorScalar>(_ a: Tensor<S>, upper: Bool = false) throws -> (values: Tensor<S>, vectors: Tensor<S>) {
    try a.eigh(upper: upper)
}

/// `a.eigvalsh(upper:)` (`numpy.linalg.eigvalsh`). A sync point.
///
///     let spectrum = try eigvalsh(m)
public func eigvalsh<S: FloatingTensorScalar>(_ a: Tensor<S>, upper: Bool = false) throws -> Tensor<S> { try a.eigvalsh(upper: upper) }

/// `a.svd(fullMatrices:)` (`numpy.linalg.svd`). A sync point.
///
///     let (u, s, vt) = try svd(a, fullMatrices: false)
public func svd<S: FloatingTensorScalar>(_ a: Tensor<S>, fullMatrices: Bool = true) throws -> (u: Tensor<S>, s: Tensor<S>, vt: Tensor<S>) {
    try a.svd(fullMatrices: fullMatrices)
}

/// `a.pseudoInverse(rcond:)` (`numpy.linalg.pinv`). A sync point.
///
///     let aPlus = try pinv(a)
public func pinv<S: FloatingTensorScalar>(_ a: Tensor<S>, rcond: Double = 1e-15) throws -> Tensor<S> { try a.pseudoInverse(rcond: rcond) }
