import Tandem

/// Edges of a synthetic photograph: a smooth pattern plus uniform noise, blurred by a 3 x 3 box
/// filter over its reflected border (`padded(mode: .reflect)`), then the Sobel gradient
/// magnitude over the edge-replicated blur (`.edge`), thresholded, with the median magnitude
/// (`median`, a selection on the host). Nine shifted views summed in a loop fuse into one
/// kernel; the padding is written piece by piece. A program ported from NumPy to check the
/// default path on programs nobody tuned for.
///
/// Outputs: the mean of the blur, the largest magnitude, the count of `strong` edges (above
/// `threshold`) and the median magnitude.
public enum EdgeDetection {
    public static func run(height: Int = 800, width: Int = 1200, threshold: Double = 20) throws -> [String: Double] {
        let (h, w) = (height, width)
        let rows = Tensor<Double>.arange(0, Double(h))[.all, .newAxis]
        let columns = Tensor<Double>.arange(0, Double(w))[.newAxis, .all]
        let image = ((columns * 0.1).sin() * (rows * 0.07).cos() + 1) * 100 + Tensor<Double>.uniform([h, w], seed: 5, in: 0...10)
        let p = image.padded([(1, 1), (1, 1)], mode: .reflect)
        var blur = Tensor<Double>.zeros([h, w])
        for dy in 0..<3 {
            for dx in 0..<3 { blur = blur + p[dy..<(dy + h), dx..<(dx + w)] / 9 }
        }
        let q = blur.padded([(1, 1), (1, 1)], mode: .edge)
        // Sobel: right column minus left column, bottom row minus top row, centre weight 2.
        let right = q[0..<h, 2..<(w + 2)] + 2 * q[1..<(h + 1), 2..<(w + 2)] + q[2..<(h + 2), 2..<(w + 2)]
        let left = q[0..<h, 0..<w] + 2 * q[1..<(h + 1), 0..<w] + q[2..<(h + 2), 0..<w]
        let bottom = q[2..<(h + 2), 0..<w] + 2 * q[2..<(h + 2), 1..<(w + 1)] + q[2..<(h + 2), 2..<(w + 2)]
        let top = q[0..<h, 0..<w] + 2 * q[0..<h, 1..<(w + 1)] + q[0..<h, 2..<(w + 2)]
        let gx = right - left, gy = bottom - top
        let magnitude = (gx * gx + gy * gy).sqrt()
        return ["blur_mean": try blur.mean().item(), "magnitude_max": try magnitude.max().item(),
                "strong": Double(try (magnitude .> threshold).sum().item()), "median": try magnitude.median().item()]
    }
}
