import Testing
@testable import Tandem
import TandemRuntime
import _TandemTestSupport

/// Issue 16 point 6: the integer dtypes NumPy programs reach for beside int32 and int64
/// (`int8`, `int16`, `uint8`, `uint16`, `uint32`). Every operation on edge values, against
/// Swift's own fixed-width arithmetic, on the interpreter, compiled C and OpenCL (where present),
/// bit for bit.
@Suite("Small integer dtypes", .serialized)
struct SmallIntegerTests {
    /// The host devices; OpenCL runs the same checks inside its own serialized suite
    /// (`OpenCLDeviceTests.smallIntegers`), whose tests count the copies the runtime makes.
    static var devices: [DeviceChoice] {
        var d: [DeviceChoice] = [.interpreter]
        if Tandem.runtime.availability(of: "cpu") == .available { d.append(.cpu) }
        return d
    }

    /// Edge values of `T` and ordinary ones, paired so that every edge meets every other.
    static func operands<T: FixedWidthInteger>(_: T.Type) -> ([T], [T]) {
        var edges: [T] = [T.min, T.max, 0, 1, 2, 3, 7, T.max / 2, T.max - 1]
        if T.isSigned { edges += [-1, -2, -7, T.min + 1, T.min / 2] }
        var a: [T] = [], b: [T] = []
        for x in edges { for y in edges { a.append(x); b.append(y) } }
        return (a, b)
    }

    /// Tandem's integer division: x/0 and x%0 are 0, x / -1 wraps (C's, without its traps).
    static func div<T: FixedWidthInteger>(_ x: T, _ y: T) -> T { y == 0 ? 0 : (T.isSigned && y == -1 ? 0 &- x : x / y) }
    static func rem<T: FixedWidthInteger>(_ x: T, _ y: T) -> T { y == 0 || (T.isSigned && y == -1) ? 0 : x % y }
    static func shl<T: FixedWidthInteger>(_ x: T, _ s: T) -> T { s < 0 || s >= T.bitWidth ? 0 : x &<< s }
    static func shr<T: FixedWidthInteger>(_ x: T, _ s: T) -> T { s < 0 || s >= T.bitWidth ? (x < 0 ? -1 : 0) : x &>> s }

    func check<T: SmallIntegerTensorScalar & FixedWidthInteger>(_: T.Type, on devices: [DeviceChoice] = SmallIntegerTests.devices) throws {
        let (a, b) = Self.operands(T.self)
        let counts = b.map { $0 % T(T.bitWidth + 3) }   // in and out of range, negative too
        let doubles: [Double] = [-1e10, -129.9, -1.5, -0.5, 0, 0.5, 1.9, 255.5, 65535.9, 70000, 4294967295.5, 1e10, .nan, .infinity, -.infinity]
        let want: [String: [Int64]] = [
            "add": zip(a, b).map { Int64($0 &+ $1) }, "sub": zip(a, b).map { Int64($0 &- $1) },
            "mul": zip(a, b).map { Int64($0 &* $1) }, "div": zip(a, b).map { Int64(Self.div($0, $1)) },
            "rem": zip(a, b).map { Int64(Self.rem($0, $1)) }, "neg": a.map { Int64(0 &- $0) },
            "abs": a.map { Int64($0 < 0 ? 0 &- $0 : $0) }, "not": a.map { Int64(~$0) },
            "and": zip(a, b).map { Int64($0 & $1) }, "or": zip(a, b).map { Int64($0 | $1) }, "xor": zip(a, b).map { Int64($0 ^ $1) },
            "shl": zip(a, counts).map { Int64(Self.shl($0, $1)) }, "shr": zip(a, counts).map { Int64(Self.shr($0, $1)) },
            "max": zip(a, b).map { Int64(Swift.max($0, $1)) }, "min": zip(a, b).map { Int64(Swift.min($0, $1)) },
            "lt": zip(a, b).map { $0 < $1 ? 1 : 0 }, "eq": zip(a, b).map { $0 == $1 ? 1 : 0 },
            "fused": zip(a, b).map { x, y in Int64((x &* 3 &+ y) ^ (x &>> 1)) },
            "fromDouble": doubles.map { d in
                Int64(d.isNaN ? 0 : (d >= Double(T.max) ? T.max : (d <= Double(T.min) ? T.min : T(d.rounded(.towardZero)))))
            },
            "toDouble": a.map { Int64(Double($0) * 2) },
            "sum": [a.reduce(Int64(0)) { $0 + Int64($1) }], "rowSums": (0..<(a.count / 7)).map { r in a[(r * 7)..<(r * 7 + 7)].reduce(Int64(0)) { $0 + Int64($1) } },
            "max-all": [Int64(a.max()!)], "min-all": [Int64(a.min()!)],
        ]
        for device in devices {
            let got: [String: [Int64]] = try Tandem.withDevice(device) {
                let x = Tensor(a), y = Tensor(b), s = Tensor(counts)
                func ints(_ t: Tensor<T>) throws -> [Int64] { try t.scalars.map { Int64($0) } }
                func bools(_ t: Tensor<Bool>) throws -> [Int64] { try t.scalars.map { $0 ? 1 : 0 } }
                let rows = Tensor(Array(a[0..<(a.count / 7 * 7)]), shape: [a.count / 7, 7])
                return [
                    "add": try ints(x + y), "sub": try ints(x - y), "mul": try ints(x * y), "div": try ints(x / y),
                    "rem": try ints(x % y), "neg": try ints(-x), "abs": try ints(x.abs()), "not": try ints(~x),
                    "and": try ints(x .& y), "or": try ints(x .| y), "xor": try ints(x .^ y),
                    "shl": try ints(x << s), "shr": try ints(x >> s),
                    "max": try ints(Tensor.maximum(x, y)), "min": try ints(Tensor.minimum(x, y)),
                    "lt": try bools(x .< y), "eq": try bools(x .== y),
                    "fused": try ints((x * 3 + y) .^ (x >> 1)),
                    "fromDouble": try ints(Tensor(doubles).cast(to: T.self)),
                    "toDouble": try x.cast(to: Double.self).scalars.map { Int64($0 * 2) },
                    "sum": try x.sum().scalars, "rowSums": try rows.sum(axis: 1).scalars,
                    "max-all": try ints(x.max()), "min-all": try ints(x.min()),
                ]
            }
            Self.expectSame(got, want, a, b, "\(T.self)", on: device)
        }
    }

    /// Every result of `got` equal to `want`'s of the same name, element by element; a mismatch
    /// names its operands (`a[k]`, `b[k]`), what came and what was wanted (the first three).
    static func expectSame<V: Equatable, O>(_ got: [String: [V]], _ want: [String: [V]], _ a: [O], _ b: [O], _ type: String,
                                            on device: DeviceChoice, sourceLocation: SourceLocation = #_sourceLocation) {
        for (name, w) in want.sorted(by: { $0.key < $1.key }) {
            let g = got[name] ?? []
            let bad = zip(g, w).enumerated().filter { $0.element.0 != $0.element.1 }.prefix(3)
                .map { "[\($0.offset)] \(a[min($0.offset, a.count - 1)]), \(b[min($0.offset, b.count - 1)]): \($0.element.0) not \($0.element.1)" }
            #expect(g.count == w.count && bad.isEmpty, "\(type) \(name) on \(device): \(bad)", sourceLocation: sourceLocation)
        }
    }

    @Test("int8: wrapping arithmetic, division by 0 and -1, shifts in and out of range, saturating casts, sums in Int64")
    func int8() throws { try check(Int8.self) }

    @Test("int16, the same checks")
    func int16() throws { try check(Int16.self) }

    @Test("uint8, the same checks")
    func uint8() throws { try check(UInt8.self) }

    @Test("uint16, the same checks")
    func uint16() throws { try check(UInt16.self) }

    @Test("uint32, the same checks")
    func uint32() throws { try check(UInt32.self) }

    @Test("scatter and scatter-add of every dtype: repeated indices accumulate (wrapping in the type), the last write wins")
    func scatterEveryDType() throws {
        func check<T: NumericTensorScalar & FixedWidthInteger>(_: T.Type) throws {
            let idx: [Int64] = [0, 2, 0, 4, 0, 2, -1]
            let vals: [T] = [T.max, 3, 1, 7, 2, T.max / 3, 5]
            var y = Tensor<T>.zeros([5])
            try y.add(at: Tensor(idx), Tensor(vals))
            var want = [T](repeating: 0, count: 5)
            for (i, v) in zip(idx, vals) { let j = Int(i < 0 ? i + 5 : i); want[j] = want[j] &+ v }
            #expect(try y.scalars == want, "\(T.self) add(at:)")
            var z = Tensor<T>.zeros([5])
            z[Tensor(idx)] = Tensor(vals)
            var last = [T](repeating: 0, count: 5)
            for (i, v) in zip(idx, vals) { last[Int(i < 0 ? i + 5 : i)] = v }
            #expect(try z.scalars == last, "\(T.self) x[idx] = v")
        }
        try check(Int8.self); try check(Int16.self); try check(Int32.self); try check(Int64.self)
        try check(UInt8.self); try check(UInt16.self); try check(UInt32.self)
        var f = Tensor<Float>.zeros([3])
        try f.add(at: Tensor<Int32>([1, 1, 2]), Tensor<Float>([0.1, 0.2, 0.3]))
        #expect(try f.scalars == [0, Float(0.1) + Float(0.2), 0.3])
    }

    @Test("a uint8 image: sums and means widen, as NumPy's; a threshold gives a mask; uint8 reads back from .npy")
    func uint8Image() throws {
        let pixels: [UInt8] = (0..<64).map { UInt8(($0 * 37) % 256) }
        let image = Tensor(pixels, shape: [8, 8])
        #expect(try image.sum().item() == pixels.reduce(Int64(0)) { $0 + Int64($1) })
        #expect(try image.mean().item() == Double(pixels.reduce(0) { $0 + Int($1) }) / 64)
        #expect(try (image .> UInt8(128)).sum().item() == Int64(pixels.filter { $0 > 128 }.count))
        let brighter = Tensor<UInt8>(Tensor.minimum(Tensor<Int32>(image) + 100, Tensor<Int32>(255)))
        #expect(try brighter.scalars == pixels.map { UInt8(min(Int($0) + 100, 255)) })
        #expect(try image.cumsum().scalars.last == pixels.reduce(Int64(0)) { $0 + Int64($1) })
        let histogram = try image.bincount(minLength: 256)
        #expect(try histogram.shape == [256] && histogram.sum().item() == 64)
        #expect(try histogram.scalars[Int(pixels[5])] == Int64(pixels.filter { $0 == pixels[5] }.count))
        #expect(try Tensor<UInt8>.arange(250, 255).scalars == [250, 251, 252, 253, 254])
        #expect(try (Tensor<UInt8>.arange(250, 255) + 10).scalars == [4, 5, 6, 7, 8])
        let path = TestScratch.path("uint8-image.npy")
        try brighter.save(npy: path)
        #expect(try Tensor<UInt8>(npy: path).scalars == pixels.map { UInt8(min(Int($0) + 100, 255)) })
    }
}
