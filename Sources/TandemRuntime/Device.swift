import TandemIR

/// Where kernels run. The runtime knows devices only through this protocol; the public layer
/// registers the concrete ones (compiled C on the CPU, the interpreter, later CUDA).
public protocol KernelDevice: Sendable {
    /// Stable name used in statistics, traces and `TANDEM_DEVICE`.
    var name: String { get }
    /// Whether the device can run kernels on this machine, and if not, why.
    var availability: Availability { get }
    /// Compiles (or fetches from cache) the code for a kernel. Throws with the compiler's log.
    func prepare(_ kernel: Kernel) throws -> any PreparedKernel
}

public enum Availability: Sendable, Equatable {
    case available
    case unavailable(reason: String)
}

/// A kernel ready to run. Partials hold 16 bytes (value, index) per reduction per parallel point.
public protocol PreparedKernel: Sendable {
    /// Runs the points whose first parallel axis is in `lo..<hi` (everything when there is none).
    func run(_ launch: Launch, lo: Int, hi: Int)
    /// Reduces the points whose first reduce axis is in `lo..<hi` into `partials`.
    func runSplit(_ launch: Launch, lo: Int, hi: Int, partials: UnsafeMutableRawPointer)
    /// Folds `count` partial blocks in order and stores the results.
    func combine(_ launch: Launch, partials: UnsafeRawPointer, count: Int)
}

/// Which device runs kernels.
public enum DeviceChoice: String, Sendable, CaseIterable {
    /// Compiled C on all CPU cores when a compiler exists, else the interpreter (said once).
    case auto
    /// Compiled C on all CPU cores (an error if no C compiler is found).
    case cpu
    /// The Swift interpreter of kernel IR: slow, always available, the reference.
    case interpreter
}

/// Errors thrown from sync points.
public enum TandemError: Error, CustomStringConvertible {
    case compileFailed(compiler: String, log: String, source: String)
    case deviceUnavailable(device: String, reason: String)
    case loadFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .compileFailed(let compiler, let log, let source):
            "kernel compilation failed (\(compiler)):\n\(log)\n--- source ---\n\(source)"
        case .deviceUnavailable(let device, let reason): "device \(device) is not available: \(reason)"
        case .loadFailed(let path, let reason): "could not load compiled kernel \(path): \(reason)"
        }
    }
}
