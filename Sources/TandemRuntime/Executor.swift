#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TandemIR

/// A unit of the asynchronous task graph: one kernel run, split into chunks over workers.
public final class KernelTask: @unchecked Sendable {
    // All mutable state is guarded by the executor's condition lock.
    fileprivate var remainingDeps = 0
    fileprivate var successors: [KernelTask] = []
    fileprivate var remainingChunks = 0
    fileprivate(set) var done = false
    fileprivate var chunks: [@Sendable (Int) -> Void]
    fileprivate var finish: (@Sendable () -> Void)?
    public let label: String
    /// Wall time from the first chunk's start to the end, in nanoseconds (set when done).
    public private(set) var elapsedNanos: UInt64 = 0
    fileprivate var started: UInt64 = 0
    /// When a worker began the task's first chunk (monotonic nanoseconds): the task's time runs
    /// from there, not from queueing, so time spent waiting behind other tasks is not counted.
    public var startedNanos: UInt64 { started }
    fileprivate let onDone: (@Sendable (KernelTask) -> Void)?
    fileprivate var onReady: (@Sendable () -> Void)?

    init(label: String, chunks: [@Sendable (Int) -> Void], finish: (@Sendable () -> Void)?, onDone: (@Sendable (KernelTask) -> Void)?,
         onReady: (@Sendable () -> Void)? = nil) {
        self.onReady = onReady
        self.label = label
        self.chunks = chunks
        self.finish = finish
        self.onDone = onDone
    }

    fileprivate func markElapsed(_ now: UInt64) { elapsedNanos = started == 0 ? 0 : now &- started }
}

/// Runs kernel tasks on a pool of worker threads as their dependencies complete.
///
/// Tasks are submitted in a valid order with explicit dependencies; a task's chunks are queued when
/// its last dependency finishes, and any idle worker takes the next chunk, so independent kernels
/// run concurrently. A caller waiting for a task (a reader) runs a queued chunk when no thread
/// runs one, else blocks; workers never wait for a task.
public final class Executor: @unchecked Sendable {
    public let workers: Int
    private let cond = Condition()
    private var queue: [(KernelTask, Int)] = []
    private var head = 0
    /// Tasks submitted and not yet complete (under `cond`).
    private var outstanding = 0 {
        didSet { outstandingMirror.store(outstanding, ordering: .relaxed) }
    }
    private let outstandingMirror = Atomic<Int>(0)
    /// Whether no task is queued or running (without the lock: a caller about to compute on
    /// the host reads the buffers of tasks it submitted itself, complete once this is true).
    public var isIdle: Bool { outstandingMirror.load(ordering: .relaxed) == 0 }
    /// Cores lent to other work (a background compile, `lend`): as many threads fewer run
    /// chunks meanwhile (under `cond`).
    private var lent = 0
    /// Threads running a chunk now, workers and helping callers (under `cond`): at most
    /// `allowed` take one at a time.
    private var active = 0
    /// How many threads may run chunks at once: a thread for each core not lent, at least one.
    private var allowed: Int { Swift.max(1, workers - lent) }

    public init(workers: Int) {
        self.workers = max(1, workers)
        for w in 0..<self.workers { spawn(w) }
    }

    private final class Start {
        let executor: Executor
        let index: Int
        init(_ e: Executor, _ i: Int) { executor = e; index = i }
    }

    private func spawn(_ index: Int) {
        let box = Unmanaged.passRetained(Start(self, index))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            let start = Unmanaged<Start>.fromOpaque(arg!).takeRetainedValue()
            start.executor.workLoop(start.index)
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "could not start a worker thread: \(rc)")
        pthread_detach(thread)
    }

    /// Submits a task that runs after `dependencies`. Chunks run in any order and concurrently;
    /// `finish` runs after all of them (for reductions: combining partial results).
    @discardableResult
    public func submit(label: String, dependencies: [KernelTask], chunks: [@Sendable (Int) -> Void],
                       finish: (@Sendable () -> Void)? = nil, onDone: (@Sendable (KernelTask) -> Void)? = nil,
                       onReady: (@Sendable () -> Void)? = nil) -> KernelTask {
        let task = KernelTask(label: label, chunks: chunks, finish: finish, onDone: onDone, onReady: onReady)
        cond.withLock {
            outstanding += 1
            for d in dependencies where !d.done {
                d.successors.append(task)
                task.remainingDeps += 1
            }
            if task.remainingDeps == 0 { enqueueLocked(task) }
        }
        return task
    }

    /// Lends one core to other work of this process (`true`), or takes it back (`false`): while
    /// lent, one thread fewer runs chunks at once (never fewer than one). A background compile is a
    /// compiler process on a core of its own; the workers running beside it on every core had
    /// the cores shared three ways on two: on two cores, softmax regression's first batch of
    /// compiles took 0.38 s beside a two-thread interpreter, while its epochs ran interpreted.
    /// Chunks are cut as before (the same results); only how many run at once changes.
    public func lend(_ on: Bool) {
        cond.withLock {
            lent = Swift.max(0, lent + (on ? 1 : -1))
            if !on { cond.broadcast() }
        }
    }

    /// The track the calling thread's inline runs are traced on (workers are 0..<workers).
    public static let callerTrack = -1

    /// Runs a task on the calling thread, now, when all of `dependencies` are done; returns nil
    /// (running nothing) when one is not. For kernels too small to pay for waking a worker: a
    /// worker's wake-up and the caller's wait cost two thread switches, tens of microseconds,
    /// more than such a kernel's whole run. The task is done when this returns.
    public func runInline(label: String, dependencies: [KernelTask], chunks: [@Sendable (Int) -> Void],
                          finish: (@Sendable () -> Void)? = nil, onDone: (@Sendable (KernelTask) -> Void)? = nil,
                          onReady: (@Sendable () -> Void)? = nil) -> KernelTask? {
        guard cond.withLock({ dependencies.allSatisfy(\.done) }) else { return nil }
        let task = KernelTask(label: label, chunks: [], finish: nil, onDone: onDone)
        onReady?()
        task.started = Executor.now()
        for chunk in chunks { chunk(Executor.callerTrack) }
        finish?()
        task.markElapsed(Executor.now())
        onDone?(task)
        // No successor can exist yet (the task was not visible to anyone), so no waiter to wake.
        cond.withLock { task.done = true }
        return task
    }

    private func enqueueLocked(_ task: KernelTask) {
        task.onReady?()
        task.onReady = nil
        task.remainingChunks = task.chunks.count
        if task.chunks.isEmpty {
            completeLocked(task)
            return
        }
        for i in task.chunks.indices { queue.append((task, i)) }
        cond.broadcast()
    }

    private func completeLocked(_ task: KernelTask, timed: Bool = false) {
        if !timed { task.markElapsed(Executor.now()) }
        task.done = true
        outstanding -= 1
        // Let go of the launch arguments: buffers name their last writer, so keeping the closures
        // would keep every buffer alive through a cycle.
        task.chunks = []
        task.finish = nil
        for s in task.successors {
            s.remainingDeps -= 1
            if s.remainingDeps == 0 { enqueueLocked(s) }
        }
        task.successors = []
        cond.broadcast()
    }

    private func workLoop(_ worker: Int) {
        cond.lock()
        while true {
            while head >= queue.count || active >= allowed { cond.wait() }
            runNextLocked(on: worker)
        }
    }

    /// Runs the next queued chunk on the calling thread (`worker`'s track), and when it was its
    /// task's last, the task's finish and completion. Called with `cond` held and a chunk
    /// queued; returns with `cond` held.
    private func runNextLocked(on worker: Int) {
        let (task, i) = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        // Held in an optional and let go right after it runs: a closure kept until the end
        // of the iteration would still hold its launch's buffers after the task completed
        // and its readers woke (they may expect those buffers freed).
        var chunk: (@Sendable (Int) -> Void)? = task.chunks[i]
        if task.started == 0 { task.started = Executor.now() }
        active += 1
        cond.unlock()
        chunk?(worker)
        chunk = nil
        cond.lock()
        active -= 1
        // A caller may return now: a worker kept asleep by the limit takes what is queued (a
        // worker takes it itself, without waking anyone).
        if worker == Executor.callerTrack && head < queue.count { cond.broadcast() }
        task.remainingChunks -= 1
        let last = task.remainingChunks == 0
        cond.unlock()
        if last {
            let finish = cond.withLock { task.finish }
            finish?()
            // onDone (profile, placement record) runs before waiters are released, so a
            // reader sees the counters of the kernels it waited for.
            task.markElapsed(Executor.now())
            task.onDone?(task)
            cond.lock()
            completeLocked(task, timed: true)
        } else {
            cond.lock()
        }
    }

    /// Whether a waiting caller takes the next queued chunk (under `cond`): only while no thread
    /// runs one, the workers asleep. A chunk it takes starts at once, where a sleeping worker
    /// took 49 µs to wake for a kernel queued while it slept; beside awake workers a third
    /// thread on two cores only moved chunks away from the core that last touched their data
    /// (red-black SOR 0.25-0.32 s -> 0.32-0.42 s when callers helped whenever a core was free).
    private var callerMayHelp: Bool { head < queue.count && active == 0 }

    /// Blocks until `task` is done. The caller runs a queued chunk meanwhile when no thread runs
    /// one (`callerMayHelp`; the caller's own task may then finish while it runs another's
    /// chunk: its return waits for that chunk).
    /// `helping: false` only sleeps: the calibration times a worker's round trip (wake, run,
    /// wake the caller) with it, which is what a kernel queued ahead of its wait costs; a caller
    /// that ran the empty chunk itself timed 0.24 µs, and every kernel short of that went to
    /// the workers, each paying ~10 µs of thread switches.
    public func wait(_ task: KernelTask, helping: Bool = true) { waitHelping(helping) { task.done } }

    /// Until `done` (read under `cond`), runs a queued chunk when the caller may
    /// (`callerMayHelp`, and `helping`), else sleeps.
    private func waitHelping(_ helping: Bool = true, until done: () -> Bool) {
        cond.lock()
        while !done() {
            if helping && callerMayHelp {
                runNextLocked(on: Executor.callerTrack)
            } else {
                cond.wait()
            }
        }
        cond.unlock()
    }

    public func isDone(_ task: KernelTask) -> Bool { cond.withLock { task.done } }

    /// Whether every one of `tasks` is done (one trip through the lock).
    public func areDone(_ tasks: [KernelTask]) -> Bool {
        tasks.isEmpty || cond.withLock { tasks.allSatisfy(\.done) }
    }

    /// Blocks until every task submitted so far (and those they release) is done.
    /// The caller runs a queued chunk meanwhile when no thread runs one, as in `wait`.
    public func waitAll() { waitHelping { outstanding == 0 } }

    static func now() -> UInt64 { ProcessInfoLite.monotonicNanos() }
}
