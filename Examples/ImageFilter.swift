import Tandem

/// An 8-bit grey image (a smooth gradient with noise, `UInt8` as a camera gives it), smoothed by a
/// 3 x 3 box filter (sums of shifted slices in `Int32`, divided back to `UInt8`), its contrast
/// stretched to 0...255, thresholded at its mean, and its histogram counted with `bincount`.
///
/// Outputs: the stretched image's mean, the pixels above it, the smoothed image's darkest and
/// brightest values, the fullest histogram bin and its count, and a checksum weighting each
/// pixel by its column.
public enum ImageFilter {
    public static func run(width: Int = 2048, height: Int = 1536, noise: Double = 40) throws -> [String: Double] {
        let x = Tensor<Double>.arange(Double(width)).reshaped([1, width])
        let y = Tensor<Double>.arange(Double(height)).reshaped([height, 1])
        let base = 60 + 100 * (x / Double(width)) + 40 * (y / Double(height))
        let noisy = base + Tensor<Double>.uniform([height, width], seed: 70, in: -noise...noise)
        let image = Tensor<UInt8>(noisy.clip(0, 255))             // truncated, as NumPy's astype

        let wide = Tensor<Int32>(image)
        let (h, w) = (height - 2, width - 2)
        var sum = Tensor<Int32>.zeros([h, w])
        for di in 0...2 {
            for dj in 0...2 { sum += wide[di..<(di + h), dj..<(dj + w)] }
        }
        let smooth = Tensor<UInt8>(sum / 9)
        let darkest = try smooth.min().item(), brightest = try smooth.max().item()
        let span = Int32(Swift.max(Int(brightest) - Int(darkest), 1))
        let stretched = Tensor<UInt8>((Tensor<Int32>(smooth) - Int32(darkest)) * 255 / span)

        let mean = try stretched.mean().item()
        let above = try (Tensor<Double>(stretched) .> mean).sum().item()
        let counts = try stretched.bincount(minLength: 256).scalars
        let fullest = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
        let checksum = try (Tensor<Int64>(stretched) * Tensor<Int64>.arange(Int64(w))).sum().item()
        return ["mean": mean, "above_mean": Double(above), "darkest": Double(darkest), "brightest": Double(brightest),
                "fullest_bin": Double(fullest), "fullest_count": Double(counts[fullest]), "checksum": Double(checksum)]
    }
}
