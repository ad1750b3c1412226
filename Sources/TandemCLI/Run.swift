import ArgumentParser
import Tandem
import TandemRuntime
import TandemWorkloads

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one standard workload and print its outputs, time and what ran.",
        discussion: "Workloads: \(Workloads.all.map(\.name).joined(separator: ", ")). Parameters are name=value.")

    @Argument(help: "The workload.") var workload: String
    @Argument(help: "Parameters, name=value.") var parameters: [String] = []
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Flag(help: "Compare the outputs with the reference values; exit 1 on a mismatch.") var check = false
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Run over the ranks of an MPI job, rows (of the grid, bodies or points) cut into blocks: mpirun -n 4 tandem run sor --distributed. sor, red_black_sor, shallow_water, nbody and gmm_em run distributed. Without mpirun, one rank.")
    var distributed = false

    func run() throws {
        if distributed { Run.shareCoresAmongRanks() }
        let (w, params) = try withUsageErrors { () -> (Workload, [String: Double]) in
            let w = try namedWorkload(workload)
            return (w, try parseParameters(parameters, for: w))
        }
        var full: [String: Double] = [:]
        for p in w.parameters { full[p.name] = params[p.name] ?? p.defaultValue }
        if distributed { return try runDistributed(w, params, full) }
        let prepared = try w.prepare(params, dtype: dtype.dtype)
        Tandem.resetStatistics()
        let start = now()
        let outputs = try prepared.run()
        let seconds = now() - start
        let stats = Tandem.statistics
        var checkResult = "skipped"
        var mismatches: [String] = []
        if check {
            guard let expected = Reference.outputs(w.name, full) ?? PythonReference.outputs(w.name, full) else {
                throw ValidationError("no reference values for \(w.name) with these parameters (and bench/peers/reference.py could not compute them); built in: \(Reference.describeCases(w.name))")
            }
            for (k, want) in expected.sorted(by: { $0.key < $1.key }) {
                let got = outputs[k] ?? .nan
                if !dtype.agrees(got, want) { mismatches.append("\(k): \(got) vs \(want)") }
            }
            checkResult = mismatches.isEmpty ? "pass" : "fail"
        }
        let device = stats.kernelsByDevice.keys.sorted().joined(separator: "+")
        let placements = stats.kernelsByDevice.sorted { $0.key < $1.key }
        if json {
            let params = full.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(JSON.number($0.value))" }.joined(separator: ", ")
            let outs = outputs.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(JSON.number($0.value))" }.joined(separator: ", ")
            print("{\"workload\": \"\(w.name)\", \"params\": {\(params)}, \"dtype\": \"\(dtype.dtype)\", \"device\": \"\(device)\", \"outputs\": {\(outs)}, \"seconds\": \(JSON.number(seconds)), \"kernels\": \(stats.kernelsRun), \"ops_fused\": \(stats.opsFused), \"bytes_moved\": \(stats.bytesMoved), \"placements\": {\(placements.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", "))}, \"predicted_kernel_seconds\": \(JSON.number(Double(stats.predictedNanos) / 1e9)), \"measured_kernel_seconds\": \(JSON.number(Double(stats.measuredNanos) / 1e9)), \"decisions\": \(stats.decisions), \"model_abs_error_seconds\": \(JSON.number(Double(stats.modelAbsErrorNanos) / 1e9)), \"model_rel_error_sum\": \(JSON.number(stats.modelRelErrorSum)), \"check\": \"\(checkResult)\"}")
        } else {
            print("\(w.name) \(full.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")) [\(dtype.dtype), \(device)]")
            for (k, v) in outputs.sorted(by: { $0.key < $1.key }) { print("  \(k) = \(JSON.number(v))") }
            print("  time \(String(format3(seconds))) s, kernels \(stats.kernelsRun), ops fused \(stats.opsFused), bytes moved \(stats.bytesMoved), compiles \(stats.compileMisses), planning \(format3(Double(stats.planNanos) / 1e9)) s")
            print("  placed: \(placements.map { "\($0.key) \($0.value)" }.joined(separator: ", "))\(stats.forcedPlacements > 0 ? " (forced)" : " (auto)"); kernel time predicted \(CostModel.format(Double(stats.predictedNanos) / 1e9)), measured \(CostModel.format(Double(stats.measuredNanos) / 1e9))")
            if check { print("  check: \(checkResult)" + (mismatches.isEmpty ? "" : " (" + mismatches.joined(separator: "; ") + ")")) }
        }
        if ProcessInfoLite.environment("TANDEM_DEBUG_POOL") != nil {
            ProcessInfoLite.warn("\(Tandem.statistics)")
            ProcessInfoLite.warn("pool hits \(BufferPool.shared.hits.load(ordering: .relaxed)) misses \(BufferPool.shared.misses.load(ordering: .relaxed))")
        }
        if checkResult == "fail" { throw ExitCode(1) }
    }
}

func format3(_ x: Double) -> String {
    let r = (x * 1000).rounded() / 1000
    return "\(r)"
}

enum JSON {
    static func number(_ x: Double) -> String {
        if x.isNaN || x.isInfinite { return "null" }
        if x == x.rounded() && Swift.abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }
}
