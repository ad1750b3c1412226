/// A loop nest compiled as it is written: loops in their order, one iteration after the other,
/// loads and stores of elements in place. `Tandem.loop` makes one when its dependence analysis
/// cannot run the nest as whole-array kernels (a carried dependence, triangular bounds, a nest
/// written as a loop tree): run as a sequence of array kernels per iteration, such a nest
/// launched thousands of small kernels (lu at 400 x 400: 80,000), where one compiled loop does
/// the same work in place.
///
///     for t0 in 0 ..< count0:                       // run in chunks on the workers when
///         v3 = load b1[2*t0 + 1]                    // `parallelOuter` (no dependence carried)
///         for t1 in 0 ..< count(lower1(t0), upper1(t0), step1):
///             v4 = load b0[t0 * 64 + t1]; v5 = v3 * v4
///             store b0[t0 * 64 + t1] = v5
///
/// Variables `t_k` count each loop's iterations from 0; a loop's bounds are affine in the
/// variables of the loops around it, and its value in the body (`lower + step * t_k`) is folded
/// into the affine subscripts. Every subscript names each axis of its tensor, and the code
/// checks each axis's index against the tensor's extent once per entry of the loop around it
/// (an affine index takes its extremes at the loop's first and last iterations), so an index
/// outside a tensor stops the program before it reads or writes there.
public struct LoopProgram: Hashable, Sendable {
    /// `constant + Σ_k coefs[k] * t_k` (trailing zero coefficients may be left out).
    public struct Affine: Hashable, Sendable, CustomStringConvertible {
        public var constant: Int
        public var coefs: [Int]
        public init(constant: Int, coefs: [Int] = []) {
            self.constant = constant
            var c = coefs
            while c.last == 0 { c.removeLast() }
            self.coefs = c
        }
        public func coef(_ k: Int) -> Int { k < coefs.count ? coefs[k] : 0 }
        public var isConstant: Bool { coefs.isEmpty }
        public var description: String {
            var terms = coefs.enumerated().filter { $0.element != 0 }.map { $0.element == 1 ? "t\($0.offset)" : "\($0.element)*t\($0.offset)" }
            if constant != 0 || terms.isEmpty { terms.insert(String(constant), at: 0) }
            return terms.joined(separator: " + ")
        }
    }

    /// An element of a tensor: one affine index per axis.
    public struct Access: Hashable, Sendable {
        public var buffer: Int
        public var indices: [Affine]
        public init(buffer: Int, indices: [Affine]) {
            self.buffer = buffer
            self.indices = indices
        }
    }

    public enum Value: Hashable, Sendable {
        /// The element at `access`.
        case load(access: Int)
        /// The element at `access` (whose index on `axis` is 0) moved `axis` by the integer value
        /// `index` (negative counts from the end of the axis), then clamped into the tensor: the
        /// array API's gather by a computed index, never outside the tensor.
        case gather(access: Int, axis: Int, index: Int)
        /// A loop variable's value, or any affine expression of them.
        case index(Affine)
        /// A scalar parameter: float parameter `n` for float types, int parameter `n` otherwise.
        case param(Int)
        /// Arithmetic over earlier values (`Instr.Op`'s unary, binary, select, cast and literal).
        case compute(Instr.Op)
    }

    public struct Step: Hashable, Sendable {
        public var value: Value
        public var dtype: DType
        public init(_ value: Value, _ dtype: DType) {
            self.value = value
            self.dtype = dtype
        }
    }

    public indirect enum Item: Hashable, Sendable {
        /// Computes step `n` here (steps are named by their index in `steps`).
        case step(Int)
        case store(access: Int, value: Int)
        /// `for t_variable in 0 ..< count` with `lower + step * t` running from `lower` toward
        /// `upper` (exclusive).
        case loop(variable: Int, lower: Affine, upper: Affine, step: Int, body: [Item])
    }

    public var buffers: [BufferParam]
    public var shapes: [[Int]]
    public var accesses: [Access]
    public var steps: [Step]
    /// One loop over variable 0 with constant bounds.
    public var body: [Item]
    public var variables: Int
    public var intParams: Int
    public var floatParams: Int
    /// Whether chunks of the outermost loop may run at once: no dependence is carried by it.
    public var parallelOuter: Bool
    /// Loops directly in the outermost loop's body whose iterations are split over threads
    /// inside each of its iterations (the outermost loop carries a dependence, they do not):
    /// every thread runs the outer loop, the other items of its body run on thread 0, and the
    /// threads wait for each other after each item (`LoopProgramRenderer`).
    public var parallelLoops: Set<Int> = []
    /// Whether the two outermost loops were swapped from the order they were written in
    /// (`interchangedOuterPair`): both carried a dependence, the one written inside runs
    /// outside, and the other is split at each of its iterations.
    public var swappedOuterLoops = false
    /// Inner reduction loops turned inside out (`reductionLoopsInterchanged`).
    public var interchangedReductions = 0
    /// Buffers each worker of a parallel outer loop keeps a copy of on its stack
    /// (`privatizable()`): every outer iteration writes all of one before it reads it; the
    /// worker that runs the last iteration writes its copy back.
    public var privateBuffers: Set<Int> = []

    public init(buffers: [BufferParam], shapes: [[Int]], accesses: [Access], steps: [Step], body: [Item], variables: Int,
                intParams: Int, floatParams: Int, parallelOuter: Bool) {
        self.buffers = buffers
        self.shapes = shapes
        self.accesses = accesses
        self.steps = steps
        self.body = body
        self.variables = variables
        self.intParams = intParams
        self.floatParams = floatParams
        self.parallelOuter = parallelOuter
    }

    /// The outermost loop's iteration count (its bounds are constants).
    public var outerCount: Int {
        guard case .loop(_, let lower, let upper, let step, _) = body.first else { return 0 }
        return LoopProgram.count(lower: lower.constant, upper: upper.constant, step: step)
    }

    /// Iterations of `lower, lower + step, ...` before `upper`.
    public static func count(lower: Int, upper: Int, step: Int) -> Int {
        step > 0 ? max(0, (upper - lower + step - 1) / step) : max(0, (lower - upper - step - 1) / -step)
    }
}
