import Tandem
import TandemMPI

/// Collectives on tensors: what a distributed program moves between its steps, on top of the
/// communicator's collectives of plain values. Each reads its tensor (a sync point: what is
/// pending for it is computed first) and returns a new tensor whose values are already known.
extension Communicator {
    /// Every rank's `block` joined along the first axis, in rank order, on every rank
    /// (`MPI_Allgatherv`): the blocks of a block-distributed tensor made whole again. Ranks may
    /// hold different numbers of rows, none included; the other axes must be `rest` on every
    /// rank (a rank holding no rows passes a block of shape `[0] + rest`, or any empty tensor).
    ///
    /// What N-body needs every step: each rank moves its own bodies, then every rank needs every
    /// body's position.
    ///
    ///     let world = try Communicator.world()
    ///     let mine = Tensor<Double>([Double(world.rank)], shape: [1, 1])
    ///     let all = try world.allgather(mine, rest: [1])          // shape [size, 1]: 0, 1, 2, ...
    public func allgather<T: TensorScalar & BitwiseCopyable>(_ block: Tensor<T>, rest: [Int]) throws -> Tensor<T> {
        let rowSize = rest.reduce(1, *)
        let values: [T] = block.count == 0 ? [] : try block.scalars
        guard Array(block.shape.dropFirst()) == rest || values.isEmpty else {
            throw DistributionError.shapeMismatch(what: "allgather", shape: block.shape, expected: [block.shape.first ?? 0] + rest)
        }
        let blocks = try allgather(values)
        let total = blocks.reduce(0) { $0 + $1.count }
        if rowSize == 0 { return Tensor<T>(blocks.flatMap { $0 }, shape: [0] + rest) }
        guard total % rowSize == 0 else {
            throw DistributionError.shapeMismatch(what: "allgather", shape: [total], expected: [total / rowSize] + rest)
        }
        return Tensor<T>(blocks.flatMap { $0 }, shape: [total / rowSize] + rest)
    }

    /// Every rank's `partial` combined elementwise by `op` in rank order (`allreduce`), the
    /// same bits on every rank: the sums a rank-local reduction leaves (a histogram, the
    /// per-component sums of an EM step) made global. Every rank must pass the same shape.
    ///
    ///     let world = try Communicator.world()
    ///     let local = Tensor<Double>.uniform([100, 4], seed: UInt64(world.rank)).sum(axis: 0)
    ///     let total = try world.allreduce(local, .sum)             // shape [4], the same everywhere
    public func allreduce<T: TensorScalar & RankOrderedReducible>(_ partial: Tensor<T>, _ op: ReductionOp) throws -> Tensor<T> {
        let values: [T] = try partial.scalars
        return Tensor<T>(try allreduce(values, op), shape: partial.shape)
    }
}
