#if canImport(Glibc)
import Glibc
#endif
import TandemIR
import TandemCompiler
import TandemRuntime

// Launching on the device: the kernels' arguments, whole kernels and parts of split ones,
// pieces of split reductions, and the device times read back.
extension OpenCLContextState {
    /// Reports the device times of the kernels that have finished, oldest first (the queue is in
    /// order: the first one not finished ends the pass).
    func reportTimings() {
        while let t = timings.first {
            var end: cl_ulong = 0, start: cl_ulong = 0
            guard cl.clGetEventProfilingInfo(t.last, CL.profilingCommandEnd, 8, &end, nil) == CL.success,
                  cl.clGetEventProfilingInfo(t.first, CL.profilingCommandStart, 8, &start, nil) == CL.success else { return }
            timings.removeFirst()
            _ = cl.clReleaseEvent(t.first)
            if t.last != t.first { _ = cl.clReleaseEvent(t.last) }
            t.timed(Double(end &- min(start, end)) / 1e9)
        }
    }

    /// Sets `entry`'s arguments: buffers, int and float parameters; then, for the split entries,
    /// the partials and their count.
    func setArguments(_ entry: cl_kernel, _ k: Kernel, _ launch: Launch, _ addresses: [UInt64],
                      partials: (address: UInt64, parts: Int64)?) throws {
        var index: cl_uint = 0
        func set<T>(_ value: T) throws {
            var v = value
            try cl.check(cl.clSetKernelArg(entry, index, MemoryLayout<T>.size, &v), "clSetKernelArg(\(index))")
            index += 1
        }
        for a in addresses { try set(OpenCLMemory.handle(a)) }
        for i in 0..<k.intParams { try set(launch.ints[i]) }
        for i in 0..<k.floatParams {
            if float64 { try set(launch.floats[i]) } else { try set(Float(launch.floats[i])) }
        }
        if let partials {
            try set(OpenCLMemory.handle(partials.address))
            try set(partials.parts)
        }
    }

    /// The split entry over `launch` in `parts` pieces into scratch memory, then the scratch read
    /// into `into` without waiting (`OpenCLDevice.enqueueReduceParts`).
    func enqueueReduceParts(_ code: OpenCLKernel, _ launch: Launch, parts: Int, into: UnsafeMutableRawPointer, bytes: Int,
                            reads: [(buffer: Int, bytes: Range<Int>)], timed: (@Sendable (Double) -> Void)?) throws {
        let k = code.kernel
        guard let split = code.entries.split else { preconditionFailure("internal: a reduction without a split entry") }
        var access = PartAccess()
        access.deviceReads = reads
        let addresses = try residency.preparePart(launch, access: access, statistics: statistics)
        let threads = CRenderer.openCLThreads
        let np = (0..<k.parallelAxes).reduce(1) { $0 * Int(launch.ints[$1]) }
        let temp = try residency.scratch(bytes: bytes, keeping: launch.buffers)
        defer { residency.pool.release(temp, bytes: bytes) }     // queue-ordered: reused only by later work
        try setArguments(split, k, launch, addresses, partials: (temp, Int64(parts)))
        var event: cl_event? = nil
        let global = [parts * threads, max(1, min(np, 65535))], local = [threads, 1]
        try withUnsafeMutablePointer(to: &event) { e in
            try cl.check(cl.clEnqueueNDRangeKernel(queue, split, 2, nil, global, local, 0, nil, timed == nil ? nil : e), "clEnqueueNDRangeKernel")
        }
        if let event, let timed { timings.append((event, event, timed)) }
        try cl.check(cl.clEnqueueReadBuffer(queue, OpenCLMemory.handle(temp), 0, 0, bytes, into, 0, nil, nil), "clEnqueueReadBuffer (partials)")
        try cl.check(cl.clFlush(queue), "clFlush")
    }

    /// Queues `code` over its whole domain, or over rows `rows` of its first axis only (one part
    /// of a split kernel: the rows entry, from a global offset).
    func enqueue(_ code: OpenCLKernel, _ launch: Launch, overwrites: Set<UInt64>, timed: (@Sendable (Double) -> Void)?,
                 rows: Range<Int>? = nil, access: PartAccess? = nil) throws {
        let k = code.kernel
        let addresses = try access.map { try residency.preparePart(launch, access: $0, statistics: statistics) }
            ?? residency.prepareLaunch(k, launch, overwrites: overwrites, statistics: statistics)
        let threads = CRenderer.openCLThreads
        let points = code.points
        let start = ProcessInfoLite.monotonicNanos()
        func arguments(_ entry: cl_kernel, partials: (address: UInt64, parts: Int64)? = nil) throws {
            try setArguments(entry, k, launch, addresses, partials: partials)
        }
        var events: [cl_event] = []
        func run(_ entry: cl_kernel, global: [Int], local: [Int]?, offset: [Int]? = nil) throws {
            var event: cl_event? = nil
            // An event only when the kernel is timed.
            try withUnsafeMutablePointer(to: &event) { e in
                try cl.check(cl.clEnqueueNDRangeKernel(queue, entry, cl_uint(global.count), offset, global, local, 0, nil, timed == nil ? nil : e),
                             "clEnqueueNDRangeKernel")
            }
            if let event { events.append(event) }
        }
        defer {
            // The first and last launches' events are kept for the timing; any between go now.
            if let timed, let first = events.first, let last = events.last {
                for e in events.dropFirst().dropLast() { _ = cl.clReleaseEvent(e) }
                timings.append((first, last, timed))
            } else {
                for e in events { _ = cl.clReleaseEvent(e) }
            }
        }
        let detail: String
        if let rows {
            // Work-items of the rows entry, in order of the first axis: `perRow` a row, or (one
            // widened axis) one per `points` elements from a row that is a multiple of them.
            detail = "rows \(rows.lowerBound)..<\(rows.upperBound) of a split kernel"
            let part = AcceleratorLaunch.partItems(k, ints: launch.ints, points: points, rows: rows)
            if part.count > 0 {
                try arguments(code.entries.rows)
                try run(code.entries.rows, global: [part.count], local: nil, offset: [part.first])
            }
        } else {
            let plan = AcceleratorLaunch.plan(k, ints: launch.ints, computeUnits: info.computeUnits, threads: threads, points: points)
            detail = "\(plan)"
            switch plan {
            case .rows:
                // One work-item per parallel point (or per `pointsPerItem` of a row: `widensRows`),
                // work-groups of the implementation's choosing.
                let items = AcceleratorLaunch.rowItems(k, ints: launch.ints, points: points)
                guard items > 0 else { break }
                try arguments(code.entries.rows)
                try run(code.entries.rows, global: [items], local: nil)
            case .splitCombine(let parts, let gridY, let combineBlocks, let partialBytes):
                let temp = try residency.scratch(bytes: partialBytes, keeping: launch.buffers)
                defer { residency.pool.release(temp, bytes: partialBytes) }  // queue-ordered: reused only by later work
                try arguments(code.entries.split!, partials: (temp, Int64(parts)))
                try run(code.entries.split!, global: [parts * threads, gridY], local: [threads, 1])
                try arguments(code.entries.combine!, partials: (temp, Int64(parts)))
                try run(code.entries.combine!, global: [combineBlocks * threads], local: [threads])
            }
        }
        // Sent to the device now, not at the next blocking call.
        try cl.check(cl.clFlush(queue), "clFlush")
        Tracer.shared.record(TraceEvent(kind: .kernel, name: "enqueue", start: start, duration: ProcessInfoLite.monotonicNanos() - start,
                                        device: "opencl", detail: detail))
    }
}
