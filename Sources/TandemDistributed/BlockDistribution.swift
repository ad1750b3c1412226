/// Rows `0..<rows` cut into one contiguous block per rank, as Heat and ScaLAPACK-style block
/// layouts do: every rank gets `rows / ranks` rows, and the first `rows % ranks` ranks one more,
/// so blocks differ by at most one row. With fewer rows than ranks, the last ranks hold none.
///
///     let d = BlockDistribution(rows: 10, ranks: 4)
///     // d.counts == [3, 3, 2, 2]; d.range(of: 2) == 6..<8; d.owner(ofRow: 9) == 3
public struct BlockDistribution: Sendable, Equatable, CustomStringConvertible {
    /// The length of the distributed axis.
    public let rows: Int
    /// The number of ranks it is cut over.
    public let ranks: Int

    /// The distribution of `rows` rows over `ranks` ranks.
    ///
    ///     let d = BlockDistribution(rows: 7, ranks: 3)      // 3, 2, 2
    public init(rows: Int, ranks: Int) {
        precondition(rows >= 0, "BlockDistribution: a negative number of rows (\(rows))")
        precondition(ranks >= 1, "BlockDistribution: \(ranks) ranks; a world has at least one")
        self.rows = rows
        self.ranks = ranks
    }

    /// The rows `rank` holds.
    ///
    ///     let n = BlockDistribution(rows: 7, ranks: 3).count(of: 0)   // 3
    public func count(of rank: Int) -> Int {
        precondition((0..<ranks).contains(rank), "BlockDistribution: rank \(rank) is not one of \(ranks)")
        return rows / ranks + (rank < rows % ranks ? 1 : 0)
    }

    /// The first row `rank` holds (where its block would start when it holds none).
    ///
    ///     let s = BlockDistribution(rows: 7, ranks: 3).start(of: 2)   // 5
    public func start(of rank: Int) -> Int {
        precondition((0...ranks).contains(rank), "BlockDistribution: rank \(rank) is not one of \(ranks)")
        return rank * (rows / ranks) + Swift.min(rank, rows % ranks)
    }

    /// The rows `rank` holds, as a range of global row numbers.
    ///
    ///     let r = BlockDistribution(rows: 7, ranks: 3).range(of: 1)   // 3..<5
    public func range(of rank: Int) -> Range<Int> { start(of: rank)..<(start(of: rank) + count(of: rank)) }

    /// Every rank's count, in rank order.
    ///
    ///     let c = BlockDistribution(rows: 2, ranks: 3).counts         // [1, 1, 0]
    public var counts: [Int] { (0..<ranks).map { count(of: $0) } }

    /// The ranks that hold at least one row: `0..<min(rows, ranks)` (empty blocks are last).
    ///
    ///     let a = BlockDistribution(rows: 2, ranks: 3).activeRanks    // 0..<2
    public var activeRanks: Range<Int> { 0..<Swift.min(rows, ranks) }

    /// The rank holding global row `row`.
    ///
    ///     let r = BlockDistribution(rows: 10, ranks: 4).owner(ofRow: 6)   // 2
    public func owner(ofRow row: Int) -> Int {
        precondition((0..<rows).contains(row), "BlockDistribution: row \(row) is outside 0..<\(rows)")
        let big = rows / ranks + 1, extra = rows % ranks
        // The first `extra` ranks hold `big` rows each, the others `big - 1`.
        return row < extra * big ? row / big : extra + (row - extra * big) / (big - 1)
    }

    public var description: String {
        "\(rows) rows over \(ranks) rank\(ranks == 1 ? "" : "s"): \(counts.map(String.init).joined(separator: ", "))"
    }
}
