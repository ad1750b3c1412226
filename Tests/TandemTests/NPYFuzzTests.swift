import Testing
@testable import Tandem
import _TandemTestSupport

/// Valid `.npy` and `.npz` bytes with many random corruptions (fixed seeds, so every failure
/// reproduces): each must throw an `NPYError` or load what the format cannot tell apart from the
/// original, never crash. For `.npy` that is a tensor of the original shape and dtype (a flipped
/// data byte, a byte order or `fortran_order` flag changed in the header, are undetectable); for
/// `.npz`, whose members carry a CRC-32, exactly the original arrays.
@Suite("NPY fuzz")
struct NPYFuzzTests {
    static let tokens = ["(", ")", ",", "'", "\"", "True", "False", "None", "-1", "0", "1", "99999999999999999999", "{", "}",
                         ":", " ", "'<f8'", "'>f8'", "'|b1'", "'<i4'", "(3,)", "()", "[", "]", "\\", "\n", "L", "'descr'", "'shape'"]
    static let interesting = Array("(){}[],:'\" 0123456789-TFLN<>|=\n\\fib".utf8)

    /// One random corruption of `bytes`, whose header (for `.npy`) ends at `headerEnd`.
    static func corrupt(_ bytes: [UInt8], headerEnd: Int, _ g: inout SeededGenerator) -> [UInt8] {
        var b = bytes
        func index(_ upTo: Int) -> Int { upTo <= 0 ? 0 : Int(g.next() % UInt64(upTo)) }
        switch g.next() % 10 {
        case 0: if !b.isEmpty { let i = index(b.count); b[i] ^= 1 << UInt8(g.next() % 8) }
        case 1: if headerEnd > 0 { let i = index(headerEnd); b[i] ^= 1 << UInt8(g.next() % 8) }
        case 2: if !b.isEmpty { b[index(b.count)] = UInt8(truncatingIfNeeded: g.next()) }
        case 3: if headerEnd > 0 { b[index(headerEnd)] = interesting[index(interesting.count)] }
        case 4: if !b.isEmpty { b.removeLast(1 + index(b.count)) }
        case 5: b.insert(UInt8(truncatingIfNeeded: g.next()), at: index(b.count + 1))
        case 6: if !b.isEmpty { b.remove(at: index(b.count)) }
        case 7:
            // A span of the header replaced, lengths not fixed up.
            guard headerEnd > 10 else { break }
            let start = 10 + index(headerEnd - 10)
            let end = min(headerEnd, start + 1 + index(4))
            b.replaceSubrange(start..<end, with: Array(tokens[index(tokens.count)].utf8))
        case 8:
            // A span of the header dict replaced and the file re-framed, as an editor would.
            guard headerEnd > 10, b.count >= headerEnd else { break }
            var dict = Array(b[10..<headerEnd])
            let start = index(dict.count)
            let end = min(dict.count, start + 1 + index(4))
            dict.replaceSubrange(start..<end, with: Array(tokens[index(tokens.count)].utf8))
            b = NPYFormat.wrap(dict) + Array(b[headerEnd...])
        default:
            for _ in 0..<(2 + index(3)) { b = corrupt(b, headerEnd: min(headerEnd, b.count), &g) }
        }
        return b
    }

    /// Loads `bytes` as `Tensor<S>`; success must give `shape` (checked by the caller).
    static func load<S: TensorScalar>(_ bytes: [UInt8], as: S.Type) -> Result<Tensor<S>, NPYError>? {
        do {
            let t = try Tensor<S>(npyBytes: bytes, path: "fuzz.npy", converting: false)
            _ = try t.scalars
            return .success(t)
        } catch let e as NPYError {
            return .failure(e)
        } catch {
            Issue.record("not an NPYError: \(error)")
            return nil
        }
    }

    func fuzz<S: TensorScalar>(_ name: String, _ bytes: [UInt8], as: S.Type, trials: Int, seed: UInt64) throws {
        let header = try bytes.withUnsafeBytes { try NPYFormat.parseHeader($0, path: name) }
        let original = try Tensor<S>(npyBytes: bytes, path: name, converting: false)
        let values = try original.scalars
        // Every truncation is an error.
        for n in 0..<bytes.count {
            if case .success = Self.load(Array(bytes[0..<n]), as: S.self) { Issue.record("\(name): truncated to \(n) bytes loaded") }
        }
        var g = SeededGenerator(seed: seed)
        var failures = 0, loads = 0, changed = 0
        for trial in 0..<trials {
            let bad = Self.corrupt(bytes, headerEnd: header.dataOffset, &g)
            switch Self.load(bad, as: S.self) {
            case .success(let t):
                loads += 1
                if t.shape != header.shape { Issue.record("\(name) trial \(trial): loaded shape \(t.shape), not \(header.shape)") }
                if try t.scalars != values { changed += 1 }
            case .failure: failures += 1
            case nil: break
            }
        }
        // Most corruptions are caught; the rest are data flips and header flags.
        #expect(failures > trials / 3, "\(name): \(failures) errors, \(loads) loads (\(changed) with other values)")
    }

    @Test(".npy: random corruptions give an error or a tensor of the original shape and dtype")
    func npyCorruptions() throws {
        let f64 = NPYFormat.header(dtype: .float64, shape: [2, 3, 4]) + (0..<24).flatMap { i in withUnsafeBytes(of: (Double(i) - 7.5).bitPattern.littleEndian, Array.init) }
        let bools = NPYFormat.header(dtype: .bool, shape: [5]) + [1, 0, 0, 1, 1]
        let i32 = NPYFormat.header(dtype: .int32, shape: [3, 2]) + (0..<6).flatMap { i in withUnsafeBytes(of: Int32(i * 1000 - 2500).littleEndian, Array.init) }
        try fuzz("f64", f64, as: Double.self, trials: 3000, seed: 1)
        try fuzz("bool", bools, as: Bool.self, trials: 3000, seed: 2)
        try fuzz("i32", i32, as: Int32.self, trials: 2000, seed: 3)
        try fuzz("i4BigFortran", NPYFixtures.i4BigFortran, as: Int32.self, trials: 2000, seed: 4)
        try fuzz("f8BigFortran3d", NPYFixtures.f8BigFortran3d, as: Double.self, trials: 2000, seed: 5)
        try fuzz("b1", NPYFixtures.b1, as: Bool.self, trials: 2000, seed: 6)
    }

    /// Whether two archives hold the same arrays (names, order, dtypes, shapes, bytes).
    static func same(_ a: NPZFile, _ b: NPZFile) -> Bool {
        a.names == b.names && a.names.allSatisfy { n in
            let x = a.members[n]!, y = b.members[n]!
            return x.dtype == y.dtype && x.shape == y.shape && x.data == y.data
        }
    }

    func fuzzArchive(_ name: String, _ bytes: [UInt8], trials: Int, seed: UInt64) throws {
        let original = try NPZFile(bytes: bytes, path: name, zlib: { Zlib.shared })
        func load(_ b: [UInt8]) -> NPZFile? {
            do { return try NPZFile(bytes: b, path: name, zlib: { Zlib.shared }) } catch is NPYError { return nil } catch {
                Issue.record("\(name): not an NPYError: \(error)")
                return nil
            }
        }
        for n in 0..<bytes.count where load(Array(bytes[0..<n])) != nil {
            Issue.record("\(name): truncated to \(n) bytes loaded")
        }
        var g = SeededGenerator(seed: seed)
        var failures = 0
        for trial in 0..<trials {
            let bad = Self.corrupt(bytes, headerEnd: bytes.count, &g)
            if let archive = load(bad) {
                if !Self.same(archive, original) {
                    let diff = (0..<min(bad.count, bytes.count)).filter { bad[$0] != bytes[$0] }.prefix(5)
                    Issue.record("\(name) trial \(trial): a corrupt archive loaded \(archive.names), not \(original.names) (\(bad.count) bytes, changed at \(Array(diff)))")
                }
            } else {
                failures += 1
            }
        }
        #expect(failures > trials / 2, "\(name): only \(failures) errors")
    }

    @Test(".npz: random corruptions give an error or exactly the original arrays")
    func npzCorruptions() throws {
        let folder = NPYTestSupport.folder("fuzz")
        let arrays: [String: any TensorProtocol] = ["x": Tensor<Double>([1.5, -2, 3, 4], shape: [2, 2]), "flags": Tensor<Bool>([true, false, true])]
        try Tandem.savez(folder + "/s.npz", arrays)
        try Tandem.savez(folder + "/c.npz", arrays, compressed: true)
        try NPYTensors.savez(folder + "/z.npz", arrays, compressed: false, forceZip64: true, zlib: { Zlib.shared })
        try fuzzArchive("storedNPZ", NPYFixtures.storedNPZ, trials: 2000, seed: 11)
        try fuzzArchive("compressedNPZ", NPYFixtures.compressedNPZ, trials: 2000, seed: 12)
        for (file, seed) in [("s.npz", UInt64(13)), ("c.npz", 14), ("z.npz", 15)] {
            try fuzzArchive(file, try #require(NPYTestSupport.read(folder + "/" + file)), trials: 1500, seed: seed)
        }
    }

    @Test(".npz: a tiny archive declaring a huge member is refused before any memory is reserved")
    func zipBomb() throws {
        // The compressed fixture with member a.npy's uncompressed size (central directory) set to 2^32 - 2.
        var bytes = NPYFixtures.compressedNPZ
        let central = try #require((0..<(bytes.count - 4)).first { bytes[$0..<($0 + 4)] == [0x50, 0x4B, 0x01, 0x02] })
        for k in 0..<4 { bytes[central + 24 + k] = [0xFE, 0xFF, 0xFF, 0xFF][k] }
        #expect(throws: NPYError.self) { try NPZFile(bytes: bytes, path: "bomb.npz", zlib: { Zlib.shared }) }
        do { _ = try NPZFile(bytes: bytes, path: "bomb.npz", zlib: { Zlib.shared }) } catch {
            #expect("\(error)".contains("more than deflate can make"), "\(error)")
        }
    }
}
