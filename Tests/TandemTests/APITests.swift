import Testing
#if canImport(Glibc)
import Glibc
#endif
import Tandem

@Suite("API")
struct APITests {
    @Test func creation() throws {
        #expect(try Tensor<Int32>.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(try Tensor<Int64>.arange(10, 0, step: -3).scalars == [10, 7, 4, 1])
        #expect(try Tensor<Double>.arange(0, 1, step: 0.25).scalars == [0, 0.25, 0.5, 0.75])
        #expect(try Tensor<Double>.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(try Tensor<Float>.linspace(-1, 2, count: 7).scalars.last == 2)
        #expect(try Tensor<Double>.full([2, 2], 2.5).scalars == [2.5, 2.5, 2.5, 2.5])
        #expect(try Tensor<Bool>.ones([3]).scalars == [true, true, true])
        #expect(Tensor<Float>([1, 2, 3, 4, 5, 6], shape: [2, 3]).shape == [2, 3])
    }

    @Test("uniform is bit-identical to reference.py's SplitMix64 generator")
    func uniformMatchesReference() throws {
        // python3 reference.py: uniform(1, 5, -1.0, 1.0)
        let want: [Double] = [0.532603514678172, -0.7479379591580257, 0.401862483741414, 0.26575252154132056, -0.2274896506457802]
        #expect(try Tensor<Double>.uniform([5], seed: 1, in: -1...1).scalars == want)
        let f = try Tensor<Float>.uniform([5], seed: 1, in: -1...1).scalars
        #expect(f == want.map { Float($0) })
        // Element i does not depend on the shape or on which elements are computed.
        let big = try Tensor<Double>.uniform([1000, 3], seed: 1, in: -1...1)[0, .all].scalars
        #expect(big == Array(want.prefix(3)))
        let tail = try Tensor<Double>.uniform([1000], seed: 1, in: -1...1)[stride(from: 1, to: 5, by: 3)].scalars
        #expect(tail == [want[1], want[4]])
    }

    @Test func stridedAndReversedViews() throws {
        let m = Tensor<Int64>.arange(0, 12).reshaped([3, 4])
        #expect(try m[1].scalars == [4, 5, 6, 7])
        #expect(try m[.all, 2].scalars == [2, 6, 10])
        #expect(try m[.ellipsis, 3].scalars == [3, 7, 11])
        #expect(try m[1, .ellipsis].scalars == [4, 5, 6, 7])
        #expect(try m[stride(from: 0, to: 3, by: 2), stride(from: 3, to: -1, by: -2)].scalars == [3, 1, 11, 9])
        #expect(try m[stride(from: 2, through: 0, by: -1), 0].scalars == [8, 4, 0])
        #expect(try m[1..., ..<2].scalars == [4, 5, 8, 9])
        #expect(try m[0...1, 2...].scalars == [2, 3, 6, 7])
        #expect(try m.transposed.scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(m[.newAxis, 0, .all].shape == [1, 4])
        #expect(try m[-1].scalars == [8, 9, 10, 11])
        #expect(try Tensor<Int64>.arange(0, 3).broadcast(to: [2, 3]).scalars == [0, 1, 2, 0, 1, 2])
        #expect(try m.transposed.reshaped([12]).scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(m.expandingDims(at: 1).shape == [3, 1, 4])
    }

    @Test func writesIntoViews() throws {
        var g = Tensor<Double>.zeros([3, 4])
        g[0, .ellipsis] = Tensor(1.0)
        g[.all, 3] = Tensor([7, 8, 9])
        g[stride(from: 1, to: 3, by: 1), stride(from: 0, to: 3, by: 2)] = Tensor([5, 6], shape: [2, 1])
        #expect(try g.scalars == [1, 1, 1, 7, 5, 0, 5, 8, 6, 0, 6, 9])
        var h = g
        h += 1
        #expect(try g[0, 0].item() == 1)
        #expect(try h[0, 0].item() == 2)
    }

    @Test func reductions() throws {
        let m = Tensor<Double>([1, 5, 3, 4, 2, 6], shape: [2, 3])
        #expect(try m.sum().item() == 21)
        #expect(try m.sum(axis: 0).scalars == [5, 7, 9])
        #expect(m.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(try m.sum(axis: 1, keepDims: true).scalars == [9, 12])
        #expect(try m.max(axis: 1).scalars == [5, 6])
        #expect(try m.min().item() == 1)
        #expect(try m.prod(axis: 0).scalars == [4, 10, 18])
        #expect(try m.mean(axis: 1).scalars == [3, 4])
        #expect(try m.argmax(axis: 1).scalars == [1, 2])
        #expect(try m.argmin(axis: 0).scalars == [0, 1, 0])
        #expect(try m.sum(axes: [0, 1]).item() == 21)
        let withNaN = Tensor<Double>([1, .nan, 3])
        #expect(try withNaN.max().item().isNaN)
        #expect(try withNaN.argmax(axis: 0).item() == 1)
        #expect(try Tensor<Int32>([1, 2, 3]).sum().item() == 6)
        #expect(try Tensor<Float>.uniform([100_000], seed: 3).sum().item() > 49_000)
    }

    @Test func elementwiseSemantics() throws {
        let a = Tensor<Int32>([7, -7, 5, Int32.min])
        let b = Tensor<Int32>([2, 2, 0, -1])
        #expect(try (a / b).scalars == [3, -3, 0, Int32.min])   // truncating; x/0 = 0; wraps
        #expect(try (a % b).scalars == [1, -1, 0, 0])
        #expect(try (-a).scalars == [-7, 7, -5, Int32.min])
        #expect(try pow(Tensor<Int64>([2, 3, 1]), Tensor<Int64>([10, 2, -1])).scalars == [1024, 9, 1])
        let x = Tensor<Double>([-1.5, 0, 2.25])
        #expect(try x.abs().scalars == [1.5, 0, 2.25])
        #expect(try (x.floor()).scalars == [-2, 0, 2])
        #expect(try (x.ceil()).scalars == [-1, 0, 3])
        #expect(try Tensor<Double>([4, 9]).sqrt().scalars == [2, 3])
        #expect(try max(x, Tensor(0.0)).scalars == [0, 0, 2.25])
        #expect(try (2.0 - x).scalars == [3.5, 2, -0.25])
        #expect(try `where`(x .> 0, x, -x).scalars == [1.5, 0, 2.25])
        #expect(try ((x .> -1) .& (x .< 1)).scalars == [false, true, false])
        #expect(try (.!(x .== 0) .| (x .>= 2)).scalars == [true, false, true])
        #expect(try Tensor<Int32>(Tensor<Double>([2.9, -2.9, .nan, 1e20])).scalars == [2, -2, 0, Int32.max])
        #expect(try Tensor<Double>(Tensor<Bool>([true, false])).scalars == [1, 0])
        #expect(try (Tensor<Double>([0.5]).erf() + Tensor<Double>([0.5]).erfc()).item() == 1)
    }

    @Test("compiled erf and erfc (Cody's approximations, float and double) agree with libm across the range")
    func erfAccuracy() throws {
        let n = 36_001
        let xs = (0..<n).map { -9 + 18 * Double($0) / Double(n - 1) }
        let x64 = Tensor<Double>(xs), x32 = Tensor<Float>(xs.map { Float($0) })
        let (e64, c64, e32, c32) = try Tandem.withDevice(.cpu) {
            (try x64.erf().scalars, try x64.erfc().scalars, try x32.erf().scalars, try x32.erfc().scalars)
        }
        var worst = (erf64: 0.0, erfc64: 0.0, erf32: 0.0, erfc32: 0.0)
        for i in 0..<n {
            let x = xs[i], xf = Double(Float(xs[i]))
            worst.erf64 = Swift.max(worst.erf64, Swift.abs(e64[i] - Glibc.erf(x)))
            worst.erfc64 = Swift.max(worst.erfc64, Swift.abs(c64[i] - Glibc.erfc(x)) / Glibc.erfc(x))
            worst.erf32 = Swift.max(worst.erf32, Swift.abs(Double(e32[i]) - Glibc.erf(xf)))
            if Glibc.erfc(xf) > 1e-30 {
                worst.erfc32 = Swift.max(worst.erfc32, Swift.abs(Double(c32[i]) - Glibc.erfc(xf)) / Glibc.erfc(xf))
            }
        }
        #expect(worst.erf64 < 1e-15, "erf f64 absolute error \(worst.erf64)")
        #expect(worst.erfc64 < 1e-13, "erfc f64 relative error \(worst.erfc64)")
        #expect(worst.erf32 < 1e-6, "erf f32 absolute error \(worst.erf32)")
        #expect(worst.erfc32 < 2e-5, "erfc f32 relative error \(worst.erfc32)")
    }

    @Test("compiled exp (Tandem's own, float and double) is within 1 ulp of libm, subnormal results and the limits included")
    func expAccuracy() throws {
        let n = 200_001
        let xs = (0..<n).map { -750 + 1470 * Double($0) / Double(n - 1) } + [-2, -0.5, 0, 1e-300, 0.5, 2]
        let fs = (0..<n).map { Float(-110 + 205 * Double($0) / Double(n - 1)) } + [-1, 0, 1e-30, 1]
        let specials: [Double] = [.nan, .infinity, -.infinity, 709.78, 709.8, -745.1, -745.2, -1e308, 1e308]
        let (e64, e32, s64, s32) = try Tandem.withDevice(.cpu) {
            (try Tensor<Double>(xs).exp().scalars, try Tensor<Float>(fs).exp().scalars,
             try Tensor<Double>(specials).exp().scalars, try Tensor<Float>(specials.map { Float($0) }).exp().scalars)
        }
        var worst64: UInt64 = 0, worst32: UInt32 = 0
        for (x, got) in zip(xs, e64) {
            let want = Glibc.exp(x)
            worst64 = Swift.max(worst64, got.bitPattern > want.bitPattern ? got.bitPattern - want.bitPattern : want.bitPattern - got.bitPattern)
        }
        for (x, got) in zip(fs, e32) {
            let want = Glibc.expf(x)
            worst32 = Swift.max(worst32, got.bitPattern > want.bitPattern ? got.bitPattern - want.bitPattern : want.bitPattern - got.bitPattern)
        }
        #expect(worst64 <= 1, "exp f64: \(worst64) ulp from libm")
        #expect(worst32 <= 1, "exp f32: \(worst32) ulp from libm")
        #expect(s64[0].isNaN && s32[0].isNaN)
        // Either side of ln(2^-1075) and ln(2^-150), below which the polynomial is replaced by 0.
        let edges64: [Double] = [-0x1.74910d52d3053p+9, -0x1.74910d52d3052p+9, -0x1.74910d52d3051p+9, -0x1.74910d52d3050p+9]
        let edges32: [Float] = [-0x1.9fe36cp+6, -0x1.9fe36ap+6, -0x1.9fe368p+6, -0x1.9fe366p+6]
        let (g64, g32) = try Tandem.withDevice(.cpu) { (try Tensor<Double>(edges64).exp().scalars, try Tensor<Float>(edges32).exp().scalars) }
        for (x, got) in zip(edges64, g64) { #expect(got == Glibc.exp(x), "exp(\(x))") }
        for (x, got) in zip(edges32, g32) { #expect(got == Glibc.expf(x), "expf(\(x))") }
        #expect(g64[2] > 0 && g32[2] > 0, "the smallest subnormal, not 0")
        for i in 1..<specials.count {
            #expect(s64[i] == Glibc.exp(specials[i]), "exp(\(specials[i]))")
            #expect(s32[i] == Glibc.expf(Float(specials[i])), "expf(\(Float(specials[i])))")
        }
    }

    @Test func description() throws {
        #expect(Tensor<Int32>([1, 2, 3, 4], shape: [2, 2]).description == "[[1 2]\n [3 4]]")
        #expect(Tensor<Double>([1.5, -2]).description == "[ 1.5 -2.0]")
        #expect(Tensor<Int64>.arange(0, 5000).description.contains("..."))
    }

    @Test("several tasks build and read tensors at once")
    func concurrency() async throws {
        try await withThrowingTaskGroup(of: (Int, Double, Double).self) { group in
            for t in 0..<8 {
                group.addTask {
                    let x = Tensor<Double>.uniform([20_000], seed: UInt64(100 + t), in: 0...1)
                    var y = x * Double(t) + 1
                    y[0..<10] = Tensor(0.0)
                    let got = try (y * y).sum().item()
                    let xs = try x.scalars
                    var want = 0.0
                    for (i, v) in xs.enumerated() where i >= 10 { want += (v * Double(t) + 1) * (v * Double(t) + 1) }
                    return (t, got, want)
                }
            }
            for try await (t, got, want) in group {
                #expect(Swift.abs(got - want) <= 1e-9 * want, "task \(t)")
            }
        }
    }

    @Test("reductions are deterministic run to run")
    func deterministic() throws {
        let x = Tensor<Float>.uniform([3_000_000], seed: 9, in: -1...1)
        let a = try (x * x).sum().item(), b = try (x * x).sum().item()
        #expect(a == b)
    }
}
