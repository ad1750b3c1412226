import Synchronization

/// A task-local value with a count of the scopes that set it in the process: while none is
/// open anywhere, reading it is one atomic load instead of a task-local lookup (several times
/// dearer). For values asked at every small operation and set rarely (`Tandem.withDevice`,
/// `Tandem.withEager`, a `Tandem.loop` being traced).
///
///     static let device = ScopedValue<DeviceChoice>()
///     let choice = device.value ?? .auto                      // nil outside every scope
///     device.withValue(.cpu1) { /* device.value is .cpu1 on this task and its children */ }
public final class ScopedValue<Value: Sendable>: Sendable {
    private let local = TaskLocal<Value?>(wrappedValue: nil)
    private let scopes = Atomic<Int>(0)

    public init() {}

    /// The value of the innermost scope of the current task, or nil.
    public var value: Value? { scopes.load(ordering: .relaxed) == 0 ? nil : local.get() }

    /// Whether any task of the process is inside a scope.
    public var anyScopeOpen: Bool { scopes.load(ordering: .relaxed) != 0 }

    /// Runs `body` with `value` set for the current task.
    public func withValue<R>(_ value: Value, _ body: () throws -> R) rethrows -> R {
        scopes.add(1, ordering: .relaxed)
        defer { scopes.subtract(1, ordering: .relaxed) }
        return try local.withValue(value, operation: body)
    }

    /// Async variant of `withValue(_:_:)`.
    public func withValue<R>(_ value: Value, _ body: () async throws -> R) async rethrows -> R {
        scopes.add(1, ordering: .relaxed)
        defer { scopes.subtract(1, ordering: .relaxed) }
        return try await local.withValue(value, operation: body)
    }
}
