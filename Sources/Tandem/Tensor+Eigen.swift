import TandemBLAS
import TandemIR

// General (non-symmetric) eigen decompositions on the host, like numpy.linalg's `eig` and
// `eigvals` (sync points for their operands): LAPACK's `dgeev` where the system has it, else
// Tandem's own (`LAPACK.generalEigen`). Computed in double; float32 results are rounded back.
// The results are complex tensors (`ComplexTensor`) whatever the eigenvalues: Swift's types
// are fixed before the values are known, where NumPy returns real arrays when every
// eigenvalue is real.

extension Tensor where Scalar: ComplexComponent {
    /// The eigenvalues and right eigenvectors of each square matrix, symmetric or not
    /// (`numpy.linalg.eig`): `vectors[..., :, j]` is the unit eigenvector of `values[..., j]`
    /// (its largest component real), `self @ v == λ v`. Complex, also where every eigenvalue
    /// is real (NumPy then returns real arrays: here the imaginary parts are zero). A complex
    /// pair of a real matrix comes as two consecutive values, the positive imaginary part first.
    /// LAPACK's `dgeev` (NumPy's routine, so the same order) where the system has it, else
    /// Tandem's own (the same values and vectors, possibly in another order). Throws
    /// `LinearAlgebraError` ("Array must not contain infs or NaNs", "Eigenvalues did not
    /// converge"). A sync point.
    ///
    ///     let rotation = Tensor<Double>([0, -1, 1, 0], shape: [2, 2])
    ///     let (values, vectors) = try rotation.eig()      // values: i, -i
    public func eig() throws -> (values: ComplexTensor<Scalar>, vectors: ComplexTensor<Scalar>) {
        let (values, vectors) = try generalEigen(vectors: true)
        return (values, vectors!)
    }

    /// The eigenvalues of each square matrix (`numpy.linalg.eigvals`): as `eig`, without the
    /// vectors. A sync point.
    ///
    ///     let spectrum = try m.eigvals()
    public func eigvals() throws -> ComplexTensor<Scalar> { try generalEigen(vectors: false).values }

    private func generalEigen(vectors: Bool, library: Bool = true) throws -> (values: ComplexTensor<Scalar>, vectors: ComplexTensor<Scalar>?) {
        let (batch, n) = squareStack(vectors ? "eig" : "eigvals")
        let values = try cast(to: Double.self).scalars, count = batch.reduce(1, *)
        guard values.allSatisfy(\.isFinite) else { throw LinearAlgebraError(message: "Array must not contain infs or NaNs") }
        var wr = [Double](repeating: 0, count: count * n), wi = wr
        var vr = [Double](repeating: 0, count: vectors ? count * n * n : 0), vi = vr
        var a = [Double](repeating: 0, count: n * n)
        for b in 0..<count where n > 0 {
            // Column-major for LAPACK: the row-major matrix as it lies would be its transpose,
            // whose right eigenvectors are this one's left ones.
            for i in 0..<n { for j in 0..<n { a[i + j * n] = values[b * n * n + i * n + j] } }
            guard let e = LAPACK.shared.generalEigen(a, n: n, vectors: vectors, library: library) else {
                throw LinearAlgebraError(message: "Eigenvalues did not converge")
            }
            for j in 0..<n { wr[b * n + j] = e.re[j]; wi[b * n + j] = e.im[j] }
            if vectors {
                for i in 0..<n {
                    for j in 0..<n {
                        vr[b * n * n + i * n + j] = e.vectorsRe[i + j * n]
                        vi[b * n * n + i * n + j] = e.vectorsIm[i + j * n]
                    }
                }
            }
        }
        func complex(_ re: [Double], _ im: [Double], _ shape: [Int]) -> ComplexTensor<Scalar> {
            ComplexTensor(real: Tensor<Double>(re, shape: shape).cast(to: Scalar.self), imaginary: Tensor<Double>(im, shape: shape).cast(to: Scalar.self))
        }
        return (complex(wr, wi, batch + [n]), vectors ? complex(vr, vi, batch + [n, n]) : nil)
    }

    /// Tandem's own general eigen solver whatever the system has (for the tests).
    func eigWithoutLibrary() throws -> (values: ComplexTensor<Scalar>, vectors: ComplexTensor<Scalar>) {
        let (values, vectors) = try generalEigen(vectors: true, library: false)
        return (values, vectors!)
    }
}

/// `a.eig()` (`numpy.linalg.eig`). A sync point.
///
///     let (values, vectors) = try eig(m)
public func eig<S: ComplexComponent>(_ a: Tensor<S>) throws -> (values: ComplexTensor<S>, vectors: ComplexTensor<S>) { try a.eig() }

/// `a.eigvals()` (`numpy.linalg.eigvals`). A sync point.
///
///     let spectrum = try eigvals(m)
public func eigvals<S: ComplexComponent>(_ a: Tensor<S>) throws -> ComplexTensor<S> { try a.eigvals() }
