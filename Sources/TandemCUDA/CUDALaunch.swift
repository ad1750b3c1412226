import TandemIR
import TandemCompiler

/// Launch geometry and argument packing of the CUDA entry points, as pure functions of the
/// kernel and its sizes (tested without a GPU).
///
///     CUDALaunch.plan(kernel, ints: launch.ints, multiprocessors: 132)   // .rows(blocks: 4224)
public enum CUDALaunch {
    /// The classic kernel-parameter limit (CUDA 12.1+ allows 32 KiB on Volta and later).
    public static let maxArgumentBytes = 4096
    /// The launch plan, shared with the OpenCL device (`AcceleratorLaunch`).
    public typealias Plan = AcceleratorLaunch.Plan
    public static var rowsThreshold: Int { AcceleratorLaunch.rowsThreshold }
    public static var elementsPerPart: Int { AcceleratorLaunch.elementsPerPart }

    /// How to run `kernel` with these int parameters on a GPU with `multiprocessors` SMs, in
    /// blocks of `CRenderer.cudaThreads`.
    public static func plan(_ kernel: Kernel, ints: [Int64], multiprocessors: Int) -> Plan {
        AcceleratorLaunch.plan(kernel, ints: ints, computeUnits: multiprocessors, threads: CRenderer.cudaThreads)
    }

    /// The by-value argument struct `tk_args { B[nB]; I[nI]; F[nF] }` as 64-bit words: device
    /// addresses, then the int parameters, then the float parameters' bit patterns, each section
    /// padded to at least one word (the struct's arrays are never empty).
    public static func argumentWords(kernel: Kernel, addresses: [UInt64], ints: [Int64], floats: [Double]) -> [UInt64] {
        let words = CRenderer.cudaArgumentWords(kernel)
        precondition(addresses.count == kernel.buffers.count && ints.count >= kernel.intParams && floats.count >= kernel.floatParams,
                     "launch does not match the kernel")
        var out = [UInt64](repeating: 0, count: words.buffers + words.ints + words.floats)
        for (i, a) in addresses.enumerated() { out[i] = a }
        for i in 0..<kernel.intParams { out[words.buffers + i] = UInt64(bitPattern: ints[i]) }
        for i in 0..<kernel.floatParams { out[words.buffers + words.ints + i] = floats[i].bitPattern }
        return out
    }
}
