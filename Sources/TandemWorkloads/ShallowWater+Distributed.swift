import Tandem
import TandemDistributed
import TandemMPI

/// Shallow water with the grid's rows in blocks over the ranks, one halo row each side (the
/// Lax-Wendroff stencil reads one row up and one down). Each step: the halos of H, U and V are
/// exchanged; each rank walls its whole local block, halo rows included, with the
/// single-process walls (the side walls act on each row alone, and a rank that sees global row 0
/// or n+1, as its own row or as a halo, walls it from row 1 or n, which it also sees), so its
/// halo rows hold exactly the walled rows their owners hold; then each rank updates its own
/// interior rows with the single-process stencil (`ShallowWater.interiors`). The sums are added
/// over ranks in rank order.
enum DistributedShallowWater: GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
        let params = ShallowWater.parameters(p)
        let steps = int(p, "steps")
        let n = params.n
        return Workload.Prepared {
            var H = try DistributedTensor(ShallowWater.initialHeight(n) as Tensor<T>, halo: 1, on: world)
            var U = try DistributedTensor<T>.zeros([n + 2, n + 2], halo: 1, on: world)
            var V = try DistributedTensor<T>.zeros([n + 2, n + 2], halo: 1, on: world)
            let holdsRows = !H.ownedRows.isEmpty
            let rows = H.localRows(in: 1..<(n + 1))
            // Where global row g lies in the local block, halos included, if it does.
            let window = (H.globalRows.lowerBound - H.halo)..<(H.globalRows.upperBound + H.halo)
            func local(_ g: Int) -> Int? { holdsRows && window.contains(g) ? g - window.lowerBound : nil }
            for _ in 0..<steps {
                // The last step's three updates in one plan (they share their half steps),
                // before the exchanges read their edge rows one field at a time.
                try Tandem.flush(H.local, U.local, V.local)
                try H.exchangeHalos()
                try U.exchangeHalos()
                try V.exchangeHalos()
                guard holdsRows else { continue }
                ShallowWater.sideWalls(&H.local, &U.local, &V.local)
                if let top = local(0), let below = local(1) { ShallowWater.rowWall(&H.local, &U.local, &V.local, row: top, from: below) }
                if let bottom = local(n + 1), let above = local(n) { ShallowWater.rowWall(&H.local, &U.local, &V.local, row: bottom, from: above) }
                if !rows.isEmpty {
                    let (newH, newU, newV) = ShallowWater.interiors(H.local, U.local, V.local, rows: rows, params)
                    H.local[rows, 1...n] = newH
                    U.local[rows, 1...n] = newU
                    V.local[rows, 1...n] = newV
                }
            }
            var partials = [0.0, 0.0]
            if holdsRows {
                let own = H.ownedRows
                let (h, u, v) = (H.local[own], U.local[own], V.local[own])
                let hSum = sum64(h), energy = sum64(u * u + v * v)
                try Tandem.flush(hSum, energy)
                partials = [try hSum.item(), try energy.item()]
            }
            let totals = try world.allreduce(partials, .sum)
            return ["h_sum": totals[0], "energy": totals[1]]
        }
    }
}
