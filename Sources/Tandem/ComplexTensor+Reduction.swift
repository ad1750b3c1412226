import ComplexModule
import RealModule

// Reductions of complex tensors that are not a real reduction of each part: the product (a
// chain of complex products, in order) and the positions of the largest and smallest elements
// in NumPy's lexicographic order of complex numbers.

extension ComplexTensor {
    /// The product over `axes` (all when nil), `numpy.prod` of complex values: each lane
    /// multiplied in row-major order from its first element, `acc = acc · z` as NumPy's loop
    /// does (`(ac - bd) + (ad + bc)i`, each product rounded); an empty lane gives `1 + 0i`.
    ///
    /// A sync point: a chain of complex products does not split into real reductions, and
    /// regrouping it (a tree) would round differently from NumPy's chain, so the lanes are
    /// multiplied on the host, in order, and the result is a tensor again. NumPy's bits for a
    /// lane read in memory order (its scalar loop, `np.prod(z)` and the last axis of a C-ordered
    /// array); along another axis NumPy's vector loop fuses multiply-adds, within a few ulp.
    ///
    ///     let z = ComplexTensor<Double>([Complex(1, 2), Complex(3, -1), Complex(0.5, 0.5)])
    ///     let p = try z.prod().item()                  // (1+2i)(3-i)(0.5+0.5i)
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) throws -> ComplexTensor {
        let reduced = real.reductionAxes(axes, "prod")
        let kept = (0..<rank).filter { !reduced.contains($0) }
        let lane = reduced.reduce(1) { $0 * shape[$1] }
        let moved = permuted(kept + reduced)
        try moved.flush()
        let (re, im) = (try moved.real.scalars, try moved.imaginary.scalars)
        let lanes = kept.reduce(1) { $0 * shape[$1] }
        var outRe = [RealType](repeating: 1, count: lanes), outIm = [RealType](repeating: 0, count: lanes)
        if lane > 0 {
            for l in 0..<lanes {
                var (ar, ai) = (re[l * lane], im[l * lane])
                for k in (l * lane + 1)..<((l + 1) * lane) {
                    let (br, bi) = (re[k], im[k])
                    (ar, ai) = (ar * br - ai * bi, ar * bi + ai * br)
                }
                (outRe[l], outIm[l]) = (ar, ai)
            }
        }
        let outShape = keepDims ? (0..<rank).map { reduced.contains($0) ? 1 : shape[$0] } : kept.map { shape[$0] }
        return ComplexTensor(real: Tensor(outRe, shape: outShape), imaginary: Tensor(outIm, shape: outShape))
    }

    /// `prod(axes: [axis], ...)`: along one axis (negative axes count from the end). A sync point.
    ///
    ///     let rows = try ComplexTensor<Double>.ones([3, 4]).prod(axis: 1)
    public func prod(axis: Int, keepDims: Bool = false) throws -> ComplexTensor {
        try prod(axes: [axis], keepDims: keepDims)
    }

    /// The index of the largest element along `axis` in NumPy's order of complex numbers
    /// (`numpy.argmax`): by real part, then by imaginary part; the first of equal ones; an
    /// element with a NaN part is largest, the first such one wins.
    ///
    /// Lazy and fused like the real reductions (on every device): the largest real part of each
    /// lane, the largest imaginary part among the elements that have it, and the first element
    /// with both, or the first NaN: four reductions, no sort.
    ///
    ///     let z = ComplexTensor<Double>([Complex(1, 5), Complex(3, -1), Complex(3, 2)])
    ///     let i = try z.argmax().item()               // 2: 3+2i
    public func argmax(axis: Int, keepDims: Bool = false) -> Tensor<Int64> {
        lexicographicIndex(axis: axis, keepDims: keepDims, largest: true)
    }

    /// The index of the smallest element along `axis` (`numpy.argmin`), in the order of
    /// `argmax`: by real part, then imaginary part; the first NaN wins.
    ///
    ///     let z = ComplexTensor<Double>([Complex(1, 5), Complex(1, -1), Complex(3, 2)])
    ///     let i = try z.argmin().item()               // 1: 1-1i
    public func argmin(axis: Int, keepDims: Bool = false) -> Tensor<Int64> {
        lexicographicIndex(axis: axis, keepDims: keepDims, largest: false)
    }

    /// The flat (row-major) index of the largest element, `numpy.argmax` without an axis.
    ///
    ///     let i = ComplexTensor<Double>([Complex(0, 1), Complex(0, 2)]).argmax()   // 1
    public func argmax() -> Tensor<Int64> { flattened().argmax(axis: 0) }

    /// The flat (row-major) index of the smallest element, `numpy.argmin` without an axis.
    ///
    ///     let i = ComplexTensor<Double>([Complex(0, 1), Complex(0, 2)]).argmin()   // 0
    public func argmin() -> Tensor<Int64> { flattened().argmin(axis: 0) }

    /// NumPy's `CDOUBLE_argmax`/`argmin` as reductions: a NaN in either part is the answer at
    /// its first occurrence; otherwise the extreme real part, then the extreme imaginary part
    /// among those, then the first element with both.
    func lexicographicIndex(axis: Int, keepDims: Bool, largest: Bool) -> Tensor<Int64> {
        let name = largest ? "argmax" : "argmin"
        let a = Tensor<RealType>.axis(axis, rank: rank, name)
        precondition(shape[a] > 0, "attempt to get \(name) of an empty sequence")
        let nan = isNaN()
        let firstNaN = Tensor<Int32>(nan).argmax(axis: a, keepDims: keepDims)
        let hasNaN = nan.any(axis: a, keepDims: keepDims)
        let bestReal = largest ? real.max(axis: a, keepDims: true) : real.min(axis: a, keepDims: true)
        let candidates = real .== bestReal
        let outside = largest ? -RealType.infinity : RealType.infinity
        let amongThem = select(candidates, imaginary, outside)
        let bestImaginary = largest ? amongThem.max(axis: a, keepDims: true) : amongThem.min(axis: a, keepDims: true)
        let winners = candidates .& (imaginary .== bestImaginary)
        let first = Tensor<Int32>(winners).argmax(axis: a, keepDims: keepDims)
        return select(hasNaN, firstNaN, first)
    }
}
