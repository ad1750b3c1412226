import Tandem

/// One program of the gallery: its parameters with their defaults and a run that returns its
/// named outputs. The defaults are the medium size (a few tenths of a second in NumPy, what
/// `tandem example` runs and what placement is measured on); `small` is the size the tests and
/// CI run and check against `bench/examples/expected.json`.
public struct Example: Sendable {
    public let name: String
    /// One line: what the program computes.
    public let summary: String
    /// Parameter names with their medium-size defaults, in the NumPy version's order.
    public let parameters: [(name: String, defaultValue: Double)]
    /// Parameters that must be whole numbers (sizes, counts).
    public let integerParameters: Set<String>
    /// The small size: the parameters that differ from the defaults.
    public let small: [String: Double]
    let body: @Sendable (_ params: [String: Double]) throws -> [String: Double]

    /// Every parameter, `params` first, then the defaults.
    public func filled(_ params: [String: Double]) -> [String: Double] {
        var full: [String: Double] = [:]
        for p in parameters { full[p.name] = params[p.name] ?? p.defaultValue }
        return full
    }

    /// Every parameter of the small size.
    public var smallParameters: [String: Double] { filled(small) }

    /// Runs the program with `params` (missing ones take their defaults).
    public func run(_ params: [String: Double] = [:]) throws -> [String: Double] {
        try body(filled(params))
    }
}

public enum Examples {
    /// Every example of the gallery.
    public static let all: [Example] = [
        Example(name: "heat", summary: "steady heat on a plate with a heater disc: Jacobi iterations until the update is below a tolerance",
                parameters: [("n", 64), ("tolerance", 1e-6), ("max_iterations", 20_000), ("check_every", 10)],
                integerParameters: ["n", "max_iterations", "check_every"],
                small: ["n": 12, "tolerance": 1e-5, "max_iterations": 1000, "check_every": 5]) { p in
            try HeatEquation.run(n: int(p, "n"), tolerance: p["tolerance"]!, maxIterations: int(p, "max_iterations"),
                                 checkEvery: int(p, "check_every"))
        },
        Example(name: "kmeans", summary: "k-means clustering of points drawn around k centres, until no point changes cluster",
                parameters: [("n", 50_000), ("d", 4), ("k", 8), ("max_iterations", 30)],
                integerParameters: ["n", "d", "k", "max_iterations"],
                small: ["n": 600, "d": 2, "k": 4, "max_iterations": 20]) { p in
            try KMeans.run(n: int(p, "n"), d: int(p, "d"), k: int(p, "k"), maxIterations: int(p, "max_iterations"))
        },
        Example(name: "logistic_regression", summary: "logistic regression trained by full-batch gradient descent, the loss read every epoch",
                parameters: [("n", 500_000), ("d", 8), ("epochs", 30), ("learning_rate", 0.5)],
                integerParameters: ["n", "d", "epochs"],
                small: ["n": 1000, "d": 4, "epochs": 15]) { p in
            try LogisticRegression.run(n: int(p, "n"), d: int(p, "d"), epochs: int(p, "epochs"), learningRate: p["learning_rate"]!)
        },
        Example(name: "mandelbrot", summary: "escape-time counts of the Mandelbrot set on a grid of the complex plane",
                parameters: [("width", 600), ("height", 400), ("max_iterations", 100)],
                integerParameters: ["width", "height", "max_iterations"],
                small: ["width": 60, "height": 40, "max_iterations": 30]) { p in
            try Mandelbrot.run(width: int(p, "width"), height: int(p, "height"), maxIterations: int(p, "max_iterations"))
        },
        Example(name: "asian_option", summary: "Monte Carlo price of an arithmetic-average Asian call under geometric Brownian motion",
                parameters: [("paths", 100_000), ("steps", 50), ("s0", 100), ("strike", 100), ("rate", 0.05), ("sigma", 0.2), ("maturity", 1)],
                integerParameters: ["paths", "steps"],
                small: ["paths": 2000, "steps": 12]) { p in
            try AsianOption.run(paths: int(p, "paths"), steps: int(p, "steps"), s0: p["s0"]!, strike: p["strike"]!,
                                rate: p["rate"]!, sigma: p["sigma"]!, maturity: p["maturity"]!)
        },
        Example(name: "fir_filter", summary: "a noisy two-tone signal through a windowed-sinc low-pass FIR filter, then decimated",
                parameters: [("n", 2_000_000), ("taps", 101), ("cutoff", 30), ("rate", 1000)],
                integerParameters: ["n", "taps"],
                small: ["n": 2000, "taps": 31]) { p in
            try FIRFilter.run(n: int(p, "n"), taps: int(p, "taps"), cutoff: p["cutoff"]!, sampleRate: p["rate"]!)
        },
        Example(name: "life", summary: "Conway's Game of Life on a random board with a dead border, the population read every step",
                parameters: [("n", 1024), ("steps", 50), ("density", 0.35)],
                integerParameters: ["n", "steps"],
                small: ["n": 32, "steps": 20]) { p in
            try GameOfLife.run(n: int(p, "n"), steps: int(p, "steps"), density: p["density"]!)
        },
        Example(name: "cavity_flow", summary: "lid-driven cavity flow: Navier-Stokes by finite differences, a pressure Poisson relaxation every time step",
                parameters: [("n", 41), ("steps", 100), ("poisson_iterations", 50), ("rho", 1), ("nu", 0.1), ("dt", 0.001)],
                integerParameters: ["n", "steps", "poisson_iterations"],
                small: ["n": 17, "steps": 20, "poisson_iterations": 20]) { p in
            try CavityFlow.run(n: int(p, "n"), steps: int(p, "steps"), poissonIterations: int(p, "poisson_iterations"),
                               rho: p["rho"]!, nu: p["nu"]!, dt: p["dt"]!)
        },
        Example(name: "image", summary: "an 8-bit image box-filtered, contrast-stretched, thresholded at its mean and its histogram counted",
                parameters: [("width", 2048), ("height", 1536), ("noise", 40)],
                integerParameters: ["width", "height"],
                small: ["width": 64, "height": 48]) { p in
            try ImageFilter.run(width: int(p, "width"), height: int(p, "height"), noise: p["noise"]!)
        },
        Example(name: "softmax_regression", summary: "multi-class (softmax) regression trained by gradient descent, the loss read every epoch",
                parameters: [("n", 20_000), ("d", 10), ("k", 5), ("epochs", 100), ("learning_rate", 0.5)],
                integerParameters: ["n", "d", "k", "epochs"],
                small: ["n": 600, "d": 4, "k": 3, "epochs": 20]) { p in
            try SoftmaxRegression.run(n: int(p, "n"), d: int(p, "d"), k: int(p, "k"), epochs: int(p, "epochs"), learningRate: p["learning_rate"]!)
        },
        Example(name: "edge_detection", summary: "a noisy image box-blurred over reflected borders, Sobel edges thresholded, the median edge strength",
                parameters: [("height", 800), ("width", 1200), ("threshold", 20)],
                integerParameters: ["height", "width"],
                small: ["height": 40, "width": 56]) { p in
            try EdgeDetection.run(height: int(p, "height"), width: int(p, "width"), threshold: p["threshold"]!)
        },
        Example(name: "spectrum", summary: "the power spectrum of a windowed noisy two-tone signal by a DFT written as a complex matrix product",
                parameters: [("n", 2048), ("rate", 512)],
                integerParameters: ["n"],
                small: ["n": 128]) { p in
            try Spectrum.run(n: int(p, "n"), sampleRate: p["rate"]!)
        },
        Example(name: "allen_cahn", summary: "phase separation by the Allen-Cahn equation: semi-implicit Fourier spectral steps, two 2-D FFTs a step",
                parameters: [("n", 128), ("steps", 500), ("dt", 0.05), ("epsilon", 0.02)],
                integerParameters: ["n", "steps"],
                small: ["n": 32, "steps": 20]) { p in
            try AllenCahn.run(n: int(p, "n"), steps: int(p, "steps"), dt: p["dt"]!, epsilon: p["epsilon"]!)
        },
        Example(name: "advection", summary: "a pulse carried around a periodic line by upwind differences (rolls), the peak read every few steps",
                parameters: [("n", 2000), ("steps", 500), ("courant", 0.4), ("check_every", 50)],
                integerParameters: ["n", "steps", "check_every"],
                small: ["n": 64, "steps": 40, "check_every": 10]) { p in
            try Advection.run(n: int(p, "n"), steps: int(p, "steps"), courant: p["courant"]!, checkEvery: int(p, "check_every"))
        },
        Example(name: "power_iteration", summary: "the largest eigenvalue of a symmetric matrix by power iteration: a product, a dot and a norm an iteration",
                parameters: [("n", 300), ("iterations", 100)],
                integerParameters: ["n", "iterations"],
                small: ["n": 16, "iterations": 20]) { p in
            try PowerIteration.run(n: int(p, "n"), iterations: int(p, "iterations"))
        },
        Example(name: "nbody", summary: "a star cluster under its own gravity: all pairs by broadcasting, leapfrog steps, no read in the loop",
                parameters: [("n", 256), ("steps", 100), ("dt", 0.001), ("softening", 0.05)],
                integerParameters: ["n", "steps"],
                small: ["n": 32, "steps": 20]) { p in
            try NBody.run(n: int(p, "n"), steps: int(p, "steps"), dt: p["dt"]!, softening: p["softening"]!)
        },
    ]

    public static func named(_ name: String) -> Example? { all.first { $0.name == name } }
}

/// Reads a whole-number parameter.
private func int(_ p: [String: Double], _ name: String) -> Int { Int(p[name]!) }
