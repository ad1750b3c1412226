import Tandem

/// The Mandelbrot set on a width x height grid of the rectangle [-2.2, 0.8] x [-1.2, 1.2]:
/// z ← z² + c iterated in real arithmetic, each point frozen once |z| > 2 (a select, no
/// branches), counting for each point the iterations it stayed bounded.
///
/// Outputs: the `total` of the counts, the number of points still bounded after
/// `maxIterations` (`inside`) and the area that estimates.
public enum Mandelbrot {
    public static func run(width: Int = 600, height: Int = 400, maxIterations: Int = 100) throws -> [String: Double] {
        let dx = 3.0 / Double(width), dy = 2.4 / Double(height)
        let cr = (Tensor<Double>.arange(0, Double(width)) * dx - 2.2)[.newAxis, .all]     // 1 x width
        let ci = (Tensor<Double>.arange(0, Double(height)) * dy - 1.2)[.all, .newAxis]    // height x 1

        var zr = Tensor<Double>.zeros([height, width])
        var zi = Tensor<Double>.zeros([height, width])
        var counts = Tensor<Double>.zeros([height, width])
        for _ in 1...maxIterations {
            let bounded = zr * zr + zi * zi .<= 4.0
            let nextR = zr * zr - zi * zi + cr
            let nextI = 2.0 * zr * zi + ci
            zr = `where`(bounded, nextR, zr)
            zi = `where`(bounded, nextI, zi)
            counts += Tensor<Double>(bounded)
        }
        let inside = try Tensor<Double>(counts .== Double(maxIterations)).sum().item()
        return ["total": try counts.sum().item(), "inside": inside, "area": inside * dx * dy]
    }
}
