import TandemBLAS
import TandemIR

// Dense linear systems on the host (sync points for their operands): `solve`, `inverse` and
// `determinant`, like numpy.linalg's, over the last two axes of a stack of square matrices. An
// LU factorisation with partial pivoting from the system's LAPACK (`LAPACK`), or Tandem's own
// elimination without one; float32 matrices are factored in double and the results rounded
// back (NumPy factors them in single precision, so the last bits may differ).

/// A linear-algebra failure NumPy reports as `LinAlgError`: a singular matrix given to `solve`
/// or `inverse`.
public struct LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// The leading (batch) shape and the side of a stack of square matrices, or NumPy's message.
    func squareStack(_ name: String) -> (batch: [Int], n: Int) {
        precondition(rank >= 2, "\(name): \(rank)-dimensional array given. Array must be at least two-dimensional")
        precondition(shape[rank - 1] == shape[rank - 2], "\(name): Last 2 dimensions of the array must be square")
        return (Array(shape.dropLast(2)), shape[rank - 1])
    }

    /// Each n x n matrix of the stack, factored: its elements read once, row-major A seen by
    /// LAPACK (column-major) as Aᵀ, whose factors serve Aᵀ's transposed solves, that is A's.
    func factoredStack(_ name: String) throws -> (batch: [Int], n: Int, factors: [(lu: [Double], pivots: [Int32], singular: Bool)]) {
        let (batch, n) = squareStack(name)
        let values = try cast(to: Double.self).scalars
        let count = batch.reduce(1, *)
        var factors: [(lu: [Double], pivots: [Int32], singular: Bool)] = []
        factors.reserveCapacity(count)
        for m in 0..<count {
            var lu = Array(values[(m * n * n)..<((m + 1) * n * n)])
            let (pivots, singular) = LAPACK.shared.factor(&lu, n: n)
            factors.append((lu, pivots, singular))
        }
        return (batch, n, factors)
    }

    /// The solution `x` of `self @ x == b` (`numpy.linalg.solve`): this tensor is a square
    /// matrix (or a stack of them, the last two axes); `b` a vector of its side, or matrices of
    /// `k` right-hand-side columns with this tensor's batch axes (`[..., n, k]`). Throws
    /// `LinearAlgebraError` ("Singular matrix") when a matrix has a zero pivot. A sync point.
    ///
    ///     let x = try m.solve(Tensor<Double>.ones([5]))
    public func solve(_ b: Tensor) throws -> Tensor {
        let (batch, n) = squareStack("solve")
        let vector = b.rank == 1
        precondition(vector ? b.shape == [n] : (b.rank == rank && Array(b.shape.dropLast(2)) == batch && b.shape[b.rank - 2] == n),
                     "solve: b of shape \(Shape.describe(b.shape)) does not match a of shape \(Shape.describe(shape)) (expected (\(n),) or (..., \(n), k) with a's batch axes)")
        if vector && !batch.isEmpty {
            // One vector for every matrix of the stack: broadcast as a column each.
            let column = b.reshaped([n, 1]).broadcast(to: batch + [n, 1])
            return try solve(column).reshaped(batch + [n])
        }
        let k = vector ? 1 : b.shape[b.rank - 1]
        let (_, _, factors) = try factoredStack("solve")
        let rhs = try b.cast(to: Double.self).scalars
        var out = [Double](repeating: 0, count: rhs.count)
        for (m, f) in factors.enumerated() {
            if f.singular { throw LinearAlgebraError(message: "Singular matrix") }
            // The columns of B, column-major; the solution back to row-major.
            var x = [Double](repeating: 0, count: n * k)
            for i in 0..<n { for c in 0..<k { x[c * n + i] = rhs[m * n * k + i * k + c] } }
            LAPACK.shared.solve(f.lu, pivots: f.pivots, n: n, transposed: true, &x, k: k)
            for i in 0..<n { for c in 0..<k { out[m * n * k + i * k + c] = x[c * n + i] } }
        }
        return Tensor<Double>(out, shape: b.shape).cast(to: Scalar.self)
    }

    /// The inverse of each square matrix (`numpy.linalg.inv`). Throws `LinearAlgebraError`
    /// ("Singular matrix") when one has a zero pivot. A sync point.
    ///
    ///     let mInverse = try m.inverse()
    public func inverse() throws -> Tensor {
        let (batch, n) = squareStack("inv")
        return try solve(Tensor.eye(n).broadcast(to: batch + [n, n]))
    }

    /// The determinant of each square matrix (`numpy.linalg.det`): the product of the LU
    /// factors' pivots, negated for each row swap; 0 for a singular matrix. The batch shape. A
    /// sync point.
    ///
    ///     let d = try m.determinant().item()
    public func determinant() throws -> Tensor {
        let (batch, n, factors) = try factoredStack("det")
        let dets = factors.map { f -> Double in
            var d = 1.0
            for i in 0..<n {
                d *= f.lu[i * n + i]
                if f.pivots[i] != Int32(i + 1) { d = -d }
            }
            return d
        }
        return Tensor<Double>(dets, shape: batch).cast(to: Scalar.self)
    }
}

/// `a.solve(b)`: the solution of `a @ x == b` (`numpy.linalg.solve`). A sync point.
///
///     let x = try solve(m, Tensor<Double>.ones([5]))
public func solve<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> Tensor<S> { try a.solve(b) }

/// `a.inverse()` (`numpy.linalg.inv`). A sync point.
///
///     let mInverse = try inv(m)
public func inv<S: FloatingTensorScalar>(_ a: Tensor<S>) throws -> Tensor<S> { try a.inverse() }

/// `a.determinant()` (`numpy.linalg.det`). A sync point.
///
///     let d = try det(m).item()
public func det<S: FloatingTensorScalar>(_ a: Tensor<S>) throws -> Tensor<S> { try a.determinant() }
