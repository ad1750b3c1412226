import Tandem
import TandemDistributed
import TandemMPI

/// Red-black SOR with the plate's rows in blocks over the ranks: each rank relaxes the cells of
/// one colour in its own rows with the single-process expression (`RedBlackSOR.relaxed`, on the
/// rows of the same global stride that fall in its block), and the halo rows are exchanged
/// before each colour, since a colour reads the other colour's cells in the rows above and
/// below. A cell of one colour reads only cells of the other, so relaxing a colour block by
/// block is relaxing it at once: the plate is the single-process plate, and only the final sum
/// (added over ranks in rank order) differs from one process's in the order of additions.
enum DistributedRedBlackSOR: GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
        let n = int(p, "n"), iterations = int(p, "iterations")
        let omega = p["omega"]!
        return Workload.Prepared {
            var plate = Tensor<T>.zeros([n + 2, n + 2])
            plate[0, .all] = Tensor(1)
            var a = try DistributedTensor(plate, halo: 1, on: world)
            let mine = a.globalRows
            /// The local rows of the global stride `i0, i0 + 2, ...` below `n + 1` in this rank's block.
            func localStride(_ i0: Int) -> (start: Int, end: Int)? {
                let lo = Swift.max(i0, mine.lowerBound), hi = Swift.min(n + 1, mine.upperBound)
                let first = lo + (lo - i0) % 2
                guard first < hi else { return nil }
                return (first - mine.lowerBound + a.halo, hi - mine.lowerBound + a.halo)
            }
            let strides = [1: localStride(1), 2: localStride(2)]
            for _ in 0..<iterations {
                for color in 0..<2 {
                    try a.exchangeHalos()
                    for i0 in 1...2 {
                        guard let rows = strides[i0]! else { continue }
                        let j0 = RedBlackSOR.firstColumn(i0: i0, color: color)
                        a.local[stride(from: rows.start, to: rows.end, by: 2), stride(from: j0, to: n + 1, by: 2)] =
                            RedBlackSOR.relaxed(a.local, rowStart: rows.start, rowEnd: rows.end, n: n, j0: j0, omega: omega)
                    }
                }
            }
            return ["sum": try a.sum()]
        }
    }
}
