extension Tensor: CustomStringConvertible {
    /// NumPy-like text (`[[1.0, 2.0], [3.0, 4.0]]` laid out over lines, long axes summarised with
    /// `...`). A sync point; a failure prints the error instead of the values.
    public var description: String {
        let values: [Scalar]
        do { values = try scalars } catch { return "Tensor<\(Scalar.self)>(shape \(Shape.describe(shape)), error: \(error))" }
        let text = values.map { "\($0)" }
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
