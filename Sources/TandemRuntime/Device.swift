import TandemIR
@_exported import TandemModel

/// Where kernels run. The runtime knows devices only through this protocol; the public layer
/// registers the concrete ones (compiled C on the CPU, the interpreter, later CUDA).
public protocol KernelDevice: Sendable {
    /// Stable name used in statistics, traces and `TANDEM_DEVICE`.
    var name: String { get }
    /// Whether the device can run kernels on this machine, and if not, why. Settled when first
    /// asked: the runtime keeps `auto`'s placements from the first answers.
    var availability: Availability { get }
    /// Compiles (or fetches from cache) the code for a kernel. Throws with the compiler's log.
    func prepare(_ kernel: Kernel) throws -> any PreparedKernel
    /// `prepare` for several kernels at once, results in the order given: a device whose
    /// compiler is started once per compile compiles together the kernels that need it (the
    /// CPU device: one C translation unit). By default, each kernel alone.
    func prepare(together kernels: [Kernel]) -> [Result<any PreparedKernel, any Error>]
    /// Whether `prepare` would find the kernel's code loaded, on disk, or have to compile it
    /// (the cost model charges a load or an amortised compile). Cheap after the first call.
    func codeState(_ kernel: Kernel) -> CodeState
    /// The kernel's code if it is loaded already, without compiling or loading anything.
    func readyCode(_ kernel: Kernel) -> (any PreparedKernel)?
    /// Starts compiling the kernels into the cache (the CPU device: in one compiler run, else
    /// one after the other in the order given), in a process that outlives this one (at exit,
    /// for background compiles that did not finish and kernels that ran long in the
    /// interpreter). Returns how many were handed on.
    func finishAfterExit(_ kernels: [Kernel]) -> Int
    /// Whether another process is compiling the kernel into the shared cache right now (a
    /// compile an earlier run handed on at its exit), as of the last `codeState` lookup: the
    /// runtime then leaves the wait to a background compile instead of waiting in a sync.
    func isCompilingElsewhere(_ kernel: Kernel) -> Bool
}

extension KernelDevice {
    public func prepare(together kernels: [Kernel]) -> [Result<any PreparedKernel, any Error>] {
        kernels.map { k in Result { try prepare(k) } }
    }
    public func codeState(_ kernel: Kernel) -> CodeState { .ready }
    public func readyCode(_ kernel: Kernel) -> (any PreparedKernel)? { nil }
    public func finishAfterExit(_ kernels: [Kernel]) -> Int { 0 }
    /// `finishAfterExit` for one kernel: whether it was handed on.
    public func finishAfterExit(_ kernel: Kernel) -> Bool { finishAfterExit([kernel]) == 1 }
    public func isCompilingElsewhere(_ kernel: Kernel) -> Bool { false }
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

/// A sequence kernel (`Kernel.sequence`) run as its stages' own prepared kernels, one after
/// the other, each over its whole domain: how the interpreter and the CPU device run one, with
/// the same pieces as each stage run alone on one worker.
///
///     let prepared = try PreparedSequence(sequence, prepare: interpreter.prepare)
public struct PreparedSequence: PreparedKernel {
    let stages: [(stage: Stage, code: any PreparedKernel)]

    public init(_ kernel: Kernel, prepare: (Kernel) throws -> any PreparedKernel) throws {
        precondition(kernel.isSequence, "internal: not a sequence kernel")
        stages = try kernel.stages.map { ($0, try prepare($0.kernel)) }
    }

    public func run(_ launch: Launch, lo: Int, hi: Int) {
        for (stage, code) in stages {
            let l = launch.stage(stage), r = stage.wholeRange(l)
            code.run(l, lo: r.lowerBound, hi: r.upperBound)
        }
    }

    public func runSplit(_ launch: Launch, lo: Int, hi: Int, partials: UnsafeMutableRawPointer) {
        preconditionFailure("internal: a sequence kernel is never split")
    }

    public func combine(_ launch: Launch, partials: UnsafeRawPointer, count: Int) {
        preconditionFailure("internal: a sequence kernel is never split")
    }
}

/// Which device runs kernels (`TANDEM_DEVICE`, `Tandem.withDevice`).
public enum DeviceChoice: String, Sendable, CaseIterable {
    /// Each kernel where the cost model predicts it finishes first, among the available options
    /// (the interpreter, compiled C on one thread or on all cores, CUDA when a GPU is usable). Without a C compiler only the
    /// interpreter is left: that is said once and counted as a fallback.
    case auto
    /// Compiled C on all CPU cores (an error if no C compiler is found).
    case cpu
    /// Compiled C on one worker thread, each kernel in one piece.
    case cpu1 = "cpu-1"
    /// The Swift interpreter of kernel IR: slow, always available, the reference.
    case interpreter
    /// CUDA C on the GPU (an error if no usable CUDA device is found).
    case cuda
    /// OpenCL C on the OpenCL device (`TANDEM_OPENCL_DEVICE`; an error if none is usable).
    case opencl
    /// Each kernel that can be cut along its outer parallel axis runs split: rows `0..<r` as
    /// compiled C on the CPU's workers, rows `r..<n` on the accelerator (OpenCL), both at once,
    /// `r` where the cost model predicts both parts finish together (`Tandem.withSplit` fixes
    /// the share). Kernels that cannot be cut run on `cpu`, each said once in
    /// `Runtime.splitRefusals`. For experiments (`tandem split-eval`): `auto` does not split.
    case split

    /// The one placement a forced choice allows (nil for `auto`).
    public var forcedPlacement: Placement? {
        switch self {
        case .auto: nil
        case .cpu: .cpuAll
        case .cpu1: .cpu1
        case .interpreter: .interpreter
        case .cuda: .cuda
        case .opencl: .opencl
        case .split: .cpuAll
        }
    }
}

/// Errors thrown from sync points.
public enum TandemError: Error, CustomStringConvertible {
    case compileFailed(compiler: String, log: String, source: String)
    case deviceUnavailable(device: String, reason: String)
    case loadFailed(path: String, reason: String)
    /// A file Tandem reads or writes for itself (a cache folder, a profile, a trace).
    case fileFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .compileFailed(let compiler, let log, let source):
            // The first line names the cause (a one-line message shows only it).
            "kernel compilation failed (\(compiler)): \(log.split(separator: "\n").first { !$0.allSatisfy(\.isWhitespace) } ?? "no output")\n\(log)\n--- source ---\n\(source)"
        case .deviceUnavailable(let device, let reason): "device \(device) is not available: \(reason)"
        case .loadFailed(let path, let reason): "could not load compiled kernel \(path): \(reason)"
        case .fileFailed(let path, let reason): "\(path): \(reason)"
        }
    }
}
