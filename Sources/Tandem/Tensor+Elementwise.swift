// MARK: - Construction of elementwise nodes

extension Node {
    /// This node viewed with the shape `shape` under NumPy broadcasting (itself when the shapes
    /// agree; a view, never a copy). Tensors' operands and `Tandem.loop`'s values both use it.
    func broadcast(to shape: [Int]) -> Node {
        if self.shape == shape { return self }
        if case .fill = op { return Node(op, dtype: dtype, shape: shape) }
        let r = shape.count, s = self.shape.count
        var coef = [Int].filled(0, count: s * r)
        for d in 0..<s where self.shape[d] != 1 { coef[d * r + d + (r - s)] = 1 }
        let map = AffineMap(inRank: s, outRank: r, offset: [Int].filled(0, count: s), coef: coef)
        return Node(.view(self, map), dtype: dtype, shape: shape)
    }
}

extension Tensor {
    /// `self` viewed with the shape `shape` under NumPy broadcasting (a view, never a copy).
    func broadcastNode(to shape: [Int]) -> Node { node.broadcast(to: shape) }

    static func broadcastShape(_ a: [Int], _ b: [Int], _ op: String) -> [Int] {
        guard let s = Shape.broadcast(a, b) else {
            preconditionFailure("\(op): operands could not be broadcast together with shapes \(Shape.describe(a)) \(Shape.describe(b))")
        }
        return s
    }

    static func binary<R: TensorScalar>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ name: String) -> Tensor<R> {
        let shape = broadcastShape(a.shape, b.shape, name)
        return Tensor<R>(.binary(op, a.broadcastNode(to: shape), b.broadcastNode(to: shape)), shape: shape)
    }

    /// `a ⊕ b` for a scalar `b`: its fill node is made in `a`'s shape at once (what broadcasting
    /// a rank-0 `Tensor(b)` gives), without the rank-0 tensor, its node and its handle, made and
    /// dropped at every scalar operand of a small step.
    static func binary<R: TensorScalar>(_ op: BinaryOp, _ a: Tensor, scalar b: Scalar) -> Tensor<R> {
        Tensor<R>(.binary(op, a.node, Node(.fill(b.literal), dtype: Scalar.dtype, shape: a.shape)), shape: a.shape)
    }

    /// `a ⊕ b` for a scalar `a` (see `binary(_:_:scalar:)`).
    static func binary<R: TensorScalar>(_ op: BinaryOp, scalar a: Scalar, _ b: Tensor) -> Tensor<R> {
        Tensor<R>(.binary(op, Node(.fill(a.literal), dtype: Scalar.dtype, shape: b.shape), b.node), shape: b.shape)
    }

    func unary(_ op: UnaryOp) -> Tensor { Tensor(.unary(op, node), shape: shape) }

    /// This tensor's elements converted to `T` (floats to integers truncate toward zero and
    /// saturate, NaN becomes 0; anything to Bool is `!= 0`).
    ///
    ///     let counts = Tensor<Int32>(mask)      // false → 0, true → 1
    public func cast<T: TensorScalar>(to type: T.Type) -> Tensor<T> {
        if Scalar.self == T.self { return Tensor<T>(node: node) }
        return Tensor<T>(.cast(node), shape: shape)
    }
}

extension Tensor {
    /// Conversion from another element type (see `cast(to:)`).
    public init<S: TensorScalar>(_ other: Tensor<S>) { self = other.cast(to: Scalar.self) }
}

// MARK: - Arithmetic

extension Tensor where Scalar: NumericTensorScalar {
    /// Elementwise sum with NumPy broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b, "add") }
    /// Elementwise difference with NumPy broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b, "subtract") }
    /// Elementwise product with NumPy broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b, "multiply") }
    /// Floats: IEEE division. Integers: truncating like Swift's `/`, and `x / 0 == 0` (NumPy's result).
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.div, a, b, "divide") }
    /// Remainder with the sign of the dividend (Swift's `%`, C's `fmod`); integer `x % 0 == 0`.
    public static func % (a: Tensor, b: Tensor) -> Tensor { binary(.rem, a, b, "remainder") }

    // The scalar forms for every element type and for generic code; disfavoured: `Double`
    // and `Float` tensors have concrete ones (Tensor+ScalarOperators.swift, where the
    // trade-off is measured), which the type checker solves long expressions with far faster.

    /// Elementwise sum of each element and a scalar: `x + b`.
    @_disfavoredOverload
    public static func + (a: Tensor, b: Scalar) -> Tensor { binary(.add, a, scalar: b) }
    /// Elementwise difference of each element and a scalar: `x - b`.
    @_disfavoredOverload
    public static func - (a: Tensor, b: Scalar) -> Tensor { binary(.sub, a, scalar: b) }
    /// Elementwise product of each element and a scalar: `x * b`.
    @_disfavoredOverload
    public static func * (a: Tensor, b: Scalar) -> Tensor { binary(.mul, a, scalar: b) }
    /// Elementwise quotient of each element and a scalar: `x / b`.
    @_disfavoredOverload
    public static func / (a: Tensor, b: Scalar) -> Tensor { binary(.div, a, scalar: b) }
    /// Elementwise remainder of each element and a scalar: `x % b`.
    @_disfavoredOverload
    public static func % (a: Tensor, b: Scalar) -> Tensor { binary(.rem, a, scalar: b) }
    /// Elementwise sum of a scalar and each element: `a + x`.
    @_disfavoredOverload
    public static func + (a: Scalar, b: Tensor) -> Tensor { binary(.add, scalar: a, b) }
    /// Elementwise difference of a scalar and each element: `a - x`.
    @_disfavoredOverload
    public static func - (a: Scalar, b: Tensor) -> Tensor { binary(.sub, scalar: a, b) }
    /// Elementwise product of a scalar and each element: `a * x`.
    @_disfavoredOverload
    public static func * (a: Scalar, b: Tensor) -> Tensor { binary(.mul, scalar: a, b) }
    /// Elementwise quotient of a scalar and each element: `a / x`.
    @_disfavoredOverload
    public static func / (a: Scalar, b: Tensor) -> Tensor { binary(.div, scalar: a, b) }
    /// Elementwise remainder of a scalar and each element: `a % x`.
    @_disfavoredOverload
    public static func % (a: Scalar, b: Tensor) -> Tensor { binary(.rem, scalar: a, b) }

    /// `a = a + b` (with broadcasting): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// `a = a - b` (with broadcasting): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// `a = a * b` (with broadcasting): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// `a = a / b` (with broadcasting): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    /// `a = a % b` (with broadcasting): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func %= (a: inout Tensor, b: Tensor) { a = a % b }
    /// `a = a + b` (a scalar on the right): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func += (a: inout Tensor, b: Scalar) { a = a + b }
    /// `a = a - b` (a scalar on the right): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func -= (a: inout Tensor, b: Scalar) { a = a - b }
    /// `a = a * b` (a scalar on the right): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func *= (a: inout Tensor, b: Scalar) { a = a * b }
    /// `a = a / b` (a scalar on the right): a new lazy tensor in `a`; views taken of the old `a` keep its values.
    public static func /= (a: inout Tensor, b: Scalar) { a = a / b }

    /// Negation (integers wrap, like `&-`).
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.neg) }

    /// Absolute value (integers wrap at `.min`).
    public func abs() -> Tensor { unary(.abs) }

    /// Elementwise maximum; NaN propagates (like `numpy.maximum`).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.max, a, b, "maximum") }
    /// Elementwise minimum; NaN propagates (like `numpy.minimum`).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.min, a, b, "minimum") }
    /// Elementwise maximum with a scalar (`numpy.maximum(x, 1e-12)`).
    ///
    ///     let safe = Tensor.maximum(x, 1e-12)
    public static func maximum(_ a: Tensor, _ b: Scalar) -> Tensor { binary(.max, a, scalar: b) }
    /// Elementwise maximum of a scalar and each element.
    public static func maximum(_ a: Scalar, _ b: Tensor) -> Tensor { binary(.max, scalar: a, b) }
    /// Elementwise minimum with a scalar (`numpy.minimum(x, 1)`).
    public static func minimum(_ a: Tensor, _ b: Scalar) -> Tensor { binary(.min, a, scalar: b) }
    /// Elementwise minimum of a scalar and each element.
    public static func minimum(_ a: Scalar, _ b: Tensor) -> Tensor { binary(.min, scalar: a, b) }

    /// `self` raised to `exponent`; integers: exact with wrapping, negative exponents give 0
    /// (except for bases 1 and -1).
    public func pow(_ exponent: Tensor) -> Tensor { Tensor.binary(.pow, self, exponent, "power") }
    /// `self` raised to a scalar exponent (see `pow(_:)` with a tensor). An exponent of 2 is
    /// a multiply, as NumPy's `x ** 2` is: its bits (the exact square rounded once, where the
    /// math library's `pow` can be an ulp off), and a sixth of the time (a `pow` call an element
    /// made `x.pow(2).sum()` over a million elements 6x slower).
    ///
    ///     let x = Tensor<Double>([1.5, -2, 3])
    ///     let y = x.pow(2)                 // [2.25, 4, 9], computed as x * x
    public func pow(_ exponent: Scalar) -> Tensor { exponent == 2 ? self * self : pow(Tensor(exponent)) }
    /// `self * self`.
    public func squared() -> Tensor { self * self }

    // MARK: Comparisons (elementwise, giving Bool tensors; spelled like SIMD's)

    /// Elementwise `==` with NumPy broadcasting, as a Bool tensor (`numpy.equal`).
    public static func .== (a: Tensor, b: Tensor) -> Tensor<Bool> { binary(.eq, a, b, "equal") }
    /// Elementwise `!=` with NumPy broadcasting, as a Bool tensor (`numpy.not_equal`).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor<Bool> { binary(.ne, a, b, "not_equal") }
    /// Elementwise `<` with NumPy broadcasting, as a Bool tensor (`numpy.less`).
    public static func .< (a: Tensor, b: Tensor) -> Tensor<Bool> { binary(.lt, a, b, "less") }
    /// Elementwise `<=` with NumPy broadcasting, as a Bool tensor (`numpy.less_equal`).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor<Bool> { binary(.le, a, b, "less_equal") }
    /// Elementwise `>` with NumPy broadcasting, as a Bool tensor (`numpy.greater`).
    public static func .> (a: Tensor, b: Tensor) -> Tensor<Bool> { binary(.gt, a, b, "greater") }
    /// Elementwise `>=` with NumPy broadcasting, as a Bool tensor (`numpy.greater_equal`).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor<Bool> { binary(.ge, a, b, "greater_equal") }
    /// Elementwise `x == b` against a scalar, as a Bool tensor.
    public static func .== (a: Tensor, b: Scalar) -> Tensor<Bool> { binary(.eq, a, scalar: b) }
    /// Elementwise `x != b` against a scalar, as a Bool tensor.
    public static func .!= (a: Tensor, b: Scalar) -> Tensor<Bool> { binary(.ne, a, scalar: b) }
    /// Elementwise `x < b` against a scalar, as a Bool tensor.
    public static func .< (a: Tensor, b: Scalar) -> Tensor<Bool> { binary(.lt, a, scalar: b) }
    /// Elementwise `x <= b` against a scalar, as a Bool tensor.
    public static func .<= (a: Tensor, b: Scalar) -> Tensor<Bool> { binary(.le, a, scalar: b) }
    /// Elementwise `x > b` against a scalar, as a Bool tensor.
    public static func .> (a: Tensor, b: Scalar) -> Tensor<Bool> { binary(.gt, a, scalar: b) }
    /// Elementwise `x >= b` against a scalar, as a Bool tensor.
    public static func .>= (a: Tensor, b: Scalar) -> Tensor<Bool> { binary(.ge, a, scalar: b) }
}

/// Elementwise maximum of two tensors (NaN propagates).
public func max<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.maximum(a, b) }
/// Elementwise minimum of two tensors (NaN propagates).
public func min<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.minimum(a, b) }
/// Elementwise maximum of a tensor and a scalar (NaN propagates).
public func max<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: S) -> Tensor<S> { Tensor.maximum(a, Tensor(b)) }
/// Elementwise minimum of a tensor and a scalar (NaN propagates).
public func min<S: NumericTensorScalar>(_ a: Tensor<S>, _ b: S) -> Tensor<S> { Tensor.minimum(a, Tensor(b)) }
/// `x.abs()`, under NumPy's free-function spelling.
public func abs<S: NumericTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.abs() }
/// `x.pow(y)` (`numpy.power`), with broadcasting.
public func pow<S: NumericTensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>) -> Tensor<S> { x.pow(y) }
/// `x.pow(y)` with a scalar exponent.
public func pow<S: NumericTensorScalar>(_ x: Tensor<S>, _ y: S) -> Tensor<S> { x.pow(y) }

// MARK: - Floating-point functions

extension Tensor where Scalar: FloatingTensorScalar {
    /// Square root (`numpy.sqrt`); NaN for negative elements.
    public func sqrt() -> Tensor { unary(.sqrt) }
    /// `e` raised to each element (`numpy.exp`).
    public func exp() -> Tensor { unary(.exp) }
    /// Natural logarithm (`numpy.log`); -inf at 0, NaN for negative elements.
    public func log() -> Tensor { unary(.log) }
    /// Sine (radians; `numpy.sin`).
    public func sin() -> Tensor { unary(.sin) }
    /// Cosine (radians; `numpy.cos`).
    public func cos() -> Tensor { unary(.cos) }
    /// Hyperbolic tangent (`numpy.tanh`).
    public func tanh() -> Tensor { unary(.tanh) }
    /// The error function (`scipy.special.erf`), Tandem's own branch-free version on every device.
    public func erf() -> Tensor { unary(.erf) }
    /// The complementary error function `1 - erf(x)`, accurate in the tail (`scipy.special.erfc`).
    public func erfc() -> Tensor { unary(.erfc) }
    /// Rounds down (`numpy.floor`).
    public func floor() -> Tensor { unary(.floor) }
    /// Rounds up (`numpy.ceil`).
    public func ceil() -> Tensor { unary(.ceil) }
}

/// `x.sqrt()`, under NumPy's free-function spelling.
public func sqrt<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.sqrt() }
/// `x.exp()`, under NumPy's free-function spelling.
public func exp<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.exp() }
/// `x.log()`, under NumPy's free-function spelling.
public func log<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.log() }
/// `x.sin()`, under NumPy's free-function spelling.
public func sin<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.sin() }
/// `x.cos()`, under NumPy's free-function spelling.
public func cos<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.cos() }
/// `x.tanh()`, under NumPy's free-function spelling.
public func tanh<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.tanh() }
/// `x.erf()`, under NumPy's free-function spelling.
public func erf<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.erf() }
/// `x.erfc()`, under NumPy's free-function spelling.
public func erfc<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.erfc() }
/// `x.floor()`, under NumPy's free-function spelling.
public func floor<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.floor() }
/// `x.ceil()`, under NumPy's free-function spelling.
public func ceil<S: FloatingTensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x.ceil() }

// MARK: - Logic

extension Tensor where Scalar == Bool {
    /// Elementwise logical and.
    public static func .& (a: Tensor, b: Tensor) -> Tensor { binary(.and, a, b, "logical_and") }
    /// Elementwise logical or.
    public static func .| (a: Tensor, b: Tensor) -> Tensor { binary(.or, a, b, "logical_or") }
    /// Elementwise logical not.
    public static prefix func .! (a: Tensor) -> Tensor { a.unary(.not) }
}

/// `condition ? a : b` elementwise, with broadcasting, like `numpy.where` (the same as
/// `select(_:_:_:)`, which needs no backticks).
///
///     let x = Tensor<Double>([-1, 0.5, 2])
///     let clipped = `where`(x .> 1.0, Tensor(1.0), x)
public func `where`<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { select(condition, a, b) }
/// `numpy.where` with a scalar where the condition holds (see `select`).
public func `where`<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: S, _ b: Tensor<S>) -> Tensor<S> { select(condition, Tensor(a), b) }
/// `numpy.where` with a scalar where the condition does not hold (see `select`).
public func `where`<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: Tensor<S>, _ b: S) -> Tensor<S> { select(condition, a, Tensor(b)) }
/// `numpy.where` with scalars on both sides (see `select`): a tensor of the condition's shape.
///
///     let signs: Tensor<Double> = `where`(x .< 0.5, -1, 1)
public func `where`<S: TensorScalar>(_ condition: Tensor<Bool>, _ a: S, _ b: S) -> Tensor<S> { select(condition, Tensor(a), Tensor(b)) }
