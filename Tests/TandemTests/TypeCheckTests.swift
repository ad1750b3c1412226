import Testing
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemRuntime
import _TandemTestSupport

/// Issue 16 point 6: a NumPy-length stencil update written as one Swift expression type-checks,
/// and quickly. The function below is part of the test build (a regression fails the build);
/// the second test type-checks a longer one with `swiftc` against the built module and times it.
@Suite("Type checking")
struct TypeCheckTests {
    /// One step of a 2-D Burgers/momentum update: ten terms, views on both sides, scalars
    /// mixed in, exactly as a NumPy program writes it (`u[1:-1, 1:-1] - ...`).
    static func momentum(_ u: Tensor<Double>, _ v: Tensor<Double>, _ p: Tensor<Double>, n: Int) -> Tensor<Double> {
        let dt = 0.001, dx = 0.01, dy = 0.01, rho = 1.0, nu = 0.1
        let m = n - 1, k = n - 2
        return u[1..<m, 1..<m] - u[1..<m, 1..<m] * dt / dx * (u[1..<m, 1..<m] - u[1..<m, 0..<k])
            - v[1..<m, 1..<m] * dt / dy * (u[1..<m, 1..<m] - u[0..<k, 1..<m])
            - dt / (2 * rho * dx) * (p[1..<m, 2...] - p[1..<m, 0..<k])
            + nu * (dt / (dx * dx) * (u[1..<m, 2...] - 2 * u[1..<m, 1..<m] + u[1..<m, 0..<k])
                    + dt / (dy * dy) * (u[2..., 1..<m] - 2 * u[1..<m, 1..<m] + u[0..<k, 1..<m]))
    }

    /// NumPy's `np.where(cond, -1, 1)`: both values literals, the element type from the
    /// expression around them. Part of the test build: the overloads with a scalar on either
    /// side or both must leave the call unambiguous.
    static func signs(_ x: Tensor<Double>) -> Tensor<Double> {
        `where`(x .< 0.5, -1, 1) * x + `where`(x .> 0.25, 2, x) - select(x .> 0.75, 1.5, -0.5)
    }

    @Test("where with scalar literals on both sides computes NumPy's values in an expression")
    func whereLiteralValues() throws {
        // numpy.where(x < 0.5, -1, 1) * x + numpy.where(x > 0.25, 2, x) - numpy.where(x > 0.75, 1.5, -0.5)
        // for x = [0, 0.3, 0.6, 0.9]: [0.5, 2.2, 3.1, 1.4]
        let r = try TypeCheckTests.signs(Tensor([0, 0.3, 0.6, 0.9])).scalars
        let want = [0.5, 2.2, 3.1, 1.4]
        for (a, b) in zip(r, want) { #expect(abs(a - b) < 1e-15, "\(r)") }
        #expect(r.count == 4)
    }

    @Test("maximum and minimum with a scalar on either side, and the Double/Float scalar operators, compute NumPy's values")
    func scalarFormsValues() throws {
        let x = Tensor<Double>([-1, 0.5, .nan, 3])
        // numpy.maximum(x, 1e-12), numpy.minimum(2, x): NaN propagates.
        let hi = try Tensor.maximum(x, 1e-12).scalars, lo = try Tensor.minimum(2, x).scalars
        #expect(hi[0] == 1e-12 && hi[1] == 0.5 && hi[2].isNaN && hi[3] == 3)
        #expect(lo[0] == -1 && lo[1] == 0.5 && lo[2].isNaN && lo[3] == 2)
        #expect(try Tensor.maximum(Tensor<Int32>([1, 5]), 3).scalars == [3, 5])
        let f = Tensor<Float>([1, 2])
        #expect(try (2 - f * 0.5 / 4 + 1).scalars == [2.875, 2.75])
        #expect(try (1 / (x[..<2] + 2)).scalars == [1, 0.4])
    }

    @Test("the ten-term update computes what its terms say")
    func momentumValues() throws {
        let n = 6
        let u = Tensor<Double>.uniform([n, n], seed: 1), v = Tensor<Double>.uniform([n, n], seed: 2), p = Tensor<Double>.uniform([n, n], seed: 3)
        let r = try TypeCheckTests.momentum(u, v, p, n: n).scalars
        let (us, vs, ps) = (try u.scalars, try v.scalars, try p.scalars)
        func at(_ a: [Double], _ i: Int, _ j: Int) -> Double { a[i * n + j] }
        let dt = 0.001, dx = 0.01, dy = 0.01, rho = 1.0, nu = 0.1
        for i in 1..<(n - 1) {
            for j in 1..<(n - 1) {
                var w = at(us, i, j)
                w -= at(us, i, j) * dt / dx * (at(us, i, j) - at(us, i, j - 1))
                w -= at(vs, i, j) * dt / dy * (at(us, i, j) - at(us, i - 1, j))
                w -= dt / (2 * rho * dx) * (at(ps, i, j + 1) - at(ps, i, j - 1))
                let lx: Double = dt / (dx * dx) * (at(us, i, j + 1) - 2 * at(us, i, j) + at(us, i, j - 1))
                let ly: Double = dt / (dy * dy) * (at(us, i + 1, j) - 2 * at(us, i, j) + at(us, i - 1, j))
                w += nu * (lx + ly)
                #expect(abs(r[(i - 1) * (n - 2) + (j - 1)] - w) < 1e-12)
            }
        }
    }

    /// `swiftc` and the flags that let it type-check a file against the built `Tandem` as a
    /// SwiftPM client would: the Swift modules' folder, and the module map of each C target
    /// beside it (TandemMathC, which the interpreter imports); nil (said as `who`) when swiftc
    /// or the modules are missing.
    static func swiftcAndModules(_ who: String) -> (swiftc: String, flags: [String])? {
        guard let swiftc = ProcessInfoLite.executable("swiftc") else {
            print("\(who): swiftc not on PATH; skipped")
            return nil
        }
        guard let binary = CLITests.binary else {
            print("\(who): the test bundle's folder was not found; skipped")
            return nil
        }
        let folder = String(binary[..<binary.lastIndex(of: "/")!])
        let modules = folder + "/Modules"
        guard access(modules + "/Tandem.swiftmodule", F_OK) == 0 else {
            print("\(who): no Tandem.swiftmodule beside the tests; skipped")
            return nil
        }
        var flags = ["-I", modules]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names.sorted() where name.hasSuffix(".build") {
            let map = folder + "/" + name + "/module.modulemap"
            if access(map, F_OK) == 0 { flags += ["-Xcc", "-fmodule-map-file=" + map] }
        }
        // C targets of dependencies that ship their own module map (swift-numerics'
        // `_NumericsShims`, which `Tandem`'s interface reaches through `ComplexModule`).
        let checkouts = folder + "/../../checkouts"
        for package in ((try? FileManager.default.contentsOfDirectory(atPath: checkouts)) ?? []).sorted() {
            let sources = checkouts + "/" + package + "/Sources"
            for target in ((try? FileManager.default.contentsOfDirectory(atPath: sources)) ?? []).sorted() {
                let map = sources + "/" + target + "/include/module.modulemap"
                if access(map, F_OK) == 0 { flags += ["-Xcc", "-fmodule-map-file=" + map] }
            }
        }
        return (swiftc, flags)
    }

    @Test("the ten-term expression type-checks in seconds (swiftc against the built module)")
    func typeCheckTime() throws {
        // Without them, the in-build expression above still checks acceptance.
        guard let (swiftc, flags) = TypeCheckTests.swiftcAndModules("TypeCheckTests") else { return }
        let source = """
        import Tandem
        func step(_ u: Tensor<Double>, _ v: Tensor<Double>, _ p: Tensor<Double>, _ n: Int) -> Tensor<Double> {
            let dt = 0.001, dx = 0.01, dy = 0.01, rho = 1.0, nu = 0.1
            let m = n - 1, k = n - 2
            return u[1..<m, 1..<m] - u[1..<m, 1..<m] * dt / dx * (u[1..<m, 1..<m] - u[1..<m, 0..<k])
                - v[1..<m, 1..<m] * dt / dy * (u[1..<m, 1..<m] - u[0..<k, 1..<m])
                - dt / (2 * rho * dx) * (p[1..<m, 2...] - p[1..<m, 0..<k])
                + nu * (dt / (dx * dx) * (u[1..<m, 2...] - 2 * u[1..<m, 1..<m] + u[1..<m, 0..<k])
                        + dt / (dy * dy) * (u[2..., 1..<m] - 2 * u[1..<m, 1..<m] + u[0..<k, 1..<m]))
        }
        """
        let dir = TestScratch.path("typecheck")
        mkdir(dir, 0o700)
        let file = dir + "/probe.swift"
        #expect(ProcessInfoLite.write(Array(source.utf8), to: file))
        let start = ProcessInfoLite.monotonicNanos()
        guard case .success(let r) = Subprocess.run([swiftc, "-typecheck"] + flags + [file]) else {
            Issue.record("could not start swiftc")
            return
        }
        let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
        #expect(r.status == 0, "\(r.output)")
        #expect(seconds < 20, "type-checking took \(seconds) s")
        print("TypeCheckTests: a ten-term stencil expression type-checked in \(seconds) s")
    }

    @Test("where(cond, -1, 1) with scalar literals on both sides type-checks in seconds in expressions (swiftc against the built module)")
    func whereLiteralsTypeCheckTime() throws {
        guard let (swiftc, flags) = TypeCheckTests.swiftcAndModules("TypeCheckTests") else { return }
        let source = """
        import Tandem
        func signs(_ x: Tensor<Double>, _ y: Tensor<Float>, _ n: Tensor<Int32>) -> (Tensor<Double>, Tensor<Float>, Tensor<Int32>) {
            let a: Tensor<Double> = `where`(x .< 0.5, -1, 1)
            let b = `where`(x .< 0.5, -1.0, 1.0) + select(x .> 2, 3, 4) * x
            let c = `where`(x .> 0, -1, 1) * x + `where`(x .< 0, 2, x) - select(x .> 0.75, 1.5, -0.5) * 3 + `where`(x .> 1, x, 0.5)
            let d: Tensor<Float> = `where`(y .>= 0, 1, -1) * y + 2 * select(y .< 1, 0, 1) - `where`(y .> 2, y, -y) / 4
            let e = `where`(n .> 0, 1, -1) * n + `where`(n .== 3, n, 0)
            return (a + b + c, d, e)
        }
        """
        let dir = TestScratch.path("typecheck-where")
        mkdir(dir, 0o700)
        let file = dir + "/probe.swift"
        #expect(ProcessInfoLite.write(Array(source.utf8), to: file))
        let start = ProcessInfoLite.monotonicNanos()
        // Any single expression over 2 s is reported as a warning, which fails the test below.
        guard case .success(let r) = Subprocess.run([swiftc, "-typecheck", "-Xfrontend", "-warn-long-expression-type-checking=2000"] + flags + [file]) else {
            Issue.record("could not start swiftc")
            return
        }
        let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.output.contains("warning:"), "\(r.output)")
        #expect(seconds < 20, "type-checking took \(seconds) s")
        print("TypeCheckTests: where with literal scalars type-checked in \(seconds) s")
    }

    @Test("NumPy lines mixing literals, methods and tensors type-check in seconds, and integer code beside them is not slowed (swiftc against the built module)")
    func literalMethodLinesTypeCheckTime() throws {
        guard let (swiftc, flags) = TypeCheckTests.swiftcAndModules("TypeCheckTests") else { return }
        // Held-out round 4: the first line was rejected after 23 s ("unable to type-check this
        // expression in reasonable time") while Double and Float had only generic scalar
        // overloads; the last is ordinary integer Swift, which concrete integer overloads broke.
        let source = """
        import Tandem
        func lines(_ x: Tensor<Double>, _ y: Tensor<Double>, _ f: Tensor<Float>, _ k: Tensor<Int32>, _ w: [Int64]) -> (Tensor<Double>, Tensor<Float>, Tensor<Int32>, Bool) {
            let a = (0 - x * x / 2).exp() * (1 + (3 * x).sin().pow(2)) / 2 - 0.5 * y
            let b = (-f * f / 2).exp() * (1 + (3 * f).sin().pow(2)) / 2 - 0.25 * f
            let c = k * 2 + 1 - (k % 3) * 4
            let d = Tensor.maximum(x, 1e-12) + Tensor.minimum(2, y) * max(x, 0.5)
            let e = w == (0..<24).filter { $0 % 4 == 0 || $0 % 4 == 3 }.map(Int64.init)
            return (a + d, b, c, e)
        }
        """
        let dir = TestScratch.path("typecheck-literals")
        mkdir(dir, 0o700)
        let file = dir + "/probe.swift"
        #expect(ProcessInfoLite.write(Array(source.utf8), to: file))
        let start = ProcessInfoLite.monotonicNanos()
        // Any single expression over 3 s is reported as a warning, which fails the test below.
        guard case .success(let r) = Subprocess.run([swiftc, "-typecheck", "-Xfrontend", "-warn-long-expression-type-checking=3000"] + flags + [file]) else {
            Issue.record("could not start swiftc")
            return
        }
        let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.output.contains("warning:"), "\(r.output)")
        print("TypeCheckTests: lines of literals and methods type-checked in \(seconds) s")
    }
}
