#if canImport(Glibc)
import Glibc
#endif
import Testing
import _TandemTestSupport
@testable import TandemCPU
import TandemRuntime
import TandemCUDA
import TandemModel
import FoundationEssentials
@testable import Tandem

/// Issue 17 point 1: what is verified is what is loaded, and nothing in the cache folder is
/// followed, blocked on or read without bound.
@Suite("Cache hardening", .serialized)
struct CacheHardeningTests {
    /// A shared object whose `tandem_kernel` writes `value` into the first double of buffer 0.
    func library(_ value: Int, in files: VerifiedFileCache, key: String) throws -> String {
        let toolchain = try CPUToolchain.find().get()
        return try files.store(key) { obj in
            let src = obj + ".c"
            defer { unlink(src) }
            try VerifiedFileCache.writeFile(src, Array("void tandem_kernel(void **b, const long long *i, const double *f, long long lo, long long hi) { ((double *)b[0])[0] = \(value); }\n".utf8))
            let (ok, log) = toolchain.compile(sourcePath: src, outputPath: obj)
            guard ok else { throw TandemError.compileFailed(compiler: toolchain.path, log: log, source: src) }
        }
    }

    func folder(_ name: String) -> VerifiedFileCache {
        VerifiedFileCache(root: TestScratch.path("harden-\(name)-\(UInt32.random(in: 0...UInt32.max))"), subfolder: "cpu", suffix: ".so")
    }

    func run(_ lib: LoadedLibrary) -> Double {
        var out = 0.0
        withUnsafeMutablePointer(to: &out) { p in
            var buffers: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(p)]
            let ints: [Int64] = [1], floats: [Double] = []
            lib.rows!(&buffers, ints, floats, 0, 1)
        }
        return out
    }

    @Test("a key resumed from a hashed prefix is the key of the whole text, whatever the parts")
    func keyPrefix() {
        let preamble = String(repeating: "#define TK_X 1\n", count: 900) + "typedef double tk;\n"
        let prefix = VerifiedFileCache.KeyPrefix(preamble)
        let cases: [[String]] = [
            [preamble + "void tandem_kernel(void) {}\n", "clang 21", "abc"],
            [preamble, "x"],
            [String(preamble.dropLast()), "x"],
            ["void f(void);\n" + preamble, "x"],
            ["", ""],
            [preamble + "é ✓", "", "z"],
            [],
        ]
        for parts in cases {
            #expect(VerifiedFileCache.key(parts, prefix: prefix) == VerifiedFileCache.key(parts), "\(parts.map(\.count))")
        }
        // The prefix is the first part's only: the same text later hashes in full.
        #expect(VerifiedFileCache.key(["a", preamble], prefix: prefix) == VerifiedFileCache.key(["a", preamble]))
        #expect(VerifiedFileCache.key([preamble + "a"], prefix: prefix) != VerifiedFileCache.key([preamble + "b"], prefix: prefix))
    }

    @Test("a file swapped in after verification is not what runs: the verified descriptor is loaded")
    func swapAfterVerification() throws {
        let files = folder("swap")
        try files.ensureFolders()
        let a = try library(1, in: files, key: String(repeating: "a", count: 64))
        let b = try library(2, in: files, key: String(repeating: "b", count: 64))
        guard case .hit(let entry) = files.open(String(repeating: "a", count: 64)) else {
            Issue.record("the entry did not verify")
            return
        }
        // The attacker's move: another (valid, private) library renamed over the verified path.
        #expect(rename(b, a) == 0)
        let lib = try LoadedLibrary(entry)
        #expect(run(lib) == 1, "the swapped file ran")
    }

    @Test("an entry others could write, or whose bytes differ from the recorded hash, is refused and deleted")
    func writableOrAlteredEntries() throws {
        let files = folder("perm")
        try files.ensureFolders()
        let key = String(repeating: "c", count: 64), other = String(repeating: "d", count: 64)
        let path = try files.store(key, bytes: Array("compiled".utf8))
        chmod(path, 0o620)
        guard case .rejected(let why) = files.open(key) else {
            Issue.record("a group-writable entry was accepted")
            return
        }
        #expect(why.contains("writable by no one else"), "\(why)")
        #expect(access(path, F_OK) != 0, "the refused entry was kept")
        let second = try files.store(other, bytes: Array("compiled".utf8))
        let fd = Glibc.open(second, O_WRONLY)
        #expect(fd >= 0)
        _ = "altered!".withCString { Glibc.write(fd, $0, 8) }
        close(fd)
        guard case .rejected(let reason) = files.open(other) else {
            Issue.record("an altered entry was accepted")
            return
        }
        #expect(reason.contains("SHA-256 differs"), "\(reason)")
    }

    @Test("a reader refusing an entry removes only the file it checked, never a good one renamed over it meanwhile")
    func refusalRemovesOnlyWhatWasChecked() throws {
        let files = folder("swap")
        try files.ensureFolders()
        let key = String(repeating: "f", count: 64)
        let path = try files.store(key, bytes: Array("old".utf8))
        var checked = stat()
        #expect(lstat(path, &checked) == 0)
        // A writer renames a good entry (and its record) over the checked one before the reader
        // removes it: the reader's removal must leave it.
        try files.store(key, bytes: Array("new and good".utf8))
        VerifiedFileCache.remove(path, ifStill: checked)
        guard case .hit(_, let bytes) = files.read(key) else {
            Issue.record("the good entry renamed over the refused one was removed")
            return
        }
        #expect(bytes == Array("new and good".utf8))
        // Still the checked file: removed.
        #expect(lstat(path, &checked) == 0)
        VerifiedFileCache.remove(path, ifStill: checked)
        #expect(access(path, F_OK) != 0)
        // Nothing left aside.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: files.folder))?.filter { $0.contains("rejected") } ?? ["?"]
        #expect(left.isEmpty, "\(left)")
    }

    @Test("writers of one key at once never spoil each other's entry, and leave no temporaries")
    func concurrentWriters() async throws {
        let files = folder("race")
        try files.ensureFolders()
        let key = String(repeating: "e", count: 64)
        let bytes = Array(repeating: UInt8(7), count: 1 << 16)
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { (try? files.store(key, bytes: bytes)) != nil } }
            for await ok in group { #expect(ok) }
        }
        guard case .hit(_, let read) = files.read(key) else {
            Issue.record("the entry written by eight writers does not verify")
            return
        }
        #expect(read == bytes)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: files.folder))?.filter { $0.hasPrefix(".") && $0 != ".swept" } ?? ["?"]
        #expect(left.isEmpty, "temporaries left: \(left)")
    }

    @Test("symbolic links, FIFOs and an endless hash record are refused at once, and deleted")
    func refusedEntries() throws {
        let files = folder("odd")
        try files.ensureFolders()
        let key = String(repeating: "c", count: 64)
        let real = try library(3, in: files, key: key)
        // The entry as a link to a valid library: refused, not followed.
        let moved = files.folder + "/elsewhere.so"
        #expect(rename(real, moved) == 0)
        #expect(symlink(moved, real) == 0)
        guard case .rejected = files.open(key) else { Issue.record("a symbolic link was followed"); return }
        var st = stat()
        #expect(lstat(real, &st) != 0, "the link was left in place")
        // A FIFO as the entry: no blocking.
        #expect(mkfifo(real, 0o600) == 0)
        guard case .rejected = files.open(key) else { Issue.record("a FIFO was accepted"); return }
        // The record linked to /dev/zero: refused without reading it.
        #expect(rename(moved, real) == 0)
        let record = files.folder + "/\(key).sha256"
        unlink(record)
        #expect(symlink("/dev/zero", record) == 0)
        guard case .rejected = files.open(key) else { Issue.record("a record linked to /dev/zero was read"); return }
    }

    @Test("a folder above the cache that others can write makes it unsafe, and is named")
    func writableParent() throws {
        let parent = TestScratch.path("harden-open-\(UInt32.random(in: 0...UInt32.max))")
        #expect(mkdir(parent, 0o700) == 0)
        #expect(chmod(parent, 0o777) == 0)
        let files = VerifiedFileCache(root: parent + "/cache", subfolder: "cpu", suffix: ".so")
        do {
            try files.ensureFolders()
            Issue.record("a cache below a world-writable folder was accepted")
        } catch {
            #expect("\(error)".contains(parent), "\(error)")
        }
        #expect(chmod(parent, 0o1777) == 0)  // sticky, like /tmp: others cannot replace our folder
        try files.ensureFolders()
    }
}

/// Issue 17 point 5: a machine profile with numbers out of range is measured again, never a trap.
@Suite("Machine profile validation")
struct ProfileValidationTests {
    @Test("the built-in and a measured profile are in range; negative, huge and zero rates are not")
    func validation() throws {
        let id = Calibration.identity(workers: 2)
        #expect(MachineProfile.builtIn(identity: id).validationProblem == nil)
        var p = MachineProfile.builtIn(identity: id)
        p.cpu.f64.simple = -1e-9
        #expect(p.validationProblem?.contains("simple") == true)
        p = MachineProfile.builtIn(identity: id)
        p.cpu.f32.transcendental = 1e300
        #expect(p.validationProblem?.contains("transcendental") == true)
        p = MachineProfile.builtIn(identity: id)
        p.cpu.bandwidthAllThreads = 0
        #expect(p.validationProblem?.contains("bandwidthAllThreads") == true)
        p = MachineProfile.builtIn(identity: id)
        p.cpu.launchSeconds = .nan
        #expect(p.validationProblem?.contains("launchSeconds") == true)
        // Each rule by the field's name, in any case: seconds of a call or load up to 1 s, of a
        // compile up to 600 s, a speed-up above 0, other rates below a millisecond.
        p = MachineProfile.builtIn(identity: id)
        p.cpu.loadSeconds = 0.01
        p.cpu.compileSeconds = 300
        #expect(p.validationProblem == nil)
        p.cpu.compileSeconds = 700
        #expect(p.validationProblem?.contains("compileSeconds") == true)
        p = MachineProfile.builtIn(identity: id)
        p.cpu.interpreterSpeedup = 0
        #expect(p.validationProblem?.contains("interpreterSpeedup") == true)
        p = MachineProfile.builtIn(identity: id)
        p.cpu.loopSeconds = 0.01
        #expect(p.validationProblem?.contains("loopSeconds") == true)
    }

    @Test("the numbers validated are every Double and Int field of the profile's parts, as a walk over their fields finds them")
    func numbersAreEveryField() {
        func walked(_ value: Any, _ path: String) -> [(String, ProfileNumber)] {
            if let d = value as? Double { return [(path, .double(d))] }
            if let i = value as? Int { return [(path, .int(i))] }
            return Mirror(reflecting: value).children.flatMap { walked($0.value, (path.isEmpty ? "" : path + ".") + ($0.label ?? "?")) }
        }
        func same(_ a: [(String, ProfileNumber)], _ b: [(String, ProfileNumber)]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        }
        var p = SyntheticProfiles.gpu()
        p.cpu.cacheBandwidth = [BandwidthLevel(name: "L2", maxBytes: 1 << 20, oneThread: 5e10, allThreads: 9e10),
                                BandwidthLevel(name: "L3", maxBytes: 1 << 25, oneThread: 4e10, allThreads: 7e10)]
        #expect(same(p.cpu.numbers, walked(p.cpu, "")), "\(p.cpu.numbers.map(\.0)) against \(walked(p.cpu, "").map(\.0))")
        #expect(same(p.gpu!.numbers, walked(p.gpu!, "")), "\(p.gpu!.numbers.map(\.0)) against \(walked(p.gpu!, "").map(\.0))")
        p.cpu.cacheBandwidth[1].maxBytes = -1
        #expect(p.validationProblem?.contains("cpu.cacheBandwidth.?.maxBytes = -1") == true, "\(p.validationProblem ?? "nil")")
    }

    @Test("a process finding a profile with a negative rate says so once, measures again and runs correctly")
    func badProfileInAProcess() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        let dir = TestScratch.path("bad-profile-\(UInt32.random(in: 0...UInt32.max))")
        mkdir(dir, 0o700)
        var p = MachineProfile.builtIn(identity: Calibration.identity(workers: ProcessInfoLite.cores))
        p.cpu.bandwidthOneThread = -5
        p.cpu.f64.simple = -1
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let file = dir + "/machine-profile\(Calibration.buildSuffix).json"
        try VerifiedFileCache.writeFile(file, Array(try encoder.encode(p)))
        #expect(Calibration.load(path: file, workers: ProcessInfoLite.cores) == nil)
        guard case .success(let r) = Subprocess.run(["/usr/bin/env", "TANDEM_CALIBRATE_AFTER_EXIT=0", "TANDEM_CACHE_DIR=\(dir)", bin, "run", "nbody", "n=100", "steps=3", "--check"]) else {
            Issue.record("could not start tandem")
            return
        }
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("out of range"), "\(r.output)")
        #expect(r.output.contains("pass"), "\(r.output)")
    }
}

/// Issue 17 point 4: a compiler that never returns is stopped at the time limit, said once, and
/// the program finishes correctly on the interpreter.
@Suite("Stuck compiler")
struct StuckCompilerTests {
    @Test("a compiler that hangs is killed after TANDEM_COMPILE_TIMEOUT and the run still passes its check")
    func hangingCompiler() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        let (dir, cc) = fakeCompiler("stuck", "if [ \"$1\" = --version ]; then echo 'clang version 99 (a compiler that hangs)'; exit 0; fi\nexec sleep 1000")
        func run(_ device: String) -> (Subprocess.Result, Double)? {
            let start = ProcessInfoLite.monotonicNanos()
            guard case .success(let r) = Subprocess.run(["/usr/bin/env", "TANDEM_CALIBRATE_AFTER_EXIT=0", "TANDEM_CC=\(cc)", "TANDEM_COMPILE_TIMEOUT=1", "TANDEM_CACHE_DIR=\(dir)/cache",
                                                         "TANDEM_DEVICE=\(device)", bin, "run", "nbody", "n=100", "steps=3", "--check"], timeout: 120) else {
                Issue.record("could not start tandem")
                return nil
            }
            return (r, Double(ProcessInfoLite.monotonicNanos() - start) / 1e9)
        }
        // Forced onto compiled code: the compile is stopped and the run fails with the reason.
        guard let (forced, forcedSeconds) = run("cpu") else { return }
        #expect(!forced.timedOut, "tandem itself hung behind the compiler")
        #expect(forced.status != 0 && forced.output.contains("did not finish within"), "\(forced.output)")
        #expect(forcedSeconds < 60, "took \(forcedSeconds) s")
        // Under auto: whatever it chose to compile is stopped, and the run passes on the interpreter.
        guard let (auto, autoSeconds) = run("auto") else { return }
        #expect(!auto.timedOut, "tandem itself hung behind the compiler")
        #expect(auto.status == 0 && auto.output.contains("pass"), "\(auto.output)")
        #expect(autoSeconds < 60, "took \(autoSeconds) s")
        // No compiler left running once the limits have passed: compiles handed on at exit
        // (kernels that ran long in the interpreter) run one after the other, each stopped at
        // the limit (1 s here, at most eight of them).
        var running = "?"
        for _ in 0..<60 where running != "0" {
            guard case .success(let ps) = Subprocess.run(["/bin/sh", "-c", "ps -eo args | grep -c '^sleep 1000$' || true"]) else { return }
            running = ps.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if running != "0" { usleep(500_000) }
        }
        #expect(running == "0", "a stuck compiler was left running")
    }
}

/// A loop nest whose program the compiler refuses runs as array kernels: said, counted, correct.
@Suite("Loop programs a compiler refuses")
struct RefusedLoopProgramTests {
    @Test("a compiler that refuses loop programs: the nests run as array kernels, the refusal is said once and counted, the values pass")
    func refusedLoopProgram() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        guard case .success(let real) = CPUToolchain.find() else { return }      // no compiler: nothing to refuse
        // Compiles every kernel but a loop program (the only C with a thread barrier).
        let (dir, cc) = fakeCompiler("refused", "for a in \"$@\"; do case \"$a\" in *.c) if grep -q tk_barrier \"$a\"; then echo 'refused: a loop program' >&2; exit 1; fi;; esac; done\nexec \(Subprocess.shellQuoted(real.path)) \"$@\"")
        guard case .success(let r) = Subprocess.run(["/usr/bin/env", "TANDEM_CALIBRATE_AFTER_EXIT=0", "TANDEM_CC=\(cc)", "TANDEM_CACHE_DIR=\(dir)/cache",
                                                     "TANDEM_LOOP_PROGRAMS=always", bin, "polybench", "--kernels", "lu,trisolv", "--size", "mini", "--repeats", "1", "--check", "--json"],
                                                    timeout: 300) else {
            Issue.record("could not start tandem")
            return
        }
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.components(separatedBy: "could not be compiled as a loop").count == 2, "said once: \(r.output)")
        // One JSON row per kernel: `{"arrays": 2, "check": "pass", ...}`.
        func field(_ row: Substring, _ key: String) -> String {
            guard let at = row.range(of: "\"\(key)\": ") else { return "" }
            return String(row[at.upperBound...].prefix { $0 != "," && $0 != "}" })
        }
        for kernel in ["lu", "trisolv"] {
            let row = r.output.split(separator: "{").first { $0.contains("\"kernel\": \"\(kernel)\"") } ?? ""
            #expect(field(row, "check") == "\"pass\"", "\(row)")
            #expect(Double(field(row, "compiled")) == 0 && (Double(field(row, "not_compiled")) ?? 0) >= 1, "\(row)")
        }
    }
}

/// Issue 17 point 3: the key names the compiler binary, and leftovers of dead writers go.
@Suite("Cache keys and leftovers")
struct CacheKeyTests {
    @Test("a wrapper printing clang's banner gets other keys than clang itself")
    func wrapperHasItsOwnKeys() throws {
        let clang = try CPUToolchain.find().get()
        let (_, wrapper) = fakeCompiler("wrapper", "exec \(Subprocess.shellQuoted(clang.path)) \"$@\"")
        let disguised = CPUToolchain(path: wrapper, identity: clang.identity)
        #expect(disguised.fingerprint != clang.fingerprint)
        #expect(CPUKernelCache.key(source: "int x;", toolchain: disguised) != CPUKernelCache.key(source: "int x;", toolchain: clang))
        // The fingerprint is stable (remembered in the cache folder, checked against the binary's stat).
        #expect(CPUToolchain.computeFingerprint(clang.path) == clang.fingerprint)
    }

    @Test("two NVRTC libraries reporting the same version get CUBIN keys of their own")
    func nvrtcKeyNamesTheLibrary() throws {
        let dir = TestScratch.path("nvrtc-\(UInt32.random(in: 0...UInt32.max))")
        mkdir(dir, 0o700)
        let (one, other) = (dir + "/libnvrtc.so.12", dir + "/libnvrtc-copy.so.12")
        #expect(ProcessInfoLite.write(Array("one library".utf8), to: one))
        #expect(ProcessInfoLite.write(Array("another library".utf8), to: other))
        let a = NVRTC.cacheIdentity(version: (12, 9), path: one), b = NVRTC.cacheIdentity(version: (12, 9), path: other)
        #expect(a != b)
        #expect(a.hasPrefix("NVRTC 12.9 ") && a.contains(one))
        #expect(CUDAKernelCache.key(source: "k", nvrtc: a, architecture: "sm_90") != CUDAKernelCache.key(source: "k", nvrtc: b, architecture: "sm_90"))
        // The same library is named the same way (remembered, checked against its stat).
        #expect(NVRTC.cacheIdentity(version: (12, 9), path: one) == a)
    }

    @Test("temporary files of a dead writer, older than the limit, are removed; a live one's are kept")
    func leftovers() throws {
        let files = VerifiedFileCache(root: TestScratch.path("leftovers-\(UInt32.random(in: 0...UInt32.max))"), subfolder: "cpu", suffix: ".so")
        try files.ensureFolders()
        let dead = files.folder + "/.\(String(repeating: "d", count: 64)).4194303.77.so"
        let live = files.folder + "/.\(String(repeating: "e", count: 64)).\(getpid()).78.so"
        let fresh = files.folder + "/.\(String(repeating: "f", count: 64)).4194303.79.so"
        for p in [dead, live, fresh] { try VerifiedFileCache.writeFile(p, [1, 2, 3]) }
        var old = [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]
        #expect(utimes(dead, &old) == 0 && utimes(live, &old) == 0)
        files.removeLeftovers()
        #expect(access(dead, F_OK) != 0, "a dead writer's old file was kept")
        #expect(access(live, F_OK) == 0, "a live writer's file was removed")
        #expect(access(fresh, F_OK) == 0, "a recent file was removed")
    }

    @Test("a folder is swept of leftovers at most once every sweepInterval seconds, by any process; the stamp is not a leftover")
    func sweepRateLimited() throws {
        let files = VerifiedFileCache(root: TestScratch.path("sweep-\(UInt32.random(in: 0...UInt32.max))"), subfolder: "cpu", suffix: ".so")
        try VerifiedFileCache.ensurePrivateDirectory(files.root)
        try VerifiedFileCache.ensurePrivateDirectory(files.folder)
        #expect(VerifiedFileCache.sweepDue(files.folder))
        #expect(!VerifiedFileCache.sweepDue(files.folder), "swept twice within the interval")
        let stamp = files.folder + "/.swept"
        var old = [timeval(tv_sec: time(nil) - VerifiedFileCache.sweepInterval - 5, tv_usec: 0), timeval(tv_sec: time(nil) - VerifiedFileCache.sweepInterval - 5, tv_usec: 0)]
        #expect(utimes(stamp, &old) == 0)
        #expect(VerifiedFileCache.sweepDue(files.folder), "an old stamp did not let the sweep run")
        #expect(!VerifiedFileCache.sweepDue(files.folder))
        files.removeLeftovers()
        #expect(access(stamp, F_OK) == 0, "the stamp was removed as a leftover")
    }

    @Test("a process killed while its compiler runs leaves nothing in /tmp")
    func nothingLeftInTmpWhenKilled() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        // A compiler that answers --version and then takes 4 s over every compile.
        let (dir, cc) = fakeCompiler("killed", "if [ \"$1\" = --version ]; then echo 'clang version 99 (a slow compiler)'; exit 0; fi\nexec sleep 4")
        func outputFiles() -> Set<String> {
            var names: Set<String> = []
            ProcessInfoLite.forEachEntry(in: "/tmp") {
                if $0.hasPrefix("tandem-out-") { names.insert($0) }
                return true
            }
            return names
        }
        let before = outputFiles()
        let q = Subprocess.shellQuoted
        let line = "env TANDEM_CALIBRATE_AFTER_EXIT=0 TANDEM_CC=\(q(cc)) TANDEM_CACHE_DIR=\(q(dir + "/cache")) TANDEM_DEVICE=cpu \(q(bin)) run nbody n=100 steps=3 >/dev/null 2>&1 & p=$!; sleep 2; kill -9 $p; wait $p"
        guard case .success = Subprocess.run(["/bin/sh", "-c", line], timeout: 60) else {
            Issue.record("could not start tandem")
            return
        }
        // Files another test's compile holds for a moment are gone a moment later.
        usleep(500_000)
        let left = outputFiles().subtracting(before).filter { access("/tmp/" + $0, F_OK) == 0 }
        usleep(500_000)
        let stayed = left.filter { access("/tmp/" + $0, F_OK) == 0 }
        #expect(stayed.isEmpty, "left in /tmp: \(stayed.sorted())")
    }
}

/// Issue 17 point 8: a cache folder the user cannot write (a shared or read-only mount) is said
/// once under `auto`, counted as a fallback, and the program runs correctly on the interpreter.
@Suite("Read-only cache")
struct ReadOnlyCacheTests {
    @Test("a read-only cache under auto is said once, counted as a fallback, and the run passes its check", arguments: [false, true])
    func readOnlyCache(withDeviceFolder: Bool) throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        // Outside the tests' private scratch folder: as root the program runs as `nobody`
        // (permissions do not stop root's writes), which must reach the folder.
        var template = Array("/tmp/tandem-ro-XXXXXX".utf8CString)
        let dir = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { TestScratch.removeTree(dir) }
        let cache = dir + "/cache"
        mkdir(cache, 0o700)
        if withDeviceFolder { mkdir(cache + "/cpu", 0o700) }
        var prefix = ["/usr/bin/env"]
        if geteuid() == 0 {
            let nobody: uid_t = 65534
            try #require(access("/usr/bin/setpriv", X_OK) == 0, "running as root without setpriv: a read-only cache cannot be made")
            for path in [dir, cache, cache + "/cpu"] { chown(path, nobody, gid_t(nobody)) }
            prefix = ["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "/usr/bin/env"]
        }
        if withDeviceFolder { chmod(cache + "/cpu", 0o500) }
        chmod(cache, 0o500)
        chmod(dir, 0o755)
        let command = prefix + ["HOME=\(dir)", "TANDEM_CALIBRATE_AFTER_EXIT=0", "TANDEM_CACHE_DIR=\(cache)", "TANDEM_DEVICE=auto", "TANDEM_PROFILE=1",
                                bin, "run", "sor", "n=30", "epsilon=0.001", "max_iterations=1000", "--check"]
        guard case .success(let r) = Subprocess.run(command, timeout: 300) else {
            Issue.record("could not start tandem")
            return
        }
        #expect(r.status == 0 && r.output.contains("check: pass"), "\(r.output)")
        let said = r.output.components(separatedBy: "compiled code is unavailable").count - 1
        #expect(said == 1, "said \(said) times: \(r.output)")
        // The reason names the folder and the system's cause, not a temporary file.
        let reason = withDeviceFolder ? "\(cache)/cpu: the cache folder is not writable (Permission denied)" : "\(cache)/cpu: cannot create the cache folder: Permission denied"
        #expect(r.output.contains(reason), "\(r.output)")
        let fallbacks = r.output.components(separatedBy: "fallbacks ").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
        #expect((fallbacks ?? 0) >= 1, "\(r.output)")
        #expect(!r.output.contains("Program crashed"), "\(r.output)")
    }
}

/// A fresh scratch folder (`<name>-<random>`) holding `cc`, an executable shell script with
/// `body` after its `#!/bin/sh` line: a compiler that misbehaves as a test needs.
func fakeCompiler(_ name: String, _ body: String) -> (dir: String, cc: String) {
    let dir = TestScratch.path("\(name)-\(UInt32.random(in: 0...UInt32.max))")
    mkdir(dir, 0o700)
    let cc = dir + "/cc"
    #expect(ProcessInfoLite.write(Array("#!/bin/sh\n\(body)\n".utf8), to: cc))
    chmod(cc, 0o700)
    return (dir, cc)
}
