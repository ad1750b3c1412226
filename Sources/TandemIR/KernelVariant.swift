/// One schedule of a kernel's compiled C among those that compute the same bits (issue 21):
/// how a laned reduction's values are blocked and how far the vectorised innermost loop of an
/// elementwise kernel is interleaved. `nil` fields are the fixed rules' choices (the C renderer's
/// `laneBlock`/`largeLanedBody` and `interleave_count(1)`); a kernel with a variant is another
/// kernel to the caches (its own C, its own compiled code), and `Tuning` measures which one is
/// fastest for a kernel, a size class and a placement on this machine.
///
/// Every variant keeps the kernel's results bit for bit: a laned reduction's element `i` goes to
/// lane `(i - start) % 8` whatever the block (each block starts a multiple of eight after the
/// row's start), and interleaving an elementwise loop changes which iterations run together,
/// not what any of them computes. That holds where an element's value does not depend on
/// whether it is computed in the vector loop or its scalar remainder: kernels calling a math
/// function whose vector form rounds differently (`Kernel.usesVectorMath`) have no variants.
/// Variants that would change a reduction's order (float32 accumulators, blocks across rows)
/// are not among them.
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

    public init(laneBlock: Int? = nil, interleave: Int? = nil) {
        self.laneBlock = laneBlock
        self.interleave = interleave
    }

    /// The block sizes a laned reduction may take (powers of two, multiples of the eight lanes).
    public static let laneBlocks = [8, 16, 32, 64]
    /// The interleave counts an elementwise loop may take.
    public static let interleaves = [1, 2, 4]

    /// "laneBlock=16", "interleave=2", "rule" when both fields are nil.
    public var description: String {
        var parts: [String] = []
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
