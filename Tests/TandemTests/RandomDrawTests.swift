import Foundation
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemRuntime

/// Random draws beyond `uniform` and `normal` (nineteenth session): `randomIntegers`,
/// `exponential`, `permutation`, `shuffled`, `choice`. Not NumPy's streams, so checked by their
/// defining properties: ranges, every value reached, moments within a few standard errors,
/// permutations, reproducibility, and the same values on every placement.
@Suite("Random draws")
struct RandomDrawTests {
    @Test("randomIntegers: in range, every value drawn about equally, reproducible, the same on every placement")
    func integers() throws {
        let n = 60_000
        let d = Tensor<Int64>.randomIntegers([n], seed: 11, in: -3..<4)
        let values = try d.scalars
        #expect(values.allSatisfy { (-3..<4).contains($0) })
        var counts = [Int](repeating: 0, count: 7)
        for v in values { counts[Int(v + 3)] += 1 }
        // Each count is binomial(n, 1/7): within 5 standard deviations of n/7.
        let sd = (Double(n) * (1.0 / 7) * (6.0 / 7)).squareRoot()
        for c in counts { #expect(Swift.abs(Double(c) - Double(n) / 7) <= 5 * sd, "\(counts)") }
        #expect(try Tensor<Int64>.randomIntegers([n], seed: 11, in: -3..<4).scalars == values)
        #expect(try Tensor<Int64>.randomIntegers([n], seed: 12, in: -3..<4).scalars != values)
        for device in [DeviceChoice.interpreter, .cpu1, .cpu] + (openCLAvailable ? [.opencl] : []) {
            let placed = try Tandem.withDevice(device) { try Tensor<Int64>.randomIntegers([n], seed: 11, in: -3..<4).scalars }
            #expect(placed == values, "\(device)")
        }
        #expect(try Tensor<Int32>.randomIntegers([5], seed: 1, in: 7..<8).scalars == [7, 7, 7, 7, 7])
        let big = try Tensor<Int64>.randomIntegers([1000], seed: 3, in: 0..<(Int64(1) << 40)).scalars
        #expect(big.allSatisfy { $0 >= 0 && $0 < Int64(1) << 40 } && Set(big).count > 990)
    }

    @Test("exponential: positive, mean and variance of the scale within a few standard errors")
    func exponential() throws {
        let n = 100_000
        let x = try Tensor<Double>.exponential([n], seed: 21, scale: 2).scalars
        #expect(x.allSatisfy { $0 >= 0 })
        let mean = x.reduce(0, +) / Double(n)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        #expect(Swift.abs(mean - 2) <= 5 * 2 / Double(n).squareRoot(), "mean \(mean)")
        #expect(Swift.abs(variance - 4) <= 0.2, "variance \(variance)")
    }

    @Test("permutation, shuffled and choice: permutations, rows kept whole, samples from the population, weights honoured")
    func orderings() throws {
        let p = try Tensor<Int64>.permutation(1000, seed: 31).scalars
        #expect(p.sorted() == Array(0..<1000))
        #expect(p != Array(0..<1000))
        #expect(try Tensor<Int64>.permutation(1000, seed: 31).scalars == p)
        let m = Tensor<Double>.arange(0, 20).reshaped([10, 2])
        let s = try m.shuffled(seed: 32).scalars
        let rows = stride(from: 0, to: 20, by: 2).map { [s[$0], s[$0 + 1]] }
        #expect(rows.allSatisfy { $0[1] == $0[0] + 1 && Int($0[0]) % 2 == 0 })
        #expect(Set(rows.map { $0[0] }) == Set(stride(from: 0.0, to: 20, by: 2)))
        let population = Tensor<Int64>([10, 20, 30, 40, 50])
        let distinct = try population.choice(5, seed: 33, replace: false).scalars
        #expect(distinct.sorted() == [10, 20, 30, 40, 50])
        let three = try population.choice(3, seed: 34, replace: false).scalars
        #expect(Set(three).count == 3 && three.allSatisfy { [10, 20, 30, 40, 50].contains($0) })
        let many = try population.choice(20_000, seed: 35).scalars
        #expect(Set(many) == [10, 20, 30, 40, 50])
        // Weights: 0 is never drawn, 0.7 about 70% of the time.
        let weighted = try population.choice(20_000, seed: 36, p: Tensor<Double>([0.1, 0, 0.7, 0.1, 0.1])).scalars
        #expect(!weighted.contains(20))
        let share = Double(weighted.filter { $0 == 30 }.count) / 20_000
        #expect(Swift.abs(share - 0.7) <= 5 * (0.7 * 0.3 / 20_000).squareRoot(), "\(share)")
    }
}
