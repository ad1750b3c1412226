import Foundation
import Testing
@testable import Tandem
import _TandemTestSupport

/// Issue 16 point 6: complex element types (`ComplexTensor`, elements swift-numerics' `Complex`)
/// against values NumPy 2.4 printed for the same inputs (repr, every digit), bit for bit where
/// NumPy's loop computes the same expression (division, angle), and across placements.
@Suite("Complex tensors", .planned)
struct ComplexTensorTests {
    @Test("solve and inverse of complex matrices: NumPy's values (vector and matrix right-hand sides, a stack); singular is an error")
    func complexSolve() throws {
        let a = ComplexTensor([Complex(1.0, 2), Complex(2, -1), Complex(0, 0.5), Complex(3, 0)], shape: [2, 2])
        func close(_ z: ComplexTensor<Double>, _ want: [Complex<Double>]) throws -> Bool {
            let got = try z.scalars
            return got.count == want.count && zip(got, want).allSatisfy { ($0 - $1).length < 1e-12 }
        }
        // numpy.linalg.solve(A, b), solve(A, B), inv(A)
        #expect(try close(a.solve(ComplexTensor([Complex(1.0, 1), Complex(-2, 0.5)])), [Complex(0.52, -1.04), Complex(-0.84, 0.08)]))
        let B = ComplexTensor([Complex(1.0, 0), Complex(0, 0), Complex(0, 2), Complex(1, 0)], shape: [2, 2])
        #expect(try close(a.solve(B), [Complex(-0.56, -0.48), Complex(0, 0.4), Complex(-0.08, 0.76), Complex(0.4, 0)]))
        #expect(try close(a.inverse(), [Complex(0.24, -0.48), Complex(0, 0.4), Complex(-0.08, -0.04), Complex(0.4, 0)]))
        #expect(try a.solve(B).shape == [2, 2])
        // A stack of two: the second is 2A, so its solution is half the first's.
        let stack = ComplexTensor.stack([a, a * Complex(2.0, 0)])
        let xs = try stack.solve(ComplexTensor.stack([B, B]))
        #expect(xs.shape == [2, 2, 2])
        #expect(try close(xs[1], try xs[0].scalars.map { $0 / 2 }))
        #expect(throws: LinearAlgebraError.self) { try ComplexTensor([Complex(1.0, 1), Complex(2, 2), Complex(1, 1), Complex(2, 2)], shape: [2, 2]).inverse() }
    }

    @Test("boolean masks read and write both parts (one sync for the mask), repeat as numpy.repeat")
    func masksAndRepeat() throws {
        var z = ComplexTensor(real: Tensor<Double>([1, -2, 3, -4], shape: [2, 2]), imaginary: Tensor<Double>([0, 1, 0, 5], shape: [2, 2]))
        let neg = z[z.real .< 0]
        #expect(neg.shape == [2])
        #expect(try neg.real.scalars == [-2, -4] && neg.imaginary.scalars == [1, 5])
        // A mask broadcast over the rows; a single value written (lazy), then one per element.
        let firstColumn = Tensor<Bool>([true, false], shape: [1, 2])
        #expect(try z[firstColumn].real.scalars == [1, 3])
        z[z.real .< 0] = ComplexTensor(Complex(0.0, -1))
        #expect(try z.real.scalars == [1, 0, 3, 0] && z.imaginary.scalars == [0, -1, 0, -1])
        z[z.real .> 2] = ComplexTensor([Complex(7.0, 7)])
        #expect(try z.real.scalars == [1, 0, 7, 0] && z.imaginary.scalars == [0, -1, 7, -1])
        let r = ComplexTensor([Complex(1.0, 2), Complex(3.0, 4)]).repeated(2)
        #expect(try r.real.scalars == [1, 1, 3, 3] && r.imaginary.scalars == [2, 2, 4, 4])
        #expect(try z.repeated(2, axis: 1).real.scalars == [1, 1, 0, 0, 7, 7, 0, 0])
    }

    // NumPy's inputs (Python's `-0.0+0j` is +0: the fifth element is 0 + 0i).
    static let a: [Complex<Double>] = [Complex(1, 2), Complex(-3.5, 0.25), Complex(0, -1), Complex(0.1, 0.2),
                                       Complex(0, 0), Complex(5, -7), Complex(1e-3, -4e2), Complex(2.5, 0)]
    static let b: [Complex<Double>] = [Complex(0.5, -1.5), Complex(2, 0), Complex(0, 0), Complex(-0.3, 0.7),
                                       Complex(1, 1), Complex(-1e-5, 3), Complex(7, 0.001), Complex(-0.0, -0.0)]

    /// Equal bits, both NaN, or within `tolerance` relative to the larger magnitude.
    static func close(_ x: Double, _ y: Double, _ tolerance: Double) -> Bool {
        (x.isNaN && y.isNaN) || x == y || Swift.abs(x - y) <= tolerance * Swift.max(Swift.abs(x), Swift.abs(y))
    }

    /// `Complex` reads both parts of a non-finite value as NaN through `real`/`imaginary`; the
    /// raw parts are what was computed.
    static func expectClose(_ got: [Complex<Double>], re: [Double], im: [Double], _ tolerance: Double, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == re.count, "\(what): count", sourceLocation: sourceLocation)
        for (i, z) in got.enumerated() where i < re.count {
            let (x, y) = z.rawStorage
            #expect(close(x, re[i], tolerance) && close(y, im[i], tolerance),
                    "\(what) [\(i)]: \(x), \(y) vs NumPy \(re[i]), \(im[i])", sourceLocation: sourceLocation)
        }
    }

    @Test("division is NumPy's Smith's method bit for bit, zero divisors included")
    func division() throws {
        let q = try (ComplexTensor(Self.a) / ComplexTensor(Self.b)).scalars
        let re: [Double] = [-1.0, -1.75, .nan, 0.18965517241379312, 0.0, -2.3333388888629627, -0.008020407999583512, .infinity]
        let im: [Double] = [0.9999999999999999, 0.125, -.infinity, -0.2241379310344828, 0.0, -1.6666588888703704, -57.14285599708457, .nan]
        for i in q.indices {
            let (x, y) = q[i].rawStorage
            #expect(x.bitPattern == re[i].bitPattern || (x.isNaN && re[i].isNaN), "re[\(i)] \(x) vs \(re[i])")
            #expect(y.bitPattern == im[i].bitPattern || (y.isNaN && im[i].isNaN), "im[\(i)] \(y) vs \(im[i])")
        }
        // By a real scalar: promoted to complex as NumPy does (a reciprocal times, not a quotient).
        let half = try (ComplexTensor(Self.a) / 3.0).scalars
        for (z, x) in zip(half, Self.a) {
            #expect(z.real == (x.real + x.imaginary * (0.0 / 3.0)) * (1 / (3.0 + 0.0 * (0.0 / 3.0))))
        }
    }

    @Test("products, sums and promotion from reals follow NumPy's formulas")
    func arithmetic() throws {
        let x = ComplexTensor(Self.a), y = ComplexTensor(Self.b)
        let p = try (x * y).scalars
        for i in p.indices {
            // The host's evaluation of the same expression, bit for bit.
            let (ar, ai, br, bi) = (Self.a[i].real, Self.a[i].imaginary, Self.b[i].real, Self.b[i].imaginary)
            let re = ar * br - ai * bi, im = ar * bi + ai * br
            #expect(p[i].real.bitPattern == re.bitPattern && p[i].imaginary.bitPattern == im.bitPattern, "product [\(i)]")
        }
        // NumPy's own values (its SIMD loop fuses a multiply-add; within an ulp of the magnitude here).
        Self.expectClose(p, re: [3.5, -7.0, 0.0, -0.16999999999999998, 0.0, 20.99995, 0.40700000000000003, 0.0],
                         im: [-0.5, 0.5, -0.0, 0.010000000000000002, 0.0, 15.00007, -2799.999999, -0.0], 1e-15, "multiply")
        let s = try (x + y - x).scalars
        for i in s.indices {
            #expect(s[i].real == (Self.a[i].real + Self.b[i].real) - Self.a[i].real)
        }
        // Real operands promote with a +0 imaginary part: -0 + 0 is +0, as in NumPy.
        let negZero = ComplexTensor<Double>([Complex(1, -0.0)])
        #expect(try (negZero + 0.0).scalars[0].imaginary.sign == .plus)
        #expect(try (negZero + ComplexTensor(Tensor<Double>([0.0]))).scalars[0].imaginary.sign == .plus)
        #expect(try (0.5 * x + x / 4).scalars[1] == Complex(-3.5 * 0.5 + -3.5 / 4, 0.25 * 0.5 + 0.25 / 4))
        #expect(try (2 * x - x * 2).scalars.allSatisfy { $0.real == 0 || $0.real.isNaN })
        #expect(try (-x).scalars[0] == Complex(-1, -2))
        var acc = ComplexTensor<Double>.zeros([8])
        acc += x
        acc *= Complex(0, 1)          // a complex scalar
        acc *= 2                      // an integer literal: no ambiguity (2 + 0i, as NumPy promotes 2)
        acc *= 0.5 * 2                // a float literal: a real scalar
        #expect(try acc.scalars[0] == Complex(-4, 2))
        #expect(try (x .== x).scalars == [true, true, true, true, true, true, true, true])
        #expect(try (x .!= y).scalars.allSatisfy { $0 })
    }

    @Test("abs, angle, conj, exp, log and sqrt against NumPy")
    func functions() throws {
        let x = ComplexTensor(Self.a)
        let abs = try x.abs().scalars
        let npAbs: [Double] = [2.23606797749979, 3.50891721190455, 1.0, 0.223606797749979, 0.0, 8.602325267042627, 400.00000000124993, 2.5]
        #expect(zip(abs, npAbs).allSatisfy { Self.close($0, $1, 2.3e-16) }, "\(abs)")
        // Edges: no overflow or underflow in between, infinity beside a NaN (NumPy's values).
        let edges = try ComplexTensor<Double>([Complex(.infinity, .nan), Complex(.nan, 1), Complex(1e300, 1e300), Complex(1e-300, 1e-300),
                                               Complex(0, 0), Complex(.infinity, .infinity), Complex(-3, 4), Complex(-.infinity, 2),
                                               Complex(5e-324, 0)]).abs().scalars
        let npEdges: [Double] = [.infinity, .nan, 1.4142135623730952e+300, 1.4142135623730952e-300, 0, .infinity, 5, .infinity, 5e-324]
        #expect(zip(edges, npEdges).allSatisfy { Self.close($0, $1, 2.3e-16) }, "\(edges)")
        let angle = try x.angle().scalars
        let npAngle: [Double] = [1.1071487177940904, 3.070285188804503, -1.5707963267948966, 1.1071487177940904, 0.0, -0.9505468408120752, -1.5707938267948967, 0.0]
        #expect(angle.map(\.bitPattern) == npAngle.map(\.bitPattern), "\(angle)")
        #expect(try x.conj().scalars.map(\.imaginary) == Self.a.map { -$0.imaginary })
        Self.expectClose(try x.exp().scalars,
                         re: [-1.1312043837568135, 0.029258619901043496, 0.5403023058681398, 1.0831410796080632, 1.0, 111.88901522164403, -0.5258218977169191, 12.182493960703473],
                         im: [2.4717266720048188, 0.007470952217808493, -0.8414709848078965, 0.21956356670825236, 0.0, -97.5054566039123, 0.8517707046003509, 0.0],
                         1e-15, "exp")
        Self.expectClose(try x.log().scalars,
                         re: [0.8047189562170503, 1.2553075032491037, 0.0, -1.4978661367769954, -.infinity, 2.1520325466020847, 5.991464547111107, 0.9162907318741551],
                         im: npAngle, 1e-15, "log")
        Self.expectClose(try x.sqrt().scalars,
                         re: [1.272019649514069, 0.0667727935036041, 0.7071067811865476, 0.40224793209535525, 0.0, 2.60790387735463, 14.142153301411527, 1.5811388300841898],
                         im: [0.7861513777574233, 1.8720199266974362, -0.7071067811865476, 0.2486028939392892, 0.0, -1.342074004487574, -14.14211794607247, 0.0],
                         4.5e-16, "sqrt")
        // The branch cut: the imaginary part's sign, -0 included, picks the side.
        let cut = try ComplexTensor<Double>([Complex(-4, -0.0), Complex(-4, 0), Complex(0, -0.0), Complex(3, 4), Complex(-3, -4)]).sqrt().scalars
        #expect(cut.map(\.real) == [0, 0, 0, 2, 1])
        #expect(cut.map(\.imaginary).map(\.bitPattern) == [-2.0, 2, -0.0, 1, -2].map(\.bitPattern))
    }

    @Test("sum, mean along axes and the matrix product against NumPy")
    func reductionsAndProducts() throws {
        let x = ComplexTensor(Self.a)
        Self.expectClose([try x.sum().item()], re: [5.101], im: [-405.55], 1e-15, "sum")
        Self.expectClose([try x.mean().item()], re: [0.637625], im: [-50.69375], 1e-15, "mean")
        let m = x.reshaped([2, 4]), n = ComplexTensor(Self.b).reshaped([4, 2])
        Self.expectClose(try m.mean(axis: 0).scalars, re: [0.5, 0.75, 0.0005, 1.3], im: [1.0, -3.375, -200.5, 0.1], 1e-15, "mean(axis: 0)")
        let p = m.matmul(n)
        #expect(p.shape == [2, 2])
        Self.expectClose(try p.scalars, re: [5.1998, 5.875, 417.501, 1203.3999999900002],
                         im: [-0.09989999999999988, 1.4750100000000002, -399.9965, 5.607], 1e-13, "matmul")
        // With a real matrix: the same as a complex one with zero imaginary parts.
        let real = Tensor<Double>.uniform([4, 3], seed: 9)
        // Real tensors promote explicitly.
        #expect(try (m * ComplexTensor(Tensor<Double>([1, 2, 3, 4]))).scalars[1] == Self.a[1] * 2)
        Self.expectClose(try m.matmul(real).scalars, re: try m.matmul(ComplexTensor(real)).scalars.map(\.real),
                         im: try m.matmul(ComplexTensor(real)).scalars.map(\.imaginary), 1e-15, "matmul with a real matrix")
        #expect(try m.sum(axis: 1, keepDims: true).shape == [2, 1])
        // Variance and std of complex values (NumPy: the mean of |z - mean|²), running sums.
        let npVar = 17442.063707921872, npStd = 132.0684054114453, npVar1 = 19933.787094767853
        let (variance, std) = (try x.variance().item(), try x.std().item())
        #expect(Self.close(variance, npVar, 1e-13) && Self.close(std, npStd, 1e-13))
        #expect(Self.close(try x.variance(ddof: 1).item(), npVar1, 1e-13))
        #expect(zip(try m.variance(axis: 0).scalars, [1.25, 31.203125, 39800.25000025, 1.45]).allSatisfy { Self.close($0, $1, 1e-13) })
        Self.expectClose(try x.cumsum().scalars, re: [1.0, -2.5, -2.5, -2.4, -2.4, 2.6, 2.601, 5.101],
                         im: [2.0, 2.25, 1.25, 1.45, 1.45, -5.55, -405.55, -405.55], 1e-15, "cumsum")
        let specials = ComplexTensor<Double>([Complex(.nan, 0), Complex(1, .infinity), Complex(2, 3)])
        #expect(try specials.isNaN().scalars == [true, false, false])
        #expect(try specials.isInfinite().scalars == [false, true, false])
        #expect(try specials.isFinite().scalars == [false, false, true])
    }

    @Test("views and writes act on both parts; a complex program is one kernel")
    func viewsAndFusion() throws {
        var field = ComplexTensor<Double>.zeros([4, 5])
        field[1, .all] = ComplexTensor(Complex(1.0, -1.0))
        field[.all, 0] = ComplexTensor(real: Tensor<Double>.arange(4), imaginary: Tensor<Double>(2.0))
        let v = try field.scalars
        #expect(v[5 + 3] == Complex(1, -1))
        #expect(v[2 * 5] == Complex(2, 2))
        #expect(field.transposed.shape == [5, 4])
        #expect(try field.transposed[0].scalars.map(\.real) == [0, 1, 2, 3])
        #expect(field.reshaped([20]).expandingDims(at: 0).squeezed().shape == [20])
        #expect(try ComplexTensor<Float>(field).scalars[8] == Complex<Float>(1, -1))
        // Mandelbrot-style steps: both parts in one kernel, no intermediate stored.
        let c = ComplexTensor(real: Tensor<Double>.linspace(-2, 0.5, count: 64), imaginary: Tensor<Double>(0.3))
        var z = ComplexTensor<Double>.zeros([64])
        for _ in 0..<3 { z = z * z + c }
        // The imaginary part adds no kernel of its own: it is computed beside the real one.
        #expect(Tandem.plan(z.real, z.imaginary).kernels.count == Tandem.plan(z.real).kernels.count)
        #expect(Tandem.plan(z).kernels.count == Tandem.plan(z.real).kernels.count && !Tandem.kernelIR(z).isEmpty)
        #expect(Tandem.plan(z.abs() .> 2).kernels.count == Tandem.plan(z.real).kernels.count)
        let polar = ComplexTensor.polar(magnitude: Tensor<Double>([2.0]), phase: Tensor<Double>([Double.pi / 2]))
        let unit = try polar.item()
        #expect(Swift.abs(unit.real) < 1e-15 && unit.imaginary == 2)
        #expect(try select(Tensor<Bool>([true, false]), ComplexTensor<Double>.ones([2]), ComplexTensor.zeros([2])).scalars
                == [Complex(1, 0), Complex(0, 0)])
        #expect(try `where`(Tensor<Bool>([false, true]), ComplexTensor(real: Tensor<Double>([1, 2]), imaginary: Tensor<Double>([3, 4])),
                            ComplexTensor<Double>.zeros([2])).scalars == [Complex(0, 0), Complex(2, 4)])
    }

    @Test("flush and wait take complex tensors beside real ones; the description writes NumPy's j")
    func syncsAndText() throws {
        let z = ComplexTensor(real: Tensor<Double>([1, 3]), imaginary: Tensor<Double>([2, -4])) * 2
        let x = Tensor<Double>([1, 2]) + 1
        try Tandem.flush(z, x)
        try Tandem.wait([z, x])
        #expect(z.description == "[2.0+4.0j 6.0-8.0j]")
        #expect(ComplexTensor<Double>([Complex(0, -0.0)]).description == "[0.0-0.0j]")
        #expect(ComplexTensor<Double>.zeros([2, 2]).description == "[[0.0+0.0j 0.0+0.0j]\n [0.0+0.0j 0.0+0.0j]]")
    }

    @Test("every CPU placement gives the same bits (arithmetic, abs, sqrt); libm's functions as the README says; OpenCL within 1e-12")
    func placements() throws {
        func bits(_ v: [Complex<Double>]) -> [UInt64] { v.flatMap { [$0.rawStorage.x.bitPattern, $0.rawStorage.y.bitPattern] } }
        let c = ComplexTensor(real: Tensor<Double>.uniform([3000], seed: 4, in: -2...1), imaginary: Tensor<Double>.uniform([3000], seed: 5, in: -1...1))
        // Arithmetic, division, abs and sqrt: correctly rounded everywhere, so the same bits.
        func arithmetic() -> ComplexTensor<Double> {
            var z = ComplexTensor<Double>.zeros([3000])
            for _ in 0..<8 { z = z * z + c }
            return (z / (c + Complex(0.5, 0.25))).sqrt() + ComplexTensor(z.abs()) + z.sum()
        }
        let exact = try PlacementBitwiseTests.placements.map { p in try Tandem.withDevice(p) { bits(try arithmetic().scalars) } }
        for (p, r) in zip(PlacementBitwiseTests.placements.dropFirst(), exact.dropFirst()) {
            #expect(r == exact[0], "\(p) differs from the interpreter")
        }
        // exp (Tandem's own), cos, sin and log (libm in the interpreter, libmvec compiled): one
        // and all workers agree bit for bit, the interpreter to within an ulp or so.
        func transcendental() -> ComplexTensor<Double> { (c * 3).exp() + (c + 3).log() }
        let results = try PlacementBitwiseTests.placements.map { p in try Tandem.withDevice(p) { try transcendental().scalars } }
        #expect(bits(results[1]) == bits(results[2]), "cpu-1 and cpu differ")
        /// Each part within `tolerance` of the larger magnitude (a part near zero beside a large
        /// one, cos near π/2, is compared to the number's size, not its own).
        func near(_ a: [Complex<Double>], _ b: [Complex<Double>], _ tolerance: Double) -> Bool {
            zip(a, b).allSatisfy { x, y in
                let (p, q) = (x.rawStorage, y.rawStorage)
                let scale = Swift.max(1, Swift.abs(q.x), Swift.abs(q.y))
                return Swift.abs(p.x - q.x) <= tolerance * scale && Swift.abs(p.y - q.y) <= tolerance * scale
            }
        }
        let agree = near(results[0], results[1], 1e-15)
        #expect(agree, "the interpreter and compiled code differ by more than 1e-15 of the magnitude")
        guard openCLAvailable else { return }
        let cl = try Tandem.withDevice(.opencl) { (try arithmetic().scalars, try transcendental().scalars) }
        let clAgrees = near(cl.0, try arithmetic().scalars, 1e-12) && near(cl.1, results[0], 1e-12)
        #expect(clAgrees, "OpenCL differs from the CPU by more than 1e-12")
    }

    // MARK: - .npy and .npz

    /// `np.array([[1.5-2j, -0.0+3.25j], [np.inf+1e-300j, 0.1-0.2j]])`: '<c16', C order (Python's
    /// `-0.0+3.25j` has a +0 real part).
    static let c16 = NPYFixtures.hex("""
        934e554d5059010076007b276465736372273a20273c633136272c2027666f727472616e5f6f72646572273a2046616c
        73652c20277368617065273a2028322c2032292c207d2020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200a000000000000f83f00000000000000c0
        00000000000000000000000000000a40000000000000f07f59f3f8c21f6ea5019a9999999999b93f9a9999999999c9bf
        """)
    /// `np.asfortranarray(np.array([[1+2j, 3-4j, 5.5+0j], [-1-1j, 0.25j, 7+8j]]).astype('>c8'))`.
    static let c8BigFortran = NPYFixtures.hex("""
        934e554d5059010076007b276465736372273a20273e6338272c2027666f727472616e5f6f72646572273a2054727565
        2c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020
        202020202020202020202020202020202020202020202020202020202020200a3f80000040000000bf800000bf800000
        40400000c0800000000000003e80000040b000000000000040e0000041000000
        """)
    /// `np.savez(f, z=np.array([1+1j, -2.5+0.5j]), r=np.array([1.0, 2.0]))`.
    static let npz = NPYFixtures.hex("""
        504b03042d000000000000002100a9241a3affffffffffffffff050014007a2e6e707901001000a000000000000000a0
        00000000000000934e554d5059010076007b276465736372273a20273c633136272c2027666f727472616e5f6f726465
        72273a2046616c73652c20277368617065273a2028322c292c207d202020202020202020202020202020202020202020
        20202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f03f00
        0000000000f03f00000000000004c0000000000000e03f504b03042d000000000000002100645baabfffffffffffffff
        ff05001400722e6e70790100100090000000000000009000000000000000934e554d5059010076007b27646573637227
        3a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c20
        7d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020
        202020202020202020202020200a000000000000f03f0000000000000040504b01022d032d000000000000002100a924
        1a3aa0000000a00000000500000000000000000000008001000000007a2e6e7079504b01022d032d0000000000000021
        00645baabf90000000900000000500000000000000000000008001d7000000722e6e7079504b05060000000002000200
        660000009e0100000000
        """)

    @Test(".npy files NumPy wrote load as complex tensors; saving gives NumPy's bytes; mismatches are clear errors")
    func npy() throws {
        let z = try ComplexTensor<Double>(npyBytes: Self.c16, path: "c16.npy", converting: false)
        #expect(z.shape == [2, 2])
        let v = try z.scalars
        #expect(v[0] == Complex(1.5, -2) && v[1] == Complex(0, 3.25) && v[3] == Complex(0.1, -0.2))
        #expect(v[2].rawStorage.x == .infinity && v[2].rawStorage.y == 1e-300)
        #expect(try z.real.scalars[2] == .infinity)
        let f = try ComplexTensor<Float>(npyBytes: Self.c8BigFortran, path: "c8.npy", converting: false)
        #expect(f.shape == [2, 3])
        #expect(try f.scalars == [Complex(1, 2), Complex(3, -4), Complex(5.5, 0), Complex(-1, -1), Complex(0, 0.25), Complex(7, 8)])
        // Saved, the same tensor is NumPy's file byte for byte.
        let folder = TestScratch.path("complex-npy")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try z.save(npy: folder + "/z.npy")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/z.npy"))) == Self.c16)
        try f.save(npy: folder + "/f.npy")
        #expect(try ComplexTensor<Float>(npy: folder + "/f.npy").scalars == f.scalars)
        // Precision and realness are converted only when asked.
        #expect(throws: NPYError.complexMismatch(path: "c8.npy", file: "complex64", requested: "complex128")) {
            try ComplexTensor<Double>(npyBytes: Self.c8BigFortran, path: "c8.npy", converting: false)
        }
        #expect(try ComplexTensor<Double>(npyBytes: Self.c8BigFortran, path: "c8.npy", converting: true).scalars[1] == Complex(3, -4))
        #expect(throws: NPYError.complexMismatch(path: "c16.npy", file: "complex128", requested: "float64")) {
            try Tensor<Double>(npyBytes: Self.c16, path: "c16.npy", converting: true)
        }
        #expect(throws: NPYError.complexMismatch(path: "f8.npy", file: "float64", requested: "complex128")) {
            try ComplexTensor<Double>(npyBytes: NPYFixtures.f8C, path: "f8.npy", converting: false)
        }
        let promoted = try ComplexTensor<Double>(npyBytes: NPYFixtures.f8C, path: "f8.npy", converting: true).scalars
        #expect(promoted[1] == Complex(-2.25, 0))
        // Truncated inside the data: an error, nothing made.
        #expect(throws: NPYError.self) { try ComplexTensor<Double>(npyBytes: Array(Self.c16.dropLast(8)), path: "cut.npy", converting: false) }
        #expect(NPYError.complexMismatch(path: "c16.npy", file: "complex128", requested: "float64").description.contains("ComplexTensor<Double>(npy:)"))
    }

    @Test(".npz members: complex ones read as complex tensors, real ones refused unless converting")
    func npz() throws {
        let archive = try NPZFile(bytes: Self.npz, path: "run.npz", zlib: { Zlib.shared })
        #expect(archive.isComplex("z") == true && archive.isComplex("r") == false && archive.isComplex("q") == nil)
        #expect(try archive.complexTensor("z", as: Double.self).scalars == [Complex(1, 1), Complex(-2.5, 0.5)])
        #expect(throws: NPYError.self) { try archive.tensor("z", as: Double.self) }
        #expect(throws: NPYError.self) { try archive.complexTensor("r", as: Double.self) }
        #expect(try archive.complexTensor("r", as: Double.self, converting: true).scalars == [Complex(1, 0), Complex(2, 0)])
        // Saved beside a real tensor (members in name order, where NumPy keeps the dict's), a
        // complex one reads back as it was.
        let folder = TestScratch.path("complex-npz")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Tandem.savez(folder + "/run.npz", ["z": try archive.complexTensor("z", as: Double.self), "r": try archive.tensor("r", as: Double.self)])
        let again = try NPZFile(folder + "/run.npz")
        #expect(again.names == ["r", "z"] && again.isComplex("z") == true)
        #expect(try again.complexTensor("z", as: Double.self).scalars == [Complex(1, 1), Complex(-2.5, 0.5)])
        #expect(try again.tensor("r", as: Double.self).scalars == [1, 2])
        let single = ComplexTensor<Float>([Complex(1, -1), Complex(0.5, 2)])
        try Tandem.savez(folder + "/f.npz", ["s": single], compressed: true)
        #expect(try NPZFile(folder + "/f.npz").complexTensor("s", as: Float.self).scalars == single.scalars)
    }
}
