/// CRC-32 as zip uses it (reflected polynomial 0xEDB88320), eight bytes a step.
///
///     var crc = CRC32()
///     crc.update(UnsafeRawBufferPointer(header)); crc.update(data)
///     let sum = crc.value
///
/// Slicing by 8 tables (8 KiB) runs at a few GB/s, so checking a large member costs little next
/// to reading it.
struct CRC32 {
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        return t
    }()

    private var state: UInt32 = 0xFFFF_FFFF

    var value: UInt32 { ~state }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var c = state
        var i = 0
        let n = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            // This is safe: eight bytes remain at i, and every table index is below 8 * 256.
            while n - i >= 8 {
                let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
                let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        state = c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = CRC32()
        c.update(bytes)
        return c.value
    }
}

/// One member of a zip archive, as its central directory entry describes it.
struct ZipEntry: Equatable, Sendable {
    var name: String
    var nameBytes: [UInt8]
    var flags: UInt16
    var method: UInt16
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
}

/// The zip container of `.npz` files (PKWARE APPNOTE 6.3): the central directory, zip64
/// records, local headers, stored and deflated members. Only what `np.savez` and
/// `np.savez_compressed` produce is accepted: one disk, no encryption, methods 0 and 8, no data
/// before the first member. Every offset and size read from the file is checked against the
/// file's bounds before it is used.
enum ZipFormat {
    static let localSignature: UInt32 = 0x0403_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    /// Deflate cannot expand more than about 1032 to 1; a member declaring more is corrupt (and
    /// refusing it keeps a tiny file from reserving gigabytes).
    static let maximumDeflateRatio = 1100

    /// Little-endian reads. `need` is the bounds check: every read below follows a `need` (or a
    /// comparison with the file's size) covering its bytes, so a field never reads past the end.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let path: String

        func need(_ offset: Int, _ length: Int, _ what: String) throws {
            guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
                throw NPYError.malformed(path: path, offset: min(max(offset, 0), bytes.count), reason: "truncated: \(what) runs past the end of the file")
            }
        }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        func slice(_ at: Int, _ length: Int) -> [UInt8] { Array(bytes[at..<(at + length)]) }
        /// A 64-bit count from the file as an Int, refusing values beyond the file's size.
        func size(_ v: UInt64, at: Int, _ what: String) throws -> Int {
            guard v <= UInt64(Int.max) else { throw NPYError.malformed(path: path, offset: at, reason: "\(what) \(v) is impossibly large") }
            return Int(v)
        }
    }

    /// The central directory's entries, in order, and where the directory starts (members must
    /// end before it).
    static func entries(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (entries: [ZipEntry], directoryOffset: Int) {
        let r = Reader(bytes: bytes, path: path)
        let n = bytes.count
        guard n >= 22 else {
            throw NPYError.malformed(path: path, offset: n, reason: n >= 4 && r.u32(0) == localSignature
                                     ? "truncated: the zip archive has no end of central directory record"
                                     : "not an .npz file (a zip archive ends with an end of central directory record)")
        }
        // The end record is the last 22 bytes, or earlier by the length of a comment.
        var end = -1
        var p = n - 22
        while p >= max(0, n - 22 - 0xFFFF) {
            if r.u32(p) == endSignature && Int(r.u16(p + 20)) == n - p - 22 { end = p; break }
            p -= 1
        }
        guard end >= 0 else {
            throw NPYError.malformed(path: path, offset: n, reason: "not an .npz file, or truncated (no zip end of central directory record)")
        }
        guard r.u16(end + 4) == 0 && r.u16(end + 6) == 0 && r.u16(end + 8) == r.u16(end + 10) else {
            throw NPYError.malformed(path: path, offset: end, reason: "zip archives split over several disks are not supported")
        }
        var count = Int(r.u16(end + 10))
        var directorySize = Int(r.u32(end + 12))
        var directoryOffset = Int(r.u32(end + 16))
        var directoryEnd = end
        if end >= 20 && r.u32(end - 20) == zip64LocatorSignature {
            let locator = end - 20
            let recordOffset = try r.size(r.u64(locator + 8), at: locator + 8, "zip64 end record offset")
            guard r.u32(locator + 4) == 0 && r.u32(locator + 16) <= 1 else {
                throw NPYError.malformed(path: path, offset: locator, reason: "zip archives split over several disks are not supported")
            }
            guard recordOffset <= locator - 56 else {
                throw NPYError.malformed(path: path, offset: locator + 8, reason: "zip64 end record offset \(recordOffset) is out of bounds")
            }
            guard r.u32(recordOffset) == zip64EndSignature else {
                throw NPYError.malformed(path: path, offset: recordOffset, reason: "no zip64 end of central directory record where the locator says")
            }
            guard r.u32(recordOffset + 16) == 0 && r.u32(recordOffset + 20) == 0 && r.u64(recordOffset + 24) == r.u64(recordOffset + 32) else {
                throw NPYError.malformed(path: path, offset: recordOffset, reason: "zip archives split over several disks are not supported")
            }
            count = try r.size(r.u64(recordOffset + 32), at: recordOffset + 32, "entry count")
            directorySize = try r.size(r.u64(recordOffset + 40), at: recordOffset + 40, "central directory size")
            directoryOffset = try r.size(r.u64(recordOffset + 48), at: recordOffset + 48, "central directory offset")
            directoryEnd = recordOffset
        }
        guard directoryOffset <= directoryEnd, directorySize == directoryEnd - directoryOffset else {
            throw NPYError.malformed(path: path, offset: end, reason: "the central directory (\(directorySize) bytes at \(directoryOffset)) does not end where the end record begins (\(directoryEnd))")
        }
        guard count <= directorySize / 46 else {
            throw NPYError.malformed(path: path, offset: end, reason: "\(count) entries cannot fit in a central directory of \(directorySize) bytes")
        }
        var entries: [ZipEntry] = []
        entries.reserveCapacity(count)
        var at = directoryOffset
        for _ in 0..<count {
            try r.need(at, 46, "a central directory entry")
            guard r.u32(at) == centralSignature else {
                throw NPYError.malformed(path: path, offset: at, reason: "expected a central directory entry")
            }
            let nameLength = Int(r.u16(at + 28)), extraLength = Int(r.u16(at + 30)), commentLength = Int(r.u16(at + 32))
            try r.need(at + 46, nameLength + extraLength + commentLength, "a central directory entry")
            guard at + 46 + nameLength + extraLength + commentLength <= directoryEnd else {
                throw NPYError.malformed(path: path, offset: at, reason: "a central directory entry runs past the directory's end")
            }
            let nameBytes = r.slice(at + 46, nameLength)
            var entry = ZipEntry(name: String(decoding: nameBytes, as: UTF8.self), nameBytes: nameBytes,
                                 flags: r.u16(at + 8), method: r.u16(at + 10), crc: r.u32(at + 16),
                                 compressedSize: Int(r.u32(at + 20)), uncompressedSize: Int(r.u32(at + 24)),
                                 localHeaderOffset: Int(r.u32(at + 42)))
            // zip64: each field saturated in the entry is in the extra field (id 1), in this order.
            let extraStart = at + 46 + nameLength
            var e = extraStart
            while e + 4 <= extraStart + extraLength {
                let id = r.u16(e), size = Int(r.u16(e + 2))
                guard e + 4 + size <= extraStart + extraLength else {
                    throw NPYError.malformed(path: path, offset: e, reason: "an extra field runs past its entry")
                }
                if id == 1 {
                    var f = e + 4
                    func next(_ what: String) throws -> Int {
                        guard f + 8 <= e + 4 + size else { throw NPYError.malformed(path: path, offset: e, reason: "zip64 extra field is too short") }
                        defer { f += 8 }
                        return try r.size(r.u64(f), at: f, what)
                    }
                    if entry.uncompressedSize == 0xFFFF_FFFF { entry.uncompressedSize = try next("uncompressed size") }
                    if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try next("compressed size") }
                    if entry.localHeaderOffset == 0xFFFF_FFFF { entry.localHeaderOffset = try next("local header offset") }
                }
                e += 4 + size
            }
            guard r.u16(at + 34) == 0 || r.u16(at + 34) == 0xFFFF else {
                throw NPYError.malformed(path: path, offset: at + 34, reason: "zip archives split over several disks are not supported")
            }
            entries.append(entry)
            at += 46 + nameLength + extraLength + commentLength
        }
        guard at == directoryEnd else {
            throw NPYError.malformed(path: path, offset: at, reason: "\(directoryEnd - at) unexpected bytes after the central directory entries")
        }
        return (entries, directoryOffset)
    }

    /// Where `entry`'s data starts, after checking its local header: the signature, the same
    /// name as the central directory, and data that ends before the directory. Checked for every
    /// member, read or not, so a corrupt name cannot quietly hide an array.
    static func dataStart(of entry: ZipEntry, in bytes: UnsafeRawBufferPointer, path: String, directoryOffset: Int) throws -> Int {
        let r = Reader(bytes: bytes, path: path)
        let at = entry.localHeaderOffset
        try r.need(at, 30, "the local header of \(entry.name)")
        guard r.u32(at) == localSignature else {
            throw NPYError.malformed(path: path, offset: at, reason: "no local header for \(entry.name) where the central directory says")
        }
        let nameLength = Int(r.u16(at + 26)), extraLength = Int(r.u16(at + 28))
        try r.need(at + 30, nameLength + extraLength, "the local header of \(entry.name)")
        guard r.slice(at + 30, nameLength) == entry.nameBytes else {
            throw NPYError.malformed(path: path, offset: at + 30, reason: "the local header's name differs from the central directory's \(entry.name)")
        }
        let start = at + 30 + nameLength + extraLength
        guard entry.compressedSize <= directoryOffset - start else {
            throw NPYError.malformed(path: path, offset: start, reason: "\(entry.name)'s \(entry.compressedSize) bytes run into the central directory")
        }
        return start
    }

    /// The uncompressed bytes of `entry`, checked against its local header and CRC-32.
    /// `memberPath` names the member in errors; `limit` caps the uncompressed size.
    static func contents(of entry: ZipEntry, in bytes: UnsafeRawBufferPointer, path: String, memberPath: String,
                         directoryOffset: Int, limit: Int, zlib: () -> Result<Zlib, ZlibUnavailable>) throws -> [UInt8] {
        let start = try dataStart(of: entry, in: bytes, path: path, directoryOffset: directoryOffset)
        let at = entry.localHeaderOffset
        if entry.flags & 1 != 0 {
            throw NPYError.compression(path: memberPath, reason: "the member is encrypted")
        }
        guard entry.uncompressedSize <= limit else {
            throw NPYError.tooLarge(path: memberPath, bytes: entry.uncompressedSize, limit: limit)
        }
        // This is safe: dataStart checked that the member's bytes end before the directory.
        let data = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.compressedSize)])
        let out: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw NPYError.malformed(path: path, offset: at, reason: "stored member \(entry.name) has different compressed (\(entry.compressedSize)) and uncompressed (\(entry.uncompressedSize)) sizes")
            }
            out = Array(data)
        case 8:
            let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: maximumDeflateRatio)
            guard overflow || entry.uncompressedSize <= bound + 64 else {
                throw NPYError.malformed(path: path, offset: at, reason: "\(entry.name) declares \(entry.uncompressedSize) bytes, more than deflate can make of \(entry.compressedSize)")
            }
            switch zlib() {
            case .success(let z): out = try z.inflateRaw(data, expectedSize: entry.uncompressedSize, path: memberPath)
            case .failure(let why): throw why.error(path: memberPath)
            }
        default:
            throw NPYError.compression(path: memberPath, reason: "zip compression method \(entry.method) is not supported (0, stored, and 8, deflate, are)")
        }
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        guard crc == entry.crc else { throw NPYError.checksumMismatch(path: memberPath, expected: entry.crc, actual: crc) }
        return out
    }
}

/// Writes a zip archive member by member through `write`, keeping the central directory until
/// `finish`. Dates are 1980-01-01 00:00 (as NumPy's `savez` writes them), so the same arrays give
/// the same bytes. zip64 records appear only where a size or offset needs them (or always, with
/// `forceZip64`, which tests use to check readers handle them).
struct ZipWriter {
    let forceZip64: Bool
    private(set) var offset = 0
    private var central: [UInt8] = []
    private var count = 0

    init(forceZip64: Bool = false) { self.forceZip64 = forceZip64 }

    /// Adds a member holding the concatenation of `parts`, deflated when `compressed`.
    mutating func add(name: String, parts: [UnsafeRawBufferPointer], compressed: Bool, zlib: () -> Result<Zlib, ZlibUnavailable>,
                      path: String, write: (UnsafeRawBufferPointer) throws -> Void) throws {
        var crc = CRC32()
        var size = 0
        for p in parts { crc.update(p); size += p.count }
        var deflated: [UInt8]?
        if compressed {
            switch zlib() {
            case .success(let z): deflated = try z.deflateRaw(parts, path: path)
            case .failure(let why): throw why.error(path: path)
            }
        }
        let compressedSize = deflated?.count ?? size
        let nameBytes = Array(name.utf8)
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800  // bit 11: the name is UTF-8
        let method: UInt16 = compressed ? 8 : 0
        let localZip64 = forceZip64 || size >= 0xFFFF_FFFF || compressedSize >= 0xFFFF_FFFF
        var local: [UInt8] = []
        put32(&local, ZipFormat.localSignature)
        put16(&local, localZip64 ? 45 : 20)
        put16(&local, flags); put16(&local, method); put16(&local, 0); put16(&local, 0x21)
        put32(&local, crc.value)
        put32(&local, localZip64 ? 0xFFFF_FFFF : UInt32(compressedSize))
        put32(&local, localZip64 ? 0xFFFF_FFFF : UInt32(size))
        put16(&local, UInt16(nameBytes.count)); put16(&local, localZip64 ? 20 : 0)
        local += nameBytes
        if localZip64 { put16(&local, 1); put16(&local, 16); put64(&local, UInt64(size)); put64(&local, UInt64(compressedSize)) }
        let headerOffset = offset
        try local.withUnsafeBytes(write)
        if let deflated { try deflated.withUnsafeBytes(write) } else { for p in parts { try write(p) } }
        offset += local.count + compressedSize

        var extra: [UInt8] = []
        if forceZip64 || size >= 0xFFFF_FFFF { put64(&extra, UInt64(size)) }
        if forceZip64 || compressedSize >= 0xFFFF_FFFF { put64(&extra, UInt64(compressedSize)) }
        if forceZip64 || headerOffset >= 0xFFFF_FFFF { put64(&extra, UInt64(headerOffset)) }
        put32(&central, ZipFormat.centralSignature)
        put16(&central, 3 << 8 | 45); put16(&central, extra.isEmpty ? 20 : 45)
        put16(&central, flags); put16(&central, method); put16(&central, 0); put16(&central, 0x21)
        put32(&central, crc.value)
        put32(&central, forceZip64 || compressedSize >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(compressedSize))
        put32(&central, forceZip64 || size >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(size))
        put16(&central, UInt16(nameBytes.count)); put16(&central, extra.isEmpty ? 0 : UInt16(4 + extra.count)); put16(&central, 0)
        put16(&central, 0); put16(&central, 0); put32(&central, 0o100644 << 16)
        put32(&central, forceZip64 || headerOffset >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(headerOffset))
        central += nameBytes
        if !extra.isEmpty { put16(&central, 1); put16(&central, UInt16(extra.count)); central += extra }
        count += 1
    }

    /// Writes the central directory and the end records.
    mutating func finish(write: (UnsafeRawBufferPointer) throws -> Void) throws {
        let directoryOffset = offset
        var tail = central
        let zip64 = forceZip64 || count >= 0xFFFF || directoryOffset >= 0xFFFF_FFFF || central.count >= 0xFFFF_FFFF
        if zip64 {
            let recordOffset = directoryOffset + central.count
            put32(&tail, ZipFormat.zip64EndSignature); put64(&tail, 44)
            put16(&tail, 3 << 8 | 45); put16(&tail, 45); put32(&tail, 0); put32(&tail, 0)
            put64(&tail, UInt64(count)); put64(&tail, UInt64(count))
            put64(&tail, UInt64(central.count)); put64(&tail, UInt64(directoryOffset))
            put32(&tail, ZipFormat.zip64LocatorSignature); put32(&tail, 0); put64(&tail, UInt64(recordOffset)); put32(&tail, 1)
        }
        put32(&tail, ZipFormat.endSignature); put16(&tail, 0); put16(&tail, 0)
        put16(&tail, zip64 ? 0xFFFF : UInt16(count)); put16(&tail, zip64 ? 0xFFFF : UInt16(count))
        put32(&tail, zip64 ? 0xFFFF_FFFF : UInt32(central.count)); put32(&tail, zip64 ? 0xFFFF_FFFF : UInt32(directoryOffset))
        put16(&tail, 0)
        try tail.withUnsafeBytes(write)
        offset += tail.count
    }

    private func put16(_ a: inout [UInt8], _ v: UInt16) { a += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private func put32(_ a: inout [UInt8], _ v: UInt32) { put16(&a, UInt16(v & 0xFFFF)); put16(&a, UInt16(v >> 16)) }
    private func put64(_ a: inout [UInt8], _ v: UInt64) { put32(&a, UInt32(v & 0xFFFF_FFFF)); put32(&a, UInt32(v >> 32)) }
}
