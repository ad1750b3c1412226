import Tandem

/// A low-pass FIR filter. The signal, sampled at `sampleRate` Hz, is a 5 Hz and a 12 Hz tone
/// plus a 120 Hz hum and uniform noise. The filter is a windowed sinc (Hamming window) with
/// `taps` coefficients and a `cutoff` in Hz, normalised to unit gain at 0 Hz; it is applied
/// as a sum of shifted slices (a "valid" convolution), then the output is decimated by 4.
///
/// Outputs: the RMS error against the clean tones before and after filtering, the sum of the
/// filtered signal and the sum of its decimated samples.
public enum FIRFilter {
    public static func run(n: Int = 2_000_000, taps: Int = 101, cutoff: Double = 30, sampleRate: Double = 1000) throws -> [String: Double] {
        let twoPi = 2.0 * Double.pi
        let t = Tensor<Double>.arange(0, Double(n)) / sampleRate
        let clean = (twoPi * 5.0 * t).sin() + 0.5 * (twoPi * 12.0 * t).sin()
        let hum = 0.3 * (twoPi * 120.0 * t).sin()
        let signal = clean + hum + 0.4 * Tensor<Double>.uniform([n], seed: 50, in: -1...1)

        // Filter design: h[k] = sinc(2 fc (k - M/2)) · hamming[k], then h / sum(h).
        let fc = cutoff / sampleRate
        let k = Tensor<Double>.arange(0, Double(taps))
        let m = k - Double(taps - 1) / 2
        let x = Double.pi * 2.0 * fc * m
        let sinc = `where`(m .== 0, 1.0, x.sin() / x)
        let hamming = 0.54 - 0.46 * (twoPi * k / Double(taps - 1)).cos()
        let window = sinc * hamming
        let h = try (window / window.sum()).scalars()          // the coefficients, as Swift numbers

        // y[j] = sum_k h[k] · signal[j + k] (h is symmetric, so this is the convolution).
        let outCount = n - taps + 1
        var filtered = Tensor<Double>.zeros([outCount])
        for (i, coefficient) in h.enumerated() {
            filtered += coefficient * signal[i..<(i + outCount)]
        }
        let delay = (taps - 1) / 2
        let reference = clean[delay..<(delay + outCount)]
        let errorBefore = ((signal[delay..<(delay + outCount)] - reference).squared().mean()).sqrt()
        let errorAfter = ((filtered - reference).squared().mean()).sqrt()
        let decimated = filtered[stride(from: 0, to: outCount, by: 4)]
        return ["rms_error_before": try errorBefore.item(), "rms_error_after": try errorAfter.item(),
                "filtered_sum": try filtered.sum().item(), "decimated_sum": try decimated.sum().item()]
    }
}
