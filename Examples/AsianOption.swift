import Tandem

/// Monte Carlo price of an arithmetic-average Asian call option. Each of `paths` price paths
/// follows geometric Brownian motion over `steps` equal steps to `maturity`; the normal draws
/// come from pairs of counter-based uniforms through the Box-Muller transform (one pair of
/// streams per step). The payoff max(mean price - strike, 0) is discounted at `rate`.
///
/// Outputs: the `price`, its Monte Carlo `std_error`, and the mean final price (`mean_final`,
/// which should be close to s0·e^(rate·maturity)).
public enum AsianOption {
    public static func run(paths: Int = 100_000, steps: Int = 50, s0: Double = 100, strike: Double = 100,
                           rate: Double = 0.05, sigma: Double = 0.2, maturity: Double = 1) throws -> [String: Double] {
        let dt = maturity / Double(steps)
        let drift = (rate - 0.5 * sigma * sigma) * dt
        let vol = sigma * dt.squareRoot()

        var price = Tensor<Double>.full([paths], s0)
        var running = Tensor<Double>.zeros([paths])
        for step in 0..<steps {
            let u1 = Tensor<Double>.uniform([paths], seed: UInt64(1000 + 2 * step))
            let u2 = Tensor<Double>.uniform([paths], seed: UInt64(1001 + 2 * step))
            let z = (-2.0 * (1.0 - u1).log()).sqrt() * (2.0 * Double.pi * u2).cos()   // standard normal
            price = price * exp(drift + vol * z)
            running += price
        }
        let payoff = max(running / Double(steps) - strike, 0.0)
        let discount = exp(Tensor(-rate * maturity))
        let mean = payoff.mean()
        let variance = (payoff - mean).squared().sum() / Double(paths - 1)
        return ["price": try (discount * mean).item(),
                "std_error": try (discount * (variance / Double(paths)).sqrt()).item(),
                "mean_final": try price.mean().item()]
    }
}
