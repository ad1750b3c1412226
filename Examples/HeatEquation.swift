import Tandem

/// Steady-state temperature of a square plate: the top edge is held at 1, the other edges at 0,
/// and a disc-shaped heater of radius 0.2 in the middle adds heat. Solves the Poisson equation
/// -Δu = f on an (n+2)x(n+2) grid with Jacobi iterations, reading the largest change of an
/// update every `checkEvery` iterations and stopping once it is below `tolerance`.
///
/// Outputs: `iterations` done, the last `residual` read, the `total` of the grid and the
/// temperature at the `center`.
public enum HeatEquation {
    public static func run(n: Int = 64, tolerance: Double = 1e-6, maxIterations: Int = 20_000,
                           checkEvery: Int = 10) throws -> [String: Double] {
        let h = 1.0 / Double(n + 1)                        // grid spacing on the unit square
        var u = Tensor<Double>.zeros([n + 2, n + 2])
        u[0, .all] = Tensor(1.0)                           // the hot top edge

        // The heater: f = 50 inside the disc (x - 0.5)^2 + (y - 0.5)^2 < 0.04, 0 outside.
        let x = Tensor<Double>.arange(0, Double(n + 2)) * h
        let r2 = (x[.all, .newAxis] - 0.5).squared() + (x[.newAxis, .all] - 0.5).squared()
        let heater = `where`(r2 .< 0.04, 50.0, Tensor<Double>(0))
        let h2f = (h * h) * heater[1...n, 1...n]

        var iterations = 0
        var residual = Double.infinity
        while iterations < maxIterations && residual >= tolerance {
            let interior = u[1...n, 1...n]
            let next = 0.25 * (u[0..<n, 1...n] + u[2...(n + 1), 1...n]
                               + u[1...n, 0..<n] + u[1...n, 2...(n + 1)] + h2f)
            let change = (next - interior).abs().max()    // lazy: only computed when read
            u[1...n, 1...n] = next
            iterations += 1
            if iterations % checkEvery == 0 || iterations == maxIterations {
                residual = try change.item()               // a sync point every few iterations
            }
        }
        return ["iterations": Double(iterations), "residual": residual,
                "total": try u.sum().item(), "center": try u[n / 2 + 1, n / 2 + 1].item()]
    }
}
