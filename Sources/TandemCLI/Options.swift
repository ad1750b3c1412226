import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime
import Tandem
import TandemWorkloads

/// `f32` / `f64` on the command line.
enum DTypeOption: String, ExpressibleByArgument, CaseIterable {
    case f32, f64
    var dtype: DType { self == .f32 ? .float32 : .float64 }
    var tolerance: Double { self == .f32 ? 1e-4 : 1e-8 }

    /// Whether an output `got` is `want` within `tolerance`, relative (NaN never agrees): what
    /// every `--check` of the commands compares.
    func agrees(_ got: Double, _ want: Double) -> Bool {
        Swift.abs(got - want) <= tolerance * Swift.max(Swift.abs(want), 1e-300)
    }
}

/// The standard workload `name`, or a usage error that lists them.
func namedWorkload(_ name: String) throws -> Workload {
    guard let w = Workloads.named(name) else {
        throw UsageError(description: "unknown workload '\(name)'; try one of \(Workloads.all.map(\.name).joined(separator: ", "))")
    }
    return w
}

/// A failure while running (a file that cannot be read or written): one line on standard
/// error, exit status 3 (`TandemCommand.runtimeFailureStatus`), no usage text.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A problem with the command line: one line on standard error, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// Parses `k=v` parameters against a program's parameter names: one clear error per malformed,
/// unknown or non-numeric item, and whole numbers from 1 to `maxWhole` for `integers` (from 0
/// for those in `zeroAllowed`: a whole-number parameter whose default is 0, a flag or an offset).
func parseParameters(_ items: [String], program: String, names: [String], integers: Set<String>,
                     zeroAllowed: Set<String> = [], maxWhole: Double) throws -> [String: Double] {
    var out: [String: Double] = [:]
    for item in items {
        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw UsageError(description: "malformed parameter '\(item)': expected name=value")
        }
        let (name, text) = (parts[0], parts[1])
        guard names.contains(name) else {
            throw UsageError(description: "unknown parameter '\(name)' for \(program); it takes \(names.joined(separator: ", "))")
        }
        guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
            throw UsageError(description: "parameter \(name)=\(text) is not a number")
        }
        if integers.contains(name) {
            let least = zeroAllowed.contains(name) ? 0.0 : 1.0
            guard value == value.rounded(), value >= least, value <= maxWhole else {
                throw UsageError(description: "parameter \(name)=\(text) must be a " + (least == 0 ? "whole number from 0" : "positive whole number"))
            }
        }
        guard out[name] == nil else {
            throw UsageError(description: "parameter \(name) is given twice")
        }
        out[name] = value
    }
    return out
}

/// Parses `k=v` parameters against a workload's parameter list.
func parseParameters(_ items: [String], for workload: Workload) throws -> [String: Double] {
    let out = try parseParameters(items, program: workload.name, names: workload.parameters.map(\.name),
                                  integers: workload.integerParameters,
                                  zeroAllowed: Set(workload.parameters.filter { $0.defaultValue == 0 }.map(\.name)), maxWhole: 1e12)
    try checkFeasible(workload, out)
    return out
}

/// Refuses sizes that cannot run here (memory), before any work starts.
func checkFeasible(_ w: Workload, _ p: [String: Double]) throws {
    func v(_ k: String) -> Double { p[k] ?? w.parameters.first { $0.name == k }!.defaultValue }
    let bytes: Double
    switch w.name {
    case "black_scholes": bytes = 3 * 8 * v("n")
    case "sor", "red_black_sor", "shallow_water": bytes = 8 * 8 * (v("n") + 2) * (v("n") + 2)
    case "nbody": bytes = 8 * 8 * v("n")
    case "gmm_em": bytes = 8 * v("n") * (3 * v("k") + 2 * v("d"))
    default: bytes = 0
    }
    let (limit, what) = BufferPool.memoryLimit()
    if bytes > Double(limit) * 0.8 {
        throw UsageError(description: "impossible size for \(w.name): about \(String(format1(bytes / 1e9))) GB needed, \(String(format1(Double(limit) / 1e9))) GB of \(what)")
    }
}

private func format1(_ x: Double) -> Double { (x * 10).rounded() / 10 }

/// Monotonic seconds.
func now() -> Double { Double(ProcessInfoLite.monotonicNanos()) * 1e-9 }

/// Runs a workload under the CLI's error conventions (usage errors exit 2).
func withUsageErrors<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as UsageError {
        ProcessInfoLite.warn("tandem: \(e.description)")
        throw ExitCode(2)
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
