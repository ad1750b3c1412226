/// Elementwise operations of one operand.
public enum UnaryOp: String, Sendable, Hashable, CaseIterable {
    case neg, abs, sqrt, exp, log, sin, cos, tanh, erf, erfc, floor, ceil
    /// Logical not (Bool only).
    case not

    /// Whether the operation is defined only for floating-point operands.
    public var floatingOnly: Bool {
        switch self {
        case .neg, .abs, .not: false
        default: true
        }
    }

    /// The cost class used by the cost model.
    public var costClass: OpClass {
        switch self {
        case .neg, .abs, .not, .floor, .ceil: .simple
        case .sqrt: .sqrt
        case .exp, .log, .tanh, .sin, .cos: .transcendental
        case .erf, .erfc: .erf
        }
    }
}

/// Elementwise operations of two operands of the same type.
public enum BinaryOp: String, Sendable, Hashable, CaseIterable {
    case add, sub, mul, div, rem, pow, min, max
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
    case simple, divide, sqrt, transcendental, erf, pow
}
