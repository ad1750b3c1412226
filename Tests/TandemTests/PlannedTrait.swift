import Testing
@testable import Tandem
import TandemRuntime

/// Runs a suite's tests with operations always recorded and planned (`Tandem.withEager(.off)`).
///
/// These suites look at what the planner made of a graph (kernels, plans, fused operations,
/// statistics, drawings) or at the devices that run its kernels. Under the default `auto`, any
/// test running beside them could turn operations eager (the switch is the process's: it
/// follows whether recent syncs reused their plans), and a graph of a few small stored values
/// would then be computed at once, with no plan to look at. The eager path itself is checked
/// against the planned one bit for bit in `EagerTests`; suites without this trait (the NumPy
/// API's, the examples', the workloads') run under the default.
struct PlannedTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await Runtime.withEagerMode(.off) { try await function() }
    }
}

extension Trait where Self == PlannedTrait {
    /// See `PlannedTrait`.
    static var planned: PlannedTrait { PlannedTrait() }
}
