import Testing
import Tandem

/// convolve/correlate, average, the NaN-ignoring reductions, cov/corrcoef, diagonal/trace/diag,
/// kron, polyval, logaddexp, ptp, degrees/radians against values NumPy 2.4 printed for the same
/// inputs (repr, every digit).
@Suite("NumPy statistics: convolve, average, nan-reductions, cov, diagonal, kron, polyval, logaddexp", .planned)
struct NumPyStatisticsTests {
    /// Equal, or both NaN, or within `tolerance` relative.
    static func same(_ a: [Double], _ b: [Double], tolerance: Double = 0) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            (x.isNaN && y.isNaN) || x == y || Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y))
        }
    }

    @Test("convolve and correlate: every mode, either argument longer, even and unit kernels")
    func convolveSmall() throws {
        let a = Tensor<Double>([1, 2, 3, 4, 5]), v = Tensor<Double>([0.5, 1, 2])
        let expected: [(ConvolutionMode, conv: [Double], corr: [Double], corrSwapped: [Double])] = [
            (.full, [0.5, 2.0, 5.5, 9.0, 12.5, 13.0, 10.0], [2.0, 5.0, 8.5, 12.0, 15.5, 7.0, 2.5], [2.5, 7.0, 15.5, 12.0, 8.5, 5.0, 2.0]),
            (.same, [2.0, 5.5, 9.0, 12.5, 13.0], [5.0, 8.5, 12.0, 15.5, 7.0], [7.0, 15.5, 12.0, 8.5, 5.0]),
            (.valid, [5.5, 9.0, 12.5], [8.5, 12.0, 15.5], [15.5, 12.0, 8.5]),
        ]
        for (mode, conv, corr, corrSwapped) in expected {
            #expect(try a.convolve(v, mode: mode).scalars == conv, "convolve \(mode)")
            #expect(try convolve(v, a, mode: mode).scalars == conv, "convolve swapped \(mode)")
            #expect(try a.correlate(v, mode: mode).scalars == corr, "correlate \(mode)")
            #expect(try correlate(v, a, mode: mode).scalars == corrSwapped, "correlate swapped \(mode)")
        }
        #expect(a.convolve(v).shape == [7])    // NumPy's default modes
        #expect(a.correlate(v).shape == [3])
        let four = Tensor<Double>([1, 2, 3, 4])
        #expect(try four.convolve(Tensor([1, 10, 100, 1000]), mode: .same).scalars == [12.0, 123.0, 1234.0, 2340.0])
        #expect(try four.convolve(Tensor([1, 10]), mode: .same).scalars == [1.0, 12.0, 23.0, 34.0])
        #expect(try a.convolve(Tensor([2]), mode: .same).scalars == [2.0, 4.0, 6.0, 8.0, 10.0])
        #expect(try Tensor<Float>([1, 2, 3]).convolve(Tensor([1, 1])).scalars == [1, 3, 5, 3])
    }

    @Test("convolve: a 31-tap filter over 200 samples, one fused kernel per mode")
    func convolveLong() throws {
        let signal = (Tensor<Double>.arange(0, 200) * 0.1).sin()
        let taps = (-Tensor<Double>.arange(0, 31) / 5).exp()
        // (mode, length, sum, first, last, middle) from NumPy.
        let expected: [(ConvolutionMode, Int, Double, Double, Double, Double)] = [
            (.full, 230, 30.047551942148054, 0.0, 0.002150674703037262, -4.926644994933615),
            (.same, 200, 0.05070899133376372, 4.4636235708875915, 0.1540418836155973, -4.926644994933615),
            (.valid, 170, -78.96349566440433, 2.6140786957447424, 2.934894415854074, -4.926644994933615),
        ]
        for (mode, length, sum, first, last, middle) in expected {
            let c = signal.convolve(taps, mode: mode)
            let values = try c.scalars
            #expect(values.count == length)
            #expect(Self.same([values.reduce(0, +), values[0], values[length - 1], values[length / 2]], [sum, first, last, middle], tolerance: 1e-12),
                    "\(mode)")
            #expect(Tandem.plan(c).kernels.count <= 2, "\(mode): the padding and one reduction")
        }
    }

    @Test("average: weighted over all, along an axis, with 1-D weights; without weights the mean")
    func average() throws {
        let x = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [2, 3]), w = Tensor<Double>([1, 0, 1, 2, 1, 1], shape: [2, 3])
        #expect(try x.average(weights: w).item() == 3.8333333333333335)
        #expect(try x.average(weights: w, axis: 0).scalars == [3.0, 5.0, 4.5])
        #expect(try x.average(weights: w, axis: 1).scalars == [2.0, 4.75])
        #expect(try x.average(weights: Tensor([1, 2, 3]), axis: 1).scalars == [2.3333333333333335, 5.333333333333333])
        #expect(try x.average(weights: Tensor([1, 3]), axis: -2).scalars == [3.25, 4.25, 5.25])
        #expect(try x.average(axis: 1).scalars == [2, 5] && x.average().item() == 3.5)
    }

    @Test("nansum, nanmean, nanmax, nanmin: NaNs ignored, an all-NaN row NaN (its sum 0)")
    func nanReductions() throws {
        let x = Tensor<Double>([1, .nan, 3, .nan, .nan, .nan], shape: [2, 3])
        #expect(try x.nanSum().item() == 4 && x.nanSum(axes: [1]).scalars == [4, 0])
        #expect(try x.nanMean().item() == 2 && Self.same(x.nanMean(axes: [1]).scalars, [2, .nan]))
        #expect(try x.nanMax().item() == 3 && Self.same(x.nanMax(axes: [1]).scalars, [3, .nan]))
        #expect(try Self.same(x.nanMin(axes: [1]).scalars, [1, .nan]) && Self.same(x.nanMin(axes: [0]).scalars, [1, .nan, 3]))
        #expect(try Tensor<Float>([.nan, -2, 5]).nanMin().item() == -2)
    }

    @Test("cov and corrcoef: rows or columns as variables, ddof, one variable")
    func covariance() throws {
        let m = Tensor<Double>([0, 1, 2, 2, 1, 0.5, 1, 3, 2], shape: [3, 3])
        #expect(try Self.same(m.cov().scalars, [1.0, -0.75, 0.5, -0.75, 0.5833333333333334, -0.5, 0.5, -0.5, 1.0], tolerance: 1e-15))
        #expect(try Self.same(m.cov(rowVariables: false).scalars, [1.0, 0.0, -0.75, 0.0, 1.3333333333333333, 0.5, -0.75, 0.5, 0.75], tolerance: 1e-15))
        #expect(try Self.same(m.cov(ddof: 0).scalars, [0.6666666666666666, -0.5, 0.3333333333333333, -0.5, 0.3888888888888889,
                                                        -0.3333333333333333, 0.3333333333333333, -0.3333333333333333, 0.6666666666666666], tolerance: 1e-15))
        let one = Tensor<Double>([1, 2, 3, 5]).cov()
        #expect(one.shape == [])
        #expect(Self.same([try one.item()], [2.9166666666666665], tolerance: 1e-15))
        #expect(try Self.same(m.corrcoef().scalars, [1.0, -0.9819805060619656, 0.5, -0.9819805060619656, 1.0, -0.6546536707079771,
                                                      0.5, -0.6546536707079771, 1.0], tolerance: 1e-15))
        #expect(try Self.same(m.corrcoef(rowVariables: false).scalars, [1.0, 0.0, -0.8660254037844387, 0.0, 1.0, 0.5000000000000001,
                                                                         -0.8660254037844387, 0.5000000000000001, 1.0], tolerance: 1e-15))
        #expect(try Tensor<Double>([1, 2, 3, 5]).corrcoef().item() == 1)
    }

    @Test("cov(x, y) and corrcoef(x, y): y's variables after x's, 1-D and 2-D, rows or columns, ddof, f32 and f64, on every placement")
    func covarianceOfTwo() throws {
        let x = Tensor<Double>([1, 2, 3, 5]), y = Tensor<Double>([2, 1, 4, 3])
        let m = Tensor<Double>([0, 1, 2, 2, 1, 0.5, 1, 3, 2], shape: [3, 3]), v = Tensor<Double>([1, -1, 4])
        for device in [DeviceChoice.interpreter, .cpu1, .cpu] {
            try Tandem.withDevice(device) { () throws -> Void in
                // numpy.cov(x, y), numpy.corrcoef(x, y), numpy.cov(x, y, ddof=0)
                let c = x.cov(y)
                #expect(c.shape == [2, 2])
                #expect(try Self.same(c.scalars, [2.9166666666666665, 1.1666666666666665, 1.1666666666666665, 1.6666666666666665], tolerance: 1e-15), "\(device)")
                let r = x.corrcoef(y)
                #expect(r.shape == [2, 2])
                #expect(try Self.same(r.scalars, [1.0, 0.529150262212918, 0.5291502622129182, 1.0], tolerance: 1e-15), "\(device)")
                #expect(try Self.same(x.cov(y, ddof: 0).scalars, [2.1875, 0.875, 0.875, 1.25], tolerance: 1e-15), "\(device)")
                // Two 1-D tensors as columns are still one variable each (numpy: the same matrix).
                #expect(try Self.same(x.cov(y, rowVariables: false).scalars, try c.scalars, tolerance: 1e-15), "\(device)")
                // A 3 x 3 matrix and a vector: numpy.cov(m, v), numpy.corrcoef(m, v) (4 x 4) and with rowvar=False.
                #expect(try Self.same(m.cov(v).scalars, [1.0, -0.75, 0.5, 1.5, -0.75, 0.5833333333333334, -0.5, -0.8333333333333334,
                                                          0.5, -0.5, 1.0, -0.9999999999999999, 1.5, -0.8333333333333334, -0.9999999999999999,
                                                          6.333333333333334], tolerance: 1e-15), "\(device)")
                #expect(try Self.same(m.corrcoef(v).scalars, [1.0, -0.9819805060619656, 0.5, 0.5960395606792697, -0.9819805060619656, 1.0,
                                                               -0.6546536707079771, -0.4335549847620599, 0.5, -0.6546536707079771, 1.0,
                                                               -0.397359707119513, 0.5960395606792697, -0.43355498476205995, -0.397359707119513,
                                                               0.9999999999999998], tolerance: 1e-15), "\(device)")
                #expect(try Self.same(m.cov(v, rowVariables: false).scalars, [1.0, 0.0, -0.75, -0.9999999999999999, 0.0, 1.3333333333333333,
                                                                               0.5, 2.6666666666666665, -0.75, 0.5, 0.75, 1.75, -0.9999999999999999,
                                                                               2.6666666666666665, 1.75, 6.333333333333334], tolerance: 1e-15), "\(device)")
                #expect(try Self.same(m.corrcoef(v, rowVariables: false).scalars, [1.0, 0.0, -0.8660254037844387, -0.397359707119513, 0.0, 1.0,
                                                                                    0.5000000000000001, 0.9176629354822469, -0.8660254037844387,
                                                                                    0.5000000000000001, 1.0, 0.8029550685469661, -0.397359707119513,
                                                                                    0.917662935482247, 0.8029550685469661, 0.9999999999999998],
                                      tolerance: 1e-15), "\(device)")
            }
        }
        // Matrices on both sides: numpy.cov(m, w) with w 2 x 3 (5 variables), and
        // numpy.cov(m, w2, rowvar=False) with w2 3 x 2 (its columns the variables).
        let w = Tensor<Double>([1, 0, 2, 3, 5, 4], shape: [2, 3])
        let both = m.cov(w)
        #expect(both.shape == [5, 5])
        #expect(try Self.same(both.scalars, [1.0, -0.75, 0.5, 0.5, 0.5, -0.75, 0.5833333333333334, -0.5, -0.25, -0.5, 0.5, -0.5, 1.0, -0.5, 1.0,
                                             0.5, -0.25, -0.5, 1.0, -0.5, 0.5, -0.5, 1.0, -0.5, 1.0], tolerance: 1e-15))
        #expect(try Self.same(m.corrcoef(w).scalars, [1.0, -0.9819805060619656, 0.5, 0.5, 0.5, -0.9819805060619656, 1.0, -0.6546536707079771,
                                                       -0.32732683535398854, -0.6546536707079771, 0.5, -0.6546536707079771, 1.0, -0.5, 1.0, 0.5,
                                                       -0.32732683535398854, -0.5, 1.0, -0.5, 0.5, -0.6546536707079771, 1.0, -0.5, 1.0], tolerance: 1e-15))
        let w2 = Tensor<Double>([1, 0, 3, 5, 2, 7], shape: [3, 2])
        #expect(try Self.same(m.cov(w2, rowVariables: false).scalars, [1.0, 0.0, -0.75, 1.0, 2.5, 0.0, 1.3333333333333333, 0.5, 0.0, 3.0, -0.75,
                                                                        0.5, 0.75, -0.75, -0.75, 1.0, 0.0, -0.75, 1.0, 2.5, 2.5, 3.0, -0.75, 2.5, 13.0],
                              tolerance: 1e-15))
        #expect(try Self.same(m.corrcoef(w2, rowVariables: false).scalars, [1.0, 0.0, -0.8660254037844387, 1.0, 0.6933752452815365, 0.0, 1.0,
                                                                             0.5000000000000001, 0.0, 0.7205766921228921, -0.8660254037844387,
                                                                             0.5000000000000001, 1.0, -0.8660254037844387, -0.24019223070763074, 1.0, 0.0,
                                                                             -0.8660254037844387, 1.0, 0.6933752452815365, 0.6933752452815365,
                                                                             0.7205766921228922, -0.24019223070763074, 0.6933752452815365, 1.0],
                              tolerance: 1e-15))
        // Perfectly anti-correlated: numpy.corrcoef(x, -2 * x + 1) is [[1, -1], [-1, 1]] (clipped to [-1, 1]).
        #expect(try Self.same(x.corrcoef(-2 * x + 1).scalars, [1, -1, -1, 1], tolerance: 1e-15))
        // Float: numpy.cov and corrcoef of float32 x, y (NumPy computes in float64; within float32's precision).
        let xf = Tensor<Float>([1, 2, 3, 5]), yf = Tensor<Float>([2, 1, 4, 3])
        let cf = try xf.cov(yf).scalars.map(Double.init), rf = try xf.corrcoef(yf).scalars.map(Double.init)
        #expect(Self.same(cf, [2.9166666666666665, 1.1666666666666665, 1.1666666666666665, 1.6666666666666665], tolerance: 1e-6), "\(cf)")
        #expect(Self.same(rf, [1.0, 0.529150262212918, 0.5291502622129182, 1.0], tolerance: 1e-6), "\(rf)")
    }

    @Test("cov(x, y) with different numbers of observations stops with NumPy's message")
    func covarianceOfTwoMismatched() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>([1, 2, 3, 5]).corrcoef(Tensor<Double>([1, 2, 3]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("cov: all the input array dimensions except for the concatenation axis must match exactly, but along dimension 1, the array at index 0 has size 4 and the array at index 1 has size 3"), "\(text)")
    }

    @Test("cov(x, y) with a 3-d y stops with NumPy's message")
    func covarianceOfTwoRank() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>([1, 2]).cov(Tensor<Double>.zeros([2, 2, 2]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("cov: y has more than 2 dimensions"), "\(text)")
    }

    @Test("diagonal, trace and diag: offsets either side and past the matrix, other axes, vectors to matrices")
    func diagonals() throws {
        let t = Tensor<Double>.arange(0, 12).reshaped([3, 4])
        for (offset, want) in [(-1, [4.0, 9.0]), (0, [0.0, 5.0, 10.0]), (1, [1.0, 6.0, 11.0]), (5, []), (-3, [])] {
            #expect(try t.diagonal(offset: offset).scalars == want, "offset \(offset)")
        }
        #expect(try [-1, 0, 1].map { try t.trace(offset: $0).item() } == [13.0, 15.0, 18.0])
        let t3 = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])
        #expect(try t3.diagonal(axis1: 1, axis2: 2).scalars == [0.0, 5.0, 10.0, 12.0, 17.0, 22.0])
        #expect(t3.diagonal(offset: 1, axis1: 0, axis2: 2).shape == [3, 2])
        #expect(try t3.diagonal(offset: 1, axis1: 0, axis2: 2).scalars == [1.0, 14.0, 5.0, 18.0, 9.0, 22.0])
        #expect(try t3.trace(axis1: 1, axis2: 2).scalars == [15.0, 51.0])
        let v = Tensor<Double>([1, 2, 3])
        #expect(try diag(v).scalars == [1, 0, 0, 0, 2, 0, 0, 0, 3])
        #expect(try diag(v, k: 1).scalars == [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0])
        #expect(try diag(v, k: -2).scalars == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0])
        #expect(try diag(t, k: 1).scalars == [1, 6, 11])
        // A diagonal is a view: writing through the matrix afterwards is not seen by it.
        var w = t
        let d = w.diagonal()
        w[0, 0] = Tensor(100.0)
        #expect(try d.scalars == [0, 5, 10] && w.diagonal().scalars == [100, 5, 10])
    }

    @Test("kron: matrices, vectors, mixed shapes")
    func kronecker() throws {
        #expect(try kron(Tensor<Double>.eye(2), Tensor([1, 2, 3, 4], shape: [2, 2])).scalars
                == [1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4])
        #expect(try kron(Tensor<Double>([1, 2]), Tensor([1, 10, 100])).scalars == [1, 10, 100, 2, 20, 200])
        #expect(try kron(Tensor<Double>([1, 2], shape: [1, 2]), Tensor([1, 3], shape: [2, 1])).scalars == [1, 2, 3, 6])
        #expect(kron(Tensor<Int32>.ones([2, 3]), Tensor<Int32>.ones([4, 5])).shape == [8, 15])
    }

    @Test("polyval, logaddexp, logaddexp2, ptp, degrees and radians")
    func elementwise() throws {
        #expect(try polyval(Tensor<Double>([1, -3, 2]), Tensor([0, 1, 2, 3, 0.5])).scalars == [2.0, 0.0, 0.0, 2.0, 0.75])
        #expect(try Tensor.polyval(Tensor<Double>([2.5]), Tensor([1, 2])).scalars == [2.5, 2.5])
        let a = Tensor<Double>([0, -.infinity, 1000, -1000, 1, .infinity, 3])
        let b = Tensor<Double>([0, -.infinity, 1000, -999, .nan, .infinity, -2])
        #expect(try Self.same(logaddexp(a, b).scalars, [0.6931471805599453, -.infinity, 1000.6931471805599, -998.6867383124818, .nan, .infinity, 3.0067153484891183]))
        #expect(try Self.same(Tensor.logAddExp2(a, b).scalars, [1.0, -.infinity, 1001.0, -998.4150374992788, .nan, .infinity, 3.0443941193584534]))
        let p = Tensor<Double>([1, 5, 2, 7, 0, 3], shape: [2, 3])
        #expect(try p.ptp().item() == 7 && p.ptp(axis: 0).scalars == [6, 5, 1] && p.ptp(axis: 1).scalars == [4, 7])
        #expect(try Tensor<Double>([0, 1, .pi]).degrees().scalars == [0.0, 57.29577951308232, 180.0])
        #expect(try Tensor<Double>([0, 90, 180, 1]).radians().scalars == [0.0, 1.5707963267948966, 3.141592653589793, 0.017453292519943295])
    }
}
