import Testing
@testable import TandemRuntime
import TandemModel

/// The runtime books each resource for the kernels it places (`busyUntil`, the queue the cost
/// model prices). A wavefront loop of 120,000 small kernels under `placement-eval --loops`
/// trapped on an arithmetic overflow there: bookings of up to 10^6 s each, from predictions far
/// above what the kernels took, summed past `UInt64.max` nanoseconds.
@Suite("Busy horizon", .planned)
struct BusyHorizonTests {
    @Test("bookings stay within the horizon however long, large or malformed the predictions")
    func bounded() {
        let runtime = Runtime(devices: [], statistics: StatisticsBox()) { MachineProfile.builtIn(identity: FirstRunTests.id) }
        let now = ProcessInfoLite.monotonicNanos()
        for s in [1e6, 1e300, .infinity, .nan, -5] {
            for _ in 0..<50_000 { runtime.occupy(.cpu, seconds: s, now: now) }
            let ahead = Double(runtime.busyUntil[.cpu]! - now) / 1e9
            #expect(ahead <= 2 * Runtime.busyHorizonSeconds, "\(s): \(ahead) s ahead")
        }
        // A short kernel on a free resource is booked for its own time.
        let later = now + 1_000_000_000_000
        runtime.occupy(.gpu, seconds: 0.002, now: later)
        #expect(runtime.busyUntil[.gpu]! == later + 2_000_000)
    }
}
