/// The counter-based generator of `reference.py`: element i of stream `seed` is SplitMix64 of
/// `(seed << 32) + i`, reduced to a multiple of 2^-53 in [0, 1). Every device computes the same bits
/// for the same (seed, i), in any order.
public enum Uniform {
    public static func bits(seed: UInt64, index: Int64) -> UInt64 {
        var z = (seed << 32) &+ UInt64(bitPattern: index) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z = z ^ (z >> 31)
        return z >> 11
    }

    public static func unit(seed: UInt64, index: Int64) -> Double {
        Double(bits(seed: seed, index: index)) * 0x1p-53
    }
}
