import Synchronization
import TandemCompiler
import TandemRuntime

// The public surface of loop nests: `Tandem.loop` and its options and counts. Split from
// LoopNest.swift by concern (there: the tracing and the choice how to run a nest).
extension Tandem {
    /// Runs a loop nest written as plain Swift: the meaning is exactly that of the sequential
    /// nest in lexicographic order, and the loops that dependence analysis proves parallel run
    /// as fused array kernels (on every device `auto` may choose); the rest run one iteration at
    /// a time, in order.
    ///
    ///     let (n, m, p) = (64, 32, 16)
    ///     let a = Tensor<Double>.uniform([n, n], seed: 1), l = Tensor<Double>.ones([n, n])
    ///     let f = Tensor<Double>.uniform([n, p], seed: 2), g = Tensor<Double>.uniform([p, m], seed: 3)
    ///     var b = Tensor<Double>.zeros([n, n]), c = Tensor<Double>.zeros([n, m]), x = Tensor<Double>.ones([n])
    ///     Tandem.loop(1..<n - 1, 1..<n - 1) { i, j in          // Jacobi: reads the old `a`
    ///         b[i, j] = 0.2 * (a[i, j] + a[i - 1, j] + a[i + 1, j] + a[i, j - 1] + a[i, j + 1])
    ///     }
    ///     Tandem.loop(0..<n, 0..<m, 0..<p) { i, j, k in         // a product: k is a reduction
    ///         c[i, j] += f[i, k] * g[k, j]
    ///     }
    ///     Tandem.loop(0..<n) { i in                             // triangular: forward substitution
    ///         Tandem.loop(0..<i) { j in x[i] -= l[i, j] * x[j] }
    ///         x[i] = x[i] / l[i, i]
    ///     }
    ///
    /// The body is traced, not run per point: it is called with symbolic indices and records what
    /// it reads and writes. Inside it, read and write tensors element by element with integer and
    /// loop-index subscripts (`a[i, j - 1]`, `a[i, 0]`), combine elements with tensor arithmetic
    /// and math functions (`select` for conditions: a Swift `if` cannot test a traced value), and
    /// use `+=`, `-=`, `*=` or `Tensor.maximum`/`minimum` of an element with itself for
    /// reductions. Values from outside must be scalars (`Tensor(2.0)`, a Swift `Double`); a
    /// whole tensor used in the body is an error. Subscripts must stay inside the tensors (no
    /// negative loop indices counted from the end).
    ///
    /// How a nest runs: its loops are analysed together (GCD and Banerjee tests with direction
    /// vectors over the affine subscripts); when no dependence is carried, every statement runs as
    /// one array operation over the whole iteration space (a write whose subscript omits loops and
    /// updates itself with `+` `*` `max` `min` becomes a reduction over them: floating-point sums
    /// are then added in another order than the sequential loop's). A body that calls
    /// `Tandem.loop` again with constant bounds is analysed as one loop tree. Otherwise the
    /// outermost loop whose iterations may run one at a time with the others as arrays runs that
    /// way (moved outward when it is not the first), or a two-deep nest runs as wavefronts
    /// (Gauss–Seidel), or the first loop runs one iteration at a time and the loops inside it are
    /// analysed again, down to single points. Where those ways would launch many small kernels
    /// (and always for bounds set by an outer index), the nest is instead compiled as written
    /// and run on the host (`LoopProgramMode`, `Tandem.loopPrograms`).
    /// `Tandem.loopStatistics` counts what ran which way. `file` and `line` name the call
    /// (leave them to their defaults): a nest whose body calls `Tandem.loop` remembers its loop
    /// tree there, and the next call at the same place traces it once instead of three times.
    public static func loop(_ r0: some LoopBounds, file: StaticString = #fileID, line: UInt = #line, _ body: (LoopIndex) -> Void) {
        LoopNest.run([r0.loopRange], LoopSite(file, line)) { body($0[0]) }
    }

    /// A two-deep nest (see `loop(_:_:)`).
    public static func loop(_ r0: some LoopBounds, _ r1: some LoopBounds, file: StaticString = #fileID, line: UInt = #line,
                            _ body: (LoopIndex, LoopIndex) -> Void) {
        LoopNest.run([r0.loopRange, r1.loopRange], LoopSite(file, line)) { body($0[0], $0[1]) }
    }

    /// A three-deep nest (see `loop(_:_:)`).
    public static func loop(_ r0: some LoopBounds, _ r1: some LoopBounds, _ r2: some LoopBounds,
                            file: StaticString = #fileID, line: UInt = #line,
                            _ body: (LoopIndex, LoopIndex, LoopIndex) -> Void) {
        LoopNest.run([r0.loopRange, r1.loopRange, r2.loopRange], LoopSite(file, line)) { body($0[0], $0[1], $0[2]) }
    }

    /// A four-deep nest (see `loop(_:_:)`).
    public static func loop(_ r0: some LoopBounds, _ r1: some LoopBounds, _ r2: some LoopBounds, _ r3: some LoopBounds,
                            file: StaticString = #fileID, line: UInt = #line,
                            _ body: (LoopIndex, LoopIndex, LoopIndex, LoopIndex) -> Void) {
        LoopNest.run([r0.loopRange, r1.loopRange, r2.loopRange, r3.loopRange], LoopSite(file, line)) { body($0[0], $0[1], $0[2], $0[3]) }
    }

    /// What the loop nests of this process did: statements and nests run as array operations,
    /// nests whose outer loop ran one iteration at a time, reductions recognised.
    public static var loopStatistics: LoopStatistics { LoopNest.statistics.withLock { $0 } }

    /// Whether `Tandem.loop` compiles the nests its array paths would run one iteration at a
    /// time (see `LoopProgramMode`); `TANDEM_LOOP_PROGRAMS` (`auto`, `always`, `off`) sets it
    /// at start.
    ///
    ///     Tandem.loopPrograms = .off        // the array paths alone, to compare
    ///     defer { Tandem.loopPrograms = .auto }
    public static var loopPrograms: LoopProgramMode {
        get { LoopRecorder.mode.withLock { $0 } }
        set { LoopRecorder.mode.withLock { $0 = newValue } }
    }

    /// Steps and stores an inner loop of a compiled nest must run an entry, on average over the
    /// iterations of the loop around it, to be split over the threads (which wait for each
    /// other after it, every iteration): 131,072 by default. Lower it to split smaller loops
    /// (tests do, to run small nests threaded), raise it where waits are dear.
    ///
    ///     Tandem.loopSplitOperations = 0       // every loop that may be split is
    ///     defer { Tandem.loopSplitOperations = 1 << 17 }
    public static var loopSplitOperations: Int {
        get { LoopRecorder.splitOperations }
        set { LoopRecorder.splitSetting.withLock { $0 = max(0, newValue) } }
    }
}

/// How `Tandem.loop` runs a nest that dependence analysis cannot run as whole-array kernels (a
/// dependence carried by every order of its loops, triangular bounds, reads through an index
/// of the tensor written).
///
/// The array paths run such a nest one iteration of a loop at a time (or one wavefront, or one
/// point), each a few array kernels: correct on every device, and slow when there are many
/// (thousands of launches of small kernels). A loop program compiles the nest as written, one
/// C loop nest run on the host (its outermost loop split over the workers when it carries no
/// dependence), over copies of the tensors it writes; it needs a C compiler and a placement
/// that lets the host run (`auto`, `cpu`, `cpu-1`), and makes the nest a sync point.
public enum LoopProgramMode: String, Sendable {
    /// A program when the estimate of both ways says it finishes first (the default).
    case auto
    /// A program whenever the array paths would not run the nest whole.
    case always
    /// The array paths alone.
    case off
}

/// Counts of `Tandem.loop`'s decisions in this process.
public struct LoopStatistics: Sendable, Equatable {
    /// Nests (or the inner loops of a peeled iteration) run as array operations.
    public var vectorised = 0
    /// Nests whose outermost loop carried a dependence (or held a nested `Tandem.loop`), run one
    /// iteration at a time.
    public var peeled = 0
    /// Body executions with every index fixed (one point).
    public var points = 0
    /// Writes turned into reductions over the loops their subscript leaves out.
    public var reductions = 0
    /// Nests whose body calls `Tandem.loop` again, run as arrays over the whole loop tree.
    public var imperfect = 0
    /// Nests run as wavefronts (every loop carried, a hyperplane parallel: Gauss–Seidel).
    public var wavefronts = 0
    /// Peeled nests whose loop run one iteration at a time is not the outermost (interchanged
    /// outward: the outer loops run as arrays inside it).
    public var interchanged = 0
    /// Nests compiled as they are written and run as one loop on the host (a dependence carried
    /// or bounds that the array paths would run one iteration at a time).
    public var compiled = 0
    /// Compiled nests whose outermost loop carries no dependence, run in chunks on the workers.
    public var compiledParallel = 0
    /// Compiled nests whose outermost loop carries a dependence and loops directly inside it do
    /// not, split over threads at each of its iterations.
    public var compiledThreaded = 0
    /// Compiled nests whose two outermost loops both carried a dependence, swapped so that the
    /// one written outside could be split at each iteration of the other (nussinov's cells of
    /// one interval length at a time: its wavefronts).
    public var compiledSwapped = 0
    /// Compiled nests with an inner reduction read down columns turned inside out (its loop
    /// outside the loop around it: rows, vectorised; `LoopProgram.reductionLoopsInterchanged`).
    public var compiledTurned = 0
    /// Nests the compiled way could not take (a value it cannot compute, or no code), run by the
    /// array paths instead; each is traced as a `fallback` event with the reason.
    public var notCompiled = 0
    /// Nests whose body calls `Tandem.loop`, traced as one loop tree at once because a call at
    /// the same place with the same extents found that tree before (two traces fewer).
    public var treesReused = 0
    /// Such nests whose body no longer had the tree found before (its loops changed): traced
    /// from the start.
    public var treesChanged = 0
    /// Nests run as the compiled program they ran as at the same call site before, without
    /// the array traces and their tests (`LoopNest.programSites`).
    public var programsReused = 0
}
