import Testing
@testable import Tandem

/// Powers, trigonometric functions and reductions of complex tensors against values NumPy 2.4
/// printed for the same inputs (repr, every digit): bit for bit where the doc comments say so,
/// within the stated tolerance elsewhere, on the interpreter, cpu-1 and cpu.
@Suite("Complex powers, trigonometry and reductions")
struct ComplexFunctionTests {
    /// `ComplexTensorTests.a`: NumPy's inputs.
    static let a = ComplexTensorTests.a
    static let placements = PlacementBitwiseTests.placements

    /// The same bits in each part (any NaN matches any NaN).
    static func expectBits(_ got: [Complex<Double>], re: [Double], im: [Double], _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == re.count, "\(what): count", sourceLocation: sourceLocation)
        func same(_ x: Double, _ y: Double) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
        for (i, z) in got.enumerated() where i < re.count {
            let (x, y) = z.rawStorage
            #expect(same(x, re[i]) && same(y, im[i]), "\(what) [\(i)]: \(x), \(y) vs NumPy \(re[i]), \(im[i])",
                    sourceLocation: sourceLocation)
        }
    }

    /// Each part within `tolerance` of NumPy's relative to the magnitude of NumPy's value (a part
    /// near zero beside a large one is compared to the number's size); NaN matches NaN, and
    /// infinities and zeros must match exactly.
    static func expectNear(_ got: [Complex<Double>], re: [Double], im: [Double], _ tolerance: Double, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == re.count, "\(what): count", sourceLocation: sourceLocation)
        for (i, z) in got.enumerated() where i < re.count {
            let (x, y) = z.rawStorage
            let scale = Swift.max(Swift.abs(re[i]), Swift.abs(im[i]))
            func near(_ p: Double, _ q: Double) -> Bool {
                if p.isNaN || q.isNaN || p.isInfinite || q.isInfinite { return p.isNaN && q.isNaN || p == q }
                return Swift.abs(p - q) <= tolerance * scale
            }
            #expect(near(x, re[i]) && near(y, im[i]), "\(what) [\(i)]: \(x), \(y) vs NumPy \(re[i]), \(im[i])",
                    sourceLocation: sourceLocation)
        }
    }

    // MARK: - Powers

    /// `np.power(a, n)` for integer exponents (NumPy's multiplication loop).
    static let integerPowers: [(Int, re: [Double], im: [Double])] = [
        (-3, re: [-0.08800000000000001, -0.0226186479063873, 0.0, -87.99999999999997, .nan, -0.0015053402562533315, -1.1718749999755862e-13, 0.064],
         im: [0.016, -0.004913821732438692, -1.0, 15.999999999999998, .nan, 0.00044913430596410877, -1.5624999999414064e-08, 0.0]),
        (-1, re: [0.2, -0.28426395939086296, -0.0, 2.0, .nan, 0.06756756756756757, 6.249999999960938e-09, 0.4],
         im: [-0.4, -0.020304568527918784, 1.0, -4.0, .nan, 0.0945945945945946, 0.002499999999984375, 0.0]),
        (2, re: [-3.0, 12.1875, -1.0, -0.030000000000000006, 0.0, -24.0, -159999.999999, 6.25],
         im: [4.0, -1.75, -0.0, 0.04000000000000001, 0.0, -70.0, -0.8, 0.0]),
        (3, re: [-11.0, -42.21875, -0.0, -0.011000000000000003, 0.0, -610.0, -479.999999999, 15.625],
         im: [-2.0, 9.171875, 1.0, -0.002000000000000001, 0.0, -182.0, 63999999.998799995, 0.0]),
        (7, re: [29.0, -5750.4359130859375, -0.0, 2.900000000000002e-06, 0.0, 3249160.0, -28671999999104.0, 610.3515625],
         im: [278.0, 3135.1505737304688, 1.0, 2.780000000000002e-05, 0.0, -1262632.0, 1.6383999997849597e+18, 0.0]),
        (13, re: [-8839.0, -7337944.809987158, 0.0, -8.839000000000011e-10, 0.0, 1381742069440.0, 2.1810380797001064e+29, 149011.61193847656],
         im: [33802.0, 9777851.057636157, -1.0, 3.3802000000000053e-09, 0.0, 293441541568.0, -6.71088639672844e+33, 0.0]),
        (99, re: [-3.7339294613021816e+34, -6.692052602505444e+53, -0.0, -3.733929461302222e-65, 0.0, 3.330229830271849e+92, -9.942929050396766e+253, 2.489206111144457e+39],
         im: [1.3546176148418555e+34, 6.57076793196924e+53, 1.0, 1.3546176148418757e-65, 0.0, 4.816795143699198e+91, 4.017344988846585e+257, 0.0]),
    ]

    @Test("integer powers are NumPy's multiplication loop bit for bit on every CPU placement; zero bases and 0 as NumPy's")
    func integerPowers() throws {
        for p in Self.placements {
            try Tandem.withDevice(p) {
                let z = ComplexTensor(Self.a)
                for (n, re, im) in Self.integerPowers {
                    Self.expectBits(try z.pow(n).scalars, re: re, im: im, "\(p) pow(\(n))")
                    // An integer-valued real exponent takes the same path (npy_cpow's test).
                    Self.expectBits(try z.pow(Double(n)).scalars, re: re, im: im, "\(p) pow(\(Double(n)))")
                }
                // square() is np.power(z, 2) (and NumPy's scalar square loop).
                Self.expectBits(try z.square().scalars, re: Self.integerPowers[2].re, im: Self.integerPowers[2].im, "\(p) square")
                // Exponent 0 gives 1 everywhere, NaN included; a zero base 0 or NaN by the sign.
                let edges = ComplexTensor<Double>([Complex(0, 0), Complex(-0.0, 0), Complex(.nan, 0), Complex(2, 1)])
                #expect(try edges.pow(0).scalars.map(\.rawStorage.x) == [1, 1, 1, 1])
                Self.expectBits(try edges.pow(1).scalars, re: [0, 0, .nan, 2], im: [0, 0, 0, 1], "\(p) pow(1)")
                Self.expectBits(try edges.pow(-2).scalars, re: [.nan, .nan, .nan, 0.12], im: [.nan, .nan, .nan, -0.16], "\(p) pow(-2)")
            }
        }
        // A power beyond 99 is exp(n log z), as C's cpow (NumPy: np.power(a, 150)).
        let big = try ComplexTensor(Self.a).pow(150).scalars
        Self.expectNear(big, re: [-2.4036864684319196e+52, -1.7611199796542033e+81, -1.0, -2.403686468431914e-98, 0.0, -5.492458078272871e+139, -.infinity, 4.909093465297713e+59],
                        im: [1.1085051570026725e+52, 5.704240566647701e+81, -1.273756467240565e-14, 1.1085051570026698e-98, 0.0, 1.457253279197247e+140, -.infinity, 0.0],
                        1e-15 * 151, "pow(150)")
        // complex64: np.power(np.array([1+2j, -0.5+0.25j, 3-1j], np.complex64), 3) and -2.
        let single = ComplexTensor<Float>([Complex(1, 2), Complex(-0.5, 0.25), Complex(3, -1)])
        #expect(try single.pow(3).scalars == [Complex(-11, -2), Complex(-0.03125, 0.171875), Complex(18, -26)])
        let inverse = try single.pow(-2).scalars
        let npInverse: [Complex<Float>] = [Complex(-0.11999999731779099, -0.1599999964237213), Complex(1.9199999570846558, 2.559999942779541),
                                           Complex(0.07999999821186066, 0.05999999865889549)]
        #expect(inverse == npInverse, "\(inverse)")
    }

    @Test("real and complex exponents are exp(w log z) within 1e-15 (1 + |w|) of NumPy's; pow fuses into one kernel")
    func realPowers() throws {
        let expected: [(Double, re: [Double], im: [Double])] = [
            (0.5, re: [1.272019649514069, 0.06677279350360416, 0.7071067811865476, 0.40224793209535525, 0.0, 2.60790387735463, 14.14215330141153, 1.5811388300841898],
             im: [0.7861513777574233, 1.8720199266974364, -0.7071067811865475, 0.24860289393928922, 0.0, -1.3420740044875743, -14.14211794607247, 0.0]),
            (-1.5, re: [-0.026858137500500506, -0.016241949326939818, -0.7071067811865475, -0.8493288821156335, .nan, 0.005725983794305893, -8.838801619097895e-05, 0.25298221281347033],
             im: [-0.2978613092531418, 0.15126945767181882, 0.7071067811865476, -9.419201640797153, .nan, 0.03921896412025675, 8.838867910358628e-05, 0.0]),
            (1.0 / 3, re: [1.2196165079717578, 0.7908539866061852, 0.8660254037844387, 0.5660958364691522, 0.0, 1.9469897470481523, 6.380932802359943, 1.3572088082974534],
             im: [0.47171126778938893, 1.2975676893108132, -0.49999999999999994, 0.2189489753260555, 0.0, -0.6384100396279642, -3.684026181201501, 0.0]),
            (2.5, re: [-6.960664459571899, 4.089828292545693, -0.7071067811865477, -0.022011553720432227, 0.0, -156.53487337064124, -2262755.8419060605, 9.882117688026186],
             im: [2.7296244647840076, 22.698390467993704, 0.7071067811865475, 0.008631830465635539, 0.0, -150.34349530712223, 2262727.5576348132, 0.0]),
        ]
        for p in Self.placements {
            try Tandem.withDevice(p) {
                let z = ComplexTensor(Self.a)
                for (e, re, im) in expected {
                    Self.expectNear(try z.pow(e).scalars, re: re, im: im, 1e-15 * (1 + Swift.abs(e)), "\(p) pow(\(e))")
                }
                // np.power(a, 0.5+1j); a zero base with a positive real part gives 0.
                Self.expectNear(try z.pow(Complex(0.5, 1)).scalars,
                                re: [0.1042330549168707, -0.08162724435908945, 3.4015211768251032, 0.09163180027594167, 0.0, -0.8025379504886105, 45.59055938453518, 0.9625452717818672],
                                im: [0.48309593926990946, 0.029902004978238226, -3.401521176825103, -0.12660266508185317, 0.0, 7.545403117639254, -84.7214947157818, 1.2543949138012207],
                                1e-15 * 2.2, "\(p) pow(0.5+1i)")
                // np.power(0j, 1j) is NaN (the real part is not positive); np.power(0j, 0.5) is 0.
                let zero = ComplexTensor<Double>([Complex(0, 0)])
                #expect(try zero.pow(Complex(0, 1)).item().rawStorage.x.isNaN)
                #expect(try zero.pow(0.5).item() == Complex(0, 0))
            }
        }
        // complex64: np.power(b, np.float32(0.5)).
        let root = try ComplexTensor<Float>([Complex(1, 2), Complex(-0.5, 0.25), Complex(3, -1)]).pow(Float(0.5)).scalars
        let npRoot: [Complex<Float>] = [Complex(1.272019624710083, 0.7861514687538147), Complex(0.17178034782409668, 0.727673351764679),
                                        Complex(1.755317211151123, -0.28484877943992615)]
        for (g, e) in zip(root, npRoot) { #expect((g - e).length <= 3e-7 * e.length, "\(g) vs \(e)") }
        // Lazy and fused: a power of an expression is one kernel.
        let x = ComplexTensor(real: Tensor<Double>.uniform([64], seed: 3), imaginary: Tensor<Double>.uniform([64], seed: 4))
        #expect(Tandem.plan((x + Complex(1, 0)).pow(7)).kernels.count == 1)
        #expect(Tandem.plan((x * 2).pow(0.3)).kernels.count == 1)
    }
}
