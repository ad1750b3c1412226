import Foundation
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemBLAS

/// General eigen decompositions (`eig`, `eigvals`): NumPy 2.4's printed values for a fixed
/// matrix with two complex pairs, the defining identity A v = λ v on random matrices (also
/// stacked and float32), through LAPACK's `dgeev` where the machine has it and through Tandem's
/// own solver always, and the awkward cases: repeated eigenvalues, a rotation, NaN, 0 x 0.
@Suite("General eigen decompositions")
struct EigenTests {
    /// Row-major rows x rows, entries in -1...1 from a fixed generator.
    static func random(_ n: Int, seed: UInt64) -> [Double] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<(n * n)).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
    }

    /// max over j of |A v_j - λ_j v_j|, relative to the matrix's largest entry, and whether
    /// every vector has unit length.
    static func residual(_ a: [Double], n: Int, values: [Complex<Double>], vectors: [Complex<Double>]) -> (worst: Double, unit: Bool) {
        let scale = Swift.max(1, a.map(Swift.abs).max() ?? 0)
        var worst = 0.0, unit = true
        for j in 0..<n {
            var length = 0.0
            for i in 0..<n {
                var av = Complex<Double>.zero
                for k in 0..<n { av = av + Complex(a[i * n + k], 0) * vectors[k * n + j] }
                worst = Swift.max(worst, (av - values[j] * vectors[i * n + j]).length / scale)
                length += vectors[i * n + j].lengthSquared
            }
            if Swift.abs(length - 1) > 1e-10 { unit = false }
        }
        return (worst, unit)
    }

    @Test("eig: NumPy's values and vectors for a matrix with two complex pairs")
    func numpysValues() throws {
        let a = Tensor<Double>([4, -2, 1, 0, 3, 1, -1, 2, 0, 2, 5, -3, 1, 0, 2, 2], shape: [4, 4])
        let (values, vectors) = try a.eig()
        let w = try values.scalars, v = try vectors.scalars
        let expected: [Complex<Double>] = [Complex(2.4489367342730133, 2.8247742651554018), Complex(2.4489367342730133, -2.8247742651554018),
                                           Complex(3.551063265726989, 1.2759278179360871), Complex(3.551063265726989, -1.2759278179360871)]
        // NumPy's rows of v (vectors in columns).
        let numpyV: [Complex<Double>] = [
            Complex(-0.2173881623248236, -0.5101653412411002), Complex(-0.2173881623248236, 0.5101653412411002),
            Complex(0.08687437086088534, 0.3809472695033261), Complex(0.08687437086088534, -0.3809472695033261),
            Complex(-0.7214453560744082, 0), Complex(-0.7214453560744082, 0),
            Complex(0.4783277344200195, 0.13023460851239035), Complex(0.4783277344200195, -0.13023460851239035),
            Complex(0.33539400774919675, 0.17722623376155813), Complex(0.33539400774919675, -0.17722623376155813),
            Complex(0.4315931541676412, 0.20029342037083575), Complex(0.4315931541676412, -0.20029342037083575),
            Complex(-0.02888509173160817, -0.16509900903500235), Complex(-0.02888509173160817, 0.16509900903500235),
            Complex(0.6125221969916682, 0), Complex(0.6125221969916682, 0)]
        if LAPACK.shared.decompositionRoutines.contains("dgeev") {
            // NumPy's routine: the same order, and the same vectors up to their sign.
            for j in 0..<4 { #expect((w[j] - expected[j]).length < 1e-12, "value \(j): \(w[j])") }
            for j in 0..<4 {
                var dot = Complex<Double>.zero
                for i in 0..<4 { dot = dot + v[i * 4 + j].conjugate * numpyV[i * 4 + j] }
                #expect(Swift.abs(dot.length - 1) < 1e-12, "vector \(j): |<v, numpy>| = \(dot.length)")
            }
        }
        // Tandem's own: the same set of values (its order is its own), each vector right.
        let (ownValues, ownVectors) = try a.eigWithoutLibrary()
        let own = try ownValues.scalars
        for e in expected { #expect(own.contains { ($0 - e).length < 1e-12 }, "\(e) not among \(own)") }
        let (worst, unit) = Self.residual(try a.scalars, n: 4, values: own, vectors: try ownVectors.scalars)
        #expect(worst < 1e-12 && unit, "residual \(worst)")
        // The conjugate pair's vectors are conjugates, the positive imaginary part first, and
        // each vector's largest component is real.
        for (vals, vecs) in [(w, v), (own, try ownVectors.scalars)] {
            for j in stride(from: 0, to: 4, by: 2) {
                #expect(vals[j].imaginary > 0 && vals[j + 1] == vals[j].conjugate)
                for i in 0..<4 { #expect(vecs[i * 4 + j + 1] == vecs[i * 4 + j].conjugate) }
            }
            for j in 0..<4 {
                let column = (0..<4).map { vecs[$0 * 4 + j] }
                let largest = column.max { $0.lengthSquared < $1.lengthSquared }!
                #expect(largest.imaginary == 0, "vector \(j): largest component \(largest)")
            }
        }
    }

    @Test("eig: A v = λ v on random matrices of several sizes, both solvers; eigvals the same values; a stack; float32")
    func randomMatrices() throws {
        for (n, seed) in [(1, 1), (2, 2), (3, 3), (7, 4), (16, 5), (40, 6)] as [(Int, UInt64)] {
            let a = Self.random(n, seed: seed)
            let t = Tensor<Double>(a, shape: [n, n])
            for own in [false, true] {
                let (values, vectors) = own ? try t.eigWithoutLibrary() : try t.eig()
                #expect(values.shape == [n] && vectors.shape == [n, n])
                let (worst, unit) = Self.residual(a, n: n, values: try values.scalars, vectors: try vectors.scalars)
                #expect(worst < 1e-10 && unit, "n \(n) own \(own): residual \(worst)")
            }
            // The two solvers find the same values (as sets).
            let library = try t.eig().values.scalars, own = try t.eigWithoutLibrary().values.scalars
            for w in library { #expect(own.contains { ($0 - w).length < 1e-9 }, "n \(n): \(w) not among the own solver's") }
            let justValues = try t.eigvals().scalars
            #expect(justValues.count == n && zip(justValues, library).allSatisfy { ($0 - $1).length < 1e-12 })
        }
        // A stack of two: each matrix as alone.
        let first = Self.random(5, seed: 11), second = Self.random(5, seed: 12)
        let stacked = try Tensor<Double>(first + second, shape: [2, 5, 5]).eig()
        #expect(stacked.values.shape == [2, 5] && stacked.vectors.shape == [2, 5, 5])
        let alone = try Tensor<Double>(second, shape: [5, 5]).eig()
        #expect(Array(try stacked.values.scalars[5...]) == (try alone.values.scalars))
        #expect(Array(try stacked.vectors.scalars[25...]) == (try alone.vectors.scalars))
        // float32: computed in double, rounded back.
        let f = try Tensor<Float>(first.map(Float.init), shape: [5, 5]).eig()
        let d = try Tensor<Double>(first.map { Double(Float($0)) }, shape: [5, 5]).eig()
        for (x, y) in zip(try f.values.scalars, try d.values.scalars) {
            #expect(x == Complex(Float(y.real), Float(y.imaginary)))
        }
    }

    @Test("eig: a rotation, repeated eigenvalues with independent vectors, a symmetric matrix as eigh, NaN, 0 x 0")
    func awkwardCases() throws {
        for own in [false, true] {
            func eig(_ t: Tensor<Double>) throws -> (values: [Complex<Double>], vectors: [Complex<Double>]) {
                let r = own ? try t.eigWithoutLibrary() : try t.eig()
                return (try r.values.scalars, try r.vectors.scalars)
            }
            // A quarter turn: i and -i.
            let rotation = try eig(Tensor<Double>([0, -1, 1, 0], shape: [2, 2]))
            #expect((rotation.values[0] - Complex(0, 1)).length < 1e-15 && (rotation.values[1] - Complex(0, -1)).length < 1e-15,
                    "own \(own): \(rotation.values)")
            // A diagonal matrix with a repeated value: three independent unit vectors.
            let diagonal: [Double] = [2, 0, 0, 0, 5, 0, 0, 0, 2]
            let d = try eig(Tensor<Double>(diagonal, shape: [3, 3]))
            #expect(d.values.map(\.real).sorted() == [2, 2, 5] && d.values.allSatisfy { $0.imaginary == 0 })
            let (worst, unit) = Self.residual(diagonal, n: 3, values: d.values, vectors: d.vectors)
            #expect(worst < 1e-12 && unit)
            let m = d.vectors.map(\.real)          // real vectors: their determinant is not zero
            let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
            #expect(Swift.abs(det) > 0.5, "own \(own): vectors \(m) are not independent")
            // Defective matrices (Jordan blocks): fewer independent vectors than the multiplicity;
            // every vector returned is still one (up to the eigenvalues' own error, ~1e-8 here).
            for jordan in [[1, 1, 0, 1], [2, 1, 0, 0, 2, 1, 0, 0, 2]] as [[Double]] {
                let k = jordan.count == 4 ? 2 : 3
                let j = try eig(Tensor<Double>(jordan, shape: [k, k]))
                let (worst, unit) = Self.residual(jordan, n: k, values: j.values, vectors: j.vectors)
                #expect(worst < 1e-4 && unit, "own \(own), \(k) x \(k) Jordan block: residual \(worst), \(j.values)")
            }
            // A symmetric matrix: real values, those of eigvalsh.
            let s: [Double] = [2, 1, 0, 1, 3, 1, 0, 1, 4]
            let sym = try eig(Tensor<Double>(s, shape: [3, 3]))
            let expected = try Tensor<Double>(s, shape: [3, 3]).eigvalsh().scalars
            #expect(sym.values.allSatisfy { $0.imaginary == 0 })
            #expect(zip(sym.values.map(\.real).sorted(), expected).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
            // NaN or infinity: NumPy's message.
            #expect(throws: LinearAlgebraError.self) { _ = try eig(Tensor<Double>([1, .nan, 0, 1], shape: [2, 2])) }
            #expect(throws: LinearAlgebraError.self) { _ = try eig(Tensor<Double>([1, .infinity, 0, 1], shape: [2, 2])) }
            // 0 x 0 and 1 x 1.
            let empty = try eig(Tensor<Double>([], shape: [0, 0]))
            #expect(empty.values.isEmpty && empty.vectors.isEmpty)
            let single = try eig(Tensor<Double>([-3], shape: [1, 1]))
            #expect(single.values == [Complex(-3, 0)] && single.vectors == [Complex(1, 0)])
        }
    }
}
