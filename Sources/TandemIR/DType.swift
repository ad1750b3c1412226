/// The element types a tensor can hold.
///
/// Booleans are stored as one byte (0 or 1), matching Swift's `Bool` layout and C's `uint8_t`.
public enum DType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case bool, int32, int64, float32, float64

    /// Bytes per element in memory.
    public var byteSize: Int {
        switch self {
        case .bool: 1
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
    public var isInteger: Bool { self == .int32 || self == .int64 }

    /// NumPy's spelling (`float64`, `int32`, `bool`).
    public var description: String {
        switch self {
        case .bool: "bool"
        case .int32: "int32"
        case .int64: "int64"
        case .float32: "float32"
        case .float64: "float64"
        }
    }

    /// The short name used in kernel IR and generated code (`f64`, `i32`, `b8`).
    public var shortName: String {
        switch self {
        case .bool: "b8"
        case .int32: "i32"
        case .int64: "i64"
        case .float32: "f32"
        case .float64: "f64"
        }
    }
}

/// A compile-time constant or scalar value in one of the element types.
///
/// Floating-point values are held as `Double` (a `Float` converts exactly), integers as `Int64`.
public enum Literal: Hashable, Sendable, CustomStringConvertible {
    case float(Double)
    case int(Int64)
    case bool(Bool)

    public var asDouble: Double {
        switch self {
        case .float(let v): v
        case .int(let v): Double(v)
        case .bool(let v): v ? 1 : 0
        }
    }

    public var asInt64: Int64 {
        switch self {
        case .float(let v): Literal.saturatingInt64(v)
        case .int(let v): v
        case .bool(let v): v ? 1 : 0
        }
    }

    /// The literal converted to `dtype` with Tandem's cast semantics (see `CastSemantics`).
    public func converted(to dtype: DType) -> Literal {
        switch dtype {
        case .bool:
            switch self {
            case .bool: return self
            case .int(let v): return .bool(v != 0)
            case .float(let v): return .bool(v != 0)  // NaN != 0 is true, as in C and NumPy
            }
        case .int32:
            switch self {
            case .float(let v): return .int(Int64(Literal.saturatingInt32(v)))
            default: return .int(Int64(Int32(truncatingIfNeeded: asInt64)))
            }
        case .int64: return .int(asInt64)
        case .float32: return .float(Double(Float(asDouble)))
        case .float64: return .float(asDouble)
        }
    }

    /// Float to Int64 as Tandem defines it: truncation toward zero, NaN to 0, saturation at the bounds.
    public static func saturatingInt64(_ v: Double) -> Int64 {
        if v.isNaN { return 0 }
        if v >= 9.2233720368547758e18 { return .max }
        if v <= -9.2233720368547758e18 { return .min }
        return Int64(v.rounded(.towardZero))
    }

    /// Float to Int32 as Tandem defines it: truncation toward zero, NaN to 0, saturation at the bounds.
    public static func saturatingInt32(_ v: Double) -> Int32 {
        if v.isNaN { return 0 }
        if v >= 2147483647 { return .max }
        if v <= -2147483648 { return .min }
        return Int32(v.rounded(.towardZero))
    }

    public var description: String {
        switch self {
        case .float(let v): HexFloat.describe(v)
        case .int(let v): String(v)
        case .bool(let v): String(v)
        }
    }
}

/// A Swift type that can be a tensor element: `Float`, `Double`, `Int32`, `Int64` or `Bool`.
public protocol TensorScalar: Sendable, Hashable, CustomStringConvertible {
    /// The element type tag of this Swift type.
    static var dtype: DType { get }
    /// The value as a literal of `dtype`.
    var literal: Literal { get }
    /// Converts a literal (already of this type's `dtype`) back to a Swift value.
    init(literal: Literal)
}

/// Element types that support arithmetic and ordering (everything but `Bool`).
public protocol NumericTensorScalar: TensorScalar, Numeric, Comparable {}

/// Floating-point element types (`Float`, `Double`).
public protocol FloatingTensorScalar: NumericTensorScalar, BinaryFloatingPoint {}

extension Float: FloatingTensorScalar {
    public static var dtype: DType { .float32 }
    public var literal: Literal { .float(Double(self)) }
    public init(literal: Literal) { self = Float(literal.asDouble) }
}

extension Double: FloatingTensorScalar {
    public static var dtype: DType { .float64 }
    public var literal: Literal { .float(self) }
    public init(literal: Literal) { self = literal.asDouble }
}

extension Int32: NumericTensorScalar {
    public static var dtype: DType { .int32 }
    public var literal: Literal { .int(Int64(self)) }
    public init(literal: Literal) { self = Int32(truncatingIfNeeded: literal.asInt64) }
}

extension Int64: NumericTensorScalar {
    public static var dtype: DType { .int64 }
    public var literal: Literal { .int(self) }
    public init(literal: Literal) { self = literal.asInt64 }
}

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    public var literal: Literal { .bool(self) }
    public init(literal: Literal) { self = literal.asInt64 != 0 }
}
