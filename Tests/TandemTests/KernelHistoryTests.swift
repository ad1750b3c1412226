#if canImport(Glibc)
import Glibc
#endif
import Testing
import _TandemTestSupport
@testable import Tandem
@testable import TandemIR
@testable import TandemRuntime
import TandemCompiler

/// Kernel runs counted across processes (issue 14, point 2): a compile is amortised over a
/// kernel's life, not one process.
@Suite("Kernel history", .planned)
struct KernelHistoryTests {
    func kernels() -> (Kernel, Kernel) {
        let x = Tensor<Double>.uniform([100], seed: 40, in: 0...1)
        return (Tandem.plan((x * 2).sum()).kernels[0].kernel, Tandem.plan((x + 3).exp()).kernels[0].kernel)
    }

    @Test("runs recorded by one process are seen by the next, and add up")
    func persists() {
        let path = TestScratch.path("history-a")
        let (a, b) = kernels()
        let first = KernelHistory(path: path)
        #expect(first.runs(a) == 0)
        first.record(a); first.record(a); first.record(b)
        #expect(first.runs(a) == 2)
        #expect(first.save())
        let second = KernelHistory(path: path)          // as the next process
        #expect(second.runs(a) == 2 && second.runs(b) == 1)
        second.record(a)
        let third = KernelHistory(path: path)           // a process running at the same time
        third.record(b)
        #expect(second.save() && third.save())
        let last = KernelHistory(path: path)
        #expect(last.runs(a) == 3 && last.runs(b) == 2)
    }

    @Test("the key of a structure is the same whenever it is built, and differs between structures")
    func stableKey() {
        let (a, b) = kernels()
        let (a2, _) = kernels()
        #expect(KernelHistory.key(a) == KernelHistory.key(a2))
        #expect(KernelHistory.key(a) != KernelHistory.key(b))
        #expect(KernelHistory.key(a).count == 64)
        // A copy changed and changed back has another hash memo but the same structure: equal,
        // the same hash and the same key.
        var c = a
        c.entries = .split
        #expect(c != a && KernelHistory.key(c) != KernelHistory.key(a))
        c.entries = a.entries
        #expect(c == a && c.hashValue == a.hashValue && KernelHistory.key(c) == KernelHistory.key(a))
        #expect(a.structureDescription.hasPrefix("Kernel(rank: ") && !a.structureDescription.contains("memo"))
    }

    @Test("two kernels have the same structure bytes exactly when they are equal")
    func structureBytesSeparateKernels() {
        // Kernels of every kind a plan makes: maps, reductions (laned, split, rows), literals,
        // parameters, gathers, generators, casts, selects, strided and broadcast reads, and
        // sequences of small ones.
        let x = Tensor<Double>.uniform([64, 33], seed: 41, in: -1...1)
        let v = Tensor<Float>.uniform([33], seed: 42, in: 0...1)
        let i = Tensor<Int64>([3, 0, 2, 63])
        let programs: [[Node]] = [
            [(x * 2).sum().node], [(x * 3).sum().node], [(x + 2).exp().node], [(x - 2).exp().node],
            [x.sum(axis: 0).node], [x.sum(axis: 1).node], [x.max(axis: 1).node], [x.transposed.sum(axis: 1).node],
            [x.take(i, axis: 0).node], [x.rolled(by: 1, axis: 1).node], [(v * 2 + 1).sqrt().node],
            [`where`(x .> 0, x, x * 0.5).node], [Tensor<Float>(x).node], [(x[.all, 0..<32] * 2 + x[.all, 1..<33]).node],
            [Tensor<Double>.arange(0, 50).node], [Tensor<Double>.uniform([50], seed: 3, in: 0...1).node],
        ]
        var kernels: [Kernel] = []
        for roots in programs { kernels += Planner().plan(roots: roots).kernels.map(\.kernel) }
        for (n, steps) in [(9, 1), (10, 2), (9, 2)] {
            let (p, _) = SequenceKernelTests.relax(n, iterations: steps, seed: 3)
            kernels += Planner(sequences: true).plan(roots: [p.node]).kernels.map(\.kernel)
        }
        #expect(kernels.contains { $0.isSequence })
        // Every field, changed alone, changes the bytes.
        let base = Tandem.plan((x[.all, 0..<32] * 2 + x[.all, 1..<33]).sum(axis: 1)).kernels[0].kernel
        var variants: [Kernel] = []
        func variant(_ change: (inout Kernel) -> Void) { var k = base; change(&k); variants.append(k) }
        variant { $0.rank += 1 }
        variant { $0.parallelAxes += 1 }
        variant { $0.buffers[0].isWritten.toggle() }
        variant { $0.buffers[0].dtype = .float32 }
        variant { $0.accesses[0].offset += 1 }
        variant { $0.accesses[0].strides[0] = .param(7) }
        variant { $0.accesses[0].strides[0] = .fixed(3) }
        variant { $0.accesses[0].strides.append(.zero) }
        variant { $0.instrs[0].epilogue.toggle() }
        variant { $0.instrs[0].dtype = .int64 }
        variant { $0.instrs.append(Instr(.literal(.float(2.5)), .float64)) }
        variant { $0.instrs.append(Instr(.literal(.float(3.5)), .float64)) }
        variant { $0.instrs.append(Instr(.unary(.exp, 0), .float64)) }
        variant { $0.instrs.append(Instr(.unary(.log, 0), .float64)) }
        variant { $0.instrs.append(Instr(.binary(.add, 0, 1), .float64)) }
        variant { $0.instrs.append(Instr(.binary(.add, 1, 0), .float64)) }
        variant { $0.reductions.append(Reduction(op: .max, value: 0, accumulator: .float64)) }
        variant { $0.stores[0].epilogue.toggle() }
        variant { $0.stores[0].value += 1 }
        variant { $0.intParams += 1 }
        variant { $0.floatParams += 1 }
        variant { $0.innerExtent = 12 }
        variant { $0.literalInts = [4] }
        variant { $0.entries = .split }
        for (i, v) in variants.enumerated() {
            #expect(v != base && v.structureBytes != base.structureBytes, "variant \(i)")
            for w in variants[(i + 1)...] { #expect(v.structureBytes != w.structureBytes, "variant \(i)") }
        }
        for a in kernels {
            for b in kernels {
                #expect((a == b) == (a.structureBytes == b.structureBytes), "\(a)\n\(b)")
                #expect((a == b) == (KernelHistory.key(a) == KernelHistory.key(b)))
            }
        }
    }

    @Test("a key's digest round-trips through its 64 hex digits, in either case; a line with a non-hex digit is skipped")
    func digestText() throws {
        let (a, b) = kernels()
        let path = TestScratch.path("history-hex")
        let text = "\(KernelHistory.key(a).uppercased()) 5\n\(KernelHistory.key(b).dropLast())g 7\n"
        try VerifiedFileCache.writeFile(path, Array(text.utf8))
        let table = KernelHistory.readTable(path)
        #expect(table.count == 1 && table[KernelHistory.digest(a)] == 5)
        #expect(KernelHistory.digest(a).hex == KernelHistory.key(a) && KernelHistory.digest(a) != KernelHistory.digest(b))
        #expect(KernelHistory(path: path).runs(a) == 5 && KernelHistory(path: path).runs(b) == 0)
    }

    @Test("a key's runs are found by binary search over the saved lines: every key, first and last, absent ones, no final newline")
    func binarySearch() {
        var table: [KernelHistory.Digest: Int] = [:]
        var g = SystemRandomNumberGenerator()
        for n in 1...3000 { table[KernelHistory.Digest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })] = n }
        var text = table.sorted { $0.key < $1.key }.map { "\($0.key.hex) \($0.value)" }.joined(separator: "\n")
        #expect(KernelHistory.lines(table) == Array((text + "\n").utf8), "save's bytes are not the sorted lines")
        for final in ["", "\n"] {
            text += final
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { b in
                #expect(table.allSatisfy { KernelHistory.lookUp($0.key, in: b) == $0.value })
                for _ in 0..<200 {
                    let absent = KernelHistory.Digest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
                    #expect(KernelHistory.lookUp(absent, in: b) == (table[absent] ?? 0))
                }
            }
            #expect(KernelHistory.parseTable(bytes) == table)
        }
        // A malformed line on the way: nil (the caller parses every line).
        let first = table.keys.min()!
        let bad = Array((String(repeating: "zz\n", count: 100) + "\(first.hex) 5\n").utf8)
        #expect(bad.withUnsafeBufferPointer { KernelHistory.lookUp(first, in: $0) } == nil)
    }

    @Test("save merges a process's runs into the sorted lines as bytes, the same file the whole table gives; other files go through the table")
    func mergedSave() {
        var g = SystemRandomNumberGenerator()
        func digest() -> KernelHistory.Digest { KernelHistory.Digest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }) }
        var table: [KernelHistory.Digest: Int] = [:]
        for n in 1...2000 { table[digest()] = n }
        let file = KernelHistory.lines(table)
        // Added runs: some of keys in the file (first and last among them), some new ones
        // (before the first key, after the last, between).
        var added: [KernelHistory.Digest: Int] = [:]
        let sortedKeys = table.keys.sorted(by: <)
        for k in [sortedKeys.first!, sortedKeys.last!] + sortedKeys.shuffled().prefix(30) { added[k, default: 0] += 7 }
        for _ in 0..<40 { added[digest()] = 3 }
        added[KernelHistory.Digest(bytes: [UInt8](repeating: 0, count: 32))] = 1
        added[KernelHistory.Digest(bytes: [UInt8](repeating: 255, count: 32))] = 2
        var merged = table
        for (k, n) in added { merged[k, default: 0] += n }
        #expect(KernelHistory.mergedLines(file, added) == KernelHistory.lines(merged))
        #expect(KernelHistory.mergedLines([], added) == KernelHistory.lines(added))
        // Not the sorted lines save writes: nil, so save parses the whole table.
        var swapped = file
        let lineLength = file.firstIndex(of: 10)! + 1
        if file.count > 2 * lineLength, Array(file[0..<lineLength]) != Array(file[lineLength..<(2 * lineLength)]) {
            let firstLine = Array(file[0..<lineLength])
            let nextEnd = file[lineLength...].firstIndex(of: 10)! + 1
            swapped = Array(file[lineLength..<nextEnd]) + firstLine + Array(file[nextEnd...])
            #expect(KernelHistory.mergedLines(swapped, added) == nil, "keys out of order")
        }
        #expect(KernelHistory.mergedLines(Array("zz\n".utf8) + file, added) == nil, "a malformed line")
        // Through the file: saved by the fast path, read back whole.
        let path = TestScratch.path("history-merge")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0 && file.withUnsafeBytes { write(fd, $0.baseAddress, file.count) } == file.count)
        close(fd)
        let (a, _) = kernels()
        let history = KernelHistory(path: path)
        history.record(a, runs: 4)
        #expect(history.save())
        let back = KernelHistory.readTable(path)
        #expect(back.count == table.count + 1 && back[KernelHistory.digest(a)] == 4 && sortedKeys.allSatisfy { back[$0] == table[$0] })
        #expect(history.runs(a) == 4, "after a save, the saved bytes answer")
    }

    @Test("the hand-written structure text is reflection's, character for character (the history's keys stay)")
    func handWrittenDescription() throws {
        let x = Tensor<Double>.uniform([300, 7], seed: 41, in: -1...1)
        let i = Tensor<Int64>.arange(0, 300) % 7
        let planned: [any TensorProtocol] = [
            (x * 2).sum(), (x + 3).exp().log(), x.sum(axis: 1), x.sum(axis: 0), x.argmax(axis: 1),
            Tensor<Float>(x).max(), `where`(x .> 0.5, x, -x), Tensor<Double>.arange(0, 50) * 0.5,
            x.reshaped([-1]).take(i), Tensor<Int32>(x * 100) % 3, (x.reshaped([-1])[stride(from: 0, to: 2100, by: 2)] + 1),
            Tensor<Double>.uniform([1 << 20], seed: 2, in: 0...1).sum(), x.mean(axis: 1, keepDims: true) - x,
        ]
        var kernels: [Kernel] = planned.flatMap { t in Tandem.plan(t).kernels.map(\.kernel) }
        // Every instruction and stride kind, entries, a compiled-in row and literal ints.
        let every = Kernel(rank: 2, parallelAxes: 1,
                           buffers: [BufferParam(dtype: .float32, isRead: true, isWritten: false), BufferParam(dtype: .int64, isRead: true, isWritten: true)],
                           accesses: [Access(offset: 2, strides: [.zero, .one]), Access(offset: 3, strides: [.param(4), .fixed(-2)])],
                           instrs: [Instr(.load(buffer: 0, access: 0), .float32), Instr(.gather(buffer: 0, access: 1, index: 0, stride: 5, extent: 6), .float32),
                                    Instr(.uniform(access: 0, seed: 7, lo: 0, hi: 1), .float64), Instr(.iota(access: 1, start: 8, step: 9), .int64),
                                    Instr(.param(2), .float64), Instr(.literal(.float(0.1)), .float64), Instr(.literal(.int(-3)), .int64),
                                    Instr(.literal(.bool(true)), .bool), Instr(.unary(.erfc, 5), .float64), Instr(.binary(.atan2, 4, 5), .float64),
                                    Instr(.select(7, 4, 5), .float64), Instr(.cast(10), .int64), Instr(.accumulated(0), .float64, epilogue: true)],
                           reductions: [Reduction(op: .argmin, value: 10, accumulator: .int64)],
                           stores: [Store(buffer: 1, access: 1, value: 11, epilogue: false), Store(buffer: 1, access: 0, value: 12, epilogue: true)],
                           intParams: 10, floatParams: 3, innerExtent: 5)
        kernels.append(every)
        for entries in [Kernel.Entries.rows, .split] {
            var k = every
            k.entries = entries
            k.literalInts = [1, -2, 3]
            kernels.append(k)
        }
        #expect(kernels.count > 15)
        for k in kernels { #expect(k.structureDescription == k.reflectedDescription) }
    }

    @Test("a corrupt, oversized or linked file counts as empty and is replaced at the next save")
    func badFiles() throws {
        let (a, _) = kernels()
        let path = TestScratch.path("history-b")
        let junk = Array("not a history\n\(String(repeating: "f", count: 64)) -3\nzz 4\n".utf8)
        try VerifiedFileCache.writeFile(path, junk)
        let h = KernelHistory(path: path)
        #expect(h.runs(a) == 0)
        h.record(a)
        #expect(h.save())
        #expect(KernelHistory(path: path).runs(a) == 1)
        let link = TestScratch.path("history-link")
        #expect(symlink(path, link) == 0)
        #expect(KernelHistory(path: link).runs(a) == 0)
    }
}
