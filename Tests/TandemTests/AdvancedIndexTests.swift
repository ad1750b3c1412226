import Testing
import _TandemTestSupport
@testable import Tandem

/// NumPy's indexing with several integer index arrays (and with integers separating one from its
/// neighbours): values from NumPy 2.4 on `x = np.arange(210.).reshape(5, 6, 7)`, on every CPU
/// placement.
@Suite("Advanced indexing", .planned) struct AdvancedIndexTests {
    @Test("several index tensors select points, their axes where NumPy puts them", arguments: ["interpreter", "cpu-1", "cpu"])
    func reads(device: String) throws {
        let x = Tensor<Double>.arange(0, 210).reshaped([5, 6, 7])
        let i = Tensor<Int64>([0, 1, -1]), j = Tensor<Int32>([1, 2, 3])
        func check(_ t: Tensor<Double>, _ shape: [Int], _ values: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(t.shape == shape, sourceLocation: sourceLocation)
            // Fused with arithmetic and a reduction, as a program would use it.
            let got = try? Tandem.withDevice(DeviceChoice(rawValue: device)!) { try (t * 2 + 1).scalars }
            #expect(got == values.map { Double($0) * 2 + 1 }, sourceLocation: sourceLocation)
        }
        check(x[i, j], [3, 7], [7, 8, 9, 10, 11, 12, 13, 56, 57, 58, 59, 60, 61, 62, 189, 190, 191, 192, 193, 194, 195])   // NumPy x[i, j]
        check(x[.all, i, j], [5, 3], [1, 9, 38, 43, 51, 80, 85, 93, 122, 127, 135, 164, 169, 177, 206])   // NumPy x[:, i, j]
        check(x[i, .all, j], [3, 6], [1, 8, 15, 22, 29, 36, 44, 51, 58, 65, 72, 79, 171, 178, 185, 192, 199, 206])   // NumPy x[i, :, j]
        check(x[0, .all, i], [3, 6], [0, 7, 14, 21, 28, 35, 1, 8, 15, 22, 29, 36, 6, 13, 20, 27, 34, 41])   // NumPy x[0, :, i]
        check(x[i[.all, .newAxis], j], [3, 3, 7], [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195])   // NumPy x[i[:,None], j]
        check(x[.newAxis, i, j], [1, 3, 7], [7, 8, 9, 10, 11, 12, 13, 56, 57, 58, 59, 60, 61, 62, 189, 190, 191, 192, 193, 194, 195])   // NumPy x[None,i,j]
        check(x[i, .newAxis, j], [3, 1, 7], [7, 8, 9, 10, 11, 12, 13, 56, 57, 58, 59, 60, 61, 62, 189, 190, 191, 192, 193, 194, 195])   // NumPy x[i,None,j]
        check(x[.ellipsis, i, j], [5, 3], [1, 9, 38, 43, 51, 80, 85, 93, 122, 127, 135, 164, 169, 177, 206])   // NumPy x[..., i, j]
        check(x[i, j, 2], [3], [9, 58, 191])   // NumPy x[i, j, 2]
        check(x[1, i, 4], [3], [46, 53, 81])   // NumPy x[1, i, 4]
        check(x[.all, [0, 5], .all], [5, 2, 7], [0, 1, 2, 3, 4, 5, 6, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 203, 204, 205, 206, 207, 208, 209])   // NumPy x[:, [0,5], :]
        check(x[[4, 0], .all, [6, 6]], [2, 6], [174, 181, 188, 195, 202, 209, 6, 13, 20, 27, 34, 41])   // NumPy x[[4,0], :, [6,6]]
    }

    @Test("writes through several index tensors: a diagonal, points with broadcast values, an integer beside a list")
    func writes() throws {
        var d = Tensor<Double>.zeros([4, 4])
        let idx = Tensor<Int64>.arange(4)
        d[idx, idx] = Tensor(1.0)
        #expect(try d.scalars == Tensor<Double>.eye(4).scalars)
        #expect(try d[idx, idx].scalars == [1, 1, 1, 1])
        #expect(try d[idx, idx.flipped()].scalars == [0, 0, 0, 0])
        // np: y[i, :, j] = np.arange(18.).reshape(3, 6); (y * np.arange(210).reshape(5, 6, 7)).sum()
        var y = Tensor<Double>.arange(0, 210).reshaped([5, 6, 7])
        y[Tensor<Int64>([0, 1, -1]), .all, Tensor<Int64>([1, 2, 3])] = Tensor<Double>.arange(0, 18).reshaped([3, 6])
        #expect(try (y * Tensor<Double>.arange(0, 210).reshaped([5, 6, 7])).sum().item() == 2844653)
        #expect(try y[4, 5, 3].item() == 17 && y[0, 0, 1].item() == 0 && y[0, 0, 0].item() == 0)
        // An integer beside an index tensor, and a list literal.
        var z = Tensor<Int64>.zeros([3, 4])
        z[1, [0, 3]] = Tensor<Int64>([7, 9])
        z[.all, [2]] = Tensor<Int64>(5)
        #expect(try z.scalars == [0, 0, 5, 0, 7, 0, 5, 9, 0, 0, 5, 0])
    }

    @Test("points of a large stored tensor are read where they are, without copying the rest")
    func noCopyOfTheSource() throws {
        let big = Tensor<Double>.arange(0, 900_000).reshaped([10, 300, 300])
        try big.flush()
        let i = Tensor<Int64>([0, 299, -1]), j = Tensor<Int64>([5, 6, 7])
        // NumPy big[:, i, j]: shape (10, 3), element (a, b) = a * 90000 + i[b] * 300 + j[b].
        var want: [Double] = []
        for a in 0..<10 { for (r, c) in zip([0, 299, 299], [5, 6, 7]) { want.append(Double(a * 90_000 + r * 300 + c)) } }
        let elements = try fewestElements {
            let got = try big[.all, i, j].scalars
            #expect(got == want)
        }
        #expect(elements < 1_000, "elements computed: \(elements)")
    }

    @Test("a few points written into a stored tensor nothing else sees go into its buffer, costing the points, not the array")
    func pointWritesInPlace() throws {
        let n = 1024
        var big = Tensor<UInt32>.zeros([n, n])
        try big.flush()
        let i = Tensor<Int64>([1, 2, -1]), j = Tensor<Int64>([4, 5, 6])
        let buffer = big.node.storage
        let elements = fewestElements { for k in 0..<50 { big[i, j] = Tensor(UInt32(k)) } }
        #expect(big.node.storage === buffer, "the writes made a new buffer")
        // Far below one pass over the array (50 writes computing every position, as before, were
        // 50 million).
        #expect(elements < 100_000, "elements computed: \(elements)")
        #expect(try big[i, j].scalars == [49, 49, 49])
        #expect(try big.sum().item() == 147)
        // An integer beside an index tensor, broadcast 2-D indices, and add(at:) accumulating.
        big[3, j] = Tensor<UInt32>([7, 8, 9])
        big[Tensor<Int64>([10, 11]).reshaped([2, 1]), Tensor<Int64>([20, 21, 22])] = Tensor(UInt32(2))
        try big.add(at: Tensor<Int64>([0, 0, 1]), Tensor<Int64>([0, 0, 4]), values: Tensor(UInt32(5)))
        #expect(big.node.storage === buffer)
        #expect(try big[3, 4].item() == 7 && big[3, 6].item() == 9 && big[11, 22].item() == 2 && big[10, 20].item() == 2)
        #expect(try big[0, 0].item() == 10 && big[1, 4].item() == 54)
        #expect(try big.sum().item() == 147 + 24 + 12 + 15)
    }

    @Test("a point write into a tensor another value still sees leaves that value alone (a copy, a view, a pending operation)")
    func pointWritesKeepValueSemantics() throws {
        var a = Tensor<Double>.zeros([4, 4])
        try a.flush()
        let copy = a                          // the same handle
        let doubled = a * 2 + 1               // pending: reads a
        let row = a[1]                        // a view
        let i = Tensor<Int64>([1, 1]), j = Tensor<Int64>([0, 3])
        a[i, j] = Tensor(5.0)
        #expect(try a[1].scalars == [5, 0, 0, 5])
        #expect(try copy.sum().item() == 0)
        #expect(try doubled.sum().item() == 16)
        #expect(try row.scalars == [0, 0, 0, 0])
        // Written again now that only `a` holds its new buffer: in place, the others unchanged.
        let buffer = a.node.storage
        a[i, j] = Tensor(6.0)
        #expect(a.node.storage === buffer)
        #expect(try a.sum().item() == 12 && copy.sum().item() == 0 && doubled.sum().item() == 16)
    }

    @Test("values written through a mask (x[mask] = y[mask]) go into the tensor's own buffer when nothing else sees it")
    func maskWritesInPlace() throws {
        var z = Tensor<Double>((0..<12).map(Double.init), shape: [3, 4])
        let keep = z                                   // shares the value: the first write copies
        let m = z .> 5.5
        z[m] = z[m] * 2
        #expect(try keep.sum().item() == 66)
        #expect(try z.scalars == [0, 1, 2, 3, 4, 5, 12, 14, 16, 18, 20, 22])
        let buffer = z.node.storage
        let m2 = z .> 15
        z[m2] = Tensor<Double>([-1, -2, -3, -4])
        #expect(z.node.storage === buffer, "the write made a new buffer")
        #expect(try z.scalars == [0, 1, 2, 3, 4, 5, 12, 14, -1, -2, -3, -4])
        #expect(try m2.scalars.filter { $0 }.count == 4, "the mask, computed before the write, is unchanged")
        // A mask computed from the tensor and still pending, kept by another pending value
        // (mandelbrot's `I = abs(Z) < 2; N[I] = n; Z[I] = Z[I] * Z[I] + C[I]`): in place too.
        var n = Tensor<Int64>.zeros([3, 4])
        let m3 = z.abs() .< 3.5
        n[m3] = Tensor(Int64(7))
        z[m3] = z[m3] * 10
        #expect(z.node.storage === buffer, "the write through a mask made from the tensor made a new buffer")
        #expect(try z.scalars == [0, 10, 20, 30, 4, 5, 12, 14, -10, -20, -30, -4])
        #expect(try n.sum().item() == 7 * 7)
    }

    @Test("add(at:values:) with several index tensors and slices accumulates repeated points, as numpy.add.at")
    func addAtPoints() throws {
        // np.add.at(x, (i, j), [1, 2, 3, 4]) and np.add.at(y, (slice(None), [1, 1, 3]), 1.5)
        var x = Tensor<Double>.zeros([3, 4])
        try x.add(at: Tensor<Int64>([0, 2, 0, 1]), Tensor<Int32>([1, 3, 1, 0]), values: Tensor<Double>([1, 2, 3, 4]))
        #expect(try x.scalars == [0, 4, 0, 0, 4, 0, 0, 0, 0, 0, 0, 2])
        var y = Tensor<Double>.zeros([3, 4])
        try y.add(at: TensorIndex.all, Tensor<Int64>([1, 1, 3]), values: Tensor(1.5))
        #expect(try y.scalars == [0, 3, 0, 1.5, 0, 3, 0, 1.5, 0, 3, 0, 1.5])
    }

    @Test("index tensors that do not broadcast stop with NumPy's message")
    func mismatchedIndexShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([4, 4])[Tensor<Int64>([0, 1, 2]), Tensor<Int64>([0, 1])]
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("shape mismatch: indexing arrays could not be broadcast together with shapes (3,) (2,)"), "\(text)")
    }
}

/// The fewest elements the process computed during one of `attempts` runs of `body`: the count
/// is the process's, and suites running beside a test add theirs to some runs (a million
/// elements once); work `body` itself does is in every run.
func fewestElements(_ attempts: Int = 3, _ body: () throws -> Void) rethrows -> Int {
    var fewest = Int.max
    for _ in 0..<attempts {
        let before = Tandem.statistics.elements
        try body()
        fewest = min(fewest, Tandem.statistics.elements - before)
    }
    return fewest
}
