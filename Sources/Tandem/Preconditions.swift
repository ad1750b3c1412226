// The module's own `precondition` and `preconditionFailure`, which shadow the standard
// library's in every file of Tandem. Swift's drop their message in optimised builds: a user's
// shape mistake in a `swift run -c release` program stopped with only "precondition failure"
// and a backtrace (`zeros([3, 4]) + zeros([5])`), where the README promises NumPy's message.
// These stop through `fatalError`, which prints the message and the caller's file and line in
// every build but `-Ounchecked`; the condition costs what the standard library's does, and
// the message is built only on failure. Internal: a user's own `precondition` is untouched.

@inline(__always)
func precondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
                  file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}

@inline(__always)
func preconditionFailure(_ message: @autoclosure () -> String = String(), file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}
