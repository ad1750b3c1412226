"""The counter-based input generator shared by the examples (a copy of `uniform` in
bench/peers/reference.py): element i of stream `seed` is SplitMix64 of (seed << 32) + i as a
multiple of 2**-53, so `Tensor<Double>.uniform(shape, seed:, in: lo...hi)` in Swift gives the
same bits."""
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def uniform_bits(seed, count):
    """53-bit integers, one per flat index 0..count-1, for stream `seed`."""
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) << np.uint64(32)) + np.arange(count, dtype=np.uint64)
        z = z + GOLDEN
        z = (z ^ (z >> np.uint64(30))) * MIX1
        z = (z ^ (z >> np.uint64(27))) * MIX2
        z = z ^ (z >> np.uint64(31))
    return z >> np.uint64(11)


def uniform(seed, shape, lo=0.0, hi=1.0, dtype=np.float64):
    """lo + (hi - lo) * u in float64 (u an exact multiple of 2**-53), then rounded to dtype."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    count = int(np.prod(shape))
    u = uniform_bits(seed, count).astype(np.float64) * (2.0 ** -53)
    return (lo + (hi - lo) * u).reshape(shape).astype(dtype)
