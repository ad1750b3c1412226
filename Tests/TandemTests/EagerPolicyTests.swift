import Synchronization
import Testing
@testable import TandemRuntime

/// When `auto` computes operations at once (`EagerState`), on streams of operation signatures
/// shaped like the programs it must tell apart: a time loop whose steps repeat (eager off, so
/// its steps are planned once and reused) and an element-at-a-time sweep that reads each
/// element several times in a row and adds scalars under one signature (eager stays on).
@Suite("When operations are computed at once")
struct EagerPolicyTests {
    /// A signature for operation `k` of a stream, spread over the table's slots as digests are.
    static func signature(_ k: Int) -> UInt64 { (UInt64(bitPattern: Int64(k)) &+ 1) &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// A state with eager on (six new plans in a row).
    static func on() -> EagerState {
        let s = EagerState()
        for _ in 0..<Runtime.eagerMissesToStart { s.notePlan(hit: false) }
        #expect(s.isOn)
        return s
    }

    /// A time loop's stream: a step of 100 distinct operations, `steps` times.
    static func timeLoop(steps: Int) -> [UInt64] {
        let step = (0..<100).map(signature)
        return Array(Array(repeating: step, count: steps).joined())
    }

    /// Feeds `stream` and returns the operations (1-based counts) after which eager stopped.
    static func stops(_ s: EagerState, _ stream: [UInt64], mayStop: Bool = true) -> [Int] {
        var out: [Int] = []
        for (i, sig) in stream.enumerated() where s.note(sig, mayStop: mayStop) { out.append(i + 1) }
        return out
    }

    @Test("a time loop's repeating steps turn eager off after the first window that repeats an earlier one")
    func timeLoop() {
        let s = Self.on()
        let stream = Self.timeLoop(steps: 20)
        // Window 1 sees each signature first; window 2 (operations 513...1024) sees them again.
        #expect(Self.stops(s, Array(stream.prefix(1024))) == [1024])
        #expect(!s.isOn)
        // Under a scope (`mayStop` false) the same stream never stops.
        let scoped = Self.on()
        #expect(Self.stops(scoped, stream, mayStop: false).isEmpty)
        #expect(scoped.isOn)
    }

    @Test("an element-at-a-time sweep (each element read three times, scalar operations of one signature) stays eager")
    func elementSweep() {
        let s = Self.on()
        var stream: [UInt64] = []
        let add = Self.signature(-2), div = Self.signature(-3)
        for e in 1..<20_000 {
            let view = Self.signature(3 * e), previous = Self.signature(3 * (e - 1)), write = Self.signature(3 * e + 1)
            // Six of every eight operations repeat one seen a few operations before (a share
            // of all operations, the first rule, stopped this); none of a window's distinct
            // ones but the two scalar operations were seen in an earlier window.
            stream += [view, previous, add, write, view, div, write, view]
        }
        #expect(Self.stops(s, stream).isEmpty)
        #expect(s.isOn)
    }

    @Test("a stop followed by six new plans was wrong (next stop: twice the windows); one followed by reused plans, then new ones, was not (next start: twice the plans)")
    func wrongStopBacksOff() {
        let s = Self.on()
        let stream = Self.timeLoop(steps: 40)
        #expect(Self.stops(s, Array(stream.prefix(1024))) == [1024])
        #expect(s.windowsToStop == 1)
        // The planned steps miss the plan cache: eager turns on again after six.
        for _ in 0..<Runtime.eagerMissesToStart { s.notePlan(hit: false) }
        #expect(s.isOn && s.windowsToStop == 2)
        // Two repeating windows in a row now (with one, it would stop at 512 and 1024).
        #expect(Self.stops(s, Array(stream[1024..<2048])) == [1024])
        // A stop followed by reused plans and then new ones: the program's steps are reused
        // between new plans, and this start needs twice the new plans in a row.
        s.notePlan(hit: true)
        for _ in 0..<Runtime.eagerMissesToStart { s.notePlan(hit: false) }
        #expect(!s.isOn)
        #expect(s.windowsToStop == 2 && s.missesToStart.load(ordering: .relaxed) == 2 * Runtime.eagerMissesToStart)
        for _ in 0..<Runtime.eagerMissesToStart { s.notePlan(hit: false) }
        #expect(s.isOn)
    }

    @Test("at a process's start eager operations are tentative: on, materialising nothing, until a plan is reused or they repeat")
    func tentativeAtStart() {
        let s = EagerState()
        #expect(s.isTentative && !s.isOn)
        // New plans keep it; six of them turn eager fully on.
        s.notePlan(hit: false)
        #expect(s.isTentative)
        // A reused plan: the program repeats, and its graphs are planned once.
        s.notePlan(hit: true)
        #expect(!s.isTentative && !s.isOn)
        // A stop for repeating ends it too.
        let t = EagerState()
        #expect(Self.stops(t, Self.timeLoop(steps: 11)) == [1024])
        #expect(!t.isTentative && !t.isOn)
    }

    @Test("a repetition with a long period (four windows) stops after four repeating windows, not one, and turns on again after four times the new plans")
    func longPeriod() {
        let s = Self.on()
        // 2,048 distinct operations, each in a slot of its own, repeated: windows 1-4 are new,
        // window 5 repeats window 1 (four windows back), so the stop waits for four repeating
        // windows in a row: operation 4,096 (one window, as a short period's: 2,560).
        func distinct(_ k: Int) -> UInt64 { UInt64(k + 1) << 32 | UInt64(k + 1) }
        let period = (0..<2048).map(distinct)
        #expect(Self.stops(s, Array(Array(repeating: period, count: 3).joined().prefix(5120))) == [4096])
        // Recorded after the stop, the steps need a period to come round: eager turns on again
        // after four times the six new plans, not six.
        for _ in 0..<Runtime.eagerMissesToStart { s.notePlan(hit: false) }
        #expect(!s.isOn)
        for _ in Runtime.eagerMissesToStart..<(4 * Runtime.eagerMissesToStart) { s.notePlan(hit: false) }
        #expect(s.isOn && s.windowsToStop == 2)
    }

    @Test("operations met again in other company (an element read for many others, as nussinov's) are not a repetition")
    func sameOperationsOtherOrder() {
        let s = Self.on()
        // 200 operations in an order that does not repeat (a linear congruential walk): every
        // window meets the same operations, a repeat by single operations from the second
        // window on, but few of its pairs were met before.
        var state: UInt64 = 12345
        var stream: [UInt64] = []
        for _ in 0..<10_240 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            stream.append(Self.signature(Int(state >> 33) % 200))
        }
        #expect(Self.stops(s, stream).isEmpty)
        #expect(s.isOn)
    }

    @Test("a fresh process's element loop on stored values is computed at once from its first statement (its own process)")
    func freshProcessElementLoop() throws {
        // `x = x * 0.5 + 1` on 100 stored doubles with `x[0]` read every iteration: no sync
        // has planned anything yet, so no plan was reused and eager operations are tentatively
        // on; 900 operations do not make two windows, so nothing stops them.
        let (status, output) = try CLITests().run(["overhead", "--iterations", "300", "--n", "100", "--read", "element"])
        #expect(status == 0, "\(output)")
        let line = output.split(separator: "\n").first { $0.contains("300 iterations") }.map(String.init) ?? ""
        #expect(line.contains("kernels 0,") && line.hasSuffix("last 2.0"), "\(line)")
    }
}
