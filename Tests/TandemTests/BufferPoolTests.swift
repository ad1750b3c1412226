import Testing
@testable import TandemIR

/// The host buffer pool: blocks come back warm, the pool never holds more than its limit, and a
/// block handed out is never freed by an eviction, however often it went round.
@Suite("Buffer pool")
struct BufferPoolTests {
    @Test("a returned block is taken again; eviction keeps the limit and never frees a block in use")
    func takeGiveEvict() {
        let page = 8192
        let pool = BufferPool(limit: 16 * page)          // blocks up to 4 pages are kept
        var blocks = (0..<6).map { _ in pool.take(byteCount: page) }
        #expect(pool.misses.load(ordering: .relaxed) == 6)
        for b in blocks { pool.give(b, byteCount: page) }
        #expect(pool.freeBytes == 6 * page)
        // The last one returned comes back first.
        let again = pool.take(byteCount: page)
        #expect(again == blocks[5] && pool.hits.load(ordering: .relaxed) == 1)
        // Round trips leave stale entries in the eviction order; none of them may free `again`.
        for _ in 0..<100 {
            let b = pool.take(byteCount: page)
            pool.give(b, byteCount: page)
        }
        // Fill past the limit with larger blocks: the oldest free blocks go, `again` stays usable.
        blocks = (0..<5).map { _ in pool.take(byteCount: 4 * page) }
        for b in blocks { pool.give(b, byteCount: 4 * page) }
        #expect(pool.freeBytes <= 16 * page)
        again.storeBytes(of: 42, as: Int.self)            // still ours: not freed by the evictions
        #expect(again.load(as: Int.self) == 42)
        pool.give(again, byteCount: page)
        #expect(pool.freeBytes <= 16 * page)
        // Every block is handed out at most once at a time.
        var seen = Set<UnsafeMutableRawPointer>()
        for _ in 0..<8 { #expect(seen.insert(pool.take(byteCount: page)).inserted) }
        pool.releaseAll()
        #expect(pool.freeBytes == 0)
    }
}
