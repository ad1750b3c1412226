import Foundation
import Testing
@testable import Tandem
import _TandemTestSupport
import TandemRuntime
import TandemInterpreter

/// Reading a view of a held or stored tensor (issue 15: per-op cost of a loop that reads an
/// element every iteration): the tensor is computed and kept, the view's elements are copied
/// out of its buffer, and the values are the view's.
@Suite("Reading views", .planned)
struct ViewReadTests {
    @Test("views of held and of stored tensors read the elements they show, every dtype and view kind")
    func values() throws {
        let base = Tensor<Double>.uniform([7, 9], seed: 61, in: -1...1)
        let eager = try base.scalars
        func at(_ i: Int, _ j: Int) -> Double { eager[i * 9 + j] }
        // Held and pending: computed from `base`, so the first read computes it.
        var held = base * 2 + 1
        #expect(try held[3, 4].item() == at(3, 4) * 2 + 1)
        #expect(try held[1..<6, 2].scalars == (1..<6).map { at($0, 2) * 2 + 1 })
        #expect(try held[.all, stride(from: 8, to: -1, by: -3)].scalars == (0..<7).flatMap { i in [8, 5, 2].map { at(i, $0) * 2 + 1 } })
        #expect(try held.transposed[2, 0..<7].scalars == (0..<7).map { at($0, 2) * 2 + 1 })
        #expect(try held[(-1)...].scalars == (0..<9).map { at(6, $0) * 2 + 1 })
        // Stored now: the next reads copy from its buffer.
        #expect(held.node.storage != nil)
        #expect(try held[6, 8].item() == at(6, 8) * 2 + 1)
        held[0, .all] = Tensor(5.0)              // a write after the reads is seen by the next read
        #expect(try held[0, 3].item() == 5)
        // Other dtypes.
        let ints = Tensor<Int32>.arange(0, 24).reshaped([4, 6]) * 3
        _ = try ints.scalars
        #expect(try ints[2, 5].item() == 51)
        #expect(try ints[1..<3, 1..<6].scalars == [21, 24, 27, 30, 33, 39, 42, 45, 48, 51])
        let flags = Tensor<Double>.linspace(-1, 1, count: 5) .> 0
        #expect(try flags[3].item() == true && flags[1].item() == false)
        // A view of a temporary reads only what it shows (still right).
        #expect(try (base * 3)[2, 2].item() == at(2, 2) * 3)
    }

    @Test("reads of several tensors prepared together: one plan for all their pending work, then no plan per read")
    func readsTogether() throws {
        let stats = StatisticsBox()
        let rt = Runtime(devices: [InterpreterDevice()], statistics: stats, workers: 2,
                         profile: { SyntheticProfiles.cpu(compileSeconds: 0.05) })
        let x = Tensor<Double>.uniform([6, 5], seed: 3, in: -1...1)
        let xs = try x.scalars
        let a = x * 2, b = x + 1
        let row = a[2, .all]                       // a view of a held tensor: read from `a`
        let element = b[4, 3]
        try rt.computeForReading([a.node, b.node, row.node, element.node])
        #expect(stats.snapshot.plans == 1)
        // (The buffers are kept while their elements are looked at.)
        func values(_ buffer: Buffer, _ count: Int) -> [Double] {
            withExtendedLifetime(buffer) { (0..<count).map { buffer.pointer.assumingMemoryBound(to: Double.self)[$0] } }
        }
        #expect(values(try rt.read(row.node), 5) == (0..<5).map { xs[10 + $0] * 2 })
        let (buffer, index) = try rt.readElement(element.node)
        #expect(values(buffer, index + 1)[index] == xs[4 * 5 + 3] + 1)
        #expect(values(try rt.read(b.node), 30) == xs.map { $0 + 1 })
        #expect(stats.snapshot.plans == 1, "a read after the preparation planned again")
        // Nothing pending: nothing planned.
        try rt.computeForReading([a.node, b.node])
        #expect(stats.snapshot.plans == 1)
    }

    @Test("x = x * 0.5 + 1 with x[0] read every iteration runs one kernel an iteration (its own process)")
    func oneKernelAnIteration() throws {
        // Planned (TANDEM_EAGER=off): this checks that a read keeps what its sync computed; a
        // loop on 100 stored elements is computed at once from its first statement otherwise.
        let (status, output) = try CLITests().run(["overhead", "--iterations", "300", "--n", "100", "--read", "element"],
                                                  environment: ["TANDEM_EAGER=off"])
        #expect(status == 0, "\(output)")
        // "... kernels K, last L"
        let line = output.split(separator: "\n").first { $0.contains("300 iterations") }.map(String.init) ?? ""
        let kernels = line.components(separatedBy: "kernels ").last?.split(separator: ",").first.flatMap { Int($0) }
        #expect(kernels == 300, "\(line)")
        // x converges to 2: the last element read is the loop's.
        #expect(line.hasSuffix("last 2.0"), "\(line)")
    }
}
