#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TandemIR
import TandemCompiler

// What outlives a process: the kernel history and the measured compile rate written beside it,
// and the compiles handed on at exit. Split from Runtime.swift by concern (the stored state is
// in the class).
extension Runtime {
    /// Adds this process's runs to `kernelHistory` and writes it (at exit). Counted here, not
    /// per run: hashing a kernel into the history at every decision cost microseconds a sync.
    @discardableResult
    public func saveKernelHistory() -> Bool {
        guard let kernelHistory else { return true }
        // At exit another thread may hold the lock mid-sync: then this process's runs are lost
        // (they only steer placement), rather than the exit hanging.
        _ = graphLock.withLockIfAvailable { _ in
            for (kernel, entry) in history where entry.runs > entry.earlier {
                kernelHistory.record(kernel, runs: entry.runs - entry.earlier)
                history[kernel]!.earlier = entry.runs
            }
        }
        saveCompileRate(beside: kernelHistory.path)
        if let store = kernelFactorStore {
            for (kernel, factors) in kernelFactors.withLock({ $0.persistable() }) { store.keep(kernelHistory.digest(for: kernel), factors) }
            store.save()
        }
        tuner.database?.save()
        return kernelHistory.save()
    }

    static func compileRatePath(beside history: String) -> String {
        guard let slash = history.lastIndex(of: "/") else { return "compile-rate" }
        return String(history[..<slash]) + "/compile-rate"
    }

    func storedRate() -> Double? {
        storedCompileRate.withLock { stored in
            if let known = stored { return known }
            var value: Double? = nil
            if let path = kernelHistory.map({ Runtime.compileRatePath(beside: $0.path) }),
               let bytes = VerifiedFileCache.readPrivateFile(path, limit: 64),
               let v = Double(String(decoding: bytes, as: UTF8.self)), v.isFinite, v > 0, v < 1 {
                value = v
            }
            stored = .some(value)
            return value
        }
    }

    /// Writes this process's measured compile rate (averaged with the stored one) for the next.
    func saveCompileRate(beside history: String) {
        guard let measured = measuredCompileRate(costModel), measured > 0 else { return }
        let rate = storedRate().map { ($0 + measured) / 2 } ?? measured
        try? VerifiedFileCache.writeAtomically(Runtime.compileRatePath(beside: history), Array("\(rate)".utf8))
    }
    /// Hands the background compiles still pending to processes that outlive this one (at exit),
    /// then the kernels that ran longest in the interpreter in this process without compiled
    /// code (`interpretedNanos`, at least `afterExitInterpretedSeconds` each, most first, up to
    /// `BackgroundCompiler.maxAfterExit` in all): the model compiles a kernel during a run only
    /// when the compile pays back in this run or, by its history, in later ones, so a program's
    /// first runs never compiled a kernel whose interpreted run was shorter than its compile,
    /// and mandelbrot's ran interpreted for three runs (1.0-1.3 s against 0.12 s compiled). A
    /// compile after exit costs the user nothing visible; a program run again finds the code.
    @discardableResult
    public func finishBackgroundCompilesAfterExit() -> Int {
        var list = Array(background.pendingAtExit().prefix(BackgroundCompiler.maxAfterExit))
        if list.count < BackgroundCompiler.maxAfterExit, ProcessInfoLite.environment("TANDEM_DEVICE") != "interpreter",
           let cpu = device(for: .cpuAll), cpu.availability == .available {
            let slow = interpretedNanos.withLock { $0 }.filter { $0.value >= UInt64(Runtime.afterExitInterpretedSeconds * 1e9) }
                .sorted { $0.value > $1.value }
            for (kernel, _) in slow where list.count < BackgroundCompiler.maxAfterExit {
                guard cpu.readyCode(kernel) == nil, !list.contains(where: { $0.0 == kernel }) else { continue }
                list.append((kernel, cpu))
            }
        }
        // One process per device, compiling its kernels together (`finishAfterExit`).
        var started = 0, names: [String] = []
        for (_, d) in list where !names.contains(d.name) { names.append(d.name) }
        for name in names {
            let kernels = list.filter { $0.1.name == name }
            started += kernels[0].1.finishAfterExit(kernels.map(\.0))
        }
        return started
    }

    /// Interpreted time a kernel needs in one process to be compiled after it exits.
    public static let afterExitInterpretedSeconds = 0.02

    /// Waits for the background compiles queued so far (tests and measurements).
    public func drainBackgroundCompiles() { background.drain() }
}
