#if canImport(Glibc)
import Glibc
#endif
import Testing
import _TandemTestSupport
@testable import Tandem
import TandemRuntime

/// Kernel runs counted across processes (issue 14, point 2): a compile is amortised over a
/// kernel's life, not one process.
@Suite("Kernel history")
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
