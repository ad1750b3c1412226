import TandemCompiler
import TandemRuntime

extension Tandem {
    /// The CUDA C of the kernels a sync of `tensors` would run now (nothing runs, no GPU needed):
    /// the shared emitter's CUDA dialect, what the CUDA device hands to NVRTC.
    ///
    ///     print(Tandem.generatedCUDA((x * x).sum())[0])
    public static func generatedCUDA(_ tensors: any TensorParts...) -> [String] {
        runtime.preview(tensors.flatMap(\.partNodes)).kernels.map { CRenderer.render($0.kernel, dialect: .cuda) }
    }
}

extension Tandem {
    /// The OpenCL C of the kernels a sync of `tensors` would run now (nothing runs, no OpenCL
    /// needed): the shared emitter's OpenCL dialect, what the OpenCL device builds (written for
    /// a GPU, one work-item per point, where no OpenCL device is found).
    ///
    ///     print(Tandem.generatedOpenCL((x * x).sum())[0])
    public static func generatedOpenCL(_ tensors: any TensorParts...) -> [String] {
        runtime.preview(tensors.flatMap(\.partNodes)).kernels.map { openCL.source(for: $0.kernel) }
    }
}
