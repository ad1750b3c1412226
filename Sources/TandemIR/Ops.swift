/// Elementwise operations of one operand.
public enum UnaryOp: String, Sendable, Hashable, CaseIterable {
    case neg, abs, sqrt, exp, log, sin, cos, tanh, erf, erfc, floor, ceil
    // The rest of C99's <math.h> that NumPy names (the raw value is the C function's name).
    case tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh
    case log1p, expm1, log2, log10, exp2, cbrt
    /// Round toward zero.
    case trunc
    /// Round to the nearest integer, ties to even (`numpy.round`/`numpy.rint`).
    case rint
    /// Bitwise not (integers only, `numpy.invert`).
    case bitNot
    /// Logical not (Bool only).
    case not

    /// Whether the operation is defined only for floating-point operands.
    public var floatingOnly: Bool {
        switch self {
        case .neg, .abs, .not, .bitNot: false
        default: true
        }
    }

    /// The cost class used by the cost model.
    public var costClass: OpClass {
        switch self {
        case .neg, .abs, .not, .floor, .ceil, .trunc, .rint, .bitNot: .simple
        case .sqrt: .sqrt
        case .exp: .exp
        case .log, .tanh, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh,
             .log1p, .expm1, .log2, .log10, .exp2, .cbrt: .transcendental
        case .erf, .erfc: .erf
        }
    }
}

/// Elementwise operations of two operands of the same type.
public enum BinaryOp: String, Sendable, Hashable, CaseIterable {
    case add, sub, mul, div, rem, pow, min, max
    /// Floating-point only: `atan2(a, b)` and `hypot(a, b)` as in C99.
    case atan2, hypot
    /// Integers only: bitwise and, or, exclusive or; shifts (a count outside 0..<width gives 0,
    /// or -1 for a negative value shifted right, as NumPy).
    case bitAnd, bitOr, bitXor, shiftLeft, shiftRight
    case eq, ne, lt, le, gt, ge
    /// Logical and / or (Bool only).
    case and, or

    /// Comparisons produce `Bool` whatever their operand type.
    public var isComparison: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge: true
        default: false
        }
    }

    public var isLogical: Bool { self == .and || self == .or }

    public var costClass: OpClass {
        switch self {
        case .div, .rem: .divide
        case .pow: .pow
        case .atan2: .transcendental
        case .hypot: .sqrt
        default: .simple
        }
    }
}

/// Reductions over one or more axes.
public enum ReduceOp: String, Sendable, Hashable, CaseIterable {
    case sum, prod, max, min, argmax, argmin

    public var isArg: Bool { self == .argmax || self == .argmin }
}

/// Classes of operations by cost, for the cost model and for statistics.
public enum OpClass: String, Sendable, Hashable, CaseIterable {
    /// `exp` is a class of its own: Tandem's own exponential (`tk_exp`, vectorised; a row
    /// function in the interpreter), where the other transcendentals are the math library's
    /// scalar calls, several times slower (log and cos 5-20 ns against exp's 1-2).
    case simple, divide, sqrt, exp, transcendental, erf, pow
}

// Positions of the operations in `allCases`, for structural keys (`PlanCache`): `allCases` is
// an array built anew at every access, searching it cost a key hundreds of instructions a node,
// and hashing these String-backed enums (for a table) hashes their names. A case of an enum
// without payloads is stored as its position, one byte; that is checked once against
// `allCases`, and the position is searched for if it ever fails.
@inline(__always)
private func storedPosition<T>(_ value: T) -> Int {
    MemoryLayout<T>.size == 1 ? withUnsafeBytes(of: value) { Int($0[0]) } : -1
}

private func positionsAreStored<T: CaseIterable & Equatable>(_ type: T.Type) -> Bool {
    Array(T.allCases).enumerated().allSatisfy { storedPosition($1) == $0 }
}

extension UnaryOp {
    private static let stored = positionsAreStored(UnaryOp.self)
    /// This operation's position in `allCases`.
    public var ordinal: Int { UnaryOp.stored ? storedPosition(self) : UnaryOp.allCases.firstIndex(of: self)! }
}

extension BinaryOp {
    private static let stored = positionsAreStored(BinaryOp.self)
    /// This operation's position in `allCases`.
    public var ordinal: Int { BinaryOp.stored ? storedPosition(self) : BinaryOp.allCases.firstIndex(of: self)! }
}

extension ReduceOp {
    private static let stored = positionsAreStored(ReduceOp.self)
    /// This operation's position in `allCases`.
    public var ordinal: Int { ReduceOp.stored ? storedPosition(self) : ReduceOp.allCases.firstIndex(of: self)! }
}
