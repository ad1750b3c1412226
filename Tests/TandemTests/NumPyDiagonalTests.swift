import Testing
import Tandem

/// `fillDiagonal` (numpy.fill_diagonal) and `triuIndices`/`trilIndices` (numpy.triu_indices,
/// numpy.tril_indices) against NumPy 2.4's results for the same arguments.
@Suite("fill_diagonal and triangle indices")
struct NumPyDiagonalTests {
    @Test("fillDiagonal writes NumPy's positions: tall matrices with and without wrap, wide ones, cubes, cycled values; lazily on every CPU placement")
    func fillDiagonal() throws {
        for p in PlacementBitwiseTests.placements {
            try Tandem.withDevice(p) { () throws -> Void in
                // A pending matrix (np.arange(20.0).reshape(4, 5) * 1.5 - 3), filled in place.
                let x = Tensor<Double>.arange(20).reshaped([4, 5]) * 1.5 - 3
                var y = x
                y.fillDiagonal(-1.25)
                #expect(try y.scalars == [-1.25, -1.5, 0.0, 1.5, 3.0, 4.5, -1.25, 7.5, 9.0, 10.5, 12.0, 13.5, -1.25, 16.5, 18.0,
                                          19.5, 21.0, 22.5, -1.25, 25.5], "\(p)")
                #expect(try x.scalars[0] == -3, "\(p): a copy never sees the write")

                func filled(_ shape: [Int], wrap: Bool = false) throws -> [Double] {
                    var a = Tensor<Double>.zeros(shape)
                    a.fillDiagonal(7, wrap: wrap)
                    return try a.scalars
                }
                // np.fill_diagonal(np.zeros((5, 3)), 7): down to row 2; wrap=True adds (4, 0).
                #expect(try filled([5, 3]) == [7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0], "\(p)")
                #expect(try filled([5, 3], wrap: true) == [7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0], "\(p)")
                #expect(try filled([7, 3], wrap: true) == [7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 7], "\(p)")
                #expect(try filled([3, 5], wrap: true) == [7, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 7, 0, 0], "\(p)")
                // A 3 x 3 x 3 cube: (0,0,0), (1,1,1), (2,2,2), flat 0, 13, 26.
                let cube = try filled([3, 3, 3])
                #expect(cube.indices.filter { cube[$0] != 0 } == [0, 13, 26], "\(p)")
                #expect(try filled([0, 0]) == [])

                // Values: cycled when fewer (np.fill_diagonal(z, [1, 2])), cut when more, any shape.
                var v = Tensor<Double>.zeros([4, 4])
                v.fillDiagonal(Tensor<Double>([1, 2]))
                #expect(try v.scalars == [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2], "\(p)")
                var w = Tensor<Double>.zeros([5, 3])
                w.fillDiagonal(Tensor<Double>([1, 2]), wrap: true)
                #expect(try w.scalars == [1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0], "\(p)")
                var u = Tensor<Double>.zeros([4, 4])
                u.fillDiagonal(Tensor<Double>([1, 2, 3, 4], shape: [2, 2]) * 1)
                #expect(try u.diagonal().scalars == [1, 2, 3, 4], "\(p)")
                u.fillDiagonal(Tensor<Double>([1, 2, 3, 4, 5, 6]) * 2)
                #expect(try u.diagonal().scalars == [2, 4, 6, 8], "\(p)")
                u.fillDiagonal(Tensor<Double>.zeros([0]))
                #expect(try u.diagonal().scalars == [2, 4, 6, 8], "\(p): empty values write nothing")
            }
        }
        var i = Tensor<Int64>.arange(12).reshaped([3, 4])
        i.fillDiagonal(-1)
        #expect(try i.scalars == [-1, 1, 2, 3, 4, -1, 6, 7, 8, 9, -1, 11])
        var b = Tensor<Bool>.zeros([2, 2])
        b.fillDiagonal(true)
        #expect(try b.scalars == [true, false, false, true])
    }

    @Test("fillDiagonal of a vector stops with NumPy's message")
    func fillDiagonalOfVector() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var v = Tensor<Double>.zeros([3])
            v.fillDiagonal(1)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("array must be at least 2-d"), "\(text)")
    }

    @Test("fillDiagonal of unequal axes beyond two stops with NumPy's message")
    func fillDiagonalOfUnequalCube() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var v = Tensor<Double>.zeros([2, 3, 3])
            v.fillDiagonal(1)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("All dimensions of input must be of equal length"), "\(text)")
    }

    @Test("triuIndices and trilIndices as NumPy's for every k and m, empty and negative sizes included")
    func triangleIndices() throws {
        // (n, k, m): np.triu_indices(n, k, m) and np.tril_indices(n, k, m).
        let cases: [(Int, Int, Int?, [Int64], [Int64], [Int64], [Int64])] = [
            (4, 0, nil, [0, 0, 0, 0, 1, 1, 1, 2, 2, 3], [0, 1, 2, 3, 1, 2, 3, 2, 3, 3], [0, 1, 1, 2, 2, 2, 3, 3, 3, 3], [0, 0, 1, 0, 1, 2, 0, 1, 2, 3]),
            (4, 1, nil, [0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3], [0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], [0, 1, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3]),
            (3, -1, 5, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 1, 2, 3, 4], [1, 2, 2], [0, 0, 1]),
            (5, 2, 3, [0], [2], [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4], [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]),
            (3, 5, nil, [], [], [0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 1, 2, 0, 1, 2, 0, 1, 2]),
            (2, 0, 4, [0, 0, 0, 0, 1, 1, 1], [0, 1, 2, 3, 1, 2, 3], [0, 1, 1], [0, 0, 1]),
            (0, 0, nil, [], [], [], []),
            (3, -4, nil, [0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 1, 2, 0, 1, 2, 0, 1, 2], [], []),
            (3, 1, 0, [], [], [], []),
            (-1, 0, nil, [], [], [], []),
            (2, 0, -3, [], [], [], []),
        ]
        for (n, k, m, ur, uc, lr, lc) in cases {
            let (rows, columns) = Tensor.triuIndices(n, k: k, m: m)
            #expect(try rows.scalars == ur && columns.scalars == uc, "triu_indices(\(n), \(k), \(String(describing: m)))")
            let (lowRows, lowColumns) = Tensor.trilIndices(n, k: k, m: m)
            #expect(try lowRows.scalars == lr && lowColumns.scalars == lc, "tril_indices(\(n), \(k), \(String(describing: m)))")
        }
        // As subscripts: the strict upper triangle of a matrix, gathered.
        let a = Tensor<Double>.arange(16).reshaped([4, 4])
        let (r, c) = Tensor.triuIndices(4, k: 1)
        #expect(try a[r, c].scalars == [1, 2, 3, 6, 7, 11])
    }
}
