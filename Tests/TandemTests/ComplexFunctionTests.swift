import Testing
@testable import Tandem

/// Powers, trigonometric functions and reductions of complex tensors against values NumPy 2.4
/// printed for the same inputs (repr, every digit): bit for bit where the doc comments say so,
/// within the stated tolerance elsewhere, on the interpreter, cpu-1 and cpu.
@Suite("Complex powers, trigonometry and reductions", .planned)
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
    /// infinities and zeros (their signs included) must match exactly.
    static func expectNear(_ got: [Complex<Double>], re: [Double], im: [Double], _ tolerance: Double, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == re.count, "\(what): count", sourceLocation: sourceLocation)
        for (i, z) in got.enumerated() where i < re.count {
            let (x, y) = z.rawStorage
            let scale = Swift.max(Swift.abs(re[i]), Swift.abs(im[i]))
            func near(_ p: Double, _ q: Double) -> Bool {
                if p.isNaN || q.isNaN || p.isInfinite || q.isInfinite { return p.isNaN && q.isNaN || p == q }
                if q == 0 { return p == 0 && p.sign == q.sign }
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

    // MARK: - Trigonometric and hyperbolic functions

    /// Inputs past glibc's overflow thresholds (|y| > 709 for sin and cos, > 354 for tan): its
    /// scaled steps give finite values where `cosh y` alone would overflow.
    static let bigInputs: [Complex<Double>] = [Complex(0.5, 710), Complex(1e-300, 720), Complex(0.25, -1000), Complex(0, 1000),
                                               Complex(-2, -1500), Complex(3, 2200), Complex(1, 400), Complex(-0.5, -360)]
    /// Every pair of 0, -0, 1, inf, -inf and NaN (real part major, NumPy's order of the grid).
    static let specialInputs: [Complex<Double>] = {
        let parts: [Double] = [0, -0.0, 1, .infinity, -.infinity, .nan]
        return parts.flatMap { x in parts.map { y in Complex(x, y) } }
    }()

    /// `np.sin(a)`, `np.sin(big)`, `np.sin(specials)`... as NumPy 2.4 printed them.
    static let trigonometry: [(String, String, re: [Double], im: [Double])] = [
        ("sin", "a", re: [3.165778513216168, 0.3618024162571129, 0.0, 0.10183674942129743, 0.0, -525.7945152216543, 2.61073440975962e+170, 0.5984721441039565],
         im: [1.9596010414216063, -0.23656049336703044, -1.1752011936438014, 0.20033016114881574, 0.0, -155.53654985241286, -2.6107335395147586e+173, -0.0]),
        ("sin", "big", re: [5.355170720030244e+307, 2460350465131.908, .infinity, 0.0, -.infinity, .infinity, 2.1968576209952083e+173, -5.317465175197173e+155],
         im: [9.802574250689392e+307, .infinity, -.infinity, .infinity, .infinity, -.infinity, 1.4105860567000836e+173, -9.733554713831977e+155]),
        ("sin", "specials", re: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, 0.8414709848078965, 0.8414709848078965, 1.2984575814159773, .infinity, .infinity, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan, .nan],
         im: [0.0, -0.0, 1.1752011936438014, .infinity, -.infinity, .nan, 0.0, -0.0, 1.1752011936438014, .infinity, -.infinity, .nan, 0.0, -0.0, 0.6349639147847361, .infinity, -.infinity, .nan, 0.0, -0.0, .nan, .infinity, .infinity, .nan, 0.0, -0.0, .nan, .infinity, .infinity, .nan, 0.0, -0.0, .nan, .infinity, .infinity, .nan]),
        ("cos", "a", re: [2.0327230070196656, -0.9658736947415564, 1.5430806348152437, 1.0149706707026225, 1.0, 155.53680851884408, 2.6107335395147586e+173, -0.8011436155469337],
         im: [-3.0518977991518, -0.08861216384412209, 0.0, -0.02010006102769189, -0.0, -525.7936407959019, 2.61073440975962e+170, -0.0]),
        ("cos", "big", re: [9.802574250689392e+307, .infinity, .infinity, .infinity, -.infinity, -.infinity, 1.4105860567000836e+173, 9.733554713831977e+155],
         im: [-5.355170720030244e+307, -2460350465131.908, .infinity, -0.0, -.infinity, -.infinity, -2.1968576209952083e+173, -5.317465175197173e+155]),
        ("cos", "specials", re: [1.0, 1.0, 1.5430806348152437, .infinity, .infinity, .nan, 1.0, 1.0, 1.5430806348152437, .infinity, .infinity, .nan, 0.5403023058681398, 0.5403023058681398, 0.8337300251311491, .infinity, .infinity, .nan, .nan, .nan, .nan, .infinity, .infinity, .nan, .nan, .nan, .nan, .infinity, .infinity, .nan, .nan, .nan, .nan, .infinity, .infinity, .nan],
         im: [-0.0, 0.0, -0.0, -0.0, 0.0, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, -0.0, -0.0, 0.0, -0.9888977057628651, -.infinity, .infinity, .nan, 0.0, 0.0, .nan, .nan, .nan, .nan, 0.0, 0.0, .nan, .nan, .nan, .nan, 0.0, 0.0, .nan, .nan, .nan, .nan]),
        ("tan", "a", re: [0.03381282607989669, -0.3491771167142147, 0.0, 0.09638813085645423, 0.0, -9.047396175011596e-07, 0.0, -0.7470222972386604],
         im: [1.0147936161466335, 0.2769532234910957, -0.7615941559557649, 0.19928415105961048, 0.0, -1.000001395424712, -1.0, 0.0]),
        ("tan", "big", re: [0.0, 0.0, 0.0, 0.0, 0.0, -0.0, 0.0, Double(bitPattern: 0x8000_0010_1e14_6a89)],   // -3.42012650936e-313, subnormal (a literal of it draws an underflow warning)
         im: [1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0]),
        ("tan", "specials", re: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, 1.557407724654902, 1.557407724654902, 0.2717525853195118, 0.0, 0.0, .nan, .nan, .nan, .nan, 0.0, 0.0, .nan, .nan, .nan, .nan, -0.0, -0.0, .nan, .nan, .nan, .nan, 0.0, 0.0, .nan],
         im: [0.0, -0.0, 0.7615941559557649, 1.0, -1.0, .nan, 0.0, -0.0, 0.7615941559557649, 1.0, -1.0, .nan, 0.0, -0.0, 1.0839233273386946, 1.0, -1.0, .nan, 0.0, -0.0, .nan, 1.0, -1.0, .nan, 0.0, -0.0, .nan, 1.0, -1.0, .nan, 0.0, -0.0, .nan, 1.0, -1.0, .nan]),
        ("sinh", "a", re: [-0.4890562590412937, -16.028357066719018, 0.0, 0.09817008390542765, 0.0, 55.94196773410589, -0.0005252964261919301, 6.0502044810397875],
         im: [1.4031192506220405, 4.100182439650617, -0.8414709848078965, 0.19966350551389372, 0.0, -48.75494167239679, 0.8509197850988918, 0.0]),
        ("sinh", "big", re: [0.5210953045467275, -8.390387292223657e-301, 0.1420638813862321, 0.0, 0.3999244764531751, 6.343110253865899, -0.6173288841894268, 0.1478300959840266],
         im: [6.798311107414321e-05, -0.5440716964379951, -0.85285439012711, 0.8268795405320025, 3.739253659633801, 7.792422886445562, -1.3130371856486012, -1.081298268166632]),
        ("sinh", "specials", re: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, 1.1752011936438014, 1.1752011936438014, 0.6349639147847361, .nan, .nan, .nan, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, -.infinity, -.infinity, -.infinity, .infinity, .infinity, .infinity, .nan, .nan, .nan, .nan, .nan, .nan],
         im: [0.0, -0.0, 0.8414709848078965, .nan, .nan, .nan, 0.0, -0.0, 0.8414709848078965, .nan, .nan, .nan, 0.0, -0.0, 1.2984575814159773, .nan, .nan, .nan, 0.0, -0.0, .infinity, .nan, .nan, .nan, 0.0, -0.0, .infinity, .nan, .nan, .nan, 0.0, -0.0, .nan, .nan, .nan, .nan]),
        ("cosh", "a", re: [-0.64214812471552, 16.057615686620064, 0.5403023058681398, 0.9849709957026355, 1.0, 55.94704748753815, -0.5252966012907272, 6.132289479663686],
         im: [1.0686074213827783, -4.092711487432808, -0.0, 0.0199000611943586, 0.0, -48.750514931515504, 0.000850919501459077, 0.0]),
        ("cosh", "big", re: [1.1276259631570738, -0.8390387292223656, 0.5800451463844049, 0.5623790762907029, -0.41484754660413614, 6.374634391086862, -0.8105746076986476, -0.319897440857947],
         im: [3.141616203127456e-05, -5.440716964379951e-301, -0.20887995645506288, 0.0, -3.6047436567864155, 7.75388743589493, -1.0000014471425793, 0.4996864818353358]),
        ("cosh", "specials", re: [1.0, 1.0, 0.5403023058681398, .nan, .nan, .nan, 1.0, 1.0, 0.5403023058681398, .nan, .nan, .nan, 1.5430806348152437, 1.5430806348152437, 0.8337300251311491, .nan, .nan, .nan, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .infinity, .nan, .nan, .nan, .nan, .nan, .nan],
         im: [0.0, -0.0, 0.0, 0.0, 0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, 0.0, 0.0, -0.0, 0.9888977057628651, .nan, .nan, .nan, 0.0, -0.0, .infinity, .nan, .nan, .nan, -0.0, 0.0, -.infinity, .nan, .nan, .nan, 0.0, -0.0, .nan, .nan, .nan, .nan]),
        ("tanh", "a", re: [1.16673625724092, -0.9984003950229746, 0.0, 0.10372115002750572, 0.0, 0.9999875803117128, 0.0036240148461861754, 0.9866142981514302],
         im: [-0.2434582011857253, 0.0008729611018350542, -1.557407724654902, 0.20061448422675457, 0.0, -8.994589181307728e-05, -1.6198785586336641, 0.0]),
        ("tanh", "big", re: [0.46211715858098257, 1.4204828156148408e-300, 0.6855016144535818, 0.0, -1.0363567728104324, 1.0009710790589539, 1.0943831608745842, -1.6692205170005567],
         im: [4.741391675041042e-05, 0.6484464631832305, -1.2234682889318813, 1.4703241557027187, -0.008323917318593088, 0.0048639358642279485, 0.2697499267418905, 0.7727831143514516]),
        ("tanh", "specials", re: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, 0.7615941559557649, 0.7615941559557649, 1.0839233273386946, .nan, .nan, .nan, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, .nan, .nan, .nan, .nan, .nan, .nan],
         im: [0.0, -0.0, 1.557407724654902, .nan, .nan, .nan, 0.0, -0.0, 1.557407724654902, .nan, .nan, .nan, 0.0, -0.0, 0.2717525853195118, .nan, .nan, .nan, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, .nan, .nan, .nan, .nan]),
    ]

    static func apply<R: ComplexComponent>(_ name: String, _ z: ComplexTensor<R>) -> ComplexTensor<R> {
        switch name {
        case "sin": z.sin()
        case "cos": z.cos()
        case "tan": z.tan()
        case "sinh": z.sinh()
        case "cosh": z.cosh()
        default: z.tanh()
        }
    }

    @Test("sin, cos, tan, sinh, cosh and tanh are glibc's formulas: NumPy's bits on the interpreter, compiled within 1e-15; overflow thresholds, every special pair")
    func trigonometric() throws {
        let inputs = ["a": Self.a, "big": Self.bigInputs, "specials": Self.specialInputs]
        var compiled: [String: [Complex<Double>]] = [:]
        for p in Self.placements {
            try Tandem.withDevice(p) {
                for (name, label, re, im) in Self.trigonometry {
                    let got = try Self.apply(name, ComplexTensor(inputs[label]!)).scalars
                    Self.expectNear(got, re: re, im: im, 1e-15, "\(p) \(name)(\(label))")
                    // The interpreter calls the C library's sin, cos, sinh, cosh and exp, as
                    // NumPy's csin... do here: the formulas and special rules give its bits.
                    if p == .interpreter { Self.expectBits(got, re: re, im: im, "interpreter \(name)(\(label))") }
                    // One worker and all of them: the same compiled code, the same bits.
                    if p == .cpu1 { compiled[name + label] = got }
                    if p == .cpu { #expect(got.map(\.rawStorage.x.bitPattern) == compiled[name + label]!.map(\.rawStorage.x.bitPattern)
                                           && got.map(\.rawStorage.y.bitPattern) == compiled[name + label]!.map(\.rawStorage.y.bitPattern),
                                           "cpu-1 and cpu differ: \(name)(\(label))") }
                }
            }
        }
        // One fused kernel for a function of an expression.
        let x = ComplexTensor(real: Tensor<Double>.uniform([64], seed: 5), imaginary: Tensor<Double>.uniform([64], seed: 6))
        for name in ["sin", "cos", "tan", "sinh", "cosh", "tanh"] {
            #expect(Tandem.plan(Self.apply(name, x * 2)).kernels.count == 1, "\(name)")
        }
    }

    @Test("complex64: the same functions within 3e-7 of NumPy's (float thresholds: 88 and 44)")
    func trigonometricSingle() throws {
        let b = ComplexTensor<Float>([Complex(1, 2), Complex(-0.5, 0.25), Complex(3, -1), Complex(0.5, 90)])
        let expected: [(String, re: [Double], im: [Double])] = [
        ("sin", re: [3.165778636932373, -0.4944857954978943, 0.21775953471660614, 2.925462758676624e+38], im: [1.9596009254455566, 0.2216881662607193, 1.1634403467178345, .infinity]),
        ("cos", re: [2.0327229499816895, 0.9051501154899597, -1.5276381969451904, .infinity], im: [-3.0518977642059326, 0.12110880017280579, 0.1658443957567215, -2.925462758676624e+38]),
        ("tan", re: [0.03381282463669777, -0.5045007467269897, -0.05916853994131088, 0.0], im: [1.0147936344146729, 0.31242072582244873, -0.768017590045929, 1.0]),
        ("sinh", re: [-0.489056259393692, -0.5048956871032715, 5.412680625915527, -0.2334890514612198], im: [1.4031192064285278, 0.2789791226387024, -8.47164535522461, 1.0080938339233398]),
        ("cosh", re: [-0.6421481370925903, 1.0925707817077637, 5.439580917358398, -0.5052594542503357], im: [1.0686073303222656, -0.1289210319519043, -8.429750442504883, 0.46585744619369507]),
        ("tanh", re: [1.1667362451553345, -0.4854872524738312, 1.0020551681518555, 1.2440986633300781], im: [-0.24345821142196655, 0.1980554610490799, -0.004517137538641691, -0.848121166229248]),
        ]
        for (name, re, im) in expected {
            let got = try Self.apply(name, b).scalars.map { Complex(Double($0.rawStorage.x), Double($0.rawStorage.y)) }
            Self.expectNear(got, re: re, im: im, 3e-7, "complex64 \(name)")
        }
    }

    // MARK: - Reductions

    /// A 3 x 4 complex matrix (NumPy's `M`).
    static let matrix = ComplexTensor(real: Tensor<Double>([1.0, -0.5, 3.0, 0.75, 2.0, 1.25, -1.0, 0.5, 0.3, -2.0, 1.1, -0.6], shape: [3, 4]),
                                      imaginary: Tensor<Double>([2.0, 0.25, -1.0, 0.5, -0.5, 1.5, -1.0, -2.0, 0.9, 0.1, 0.0, -0.7], shape: [3, 4]))

    @Test("prod multiplies each lane in order: NumPy's bits flat and along the last axis, within 1e-15 along the first; empty lanes give 1")
    func product() throws {
        for p in Self.placements {
            try Tandem.withDevice(p) {
                // A pending input: its kernel runs on the placement, the product on the host.
                let m = Self.matrix * Complex(1, 0)
                Self.expectBits([try m.prod().item()], re: [-80.30408203125], im: [6.431777343749999], "\(p) prod()")
                Self.expectBits(try m.prod(axis: 1).scalars, re: [-2.1875, -11.6875, -0.9075000000000002], im: [-2.8125, -1.0625, 1.6995], "\(p) prod(axis: 1)")
                // Along axis 0 NumPy's vector loop fuses multiply-adds: within rounding.
                Self.expectNear(try m.prod(axis: 0).scalars, re: [-2.25, 2.04375, -4.4, -1.7], im: [3.75, 0.775, -2.2, -0.21249999999999994], 1e-15, "\(p) prod(axis: 0)")
            }
        }
        let m = Self.matrix
        #expect(try m.prod(axis: -1, keepDims: true).shape == [3, 1])
        #expect(try m.prod(axes: [0, 1], keepDims: true).shape == [1, 1])
        Self.expectBits([try m.prod(axes: [0, 1]).item()], re: [-80.30408203125], im: [6.431777343749999], "prod(axes: [0, 1])")
        // np.prod(np.zeros((2, 0), complex), axis=1): ones.
        #expect(try ComplexTensor<Double>.zeros([2, 0]).prod(axis: 1).scalars == [Complex(1, 0), Complex(1, 0)])
        #expect(try ComplexTensor<Double>.zeros([0]).prod().item() == Complex(1, 0))
        #expect(try ComplexTensor<Float>([Complex(1, 2), Complex(3, -1)]).prod().item() == Complex(5, 5))
    }

    /// Ties, ±0, NaN in either part, infinities (NumPy's `L`, 6 x 5).
    static let ordered = ComplexTensor(
        real: Tensor<Double>([1.0, 3.0, 3.0, 3.0, -1.0, 0.0, 0.0, 0.0, -0.0, 0.0, 2.0, .nan, 5.0, 1.0, 7.0, 4.0, 2.0, .nan, 9.0, 0.0,
                              -.infinity, .infinity, .infinity, -.infinity, .infinity, 1.0, 1.0, 1.0, 1.0, 1.0], shape: [6, 5]),
        imaginary: Tensor<Double>([5.0, -1.0, 2.0, 2.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, .nan, 0.0, .nan, 1.0, 0.0, 9.0, 0.0,
                                   1.0, -.infinity, -1.0, -.infinity, -.infinity, -.infinity, -.infinity, 5.0, .infinity, .infinity], shape: [6, 5]))

    @Test("argmax and argmin order complex numbers as NumPy: real part, then imaginary; first of ties; the first NaN wins")
    func argExtremes() throws {
        for p in Self.placements {
            try Tandem.withDevice(p) { () throws -> Void in
                // A pending input (times 1: every value kept, NaN, infinities and -0 included).
                let z = ComplexTensor(real: Self.ordered.real * 1, imaginary: Self.ordered.imaginary * 1)
                #expect(try z.argmax(axis: 1).scalars == [2, 0, 1, 0, 2, 3], "\(p)")
                #expect(try z.argmin(axis: 1).scalars == [4, 0, 1, 0, 3, 0], "\(p)")
                #expect(try z.argmax(axis: 0).scalars == [3, 2, 3, 2, 4], "\(p)")
                #expect(try z.argmin(axis: 0).scalars == [3, 2, 3, 2, 0], "\(p)")
                #expect(try z.argmax().item() == 11 && (try z.argmin().item()) == 11, "\(p)")
                #expect(z.argmax(axis: -1, keepDims: true).shape == [6, 1])
                let finite = ComplexTensor.concatenate([z[0..<2], z[4..<6]])
                #expect(try finite.argmax().item() == 12 && (try finite.argmin().item()) == 13, "\(p)")
            }
        }
        let z = ComplexTensor<Double>([Complex(1, 5), Complex(3, -1), Complex(3, 2)])
        #expect(Tandem.plan(z.argmax()).kernels.count <= 4)
    }

    @Test("argmax of an empty sequence stops with NumPy's message")
    func argmaxOfNothing() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = ComplexTensor<Double>.zeros([2, 0]).argmax(axis: 1)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("attempt to get argmax of an empty sequence"), "\(text)")
    }
}
