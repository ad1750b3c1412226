import Testing
@testable import Tandem
import TandemIR
import TandemRuntime

/// Operations on a few stored values computed at once (`Eager`, `Tandem.withEager`): the same
/// bits as the planned kernels give (the interpreter's scalar functions, a reduction's fold
/// order), writes in place only where nothing else sees the tensor, NumPy's meaning where a
/// write reads what it overwrites.
@Suite("Operations computed at once")
struct EagerTests {
    /// Stored inputs: eager operations need operands in buffers.
    static func stored<T: TensorScalar>(_ t: Tensor<T>) throws -> Tensor<T> {
        try Tandem.wait(t)
        return t
    }

    /// `f()` eager and planned, compared bit for bit, and eager operations counted. `libm`:
    /// `f` calls a function of `<math.h>` that compiled code takes from libmvec (README, "Two
    /// exceptions"), so the planned half runs in the interpreter, whose functions eager
    /// operations use; else it runs wherever `auto` places it (compiled once the kernel is
    /// cached or compiled on the side: a comparison with the interpreter alone failed only then).
    func expectSame<T: TensorScalar & Equatable>(_ what: String, libm: Bool = false, _ f: () throws -> Tensor<T>,
                                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = Tandem.statistics.eagerOps
        let eager = try Tandem.withEager(.always) { try f().scalars }
        let eagerOps = Tandem.statistics.eagerOps - before
        let planned = try Tandem.withEager(.off) {
            libm ? try Tandem.withDevice(.interpreter) { try f().scalars } : try f().scalars
        }
        let same = eager.count == planned.count && zip(eager, planned).allSatisfy { a, b in
            if let x = a as? Double, let y = b as? Double { return x.bitPattern == y.bitPattern }
            if let x = a as? Float, let y = b as? Float { return x.bitPattern == y.bitPattern }
            return a == b
        }
        #expect(same, "\(what): eager \(eager.prefix(4)) planned \(planned.prefix(4))", sourceLocation: sourceLocation)
        #expect(eagerOps >= 1, "\(what): nothing was computed eagerly", sourceLocation: sourceLocation)
    }

    @Test("elementwise operations, casts and selections on vectors: the planned kernels' bits")
    func elementwise() throws {
        let a = try Self.stored(Tensor<Double>.uniform([63], seed: 1, in: -2...3))
        let b = try Self.stored(Tensor<Double>.uniform([63], seed: 2, in: 0.5...4))
        let f = try Self.stored(Tensor<Float>.uniform([30], seed: 3, in: -1...1))
        let g = try Self.stored(Tensor<Float>.uniform([30], seed: 4, in: 0.25...2))
        let i = try Self.stored(Tensor<Int64>.arange(-20, 43))
        let m = try Self.stored(Tensor<Double>.uniform([7, 9], seed: 5, in: -1...1))
        try expectSame("a + b * a - b / 3") { a + b * a - b / 3 }
        try expectSame("-a, sqrt, exp") { (-a) + b.sqrt() + a.exp() }
        try expectSame("log, sin", libm: true) { b.log() + a.sin() }
        try expectSame("float32 arithmetic") { f * g + f / g - g.sqrt() }
        try expectSame("a column of a transposed view, a row, strided slices") { m.transposed[1..., 2] * b[..<8] + m[2, 1...] - a[TensorIndex.slice(0, 16, step: 2)] }
        try expectSame("comparisons and where") { `where`(a .> b, a, b * 2) }
        try expectSame("casts") { Tensor<Double>(Tensor<Float>(a)) + Tensor<Double>(i) }
        try expectSame("integer arithmetic") { (i * 7 - 3) / 4 + i % 5 }
        try expectSame("pow, minimum", libm: true) { b.pow(Tensor(1.5)) + Tensor.minimum(a, b) }
        // A result of two axes stays recorded (fused with what reads it).
        let ir = Tandem.withEager(.always) { Tandem.kernelIR(m * 2 + 1) }
        #expect(ir.contains("// kernel "), "a 7 x 9 result was computed eagerly")
    }

    @Test("reductions fold in the planned kernel's order (lanes, short rows, merged axes)")
    func reductions() throws {
        for shape in [[5], [13], [100], [3, 4], [7, 9], [16, 33], [100, 3], [40, 8], [6, 5, 7]] {
            let a = try Self.stored(Tensor<Double>.uniform(shape, seed: UInt64(shape.reduce(1, *)), in: -1...1000))
            let f = try Self.stored(Tensor<Float>.uniform(shape, seed: 9, in: -1...1000))
            try expectSame("sum \(shape)") { a.sum() }
            try expectSame("float32 sum \(shape)") { f.sum() }
            let p = try Self.stored(Tensor<Double>.uniform(shape, seed: 11, in: 0.9...1.1))
            try expectSame("prod \(shape)") { p.prod() }
            try expectSame("max, min \(shape)") { a.max() - a.min() }
            try expectSame("mean over the last axis \(shape)") { a.mean(axis: -1) }
            try expectSame("sum over the first axis \(shape)") { a.sum(axis: 0) }
            if shape.count >= 2 {
                try expectSame("sum of a transposed view \(shape)") { a.transposed.sum(axis: -1) }
                try expectSame("sum of a slice \(shape)") { a[1..., 1...].sum() }
                try expectSame("float32 row sums \(shape)") { f.sum(axis: -1) }
                try expectSame("sums over two axes \(shape)") { a.sum(axes: [0, 1]) }
            }
        }
        let counts = try Self.stored(Tensor<Double>.uniform([9, 11], seed: 5, in: 0...1) .> 0.5)
        try expectSame("a Bool count") { counts[2].sum() + counts[.all, 3].sum() }
        let x = try Self.stored(Tensor<Double>.uniform([60], seed: 6, in: -1...1))
        try expectSame("a dot product of a row and a column") { x[..<31].matmul(x[29...]) }
    }

    @Test("an element-at-a-time factorisation: the same bits eager and planned, writes in place")
    func elementAtATime() throws {
        let n = 24
        let a0 = try Self.stored(Tensor<Double>.uniform([n, n], seed: 7, in: 0...1) + Tensor<Double>.eye(n) * Double(n))
        func lu() throws -> Tensor<Double> {
            var a = a0
            for i in 0..<n {
                for j in 0..<i {
                    a[i, j] -= a[i, ..<j].matmul(a[..<j, j])
                    a[i, j] /= a[j, j]
                }
                for j in i..<n { a[i, j] -= a[i, ..<i].matmul(a[..<i, j]) }
            }
            return a
        }
        let before = Tandem.statistics
        try expectSame("lu") { try lu() }
        let after = Tandem.statistics
        #expect(after.eagerWritesInPlace - before.eagerWritesInPlace >= n * n / 2, "writes went into copies")
    }

    @Test("one float element is a constant, read without a kernel; integers stay in buffers")
    func scalarConstants() throws {
        let x = try Self.stored(Tensor<Double>.uniform([40], seed: 7, in: -1...1))
        let f = try Self.stored(Tensor<Float>.uniform([40], seed: 8, in: -1...1))
        let k = try Self.stored(Tensor<Int64>.arange(0, 40))
        try Tandem.withEager(.always) {
            let dot = x[..<20].matmul(x[20...])
            let element = f[3] * 2 - 1
            let count = k[5] + 1
            if case .fill = dot.node.op {} else { Issue.record("a dot product made \(dot.node.op)") }
            if case .fill = element.node.op {} else { Issue.record("a float element made \(element.node.op)") }
            #expect(count.node.storage != nil, "an integer result is stored, not a constant")
            // Read, a constant is filled on the calling thread: its buffer was never scheduled
            // for a kernel (a planned fill kernel's output is).
            let read = try dot.item()
            #expect(dot.node.storage != nil && dot.node.storage?.schedule == nil, "the constant was not filled on the host")
            let two = Tensor<Double>(2.5)
            #expect(try two.item() == 2.5 && two.node.storage?.schedule == nil)
            // The same bits as the planned reductions and arithmetic.
            let planned = try Tandem.withEager(.off) { try (x[..<20].matmul(x[20...]).item(), (f[3] * 2 - 1).item()) }
            #expect(read.bitPattern == planned.0.bitPattern)
            #expect(try element.item().bitPattern == planned.1.bitPattern)
            #expect(try count.item() == 6)
            // Elements read straight from a stored buffer (negative indices from the end), from
            // a view of one (the general path), and of an integer tensor (a buffer).
            let m = try Self.stored(Tensor<Double>.arange(0, 12).reshaped([3, 4]))
            let corner = m[1, -2], viewed = m[1...][1, 3], last = k[-1]
            if case .fill = corner.node.op {} else { Issue.record("an element read made \(corner.node.op)") }
            #expect(try corner.item() == 6 && viewed.item() == 11 && last.item() == 39)
            #expect(last.node.storage != nil)
            // A constant read by more operations: a reduction of one element, a write of it.
            #expect(try dot.reshaped([1]).sum().item().bitPattern == read.bitPattern)
            var y = try Self.stored(Tensor<Double>.zeros([4]))
            y[2] = element.cast(to: Double.self) + dot
            #expect(try y.scalars[2].bitPattern == (Double(planned.1) + planned.0).bitPattern)
        }
    }

    @Test("a write in place leaves copies and views taken before it as they were")
    func valueSemantics() throws {
        try Tandem.withEager(.always) {
            var a = try Self.stored(Tensor<Double>.arange(0, 12).reshaped([3, 4]))
            let copy = a
            let row = a[1]
            a[1, 2] = Tensor(100)
            #expect(try copy.scalars == (0..<12).map(Double.init))
            #expect(try row.scalars == [4, 5, 6, 7])
            #expect(try a[1].scalars == [4, 5, 100, 7])
            // Now only `a` sees its buffer: the next write goes into it.
            let buffer = a.node.storage
            a[0, 0] = Tensor(-1)
            #expect(a.node.storage === buffer && buffer != nil, "a write into a tensor nothing else sees copied it")
            #expect(try a[0].scalars == [-1, 1, 2, 3])
            // A shared tensor larger than a small result (npbench's `A = A0` before element
            // writes) is copied whole once, then written in place; the one it shared stays.
            let big0 = try Self.stored(Tensor<Double>.arange(0, 5000).reshaped([50, 100]))
            var big = big0
            big[3, 4] = Tensor(-7)
            let own = big.node.storage
            #expect(own != nil && own !== big0.node.storage, "the write was not computed at once into a copy")
            big[4, 5] = Tensor(-8)
            #expect(big.node.storage === own)
            #expect(try big0.scalars == (0..<5000).map(Double.init))
            #expect(try big[3, 4].item() == -7 && big[4, 5].item() == -8 && big[4, 6].item() == 406)
            // Element writes counted from the end, in place too.
            big[-1, -2] = Tensor(-9)
            #expect(big.node.storage === own)
            #expect(try big[49, 98].item() == -9 && big[49, 99].item() == 4999)
            // A constant written into is filled on the host first, then written in place.
            var zeros = Tensor<Float>.zeros([80, 80])
            zeros[79, 79] = Tensor(2)
            #expect(zeros.node.storage != nil)
            #expect(try zeros.sum().item() == 2)
        }
    }

    @Test("a buffer filled with a constant holds it in every element, for every type")
    func bufferFill() {
        for count in [0, 1, 2, 3, 7, 64, 1000] {
            let d = Buffer(dtype: .float64, count: count)
            d.fill(with: .float(1.5))
            #expect((0..<count).allSatisfy { d.literal(at: $0) == .float(1.5) })
            let i = Buffer(dtype: .int16, count: count)
            i.fill(with: .int(-3))
            #expect((0..<count).allSatisfy { i.literal(at: $0) == .int(-3) })
            let b = Buffer(dtype: .bool, count: count)
            b.fill(with: .bool(true))
            #expect((0..<count).allSatisfy { b.literal(at: $0) == .bool(true) })
        }
    }

    @Test("a write that reads what it overwrites reads the old values (NumPy's meaning)")
    func overlappingWrite() throws {
        let start = try Self.stored(Tensor<Double>.arange(0, 10))
        func shift() throws -> Tensor<Double> {
            var x = start + 0
            try Tandem.wait(x)
            x[1...] = x[..<9]
            x[..<5] = x[5...] * 2
            return x
        }
        try expectSame("shifted in place") { try shift() }
        #expect(try Tandem.withEager(.always) { try shift().scalars } == [8, 10, 12, 14, 16, 4, 5, 6, 7, 8])
    }

    @Test("off records every operation; a forced placement and a Tandem.loop body are never eager")
    func gates() throws {
        let a = try Self.stored(Tensor<Double>.uniform([8], seed: 8, in: 0...1))
        let planned = Tandem.withEager(.off) { Tandem.kernelIR(a * 2 + 1) }
        #expect(planned.contains("// kernel "))
        let eager = Tandem.withEager(.always) { Tandem.kernelIR(a * 2 + 1) }
        #expect(!eager.contains("// kernel "), "an eager result is stored: nothing is left to plan")
        let forced = Tandem.withEager(.always) { Tandem.withDevice(.cpu1) { Tandem.kernelIR(a * 2 + 1) } }
        #expect(forced.contains("// kernel "), "a forced placement ran eagerly")
        // A traced loop body reads symbolically (its dependences are analysed): Gauss–Seidel in
        // place gives the sequential loop's values with eager operations allowed around it.
        let n = 8
        let start = (0..<(n * n)).map { Double(($0 * 37) % 17) }
        func sweep() throws -> [Double] {
            var g = try Self.stored(Tensor<Double>(start, shape: [n, n]))
            Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in
                g[i, j] = 0.25 * (g[i - 1, j] + g[i + 1, j] + g[i, j - 1] + g[i, j + 1])
            }
            return try g.scalars
        }
        var want = start
        for i in 1..<(n - 1) {
            for j in 1..<(n - 1) {
                want[i * n + j] = 0.25 * (want[(i - 1) * n + j] + want[(i + 1) * n + j] + want[i * n + j - 1] + want[i * n + j + 1])
            }
        }
        #expect(try Tandem.withEager(.always) { try sweep() } == want)
    }
}
