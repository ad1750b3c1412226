/// Why an `.npy` or `.npz` file could not be read or written: what is wrong and where.
///
/// `path` is the file; for an array inside an `.npz` archive it is `archive.npz/name.npy`, and
/// byte offsets then count from the start of that member. Nothing is loaded from a file that
/// throws, and a save that throws leaves any earlier file at the path as it was.
///
///     do { let t = try Tensor<Float>(npy: "weights.npy") }
///     catch let e as NPYError { print(e) }
///     // weights.npy: holds float64 values, not float32 (pass converting: true to convert them)
public enum NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened, read or written (`reason` is the system's text).
    case io(path: String, operation: String, reason: String)
    /// The path names a directory, FIFO, device or socket, not a regular file.
    case notARegularFile(path: String, kind: String)
    /// The file, or a member once decompressed, is larger than what may be read into memory.
    case tooLarge(path: String, bytes: Int, limit: Int)
    /// The bytes do not follow the format; `offset` is where the problem was found.
    case malformed(path: String, offset: Int, reason: String)
    /// An `.npy` format version other than 1.0, 2.0 or 3.0.
    case unsupportedVersion(path: String, major: UInt8, minor: UInt8)
    /// A NumPy element type Tandem has no tensor for (`<f2`, `<u8`, `<c32`, `|O`, structured).
    case unsupportedDType(path: String, descr: String)
    /// The file holds `file` values and a `Tensor` of `requested` was asked for without
    /// `converting: true`.
    case dtypeMismatch(path: String, file: DType, requested: DType)
    /// Complex values asked for as a real `Tensor`, or real ones as a `ComplexTensor` without
    /// `converting: true`; `file` and `requested` are NumPy's names (`complex128`, `float64`).
    case complexMismatch(path: String, file: String, requested: String)
    /// The data after the header is not the size the header's shape and dtype give
    /// (`actual < expected`: truncated; `actual > expected`: trailing bytes).
    case wrongDataSize(path: String, expected: Int, actual: Int)
    /// A `bool` element that is neither 0 nor 1.
    case invalidBool(path: String, offset: Int, byte: UInt8)
    /// An `.npz` archive has no array of this name.
    case missingArray(path: String, name: String, available: [String])
    /// An `.npz` member's CRC-32 does not match its contents (the archive is corrupt).
    case checksumMismatch(path: String, expected: UInt32, actual: UInt32)
    /// A compressed `.npz` member could not be inflated, or an archive could not be compressed.
    case compression(path: String, reason: String)
    /// A name that cannot be stored in an `.npz` archive, or a tensor NumPy could not read.
    case invalidArgument(path: String, reason: String)

    /// One line naming the file and what is wrong with it.
    public var description: String {
        switch self {
        case let .io(path, operation, reason):
            return "\(path): could not \(operation): \(reason)"
        case let .notARegularFile(path, kind):
            return "\(path): is a \(kind), not a regular file"
        case let .tooLarge(path, bytes, limit):
            return "\(path): \(bytes) bytes is more than the \(limit) bytes that may be read into memory"
        case let .malformed(path, offset, reason):
            return "\(path): at byte \(offset): \(reason)"
        case let .unsupportedVersion(path, major, minor):
            return "\(path): .npy format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)"
        case let .unsupportedDType(path, descr):
            return "\(path): NumPy dtype \(descr)\(NPYFormat.numpyName(descr).map { " (\($0))" } ?? "") is not supported;"
                + " Tandem supports bool '|b1', int8 '|i1', int16 '<i2', int32 '<i4', int64 '<i8', uint8 '|u1', uint16 '<u2', uint32 '<u4', uint64 '<u8', float32 '<f4' and float64 '<f8', and complex64 '<c8' and complex128 '<c16' as ComplexTensor (either byte order)"
        case let .dtypeMismatch(path, file, requested):
            return "\(path): holds \(file) values, not \(requested) (pass converting: true to convert them)"
        case let .complexMismatch(path, file, requested):
            if file.hasPrefix("complex") {
                return "\(path): holds \(file) values, not \(requested): load it as ComplexTensor<\(file == "complex64" ? "Float" : "Double")>(npy:)"
            }
            return "\(path): holds \(file) values, not \(requested) (pass converting: true to load them with zero imaginary parts)"
        case let .wrongDataSize(path, expected, actual):
            let what = actual < expected ? "truncated" : "trailing bytes"
            return "\(path): \(what): the header's shape and dtype need \(expected) bytes of data, the file has \(actual)"
        case let .invalidBool(path, offset, byte):
            return "\(path): at byte \(offset): bool element is \(byte), not 0 or 1"
        case let .missingArray(path, name, available):
            return "\(path): no array named '\(name)' (the archive holds "
                + (available.isEmpty ? "none" : available.map { "'\($0)'" }.joined(separator: ", ")) + ")"
        case let .checksumMismatch(path, expected, actual):
            return "\(path): CRC-32 is \(hex(actual)), the archive says \(hex(expected)): the archive is corrupt"
        case let .compression(path, reason):
            return "\(path): \(reason)"
        case let .invalidArgument(path, reason):
            return "\(path): \(reason)"
        }
    }

    private func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
