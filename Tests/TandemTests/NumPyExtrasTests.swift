import Foundation
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemRuntime

/// NumPy functions a port reaches for (nineteenth session): floored division and modulo,
/// stacking shortcuts, axis moves, `logspace`/`geomspace`, `digitize`, `isin`, `argwhere`,
/// `tensordot`/`inner`. Expected values are NumPy 2.4's, printed for these inputs.
@Suite("NumPy extras", .planned)
struct NumPyExtrasTests {
    /// Bitwise equality, NaN equal to NaN and the sign of zero compared.
    static func same(_ a: [Double], _ b: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) {
            #expect(x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN), "\(a) against \(b)", sourceLocation: sourceLocation)
        }
    }

    @Test("mod and floorDivide: NumPy's signs, zeros, infinities and division by zero, on every placement (OpenCL where present)")
    func flooredDivision() throws {
        let a = Tensor<Double>([-7.5, -3.0, -0.0, 0.0, 2.5, 7.0, 1.0, -1.0, 5.0, .infinity, -2.0])
        let b = Tensor<Double>([2.0, -2.0, 3.0, -3.0, -1.0, 2.5, .infinity, .infinity, 0.0, 2.0, 3.0])
        let remainders: [Double] = [0.5, -1.0, 0.0, -0.0, -0.5, 2.0, 1.0, .infinity, .nan, .nan, 1.0]
        let quotients: [Double] = [-4.0, 1.0, -0.0, -0.0, -3.0, 2.0, 0.0, -1.0, .infinity, .nan, -1.0]
        for device in ["interpreter", "cpu-1", "cpu"] + (openCLAvailable ? ["opencl"] : []) {
            try Tandem.withDevice(DeviceChoice(rawValue: device)!) {
                Self.same(try a.mod(b).scalars, remainders)
                Self.same(try a.floorDivide(b).scalars, quotients)
                let (q, r) = divmod(a, b)
                Self.same(try q.scalars, quotients)
                Self.same(try r.scalars, remainders)
            }
        }
        Self.same(try Tensor<Double>([7.5, -7.5]).floorDivide(2).scalars, [3, -4])
        Self.same(try mod(Tensor<Double>([-0.25, 1.25]), 1.0).scalars, [0.75, 0.25])
        let i = Tensor<Int64>([-7, -3, 0, 7, 5, -5, 3, -9]), j = Tensor<Int64>([2, -2, 3, -3, 0, 3, -4, 4])
        #expect(try i.mod(j).scalars == [1, -1, 0, -2, 0, 1, -1, 3])
        #expect(try i.floorDivide(j).scalars == [-4, 1, 0, -3, 0, -2, -1, -3])
        #expect(try Tensor<Int64>.arange(-2, 3).mod(5).scalars == [3, 4, 0, 1, 2])
        #expect(try Tensor<Int32>.arange(-3, 3).floorDivide(2).scalars == [-2, -1, -1, 0, 0, 1])
        #expect(try Tensor<UInt8>([7, 200]).mod(3).scalars == [1, 2])
        let f = try Tensor<Float>([-7.5, 7.5]).mod(2).scalars
        #expect(f == [0.5, 1.5])
    }

    @Test("hstack, vstack, dstack, columnStack, movingAxis and rotated90 as NumPy's")
    func stacksAndAxes() throws {
        let u = Tensor<Double>.arange(0, 2), w = Tensor<Double>.arange(0, 3)
        #expect(try Tensor.hstack([u, w]).scalars == [0, 1, 0, 1, 2])
        let v = Tensor.vstack([w, w + 3])
        #expect(v.shape == [2, 3])
        #expect(try v.scalars == [0, 1, 2, 3, 4, 5])
        #expect(Tensor.dstack([u, u + 5]).shape == [1, 2, 2])
        #expect(try Tensor.dstack([u, u + 5]).scalars == [0, 5, 1, 6])
        #expect(try Tensor.columnStack([u, u + 5]).scalars == [0, 5, 1, 6])
        let m = Tensor<Double>.arange(0, 6).reshaped([2, 3])
        #expect(Tensor.hstack([m, m]).shape == [2, 6])
        #expect(try m.rotated90().scalars == [2, 5, 1, 4, 0, 3])
        #expect(m.rotated90().shape == [3, 2])
        #expect(try m.rotated90(2).scalars == [5, 4, 3, 2, 1, 0])
        #expect(try m.rotated90(3).scalars == [3, 0, 4, 1, 5, 2])
        #expect(try m.rotated90(-1).scalars == [3, 0, 4, 1, 5, 2])
        let a = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])
        #expect(a.movingAxis(0, to: 2).shape == [3, 4, 2])
        #expect(try a.movingAxis(0, to: 2)[1, 2].scalars == [6, 18])
        #expect(a.movingAxis(-1, to: 0).shape == [4, 2, 3])
    }

    @Test("logspace and geomspace: NumPy's values, ends exact")
    func spaces() throws {
        #expect(try Tensor<Double>.logspace(0, 3, count: 4).scalars == [1, 10, 100, 1000])
        let two = try Tensor<Double>.logspace(0, 1, count: 5, base: 2).scalars
        for (x, y) in zip(two, [1.0, 1.189207115002721, 1.4142135623730951, 1.681792830507429, 2.0]) { #expect(Swift.abs(x - y) <= 1e-15 * y) }
        #expect(try Tensor<Double>.geomspace(1, 1000, count: 4).scalars == [1, 10, 100, 1000])
        let negative = try Tensor<Double>.geomspace(-1, -16, count: 5).scalars
        for (x, y) in zip(negative, [-1.0, -2.0, -4.0, -7.999999999999999, -16.0]) { #expect(Swift.abs(x - y) <= 1e-15 * Swift.abs(y)) }
        #expect(negative.first == -1 && negative.last == -16)
        let g = try Tensor<Double>.geomspace(0.5, 7, count: 6).scalars
        for (x, y) in zip(g, [0.5, 0.8476091015362177, 1.4368823780140685, 2.4358291628834574, 4.1292619364947285, 7.0]) {
            #expect(Swift.abs(x - y) <= 1e-15 * y)
        }
    }

    @Test("digitize, isin and argwhere as NumPy's, NaN included")
    func searches() throws {
        let x = Tensor<Double>([-1.0, 0.0, 0.25, 0.3, 0.5, 0.99, 1.0, 2.0, .nan])
        let bins = Tensor<Double>([0.0, 0.25, 0.5, 1.0])
        #expect(try x.digitize(bins).scalars == [0, 1, 2, 2, 3, 3, 4, 4, 4])
        #expect(try x.digitize(bins, right: true).scalars == [0, 0, 1, 2, 2, 3, 3, 4, 4])
        #expect(try x.digitize(bins.flipped()).scalars == [4, 3, 2, 2, 1, 1, 0, 0, 0])
        #expect(try x.digitize(bins.flipped(), right: true).scalars == [4, 4, 3, 2, 2, 1, 1, 0, 0])
        #expect(try Tensor<Double>([1, -0.0, .nan, 3, 4]).isin(Tensor<Double>([0, .nan, 3])).scalars == [false, true, false, true, false])
        let ints = try Tensor<Int64>([1, 2, 3, 4]).reshaped([2, 2]).isin(Tensor<Int64>([4, 1, Int64.max]))
        #expect(ints.shape == [2, 2])
        #expect(try ints.scalars == [true, false, false, true])
        #expect(try Tensor<Int64>([Int64.max, 0]).isin(Tensor<Int64>([Int64.max])).scalars == [true, false])
        let m = Tensor<Double>.arange(0, 6).reshaped([2, 3])
        let w = try (m .> 1.5).argwhere()
        #expect(w.shape == [4, 2])
        #expect(try w.scalars == [0, 2, 1, 0, 1, 1, 1, 2])
        #expect(try (m .> 9).argwhere().shape == [0, 2])
    }

    @Test("tensordot and inner: NumPy's contractions")
    func contractions() throws {
        let a = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4]), b = Tensor<Double>.arange(0, 12).reshaped([4, 3])
        let t = Tensor.tensordot(a, b, axes: ([2], [0]))
        #expect(t.shape == [2, 3, 3])
        #expect(try t.scalars == [42, 48, 54, 114, 136, 158, 186, 224, 262, 258, 312, 366, 330, 400, 470, 402, 488, 574])
        #expect(try Tensor.tensordot(a, Tensor<Double>.arange(0, 12).reshaped([3, 4])).scalars == [506, 1298])
        let m = Tensor<Double>.arange(0, 6).reshaped([2, 3])
        #expect(try Tensor.inner(m, m).scalars == [5, 14, 14, 50])
        #expect(try Tensor.inner(Tensor<Double>.arange(0, 3), Tensor<Double>.arange(0, 3)).item() == 5)
    }

    @Test("round(decimals:), fmax, fmin, copysign and heaviside as NumPy's, NaN and signed zeros included")
    func elementwiseExtras() throws {
        let x = Tensor<Double>([1.234, -2.5, 2.5, 0.125, 1255.0, -0.0049, 3.14159])
        Self.same(try x.round(decimals: 2).scalars, [1.23, -2.5, 2.5, 0.12, 1255.0, -0.0, 3.14])
        Self.same(try x.round(decimals: -1).scalars, [0.0, -0.0, 0.0, 0.0, 1260.0, -0.0, 0.0])
        Self.same(try Tensor<Double>([0.05, 0.15, 0.25, 0.35]).round(decimals: 1).scalars, [0.0, 0.2, 0.2, 0.4])
        let a = Tensor<Double>([1.0, .nan, -0.0, 2.0, .nan]), b = Tensor<Double>([.nan, .nan, -0.0, -3.0, 1.0])
        Self.same(try Tensor.fmax(a, b).scalars, [1.0, .nan, -0.0, 2.0, 1.0])
        Self.same(try Tensor.fmin(a, b).scalars, [1.0, .nan, -0.0, -3.0, 1.0])
        Self.same(try Tensor<Double>([1.0, -2.0, 3.0, 4.0, 0.0]).copysign(Tensor<Double>([-1.0, 2.0, -0.0, 0.0, -5.0])).scalars,
                  [-1.0, 2.0, -3.0, 4.0, -0.0])
        Self.same(try Tensor<Double>([-1.5, 0.0, 2.0, .nan]).heaviside(0.5).scalars, [0.0, 0.5, 1.0, .nan])
    }

    @Test("nanVariance, nanStd, nanArgmax/nanArgmin and nanCumsum as NumPy's")
    func nanStatistics() throws {
        let y = Tensor<Double>([1.0, .nan, 3.0, .nan, .nan, 6.0], shape: [2, 3])
        #expect(Swift.abs(try y.nanVariance().item() - 4.222222222222222) <= 1e-15 * 4.3)
        #expect(try y.nanVariance(axes: [1]).scalars == [1.0, 0.0])
        #expect(Swift.abs(try y.nanStd(ddof: 1).item() - 2.5166114784235836) <= 1e-15 * 2.6)
        #expect(try y.nanArgmax().item() == 5)
        #expect(try y.nanArgmin(axis: 1).scalars == [0, 2])
        #expect(try y.nanCumsum().scalars == [1, 1, 4, 4, 4, 10])
        #expect(try Tensor<Double>([.nan, .nan]).nanVariance().item().isNaN)
    }

    @Test("tri, vander, countNonzero, arrayEqual, set operations and flat and multi-indices as NumPy's")
    func helpers() throws {
        #expect(try Tensor<Double>.tri(3, 4, k: 1).scalars == [1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1])
        #expect(try Tensor.vander(Tensor<Double>([1, 2, 3]), columns: 3).scalars == [1, 1, 1, 4, 2, 1, 9, 3, 1])
        #expect(try Tensor.vander(Tensor<Int64>([2, 3]), columns: 4, increasing: true).scalars == [1, 2, 4, 8, 1, 3, 9, 27])
        let c = Tensor<Int64>([0, 1, 2, 0, 0, 3], shape: [2, 3])
        #expect(try c.countNonzero().item() == 3)
        #expect(try c.countNonzero(axes: [0]).scalars == [0, 1, 2])
        #expect(try c.arrayEqual(c + 0))
        #expect(try !c.arrayEqual(c.reshaped([3, 2])))
        #expect(try !c.arrayEqual(c + 1))
        let n = Tensor<Double>([1, .nan])
        #expect(try !n.arrayEqual(n))
        #expect(try n.arrayEqual(n, equalNaN: true))
        let p = Tensor<Int64>([5, 1, 3, 3, 7])
        #expect(try p.setDifference(Tensor<Int64>([3, 9])).scalars == [1, 5, 7])
        #expect(try p.intersection(Tensor<Int64>([3, 9, 7])).scalars == [3, 7])
        #expect(try Tensor<Int64>([5, 1]).union(Tensor<Int64>([3, 1, 9])).scalars == [1, 3, 5, 9])
        let rc = unravelIndex(Tensor<Int64>([0, 5, 7, 11]), shape: [3, 4])
        #expect(try rc[0].scalars == [0, 1, 1, 2] && rc[1].scalars == [0, 1, 3, 3])
        #expect(try ravelMultiIndex([Tensor<Int64>([0, 1, 2]), Tensor<Int64>([3, 1, 0])], shape: [3, 4]).scalars == [3, 5, 8])
        let m = Tensor<Double>.uniform([5, 7], seed: 71, in: 0...1)
        let at = unravelIndex(m.argmax(), shape: [5, 7])
        #expect(try m[Int(at[0].item()), Int(at[1].item())].item() == m.max().item())
    }

    @Test("partition and argpartition: the kth in place, no greater before, no smaller after, NaN last, along any axis; arraySplit's sizes")
    func partitions() throws {
        func check(_ values: [Double], _ k: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let x = Tensor<Double>(values)
            let p = try x.partition(k).scalars, order = try x.argpartition(k).scalars
            let sorted = try x.sorted().scalars
            #expect(p[k].bitPattern == sorted[k].bitPattern || (p[k].isNaN && sorted[k].isNaN), sourceLocation: sourceLocation)
            for i in 0..<k { #expect(!(p[i] > p[k]) && !p[i].isNaN || p[k].isNaN, sourceLocation: sourceLocation) }
            for i in (k + 1)..<p.count { #expect(!(p[i] < p[k]), sourceLocation: sourceLocation) }
            #expect(Set(order) == Set((0..<Int64(values.count))), "a permutation", sourceLocation: sourceLocation)
            #expect(order.map { values[Int($0)] }.map(\.bitPattern) == p.map(\.bitPattern), sourceLocation: sourceLocation)
        }
        let random = try Tensor<Double>.uniform([301], seed: 81, in: -1...1).scalars
        for k in [0, 1, 150, 299, 300] { try check(random, k) }
        try check([3, 3, 3, 3, 1, 3, 3], 3)                         // runs of equal keys
        try check(Array(repeating: 2.0, count: 50) + [1], 0)
        try check((0..<200).map(Double.init), 100)                  // sorted already
        try check((0..<200).reversed().map(Double.init), 7)
        try check([.nan, 1, .nan, -2, 5], 2)                        // NaN sorts last
        try check([.nan, 1, .nan, -2, 5], 4)
        #expect(try Tensor<Int64>([5, 1, 4, 2, 3]).partition(-1).scalars.last == 5)
        // Along the first axis of a matrix: each column partitioned.
        let m = Tensor<Double>.uniform([9, 4], seed: 82, in: 0...1)
        let pm = try m.partition(4, axis: 0)
        let med = try m.median(axis: 0).scalars
        #expect(try pm[4].scalars == med)
        let parts = Tensor<Double>.arange(0, 8).arraySplit(3)
        #expect(parts.map(\.shape) == [[3], [3], [2]])
        #expect(try parts[2].scalars == [6, 7])
        #expect(Tensor<Double>.zeros([2, 7]).arraySplit(4, axis: 1).map { $0.shape[1] } == [2, 2, 2, 1])
    }

    @Test("x[mask] reads and writes as NumPy's: a scalar is a fused select, one value per true element is scattered, masks broadcast")
    func booleanMasks() throws {
        let x = Tensor<Double>.uniform([6, 5], seed: 91, in: 0...1), y = Tensor<Double>.uniform([6, 5], seed: 92, in: 0...1)
        let xs = try x.scalars, ys = try y.scalars
        var a = x
        a[a .< 0.5] = Tensor(0.5)
        #expect(a.node.storage == nil, "a scalar write through a mask stays lazy")
        #expect(try a.scalars == xs.map { $0 < 0.5 ? 0.5 : $0 })
        var b = x
        let mask = y .> x
        b[mask] = y[mask]
        #expect(try b.scalars == zip(xs, ys).map { $1 > $0 ? $1 : $0 })
        #expect(try x[x .> 0.9].scalars == xs.filter { $0 > 0.9 })
        // A mask over the rows (broadcast along the columns).
        var c = x
        let rows = Tensor<Bool>([true, false, true, false, false, true]).reshaped([6, 1])
        c[rows] = Tensor(-1.0)
        #expect(try c.scalars == xs.enumerated().map { [0, 2, 5].contains($0.offset / 5) ? -1 : $0.element })
        var i = Tensor<Int64>.arange(-3, 4)
        i[i .< 0] = Tensor(Int64(0))
        #expect(try i.scalars == [0, 0, 0, 0, 1, 2, 3])
    }

    @Test("x[mask] = values with the wrong count stops with NumPy's message")
    func booleanMaskCountChecked() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var x = Tensor<Double>.arange(0, 6)
            x[x .> 2.5] = Tensor<Double>([1, 2])
            _ = try? x.scalars
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("cannot assign 2 input values to the 3 output values where the mask is true"), "\(text)")
    }

    @Test("select over lists, matrixPower, signAndLogDeterminant and conditionNumber as NumPy's")
    func selectAndMatrixFunctions() throws {
        let x = Tensor<Double>.arange(-3, 4)
        #expect(try select([x .< -1.0, x .> 1.0], [x * 10, x * 100], otherwise: Tensor(-7.0)).scalars == [-30, -20, -7, -7, -7, 200, 300])
        let m = Tensor<Double>([2, 1, 1, 3], shape: [2, 2])
        #expect(try m.matrixPower(3).scalars == [15, 20, 20, 35])
        #expect(try m.matrixPower(0).scalars == [1, 0, 0, 1])
        #expect(try m.matrixPower(1).scalars == [2, 1, 1, 3])
        DecompositionTests.close(try m.matrixPower(-2).scalars, [0.39999999999999997, -0.2, -0.2, 0.20000000000000004])
        let (sign, logAbs) = try Tensor<Double>([1, 2, 3, 4], shape: [2, 2]).signAndLogDeterminant()
        #expect(try sign.item() == -1)
        #expect(Swift.abs(try logAbs.item() - 0.6931471805599455) <= 1e-15)
        let (s0, l0) = try Tensor<Double>([0, 0, 0, 1], shape: [2, 2]).signAndLogDeterminant()
        #expect(try s0.item() == 0 && l0.item() == -.infinity)
        // A determinant far beyond a double's range is still told by its logarithm.
        let (sBig, lBig) = try (Tensor<Double>.eye(400) * 1e3).signAndLogDeterminant()
        #expect(try sBig.item() == 1 && Swift.abs(lBig.item() - 400 * Foundation.log(1e3)) <= 1e-9)
        #expect(Swift.abs(try Tensor<Double>([1, 2, 3, 4], shape: [2, 2]).conditionNumber().item() - 14.933034373659265) <= 1e-12)
    }

    @Test("cummax and cummin as NumPy's maximum.accumulate and minimum.accumulate: NaN carried on, along either axis")
    func runningExtrema() throws {
        Self.same(try Tensor<Double>([1, 3, 2, .nan, 5, 0]).cummax().scalars, [1, 3, 3, .nan, .nan, .nan])
        Self.same(try Tensor<Double>([3, 1, 2, 0]).cummin().scalars, [3, 1, 1, 0])
        Self.same(try Tensor<Double>([-0.0, 0.0]).cummax().scalars, [-0.0, 0.0])
        let m = Tensor<Int64>([1, 5, 2, 4, 0, 6], shape: [2, 3])
        #expect(try m.cummax(axis: 0).scalars == [1, 5, 2, 4, 5, 6])
        #expect(try m.cummin(axis: 1).scalars == [1, 1, 1, 4, 0, 0])
        #expect(try Tensor<Int64>([1, 2, 3]).cumsum().scalars == [1, 3, 6])
        #expect(try Tensor<Int64>([1, 2, 3]).cumprod().scalars == [1, 2, 6])
    }

    @Test("nanMedian, nanPercentile, nanToNum, sinc and flatNonzero as NumPy's")
    func nanOrderStatisticsAndHelpers() throws {
        let y = Tensor<Double>([1, .nan, 3, 2, .nan, .nan, .nan, .nan], shape: [2, 4])
        Self.same(try y.nanMedian(axis: 1).scalars, [2, .nan])
        #expect(try Tensor<Double>([1, .nan, 3, 2, 10]).nanPercentile(40).item() == 2.2)
        #expect(try Tensor<Double>([1, .nan, 3, 2, 10]).nanMedian().item() == 2.5)
        // Lists of q (numpy.nanpercentile / nanquantile with a list; values from NumPy 2.4).
        let w = Tensor<Double>([1, .nan, 3, 2, 10, .nan, 4, 7.5], shape: [2, 4])
        let rows = try w.nanPercentile([25, 50, 90], axis: 1)
        #expect(rows.shape == [3, 2])
        Self.same(try rows.scalars.map { ($0 * 1e12).rounded() / 1e12 }, [1.5, 5.75, 2, 7.5, 2.8, 9.5])
        Self.same(try w.nanPercentile([25, 50, 90]).scalars.map { ($0 * 1e12).rounded() / 1e12 }, [2.25, 3.5, 8.75])
        let columns = try w.nanQuantile([0.1, 1.0], axis: 0, keepDims: true)
        #expect(columns.shape == [2, 1, 4])
        Self.same(try columns.scalars.map { ($0 * 1e12).rounded() / 1e12 }, [1.9, .nan, 3.1, 2.55, 10, .nan, 4, 7.5])
        Self.same(try Tensor<Double>([1, .nan, 3, .nan, .nan, .nan], shape: [2, 3]).nanPercentile([50, 75], axis: 1).scalars, [2, .nan, 2.5, .nan])
        Self.same(try Tensor<Double>([.nan, .infinity, -.infinity, 1.5]).nanToNum().scalars,
                  [0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1.5])
        Self.same(try Tensor<Double>([.nan, .infinity, -.infinity]).nanToNum(nan: 0.5, positiveInfinity: 9, negativeInfinity: -9).scalars, [0.5, 9, -9])
        Self.same(try Tensor<Double>([0.0, 0.5, 1.0, -1.5, 2.25]).sinc().scalars,
                  [1.0, 0.6366197723675814, 3.8981718325193755e-17, -0.2122065907891938, 0.10003514623967844])
        #expect(try Tensor<Int64>([0, 1, 2, 0], shape: [2, 2]).flatNonzero().scalars == [1, 2])
    }

    @Test("lexsort as NumPy's: the last key primary, earlier keys and position break ties")
    func lexsortOrder() throws {
        let a = Tensor<Int64>([3, 1, 2, 1, 3]), b = Tensor<Int64>([9, 8, 7, 6, 5])
        #expect(try Tensor.lexsort([b, a]).scalars == [3, 1, 2, 4, 0])
        #expect(try Tensor.lexsort([a]).scalars == [1, 3, 2, 0, 4])
        #expect(try Tensor.lexsort([Tensor<Int64>([1, 1, 0, 0]), Tensor<Int64>([0, 0, 0, 0])]).scalars == [2, 3, 0, 1])
    }

    @Test("histogram2d as NumPy's: counts, edges, the last edge included, NaN and outside pairs left out")
    func jointHistogram() throws {
        let x = Tensor<Double>([0.0, 0.1, 0.5, 0.99, 1.0, 0.3, .nan, 0.7]), y = Tensor<Double>([0.0, 0.9, 0.5, 0.2, 1.0, 0.3, 0.4, 2.0])
        let (h, xe, ye) = try Tensor.histogram2d(x, y, bins: (2, 3), xRange: 0...1, yRange: 0...1)
        #expect(h.shape == [2, 3])
        #expect(try h.scalars == [2, 0, 1, 1, 1, 1])
        #expect(try xe.scalars == [0, 0.5, 1])
        #expect(try ye.scalars == [0, 0.3333333333333333, 0.6666666666666666, 1])
        let (h2, xe2, ye2) = try Tensor.histogram2d(Tensor<Double>([1, 2, 3, 4, 5, 6]), Tensor<Double>([6, 5, 4, 3, 2, 1.5]), bins: (3, 3))
        #expect(try h2.scalars == [0, 0, 2, 0, 2, 0, 2, 0, 0])
        #expect(try xe2.scalars == [1, 2.666666666666667, 4.333333333333334, 6])
        #expect(try ye2.scalars == [1.5, 3, 4.5, 6])
    }

    @Test("x.pow(2) is a multiply, NumPy's x ** 2 bit for bit (doubles, floats, wrapping integers); pow itself within an ulp")
    func powTwo() throws {
        let x = Tensor<Double>.uniform([1000], seed: 9, in: -1e3...1e3)
        let xs = try x.scalars(), squares = try x.pow(2).scalars(), viaPow = try x.pow(Tensor(2.0)).scalars()
        #expect(squares.map(\.bitPattern) == xs.map { ($0 * $0).bitPattern })
        #expect(zip(squares, viaPow).allSatisfy { abs($0 - $1) <= $0.ulp })
        #expect(!Tandem.kernelIR(x.pow(2)).contains("pow"), "\(Tandem.kernelIR(x.pow(2)))")
        let f = Tensor<Float>.uniform([1000], seed: 9, in: -30...30)
        #expect(try f.pow(2).scalars().map(\.bitPattern) == (try f.scalars()).map { ($0 * $0).bitPattern })
        let i = Tensor<Int32>([3, -7, 46341, Int32.max])
        #expect(try i.pow(2).scalars() == (try i.pow(Tensor(Int32(2))).scalars()))
    }
}
