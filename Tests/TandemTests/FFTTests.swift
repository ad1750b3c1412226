import Foundation
import Testing
@testable import Tandem

/// `numpy.fft`'s transforms on complex tensors against values NumPy 2.4 printed for the same
/// inputs (radix-2 and Bluestein lengths, crop and pad, norms, axes, the real transforms).
@Suite("FFT")
struct FFTTests {
    /// Both parts within `tolerance` of the largest magnitude of `re`/`im` (at least 1).
    static func expectNear(_ z: ComplexTensor<Double>, re: [Double], im: [Double], _ what: String, tolerance: Double = 1e-14,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let v = try z.scalars
        let scale = Swift.max(1, (re + im).map(Swift.abs).max() ?? 1)
        #expect(v.count == re.count, "\(what): \(v.count) points", sourceLocation: sourceLocation)
        for (k, c) in v.enumerated() where k < re.count {
            let (x, y) = c.rawStorage
            #expect(Swift.abs(x - re[k]) <= tolerance * scale && Swift.abs(y - im[k]) <= tolerance * scale,
                    "\(what)[\(k)]: \(x), \(y) vs NumPy \(re[k]), \(im[k])", sourceLocation: sourceLocation)
        }
    }

    @Test("fft of power-of-two and other lengths, cropped and padded, ifft and the norms")
    func transforms() throws {
        let x = Tensor<Double>([1, 2, 3, 4, 5, 6, 7, 8])
        try Self.expectNear(try x.fft(), re: [36, -4, -4, -4, -4, -4, -4, -4],
                            im: [0, 9.65685424949238, 4.0, 1.6568542494923806, 0, -1.6568542494923806, -4.0, -9.65685424949238], "fft 8")
        let y = Tensor<Double>([1, -2, 3.5, 0, 2])
        try Self.expectNear(try y.fft(), re: [4.5, -1.831559480312316, 2.081559480312316, 2.081559480312316, -1.831559480312316],
                            im: [0.0, 1.7469776821569583, 5.679838816202929, -5.679838816202929, -1.7469776821569583], "fft 5 (Bluestein)")
        try Self.expectNear(try y.fft(n: 8), re: [4.5, -2.414213562373095, -0.5, 0.41421356237309515, 8.5, 0.41421356237309515, -0.5, -2.414213562373095],
                            im: [0.0, -2.085786437626905, 2.0, 4.914213562373095, 0.0, -4.914213562373095, -2.0, 2.085786437626905], "fft 5 padded to 8")
        try Self.expectNear(try x.fft(n: 3), re: [6.0, -1.5, -1.5], im: [0.0, 0.8660254037844386, -0.8660254037844386], "fft 8 cropped to 3")
        let z = ComplexTensor<Double>([Complex(1, 1), Complex(2, -0.5), Complex(-1, 0), Complex(0.25, 3), Complex(-2, -2), Complex(0.5, 0.5)])
        try Self.expectNear(try z.ifft(), re: [0.125, 0.4389957660359268, 0.6830127018922193, -0.7916666666666665, -0.18301270189221933, 0.7276709006307397],
                            im: [0.3333333333333333, 0.1941772515768494, 0.9055021169820365, -0.6666666666666666, 0.76116454968463, -0.5275105849101827], "ifft 6")
        try Self.expectNear(try z.fft(norm: .ortho), re: [0.3061862178478973, 1.782422407216795, -0.44828773608402683, -1.9391793797033496, 1.673032607475616, 1.0753156260302468],
                            im: [0.8164965809277261, -1.2921317669470476, 1.8644647570226784, -1.6329931618554523, 2.218018147615952, 0.47563518601932137], "ortho 6")
        // Round trips under each norm; one point is the identity.
        let original = try z.scalars
        for norm in [FFTNorm.backward, .ortho, .forward] {
            let back = try z.fft(norm: norm).ifft(norm: norm).scalars
            #expect(zip(back, original).allSatisfy { Swift.abs($0.real - $1.real) < 4e-15 && Swift.abs($0.imaginary - $1.imaginary) < 4e-15 }, "\(norm)")
        }
        #expect(try ComplexTensor<Double>([Complex(2, -3)]).fft().scalars == [Complex(2, -3)])
        #expect(throws: FFTError.self) { try x.fft(n: 0) }
        #expect(throws: FFTError.self) { try x.fft(axis: 1) }
    }

    @Test("long transforms: 1000 and 997 points (Bluestein), 1024 (radix-2, padded)")
    func long() throws {
        let k = Tensor<Double>.arange(0, 1000)
        let signal = (k * 0.1).sin() + (0.37 * k.pow(1.5)).cos()
        let cases: [(Int, [Int], [Double], [Double], Double)] = [
            (1000, [0, 1, 7, 500, 999], [-24.030872406941732, 6.156045734091686, 2.1690814538494143, 0.2780057977813395, 6.156045734091682],
             [0.0, 8.740066128186236, -11.013818600662315, 3.552713678800501e-15, -8.740066128186236], 490.47461566776127),
            (1024, [0, 1, 7, 512, 1023], [-24.03087240694174, 6.075634579085763, 8.198992672357047, 0.27800579778134704, 6.075634579085769],
             [0.0, 8.192244851060716, -17.4275696460457, 0.0, -8.192244851060721], 426.20330809906545),
            (997, [0, 1, 7, 498, 996], [-20.804052910614224, 9.402507861112166, 5.279747850404721, 31.156596023595522, 9.402507861112177],
             [3.552713678800501e-15, 8.784214821409293, -10.197272830254189, 2.288318322507365, -8.784214821409297], 481.3743855319117),
        ]
        for (n, idx, re, im, largest) in cases {
            let input = n <= 1000 ? signal[0..<n] : signal
            let v = try input.fft(n: n).scalars
            #expect(v.count == n)
            for (j, i) in idx.enumerated() {
                #expect(Swift.abs(v[i].real - re[j]) <= 1e-13 * largest && Swift.abs(v[i].imaginary - im[j]) <= 1e-13 * largest,
                        "n = \(n), [\(i)]: \(v[i]) vs \(re[j]), \(im[j])")
            }
            #expect(Swift.abs(try input.fft(n: n).abs().max().item() - largest) <= 1e-13 * largest)
        }
    }

    @Test("every path against a direct DFT: radix 2, 3, 5, 7, 31, and Bluestein for factors above 31", arguments: [16, 27, 30, 49, 31, 37, 74, 97, 210])
    func againstDirect(_ n: Int) throws {
        let x = ComplexTensor(real: Tensor<Double>.uniform([n], seed: 5, in: -1...1), imaginary: Tensor<Double>.uniform([n], seed: 6, in: -1...1))
        let v = try x.scalars, f = try x.fft().scalars
        for k in 0..<n {
            var sr = 0.0, si = 0.0
            for j in 0..<n {
                let angle = -2 * Double.pi * Double((j * k) % n) / Double(n)
                sr += v[j].real * cos(angle) - v[j].imaginary * sin(angle)
                si += v[j].real * sin(angle) + v[j].imaginary * cos(angle)
            }
            #expect(Swift.abs(f[k].real - sr) < 1e-13 && Swift.abs(f[k].imaginary - si) < 1e-13, "n = \(n), k = \(k): \(f[k]) vs \(sr), \(si)")
        }
    }

    /// Power-of-two lines are transformed in interleaved groups (`FFT.interleavedLines`), other
    /// lengths and single lines one at a time: the same butterflies in the same order, so a
    /// line's transform must not depend on how many lines went with it. Groups of every kind:
    /// the last axis (rows, a ragged last group: 37 rows in groups of 16), a strided axis whose
    /// stride is not a multiple of the group (axis 0 of 64 x 37), a middle axis of a 3-D tensor,
    /// 256-point lines (groups of 16, 9 lines a block) and 512-point lines (groups of 8), the
    /// inverse with its scale.
    @Test("interleaved line groups equal one line at a time, bit for bit, and a direct DFT")
    func interleavedGroups() throws {
        for (shape, axis, inverse) in [([37, 64], 1, false), ([64, 37], 0, false), ([3, 32, 5], 1, true), ([19, 256], 1, false), ([256, 9], 0, true), ([11, 512], 1, true)] {
            let x = ComplexTensor(real: Tensor<Double>.uniform(shape, seed: 11, in: -1...1), imaginary: Tensor<Double>.uniform(shape, seed: 12, in: -1...1))
            let all = try (inverse ? x.ifft(axis: axis) : x.fft(axis: axis)).scalars
            let v = try x.scalars
            let points = shape[axis], stride = shape[(axis + 1)...].reduce(1, *)
            let lines = v.count / points
            for line in 0..<lines {
                // Line `line`: block line / stride, offset line % stride within it.
                let start = (line / stride) * points * stride + line % stride
                let positions = (0..<points).map { start + $0 * stride }
                let alone = ComplexTensor<Double>(positions.map { v[$0] })
                let one = try (inverse ? alone.ifft() : alone.fft()).scalars
                for (k, p) in positions.enumerated() {
                    #expect(all[p].real.bitPattern == one[k].real.bitPattern && all[p].imaginary.bitPattern == one[k].imaginary.bitPattern,
                            "\(shape) axis \(axis) line \(line) point \(k): \(all[p]) in a group, \(one[k]) alone")
                }
                for k in [0, 1, points / 2, points - 1] where line % 5 == 0 || line == lines - 1 {
                    var sr = 0.0, si = 0.0
                    for j in 0..<points {
                        let angle = (inverse ? 2 : -2) * Double.pi * Double((j * k) % points) / Double(points)
                        sr += v[positions[j]].real * cos(angle) - v[positions[j]].imaginary * sin(angle)
                        si += v[positions[j]].real * sin(angle) + v[positions[j]].imaginary * cos(angle)
                    }
                    let scale = inverse ? 1 / Double(points) : 1
                    #expect(Swift.abs(one[k].real - sr * scale) < 1e-12 && Swift.abs(one[k].imaginary - si * scale) < 1e-12,
                            "\(shape) axis \(axis) line \(line) point \(k): \(one[k]) vs \(sr * scale), \(si * scale)")
                }
            }
        }
    }

    @Test("rfft, irfft (even and odd lengths), along an axis of a matrix, fftfreq and rfftfreq")
    func realTransformsAndAxes() throws {
        let y = Tensor<Double>([1, -2, 3.5, 0, 2])
        let r = try y.rfft()
        try Self.expectNear(r, re: [4.5, -1.831559480312316, 2.081559480312316], im: [0.0, 1.7469776821569583, 5.679838816202929], "rfft 5")
        let back = try r.irfft(n: 5).scalars
        #expect(zip(back, [1, -2, 3.5, 0, 2]).allSatisfy { Swift.abs($0 - $1) < 1e-15 }, "\(back)")
        let even = try r.irfft().scalars
        let npEven = [0.7296101299219211, -0.26887871115655815, 2.561169610234237, 1.4780989710004002]
        #expect(zip(even, npEven).allSatisfy { Swift.abs($0 - $1) < 1e-15 }, "\(even)")
        let x8 = Tensor<Double>.arange(0, 8).sin()
        #expect(zip(try x8.rfft().irfft().scalars, try x8.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
        // Along axis 0 of a 3 x 4 matrix: each column transformed.
        let m = Tensor<Double>.arange(0, 12).pow(1.5).reshaped([3, 4])
        let a0 = try m.fft(axis: 0)
        #expect(a0.shape == [3, 4])
        try Self.expectNear(a0, re: [30.627416997969522, 39.180339887498945, 49.14814218312905, 60.199284294068164, -15.313708498984761, -18.090169943749473,
                                     -20.33143040444524, -22.305413512974134, -15.313708498984761, -18.090169943749473, -20.33143040444524, -22.305413512974134],
                            im: [0.0, 0.0, 0.0, 0.0, 12.667714711989916, 13.7002275366613, 14.658205813900448, 15.55607962361372,
                                 -12.667714711989916, -13.7002275366613, -14.658205813900448, -15.55607962361372], "fft axis 0")
        let a1 = try m.fft(axis: 1).scalars, rows = try (0..<3).map { try m[$0].fft().scalars }
        #expect(zip(a1, rows.flatMap { $0 }).allSatisfy { $0 == $1 }, "each row alone gives the same bits")
        #expect(try Tensor<Double>.fftfreq(8, d: 0.1).scalars == [0.0, 1.25, 2.5, 3.75, -5.0, -3.75, -2.5, -1.25])
        #expect(try Tensor<Double>.fftfreq(7).scalars == [0.0, 0.14285714285714285, 0.2857142857142857, 0.42857142857142855,
                                                           -0.42857142857142855, -0.2857142857142857, -0.14285714285714285])
        #expect(try Tensor<Double>.rfftfreq(7, d: 0.5).scalars == [0.0, 0.2857142857142857, 0.5714285714285714, 0.8571428571428571])
        // Float: computed in Double, rounded once.
        let f = try Tensor<Float>([1, 2, 3, 4]).fft().scalars
        #expect(f == [Complex(10, 0), Complex(-2, 2), Complex(-2, 0), Complex(-2, -2)])
    }

    @Test("rfft and irfft of even lengths by half-length transforms: NumPy's values, padding and cropping, norms, the complex path's results, rows on the workers, Float")
    func realTransformsByHalves() throws {
        // numpy.fft.rfft(np.arange(6.)**1.5, n=8); irfft of it times [1, 1j, 2, 1, 0.5], n=8;
        // rfft(..., n=4, norm='ortho').
        let x = Tensor<Double>.arange(0, 6).pow(1.5)
        let r = try x.rfft(n: 8)
        try Self.expectNear(r, re: [28.20491943495177, -18.872821983409168, 5.17157287525381, 2.8728219834091675, -6.548065185459391],
                            im: [0.0, 0.6959256303134449, -6.984187464792317, 6.3527798798058255, 0.0], "rfft n=8")
        let weights = ComplexTensor(real: Tensor<Double>([1, 0, 2, 1, 0.5]), imaginary: Tensor<Double>([0, 1, 0, 0, 0]))
        let back = try (r * weights).irfft(n: 8).scalars
        let npBack = [6.246371381178594, 9.009342994404452, 6.8369748834546025, 3.2868983486154195, 5.157923204630734,
                      5.844582477308231, -5.7758260481528945, -2.40134780648737]
        #expect(zip(back, npBack).allSatisfy { Swift.abs($0 - $1) < 1e-13 }, "\(back)")
        try Self.expectNear(try x.rfft(n: 4, norm: .ortho), re: [4.512289773726411, -1.4142135623730951, -1.6838626489802209],
                            im: [0.0, 2.098076211353316, 0.0], "rfft n=4 ortho")
        // Against the complex transform, for lengths of every plan kind (power of two, mixed
        // radix, Bluestein's 2 * 37), rows on one thread and on the workers.
        for (rows, n) in [(1, 2), (1, 4), (3, 6), (2, 10), (1, 74), (5, 96), (1, 1000), (40, 2048), (1, 200_000)] {
            let v = Tensor<Double>.uniform([rows, n], seed: UInt64(n), in: -1...1)
            let half = try v.rfft(), full = try ComplexTensor(v).fft()[.all, ..<(n / 2 + 1)]
            let (hr, hi) = (try half.real.scalars, try half.imaginary.scalars), (fr, fi) = (try full.real.scalars, try full.imaginary.scalars)
            let bound = 1e-13 * Double(n).squareRoot() * Double(n)
            #expect(zip(hr, fr).allSatisfy { Swift.abs($0 - $1) < bound } && zip(hi, fi).allSatisfy { Swift.abs($0 - $1) < bound }, "rows \(rows) n \(n)")
            let round = try half.irfft(n: n).scalars, original = try v.scalars
            #expect(zip(round, original).allSatisfy { Swift.abs($0 - $1) < 1e-12 }, "irfft(rfft) rows \(rows) n \(n)")
            for norm in [FFTNorm.ortho, .forward] {
                let scaled = try v.rfft(norm: norm).irfft(n: n, norm: norm).scalars
                #expect(zip(scaled, original).allSatisfy { Swift.abs($0 - $1) < 1e-12 }, "\(norm) rows \(rows) n \(n)")
            }
        }
        // Cropped input (n below the axis), a spectrum shorter than n/2 + 1 (zero-padded), Float.
        let long = Tensor<Double>.uniform([12], seed: 3)
        let cropped = try long.rfft(n: 8), direct = try long[..<8].rfft()
        #expect(try cropped.real.scalars == direct.real.scalars && cropped.imaginary.scalars == direct.imaginary.scalars)
        let short = try ComplexTensor(real: Tensor<Double>([4, 1]), imaginary: Tensor<Double>([0, -1])).irfft(n: 6).scalars
        let npShort = [1.0, 1.1220084679281461, 0.7886751345948128, 0.33333333333333337, 0.21132486540518713, 0.5446581987385204]
        #expect(zip(short, npShort).allSatisfy { Swift.abs($0 - $1) < 1e-15 }, "\(short)")
        let f = try Tensor<Float>([1, 2, 3, 4]).rfft()
        #expect(try f.scalars == [Complex(10, 0), Complex(-2, 2), Complex(-2, 0)])
    }

    @Test("fft2, ifft2, fftshift and ifftshift (all axes and one), complex concatenate and stack")
    func twoDimensionalAndShifts() throws {
        let m = Tensor<Double>.arange(0, 12).pow(1.5).reshaped([3, 4])
        let f = try m.fft2()
        try Self.expectNear(f, re: [179.15518336266567, -18.52072518515953, -19.604065000468538, -18.52072518515953, -76.04072236015361, 3.1618698185080607,
                                    4.750444553293606, 6.873573992412899, -76.04072236015361, 6.873573992412899, 4.750444553293606, 3.1618698185080607],
                            im: [0.0, 21.018944406569215, 0.0, -21.018944406569215, 56.58222768616538, -6.2057346711351915, -1.930386634384655,
                                 2.2247524673141275, -56.58222768616538, -2.2247524673141275, 1.930386634384655, 6.2057346711351915], "fft2")
        let back = try f.ifft2().scalars, values = try m.scalars
        #expect(zip(back, values).allSatisfy { Swift.abs($0.real - $1) < 1e-13 && Swift.abs($0.imaginary) < 1e-13 })
        #expect(try Tensor<Double>.fftfreq(8).fftshift().scalars == [-0.5, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375])
        let seven = Tensor<Double>.arange(0, 7)
        #expect(try seven.fftshift().scalars == [4, 5, 6, 0, 1, 2, 3])
        #expect(try seven.ifftshift().scalars == [3, 4, 5, 6, 0, 1, 2])
        #expect(try seven.fftshift().ifftshift().scalars == seven.scalars)
        let six = Tensor<Double>.arange(0, 6).reshaped([2, 3])
        #expect(try six.fftshift().scalars == [5, 3, 4, 2, 0, 1])
        #expect(try six.fftshift(axes: [1]).scalars == [2, 0, 1, 5, 3, 4])
        let z = ComplexTensor(real: six, imaginary: -six)
        #expect(try z.fftshift().scalars.map(\.imaginary) == [-5, -3, -4, -2, -0.0, -1])
        let joined = ComplexTensor.concatenate([z, z], axis: 1)
        let joinedValues = try joined.scalars
        #expect(joined.shape == [2, 6] && joinedValues[4] == Complex(1, -1))
        let stacked = ComplexTensor.stack([z, z])
        let last = try stacked[1, 1, 2].item()
        #expect(stacked.shape == [2, 2, 3] && last == Complex(5, -5))
    }
}
