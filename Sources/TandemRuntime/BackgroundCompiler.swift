#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TandemIR

/// Compiles kernels on a thread of its own while they keep running in the interpreter: the
/// tiered path for kernels that come back (an iterative solver's sweep). Once the code is in
/// place, the cost model sees it as ready and moves the kernel to compiled C.
///
/// One thread, one compiler run at a time (the kernels queued meanwhile for one device compiled
/// together), each kernel at most once; a failed compile is dropped (the interpreter goes on, and
/// a forced or foreground compile reports the error).
final class BackgroundCompiler: @unchecked Sendable {
    // All mutable state is guarded by `cond`.
    private let cond = Condition()
    private var queue: [(Kernel, any KernelDevice)] = []
    private var requested: Set<Kernel> = []
    private var finished: Set<Kernel> = []
    private var started = false
    private var busy = false
    /// Whether a sync is placing its kernels (`hold`): no batch starts meanwhile.
    private var held = false
    /// The compiles in progress (one batch).
    private var current: [(Kernel, any KernelDevice)] = []
    /// When each queued kernel was requested (until its batch starts): the trace says how long
    /// a batch waited in the queue beside how long it compiled.
    private var requestedAt: [Kernel: UInt64] = [:]
    /// Counts and says a failed compile (with the foreground's failures: said once a process).
    private let fallback: Fallback

    /// Told when a batch starts (`true`) and ends (`false`): the runtime lends the compiler a
    /// core (`Executor.lend`).
    private let busyChanged: @Sendable (Bool) -> Void

    init(fallback: Fallback, busyChanged: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.fallback = fallback
        self.busyChanged = busyChanged
    }

    /// Queues `kernel` for `device` unless it was queued before.
    func request(_ kernel: Kernel, on device: any KernelDevice) {
        cond.withLock {
            guard requested.insert(kernel).inserted else { return }
            queue.append((kernel, device))
            let now = ProcessInfoLite.monotonicNanos()
            requestedAt[kernel] = now
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile requested", start: now,
                                            detail: "background, \(queue.count) queued\(busy ? ", a batch compiling" : "")\(held ? ", held by a sync" : "")"))
            if !started {
                started = true
                let box = Unmanaged.passRetained(self)
                var thread = pthread_t()
                let rc = pthread_create(&thread, nil, { arg in
                    Unmanaged<BackgroundCompiler>.fromOpaque(arg!).takeRetainedValue().loop()
                    return nil
                }, box.toOpaque())
                if rc == 0 { pthread_detach(thread) } else { box.release(); started = false }
            }
            cond.broadcast()
        }
    }

    /// Keeps the next batch from starting until `release`: a sync places its kernels under a
    /// hold, so the compiles it requests (several kernels met for the first time at once) go
    /// in one batch, not the first alone and the others a whole compile behind it.
    func hold() { cond.withLock { held = true } }

    /// Lets the batch requested under `hold` start.
    func release() {
        cond.withLock {
            held = false
            // Only a queued batch needs the thread woken: waking it at every sync for nothing
            // cost two thread switches a sync (heat, 646 syncs: 13 % of a warm run).
            if !queue.isEmpty { cond.broadcast() }
        }
    }

    /// Whether `kernel` was queued and its compile has not finished.
    func isPending(_ kernel: Kernel) -> Bool { cond.withLock { requested.contains(kernel) && !finished.contains(kernel) } }

    /// Most compiles handed on at exit (`finishAfterExit`).
    static let maxAfterExit = 8

    /// At exit: the compile in progress and those still queued, in order (the runtime hands
    /// them on to processes that outlive this one: `Runtime.finishBackgroundCompilesAfterExit`).
    func pendingAtExit() -> [(Kernel, any KernelDevice)] {
        cond.withLock { current + queue }
    }

    /// Blocks until every queued compile has finished.
    func drain() {
        cond.lock()
        while busy || !queue.isEmpty { cond.wait() }
        cond.unlock()
    }

    /// Most kernels compiled in one batch: what was queued meanwhile for the same device,
    /// compiled together (`KernelDevice.prepare(together:)`), up to this many, so that the next
    /// kernel waits for a few compiles' worth at most.
    static let maxBatch = 8

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty || held { cond.wait() }
            let device = queue[0].1
            var batch = [queue.removeFirst()]
            while batch.count < BackgroundCompiler.maxBatch, let j = queue.firstIndex(where: { $0.1.name == device.name }) {
                batch.append(queue.remove(at: j))
            }
            busy = true
            current = batch
            let start = ProcessInfoLite.monotonicNanos()
            let waited = batch.compactMap { requestedAt.removeValue(forKey: $0.0) }.map { start &- min($0, start) }.max() ?? 0
            cond.unlock()
            busyChanged(true)
            let results = device.prepare(together: batch.map(\.0))
            busyChanged(false)
            let failures = results.compactMap { r -> String? in
                if case .failure(let error) = r { return "\(error)" }
                return nil
            }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (background)", start: start,
                                            duration: ProcessInfoLite.monotonicNanos() - start,
                                            detail: "background, \(batch.count) kernel\(batch.count == 1 ? "" : "s"), queued up to \(waited / 1_000_000) ms"
                                                + (failures.isEmpty ? "" : ", \(failures.count) failed: \(failures[0])")))
            // The kernel goes on in the interpreter: counted as a fallback and said once (a
            // forced compile of it would throw the same error to the caller).
            if !Subprocess.exiting.load(ordering: .relaxed) {
                for failure in failures { fallback.record(failure) }
            }
            cond.withLock {
                for (k, _) in batch { finished.insert(k) }
                busy = false
                current = []
                cond.broadcast()
            }
        }
    }
}

/// One way work falls back (compiled code `auto` chose and could not have, no C compiler at all,
/// an accelerator dropped): each occurrence counted in `Statistics.fallbacks` and traced, the
/// first said on standard error with its reason.
final class Fallback: Sendable {
    private let statistics: StatisticsBox
    /// The trace event's name.
    private let name: String
    /// The line said the first time, from the reason.
    private let message: @Sendable (String) -> String
    private let said = Atomic<Bool>(false)

    init(statistics: StatisticsBox, name: String, message: @escaping @Sendable (String) -> String) {
        self.statistics = statistics
        self.name = name
        self.message = message
    }

    func record(_ reason: String) {
        statistics.update { $0.fallbacks += 1 }
        Tracer.shared.record(TraceEvent(kind: .fallback, name: name, start: ProcessInfoLite.monotonicNanos(), detail: reason))
        if said.exchange(true, ordering: .relaxed) == false { ProcessInfoLite.warn(message(reason)) }
    }
}
