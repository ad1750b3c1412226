@_exported import ComplexModule
import RealModule
import TandemIR
import TandemRuntime

/// The real element types a `ComplexTensor` is made of: `Double` (NumPy's `complex128`) and
/// `Float` (`complex64`).
public typealias ComplexComponent = FloatingTensorScalar & Real

/// A lazy tensor of complex numbers (NumPy's `complex128` for `ComplexTensor<Double>`,
/// `complex64` for `ComplexTensor<Float>`); its elements are swift-numerics' `Complex`, which
/// `import Tandem` brings in. Mind one difference from NumPy: `Complex` treats every value
/// with an infinite or NaN part as one point at infinity, and its `real` and `imaginary`
/// properties read NaN for it; the tensor keeps both parts as computed (`inf + 1i` stays that),
/// and `rawStorage` (or the tensor's `real` and `imaginary` parts) shows them.
///
///     let theta = Tensor<Double>.linspace(0, 1, count: 8)
///     let z = ComplexTensor.polar(magnitude: Tensor.ones([8]), phase: theta)   // exp(iθ)
///     let w = z * z + Complex(0.25, -0.5)
///     let first: Complex<Double> = try w[0].item()
///
/// Trade-off: a complex tensor is two real tensors, its real and imaginary parts, and every
/// complex operation is written as the real operations NumPy's loops perform (`(a + bi)(c + di)`
/// is `ac - bd` and `ad + bc`, division is Smith's method as NumPy does it). So complex programs
/// fuse, run and are priced on every device (interpreter, C, OpenCL, CUDA) with no complex code
/// in any of them, and their arithmetic, `abs` and `sqrt` give the same bits on every CPU
/// placement (`exp`, `log` and `polar` use libm's functions and share their exceptions: README,
/// "One answer whatever the placement"). The price: the parts live in two buffers (structure of
/// arrays), not interleaved as NumPy stores them, so `scalars` and `.npy` files interleave or
/// split them on the host.
///
/// Against NumPy: division, `conj` and `angle` give its bits (its loops compute the same
/// expressions in the same order); products and `abs` are within an ulp or two (its vector loops
/// fuse a multiply-add); `exp`, `log`, `sqrt` and sums agree to within a few ulp, as the real
/// functions do.
public struct ComplexTensor<RealType: ComplexComponent>: Sendable {
    /// The real parts (`numpy.real`).
    public var real: Tensor<RealType>
    /// The imaginary parts (`numpy.imag`).
    public var imaginary: Tensor<RealType>

    /// A complex tensor from its real and imaginary parts, broadcast against each other.
    ///
    ///     let z = ComplexTensor(real: x, imaginary: y)       // x + iy
    public init(real: Tensor<RealType>, imaginary: Tensor<RealType>) {
        if real.shape == imaginary.shape {
            self.real = real
            self.imaginary = imaginary
        } else {
            let shape = Tensor<RealType>.broadcastShape(real.shape, imaginary.shape, "ComplexTensor(real:imaginary:)")
            self.real = real.broadcast(to: shape)
            self.imaginary = imaginary.broadcast(to: shape)
        }
    }

    /// Real values as complex ones (imaginary parts zero), as NumPy's `astype(complex)`.
    ///
    ///     let z = ComplexTensor(x)                           // x + 0i
    public init(_ real: Tensor<RealType>) {
        self.init(real: real, imaginary: Tensor<RealType>.zeros(real.shape))
    }

    /// A tensor of `shape` holding `values` in row-major order.
    ///
    ///     let z = ComplexTensor<Double>([Complex(1, 2), Complex(3, -4)], shape: [2])
    public init(_ values: [Complex<RealType>], shape: [Int]) {
        precondition(values.count == Shape.count(shape),
                     "ComplexTensor: \(values.count) values cannot fill shape \(Shape.describe(shape))")
        // `rawStorage`: swift-numerics reads both parts of a non-finite value as NaN through
        // `real` and `imaginary`; NumPy keeps `inf + 1j` as it is, and so does a tensor.
        self.init(real: Tensor(values.map(\.rawStorage.x), shape: shape), imaginary: Tensor(values.map(\.rawStorage.y), shape: shape))
    }

    /// A one-dimensional tensor of `values`.
    ///
    ///     let roots = ComplexTensor<Double>([Complex(1, 0), Complex(0, 1), Complex(-1, 0), Complex(0, -1)])
    public init(_ values: [Complex<RealType>]) { self.init(values, shape: [values.count]) }

    /// A rank-0 tensor holding one value (broadcasts against any shape).
    ///
    ///     let i = ComplexTensor(Complex<Double>(0, 1))
    public init(_ value: Complex<RealType>) {
        self.init(real: Tensor(value.rawStorage.x), imaginary: Tensor(value.rawStorage.y))
    }

    /// Converts the parts to another precision (NumPy's `astype(np.complex64)` and back).
    ///
    ///     let single = ComplexTensor<Float>(ComplexTensor<Double>(x))
    public init<Other: ComplexComponent>(_ other: ComplexTensor<Other>) {
        self.init(real: Tensor<RealType>(other.real), imaginary: Tensor<RealType>(other.imaginary))
    }

    /// `value` everywhere in `shape`.
    ///
    ///     let c = ComplexTensor.full([4, 4], Complex<Double>(-0.8, 0.156))
    public static func full(_ shape: [Int], _ value: Complex<RealType>) -> ComplexTensor {
        ComplexTensor(real: .full(shape, value.rawStorage.x), imaginary: .full(shape, value.rawStorage.y))
    }

    /// Zeros of `shape`.
    ///
    ///     var field = ComplexTensor<Double>.zeros([64, 64])
    public static func zeros(_ shape: [Int]) -> ComplexTensor { full(shape, .zero) }

    /// Ones of `shape`.
    ///
    ///     let w = ComplexTensor<Double>.ones([8])
    public static func ones(_ shape: [Int]) -> ComplexTensor { full(shape, .one) }

    /// `magnitude · (cos phase + i sin phase)`, broadcast (`magnitude * np.exp(1j * phase)`).
    ///
    ///     let unit = ComplexTensor.polar(magnitude: Tensor<Double>(1.0), phase: x)
    public static func polar(magnitude: Tensor<RealType>, phase: Tensor<RealType>) -> ComplexTensor {
        ComplexTensor(real: magnitude * phase.cos(), imaginary: magnitude * phase.sin())
    }

    /// The extent of each axis.
    public var shape: [Int] { real.shape }
    /// The number of axes.
    public var rank: Int { real.rank }
    /// The number of elements.
    public var count: Int { real.count }

    // MARK: - Reading (sync points)

    /// The elements in row-major order. A sync point: both parts are computed in one plan.
    ///
    ///     let values: [Complex<Double>] = try ComplexTensor(x).scalars
    public var scalars: [Complex<RealType>] {
        get throws {
            try flush()
            let re = try real.scalars, im = try imaginary.scalars
            return zip(re, im).map { Complex($0, $1) }
        }
    }

    /// The single element of a one-element tensor. A sync point.
    ///
    ///     let total = try ComplexTensor(x).sum().item()
    public func item() throws -> Complex<RealType> {
        precondition(count == 1, "item: can only convert an array of size 1 to a Swift scalar, not shape \(Shape.describe(shape))")
        try flush()
        return Complex(try real.item(), try imaginary.item())
    }

    /// Queues the computation of both parts as one plan and returns without waiting.
    ///
    ///     try ComplexTensor(x).flush()
    public func flush() throws { try Tandem.flush(real, imaginary) }

    // MARK: - Views and writes (both parts alike)

    /// A view (never a copy), or a write into one, with the subscripts `Tensor` takes; a write
    /// broadcasts the right-hand side.
    ///
    ///     var field = ComplexTensor<Double>.zeros([8, 8])
    ///     field[0, .all] = ComplexTensor(Complex(1.0, 0))
    ///     let interior = field[1..<7, 1..<7]
    public subscript(_ indices: any TensorIndexExpression...) -> ComplexTensor {
        get { self[indices: TensorIndex.items(indices)] }
        set { self[indices: TensorIndex.items(indices)] = newValue }
    }

    /// A view or write with a subscript built at run time.
    ///
    ///     let row = ComplexTensor<Double>.zeros([4, 4])[indices: [.index(0)]]
    public subscript(indices indices: [TensorIndex]) -> ComplexTensor {
        get { ComplexTensor(real: real[indices: indices], imaginary: imaginary[indices: indices]) }
        set {
            real[indices: indices] = newValue.real
            imaginary[indices: indices] = newValue.imaginary
        }
    }

    /// NumPy's boolean indexing, as `Tensor`'s: read, `z[mask]` is the elements where `mask`
    /// is true, in row-major order, as one axis (a sync point for the mask alone: both parts
    /// are then gathered at its positions, lazily); written, `z[mask] = v` puts one value
    /// there (a select on both parts, lazy) or one value per true element (on the host).
    ///
    ///     var z = ComplexTensor(real: Tensor<Double>([1, -2, 3]), imaginary: Tensor<Double>([0, 1, 0]))
    ///     let outside = z[z.real .< 0]                             // -2 + 1i
    ///     z[z.real .< 0] = ComplexTensor(Complex(0.0, 0))
    public subscript(mask: Tensor<Bool>) -> ComplexTensor {
        get {
            do {
                let positions = try real.maskPositions(mask)
                return ComplexTensor(real: real.flattened()[positions], imaginary: imaginary.flattened()[positions])
            } catch {
                preconditionFailure("z[mask]: computing the mask failed: \(error)")
            }
        }
        set {
            real[mask] = newValue.real
            imaginary[mask] = newValue.imaginary
        }
    }

    /// Each element repeated `count` times along `axis` (`numpy.repeat`), as `Tensor.repeated`.
    ///
    ///     let twice = ComplexTensor(Tensor<Double>([1, 2])).repeated(2)     // 1, 1, 2, 2
    public func repeated(_ count: Int, axis: Int? = nil) -> ComplexTensor { parts { $0.repeated(count, axis: axis) } }

    /// The same elements in a new shape (one extent may be -1), as `Tensor.reshaped`.
    ///
    ///     let square = ComplexTensor<Double>.zeros([16]).reshaped([4, 4])
    public func reshaped(_ newShape: [Int]) -> ComplexTensor { parts { $0.reshaped(newShape) } }
    /// The axes reversed (`z.T`; not conjugated: `conj().transposed` is the adjoint).
    public var transposed: ComplexTensor { parts { $0.transposed } }
    /// The axes in `order`, as `Tensor.permuted`.
    public func permuted(_ order: [Int]) -> ComplexTensor { parts { $0.permuted(order) } }
    /// A broadcast view, as `Tensor.broadcast(to:)`.
    public func broadcast(to newShape: [Int]) -> ComplexTensor { parts { $0.broadcast(to: newShape) } }
    /// A new axis of extent 1 at `axis`, as `Tensor.expandingDims(at:)`.
    public func expandingDims(at axis: Int) -> ComplexTensor { parts { $0.expandingDims(at: axis) } }
    /// Axes of extent 1 removed (those in `axes`, or all), as `Tensor.squeezed(axes:)`.
    public func squeezed(axes: [Int]? = nil) -> ComplexTensor { parts { $0.squeezed(axes: axes) } }
    /// One axis of all elements, as `Tensor.flattened()`.
    public func flattened() -> ComplexTensor { parts { $0.flattened() } }

    /// Complex tensors joined along an existing axis (`numpy.concatenate`).
    ///
    ///     let both = ComplexTensor.concatenate([ComplexTensor(x), ComplexTensor(y)])
    public static func concatenate(_ tensors: [ComplexTensor], axis: Int = 0) -> ComplexTensor {
        ComplexTensor(real: Tensor.concatenate(tensors.map(\.real), axis: axis), imaginary: Tensor.concatenate(tensors.map(\.imaginary), axis: axis))
    }

    /// Complex tensors of one shape stacked along a new axis (`numpy.stack`).
    ///
    ///     let rows = ComplexTensor.stack([ComplexTensor(x), ComplexTensor(y)])
    public static func stack(_ tensors: [ComplexTensor], axis: Int = 0) -> ComplexTensor {
        ComplexTensor(real: Tensor.stack(tensors.map(\.real), axis: axis), imaginary: Tensor.stack(tensors.map(\.imaginary), axis: axis))
    }

    /// `transform` applied to both parts.
    func parts(_ transform: (Tensor<RealType>) -> Tensor<RealType>) -> ComplexTensor {
        ComplexTensor(real: transform(real), imaginary: transform(imaginary))
    }
}
