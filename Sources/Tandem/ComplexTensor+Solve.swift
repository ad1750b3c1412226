import ComplexModule

// Complex linear systems (`numpy.linalg.solve` and `inv` of complex128/complex64 matrices)
// through the real solver: A x = b with A = Ar + i Ai is the real system of twice the side
//
//     [ Ar  -Ai ] [ xr ]   [ br ]
//     [ Ai   Ar ] [ xi ] = [ bi ],
//
// whose determinant is |det A|², so it is singular exactly when A is. The trade-off: LAPACK's
// complex `zgesv` would do half the multiply-adds (the real system's LU is (2n)³·2/3 against
// 4·n³·2/3 real ones for the complex LU) and pivot on complex magnitudes; this way reuses the
// real LU path as it is (LAPACK's `dgetrf`/`dgetrs` when loaded, Tandem's own elimination
// otherwise, stacks included) and needs no second set of library functions.

extension ComplexTensor {
    /// The solution `x` of `self @ x == b` (`numpy.linalg.solve` of complex matrices): this
    /// tensor a square matrix or a stack of them, `b` a vector of its side or matrices of `k`
    /// columns with its batch axes, as `Tensor.solve`. Throws `LinearAlgebraError` ("Singular
    /// matrix"). A sync point.
    ///
    ///     let a = ComplexTensor([Complex(1.0, 2), Complex(2, -1), Complex(0, 0.5), Complex(3, 0)], shape: [2, 2])
    ///     let x = try a.solve(ComplexTensor([Complex(1.0, 1), Complex(-2, 0.5)]))   // 0.52-1.04i, -0.84+0.08i
    public func solve(_ b: ComplexTensor) throws -> ComplexTensor {
        precondition(rank >= 2 && shape[rank - 1] == shape[rank - 2],
                     "solve: Last 2 dimensions of the array must be square, not \(Shape.describe(shape))")
        let n = shape[rank - 1]
        let rowAxis = rank - 2, columnAxis = rank - 1
        let m = Tensor.concatenate([Tensor.concatenate([real, -imaginary], axis: columnAxis),
                                    Tensor.concatenate([imaginary, real], axis: columnAxis)], axis: rowAxis)
        // A vector: its parts end to end; matrices of columns: the parts stacked as rows.
        let stackAxis = b.rank == 1 ? 0 : b.rank - 2
        precondition(b.rank >= 1 && b.shape[stackAxis] == n,
                     "solve: b of shape \(Shape.describe(b.shape)) does not match a of shape \(Shape.describe(shape))")
        let x = try m.solve(Tensor.concatenate([b.real, b.imaginary], axis: stackAxis))
        var top = [TensorIndex](repeating: .all, count: x.rank), bottom = top
        top[stackAxis] = (0..<n).tensorIndex
        bottom[stackAxis] = (n..<(2 * n)).tensorIndex
        return ComplexTensor(real: x[indices: top], imaginary: x[indices: bottom])
    }

    /// The inverse of each square matrix (`numpy.linalg.inv` of complex matrices). Throws
    /// `LinearAlgebraError` ("Singular matrix"). A sync point.
    ///
    ///     let inverse = try ComplexTensor([Complex(0.0, 2)], shape: [1, 1]).inverse()     // -0.5i
    public func inverse() throws -> ComplexTensor {
        precondition(rank >= 2 && shape[rank - 1] == shape[rank - 2],
                     "inv: Last 2 dimensions of the array must be square, not \(Shape.describe(shape))")
        let n = shape[rank - 1]
        let eye = Tensor<RealType>.eye(n).broadcast(to: shape)
        return try solve(ComplexTensor(real: eye, imaginary: Tensor<RealType>.zeros(shape)))
    }
}
