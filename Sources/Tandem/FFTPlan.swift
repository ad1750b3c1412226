import Synchronization
import RealModule
import TandemMathC

// The transform engine behind `fft` (ComplexTensor+FFT.swift): one plan a length, reused.

/// Values made once per transform length and kept, at most `limit` lengths (past it the table
/// starts again: a program whose lengths never repeat would otherwise grow it forever).
final class LengthCache<Value: Sendable>: Sendable {
    private let table = Mutex<[Int: Value]>([:])
    private let limit: Int

    init(limit: Int = 16) { self.limit = limit }

    /// The value for length `n`, made by `make` the first time (outside the lock; two threads
    /// may both make it, and one is kept).
    func value(_ n: Int, make: (Int) -> Value) -> Value {
        if let v = table.withLock({ $0[n] }) { return v }
        let v = make(n)
        table.withLock { cache in
            if cache.count >= limit { cache.removeAll() }
            cache[n] = v
        }
        return v
    }
}

/// One transform length's precomputed factors. A power of two is transformed by iterative
/// radix-2 Cooley-Tukey in place; another length whose prime factors are all at most
/// `largestFactor` by mixed-radix Cooley-Tukey (decimation in time, recursive, one pass of
/// radix-p butterflies a factor); any other length by Bluestein's chirp-z on a power-of-two plan
/// of at least `2n - 1` points.
final class FFTPlan: @unchecked Sendable {
    static let largestFactor = 31
    /// Plans made, by length (a time-stepped spectral program transforms the same lengths every
    /// step; a 2^20-point plan's twiddles cost a tenth of its transform).
    private static let plans = LengthCache<FFTPlan>()

    static func cached(_ n: Int) -> FFTPlan { plans.value(n) { FFTPlan($0) } }

    let n: Int
    /// Mixed radix: the factors (2s first), and `e^{-2πij/n}` for `j < n`, each from `cos`/`sin`
    /// of its own angle. Written only while the plan is made (exclusivity unchecked: checking it
    /// at every butterfly cost a tenth of a transform).
    @exclusivity(unchecked) private var factors: [Int] = []
    @exclusivity(unchecked) private var twiddleRe: [Double] = [], twiddleIm: [Double] = []
    @exclusivity(unchecked) private var stageRe: [Double] = [], stageIm: [Double] = []
    /// Radix-2: the index pairs the bit-reversal permutation swaps.
    @exclusivity(unchecked) private var swaps: [Int] = []
    /// Bluestein: the chirp `e^{-πik²/n}`, the power-of-two plan, and the transform of the
    /// conjugate chirp laid out circularly.
    @exclusivity(unchecked) private var chirpRe: [Double] = [], chirpIm: [Double] = []
    private var inner: FFTPlan?
    @exclusivity(unchecked) private var kernelRe: [Double] = [], kernelIm: [Double] = []
    /// `cos` and `sin` of `2π/p` and `4π/p` for the radix-3 and radix-5 butterflies, made once
    /// (a 10^6-point transform has 250,000 radix-5 butterfly groups).
    private let radix3 = FFTPlan.rotations(3), radix5 = FFTPlan.rotations(5)

    private static func rotations(_ p: Int) -> (c1: Double, s1: Double, c2: Double, s2: Double) {
        (Double.cos(2 * Double.pi / Double(p)), Double.sin(2 * Double.pi / Double(p)),
         Double.cos(4 * Double.pi / Double(p)), Double.sin(4 * Double.pi / Double(p)))
    }

    init(_ n: Int) {
        self.n = n
        if n <= 1 { return }
        var rest = n, f = 2
        while rest > 1 && f <= FFTPlan.largestFactor {
            while rest % f == 0 { factors.append(f); rest /= f }
            f += 1
        }
        if rest == 1 {
            twiddleRe = (0..<n).map { Double.cos(-2 * Double.pi * Double($0) / Double(n)) }
            twiddleIm = (0..<n).map { Double.sin(-2 * Double.pi * Double($0) / Double(n)) }
            if n & (n - 1) == 0 {
                // Each radix-2 pass's twiddles side by side (w_size^k for k < size/2 at offset
                // size/2 - 1), so its butterfly loop reads them contiguously and vectorises.
                var j = 0
                for i in 1..<n {
                    var bit = n >> 1
                    while j & bit != 0 { j ^= bit; bit >>= 1 }
                    j |= bit
                    if i < j { swaps.append(i); swaps.append(j) }
                }
                var size = 2
                while size <= n {
                    for k in 0..<(size / 2) { stageRe.append(twiddleRe[k * (n / size)]); stageIm.append(twiddleIm[k * (n / size)]) }
                    size <<= 1
                }
                // Only the passes' copies are read for a power of two.
                twiddleRe = []; twiddleIm = []
            }
            return
        }
        factors = []
        var m = 1
        while m < 2 * n - 1 { m <<= 1 }
        let plan = FFTPlan(m)
        inner = plan
        // k² mod 2n keeps the angle small, so the chirp is accurate for large k.
        for k in 0..<n {
            let angle = -Double.pi * Double((k * k) % (2 * n)) / Double(n)
            chirpRe.append(Double.cos(angle))
            chirpIm.append(Double.sin(angle))
        }
        var br = [Double](repeating: 0, count: m), bi = br
        for k in 0..<n {
            br[k] = chirpRe[k]; bi[k] = -chirpIm[k]
            if k > 0 { br[m - k] = chirpRe[k]; bi[m - k] = -chirpIm[k] }
        }
        br.withUnsafeMutableBufferPointer { r in bi.withUnsafeMutableBufferPointer { i in plan.powerOfTwo(r.baseAddress!, i.baseAddress!) } }
        kernelRe = br
        kernelIm = bi
    }

    /// Scratch a thread reuses across rows: the mixed radix's output and generic butterfly
    /// values, Bluestein's padded row (a power of two works in place and needs none).
    struct Workspace {
        var outRe: [Double], outIm: [Double]
        var butterflyRe: [Double], butterflyIm: [Double]
        var padRe: [Double], padIm: [Double]
    }

    func workspace() -> Workspace {
        let m = inner?.n ?? 0, p = factors.max() ?? 0, out = inner == nil && n & (n - 1) != 0 ? n : 0
        return Workspace(outRe: [Double](repeating: 0, count: out), outIm: [Double](repeating: 0, count: out),
                         butterflyRe: [Double](repeating: 0, count: p), butterflyIm: [Double](repeating: 0, count: p),
                         padRe: [Double](repeating: 0, count: m), padIm: [Double](repeating: 0, count: m))
    }

    /// The forward transform of the `n` points at `re`/`im`, in place.
    func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, _ work: inout Workspace) {
        if n <= 1 { return }
        if let inner { bluestein(re, im, inner, &work); return }
        let n = self.n
        if n & (n - 1) == 0 {
            powerOfTwo(re, im)
            return
        }
        work.outRe.withUnsafeMutableBufferPointer { or in
            work.outIm.withUnsafeMutableBufferPointer { oi in
                work.butterflyRe.withUnsafeMutableBufferPointer { yr in
                    work.butterflyIm.withUnsafeMutableBufferPointer { yi in
                        twiddleRe.withUnsafeBufferPointer { tr in
                            twiddleIm.withUnsafeBufferPointer { ti in
                                let context = Context(tr: tr.baseAddress!, ti: ti.baseAddress!, yr: yr.baseAddress!, yi: yi.baseAddress!)
                                recurse(re, im, 1, or.baseAddress!, oi.baseAddress!, n, 0, context)
                                re.update(from: or.baseAddress!, count: n)
                                im.update(from: oi.baseAddress!, count: n)
                            }
                        }
                    }
                }
            }
        }
    }

    /// A power of two in place: the bit-reversal permutation (its swaps listed by the plan), then
    /// log2(n) passes of butterflies over contiguous halves (the recursive form reads at large
    /// strides; 2^20 points took 1.8x as long), in C (`tandem_fft_pow2_lines`).
    private func powerOfTwo(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
        forwardLines(re, im, width: 1)
    }

    /// Whether `forwardLines` takes this length: a power of two of at least two points.
    var transformsLines: Bool { n > 1 && n & (n - 1) == 0 }

    /// The forward transforms of `width` lines at once, in place, interleaved: point j of line q
    /// at `re[j * width + q]`. Each butterfly's loop runs over the lines, so a short line's first
    /// passes (halves of one or two points) are as wide as its last. Only for `transformsLines`.
    func forwardLines(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, width: Int) {
        precondition(transformsLines, "FFTPlan.forwardLines: \(n) points is not a power of two")
        stageRe.withUnsafeBufferPointer { tr in
            stageIm.withUnsafeBufferPointer { ti in
                swaps.withUnsafeBufferPointer { pairs in
                    tandem_fft_pow2_lines(re, im, n, width, tr.baseAddress!, ti.baseAddress!, pairs.baseAddress, pairs.count)
                }
            }
        }
    }

    private struct Context {
        let tr: UnsafePointer<Double>, ti: UnsafePointer<Double>
        let yr: UnsafeMutablePointer<Double>, yi: UnsafeMutablePointer<Double>
    }

    /// `out[0..<size]` = the transform of the `size` points `input[0], input[s], input[2s], ...`.
    private func recurse(_ inRe: UnsafePointer<Double>, _ inIm: UnsafePointer<Double>, _ s: Int,
                         _ outRe: UnsafeMutablePointer<Double>, _ outIm: UnsafeMutablePointer<Double>,
                         _ size: Int, _ level: Int, _ c: Context) {
        if size == 1 {
            outRe[0] = inRe[0]
            outIm[0] = inIm[0]
            return
        }
        let p = factors[level], m = size / p
        for r in 0..<p {
            recurse(inRe + r * s, inIm + r * s, s * p, outRe + r * m, outIm + r * m, m, level + 1, c)
        }
        // Butterflies: X[k + q m] = Σ_r w_size^{r k} Y_r[k] w_p^{r q}, twiddles from the n-point table.
        let step = n / size, pStep = n / p
        if p == 2 {
            for k in 0..<m {
                let wr = c.tr[k * step], wi = c.ti[k * step]
                let b = k + m
                let xr = outRe[b] * wr - outIm[b] * wi, xi = outRe[b] * wi + outIm[b] * wr
                outRe[b] = outRe[k] - xr; outIm[b] = outIm[k] - xi
                outRe[k] += xr; outIm[k] += xi
            }
            return
        }
        if p == 3 || p == 5 {
            // Radix 3 and 5 by their symmetric butterflies (the generic form below takes p²
            // complex products a point, these 4 and 12 real products more or less).
            let (c1, s1, c2, s2) = p == 3 ? radix3 : radix5
            for k in 0..<m {
                var ar = (0.0, 0.0, 0.0, 0.0, 0.0), ai = (0.0, 0.0, 0.0, 0.0, 0.0)
                func twiddled(_ r: Int) -> (Double, Double) {
                    let j = r * k * step, a = r * m + k
                    return (outRe[a] * c.tr[j] - outIm[a] * c.ti[j], outRe[a] * c.ti[j] + outIm[a] * c.tr[j])
                }
                (ar.0, ai.0) = (outRe[k], outIm[k])
                (ar.1, ai.1) = twiddled(1)
                (ar.2, ai.2) = twiddled(2)
                if p == 3 {
                    let (t1r, t1i) = (ar.1 + ar.2, ai.1 + ai.2), (t2r, t2i) = (ar.1 - ar.2, ai.1 - ai.2)
                    let (br, bi) = (ar.0 + c1 * t1r, ai.0 + c1 * t1i)
                    outRe[k] = ar.0 + t1r; outIm[k] = ai.0 + t1i
                    outRe[k + m] = br + s1 * t2i; outIm[k + m] = bi - s1 * t2r
                    outRe[k + 2 * m] = br - s1 * t2i; outIm[k + 2 * m] = bi + s1 * t2r
                } else {
                    (ar.3, ai.3) = twiddled(3)
                    (ar.4, ai.4) = twiddled(4)
                    let (t1r, t1i) = (ar.1 + ar.4, ai.1 + ai.4), (t2r, t2i) = (ar.2 + ar.3, ai.2 + ai.3)
                    let (t3r, t3i) = (ar.1 - ar.4, ai.1 - ai.4), (t4r, t4i) = (ar.2 - ar.3, ai.2 - ai.3)
                    let (b1r, b1i) = (ar.0 + c1 * t1r + c2 * t2r, ai.0 + c1 * t1i + c2 * t2i)
                    let (b2r, b2i) = (ar.0 + c2 * t1r + c1 * t2r, ai.0 + c2 * t1i + c1 * t2i)
                    let (d1r, d1i) = (s1 * t3r + s2 * t4r, s1 * t3i + s2 * t4i)
                    let (d2r, d2i) = (s2 * t3r - s1 * t4r, s2 * t3i - s1 * t4i)
                    outRe[k] = ar.0 + t1r + t2r; outIm[k] = ai.0 + t1i + t2i
                    // X1 = b1 - i d1, X4 = b1 + i d1, X2 = b2 - i d2, X3 = b2 + i d2.
                    outRe[k + m] = b1r + d1i; outIm[k + m] = b1i - d1r
                    outRe[k + 4 * m] = b1r - d1i; outIm[k + 4 * m] = b1i + d1r
                    outRe[k + 2 * m] = b2r + d2i; outIm[k + 2 * m] = b2i - d2r
                    outRe[k + 3 * m] = b2r - d2i; outIm[k + 3 * m] = b2i + d2r
                }
            }
            return
        }
        for k in 0..<m {
            for r in 0..<p {
                let j = r * k * step, a = r * m + k
                c.yr[r] = outRe[a] * c.tr[j] - outIm[a] * c.ti[j]
                c.yi[r] = outRe[a] * c.ti[j] + outIm[a] * c.tr[j]
            }
            for q in 0..<p {
                var sr = 0.0, si = 0.0
                for r in 0..<p {
                    let j = ((r * q) % p) * pStep
                    sr += c.yr[r] * c.tr[j] - c.yi[r] * c.ti[j]
                    si += c.yr[r] * c.ti[j] + c.yi[r] * c.tr[j]
                }
                outRe[k + q * m] = sr
                outIm[k + q * m] = si
            }
        }
    }

    private func bluestein(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, _ plan: FFTPlan, _ work: inout Workspace) {
        let m = plan.n, n = self.n
        work.padRe.withUnsafeMutableBufferPointer { prb in
            work.padIm.withUnsafeMutableBufferPointer { pib in
                let pr = prb.baseAddress!, pi = pib.baseAddress!
                pr.update(repeating: 0, count: m)
                pi.update(repeating: 0, count: m)
                for k in 0..<n {
                    pr[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k]
                    pi[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k]
                }
                plan.powerOfTwo(pr, pi)
                // Times the chirp's transform, then the inverse transform (a conjugated forward one).
                for k in 0..<m {
                    let r = pr[k] * kernelRe[k] - pi[k] * kernelIm[k]
                    let i = pr[k] * kernelIm[k] + pi[k] * kernelRe[k]
                    pr[k] = r
                    pi[k] = -i
                }
                plan.powerOfTwo(pr, pi)
                let inv = 1 / Double(m)
                for k in 0..<n {
                    let yr = pr[k] * inv, yi = -pi[k] * inv
                    re[k] = yr * chirpRe[k] - yi * chirpIm[k]
                    im[k] = yr * chirpIm[k] + yi * chirpRe[k]
                }
            }
        }
    }
}
