import Testing
@testable import Tandem

/// Reductions computed in the epilogue of the kernel that reads them (`Planner.decideEpilogues`):
/// one kernel where a reduction and its elementwise consumer were two, the same bits as the two
/// kernels gave, on every placement.
@Suite("Reductions fused into their consumer's epilogue", .planned)
struct EpilogueFusionTests {
    static let placements: [DeviceChoice] = [.interpreter, .cpu1, .cpu]

    func kernels(_ t: any TensorParts) -> Int { Tandem.kernelIR(t).components(separatedBy: "// kernel ").count - 1 }

    /// `fused()` under every CPU placement, each from scratch, compared bit for bit with
    /// `apart()`, which reads the reduction before its consumer uses it; and on OpenCL where
    /// there is one, within 1e-5 relative (a sum's bits there depend on the kernel's width,
    /// README "OpenCL").
    func expectSameBits<T: TensorScalar & Equatable>(_ what: String, _ fused: () throws -> Tensor<T>, apart: () throws -> Tensor<T>,
                                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        for p in Self.placements {
            let (f, a) = try Tandem.withDevice(p) { (try fused().scalars, try apart().scalars) }
            #expect(f == a, "\(what) on \(p): fused and apart differ", sourceLocation: sourceLocation)
        }
        guard openCLAvailable else { return }
        let (f, a) = try Tandem.withDevice(.opencl) { (try Tensor<Double>(fused()).scalars, try Tensor<Double>(apart()).scalars) }
        let off = zip(f, a).filter { Swift.abs($0 - $1) > 1e-5 * Swift.max(1, Swift.abs($1)) }
        #expect(f.count == a.count && off.isEmpty, "\(what) on OpenCL: fused and apart differ at \(off.count) values, first \(off.first.map { "\($0)" } ?? "-")",
                sourceLocation: sourceLocation)
    }

    @Test("a mean, a norm, a scaled row sum plus a column: one kernel each")
    func oneKernel() throws {
        let x = Tensor<Double>.uniform([64, 32], seed: 1, in: 0...1)
        try x.flush()
        #expect(kernels(x.mean(axis: 1)) == 1)
        #expect(kernels((x * x).sum().sqrt()) == 1)
        #expect(kernels(x.sum(axis: 1) * 2 + x[.all, 0]) == 1)
        #expect(kernels(x.sum(axis: 1) / x.max(axis: 1)) == 1, "two reductions over the same axis share the kernel")
        // A reduction read by two consumers, or held by a tensor, keeps its kernel.
        let s = x.sum(axis: 1)
        #expect(kernels(s * 2) == 2)
    }

    @Test("fused and apart give the same bits", arguments: [[64, 32], [37, 1001], [300, 2], [5, 3, 129], [1, 300_001]])
    func sameBits(_ shape: [Int]) throws {
        let x = { Tensor<Double>.uniform(shape, seed: 34, in: -2...2) }
        let last = shape.count - 1
        try expectSameBits("mean over the last axis of \(shape)", { x().mean(axis: last) }, apart: {
            let s = x().sum(axis: last); try s.flush(); return s / Double(shape[last])
        })
        try expectSameBits("norm of \(shape)", { (x() * x()).sum().sqrt() }, apart: {
            let s = (x() * x()).sum(); try s.flush(); return s.sqrt()
        })
        try expectSameBits("f32 exp of a sum over axis 0 of \(shape)", { Tensor<Float>(x()).sum(axis: 0).exp() * 0.5 }, apart: {
            let s = Tensor<Float>(x()).sum(axis: 0); try s.flush(); return s.exp() * 0.5
        })
        try expectSameBits("int64 sum plus one of \(shape)", { Tensor<Int64>(x() * 1000).sum(axis: last) + 1 }, apart: {
            let s = Tensor<Int64>(x() * 1000).sum(axis: last); try s.flush(); return s + 1
        })
        try expectSameBits("argmax plus one of \(shape)", { x().argmax(axis: last) + 1 }, apart: {
            let s = x().argmax(axis: last); try s.flush(); return s + 1
        })
        try expectSameBits("a sum over a max of \(shape)", { x().sum(axis: last) / (x().max(axis: last).abs() + 1) }, apart: {
            let s = x().sum(axis: last), m = x().max(axis: last); try s.flush(); try m.flush(); return s / (m.abs() + 1)
        })
    }

    @Test("a reduction read both by its consumer and inside another reduction's source (log-sum-exp) keeps its kernel")
    func nested() throws {
        let logp = { Tensor<Float>.uniform([1000, 4], seed: 3, in: -5...0) }
        try expectSameBits("log-sum-exp", {
            let x = logp(), top = x.max(axis: 1)
            return top + (x - top[.all, .newAxis]).exp().sum(axis: 1).log()
        }, apart: {
            let x = logp(), top = x.max(axis: 1)
            try top.flush()
            let s = (x - top[.all, .newAxis]).exp().sum(axis: 1)
            try s.flush()
            return top + s.log()
        })
        // And a normalisation: each row divided by its own sum (the sum read through a broadcast).
        try expectSameBits("rows over their sums", {
            let x = logp().exp(); return (x / x.sum(axis: 1)[.all, .newAxis]).sum(axis: 1) + x.sum(axis: 1)
        }, apart: {
            let x = logp().exp(), s = x.sum(axis: 1); try s.flush()
            let t = (x / s[.all, .newAxis]).sum(axis: 1); try t.flush()
            return t + s
        })
    }

    @Test("reductions that share their terms (N-body's three force sums) stay one kernel")
    func sharedTerms() throws {
        let n = 64
        let x = Tensor<Double>.uniform([n], seed: 1, in: -1...1), y = Tensor<Double>.uniform([n], seed: 2, in: -1...1)
        let v = Tensor<Double>.uniform([n], seed: 3, in: -1...1)
        try Tandem.wait(x, y, v)
        func step() -> (Tensor<Double>, Tensor<Double>) {
            let dx = x[.newAxis, .all] - x[.all, .newAxis], dy = y[.newAxis, .all] - y[.all, .newAxis]
            let r2 = dx * dx + dy * dy + 0.01
            let w = 1 / (r2 * r2.sqrt())
            return (v + 0.1 * (dx * w).sum(axis: 1), v - 0.1 * (dy * w).sum(axis: 1))
        }
        let (a, b) = step()
        let ir = Tandem.kernelIR(a, b)
        let withSums = ir.components(separatedBy: "// kernel ").filter { $0.contains("reduce.sum") }
        #expect(withSums.count == 1 && withSums[0].contains("acc1"), "the two sums are not one kernel:\n\(ir)")
        try expectSameBits("two force sums", { let (a, b) = step(); return a * b }, apart: {
            let dx = x[.newAxis, .all] - x[.all, .newAxis], dy = y[.newAxis, .all] - y[.all, .newAxis]
            let r2 = dx * dx + dy * dy + 0.01
            let w = 1 / (r2 * r2.sqrt())
            let s1 = (dx * w).sum(axis: 1), s2 = (dy * w).sum(axis: 1)
            try Tandem.flush(s1, s2)
            return (v + 0.1 * s1) * (v - 0.1 * s2)
        })
    }

    @Test("an element updated in place from a dot product that reads the same array (lu's statement)")
    func elementUpdateInPlace() throws {
        let n = 12
        let a0 = (0..<n * n).map { Double(($0 * 7919) % 97) / 97 + ($0 % (n + 1) == 0 ? Double(n) : 0) }
        func swiftLU() -> [Double] {
            var a = a0
            for i in 0..<n {
                for j in 0..<i {
                    var s = 0.0
                    for k in 0..<j { s += a[i * n + k] * a[k * n + j] }
                    a[i * n + j] -= s
                    a[i * n + j] /= a[j * n + j]
                }
                for j in i..<n {
                    var s = 0.0
                    for k in 0..<i { s += a[i * n + k] * a[k * n + j] }
                    a[i * n + j] -= s
                }
            }
            return a
        }
        let want = swiftLU()
        var results: [[Double]] = []
        for p in Self.placements {
            let got = try Tandem.withDevice(p) { () -> [Double] in
                var A = Tensor<Double>(a0, shape: [n, n])
                for i in 0..<n {
                    for j in 0..<i {
                        A[i, j] -= A[i, ..<j].matmul(A[..<j, j])
                        A[i, j] /= A[j, j]
                    }
                    for j in i..<n { A[i, j] -= A[i, ..<i].matmul(A[..<i, j]) }
                }
                return try A.scalars
            }
            results.append(got)
            for (g, w) in zip(got, want) { #expect(Swift.abs(g - w) <= 1e-12 * Swift.max(1, Swift.abs(w)), "lu on \(p)") }
        }
        #expect(results.allSatisfy { $0 == results[0] }, "lu: placements differ")
        // One kernel a statement: the dot product in the update's epilogue.
        var A = Tensor<Double>(a0, shape: [n, n])
        try A.flush()
        A[5, 3] -= A[5, ..<3].matmul(A[..<3, 3])
        #expect(kernels(A) == 1)
    }

    @Test("the last column written from sums of the same array's columns is not fused (earlier points' writes would land first)")
    func inPlaceHazard() throws {
        let n = 40
        let a0 = (0..<n * n).map { Double(($0 * 31) % 17) - 8 }
        var want = a0
        for j in 0..<n {
            var s = 0.0
            for i in 0..<n { s += a0[i * n + j] }
            want[j * n + n - 1] = s * 2
        }
        for p in Self.placements {
            let got = try Tandem.withDevice(p) { () -> [Double] in
                var A = Tensor<Double>(a0, shape: [n, n])
                A[.all, n - 1] = A.sum(axis: 0) * 2
                return try A.scalars
            }
            let wrong = got.indices.filter { got[$0] != want[$0] }
            #expect(wrong.isEmpty, "A[:, -1] = A.sum(axis: 0) * 2 on \(p): \(wrong.count) elements differ, first at \(wrong.first ?? -1)")
        }
    }

    @Test("a row written from a scaled row sum of another array, and a loop of row means")
    func rowWrites() throws {
        let x = Tensor<Double>.uniform([64, 32], seed: 5, in: -1...1)
        let xs = try x.scalars
        for p in Self.placements {
            let (rows, means) = try Tandem.withDevice(p) { () -> ([Double], [Double]) in
                var out = Tensor<Double>.zeros([4, 64])
                out[2, .all] = x.sum(axis: 1) * 0.5
                var r = Tensor<Double>.zeros([64])
                for i in 0..<64 { r[i] = x[i].mean() }
                return (try out[2].scalars, try r.scalars)
            }
            let sums = try x.sum(axis: 1).scalars
            #expect(rows == sums.map { $0 * 0.5 }, "row write on \(p)")
            for i in 0..<64 {
                let m = xs[i * 32..<(i + 1) * 32].reduce(0, +) / 32
                #expect(Swift.abs(means[i] - m) <= 1e-14, "row mean \(i) on \(p)")
            }
        }
    }
}
