import Testing
@testable import Tandem
import TandemBLAS
import TandemRuntime
import TandemCompiler
import _TandemTestSupport
import Foundation

/// Issue 16 point 1: matmul, dot, outer and einsum against a direct triple loop, on the
/// generated path and (when a BLAS is present) on the BLAS.
@Suite("Linear algebra", .planned)
struct LinearAlgebraTests {
    /// Row-major `a` (n × k) times `b` (k × m), added in order in Double.
    func naive(_ a: [Double], _ b: [Double], n: Int, k: Int, m: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * m)
        for i in 0..<n { for j in 0..<m { var s = 0.0; for l in 0..<k { s += a[i * k + l] * b[l * m + j] }; c[i * m + j] = s } }
        return c
    }

    func close(_ x: [Double], _ y: [Double], _ tol: Double = 1e-12) -> Bool {
        x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= tol * Swift.max(1, abs($1)) }
    }

    @Test("matmul of vectors, matrices and broadcast batches (generated path)")
    func matmulShapes() throws {
        let a = Tensor<Double>.uniform([3, 4], seed: 1, in: -1...1), b = Tensor<Double>.uniform([4, 5], seed: 2, in: -1...1)
        let (as_, bs) = (try a.scalars, try b.scalars)
        #expect(close(try a.matmul(b).scalars, naive(as_, bs, n: 3, k: 4, m: 5)))
        #expect(a.matmul(b).shape == [3, 5])
        let v = Tensor<Double>([1, 2, 3, 4])
        #expect(a.matmul(v).shape == [3])
        #expect(close(try a.matmul(v).scalars, naive(as_, [1, 2, 3, 4], n: 3, k: 4, m: 1)))
        #expect(v.matmul(b).shape == [5])
        #expect(close(try v.matmul(b).scalars, naive([1, 2, 3, 4], bs, n: 1, k: 4, m: 5)))
        #expect(try v.matmul(v).item() == 30)
        // Batches broadcast: (2, 1, 3, 4) @ (5?, ...) — here (2, 3, 4) @ (4, 5) and (2, 3, 4) @ (2, 4, 5).
        let batch = Tensor<Double>.uniform([2, 3, 4], seed: 3, in: -1...1)
        let bb = Tensor<Double>.uniform([2, 4, 5], seed: 4, in: -1...1)
        let (xs, ys) = (try batch.scalars, try bb.scalars)
        let c1 = try batch.matmul(b).scalars
        let c2 = try batch.matmul(bb).scalars
        for p in 0..<2 {
            let ap = Array(xs[(p * 12)..<((p + 1) * 12)])
            #expect(close(Array(c1[(p * 15)..<((p + 1) * 15)]), naive(ap, bs, n: 3, k: 4, m: 5)))
            #expect(close(Array(c2[(p * 15)..<((p + 1) * 15)]), naive(ap, Array(ys[(p * 20)..<((p + 1) * 20)]), n: 3, k: 4, m: 5)))
        }
        #expect(Tensor<Double>.zeros([7, 1, 3, 4]).matmul(Tensor<Double>.zeros([2, 4, 6])).shape == [7, 2, 3, 6])
        // Integers are exact.
        let i = Tensor<Int64>.arange(0, 6).reshaped([2, 3])
        #expect(try i.matmul(i.transposed).scalars == [5, 14, 14, 50])
    }

    @Test("a matrix-vector product fuses with the expression computing its matrix (pending, so not the BLAS's)")
    func matvecFuses() throws {
        let x = Tensor<Double>.uniform([101, 7], seed: 5), w = Tensor<Double>([1, 2, 3, 4, 5, 6, 7])
        let p = (x * 2 + 1).matmul(w)
        let kernels = Tandem.plan(p).kernels
        #expect(kernels.count == 1)
        #expect(kernels[0].label.hasPrefix("sum("))
        let xs = try x.scalars
        var want = [Double](repeating: 0, count: 101)
        for i in 0..<101 {
            for j in 0..<7 {
                let v: Double = xs[i * 7 + j] * 2 + 1
                want[i] += v * Double(j + 1)
            }
        }
        #expect(zip(try p.scalars, want).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test("large products: BLAS when present, equal to the generated path and the triple loop")
    func largeProducts() throws {
        let n = 96, k = 80, m = 72  // 552,960 multiply-adds: over the BLAS threshold
        let a = Tensor<Double>.uniform([n, k], seed: 7, in: -1...1), b = Tensor<Double>.uniform([k, m], seed: 8, in: -1...1)
        let want = naive(try a.scalars, try b.scalars, n: n, k: k, m: m)
        let before = Tandem.statistics.blasCalls
        let c = try a.matmul(b).scalars
        #expect(close(c, want, 1e-12))
        if BLAS.shared.isAvailable && Tandem.runtime.deviceChoice == .auto {
            #expect(Tandem.statistics.blasCalls > before)
        }
        // An OpenBLAS was loaded with its idle threads' spin bounded (or the user's own bound).
        if case .available(let what) = BLAS.shared.availability, what.contains("OpenBLAS") {
            #expect(ProcessInfoLite.environment("OPENBLAS_THREAD_TIMEOUT") != nil)
        }
        // Forced onto the interpreter, the product is generated, and agrees.
        let g = try Tandem.withDevice(.interpreter) { try a.matmul(b).scalars }
        #expect(close(g, want, 1e-12))
        // Float and batches through the BLAS path; transposed operands.
        let af = Tensor<Float>(a), bf = Tensor<Float>(b)
        let cf = try af.matmul(bf).scalars
        #expect(zip(cf, want).allSatisfy { abs(Double($0) - $1) < 1e-4 })
        let stacked = Tensor.stack([a, a * 2])
        let cs = try stacked.matmul(b).scalars
        #expect(close(Array(cs[(n * m)...]), want.map { $0 * 2 }, 1e-12))
        let ct = try b.transposed.matmul(a.transposed).scalars   // (m × k)(k × n) = (ab)^T
        for i in 0..<m { for j in 0..<n { #expect(abs(ct[i * n + j] - want[j * m + i]) < 1e-12) } }
    }

    @Test("thin and matrix-vector products of stored operands: the BLAS when present (views passed where they lie), the triple loop's values")
    func thinProducts() throws {
        let n = 300, d = 10, k = 5
        // Stored operands (`Tensor(scalars, shape:)`), as a program's data usually is.
        let x = Tensor(try Tensor<Double>.uniform([n, d], seed: 21, in: -1...1).scalars, shape: [n, d])
        let w = Tensor(try Tensor<Double>.uniform([d, k], seed: 22, in: -1...1).scalars, shape: [d, k])
        let g = Tensor(try Tensor<Double>.uniform([n, k], seed: 23, in: -1...1).scalars, shape: [n, k])
        let v = Tensor(try Tensor<Double>.uniform([d], seed: 24, in: -1...1).scalars, shape: [d])
        let u = Tensor(try Tensor<Double>.uniform([n], seed: 25, in: -1...1).scalars, shape: [n])
        let (xs, ws, gs, vs, us) = (try x.scalars, try w.scalars, try g.scalars, try v.scalars, try u.scalars)
        let xt = (0..<(d * n)).map { xs[($0 % n) * d + $0 / n] }          // x transposed, row-major
        let before = Tandem.statistics.blasCalls
        #expect(close(try x.matmul(w).scalars, naive(xs, ws, n: n, k: d, m: k)))
        #expect(close(try x.transposed.matmul(g).scalars, naive(xt, gs, n: d, k: n, m: k)))
        #expect(close(try x.matmul(v).scalars, naive(xs, vs, n: n, k: d, m: 1)))
        #expect(close(try x.matmul(v.reshaped([d, 1])).scalars, naive(xs, vs, n: n, k: d, m: 1)))
        #expect(close(try u.matmul(x).scalars, naive(us, xs, n: 1, k: n, m: d)))
        #expect(close(try x.transposed.matmul(u).scalars, naive(xt, us, n: d, k: n, m: 1)))
        #expect(try x.matmul(v).shape == [n] && x.matmul(v.reshaped([d, 1])).shape == [n, 1] && u.matmul(x).shape == [d]
                && u.reshaped([1, n]).matmul(x).shape == [1, d])
        // A stepped view (no unit stride) is copied first; a reversed vector too.
        let every2 = x[stride(from: 0, to: n, by: 2)]
        let e2 = (0..<(n / 2 * d)).map { xs[($0 / d) * 2 * d + $0 % d] }
        #expect(close(try every2.matmul(w).scalars, naive(e2, ws, n: n / 2, k: d, m: k)))
        #expect(close(try x.matmul(v.flipped(axis: 0)).scalars, naive(xs, Array(vs.reversed()), n: n, k: d, m: 1)))
        // Float.
        let f = try Tensor<Float>(x).matmul(Tensor<Float>(w)).scalars
        #expect(zip(f, naive(xs, ws, n: n, k: d, m: k)).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        if BLAS.shared.isAvailable && Tandem.runtime.deviceChoice == .auto && !Tandem.runtime.hasAccelerator {
            #expect(Tandem.statistics.blasCalls >= before + 9)
        }
        // Elsewhere the products are generated, with the same values.
        let generated = try Tandem.withDevice(.interpreter) { (try x.matmul(w).scalars, try x.transposed.matmul(u).scalars) }
        #expect(close(generated.0, naive(xs, ws, n: n, k: d, m: k)) && close(generated.1, naive(xt, us, n: d, k: n, m: 1)))
    }

    @Test("the tiled product (no BLAS): odd sizes, depths past a panel, any split of its row blocks, against the triple loop",
          arguments: [(1, 1, 1), (5, 3, 7), (6, 256, 16), (7, 257, 17), (97, 300, 33), (200, 513, 95), (13, 0, 9)])
    func tiledKernel(_ size: (Int, Int, Int)) throws {
        let (n, k, m) = size
        let routine = try Tandem.shared.cpu.routine(source: TiledProduct.source(float32: false), weight: 400)
        var rng = SeededGenerator(seed: UInt64(n * 1_000_003 + k * 1_009 + m))
        let a = (0..<(n * k)).map { _ in Double(rng.next() % 2001) / 1000 - 1 }
        let b = (0..<(k * m)).map { _ in Double(rng.next() % 2001) / 1000 - 1 }
        let want = naive(a, b, n: n, k: k, m: m)
        let blocks = (n + TiledProduct.blockRows - 1) / TiledProduct.blockRows
        var results: [[Double]] = []
        for pieces in Set([1, 2, 3, blocks].filter { $0 >= 1 && $0 <= blocks }).sorted() {
            var c = [Double](repeating: .nan, count: n * m)       // every element must be written
            var a2 = a, b2 = b
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: TiledProduct.scratchCount(n: m) * 8, alignment: 64)
            defer { scratch.deallocate() }
            a2.withUnsafeMutableBytes { pa in b2.withUnsafeMutableBytes { pb in c.withUnsafeMutableBytes { pc in
                for p in 0..<pieces {
                    routine.call([pa.baseAddress, pb.baseAddress, pc.baseAddress, scratch],
                                 ints: [Int64(n), Int64(m), Int64(k), Int64(k), 1, Int64(m), 1, Int64(m)],
                                 lo: blocks * p / pieces, hi: blocks * (p + 1) / pieces)
                }
            } } }
            #expect(close(c, want, 1e-12), "\(n)x\(k)x\(m) in \(pieces) pieces")
            results.append(c)
        }
        // The same bits however the rows are split.
        for r in results.dropFirst() { #expect(r.elementsEqual(results[0]) { $0.bitPattern == $1.bitPattern }) }
        // Operands stored transposed (A as k x n, B as m x k), read through their strides: the
        // same packed panels, so the same bits.
        var at = (0..<(k * n)).map { a[($0 % n) * k + $0 / n] }, bt = (0..<(m * k)).map { b[($0 % k) * m + $0 / k] }
        var ct = [Double](repeating: .nan, count: n * m)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: TiledProduct.scratchCount(n: m) * 8, alignment: 64)
        defer { scratch.deallocate() }
        at.withUnsafeMutableBytes { pa in bt.withUnsafeMutableBytes { pb in ct.withUnsafeMutableBytes { pc in
            routine.call([pa.baseAddress, pb.baseAddress, pc.baseAddress, scratch],
                         ints: [Int64(n), Int64(m), Int64(k), 1, Int64(n), 1, Int64(k), Int64(m)], lo: 0, hi: blocks)
        } } }
        if let first = results.first { #expect(ct.elementsEqual(first) { $0.bitPattern == $1.bitPattern }, "\(n)x\(k)x\(m) transposed operands") }
    }

    @Test("without a BLAS, a large product takes the tiled kernel (its own process: TANDEM_BLAS is read once)")
    func tiledPathChosen() throws {
        let (status, output) = try CLITests().run(["matmul", "--n", "128", "--repeat", "2"], environment: ["TANDEM_BLAS=off"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("(tiled)"), "\(output)")
        let (status2, output2) = try CLITests().run(["matmul", "--n", "128", "--repeat", "2", "--float"], environment: ["TANDEM_BLAS=off"])
        #expect(status2 == 0 && output2.contains("(tiled)"), "\(output2)")
        // The generated reduction's value for c[0, 0] agrees with the tiled one.
        let (_, generated) = try CLITests().run(["matmul", "--n", "128", "--repeat", "1"], environment: ["TANDEM_BLAS=off", "TANDEM_DEVICE=interpreter"])
        func first(_ text: String) -> Double? {
            text.split(separator: "\n").first { $0.contains("first element ") }.flatMap { Double($0.components(separatedBy: "first element ")[1]) }
        }
        #expect(generated.contains("(generated)"), "\(generated)")
        if let x = first(output), let y = first(generated) { #expect(abs(x - y) < 1e-12 * Swift.max(1, abs(y))) } else { Issue.record("no first element in \(output) / \(generated)") }
    }

    @Test func dotAndOuter() throws {
        #expect(try Tensor<Double>([1, 2, 3]).dot(Tensor<Double>([4, 5, 6])).item() == 32)
        let m = Tensor<Int64>.arange(0, 6).reshaped([2, 3])
        #expect(try m.dot(Tensor<Int64>([1, 1, 1])).scalars == [3, 12])
        #expect(try dot(m, m.transposed).scalars == [5, 14, 14, 50])
        // N-D · M-D: dot(a, b)[i, j, k, m] = sum(a[i, j, :] * b[k, :, m])
        let a = Tensor<Int64>.arange(0, 12).reshaped([2, 2, 3]), b = Tensor<Int64>.arange(0, 12).reshaped([2, 3, 2])
        let d = a.dot(b)
        #expect(d.shape == [2, 2, 2, 2])
        let (av, bv, dv) = (try a.scalars, try b.scalars, try d.scalars)
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 { for mm in 0..<2 {
            let s = (0..<3).reduce(Int64(0)) { $0 + av[i * 6 + j * 3 + $1] * bv[k * 6 + $1 * 2 + mm] }
            #expect(dv[((i * 2 + j) * 2 + k) * 2 + mm] == s)
        } } } }
        #expect(try outer(Tensor<Int64>.arange(1, 4), Tensor<Int64>([10, 20])).scalars == [10, 20, 20, 40, 30, 60])
        // ufunc.outer: np.add.outer, np.maximum.outer, np.less.outer (shapes a.shape + b.shape).
        let u = Tensor<Double>([1, 2]), v = Tensor<Double>([10, 20, 30, 1.5], shape: [2, 2])
        let sums = outer(u, v, +)
        #expect(sums.shape == [2, 2, 2])
        #expect(try sums.scalars == [11, 21, 31, 2.5, 12, 22, 32, 3.5])
        #expect(try outer(u, v, Tensor.maximum).scalars == [10, 20, 30, 1.5, 10, 20, 30, 2])
        #expect(try outer(u, Tensor<Double>([1.5]), .<).scalars == [true, false])
    }

    @Test("einsum: products, traces, diagonals, transposes, implicit output, BLAS-sized contractions")
    func einsumForms() throws {
        let a = Tensor<Double>.uniform([3, 4], seed: 9), b = Tensor<Double>.uniform([4, 5], seed: 10)
        #expect(close(try einsum("ij,jk->ik", a, b).scalars, try a.matmul(b).scalars))
        #expect(close(try einsum("ij,jk", a, b).scalars, try a.matmul(b).scalars))  // implicit: ik
        #expect(try einsum("ij->ji", a).scalars == a.transposed.scalars)
        let s = Tensor<Int64>.arange(0, 9).reshaped([3, 3])
        #expect(try einsum("ii", s).item() == 12)
        #expect(try einsum("ii->i", s).scalars == [0, 4, 8])
        #expect(try einsum("ij->", s).item() == 36)
        #expect(try einsum("i,i", Tensor<Int64>([1, 2]), Tensor<Int64>([3, 4])).item() == 11)
        #expect(try einsum("i,j->ij", Tensor<Int64>([1, 2]), Tensor<Int64>([3, 4])).scalars == [3, 4, 6, 8])
        let x = Tensor<Double>.uniform([2, 3, 4], seed: 11), y = Tensor<Double>.uniform([2, 4, 5], seed: 12)
        #expect(close(try einsum("bij,bjk->bik", x, y).scalars, try x.matmul(y).scalars))
        // Large enough for the BLAS: a Gram matrix over a batch, and a transposed output.
        let big = Tensor<Double>.uniform([300, 64], seed: 13)
        let gram = try einsum("bi,bj->ij", big, big).scalars
        let want = try big.transposed.matmul(big).scalars
        #expect(close(gram, want, 1e-12))
        let z = Tensor<Double>.uniform([70, 90], seed: 14), w = Tensor<Double>.uniform([90, 80], seed: 15)
        #expect(close(try einsum("ij,jk->ki", z, w).scalars, try z.matmul(w).transposed.scalars, 1e-12))
    }
}
