/// One schedule of a kernel's compiled C (issue 21): how a laned reduction's values are blocked,
/// how far the vectorised innermost loop of an elementwise kernel is interleaved, and (only
/// where the user allows reordered sums: `floatSums`) whether float32 values are summed in
/// float lanes. `nil` fields are the fixed rules' choices (the C renderer's
/// `laneBlock`/`largeLanedBody` and `interleave_count(1)`); a kernel with a variant is another
/// kernel to the caches (its own C, its own compiled code), and `Tuning` measures which one is
/// fastest for a kernel, a size class and a placement on this machine.
///
/// Every variant but `floatSums` keeps the kernel's results bit for bit: a laned reduction's element `i` goes to
/// lane `(i - start) % 8` whatever the block (each block starts a multiple of eight after the
/// row's start), and interleaving an elementwise loop changes which iterations run together,
/// not what any of them computes. That holds where an element's value does not depend on
/// whether it is computed in the vector loop or its scalar remainder: kernels calling a math
/// function whose vector form rounds differently (`Kernel.usesVectorMath`) have no variants.
/// `floatSums` changes a float32 sum's rounding, not its order: each of the eight lanes adds its
/// float32 values in float for `floatSumSpan` elements of the row, then into its double lane
/// (the rules add each value to the double lane). The result is within float32's tolerance of
/// the rules' (a lane's float partial holds 32 values: a relative error of about 2e-6 at
/// worst) and the same bits on every run, worker count and split of the variant's code; it is
/// measured only where reordered sums are allowed (`TANDEM_TUNE=on,reorder`).
///
///     var k = kernel
///     k.variant = KernelVariant(laneBlock: 16)
///     print(k.variant!)            // "laneBlock=16"
public struct KernelVariant: Hashable, Sendable, CustomStringConvertible {
    /// Elements a laned reduction computes in one `omp simd` block before adding them to its
    /// lanes (8, 16, 32 or 64); nil: the rule (32, or 8 for a large body).
    public var laneBlock: Int?
    /// The `interleave_count` of an elementwise kernel's vectorised innermost loop (1, 2 or 4);
    /// nil: the rule (1).
    public var interleave: Int?
    /// Float32 values of a laned sum added in float lanes, widened into the double lanes every
    /// `floatSumSpan` elements (N-body's float32 force sums: the widening and double adds cost
    /// as much as the body; 1.0-1.5 ns an interaction against 0.48-0.57 in a C harness).
    public var floatSums: Bool

    public init(laneBlock: Int? = nil, interleave: Int? = nil, floatSums: Bool = false) {
        self.laneBlock = laneBlock
        self.interleave = interleave
        self.floatSums = floatSums
    }

    /// Elements of a row a float lane block sums before it is widened into the double lanes
    /// (32 a lane): a multiple of every `laneBlocks` value.
    public static let floatSumSpan = 256

    /// The block sizes a laned reduction may take (powers of two, multiples of the eight lanes).
    public static let laneBlocks = [8, 16, 32, 64]
    /// The interleave counts an elementwise loop may take.
    public static let interleaves = [1, 2, 4]

    /// "laneBlock=16", "interleave=2", "floatSums,laneBlock=64", "rule" when nothing is set.
    public var description: String {
        var parts: [String] = []
        if floatSums { parts.append("floatSums") }
        if let laneBlock { parts.append("laneBlock=\(laneBlock)") }
        if let interleave { parts.append("interleave=\(interleave)") }
        return parts.isEmpty ? "rule" : parts.joined(separator: ",")
    }

    /// The variant `description` wrote, or nil for text that is not one (or a value outside
    /// the allowed ones).
    public init?(description text: String) {
        self.init()
        if text == "rule" { return }
        for part in text.split(separator: ",") {
            if part == "floatSums" && !floatSums {
                floatSums = true
                continue
            }
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let v = Int(kv[1]) else { return nil }
            switch kv[0] {
            case "laneBlock" where KernelVariant.laneBlocks.contains(v): laneBlock = v
            case "interleave" where KernelVariant.interleaves.contains(v): interleave = v
            default: return nil
            }
        }
    }
}
