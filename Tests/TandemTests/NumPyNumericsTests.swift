import Testing
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import _TandemTestSupport

/// eye, norm, isclose/allclose, gradient, trapezoid and cross against NumPy's documented
/// results and direct computations.
@Suite("NumPy numerics: eye, norm, isclose, gradient, trapezoid, cross", .planned)
struct NumPyNumericsTests {
    @Test("eye and identity: ones on diagonal k of an n x m matrix")
    func eye() throws {
        for (n, m, k) in [(3, 4, 0), (3, 4, 1), (4, 3, -1), (3, 3, 5), (0, 2, 0), (2, 2, -2)] {
            let got = try Tensor<Double>.eye(n, m, k: k).scalars
            let want = (0..<(n * m)).map { i in i % m - i / m == k ? 1.0 : 0.0 }
            #expect(got == want, "eye(\(n), \(m), k: \(k))")
            #expect(Tandem.plan(Tensor<Double>.eye(n, m, k: k)).kernels.count <= 1)
        }
        #expect(try Tensor<Int32>.identity(3).scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(Tensor<Float>.eye(2, 5).shape == [2, 5])
    }

    @Test("norm: every vector ord along an axis or flattened, the matrix norms NumPy computes without singular values")
    func norm() throws {
        var g = SeededGenerator(seed: 5)
        let values = (0..<35).map { i in i % 6 == 0 ? 0.0 : Double(Int64(bitPattern: g.next()) % 2000) / 100 }
        let v = Tensor(values)
        func close(_ a: Double, _ b: Double) -> Bool { Swift.abs(a - b) <= 1e-12 * Swift.max(1, Swift.abs(b)) }
        let mags = values.map(Swift.abs)
        let cases: [(Double?, Double)] = [
            (nil, mags.map { $0 * $0 }.reduce(0, +).squareRoot()), (2, mags.map { $0 * $0 }.reduce(0, +).squareRoot()),
            (1, mags.reduce(0, +)), (.infinity, mags.max()!), (-.infinity, mags.min()!),
            (0, Double(values.filter { $0 != 0 }.count)), (3, pow(mags.map { $0 * $0 * $0 }.reduce(0, +), 1.0 / 3)),
        ]
        for (ord, want) in cases {
            #expect(close(try v.norm(ord: ord).item(), want), "vector ord \(String(describing: ord))")
        }
        // A 5 x 7 matrix: along each axis, flattened (Frobenius), and the induced norms.
        let m = Tensor(values, shape: [5, 7])
        let rows = try m.norm(axis: 1).scalars, columns = try m.norm(ord: 1, axis: 0, keepDims: true)
        #expect(columns.shape == [1, 7])
        for r in 0..<5 { #expect(close(rows[r], values[(r * 7)..<(r * 7 + 7)].map { $0 * $0 }.reduce(0, +).squareRoot())) }
        let columnSums = (0..<7).map { c in (0..<5).map { mags[$0 * 7 + c] }.reduce(0, +) }
        let rowSums = (0..<5).map { r in mags[(r * 7)..<(r * 7 + 7)].reduce(0, +) }
        #expect(close(try columns.scalars[3], columnSums[3]))
        #expect(close(try m.norm().item(), cases[0].1), "Frobenius")
        #expect(close(try m.norm(ord: 1).item(), columnSums.max()!))
        #expect(close(try m.norm(ord: -1).item(), columnSums.min()!))
        #expect(close(try m.norm(ord: .infinity).item(), rowSums.max()!))
        #expect(close(try m.norm(ord: -.infinity).item(), rowSums.min()!))
        #expect(try Tensor<Float>([3, 4]).norm().item() == 5)
    }

    @Test("isclose and allclose: NumPy's documented examples, infinities and NaN")
    func isClose() throws {
        func check(_ a: [Double], _ b: [Double], _ want: [Bool], rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
            let got = try Tensor(a).isClose(to: Tensor(b), rtol: rtol, atol: atol, equalNaN: equalNaN).scalars
            #expect(got == want, "\(a) vs \(b)", sourceLocation: sourceLocation)
            #expect(try allclose(Tensor(a), Tensor(b), rtol: rtol, atol: atol, equalNaN: equalNaN) == want.allSatisfy { $0 },
                    sourceLocation: sourceLocation)
        }
        // numpy.isclose's documentation.
        try check([1e10, 1e-7], [1.00001e10, 1e-8], [true, false])
        try check([1e10, 1e-8], [1.00001e10, 1e-9], [true, true])
        try check([1e10, 1e-8], [1.0001e10, 1e-9], [false, true])
        try check([1.0, .nan], [1.0, .nan], [true, false])
        try check([1.0, .nan], [1.0, .nan], [true, true], equalNaN: true)
        try check([1e-8, 1e-7], [0.0, 0.0], [true, false])
        try check([1e-100, 1e-7], [0.0, 0.0], [false, false], atol: 0)
        try check([1e-10, 1e-10], [1e-20, 0.0], [true, true])
        try check([1e-10, 1e-10], [1e-20, 0.999999e-10], [false, true], atol: 0)
        // The tolerance is relative to b alone: |1 - 0.9| = 0.1 > 0.1 * 0.9, but <= 0.1 * 1.
        try check([1, 0.9], [0.9, 1], [false, true], rtol: 0.1, atol: 0)
        // Infinities are close to themselves only.
        try check([.infinity, -.infinity, .infinity, 1], [.infinity, -.infinity, -.infinity, .infinity], [true, true, false, false])
        #expect(try isclose(Tensor<Double>([1, 2, 3]), Tensor<Double>(2)).scalars == [false, true, false])
    }

    @Test("gradient: NumPy's documented examples, spacing, 2-D along each axis")
    func gradient() throws {
        let f = Tensor<Double>([1, 2, 4, 7, 11, 16])
        #expect(try f.gradient().scalars == [1, 1.5, 2.5, 3.5, 4.5, 5])
        #expect(try f.gradient(spacing: 2).scalars == [0.5, 0.75, 1.25, 1.75, 2.25, 2.5])
        let m = Tensor<Double>([1, 2, 6, 3, 4, 5], shape: [2, 3])
        #expect(try m.gradient(axis: 0).scalars == [2, 2, -1, 2, 2, -1])
        #expect(try m.gradient(axis: 1).scalars == [1, 2.5, 4, 1, 1, 1])
        #expect(try Tensor<Float>([3, 5]).gradient().scalars == [2, 2])
    }

    @Test("trapezoid: uniform spacing, sample points, along each axis of a matrix")
    func trapezoid() throws {
        #expect(try Tensor<Double>([1, 2, 3]).trapezoid().item() == 4)
        #expect(try Tensor<Double>([1, 2, 3]).trapezoid(x: Tensor([4, 6, 8])).item() == 8)
        #expect(try Tensor<Double>([1, 2, 3]).trapezoid(dx: 2).item() == 8)
        let a = Tensor<Double>.arange(0, 6).reshaped([2, 3])
        #expect(try a.trapezoid(axis: 0).scalars == [1.5, 2.5, 3.5])
        #expect(try a.trapezoid(axis: 1).scalars == [2, 8])
        #expect(try a.trapezoid(x: Tensor([0, 1]), axis: 0).scalars == [1.5, 2.5, 3.5])
        #expect(try Tensor<Double>([5]).trapezoid().item() == 0)
    }

    @Test("cross: 3-vectors, 2-vectors (the z component), batched, along the first axis")
    func cross() throws {
        #expect(try Tensor<Double>([1, 2, 3]).cross(Tensor([4, 5, 6])).scalars == [-3, 6, -3])
        #expect(try Tensor<Double>([1, 2]).cross(Tensor([4, 5])).item() == -3)
        let x = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [2, 3]), y = Tensor<Double>([4, 5, 6, 1, 2, 3], shape: [2, 3])
        #expect(try x.cross(y).scalars == [-3, 6, -3, 3, -6, 3])
        // Vectors down the columns of [3, 2] matrices: the same products, transposed.
        let got = try x.transposed.cross(y.transposed, axis: 0)
        #expect(got.shape == [3, 2])
        #expect(try got.transposed.scalars == [-3, 6, -3, 3, -6, 3])
        // Broadcasting one vector against a batch.
        #expect(try x.cross(Tensor([0, 0, 1])).scalars == [2, -1, 0, 5, -4, 0])
    }
}


@Suite("NumPy lookups: unique, searchsorted, interp", .planned)
struct NumPySearchTests {
    @Test("unique and its counts: sorted, flattened, NaNs as one value, 64-bit integers exact")
    func unique() throws {
        #expect(try Tensor<Int64>([3, 1, 3, 2]).unique().scalars == [1, 2, 3])
        let (values, counts) = try Tensor<Int32>([5, 5, 1, 5, 1, 9], shape: [2, 3]).uniqueWithCounts()
        #expect(try values.scalars == [1, 5, 9] && counts.scalars == [2, 3, 1])
        let d = try Tensor<Double>([0.0, -0.0, .nan, 1, .nan, -2]).uniqueWithCounts()
        let dv = try d.values.scalars
        #expect(dv.count == 4 && dv[0] == -2 && dv[1] == 0 && dv[2] == 1 && dv[3].isNaN, "\(dv)")
        #expect(try d.counts.scalars == [1, 2, 1, 2])
        let big = try Tensor<Int64>([.max, .max - 1, .max, .min]).unique().scalars
        #expect(big == [.min, .max - 1, .max])
        // A long lane (the radix sort's path) of bytes: every value counted.
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7 % 251) }
        let (bv, bc) = try Tensor(bytes).uniqueWithCounts()
        #expect(try bv.scalars == Array(Set(bytes)).sorted())
        #expect(try bc.scalars.reduce(0, +) == 10_000)
    }

    @Test("searchSorted: NumPy's documented examples, both sides, NaN last, exact 64-bit integers, the values' shape")
    func searchSorted() throws {
        let a = Tensor<Double>([1, 2, 3, 4, 5])
        #expect(try a.searchSorted(Tensor(3)).item() == 2)
        #expect(try a.searchSorted(Tensor(3), right: true).item() == 3)
        #expect(try a.searchSorted(Tensor([-10, 10, 2, 3])).scalars == [0, 5, 1, 2])
        let withNaN = Tensor<Double>([1, 2, .nan])
        #expect(try withNaN.searchSorted(Tensor([.nan, 2.5, .infinity])).scalars == [2, 2, 2])
        #expect(try withNaN.searchSorted(Tensor([.nan]), right: true).scalars == [3])
        let ints = Tensor<Int64>([.min, 0, .max - 1, .max])
        #expect(try ints.searchSorted(Tensor<Int64>([.max - 1, .max, .min]), right: true).scalars == [3, 4, 1])
        #expect(try a.searchSorted(Tensor([1.5, 2.5, 3.5, 9], shape: [2, 2])).shape == [2, 2])
    }

    @Test("interp: NumPy's documented examples, left and right values, the points themselves, Float in Double")
    func interp() throws {
        let xp = Tensor<Double>([1, 2, 3]), fp = Tensor<Double>([3, 2, 0])
        #expect(try Tensor<Double>(2.5).interp(xp, fp).item() == 1)
        let got = try Tensor<Double>([0, 1, 1.5, 2.72, 3.14]).interp(xp, fp).scalars
        for (g, w) in zip(got, [3, 3, 2.5, 0.56, 0.0]) { #expect(Swift.abs(g - w) <= 1e-12, "\(got)") }
        #expect(try Tensor<Double>(3.14).interp(xp, fp, right: -99).item() == -99)
        #expect(try Tensor<Double>(-1).interp(xp, fp, left: 7).item() == 7)
        #expect(try Tensor<Double>([1, 2, 3]).interp(xp, fp).scalars == [3, 2, 0])
        #expect(try Tensor<Double>(.nan).interp(xp, fp).item().isNaN)
        // NumPy's formula, slope * (x - xp[j]) + fp[j], to the bit.
        let x = 2.3, slope = (0.0 - 2.0) / (3.0 - 2.0)
        #expect(try Tensor<Double>(x).interp(xp, fp).item() == slope * (x - 2) + 2)
        let f = try Tensor<Float>([0.5, 1.5], shape: [2, 1]).interp(Tensor<Float>([0, 1, 2]), Tensor<Float>([0, 10, 20]))
        #expect(f.shape == [2, 1])
        #expect(try f.scalars == [5, 15])
    }
}
