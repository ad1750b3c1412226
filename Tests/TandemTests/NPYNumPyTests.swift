import Testing
@testable import Tandem
import _TandemTestSupport

/// Files made by the NumPy installed here, read by Tandem, and files made by Tandem, read and
/// checked by NumPy (each side compares with values it computes itself). Skipped without NumPy;
/// `NPYTests.numpyFixtures` checks NumPy's bytes either way.
@Suite("NPY with NumPy", .enabled(if: numpyAvailable), .serialized)
struct NPYNumPyTests {
    /// The arrays both sides build, shape (2, 3, 4), as Python.
    static let pythonValues = """
        import sys, zipfile, numpy as np
        d = sys.argv[1]
        i = np.arange(24).reshape(2, 3, 4)
        vals = {'f8': i * 0.25 - 2.5, 'f4': (i * 0.25 - 2.5).astype(np.float32), 'i8': (i * 1000003 - 7).astype(np.int64),
                'i4': (i * -3 + 1).astype(np.int32), 'b1': i % 3 == 0,
                'i1': (i * 11 - 128).astype(np.int8), 'i2': (i * -1400 + 7).astype(np.int16),
                'u1': (i * 11).astype(np.uint8), 'u2': (i * 2800).astype(np.uint16), 'u4': (i * 180000000).astype(np.uint32)}

        """
    static let specials: [UInt64] = [0x7FF8_0000_DEAD_BEEF, 0x7FF0_0000_0000_0001, 0x8000_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000]

    static let f8 = (0..<24).map { Double($0) * 0.25 - 2.5 }
    static let f4 = f8.map { Float($0) }
    static let i8 = (0..<24).map { Int64($0) * 1_000_003 - 7 }
    static let i4 = (0..<24).map { Int32($0) * -3 + 1 }
    static let b1 = (0..<24).map { $0 % 3 == 0 }
    static let i1 = (0..<24).map { Int8($0 * 11 - 128) }
    static let i2 = (0..<24).map { Int16($0 * -1400 + 7) }
    static let u1 = (0..<24).map { UInt8($0 * 11) }
    static let u2 = (0..<24).map { UInt16($0 * 2800) }
    static let u4 = (0..<24).map { UInt32($0 * 180_000_000) }

    func expectValues<S: TensorScalar>(_ t: Tensor<S>, _ want: [S], shape: [Int] = [2, 3, 4], _ what: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(t.shape == shape, "\(what)", sourceLocation: sourceLocation)
        #expect(try t.scalars == want, "\(what)", sourceLocation: sourceLocation)
    }

    @Test("files NumPy writes (every dtype, both byte orders, C and Fortran order, savez, savez_compressed) load")
    func numpyWritesTandemReads() throws {
        let folder = NPYTestSupport.folder("numpy-writes")
        let script = Self.pythonValues + """
            for k, v in vals.items():
                for order in '<>':
                    for fortran in (False, True):
                        a = v.astype(v.dtype.newbyteorder(order))
                        if fortran: a = np.asfortranarray(a)
                        np.save(f"{d}/{k}-{'be' if order == '>' else 'le'}-{'F' if fortran else 'C'}.npy", a)
            np.save(f"{d}/scalar.npy", np.float64(3.25))
            np.save(f"{d}/empty.npy", np.zeros((2, 0, 3), np.int32))
            np.save(f"{d}/f2.npy", np.zeros(3, np.float16))
            np.save(f"{d}/u8.npy", np.array([0, 2**63 + 5, 2**64 - 1], np.uint64))
            np.savez(f"{d}/plain.npz", **vals)
            np.savez_compressed(f"{d}/packed.npz", **vals, big=np.arange(300000.0).reshape(600, 500))
            np.savez(f"{d}/positional.npz", np.arange(3), np.ones(2))
            print("OK")
            """
        let r = NPYTestSupport.python(script, [folder], in: folder)
        try #require(r.status == 0 && r.output.contains("OK"), "\(r.output)")
        for order in ["le", "be"] {
            for layout in ["C", "F"] {
                func path(_ k: String) -> String { folder + "/\(k)-\(order)-\(layout).npy" }
                try expectValues(Tensor<Double>(npy: path("f8")), Self.f8, path("f8"))
                try expectValues(Tensor<Float>(npy: path("f4")), Self.f4, path("f4"))
                try expectValues(Tensor<Int64>(npy: path("i8")), Self.i8, path("i8"))
                try expectValues(Tensor<Int32>(npy: path("i4")), Self.i4, path("i4"))
                try expectValues(Tensor<Bool>(npy: path("b1")), Self.b1, path("b1"))
                try expectValues(Tensor<Int8>(npy: path("i1")), Self.i1, path("i1"))
                try expectValues(Tensor<Int16>(npy: path("i2")), Self.i2, path("i2"))
                try expectValues(Tensor<UInt8>(npy: path("u1")), Self.u1, path("u1"))
                try expectValues(Tensor<UInt16>(npy: path("u2")), Self.u2, path("u2"))
                try expectValues(Tensor<UInt32>(npy: path("u4")), Self.u4, path("u4"))
            }
        }
        try expectValues(Tensor<Double>(npy: folder + "/scalar.npy"), [3.25], shape: [], "scalar")
        try expectValues(Tensor<Int32>(npy: folder + "/empty.npy"), [], shape: [2, 0, 3], "empty")
        try expectValues(Tensor<UInt64>(npy: folder + "/u8.npy"), [0, (1 << 63) + 5, .max], shape: [3], "u8")
        for (file, name) in [("f2", "float16")] {
            do {
                _ = try Tensor<Double>(npy: folder + "/\(file).npy", converting: true)
                Issue.record("\(file) loaded")
            } catch {
                #expect("\(error)".contains(name) && "\(error)".contains("Tandem supports"), "\(error)")
            }
        }
        for file in ["plain", "packed"] {
            let archive = try NPZFile(folder + "/\(file).npz")
            #expect(archive.names == ["f8", "f4", "i8", "i4", "b1", "i1", "i2", "u1", "u2", "u4"] + (file == "packed" ? ["big"] : []))
            try expectValues(archive.tensor("f8", as: Double.self), Self.f8, file)
            try expectValues(archive.tensor("f4", as: Float.self), Self.f4, file)
            try expectValues(archive.tensor("i8", as: Int64.self), Self.i8, file)
            try expectValues(archive.tensor("i4", as: Int32.self), Self.i4, file)
            try expectValues(archive.tensor("b1", as: Bool.self), Self.b1, file)
            try expectValues(archive.tensor("u1", as: UInt8.self), Self.u1, file)
            try expectValues(archive.tensor("i2", as: Int16.self), Self.i2, file)
            if file == "packed" {
                try expectValues(archive.tensor("big", as: Double.self), (0..<300_000).map(Double.init), shape: [600, 500], "big")
            }
        }
        let positional = try NPZFile(folder + "/positional.npz")
        #expect(positional.names == ["arr_0", "arr_1"])
        #expect(try positional.tensor("arr_1", as: Double.self).scalars == [1, 1])
    }

    @Test("files Tandem writes load in NumPy with the same dtypes, shapes and bits")
    func tandemWritesNumPyReads() throws {
        let folder = NPYTestSupport.folder("numpy-reads")
        let shape = [2, 3, 4]
        let arrays: [String: any TensorProtocol] = [
            "f8": Tensor(Self.f8, shape: shape), "f4": Tensor(Self.f4, shape: shape), "i8": Tensor(Self.i8, shape: shape),
            "i4": Tensor(Self.i4, shape: shape), "b1": Tensor(Self.b1, shape: shape),
            "i1": Tensor(Self.i1, shape: shape), "i2": Tensor(Self.i2, shape: shape), "u1": Tensor(Self.u1, shape: shape),
            "u2": Tensor(Self.u2, shape: shape), "u4": Tensor(Self.u4, shape: shape),
            "special": Tensor(Self.specials.map(Double.init(bitPattern:))),
        ]
        try Tensor(Self.f8, shape: shape).save(npy: folder + "/t-f8.npy")
        try Tensor(Self.f4, shape: shape).save(npy: folder + "/t-f4.npy")
        try Tensor(Self.i8, shape: shape).save(npy: folder + "/t-i8.npy")
        try Tensor(Self.i4, shape: shape).save(npy: folder + "/t-i4.npy")
        try Tensor(Self.b1, shape: shape).save(npy: folder + "/t-b1.npy")
        try Tensor(Self.i1, shape: shape).save(npy: folder + "/t-i1.npy")
        try Tensor(Self.i2, shape: shape).save(npy: folder + "/t-i2.npy")
        try Tensor(Self.u1, shape: shape).save(npy: folder + "/t-u1.npy")
        try Tensor(Self.u2, shape: shape).save(npy: folder + "/t-u2.npy")
        try Tensor(Self.u4, shape: shape).save(npy: folder + "/t-u4.npy")
        try Tensor<Double>(3.25).save(npy: folder + "/scalar.npy")
        try Tensor<Int32>([], shape: [2, 0, 3]).save(npy: folder + "/empty.npy")
        try Tensor(Self.specials.map(Double.init(bitPattern:))).save(npy: folder + "/special.npy")
        try Tensor<UInt64>([0, (1 << 63) + 5, .max]).save(npy: folder + "/t-u8.npy")
        try Tandem.savez(folder + "/plain.npz", arrays)
        try Tandem.savez(folder + "/packed.npz", arrays, compressed: true)
        try NPYTensors.savez(folder + "/zip64.npz", arrays, compressed: false, forceZip64: true, zlib: { Zlib.shared })
        try NPYTensors.savez(folder + "/zip64c.npz", arrays, compressed: true, forceZip64: true, zlib: { Zlib.shared })
        let script = Self.pythonValues + """
            specials = [\(Self.specials.map(String.init).joined(separator: ", "))]
            def check(a, want, name):
                assert a.dtype == want.dtype, (name, a.dtype, want.dtype)
                assert a.shape == want.shape, (name, a.shape, want.shape)
                assert np.array_equal(a, want), name
            for k, v in vals.items():
                check(np.load(f"{d}/t-{k}.npy"), v, k)
            check(np.load(f"{d}/t-f8.npy", mmap_mode='r'), vals['f8'], "mmap")
            check(np.load(f"{d}/scalar.npy"), np.array(3.25), "scalar")
            check(np.load(f"{d}/empty.npy"), np.zeros((2, 0, 3), np.int32), "empty")
            assert np.load(f"{d}/special.npy").view('<u8').tolist() == specials
            check(np.load(f"{d}/t-u8.npy"), np.array([0, 2**63 + 5, 2**64 - 1], np.uint64), "u8")
            for name in ["plain", "packed", "zip64", "zip64c"]:
                with zipfile.ZipFile(f"{d}/{name}.npz") as z:
                    assert z.testzip() is None, name
                with np.load(f"{d}/{name}.npz") as f:
                    assert f.files == ['b1', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'special', 'u1', 'u2', 'u4'], f.files
                    for k, v in vals.items():
                        check(f[k], v, name + "/" + k)
                    assert f["special"].view('<u8').tolist() == specials, name
            print("OK")
            """
        let r = NPYTestSupport.python(script, [folder], in: folder)
        #expect(r.status == 0 && r.output.contains("OK"), "\(r.output)")
    }
}
