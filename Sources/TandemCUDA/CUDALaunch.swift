import TandemIR
import TandemCompiler

/// Launch geometry and argument packing of the CUDA entry points, as pure functions of the
/// kernel and its sizes (tested without a GPU).
///
///     CUDALaunch.plan(kernel, ints: launch.ints, multiprocessors: 132)   // .rows(blocks: 4224)
public enum CUDALaunch {
    /// The classic kernel-parameter limit (CUDA 12.1+ allows 32 KiB on Volta and later).
    public static let maxArgumentBytes = 4096
    /// Parallel points from which a reduction runs one thread per point (`tandem_kernel`), below
    /// which it is split over blocks (`_split` + `_combine`). A constant, not a function of the
    /// GPU, so results do not depend on the device model.
    public static let rowsThreshold = 16384
    /// Reduce elements per block of the split pass (before the per-thread loop).
    public static let elementsPerPart = 8192
    public static let maxParts = 1024

    public enum Plan: Equatable, CustomStringConvertible {
        /// `tandem_kernel` on a grid-stride loop of `blocks` blocks.
        case rows(blocks: Int)
        /// `tandem_kernel_split` on (parts, gridY) blocks, then `tandem_kernel_combine` on
        /// `combineBlocks` blocks; `partialBytes` of scratch for the partials.
        case splitCombine(parts: Int, gridY: Int, combineBlocks: Int, partialBytes: Int)

        public var description: String {
            switch self {
            case .rows(let b): "rows \(b) blocks"
            case .splitCombine(let p, let y, let c, _): "split \(p)x\(y) blocks, combine \(c) blocks"
            }
        }
    }

    /// How to run `kernel` with these int parameters (extents are `ints[0..<rank]`).
    /// The number of partial results depends on the sizes alone, so a reduction gives the same
    /// bits on every GPU and every run (the block tree's shape is fixed by `cudaThreads`).
    public static func plan(_ kernel: Kernel, ints: [Int64], multiprocessors: Int) -> Plan {
        let threads = CRenderer.cudaThreads
        let np = (0..<kernel.parallelAxes).reduce(1) { $0 * Int(ints[$1]) }
        // Enough blocks for several waves on every SM; the grid-stride loop covers the rest.
        let maxBlocks = max(1, multiprocessors) * 32
        func blocks(_ n: Int) -> Int { max(1, min((n + threads - 1) / threads, maxBlocks)) }
        let reduces = kernel.hasReductions && kernel.reduceAxes > 0
        guard reduces, kernel.parallelAxes == 0 || np < rowsThreshold else { return .rows(blocks: blocks(np)) }
        let nr = (kernel.parallelAxes..<kernel.rank).reduce(1) { $0 * Int(ints[$1]) }
        let parts = max(1, min(maxParts, nr / elementsPerPart))
        return .splitCombine(parts: parts, gridY: max(1, min(np, 65535)), combineBlocks: max(1, min((np + threads - 1) / threads, 65535)),
                             partialBytes: parts * np * kernel.reductions.count * 16)
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
