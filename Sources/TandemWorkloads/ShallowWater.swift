import Tandem

/// Lax-Wendroff shallow-water equations with reflecting walls on an (n+2)^2 grid.
enum ShallowWater: GenericWorkload {
    struct Params {
        let n: Int
        let dt, dx, dy, g: Double
    }

    /// The new values of H, U and V on `rows` (each with a row above and below in the fields)
    /// and the interior columns `1...n`, from the current (walled) fields. In one process `rows`
    /// is the interior, `1..<(n + 1)`; distributed, a rank's own interior rows in its local
    /// block (between its halo rows): the same expressions on fewer rows.
    static func interiors<T: FloatingTensorScalar>(_ H: Tensor<T>, _ U: Tensor<T>, _ V: Tensor<T>, rows: Range<Int>, _ p: Params)
        -> (Tensor<T>, Tensor<T>, Tensor<T>) {
        let n = p.n, m = rows.count
        let inner = 1...n
        let half = T(0.5), g2 = T(p.g / 2)
        let cx = T(p.dt / (2 * p.dx)), cy = T(p.dt / (2 * p.dy))
        // Half steps in x (on the m+1 faces between the rows and their neighbours) ...
        let south = rows.lowerBound..<(rows.upperBound + 1), north = (rows.lowerBound - 1)..<rows.upperBound
        let (Hs, Hn) = (H[south, inner], H[north, inner])
        let (Us, Un) = (U[south, inner], U[north, inner])
        let (Vs, Vn) = (V[south, inner], V[north, inner])
        let Hx = (Hs + Hn) * half - cx * (Us - Un)
        let Ux = (Us + Un) * half - cx * ((Us.squared() / Hs + g2 * Hs.squared()) - (Un.squared() / Hn + g2 * Hn.squared()))
        let Vx = (Vs + Vn) * half - cx * ((Us * Vs / Hs) - (Un * Vn / Hn))
        // ... and in y (between columns).
        let (He, Hw) = (H[rows, 1...], H[rows, ..<(n + 1)])
        let (Ue, Uw) = (U[rows, 1...], U[rows, ..<(n + 1)])
        let (Ve, Vw) = (V[rows, 1...], V[rows, ..<(n + 1)])
        let Hy = (He + Hw) * half - cy * (Ve - Vw)
        let Uy = (Ue + Uw) * half - cy * ((Ve * Ue / He) - (Vw * Uw / Hw))
        let Vy = (Ve + Vw) * half - cy * ((Ve.squared() / He + g2 * He.squared()) - (Vw.squared() / Hw + g2 * Hw.squared()))

        let ax = T(p.dt / p.dx), ay = T(p.dt / p.dy)
        let (Ux1, Ux0, Hx1, Hx0, Vx1, Vx0) = (Ux[1..., .all], Ux[..<m, .all], Hx[1..., .all], Hx[..<m, .all], Vx[1..., .all], Vx[..<m, .all])
        let (Vy1, Vy0, Hy1, Hy0, Uy1, Uy0) = (Vy[.all, 1...], Vy[.all, ..<n], Hy[.all, 1...], Hy[.all, ..<n], Uy[.all, 1...], Uy[.all, ..<n])
        let newH = H[rows, inner] - ax * (Ux1 - Ux0) - ay * (Vy1 - Vy0)
        let fluxUx = (Ux1.squared() / Hx1 + g2 * Hx1.squared()) - (Ux0.squared() / Hx0 + g2 * Hx0.squared())
        let fluxUy = (Vy1 * Uy1 / Hy1) - (Vy0 * Uy0 / Hy0)
        let newU = U[rows, inner] - ax * fluxUx - ay * fluxUy
        let fluxVx = (Ux1 * Vx1 / Hx1) - (Ux0 * Vx0 / Hx0)
        let fluxVy = (Vy1.squared() / Hy1 + g2 * Hy1.squared()) - (Vy0.squared() / Hy0 + g2 * Hy0.squared())
        let newV = V[rows, inner] - ax * fluxVx - ay * fluxVy
        return (newH, newU, newV)
    }

    /// Reflecting walls: copy (or negate) the first and last interior rows and columns outward.
    static func walls<T: FloatingTensorScalar>(_ H: inout Tensor<T>, _ U: inout Tensor<T>, _ V: inout Tensor<T>) {
        sideWalls(&H, &U, &V)
        rowWall(&H, &U, &V, row: 0, from: 1)
        rowWall(&H, &U, &V, row: -1, from: -2)
    }

    /// The walls of the first and last columns, on every row of the fields (each row alone: a
    /// rank applies them to its halo rows too, and gets its neighbours' walled rows).
    static func sideWalls<T: FloatingTensorScalar>(_ H: inout Tensor<T>, _ U: inout Tensor<T>, _ V: inout Tensor<T>) {
        H[.all, 0] = H[.all, 1]; U[.all, 0] = U[.all, 1]; V[.all, 0] = -V[.all, 1]
        H[.all, -1] = H[.all, -2]; U[.all, -1] = U[.all, -2]; V[.all, -1] = -V[.all, -2]
    }

    /// The wall of a first or last row: row `row` of the fields from row `from` (U negated).
    static func rowWall<T: FloatingTensorScalar>(_ H: inout Tensor<T>, _ U: inout Tensor<T>, _ V: inout Tensor<T>, row: Int, from: Int) {
        H[row, .all] = H[from, .all]; U[row, .all] = -U[from, .all]; V[row, .all] = V[from, .all]
    }

    /// The starting water height, a Gaussian bump on 1 over the (n+2)^2 grid (lazy: a rank
    /// computes only the rows it slices).
    static func initialHeight<T: FloatingTensorScalar>(_ n: Int) -> Tensor<T> {
        let i = Tensor<Double>.arange(0, Double(n + 2))[.all, .newAxis]
        let j = Tensor<Double>.arange(0, Double(n + 2))[.newAxis, .all]
        let sigma = Swift.max(Double(n) / 16, 1)
        let q = Double(n) / 4
        return Tensor<T>(1 + (-((i - q).squared() + (j - q).squared()) / (sigma * sigma)).exp())
    }

    static func parameters(_ p: [String: Double]) -> Params {
        Params(n: int(p, "n"), dt: p["dt"]!, dx: p["dx"]!, dy: p["dy"]!, g: p["g"]!)
    }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let params = parameters(p)
        let steps = int(p, "steps")
        let n = params.n
        return Workload.Prepared {
            var H: Tensor<T> = initialHeight(n)
            var U = Tensor<T>.zeros([n + 2, n + 2])
            var V = Tensor<T>.zeros([n + 2, n + 2])
            for _ in 0..<steps {
                walls(&H, &U, &V)
                let (newH, newU, newV) = interiors(H, U, V, rows: 1..<(n + 1), params)
                H[1...n, 1...n] = newH
                U[1...n, 1...n] = newU
                V[1...n, 1...n] = newV
            }
            let hSum = sum64(H), energy = sum64(U * U + V * V)
            try Tandem.flush(hSum, energy)
            return ["h_sum": try hSum.item(), "energy": try energy.item()]
        }
    }
}
