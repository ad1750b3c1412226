/// What the driver reports about one GPU (for `tandem devices`, launch geometry and the cost model).
///
///     switch CUDADeviceInfo.probe() {
///     case .success(let gpus): print(gpus[0].name, gpus[0].architecture)   // "NVIDIA H100 80GB HBM3 sm_90"
///     case .failure(let why): print("cuda: unavailable:", why)
///     }
public struct CUDADeviceInfo: Sendable, Equatable {
    public var ordinal: Int
    public var name: String
    public var computeCapability: (major: Int, minor: Int)
    public var multiprocessors: Int
    public var totalMemory: Int
    public var maxThreadsPerBlock: Int
    public var maxSharedMemoryPerBlock: Int
    public var maxThreadsPerMultiprocessor: Int
    /// Peak memory clock in kHz and bus width in bits (peak bandwidth = 2 x clock x width / 8).
    public var memoryClockKHz: Int
    public var memoryBusWidth: Int
    public var driverVersion: (major: Int, minor: Int)

    /// The NVRTC target for this device's own architecture, e.g. `sm_90`.
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// Theoretical DRAM bandwidth in bytes per second (double data rate).
    public var peakBandwidth: Double { 2 * Double(memoryClockKHz) * 1e3 * Double(memoryBusWidth) / 8 }

    public static func == (a: CUDADeviceInfo, b: CUDADeviceInfo) -> Bool {
        a.ordinal == b.ordinal && a.name == b.name && a.computeCapability == b.computeCapability
    }

    /// One line for `tandem devices`.
    public var summary: String {
        let gib = Double(totalMemory) / Double(1 << 30)
        return "\(name) (device \(ordinal)): compute capability \(computeCapability.major).\(computeCapability.minor) (\(architecture)), "
            + "\(multiprocessors) SMs, \((gib * 10).rounded() / 10) GiB, peak \(Int(peakBandwidth / 1e9)) GB/s, "
            + "driver CUDA \(driverVersion.major).\(driverVersion.minor)"
    }

    /// Initialises the driver and lists the GPUs, or says why there are none (no driver, no
    /// device, an error from `cuInit`).
    public static func probe(driver: Result<CUDADriver, CUDAUnavailable> = CUDADriver.shared) -> Result<[CUDADeviceInfo], CUDAUnavailable> {
        let d: CUDADriver
        switch driver {
        case .failure(let e): return .failure(e)
        case .success(let x): d = x
        }
        do {
            let init0 = d.cuInit(0)
            if init0 == CUDAStatus.noDevice { return .failure(CUDAUnavailable(reason: "the CUDA driver found no GPU (cuInit: CUDA_ERROR_NO_DEVICE)")) }
            try d.check(init0, "cuInit")
            let version = try d.version()
            var count: Int32 = 0
            try d.check(d.cuDeviceGetCount(&count), "cuDeviceGetCount")
            if count == 0 { return .failure(CUDAUnavailable(reason: "the CUDA driver \(version.major).\(version.minor) found no GPU")) }
            var out: [CUDADeviceInfo] = []
            for ordinal in 0..<Int(count) {
                var dev: CUdevice = 0
                try d.check(d.cuDeviceGet(&dev, Int32(ordinal)), "cuDeviceGet")
                var nameBytes = [CChar](repeating: 0, count: 256)
                try d.check(d.cuDeviceGetName(&nameBytes, 256, dev), "cuDeviceGetName")
                func attr(_ a: Int32) throws -> Int {
                    var v: Int32 = 0
                    try d.check(d.cuDeviceGetAttribute(&v, a, dev), "cuDeviceGetAttribute(\(a))")
                    return Int(v)
                }
                var total = 0
                try d.check(d.cuDeviceTotalMem(&total, dev), "cuDeviceTotalMem_v2")
                out.append(CUDADeviceInfo(
                    ordinal: ordinal, name: String(decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                    computeCapability: (try attr(CUDAAttribute.computeCapabilityMajor), try attr(CUDAAttribute.computeCapabilityMinor)),
                    multiprocessors: try attr(CUDAAttribute.multiprocessorCount), totalMemory: total,
                    maxThreadsPerBlock: try attr(CUDAAttribute.maxThreadsPerBlock),
                    maxSharedMemoryPerBlock: try attr(CUDAAttribute.maxSharedMemoryPerBlock),
                    maxThreadsPerMultiprocessor: try attr(CUDAAttribute.maxThreadsPerMultiprocessor),
                    memoryClockKHz: try attr(CUDAAttribute.memoryClockRate), memoryBusWidth: try attr(CUDAAttribute.globalMemoryBusWidth),
                    driverVersion: version))
            }
            return .success(out)
        } catch {
            return .failure(CUDAUnavailable(reason: "the CUDA driver failed: \(error)"))
        }
    }
}
