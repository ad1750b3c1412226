import TandemIR

// Several kernels in one translation unit: one compiler run instead of one per kernel.
//
// Most of a small kernel's compile is the compiler's start, the preamble and the link (six
// kernels of cavity flow and heat: 0.34 s compiled one by one, 0.14 s in one unit, bench/RESULTS.md),
// so kernels that are compiled at the same time (the kernels queued on the background compiler, a
// sync's kernels compiled before they run, the compiles handed on at exit) share one. Each keeps
// its own functions, renamed so that they cannot collide, and its own cache entry (the shared
// object stored under each kernel's key), so a later process finds every kernel as if it had been
// compiled alone.

extension CRenderer {
    /// The text every kernel's C source begins with (`render(_:)`): the same for all of them.
    public static var cPreamble: String { Emitter.cPreamble }

    /// One C translation unit holding the kernels rendered as `kernels[i].source` (each
    /// `render(_:)`'s C output): the preamble once, then each kernel's functions with their entry
    /// points renamed: `tandem_kernel` to `kernels[i].name`, `tandem_kernel_split` and `_combine`
    /// to the name with `_split` and `_combine`. nil when a source is not such a kernel (a loop
    /// program or a routine written by hand, which define helpers of their own) or a name
    /// repeats.
    ///
    ///     let unit = CRenderer.translationUnit([(CRenderer.render(a), "tk_a"), (CRenderer.render(b), "tk_b")])
    public static func translationUnit(_ kernels: [(source: String, name: String)]) -> String? {
        let preamble = Emitter.cPreamble.utf8
        let start = Array("\nvoid \(entry)".utf8)
        var out = Emitter.cPreamble
        var names: Set<String> = []
        for (source, name) in kernels {
            let bytes = source.utf8
            guard bytes.starts(with: preamble) else { return nil }
            let body = bytes.dropFirst(preamble.count)
            guard body.starts(with: start) else { return nil }
            guard names.insert(name).inserted else { return nil }
            out += "\n#define \(entry) \(name)\n#define \(entry)_split \(name)_split\n#define \(entry)_combine \(name)_combine\n"
            out += String(decoding: body, as: UTF8.self)
            out += "#undef \(entry)\n#undef \(entry)_split\n#undef \(entry)_combine\n"
        }
        return out
    }
}
