import TandemRuntime

// MARK: - .npy

extension Tensor {
    /// Loads an array saved by NumPy's `np.save` (or `save(npy:)`).
    ///
    ///     let w = try Tensor<Double>(npy: "weights.npy")
    ///     let m = try Tensor<Float>(npy: "weights.npy", converting: true)   // float64 → float32
    ///
    /// Any byte order and Fortran order are read (the data is rearranged into row-major). The
    /// file's dtype must be `Scalar`'s unless `converting` is true, which converts as
    /// `cast(to:)` does: a mismatch is an error rather than a silent rounding. The whole file is
    /// read and checked before a tensor exists, so a truncated or malformed file throws an
    /// `NPYError` and loads nothing; the price is that the file's bytes and the tensor are both in
    /// memory for a moment (twice the array's size at the peak). Only regular files are read
    /// (a FIFO or device is an error, never a wait).
    public init(npy path: String, converting: Bool = false) throws {
        try self.init(npyBytes: NPYFiles.read(path), path: path, converting: converting)
    }

    /// A tensor from the bytes of an `.npy` file (`path` names it in errors).
    init(npyBytes bytes: [UInt8], path: String, converting: Bool) throws {
        self = try NPYTensors.decoded(bytes, path: path) { header, fill in
            if header.complex { throw NPYError.complexMismatch(path: path, file: NPYFormat.complexName(header.dtype), requested: Scalar.dtype.description) }
            return try NPYTensors.make(header.dtype, shape: header.shape, as: Scalar.self, converting: converting, path: path, fill: fill)
        }
    }

    /// Saves the tensor as a NumPy `.npy` file (little-endian, C order), which `np.load` reads.
    /// A sync point.
    ///
    ///     try grid.save(npy: "grid.npy")
    ///
    /// The file is written beside `path` under a temporary name, flushed to disk (`fsync`) and
    /// renamed over `path`: a reader never sees a half-written file, and if the save throws, a
    /// file already at `path` is unchanged. The cost is the flush, milliseconds on a disk, which
    /// a loop saving many small files pays each time.
    public func save(npy path: String) throws { try NPYTensors.save(self, to: path) }
}

// MARK: - .npz

/// The arrays of a NumPy `.npz` archive (`np.savez`, `np.savez_compressed`, `Tandem.savez`).
///
///     let archive = try NPZFile("run.npz")
///     print(archive.names)                              // ["grid", "step"]
///     let grid = try archive.tensor("grid", as: Double.self)
///
/// Opening reads and checks every member at once (zip structure, CRC-32, `.npy` header and
/// data), so an archive that opens is whole and `tensor(_:as:)` fails only on a name or dtype;
/// the cost is that every array is held in memory until the `NPZFile` is dropped. Stored members
/// need nothing else; deflated ones (`savez_compressed`) use the system's zlib, loaded at first
/// use, and throw a clear error where it is absent. Members not ending in `.npy` are ignored.
public struct NPZFile: Sendable {
    struct Member: Sendable {
        /// For complex members, the type of each part.
        var dtype: DType
        var complex: Bool
        var shape: [Int]
        /// Row-major, in the host's byte order.
        var data: [UInt8]
    }

    /// The archive's path.
    public let path: String
    /// The arrays' names (member names without `.npy`), in archive order.
    public let names: [String]
    let members: [String: Member]

    /// Reads and checks the archive at `path`.
    public init(_ path: String) throws {
        try self.init(bytes: NPYFiles.read(path), path: path, zlib: { Zlib.shared })
    }

    /// An archive from its bytes (`path` names it in errors); `zlib` is injected by tests.
    init(bytes: [UInt8], path: String, zlib: () -> Result<Zlib, ZlibUnavailable>) throws {
        var names: [String] = []
        var members: [String: Member] = [:]
        try bytes.withUnsafeBytes { raw in
            let (entries, directoryOffset) = try ZipFormat.entries(raw, path: path)
            var budget = NPYFiles.readLimit
            for entry in entries {
                _ = try ZipFormat.dataStart(of: entry, in: raw, path: path, directoryOffset: directoryOffset)
                guard entry.name.hasSuffix(".npy") else { continue }
                let name = String(entry.name.dropLast(4))
                let memberPath = path + "/" + entry.name
                guard members[name] == nil else {
                    throw NPYError.malformed(path: path, offset: entry.localHeaderOffset, reason: "the archive holds \(entry.name) twice")
                }
                let contents = try ZipFormat.contents(of: entry, in: raw, path: path, memberPath: memberPath,
                                                      directoryOffset: directoryOffset, limit: budget, zlib: zlib)
                budget -= contents.count
                let member = try contents.withUnsafeBytes { m -> Member in
                    let header = try NPYFormat.parseHeader(m, path: memberPath)
                    let data = try [UInt8](unsafeUninitializedCapacity: header.count * header.elementSize) { out, n in
                        if let base = out.baseAddress { try NPYFormat.decode(m, header, into: UnsafeMutableRawPointer(base), path: memberPath) }
                        n = out.count
                    }
                    return Member(dtype: header.dtype, complex: header.complex, shape: header.shape, data: data)
                }
                names.append(name)
                members[name] = member
            }
        }
        self.path = path
        self.names = names
        self.members = members
    }

    /// The element type of the array `name` (of each part, for a complex array), or nil if the
    /// archive has none of that name.
    public func dtype(of name: String) -> DType? { members[name]?.dtype }

    /// Whether the array `name` holds complex values (read them with `complexTensor(_:as:)`), or
    /// nil if the archive has none of that name.
    public func isComplex(_ name: String) -> Bool? { members[name]?.complex }

    /// The shape of the array `name`, or nil if the archive has none of that name.
    public func shape(of name: String) -> [Int]? { members[name]?.shape }

    /// The array `name` as a tensor of `type`; with `converting`, another dtype is converted as
    /// `cast(to:)` does, otherwise it is an error naming both dtypes.
    ///
    ///     let archive = try NPZFile("run.npz")
    ///     let step = try archive.tensor("step", as: Int64.self)
    public func tensor<S: TensorScalar>(_ name: String, as type: S.Type = S.self, converting: Bool = false) throws -> Tensor<S> {
        guard let m = members[name] else { throw NPYError.missingArray(path: path, name: name, available: names) }
        if m.complex {
            throw NPYError.complexMismatch(path: path + "/" + name + ".npy", file: NPYFormat.complexName(m.dtype), requested: S.dtype.description)
        }
        return try NPYTensors.make(m.dtype, shape: m.shape, as: S.self, converting: converting, path: path + "/" + name + ".npy") { out in
            m.data.withUnsafeBytes { if let base = $0.baseAddress { out.copyMemory(from: base, byteCount: $0.count) } }
        }
    }
}

extension Tandem {
    /// Saves named tensors of any element types as a NumPy `.npz` archive, which `np.load`
    /// reads as a dict-like object. A sync point: all tensors are computed in one plan.
    ///
    ///     try Tandem.savez("run.npz", ["grid": grid, "step": Tensor<Int64>(Int64(step))])
    ///     try Tandem.savez("small.npz", ["grid": grid], compressed: true)   // np.savez_compressed
    ///
    /// Members are `name.npy`, in sorted name order, dated 1980-01-01 as NumPy dates them, so
    /// the same arrays always give the same bytes. `compressed` deflates each member with the
    /// system's zlib (loaded at first use; an error where it is absent): smaller files for
    /// slower saves and loads. The archive is written under a temporary name and renamed over
    /// `path`, so a failed save leaves an existing file as it was. Names must be non-empty, free
    /// of NUL, and not absolute or containing `..` (an unzip would write outside its folder).
    public static func savez(_ path: String, _ arrays: [String: any TensorParts], compressed: Bool = false) throws {
        try NPYTensors.savez(path, arrays, compressed: compressed, forceZip64: false, zlib: { Zlib.shared })
    }
}

// MARK: - Shared


/// The steps `Tensor` and `NPZFile` share: making a tensor of a dtype known only at run time,
/// and getting a tensor's bytes in the file's order.
enum NPYTensors {
    /// What `make` builds from the checked header of the `.npy` file in `bytes` and a `fill`
    /// that decodes its data into fresh memory (row-major, the host's byte order).
    static func decoded<T>(_ bytes: [UInt8], path: String,
                           _ make: (NPYHeader, (UnsafeMutableRawPointer) throws -> Void) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            let header = try NPYFormat.parseHeader(raw, path: path)
            return try make(header) { try NPYFormat.decode(raw, header, into: $0, path: path) }
        }
    }

    /// A `Tensor<S>` from `count` elements of `dtype` that `fill` writes into fresh memory;
    /// converted when `dtype` differs from `S`'s and `converting` is set.
    static func make<S: TensorScalar>(_ dtype: DType, shape: [Int], as: S.Type, converting: Bool, path: String,
                                      fill: (UnsafeMutableRawPointer) throws -> Void) throws -> Tensor<S> {
        guard dtype == S.dtype || converting else {
            throw NPYError.dtypeMismatch(path: path, file: dtype, requested: S.dtype)
        }
        let buffer = Buffer(dtype: dtype, count: Shape.count(shape))
        // This is safe: `fill` writes the buffer's count elements of dtype, no more.
        try fill(buffer.pointer)
        func wrap<T: TensorScalar>(_: T.Type) -> Tensor<S> { Tensor<T>(.storage(buffer), shape: shape).cast(to: S.self) }
        switch dtype {
        case .bool: return wrap(Bool.self)
        case .int8: return wrap(Int8.self)
        case .int16: return wrap(Int16.self)
        case .int32: return wrap(Int32.self)
        case .int64: return wrap(Int64.self)
        case .uint8: return wrap(UInt8.self)
        case .uint16: return wrap(UInt16.self)
        case .uint32: return wrap(UInt32.self)
        case .uint64: return wrap(UInt64.self)
        case .float32: return wrap(Float.self)
        case .float64: return wrap(Double.self)
        }
    }

    /// Saves one tensor's parts as an `.npy` file (a complex tensor's interleaved), through a
    /// temporary file renamed over `path`.
    static func save(_ value: any TensorParts, to path: String) throws {
        let parts = value.partNodes
        try checkRank(parts[0].shape, path: path)
        try Tandem.runtime.materialize(parts)
        let buffer = try data(parts, call: "save(npy:)")
        let header = NPYFormat.header(dtype: parts[0].dtype, shape: parts[0].shape, complex: parts.count == 2)
        try withLittleEndianBytes(buffer) { bytes in
            try NPYFiles.writeAtomically(path) { write in
                try header.withUnsafeBytes(write)
                try write(bytes)
            }
        }
    }

    /// The file data of a value's parts (queued by the caller, in one plan with the others it
    /// saves): a real tensor's buffer, or a complex tensor's two parts interleaved.
    static func data(_ parts: [Node], call: String) throws -> Buffer {
        let read = try parts.map { try Tandem.runtime.read($0, call: call) }
        return read.count == 1 ? read[0] : interleave(read[0], read[1])
    }

    /// Real and imaginary parts (buffers of one dtype and count) side by side, element by
    /// element: NumPy's layout of a complex array.
    static func interleave(_ re: Buffer, _ im: Buffer) -> Buffer {
        let out = Buffer(dtype: re.dtype, count: 2 * re.count)
        let size = re.dtype.byteSize
        withExtendedLifetime((re, im)) {
            // This is safe: both parts hold `count` elements of `size` bytes, the output twice that.
            for k in 0..<re.count {
                (out.pointer + 2 * k * size).copyMemory(from: re.pointer + k * size, byteCount: size)
                (out.pointer + (2 * k + 1) * size).copyMemory(from: im.pointer + k * size, byteCount: size)
            }
        }
        return out
    }

    /// NumPy reads at most 64 axes; a tensor with more cannot be saved for it.
    static func checkRank(_ shape: [Int], path: String) throws {
        guard shape.count <= NPYFormat.maximumRank else {
            throw NPYError.invalidArgument(path: path, reason: "a tensor of \(shape.count) axes cannot be saved: NumPy reads at most \(NPYFormat.maximumRank)")
        }
    }

    /// The buffer's bytes, little-endian (a swapped copy only on a big-endian host).
    static func withLittleEndianBytes<R>(_ buffer: Buffer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(buffer) {
            // This is safe: the buffer is materialised and kept alive for `body`.
            let raw = UnsafeRawBufferPointer(start: buffer.pointer, count: buffer.byteCount)
            guard NPYFormat.hostIsBigEndian else { return try body(raw) }
            var copy = Array(raw)
            copy.withUnsafeMutableBytes { NPYFormat.swapBytes($0.baseAddress!, count: buffer.count, itemSize: buffer.dtype.byteSize) }
            return try copy.withUnsafeBytes(body)
        }
    }

    static func savez(_ path: String, _ arrays: [String: any TensorParts], compressed: Bool, forceZip64: Bool,
                      zlib: () -> Result<Zlib, ZlibUnavailable>) throws {
        let names = arrays.keys.sorted()
        for name in names {
            let bytes = Array(name.utf8)
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            if name.isEmpty || bytes.contains(0) || name.hasPrefix("/") || parts.contains("..") || bytes.count + 4 > 0xFFFF {
                throw NPYError.invalidArgument(path: path, reason: "'\(name)' cannot name an array in an .npz archive (it must be non-empty, free of NUL, not absolute, without '..', under 64 KiB)")
            }
            try checkRank(arrays[name]!.partNodes[0].shape, path: path + "/" + name + ".npy")
        }
        if compressed, case .failure(let why) = zlib() { throw why.error(path: path) }
        // One plan for every part of every array; a complex array's parts interleaved as NumPy
        // stores them.
        let parts = names.map { arrays[$0]!.partNodes }
        try Tandem.runtime.materialize(parts.flatMap { $0 })
        let buffers = try parts.map { try data($0, call: "savez") }
        var writer = ZipWriter(forceZip64: forceZip64)
        try NPYFiles.writeAtomically(path) { write in
            for (i, name) in names.enumerated() {
                let header = NPYFormat.header(dtype: parts[i][0].dtype, shape: parts[i][0].shape, complex: parts[i].count == 2)
                try withLittleEndianBytes(buffers[i]) { data in
                    try header.withUnsafeBytes { h in
                        try writer.add(name: name + ".npy", parts: [h, data], compressed: compressed, zlib: zlib, path: path, write: write)
                    }
                }
            }
            try writer.finish(write: write)
        }
    }
}
