/// An index of a `Tandem.loop` nest: an affine expression of the nest's loop variables
/// (`i`, `i - 1`, `2 * i + j`, `n - 1 - i`). Used in subscripts inside the nest's body and in the
/// bounds of loops nested in it (`Tandem.loop(0..<i) { j in ... }`).
///
///     let n = 100, a = Tensor<Double>.uniform([n], seed: 1)
///     var b = Tensor<Double>.zeros([n])
///     Tandem.loop(1..<n - 1) { i in
///         b[i] = (a[i - 1] + a[i] + a[i + 1]) / 3
///     }
public struct LoopIndex: TensorIndexExpression, Sendable, CustomStringConvertible {
    /// The value when every loop variable of the trace is at its first normalised iteration.
    let constant: Int
    /// The coefficient of each normalised loop variable `t_k` of trace `trace` (the loop's
    /// `k`-th variable is `lower_k + step_k * t_k`); trailing zeros may be left out.
    let coefs: [Int]
    /// The trace whose loop variables `coefs` names; 0 for a constant.
    let trace: UInt64

    init(constant: Int, coefs: [Int] = [], trace: UInt64 = 0) {
        self.constant = constant
        self.coefs = coefs
        self.trace = coefs.contains(where: { $0 != 0 }) ? trace : 0
    }

    /// What this value selects in a subscript.
    public var tensorIndex: TensorIndex { ._loop(self) }

    /// Whether the value is the same at every iteration (a loop variable of an enclosing loop
    /// that runs one iteration at a time is a constant).
    var isConstant: Bool { trace == 0 }

    public var description: String {
        var terms = coefs.enumerated().filter { $0.element != 0 }.map { $0.element == 1 ? "t\($0.offset)" : "\($0.element)*t\($0.offset)" }
        if constant != 0 || terms.isEmpty { terms.insert(String(constant), at: 0) }
        return terms.joined(separator: " + ")
    }

    /// `a + s * b`.
    static func combine(_ a: LoopIndex, _ b: LoopIndex, scale s: Int) -> LoopIndex {
        precondition(a.isConstant || b.isConstant || a.trace == b.trace,
                     "Tandem.loop: loop indices of two different loop nests are combined")
        var c = [Int](repeating: 0, count: max(a.coefs.count, b.coefs.count))
        for (k, x) in a.coefs.enumerated() { c[k] += x }
        for (k, x) in b.coefs.enumerated() { c[k] += s * x }
        return LoopIndex(constant: a.constant + s * b.constant, coefs: c, trace: a.isConstant ? b.trace : a.trace)
    }

    static func scaled(_ a: LoopIndex, _ s: Int) -> LoopIndex {
        LoopIndex(constant: a.constant * s, coefs: a.coefs.map { $0 * s }, trace: a.trace)
    }

    public static func + (a: LoopIndex, b: LoopIndex) -> LoopIndex { combine(a, b, scale: 1) }
    public static func - (a: LoopIndex, b: LoopIndex) -> LoopIndex { combine(a, b, scale: -1) }
    public static func + (a: LoopIndex, b: Int) -> LoopIndex { combine(a, LoopIndex(constant: b), scale: 1) }
    public static func - (a: LoopIndex, b: Int) -> LoopIndex { combine(a, LoopIndex(constant: b), scale: -1) }
    public static func + (a: Int, b: LoopIndex) -> LoopIndex { combine(b, LoopIndex(constant: a), scale: 1) }
    public static func - (a: Int, b: LoopIndex) -> LoopIndex { combine(LoopIndex(constant: a), b, scale: -1) }
    public static func * (a: Int, b: LoopIndex) -> LoopIndex { scaled(b, a) }
    public static func * (a: LoopIndex, b: Int) -> LoopIndex { scaled(a, b) }
    public static prefix func - (a: LoopIndex) -> LoopIndex { scaled(a, -1) }

    /// Loop bounds that depend on an enclosing loop's variable: `0..<i`.
    public static func ..< (a: LoopIndex, b: LoopIndex) -> LoopRange { LoopRange(lower: a, upper: b, step: 1) }
    public static func ..< (a: Int, b: LoopIndex) -> LoopRange { LoopRange(lower: LoopIndex(constant: a), upper: b, step: 1) }
    public static func ..< (a: LoopIndex, b: Int) -> LoopRange { LoopRange(lower: a, upper: LoopIndex(constant: b), step: 1) }
    /// Inclusive bounds that depend on an enclosing loop's variable: `0...i`.
    public static func ... (a: LoopIndex, b: LoopIndex) -> LoopRange { LoopRange(lower: a, upper: b + 1, step: 1) }
    public static func ... (a: Int, b: LoopIndex) -> LoopRange { LoopRange(lower: LoopIndex(constant: a), upper: b + 1, step: 1) }
    public static func ... (a: LoopIndex, b: Int) -> LoopRange { LoopRange(lower: a, upper: LoopIndex(constant: b + 1), step: 1) }
}

/// The iterations of one loop of a `Tandem.loop` nest: `Range<Int>`, `ClosedRange<Int>`,
/// `stride(from:to:by:)` and `stride(from:through:by:)` of `Int`, or bounds written with an
/// enclosing loop's index (`0..<i`, `i + 1..<n`).
public protocol LoopBounds {
    /// The loop's first value, bound (exclusive) and step.
    var loopRange: LoopRange { get }
}

/// Loop bounds: `lower, lower + step, ...` up to `upper` (exclusive); `step` may be negative.
public struct LoopRange: LoopBounds, Sendable {
    public let lower: LoopIndex
    public let upper: LoopIndex
    public let step: Int
    public var loopRange: LoopRange { self }

    public init(lower: LoopIndex, upper: LoopIndex, step: Int) {
        precondition(step != 0, "Tandem.loop: a loop's step cannot be zero")
        self.lower = lower
        self.upper = upper
        self.step = step
    }

    /// First value, step and number of iterations, once the bounds are constants.
    func resolved() -> (lower: Int, step: Int, count: Int) {
        precondition(lower.isConstant && upper.isConstant,
                     "Tandem.loop: a loop's bounds use a variable of the same Tandem.loop call; nest a second call instead")
        return (lower.constant, step, LoopProgram.count(lower: lower.constant, upper: upper.constant, step: step))
    }
}

extension Range: LoopBounds where Bound == Int {
    public var loopRange: LoopRange { LoopRange(lower: LoopIndex(constant: lowerBound), upper: LoopIndex(constant: upperBound), step: 1) }
}
extension ClosedRange: LoopBounds where Bound == Int {
    public var loopRange: LoopRange { LoopRange(lower: LoopIndex(constant: lowerBound), upper: LoopIndex(constant: upperBound + 1), step: 1) }
}
extension StrideTo: LoopBounds where Element == Int {
    public var loopRange: LoopRange {
        let (start, end, step) = strideParts(self)
        return LoopRange(lower: LoopIndex(constant: start), upper: LoopIndex(constant: end), step: step)
    }
}
extension StrideThrough: LoopBounds where Element == Int {
    public var loopRange: LoopRange {
        let (start, end, step) = strideParts(self)
        return LoopRange(lower: LoopIndex(constant: start), upper: LoopIndex(constant: end + (step > 0 ? 1 : -1)), step: step)
    }
}

extension Tensor where Scalar: NumericTensorScalar {
    /// A loop index's value inside a `Tandem.loop` body, as an element of this type.
    ///
    ///     let (n, m) = (4, 3)
    ///     var a = Tensor<Double>.zeros([n, m])
    ///     Tandem.loop(0..<n, 0..<m) { i, j in
    ///         a[i, j] = (Tensor<Double>(i) * Tensor<Double>(j + 1)) % Double(n) / Double(n)
    ///     }
    public init(_ index: LoopIndex) {
        guard let recorder = LoopNest.current else { preconditionFailure("a loop index is used outside its Tandem.loop") }
        self.init(node: recorder.value(of: index, dtype: Scalar.dtype))
    }
}
