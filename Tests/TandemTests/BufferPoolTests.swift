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

    @Test("one block taken and returned every iteration keeps the eviction queue bounded, and evicts in the order of the last return")
    func roundTripsStayBounded() {
        let page = 8192
        let pool = BufferPool(limit: 16 * page)
        let a = pool.take(byteCount: page), b = pool.take(byteCount: page)
        pool.give(a, byteCount: page)
        pool.give(b, byteCount: page)
        for _ in 0..<20_000 {
            let x = pool.take(byteCount: page)
            pool.give(x, byteCount: page)
        }
        // Each compaction keeps the live entries only (two here), so the queue never holds more
        // than 2 x 2 + 64 of them; with the old set of addresses it held one an iteration.
        #expect(pool.queued <= 2 * 2 + 64, "\(pool.queued) entries queued for 2 free blocks")
        // `b` went round 20,000 times, `a` never: `a` is the oldest return, so it goes first
        // when 15 more pages come back (17 free, limit 16), and `b` stays.
        let sizes = [4, 4, 4, 3].map { $0 * page }
        let more = sizes.map { pool.take(byteCount: $0) }
        for (x, size) in zip(more, sizes) { pool.give(x, byteCount: size) }
        #expect(pool.freeBytes == 16 * page)
        #expect(pool.take(byteCount: page) == b, "the block returned last was evicted before the older one")
        #expect(pool.freeBytes == 15 * page, "another block of a page was still free")
        pool.releaseAll()
    }
}
