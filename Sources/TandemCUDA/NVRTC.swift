#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// NVRTC, the runtime CUDA C++ compiler, loaded with `dlopen` at first use. It needs no driver
/// and no GPU, so generated CUDA C is compiled to CUBIN (and checked) on any machine that has it.
///
///     let nvrtc = try NVRTC.shared.get()
///     let cubin = try nvrtc.compile(source, architecture: "sm_90")
public final class NVRTC: @unchecked Sendable {
    // This is safe: the table is written once in init and only read afterwards.
    let library: DynamicLibrary
    let nvrtcVersion: PFN_nvrtcVersion
    let nvrtcCreateProgram: PFN_nvrtcCreateProgram
    let nvrtcDestroyProgram: PFN_nvrtcDestroyProgram
    let nvrtcCompileProgram: PFN_nvrtcCompileProgram
    let nvrtcGetProgramLogSize: PFN_nvrtcGetSize
    let nvrtcGetProgramLog: PFN_nvrtcGetBytes
    let nvrtcGetCUBINSize: PFN_nvrtcGetSize
    let nvrtcGetCUBIN: PFN_nvrtcGetBytes
    let nvrtcGetErrorString: PFN_nvrtcGetErrorString
    /// (major, minor) of this NVRTC, part of every cache key.
    public let version: (major: Int, minor: Int)

    /// NVRTC for this process (`CUDALibraryPaths.nvrtcCandidates()`), or why it cannot be loaded.
    public static let shared: Result<NVRTC, CUDAUnavailable> = load(candidates: CUDALibraryPaths.nvrtcCandidates())

    /// The NVRTC the GPU's driver can take modules from: of the candidates that load, the
    /// newest whose major version is not above the driver's (a CUBIN from a newer CUDA than the
    /// driver's may not load), or why there is none. Without a driver, `shared`.
    public static let matchingDriver: Result<NVRTC, CUDAUnavailable> = {
        guard case .success(let d) = CUDADriver.shared, let driver = try? d.version() else { return shared }
        return load(candidates: CUDALibraryPaths.nvrtcCandidates(), driver: driver)
    }()

    /// `load(candidates:)` restricted to NVRTCs whose major version is at most the driver's.
    public static func load(candidates: [String], driver: (major: Int, minor: Int)) -> Result<NVRTC, CUDAUnavailable> {
        var best: NVRTC? = nil, tooNew: [String] = []
        for c in candidates {
            guard case .success(let n) = load(candidates: [c]) else { continue }
            if n.version.major > driver.major {
                tooNew.append("NVRTC \(n.version.major).\(n.version.minor) at \(n.path)")
            } else if best == nil || (n.version.major, n.version.minor) > (best!.version.major, best!.version.minor) {
                best = n
            }
        }
        if let best { return .success(best) }
        if !tooNew.isEmpty {
            return .failure(CUDAUnavailable(reason: "\(tooNew.joined(separator: ", ")) is newer than the driver (CUDA \(driver.major).\(driver.minor)): "
                + "the modules it builds may not load; install NVRTC for CUDA \(driver.major) (pip install nvidia-cuda-nvrtc-cu\(driver.major)) or set TANDEM_NVRTC"))
        }
        return load(candidates: candidates)
    }

    /// Loads NVRTC from the first of `candidates` that opens.
    public static func load(candidates: [String]) -> Result<NVRTC, CUDAUnavailable> {
        switch DynamicLibrary.open(candidates: candidates) {
        case .failure(let e):
            let folders = CUDALibraryPaths.nvrtcFolders().filter { !$0.contains("/nvidia/") }
            return .failure(CUDAUnavailable(reason: "no NVRTC (set TANDEM_NVRTC or CUDA_HOME, or pip install nvidia-cuda-nvrtc-cu12): "
                + "searched \(folders.joined(separator: ", ")), the nvidia/cuda_nvrtc/lib folders of Python's site-packages, then \(e.description)"))
        case .success(let lib):
            do { return .success(try NVRTC(lib)) } catch {
                return .failure(CUDAUnavailable(reason: "NVRTC at \(lib.path) is unusable: \(error)"))
            }
        }
    }

    private init(_ l: DynamicLibrary) throws {
        library = l
        nvrtcVersion = try l.symbol("nvrtcVersion", as: PFN_nvrtcVersion.self)
        nvrtcCreateProgram = try l.symbol("nvrtcCreateProgram", as: PFN_nvrtcCreateProgram.self)
        nvrtcDestroyProgram = try l.symbol("nvrtcDestroyProgram", as: PFN_nvrtcDestroyProgram.self)
        nvrtcCompileProgram = try l.symbol("nvrtcCompileProgram", as: PFN_nvrtcCompileProgram.self)
        nvrtcGetProgramLogSize = try l.symbol("nvrtcGetProgramLogSize", as: PFN_nvrtcGetSize.self)
        nvrtcGetProgramLog = try l.symbol("nvrtcGetProgramLog", as: PFN_nvrtcGetBytes.self)
        nvrtcGetCUBINSize = try l.symbol("nvrtcGetCUBINSize", as: PFN_nvrtcGetSize.self)
        nvrtcGetCUBIN = try l.symbol("nvrtcGetCUBIN", as: PFN_nvrtcGetBytes.self)
        nvrtcGetErrorString = try l.symbol("nvrtcGetErrorString", as: PFN_nvrtcGetErrorString.self)
        var major: Int32 = 0, minor: Int32 = 0
        let r = nvrtcVersion(&major, &minor)
        guard r == 0 else { throw LibraryNotFound(tried: ["\(l.path): nvrtcVersion returned \(r)"]) }
        version = (Int(major), Int(minor))
    }

    /// Where NVRTC was loaded from.
    public var path: String { library.path }

    /// "NVRTC 12.9", for messages.
    public var identity: String { "NVRTC \(version.major).\(version.minor)" }

    /// What the CUBIN cache's keys name this NVRTC by: its version, its resolved path and the
    /// SHA-256 of the library (`BinaryFingerprint`, hashed once per machine and library), so
    /// another library reporting the same version gets keys of its own (issue 17 point 3).
    public var cacheIdentity: String { NVRTC.cacheIdentity(version: version, path: path) }

    public static func cacheIdentity(version: (major: Int, minor: Int), path: String) -> String {
        "NVRTC \(version.major).\(version.minor) \(BinaryFingerprint.of(path))"
    }

    /// The one checker of NVRTC calls: the error names the call and NVRTC's text for the code.
    public func check(_ result: nvrtcResult, _ call: String) throws {
        guard result != 0 else { return }
        let text = nvrtcGetErrorString(result).map { String(cString: $0) } ?? "NVRTC_ERROR_\(result)"
        throw CUDAError(call: call, code: result, name: text, message: "NVRTC error")
    }

    /// Options passed to every compile besides the architecture. No `--use_fast_math`: it would
    /// flush denormals and approximate division, sqrt, exp and log, and results must match the
    /// CPU's to the tolerance of the differential tests.
    /// `--fmad=false`: no multiply-add contracted into an FMA, as on the CPU
    /// (`CPUToolchain.baseFlags`), so elementwise results agree with the host's bit for bit.
    public static let options = ["--std=c++17", "-default-device", "--fmad=false", "--diag-suppress=177,550"]

    /// Compiles CUDA C `source` to CUBIN for `architecture` (`sm_90`). A failed compile throws
    /// `TandemError.compileFailed` with NVRTC's log and the source; other failures throw
    /// `CUDAError` naming the call.
    public func compile(_ source: String, architecture: String, name: String = "tandem_kernel.cu") throws -> [UInt8] {
        var prog: nvrtcProgram? = nil
        try check(nvrtcCreateProgram(&prog, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtcDestroyProgram(&prog) }
        let opts = ["--gpu-architecture=\(architecture)"] + NVRTC.options
        // The C strings live until the call returns (strdup'd, freed in the defer).
        let cOptions: [UnsafePointer<CChar>?] = opts.map { UnsafePointer(strdup($0)) }
        defer { for p in cOptions { free(UnsafeMutableRawPointer(mutating: p)) } }
        let result = cOptions.withUnsafeBufferPointer { nvrtcCompileProgram(prog, Int32(opts.count), $0.baseAddress) }
        if result != 0 {
            let log = (try? programLog(prog)) ?? "(no log)"
            if result == 6 {  // NVRTC_ERROR_COMPILATION: the source is at fault; say where.
                throw TandemError.compileFailed(compiler: "\(identity) (\(architecture), \(path))", log: log, source: source)
            }
            try check(result, "nvrtcCompileProgram")
        }
        var size = 0
        try check(nvrtcGetCUBINSize(prog, &size), "nvrtcGetCUBINSize")
        var cubin = [UInt8](repeating: 0, count: size)
        try cubin.withUnsafeMutableBytes { b throws in
            try check(nvrtcGetCUBIN(prog, b.baseAddress?.assumingMemoryBound(to: CChar.self)), "nvrtcGetCUBIN")
        }
        return cubin
    }

    private func programLog(_ prog: nvrtcProgram?) throws -> String {
        var size = 0
        try check(nvrtcGetProgramLogSize(prog, &size), "nvrtcGetProgramLogSize")
        var log = [CChar](repeating: 0, count: max(size, 1))
        try log.withUnsafeMutableBufferPointer { b throws in
            try check(nvrtcGetProgramLog(prog, b.baseAddress), "nvrtcGetProgramLog")
        }
        return String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
