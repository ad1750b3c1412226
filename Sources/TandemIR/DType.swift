/// The element types a tensor can hold.
///
/// Booleans are stored as one byte (0 or 1), matching Swift's `Bool` layout and C's `uint8_t`.
public enum DType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // New cases go at the end: the raw values name dtypes in plan-cache keys.
    case bool, int32, int64, float32, float64
    case int8, int16, uint8, uint16, uint32
    /// Held everywhere as the bits of an `Int64` (`Literal.int`, the interpreter's registers):
    /// the operations where the two differ (ordering, division, right shifts, conversions to and
    /// from floats) are the unsigned ones wherever a dtype decides them.
    case uint64

    /// Bytes per element in memory.
    public var byteSize: Int {
        switch self {
        case .bool, .int8, .uint8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
    public var isInteger: Bool { !isFloatingPoint && self != .bool }
    /// `uint8`, `uint16`, `uint32`, `uint64`.
    public var isUnsigned: Bool { self == .uint8 || self == .uint16 || self == .uint32 || self == .uint64 }
    /// Integer types narrower than 64 bits: their values are held in an `Int64` sign- or
    /// zero-extended, and every operation's result is wrapped back to the width (`wrap`).
    public var isNarrowInteger: Bool { isInteger && byteSize < 8 }

    /// Bits of an integer type (64 for `int64`; 0 for others).
    public var bits: Int { isInteger ? byteSize * 8 : 0 }

    /// An `Int64` wrapped to this integer type's width, as C's conversion to the type does
    /// (two's complement): sign-extended for signed types, zero-extended for unsigned ones.
    @inline(__always)
    public func wrap(_ v: Int64) -> Int64 {
        switch self {
        case .int8: Int64(Int8(truncatingIfNeeded: v))
        case .int16: Int64(Int16(truncatingIfNeeded: v))
        case .int32: Int64(Int32(truncatingIfNeeded: v))
        case .uint8: Int64(UInt8(truncatingIfNeeded: v))
        case .uint16: Int64(UInt16(truncatingIfNeeded: v))
        case .uint32: Int64(UInt32(truncatingIfNeeded: v))
        default: v
        }
    }

    /// The smallest and largest values of an integer type (float-to-int casts saturate there);
    /// for `uint64`, whose largest value no `Int64` holds, `Int64`'s (see `Literal.saturatingUInt64`).
    public var integerRange: (min: Int64, max: Int64) {
        switch self {
        case .int8: (Int64(Int8.min), Int64(Int8.max))
        case .int16: (Int64(Int16.min), Int64(Int16.max))
        case .int32: (Int64(Int32.min), Int64(Int32.max))
        case .uint8: (0, Int64(UInt8.max))
        case .uint16: (0, Int64(UInt16.max))
        case .uint32: (0, Int64(UInt32.max))
        default: (Int64.min, Int64.max)
        }
    }

    /// NumPy's spelling (`float64`, `int32`, `uint8`, `bool`).
    public var description: String {
        switch self {
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float32: "float32"
        case .float64: "float64"
        }
    }

    /// The short name used in kernel IR and generated code (`f64`, `i32`, `u8`, `b8`).
    public var shortName: String {
        switch self {
        case .bool: "b8"
        case .int8: "i8"
        case .int16: "i16"
        case .int32: "i32"
        case .int64: "i64"
        case .uint8: "u8"
        case .uint16: "u16"
        case .uint32: "u32"
        case .uint64: "u64"
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

    /// The value as a `Double`, integers read as `Int64` (signed): a `uint64` literal past 2^63
    /// comes out negative here; where the type may be `uint64`, use `asDouble(of:)`.
    public var asDouble: Double {
        switch self {
        case .float(let v): v
        case .int(let v): Double(v)
        case .bool(let v): v ? 1 : 0
        }
    }

    /// The value as a `Double` when the literal is of type `dtype` (a `uint64` literal's bits
    /// read unsigned).
    public func asDouble(of dtype: DType) -> Double {
        if dtype == .uint64, case .int(let v) = self { return Double(UInt64(bitPattern: v)) }
        return asDouble
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
        case .int64: return .int(asInt64)
        case .int8, .int16, .int32, .uint8, .uint16, .uint32, .uint64:
            switch self {
            case .float(let v): return .int(Literal.saturating(v, to: dtype))
            default: return .int(dtype.wrap(asInt64))
            }
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

    /// Float to `uint64` as Tandem defines it (the result's bits as an `Int64`): truncation toward
    /// zero, NaN to 0, saturation at 0 and 2^64 - 1.
    public static func saturatingUInt64(_ v: Double) -> Int64 {
        if v.isNaN || v <= 0 { return 0 }
        if v >= 18446744073709551615.0 { return -1 }
        return Int64(bitPattern: UInt64(v.rounded(.towardZero)))
    }

    /// Float to a narrow integer type as Tandem defines it: truncation toward zero, NaN to 0,
    /// saturation at the type's bounds (a negative value to an unsigned type gives 0).
    public static func saturating(_ v: Double, to dtype: DType) -> Int64 {
        if dtype == .uint64 { return saturatingUInt64(v) }
        let (lo, hi) = dtype.integerRange
        if v.isNaN { return 0 }
        if v >= Double(hi) { return hi }
        if v <= Double(lo) { return lo }
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

/// A Swift type that can be a tensor element: `Float`, `Double`, `Int8`, `Int16`, `Int32`,
/// `Int64`, `UInt8`, `UInt16`, `UInt32`, `UInt64` or `Bool`.
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

/// The integer element types, whose literals hold the value as an `Int64` (sign- or
/// zero-extended): the conversions written once.
public protocol IntegerTensorScalarLiteral: NumericTensorScalar, FixedWidthInteger {}

extension IntegerTensorScalarLiteral {
    public var literal: Literal { .int(Int64(truncatingIfNeeded: self)) }
    public init(literal: Literal) { self = Self(truncatingIfNeeded: literal.asInt64) }
}

extension Int8: IntegerTensorScalarLiteral { public static var dtype: DType { .int8 } }
extension Int16: IntegerTensorScalarLiteral { public static var dtype: DType { .int16 } }
extension Int32: IntegerTensorScalarLiteral { public static var dtype: DType { .int32 } }
extension Int64: IntegerTensorScalarLiteral { public static var dtype: DType { .int64 } }
extension UInt8: IntegerTensorScalarLiteral { public static var dtype: DType { .uint8 } }
extension UInt16: IntegerTensorScalarLiteral { public static var dtype: DType { .uint16 } }
extension UInt32: IntegerTensorScalarLiteral { public static var dtype: DType { .uint32 } }
extension UInt64: IntegerTensorScalarLiteral { public static var dtype: DType { .uint64 } }

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    public var literal: Literal { .bool(self) }
    public init(literal: Literal) { self = literal.asInt64 != 0 }
}

extension DType {
    /// Element `i` of a buffer of this integer (or Bool) type at `p`, widened to `Int64`
    /// (sign-extended for signed types, zero-extended for unsigned ones and Bool; `uint64`'s bits).
    @inline(__always)
    public func loadInteger(_ p: UnsafeRawPointer, _ i: Int) -> Int64 {
        switch self {
        case .bool, .uint8: Int64(p.load(fromByteOffset: i, as: UInt8.self))
        case .int8: Int64(p.load(fromByteOffset: i, as: Int8.self))
        case .int16: Int64(p.load(fromByteOffset: i * 2, as: Int16.self))
        case .uint16: Int64(p.load(fromByteOffset: i * 2, as: UInt16.self))
        case .int32: Int64(p.load(fromByteOffset: i * 4, as: Int32.self))
        case .uint32: Int64(p.load(fromByteOffset: i * 4, as: UInt32.self))
        case .int64, .uint64: p.load(fromByteOffset: i * 8, as: Int64.self)
        case .float32, .float64: preconditionFailure("\(self) is not an integer type")
        }
    }

    /// Stores `v` (already wrapped to this integer type) as element `i` of a buffer at `p`.
    @inline(__always)
    public func storeInteger(_ v: Int64, _ p: UnsafeMutableRawPointer, _ i: Int) {
        switch byteSize {
        case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: i * 2, as: UInt16.self)
        case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: i * 4, as: UInt32.self)
        default: p.storeBytes(of: v, toByteOffset: i * 8, as: Int64.self)
        }
    }
}
