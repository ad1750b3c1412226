import TandemIR

// Consecutive small kernels of a plan merged into one sequence kernel (`Kernel.sequence`):
// issue 15's "fewer kernels from the same program".
//
// A Poisson iteration of a 41 x 41 cavity flow is a stencil and four boundary writes, each of
// which reads what the one before wrote, so none fuses with another. Run alone, each of the
// four 41-point copies cost 3.6 µs of dispatch (planning, placing, queueing, tearing down)
// against NumPy's 0.5 µs a slice assignment: the writes took longer than the stencil. In a
// sequence the five run as one kernel, placed, queued and compiled once, each stage whole
// before the next (the same pieces as each alone on one worker, so the same results).
//
// Trade-offs, where they are made: a sequence runs on one worker, so only kernels small enough
// to run on the calling thread anyway join one (`sequenceStagePoints`, with a bound on the
// whole); a sequence is a kernel structure of its own for the run counts that decide compiles
// (its stages' code is compiled and cached as those kernels alone, `CPUDevice`); and it runs on
// the host only, so a sync that may place kernels on an accelerator makes none
// (`Planner.sequences` is false then).

extension Planner {
    /// Most domain points of a kernel that joins a sequence.
    public static let sequenceStagePoints = 1024
    /// Most domain points of a whole sequence, and most stages.
    public static let sequencePoints = 16384
    public static let maxStages = 16

    /// Replaces each run of two or more consecutive joinable kernels of the plan (outside lagged
    /// chains) by one sequence kernel.
    func formSequences() {
        let kernels = plan.kernels
        var out: [PlannedKernel] = []
        out.reserveCapacity(kernels.count)
        var run: [PlannedKernel] = []
        var runPoints = 0
        func flush() {
            if run.count >= 2 {
                out.append(Planner.sequence(run))
                plan.sequencedKernels += run.count
            } else {
                out += run
            }
            run.removeAll(keepingCapacity: true)
            runPoints = 0
        }
        var i = 0
        while i < kernels.count {
            if let chain = kernels[i].lagChain {
                flush()
                out += kernels[i..<Swift.min(kernels.count, i + chain.count)]
                i += chain.count
                continue
            }
            let k = kernels[i]
            i += 1
            guard Planner.joinsSequence(k) else {
                flush()
                out.append(k)
                continue
            }
            if run.count >= Planner.maxStages || runPoints + k.points > Planner.sequencePoints { flush() }
            run.append(k)
            runPoints += k.points
        }
        flush()
        plan.kernels = out
    }

    /// Whether `k` may be a stage: small, not split, not a kernel the runtime specialises to
    /// its launch (an in-place strided sweep: its specialised code is faster than any dispatch
    /// saved), with its parameters as its kernel declares them.
    static func joinsSequence(_ k: PlannedKernel) -> Bool {
        k.splitChunks == 0 && k.points <= sequenceStagePoints && !k.kernel.isSequence && k.kernel.literalInts == nil
            && !Specialization.applies(to: k.kernel)
            && k.launch.ints.count == k.kernel.intParams && k.launch.floats.count == k.kernel.floatParams
    }

    /// The sequence kernel running `run` in order.
    static func sequence(_ run: [PlannedKernel]) -> PlannedKernel {
        let (kernel, buffers) = Kernel.sequence(run.map { k in
            var stage = k.kernel
            // A stage runs over its rows, whole (never split into partial results).
            if stage.hasReductions { stage.entries = .rows }
            return (stage, k.launch.buffers)
        })
        var members = Set<UInt64>()
        for k in run { members.formUnion(k.memberIDs) }
        return PlannedKernel(kernel: kernel, launch: Launch.sequence(run.map(\.launch), buffers: buffers),
                             fusedOps: run.flatMap(\.fusedOps), splitChunks: 0, points: run.reduce(0) { $0 + $1.points },
                             memberIDs: members)
    }
}
