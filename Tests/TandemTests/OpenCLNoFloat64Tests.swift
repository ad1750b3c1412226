import Testing
import _TandemTestSupport
import TandemIR
import TandemCompiler
import TandemRuntime
import TandemOpenCL
import TandemInterpreter
@testable import Tandem

/// An OpenCL device without `cl_khr_fp64` (many integrated and mobile GPUs): its OpenCL C has no
/// `double`, kernels that need float64 are refused with the reason, the rest run. PoCL has
/// float64, so the device is told to assume it has none (`assumesNoFloat64`): the source is then
/// what such a device gets, and a `double` left in it would be caught by the text checks here,
/// not by PoCL's compiler.
@Suite("OpenCL without float64", .planned, .enabled(if: openCLAvailable), .serialized)
struct OpenCLNoFloat64Tests {
    func device() -> OpenCLDevice { privateOpenCLDevice(assumesNoFloat64: true) }

    @Test("float32, integer and boolean kernels are written without double and give the interpreter's values")
    func narrowKernels() throws {
        let f = Tensor<Float>.uniform([3_001], seed: 1, in: 0.5...2)
        let g = Tensor<Float>.uniform([37, 53], seed: 2, in: -1...1)
        let n = Tensor<Int32>.arange(0, 5_003)
        try f.flush()
        try g.flush()
        try n.flush()
        let ks = try recordKernels {
            try ((f * 2 + 1).exp() / f.log()).flush()                    // Tandem's expf and logf
            try (f.erf() + f.sqrt() - f.tanh()).flush()
            try (g.transposed * 3).flush()
            try `where`(g .> 0, g, -g).flush()
            try ((n * 7) % 5 + (n >> 2)).flush()
            try (n .< 100).flush()
            _ = try ((n % 7) * 3).sum().item()                          // an integer sum: int64 lanes
            _ = try (n % 11).max().item()
        }
        let d = device()
        var accepted = 0
        for (i, k) in ks.enumerated() {
            guard d.refusal(k.kernel) == nil else { continue }
            accepted += 1
            let source = d.source(for: k.kernel)
            #expect(!source.contains("double") && !source.contains("cl_khr_fp64"), "kernel \(i): \(source)")
            let r = try KernelCheck.run(k, on: d, reference: InterpreterDevice(), seed: 3)
            #expect(r.passed, "kernel \(i): \(r.detail)")
        }
        #expect(accepted >= 7, "\(accepted) of \(ks.count) kernels accepted")
        // The helpers written in double are gone; their float versions stay.
        let preamble = d.source(for: ks[0].kernel)
        for kept in ["tk_expf(", "tk_logf(", "tk_erff(", "tk_erfcf("] { #expect(preamble.contains(kept), "\(kept) missing") }
        for gone in ["tk_uniform(", "tk_exp(", "tk_log(", "tk_erf("] { #expect(!preamble.contains(gone), "\(gone) left") }
    }

    @Test("kernels that need float64 are refused with the reason, prepared or forced; the device itself is usable")
    func refused() throws {
        let x = Tensor<Double>.uniform([1_000], seed: 4, in: 0...1)
        let f = Tensor<Float>.uniform([1_000], seed: 5, in: 0...1)
        try x.flush()
        try f.flush()
        let d = device()
        #expect(d.availability == .available)
        let cases: [(String, [PlanRecorder.Recorded])] = [
            ("float64 values", try recordKernels { try (x * 2).flush() }),
            ("a float32 sum (double accumulator)", try recordKernels { _ = try f.sum().item() }),
            ("float32 random numbers (drawn in double)", try recordKernels { try Tensor<Float>.uniform([100], seed: 6).flush() }),
        ]
        for (what, ks) in cases {
            let k = try #require(ks.first, "\(what): no kernel")
            let why = d.refusal(k.kernel)
            #expect(why?.contains("has no float64 (cl_khr_fp64)") == true, "\(what): \(why ?? "accepted")")
            do {
                _ = try d.prepareQueued(k.kernel)
                Issue.record("\(what): prepared")
            } catch let TandemError.deviceUnavailable(device, reason) {
                #expect(device == "opencl" && reason == why, "\(what): \(reason)")
            }
        }
        // Calibrated in float32 (links, launch, first touch, operations), so `auto` can offer it;
        // its float64 costs are its float32 ones, for kernels it refuses anyway.
        let g = try Calibration.measureAccelerator(d, .openCL(d), quick: true, elements: 1 << 18)
        #expect(g.f64 == g.f32 && g.f32[.transcendental] > 0 && g.launchSeconds > 0)
        var p = MachineProfile.builtIn(identity: Calibration.identity(workers: 1))
        p.openCL = g
        #expect(p.validationProblem == nil, "\(p.validationProblem ?? "")")
        // With float64 the same kernels are accepted.
        let full = privateOpenCLDevice()
        for (_, ks) in cases { #expect(full.refusal(ks[0].kernel) == nil) }
    }
}
