#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TandemCompiler
import TandemRuntime

/// Compiled kernels in memory and on disk, keyed by SHA-256 of (source, compiler identity, the
/// compiler binary's path and hash, flags, CPU identity), so a second run of a program compiles nothing.
///
/// The disk side is a `VerifiedFileCache` (`cpu/` under the cache root): an entry is loaded only
/// from a private folder, owned by the user, with the SHA-256 recorded when it was built.
/// Anything else is rebuilt (and counted as rejected), never loaded.
public final class CPUKernelCache: Sendable {
    public let directory: String
    let files: VerifiedFileCache
    private let loaded = Mutex<[String: LoadedLibrary]>([:])

    public init(directory: String? = nil) {
        self.directory = directory ?? VerifiedFileCache.defaultRoot
        self.files = VerifiedFileCache(root: self.directory, subfolder: "cpu", suffix: ".so")
    }

    public static func key(source: String, toolchain: CPUToolchain) -> String {
        key(source: source, toolchain: toolchain, fingerprint: toolchain.fingerprint)
    }

    static func key(source: String, toolchain: CPUToolchain, fingerprint: String) -> String {
        VerifiedFileCache.key([source, toolchain.identity, fingerprint, toolchain.flags.joined(separator: " "), CPUIdentity.current],
                              prefix: preamble)
    }

    /// The C preamble every rendered kernel begins with, its hash computed once a process.
    static let preamble = VerifiedFileCache.KeyPrefix(CRenderer.cPreamble)

    public func entryPath(_ key: String) -> String { files.entryPath(key) }

    /// Forgets loaded libraries (the disk stays), so the next lookup goes to disk.
    public func dropMemory() { loaded.withLock { $0.removeAll() } }

    /// Whether `library(source:...)` would find the code loaded, on disk, or compile it (for the
    /// cost model; the disk entry is verified only when it is loaded). While the compiler binary
    /// is still being hashed (a first run on this machine) nothing can be stored under its key:
    /// missing, without waiting for the hash.
    public func state(source: String, toolchain: CPUToolchain) -> CodeState {
        guard let fingerprint = toolchain.fingerprintIfKnown else { return .missing }
        let key = CPUKernelCache.key(source: source, toolchain: toolchain, fingerprint: fingerprint)
        if loaded.withLock({ $0[key] }) != nil { return .ready }
        return access(entryPath(key), F_OK) == 0 ? .onDisk : .missing
    }

    /// Whether a compile of `source` handed on at exit by some process is running (its marker is
    /// fresh) and its entry is not there yet.
    public func isCompilingElsewhere(source: String, toolchain: CPUToolchain) -> Bool {
        guard let fingerprint = toolchain.fingerprintIfKnown else { return false }
        let key = CPUKernelCache.key(source: source, toolchain: toolchain, fingerprint: fingerprint)
        return access(entryPath(key), F_OK) != 0 && markerIsFresh(markerPath(key))
    }

    /// Whether any compile handed on at exit is running in this cache (a fresh marker).
    public func detachedCompilesRunning() -> Bool {
        var running = false
        ProcessInfoLite.forEachEntry(in: files.folder) { name in
            running = name.hasPrefix(".") && name.hasSuffix(".detached") && markerIsFresh(files.folder + "/" + name)
            return !running
        }
        return running
    }

    /// Compiles `sources` into the cache in a shell that outlives this process, with the steps of
    /// `library` and `VerifiedFileCache.store`: the compiler's output (under the compile time
    /// limit) made private, its SHA-256 recorded beside it, both renamed into place; nothing is
    /// loaded. For background compiles unfinished at exit: the next run finds the kernel on
    /// disk instead of interpreting it again (asian_option's 1.1 s compiles never finished
    /// inside its 0.7 s runs). The kernels compile in one compiler run
    /// (`CRenderer.translationUnit`; its object stored under each kernel's key, as
    /// `libraries` does), or, when they cannot (a source that is not a rendered kernel, no
    /// `ln`), one after the other in the order given: eight compiles started at once at exit
    /// shared two cores with each other and with the next run, and every one of them finished
    /// late. Each kernel's marker is touched when its compile starts. Returns how many were
    /// handed on: none when the folder is not usable, the compiler was stopped, or `sh`,
    /// `sha256sum`, `cut` or `timeout` are missing; a kernel whose entry exists, or that
    /// another process is compiling, is skipped.
    ///
    /// Called at exit: a compiler not yet hashed (its hash runs at the lowest priority beside the
    /// program) is hashed now, while the cores are free.
    func finishDetached(sources: [String], toolchain: CPUToolchain) -> Int {
        guard CPUToolchain.stalled.withLock({ $0 }) == nil else { return 0 }
        BinaryFingerprint.finish(toolchain.path, waiting: CPUKernelCache.hashTakeOverSeconds)
        let fingerprint = toolchain.fingerprint
        guard let sha = ProcessInfoLite.executable("sha256sum"), let cut = ProcessInfoLite.executable("cut"),
              let timeout = ProcessInfoLite.executable("timeout"), access("/bin/sh", X_OK) == 0,
              (try? files.ensureWritable()) != nil else { return 0 }
        let touch = ProcessInfoLite.executable("touch")
        let q = Subprocess.shellQuoted
        // At the lowest priority: the next run of the program may start at once beside it.
        let nice = ProcessInfoLite.executable("nice").map { [$0, "-n", "19"] } ?? []
        var claimed: [(source: String, key: String, marker: String)] = []
        for source in sources {
            let key = CPUKernelCache.key(source: source, toolchain: toolchain, fingerprint: fingerprint)
            guard access(entryPath(key), F_OK) != 0, !claimed.contains(where: { $0.key == key }) else { continue }
            // One detached compile of a kernel at a time, whichever process starts it: a program
            // run ten times in a row would otherwise compile its pending kernels ten times at
            // once. The marker is removed when the compile ends; one older than the compile's
            // time limit is a leftover (a killed shell) and is taken over.
            let marker = markerPath(key)
            guard ProcessInfoLite.claimMarker(marker, staleAfter: CPUKernelCache.markerLifetime) else { continue }
            claimed.append((source, key, marker))
        }
        guard !claimed.isEmpty else { return 0 }
        func release() { for c in claimed { unlink(c.marker) } }
        func compile(_ tmp: String) -> String {
            (nice + [timeout, String(Int(CPUToolchain.compileTimeout))] + toolchain.arguments(sourcePath: tmp + ".c", outputPath: tmp + ".so")).map(q).joined(separator: " ")
        }
        let hashed = "chmod 700 \"$T.so\" && h=$(\(q(sha)) \"$T.so\" | \(q(cut)) -c1-64) && [ ${#h} -eq 64 ]"
        var tmps: [String] = []
        var steps: [String] = []
        let ln = ProcessInfoLite.executable("ln")
        let unit = claimed.count > 1 && ln != nil
            ? CRenderer.translationUnit(claimed.map { ($0.source, CPUKernelCache.batchEntry(source: $0.source)) }) : nil
        if let unit, let ln {
            let tmp = "\(files.folder)/.batch.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
            guard (try? VerifiedFileCache.writeFile(tmp + ".c", Array(unit.utf8))) != nil else { release(); return 0 }
            tmps.append(tmp)
            // Each key: its hash record, then a link to the one object, renamed into place.
            let store = claimed.map { c in
                "printf %s \"$h\" > \"$T.sha\" && mv -f \"$T.sha\" \(q(files.hashPath(c.key))) && \(q(ln)) -f \"$T.so\" \"$T.l\" && mv -f \"$T.l\" \(q(entryPath(c.key)))"
            }.joined(separator: "; ")
            let markers = claimed.map { q($0.marker) }.joined(separator: " ")
            steps.append("T=\(q(tmp)); " + (touch.map { "\(q($0)) \(markers); " } ?? "") + "\(compile(tmp)) >/dev/null 2>&1 && \(hashed) && { \(store); }; "
                + "rm -f \"$T.c\" \"$T.so\" \"$T.sha\" \"$T.l\" \(markers)")
        } else {
            for c in claimed {
                let tmp = "\(files.folder)/.\(c.key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
                guard (try? VerifiedFileCache.writeFile(tmp + ".c", Array(c.source.utf8))) != nil else { unlink(c.marker); continue }
                tmps.append(tmp)
                steps.append("T=\(q(tmp)); " + (touch.map { "\(q($0)) \(q(c.marker)); " } ?? "") + "\(compile(tmp)) >/dev/null 2>&1 && \(hashed) && "
                    + "printf %s \"$h\" > \"$T.sha\" && mv -f \"$T.sha\" \(q(files.hashPath(c.key))) && mv -f \"$T.so\" \(q(entryPath(c.key))); "
                    + "rm -f \"$T.c\" \"$T.so\" \"$T.sha\" \(q(c.marker))")
            }
        }
        guard !steps.isEmpty else { return 0 }
        guard Subprocess.spawnDetached(script: "umask 077; " + steps.joined(separator: "; ")) else {
            for t in tmps { unlink(t + ".c") }
            release()
            return 0
        }
        return unit != nil ? claimed.count : steps.count
    }

    /// Compiles `source` into the shared object at `obj` (its C file beside it, removed after).
    static func compile(_ source: String, toolchain: CPUToolchain, into obj: String) throws {
        let src = obj + ".c"
        defer { unlink(src) }
        try VerifiedFileCache.writeFile(src, Array(source.utf8))
        let (ok, log) = toolchain.compile(sourcePath: src, outputPath: obj)
        guard ok else { throw TandemError.compileFailed(compiler: toolchain.path, log: log, source: source) }
    }

    /// The name of the kernel rendered as `source`'s entry point inside a batch
    /// (`CRenderer.translationUnit`): `tk_` and 32 hex digits of the source's SHA-256, so a
    /// loader finds a kernel's functions from its source alone, whichever batch compiled it.
    static func batchEntry(source: String) -> String {
        "tk_" + VerifiedFileCache.key([source], prefix: preamble).prefix(32)
    }

    /// The libraries for several kernels' sources (`instructions`: each one's `compileWeight`).
    /// Those neither loaded nor on disk nor being compiled by another process are compiled
    /// together, in one compiler run (`CRenderer.translationUnit`), and the one shared object is
    /// stored under each kernel's key (hard links: one file, mapped once); the rest, and every
    /// kernel again alone when the batch fails to compile (so a failure names its kernel and
    /// the others still compile), go through `library`. The results are in the order given.
    func libraries(_ items: [(source: String, instructions: Int)], toolchain: CPUToolchain,
                   statistics: StatisticsBox) -> [Result<LoadedLibrary, any Error>] {
        var results = [Result<LoadedLibrary, any Error>?](repeating: nil, count: items.count)
        var batch: [Int] = []
        let fingerprint = toolchain.fingerprintIfKnown
        for (i, item) in items.enumerated() {
            if let fingerprint {
                let key = CPUKernelCache.key(source: item.source, toolchain: toolchain, fingerprint: fingerprint)
                if loaded.withLock({ $0[key] }) != nil || access(entryPath(key), F_OK) == 0 || markerIsFresh(markerPath(key)) { continue }
            }
            if !batch.contains(where: { items[$0].source == item.source }) { batch.append(i) }
        }
        if batch.count > 1 {
            let names = batch.map { CPUKernelCache.batchEntry(source: items[$0].source) }
            if let unit = CRenderer.translationUnit(zip(batch, names).map { (items[$0].source, $1) }),
               let libs = try? compileBatch(unit, sources: batch.map { items[$0].source }, names: names,
                                            instructions: batch.reduce(0) { $0 + items[$1].instructions },
                                            toolchain: toolchain, statistics: statistics) {
                for (j, i) in batch.enumerated() { results[i] = .success(libs[j]) }
            }
        }
        return items.indices.map { i in
            results[i] ?? Result { try library(source: items[i].source, toolchain: toolchain, statistics: statistics, instructions: items[i].instructions) }
        }
    }

    /// Compiles `unit` (the kernels rendered as `sources`, their entry points renamed to
    /// `names`) once and stores the shared object under each source's key; returns the loaded
    /// libraries in order. Counted as one compiler run of the kernels' summed weight (the
    /// compile rate's fixed part is paid once) and as a miss per kernel.
    private func compileBatch(_ unit: String, sources: [String], names: [String], instructions: Int,
                              toolchain: CPUToolchain, statistics: StatisticsBox) throws -> [LoadedLibrary] {
        try files.ensureWritable()
        // Named like the other temporaries (`.<name>.<pid>.<n>`): the leftover sweep removes it
        // if this process dies before it does.
        let tmp = "\(files.folder)/.batch.\(getpid()).\(UInt64.random(in: 0...UInt64.max)).so"
        var keep = false
        defer { if !keep { unlink(tmp) } }
        let start = ProcessInfoLite.monotonicNanos()
        try CPUKernelCache.compile(unit, toolchain: toolchain, into: tmp)
        let elapsed = ProcessInfoLite.monotonicNanos() - start
        guard chmod(tmp, 0o700) == 0 else {
            throw TandemError.fileFailed(path: tmp, reason: "cannot make the compiled kernels private: \(ProcessInfoLite.errnoDescription())")
        }
        let what = "compile (\(sources.count) kernels in one unit)"
        if toolchain.fingerprintIfKnown == nil {
            // Still hashing (a first run on this machine): loaded from the temporary now, stored
            // under the keys once the hash is there (`storeWhenHashed`).
            let libs = try names.map { name in try LoadedLibrary(unstoredAt: tmp, batchEntry: { name }) }
            counted(compiles: 1, kernels: sources.count, nanos: elapsed, weight: instructions, start: start, statistics: statistics,
                    name: what, detail: "miss, batch of \(sources.count), stored once the compiler is hashed")
            keep = true
            storeWhenHashed(tmp, sources: sources, libraries: libs, toolchain: toolchain)
            return libs
        }
        var libs: [LoadedLibrary] = []
        for (source, name) in zip(sources, names) {
            // Waits for the compiler's hash on a first run (the compile above ran beside it).
            let key = CPUKernelCache.key(source: source, toolchain: toolchain)
            if let lib = loaded.withLock({ $0[key] }) { libs.append(lib); continue }
            let path = try store(tmp, as: key)
            guard case .hit(let entry) = files.open(key) else {
                throw TandemError.loadFailed(path: path, reason: "the entry just compiled did not verify")
            }
            let lib = try LoadedLibrary(entry, batchEntry: { name })
            loaded.withLock { $0[key] = lib }
            libs.append(lib)
        }
        counted(compiles: 1, kernels: sources.count, nanos: elapsed, weight: instructions, start: start, statistics: statistics,
                name: what, detail: "miss, batch of \(sources.count)")
        return libs
    }

    /// The marker of a compile handed on at exit (`finishDetached`).
    func markerPath(_ key: String) -> String { "\(files.folder)/.\(key).detached" }

    /// Whether the marker at `path` exists and is younger than twice the compile's limit (older:
    /// a leftover of a shell that was killed).
    func markerIsFresh(_ path: String) -> Bool {
        ProcessInfoLite.age(of: path).map { $0 <= CPUKernelCache.markerLifetime } ?? false
    }

    /// Seconds a detached compile's marker stays fresh: twice the compile's limit, and a margin.
    static var markerLifetime: Int { Int(2 * CPUToolchain.compileTimeout) + 10 }

    /// Waits while a compile of `key` handed on at exit by an earlier process is running (its
    /// marker is fresh), up to the compile's limit: compiling it here too would only share the
    /// cores with it (asian_option's second run, started while the first run's compiles were
    /// still running: 2.4-2.8 s waiting, 4.2 s compiling again beside them). A sync that waits
    /// here leaves the cores to that compile, low priority as it is. Returns whether it waited.
    func awaitDetached(_ key: String) -> Bool {
        let marker = markerPath(key)
        let deadline = ProcessInfoLite.monotonicNanos() + UInt64(CPUToolchain.compileTimeout * 1e9)
        var waited = false
        while markerIsFresh(marker) && ProcessInfoLite.monotonicNanos() < deadline {
            waited = true
            usleep(10_000)
        }
        return waited
    }

    /// Compiles `source` outside the cache and loads it once, returning both times in seconds
    /// (the calibrator measures the compiler this way; nothing is kept).
    public func measureCompile(source: String, toolchain: CPUToolchain) throws -> (compile: Double, load: Double) {
        try files.ensureWritable()
        let tmp = "\(files.folder)/.calibrate.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let src = tmp + ".c", obj = tmp + ".so"
        defer { unlink(src); unlink(obj) }
        try VerifiedFileCache.writeFile(src, Array(source.utf8))
        let t0 = ProcessInfoLite.monotonicNanos()
        let (ok, log) = toolchain.compile(sourcePath: src, outputPath: obj)
        guard ok else { throw TandemError.compileFailed(compiler: toolchain.path, log: log, source: source) }
        let t1 = ProcessInfoLite.monotonicNanos()
        guard let handle = dlopen(obj, RTLD_NOW | RTLD_LOCAL) else {
            throw TandemError.loadFailed(path: obj, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        let t2 = ProcessInfoLite.monotonicNanos()
        dlclose(handle)
        return (Double(t1 - t0) / 1e9, Double(t2 - t1) / 1e9)
    }

    /// The library for `source`, from memory, from a verified disk entry, or compiled now.
    /// `instructions`: the kernel's `compileWeight`, counted with the compile's time.
    func library(source: String, toolchain: CPUToolchain, statistics: StatisticsBox, instructions: Int = 0) throws -> LoadedLibrary {
        // While the compiler binary is still being hashed (a first run on this machine), nothing
        // can be looked up or stored under its key: the kernel is compiled at once into a private
        // temporary beside the entries, and stored under its key once the hash is known, so the
        // hash and the compile share the cores instead of the compile waiting for the hash
        // (0.15-0.6 s for a 167 MB clang, the whole first stretch of a first run's compiles).
        var early: (path: String, start: UInt64, nanos: UInt64)? = nil
        if toolchain.fingerprintIfKnown == nil {
            try files.ensureWritable()
            let tmp = "\(files.folder)/.early.\(getpid()).\(UInt64.random(in: 0...UInt64.max)).so"
            let t0 = ProcessInfoLite.monotonicNanos()
            do {
                try CPUKernelCache.compile(source, toolchain: toolchain, into: tmp)
            } catch {
                unlink(tmp)
                throw error
            }
            let nanos = ProcessInfoLite.monotonicNanos() - t0
            if toolchain.fingerprintIfKnown == nil {
                // Still hashing: the code runs now, from the temporary, and is stored under its
                // key when the hash is there (waiting for it here kept life's first compiled
                // kernel 100 ms from its first run).
                let lib: LoadedLibrary
                do { lib = try LoadedLibrary(unstoredAt: tmp) } catch { unlink(tmp); throw error }
                counted(compiles: 1, kernels: 1, nanos: nanos, weight: instructions, start: t0, statistics: statistics, name: "compile", detail: "miss, stored once the compiler is hashed")
                storeWhenHashed(tmp, sources: [source], libraries: [lib], toolchain: toolchain)
                return lib
            }
            early = (tmp, t0, nanos)
        }
        defer { if let early { unlink(early.path) } }
        let key = CPUKernelCache.key(source: source, toolchain: toolchain)
        if let lib = loaded.withLock({ $0[key] }) {
            statistics.update { $0.compileMemoryHits += 1 }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (memory hit)", start: ProcessInfoLite.monotonicNanos(), detail: "memory"))
            return lib
        }
        try files.ensureFolders()
        switch files.open(key) {
        case .hit(let entry):
            if let lib = try? LoadedLibrary(entry, batchEntry: { CPUKernelCache.batchEntry(source: source) }) {
                statistics.update { $0.compileDiskHits += 1 }
                Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (disk hit)", start: ProcessInfoLite.monotonicNanos(), detail: "disk"))
                loaded.withLock { $0[key] = lib }
                return lib
            }
            statistics.update { $0.cacheRejected += 1 }
        case .rejected(let reason):
            statistics.update { $0.cacheRejected += 1 }
            Tracer.shared.record(TraceEvent(kind: .compile, name: "cache entry rejected", start: ProcessInfoLite.monotonicNanos(), detail: reason))
        case .miss:
            // Another process may be compiling it already (handed on at its exit).
            if early == nil, awaitDetached(key), case .hit(let entry) = files.open(key), let lib = try? LoadedLibrary(entry, batchEntry: { CPUKernelCache.batchEntry(source: source) }) {
                statistics.update { $0.compileDiskHits += 1 }
                Tracer.shared.record(TraceEvent(kind: .compile, name: "compile (disk hit)", start: ProcessInfoLite.monotonicNanos(),
                                                detail: "disk, compiled by an earlier process after its exit"))
                loaded.withLock { $0[key] = lib }
                return lib
            }
        }
        let start = early?.start ?? ProcessInfoLite.monotonicNanos()
        let path = try files.store(key) { obj in
            if let early {
                guard rename(early.path, obj) == 0 else {
                    throw TandemError.fileFailed(path: obj, reason: "could not move the compiled kernel: \(ProcessInfoLite.errnoDescription())")
                }
            } else {
                try CPUKernelCache.compile(source, toolchain: toolchain, into: obj)
            }
        }
        // Loaded through the verified descriptor, like a disk hit.
        guard case .hit(let entry) = files.open(key) else {
            throw TandemError.loadFailed(path: path, reason: "the entry just compiled did not verify")
        }
        let lib = try LoadedLibrary(entry)
        // The compile's own time (not the wait for the hash): it sets the compile rate.
        let elapsed = early?.nanos ?? ProcessInfoLite.monotonicNanos() - start
        counted(compiles: 1, kernels: 1, nanos: elapsed, weight: instructions, start: start, statistics: statistics, name: "compile", detail: "miss \(key.prefix(12))")
        loaded.withLock { $0[key] = lib }
        return lib
    }

    /// Counts `compiles` compiler runs that compiled `kernels` kernels of summed `weight` in
    /// `nanos` (they set the compile rate: `Runtime.measuredCompileRate`), and traces them.
    private func counted(compiles: Int, kernels: Int, nanos: UInt64, weight: Int, start: UInt64, statistics: StatisticsBox,
                         name: String, detail: String) {
        statistics.update {
            $0.compileMisses += kernels
            $0.compileNanos += nanos
            $0.cpuCompiles += compiles
            $0.cpuCompileNanos += nanos
            $0.cpuCompileWeight += weight
        }
        Tracer.shared.record(TraceEvent(kind: .compile, name: name, start: start, duration: nanos, detail: detail))
    }

    /// Stores the object at `tmp` (compiled from `sources`, loaded as `libraries`, before the
    /// compiler's hash was known) under each source's key once the hash is there, on a thread
    /// of its own, then removes the temporary; the next run finds the kernels on disk. The hash
    /// runs at the lowest priority beside the program, so a short program usually exits first:
    /// exit then waits for these stores (`awaitStoresAtExit`, at most `exitWaitSeconds`), the
    /// hash finishing on the cores the program has left. A process killed first leaves the
    /// temporary to the leftover sweep (and the next run compiles them again).
    private func storeWhenHashed(_ tmp: String, sources: [String], libraries: [LoadedLibrary], toolchain: CPUToolchain) {
        unstored.add(1, ordering: .relaxed)
        CPUKernelCache.unstoredAnywhere.add(1, ordering: .relaxed)
        CPUKernelCache.hashesAwaited.withLock { _ = $0.insert(toolchain.path) }
        _ = CPUKernelCache.exitWait
        let store: @Sendable () -> Void = { [self] in
            defer {
                unstored.subtract(1, ordering: .relaxed)
                CPUKernelCache.unstoredAnywhere.subtract(1, ordering: .relaxed)
            }
            // Waits for the hash without starting one: `ifKnown` started it on the side, and
            // an exit finishes it (`awaitStoresAtExit`). Hashing here, at normal priority right
            // after the first compile, took the cores the program's first kernels need.
            let fingerprint = BinaryFingerprint.whenKnown(toolchain.path)
            for (source, lib) in zip(sources, libraries) {
                let key = CPUKernelCache.key(source: source, toolchain: toolchain, fingerprint: fingerprint)
                if access(entryPath(key), F_OK) != 0 { _ = try? self.store(tmp, as: key) }
                loaded.withLock { if $0[key] == nil { $0[key] = lib } }
            }
            unlink(tmp)
        }
        if !startBackgroundThread(niceness: nil, store) { store() }
    }

    /// Stores the object at `tmp` (a batch's, or one compiled before the compiler was hashed)
    /// as the entry for `key`: a hard link, so every kernel of a batch is one file (a copy
    /// where the folder's file system cannot link). Returns the entry's path.
    private func store(_ tmp: String, as key: String) throws -> String {
        try files.store(key) { obj in
            if link(tmp, obj) != 0 { try VerifiedFileCache.writeFile(obj, try VerifiedFileCache.readFile(tmp)) }
        }
    }

    /// Objects compiled before the compiler's hash was known and not stored yet.
    private let unstored = Atomic<Int>(0)

    /// Waits until every object compiled before the compiler's hash was known is stored under
    /// its keys, hashing the compilers awaited as an exit does (tests).
    func awaitStores() {
        for path in CPUKernelCache.hashesAwaited.withLock({ $0 }) { BinaryFingerprint.finish(path, waiting: CPUKernelCache.hashTakeOverSeconds) }
        while unstored.load(ordering: .relaxed) > 0 { usleep(1_000) }
    }

    /// Objects of any cache waiting for the compiler's hash to be stored.
    private static let unstoredAnywhere = Atomic<Int>(0)

    /// The longest an exiting process waits for its objects to be stored (the hash of a compiler
    /// takes a fraction of a second; a slow disk must not hold the exit for long).
    static let exitWaitSeconds = 10.0

    /// Registered once, at the first object that waits for the hash: at exit, waits for the
    /// stores (`storeWhenHashed`).
    private static let exitWait: Void = { atexit { CPUKernelCache.awaitStoresAtExit() } }()

    /// Compilers whose hash objects wait for (`storeWhenHashed`).
    private static let hashesAwaited = Mutex<Set<String>>([])

    /// How long an exit lets the hash at the lowest priority finish before the exiting thread
    /// hashes the compiler itself (a busy machine may give a nice-19 thread no core at all).
    static let hashTakeOverSeconds = 0.3

    /// At exit: waits up to `exitWaitSeconds` until every object compiled before the compiler's
    /// hash was known is stored (the next run finds them instead of compiling them again). The
    /// hash under way at the lowest priority gets `hashTakeOverSeconds`; then this thread
    /// hashes the compiler itself.
    static func awaitStoresAtExit() {
        guard unstoredAnywhere.load(ordering: .relaxed) > 0 else { return }
        let deadline = ProcessInfoLite.monotonicNanos() + UInt64(exitWaitSeconds * 1e9)
        for path in hashesAwaited.withLock({ $0 }) { BinaryFingerprint.finish(path, waiting: hashTakeOverSeconds) }
        while unstoredAnywhere.load(ordering: .relaxed) > 0 && ProcessInfoLite.monotonicNanos() < deadline { usleep(1_000) }
    }
}

/// The machine's CPU model and feature flags (`-march=native` code is only valid on the same CPU).
enum CPUIdentity {
    static let current: String = {
        guard let bytes = ProcessInfoLite.contents(of: "/proc/cpuinfo") else { return "unknown-cpu" }
        let text = String(decoding: bytes, as: UTF8.self)
        var model = "", flags = ""
        for line in text.split(separator: "\n") {
            if model.isEmpty && line.hasPrefix("model name") { model = String(line) }
            if flags.isEmpty && (line.hasPrefix("flags") || line.hasPrefix("Features")) { flags = String(line) }
            if !model.isEmpty && !flags.isEmpty { break }
        }
        return model + "|" + flags
    }()
}

/// A `dlopen`ed kernel library and its entry points.
final class LoadedLibrary: @unchecked Sendable {
    typealias Rows = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, Int64, Int64) -> Void
    typealias Split = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, Int64, Int64, UnsafeMutableRawPointer?) -> Void
    typealias Combine = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, UnsafeRawPointer?, Int64) -> Void

    // This is safe: the handle stays open for the life of the process-wide cache entry.
    let handle: UnsafeMutableRawPointer
    let rows: Rows?
    let split: Split?
    let combine: Combine?

    /// Loads the verified entry from its open descriptor (`/proc/self/fd/N`): the bytes that
    /// were hashed are the bytes mapped, whatever has happened to the path since. The
    /// descriptor is never closed: glibc finds loaded objects by name, and a closed number
    /// reused for another kernel would make `dlopen` return this one (libraries are never
    /// unloaded either). The soft limit on open files is raised to the hard one for that.
    ///
    /// `batchEntry`: the name the entry points have when the object was compiled in a batch
    /// (`CPUKernelCache.batchEntry(source:)`, a hash of the source), asked for only when the
    /// object has none of the plain names (a batch renames every kernel's). Objects of one
    /// batch are one file under several keys (hard links): `dlopen` maps it once and returns
    /// the same handle for each, and each kernel finds its own functions in it by name.
    convenience init(_ entry: VerifiedFileCache.OpenEntry, batchEntry: (() -> String)? = nil) throws {
        try self.init(fd: entry.fd, path: entry.path, batchEntry: batchEntry)
    }

    /// Loads the object this process just compiled at `path` (a private temporary in the cache
    /// folder, not yet stored under a key), through a descriptor like a stored entry.
    convenience init(unstoredAt path: String, batchEntry: (() -> String)? = nil) throws {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw TandemError.loadFailed(path: path, reason: ProcessInfoLite.errnoDescription()) }
        try self.init(fd: fd, path: path, batchEntry: batchEntry)
    }

    init(fd: Int32, path: String, batchEntry: (() -> String)?) throws {
        _ = LoadedLibrary.raisedFileLimit
        let name = "/proc/self/fd/\(fd)"
        guard let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            close(fd)
            throw TandemError.loadFailed(path: path, reason: why)
        }
        handle = h
        let plain = dlsym(h, CRenderer.entry) != nil || dlsym(h, CRenderer.entry + "_split") != nil
        let base = plain ? CRenderer.entry : batchEntry?() ?? CRenderer.entry
        rows = dlsym(h, base).map { unsafeBitCast($0, to: Rows.self) }
        split = dlsym(h, base + "_split").map { unsafeBitCast($0, to: Split.self) }
        combine = dlsym(h, base + "_combine").map { unsafeBitCast($0, to: Combine.self) }
        // A kernel has rows, or split and combine (`Kernel.entries`), or all three.
        guard rows != nil || (split != nil && combine != nil) else {
            throw TandemError.loadFailed(path: path, reason: "no \(base) or \(base)_split/_combine symbols")
        }
    }

    /// One descriptor stays open per loaded kernel: the soft limit goes up to the hard limit once.
    static let raisedFileLimit: Bool = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return false }
        limit.rlim_cur = limit.rlim_max
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0
    }()
}
