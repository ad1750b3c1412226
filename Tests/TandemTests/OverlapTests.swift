import Testing
import TandemCompiler
@testable import Tandem

/// In-place stores and stacked kernels (`Overlap`, `Stacking`): an iteration may read in place
/// only the element it writes, and only when no other iteration writes that element.
@Suite("Overlap of reads and writes")
struct OverlapTests {
    @Test("injective accesses: row-major views are, stacked halves that meet or a zero stride are not")
    func injective() {
        #expect(Overlap.injective(.init(offset: 0, strides: [10, 1]), extents: [4, 10]))
        #expect(Overlap.injective(.init(offset: 3, strides: [-10, 1]), extents: [4, 10]))
        #expect(!Overlap.injective(.init(offset: 0, strides: [10, 1]), extents: [4, 11]), "rows overlap by one element")
        // Two stacked slice updates one element apart: (0, k + 1) and (1, k) meet.
        #expect(!Overlap.injective(.init(offset: 1, strides: [-1, 1]), extents: [2, 5]))
        #expect(Overlap.injective(.init(offset: 1, strides: [-1, 1]), extents: [1, 5]), "one half alone is")
        #expect(!Overlap.injective(.init(offset: 0, strides: [0, 1]), extents: [3, 5]))
        // Red-black SOR's halves: a row and a column apart, every other column.
        #expect(Overlap.injective(.init(offset: 0, strides: [2 * 66, 66 + 1, 2]), extents: [32, 2, 32]))
        // The same access read and written is safe only when injective.
        let a = Overlap.FlatAccess(offset: 1, strides: [-1, 1])
        #expect(!Overlap.safe(read: a, write: a, extents: [2, 5]))
        #expect(Overlap.safe(read: a, write: a, extents: [1, 5]))
    }

    /// `q[1...] -= p[..<(-1)]` then `q[..<(-1)] -= p[1...]` (a matrix-free stencil written as
    /// slice updates, as a conjugate-gradient port did): the second reads what the first wrote.
    static func updates(_ n: Int, columns: Int?) throws -> [Double] {
        if let m = columns {
            let p = Tensor<Double>.uniform([n, m], seed: 5)
            var q = 4 * p
            try q.flush()
            q[1..., .all] -= p[..<(-1), .all]
            q[..<(-1), .all] -= p[1..., .all]
            q[.all, 1...] -= p[.all, ..<(-1)]
            q[.all, ..<(-1)] -= p[.all, 1...]
            return try q.scalars()
        }
        let p = Tensor<Double>.uniform([n], seed: 5)
        var q = 4 * p
        try q.flush()
        q[1...] -= p[..<(-1)]
        q[..<(-1)] -= p[1...]
        return try q.scalars()
    }

    /// The same in plain Swift, in NumPy's order.
    static func expected(_ n: Int, columns: Int?) throws -> [Double] {
        let m = columns ?? 1
        let p = try Tensor<Double>.uniform(columns.map { [n, $0] } ?? [n], seed: 5).scalars()
        var q = p.map { 4 * $0 }
        for i in 1..<n { for j in 0..<m { q[i * m + j] -= p[(i - 1) * m + j] } }
        for i in 0..<(n - 1) { for j in 0..<m { q[i * m + j] -= p[(i + 1) * m + j] } }
        if columns != nil {
            for i in 0..<n { for j in 1..<m { q[i * m + j] -= p[i * m + j - 1] } }
            for i in 0..<n { for j in 0..<(m - 1) { q[i * m + j] -= p[i * m + j + 1] } }
        }
        return q
    }

    @Test("consecutive slice updates that overlap give NumPy's values on every placement", arguments: [
        (6, nil), (300, nil), (5, 5), (128, 128), (200, 200), (7, 130),
    ] as [(Int, Int?)])
    func overlappingUpdates(_ n: Int, _ columns: Int?) throws {
        let want = try Self.expected(n, columns: columns)
        for device in [DeviceChoice.interpreter, .cpu1, .cpu] {
            let got = try Tandem.withDevice(device) { try Self.updates(n, columns: columns) }
            #expect(got == want, "\(device), n \(n), columns \(columns.map(String.init) ?? "none")")
        }
    }
}
