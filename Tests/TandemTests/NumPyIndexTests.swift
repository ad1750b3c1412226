import Testing
import Tandem
import _TandemTestSupport

/// Issue 16 points 2, 5, 6: gathers (fused, on every placement), scatters, masks, counts,
/// sorting, order statistics and scans, against values worked out with NumPy.
@Suite("NumPy indexing, sorting, scans", .planned)
struct NumPyIndexTests {
    @Test("take and x[indices]: fused with the index expression, equal on every placement")
    func gathers() throws {
        let c = Tensor<Double>([0, 1, 10, 11, 20, 21], shape: [3, 2])
        let labels = Tensor<Int64>([2, 0, 2, -1])
        #expect(try c[labels].scalars == [20, 21, 0, 1, 20, 21, 20, 21])
        #expect(c.take(labels, axis: 0).shape == [4, 2])
        #expect(try c.take(Tensor<Int32>([1, 0]), axis: 1).scalars == [1, 0, 11, 10, 21, 20])
        #expect(try c[.all, Tensor<Int32>([1])].scalars == [1, 11, 21])
        #expect(try c.take(Tensor<Int64>([5, 0])).scalars == [21, 0])   // flattened
        #expect(c.take(Tensor<Int64>([[0, 1], [2, 0]].flatMap { $0 }, shape: [2, 2]), axis: 0).shape == [2, 2, 2])
        // k-means' assignment: labels computed lazily, the gather fused with the distance.
        let x = Tensor<Double>.uniform([50, 2], seed: 3, in: 0...21)
        let d = (x.reshaped([50, 1, 2]) - c.reshaped([1, 3, 2])).square().sum(axis: 2)
        let nearest = d.argmin(axis: 1)
        let residual = (x - c[nearest]).square().sum()
        let xs = try x.scalars, cs = try c.scalars
        var want = 0.0
        for i in 0..<50 {
            var best = Double.infinity
            for k in 0..<3 {
                let dx = xs[2 * i] - cs[2 * k], dy = xs[2 * i + 1] - cs[2 * k + 1]
                best = Swift.min(best, dx * dx + dy * dy)
            }
            want += best
        }
        #expect(abs(try residual.item() - want) < 1e-9)
        // The gather is an indexed load inside the kernels that use it, not a kernel of its own.
        let labelsNow = Tensor<Int64>([2, 0, 1, 1, 0]), pts = Tensor<Double>.uniform([5, 2], seed: 4)
        let plan = Tandem.plan((pts - c[labelsNow]).square().sum())
        #expect(plan.kernels.count == 1 && plan.kernels[0].label.contains("gather"))
        for device in [DeviceChoice.interpreter, .cpu1, .cpu] {
            let r = try Tandem.withDevice(device) { try (x - c[nearest]).square().sum().item() }
            #expect(abs(r - want) < 1e-9, "\(device)")
            let g = try Tandem.withDevice(device) { try (c[Tensor<Int64>([1, -3]) * 1] * 2).scalars }
            #expect(g == [20, 22, 0, 2], "\(device)")
        }
        // An index still pending is clamped into the axis, never read outside it.
        let far = Tensor<Int64>([7]) * 1
        #expect(try c[far].scalars == [20, 21])
        let sorted = try Tensor<Double>([3, 1, 2]).argsort()
        #expect(try Tensor<Double>([3, 1, 2])[sorted].scalars == [1, 2, 3])
    }

    @Test("scatter writes, add(at:), take(along:), masks and nonzero")
    func scatters() throws {
        var x = Tensor<Double>.zeros([5])
        x[Tensor<Int64>([1, 3, -1])] = Tensor([7, 8, 9])
        #expect(try x.scalars == [0, 7, 0, 8, 9])
        var g = Tensor<Int64>.zeros([3, 2])
        g[Tensor<Int32>([2, 0])] = Tensor<Int64>(5)
        #expect(try g.scalars == [5, 5, 0, 0, 5, 5])
        g[.all, Tensor<Int32>([1])] = Tensor<Int64>([1, 2, 3], shape: [3, 1])
        #expect(try g.scalars == [5, 1, 0, 2, 5, 3])
        var counts = Tensor<Int64>.zeros([3])
        try counts.add(at: Tensor<Int64>([0, 2, 0, 0]), Tensor<Int64>(1))
        #expect(try counts.scalars == [3, 0, 1])
        var acc = Tensor<Double>.zeros([2, 2])
        try acc.add(at: Tensor<Int32>([1, 1]), Tensor<Double>([1, 2, 3, 4], shape: [2, 2]))
        #expect(try acc.scalars == [0, 0, 4, 6])
        let m = Tensor<Double>([3, 1, 2, 9, 7, 8], shape: [2, 3])
        let order = try m.argsort(axis: 1)
        #expect(try order.scalars == [1, 2, 0, 1, 2, 0])
        #expect(try m.take(along: order, axis: 1).scalars == [1, 2, 3, 7, 8, 9])
        #expect(try m.take(along: Tensor<Int64>([1, 0, 1], shape: [1, 3]), axis: 0).scalars == [9, 1, 8])
        let v = Tensor<Double>([-1, 2, -3, 4])
        #expect(try v.elements(where: v .> 0.0).scalars == [2, 4])
        let nz = try (m .> 2.5).nonzero()
        #expect(try nz[0].scalars == [0, 1, 1, 1])
        #expect(try nz[1].scalars == [0, 0, 1, 2])
        #expect(try (m .> 2.5).countNonzero().item() == 4)
        // Masks without a true element, all true, true only first or last, 3-D, a broadcast mask,
        // and rank 0 (the branch-free loops stop at the last true element).
        for bits in [[false, false, false], [true, true, true], [true, false, false], [false, false, true]] {
            let b = Tensor(bits), want = bits.indices.filter { bits[$0] }.map(Int64.init)
            #expect(try b.nonzero()[0].scalars == want, "\(bits)")
            #expect(try Tensor<Int32>([5, 6, 7]).elements(where: b).scalars == want.map { Int32($0) + 5 }, "\(bits)")
            #expect(try Tensor<UInt8>([5, 6, 7]).elements(where: b).scalars == want.map { UInt8($0) + 5 }, "\(bits)")
        }
        let cube = Tensor<Int64>.arange(0, 24).reshaped([2, 3, 4])
        let hits = try (cube % 5 .== 0).nonzero()
        let flat = (0..<24).filter { $0 % 5 == 0 }
        #expect(try hits[0].scalars == flat.map { Int64($0 / 12) } && hits[1].scalars == flat.map { Int64($0 / 4 % 3) }
                && hits[2].scalars == flat.map { Int64($0 % 4) })
        #expect(try cube.elements(where: Tensor([true, false, false, true])).scalars == (0..<24).filter { $0 % 4 == 0 || $0 % 4 == 3 }.map(Int64.init))
        #expect(try Tensor(true).nonzero()[0].scalars == [0] && Tensor(false).nonzero()[0].scalars == [])
    }

    @Test("bincount and histogram as NumPy")
    func counting() throws {
        #expect(try Tensor<Int64>([0, 1, 1, 3]).bincount().scalars == [1, 2, 0, 1])
        #expect(try Tensor<Int32>([1]).bincount(minLength: 4).scalars == [0, 1, 0, 0])
        #expect(try Tensor<Int64>([0, 1, 1]).bincount(weights: Tensor<Double>([0.5, 1, 2])).scalars == [0.5, 3])
        // numpy.histogram([0, 0.1, 0.25, 0.5, 0.99, 1.0, 1.5, -1], bins=4, range=(0, 1))
        let (counts, edges) = try Tensor<Double>([0, 0.1, 0.25, 0.5, 0.99, 1.0, 1.5, -1]).histogram(bins: 4, range: 0...1)
        #expect(try counts.scalars == [2, 1, 1, 2])
        #expect(try edges.scalars == [0, 0.25, 0.5, 0.75, 1])
        // Edges as NumPy's linspace makes them, to the bit (lo + (hi - lo) * k / bins, as before,
        // was off in the last bit for three random ranges in four, the last edge included).
        let x = Tensor<Double>([0.3, 1.7, 2.2, 5.9, 3.3, -1.2])
        let (c7, e7) = try x.histogram(bins: 7)
        #expect(try c7.scalars == [1, 1, 1, 1, 1, 0, 1])
        #expect(try e7.scalars == [-1.2, -0.1857142857142855, 0.828571428571429, 1.8428571428571436, 2.8571428571428577,
                                   3.871428571428572, 4.885714285714287, 5.9])
        let (c5, e5) = try x.histogram(bins: 5, range: -1.3...6.1)
        #expect(try c5.scalars == [1, 1, 2, 1, 1])
        #expect(try e5.scalars == [-1.3, 0.17999999999999994, 1.66, 3.1399999999999997, 4.62, 6.1])
        // Weighted (numpy.histogram(..., weights=w)): the same bins, weights summed; NaN left out.
        let (wsum, wedges) = try Tensor<Double>([0, 0.1, 0.25, 0.5, 0.99, 1.0, 1.5, -1]).histogram(bins: 4, range: 0...1, weights: Tensor<Double>.arange(1, 9))
        #expect(try wsum.scalars == [3, 3, 4, 11] && wedges.scalars == [0, 0.25, 0.5, 0.75, 1])
        let y = Tensor<Double>([0.3, -1.2, 5.5, 2.2, 2.2, 0.0, 3.3, .nan])
        #expect(try y.histogram(bins: 3, weights: Tensor<Double>([0.5, 1.5, 2.5, -1, 2, 3, 4, 100])).counts.scalars == [5, 1, 6.5])
        // numpy.histogram(np.arange(10.0), bins=3): counts 3, 3, 4
        #expect(try Tensor<Double>.arange(0, 10).histogram(bins: 3).counts.scalars == [3, 3, 4])
        // The range found past NaNs (numpy.histogram raises on NaN in an autodetected range; NaN
        // is left out here), all-NaN and empty inputs over NumPy's default (0, 1).
        let withNaN = try Tensor<Double>([2, .nan, 4, 3]).histogram(bins: 2)
        #expect(try withNaN.counts.scalars == [1, 2] && withNaN.edges.scalars == [2, 3, 4])
        #expect(try Tensor<Double>([.nan]).histogram(bins: 2).edges.scalars == [0, 0.5, 1])
        #expect(try Tensor<Double>([Double]()).histogram(bins: 2).counts.scalars == [0, 0])
        #expect(try Tensor<Int64>([Int64]()).bincount().scalars == [] && Tensor<Int64>([Int64]()).bincount(minLength: 2).scalars == [0, 0])
    }

    @Test("scans along every axis of a 3-D tensor, lanes split over the threads: the sequential running sums and products, each dtype's arithmetic")
    func scansAlongAxes() throws {
        let shape = [40, 30, 50]                 // 60,000 elements: split over the threads
        var g = SeededGenerator(seed: 91)
        let doubles = (0..<(40 * 30 * 50)).map { _ in Double(Int64(bitPattern: g.next()) % 1000) / 64 }
        let ints = (0..<(40 * 30 * 50)).map { _ in Int32(truncatingIfNeeded: g.next() % 7) - 3 }
        func strides(_ s: [Int]) -> [Int] { [s[1] * s[2], s[2], 1] }
        for axis in 0..<3 {
            let st = strides(shape)
            var sums = doubles, products = ints, floats = doubles.map { Float($0) }
            // Running values along `axis`, in index order, in each element type (Int32 wrapping).
            for flat in 0..<doubles.count where (flat / st[axis]) % shape[axis] != 0 {
                sums[flat] = sums[flat - st[axis]] + sums[flat]
                products[flat] = products[flat - st[axis]] &* products[flat]
                floats[flat] = floats[flat - st[axis]] + floats[flat]
            }
            #expect(try Tensor(doubles, shape: shape).cumsum(axis: axis).scalars == sums, "f64 cumsum along \(axis)")
            #expect(try Tensor(ints, shape: shape).cumprod(axis: axis).scalars == products, "i32 cumprod along \(axis)")
            #expect(try Tensor(doubles.map { Float($0) }, shape: shape).cumsum(axis: axis).scalars == floats, "f32 cumsum along \(axis)")
        }
        // A transposed view's scan reads the view (its strides), not the base's order.
        let m = Tensor(doubles.prefix(1200).map { $0 }, shape: [30, 40])
        let t = try m.transposed.cumsum(axis: 1).scalars
        let ms = try m.scalars
        for r in 0..<40 { var acc = 0.0; for c in 0..<30 { acc = c == 0 ? ms[c * 40 + r] : acc + ms[c * 40 + r]; #expect(t[r * 30 + c] == acc) } }
    }

    /// Lanes of 256 elements or more are sorted by radix passes on order-preserving keys: every
    /// dtype against Swift's comparison sort, with the float specials (-0.0 and 0.0 equal for the
    /// stable order, infinities, subnormals, NaN last) and the integer extremes.
    @Test("long lanes (radix sort): sort, argsort, median and percentile of every dtype agree with a comparison sort")
    func longLanes() throws {
        var g = SeededGenerator(seed: 77)
        func check<T: NumericTensorScalar & Comparable>(_ values: [T], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let numbers = values.filter { $0 == $0 }, nans = values.count - numbers.count
            let want = numbers.sorted()
            let got = try Tensor(values).sorted().scalars
            #expect(Array(got.prefix(numbers.count)) == want, "\(what) sorted", sourceLocation: sourceLocation)
            #expect(got.suffix(nans).allSatisfy { $0 != $0 }, "\(what) NaN last", sourceLocation: sourceLocation)
            let order = try Tensor(values).argsort().scalars.map { Int($0) }
            let stable = values.indices.filter { values[$0] == values[$0] }.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
            #expect(Array(order.prefix(numbers.count)) == stable, "\(what) argsort stable", sourceLocation: sourceLocation)
            let rows = try Tensor(Array(values.prefix(3 * 2500)), shape: [3, 2500]).sorted(axis: 1).scalars
            for r in 0..<3 {
                let lane = Array(values[(r * 2500)..<((r + 1) * 2500)]).filter { $0 == $0 }.sorted()
                #expect(Array(rows[(r * 2500)..<(r * 2500 + lane.count)]) == lane, "\(what) row \(r)", sourceLocation: sourceLocation)
            }
            // 120 lanes of 300 (radix lanes, split over the threads), along the last axis and the first.
            let block = Array((values + values).prefix(120 * 300))
            let byRow = try Tensor(block, shape: [120, 300]).sorted(axis: 1).scalars
            let orderByRow = try Tensor(block, shape: [120, 300]).argsort(axis: 1).scalars.map { Int($0) }
            let byColumn = try Tensor(block, shape: [300, 120]).sorted(axis: 0).scalars
            for r in stride(from: 0, to: 120, by: 7) {
                let lane = Array(block[(r * 300)..<((r + 1) * 300)])
                let kept = lane.filter { $0 == $0 }.sorted()
                #expect(Array(byRow[(r * 300)..<(r * 300 + kept.count)]) == kept, "\(what) lane \(r) of 300", sourceLocation: sourceLocation)
                let stableLane = lane.indices.filter { lane[$0] == lane[$0] }.sorted { lane[$0] < lane[$1] || (lane[$0] == lane[$1] && $0 < $1) }
                #expect(Array(orderByRow[(r * 300)..<(r * 300 + stableLane.count)]) == stableLane, "\(what) argsort lane \(r) of 300", sourceLocation: sourceLocation)
                let column = (0..<300).map { block[$0 * 120 + r] }.filter { $0 == $0 }.sorted()
                #expect((0..<column.count).map { byColumn[$0 * 120 + r] } == column, "\(what) column \(r) of 300", sourceLocation: sourceLocation)
            }
        }
        let specials: [Double] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan]
        let doubles = (0..<20_000).map { i in i % 97 == 0 ? specials[i % specials.count] : Double(Int64(bitPattern: g.next()) % 1000) / 7 }
        try check(doubles, "f64")
        try check(doubles.map { Float($0) }, "f32")
        try check((0..<20_000).map { i in i % 101 == 0 ? (i % 2 == 0 ? Int64.min : Int64.max) : Int64(bitPattern: g.next()) % 500 }, "i64")
        try check((0..<20_000).map { _ in Int32(truncatingIfNeeded: g.next()) }, "i32")
        try check((0..<20_000).map { _ in Int16(truncatingIfNeeded: g.next()) }, "i16")
        try check((0..<20_000).map { _ in Int8(truncatingIfNeeded: g.next()) }, "i8")
        try check((0..<20_000).map { _ in UInt32(truncatingIfNeeded: g.next()) }, "u32")
        try check((0..<20_000).map { _ in UInt16(truncatingIfNeeded: g.next()) }, "u16")
        try check((0..<20_000).map { _ in UInt8(truncatingIfNeeded: g.next()) }, "u8")
        // x[mask], copied as bytes: every kept element, in order, of a float and a byte type.
        let keep = doubles.map { $0 > 0 }
        #expect(try Tensor(doubles).elements(where: Tensor(keep)).scalars == zip(doubles, keep).filter { $0.1 }.map(\.0))
        let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        #expect(try Tensor(bytes).elements(where: Tensor(keep)).scalars == zip(bytes, keep).filter { $0.1 }.map(\.0))
        // -0.0 and 0.0 keep their order in a stable argsort (they are equal).
        let zeros: [Double] = (0..<4096).map { $0 % 2 == 0 ? 0.0 : -0.0 }
        #expect(try Tensor(zeros).argsort().scalars == (0..<4096).map(Int64.init))
        let finite = doubles.filter { $0.isFinite }
        let sortedFinite = finite.sorted()
        #expect(try Tensor(finite).median().item() == (sortedFinite[finite.count / 2 - 1] + sortedFinite[finite.count / 2]) / 2 || finite.count % 2 == 1)
        #expect(try Tensor(doubles).median().item().isNaN)
    }

    @Test("median and percentile by selection equal NumPy's formulas on the sorted lane: lengths 1-40 and 5001, duplicates, runs, ±0, infinities, f32, along axes")
    func selectionAgreesWithSort() throws {
        var g = SeededGenerator(seed: 91)
        // NumPy's percentile on a sorted lane: linear interpolation with _lerp's two forms.
        func percentile(_ s: [Double], _ q: Double) -> Double {
            let position = q / 100 * Double(s.count - 1)
            let lo = Int(position.rounded(.down)), hi = min(lo + 1, s.count - 1), t = position - Double(lo)
            return t >= 0.5 ? s[hi] - (s[hi] - s[lo]) * (1 - t) : s[lo] + (s[hi] - s[lo]) * t
        }
        func median(_ s: [Double]) -> Double { s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let shapes: [(String, (Int) -> Double)] = [
            ("random", { _ in Double(Int64(bitPattern: g.next()) % 1_000_000) / 3 }),
            ("few values", { _ in Double(g.next() % 3) }),
            ("ascending", { Double($0) }),
            ("descending", { -Double($0) }),
            ("all equal", { _ in 7 }),
            ("organ pipe", { i in Double(min(i, 10_000 - i)) }),
            ("sawtooth", { i in Double(i % 17) }),
            ("specials", { i in [0, -0.0, .infinity, -.infinity, 1, -1][i % 6] }),
        ]
        let qs = [0, 1, 25, 100.0 / 3, 50, 90, 99.9, 100]
        for (name, make) in shapes {
            for n in Array(1...40) + [5001] {
                let values = (0..<n).map(make)
                let s = values.sorted()
                let t = Tensor(values)
                let m = try t.median().item(), want = median(s)
                #expect(m == want || (m.isNaN && want.isNaN), "\(name) n=\(n) median \(m) != \(want)")
                for q in qs {
                    let p = try t.percentile(q).item(), w = percentile(s, q)
                    #expect(p == w || (p.isNaN && w.isNaN), "\(name) n=\(n) percentile \(q): \(p) != \(w)")
                }
            }
        }
        // Along an axis, a lane per row and per column; Float in its own type.
        let grid = (0..<(37 * 23)).map { _ in Double(g.next() % 1000) }
        let rows = try Tensor(grid, shape: [37, 23]).median(axis: 1).scalars
        let columns = try Tensor(grid, shape: [37, 23]).percentile(75, axis: 0).scalars
        for r in 0..<37 { #expect(rows[r] == median(Array(grid[(r * 23)..<((r + 1) * 23)]).sorted()), "row \(r)") }
        for c in 0..<23 { #expect(columns[c] == percentile(stride(from: c, to: grid.count, by: 23).map { grid[$0] }.sorted(), 75), "column \(c)") }
        let floats = (0..<1001).map { _ in Float(g.next() % 5000) / 7 }
        #expect(try Tensor(floats).median().item() == floats.sorted()[500])
        // A NaN anywhere in a lane makes it NaN, whatever its place.
        for at in [0, 500, 1000] {
            var d = (0..<1001).map(Double.init)
            d[at] = .nan
            #expect(try Tensor(d).median().item().isNaN)
            #expect(try Tensor(d).percentile(10).item().isNaN)
        }
    }

    @Test("sort, argsort (stable, NaN last), median, percentile, cumsum, cumprod")
    func orderAndScans() throws {
        let x = Tensor<Double>([3, .nan, 1, 2, 1])
        let s = try x.sorted().scalars
        #expect(Array(s.prefix(4)) == [1, 1, 2, 3] && s[4].isNaN)
        #expect(try x.argsort().scalars == [2, 4, 3, 0, 1])
        let m = Tensor<Int32>([5, 2, 9, 1, 7, 3], shape: [2, 3])
        #expect(try m.sorted(axis: 0).scalars == [1, 2, 3, 5, 7, 9])
        #expect(try m.sorted().scalars == [2, 5, 9, 1, 3, 7])
        #expect(try Tensor<Double>([3, 1, 4, 1, 5]).median().item() == 3)
        #expect(try Tensor<Double>([3, 1, 4, 1]).median().item() == 2)
        #expect(try Tensor<Double>([1, 2, 3, 4], shape: [2, 2]).median(axis: 0).scalars == [2, 3])
        // numpy.percentile([1, 2, 3, 4, 10], [90, 25]) = 7.6, 2.0
        #expect(abs(try Tensor<Double>([1, 2, 3, 4, 10]).percentile(90).item() - 7.6) < 1e-12)
        #expect(try Tensor<Double>([1, 2, 3, 4, 10]).percentile(25).item() == 2)
        #expect(try Tensor<Double>([1, .nan]).median().item().isNaN)
        #expect(try Tensor<Int64>([1, 2, 3]).cumsum().scalars == [1, 3, 6])
        #expect(try m.cumsum(axis: 1).scalars == [5, 7, 16, 1, 8, 11])
        #expect(try m.cumsum(axis: 0).scalars == [5, 2, 9, 6, 9, 12])
        #expect(try m.cumsum().scalars == [5, 7, 16, 17, 24, 27])
        #expect(try Tensor<Float>([1, 2, 3]).cumprod().scalars == [1, 2, 6])
        let f = Tensor<Float>.uniform([1000], seed: 2)
        let fs = try f.scalars
        var running: Float = 0
        let want = fs.map { running += $0; return running }
        #expect(try f.cumsum().scalars == want)   // in float, in order, as NumPy
    }

    @Test("percentile and quantile with a list of q: NumPy's shapes (q axis first), values, f32 and f64, axes, keepDims, NaN, on every placement")
    func percentileList() throws {
        let m = Tensor<Double>([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9], shape: [3, 5])
        for device in [DeviceChoice.interpreter, .cpu1, .cpu] {
            try Tandem.withDevice(device) { () throws -> Void in
                // numpy.percentile([1, 2, 3, 4, 10], [90, 25, 0, 100, 33.3]), quantile(..., [0.9, 0.25, 0.5])
                let x = Tensor<Double>([1, 2, 3, 4, 10]) * 1     // pending: computed on this placement
                #expect(try x.percentile([90, 25, 0, 100, 33.3]).scalars == [7.6000000000000005, 2.0, 1.0, 10.0, 2.332], "\(device)")
                #expect(try x.quantile([0.9, 0.25, 0.5]).scalars == [7.6000000000000005, 2.0, 3.0], "\(device)")
                // numpy.percentile(m, [10, 50, 95], axis=...) for the 3 x 5 matrix m
                let overAll = try (m * 1).percentile([10, 50, 95])
                #expect(overAll.shape == [3])
                #expect(try overAll.scalars == [1.4000000000000001, 5.0, 9.0], "\(device)")
                let down = try m.quantile([0.1, 0.5, 0.95], axis: 0)
                #expect(down.shape == [3, 5])
                #expect(try down.scalars == [3.4, 1.2, 4.4, 1.8, 3.4, 5.0, 2.0, 6.0, 5.0, 5.0, 8.6, 7.3999999999999995, 8.7, 6.8, 8.6], "\(device)")
                for axis in [1, -1] {
                    let across = try m.percentile([10, 50, 95], axis: axis)
                    #expect(across.shape == [3, 3])
                    #expect(try across.scalars == [1.0, 2.4, 5.8, 3.0, 5.0, 8.0, 4.8, 8.399999999999999, 9.0], "\(device) axis \(axis)")
                }
            }
        }
        // keepDims: the reduced axes kept as 1 after the q axis (numpy's keepdims=True shapes).
        #expect(try m.percentile([10, 50, 95], keepDims: true).shape == [3, 1, 1])
        #expect(try m.percentile([10, 50, 95], axis: 0, keepDims: true).shape == [3, 1, 5])
        #expect(try m.percentile([10, 50, 95], axis: 1, keepDims: true).shape == [3, 3, 1])
        // A middle axis of a 3-d tensor: t = numpy.arange(24.).reshape(2, 3, 4) ** 1.5 % 7,
        // numpy.percentile(t, [30, 70], axis=1, keepdims=True) (shape (2, 2, 1, 4)).
        let t = Tensor<Double>([0.0, 1.0, 2.8284271247461903, 5.196152422706632, 1.0, 4.180339887498949, 0.6969384566990691,
                                4.520259177452136, 1.6274169979695223, 6.0, 3.6227766016837926, 1.4828726939093997, 6.569219381653056,
                                4.872166581031863, 3.3832034148351795, 2.0947501931112527, 1.0, 0.09279563550022374, 6.367532368147138,
                                5.819079927272796, 5.442719099991592, 5.234089594072643, 5.189146716115445, 5.304125036192545], shape: [2, 3, 4])
        let middle = try t.percentile([30, 70], axis: 1, keepDims: true)
        #expect(middle.shape == [2, 2, 1, 4])
        #expect(try middle.scalars == [0.6, 2.9082039324993696, 1.9758316575273418, 3.3053045840350412, 3.6656314599949553,
                                       2.960418202819207, 4.466769395603339, 4.020375098960028, 1.2509667991878088, 4.90820393249937,
                                       3.1461669155212313, 4.790616475553934, 5.893319212656178, 5.016935786248174, 5.660500976928122,
                                       5.510106992624645])
        #expect(try t.percentile([30, 70], axis: 1).shape == [2, 2, 4])
        // Each row is that q's single percentile, exactly.
        for (k, q) in [30.0, 70].enumerated() {
            #expect(try t.percentile([30, 70], axis: 1)[k].scalars == t.percentile(q, axis: 1).scalars)
        }
        // Float in its own type: m / 7 as float32; NumPy's float64 answers rounded to float32.
        let f = Tensor<Float>([0.4285714328289032, 0.1428571492433548, 0.5714285969734192, 0.1428571492433548, 0.7142857313156128,
                               1.2857142686843872, 0.2857142984867096, 0.8571428656578064, 0.7142857313156128, 0.4285714328289032,
                               0.7142857313156128, 1.1428571939468384, 1.2857142686843872, 1.0, 1.2857142686843872], shape: [3, 5])
        let rows = try f.percentile([10, 50, 95, 33.3], axis: 1)
        #expect(rows.shape == [4, 3])
        #expect(try rows.scalars == [0.1428571492433548, 0.34285715222358704, 0.8285714387893677, 0.4285714328289032, 0.7142857313156128,
                                     1.1428571939468384, 0.6857143044471741, 1.2000000476837158, 1.2857142686843872, 0.23771429061889648,
                                     0.5234285593032837, 1.0474286079406738])
        #expect(try f.quantile([0.1, 0.333, 0.95]).scalars == [0.20000000298023224, 0.5231428742408752, 1.2857142686843872])
        // A NaN in a lane makes every q of that lane NaN: numpy gives [[nan, 4.4], [nan, 5.6]] (q first).
        let withNaN = try Tensor<Double>([1, .nan, 3, 4, 5, 6], shape: [2, 3]).percentile([20, 80], axis: 1).scalars
        #expect(withNaN[0].isNaN && withNaN[1] == 4.4 && withNaN[2].isNaN && withNaN[3] == 5.6, "\(withNaN)")
        // An empty list: numpy.percentile(m, [], axis=1).shape == (0, 3), numpy.percentile(m, []).shape == (0,).
        #expect(try m.percentile([], axis: 1).shape == [0, 3])
        #expect(try m.percentile([]).shape == [0])
        // A long lane (radix-sorted): each q as the single-q selection gives it.
        let long = Tensor<Double>.uniform([5001], seed: 12, in: -3...3)
        let qs = [0, 0.1, 25, 50, 99.9, 100]
        #expect(try long.percentile(qs).scalars == qs.map { try long.percentile($0).item() })
    }

    @Test("percentile with a list: a q out of range stops with NumPy's message")
    func percentileListOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor<Double>([1, 2, 3]).percentile([50, 101])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("percentile: Percentiles must be in the range [0, 100]"), "\(text)")
    }

    @Test("quantile with a list: a q out of range stops with NumPy's message")
    func quantileListOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor<Float>([1, 2, 3]).quantile([0.5, -0.1])
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("quantile: Quantiles must be in the range [0, 1]"), "\(text)")
    }

    @Test("quantile with a list over an empty axis stops, as the single-q version does")
    func quantileListEmptyAxis() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor<Double>.zeros([2, 0]).quantile([0.5], axis: 1)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("quantile: cannot take a quantile of an empty axis"), "\(text)")
    }

    @Test("any integer type indexes, as in NumPy: subscripts, take and add(at:) with uint32, uint8, int16, uint64, stored or pending")
    func anyIntegerIndexes() throws {
        let x = Tensor<Double>([10, 20, 30, 40], shape: [4])
        let m = Tensor<Double>((0..<12).map(Double.init), shape: [4, 3])
        #expect(try x[Tensor<UInt32>([3, 0, 0])].scalars == [40, 10, 10])
        #expect(try x[Tensor<UInt8>([1, 2])].scalars == [20, 30])
        #expect(try x[Tensor<Int16>([-1, 0])].scalars == [40, 10])          // negative: from the end
        #expect(try x[Tensor<UInt64>([2])].scalars == [30])
        #expect(try m[Tensor<UInt32>([2, 0]), .all].scalars == [6, 7, 8, 0, 1, 2])
        #expect(try m.take(Tensor<UInt16>([1, 2]), axis: 1).scalars == [1, 2, 4, 5, 7, 8, 10, 11])
        // Pending indices (computed in the gather's kernel).
        let pending = Tensor<UInt32>([1, 3]) + Tensor<UInt32>(1) - Tensor<UInt32>(1)
        #expect(try x[pending].scalars == [20, 40])
        var counts = Tensor<Int64>.zeros([3])
        try counts.add(at: Tensor<UInt32>([0, 2, 0]), Tensor<Int64>(1))
        #expect(try counts.scalars == [2, 0, 1])
    }

    @Test("empty and empty(like:): NumPy's spelling, zeros here")
    func emptyIsZeros() throws {
        #expect(try Tensor<Double>.empty([3]).scalars == [0, 0, 0])
        let e = Tensor<Int64>.empty(like: Tensor<Double>.ones([2, 2]))
        #expect(e.shape == [2, 2])
        #expect(try e.scalars == [0, 0, 0, 0])
    }
}
