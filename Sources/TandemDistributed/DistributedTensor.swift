import Tandem
import TandemMPI

/// A tensor cut into blocks of rows (its first axis) over the ranks of a job, each rank
/// holding its block plus `halo` rows above and below: copies of its neighbours' edge rows,
/// refreshed by `exchangeHalos()`, that a stencil reads.
///
/// The same program runs on every rank. Its local work is ordinary `Tensor` code on `local`
/// (lazy, fused into generated kernels like any other); what crosses ranks is explicit: the
/// halo exchange (`MPI_Sendrecv` with each neighbour), and reductions combined in rank order
/// (`sum()`, `Communicator.allreduce`), which give the same bits on every rank. Halo rows
/// outside the global tensor (above row 0, below the last row) are zeros that nothing updates.
///
///     let world = try Communicator.world()
///     let field = Tensor<Double>.uniform([100, 64], seed: 7)          // the same on every rank
///     var d = try DistributedTensor(field, halo: 1, on: world)
///     let rows = d.localRows(in: 1..<99)                             // owned rows with both neighbours
///     if !rows.isEmpty {
///         let smoothed = (d.local[(rows.lowerBound - 1)..<(rows.upperBound - 1)] + d.local[(rows.lowerBound + 1)..<(rows.upperBound + 1)]) / 2
///         d.local[rows] = smoothed
///     }
///     try d.exchangeHalos()
///     let total = try d.sum()                                         // identical on every rank
public struct DistributedTensor<Scalar: NumericTensorScalar & BitwiseCopyable> {
    /// The ranks the tensor is cut over.
    public let world: Communicator
    /// The shape of the whole tensor.
    public let shape: [Int]
    /// Which rows each rank holds.
    public let distribution: BlockDistribution
    /// Rows kept above and below the block (0: none).
    public let halo: Int
    /// This rank's rows: `halo` rows above, the block (`ownedRows`), `halo` rows below.
    public var local: Tensor<Scalar>

    /// The global rows this rank holds.
    public var globalRows: Range<Int> { distribution.range(of: world.rank) }
    /// Where the block lies in `local`: `halo..<(halo + count)`.
    public var ownedRows: Range<Int> { halo..<(halo + distribution.count(of: world.rank)) }

    /// Rank `rank`'s block of `global` (the same tensor on every rank: made from the same seed,
    /// read from the same file), with its halo rows filled from `global` too. Only the block
    /// and its halos are computed when `global` is still pending.
    ///
    /// Throws `DistributionError` when a rank holding rows holds fewer than `halo`: its
    /// neighbours' halos would need rows from two ranks away.
    ///
    ///     let world = try Communicator.world()
    ///     let d = try DistributedTensor(Tensor<Float>.zeros([31, 8]), halo: 1, on: world)
    public init(_ global: Tensor<Scalar>, halo: Int = 0, on world: Communicator) throws {
        precondition(global.rank >= 1, "DistributedTensor: a scalar has no rows to distribute")
        precondition(halo >= 0, "DistributedTensor: a negative halo (\(halo))")
        let distribution = BlockDistribution(rows: global.shape[0], ranks: world.size)
        if halo > 0, let thin = distribution.activeRanks.first(where: { distribution.count(of: $0) < halo }), distribution.activeRanks.count > 1 {
            throw DistributionError.blockThinnerThanHalo(rank: thin, rows: distribution.count(of: thin), halo: halo, distribution: distribution)
        }
        self.world = world
        self.shape = global.shape
        self.distribution = distribution
        self.halo = halo
        let mine = distribution.range(of: world.rank)
        var local = Tensor<Scalar>.zeros([mine.count + 2 * halo] + global.shape.dropFirst())
        if !mine.isEmpty {
            // The block and whatever halo rows exist in the global tensor.
            let from = Swift.max(0, mine.lowerBound - halo), to = Swift.min(global.shape[0], mine.upperBound + halo)
            let at = from - (mine.lowerBound - halo)
            local[at..<(at + to - from)] = global[from..<to]
        }
        self.local = local
    }

    /// A distributed tensor of zeros.
    ///
    ///     let world = try Communicator.world()
    ///     let grid = try DistributedTensor<Double>.zeros([1026, 1026], halo: 1, on: world)
    public static func zeros(_ shape: [Int], halo: Int = 0, on world: Communicator) throws -> DistributedTensor {
        try DistributedTensor(Tensor<Scalar>.zeros(shape), halo: halo, on: world)
    }

    /// The positions in `local` of the global rows in `rows` that this rank holds (empty when it
    /// holds none of them): where a computation over those global rows writes on this rank.
    ///
    ///     let world = try Communicator.world()
    ///     let d = try DistributedTensor<Double>.zeros([10, 4], halo: 1, on: world)
    ///     let interior = d.localRows(in: 1..<9)        // this rank's part of rows 1...8, in `local`
    public func localRows(in rows: Range<Int>) -> Range<Int> {
        let mine = globalRows
        let lo = Swift.max(rows.lowerBound, mine.lowerBound), hi = Swift.min(rows.upperBound, mine.upperBound)
        guard lo < hi else { return ownedRows.lowerBound..<ownedRows.lowerBound }
        return (lo - mine.lowerBound + halo)..<(hi - mine.lowerBound + halo)
    }

    /// The neighbouring ranks that hold rows (nil at the ends of the global tensor, and for a
    /// rank that holds none).
    var neighbours: (above: Int?, below: Int?) {
        let active = distribution.activeRanks, r = world.rank
        guard active.contains(r) else { return (nil, nil) }
        return (r > 0 ? r - 1 : nil, r + 1 < active.upperBound ? r + 1 : nil)
    }

    /// Refreshes the halo rows from the neighbours' blocks: this rank's first `halo` rows go to
    /// the rank above while the rank below's first rows arrive in the lower halo, then the same
    /// downwards (two `MPI_Sendrecv`). A sync point for the edge rows of the block (what was
    /// pending for them is computed first). Every rank must call it.
    ///
    ///     let world = try Communicator.world()
    ///     var d = try DistributedTensor<Double>.zeros([64, 64], halo: 1, on: world)
    ///     try d.exchangeHalos()
    public mutating func exchangeHalos() throws {
        guard halo > 0, world.size > 1 else { return }
        let (above, below) = neighbours
        let owned = ownedRows
        let rowShape = [halo] + shape.dropFirst()
        let rowCount = rowShape.reduce(1, *)
        // Upwards: my top rows to the rank above, the rank below's top rows into my lower halo.
        let top: [Scalar] = try above == nil ? [] : local[owned.lowerBound..<(owned.lowerBound + halo)].scalars
        if let rows = try world.sendReceive(top, to: above, receiving: rowCount, from: below, tag: 1) {
            local[owned.upperBound..<(owned.upperBound + halo)] = Tensor(rows, shape: rowShape)
        }
        // Downwards: my bottom rows to the rank below, the rank above's bottom rows into my upper halo.
        let bottom: [Scalar] = try below == nil ? [] : local[(owned.upperBound - halo)..<owned.upperBound].scalars
        if let rows = try world.sendReceive(bottom, to: below, receiving: rowCount, from: above, tag: 2) {
            local[0..<halo] = Tensor(rows, shape: rowShape)
        }
    }

    /// The whole tensor on every rank (`MPI_Allgatherv` of the blocks): for checks and output,
    /// not for every step. A sync point.
    ///
    ///     let world = try Communicator.world()
    ///     let d = try DistributedTensor(Tensor<Double>.uniform([9, 3], seed: 1), on: world)
    ///     let whole = try d.gathered()                  // shape [9, 3], equal to the original
    public func gathered() throws -> Tensor<Scalar> {
        let block: [Scalar] = try ownedRows.isEmpty ? [] : local[ownedRows].scalars
        let blocks = try world.allgather(block)
        return Tensor(blocks.flatMap { $0 }, shape: shape)
    }
}

extension DistributedTensor where Scalar: FloatingTensorScalar {
    /// The sum of every element, accumulated in Double: each rank sums its block (one fused
    /// reduction kernel), and the partials are added in rank order on every rank
    /// (`Communicator.allreduce`), so every rank returns the same bits. A sync point, and a
    /// collective: every rank must call it.
    ///
    ///     let world = try Communicator.world()
    ///     let d = try DistributedTensor(Tensor<Float>.ones([10, 10]), on: world)
    ///     let total = try d.sum()                       // 100 on every rank
    public func sum() throws -> Double {
        let partial = try ownedRows.isEmpty ? 0 : Tensor<Double>(local[ownedRows]).sum().item()
        return try world.allreduce(partial, .sum)
    }
}

/// A distribution that cannot work.
public enum DistributionError: Error, CustomStringConvertible, Equatable {
    /// A rank holding rows holds fewer than the halo width.
    case blockThinnerThanHalo(rank: Int, rows: Int, halo: Int, distribution: BlockDistribution)
    /// A rank's block does not have the shape the collective was told.
    case shapeMismatch(what: String, shape: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .blockThinnerThanHalo(rank, rows, halo, distribution):
            "rank \(rank) would hold \(rows) row\(rows == 1 ? "" : "s"), fewer than the halo of \(halo) its neighbours read (\(distribution)): use at most \(distribution.rows / halo) ranks"
        case let .shapeMismatch(what, shape, expected):
            "\(what): a block of shape \(shape) where \(expected) was expected (every rank's rows must have the same shape)"
        }
    }
}
