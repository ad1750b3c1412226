#if canImport(Glibc)
import Glibc
#endif
import Testing
import Dispatch
import Synchronization
import FoundationEssentials
import _TandemTestSupport
@testable import Tandem
import TandemInterpreter
@testable import TandemCPU
@testable import TandemRuntime
import TandemCompiler

@Suite("Compile cache", .planned, .serialized)
struct CompileCacheTests {
    /// A fresh private cache folder and a CPU device of its own (its own counters).
    func device() -> (CPUDevice, StatisticsBox, String) {
        let dir = TestScratch.path("cache-\(UInt32.random(in: 0...UInt32.max))")
        let stats = StatisticsBox()
        return (CPUDevice(statistics: stats, cache: CPUKernelCache(directory: dir)), stats, dir)
    }

    func sampleKernel() -> PlannedKernel {
        let x = Tensor<Double>.uniform([1000], seed: 4, in: -1...1)
        return Tandem.plan((x * x + 1).sum()).kernels[0]
    }

    @Test("the second evaluation compiles nothing; a new process finds it on disk")
    func secondRunCompilesNothing() throws {
        let (cpu, stats, dir) = device()
        let k = sampleKernel()
        _ = try cpu.prepare(k.kernel)
        #expect(stats.snapshot.compileMisses == 1)
        _ = try cpu.prepare(k.kernel)
        #expect(stats.snapshot.compileMisses == 1 && stats.snapshot.compileMemoryHits == 1)
        cpu.dropMemory()  // as a new process would start
        _ = try cpu.prepare(k.kernel)
        #expect(stats.snapshot.compileMisses == 1 && stats.snapshot.compileDiskHits == 1)
        var st = stat()
        #expect(stat(dir, &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    @Test("a compile handed on at exit finishes in a process of its own, and the next run loads it from disk")
    func finishAfterExit() throws {
        let (cpu, stats, _) = device()
        let k = sampleKernel()
        let tc = try cpu.toolchain.get()
        let source = CRenderer.render(k.kernel)
        #expect(cpu.cache.state(source: source, toolchain: tc) == .missing)
        #expect(cpu.finishAfterExit(k.kernel))
        // While it runs, no other process (here: no second call) starts the same compile.
        #expect(!cpu.finishAfterExit(k.kernel))
        // The detached compile writes the entry and its hash record into the cache.
        let deadline = ProcessInfoLite.monotonicNanos() + 60_000_000_000
        while cpu.cache.state(source: source, toolchain: tc) != .onDisk && ProcessInfoLite.monotonicNanos() < deadline { usleep(20_000) }
        #expect(cpu.cache.state(source: source, toolchain: tc) == .onDisk)
        _ = try cpu.prepare(k.kernel)
        #expect(stats.snapshot.compileDiskHits == 1 && stats.snapshot.compileMisses == 0 && stats.snapshot.cacheRejected == 0,
                "\(stats.snapshot.compileDiskHits) disk hits, \(stats.snapshot.compileMisses) compiles, \(stats.snapshot.cacheRejected) rejected")
        // Nothing else is left in the folder (its temporaries start with a dot).
        // (its marker goes right after the entry is in place).
        let folder = cpu.cache.files.folder
        func leftovers() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasPrefix(".") && $0 != ".swept" } ?? ["?"] }
        while !leftovers().isEmpty && ProcessInfoLite.monotonicNanos() < deadline { usleep(20_000) }
        #expect(leftovers().isEmpty, "\(leftovers())")
        // An entry already there is not compiled again.
        #expect(!cpu.finishAfterExit(k.kernel))
    }

    @Test("kernels that ran long in the interpreter are compiled after the process exits, in one compiler run, an entry each")
    func slowInterpretedKernelsCompiledAfterExit() throws {
        let (cpu, _, _) = device()
        let stats = StatisticsBox()
        let rt = Runtime(devices: [cpu, InterpreterDevice()], statistics: stats, workers: 2, profile: { SyntheticProfiles.cpu() })
        // Two kernels, each well over the hand-off's 20 ms in the interpreter (sizes no other test uses).
        let x = Tensor<Double>.uniform([1_500_007], seed: 71, in: 0.5...1.5)
        let a = (x.log() * x.exp() + x.sqrt()).sum(), b = (x.sin() * x.cos() - x).sum()
        try Tandem.withDevice(.interpreter) {
            _ = try rt.read(a.node)
            _ = try rt.read(b.node)
        }
        let slow = rt.interpretedNanos.withLock { $0 }.filter { $0.value >= UInt64(Runtime.afterExitInterpretedSeconds * 1e9) }
        #expect(slow.count >= 2, "\(rt.interpretedNanos.withLock { $0 }.values)")
        #expect(rt.finishBackgroundCompilesAfterExit() == slow.count)
        let tc = try cpu.toolchain.get()
        let deadline = ProcessInfoLite.monotonicNanos() + 120_000_000_000
        func onDisk() -> Int { slow.keys.filter { cpu.cache.state(source: CRenderer.render($0), toolchain: tc) == .onDisk }.count }
        while onDisk() < slow.count && ProcessInfoLite.monotonicNanos() < deadline { usleep(50_000) }
        #expect(onDisk() == slow.count)
        // One compiler run: the entries are one file (hard links).
        var inodes: Set<UInt> = []
        for k in slow.keys {
            var st = stat()
            if stat(cpu.cache.entryPath(CPUKernelCache.key(source: CRenderer.render(k), toolchain: tc)), &st) == 0 { inodes.insert(UInt(st.st_ino)) }
        }
        #expect(inodes.count == 1, "\(inodes.count) files for \(slow.count) kernels")
        // Handed on once: a second exit finds them there.
        #expect(rt.finishBackgroundCompilesAfterExit() == 0)
    }

    @Test("a compile another process is finishing after its exit is waited for, then compiled here if it left nothing")
    func detachedCompileIsWaitedFor() throws {
        let (cpu, stats, _) = device()
        let k = sampleKernel()
        let tc = try cpu.toolchain.get()
        try cpu.cache.files.ensureFolders()
        let key = CPUKernelCache.key(source: CRenderer.render(k.kernel), toolchain: tc)
        let marker = cpu.cache.markerPath(key)
        #expect(creat(marker, 0o600) >= 0)
        // The marker goes away after 0.3 s without an entry, as a failed compile's would.
        let started = ProcessInfoLite.monotonicNanos()
        #expect(startBackgroundThread(niceness: 0) { usleep(300_000); unlink(marker) })
        _ = try cpu.prepare(k.kernel)
        #expect(ProcessInfoLite.monotonicNanos() - started >= 250_000_000)
        #expect(stats.snapshot.compileMisses == 1)
        // A marker older than the compile's limit is a leftover: not waited for.
        #expect(creat(marker, 0o600) >= 0)
        var times = [timespec(tv_sec: 1, tv_nsec: 0), timespec(tv_sec: 1, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, marker, &times, 0) == 0)
        cpu.dropMemory()
        unlink(cpu.cache.entryPath(key))
        let again = ProcessInfoLite.monotonicNanos()
        _ = try cpu.prepare(k.kernel)
        // (waiting on it would take the compile's whole limit, 120 s by default)
        #expect(ProcessInfoLite.monotonicNanos() - again < 30_000_000_000)
        #expect(stats.snapshot.compileMisses == 2)
        unlink(marker)
    }

    /// Three kernels of different shapes (a split sum, a reduction down columns, a map) and
    /// their values read through `runtime`, placed as `choice`.
    func batchPrograms() -> [() -> Node] {
        [{ (Tensor<Double>.uniform([300_001], seed: 72, in: -1...1) * 3).sum().node },
         { (Tensor<Double>.uniform([20_011, 7], seed: 73, in: -1...1) + 0.5).sum(axis: 0).node },
         { (Tensor<Double>.uniform([1003], seed: 74, in: 0...2).sqrt() * 2).node }]
    }

    func values(_ runtime: Runtime, _ choice: DeviceChoice, _ make: () -> Node) throws -> [UInt64] {
        try Tandem.withDevice(choice) {
            let b = try runtime.read(make())
            return (0..<(b.byteCount / 8)).map { b.pointer.load(fromByteOffset: $0 * 8, as: UInt64.self) }
        }
    }

    @Test("kernels compiled together: one compiler run, an entry each (one file), the interpreter's bits, loaded alone by a new process")
    func kernelsCompiledTogether() throws {
        let (cpu, stats, _) = device()
        let tc = try cpu.toolchain.get()
        let kernels = batchPrograms().flatMap { make in Tandem.plan(Tensor<Double>(node: make())).kernels.map(\.kernel) }
        #expect(kernels.count >= 3)
        let results = cpu.prepare(together: kernels)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(stats.snapshot.cpuCompiles == 1 && stats.snapshot.compileMisses == kernels.count,
                "\(stats.snapshot.cpuCompiles) compiler runs, \(stats.snapshot.compileMisses) kernels compiled")
        var inodes: Set<UInt> = []
        for k in kernels {
            var st = stat()
            #expect(stat(cpu.cache.entryPath(CPUKernelCache.key(source: CRenderer.render(k), toolchain: tc)), &st) == 0)
            inodes.insert(UInt(st.st_ino))
        }
        #expect(inodes.count == 1)
        // The batch's code gives the interpreter's bits; so does each kernel loaded alone from disk.
        let runtime = Runtime(devices: [cpu, InterpreterDevice()], statistics: stats, workers: 2, profile: { SyntheticProfiles.cpu() })
        for make in batchPrograms() {
            #expect(try values(runtime, .cpu, make) == values(runtime, .interpreter, make))
        }
        #expect(stats.snapshot.compileMisses == kernels.count)
        cpu.dropMemory()
        for k in kernels { _ = try cpu.prepare(k) }
        #expect(stats.snapshot.compileDiskHits == kernels.count && stats.snapshot.cacheRejected == 0)
        for make in batchPrograms() {
            #expect(try values(runtime, .cpu1, make) == values(runtime, .interpreter, make))
        }
        // Only rendered kernels go in one unit; a source twice is refused.
        let one = CRenderer.render(kernels[0])
        #expect(CRenderer.translationUnit([(one, "tk_a"), (CRenderer.render(kernels[1]), "tk_b")]) != nil)
        #expect(CRenderer.translationUnit([(one, "tk_a"), (one, "tk_a")]) == nil)
        #expect(CRenderer.translationUnit([(one, "tk_a"), ("int main(void) { return 0; }", "tk_b")]) == nil)
    }

    @Test("a compiler that refuses the batch: each kernel compiles alone, none is lost")
    func refusedBatchCompilesAlone() throws {
        let clang = try CPUToolchain.find().get()
        // Refuses any source holding a renamed entry point (a batch); compiles the rest.
        let (dir, wrapper) = fakeCompiler("batch-refused", "for a in \"$@\"; do case \"$a\" in *.c) if grep -q '#define tandem_kernel ' \"$a\"; then echo 'error: no batches today' >&2; exit 1; fi;; esac; done\nexec \(Subprocess.shellQuoted(clang.path)) \"$@\"")
        let stats = StatisticsBox()
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: dir + "/cache"),
                            toolchain: .success(CPUToolchain(path: wrapper, identity: clang.identity)))
        let kernels = batchPrograms().flatMap { make in Tandem.plan(Tensor<Double>(node: make())).kernels.map(\.kernel) }
        let results = cpu.prepare(together: kernels)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(stats.snapshot.cpuCompiles == kernels.count && stats.snapshot.compileMisses == kernels.count)
        // (A new wrapper: its hash is not known, so the objects are stored once it is.)
        cpu.cache.awaitStores()
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cpu.cache.files.folder))?.filter { $0.hasPrefix(".") && $0 != ".swept" } ?? ["?"]
        #expect(left.isEmpty, "\(left)")
    }

    @Test("a compiler never hashed: kernels compile and run while the hash runs, alone or together, and are stored under the keys the hash gives", arguments: [false, true])
    func compilesWhileTheCompilerIsHashed(together: Bool) throws {
        let clang = try CPUToolchain.find().get()
        // A new binary: its fingerprint is not known yet.
        let (dir, wrapper) = fakeCompiler("early", "exec \(Subprocess.shellQuoted(clang.path)) \"$@\"")
        // A sparse tail of 1 GiB after the script (no disk used; `sh` execs before reading it):
        // hashing it takes longer than a compile, as a 167 MB clang's hash did on a first run.
        #expect(truncate(wrapper, 1 << 30) == 0)
        defer { unlink(wrapper) }
        let tc = CPUToolchain(path: wrapper, identity: clang.identity)
        let stats = StatisticsBox()
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: dir + "/cache"), toolchain: .success(tc))
        let kernels = together ? batchPrograms().flatMap { make in Tandem.plan(Tensor<Double>(node: make())).kernels.map(\.kernel) }
            : [sampleKernel().kernel]
        if together {
            #expect(cpu.prepare(together: kernels).allSatisfy { if case .success = $0 { true } else { false } })
        } else {
            _ = try cpu.prepare(kernels[0])
        }
        // Ready to run before the hash is known (a first run's kernels do not wait for it).
        #expect(tc.fingerprintIfKnown == nil, "the compiler's hash finished before the compile")
        #expect(stats.snapshot.compileMisses == kernels.count && stats.snapshot.cpuCompiles == 1)
        // Stored under its key once the hash is there, on the side.
        cpu.cache.awaitStores()
        for k in kernels { #expect(cpu.cache.state(source: CRenderer.render(k), toolchain: tc) == .ready) }
        // On disk under the key the hash gives, verified by a new process's lookup, and nothing
        // else left in the folder.
        cpu.dropMemory()
        for k in kernels {
            #expect(cpu.cache.state(source: CRenderer.render(k), toolchain: tc) == .onDisk)
            _ = try cpu.prepare(k)
        }
        #expect(stats.snapshot.compileDiskHits == kernels.count && stats.snapshot.compileMisses == kernels.count && stats.snapshot.cacheRejected == 0)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cpu.cache.files.folder))?.filter { $0.hasPrefix(".") && $0 != ".swept" } ?? ["?"]
        #expect(left.isEmpty, "\(left)")
    }

    @Test("a program that exits while its compiler is still being hashed stores its kernels first: the next run compiles none")
    func exitWaitsForTheHash() throws {
        let clang = try CPUToolchain.find().get()
        // A compiler never hashed, whose hash (a sparse 1 GiB tail) takes longer than the run.
        let (dir, wrapper) = fakeCompiler("exit-hash", "exec \(Subprocess.shellQuoted(clang.path)) \"$@\"")
        #expect(truncate(wrapper, 1 << 30) == 0)
        defer { unlink(wrapper) }
        let env = ["TANDEM_CACHE_DIR=\(dir)/cache", "TANDEM_CC=\(wrapper)", "TANDEM_DEVICE=cpu", "TANDEM_COMPILE_AFTER_EXIT=0", "TANDEM_PROFILE=1"]
        let (status, first) = try CLITests().run(["run", "sor", "n=18", "max_iterations=2"], environment: env)
        #expect(status == 0, "\(first)")
        #expect(!first.contains("compiles 0 "), "\(first)")
        // The exit waited for the hash and stored every kernel compiled: a second run loads them.
        let (again, second) = try CLITests().run(["run", "sor", "n=18", "max_iterations=2"], environment: env)
        #expect(again == 0 && second.contains("compiles 0 "), "\(second)")
    }

    @Test("a compiler's --version line is remembered under its stamp: asked once, again when the binary changes, a failure not kept")
    func versionRemembered() throws {
        let (_, file) = fakeCompiler("version", "echo 'fake clang 1.0'")
        defer { unlink(file) }
        let asked = Mutex(0)
        func version(_ answer: String?) -> String? {
            BinaryFingerprint.version(of: file) { asked.withLock { $0 += 1 }; return answer }
        }
        #expect(version("fake clang 1.0") == "fake clang 1.0")
        #expect(version("other") == "fake clang 1.0", "remembered, not asked again")
        #expect(asked.withLock { $0 } == 1)
        // A new binary at the same path (another size): asked again; a failure is not remembered.
        #expect(ProcessInfoLite.write(Array("#!/bin/sh\necho 'fake clang 2.0 (longer)'\n".utf8), to: file))
        #expect(version(nil) == nil)
        #expect(version("fake clang 2.0") == "fake clang 2.0")
        #expect(version(nil) == "fake clang 2.0")
        #expect(asked.withLock { $0 } == 3)
        // A process finding its compiler takes the remembered line, without starting it.
        let (_, cc) = fakeCompiler("version-find", "echo 'fake cc 3'")
        defer { unlink(cc) }
        #expect(BinaryFingerprint.version(of: cc) { "remembered line" } == "remembered line")
        let (status, out) = try CLITests().run(["devices"], environment: ["TANDEM_CC=\(cc)", "TANDEM_CACHE_DIR=\(VerifiedFileCache.defaultRoot)"])
        #expect(status == 0 && out.contains("C compiler \(cc) (remembered line)"), "\(out)")
    }

    @Test("a hash at the lowest priority is taken over: finish returns the fingerprint every waiter then gets")
    func hashTakenOver() throws {
        // A binary never hashed, whose hash (a sparse 256 MiB) takes a while.
        let (_, file) = fakeCompiler("take-over", "exit 0")
        #expect(truncate(file, 1 << 28) == 0)
        defer { unlink(file) }
        #expect(BinaryFingerprint.ifKnown(file) == nil)            // starts the hash at nice 19, after the side delay
        let waiter = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        #expect(startBackgroundThread(niceness: nil) {
            waiter.withLock { $0 = BinaryFingerprint.of(file) }     // waits for a hash under way
            done.signal()
        })
        BinaryFingerprint.finish(file, waiting: 0.01)                // then hashes it here
        let known = try #require(BinaryFingerprint.ifKnown(file))
        #expect(known.split(separator: " ").last?.count == 64, "\(known)")
        #expect(done.wait(timeout: .now() + 30) == .success, "a caller waiting for the hash was not woken")
        #expect(waiter.withLock { $0 } == known)
        #expect(BinaryFingerprint.of(file) == known)
    }

    @Test("a corrupted cache entry is detected and rebuilt, not loaded")
    func corruptedEntryIsRebuilt() throws {
        let (cpu, stats, _) = device()
        let k = sampleKernel()
        let first = try #require(try cpu.prepare(k.kernel) as? CompiledKernel)
        let key = CPUKernelCache.key(source: CRenderer.render(k.kernel), toolchain: try cpu.toolchain.get())
        let path = cpu.cache.entryPath(key)
        // Flip bytes in the middle of the shared object.
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        var junk: [UInt8] = Array(repeating: 0xCC, count: 64)
        _ = pwrite(fd, &junk, 64, 512)
        close(fd)
        cpu.dropMemory()
        let code = try cpu.prepare(k.kernel)
        #expect(stats.snapshot.cacheRejected == 1)
        #expect(stats.snapshot.compileMisses == 2)
        // The rebuilt library is loaded for real, not the first build's handle returned again
        // (glibc returns a loaded object for the same path or file).
        let rebuilt = try #require(code as? CompiledKernel)
        #expect(rebuilt.library.handle != first.library.handle, "the first build ran, not the rebuilt one")
        // The rebuilt kernel computes the right thing.
        let out = Buffer(dtype: .float64, count: 1)
        var launch = k.launch
        launch.buffers = launch.buffers.map { $0.count == 1 ? out : $0 }
        code.run(launch, lo: 0, hi: 1)
        let xs = try Tensor<Double>.uniform([1000], seed: 4, in: -1...1).scalars
        let want = xs.reduce(0) { $0 + $1 * $1 + 1 }
        #expect(Swift.abs(out.pointer.load(as: Double.self) - want) < 1e-9 * want)
    }

    @Test("a cache folder others can write is refused")
    func insecureFolderRefused() throws {
        let (cpu, _, dir) = device()
        mkdir(dir, 0o700)
        chmod(dir, 0o777)
        #expect(throws: TandemError.self) { _ = try cpu.prepare(sampleKernel().kernel) }
    }

    @Test("a failed compile throws with the compiler's log and the source")
    func failedCompileCarriesLog() throws {
        let script = TestScratch.path("bad-cc.sh")
        let text = "#!/bin/sh\necho 'error: the compiler is broken today' >&2\nexit 1\n"
        let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0o700)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let stats = StatisticsBox()
        let cpu = CPUDevice(statistics: stats, cache: CPUKernelCache(directory: TestScratch.path("cache-bad")),
                            toolchain: .success(CPUToolchain(path: script, identity: "broken")))
        do {
            _ = try cpu.prepare(sampleKernel().kernel)
            Issue.record("expected a compile error")
        } catch let TandemError.compileFailed(_, log, source) {
            #expect(log.contains("the compiler is broken today"))
            #expect(source.contains("tandem_kernel"))
        }
    }

    @Test("without a C compiler the runtime uses the interpreter, says so and counts it")
    func missingCompilerFallsBack() throws {
        let stats = StatisticsBox()
        let cpu = CPUDevice(statistics: stats, toolchain: .failure(.notFound("no C compiler found (test)")))
        #expect(cpu.availability == .unavailable(reason: "no C compiler found (test)"))
        let runtime = Runtime(devices: [cpu, InterpreterDevice()], statistics: stats, workers: 2, profile: { SyntheticProfiles.cpu() })
        let x = Tensor<Double>([1, 2, 3])
        let node = (x * x).sum().node
        let b = try runtime.read(node)
        #expect(b.pointer.load(as: Double.self) == 14)
        #expect(stats.snapshot.fallbacks == 1)
        #expect(stats.snapshot.kernelsByDevice["interpreter"] == 1)
    }
}
