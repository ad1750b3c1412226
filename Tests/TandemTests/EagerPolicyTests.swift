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

    /// Feeds `stream` and returns the operations (1-based counts) after which eager stopped.
    static func stops(_ s: EagerState, _ stream: [UInt64], mayStop: Bool = true) -> [Int] {
        var out: [Int] = []
        for (i, sig) in stream.enumerated() where s.note(sig, mayStop: mayStop) { out.append(i + 1) }
        return out
    }

    @Test("a time loop's repeating steps turn eager off after the first window that repeats an earlier one")
    func timeLoop() {
        let s = Self.on()
        let step = (0..<100).map(Self.signature)
        let stream = Array(Array(repeating: step, count: 20).joined())
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
        let step = (0..<100).map(Self.signature)
        let stream = Array(Array(repeating: step, count: 40).joined())
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
}
