import Testing
import TandemRuntime
import TandemIR
@testable import Tandem
import TandemCompiler

/// A device with `capacity` bytes that keeps its memory in dictionaries: counts every call, runs
/// out of memory like the real one, and holds real bytes so "no data lost" can be checked.
final class FakeDevice: DeviceMemoryBackend {
    let capacity: Int
    var used = 0
    var next: UInt64 = 0x1000
    var memory: [UInt64: [UInt8]] = [:]
    var allocations = 0, frees = 0, failedAllocations = 0, toDevice = 0, toHost = 0

    /// The blocks the residency said kernels will use, in order.
    var usedBlocks: [UInt64] = []

    init(capacity: Int) { self.capacity = capacity }

    func used(_ addresses: [UInt64]) { usedBlocks += addresses }

    func allocate(bytes: Int) throws -> UInt64? {
        guard used + bytes <= capacity else { failedAllocations += 1; return nil }
        used += bytes
        allocations += 1
        next += UInt64(bytes)
        memory[next] = [UInt8](repeating: 0xEE, count: bytes)
        return next
    }

    func free(_ address: UInt64, bytes: Int) throws {
        precondition(memory.removeValue(forKey: address) != nil, "double free")
        used -= bytes
        frees += 1
    }

    func copyToDevice(_ buffer: Buffer, address: UInt64) throws {
        toDevice += 1
        let src = UnsafeRawBufferPointer(start: buffer.pointer, count: buffer.byteCount)
        memory[address]!.replaceSubrange(0..<buffer.byteCount, with: src)
    }

    func copyToHost(_ buffer: Buffer, address: UInt64) throws {
        toHost += 1
        buffer.allocate()
        memory[address]!.prefix(buffer.byteCount).withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: buffer.byteCount) }
    }

    /// What a kernel storing `value` into every element of `buffer` does to device memory.
    func kernelFills(_ address: UInt64, _ buffer: Buffer, with value: Double) {
        var bytes = [UInt8](repeating: 0, count: buffer.byteCount)
        bytes.withUnsafeMutableBytes { p in for i in 0..<buffer.count { p.storeBytes(of: value, toByteOffset: i * 8, as: Double.self) } }
        memory[address]!.replaceSubrange(0..<buffer.byteCount, with: bytes)
    }
}

@Suite("Residency", .planned)
struct ResidencyTests {
    /// A host buffer of 128 doubles (1 KiB) holding `value`.
    func host(_ value: Double) -> Buffer {
        let b = Buffer(dtype: .float64, count: 128)
        for i in 0..<128 { b.pointer.storeBytes(of: value, toByteOffset: i * 8, as: Double.self) }
        return b
    }

    /// A planned output: no memory anywhere until its producer runs.
    func output() -> Buffer { Buffer(dtype: .float64, count: 128, deferred: true) }

    func values(_ b: Buffer) -> Set<Double> { Set((0..<b.count).map { b.pointer.load(fromByteOffset: $0 * 8, as: Double.self) }) }

    @Test("a sequence of host and device uses triggers exactly the copies consumers need")
    func copiesOnlyWhenNeeded() throws {
        let fake = FakeDevice(capacity: 1 << 20)
        let r = DeviceResidency(pool: DeviceMemoryPool(backend: fake), device: "fake")
        let a = host(1), b = host(2), c = output(), d = output()
        let A = a.id, B = b.id, C = c.id, D = d.id

        // c = f(a, b) on the device: both inputs go over, the output is created there.
        #expect(try r.deviceUse(reads: [a, b], writes: [c], overwrites: [C]) == [Copy(.toDevice, buffer: A, bytes: 1024), Copy(.toDevice, buffer: B, bytes: 1024)])
        #expect(r.validity(of: c) == .device && r.validity(of: a) == .both)
        // d = g(c) on the device: nothing moves.
        #expect(try r.deviceUse(reads: [c], writes: [d], overwrites: [D]) == [])
        // The host reads d: one copy back, and only once.
        #expect(try r.hostRead(d) == [Copy(.toHost, buffer: D, bytes: 1024)])
        #expect(try r.hostRead(d) == [])
        // c is never read on the host: it never comes back.
        // a[...] += d on the device, in place (a partial write): both are on the device already.
        #expect(try r.deviceUse(reads: [a, d], writes: [a]) == [])
        #expect(r.validity(of: a) == .device)
        // A CPU kernel writes part of b: b is valid on the host, no copy; then the device reads it.
        #expect(try r.hostWrite(b) == [])
        #expect(try r.deviceUse(reads: [b], writes: [c], overwrites: [C]) == [Copy(.toDevice, buffer: B, bytes: 1024)])
        // A CPU kernel writes part of a, whose values are only on the device: they come back first.
        #expect(try r.hostWrite(a) == [Copy(.toHost, buffer: A, bytes: 1024)])
        #expect(r.validity(of: a) == .host)
        #expect(r.log.count == 5)
        #expect(fake.toDevice == 3 && fake.toHost == 2)
        #expect(fake.allocations == 4)  // one block per buffer, no allocation per kernel
    }

    @Test("a partial device write of a host-only buffer copies it in first; a full overwrite does not")
    func partialWrites() throws {
        let fake = FakeDevice(capacity: 1 << 20)
        let r = DeviceResidency(pool: DeviceMemoryPool(backend: fake), device: "fake")
        let a = host(1), b = host(2)
        #expect(try r.deviceUse(reads: [], writes: [a]) == [Copy(.toDevice, buffer: a.id, bytes: 1024)])
        #expect(try r.deviceUse(reads: [], writes: [b], overwrites: [b.id]) == [])
    }

    /// What lets an upload overlap the kernel ahead (issue 18): the backend hears of every block
    /// a kernel will use, the launch's buffers and its scratch, so only blocks no queued kernel
    /// touches count as fresh.
    @Test("every block a launch uses is reported to the backend: its buffers and its scratch; fresh blocks stop being fresh")
    func usedBlocksReported() throws {
        let fake = FakeDevice(capacity: 1 << 24)
        let residency = DeviceResidency(pool: DeviceMemoryPool(backend: fake), device: "fake")
        let x = Tensor<Double>.uniform([1000], seed: 4)
        let k = try #require(recordKernels { _ = try (x * 2 + 1).sum().item() }.first)
        let buffers = KernelCheck.inputs(k, seed: 1)
        let addresses = try residency.prepareLaunch(k.kernel, Launch(buffers: buffers, ints: k.ints, floats: k.floats),
                                                    overwrites: [], statistics: StatisticsBox())
        #expect(fake.usedBlocks == addresses)
        let temp = try residency.scratch(bytes: 4096, keeping: buffers)
        #expect(fake.usedBlocks.last == temp)
        var fresh = FreshBlocks()
        fresh.allocated(temp)
        fresh.allocated(addresses[0])
        fresh.used(addresses)
        #expect(fresh.isFresh(temp) && !fresh.isFresh(addresses[0]))
        fresh.freed(temp)
        #expect(!fresh.isFresh(temp))
    }

    @Test("the pool reuses freed blocks by size class and allocates nothing per kernel")
    func poolReuse() throws {
        let fake = FakeDevice(capacity: 1 << 20)
        let pool = DeviceMemoryPool(backend: fake)
        let r = DeviceResidency(pool: pool, device: "fake")
        for step in 0..<10 {
            let t = output()
            try r.deviceUse(reads: [], writes: [t], overwrites: [t.id])
            r.forget(t.id)
            #expect(fake.allocations == 1, "step \(step)")
        }
        #expect(pool.hits == 9 && pool.misses == 1)
        #expect(DeviceMemoryPool.sizeClass(1000) == 1024 && DeviceMemoryPool.sizeClass(3 << 20 + 1) == 3 << 20 + (1 << 19))
    }

    @Test("out of memory: the pool's cached blocks are freed and the allocation retried")
    func oomFreesCache() throws {
        let fake = FakeDevice(capacity: 4096)
        let r = DeviceResidency(pool: DeviceMemoryPool(backend: fake), device: "fake")
        let big = Buffer(dtype: .float64, count: 256, deferred: true)  // 2 KiB
        try r.deviceUse(reads: [], writes: [big], overwrites: [big.id])
        r.forget(big.id)  // cached, still held on the device
        let a = host(1), b = host(2), c = host(3)
        try r.deviceUse(reads: [a, b, c], writes: [])
        #expect(fake.failedAllocations == 1 && fake.frees == 1)
        #expect(r.log.filter { $0.direction == .toHost }.isEmpty)  // nothing evicted
    }

    @Test("out of memory: least recently used buffers are evicted to the host with their values")
    func oomEvicts() throws {
        let fake = FakeDevice(capacity: 3072)
        let r = DeviceResidency(pool: DeviceMemoryPool(backend: fake), device: "fake")
        let p = output(), q = output()
        try r.deviceUse(reads: [], writes: [p], overwrites: [p.id])
        fake.kernelFills(r.address(of: p)!, p, with: 42)
        try r.deviceUse(reads: [], writes: [q], overwrites: [q.id])
        fake.kernelFills(r.address(of: q)!, q, with: 43)
        let x = host(7), s = output()
        // x and s need 2 KiB; 1 KiB is free: x goes over, then p (least recently used) goes back
        // to the host to make room for s.
        let copies = try r.deviceUse(reads: [x], writes: [s], overwrites: [s.id])
        #expect(copies == [Copy(.toDevice, buffer: x.id, bytes: 1024), Copy(.toHost, buffer: p.id, bytes: 1024)])
        #expect(r.validity(of: p) == .host && r.address(of: p) == nil)
        #expect(values(p) == [42])
        #expect(r.validity(of: q) == .device)
        // Reading p on the host needs no copy now; using it on the device brings it back.
        #expect(try r.hostRead(p) == [])
        let back = try r.deviceUse(reads: [p], writes: [])
        #expect(back.contains(Copy(.toDevice, buffer: p.id, bytes: 1024)))
        #expect(values(p) == [42])
    }

    @Test("out of memory with nothing left to evict: a clear error, and evicted data kept on the host")
    func oomFails() throws {
        let fake = FakeDevice(capacity: 2048)
        let r = DeviceResidency(pool: DeviceMemoryPool(backend: fake), device: "fake")
        let d = output()
        try r.deviceUse(reads: [], writes: [d], overwrites: [d.id])
        fake.kernelFills(r.address(of: d)!, d, with: 5)
        let a = host(1), b = host(2), c = host(3)
        #expect(throws: DeviceMemoryError.outOfMemory(device: "fake", requested: 1024, pinned: 2048, cached: 0)) {
            try r.deviceUse(reads: [a, b, c], writes: [])
        }
        // d was evicted on the way, with its values; the inputs are still on the host.
        #expect(r.validity(of: d) == .host && values(d) == [5])
        #expect(values(a) == [1] && values(b) == [2] && values(c) == [3])
        let message = DeviceMemoryError.outOfMemory(device: "fake", requested: 1024, pinned: 2048, cached: 0).description
        #expect(message.contains("out of fake memory") && message.contains("no data was lost"))
    }
}
