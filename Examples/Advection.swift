import Tandem

/// A pulse carried around a periodic line: the 1-D advection equation `u_t + a u_x = 0` by
/// first-order upwind differences, `u ← u - c (u - roll(u, 1))` with the Courant number `c`,
/// and the peak read every `checkEvery` steps (the pulse spreads as upwind schemes do).
///
/// Outputs: the sum of `u` (conserved), its maximum and where it is at the end, and the sum of
/// the peaks read on the way.
public enum Advection {
    public static func run(n: Int = 2000, steps: Int = 500, courant: Double = 0.4, checkEvery: Int = 50) throws -> [String: Double] {
        let x = Tensor<Double>.arange(0, Double(n)) / Double(n)
        var u = (-200.0 * (x - 0.3).square()).exp()
        var peaks = 0.0
        for step in 0..<steps {
            u = u - courant * (u - u.rolled(by: 1))
            if step % checkEvery == 0 { peaks += try u.max().item() }
        }
        return ["sum": try u.sum().item(), "max": try u.max().item(), "argmax": Double(try u.argmax().item()), "peaks": peaks]
    }
}
