import TandemIR
import TandemCompiler
import TandemRuntime
import Synchronization

/// Compiled C on all CPU cores: kernel IR → C (`CRenderer`) → shared object (cached) → `dlopen`.
public final class CPUDevice: KernelDevice, @unchecked Sendable {
    public let name = "cpu"
    public let toolchain: Result<CPUToolchain, ToolchainError>
    public let cache: CPUKernelCache
    let statistics: StatisticsBox
    /// Kernels prepared in this process, by structure: a repeat skips rendering and hashing.
    private let prepared = Mutex<[Kernel: CompiledKernel]>([:])
    /// Code states already looked up (rendering and hashing a kernel costs tens of µs): a kernel
    /// not prepared in this process keeps the state it was first found in.
    private let states = Mutex<[Kernel: CodeState]>([:])

    /// A CPU device; by default with the compiler found by `CPUToolchain.find()` and the cache in
    /// `TANDEM_CACHE_DIR` or `~/.cache/tandem`.
    public init(statistics: StatisticsBox, cache: CPUKernelCache = CPUKernelCache(),
                toolchain: Result<CPUToolchain, ToolchainError>? = nil) {
        self.statistics = statistics
        self.cache = cache
        self.toolchain = toolchain ?? CPUToolchain.find()
    }

    public var availability: Availability {
        switch toolchain {
        case .success: .available
        case .failure(let e): .unavailable(reason: e.description)
        }
    }

    /// The compiler, or the reason there is none as the device's error.
    private func usableToolchain() throws -> CPUToolchain {
        switch toolchain {
        case .success(let t): return t
        case .failure(let e): throw TandemError.deviceUnavailable(device: "cpu", reason: e.description)
        }
    }

    /// Sequence kernels prepared in this process (their stages' compiled code).
    private let sequences = Mutex<[Kernel: PreparedSequence]>([:])
    /// A stage whose code is not loaded yet (`readyCode` of a sequence).
    private struct NotReady: Error {}

    /// A sequence kernel (`Kernel.sequence`) is compiled stage by stage: each stage is the
    /// kernel it would be alone, compiled and cached as that kernel, and the sequence calls
    /// their code in order. A stage compiled for another sequence, or alone, is not compiled
    /// again (compiled as one C unit, heat's three sequences of four stages took 0.34 s to
    /// compile and repeated its stencil in each; a call per stage costs nanoseconds).
    private func sequenceStages(_ kernels: [Kernel]) -> [Kernel] {
        var out: [Kernel] = [], seen: Set<Kernel> = []
        for k in kernels {
            for s in (k.isSequence ? k.stages.map(\.kernel) : [k]) where seen.insert(s).inserted { out.append(s) }
        }
        return out
    }

    public func prepare(_ kernel: Kernel) throws -> any PreparedKernel {
        if kernel.isSequence {
            if let s = sequences.withLock({ $0[kernel] }) { return s }
            let s = try PreparedSequence(kernel, prepare: prepare)
            sequences.withLock { $0[kernel] = s }
            return s
        }
        let tc = try usableToolchain()
        if let k = prepared.withLock({ $0[kernel] }) {
            statistics.update { $0.compileMemoryHits += 1 }
            return k
        }
        let source = CRenderer.render(kernel)
        let k = CompiledKernel(library: try cache.library(source: source, toolchain: tc, statistics: statistics,
                                                          instructions: kernel.compileWeight))
        prepared.withLock { $0[kernel] = k }
        return k
    }

    /// The kernels not prepared yet are compiled in one C translation unit
    /// (`CPUKernelCache.libraries`); those loaded, on disk or failing go on alone.
    public func prepare(together kernels: [Kernel]) -> [Result<any PreparedKernel, any Error>] {
        if kernels.contains(where: \.isSequence) {
            // The stages of every sequence compiled together with the other kernels, then the
            // sequences made of their code (each looked up once: no second count as a hit).
            let stages = sequenceStages(kernels)
            let code = Dictionary(uniqueKeysWithValues: zip(stages, prepare(together: stages)))
            return kernels.map { k in
                guard k.isSequence else { return code[k]! }
                return Result {
                    let s = try PreparedSequence(k, prepare: { try code[$0]!.get() })
                    sequences.withLock { $0[k] = s }
                    return s
                }
            }
        }
        let tc: CPUToolchain
        do { tc = try usableToolchain() } catch { return kernels.map { _ in .failure(error) } }
        var results = [Result<any PreparedKernel, any Error>?](repeating: nil, count: kernels.count)
        var missing: [Int] = []
        for (i, k) in kernels.enumerated() {
            if let code = prepared.withLock({ $0[k] }) {
                statistics.update { $0.compileMemoryHits += 1 }
                results[i] = .success(code)
            } else {
                missing.append(i)
            }
        }
        let libraries = cache.libraries(missing.map { (CRenderer.render(kernels[$0]), kernels[$0].compileWeight) },
                                        toolchain: tc, statistics: statistics)
        for (i, library) in zip(missing, libraries) {
            results[i] = library.map { lib in
                let k = CompiledKernel(library: lib)
                prepared.withLock { $0[kernels[i]] = k }
                return k
            }
        }
        return results.map { $0! }
    }

    public func readyCode(_ kernel: Kernel) -> (any PreparedKernel)? {
        if kernel.isSequence {
            if let s = sequences.withLock({ $0[kernel] }) { return s }
            // Ready once every stage is (the stages may have been compiled alone or for
            // another sequence).
            guard let s = try? PreparedSequence(kernel, prepare: { stage in
                guard let c = prepared.withLock({ $0[stage] }) else { throw NotReady() }
                return c
            }) else { return nil }
            sequences.withLock { $0[kernel] = s }
            return s
        }
        return prepared.withLock { $0[kernel] }
    }

    /// Code from C written by hand rather than rendered from kernel IR (`TiledProduct`), with the
    /// same `tandem_kernel` entry point, compiled and cached like a kernel's. `weight` prices its
    /// compile as `Kernel.compileWeight` does.
    ///
    ///     let product = try cpu.routine(source: TiledProduct.source(float32: false), weight: 400)
    public func routine(source: String, weight: Int) throws -> CompiledRoutine {
        let tc = try usableToolchain()
        if let r = routines.withLock({ $0[source] }) { return r }
        let r = CompiledRoutine(library: try cache.library(source: source, toolchain: tc, statistics: statistics, instructions: weight))
        routines.withLock { $0[source] = r }
        return r
    }

    private let routines = Mutex<[String: CompiledRoutine]>([:])

    public func finishAfterExit(_ kernels: [Kernel]) -> Int {
        guard case .success(let tc) = toolchain else { return 0 }
        let missing = sequenceStages(kernels).filter { k in prepared.withLock { $0[k] } == nil }
        return cache.finishDetached(sources: missing.map { CRenderer.render($0) }, toolchain: tc)
    }

    public func codeState(_ kernel: Kernel) -> CodeState {
        if kernel.isSequence {
            // As far along as its least ready stage.
            let states = kernel.stages.map { codeState($0.kernel) }
            return states.contains(.missing) ? .missing : (states.contains(.onDisk) ? .onDisk : .ready)
        }
        guard case .success(let tc) = toolchain else { return .missing }
        if prepared.withLock({ $0[kernel] }) != nil { return .ready }
        if let known = states.withLock({ $0[kernel] }) { return known }
        let source = CRenderer.render(kernel)
        let state = cache.state(source: source, toolchain: tc)
        states.withLock { $0[kernel] = state }
        if state == .missing, cache.isCompilingElsewhere(source: source, toolchain: tc) {
            elsewhere.withLock { _ = $0.insert(kernel) }
        }
        return state
    }

    /// Kernels found being compiled by another process when their state was looked up.
    private let elsewhere = Mutex<Set<Kernel>>([])

    public func isCompilingElsewhere(_ kernel: Kernel) -> Bool {
        if kernel.isSequence { return kernel.stages.contains { isCompilingElsewhere($0.kernel) } }
        return elsewhere.withLock { $0.contains(kernel) }
    }

    /// Forgets every kernel loaded in this process, as a new process would start (the disk
    /// cache stays).
    public func dropMemory() {
        prepared.withLock { $0.removeAll() }
        sequences.withLock { $0.removeAll() }
        states.withLock { $0.removeAll() }
        cache.dropMemory()
    }
}

/// Compiled C with a `tandem_kernel` entry point called on raw memory (`CPUDevice.routine`).
public struct CompiledRoutine: @unchecked Sendable {
    // This is safe: the library stays loaded for the life of the process.
    let library: LoadedLibrary

    /// Calls `tandem_kernel(pointers, ints, floats, lo, hi)`.
    public func call(_ pointers: [UnsafeMutableRawPointer?], ints: [Int64], floats: [Double] = [], lo: Int, hi: Int) {
        pointers.withUnsafeBufferPointer { p in
            ints.withUnsafeBufferPointer { i in
                floats.withUnsafeBufferPointer { f in
                    // Empty arrays may have no base address; the code never reads them then.
                    library.rows!(p.baseAddress, i.baseAddress ?? UnsafePointer(bitPattern: 8)!, f.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                  Int64(lo), Int64(hi))
                }
            }
        }
    }
}

struct CompiledKernel: PreparedKernel {
    let library: LoadedLibrary

    private func withArgs(_ launch: Launch, _ body: (UnsafePointer<UnsafeMutableRawPointer?>, UnsafePointer<Int64>, UnsafePointer<Double>) -> Void) {
        let pointers: [UnsafeMutableRawPointer?] = launch.buffers.map { $0.pointer }
        pointers.withUnsafeBufferPointer { b in
            launch.ints.withUnsafeBufferPointer { i in
                launch.floats.withUnsafeBufferPointer { f in
                    // Empty arrays may have no base address; the kernel never reads them then.
                    let ip = i.baseAddress ?? UnsafePointer(bitPattern: 8)!
                    let fp = f.baseAddress ?? UnsafePointer(bitPattern: 8)!
                    body(b.baseAddress ?? UnsafePointer(bitPattern: 8)!, ip, fp)
                }
            }
        }
    }

    func run(_ launch: Launch, lo: Int, hi: Int) {
        withArgs(launch) { b, i, f in library.rows!(b, i, f, Int64(lo), Int64(hi)) }
    }

    func runSplit(_ launch: Launch, lo: Int, hi: Int, partials: UnsafeMutableRawPointer) {
        withArgs(launch) { b, i, f in library.split!(b, i, f, Int64(lo), Int64(hi), partials) }
    }

    func combine(_ launch: Launch, partials: UnsafeRawPointer, count: Int) {
        withArgs(launch) { b, i, f in library.combine!(b, i, f, partials, Int64(count)) }
    }
}
