import Synchronization
import TandemIR

/// Collects every kernel the planner produces while a body runs (on the calling task), with the
/// shape of one launch of each: what an offline compile check or a kernel-level differential
/// test of another device needs, without running the program there.
///
///     let recorder = PlanRecorder()
///     try PlanRecorder.$current.withValue(recorder) { _ = try workload.run(params, dtype: .float32) }
///     for k in recorder.kernels { _ = try nvrtc.compile(CRenderer.render(k.kernel, dialect: .cuda), architecture: "sm_90") }
///
/// Each distinct `Kernel` is kept once (the first launch seen). Launches keep buffer types and
/// sizes, not the buffers, so recording holds no memory of the program.
public final class PlanRecorder: Sendable {
    /// The recorder of the current task, if any (`Planner.plan` reports to it).
    @TaskLocal public static var current: PlanRecorder?

    public struct Recorded: Sendable {
        public var kernel: Kernel
        public var label: String
        public var splitChunks: Int
        public var ints: [Int64]
        public var floats: [Double]
        /// (type, element count) of each buffer, in the kernel's buffer order.
        public var buffers: [(dtype: DType, count: Int)]

        public init(kernel: Kernel, label: String, splitChunks: Int, ints: [Int64], floats: [Double], buffers: [(dtype: DType, count: Int)]) {
            self.kernel = kernel
            self.label = label
            self.splitChunks = splitChunks
            self.ints = ints
            self.floats = floats
            self.buffers = buffers
        }
    }

    private let state = Mutex<(seen: Set<Kernel>, list: [Recorded])>(([], []))

    public init() {}

    /// Kernels recorded so far, in first-seen order.
    public var kernels: [Recorded] { state.withLock { $0.list } }

    func record(_ kernels: [PlannedKernel]) {
        state.withLock { s in
            for k in kernels where s.seen.insert(k.kernel).inserted {
                s.list.append(Recorded(kernel: k.kernel, label: k.label, splitChunks: k.splitChunks, ints: k.launch.ints,
                                       floats: k.launch.floats, buffers: k.launch.buffers.map { ($0.dtype, $0.count) }))
            }
        }
    }
}
