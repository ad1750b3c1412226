import ArgumentParser
import Tandem
import TandemRuntime

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the devices Tandem can use, or why not.")

    func run() throws {
        switch Tandem.cpu.toolchain {
        case .success(let tc):
            print("cpu: \(ProcessInfoLite.cores) cores, C compiler \(tc.path) (\(tc.identity)), cache \(Tandem.cpu.cache.directory)")
        case .failure(let e):
            print("cpu: no compiled kernels: \(e.description); the interpreter runs them")
        }
        print("interpreter: always available")
        print("cuda: not built into this version")
    }
}
