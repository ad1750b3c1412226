/// How `Communicator.allreduce` combines the ranks' values.
public enum ReductionOp: String, Sendable, CaseIterable {
    /// The sum, added in rank order: `((r0 + r1) + r2) + ...`.
    case sum
    /// The largest value; a NaN wins (the first in rank order), as `Tensor.max` propagates NaN.
    case max
    /// The smallest value; a NaN wins, as for `max`.
    case min
}

/// An element type `Communicator.allreduce` can combine: a plain value moved as bytes, and the
/// combination of two values by a `ReductionOp`.
public protocol RankOrderedReducible: BitwiseCopyable {
    /// `a` combined with `b` by `op` (`a` holds the lower ranks' result).
    static func combine(_ a: Self, _ b: Self, _ op: ReductionOp) -> Self
}

extension RankOrderedReducible where Self: BinaryFloatingPoint {
    public static func combine(_ a: Self, _ b: Self, _ op: ReductionOp) -> Self {
        switch op {
        case .sum: a + b
        case .max: a.isNaN ? a : b.isNaN ? b : (b > a ? b : a)
        case .min: a.isNaN ? a : b.isNaN ? b : (b < a ? b : a)
        }
    }
}

extension RankOrderedReducible where Self: FixedWidthInteger {
    /// Sums wrap, as Tandem's integer tensors do.
    public static func combine(_ a: Self, _ b: Self, _ op: ReductionOp) -> Self {
        switch op {
        case .sum: a &+ b
        case .max: Swift.max(a, b)
        case .min: Swift.min(a, b)
        }
    }
}

extension Double: RankOrderedReducible {}
extension Float: RankOrderedReducible {}
extension Int: RankOrderedReducible {}
extension Int32: RankOrderedReducible {}
extension Int64: RankOrderedReducible {}
extension UInt64: RankOrderedReducible {}

extension Communicator {
    /// The largest message one MPI call can describe: MPI's counts are C `int`s.
    static let maxMessageBytes = Int(Int32.max)

    /// `count` values of `T` whose bytes are zero, for MPI to write into.
    static func zeroed<T: BitwiseCopyable>(_ count: Int) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // This is safe: T is BitwiseCopyable (plain bytes), and every byte is set here.
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            initialized = count
        }
    }

    /// `count` values of `T` as a byte count, or a clear error past MPI's `int` counts.
    static func byteCount<T>(_ count: Int, of _: T.Type, _ call: String) throws -> Int32 {
        let bytes = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !bytes.overflow, bytes.partialValue <= maxMessageBytes else {
            throw MPIError(call: call, code: -1, message: "\(count) values of \(MemoryLayout<T>.stride) bytes exceed the \(maxMessageBytes) bytes one MPI call can move")
        }
        return Int32(bytes.partialValue)
    }

    /// The values of rank `root` on every rank (`MPI_Bcast`: its count first, then the values;
    /// what other ranks pass is ignored).
    ///
    ///     let world = try Communicator.world()
    ///     let seed: [UInt64] = try world.broadcast(world.rank == 0 ? [42] : [], from: 0)
    public func broadcast<T: BitwiseCopyable>(_ values: [T], from root: Int = 0) throws -> [T] {
        precondition((0..<size).contains(root), "broadcast: root \(root) is not a rank of this \(size)-rank world")
        guard mpi != nil else { return values }
        try arrive()
        var count = Int64(rank == root ? values.count : 0)
        try call("MPI_Bcast") { mpi, comm in
            withUnsafeMutableBytes(of: &count) { mpi.MPI_Bcast($0.baseAddress, 8, mpi.handles.byte, Int32(root), comm) }
        }
        let bytes = try Communicator.byteCount(Int(count), of: T.self, "MPI_Bcast")
        var out: [T] = rank == root ? values : Communicator.zeroed(Int(count))
        try call("MPI_Bcast", bytes: rank == root ? bytes : 0) { mpi, comm in
            out.withUnsafeMutableBytes { mpi.MPI_Bcast($0.baseAddress, bytes, mpi.handles.byte, Int32(root), comm) }
        }
        return out
    }

    /// One value of rank `root` on every rank.
    ///
    ///     let world = try Communicator.world()
    ///     let steps = try world.broadcast(world.rank == 0 ? 100 : 0, from: 0)
    public func broadcast<T: BitwiseCopyable>(_ value: T, from root: Int = 0) throws -> T {
        try broadcast([value], from: root)[0]
    }

    /// Every rank's values, in rank order, on every rank (`MPI_Allgather` of the counts, then
    /// `MPI_Allgatherv`): ranks may pass different counts.
    ///
    ///     let world = try Communicator.world()
    ///     let everyone = try world.allgather([world.rank, world.rank * 10])
    ///     // everyone[r] == [r, 10 * r] on every rank
    public func allgather<T: BitwiseCopyable>(_ values: [T]) throws -> [[T]] {
        guard mpi != nil else { return [values] }
        try arrive()
        var mine = Int64(values.count)
        var counts = [Int64](repeating: 0, count: size)
        try call("MPI_Allgather") { mpi, comm in
            withUnsafeBytes(of: &mine) { m in
                counts.withUnsafeMutableBytes { mpi.MPI_Allgather(m.baseAddress, 8, mpi.handles.byte, $0.baseAddress, 8, mpi.handles.byte, comm) }
            }
        }
        let total = counts.reduce(0) { $0 + Int($1) }
        _ = try Communicator.byteCount(total, of: T.self, "MPI_Allgatherv")
        let stride = MemoryLayout<T>.stride
        let byteCounts = counts.map { Int32(Int($0) * stride) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(1, size) { displacements[r] = displacements[r - 1] + byteCounts[r - 1] }
        let sendBytes = try Communicator.byteCount(values.count, of: T.self, "MPI_Allgatherv")
        var flat: [T] = Communicator.zeroed(total)
        try call("MPI_Allgatherv", bytes: sendBytes) { mpi, comm in
            values.withUnsafeBytes { send in
                flat.withUnsafeMutableBytes { receive in
                    mpi.MPI_Allgatherv(send.baseAddress, sendBytes, mpi.handles.byte, receive.baseAddress, byteCounts, displacements,
                                       mpi.handles.byte, comm)
                }
            }
        }
        var out: [[T]] = []
        var start = 0
        for c in counts {
            out.append(Array(flat[start..<(start + Int(c))]))
            start += Int(c)
        }
        return out
    }

    /// The values of all ranks combined elementwise by `op`, the same bits on every rank, and
    /// independent of timing: every rank gathers all partials (`MPI_Allgather`) and folds them
    /// in rank order, `((p0 op p1) op p2) ...`, which is exactly what one process adding the
    /// partials in that order gets. Every rank must pass the same number of values.
    ///
    /// The trade-off: MPI's own `MPI_Allreduce` moves less data on many ranks (a tree or ring,
    /// O(log N) or O(1) per rank against O(N) here) but its order of additions depends on the
    /// algorithm Open MPI picks for the message size and rank count, so a float sum could differ
    /// in the last bits between runs on different rank counts. Tandem reduces a few scalars per
    /// step (a residual, a norm), where N partials cost nothing and bit-identical results are
    /// worth more.
    ///
    ///     let world = try Communicator.world()
    ///     let partials: [Double] = [Double(world.rank), 1]
    ///     let totals = try world.allreduce(partials, .sum)   // [0 + 1 + ..., size]
    public func allreduce<T: RankOrderedReducible>(_ values: [T], _ op: ReductionOp) throws -> [T] {
        guard mpi != nil else { return values }
        try arrive()
        let bytes = try Communicator.byteCount(values.count, of: T.self, "MPI_Allgather")
        let n = values.count
        var all: [T] = Communicator.zeroed(n * size)
        try call("MPI_Allgather", bytes: bytes) { mpi, comm in
            values.withUnsafeBytes { send in
                all.withUnsafeMutableBytes { mpi.MPI_Allgather(send.baseAddress, bytes, mpi.handles.byte, $0.baseAddress, bytes, mpi.handles.byte, comm) }
            }
        }
        return Communicator.foldInRankOrder(all, count: n, ranks: size, op)
    }

    /// One value of every rank combined by `op` in rank order (see `allreduce(_:_:)`).
    ///
    ///     let world = try Communicator.world()
    ///     let largest = try world.allreduce(Double(world.rank), .max)
    public func allreduce<T: RankOrderedReducible>(_ value: T, _ op: ReductionOp) throws -> T {
        try allreduce([value], op)[0]
    }

    /// `all` holds `ranks` blocks of `count` values, rank 0's first: their elementwise
    /// combination, rank 0's block combined with rank 1's, the result with rank 2's, ...
    public static func foldInRankOrder<T: RankOrderedReducible>(_ all: [T], count: Int, ranks: Int, _ op: ReductionOp) -> [T] {
        precondition(all.count == count * ranks, "foldInRankOrder: \(all.count) values are not \(ranks) blocks of \(count)")
        guard ranks > 0 else { return [] }
        var out = Array(all[0..<count])
        for r in 1..<ranks {
            for i in 0..<count { out[i] = T.combine(out[i], all[r * count + i], op) }
        }
        return out
    }

    /// Sends `values` to rank `destination` while receiving `count` values from rank `source`
    /// (`MPI_Sendrecv`, one call, so neighbours exchanging both ways cannot deadlock). A nil rank
    /// is no one (`MPI_PROC_NULL`): nothing is sent, or nil is returned. The halo exchange of
    /// `DistributedTensor` is two of these per step.
    ///
    ///     let world = try Communicator.world()
    ///     let right = world.rank + 1 < world.size ? world.rank + 1 : nil
    ///     let left = world.rank > 0 ? world.rank - 1 : nil
    ///     let fromLeft: [Double]? = try world.sendReceive([Double(world.rank)], to: right, receiving: 1, from: left)
    public func sendReceive<T: BitwiseCopyable>(_ values: [T], to destination: Int?, receiving count: Int, from source: Int?,
                                                tag: Int = 0) throws -> [T]? {
        precondition(count >= 0, "sendReceive: a negative count \(count)")
        guard mpi != nil else {
            for r in [destination, source].compactMap({ $0 }) where r != 0 {
                throw MPIError(call: "MPI_Sendrecv", code: -1, message: "rank \(r) is not a rank of this 1-rank world")
            }
            guard source != nil else { return nil }
            precondition(destination == 0 && values.count == count, "sendReceive: a 1-rank world receives only what it sends itself")
            return values
        }
        try arrive()
        let sendBytes = try Communicator.byteCount(destination == nil ? 0 : values.count, of: T.self, "MPI_Sendrecv")
        let receiveBytes = try Communicator.byteCount(source == nil ? 0 : count, of: T.self, "MPI_Sendrecv")
        let n = source == nil ? 0 : count
        var received: [T] = Communicator.zeroed(n)
        let to = Int32(clamping: destination ?? Int(MPIConstant.procNull)), from = Int32(clamping: source ?? Int(MPIConstant.procNull))
        // An MPI_Status (24 bytes in Open MPI), with room to spare: only MPI_Get_count reads it.
        var status = [UInt64](repeating: 0, count: 8)
        var got: Int32 = 0
        try call("MPI_Sendrecv", bytes: sendBytes) { mpi, comm in
            values.withUnsafeBytes { send in
                received.withUnsafeMutableBytes { receive in
                    status.withUnsafeMutableBytes { st in
                        let r = mpi.MPI_Sendrecv(send.baseAddress, sendBytes, mpi.handles.byte, to, Int32(clamping: tag), receive.baseAddress,
                                                 receiveBytes, mpi.handles.byte, from, Int32(clamping: tag), comm, st.baseAddress)
                        return r != MPIConstant.success || source == nil ? r : mpi.MPI_Get_count(st.baseAddress, mpi.handles.byte, &got)
                    }
                }
            }
        }
        // A longer message is MPI's error (MPI_ERR_TRUNCATE); a shorter one would leave zeros.
        if source != nil && got != receiveBytes {
            throw MPIError(call: "MPI_Sendrecv", code: -1, message: "rank \(source!) sent \(got) bytes where \(receiveBytes) were expected (\(count) values)")
        }
        return source == nil ? nil : received
    }
}
