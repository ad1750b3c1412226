import ArgumentParser
import Tandem
import TandemRuntime

/// Prints the kernel IR and C of a small SOR sweep (for inspecting code generation).
struct DebugPlan: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debug-plan", abstract: "Print the plan of a small SOR sweep.", shouldDisplay: false)
    func run() throws {
        var a = Tensor<Double>.zeros([6, 6])
        a[0, .all] = Tensor(1.0)
        let c = a[1..<5, 1..<5]
        let work = 0.2 * (c + a[0..<4, 1..<5] + a[2..<6, 1..<5] + a[1..<5, 0..<4] + a[1..<5, 2..<6])
        let delta = (work - c).abs().sum()
        if ProcessInfoLite.environment("TANDEM_DEBUG_LSE") != nil {
            let logp = Tensor<Float>.uniform([1000, 16], seed: 3, in: -5...0)
            try logp.flush()
            let top = logp.max(axis: 1)
            let lse = top + (logp - top[.all, .newAxis]).exp().sum(axis: 1).log()
            let resp = (logp - lse[.all, .newAxis]).exp()
            for c in Tandem.generatedC(lse, resp.sum(axis: 0)) { print(c) }
            return
        }
        if ProcessInfoLite.environment("TANDEM_DEBUG_OPENCL") != nil {
            print(Tandem.generatedOpenCL(delta)[0], terminator: "")
            return
        }
        if ProcessInfoLite.environment("TANDEM_DEBUG_IR") != nil {
            print(Tandem.kernelIR(delta, work))
            return
        }
        print(Tandem.generatedC(delta)[2], terminator: "")
    }
}
