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
    /// Recorders in the process: while there are none, `active` needs no task-local read.
    private static let alive = Atomic<Int>(0)
    /// `current`, from one atomic load while no recorder exists (asked at every small
    /// operation and every plan).
    public static var active: PlanRecorder? { alive.load(ordering: .relaxed) == 0 ? nil : current }

    public struct Recorded: Sendable {
        public var kernel: Kernel
        public var label: String
        public var splitChunks: Int
        public var ints: [Int64]
        public var floats: [Double]
        /// (type, element count) of each buffer, in the kernel's buffer order.
        public var buffers: [(dtype: DType, count: Int)]
    }

    private let state = Mutex<(seen: Set<Kernel>, list: [Recorded])>(([], []))

    public init() { PlanRecorder.alive.add(1, ordering: .relaxed) }

    deinit { PlanRecorder.alive.subtract(1, ordering: .relaxed) }

    /// Kernels recorded so far, in first-seen order.
    public var kernels: [Recorded] { state.withLock { $0.list } }

    /// Records each kernel of `kernels` not seen before; a sequence kernel (`Kernel.sequence`)
    /// as its stages, each the kernel it is alone with its own launch: what the recorder's users
    /// check on other devices (which have no sequence form) is the code that computes.
    func record(_ kernels: [PlannedKernel]) {
        state.withLock { s in
            for k in kernels {
                let alone: [(kernel: Kernel, label: String, launch: Launch)] = k.kernel.isSequence
                    ? k.kernel.stages.enumerated().map { j, stage in (stage.kernel, "\(k.label) stage \(j)", k.launch.stage(stage)) }
                    : [(k.kernel, k.label, k.launch)]
                for (kernel, label, launch) in alone where s.seen.insert(kernel).inserted {
                    s.list.append(Recorded(kernel: kernel, label: label, splitChunks: k.splitChunks, ints: launch.ints,
                                           floats: launch.floats, buffers: launch.buffers.map { ($0.dtype, $0.count) }))
                }
            }
        }
    }
}
