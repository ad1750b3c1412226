import Tandem

/// Phase separation: the Allen–Cahn equation `u_t = ε² Δu + u - u³` on the periodic unit square
/// from small random values, by semi-implicit Fourier spectral steps (the stiff diffusion
/// implicit in Fourier space, the reaction explicit): `(1 + dt ε² |k|²) û' = û + dt·F(u - u³)`.
/// Each step is two two-dimensional FFTs (`fft2`, `ifft2`) with element-wise work between them.
///
/// Outputs: the mean of `u`, the mean of `|u|` (near 1 once the phases have separated), the
/// fraction of the square where `u > 0`, and the mean of the double-well energy `(u² - 1)²/4`.
public enum AllenCahn {
    public static func run(n: Int = 128, steps: Int = 500, dt: Double = 0.05, epsilon: Double = 0.02) throws -> [String: Double] {
        var u = Tensor<Double>.uniform([n * n], seed: 70, in: -0.1...0.1).reshaped([n, n])
        let k = 2.0 * Double.pi * Tensor<Double>.fftfreq(n, d: 1.0 / Double(n))          // wave numbers
        let k2 = k.reshaped([n, 1]) * k.reshaped([n, 1]) + k.reshaped([1, n]) * k.reshaped([1, n])
        let coefficient = dt * epsilon * epsilon
        let denominator = ComplexTensor(1.0 + coefficient * k2)
        var uHat = try u.fft2()
        for _ in 0..<steps {
            let reaction = try (u - u * u * u).fft2()
            uHat = (uHat + reaction * dt) / denominator
            u = try uHat.ifft2().real
        }
        let well = u * u - 1
        return ["mean": try u.mean().item(), "abs_mean": try u.abs().mean().item(),
                "positive_fraction": try Tensor<Double>(u .> 0).mean().item(),
                "energy": try (0.25 * well * well).mean().item()]
    }
}
