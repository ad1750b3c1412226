extension Tensor: CustomStringConvertible {
    /// NumPy-like text (`[[1.0, 2.0], [3.0, 4.0]]` laid out over lines, long axes summarised with
    /// `...`). A sync point; a failure prints the error instead of the values.
    public var description: String {
        let values: [Scalar]
        do { values = try scalars } catch { return "Tensor<\(Scalar.self)>(shape \(Shape.describe(shape)), error: \(error))" }
        return TensorText.nested(values.map { "\($0)" }, shape: shape)
    }
}

extension ComplexTensor: CustomStringConvertible {
    /// NumPy-like text with NumPy's `j` (`[1.0+2.0j 3.0-4.0j]`), laid out as `Tensor`'s. A sync
    /// point; a failure prints the error instead of the values.
    ///
    ///     print(ComplexTensor<Double>([Complex(1, 2), Complex(3, -4)]))
    public var description: String {
        let values: [Complex<RealType>]
        do { values = try scalars } catch { return "ComplexTensor<\(RealType.self)>(shape \(Shape.describe(shape)), error: \(error))" }
        return TensorText.nested(values.map { z in
            let (x, y) = z.rawStorage
            return "\(x)" + (y.sign == .minus ? "-\(-y)" : "+\(y)") + "j"
        }, shape: shape)
    }
}

/// The nested, aligned text of a tensor's elements (already formatted, row-major).
enum TensorText {
    static func nested(_ text: [String], shape: [Int]) -> String {
        let count = text.count
        let width = text.map(\.count).max() ?? 0
        let padded = text.map { String(repeating: " ", count: width - $0.count) + $0 }
        let strides = Shape.rowMajorStrides(shape)
        func render(_ axis: Int, _ offset: Int, _ indent: Int) -> String {
            if axis == shape.count { return padded[offset] }
            let n = shape[axis]
            let summarise = count > 1000 && n > 6
            let idx = summarise ? Array(0..<3) + [-1] + Array((n - 3)..<n) : Array(0..<n)
            let parts = idx.map { $0 < 0 ? "..." : render(axis + 1, offset + $0 * strides[axis], indent + 1) }
            let sep = axis == shape.count - 1 ? " " : "\n" + String(repeating: "\n", count: Swift.max(0, shape.count - axis - 2)) + String(repeating: " ", count: indent + 1)
            return "[" + parts.joined(separator: sep) + "]"
        }
        return render(0, 0, 0)
    }
}
