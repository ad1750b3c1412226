/// One stage of a sequence kernel (`Kernel.sequence`): a kernel over its own domain, whose
/// buffers are the sequence's `buffers[i]` and whose int and float parameters start at
/// `intOffset` and `floatOffset` of the sequence's launch.
public struct Stage: Hashable, Sendable {
    public var kernel: Kernel
    /// For each of the stage kernel's buffers, its index among the sequence's buffers.
    public var buffers: [Int]
    public var intOffset: Int
    public var floatOffset: Int

    public init(kernel: Kernel, buffers: [Int], intOffset: Int, floatOffset: Int) {
        self.kernel = kernel
        self.buffers = buffers
        self.intOffset = intOffset
        self.floatOffset = floatOffset
    }

    /// The range of the stage's first parallel axis that runs all of it in one piece (what a
    /// kernel run alone on one worker is given): its first extent, or 0..<1 with no parallel axis.
    public func wholeRange(_ launch: Launch) -> Range<Int> {
        kernel.parallelAxes == 0 ? 0..<1 : 0..<launch.extent(0)
    }
}

extension Kernel {
    /// The int parameters read as the seeds of counter-based uniforms, stages' included (at
    /// their offsets): a plan reused for other seeds writes them (`PlanCache`).
    public var seedParams: [Int] {
        if isSequence { return stages.flatMap { s in s.kernel.seedParams.map { $0 + s.intOffset } } }
        var out: [Int] = []
        for instr in instrs { if case .uniform(_, let seed, _, _) = instr.op, !out.contains(seed) { out.append(seed) } }
        return out
    }

    /// A kernel that runs `stages` one after the other, each over its whole domain before the
    /// next starts, in one launch on one worker: the small kernels of a time step that cannot be
    /// fused (a stencil and the boundary writes that read what it wrote, several small
    /// reductions) cost one dispatch instead of one each (issue 15). The sequence itself has no
    /// domain (rank 0); its buffers are the stages' buffers, each once, read and written as any
    /// stage reads and writes it; its parameters are the stages' in order.
    ///
    ///     let (k, buffers) = Kernel.sequence([(first, firstBuffers), (second, secondBuffers)])
    ///     let launch = Launch.sequence([firstLaunch, secondLaunch], buffers: buffers)
    public static func sequence(_ kernels: [(kernel: Kernel, buffers: [Buffer])]) -> (kernel: Kernel, buffers: [Buffer]) {
        precondition(!kernels.isEmpty && kernels.allSatisfy { !$0.kernel.isSequence && $0.kernel.literalInts == nil },
                     "internal: a sequence of plain kernels")
        var buffers: [Buffer] = [], params: [BufferParam] = [], stages: [Stage] = []
        var ints = 0, floats = 0
        for (k, bs) in kernels {
            precondition(bs.count == k.buffers.count, "internal: a stage's buffers")
            var indices: [Int] = []
            for (j, b) in bs.enumerated() {
                let p = k.buffers[j]
                if let i = buffers.firstIndex(where: { $0 === b }) {
                    params[i].isRead = params[i].isRead || p.isRead
                    params[i].isWritten = params[i].isWritten || p.isWritten
                    indices.append(i)
                } else {
                    buffers.append(b)
                    params.append(p)
                    indices.append(buffers.count - 1)
                }
            }
            stages.append(Stage(kernel: k, buffers: indices, intOffset: ints, floatOffset: floats))
            ints += k.intParams
            floats += k.floatParams
        }
        var sequence = Kernel(rank: 0, parallelAxes: 0, buffers: params, accesses: [], instrs: [], reductions: [], stores: [],
                              intParams: ints, floatParams: floats)
        sequence.entries = .rows
        sequence.stages = stages
        return (sequence, buffers)
    }
}

extension Launch {
    /// The launch of a sequence kernel: its stages' parameters in order, `buffers` as
    /// `Kernel.sequence` merged them.
    public static func sequence(_ launches: [Launch], buffers: [Buffer]) -> Launch {
        Launch(buffers: buffers, ints: launches.flatMap(\.ints), floats: launches.flatMap(\.floats))
    }

    /// The launch of stage `s` of the sequence kernel this is the launch of.
    public func stage(_ s: Stage) -> Launch {
        Launch(buffers: s.buffers.map { buffers[$0] }, ints: Array(ints[s.intOffset..<(s.intOffset + s.kernel.intParams)]),
               floats: Array(floats[s.floatOffset..<(s.floatOffset + s.kernel.floatParams)]))
    }
}
