import Tandem

/// The power spectrum of a signal sampled at `sampleRate` Hz: a 50 Hz tone, a weaker 120 Hz one
/// and uniform noise, under a Hann window, transformed by a discrete Fourier transform written as
/// a complex matrix product (`e^{-2πi kj/n}` for the non-negative frequencies `k`). The matrix
/// is never stored: its entries (`ComplexTensor.polar`) are computed inside the product's kernels.
///
/// Outputs: the frequencies of the strongest bin and of the strongest one more than three bins
/// from it, the strongest bin's power and the sum of the powers.
public enum Spectrum {
    public static func run(n: Int = 2048, sampleRate: Double = 512) throws -> [String: Double] {
        let twoPi = 2.0 * Double.pi
        let t = Tensor<Double>.arange(0, Double(n)) / sampleRate
        let signal = (twoPi * 50.0 * t).sin() + 0.5 * (twoPi * 120.0 * t + 0.3).sin()
            + 0.3 * Tensor<Double>.uniform([n], seed: 60, in: -1...1)
        let j = Tensor<Double>.arange(0, Double(n))
        let window = 0.5 - 0.5 * (twoPi * j / Double(n - 1)).cos()          // Hann

        let bins = n / 2 + 1
        let k = Tensor<Double>.arange(0, Double(bins))
        let phase = (-twoPi / Double(n)) * (k.reshaped([bins, 1]) * j.reshaped([1, n]))
        let dft = ComplexTensor.polar(magnitude: Tensor(1.0), phase: phase)
        let spectrum = dft.matmul(signal * window)                           // complex, one per bin
        let power = spectrum.abs().squared() / Double(n)

        let peak = try power.argmax(axis: 0).item()
        let second = try select((k - Double(peak)).abs() .> 3, power, Tensor(0.0)).argmax(axis: 0).item()
        let width = sampleRate / Double(n)
        return ["peak_hz": Double(peak) * width, "second_peak_hz": Double(second) * width,
                "peak_power": try power[Int(peak)].item(), "power_sum": try power.sum().item()]
    }
}
