import ArgumentParser
import Tandem
import TandemWorkloads

@main
struct TandemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Run NumPy-style array programs fused and compiled on all CPU cores.",
        subcommands: [Run.self, ExampleCommand.self, Overhead.self, Matmul.self, Bench.self, Report.self, Devices.self, Selftest.self, Calibrate.self, PlacementEval.self, DebugPlan.self])
}
