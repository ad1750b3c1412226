#if canImport(Glibc)
import Glibc
#endif
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

extension Tensor where Scalar: FloatingTensorScalar {
    /// The sign and the natural logarithm of the absolute value of each matrix's determinant
    /// (`numpy.linalg.slogdet`): from the LU factors, so a determinant that would overflow or
    /// underflow a double is still told (sign 0 and -infinity for a singular matrix). The batch
    /// shape each. A sync point.
    ///
    ///     let (sign, logAbs) = try m.signAndLogDeterminant()
    public func signAndLogDeterminant() throws -> (sign: Tensor, logAbsDeterminant: Tensor) {
        let (batch, n, factors) = try factoredStack("slogdet")
        var signs: [Double] = [], logs: [Double] = []
        for f in factors {
            var sign = 1.0, log = 0.0
            for i in 0..<n {
                let d = f.lu[i * n + i]
                if d < 0 { sign = -sign }
                if f.pivots[i] != Int32(i + 1) { sign = -sign }
                log += Glibc.log(Swift.abs(d))
            }
            if f.singular || log == -Double.infinity { (sign, log) = (0, -Double.infinity) }
            signs.append(sign)
            logs.append(log)
        }
        return (Tensor<Double>(signs, shape: batch).cast(to: Scalar.self), Tensor<Double>(logs, shape: batch).cast(to: Scalar.self))
    }

    /// Each square matrix to the integer power `n` (`numpy.linalg.matrix_power`): repeated
    /// squaring with matrix products (lazy, like `matmul`); the identity for 0; the inverse's
    /// power for negative `n` (a sync point for the inverse).
    ///
    ///     let m3 = try m.matrixPower(3)
    public func matrixPower(_ n: Int) throws -> Tensor {
        let (batch, side) = squareStack("matrix_power")
        if n == 0 { return Tensor.eye(side).broadcast(to: batch + [side, side]) }
        var base = n < 0 ? try inverse() : self
        var e = Swift.abs(n), result: Tensor? = nil
        while e > 0 {
            if e & 1 == 1 { result = result.map { $0.matmul(base) } ?? base }
            e >>= 1
            if e > 0 { base = base.matmul(base) }
        }
        return result!
    }

    /// The 2-norm condition number of each matrix (`numpy.linalg.cond`): the largest singular
    /// value over the smallest (infinity for a singular matrix). A sync point.
    ///
    ///     let kappa = try m.conditionNumber().item()
    public func conditionNumber() throws -> Tensor {
        let s = try singularValues()
        let k = s.shape.last ?? 0
        precondition(k > 0, "cond: an empty matrix has no condition number")
        return s[.ellipsis, 0] / s[.ellipsis, k - 1]
    }

    /// The least-squares solution `x` of `self @ x ≈ b` with the smallest norm
    /// (`numpy.linalg.lstsq(a, b)[0]`): this tensor an m x n matrix, `b` a vector of m or an
    /// m x k matrix (a solution column each). Singular values at most `rcond` times the largest
    /// count as zero; by default the element type's epsilon times max(m, n), NumPy's default.
    /// LAPACK's `dgelsd` when the system has one (`tandem devices`), else Tandem's own SVD; in
    /// double, float32 results rounded back. A sync point.
    ///
    ///     let coefficients = try a.leastSquares(Tensor<Double>.ones([3]))
    public func leastSquares(_ b: Tensor, rcond: Double? = nil) throws -> Tensor {
        precondition(rank == 2, "lstsq: \(rank)-dimensional array given. Array must be two-dimensional")
        let m = shape[0], n = shape[1]
        precondition((b.rank == 1 || b.rank == 2) && b.shape[0] == m, "lstsq: Incompatible dimensions: a is \(Shape.describe(shape)), b is \(Shape.describe(b.shape))")
        let k = b.rank == 1 ? 1 : b.shape[1]
        // The matrix read where it lies (no copy into an array first: a tall system's matrix is
        // its largest operand, and each copy of 100,000 x 9 doubles was a tenth of an lstsq).
        let buffer = try Tandem.runtime.read(cast(to: Double.self).node, call: "lstsq")
        let rhs = try b.cast(to: Double.self).scalars
        let x = withExtendedLifetime(buffer) {
            Tensor.leastSquares(UnsafePointer(buffer.pointer.assumingMemoryBound(to: Double.self)), m: m, n: n,
                                rhs, k: k, rcond: rcond ?? Double(Scalar.ulpOfOne) * Double(Swift.max(m, n)))
        }
        return Tensor<Double>(x, shape: b.rank == 1 ? [n] : [n, k]).cast(to: Scalar.self)
    }

    /// Row-major `a` (m x n) and `b` (m x k) through `LAPACK.leastSquares`; X row-major. The
    /// column-major copies LAPACK takes are written once each (not zeroed first) and handed over.
    static func leastSquares(_ a: UnsafePointer<Double>, m: Int, n: Int, _ b: [Double], k: Int, rcond: Double) -> [Double] {
        let acm = [Double](unsafeUninitializedCapacity: m * n) { out, count in
            for i in 0..<m { for j in 0..<n { out[j * m + i] = a[i * n + j] } }
            count = m * n
        }
        let bcm = [Double](unsafeUninitializedCapacity: m * k) { out, count in
            for i in 0..<m { for c in 0..<k { out[c * m + i] = b[i * k + c] } }
            count = m * k
        }
        let r = LAPACK.shared.leastSquares(acm, m: m, n: n, bcm, k: k, rcond: rcond)
        var out = [Double](repeating: 0, count: n * k)
        for i in 0..<n { for c in 0..<k { out[i * k + c] = r.x[c * n + i] } }
        return out
    }

    /// The least-squares polynomial of degree `degree` through the points (`x`, `y`), its
    /// coefficients highest power first (`numpy.polyfit(x, y, deg)`); `y` may be an m x k
    /// matrix (a fit per column, the coefficients `[degree + 1, k]`). As NumPy: the Vandermonde
    /// matrix's columns scaled to unit norm, `leastSquares` with `rcond` len(x) times the
    /// element type's epsilon by default. A column that is all zeros (every x zero) is left
    /// unscaled (NumPy divides by its zero norm). NumPy's `RankWarning` is not given. A sync point.
    ///
    ///     let line = try Tensor.polyfit(x, y, degree: 1)     // slope, intercept
    public static func polyfit(_ x: Tensor, _ y: Tensor, degree: Int, rcond: Double? = nil) throws -> Tensor {
        precondition(degree >= 0, "polyfit: expected deg >= 0")
        precondition(x.rank == 1, "polyfit: expected 1D vector for x")
        precondition(x.shape[0] > 0, "polyfit: expected non-empty vector for x")
        precondition(y.rank == 1 || y.rank == 2, "polyfit: expected 1D or 2D array for y")
        precondition(y.shape[0] == x.shape[0], "polyfit: expected x and y to have same length")
        let m = x.shape[0], n = degree + 1, k = y.rank == 1 ? 1 : y.shape[1]
        let xs = try x.cast(to: Double.self).scalars
        // The Vandermonde matrix, highest power first, each power by repeated products (as
        // numpy.vander), then each column divided by its norm.
        var lhs = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            var power = 1.0
            for j in stride(from: n - 1, through: 0, by: -1) {
                lhs[i * n + j] = power
                power *= xs[i]
            }
        }
        var scale = [Double](repeating: 0, count: n)
        for j in 0..<n {
            scale[j] = (0..<m).reduce(0.0) { $0 + lhs[$1 * n + j] * lhs[$1 * n + j] }.squareRoot()
            if scale[j] == 0 { scale[j] = 1 }
            for i in 0..<m { lhs[i * n + j] /= scale[j] }
        }
        let ys = try y.cast(to: Double.self).scalars
        var c = lhs.withUnsafeBufferPointer { leastSquares($0.baseAddress!, m: m, n: n, ys, k: k, rcond: rcond ?? Double(m) * Double(Scalar.ulpOfOne)) }
        for j in 0..<n { for col in 0..<k { c[j * k + col] /= scale[j] } }
        return Tensor<Double>(c, shape: y.rank == 1 ? [n] : [n, k]).cast(to: Scalar.self)
    }
}

/// `a.leastSquares(b, rcond:)` (`numpy.linalg.lstsq(a, b)[0]`). A sync point.
///
///     let fit = try lstsq(a, Tensor<Double>.ones([3]))
public func lstsq<S: FloatingTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, rcond: Double? = nil) throws -> Tensor<S> {
    try a.leastSquares(b, rcond: rcond)
}

/// `Tensor.polyfit(x, y, degree:)` (`numpy.polyfit`). A sync point.
///
///     let quadratic = try polyfit(x, y, 2)
public func polyfit<S: FloatingTensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>, _ degree: Int, rcond: Double? = nil) throws -> Tensor<S> {
    try Tensor.polyfit(x, y, degree: degree, rcond: rcond)
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
