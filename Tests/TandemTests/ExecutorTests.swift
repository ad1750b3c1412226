import Testing
import Foundation
import Synchronization
@testable import TandemRuntime

/// The executor's workers, and the core it lends a background compile.
@Suite("Executor")
struct ExecutorTests {
    /// Runs a task of `chunks` chunks on `executor`, each holding its worker until a second chunk
    /// runs beside it or `patience` passes; returns the most chunks that ran at once.
    func mostAtOnce(_ executor: Executor, chunks: Int, patience: Double) -> Int {
        let running = Atomic<Int>(0), most = Atomic<Int>(0)
        let task = executor.submit(label: "probe", dependencies: [], chunks: (0..<chunks).map { _ in { _ in
            let now = running.add(1, ordering: .relaxed).newValue
            var seen = most.load(ordering: .relaxed)
            while now > seen, case (false, let s) = most.compareExchange(expected: seen, desired: now, ordering: .relaxed) { seen = s }
            let until = Date().addingTimeInterval(patience)
            while running.load(ordering: .relaxed) < 2 && Date() < until { usleep(200) }
            usleep(2_000)
            running.subtract(1, ordering: .relaxed)
        } })
        executor.wait(task)
        return most.load(ordering: .relaxed)
    }

    @Test("a lent core takes no chunks until it is taken back; the first worker always runs")
    func lendingACore() {
        let executor = Executor(workers: 2)
        #expect(mostAtOnce(executor, chunks: 4, patience: 5) == 2, "two workers run two chunks at once")
        executor.lend(true)
        #expect(mostAtOnce(executor, chunks: 4, patience: 0.05) == 1, "one core lent: one chunk at a time")
        executor.lend(true)
        #expect(mostAtOnce(executor, chunks: 2, patience: 0.05) == 1, "both lent: the first worker still runs")
        executor.lend(false)
        executor.lend(false)
        #expect(mostAtOnce(executor, chunks: 4, patience: 5) == 2, "taken back: two at once again")
    }

    @Test("a caller waiting without helping leaves every chunk to the workers (the calibration times a worker's round trip so)")
    func waitWithoutHelping() {
        let executor = Executor(workers: 1)
        for _ in 0..<50 {
            let tracks = Mutex<[Int]>([])
            let task = executor.submit(label: "probe", dependencies: [], chunks: [{ track in tracks.withLock { $0.append(track) } }])
            executor.wait(task, helping: false)
            #expect(tracks.withLock { $0 } == [0], "a chunk ran on the caller's track")
        }
        // Helping, the caller takes chunks while the worker sleeps (some of them, by timing: under
        // the load of the whole suite the worker can win 200 races in a row, so up to 5,000,
        // stopping at the first chunk the caller ran).
        let onCaller = Atomic<Int>(0)
        for _ in 0..<5_000 where onCaller.load(ordering: .relaxed) == 0 {
            let task = executor.submit(label: "probe", dependencies: [], chunks: [{ track in
                if track == Executor.callerTrack { onCaller.add(1, ordering: .relaxed) }
            }])
            executor.wait(task)
        }
        #expect(onCaller.load(ordering: .relaxed) > 0, "a helping caller never ran a chunk: the test no longer tells the two waits apart")
    }
}
