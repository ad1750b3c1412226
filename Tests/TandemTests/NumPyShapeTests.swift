import Testing
@testable import Tandem

/// Issue 16 points 2 (slice bounds) and 4: shapes and joins with NumPy's results (values
/// written out from NumPy by hand in each check).
@Suite("NumPy shapes and joins", .planned)
struct NumPyShapeTests {
    let m = Tensor<Int64>.arange(0, 12).reshaped([3, 4])

    @Test("a reshape of stored data names the same buffer; a write to either leaves the other as it was")
    func reshapeOfStoredData() throws {
        var x = Tensor<Double>([1, 2, 3, 4])
        try x.flush()
        var y = x.reshaped([2, 2])
        #expect(y.node.storage === x.node.storage)
        y[0, 0] = Tensor(9.0)
        x[3] = Tensor(-1.0)
        #expect(try x.scalars == [1, 2, 3, -1] && y.scalars == [9, 2, 3, 4])
        #expect(try (x.reshaped([2, 2]) * y).scalars == [9, 4, 9, -4])
    }

    @Test("negative slice bounds count from the end")
    func negativeBounds() throws {
        let x = Tensor<Int64>.arange(0, 6)
        #expect(try x[(-3)...].scalars == [3, 4, 5])
        #expect(try x[..<(-1)].scalars == [0, 1, 2, 3, 4])
        #expect(try x[(-4)..<(-1)].scalars == [2, 3, 4])
        #expect(try x[indices: [.slice(start: 1, end: -1, step: 1)]].scalars == [1, 2, 3, 4])   // u[1:-1]
        #expect(try x[indices: [.slice(start: -1, end: nil, step: -2)]].scalars == [5, 3, 1])
        #expect(try x[.slice(1, -1)].scalars == [1, 2, 3, 4])                                  // u[1:-1]
        #expect(try x[.slice(nil, nil, step: -1)].scalars == [5, 4, 3, 2, 1, 0])             // u[::-1]
        #expect(try m[.slice(1, -1), .slice(-3, nil)].scalars == [5, 6, 7])                   // m[1:-1, -3:]
        #expect(try m[1..., (-2)...].scalars == [6, 7, 10, 11])
        var y = x
        y[(-2)...] = Tensor(9)
        #expect(try y.scalars == [0, 1, 2, 3, 9, 9])
    }

    @Test func squeezeFlipSwapFlatten() throws {
        #expect(Tensor<Double>.zeros([3, 1, 4, 1]).squeezed().shape == [3, 4])
        #expect(Tensor<Double>.zeros([3, 1, 4, 1]).squeezed(axes: [-1]).shape == [3, 1, 4])
        #expect(try m.flipped(axis: 1).scalars == [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8])
        #expect(try m.flipped().scalars == Array((0..<12).reversed()))
        #expect(try m.swappingAxes(0, 1).scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(try m.transposed.flattened().scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    }

    @Test func rollRepeatTile() throws {
        let x = Tensor<Int64>([1, 2, 3, 4, 5])
        #expect(try x.rolled(by: 2).scalars == [4, 5, 1, 2, 3])
        #expect(try x.rolled(by: -1).scalars == [2, 3, 4, 5, 1])
        #expect(try x.rolled(by: 12).scalars == [4, 5, 1, 2, 3])
        #expect(try m.rolled(by: 1, axis: 1).scalars == [3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10])
        #expect(try m.rolled(by: 1).scalars == [11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        // A roll is a gather along its axis, fused with what reads it: no write, one kernel.
        let u = Tensor<Double>((0..<48).map(Double.init), shape: [6, 8])
        let stencil = (u.rolled(by: 1, axis: 0) + u.rolled(by: -1, axis: 1) + u.rolled(by: 3, axis: 1)).sum(axis: 1)
        #expect(Tandem.plan(stencil).kernels.count == 1)
        let us = try u.scalars
        var want = [Double](repeating: 0, count: 6)
        for i in 0..<6 {
            for j in 0..<8 {
                let up = us[((i + 5) % 6) * 8 + j], right = us[i * 8 + (j + 1) % 8], back = us[i * 8 + (j + 5) % 8]
                want[i] += up + right + back
            }
        }
        #expect(try stencil.scalars == want)
        // A long axis computes its positions instead of storing them: the same values.
        let n = Tensor<Int64>.storedRollIndex + 5
        let long = Tensor<Int64>.arange(Int64(n))
        let rolled = try long.rolled(by: -7).scalars
        #expect(rolled.count == n)
        #expect(Array(rolled.prefix(3)) == [7, 8, 9] && Array(rolled.suffix(7)) == (0..<7).map(Int64.init))
        #expect(Array(try long.rolled(by: 2).scalars.prefix(3)) == [Int64(n - 2), Int64(n - 1), 0])
        #expect(try Tensor<Int64>([1, 2]).repeated(3).scalars == [1, 1, 1, 2, 2, 2])
        let r = Tensor<Int64>([1, 2, 3, 4], shape: [2, 2])
        #expect(try r.repeated(2, axis: 0).scalars == [1, 2, 1, 2, 3, 4, 3, 4])
        #expect(try r.repeated(2, axis: 1).scalars == [1, 1, 2, 2, 3, 3, 4, 4])
        #expect(r.repeated(2).shape == [8])
        #expect(try Tensor<Int64>([1, 2]).tiled([3]).scalars == [1, 2, 1, 2, 1, 2])
        #expect(try r.tiled([2, 1]).scalars == [1, 2, 3, 4, 1, 2, 3, 4])
        #expect(try r.tiled([1, 2]).scalars == [1, 2, 1, 2, 3, 4, 3, 4])
        #expect(try Tensor<Int64>([1, 2]).tiled([2, 2]).scalars == [1, 2, 1, 2, 1, 2, 1, 2])
        #expect(Tensor<Int64>([1, 2]).tiled([2, 2]).shape == [2, 4])
    }

    @Test func diffAndSplit() throws {
        #expect(try Tensor<Double>([1, 4, 9, 16]).diff().scalars == [3, 5, 7])
        #expect(try Tensor<Double>([1, 4, 9, 16]).diff(2).scalars == [2, 2])
        #expect(try m.diff(axis: 0).scalars == [4, 4, 4, 4, 4, 4, 4, 4])
        let parts = m.split(2, axis: 1)
        #expect(try parts[1].scalars == [2, 3, 6, 7, 10, 11])
        let cuts = Tensor<Int64>.arange(0, 8).split(at: [2, 5])
        #expect(try cuts.map { try $0.scalars } == [[0, 1], [2, 3, 4], [5, 6, 7]])
    }

    @Test("concatenate and stack, also of expressions and into a fused consumer")
    func concatenateAndStack() throws {
        let a = Tensor<Double>([1, 2, 3, 4], shape: [2, 2]), b = Tensor<Double>([5, 6], shape: [1, 2])
        #expect(try Tensor.concatenate([a, b]).scalars == [1, 2, 3, 4, 5, 6])
        #expect(try concatenate([a, b.transposed * 10], axis: 1).scalars == [1, 2, 50, 3, 4, 60])
        #expect(try (concatenate([a, b]) + 1).sum().item() == 27)
        #expect(try Tensor.stack([Tensor<Int32>([1, 2]), Tensor<Int32>([3, 4])]).scalars == [1, 2, 3, 4])
        #expect(try stack([Tensor<Int32>([1, 2]), Tensor<Int32>([3, 4])], axis: 1).scalars == [1, 3, 2, 4])
        #expect(try Tensor.concatenate([Tensor<Bool>([true]), Tensor<Bool>([false, true])]).scalars == [true, false, true])
    }

    @Test("pad: constant, edge, wrap, reflect as numpy.pad")
    func pad() throws {
        let x = Tensor<Int64>([1, 2, 3])
        #expect(try x.padded([(2, 1)], mode: .constant(0)).scalars == [0, 0, 1, 2, 3, 0])
        #expect(try x.padded([(2, 1)], mode: .edge).scalars == [1, 1, 1, 2, 3, 3])
        #expect(try x.padded([(2, 1)], mode: .wrap).scalars == [2, 3, 1, 2, 3, 1])
        #expect(try x.padded([(2, 1)], mode: .reflect).scalars == [3, 2, 1, 2, 3, 2])
        let g = Tensor<Double>([1, 2, 3, 4], shape: [2, 2])
        #expect(try g.padded([(1, 1)], mode: .edge).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        #expect(try g.padded([(0, 0), (1, 0)], mode: .constant(-1)).scalars == [-1, 1, 2, -1, 3, 4])
    }

    @Test func triangles() throws {
        let s = Tensor<Int64>.arange(1, 10).reshaped([3, 3])
        #expect(try s.lowerTriangle().scalars == [1, 0, 0, 4, 5, 0, 7, 8, 9])
        #expect(try s.upperTriangle().scalars == [1, 2, 3, 0, 5, 6, 0, 0, 9])
        #expect(try s.upperTriangle(diagonal: 1).scalars == [0, 2, 3, 0, 0, 6, 0, 0, 0])
        #expect(try s.lowerTriangle(diagonal: -1).scalars == [0, 0, 0, 4, 0, 0, 7, 8, 0])
    }

    @Test func meshgrids() throws {
        let (gx, gy) = meshgrid(Tensor<Int64>([1, 2, 3]), Tensor<Int64>([10, 20]))
        #expect(gx.shape == [2, 3])
        #expect(try gx.scalars == [1, 2, 3, 1, 2, 3])
        #expect(try gy.scalars == [10, 10, 10, 20, 20, 20])
        let (ix, iy) = meshgrid(Tensor<Int64>([1, 2, 3]), Tensor<Int64>([10, 20]), indexing: .ij)
        #expect(ix.shape == [3, 2])
        #expect(try ix.scalars == [1, 1, 2, 2, 3, 3])
        #expect(try iy.scalars == [10, 20, 10, 20, 10, 20])
        let (a, b, c) = meshgrid(Tensor<Int64>([1, 2]), Tensor<Int64>([3, 4, 5]), Tensor<Int64>([6]))
        #expect(a.shape == [3, 2, 1] && b.shape == [3, 2, 1] && c.shape == [3, 2, 1])
        #expect(try a.scalars == [1, 2, 1, 2, 1, 2])
        #expect(try b.scalars == [3, 3, 4, 4, 5, 5])
    }

    @Test("indices: numpy.indices' grids, integer and floating, generated in one kernel on every placement")
    func indexGrids() throws {
        for device in [DeviceChoice.interpreter, .cpu1, .cpu] {
            try Tandem.withDevice(device) { () throws -> Void in
                // numpy.indices((2, 3)), numpy.indices((2, 3, 2)), numpy.indices((3,), dtype=float)...
                let ij = Tensor<Int64>.indices([2, 3])
                #expect(ij.shape == [2, 2, 3])
                #expect(try ij.scalars == [0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2], "\(device)")
                let ijk = Tensor<Int32>.indices([2, 3, 2])
                #expect(ijk.shape == [3, 2, 3, 2])
                #expect(try ijk.scalars == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2,
                                            0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "\(device)")
                #expect(try Tensor<Double>.indices([3]).scalars == [0, 1, 2] && Tensor<Double>.indices([3]).shape == [1, 3])
                #expect(try Tensor<Float>.indices([2, 2]).scalars == [0, 0, 1, 1, 0, 1, 0, 1], "\(device)")
                #expect(try Tensor<UInt8>.indices([2, 2]).scalars == [0, 0, 1, 1, 0, 1, 0, 1], "\(device)")
                // r = numpy.indices((3, 4)); r[0] * 4 + r[1] is arange(12).
                let r = Tensor<Int64>.indices([3, 4])
                #expect(try (r[0] * 4 + r[1]).scalars == Array(0..<12), "\(device)")
                // numpy.sqrt(((numpy.indices((5, 5)) - 2.0) ** 2).sum(axis=0)), the doc comment's example
                let radius = (Tensor<Double>.indices([5, 5]) - 2).square().sum(axis: 0).sqrt()
                #expect(try radius.scalars == [2.8284271247461903, 2.23606797749979, 2.0, 2.23606797749979, 2.8284271247461903,
                                               2.23606797749979, 1.4142135623730951, 1.0, 1.4142135623730951, 2.23606797749979,
                                               2.0, 1.0, 0.0, 1.0, 2.0, 2.23606797749979, 1.4142135623730951, 1.0, 1.4142135623730951,
                                               2.23606797749979, 2.8284271247461903, 2.23606797749979, 2.0, 2.23606797749979,
                                               2.8284271247461903], "\(device)")
            }
        }
        // NumPy's shapes for no axes and an empty axis.
        #expect(Tensor<Int64>.indices([]).shape == [0])
        #expect(try Tensor<Int64>.indices([]).scalars == [])
        #expect(Tensor<Int64>.indices([2, 0, 3]).shape == [3, 2, 0, 3])
        #expect(try Tensor<Int64>.indices([2, 0, 3]).scalars == [])
        // Lazy: nothing is stored until a kernel writes the grids, and what reads them fuses with them.
        #expect(Tandem.plan(Tensor<Int64>.indices([4, 5, 6])).kernels.count <= 1)
        let r = Tensor<Int64>.indices([30, 40])
        #expect(Tandem.plan(r[0] * 40 + r[1]).kernels.count <= 1)
    }

    @Test("indices: a negative extent stops with NumPy's message")
    func indexGridsNegative() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Int64>.indices([2, -1])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("indices: negative dimensions are not allowed"), "\(text)")
    }
}
