#if canImport(Glibc)
import Glibc
#endif

/// What an `.npy` header says, checked against the file's size.
struct NPYHeader: Equatable, Sendable {
    var dtype: DType
    /// The data's byte order is big-endian (false for one-byte types).
    var bigEndian: Bool
    /// The data is stored column-major (NumPy's `fortran_order`).
    var fortranOrder: Bool
    var shape: [Int]
    /// Elements (the product of `shape`).
    var count: Int
    /// Where the data starts; it runs to the end of the bytes, `count * elementSize` long.
    var dataOffset: Int
    /// The elements are complex (`<c8`, `<c16`): each is a real and an imaginary part of `dtype`,
    /// interleaved, as NumPy stores them.
    var complex = false

    /// Bytes an element: one part of `dtype`, two for a complex element.
    var elementSize: Int { dtype.byteSize * (complex ? 2 : 1) }
}

/// The `.npy` format (NumPy's `numpy.lib.format`): parsing and checking a header, turning the
/// data into Tandem's layout, and writing a header. Pure: bytes in, bytes out, no files.
///
/// A file is the magic `\x93NUMPY`, a version (1.0: a 2-byte header length; 2.0 and 3.0: 4
/// bytes), the header, a Python dict literal such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and a
/// newline, and then the raw elements. Every count from the file is checked before use: no input
/// traps, reads out of bounds or allocates more than the file's own size.
enum NPYFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    /// The longest header read (NumPy refuses more than 10,000 characters by default; a header for
    /// a 64-axis shape is under 2 KiB). Refusing more keeps a corrupt length from costing memory.
    static let maximumHeaderLength = 1 << 20
    /// NumPy's limit on the number of axes (`NPY_MAXDIMS` in NumPy 2).
    static let maximumRank = 64

    static var hostIsBigEndian: Bool { UInt16(1).bigEndian == 1 }

    // MARK: - Reading

    /// The header of the `.npy` file in `bytes`, checked: supported version and dtype, the three
    /// keys, a valid shape, and exactly `count * itemsize` bytes of data after the header.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NPYHeader {
        let n = bytes.count
        for i in 0..<min(n, magic.count) where bytes[i] != magic[i] {
            throw NPYError.malformed(path: path, offset: i, reason: "not an .npy file (it does not start with \\x93NUMPY)")
        }
        guard n >= 10 else {
            throw NPYError.malformed(path: path, offset: n, reason: "truncated: \(n) bytes, shorter than the .npy preamble")
        }
        let major = bytes[6], minor = bytes[7]
        guard (1...3).contains(major) && minor == 0 else {
            throw NPYError.unsupportedVersion(path: path, major: major, minor: minor)
        }
        let prefix = major == 1 ? 10 : 12
        guard n >= prefix else {
            throw NPYError.malformed(path: path, offset: n, reason: "truncated: \(n) bytes, shorter than the .npy preamble")
        }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerLength <= maximumHeaderLength else {
            throw NPYError.malformed(path: path, offset: 8, reason: "header length \(headerLength) is absurd (at most \(maximumHeaderLength) is read)")
        }
        guard headerLength <= n - prefix else {
            throw NPYError.malformed(path: path, offset: n, reason: "truncated inside the header (it is \(headerLength) bytes from byte \(prefix))")
        }
        // This is safe: prefix + headerLength <= n was checked just above.
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[prefix..<(prefix + headerLength)])
        if major == 3, !isValidUTF8(headerBytes) {
            throw NPYError.malformed(path: path, offset: prefix, reason: "a version 3.0 header must be UTF-8")
        }
        var parser = PyLiteralParser(bytes: headerBytes, base: prefix, path: path)
        let dict = try parser.parseHeader()
        var descr: (PyLiteral, Int)?, fortran: (PyLiteral, Int)?, shape: (PyLiteral, Int)?
        for (key, value, offset) in dict {
            guard case .string(let k) = key else {
                throw NPYError.malformed(path: path, offset: offset, reason: "header keys must be strings")
            }
            switch String(decoding: k, as: UTF8.self) {
            case "descr" where descr == nil: descr = (value, offset)
            case "fortran_order" where fortran == nil: fortran = (value, offset)
            case "shape" where shape == nil: shape = (value, offset)
            case "descr", "fortran_order", "shape":
                throw NPYError.malformed(path: path, offset: offset, reason: "header repeats the key '\(String(decoding: k, as: UTF8.self))'")
            default:
                throw NPYError.malformed(path: path, offset: offset,
                                         reason: "header has the unexpected key \(PyLiteral.string(k)) (only 'descr', 'fortran_order' and 'shape')")
            }
        }
        guard let descr, let fortran, let shape else {
            let missing = [("descr", descr == nil), ("fortran_order", fortran == nil), ("shape", shape == nil)].filter(\.1).map { "'\($0.0)'" }
            throw NPYError.malformed(path: path, offset: prefix, reason: "header has no \(missing.joined(separator: " or "))")
        }
        let (dtype, bigEndian, complex) = try parseDescr(descr.0, path: path, offset: descr.1)
        guard case .bool(let fortranOrder) = fortran.0 else {
            throw NPYError.malformed(path: path, offset: fortran.1, reason: "fortran_order is \(fortran.0), not True or False")
        }
        let dims = try parseShape(shape.0, path: path, offset: shape.1)
        let (count, dataBytes) = try checkedSize(dims, itemSize: dtype.byteSize * (complex ? 2 : 1), path: path, offset: shape.1)
        let dataOffset = prefix + headerLength
        guard n - dataOffset == dataBytes else {
            throw NPYError.wrongDataSize(path: path, expected: dataBytes, actual: n - dataOffset)
        }
        return NPYHeader(dtype: dtype, bigEndian: bigEndian, fortranOrder: fortranOrder, shape: dims, count: count, dataOffset: dataOffset,
                         complex: complex)
    }

    /// The dtype and byte order of a `descr` string: Tandem's types, and complex64/complex128 as
    /// their part's type with `complex` set.
    static func parseDescr(_ value: PyLiteral, path: String, offset: Int) throws -> (DType, bigEndian: Bool, complex: Bool) {
        guard case .string(let s) = value else {
            if case .list = value { throw NPYError.unsupportedDType(path: path, descr: "\(value)") }
            throw NPYError.malformed(path: path, offset: offset, reason: "descr is \(value), not a dtype string")
        }
        var body = s[...]
        var order: UInt8 = UInt8(ascii: "=")
        if let first = body.first, [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: "=")].contains(first) {
            order = first
            body = body.dropFirst()
        }
        let dtype: DType
        var complex = false
        switch String(decoding: body, as: UTF8.self) {
        case "b1": dtype = .bool
        case "i1": dtype = .int8
        case "i2": dtype = .int16
        case "u1": dtype = .uint8
        case "u2": dtype = .uint16
        case "u4": dtype = .uint32
        case "u8": dtype = .uint64
        case "i4": dtype = .int32
        case "i8": dtype = .int64
        case "f4": dtype = .float32
        case "f8": dtype = .float64
        case "c8": (dtype, complex) = (.float32, true)
        case "c16": (dtype, complex) = (.float64, true)
        default: throw NPYError.unsupportedDType(path: path, descr: "\(value)")
        }
        let big: Bool
        switch order {
        case UInt8(ascii: "<"): big = false
        case UInt8(ascii: ">"): big = true
        default: big = hostIsBigEndian  // '=' and '|' (and no prefix): the writer's native order, taken as ours
        }
        return (dtype, dtype.byteSize > 1 && big, complex)
    }

    /// The extents of a `shape` tuple: non-negative integers, at most `maximumRank` of them.
    static func parseShape(_ value: PyLiteral, path: String, offset: Int) throws -> [Int] {
        guard case .tuple(let items) = value else {
            throw NPYError.malformed(path: path, offset: offset, reason: "shape is \(value), not a tuple of integers")
        }
        guard items.count <= maximumRank else {
            throw NPYError.malformed(path: path, offset: offset, reason: "shape has \(items.count) axes, more than NumPy's \(maximumRank)")
        }
        return try items.map { item in
            guard case .int(let v) = item else {
                throw NPYError.malformed(path: path, offset: offset, reason: "shape is \(value), not a tuple of integers")
            }
            guard let v, v >= 0 else {
                throw NPYError.malformed(path: path, offset: offset, reason: "shape \(value) has a negative or too large extent")
            }
            return v
        }
    }

    /// Elements and data bytes of a shape. The product of the non-zero extents must fit too, so
    /// that no later computation over the shape (strides, a reshape) can overflow.
    static func checkedSize(_ shape: [Int], itemSize: Int, path: String, offset: Int) throws -> (count: Int, bytes: Int) {
        var product = 1
        for d in shape where d != 0 {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NPYError.malformed(path: path, offset: offset, reason: "shape \(Shape.describe(shape)) has more elements than fit in memory") }
            product = p
        }
        let (bytes, overflow) = product.multipliedReportingOverflow(by: itemSize)
        guard !overflow else { throw NPYError.malformed(path: path, offset: offset, reason: "shape \(Shape.describe(shape)) has more bytes than fit in memory") }
        return shape.contains(0) ? (0, 0) : (product, bytes)
    }

    /// Copies the data into `out` (room for `count` elements) in Tandem's layout: row-major, the
    /// host's byte order. Throws on a bool byte other than 0 or 1.
    static func decode(_ bytes: UnsafeRawBufferPointer, _ h: NPYHeader, into out: UnsafeMutableRawPointer, path: String) throws {
        let size = h.elementSize
        let byteCount = h.count * size  // checked in parseHeader
        guard byteCount > 0, let base = bytes.baseAddress else { return }
        // This is safe: parseHeader checked that the data runs from dataOffset to the end exactly.
        let src = base + h.dataOffset
        if h.dtype == .bool {
            let b = src.assumingMemoryBound(to: UInt8.self)
            for i in 0..<byteCount where b[i] > 1 {
                throw NPYError.invalidBool(path: path, offset: h.dataOffset + i, byte: b[i])
            }
        }
        if h.fortranOrder && h.shape.count > 1 {
            transposeFromColumnMajor(src, into: out, shape: h.shape, itemSize: size)
        } else {
            out.copyMemory(from: src, byteCount: byteCount)
        }
        // Each part of a complex element is swapped on its own, as NumPy's byte order is per part.
        if h.bigEndian != hostIsBigEndian { swapBytes(out, count: h.count * (h.complex ? 2 : 1), itemSize: h.dtype.byteSize) }
    }

    /// Column-major elements of `shape` to row-major, walking the output in order with an
    /// odometer over the input's strides (no division per element).
    static func transposeFromColumnMajor(_ src: UnsafeRawPointer, into out: UnsafeMutableRawPointer, shape: [Int], itemSize: Int) {
        let rank = shape.count
        var strides = [Int](repeating: 1, count: rank)  // column-major strides, in elements
        for k in 1..<rank { strides[k] = strides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: rank)
        var from = 0
        let count = shape.reduce(1, *)  // checked by the caller (count > 0 here)
        // This is safe: the odometer keeps each index below its extent, so `from` < count.
        for to in 0..<count {
            switch itemSize {
            case 1: out.storeBytes(of: src.load(fromByteOffset: from, as: UInt8.self), toByteOffset: to, as: UInt8.self)
            case 2: out.storeBytes(of: src.loadUnaligned(fromByteOffset: from * 2, as: UInt16.self), toByteOffset: to * 2, as: UInt16.self)
            case 4: out.storeBytes(of: src.loadUnaligned(fromByteOffset: from * 4, as: UInt32.self), toByteOffset: to * 4, as: UInt32.self)
            case 16:
                out.storeBytes(of: src.loadUnaligned(fromByteOffset: from * 16, as: UInt64.self), toByteOffset: to * 16, as: UInt64.self)
                out.storeBytes(of: src.loadUnaligned(fromByteOffset: from * 16 + 8, as: UInt64.self), toByteOffset: to * 16 + 8, as: UInt64.self)
            default: out.storeBytes(of: src.loadUnaligned(fromByteOffset: from * 8, as: UInt64.self), toByteOffset: to * 8, as: UInt64.self)
            }
            var k = rank - 1
            index[k] += 1
            from += strides[k]
            while k > 0 && index[k] == shape[k] {
                from -= strides[k] * shape[k]
                index[k] = 0
                k -= 1
                index[k] += 1
                from += strides[k]
            }
        }
    }

    /// Reverses the bytes of each of `count` elements in place.
    static func swapBytes(_ p: UnsafeMutableRawPointer, count: Int, itemSize: Int) {
        // This is safe: callers pass memory holding `count` elements of `itemSize` bytes.
        switch itemSize {
        case 2:
            for i in 0..<count { p.storeBytes(of: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).byteSwapped, toByteOffset: i * 2, as: UInt16.self) }
        case 4:
            for i in 0..<count { p.storeBytes(of: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).byteSwapped, toByteOffset: i * 4, as: UInt32.self) }
        case 8:
            for i in 0..<count { p.storeBytes(of: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).byteSwapped, toByteOffset: i * 8, as: UInt64.self) }
        default:
            break
        }
    }

    // MARK: - Writing

    /// NumPy's `descr` for a dtype, little-endian; `complex`: for complex elements of parts of
    /// `dtype` (`<c8`, `<c16`).
    static func descr(_ dtype: DType, complex: Bool = false) -> String {
        if complex { return dtype == .float32 ? "<c8" : "<c16" }
        return descr(dtype)
    }

    /// NumPy's `descr` for a dtype, little-endian.
    static func descr(_ dtype: DType) -> String {
        switch dtype {
        case .bool: "|b1"
        case .int8: "|i1"
        case .int16: "<i2"
        case .uint8: "|u1"
        case .uint16: "<u2"
        case .uint32: "<u4"
        case .uint64: "<u8"
        case .int32: "<i4"
        case .int64: "<i8"
        case .float32: "<f4"
        case .float64: "<f8"
        }
    }

    /// The magic, version, length and header of a little-endian, C-order array, byte for byte
    /// what NumPy's `np.save` writes: the dict in sorted key order, spare spaces for growing the
    /// first axis, padded so the data starts at a multiple of 64; version 2.0 only when the
    /// header does not fit a 2-byte length.
    static func header(dtype: DType, shape: [Int], complex: Bool = false) -> [UInt8] {
        let tuple = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr(dtype, complex: complex))', 'fortran_order': False, 'shape': \(tuple), }"
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        return wrap(Array(dict.utf8))
    }

    /// Prefixes `dict` with magic, version and length, and pads it with spaces and a newline.
    static func wrap(_ dict: [UInt8]) -> [UInt8] {
        for (major, lengthBytes) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let withNewline = dict.count + 1
            let padding = 64 - (magic.count + 2 + lengthBytes + withNewline) % 64
            let length = withNewline + padding
            guard lengthBytes == 4 || length <= 0xFFFF else { continue }
            var out = magic + [major, 0]
            for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: length >> (8 * i))) }
            return out + dict + [UInt8](repeating: 0x20, count: padding) + [0x0A]
        }
        fatalError("unreachable: version 2.0 takes any header")
    }

    // MARK: - Messages

    /// NumPy's name for complex elements whose parts are `part` (`complex64`, `complex128`).
    static func complexName(_ part: DType) -> String { part == .float32 ? "complex64" : "complex128" }

    /// NumPy's name for a `descr` string Tandem does not support, for error messages.
    static func numpyName(_ descr: String) -> String? {
        var body = Substring(descr.trimmingQuotes)
        if let f = body.first, "<>|=".contains(f) { body = body.dropFirst() }
        let names: [String: String] = [
            "b1": "bool", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
            "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
            "f2": "float16", "f4": "float32", "f8": "float64", "f16": "longdouble", "f12": "longdouble",
            "c8": "complex64", "c16": "complex128", "c32": "clongdouble", "O": "object", "V": "void",
        ]
        if let name = names[String(body)] { return name }
        switch body.first {
        case "U": return "unicode string"
        case "S": return "byte string"
        case "V": return "void"
        case "M": return "datetime64"
        case "m": return "timedelta64"
        case "[": return "structured"
        default: return nil
        }
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

private extension String {
    var trimmingQuotes: Substring {
        var s = Substring(self)
        if s.first == "'" || s.first == "\"" { s = s.dropFirst() }
        if s.last == "'" || s.last == "\"" { s = s.dropLast() }
        return s
    }
}
