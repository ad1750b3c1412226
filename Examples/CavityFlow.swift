import Tandem

/// Lid-driven cavity flow: the incompressible Navier–Stokes equations on a square of side 2,
/// the top lid moving at speed 1, the other walls still, solved by finite differences with a
/// pressure Poisson equation relaxed `poissonIterations` times per time step (Barba's "12 steps
/// to Navier–Stokes", step 11). A time step is a dozen small stencils and boundary writes: the
/// program of many small kernels over a modest grid. Nothing is read until the end.
///
/// Outputs: `u_center` and `v_center` (velocity at the middle of the grid), `p_sum` (sum of the
/// pressure) and `energy` (sum of u² + v²).
public enum CavityFlow {
    public static func run(n: Int = 41, steps: Int = 100, poissonIterations: Int = 50, rho: Double = 1, nu: Double = 0.1,
                           dt: Double = 0.001) throws -> [String: Double] {
        let dx = 2.0 / Double(n - 1), dy = 2.0 / Double(n - 1)
        var u = Tensor<Double>.zeros([n, n]), v = Tensor<Double>.zeros([n, n])
        var p = Tensor<Double>.zeros([n, n]), b = Tensor<Double>.zeros([n, n])
        let inner = 1..<(n - 1), east = 2..<n, west = 0..<(n - 2)      // rows are y, columns x
        for _ in 0..<steps {
            let un = u, vn = v
            // The source term of the pressure equation.
            let dudx = (u[inner, east] - u[inner, west]) / (2 * dx)
            let dvdy = (v[east, inner] - v[west, inner]) / (2 * dy)
            let dudy = (u[east, inner] - u[west, inner]) / (2 * dy)
            let dvdx = (v[inner, east] - v[inner, west]) / (2 * dx)
            b[inner, inner] = rho * (1 / dt * (dudx + dvdy) - dudx * dudx - 2 * (dudy * dvdx) - dvdy * dvdy)
            for _ in 0..<poissonIterations {
                let pn = p
                p[inner, inner] = ((pn[inner, east] + pn[inner, west]) * (dy * dy) + (pn[east, inner] + pn[west, inner]) * (dx * dx))
                    / (2 * (dx * dx + dy * dy)) - (dx * dx * dy * dy) / (2 * (dx * dx + dy * dy)) * b[inner, inner]
                p[.all, n - 1] = p[.all, n - 2]        // dp/dx = 0 at x = 2
                p[0, .all] = p[1, .all]                // dp/dy = 0 at y = 0
                p[.all, 0] = p[.all, 1]                // dp/dx = 0 at x = 0
                p[n - 1, .all] = Tensor(0.0)           // p = 0 at y = 2
            }
            // Long operator expressions are split into named terms: Swift's type checker gives up
            // on a whole update written as one expression (NumPy's single line).
            let uc = un[inner, inner], vc = vn[inner, inner]
            let uAdvection = uc * (dt / dx) * (uc - un[inner, west]) + vc * (dt / dy) * (uc - un[west, inner])
            let uPressure = dt / (2 * rho * dx) * (p[inner, east] - p[inner, west])
            let uDiffusion = nu * (dt / (dx * dx) * (un[inner, east] - 2 * uc + un[inner, west])
                                   + dt / (dy * dy) * (un[east, inner] - 2 * uc + un[west, inner]))
            let vAdvection = uc * (dt / dx) * (vc - vn[inner, west]) + vc * (dt / dy) * (vc - vn[west, inner])
            let vPressure = dt / (2 * rho * dy) * (p[east, inner] - p[west, inner])
            let vDiffusion = nu * (dt / (dx * dx) * (vn[inner, east] - 2 * vc + vn[inner, west])
                                   + dt / (dy * dy) * (vn[east, inner] - 2 * vc + vn[west, inner]))
            u[inner, inner] = uc - uAdvection - uPressure + uDiffusion
            v[inner, inner] = vc - vAdvection - vPressure + vDiffusion
            u[0, .all] = Tensor(0.0); u[.all, 0] = Tensor(0.0); u[.all, n - 1] = Tensor(0.0)
            u[n - 1, .all] = Tensor(1.0)               // the lid
            v[0, .all] = Tensor(0.0); v[n - 1, .all] = Tensor(0.0); v[.all, 0] = Tensor(0.0); v[.all, n - 1] = Tensor(0.0)
        }
        return ["u_center": try u[n / 2, n / 2].item(), "v_center": try v[n / 2, n / 2].item(),
                "p_sum": try p.sum().item(), "energy": try (u * u + v * v).sum().item()]
    }
}
