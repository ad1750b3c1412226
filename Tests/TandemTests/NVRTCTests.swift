import Testing
import _TandemTestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import Tandem
import TandemCompiler
import TandemCUDA
import TandemRuntime
import TandemWorkloads

/// Whether NVRTC can be loaded here (no GPU or driver needed): set `TANDEM_NVRTC` to a
/// `libnvrtc.so.12`, e.g. from `pip install nvidia-cuda-nvrtc-cu12` (see the README).
let nvrtcAvailable: Bool = (try? NVRTC.shared.get()) != nil

/// Generated CUDA C compiled to CUBIN by the real NVRTC: the golden kernels, every kernel the six
/// workloads produce, and the kernels of random differential programs. Skipped without NVRTC.
@Suite("NVRTC", .planned, .enabled(if: nvrtcAvailable), .serialized)
struct NVRTCTests {
    func compile(_ kernels: [PlanRecorder.Recorded], architecture: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let nvrtc = try NVRTC.shared.get()
        for k in kernels {
            let source = CRenderer.render(k.kernel, dialect: .cuda)
            do {
                let cubin = try nvrtc.compile(source, architecture: architecture)
                // An ELF image: what cuModuleLoadData takes.
                #expect(cubin.count > 64 && Array(cubin.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46], sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(k.label): \(error)", sourceLocation: sourceLocation)
            }
            let words = CRenderer.cudaArgumentWords(k.kernel)
            #expect((words.buffers + words.ints + words.floats) * 8 <= 4096, "\(k.label): kernel arguments exceed 4 KiB", sourceLocation: sourceLocation)
        }
    }

    @Test("the golden kernels compile for sm_80 and sm_90", arguments: ["sm_80", "sm_90"])
    func goldenKernels(architecture: String) throws {
        let kernels = recordKernels {
            var a = Tensor<Double>.zeros([6, 6])
            a[0, .all] = Tensor(1.0)
            let c = a[1..<5, 1..<5]
            let work = 0.2 * (c + a[0..<4, 1..<5] + a[2..<6, 1..<5] + a[1..<5, 0..<4] + a[1..<5, 2..<6])
            _ = Tandem.plan((work - c).abs().sum(), work)
            let v = Tensor<Double>.uniform([7, 9], seed: 3, in: -2...2)
            _ = Tandem.plan(v.argmax(axis: 1), v.erfc().sum())
            let u = Tensor<Float>.uniform([1000], seed: 5, in: -3...3)
            _ = Tandem.plan(u.erf() * 0.5 + 0.5)
        }
        #expect(kernels.count >= 4)
        try compile(kernels, architecture: architecture)
    }

    @Test("every kernel of the six workloads compiles for sm_90", arguments: ["f32", "f64"])
    func workloadKernels(dtype: String) throws {
        let sizes: [String: [String: Double]] = [
            "black_scholes": ["n": 1000, "iterations": 1], "sor": ["n": 30, "max_iterations": 20],
            "red_black_sor": ["n": 31, "iterations": 3], "shallow_water": ["n": 20, "steps": 3],
            "nbody": ["n": 100, "steps": 2], "gmm_em": ["n": 1000, "d": 3, "k": 4, "iterations": 2],
        ]
        for w in Workloads.all {
            let kernels = try recordKernels { _ = try w.run(sizes[w.name]!, dtype: dtype == "f32" ? .float32 : .float64) }
            #expect(!kernels.isEmpty, "\(w.name) planned no kernels")
            try compile(kernels, architecture: "sm_90")
        }
    }

    @Test("the kernels of random differential programs compile for sm_90")
    func randomPrograms() throws {
        var kernels: [PlanRecorder.Recorded] = []
        kernels += try recordKernels { for s in 0..<6 { _ = try Program<Double>(seed: UInt64(s)).run() } }
        kernels += try recordKernels { for s in 0..<4 { _ = try Program<Float>(seed: UInt64(1000 + s)).run() } }
        kernels += try recordKernels { for s in 0..<4 { _ = try Program<Int32>(seed: UInt64(2000 + s)).run() } }
        kernels += try recordKernels { for s in 0..<4 { _ = try Program<Int64>(seed: UInt64(3000 + s)).run() } }
        kernels += try recordKernels { for s in 0..<2 { _ = try Program<Int8>(seed: UInt64(4000 + s)).run() } }
        kernels += try recordKernels { for s in 0..<2 { _ = try Program<UInt16>(seed: UInt64(4300 + s)).run() } }
        kernels += try recordKernels { for s in 0..<2 { _ = try Program<UInt32>(seed: UInt64(4400 + s)).run() } }
        #expect(kernels.count > 20)
        try compile(kernels, architecture: "sm_90")
    }

    @Test("a failed compile throws with NVRTC's log and the source")
    func compileErrorCarriesLog() throws {
        let nvrtc = try NVRTC.shared.get()
        let source = "extern \"C\" __global__ void tandem_kernel() { undeclared_thing(); }\n"
        do {
            _ = try nvrtc.compile(source, architecture: "sm_90")
            Issue.record("expected a compile error")
        } catch let TandemError.compileFailed(compiler, log, src) {
            #expect(log.contains("undeclared_thing"))
            #expect(src == source)
            #expect(compiler.contains("NVRTC") && compiler.contains("sm_90"))
        }
    }

    @Test("CUBIN cache: memory, then a verified disk entry; a corrupted entry is rebuilt")
    func cubinCache() throws {
        let nvrtc = try NVRTC.shared.get()
        let dir = TestScratch.path("cubin-\(UInt32.random(in: 0...UInt32.max))")
        let cache = CUDAKernelCache(directory: dir), stats = StatisticsBox()
        let x = Tensor<Double>.uniform([100], seed: 9)
        let source = Tandem.generatedCUDA((x * x).sum())[0]
        let first = try cache.cubin(source: source, architecture: "sm_90", nvrtc: nvrtc, statistics: stats)
        #expect(stats.snapshot.compileMisses == 1)
        #expect(try cache.cubin(source: source, architecture: "sm_90", nvrtc: nvrtc, statistics: stats) == first)
        #expect(stats.snapshot.compileMemoryHits == 1)
        cache.dropMemory()
        #expect(try cache.cubin(source: source, architecture: "sm_90", nvrtc: nvrtc, statistics: stats) == first)
        #expect(stats.snapshot.compileDiskHits == 1 && stats.snapshot.compileMisses == 1)
        // Another architecture is another entry.
        _ = try cache.cubin(source: source, architecture: "sm_80", nvrtc: nvrtc, statistics: stats)
        #expect(stats.snapshot.compileMisses == 2)
        var st = stat()
        #expect(stat(dir + "/cuda", &st) == 0 && st.st_mode & 0o777 == 0o700)
        // Corrupt the sm_90 image: rejected, rebuilt, never returned.
        let path = cache.entryPath(CUDAKernelCache.key(source: source, nvrtc: nvrtc.cacheIdentity, architecture: "sm_90"))
        let fd = open(path, O_WRONLY)
        try #require(fd >= 0, "the sm_90 entry is not at \(path)")
        var junk: [UInt8] = Array(repeating: 0xCC, count: 32)
        _ = pwrite(fd, &junk, 32, 128)
        close(fd)
        cache.dropMemory()
        #expect(try cache.cubin(source: source, architecture: "sm_90", nvrtc: nvrtc, statistics: stats) == first)
        #expect(stats.snapshot.cacheRejected == 1 && stats.snapshot.compileMisses == 3)
    }

    @Test("an unknown architecture is an NVRTC error naming the call")
    func badArchitecture() throws {
        let nvrtc = try NVRTC.shared.get()
        #expect(throws: (any Error).self) { _ = try nvrtc.compile("extern \"C\" __global__ void k() {}\n", architecture: "sm_1") }
    }
}

/// Loading CUDA where it is absent fails cleanly: a reason naming what was tried, no crash.
@Suite("CUDA libraries", .planned)
struct CUDALibraryTests {
    @Test("a missing driver is unavailable with every path tried in the reason")
    func missingDriver() {
        let result = CUDADriver.load(candidates: ["/nonexistent/libcuda.so.1", "libtandem-no-such-cuda.so"])
        guard case .failure(let why) = result else { Issue.record("loaded a driver that does not exist"); return }
        #expect(why.reason.contains("/nonexistent/libcuda.so.1 (absent)"))
        #expect(why.reason.contains("libtandem-no-such-cuda.so (not on the loader path)"))
    }

    @Test("a library without the driver's symbols is refused, naming the missing symbol")
    func wrongLibrary() {
        let result = CUDADriver.load(candidates: ["libm.so.6"])
        guard case .failure(let why) = result else { Issue.record("libm accepted as the CUDA driver"); return }
        #expect(why.reason.contains("no symbol cuInit"))
    }

    @Test("a missing NVRTC is unavailable with a hint and the paths tried")
    func missingNVRTC() {
        guard case .failure(let why) = NVRTC.load(candidates: ["/nonexistent/libnvrtc.so.12"]) else {
            Issue.record("loaded an NVRTC that does not exist"); return
        }
        #expect(why.reason.contains("TANDEM_NVRTC") && why.reason.contains("/nonexistent/libnvrtc.so.12"))
    }

    @Test("the search list covers CUDA_HOME, /usr/local/cuda and the bare names")
    func searchList() {
        let names = CUDALibraryPaths.nvrtcCandidates()
        if ProcessInfoLite.environment("TANDEM_NVRTC") == nil {
            #expect(names.suffix(4) == ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"])
        }
        #expect(CUDALibraryPaths.driverCandidates() == ["libcuda.so.1", "libcuda.so"])
    }
}
