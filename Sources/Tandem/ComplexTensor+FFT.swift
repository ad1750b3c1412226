import Dispatch
import Synchronization
import ComplexModule
import RealModule
import TandemIR
import TandemRuntime

// Discrete Fourier transforms with `numpy.fft`'s meaning: `fft`, `ifft`, `rfft`, `irfft` along
// one axis (every other axis a batch), `n` to crop or zero-pad that axis, the three `norm`s, and
// `fftfreq`/`rfftfreq`. Each is a sync point: the input is computed, the rows are transformed on
// the host's workers (in Double, for `Float` too, rounded once at the end), and the result is a
// new tensor that later operations fuse with as usual.
//
// Trade-off: Tandem's own transform, not a library's: mixed-radix Cooley-Tukey for lengths whose
// prime factors are at most 31 (twiddles from `cos`/`sin` of each angle, not a recurrence, so the
// error grows with log n), and Bluestein's chirp-z for any other length (three power-of-two
// transforms of at least 2n - 1 points: about 6x the work, errors a few times larger). It is
// scalar code: on the lengths measured (bench/RESULTS.md, `z_fft`) as fast as NumPy's pocketfft
// for 256-point rows and 997-point ones, 1.3x its time for powers of two of 1024 and 2^20, 2.7-4x
// for the mixed-radix 1000 and 10^6 (generic radix-5 butterflies).
// FFTW, loaded with `dlopen` where installed, is the natural faster backend; not done yet.

/// How a transform is scaled (`numpy.fft`'s `norm`): `backward` (the default) leaves the forward
/// transform unscaled and divides the inverse by `n`; `ortho` divides both by `sqrt(n)`;
/// `forward` divides the forward transform by `n`.
public enum FFTNorm: Sendable {
    case backward, ortho, forward
}

/// Errors of the transforms' arguments (NumPy raises `ValueError` for the same).
public struct FFTError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
}

extension ComplexTensor {
    /// The discrete Fourier transform along `axis` (`numpy.fft.fft`): `X_k = Σ_j x_j e^{-2πi jk/n}`,
    /// `n` points (the axis cropped or zero-padded to `n`; its length when nil). A sync point.
    ///
    ///     let spectrum = try ComplexTensor(x).fft()
    ///     let padded = try ComplexTensor(x).fft(n: 16, norm: .ortho)
    public func fft(n: Int? = nil, axis: Int = -1, norm: FFTNorm = .backward) throws -> ComplexTensor {
        try FFT.transform(self, n: n, axis: axis, inverse: false, norm: norm)
    }

    /// The inverse transform along `axis` (`numpy.fft.ifft`): divided by `n` under the default
    /// `norm`, so `z.fft().ifft()` is `z` to rounding. A sync point.
    ///
    ///     let back = try ComplexTensor(x).fft().ifft()
    public func ifft(n: Int? = nil, axis: Int = -1, norm: FFTNorm = .backward) throws -> ComplexTensor {
        try FFT.transform(self, n: n, axis: axis, inverse: true, norm: norm)
    }

    /// The inverse of `rfft` (`numpy.fft.irfft`): the real signal of `n` points (by default
    /// `2 (m - 1)` for `m` input points) whose transform's non-negative frequencies these are;
    /// the imaginary parts of the zero (and, for even `n`, the last) frequency are ignored, as
    /// NumPy ignores them. A sync point.
    ///
    ///     let signal = try x.rfft().irfft(n: 8)
    public func irfft(n: Int? = nil, axis: Int = -1, norm: FFTNorm = .backward) throws -> Tensor<RealType> {
        let ax = try FFT.axis(axis, rank: rank, "irfft")
        let m = shape[ax]
        let points = n ?? 2 * (m - 1)
        guard points >= 1 else { throw FFTError(description: "irfft: invalid number of data points (\(points)) specified") }
        // The full Hermitian spectrum of `points` frequencies from the first points/2 + 1.
        let half = points / 2 + 1
        let kept = FFT.resized(self, axis: ax, to: half)
        let mirrored = points - half > 0
            ? kept[indices: FFT.slice(axis: ax, rank: rank, start: points % 2 == 0 ? half - 2 : half - 1, end: 0, step: -1)].conj()
            : nil
        var full = mirrored.map { ComplexTensor.concatenate([kept, $0], axis: ax) } ?? kept
        // Frequency 0 (and n/2 for even n) must be real: their imaginary parts are dropped.
        var im = full.imaginary
        im[indices: FFT.index(axis: ax, rank: rank, 0)] = Tensor(RealType(0))
        if points % 2 == 0 { im[indices: FFT.index(axis: ax, rank: rank, points / 2)] = Tensor(RealType(0)) }
        full.imaginary = im
        return try FFT.transform(full, n: points, axis: ax, inverse: true, norm: norm).real
    }
}

extension ComplexTensor {
    /// The transform over the last two axes (`numpy.fft.fft2`): `fft` along each in turn, in one
    /// sync point.
    ///
    ///     let image = try ComplexTensor(t).fft2()
    public func fft2(norm: FFTNorm = .backward) throws -> ComplexTensor {
        precondition(rank >= 2, "fft2: needs at least two axes, not \(rank)")
        return try FFT.transform(self, axes: [rank - 1, rank - 2], inverse: false, norm: norm, "fft2")
    }

    /// The inverse of `fft2` (`numpy.fft.ifft2`). A sync point.
    ///
    ///     let back = try ComplexTensor(t).fft2().ifft2()
    public func ifft2(norm: FFTNorm = .backward) throws -> ComplexTensor {
        precondition(rank >= 2, "ifft2: needs at least two axes, not \(rank)")
        return try FFT.transform(self, axes: [rank - 1, rank - 2], inverse: true, norm: norm, "ifft2")
    }

    /// The zero frequency moved to the middle of each axis in `axes` (all when nil), as
    /// `numpy.fft.fftshift`: a roll by `n/2` (a view of both parts).
    ///
    ///     let centred = try ComplexTensor(x).fft().fftshift()
    public func fftshift(axes: [Int]? = nil) -> ComplexTensor { parts { FFT.shift($0, axes: axes, inverse: false) } }

    /// The inverse of `fftshift` (`numpy.fft.ifftshift`): a roll by `-(n/2)`.
    ///
    ///     let restored = ComplexTensor(x).fftshift().ifftshift()
    public func ifftshift(axes: [Int]? = nil) -> ComplexTensor { parts { FFT.shift($0, axes: axes, inverse: true) } }

    /// Complex tensors joined along an existing axis (`numpy.concatenate`).
    ///
    ///     let both = ComplexTensor.concatenate([ComplexTensor(x), ComplexTensor(y)])
    public static func concatenate(_ tensors: [ComplexTensor], axis: Int = 0) -> ComplexTensor {
        ComplexTensor(real: Tensor.concatenate(tensors.map(\.real), axis: axis), imaginary: Tensor.concatenate(tensors.map(\.imaginary), axis: axis))
    }

    /// Complex tensors of one shape stacked along a new axis (`numpy.stack`).
    ///
    ///     let rows = ComplexTensor.stack([ComplexTensor(x), ComplexTensor(y)])
    public static func stack(_ tensors: [ComplexTensor], axis: Int = 0) -> ComplexTensor {
        ComplexTensor(real: Tensor.stack(tensors.map(\.real), axis: axis), imaginary: Tensor.stack(tensors.map(\.imaginary), axis: axis))
    }
}

extension Tensor {
    /// The zero frequency moved to the middle of each axis in `axes` (all when nil)
    /// (`numpy.fft.fftshift`): a roll by `n/2`, a view.
    ///
    ///     let f = Tensor<Double>.fftfreq(8).fftshift()     // -4 ... 3, over 8
    public func fftshift(axes: [Int]? = nil) -> Tensor { FFT.shift(self, axes: axes, inverse: false) }

    /// The inverse of `fftshift` (`numpy.fft.ifftshift`).
    ///
    ///     let f = Tensor<Double>.fftfreq(8).fftshift().ifftshift()
    public func ifftshift(axes: [Int]? = nil) -> Tensor { FFT.shift(self, axes: axes, inverse: true) }
}

extension Tensor where Scalar: ComplexComponent {
    /// The transform of real values over the last two axes (`numpy.fft.fft2`). A sync point.
    ///
    ///     let image = try t.fft2()
    public func fft2(norm: FFTNorm = .backward) throws -> ComplexTensor<Scalar> { try ComplexTensor(self).fft2(norm: norm) }

    /// The discrete Fourier transform of real values along `axis` (`numpy.fft.fft` of a real
    /// array). A sync point.
    ///
    ///     let spectrum = try x.fft()
    public func fft(n: Int? = nil, axis: Int = -1, norm: FFTNorm = .backward) throws -> ComplexTensor<Scalar> {
        try ComplexTensor(self).fft(n: n, axis: axis, norm: norm)
    }

    /// The non-negative frequencies of the transform of real values (`numpy.fft.rfft`):
    /// `n/2 + 1` points along `axis`. A sync point.
    ///
    ///     let power = try x.rfft().abs().squared()
    public func rfft(n: Int? = nil, axis: Int = -1, norm: FFTNorm = .backward) throws -> ComplexTensor<Scalar> {
        let ax = try FFT.axis(axis, rank: rank, "rfft")
        let points = n ?? shape[ax]
        let full = try ComplexTensor(self).fft(n: points, axis: ax, norm: norm)
        return full[indices: FFT.slice(axis: ax, rank: rank, start: 0, end: points / 2 + 1, step: 1)]
    }

    /// The frequencies of an `n`-point transform's outputs for sample spacing `d`
    /// (`numpy.fft.fftfreq`): `0, 1, ..., n/2 - 1, -n/2, ..., -1` (for even `n`) over `n d`.
    ///
    ///     let f = Tensor<Double>.fftfreq(8, d: 0.1)
    public static func fftfreq(_ n: Int, d: Scalar = 1) -> Tensor {
        precondition(n > 0, "fftfreq: n must be positive")
        let values = (0..<n).map { k -> Scalar in Scalar(k < (n + 1) / 2 ? k : k - n) / (Scalar(n) * d) }
        return Tensor(values)
    }

    /// The non-negative frequencies of an `n`-point real transform (`numpy.fft.rfftfreq`):
    /// `0, 1, ..., n/2` over `n d`.
    ///
    ///     let f = Tensor<Double>.rfftfreq(8, d: 0.1)
    public static func rfftfreq(_ n: Int, d: Scalar = 1) -> Tensor {
        precondition(n > 0, "rfftfreq: n must be positive")
        return Tensor((0...(n / 2)).map { Scalar($0) / (Scalar(n) * d) })
    }
}

/// The transforms' host side: axis handling, the rows' transforms on the workers, the plans.
enum FFT {
    static func axis(_ axis: Int, rank: Int, _ name: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard rank > 0, a >= 0, a < rank else {
            throw FFTError(description: "\(name): axis \(axis) is out of bounds for array of dimension \(rank)")
        }
        return a
    }

    /// `start..<end` by `step` along `axis`, every other axis whole (`end` exclusive also for a
    /// negative step, as NumPy's `a[start:end:-1]`).
    static func slice(axis: Int, rank: Int, start: Int, end: Int, step: Int) -> [TensorIndex] {
        (0..<rank).map { $0 == axis ? .slice(start: start, end: end, step: step) : ._all }
    }

    /// Element `i` of `axis` kept as an axis of extent 1, every other axis whole.
    static func index(axis: Int, rank: Int, _ i: Int) -> [TensorIndex] {
        (0..<rank).map { $0 == axis ? .slice(start: i, end: i + 1, step: 1) : ._all }
    }

    /// `x` rolled by `n/2` (or back by it) along each of `axes` (all when nil).
    static func shift<S: TensorScalar>(_ x: Tensor<S>, axes: [Int]?, inverse: Bool) -> Tensor<S> {
        var out = x
        for a in axes ?? Array(0..<x.rank) {
            let ax = a < 0 ? a + x.rank : a
            precondition(ax >= 0 && ax < x.rank, "fftshift: axis \(a) is out of bounds for array of dimension \(x.rank)")
            let half = x.shape[ax] / 2
            out = out.rolled(by: inverse ? -half : half, axis: ax)
        }
        return out
    }

    /// `z` with `axis` cropped or zero-padded to `length`.
    static func resized<R: ComplexComponent>(_ z: ComplexTensor<R>, axis: Int, to length: Int) -> ComplexTensor<R> {
        let m = z.shape[axis]
        if m == length { return z }
        if m > length { return z[indices: slice(axis: axis, rank: z.rank, start: 0, end: length, step: 1)] }
        var padShape = z.shape
        padShape[axis] = length - m
        return ComplexTensor.concatenate([z, ComplexTensor<R>.zeros(padShape)], axis: axis)
    }

    static func transform<R: ComplexComponent>(_ z: ComplexTensor<R>, n: Int?, axis: Int, inverse: Bool, norm: FFTNorm) throws -> ComplexTensor<R> {
        let name = inverse ? "ifft" : "fft"
        let ax = try FFT.axis(axis, rank: z.rank, name)
        let points = n ?? z.shape[ax]
        guard points >= 1 else { throw FFTError(description: "\(name): invalid number of data points (\(points)) specified") }
        return try transform(resized(z, axis: ax, to: points), axes: [ax], inverse: inverse, norm: norm, name)
    }

    /// The transforms along `axes` in turn, on the host, in one sync: the input's two parts are
    /// read once (row-major), each axis's lines are gathered at their stride, transformed and
    /// put back, and the result is one new tensor of the same shape. (Through a permuted view
    /// each axis but the last cost a copy kernel, and `fft2` two syncs: 2,000 copies in 500 steps
    /// of a spectral solver.)
    static func transform<R: ComplexComponent>(_ z: ComplexTensor<R>, axes: [Int], inverse: Bool, norm: FFTNorm, _ name: String) throws -> ComplexTensor<R> {
        let shape = z.shape
        try z.flush()
        let re = try Tandem.runtime.read(z.real.node, call: "\(name) input")
        let im = try Tandem.runtime.read(z.imaginary.node, call: "\(name) input")
        let count = re.count
        var dataRe = [Double](repeating: 0, count: count), dataIm = [Double](repeating: 0, count: count)
        withExtendedLifetime((re, im)) {
            // One loop per element type: a generic conversion was a fifth of a transform's time.
            if R.self == Double.self {
                dataRe.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: re.pointer.assumingMemoryBound(to: Double.self), count: count) }
                dataIm.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: im.pointer.assumingMemoryBound(to: Double.self), count: count) }
            } else {
                let fr = re.pointer.assumingMemoryBound(to: Float.self), fi = im.pointer.assumingMemoryBound(to: Float.self)
                for k in 0..<count { dataRe[k] = Double(fr[k]); dataIm[k] = Double(fi[k]) }
            }
        }
        for ax in axes where count > 0 {
            let points = shape[ax], stride = shape[(ax + 1)...].reduce(1, *)
            let lines = count / points
            let scale: Double = switch (norm, inverse) {
            case (.backward, false), (.forward, true): 1
            case (.backward, true), (.forward, false): 1 / Double(points)
            case (.ortho, _): 1 / Double(points).squareRoot()
            }
            let imaginaryScale = inverse ? -scale : scale
            let plan = FFTPlan.cached(points)
            dataRe.withUnsafeMutableBufferPointer { dr in
                dataIm.withUnsafeMutableBufferPointer { di in
                    // Raw pointers cross into the pieces as integers; each piece owns whole lines.
                    let (ar, ai) = (UInt(bitPattern: dr.baseAddress), UInt(bitPattern: di.baseAddress))
                    let pieces = Swift.min(lines, Swift.max(1, Tandem.hostThreads))
                    DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                        let pr = UnsafeMutablePointer<Double>(bitPattern: ar)!, pi = UnsafeMutablePointer<Double>(bitPattern: ai)!
                        let xr = UnsafeMutablePointer<Double>.allocate(capacity: points), xi = UnsafeMutablePointer<Double>.allocate(capacity: points)
                        defer { xr.deallocate(); xi.deallocate() }
                        var work = plan.workspace()
                        for line in Swift.stride(from: piece, to: lines, by: pieces) {
                            // Line `line`: outer block `line / stride`, offset `line % stride` in it.
                            let base = (line / stride) * points * stride + line % stride
                            // Conjugated in and out for the inverse: ifft(x) = conj(fft(conj(x))) / n.
                            if stride == 1 {
                                xr.update(from: pr + base, count: points)
                                xi.update(from: pi + base, count: points)
                            } else {
                                for j in 0..<points { xr[j] = pr[base + j * stride]; xi[j] = pi[base + j * stride] }
                            }
                            if inverse { for j in 0..<points { xi[j] = -xi[j] } }
                            plan.forward(xr, xi, &work)
                            for j in 0..<points {
                                pr[base + j * stride] = xr[j] * scale
                                pi[base + j * stride] = xi[j] * imaginaryScale
                            }
                        }
                    }
                }
            }
        }
        return ComplexTensor<R>(real: Tensor<Double>(dataRe, shape: shape).cast(to: R.self),
                                imaginary: Tensor<Double>(dataIm, shape: shape).cast(to: R.self))
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
    /// step; a 2^20-point plan's twiddles cost a tenth of its transform). At most 16 kept.
    private static let plans = Mutex<[Int: FFTPlan]>([:])

    static func cached(_ n: Int) -> FFTPlan {
        if let p = plans.withLock({ $0[n] }) { return p }
        let p = FFTPlan(n)
        plans.withLock { cache in
            if cache.count >= 16 { cache.removeAll() }
            cache[n] = p
        }
        return p
    }

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
                stageRe = []; stageIm = []
                while size <= n {
                    for k in 0..<(size / 2) { stageRe.append(twiddleRe[k * (n / size)]); stageIm.append(twiddleIm[k * (n / size)]) }
                    size <<= 1
                }
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
        var work = plan.workspace()
        br.withUnsafeMutableBufferPointer { r in bi.withUnsafeMutableBufferPointer { i in plan.forward(r.baseAddress!, i.baseAddress!, &work) } }
        kernelRe = br
        kernelIm = bi
    }

    /// Scratch a thread reuses across rows: the mixed-radix output and butterfly values (unused
    /// for a power of two), and
    /// Bluestein's padded row with its inner plan's scratch.
    struct Workspace {
        var outRe: [Double], outIm: [Double]
        var butterflyRe: [Double], butterflyIm: [Double]
        var padRe: [Double], padIm: [Double]
        var inner: [Workspace]
    }

    func workspace() -> Workspace {
        // Only the recursive mixed radix writes out of place (a power of two works in place).
        let m = inner?.n ?? 0, p = factors.max() ?? 0, out = inner == nil && n & (n - 1) != 0 ? n : 0
        return Workspace(outRe: [Double](repeating: 0, count: out), outIm: [Double](repeating: 0, count: out),
                         butterflyRe: [Double](repeating: 0, count: p), butterflyIm: [Double](repeating: 0, count: p),
                         padRe: [Double](repeating: 0, count: m), padIm: [Double](repeating: 0, count: m),
                         inner: inner.map { [$0.workspace()] } ?? [])
    }

    /// The forward transform of the `n` points at `re`/`im`, in place.
    func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, _ work: inout Workspace) {
        if n <= 1 { return }
        if let inner { bluestein(re, im, inner, &work); return }
        let n = self.n
        if n & (n - 1) == 0 {
            stageRe.withUnsafeBufferPointer { tr in stageIm.withUnsafeBufferPointer { ti in radix2(re, im, tr.baseAddress!, ti.baseAddress!) } }
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
    /// log2(n) passes of butterflies
    /// over contiguous halves (the recursive form reads at large strides; 2^20 points took 1.8x
    /// as long).
    private func radix2(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>,
                        _ tr: UnsafePointer<Double>, _ ti: UnsafePointer<Double>) {
        swaps.withUnsafeBufferPointer { pairs in
            for t in Swift.stride(from: 0, to: pairs.count, by: 2) {
                let i = pairs[t], j = pairs[t + 1]
                swap(&re[i], &re[j]); swap(&im[i], &im[j])
            }
        }
        var size = 2
        while size <= n {
            let half = size / 2
            let wr = tr + (half - 1), wi = ti + (half - 1)
            var start = 0
            while start < n {
                let ar = re + start, ai = im + start, br = ar + half, bi = ai + half
                for k in 0..<half {
                    let xr = br[k] * wr[k] - bi[k] * wi[k], xi = br[k] * wi[k] + bi[k] * wr[k]
                    br[k] = ar[k] - xr; bi[k] = ai[k] - xi
                    ar[k] += xr; ai[k] += xi
                }
                start += size
            }
            size <<= 1
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
        var innerWork = work.inner[0]
        work.padRe.withUnsafeMutableBufferPointer { prb in
            work.padIm.withUnsafeMutableBufferPointer { pib in
                let pr = prb.baseAddress!, pi = pib.baseAddress!
                pr.update(repeating: 0, count: m)
                pi.update(repeating: 0, count: m)
                for k in 0..<n {
                    pr[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k]
                    pi[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k]
                }
                plan.forward(pr, pi, &innerWork)
                // Times the chirp's transform, then the inverse transform (a conjugated forward one).
                for k in 0..<m {
                    let r = pr[k] * kernelRe[k] - pi[k] * kernelIm[k]
                    let i = pr[k] * kernelIm[k] + pi[k] * kernelRe[k]
                    pr[k] = r
                    pi[k] = -i
                }
                plan.forward(pr, pi, &innerWork)
                let inv = 1 / Double(m)
                for k in 0..<n {
                    let yr = pr[k] * inv, yi = -pi[k] * inv
                    re[k] = yr * chirpRe[k] - yi * chirpIm[k]
                    im[k] = yr * chirpIm[k] + yi * chirpRe[k]
                }
            }
        }
        work.inner[0] = innerWork
    }
}
