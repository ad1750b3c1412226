#if canImport(Glibc)
import Glibc
#endif
import Testing
import _TandemTestSupport
@testable import Tandem
@testable import TandemInterpreter
import TandemRuntime
import TandemIR

/// The interpreter's row path (`RowKernel`: kernels without reductions run block by block) gives
/// the point path's bits on every kind of instruction, dtype, stride and block boundary, and
/// leaves to the point path what only the point order computes right.
@Suite("Interpreter rows agree with points", .planned)
struct InterpreterRowTests {
    /// `make()`'s value read on a runtime with only the interpreter, rows on or off.
    func bytes<T: TensorScalar>(_ make: () -> Tensor<T>, rows: Bool) throws -> [UInt8] {
        let stats = StatisticsBox()
        let runtime = Runtime(devices: [InterpreterDevice(rows: rows)], statistics: stats, workers: 2,
                              profile: { SyntheticProfiles.cpu() })
        let b = try runtime.read(make().node)
        return Array(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
    }

    func expectSame<T: TensorScalar>(_ what: String, _ make: () -> Tensor<T>,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try bytes(make, rows: true), p = try bytes(make, rows: false)
        let first = Array(zip(r, p)).firstIndex { $0 != $1 } ?? (r.count == p.count ? nil : min(r.count, p.count))
        #expect(first == nil, "\(what): rows differ from points from byte \(first ?? 0) of \(r.count)", sourceLocation: sourceLocation)
        #expect(!r.isEmpty, sourceLocation: sourceLocation)
    }

    static func data(_ n: Int, seed: Int) -> [Double] {
        (0..<n).map { i in
            let v = sin(Double(i * 7 + seed)) * 100
            return i % 97 == 5 ? .nan : (i % 89 == 3 ? -.infinity : v)
        }
    }

    @Test("float64 and float32 arithmetic, transcendentals, comparisons and selects; rows shorter and longer than a block",
          arguments: [1, 7, 255, 256, 257, 1000, 3 * 256 + 5])
    func floats(_ n: Int) throws {
        let a = Self.data(n, seed: 1), b = Self.data(n, seed: 2)
        try expectSame("f64 n=\(n)") {
            let x = Tensor<Double>(a), y = Tensor<Double>(b)
            return select(x .> y, exp(x / 50) - y * y, sqrt(abs(x)) + tanh(y)) / (x - 1) + min(x, y) * 3
        }
        try expectSame("f32 n=\(n)") {
            let x = Tensor<Float>(a.map(Float.init)), y = Tensor<Float>(b.map(Float.init))
            return (x * y + x / (y + 0.5) - log1p(abs(x))).cast(to: Float.self) * pow(abs(y) + 1, Tensor<Float>(0.5))
        }
        try expectSame("casts n=\(n)") {
            let x = Tensor<Double>(a)
            return (x.cast(to: Int32.self) + Tensor<Int32>(3)).cast(to: Double.self) + x.cast(to: Float.self).cast(to: Double.self)
        }
    }

    @Test("every comparison, and/or, min and max with NaN, and wrapping int64 arithmetic: the row path's loops give the point path's bits",
          arguments: [7, 257, 1000])
    func comparisonsAndLogic(_ n: Int) throws {
        let a = Self.data(n, seed: 5), b = Self.data(n, seed: 6).enumerated().map { $0.offset % 5 == 0 ? a[$0.offset] : $0.element }
        let f64 = { (Tensor<Double>(a), Tensor<Double>(b)) }
        try expectSame("f64 comparisons n=\(n)") {
            let (x, y) = f64()
            let eq = Tensor<Double>(x .== y), ne = Tensor<Double>(x .!= y), lt = Tensor<Double>(x .< y)
            let le = Tensor<Double>(x .<= y), gt = Tensor<Double>(x .> y), ge = Tensor<Double>(x .>= y)
            return eq + 2 * ne + 4 * lt + 8 * le + 16 * gt + 32 * ge
        }
        try expectSame("f32 comparisons, logic n=\(n)") {
            let x = Tensor<Float>(a.map(Float.init)), y = Tensor<Float>(b.map(Float.init))
            return Tensor<Float>(((x .< y) .& (y .> 0)) .| (x .== y)) + Tensor<Float>(x .>= y)
        }
        try expectSame("f64 min and max, NaN wins n=\(n)") { let (x, y) = f64(); return min(x, y) * 3 - max(x, y) }
        try expectSame("f32 min and max n=\(n)") {
            let x = Tensor<Float>(a.map(Float.init)), y = Tensor<Float>(b.map(Float.init))
            return max(x, y) - min(x, y)
        }
        let big = (0..<n).map { Int64(bitPattern: UInt64($0) &* 0x9E37_79B9_7F4A_7C15) }
        try expectSame("int64 wrapping +, -, * and comparisons n=\(n)") {
            let x = Tensor<Int64>(big), y = Tensor<Int64>(big.reversed())
            return (x * y + x - y) + Tensor<Int64>(x .< y) + Tensor<Int64>(x .== y) * 2 + Tensor<Int64>(x .>= y) * 4
        }
        try expectSame("int32, int16 and uint8 wrapping +, -, * and bitwise n=\(n)") {
            let x = Tensor<Int32>(big.map { Int32(truncatingIfNeeded: $0) }), y = Tensor<Int32>(big.reversed().map { Int32(truncatingIfNeeded: $0 >> 9) })
            let s = Tensor<Int16>(big.map { Int16(truncatingIfNeeded: $0) }), u = Tensor<UInt8>(big.map { UInt8(truncatingIfNeeded: $0 >> 3) })
            return (x * y - x + y) .^ (x .& y) + Tensor<Int32>((s * s + s) .| s) + Tensor<Int32>(u * u - u + (u .& u))
        }
        try expectSame("int32 comparisons n=\(n)") {
            let x = Tensor<Int32>(big.map { Int32(truncatingIfNeeded: $0) }), y = Tensor<Int32>(big.reversed().map { Int32(truncatingIfNeeded: $0 >> 7) })
            return Tensor<Int32>(x .<= y) + Tensor<Int32>(x .!= y) * 2 + Tensor<Int32>(x .> y) * 4
        }
        // Every narrow width: division and remainder (by 0, by -1, negative operands), min,
        // max, comparisons, casts between widths and saturating casts from floats (NaN, ±inf,
        // out of range), loaded and stored at each width.
        let divisors = big.enumerated().map { $0.offset % 7 == 0 ? 0 : ($0.offset % 11 == 0 ? -1 : $0.element >> 40) }
        func narrow<I: NumericTensorScalar & FixedWidthInteger>(_: I.Type) throws {
            try expectSame("\(I.self) / % min max, comparisons and casts n=\(n)") {
                let x = Tensor<I>(big.map { I(truncatingIfNeeded: $0) }), y = Tensor<I>(divisors.map { I(truncatingIfNeeded: $0) })
                let f = Tensor<I>(Tensor<Double>(a) * 3)                 // saturating, NaN to 0
                let mixed = x / y + x % y + min(x, y) - max(x, f) + Tensor<I>(x .< y) + Tensor<I>(y .>= f)
                return Tensor<Int64>(mixed) + Tensor<Int64>(Tensor<Int8>(x)) * 3 + Tensor<Int64>(Tensor<UInt16>(y))
            }
        }
        try narrow(Int8.self)
        try narrow(Int16.self)
        try narrow(Int32.self)
        try narrow(UInt8.self)
        try narrow(UInt16.self)
        try narrow(UInt32.self)
        try narrow(Int64.self)
    }

    @Test("integers, Bools, iota, uniform and gathers")
    func integersAndGenerators() throws {
        let n = 1000
        let ints = (0..<n).map { Int64(($0 * 7919) % 1013) - 500 }
        try expectSame("int64") {
            let x = Tensor<Int64>(ints)
            return (x * x - x / Tensor<Int64>(7)) .& Tensor<Int64>(0xFFFF) + (x << Tensor<Int64>(3))
        }
        try expectSame("bool") {
            let x = Tensor<Int64>(ints)
            return (x .> Tensor<Int64>(0)) .^ (x .< Tensor<Int64>(100))
        }
        // Widening casts of integers and Bools (the row path's own loops): a mask counted and
        // summed as doubles, Int32 and UInt8 widened.
        try expectSame("bool to int64 and double") {
            let x = Tensor<Int64>(ints)
            let mask = x .> Tensor<Int64>(0)
            return Tensor<Int64>(mask) * 3 + Tensor<Int64>(Tensor<Double>(mask) * 2.5)
        }
        try expectSame("int32 and uint8 widened") {
            let x = Tensor<Int64>(ints)
            let small = Tensor<Int32>(x), byte = Tensor<UInt8>(x .& Tensor<Int64>(0xFF))
            return Tensor<Double>(small) * 0.5 + Tensor<Double>(Tensor<Int64>(byte)) + Tensor<Double>(Tensor<Int64>(small))
        }
        try expectSame("linspace and uniform") {
            Tensor<Double>.linspace(-1.75, 0.25, count: n) * Tensor<Double>.uniform([n], seed: 9, in: -2...3)
        }
        try expectSame("gather") {
            let src = Tensor<Double>(Self.data(300, seed: 4))
            let idx = Tensor<Int64>((0..<n).map { Int64(($0 * 31) % 600) - 300 })
            return src[idx] * 2
        }
        // Each source type's gather loop (float32, int64 and uint64 have their own, the others
        // the element-by-element load), gathered values used as they are.
        let index = Tensor<Int32>((0..<n).map { Int32(($0 * 37) % 600) - 300 })
        try expectSame("gather float32") { Tensor<Float>(Self.data(300, seed: 5).map(Float.init))[index] * 3 }
        try expectSame("gather int64") { Tensor<Int64>((0..<300).map { Int64($0 * 7919 % 1013) - 500 })[index] * 3 + 1 }
        try expectSame("gather uint64") { Tensor<UInt64>((0..<300).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 })[index] >> Tensor<UInt64>(3) }
        try expectSame("gather int16") { Tensor<Int16>((0..<300).map { Int16($0 * 97 % 601) - 300 })[index] * 2 }
    }

    @Test("strided, transposed, broadcast and sliced operands in 2-D and 3-D")
    func views() throws {
        let m = Tensor<Double>(Self.data(40 * 300, seed: 5)).reshaped([40, 300])
        try expectSame("transpose") { m.transposed * 2 + 1 }
        try expectSame("broadcast row and column") {
            m + Tensor<Double>(Self.data(300, seed: 6)) * Tensor<Double>(Self.data(40, seed: 7)).reshaped([40, 1])
        }
        try expectSame("strided slices") { m[1..<39, stride(from: 0, to: 300, by: 3)] - m[0..<38, stride(from: 1, to: 300, by: 3)] }
        let c = Tensor<Double>(Self.data(6 * 7 * 300, seed: 8)).reshaped([6, 7, 300])
        try expectSame("3-D stencil") { c[1..<5, 1..<6, 1..<299] * 4 - c[0..<4, 1..<6, 1..<299] - c[2..<6, 1..<6, 1..<299] }
    }

    @Test("rows up to half a block long run several to a block: views, generators, gathers, dtypes, updates in place, chunk bounds",
          arguments: [1, 3, 64, 100, 128, 129])
    func stackedRows(_ c: Int) throws {
        // Rows of `c`: up to 128 they are stacked along the next axis out (`RowKernel.run`),
        // 129 is the first length that is not. 7 rows of 3-D blocks leave a remainder.
        let r = 37
        let m = Tensor<Double>(Self.data(r * c, seed: 11)).reshaped([r, c])
        try expectSame("map \(c)") { exp(m / 50) * 2 + m.squared() }
        try expectSame("transposed \(c)") { Tensor<Double>(Self.data(c * r, seed: 12)).reshaped([c, r]).transposed * 3 - m }
        try expectSame("broadcast \(c)") { m + Tensor<Double>(Self.data(c, seed: 13)) * Tensor<Double>(Self.data(r, seed: 14)).reshaped([r, 1]) }
        if c > 2 {
            try expectSame("stencil \(c)") { m[1..<(r - 1), 1..<(c - 1)] * 4 - m[0..<(r - 2), 1..<(c - 1)] - m[1..<(r - 1), 2..<c] }
            try expectSame("strided \(c)") { m[stride(from: 0, to: r, by: 2), stride(from: 1, to: c, by: 2)] * 0.5 }
            try expectSame("in place \(c)") { () -> Tensor<Double> in
                var x = Tensor<Double>(Self.data(r * c, seed: 11)).reshaped([r, c])
                x[1..<(r - 1), 1..<(c - 1)] = x[1..<(r - 1), 1..<(c - 1)] * 0.5 + 1
                return x
            }
        }
        try expectSame("3-D \(c)") {
            Tensor<Double>(Self.data(5 * 7 * c, seed: 15)).reshaped([5, 7, c]) * Tensor<Double>(Self.data(7 * c, seed: 16)).reshaped([7, c])
        }
        try expectSame("uniform and iota \(c)") {
            Tensor<Double>.uniform([r, c], seed: 17, in: -1...1) + Tensor<Double>.arange(0, Double(c)) * Tensor<Double>.uniform([r, 1], seed: 18, in: 0...1)
        }
        try expectSame("gather \(c)") {
            // Pending (an expression), so the indices past the source are clamped, not checked:
            // the reshape of stored data alone is the stored data, checked as NumPy does.
            let idx = (Tensor<Int64>((0..<(r * c)).map { Int64(($0 * 31) % (2 * c + 3)) - Int64(c) }) + 0).reshaped([r, c])
            return Tensor<Double>(Self.data(3 * c, seed: 19))[idx] + 1
        }
        try expectSame("int32 and bool \(c)") {
            let x = Tensor<Int32>((0..<(r * c)).map { Int32(($0 * 7919) % 1013) - 500 }).reshaped([r, c])
            return (x * x + x .& Tensor<Int32>(255)).cast(to: Double.self) + (x .> Tensor<Int32>(0)).cast(to: Double.self)
        }
        try expectSame("float32 \(c)") { (Tensor<Float>(Self.data(r * c, seed: 20).map(Float.init)).reshaped([r, c]) * 1.5 - 2).abs() }
        // Large enough to be cut into chunks along axis 0 on two workers.
        try expectSame("chunks \(c)") { Tensor<Double>(Self.data(70_000 / c * c, seed: 21)).reshaped([70_000 / c, c]) * 2 + 1 }
        // Reductions over the last two axes: their bodies run several rows at once, each row
        // folding alone (laned for full reductions), as `State.stackedRows` does.
        let finite = Self.data(5 * r * c, seed: 22).map { $0.isFinite ? $0 : 0.25 }
        let cube = Tensor<Double>(finite).reshaped([5, r, c])
        let slice = c > 2 ? m[1..<(r - 1), 1..<(c - 1)] : m[1..<(r - 1), 0..<c]
        try expectSame("max of a 2-D slice, NaN included \(c)") { (slice.abs() - 1).max().reshaped([1]) }
        try expectSame("sum of a 2-D slice \(c)") { (cube[2, 1..<(r - 1), 0..<c] * 3 - 1).sum().reshaped([1]) }
        // Slices, so the two axes cannot be merged into one.
        let inner = c > 2 ? 1..<(c - 1) : 0..<c
        try expectSame("sums over the last two axes \(c)") { (cube * cube)[.all, 1..<(r - 1), inner].sum(axes: [1, 2]) }
        try expectSame("max over the last two axes \(c)") { Tensor<Double>(Self.data(5 * r * c, seed: 23)).reshaped([5, r, c])[.all, 1..<(r - 1), inner].max(axes: [1, 2]) }
        try expectSame("means over the last two axes, f32 \(c)") {
            Tensor<Float>(finite.map(Float.init)).reshaped([5, r, c])[.all, 1..<(r - 1), inner].mean(axes: [1, 2])
        }
        try expectSame("int64 sums over the last two axes \(c)") {
            Tensor<Int64>((0..<(5 * r * c)).map { Int64(($0 * 7919) % 1013) - 500 }).reshaped([5, r, c])[.all, 1..<(r - 1), inner].sum(axes: [1, 2])
        }
    }

    @Test("updates in place: the same access runs in rows; shifted self-reads give NumPy's answer on both paths")
    func inPlace() throws {
        let n = 600
        let base = Self.data(n, seed: 9).map { $0.isFinite ? $0 : 1 }
        // A shifted read of the buffer written: NumPy evaluates the right side first.
        let shifted = try bytes({ () -> Tensor<Double> in
            var x = Tensor<Double>(base)
            x[1..<n] = x[0..<(n - 1)] * 2
            return x
        }, rows: true)
        var want = base
        for i in stride(from: n - 1, through: 1, by: -1) { want[i] = base[i - 1] * 2 }
        let got = shifted.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(got == want, "shifted self-write: \(zip(got, want).filter { $0 != $1 }.count) elements differ from NumPy's")
        try expectSame("shifted self-write") { () -> Tensor<Double> in
            var x = Tensor<Double>(base)
            x[1..<n] = x[0..<(n - 1)] * 2
            return x
        }
        try expectSame("slice written from itself") { () -> Tensor<Double> in
            var x = Tensor<Double>(base)
            x[10..<500] = x[10..<500] * 0.5 + 1
            return x
        }
        // Border copies within one buffer (cavity flow's walls): columns beside columns, rows
        // beside rows, the rows path where the regions are disjoint.
        try expectSame("border copies") { () -> Tensor<Double> in
            var p = Tensor<Double>(Array(base.prefix(41 * 14))).reshaped([14, 41])
            p[.all, 40] = p[.all, 39]
            p[0, .all] = p[1, .all]
            p[.all, 0] = p[.all, 1] * 2
            p[13, .all] = p[12, .all] - p[11, .all]
            return p
        }
    }

    @Test("reductions: full (laned, split), along rows and columns, arg reductions, NaN, and sums with stores on the way",
          arguments: [(1, 9), (3, 255), (7, 257), (40, 300), (2, 70_001), (1000, 4), (513, 8), (300, 31), (9, 1)])
    func reductions(_ shape: (Int, Int)) throws {
        let (r, c) = shape
        let a = Self.data(r * c, seed: 11)
        let finite = a.map { $0.isFinite ? $0 : 0.5 }
        try expectSame("full sum \(shape)") { (Tensor<Double>(finite) * 1.5 + 1).sum().reshaped([1]) }
        try expectSame("full max with NaN \(shape)") { Tensor<Double>(a).max().reshaped([1]) }
        try expectSame("row sums \(shape)") { (Tensor<Double>(finite).reshaped([r, c]) * 2 - 1).sum(axis: 1) }
        try expectSame("column sums \(shape)") { exp(Tensor<Double>(finite).reshaped([r, c]) / 100).sum(axis: 0) }
        try expectSame("row argmax \(shape)") { Tensor<Double>(a).reshaped([r, c]).argmax(axis: 1) }
        try expectSame("row min f32 \(shape)") { Tensor<Float>(a.map(Float.init)).reshaped([r, c]).min(axis: 1) }
        try expectSame("int sum \(shape)") { Tensor<Int64>((0..<(r * c)).map { Int64($0 % 13) - 6 }).reshaped([r, c]).sum(axis: 1) }
        // Short rows under two parallel axes (blocks along the second, `State.shortRows`).
        try expectSame("3-D short rows \(shape)") {
            let x = Tensor<Double>(a + a).reshaped([2, r, c])
            return x.sum(axis: 2) * 3 + Tensor<Double>(x.argmin(axis: 2)) - x.max(axis: 2)
        }
        // Short rows under a last parallel axis shorter than 8 (blocks of whole rows of it,
        // `State.shortRows(stacked:)`), and the product with few columns that has that shape.
        try expectSame("short rows under 3 outputs \(shape)") {
            let x = Tensor<Double>(a + a + a).reshaped([r, 3, c])
            return x.sum(axis: 2) * 3 + Tensor<Double>(x.argmax(axis: 2)) - x.min(axis: 2)
        }
        try expectSame("short rows under 5 outputs, three parallel axes \(shape)") {
            Tensor<Double>(finite + finite + finite + finite + finite + finite).reshaped([2, r, 3, c]).exp().sum(axis: 3)
        }
        try expectSame("product with 5 columns \(shape)") {
            Tensor<Double>(finite).reshaped([r, c]).matmul(Tensor<Double>((0..<(c * 5)).map { Double($0 % 7) - 2.5 }).reshaped([c, 5]))
        }
        try expectSame("mean and variance \(shape)") {
            let x = Tensor<Double>(finite).reshaped([r, c])
            let m = x.mean(axis: 1, keepDims: true)
            return ((x - m) * (x - m)).sum(axis: 1) + m.reshaped([r])
        }
    }

    @Test("eligibility: a written buffer read elsewhere takes the row path only where this launch's two regions are disjoint")
    func eligibility() {
        let add = Instr(.binary(.add, 0, 1), .float64)
        let two = Access(offset: 2, strides: [.one]), shifted = Access(offset: 3, strides: [.one])
        let same = Kernel(rank: 1, parallelAxes: 1,
                          buffers: [BufferParam(dtype: .float64, isRead: true, isWritten: true),
                                    BufferParam(dtype: .float64, isRead: true, isWritten: false)],
                          accesses: [two, two],
                          instrs: [Instr(.load(buffer: 0, access: 0), .float64), Instr(.load(buffer: 1, access: 1), .float64), add],
                          reductions: [], stores: [Store(buffer: 0, access: 0, value: 2, epilogue: false)],
                          intParams: 4, floatParams: 0)
        #expect(RowKernel.eligible(same))
        var other = same
        other.accesses = [two, shifted]
        other.instrs = [Instr(.load(buffer: 0, access: 1), .float64), Instr(.load(buffer: 1, access: 0), .float64), add]
        #expect(RowKernel.eligible(other))
        // ints: extent, unused, offset of `two`, offset of `shifted`. Buffer 0 is written at
        // [2, 2 + n) and read at [3, 3 + n): they overlap for n > 1.
        let b0 = Buffer(dtype: .float64, count: 64), b1 = Buffer(dtype: .float64, count: 64)
        func rows(_ ints: [Int64]) -> Bool { RowKernel(other, Launch(buffers: [b0, b1], ints: ints, floats: [])) != nil }
        #expect(!rows([10, 0, 2, 3]))
        #expect(rows([1, 0, 2, 3]))
        #expect(rows([10, 0, 2, 12]))          // read [12, 22), written [2, 12)
        #expect(!rows([10, 0, 2, 11]))
        // A gather of the written buffer never takes it.
        var gathered = same
        gathered.instrs = [Instr(.gather(buffer: 0, access: 1, index: 1, stride: 1, extent: 0), .float64), Instr(.load(buffer: 1, access: 0), .float64), add]
        #expect(!RowKernel.eligible(gathered))
    }

    @Test("disjoint regions of one buffer: ranges apart, or one axis each at offsets that are not a multiple of the stride apart")
    func disjointAccesses() {
        // 2-D, ints: [rows, columns, offset a, offset b, row stride].
        let column = { (o: Int) in Access(offset: o, strides: [.param(4), .zero]) }
        let row = { (o: Int) in Access(offset: o, strides: [.zero, .one]) }
        func apart(_ a: Access, _ b: Access, _ ints: [Int64]) -> Bool { RowKernel.disjoint(a, b, rank: 2, ints: ints) }
        // Columns 39 and 40 of a 41 x 41 grid: one axis each, offsets 1 apart, stride 41.
        #expect(apart(column(2), column(3), [41, 1, 39, 40, 41]))
        // Column 0 and column 41 of a grid 41 wide are the same column one row down: they meet.
        #expect(!apart(column(2), column(3), [41, 1, 0, 41, 41]))
        // ... unless the rows end before: offsets 41 apart with 1 row.
        #expect(apart(column(2), column(3), [1, 1, 0, 41, 41]))
        // Rows 0 and 1: ranges apart. Row 0 and an overlapping stretch: not.
        #expect(apart(row(2), row(3), [1, 41, 0, 41, 41]))
        #expect(!apart(row(2), row(3), [1, 41, 0, 40, 41]))
        // A column and a row crossing it.
        #expect(!apart(column(2), row(3), [41, 41, 5, 0, 41]))
        // An empty domain reaches nothing.
        #expect(apart(column(2), column(3), [0, 1, 0, 41, 41]))
    }
}
