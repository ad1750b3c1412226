import TandemIR

// Random draws beyond `uniform` and `normal`, the ones NumPy ports use most (`Generator.integers`,
// `exponential`, `permutation`, `shuffle`'s result, `choice`): all from the counter-based
// uniform stream (`uniform`: SplitMix64 of the seed and the element's index), so they are
// reproducible, the same in any order and on any device, and lazy (fused) where no ordering is
// involved. They are not NumPy's streams (NumPy's generators are sequential): a port gets
// numbers with the same distribution, not the same numbers.

extension Tensor where Scalar: IndexTensorScalar {
    /// Counter-based integers drawn uniformly from `range` (high end excluded, as
    /// `numpy.random.Generator.integers(low, high)`): element i is `low + ⌊u · (high - low)⌋`
    /// for the uniform u of `uniform` at i (a multiple of 2^-53, so the bias is at most
    /// (high - low) / 2^53). Lazy.
    ///
    ///     let dice = Tensor<Int64>.randomIntegers([10], seed: 5, in: 1..<7)
    public static func randomIntegers(_ shape: [Int], seed: UInt64, in range: Range<Int64>) -> Tensor {
        precondition(!range.isEmpty, "integers: low >= high (\(range.lowerBound) >= \(range.upperBound))")
        let width = Double(range.upperBound) - Double(range.lowerBound)
        precondition(width <= 0x1p52, "integers: a range of more than 2^52 values is not drawn exactly")
        let u = Tensor<Double>.uniform(shape, seed: seed)
        let offset = Tensor<Int64>((u * width).floor()).clip(0, Int64(width) - 1)
        return Tensor(offset + range.lowerBound)
    }

    /// A random ordering of `0..<n` (`numpy.random.Generator.permutation(n)`): the stable
    /// argsort of n counter-based uniforms. A sync point.
    ///
    ///     let order = try Tensor<Int64>.permutation(10, seed: 3)
    public static func permutation(_ n: Int, seed: UInt64) throws -> Tensor {
        precondition(n >= 0, "permutation: negative n \(n)")
        return Tensor(try Tensor<Double>.uniform([n], seed: seed).argsort())
    }
}

extension Tensor where Scalar: FloatingTensorScalar {
    /// Counter-based exponential numbers with mean `scale` (`numpy.random.Generator.exponential`):
    /// `-scale · log(1 - u)` of the uniform u. Lazy.
    ///
    ///     let waits = Tensor<Double>.exponential([1000], seed: 4, scale: 2)
    public static func exponential(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
        precondition(scale >= 0, "exponential: scale < 0")
        return (Scalar(1) - uniform(shape, seed: seed)).log() * Scalar(-scale)
    }
}

extension Tensor {
    /// The tensor with its first axis in a random order (`numpy.random.Generator.permutation`
    /// of an array; `shuffle` without changing this tensor). A sync point for the order.
    ///
    ///     let shuffledRows = try m.shuffled(seed: 9)
    public func shuffled(seed: UInt64) throws -> Tensor {
        precondition(rank >= 1, "permutation: a 0-d array cannot be shuffled")
        return try take(Tensor<Int64>.permutation(shape[0], seed: seed), axis: 0)
    }

    /// `count` elements drawn from the first axis of this tensor (`numpy.random.Generator.choice`):
    /// with `replace`, independently (uniformly, or with the probabilities `p`, one per element,
    /// summing to 1); without, distinct ones (the first `count` of a `permutation`; `p` is then
    /// not taken). A sync point where an order or `p` is involved.
    ///
    ///     let sample = try x.choice(3, seed: 2, replace: false)
    public func choice(_ count: Int, seed: UInt64, replace: Bool = true, p: Tensor<Double>? = nil) throws -> Tensor {
        precondition(rank >= 1 && shape[0] > 0, "choice: a cannot be empty unless no samples are taken")
        precondition(count >= 0, "choice: negative dimensions are not allowed")
        let n = shape[0]
        if !replace {
            precondition(p == nil, "choice: probabilities without replacement are not provided")
            precondition(count <= n, "choice: Cannot take a larger sample than population when replace=False")
            return take(try Tensor<Int64>.permutation(n, seed: seed)[0..<count], axis: 0)
        }
        guard let p else { return take(Tensor<Int64>.randomIntegers([count], seed: seed, in: 0..<Int64(n)), axis: 0) }
        precondition(p.shape == [n], "choice: a and p must have same size")
        let weights = try p.scalars
        precondition(weights.allSatisfy { $0 >= 0 }, "choice: probabilities are not non-negative")
        let total = weights.reduce(0, +)
        precondition(Swift.abs(total - 1) <= 1e-8, "choice: probabilities do not sum to 1")
        // Inverse transform: the first element whose cumulative probability exceeds u.
        var cumulative = [Double](repeating: 0, count: n), running = 0.0
        for i in 0..<n { running += weights[i]; cumulative[i] = running / total }
        let draws = try Tensor<Double>.uniform([count], seed: seed).scalars
        let picks = draws.map { u in Int64(Swift.min(insertionPoint(cumulative, u, right: true), n - 1)) }
        return take(Tensor<Int64>(picks), axis: 0)
    }
}
