#if canImport(Glibc)
import Glibc
#endif

/// The parts of zlib Tandem uses (raw deflate for `.npz` members), loaded from `libz.so.1` with
/// `dlopen` at first use, never linked: the package builds and runs without zlib, and only
/// compressed archives need it.
///
///     let z = try Zlib.shared.get()
///     let packed = try data.withUnsafeBytes { try z.deflateRaw([$0], path: "x.npz") }
///     let back = try packed.withUnsafeBytes { try z.inflateRaw($0, expectedSize: data.count, path: "x.npz") }
///
/// `z_stream` is handled as 112 raw bytes with the field offsets of LP64 (64-bit Linux and
/// macOS), rather than as a Swift struct whose layout the compiler does not promise to match C.
final class Zlib: Sendable {
    typealias InflateInit2 = @convention(c) (UnsafeMutableRawPointer, Int32, UnsafePointer<CChar>, Int32) -> Int32
    typealias DeflateInit2 = @convention(c) (UnsafeMutableRawPointer, Int32, Int32, Int32, Int32, Int32, UnsafePointer<CChar>, Int32) -> Int32
    typealias Step = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
    typealias End = @convention(c) (UnsafeMutableRawPointer) -> Int32
    typealias Version = @convention(c) () -> UnsafePointer<CChar>

    let path: String
    let inflateInit2: InflateInit2
    let inflate: Step
    let inflateEnd: End
    let deflateInit2: DeflateInit2
    let deflate: Step
    let deflateEnd: End
    let zlibVersion: Version

    /// zlib for this process, loaded at first use, or why it cannot be.
    static let shared: Result<Zlib, ZlibUnavailable> = load(candidates: ["libz.so.1", "libz.so", "libz.1.dylib", "libz.dylib"])

    /// zlib from the first of `candidates` that opens (tests pass paths that do not exist).
    static func load(candidates: [String]) -> Result<Zlib, ZlibUnavailable> {
        guard MemoryLayout<Int>.size == 8 else { return .failure(ZlibUnavailable(reason: "zlib is used only on 64-bit systems")) }
        var tried: [String] = []
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                tried.append(name)
                continue
            }
            do { return .success(try Zlib(handle: handle, path: name)) } catch {
                return .failure(ZlibUnavailable(reason: "\(name) is unusable: \(error)"))
            }
        }
        return .failure(ZlibUnavailable(reason: "zlib is not installed (tried \(tried.joined(separator: ", ")))"))
    }

    private init(handle: UnsafeMutableRawPointer, path: String) throws {
        func loadRequired<T>(_ name: String, as: T.Type) throws -> T {
            // This is safe: the handle is never closed, and T is the symbol's C signature.
            guard let p = dlsym(handle, name) else { throw NPYError.compression(path: path, reason: "no symbol \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        self.path = path
        inflateInit2 = try loadRequired("inflateInit2_", as: InflateInit2.self)
        inflate = try loadRequired("inflate", as: Step.self)
        inflateEnd = try loadRequired("inflateEnd", as: End.self)
        deflateInit2 = try loadRequired("deflateInit2_", as: DeflateInit2.self)
        deflate = try loadRequired("deflate", as: Step.self)
        deflateEnd = try loadRequired("deflateEnd", as: End.self)
        zlibVersion = try loadRequired("zlibVersion", as: Version.self)
    }

    // z_stream on LP64: next_in 0, avail_in 8, total_in 16, next_out 24, avail_out 32,
    // total_out 40, msg 48, state 56, zalloc 64, zfree 72, opaque 80, data_type 88, adler 96,
    // reserved 104; 112 bytes. Zeroed zalloc/zfree/opaque select zlib's malloc and free.
    static let streamSize = 112
    static let okCode: Int32 = 0, streamEnd: Int32 = 1, bufError: Int32 = -5
    static let finish: Int32 = 4, noFlush: Int32 = 0
    /// The largest chunk passed in one call (`avail_in` and `avail_out` are 32-bit).
    static let chunk = 1 << 30

    /// A raw deflate stream (windowBits -15, as zip members hold) inflated to exactly
    /// `expectedSize` bytes; a stream that ends early, runs longer or leaves input is an error.
    func inflateRaw(_ input: UnsafeRawBufferPointer, expectedSize: Int, path: String) throws -> [UInt8] {
        let stream = UnsafeMutableRawPointer.allocate(byteCount: Self.streamSize, alignment: 8)
        defer { stream.deallocate() }
        stream.initializeMemory(as: UInt8.self, repeating: 0, count: Self.streamSize)
        try check(inflateInit2(stream, -15, zlibVersion(), Int32(Self.streamSize)), stream, "inflateInit2_", path: path)
        defer { _ = inflateEnd(stream) }
        // Uninitialised: a declared size that the data does not back costs address space only.
        return try [UInt8](unsafeUninitializedCapacity: expectedSize) { buffer, initialized in
            let o = UnsafeMutableRawBufferPointer(buffer)
            var consumed = 0, produced = 0
            var code: Int32 = Self.okCode
            while true {
                let inChunk = min(input.count - consumed, Self.chunk)
                // One spare byte of room lets a stream longer than declared show itself.
                let outChunk = min(expectedSize - produced, Self.chunk)
                var spare: UInt8 = 0
                try withUnsafeMutablePointer(to: &spare) { spareByte in
                    setInput(stream, input.baseAddress.map { $0 + consumed }, count: inChunk)
                    if outChunk > 0 {
                        setOutput(stream, o.baseAddress! + produced, count: outChunk)
                    } else {
                        setOutput(stream, UnsafeMutableRawPointer(spareByte), count: 1)
                    }
                    code = inflate(stream, Self.noFlush)
                    let usedIn = inChunk - Int(stream.load(fromByteOffset: 8, as: UInt32.self))
                    let roomLeft = Int(stream.load(fromByteOffset: 32, as: UInt32.self))
                    consumed += usedIn
                    if outChunk > 0 {
                        produced += outChunk - roomLeft
                    } else if roomLeft == 0 {
                        throw NPYError.compression(path: path, reason: "inflates to more than the \(expectedSize) bytes the archive declares")
                    }
                }
                if code == Self.streamEnd { break }
                // Input and room were both offered, so no progress means the stream stops short.
                if code == Self.bufError {
                    throw NPYError.compression(path: path, reason: "compressed data ends early (\(produced) of \(expectedSize) bytes inflated)")
                }
                try check(code, stream, "inflate", path: path)
            }
            guard produced == expectedSize else {
                throw NPYError.compression(path: path, reason: "inflates to \(produced) bytes, the archive declares \(expectedSize)")
            }
            guard consumed == input.count else {
                throw NPYError.compression(path: path, reason: "\(input.count - consumed) bytes follow the end of the compressed data")
            }
            initialized = expectedSize
        }
    }

    /// The concatenation of `parts`, raw-deflated at zlib's default level (what Python's
    /// `zipfile.ZIP_DEFLATED`, and so `np.savez_compressed`, uses).
    func deflateRaw(_ parts: [UnsafeRawBufferPointer], path: String) throws -> [UInt8] {
        let stream = UnsafeMutableRawPointer.allocate(byteCount: Self.streamSize, alignment: 8)
        defer { stream.deallocate() }
        stream.initializeMemory(as: UInt8.self, repeating: 0, count: Self.streamSize)
        // level -1 (default), method 8 (deflate), windowBits -15 (raw), memLevel 8, strategy 0.
        try check(deflateInit2(stream, -1, 8, -15, 8, 0, zlibVersion(), Int32(Self.streamSize)), stream, "deflateInit2_", path: path)
        defer { _ = deflateEnd(stream) }
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 16)
        let nonEmpty = parts.filter { $0.count > 0 }
        for (p, part) in nonEmpty.enumerated() {
            var offset = 0
            while offset < part.count {
                let n = min(part.count - offset, Self.chunk)
                let last = p == nonEmpty.count - 1 && offset + n == part.count
                setInput(stream, part.baseAddress! + offset, count: n)
                try pump(stream, flush: last ? Self.finish : Self.noFlush, into: &out, block: &block, path: path)
                offset += n
            }
        }
        if nonEmpty.isEmpty {
            setInput(stream, nil, count: 0)
            try pump(stream, flush: Self.finish, into: &out, block: &block, path: path)
        }
        return out
    }

    /// Runs deflate until it has taken all input (and, when finishing, ended the stream).
    private func pump(_ stream: UnsafeMutableRawPointer, flush: Int32, into out: inout [UInt8], block: inout [UInt8], path: String) throws {
        while true {
            let code = block.withUnsafeMutableBytes { b -> Int32 in
                setOutput(stream, b.baseAddress!, count: b.count)
                return deflate(stream, flush)
            }
            let produced = block.count - Int(stream.load(fromByteOffset: 32, as: UInt32.self))
            out.append(contentsOf: block[0..<produced])
            if code == Self.streamEnd { return }
            let inputLeft = stream.load(fromByteOffset: 8, as: UInt32.self)
            if flush == Self.noFlush && inputLeft == 0 && produced < block.count { return }
            // Room was offered, so no progress otherwise would loop for ever.
            if code == Self.bufError && produced == 0 { throw NPYError.compression(path: path, reason: "deflate made no progress") }
            if code != Self.bufError { try check(code, stream, "deflate", path: path) }
        }
    }

    // This is safe: `stream` is a 112-byte, 8-aligned z_stream and the offsets are LP64's.
    private func setInput(_ stream: UnsafeMutableRawPointer, _ p: UnsafeRawPointer?, count: Int) {
        stream.storeBytes(of: p, toByteOffset: 0, as: UnsafeRawPointer?.self)
        stream.storeBytes(of: UInt32(count), toByteOffset: 8, as: UInt32.self)
    }

    private func setOutput(_ stream: UnsafeMutableRawPointer, _ p: UnsafeMutableRawPointer, count: Int) {
        stream.storeBytes(of: p, toByteOffset: 24, as: UnsafeMutableRawPointer.self)
        stream.storeBytes(of: UInt32(count), toByteOffset: 32, as: UInt32.self)
    }

    /// The one checker of zlib calls: throws naming the call, its code and zlib's message.
    private func check(_ code: Int32, _ stream: UnsafeMutableRawPointer, _ call: String, path: String) throws {
        guard code != Self.okCode && code != Self.streamEnd else { return }
        let names: [Int32: String] = [2: "Z_NEED_DICT", -1: "Z_ERRNO", -2: "Z_STREAM_ERROR", -3: "Z_DATA_ERROR",
                                      -4: "Z_MEM_ERROR", -5: "Z_BUF_ERROR", -6: "Z_VERSION_ERROR"]
        let message = stream.load(fromByteOffset: 48, as: UnsafePointer<CChar>?.self).map { String(cString: $0) }
        throw NPYError.compression(path: path, reason: "\(call) failed: \(names[code] ?? "code \(code)")" + (message.map { ": \($0)" } ?? ""))
    }
}

/// Why zlib cannot be used (absent, or missing a function).
struct ZlibUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }

    /// The error for a member or archive that needed zlib.
    func error(path: String) -> NPYError {
        .compression(path: path, reason: "compressed .npz members need zlib, which cannot be used: \(reason)")
    }
}
