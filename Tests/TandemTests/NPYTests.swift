import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Tandem
import _TandemTestSupport

/// `.npy` and `.npz` files without NumPy: round trips of every dtype, NumPy's own bytes checked
/// in (`NPYFixtures`), hand-made headers good and bad, and how files are read and written.
@Suite("NPY")
struct NPYTests {
    static let shapes: [[Int]] = [[], [0], [5], [2, 3], [2, 0, 4], [3, 4, 5], [1, 1, 1, 1]]

    static func values<S: TensorScalar>(_ type: S.Type, count: Int, seed: UInt64) -> [S] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ -> S in
            let r = g.next()
            switch S.dtype {
            case .bool: return (r & 1 == 1) as! S
            case .int8: return Int8(truncatingIfNeeded: r) as! S
            case .int16: return Int16(truncatingIfNeeded: r) as! S
            case .uint8: return UInt8(truncatingIfNeeded: r) as! S
            case .uint16: return UInt16(truncatingIfNeeded: r) as! S
            case .uint32: return UInt32(truncatingIfNeeded: r) as! S
            case .uint64: return r as! S
            case .int32: return Int32(truncatingIfNeeded: r) as! S
            case .int64: return Int64(bitPattern: r) as! S
            case .float32: return Float(Int32(truncatingIfNeeded: r)) / 1024 as! S
            case .float64: return Double(Int64(bitPattern: r)) / 1e6 as! S
            }
        }
    }

    func roundTrip<S: TensorScalar>(_ type: S.Type, shape: [Int], folder: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let want = Self.values(S.self, count: Shape.count(shape), seed: UInt64(shape.count * 31 + shape.reduce(0, +)))
        let path = folder + "/\(S.dtype).npy"
        try Tensor(want, shape: shape).save(npy: path)
        let back = try Tensor<S>(npy: path)
        #expect(back.shape == shape, sourceLocation: sourceLocation)
        #expect(try back.scalars == want, sourceLocation: sourceLocation)
        // The same arrays inside an archive, stored and deflated.
        for compressed in [false, true] {
            let archivePath = folder + "/\(S.dtype)-\(compressed).npz"
            try Tandem.savez(archivePath, ["x": Tensor(want, shape: shape), "y": Tensor<Int32>([7])], compressed: compressed)
            let archive = try NPZFile(archivePath)
            #expect(archive.names == ["x", "y"], sourceLocation: sourceLocation)
            #expect(archive.dtype(of: "x") == S.dtype && archive.shape(of: "x") == shape, sourceLocation: sourceLocation)
            #expect(try archive.tensor("x", as: S.self).scalars == want, sourceLocation: sourceLocation)
        }
    }

    @Test("every dtype round-trips through .npy and .npz", arguments: shapes)
    func roundTripEveryDType(shape: [Int]) throws {
        let folder = NPYTestSupport.folder("roundtrip")
        try roundTrip(Bool.self, shape: shape, folder: folder)
        try roundTrip(Int8.self, shape: shape, folder: folder)
        try roundTrip(Int16.self, shape: shape, folder: folder)
        try roundTrip(Int32.self, shape: shape, folder: folder)
        try roundTrip(Int64.self, shape: shape, folder: folder)
        try roundTrip(UInt8.self, shape: shape, folder: folder)
        try roundTrip(UInt16.self, shape: shape, folder: folder)
        try roundTrip(UInt32.self, shape: shape, folder: folder)
        try roundTrip(UInt64.self, shape: shape, folder: folder)
        try roundTrip(Float.self, shape: shape, folder: folder)
        try roundTrip(Double.self, shape: shape, folder: folder)
    }

    @Test("a computed view is saved as its values, row-major")
    func savesComputedViews() throws {
        let folder = NPYTestSupport.folder("views")
        let m = Tensor<Int64>.arange(0, 12).reshaped([3, 4])
        try (m.transposed * 2)[1..<3].save(npy: folder + "/v.npy")
        let back = try Tensor<Int64>(npy: folder + "/v.npy")
        #expect(back.shape == [2, 3])
        #expect(try back.scalars == [2, 10, 18, 4, 12, 20])
    }

    @Test("NaN payloads, signed zeros and infinities are kept bit for bit")
    func specialFloats() throws {
        let folder = NPYTestSupport.folder("special")
        let doubles: [UInt64] = [0x7FF8_0000_DEAD_BEEF, 0x7FF0_0000_0000_0001, 0xFFF8_0000_0000_0000, 0x8000_0000_0000_0000,
                                 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000, 0x0000_0000_0000_0001, 0x7FEF_FFFF_FFFF_FFFF]
        try Tensor(doubles.map(Double.init(bitPattern:))).save(npy: folder + "/d.npy")
        #expect(try Tensor<Double>(npy: folder + "/d.npy").scalars.map(\.bitPattern) == doubles)
        let floats: [UInt32] = [0x7FC0_BEEF, 0x7F80_0001, 0xFFC0_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x0000_0001, 0x7F7F_FFFF]
        try Tensor(floats.map(Float.init(bitPattern:))).save(npy: folder + "/f.npy")
        #expect(try Tensor<Float>(npy: folder + "/f.npy").scalars.map(\.bitPattern) == floats)
        try Tandem.savez(folder + "/s.npz", ["d": Tensor(doubles.map(Double.init(bitPattern:))), "f": Tensor(floats.map(Float.init(bitPattern:)))],
                         compressed: true)
        let archive = try NPZFile(folder + "/s.npz")
        #expect(try archive.tensor("d", as: Double.self).scalars.map(\.bitPattern) == doubles)
        #expect(try archive.tensor("f", as: Float.self).scalars.map(\.bitPattern) == floats)
    }

    // MARK: - NumPy's own bytes

    @Test("files NumPy wrote load with the right dtype, shape, order and values")
    func numpyFixtures() throws {
        let f8 = try Tensor<Double>(npyBytes: NPYFixtures.f8C, path: "f8C", converting: false)
        #expect(f8.shape == [2, 3])
        let f8v = try f8.scalars
        #expect(f8v == [1.5, -2.25, 3.0, .infinity, 0, 1e-300] && f8v[4].sign == .minus)
        let i4 = try Tensor<Int32>(npyBytes: NPYFixtures.i4BigFortran, path: "i4", converting: false)
        #expect(i4.shape == [2, 3])
        #expect(try i4.scalars == [-2, -1, 0, 1, 2, 3])
        let f3 = try Tensor<Double>(npyBytes: NPYFixtures.f8BigFortran3d, path: "f8", converting: false)
        #expect(f3.shape == [2, 2, 2])
        #expect(try f3.scalars == [-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5])
        #expect(try Tensor<Bool>(npyBytes: NPYFixtures.b1, path: "b1", converting: false).scalars == [true, false, true, true])
        let scalar = try Tensor<Float>(npyBytes: NPYFixtures.f4Scalar, path: "f4", converting: false)
        #expect(scalar.shape == [])
        #expect(try scalar.item() == -3.5)
        let empty = try Tensor<Int64>(npyBytes: NPYFixtures.i8Empty, path: "i8", converting: false)
        #expect(empty.shape == [0, 3])
        #expect(try empty.scalars.isEmpty)

        for (bytes, names) in [(NPYFixtures.storedNPZ, ["a", "m"]), (NPYFixtures.compressedNPZ, ["a", "m", "t"])] {
            let archive = try NPZFile(bytes: bytes, path: "fixture.npz", zlib: { Zlib.shared })
            #expect(archive.names == names)
            #expect(try archive.tensor("a", as: Int64.self).scalars == [-5, -2, 1, 4])
            let m = try archive.tensor("m", as: Float.self)
            #expect(m.shape == [2, 2])
            #expect(try m.scalars == [1, 2, 3, 4.5])
            if names.contains("t") {
                #expect(try archive.tensor("t", as: Double.self).scalars == [0, 1, 2, 3, 4, 5])
            }
        }
    }

    @Test("Tandem writes the bytes np.save writes")
    func savedBytesMatchNumPy() throws {
        let folder = NPYTestSupport.folder("bytes")
        try Tensor<Double>([1.5, -2.25, 3.0, .infinity, -0.0, 1e-300], shape: [2, 3]).save(npy: folder + "/f8.npy")
        #expect(NPYTestSupport.read(folder + "/f8.npy") == NPYFixtures.f8C)
        try Tensor<Bool>([true, false, true, true]).save(npy: folder + "/b1.npy")
        #expect(NPYTestSupport.read(folder + "/b1.npy") == NPYFixtures.b1)
        try Tensor<Float>(-3.5).save(npy: folder + "/f4.npy")
        #expect(NPYTestSupport.read(folder + "/f4.npy") == NPYFixtures.f4Scalar)
        try Tensor<Int64>([], shape: [0, 3]).save(npy: folder + "/i8.npy")
        #expect(NPYTestSupport.read(folder + "/i8.npy") == NPYFixtures.i8Empty)
    }

    // MARK: - Headers

    /// An `.npy` file with this header text and data (version 1.0 unless given).
    static func npy(_ header: String, _ data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let text = Array(header.utf8)
        let length = version == 1 ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
                                  : [UInt8(text.count & 0xFF), UInt8(text.count >> 8), 0, 0]
        return NPYFormat.magic + [version, 0] + length + text + data
    }

    static let twoInts: [UInt8] = [1, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF]  // <i4 [1, -2]

    @Test("headers NumPy would accept: any key order, quotes, spacing, trailing commas, versions 2 and 3")
    func acceptedHeaders() throws {
        let headers = [
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n",
            "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i4\"}",
            "{ 'descr' : '=i4' ,\n\t'fortran_order':False,'shape':( 2 , ) , }   \n",
            "{'descr': 'i4', 'fortran_order': True, 'shape': (2L,)}",
            "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }",
        ]
        for h in headers {
            let t = try Tensor<Int32>(npyBytes: Self.npy(h, Self.twoInts), path: "h", converting: false)
            #expect(try t.scalars == [1, -2], "\(h)")
        }
        for version: UInt8 in [2, 3] {
            let t = try Tensor<Int32>(npyBytes: Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", Self.twoInts, version: version),
                                      path: "v", converting: false)
            #expect(try t.scalars == [1, -2])
        }
        let big = try Tensor<Int32>(npyBytes: Self.npy("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", Self.twoInts),
                                    path: "be", converting: false)
        #expect(try big.scalars == [Int32(bigEndian: 1), Int32(bigEndian: -2)])
        let zeroD = try Tensor<Int32>(npyBytes: Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': ()}", [9, 0, 0, 0]),
                                      path: "0d", converting: false)
        #expect(zeroD.shape == [])
        #expect(try zeroD.item() == 9)
    }

    @Test("a header longer than 65535 bytes is written as version 2.0 and read back")
    func version2Header() throws {
        let dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }" + String(repeating: " ", count: 70_000)
        let bytes = NPYFormat.wrap(Array(dict.utf8))
        #expect(bytes[6] == 2 && bytes[7] == 0)
        #expect((bytes.count) % 64 == 0)
        let t = try Tensor<Int32>(npyBytes: bytes + Self.twoInts, path: "v2", converting: false)
        #expect(try t.scalars == [1, -2])
        let short = NPYFormat.header(dtype: .float64, shape: [2, 3])
        #expect(short[6] == 1 && short.count % 64 == 0)
    }

    @Test("malformed headers and data throw errors that say what and where")
    func malformedInputs() throws {
        let valid = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"
        func header(_ h: String, _ data: [UInt8] = Self.twoInts) -> [UInt8] { Self.npy(h, data) }
        let cases: [(String, [UInt8], String)] = [
            ("empty file", [], "truncated"),
            ("wrong magic", [0x93] + Array("NUMPX".utf8) + [1, 0, 0, 0], "not an .npy file"),
            ("a text file", Array("hello, world\n".utf8), "not an .npy file"),
            ("version 4.0", NPYFormat.magic + [4, 0, 0, 0], "version 4.0"),
            ("version 1.1", NPYFormat.magic + [1, 1, 0, 0], "version 1.1"),
            ("absurd header length", NPYFormat.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F], "absurd"),
            ("header past the end", NPYFormat.magic + [1, 0, 0xFF, 0x00] + Array("{'descr'".utf8), "truncated inside the header"),
            ("not a dict", header("['descr', '<i4']"), "not a Python dict"),
            ("missing shape", header("{'descr': '<i4', 'fortran_order': False}"), "no 'shape'"),
            ("extra key", header("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}"), "unexpected key 'x'"),
            ("repeated key", header("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (2,)}"), "repeats the key 'descr'"),
            ("negative extent", header("{'descr': '<i4', 'fortran_order': False, 'shape': (-2,)}"), "negative"),
            ("overflowing shape", header("{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 0)}", []), "more elements than fit"),
            ("overflowing bytes", header("{'descr': '<i8', 'fortran_order': False, 'shape': (2305843009213693952,)}"), "more bytes than fit"),
            ("huge integer", header("{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999999,)}"), "too large"),
            ("list shape", header("{'descr': '<i4', 'fortran_order': False, 'shape': [2]}"), "not a tuple"),
            ("parenthesised int", header("{'descr': '<i4', 'fortran_order': False, 'shape': (2)}"), "not a tuple"),
            ("float extent", header("{'descr': '<i4', 'fortran_order': False, 'shape': (2.0,)}"), "not an integer"),
            ("leading zero", header("{'descr': '<i4', 'fortran_order': False, 'shape': (02,)}"), "leading zero"),
            ("65 axes", header("{'descr': '<i4', 'fortran_order': False, 'shape': (" + String(repeating: "1, ", count: 65) + ")}", [0, 0, 0, 0]), "65 axes"),
            ("fortran_order 1", header("{'descr': '<i4', 'fortran_order': 1, 'shape': (2,)}"), "not True or False"),
            ("descr not a string", header("{'descr': 4, 'fortran_order': False, 'shape': (2,)}"), "not a dtype string"),
            ("text after the dict", header(valid + " x"), "after the header dict"),
            ("NUL padding", header(valid + "\0"), "after the header dict"),
            ("misplaced quote", header("{'descr: '<i4'}"), "expected ':'"),
            ("unterminated string", header("{'descr': '<i4"), "unterminated string"),
            ("nested brackets", header("{'descr': " + String(repeating: "(", count: 200)), "nests more than"),
            ("bad escape", header("{'descr': '<i\\q4'}"), "unsupported escape"),
            ("truncated data", header(valid, [1, 0, 0, 0, 2]), "truncated: the header's shape and dtype need 8 bytes of data, the file has 5"),
            ("trailing data", header(valid, Self.twoInts + [0]), "trailing bytes"),
            ("bool byte 2", header("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", [1, 2, 0]), "bool element is 2"),
            ("version 3 not UTF-8", Self.npy(valid + "\u{FF}", Self.twoInts, version: 3).map { $0 == 0xC3 ? 0xFF : $0 }, "UTF-8"),
        ]
        for (name, bytes, expected) in cases {
            do {
                let t = try Tensor<Int32>(npyBytes: bytes, path: "case.npy", converting: true)
                Issue.record("\(name): loaded \(t.shape) instead of failing")
            } catch let e as NPYError {
                #expect(e.description.contains(expected), "\(name): \(e)")
                #expect(e.description.hasPrefix("case.npy: "), "\(name): \(e)")
            }
        }
        // Where the problem is: the offset of the first bad bool byte, and of the bad shape key.
        let bools = header("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", [1, 0, 7])
        #expect(throws: NPYError.invalidBool(path: "b.npy", offset: bools.count - 1, byte: 7)) {
            try Tensor<Bool>(npyBytes: bools, path: "b.npy", converting: false)
        }
        #expect(throws: NPYError.malformed(path: "k.npy", offset: 51, reason: "header has the unexpected key 'x' (only 'descr', 'fortran_order' and 'shape')")) {
            try Tensor<Int32>(npyBytes: header("{'descr': '<i4', 'fortran_order': False, 'x': 1, 'shape': (2,)}"), path: "k.npy", converting: false)
        }
    }

    @Test("dtypes Tandem has no tensor for are named, with the ones it supports")
    func unsupportedDTypes() throws {
        let cases = [("'<f2'", "float16"), ("'<c32'", "clongdouble"), ("'|O'", "object"),
                     ("'<U3'", "unicode"), ("'<M8[ns]'", "datetime64"), ("[('a', '<f8'), ('b', '<i4')]", "structured"), ("'<m8[s]'", "timedelta64")]
        for (descr, name) in cases {
            let bytes = Self.npy("{'descr': \(descr), 'fortran_order': False, 'shape': (1,)}", [0, 0])
            do {
                _ = try Tensor<Double>(npyBytes: bytes, path: "u.npy", converting: true)
                Issue.record("\(descr) loaded")
            } catch let e as NPYError {
                guard case .unsupportedDType = e else { Issue.record("\(descr): \(e)"); continue }
                #expect(e.description.contains(name) && e.description.contains("Tandem supports bool '|b1'"), "\(e)")
            }
        }
    }

    @Test("a dtype mismatch names both dtypes; converting: true converts like cast(to:)")
    func dtypeMismatch() throws {
        let folder = NPYTestSupport.folder("mismatch")
        let path = folder + "/d.npy"
        try Tensor<Double>([1.75, -2.5, 0]).save(npy: path)
        #expect(throws: NPYError.dtypeMismatch(path: path, file: .float64, requested: .float32)) { try Tensor<Float>(npy: path) }
        do { _ = try Tensor<Int32>(npy: path) } catch {
            #expect("\(error)" == "\(path): holds float64 values, not int32 (pass converting: true to convert them)")
        }
        #expect(try Tensor<Int32>(npy: path, converting: true).scalars == [1, -2, 0])
        #expect(try Tensor<Bool>(npy: path, converting: true).scalars == [true, true, false])
        try Tandem.savez(folder + "/d.npz", ["d": Tensor<Double>([1.75, -2.5, 0])])
        let archive = try NPZFile(folder + "/d.npz")
        #expect(throws: NPYError.dtypeMismatch(path: folder + "/d.npz/d.npy", file: .float64, requested: .int64)) {
            try archive.tensor("d", as: Int64.self)
        }
        #expect(try archive.tensor("d", as: Float.self, converting: true).scalars == [1.75, -2.5, 0])
        #expect(throws: NPYError.missingArray(path: folder + "/d.npz", name: "e", available: ["d"])) { try archive.tensor("e", as: Double.self) }
        #expect(archive.dtype(of: "e") == nil && archive.shape(of: "e") == nil)
    }

    // MARK: - Files

    @Test("a FIFO, a directory, a device and a missing file are errors, and nothing blocks")
    func specialPaths() throws {
        let folder = NPYTestSupport.folder("special-paths")
        let fifo = folder + "/pipe.npy"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: NPYError.notARegularFile(path: fifo, kind: "FIFO")) { try Tensor<Double>(npy: fifo) }
        #expect(throws: NPYError.notARegularFile(path: fifo, kind: "FIFO")) { try NPZFile(fifo) }
        #expect(throws: NPYError.notARegularFile(path: folder, kind: "directory")) { try Tensor<Double>(npy: folder) }
        #expect(throws: NPYError.notARegularFile(path: "/dev/null", kind: "character device")) { try NPZFile("/dev/null") }
        do {
            _ = try Tensor<Double>(npy: folder + "/absent.npy")
            Issue.record("a missing file loaded")
        } catch {
            #expect("\(error)" == "\(folder)/absent.npy: could not open it: No such file or directory")
        }
        #expect(throws: NPYError.tooLarge(path: fifo + "x", bytes: 3, limit: 2)) {
            NPYTestSupport.write([1, 2, 3], to: fifo + "x")
            _ = try NPYFiles.read(fifo + "x", limit: 2)
        }
    }

    struct Interrupted: Error {}

    @Test("a failed save leaves no temporary file and the old file as it was")
    func failedSavesLeaveNothing() throws {
        let folder = NPYTestSupport.folder("failed-save")
        let path = folder + "/old.npy"
        try Tensor<Int64>([1, 2, 3]).save(npy: path)
        let old = NPYTestSupport.read(path)
        func unchanged(_ sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(NPYTestSupport.read(path) == old, sourceLocation: sourceLocation)
            #expect(NPYTestSupport.listing(folder) == ["old.npy", "sub"], sourceLocation: sourceLocation)
        }
        mkdir(folder + "/sub", 0o700)
        NPYTestSupport.write([1], to: folder + "/sub/keep")

        // A write interrupted half-way (as a full disk would) after some bytes went out.
        #expect(throws: Interrupted.self) {
            try NPYFiles.writeAtomically(path) { write in
                try [UInt8](repeating: 7, count: 100).withUnsafeBytes(write)
                throw Interrupted()
            }
        }
        unchanged()
        // The target is a folder: the rename fails after the whole file was written.
        #expect(throws: NPYError.self) { try Tensor<Int64>([4]).save(npy: folder + "/sub") }
        #expect(NPYTestSupport.listing(folder + "/sub") == ["keep"])
        unchanged()
        // No such folder; a name an archive cannot hold; compression without zlib.
        #expect(throws: NPYError.self) { try Tensor<Int64>([4]).save(npy: folder + "/none/x.npy") }
        #expect(throws: NPYError.self) { try Tandem.savez(path, ["../up": Tensor<Int64>([4])]) }
        #expect(throws: NPYError.self) { try Tandem.savez(path, ["": Tensor<Int64>([4])]) }
        let noZlib = { Zlib.load(candidates: ["/nonexistent/libz.so.1"]) }
        #expect(throws: NPYError.self) {
            try NPYTensors.savez(path, ["x": Tensor<Int64>([4])], compressed: true, forceZip64: false, zlib: noZlib)
        }
        unchanged()
        // A folder this process may not write to (root may write anywhere, so only as a user).
        if geteuid() != 0 {
            chmod(folder, 0o500)
            defer { chmod(folder, 0o700) }
            #expect(throws: NPYError.self) { try Tensor<Int64>([4]).save(npy: path) }
            unchanged()
        }
        // And a save that succeeds replaces the file in one step, leaving nothing else behind.
        try Tensor<Int64>([4]).save(npy: path)
        #expect(try Tensor<Int64>(npy: path).scalars == [4])
        #expect(NPYTestSupport.listing(folder) == ["old.npy", "sub"])
    }

    @Test("saving through a symbolic link replaces the file it names")
    func saveThroughSymlink() throws {
        let folder = NPYTestSupport.folder("symlink")
        try Tensor<Int32>([1]).save(npy: folder + "/real.npy")
        symlink(folder + "/real.npy", folder + "/link.npy")
        try Tensor<Int32>([2]).save(npy: folder + "/link.npy")
        var info = stat()
        #expect(lstat(folder + "/link.npy", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        #expect(try Tensor<Int32>(npy: folder + "/real.npy").scalars == [2])
    }

    // MARK: - .npz

    @Test("compressed members need zlib; stored ones load without it")
    func withoutZlib() throws {
        let noZlib = { Zlib.load(candidates: ["/nonexistent/libz.so.1"]) }
        guard case .failure(let why) = noZlib() else { Issue.record("a missing zlib loaded"); return }
        #expect(why.reason.contains("/nonexistent/libz.so.1"))
        let stored = try NPZFile(bytes: NPYFixtures.storedNPZ, path: "s.npz", zlib: noZlib)
        #expect(try stored.tensor("a", as: Int64.self).scalars == [-5, -2, 1, 4])
        do {
            _ = try NPZFile(bytes: NPYFixtures.compressedNPZ, path: "c.npz", zlib: noZlib)
            Issue.record("a compressed archive loaded without zlib")
        } catch let e as NPYError {
            #expect(e.description.hasPrefix("c.npz/a.npy: compressed .npz members need zlib"), "\(e)")
        }
    }

    @Test("zip64 records, as NumPy writes for large archives, are read")
    func zip64() throws {
        let folder = NPYTestSupport.folder("zip64")
        for compressed in [false, true] {
            let path = folder + "/z\(compressed).npz"
            try NPYTensors.savez(path, ["a": Tensor<Double>([1, 2, 3]), "b": Tensor<Bool>([true])], compressed: compressed,
                                 forceZip64: true, zlib: { Zlib.shared })
            let archive = try NPZFile(path)
            #expect(archive.names == ["a", "b"])
            #expect(try archive.tensor("a", as: Double.self).scalars == [1, 2, 3])
            #expect(try archive.tensor("b", as: Bool.self).scalars == [true])
        }
    }

    @Test("an empty archive, member order and names with folders")
    func archiveNames() throws {
        let folder = NPYTestSupport.folder("names")
        try Tandem.savez(folder + "/empty.npz", [:])
        #expect(try NPZFile(folder + "/empty.npz").names == [])
        try Tandem.savez(folder + "/n.npz", ["z": Tensor<Int32>([1]), "a/b": Tensor<Int32>([2]), "é": Tensor<Int32>([3])])
        let archive = try NPZFile(folder + "/n.npz")
        #expect(archive.names == ["a/b", "z", "é"])
        #expect(try archive.tensor("é", as: Int32.self).scalars == [3])
        #expect(throws: NPYError.self) { try NPZFile(bytes: NPYFixtures.f8C, path: "x.npz", zlib: { Zlib.shared }) }
    }

    @Test("CRC-32 and raw deflate agree with the standard")
    func checksumAndDeflate() throws {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0) } == 0)
        var g = SeededGenerator(seed: 5)
        let long = (0..<100_003).map { i in i % 7 == 0 ? UInt8(truncatingIfNeeded: g.next()) : UInt8(i % 13) }
        var split = CRC32()
        long.withUnsafeBytes { split.update(UnsafeRawBufferPointer(rebasing: $0[0..<3])); split.update(UnsafeRawBufferPointer(rebasing: $0[3...])) }
        var bytewise: UInt32 = 0xFFFF_FFFF
        for b in long {
            bytewise ^= UInt32(b)
            for _ in 0..<8 { bytewise = bytewise & 1 != 0 ? 0xEDB8_8320 ^ (bytewise >> 1) : bytewise >> 1 }
        }
        #expect(split.value == ~bytewise)
        let z = try Zlib.shared.get()
        for data in [[], [1], long] as [[UInt8]] {
            let packed = try data.withUnsafeBytes { try z.deflateRaw([$0], path: "t") }
            let back = try packed.withUnsafeBytes { try z.inflateRaw($0, expectedSize: data.count, path: "t") }
            #expect(back == data)
            if !data.isEmpty {
                #expect(throws: NPYError.self) { try packed.withUnsafeBytes { try z.inflateRaw($0, expectedSize: data.count - 1, path: "t") } }
                #expect(throws: NPYError.self) { try packed.withUnsafeBytes { try z.inflateRaw($0, expectedSize: data.count + 1, path: "t") } }
                #expect(throws: NPYError.self) { try (packed + [0]).withUnsafeBytes { try z.inflateRaw($0, expectedSize: data.count, path: "t") } }
            }
        }
    }
}
