// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tandem", targets: ["Tandem"]),
        .library(name: "TandemWorkloads", targets: ["TandemWorkloads"]),
        .library(name: "TandemExamples", targets: ["TandemExamples"]),
        // Tensors block-distributed over MPI ranks (Open MPI loaded with dlopen at first use).
        .library(name: "TandemDistributed", targets: ["TandemDistributed"]),
        .executable(name: "tandem", targets: ["TandemCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        // `Complex` for the elements of `ComplexTensor` (the Swift ecosystem's complex type).
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // MARK: - Public API
        .target(
            name: "Tandem",
            dependencies: ["TandemIR", "TandemCompiler", "TandemModel", "TandemRuntime", "TandemInterpreter", "TandemCPU", "TandemCUDA", "TandemOpenCL", "TandemBLAS", "TandemStart", "TandemMathC",
                           .product(name: "ComplexModule", package: "swift-numerics"), .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: strict),
        // A constructor run before `main`: the calibration a short program hands on at exit runs
        // in a copy of the program that stops there (Calibration.handOffAtExit).
        .target(name: "TandemStart"),
        // Tensors block-distributed along their first axis over the ranks of an MPI job.
        .target(name: "TandemDistributed", dependencies: ["Tandem", "TandemMPI"], swiftSettings: strict),
        .target(name: "TandemWorkloads", dependencies: ["Tandem", "TandemDistributed", "TandemMPI"], swiftSettings: strict),
        // The gallery of small programs a user copies from (Examples/, checked against bench/examples/).
        .target(name: "TandemExamples", dependencies: ["Tandem"], path: "Examples", swiftSettings: strict),
        .executableTarget(
            name: "TandemCLI",
            dependencies: [
                // Every module it imports, not only through Tandem: a target whose imported
                // module is only a transitive dependency is not rebuilt when that module's layout
                // changes but Tandem's interface does not (a stale `tandem` crashed reading
                // Statistics after a field was added).
                "Tandem", "TandemWorkloads", "TandemExamples", "TandemDistributed", "TandemMPI",
                "TandemRuntime", "TandemCompiler", "TandemInterpreter", "TandemBLAS", "TandemCUDA", "TandemOpenCL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // MARK: - Implementation (each layer imports only the layers below it)
        .target(name: "TandemIR", swiftSettings: strict),
        .target(name: "TandemCompiler", dependencies: ["TandemIR"], swiftSettings: strict),
        .target(name: "TandemModel", dependencies: ["TandemIR"], swiftSettings: strict),
        .target(
            name: "TandemRuntime",
            dependencies: ["TandemIR", "TandemCompiler", "TandemModel", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .target(name: "TandemInterpreter", dependencies: ["TandemIR", "TandemRuntime", "TandemMathC"], swiftSettings: strict),
        // Tandem's exp for the interpreter in C: one instruction per fused multiply-add where the
        // CPU has one (Swift's `addingProduct` is a call to glibc's `fma` in a baseline build).
        .target(name: "TandemMathC"),
        .target(
            name: "TandemCPU",
            dependencies: [
                "TandemIR", "TandemCompiler", "TandemRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // The system's CBLAS (OpenBLAS, BLIS, MKL, libblas), loaded with dlopen at first use.
        .target(name: "TandemBLAS", dependencies: ["TandemRuntime"], swiftSettings: strict),
        // The driver API and NVRTC are loaded with dlopen at first use, never linked: the package
        // builds and runs on machines without CUDA.
        .target(
            name: "TandemCUDA",
            dependencies: [
                "TandemIR", "TandemCompiler", "TandemRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),

        // The OpenCL ICD loader is loaded with dlopen at first use, never linked: the package
        // builds and runs on machines without OpenCL.
        .target(name: "TandemOpenCL", dependencies: ["TandemIR", "TandemCompiler", "TandemRuntime"], swiftSettings: strict),

        // Open MPI loaded with dlopen at first use, never linked, and only under mpirun: the
        // package builds and runs on machines without MPI, and a plain run is a 1-rank world.
        .target(name: "TandemMPI", dependencies: ["TandemRuntime"], swiftSettings: strict),

        // MARK: - Tests
        .target(name: "_TandemTestSupport", swiftSettings: strict),
        .target(name: "_TandemTestShims"),
        .testTarget(
            name: "TandemTests",
            dependencies: ["Tandem", "TandemWorkloads", "TandemExamples", "TandemIR", "TandemCPU", "TandemRuntime", "TandemInterpreter", "TandemCompiler", "TandemModel", "TandemCUDA", "TandemOpenCL", "TandemBLAS", "TandemMPI", "TandemDistributed", "_TandemTestSupport", "_TandemTestShims"],
            swiftSettings: strict),
    ]
)
