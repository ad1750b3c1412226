import ArgumentParser
import Tandem
import TandemWorkloads

/// Prints the kernel IR and C that a small black_scholes iteration plans (for inspection).
struct DebugPlan: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debug-plan", abstract: "Print the C of a Black-Scholes step.", shouldDisplay: false)
    func run() throws {
        let S = Tensor<Double>.uniform([1000], seed: 1, in: 5...30), X = Tensor<Double>.uniform([1000], seed: 2, in: 1...100), T = Tensor<Double>.uniform([1000], seed: 3, in: 0.25...10)
        try S.flush(); try X.flush(); try T.flush()
        let sqrtT = T.sqrt()
        let d1 = ((S / X).log() + 0.03 * T) / (0.3 * sqrtT)
        let d2 = d1 - 0.3 * sqrtT
        let cnd1 = 0.5 * (-d1 / 1.4142).erfc(), cnd2 = 0.5 * (-d2 / 1.4142).erfc()
        let e = (-0.02 * T).exp()
        let call = S * cnd1 - X * e * cnd2
        print(Tandem.generatedC(call.sum()).last!)
    }
}
