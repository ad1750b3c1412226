// Arithmetic between a floating-point tensor and a scalar, one overload per element type.
//
// Trade-off, measured (held-out round 4; `swiftc -typecheck`, on the module and on a model of
// its overloads): with only the generic overloads (`Tensor<S>` and `S`, S inferred), a short
// NumPy line mixing literals, tensors and methods, `(0 - x * x / 2).exp() * (1 + (3 * x)
// .sin().pow(2)) / 2 - 0.5 * y`, was rejected after 23 s ("unable to type-check this expression
// in reasonable time"). With a concrete overload for `Double` and for `Float` the solver binds
// each literal once the tensor's type is known: 0.3 s for the file. Integer element types keep
// only the generic ones (disfavoured, in Tensor+Elementwise.swift, which generic code uses):
// concrete `Int64`/`Int32` forms made ordinary integer code outside any tensor, such as
// `(0..<24).filter { $0 % 4 == 0 || $0 % 4 == 3 }.map(Int64.init)`, fail to type-check.

extension Tensor where Scalar == Double {
    /// Elementwise sum of each element and a `Double`: `x + b`.
    public static func + (a: Tensor, b: Double) -> Tensor { binary(.add, a, scalar: b) }
    /// Elementwise sum of a `Double` and each element: `a + x`.
    public static func + (a: Double, b: Tensor) -> Tensor { binary(.add, scalar: a, b) }
    /// Elementwise difference of each element and a `Double`: `x - b`.
    public static func - (a: Tensor, b: Double) -> Tensor { binary(.sub, a, scalar: b) }
    /// Elementwise difference of a `Double` and each element: `a - x`.
    public static func - (a: Double, b: Tensor) -> Tensor { binary(.sub, scalar: a, b) }
    /// Elementwise product of each element and a `Double`: `x * b`.
    public static func * (a: Tensor, b: Double) -> Tensor { binary(.mul, a, scalar: b) }
    /// Elementwise product of a `Double` and each element: `a * x`.
    public static func * (a: Double, b: Tensor) -> Tensor { binary(.mul, scalar: a, b) }
    /// Elementwise quotient of each element and a `Double`: `x / b`.
    public static func / (a: Tensor, b: Double) -> Tensor { binary(.div, a, scalar: b) }
    /// Elementwise quotient of a `Double` and each element: `a / x`.
    public static func / (a: Double, b: Tensor) -> Tensor { binary(.div, scalar: a, b) }
}

extension Tensor where Scalar == Float {
    /// Elementwise sum of each element and a `Float`: `x + b`.
    public static func + (a: Tensor, b: Float) -> Tensor { binary(.add, a, scalar: b) }
    /// Elementwise sum of a `Float` and each element: `a + x`.
    public static func + (a: Float, b: Tensor) -> Tensor { binary(.add, scalar: a, b) }
    /// Elementwise difference of each element and a `Float`: `x - b`.
    public static func - (a: Tensor, b: Float) -> Tensor { binary(.sub, a, scalar: b) }
    /// Elementwise difference of a `Float` and each element: `a - x`.
    public static func - (a: Float, b: Tensor) -> Tensor { binary(.sub, scalar: a, b) }
    /// Elementwise product of each element and a `Float`: `x * b`.
    public static func * (a: Tensor, b: Float) -> Tensor { binary(.mul, a, scalar: b) }
    /// Elementwise product of a `Float` and each element: `a * x`.
    public static func * (a: Float, b: Tensor) -> Tensor { binary(.mul, scalar: a, b) }
    /// Elementwise quotient of each element and a `Float`: `x / b`.
    public static func / (a: Tensor, b: Float) -> Tensor { binary(.div, a, scalar: b) }
    /// Elementwise quotient of a `Float` and each element: `a / x`.
    public static func / (a: Float, b: Tensor) -> Tensor { binary(.div, scalar: a, b) }
}
