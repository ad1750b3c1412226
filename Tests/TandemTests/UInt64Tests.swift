import Foundation
import Testing
@testable import Tandem
import TandemRuntime
import _TandemTestSupport

/// Issue 16: `UInt64` (NumPy's `uint64`). Held as `Int64` bits everywhere, so every operation
/// where the two differ is checked on values past 2^63 against Swift's own `UInt64` arithmetic,
/// bit for bit, on the interpreter, compiled C and (in `OpenCLDeviceTests`) OpenCL.
@Suite("uint64", .serialized)
struct UInt64Tests {
    static var devices: [DeviceChoice] { SmallIntegerTests.devices }

    /// Edge values, past 2^63 included, paired so that every edge meets every other.
    static let edges: [UInt64] = [0, 1, 2, 3, 7, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 63) + 5,
                                  12_345_678_901_234_567_890, .max / 3, .max - 1, .max]

    func check(on devices: [DeviceChoice]) throws {
        let e = Self.edges
        var a: [UInt64] = [], b: [UInt64] = []
        for x in e { for y in e { a.append(x); b.append(y) } }
        let counts = b.map { $0 % 70 }                       // shifts in and out of range
        let doubles: [Double] = [-1e10, -0.5, 0, 0.5, 1.9, 4294967295.5, 0x1p63, 0x1p63 + 4096, 1.8e19, 0x1p64, 2e19, .nan, .infinity, -.infinity]
        func div(_ x: UInt64, _ y: UInt64) -> UInt64 { y == 0 ? 0 : x / y }
        func rem(_ x: UInt64, _ y: UInt64) -> UInt64 { y == 0 ? 0 : x % y }
        func pow(_ x: UInt64, _ y: UInt64) -> UInt64 {
            var r: UInt64 = 1, base = x, n = y
            while n != 0 { if n & 1 != 0 { r = r &* base }; base = base &* base; n >>= 1 }
            return r
        }
        let rowsOf = 13
        let rowsArray = Array(a[0..<(a.count / rowsOf * rowsOf)])
        let want: [String: [UInt64]] = [
            "add": zip(a, b).map { $0 &+ $1 }, "sub": zip(a, b).map { $0 &- $1 }, "mul": zip(a, b).map { $0 &* $1 },
            "div": zip(a, b).map(div), "rem": zip(a, b).map(rem), "pow": zip(a, counts).map(pow),
            "neg": a.map { 0 &- $0 }, "abs": a, "not": a.map { ~$0 },
            "and": zip(a, b).map { $0 & $1 }, "or": zip(a, b).map { $0 | $1 }, "xor": zip(a, b).map { $0 ^ $1 },
            "shl": zip(a, counts).map { $1 >= 64 ? 0 : $0 << $1 }, "shr": zip(a, counts).map { $1 >= 64 ? 0 : $0 >> $1 },
            "max": zip(a, b).map { Swift.max($0, $1) }, "min": zip(a, b).map { Swift.min($0, $1) },
            "lt": zip(a, b).map { $0 < $1 ? 1 : 0 }, "le": zip(a, b).map { $0 <= $1 ? 1 : 0 },
            "gt": zip(a, b).map { $0 > $1 ? 1 : 0 }, "eq": zip(a, b).map { $0 == $1 ? 1 : 0 },
            "floorDivide": zip(a, b).map(div), "mod": zip(a, b).map(rem),
            "fused": zip(a, b).map { x, y in (x &* 3 &+ y) ^ (x >> 1) },
            "select": zip(a, b).map { $0 > $1 ? $0 : $1 &+ 1 },
            "fromDouble": doubles.map { d in d.isNaN || d <= 0 ? 0 : (d >= 0x1p64 ? .max : UInt64(d.rounded(.towardZero))) },
            "toDouble": a.map { Double($0).bitPattern }, "toFloat": a.map { UInt64(Float($0).bitPattern) },
            "toInt64": a.map { UInt64(bitPattern: Int64(bitPattern: $0)) },
            "fromInt64": [Int64.min, -1, 0, 5, .max].map { UInt64(bitPattern: $0) },
            "sum": [a.reduce(0, &+)], "prod": [b.prefix(9).reduce(1, &*)],
            "rowSums": stride(from: 0, to: rowsArray.count, by: rowsOf).map { rowsArray[$0..<($0 + rowsOf)].reduce(0, &+) },
            "max-all": [a.max()!], "min-all": [a.min()!],
            "rowMax": stride(from: 0, to: rowsArray.count, by: rowsOf).map { rowsArray[$0..<($0 + rowsOf)].max()! },
            "colMin": (0..<rowsOf).map { c in stride(from: c, to: rowsArray.count, by: rowsOf).map { rowsArray[$0] }.min()! },
            "argmax": [UInt64(b.firstIndex(of: b.max()!)!)], "argmin": [UInt64(b.firstIndex(of: b.min()!)!)],
            "mean": [Double(a.prefix(5).reduce(0.0) { $0 + Double($1) } / 5).bitPattern],
        ]
        for device in devices {
            let got: [String: [UInt64]] = try Tandem.withDevice(device) {
                let x = Tensor(a), y = Tensor(b), s = Tensor(counts)
                func bools(_ t: Tensor<Bool>) throws -> [UInt64] { try t.scalars.map { $0 ? 1 : 0 } }
                let rows = Tensor(rowsArray, shape: [rowsArray.count / rowsOf, rowsOf])
                return [
                    "add": try (x + y).scalars, "sub": try (x - y).scalars, "mul": try (x * y).scalars,
                    "div": try (x / y).scalars, "rem": try (x % y).scalars, "pow": try x.pow(s).scalars,
                    "neg": try (-x).scalars, "abs": try x.abs().scalars, "not": try (~x).scalars,
                    "and": try (x .& y).scalars, "or": try (x .| y).scalars, "xor": try (x .^ y).scalars,
                    "shl": try (x << s).scalars, "shr": try (x >> s).scalars,
                    "max": try Tensor.maximum(x, y).scalars, "min": try Tensor.minimum(x, y).scalars,
                    "lt": try bools(x .< y), "le": try bools(x .<= y), "gt": try bools(x .> y), "eq": try bools(x .== y),
                    "floorDivide": try x.floorDivide(y).scalars, "mod": try x.mod(y).scalars,
                    "fused": try ((x * 3 + y) .^ (x >> 1)).scalars,
                    "select": try `where`(x .> y, x, y + 1).scalars,
                    "fromDouble": try Tensor(doubles).cast(to: UInt64.self).scalars,
                    "toDouble": try x.cast(to: Double.self).scalars.map(\.bitPattern),
                    "toFloat": try x.cast(to: Float.self).scalars.map { UInt64($0.bitPattern) },
                    "toInt64": try x.cast(to: Int64.self).scalars.map { UInt64(bitPattern: $0) },
                    "fromInt64": try Tensor<Int64>([Int64.min, -1, 0, 5, .max]).cast(to: UInt64.self).scalars,
                    "sum": try x.sum().scalars, "prod": try Tensor(Array(b.prefix(9))).prod().scalars,
                    "rowSums": try rows.sum(axis: 1).scalars,
                    "max-all": [try x.max().item()], "min-all": [try x.min().item()],
                    "rowMax": try rows.max(axis: 1).scalars, "colMin": try rows.min(axis: 0).scalars,
                    "argmax": [UInt64(try y.argmax().item())], "argmin": [UInt64(try y.argmin().item())],
                    "mean": [try Tensor(Array(a.prefix(5))).mean().item().bitPattern],
                ]
            }
            SmallIntegerTests.expectSame(got, want, a, b, "uint64", on: device)
        }
    }

    @Test("uint64: wrapping arithmetic, unsigned division, ordering and shifts, saturating casts, reductions past 2^63")
    func everyOperation() throws { try check(on: Self.devices) }

    @Test("uint64 on the host: sorted, argsort, unique, cumsum, cummax, scatter-add, and .npy '<u8' both ways")
    func hostOperations() throws {
        let values: [UInt64] = [.max, 3, 1 << 63, 0, (1 << 63) - 1, 3, 12_345_678_901_234_567_890]
        let x = Tensor(values)
        #expect(try x.sorted().scalars == values.sorted())
        #expect(try x.argsort().scalars == values.indices.sorted { (values[$0], $0) < (values[$1], $1) }.map(Int64.init))
        #expect(try x.unique().scalars == Array(Set(values)).sorted())
        var running: UInt64 = 0
        #expect(try x.cumsum().scalars == values.map { running = running &+ $0; return running })
        var top: UInt64 = 0
        #expect(try x.cummax().scalars == values.map { top = Swift.max(top, $0); return top })
        var y = Tensor<UInt64>.zeros([3])
        try y.add(at: Tensor<Int64>([0, 0, 2]), Tensor<UInt64>([.max, 2, 1 << 63]))
        #expect(try y.scalars == [1, 0, 1 << 63])
        let path = TestScratch.path("uint64.npy")
        try x.save(npy: path)
        #expect(try Tensor<UInt64>(npy: path).scalars == values)
        let header = String(decoding: (FileManager.default.contents(atPath: path) ?? Data()).prefix(80), as: UTF8.self)
        #expect(header.contains("'<u8'"), "\(header)")
        #expect(try Tensor<Double>(npy: path, converting: true).scalars == values.map { Double($0) })
    }

    @Test("uint64 reductions keep their order through split reductions and keepDims")
    func largeReductions() throws {
        let n = 300_000
        let big = Tensor<UInt64>.arange(0, UInt64(n)) * UInt64(61_489_309_823) + (UInt64(1) << 63)
        var want: [UInt64] = (0..<UInt64(n)).map { $0 &* 61_489_309_823 &+ (1 << 63) }
        for device in Self.devices {
            try Tandem.withDevice(device) { () throws -> Void in
                #expect(try big.max().item() == want.max()!, "\(device)")
                #expect(try big.min().item() == want.min()!, "\(device)")
                #expect(try big.argmax().item() == Int64(want.firstIndex(of: want.max()!)!), "\(device)")
                #expect(try big.reshaped([n / 100, 100]).max(axis: 0, keepDims: true).shape == [1, 100])
                #expect(try big.sum().item() == want.reduce(0, &+), "\(device)")
            }
        }
        want.removeAll()
    }
}
