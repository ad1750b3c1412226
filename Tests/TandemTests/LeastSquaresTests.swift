import Testing
import Tandem
import TandemBLAS

/// lstsq and polyfit against values NumPy 2.4 printed for the same inputs: over- and
/// under-determined systems, a rank-deficient one (the smallest-norm solution), several
/// right-hand sides, polynomial fits of degree 0 to 3; LAPACK's dgelsd and Tandem's own SVD.
@Suite("Least squares: lstsq, polyfit")
struct LeastSquaresTests {
    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-10) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance * Swift.max(1, Swift.abs($1)) }
    }

    static let a = Tensor<Double>([1, 2, 0.5, 3, -1, 2, 0, 4, 1, 2, 2, 2, -1, 0.5, 3], shape: [5, 3])
    static let b = Tensor<Double>([1, 0, 2, 3, -1])

    @Test("over-determined, under-determined (smallest norm), rank-deficient, several columns")
    func lstsqAgainstNumPy() throws {
        #expect(Self.close(try lstsq(Self.a, Self.b).scalars, [0.5343269426190639, 0.6326129666011789, -0.21285820743852035]))
        let two = Tensor.stack([Self.b, Self.b * 2 - 1], axis: 1)
        let x2 = try Self.a.leastSquares(two)
        #expect(x2.shape == [3, 2])
        #expect(Self.close(try x2.scalars, [0.5343269426190639, 0.927809768985841, 0.6326129666011789, 1.0923379174852659,
                                            -0.21285820743852035, -0.7530655104667707]))
        let under = Tensor<Double>([1, 2, 3, 4, 0, 1, -1, 2], shape: [2, 4])
        #expect(Self.close(try under.leastSquares(Tensor([1, 2])).scalars,
                           [-0.06106870229007637, 0.2824427480916031, -0.5877862595419845, 0.5648854961832059]))
        // The third column is the sum of the first two: rank 2, the solution of smallest norm.
        let deficient = Tensor<Double>([1, 2, 3, 2, 4, 6, 1, 0, 1, 0, 1, 1], shape: [4, 3])
        #expect(Self.close(try deficient.leastSquares(Tensor([1, 2, 3, 4])).scalars,
                           [0.6666666666666666, -0.2564102564102565, 0.41025641025641013], 1e-9))
        // Float32 in, float32 out.
        let f = try Tensor<Float>(Self.a).leastSquares(Tensor<Float>(Self.b)).scalars
        #expect(Self.close(f.map(Double.init), [0.5343269426190639, 0.6326129666011789, -0.21285820743852035], 1e-6))
    }

    @Test("LAPACK's dgelsd and Tandem's own SVD give the same solutions, ranks and singular values")
    func ownSVD() throws {
        // Column-major copies of the systems above.
        let cases: [(a: [Double], m: Int, n: Int, b: [Double], rank: Int)] = [
            ([1, 3, 0, 2, -1, 2, -1, 4, 2, 0.5, 0.5, 2, 1, 2, 3], 5, 3, [1, 0, 2, 3, -1], 3),
            ([1, 0, 2, 1, 3, -1, 4, 2], 2, 4, [1, 2], 2),
            ([1, 2, 1, 0, 2, 4, 0, 1, 3, 6, 1, 1], 4, 3, [1, 2, 3, 4], 2),
        ]
        for (a, m, n, b, rank) in cases {
            let own = LAPACK.shared.leastSquares(a, m: m, n: n, b, k: 1, rcond: 1e-15 * Double(Swift.max(m, n)), library: false)
            #expect(own.rank == rank)
            let viaLibrary = LAPACK.shared.leastSquares(a, m: m, n: n, b, k: 1, rcond: 1e-15 * Double(Swift.max(m, n)))
            #expect(viaLibrary.rank == rank)
            #expect(Self.close(own.x, viaLibrary.x, 1e-9), "\(m) x \(n): \(own.x) against \(viaLibrary.x)")
            #expect(Self.close(own.singularValues, viaLibrary.singularValues, 1e-12))
        }
    }

    @Test("polyfit: degrees 0 to 3, a fit per column, as numpy.polyfit")
    func polyfitAgainstNumPy() throws {
        let x = Tensor<Double>.linspace(0, 1, count: 20)
        let y = 3 * x * x - 2 * x + 1 + 0.01 * (7 * x).sin()
        #expect(Self.close(try polyfit(x, y, 2).scalars, [3.028692804362172, -2.03917761852569, 1.0102672999328512], 1e-9))
        #expect(Self.close(try polyfit(x, y, 1).scalars, [0.9895151858364823, 0.532052646612509], 1e-9))
        #expect(Self.close(try polyfit(x, y, 3).scalars, [0.24025762861748307, 2.6683063614359464, -1.8986834761402307, 1.0000846358944924], 1e-8))
        #expect(Self.close(try polyfit(x, y, 0).scalars, [1.02681023953075], 1e-9))
        let columns = Tensor.stack([y, x.cos()], axis: 1)
        let fits = try Tensor.polyfit(x, columns, degree: 2)
        #expect(fits.shape == [3, 2])
        #expect(Self.close(try fits.scalars, [3.0286928043621733, -0.4302681578224442, -2.0391776185256902, -0.03608313441618984,
                                              1.0102672999328517, 1.00295902015181], 1e-9))
        let xf = Tensor<Float>.linspace(0, 1, count: 20)
        #expect(Self.close(try polyfit(xf, 3 * xf * xf - 2 * xf + 1, 2).scalars.map(Double.init), [3, -2, 1], 1e-5))
    }
}
