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
/// One thread, one compile at a time, each kernel at most once; a failed compile is dropped (the
/// interpreter goes on, and a forced or foreground compile reports the error).
final class BackgroundCompiler: @unchecked Sendable {
    // All mutable state is guarded by `cond`.
    private let cond = Condition()
    private var queue: [(Kernel, any KernelDevice)] = []
    private var requested: Set<Kernel> = []
    private var finished: Set<Kernel> = []
    private var started = false
    private var busy = false
    /// The compile in progress.
    private var current: (Kernel, any KernelDevice)? = nil
    /// Counts and says a failed compile (with the foreground's failures: said once a process).
    private let fallback: Fallback

    init(fallback: Fallback) { self.fallback = fallback }

    /// Queues `kernel` for `device` unless it was queued before.
    func request(_ kernel: Kernel, on device: any KernelDevice) {
        cond.withLock {
            guard requested.insert(kernel).inserted else { return }
            queue.append((kernel, device))
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

    /// Whether `kernel` was queued and its compile has not finished.
    func isPending(_ kernel: Kernel) -> Bool { cond.withLock { requested.contains(kernel) && !finished.contains(kernel) } }

    /// Most compiles handed on at exit (`finishAfterExit`).
    static let maxAfterExit = 8

    /// At exit: the compile in progress and those still queued, in order (the runtime hands
    /// them on to processes that outlive this one: `Runtime.finishBackgroundCompilesAfterExit`).
    func pendingAtExit() -> [(Kernel, any KernelDevice)] {
        cond.withLock { (current.map { [$0] } ?? []) + queue }
    }

    /// Blocks until every queued compile has finished.
    func drain() {
        cond.lock()
        while busy || !queue.isEmpty { cond.wait() }
        cond.unlock()
    }

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty { cond.wait() }
            let (kernel, device) = queue.removeFirst()
            busy = true
            current = (kernel, device)
            cond.unlock()
            let start = ProcessInfoLite.monotonicNanos()
            var failure: String? = nil
            do { _ = try device.prepare(kernel) } catch { failure = "\(error)" }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (background)", start: start,
                                            duration: ProcessInfoLite.monotonicNanos() - start,
                                            detail: failure.map { "background, failed: \($0)" } ?? "background"))
            // The kernel goes on in the interpreter: counted as a fallback and said once (a
            // forced compile of it would throw the same error to the caller).
            if let failure, !Subprocess.exiting.load(ordering: .relaxed) {
                fallback.record(failure)
            }
            cond.withLock {
                finished.insert(kernel)
                busy = false
                current = nil
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
