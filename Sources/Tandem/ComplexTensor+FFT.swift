import Dispatch
import ComplexModule
import RealModule
import TandemMathC
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
// scalar code: on the lengths measured (bench/RESULTS.md, `z_fft`) NumPy's pocketfft's speed for
// rows of 256 and 1024 points, 1.1x its time for 2^20 and 997-point rows, 1.7x for 1000-point
// rows and 2.7x for 10^6 points (radix 2, 3 and 5 have their own butterflies, larger factors the
// generic one).
// Real input of an even length goes through a complex transform of half its length
// (Tensor+RealFFT.swift). FFTW, loaded with `dlopen` where installed, is the natural faster
// backend; not done yet.

/// How a transform is scaled (`numpy.fft`'s `norm`): `backward` (the default) leaves the forward
/// transform unscaled and divides the inverse by `n`; `ortho` divides both by `sqrt(n)`;
/// `forward` divides the forward transform by `n`.
public enum FFTNorm: Sendable {
    case backward, ortho, forward

    /// The factor a transform of `points` points is multiplied by under this norm.
    func scale(points: Int, inverse: Bool) -> Double {
        switch (self, inverse) {
        case (.backward, false), (.forward, true): 1
        case (.backward, true), (.forward, false): 1 / Double(points)
        case (.ortho, _): 1 / Double(points).squareRoot()
        }
    }
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
        if RealFFT.applies(points: points, axis: ax, shape: shape) { return try RealFFT.inverse(self, points: points, norm: norm) }
        // The full Hermitian spectrum of `points` frequencies from the first points/2 + 1.
        let half = points / 2 + 1
        let kept = FFT.resized(self, axis: ax, to: half)
        let mirrored = points - half > 0
            ? kept[indices: FFT.slice(axis: ax, rank: rank, start: points % 2 == 0 ? half - 2 : half - 1, end: 0, step: -1)].conj()
            : nil
        var full = mirrored.map { ComplexTensor.concatenate([kept, $0], axis: ax) } ?? kept
        // Frequency 0 (and n/2 for even n) must be real: their imaginary parts are dropped.
        full.imaginary[indices: FFT.index(axis: ax, rank: rank, 0)] = Tensor(RealType(0))
        if points % 2 == 0 { full.imaginary[indices: FFT.index(axis: ax, rank: rank, points / 2)] = Tensor(RealType(0)) }
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
    /// `numpy.fft.fftshift`: a roll by `n/2` of both parts (`Tensor.rolled`, a gather).
    ///
    ///     let centred = try ComplexTensor(x).fft().fftshift()
    public func fftshift(axes: [Int]? = nil) -> ComplexTensor { parts { FFT.shift($0, axes: axes, inverse: false) } }

    /// The inverse of `fftshift` (`numpy.fft.ifftshift`): a roll by `-(n/2)`.
    ///
    ///     let restored = ComplexTensor(x).fftshift().ifftshift()
    public func ifftshift(axes: [Int]? = nil) -> ComplexTensor { parts { FFT.shift($0, axes: axes, inverse: true) } }
}

extension Tensor {
    /// The zero frequency moved to the middle of each axis in `axes` (all when nil)
    /// (`numpy.fft.fftshift`): a roll by `n/2` (`Tensor.rolled`, a gather).
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
        if RealFFT.applies(points: points, axis: ax, shape: shape) { return try RealFFT.forward(self, points: points, norm: norm) }
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
    /// Neighbouring lines of a strided axis transformed together (see `transform`).
    static let lineGroup = 16
    /// Lines of `points` points (a power of two) transformed together, interleaved: 16 (two
    /// AVX-512 vectors of doubles, four of AVX2) up to 256 points, 8 up to 512 (a group's working
    /// set, two parts of 8 bytes, at most 64 KiB); longer lines go alone, their butterflies'
    /// loops long enough to vectorise along the line (groups of 2 or 4 lines were slower than
    /// one at a time for 1,024-point rows: the loop over the group was too short for a vector).
    static func interleavedLines(_ points: Int) -> Int { points <= 256 ? 16 : points <= 512 ? 8 : 1 }
    /// Points from which a transform's lines are split over the workers.
    static let parallelPoints = 1 << 15

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
    static func index(axis: Int, rank: Int, _ i: Int) -> [TensorIndex] { slice(axis: axis, rank: rank, start: i, end: i + 1, step: 1) }

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
        // The transform runs in place in two float64 buffers that become the result (taken from
        // the buffer pool: fresh arrays of a 128 x 128 transform page-faulted at every call).
        let outRe = Buffer(dtype: .float64, count: count), outIm = Buffer(dtype: .float64, count: count)
        let dr = outRe.pointer.assumingMemoryBound(to: Double.self), di = outIm.pointer.assumingMemoryBound(to: Double.self)
        withExtendedLifetime((re, im)) {
            // One loop per element type: a generic conversion was a fifth of a transform's time.
            if R.self == Double.self {
                dr.update(from: re.pointer.assumingMemoryBound(to: Double.self), count: count)
                di.update(from: im.pointer.assumingMemoryBound(to: Double.self), count: count)
            } else {
                let fr = re.pointer.assumingMemoryBound(to: Float.self), fi = im.pointer.assumingMemoryBound(to: Float.self)
                for k in 0..<count { dr[k] = Double(fr[k]); di[k] = Double(fi[k]) }
            }
        }
        for ax in axes where count > 0 {
            let points = shape[ax], stride = shape[(ax + 1)...].reduce(1, *)
            let lines = count / points
            let scale = norm.scale(points: points, inverse: inverse)
            let imaginaryScale = inverse ? -scale : scale
            let plan = FFTPlan.cached(points)
            // Lines in groups of up to `group` neighbours (consecutive offsets in one outer block
            // of a strided axis, consecutive rows of the last): a strided axis's lines are
            // gathered a row of the group at a time, contiguous reads instead of one cache line
            // per element (a 128 x 128 `fft2`'s column pass spent more in its gathers than in its
            // butterflies). A power of two transforms its group at once, interleaved (point j of
            // line q at j * width + q: `FFTPlan.forwardLines`); another length a line at a time.
            let interleaved = plan.transformsLines
            let group = interleaved ? FFT.interleavedLines(points) : stride == 1 ? 1 : Swift.min(FFT.lineGroup, stride)
            let blocks = lines / stride
            // Groups of a block: across its `stride` neighbouring lines, or (the last axis, one
            // line a block) across whole blocks.
            let groupsPerBlock = stride == 1 ? 1 : (stride + group - 1) / group
            let groups = stride == 1 ? (blocks + group - 1) / group : blocks * groupsPerBlock
            // Raw pointers cross into the pieces as integers; each piece owns whole groups.
            let (ar, ai) = (UInt(bitPattern: dr), UInt(bitPattern: di))
            // A small transform on the calling thread: waking the workers cost more.
            let pieces = count < FFT.parallelPoints ? 1 : Swift.min(groups, Swift.max(1, Tandem.hostThreads))
            DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                let pr = UnsafeMutablePointer<Double>(bitPattern: ar)!, pi = UnsafeMutablePointer<Double>(bitPattern: ai)!
                let xr = UnsafeMutablePointer<Double>.allocate(capacity: points * group)
                let xi = UnsafeMutablePointer<Double>.allocate(capacity: points * group)
                defer { xr.deallocate(); xi.deallocate() }
                var work = plan.workspace()
                // Conjugated in and out for the inverse: ifft(x) = conj(fft(conj(x))) / n.
                let sign: Double = inverse ? -1 : 1
                for g in Swift.stride(from: piece, to: groups, by: pieces) {
                    // Line q of the group is element base + q * lineStep + j * stride, j < points.
                    let width: Int, base: Int, lineStep: Int
                    if stride == 1 {
                        width = Swift.min(group, blocks - g * group)
                        (base, lineStep) = (g * group * points, points)
                    } else {
                        let first = (g % groupsPerBlock) * group
                        width = Swift.min(group, stride - first)
                        (base, lineStep) = ((g / groupsPerBlock) * points * stride + first, 1)
                    }
                    if interleaved {
                        tandem_fft_gather(pr + base, pi + base, xr, xi, points, width, stride, lineStep, sign)
                        plan.forwardLines(xr, xi, width: width)
                        tandem_fft_scatter(pr + base, pi + base, xr, xi, points, width, stride, lineStep, scale, imaginaryScale)
                        continue
                    }
                    for j in 0..<points {
                        let row = base + j * stride
                        for q in 0..<width {
                            xr[q * points + j] = pr[row + q * lineStep]
                            xi[q * points + j] = sign * pi[row + q * lineStep]
                        }
                    }
                    for q in 0..<width { plan.forward(xr + q * points, xi + q * points, &work) }
                    for j in 0..<points {
                        let row = base + j * stride
                        for q in 0..<width {
                            pr[row + q * lineStep] = xr[q * points + j] * scale
                            pi[row + q * lineStep] = xi[q * points + j] * imaginaryScale
                        }
                    }
                }
            }
        }
        return withExtendedLifetime((outRe, outIm)) {
            ComplexTensor<R>(real: Tensor<Double>(.storage(outRe), shape: shape).cast(to: R.self),
                             imaginary: Tensor<Double>(.storage(outIm), shape: shape).cast(to: R.self))
        }
    }
}
