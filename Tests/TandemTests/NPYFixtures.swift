#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime
import _TandemTestSupport

/// Small `.npy` and `.npz` files made once by NumPy 2.4 (the script is in the comment of each), so
/// the format is checked against NumPy's own bytes even where NumPy is not installed.
///
///     import numpy as np, io
///     def npy(a): f = io.BytesIO(); np.save(f, a); return f.getvalue().hex()
enum NPYFixtures {
    /// `np.array([[1.5, -2.25, 3.0], [np.inf, -0.0, 1e-300]])`: '<f8', C order.
    static let f8C = hex("""
        934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73
        652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200a000000000000f83f00000000000002c0
        0000000000000840000000000000f07f000000000000008059f3f8c21f6ea501
        """)

    /// `np.asfortranarray((np.arange(6) - 2).astype('>i4').reshape(2, 3))`: '>i4', Fortran order.
    static let i4BigFortran = hex("""
        934e554d5059010076007b276465736372273a20273e6934272c2027666f727472616e5f6f72646572273a2054727565
        2c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200afffffffe00000001ffffffff00000002
        0000000000000003
        """)

    /// `np.asfortranarray((np.arange(8) * 0.5 - 1).astype('>f8').reshape(2, 2, 2))`: '>f8', Fortran order.
    static let f8BigFortran3d = hex("""
        934e554d5059010076007b276465736372273a20273e6638272c2027666f727472616e5f6f72646572273a2054727565
        2c20277368617065273a2028322c20322c2032292c207d20202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200abff00000000000003ff0000000000000
        00000000000000004000000000000000bfe00000000000003ff80000000000003fe00000000000004004000000000000
        """)

    /// `np.array([True, False, True, True])`: '|b1'.
    static let b1 = hex("""
        934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73
        652c20277368617065273a2028342c292c207d2020202020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200a01000101
        """)

    /// `np.array(np.float32(-3.5))`: 0-d '<f4'.
    static let f4Scalar = hex("""
        934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73
        652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200a000060c0
        """)

    /// `np.zeros((0, 3), dtype='<i8')`.
    static let i8Empty = hex("""
        934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73
        652c20277368617065273a2028302c2033292c207d202020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200a
        """)

    /// `np.savez(f, a=np.arange(4, dtype=np.int64) * 3 - 5, m=np.array([[1.0, 2.0], [3.0, 4.5]], dtype=np.float32))`.
    static let storedNPZ = hex("""
        504b03042d000000000000002100eb1733b6ffffffffffffffff05001400612e6e707901001000a000000000000000a0
        00000000000000934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572
        273a2046616c73652c20277368617065273a2028342c292c207d20202020202020202020202020202020202020202020
        20202020202020202020202020202020202020202020202020202020202020202020202020200afbfffffffffffffffe
        ffffffffffffff01000000000000000400000000000000504b03042d0000000000000021001fe9e23fffffffffffffff
        ff050014006d2e6e70790100100090000000000000009000000000000000934e554d5059010076007b27646573637227
        3a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c203229
        2c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020
        202020202020202020202020200a0000803f000000400000404000009040504b01022d032d000000000000002100eb17
        33b6a0000000a0000000050000000000000000000000800100000000612e6e7079504b01022d032d0000000000000021
        001fe9e23f90000000900000000500000000000000000000008001d70000006d2e6e7079504b05060000000002000200
        660000009e0100000000
        """)

    /// `np.savez_compressed(f, a=..., m=... (as above), t=np.asfortranarray(np.arange(6, dtype='>f8').reshape(2, 3)))`.
    static let compressedNPZ = hex("""
        504b03042d000000080000002100eb1733b6ffffffffffffffff05001400612e6e707901001000a00000000000000051
        000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9369a1aea3a09e965f54529498179f5f94920a
        12774bcc294e058a17672416a402f91a263a9a3a0ab50a1400aedfff21e01f946664800016280d00504b03042d000000
        0800000021001fe9e23fffffffffffffffff050014006d2e6e707901001000900000000000000053000000000000009b
        ec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f5f94920a12774bcc294e058a
        17672416a402f91a463a0a469a3a0ab50a64032e0686067b060606072002e2090e00504b03042d000000080000002100
        5f045047ffffffffffffffff05001400742e6e707901001000b00000000000000056000000000000009bec17ea1b10c9
        c850c650ad9e925a9c5ca46ea5a06e9766a1aea3a09e965f54529498179f5f94920a120f292a4d050a17672416a402b9
        1a463a0ac69a3a0ab50ae4032e062870e080d0f61fa07c01280d931781d000504b01022d032d000000080000002100eb
        1733b651000000a0000000050000000000000000000000800100000000612e6e7079504b01022d032d00000008000000
        21001fe9e23f53000000900000000500000000000000000000008001880000006d2e6e7079504b01022d032d00000008
        00000021005f04504756000000b0000000050000000000000000000000800112010000742e6e7079504b050600000000
        03000300990000009f0100000000
        """)

    /// Bytes from hex digits (whitespace ignored).
    static func hex(_ s: String) -> [UInt8] {
        let digits = s.utf8.filter { $0 > 0x20 }.map { d -> UInt8 in d <= 0x39 ? d - 0x30 : (d | 0x20) - 0x61 + 10 }
        return stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }
}

/// Scratch folders, files and Python for the `.npy` tests.
enum NPYTestSupport {
    /// A new empty folder in the test process's scratch folder.
    static func folder(_ name: String) -> String {
        let path = TestScratch.path("npy-\(name)-\(UInt32.random(in: 0...UInt32.max))")
        mkdir(path, 0o700)
        return path
    }

    static func write(_ bytes: [UInt8], to path: String) {
        precondition(ProcessInfoLite.write(bytes, to: path), "could not write \(path)")
    }

    static func read(_ path: String) -> [UInt8]? { ProcessInfoLite.contents(of: path) }

    /// The names in a folder, sorted (without `.` and `..`).
    static func listing(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `python3`, if it is installed and imports NumPy.
    static let numpyPython: String? = {
        guard let python = ProcessInfoLite.executable("python3"),
              case .success(let r) = Subprocess.run([python, "-c", "import numpy"]), r.status == 0 else { return nil }
        return python
    }()

    /// Runs a Python script with arguments; returns its exit status and output.
    static func python(_ script: String, _ arguments: [String], in folder: String) -> (status: Int32, output: String) {
        let file = folder + "/script.py"
        write(Array(script.utf8), to: file)
        guard let python = numpyPython, case .success(let r) = Subprocess.run([python, file] + arguments) else {
            return (-1, "could not start python3")
        }
        return (r.status, r.output)
    }
}

let numpyAvailable = NPYTestSupport.numpyPython != nil
