import TandemIR

/// Kernels worth compiling once more for one launch, with every int parameter (extents, offsets,
/// strides) a literal: `Specialization.applies(to:)`, `Specialization.specialized(_:ints:)`.
///
/// An in-place sweep over every other column (red-black SOR's colour sweep) is vectorised by
/// clang with gathers and scatters while its offsets and strides are run-time values: it cannot
/// tell that the centre and its left and right neighbours are one row read whole. With all of
/// them known it loads whole rows and shuffles out the colour, as it does for Numba's loop
/// (`bench/micro/stride2_sweep.c`, float32, one thread: 1.44 -> 0.98 ms a sweep). Partial
/// knowledge does not help there (offsets alone, strides alone, or the neighbours written as the
/// centre plus a constant: as slow or slower), so it is all or nothing.
///
/// A specialised kernel serves one launch only, so the runtime makes one only for a launch that
/// has come back `minimumRuns` times, compiles it on the side, and runs the general code until it
/// is ready: a loop whose offsets change every time never compiles anything more.
public enum Specialization {
    /// Runs of the same kernel with the same ints before a specialised one is compiled.
    public static let minimumRuns = 3

    /// Whether `k` is the measured case: it stores into a buffer it also reads, and some access
    /// steps by a small constant other than 1 along the innermost axis (`Stride.fixed`).
    public static func applies(to k: Kernel) -> Bool {
        guard k.literalInts == nil, k.rank >= 1 else { return false }
        let inPlace = k.stores.contains { s in
            k.instrs.contains { $0.loaded?.buffer == s.buffer }
        }
        let strided = k.accesses.contains { if case .fixed = $0.strides.last { true } else { false } }
        return inPlace && strided
    }

    /// `k` with the int parameters of `ints` compiled in.
    public static func specialized(_ k: Kernel, ints: [Int64]) -> Kernel {
        var s = k
        s.literalInts = ints
        return s
    }
}
