import Testing
import Tandem

/// `addReduceAt` (np.add.reduceat) against NumPy 2.4: float results bit for bit (its order: the
/// first element plus the pairwise sum of the rest), NumPy's rule for `indices[i] >=
/// indices[i + 1]`, along either axis, on every CPU placement computing the operand.
@Suite("add.reduceat")
struct ReduceAtTests {
    /// `((i * 7919) % 1001 - 500) / 7.0 * 2.0 ** ((i % 11) - 5)`: magnitudes over ten binary
    /// orders, so that the order of the additions shows in the last bits (the same expression
    /// rounds alike in Python and Swift).
    static let x: [Double] = (0..<1000).map { i in
        Double((i * 7919) % 1001 - 500) / 7.0 * Double(sign: .plus, exponent: i % 11 - 5, significand: 1)
    }
    /// Slices of 3, 7, 91, 200, 1, 399 (past NumPy's 128-element blocks: its halving) and 299
    /// elements, one reversed pair (10, 9: element 10 alone) and the last element alone.
    static let starts = [0, 3, 10, 9, 100, 300, 301, 700, 999]

    @Test("doubles and floats are NumPy's bits (not a sequential sum's), along either axis, on every CPU placement")
    func floatingPoint() throws {
        let npDouble: [Double] = [7.2142857142857135, -979.2857142857142, -1778.2857142857142, -17266.348214285714, 10694.821428571433,
                                  -6.178571428571429, -11624.937499999998, 18600.13839285714, -736.0]
        let npFloat: [Float] = [7.214285373687744, -979.2857055664062, -1778.2857666015625, -17266.34765625, 10694.8212890625,
                                -6.1785712242126465, -11624.9384765625, 18600.13671875, -736.0]
        for p in PlacementBitwiseTests.placements {
            try Tandem.withDevice(p) { () throws -> Void in
                // A pending operand: computed on the placement, summed on the host.
                let x = Tensor<Double>(Self.x) * 1
                #expect(try x.addReduceAt(Self.starts).scalars.map(\.bitPattern) == npDouble.map(\.bitPattern), "\(p)")
                #expect(try Tensor<Float>(x).addReduceAt(Self.starts).scalars.map(\.bitPattern) == npFloat.map(\.bitPattern), "\(p)")
                // np.add.reduceat(x[:600].reshape(200, 3), [0, 150, 7, 199], axis=0).
                let rows = try x[0..<600].reshaped([200, 3]).addReduceAt([0, 150, 7, 199], axis: 0)
                #expect(rows.shape == [4, 3])
                let npRows: [Double] = [5267.169642857143, 5087.160714285716, 3278.3125000000005, 2244.5714285714284, 1.7946428571428572,
                                        2.794642857142857, -1623.9062500000014, -3454.227678571429, -7284.129464285715, 15.035714285714286,
                                        23.714285714285715, 34.714285714285715]
                #expect(try rows.scalars.map(\.bitPattern) == npRows.map(\.bitPattern), "\(p)")
                // np.add.reduceat(x[:600].reshape(3, 200), [5, 180, 20], axis=1).
                let columns = try x[0..<600].reshaped([3, 200]).addReduceAt([5, 180, 20], axis: -1)
                let npColumns: [Double] = [-20260.392857142855, 35.5, -16289.571428571428, 27290.785714285706, -81.71428571428571,
                                           29587.973214285714, -24377.022321428576, -77.71428571428571, -30221.709821428572]
                #expect(columns.shape == [3, 3])
                #expect(try columns.scalars.map(\.bitPattern) == npColumns.map(\.bitPattern), "\(p)")
            }
        }
        // NumPy's documentation examples.
        let a = Tensor<Double>.arange(8)
        #expect(try a.addReduceAt([0, 4, 1, 5]).scalars == [6, 4, 10, 18])
        #expect(try a.addReduceAt([0, 4, 4, 7]).scalars == [6, 4, 15, 7])
        #expect(try a.addReduceAt(Tensor<Int64>([0, 4, 1, 5])).scalars == [6, 4, 10, 18])
        let sixteen = Tensor<Double>.linspace(0, 15, count: 16).reshaped([4, 4])
        #expect(try sixteen.addReduceAt([0, 3, 1, 2, 0]).scalars == [12, 15, 18, 21, 12, 13, 14, 15, 4, 5, 6, 7, 8, 9, 10, 11, 24, 28, 32, 36])
        #expect(try sixteen.addReduceAt([0, 3], axis: 1).scalars == [3, 3, 15, 7, 27, 11, 39, 15])
        // -0 + -0 stays -0, as NumPy's pairwise sum starts from -0.
        #expect(try Tensor<Double>([-0.0, -0.0, 1]).addReduceAt([0, 2]).scalars.map(\.sign) == [.minus, .plus])
        // No indices: an empty axis.
        #expect(try sixteen.addReduceAt([], axis: 1).shape == [4, 0])
    }

    @Test("integers wrap in the type sum gives: Int64 for small integers and Bool (NumPy's counts), Int32 and Int64 in their own")
    func integers() throws {
        #expect(try Tensor<Int64>([Int64.max, 1, 5, -7]).addReduceAt([0, 2]).scalars == [Int64.min, -2])
        // NumPy widens int32 to int64 (2147483648, -2); Tandem's Int32 sums stay Int32, wrapping.
        #expect(try Tensor<Int32>([Int32.max, 1, 5, -7]).addReduceAt([0, 2]).scalars == [Int32.min, -2])
        let bytes: Tensor<Int64> = try Tensor<UInt8>([200, 100, 3]).addReduceAt([0, 2])
        #expect(try bytes.scalars == [300, 3])
        let counts: Tensor<Int64> = try Tensor<Bool>([true, false, true, true, false, true]).addReduceAt([0, 2, 5])
        #expect(try counts.scalars == [1, 2, 1])
    }

    @Test("an index past the axis stops with NumPy's message")
    func outOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor<Double>.arange(8).addReduceAt([0, 8])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index 8 out-of-bounds in add.reduceat [0, 8)"), "\(text)")
    }

    @Test("a negative index stops with NumPy's message (no counting from the end)")
    func negativeIndex() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor<Double>.arange(8).addReduceAt([-1])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index -1 out-of-bounds in add.reduceat [0, 8)"), "\(text)")
    }
}
