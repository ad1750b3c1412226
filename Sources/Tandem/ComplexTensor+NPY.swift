import TandemIR
import TandemRuntime

// Complex `.npy` files: NumPy stores each element as its real and imaginary parts side by side
// (`<c16`: two little-endian doubles); a `ComplexTensor` keeps the parts in two buffers, so
// loading splits them and saving interleaves them, on the host, once.

extension ComplexTensor {
    /// Loads a complex array saved by NumPy's `np.save` (`complex128` for `ComplexTensor<Double>`,
    /// `complex64` for `ComplexTensor<Float>`), with `Tensor(npy:)`'s checks: any byte order,
    /// Fortran order, nothing made from a malformed or truncated file.
    ///
    ///     let field = try ComplexTensor<Double>(npy: "field.npy")
    ///
    /// `converting`: the other precision is converted, and a real array is loaded with zero
    /// imaginary parts; without it either is an error naming both types.
    public init(npy path: String, converting: Bool = false) throws {
        try self.init(npyBytes: NPYFiles.read(path), path: path, converting: converting)
    }

    /// A complex tensor from the bytes of an `.npy` file (`path` names it in errors).
    init(npyBytes bytes: [UInt8], path: String, converting: Bool) throws {
        self = try NPYTensors.decoded(bytes, path: path) { header, fill in
            try ComplexTensor.make(header.dtype, complex: header.complex, shape: header.shape, converting: converting, path: path, fill: fill)
        }
    }

    /// A complex tensor from `count` elements that `fill` writes interleaved (complex) or as
    /// reals (with `converting`), the parts of type `dtype`.
    static func make(_ dtype: DType, complex: Bool, shape: [Int], converting: Bool, path: String,
                     fill: (UnsafeMutableRawPointer) throws -> Void) throws -> ComplexTensor {
        let wanted = NPYFormat.complexName(RealType.dtype)
        guard complex else {
            guard converting else { throw NPYError.complexMismatch(path: path, file: dtype.description, requested: wanted) }
            return ComplexTensor(try NPYTensors.make(dtype, shape: shape, as: RealType.self, converting: true, path: path, fill: fill))
        }
        guard dtype == RealType.dtype || converting else {
            throw NPYError.complexMismatch(path: path, file: NPYFormat.complexName(dtype), requested: wanted)
        }
        let count = Shape.count(shape)
        let interleaved = Buffer(dtype: dtype, count: 2 * count)
        // This is safe: `fill` writes `count` complex elements, `2 * count` parts of `dtype`.
        try fill(interleaved.pointer)
        func split<T: FloatingTensorScalar>(_: T.Type) -> ComplexTensor {
            let re = Buffer(dtype: dtype, count: count), im = Buffer(dtype: dtype, count: count)
            // This is safe: each buffer holds `count` elements of T, the source `2 * count`.
            let src = interleaved.pointer.assumingMemoryBound(to: T.self)
            let r = re.pointer.assumingMemoryBound(to: T.self), i = im.pointer.assumingMemoryBound(to: T.self)
            for k in 0..<count {
                r[k] = src[2 * k]
                i[k] = src[2 * k + 1]
            }
            return ComplexTensor(real: Tensor<T>(.storage(re), shape: shape).cast(to: RealType.self),
                                 imaginary: Tensor<T>(.storage(im), shape: shape).cast(to: RealType.self))
        }
        return dtype == .float32 ? split(Float.self) : split(Double.self)
    }

    /// Saves the tensor as a NumPy `.npy` file of `complex128` (`complex64` for
    /// `ComplexTensor<Float>`), little-endian, C order; written under a temporary name, flushed
    /// and renamed over `path` as `Tensor.save(npy:)` does. A sync point.
    ///
    ///     try ComplexTensor(x).save(npy: "z.npy")
    public func save(npy path: String) throws { try NPYTensors.save(self, to: path) }
}

extension NPZFile {
    /// The complex array `name` (`converting`: of the other precision, or real, as
    /// `ComplexTensor(npy:converting:)`).
    ///
    ///     let archive = try NPZFile("run.npz")
    ///     let field = try archive.complexTensor("field", as: Double.self)
    public func complexTensor<R: ComplexComponent>(_ name: String, as type: R.Type = R.self, converting: Bool = false) throws -> ComplexTensor<R> {
        guard let m = members[name] else { throw NPYError.missingArray(path: path, name: name, available: names) }
        return try ComplexTensor<R>.make(m.dtype, complex: m.complex, shape: m.shape, converting: converting, path: path + "/" + name + ".npy") { out in
            m.data.withUnsafeBytes { if let base = $0.baseAddress { out.copyMemory(from: base, byteCount: $0.count) } }
        }
    }
}
