import ArgumentParser
import Tandem
import TandemRuntime
import TandemWorkloads

@main
struct TandemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Run NumPy-style array programs fused and compiled on all CPU cores.",
        subcommands: [Run.self, MPICheck.self, ExampleCommand.self, PolyBenchCommand.self, Overhead.self, Matmul.self, Bench.self, Report.self, Devices.self, Selftest.self, Calibrate.self, PlacementEval.self, SplitEval.self, DebugPlan.self, HostOps.self, Tune.self, TuneEval.self])

    /// Exit statuses (README, "Exit statuses"): 0 success; 1 a `--check` or `selftest`
    /// mismatch; 2 parameters that cannot run (an impossible size, an unknown parameter); 3 a
    /// runtime failure (a compile, a device, a file), said in one line; 64 a command line
    /// ArgumentParser rejects; 71 out of memory (`BufferPool.outOfMemoryStatus`).
    static let runtimeFailureStatus: Int32 = 3

    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error where error is ExitCode || error is CleanExit || error is ValidationError
                                  || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // Help, usage and parser errors raised while running (a subcommand's --help).
            exit(withError: error)
        } catch {
            ProcessInfoLite.warn("tandem: \(String("\(error)".split(separator: "\n").first ?? ""))")
            exit(withError: ExitCode(runtimeFailureStatus))
        }
    }
}
