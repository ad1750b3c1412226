@_exported import TandemIR
import TandemCompiler
import TandemRuntime
import TandemInterpreter
import TandemCPU

@_exported import enum TandemRuntime.DeviceChoice
@_exported import struct TandemRuntime.Statistics
@_exported import enum TandemRuntime.TandemError

/// Process-wide entry points: devices, statistics, explicit flushes and plan inspection.
///
///     let s = Tandem.statistics          // kernels run, ops fused, compiles, ...
///     try Tandem.withDevice(.interpreter) { try x.sum().item() }
public enum Tandem {
    private static let shared: (runtime: Runtime, cpu: CPUDevice) = {
        let statistics = StatisticsBox()
        let cpu = CPUDevice(statistics: statistics)
        return (Runtime(devices: [cpu, InterpreterDevice()], statistics: statistics), cpu)
    }()

    /// The runtime every tensor uses, created at first use with the CPU and interpreter devices.
    public static var runtime: Runtime { shared.runtime }

    /// The CPU device: its compiler (or why none was found) and its kernel cache.
    public static var cpu: CPUDevice { shared.cpu }

    /// Counters since start or the last `resetStatistics()`.
    public static var statistics: Statistics { runtime.statistics.snapshot }

    public static func resetStatistics() { runtime.statistics.reset() }

    /// Runs `body` with kernels placed on `device` (overrides `TANDEM_DEVICE` for this task).
    ///
    ///     let exact = try Tandem.withDevice(.interpreter) { try (a * b).sum().item() }
    public static func withDevice<R>(_ device: DeviceChoice, _ body: () throws -> R) rethrows -> R {
        try Runtime.$scopedDevice.withValue(device, operation: body)
    }

    /// Async variant of `withDevice(_:_:)`.
    public static func withDevice<R>(_ device: DeviceChoice, _ body: () async throws -> R) async rethrows -> R {
        try await Runtime.$scopedDevice.withValue(device, operation: body)
    }

    /// Queues the computation of all `tensors` as one plan (so they share kernels) and returns
    /// without waiting. Reading any of them afterwards waits only for what it needs.
    ///
    ///     try Tandem.flush(callSum, putSum)      // one fused kernel computes both sums
    ///     let c = try callSum.item(), p = try putSum.item()
    public static func flush(_ tensors: any TensorProtocol...) throws {
        try runtime.materialize(tensors.map(\.node))
    }

    /// The kernel IR a sync of `tensors` would run now, as text (nothing runs).
    public static func kernelIR(_ tensors: any TensorProtocol...) -> String {
        let plan = runtime.preview(tensors.map(\.node))
        return plan.kernels.enumerated().map { i, k in
            "// kernel \(i): \(k.label)\n" + KernelPrinter.print(k.kernel, launch: k.launch)
        }.joined(separator: "\n")
    }

    /// The C source of the kernels a sync of `tensors` would run now (nothing runs).
    public static func generatedC(_ tensors: any TensorProtocol...) -> [String] {
        runtime.preview(tensors.map(\.node)).kernels.map { CRenderer.render($0.kernel) }
    }

    /// The kernels a sync of `tensors` would run now (nothing runs).
    public static func plan(_ tensors: any TensorProtocol...) -> Plan {
        runtime.preview(tensors.map(\.node))
    }
}

/// Anything backed by a lazy graph node (every `Tensor`).
public protocol TensorProtocol {
    var node: Node { get }
}
