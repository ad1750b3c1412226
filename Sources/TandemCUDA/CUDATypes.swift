/// The parts of the CUDA driver API and NVRTC that Tandem uses, declared by the project itself
/// (no CUDA header is needed to build): types, constants and `@convention(c)` signatures.
///
/// Each signature is the one `cuda.h` / `nvrtc.h` declare for the **symbol** named beside it
/// (checked against CUDA 12.x `cuda.h` and NVRTC 12.9 `nvrtc.h`). `cuda.h` maps plain names to
/// versioned symbols with macros (`#define cuMemAlloc cuMemAlloc_v2`); through `dlsym` there are no
/// macros, so the table names the versioned symbol wherever one exists. The unversioned
/// `cuMemAlloc` is the 32-bit ABI of CUDA 3.1 and must never be bound to these signatures. Newer
/// drivers also export `_v2` symbols with *other* signatures (`cuCtxSynchronize_v2(CUcontext)`,
/// `cuCtxCreate_v4`), so nothing is looked up "`_v2` first" by rule: every name is explicit.
/// Tandem uses the device's primary context (`cuDevicePrimaryCtxRetain`), never `cuCtxCreate`,
/// whose signature changed in CUDA 13.

public typealias CUresult = Int32
public typealias CUdevice = Int32
public typealias CUdeviceptr = UInt64
public typealias CUcontext = OpaquePointer
public typealias CUmodule = OpaquePointer
public typealias CUfunction = OpaquePointer
public typealias CUstream = OpaquePointer
public typealias CUevent = OpaquePointer
public typealias nvrtcResult = Int32
public typealias nvrtcProgram = OpaquePointer

/// `CUresult` values Tandem acts on (the rest are only decoded for messages).
public enum CUDAStatus {
    public static let success: CUresult = 0
    public static let outOfMemory: CUresult = 2
    public static let noDevice: CUresult = 100
    public static let notReady: CUresult = 600
}

/// `CUdevice_attribute` values used by `CUDADeviceInfo`.
public enum CUDAAttribute {
    public static let maxThreadsPerBlock: Int32 = 1
    public static let maxSharedMemoryPerBlock: Int32 = 8
    public static let warpSize: Int32 = 10
    public static let clockRate: Int32 = 13
    public static let multiprocessorCount: Int32 = 16
    public static let memoryClockRate: Int32 = 36
    public static let globalMemoryBusWidth: Int32 = 37
    public static let l2CacheSize: Int32 = 38
    public static let maxThreadsPerMultiprocessor: Int32 = 39
    public static let asyncEngineCount: Int32 = 40
    public static let unifiedAddressing: Int32 = 41
    public static let computeCapabilityMajor: Int32 = 75
    public static let computeCapabilityMinor: Int32 = 76
}

/// Flags for `cuStreamCreate` and `cuEventCreate`.
public enum CUDAFlags {
    /// `CU_STREAM_NON_BLOCKING`: no implicit ordering with the legacy default stream.
    public static let streamNonBlocking: UInt32 = 1
    /// `CU_EVENT_DEFAULT` (timing enabled).
    public static let eventDefault: UInt32 = 0
    /// `CU_EVENT_DISABLE_TIMING`: cheaper events for pure ordering.
    public static let eventDisableTiming: UInt32 = 2
    /// `CU_CTX_SCHED_BLOCKING_SYNC`: a host thread waiting for the GPU sleeps on a primitive
    /// instead of spinning on a core the CPU's kernels need.
    public static let contextBlockingSync: UInt32 = 4
}

// MARK: - Driver API signatures (symbol names in the comments)

typealias PFN_cuInit = @convention(c) (UInt32) -> CUresult  // cuInit
typealias PFN_cuDriverGetVersion = @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult  // cuDriverGetVersion
typealias PFN_cuDeviceGet = @convention(c) (UnsafeMutablePointer<CUdevice>?, Int32) -> CUresult  // cuDeviceGet
typealias PFN_cuDeviceGetCount = @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult  // cuDeviceGetCount
typealias PFN_cuDeviceGetName = @convention(c) (UnsafeMutablePointer<CChar>?, Int32, CUdevice) -> CUresult  // cuDeviceGetName
typealias PFN_cuDeviceGetAttribute = @convention(c) (UnsafeMutablePointer<Int32>?, Int32, CUdevice) -> CUresult  // cuDeviceGetAttribute
typealias PFN_cuDeviceTotalMem = @convention(c) (UnsafeMutablePointer<Int>?, CUdevice) -> CUresult  // cuDeviceTotalMem_v2
typealias PFN_cuDevicePrimaryCtxRetain = @convention(c) (UnsafeMutablePointer<CUcontext?>?, CUdevice) -> CUresult  // cuDevicePrimaryCtxRetain
typealias PFN_cuDevicePrimaryCtxRelease = @convention(c) (CUdevice) -> CUresult  // cuDevicePrimaryCtxRelease_v2
typealias PFN_cuDevicePrimaryCtxSetFlags = @convention(c) (CUdevice, UInt32) -> CUresult  // cuDevicePrimaryCtxSetFlags_v2
typealias PFN_cuCtxSetCurrent = @convention(c) (CUcontext?) -> CUresult  // cuCtxSetCurrent
typealias PFN_cuCtxSynchronize = @convention(c) () -> CUresult  // cuCtxSynchronize (not the _v2, which takes a context)
typealias PFN_cuMemAlloc = @convention(c) (UnsafeMutablePointer<CUdeviceptr>?, Int) -> CUresult  // cuMemAlloc_v2
typealias PFN_cuMemFree = @convention(c) (CUdeviceptr) -> CUresult  // cuMemFree_v2
typealias PFN_cuMemGetInfo = @convention(c) (UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> CUresult  // cuMemGetInfo_v2
typealias PFN_cuMemAllocHost = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int) -> CUresult  // cuMemAllocHost_v2
typealias PFN_cuMemFreeHost = @convention(c) (UnsafeMutableRawPointer?) -> CUresult  // cuMemFreeHost
typealias PFN_cuMemcpyHtoDAsync = @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, CUstream?) -> CUresult  // cuMemcpyHtoDAsync_v2
typealias PFN_cuMemcpyDtoHAsync = @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, CUstream?) -> CUresult  // cuMemcpyDtoHAsync_v2
typealias PFN_cuMemcpyDtoDAsync = @convention(c) (CUdeviceptr, CUdeviceptr, Int, CUstream?) -> CUresult  // cuMemcpyDtoDAsync_v2
typealias PFN_cuModuleLoadData = @convention(c) (UnsafeMutablePointer<CUmodule?>?, UnsafeRawPointer?) -> CUresult  // cuModuleLoadData
typealias PFN_cuModuleGetFunction = @convention(c) (UnsafeMutablePointer<CUfunction?>?, CUmodule?, UnsafePointer<CChar>?) -> CUresult  // cuModuleGetFunction
typealias PFN_cuModuleUnload = @convention(c) (CUmodule?) -> CUresult  // cuModuleUnload
/// cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, kernelParams, extra)
typealias PFN_cuLaunchKernel = @convention(c) (CUfunction?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUstream?,
                                               UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult
typealias PFN_cuStreamCreate = @convention(c) (UnsafeMutablePointer<CUstream?>?, UInt32) -> CUresult  // cuStreamCreate
typealias PFN_cuStreamDestroy = @convention(c) (CUstream?) -> CUresult  // cuStreamDestroy_v2
typealias PFN_cuStreamSynchronize = @convention(c) (CUstream?) -> CUresult  // cuStreamSynchronize
typealias PFN_cuStreamWaitEvent = @convention(c) (CUstream?, CUevent?, UInt32) -> CUresult  // cuStreamWaitEvent
typealias PFN_cuEventCreate = @convention(c) (UnsafeMutablePointer<CUevent?>?, UInt32) -> CUresult  // cuEventCreate
typealias PFN_cuEventDestroy = @convention(c) (CUevent?) -> CUresult  // cuEventDestroy_v2
typealias PFN_cuEventRecord = @convention(c) (CUevent?, CUstream?) -> CUresult  // cuEventRecord
typealias PFN_cuEventSynchronize = @convention(c) (CUevent?) -> CUresult  // cuEventSynchronize
typealias PFN_cuEventQuery = @convention(c) (CUevent?) -> CUresult  // cuEventQuery
/// cuEventElapsedTime_v2 (CUDA 12.8+; what CUDA 13's header maps the name to) or, on older
/// drivers, cuEventElapsedTime: the same signature.
typealias PFN_cuEventElapsedTime = @convention(c) (UnsafeMutablePointer<Float>?, CUevent?, CUevent?) -> CUresult
typealias PFN_cuGetErrorName = @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult  // cuGetErrorName
typealias PFN_cuGetErrorString = @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult  // cuGetErrorString

// MARK: - NVRTC signatures

typealias PFN_nvrtcVersion = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> nvrtcResult
/// nvrtcCreateProgram(prog, src, name, numHeaders, headers, includeNames)
typealias PFN_nvrtcCreateProgram = @convention(c) (UnsafeMutablePointer<nvrtcProgram?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32,
                                                   UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> nvrtcResult
typealias PFN_nvrtcDestroyProgram = @convention(c) (UnsafeMutablePointer<nvrtcProgram?>?) -> nvrtcResult
typealias PFN_nvrtcCompileProgram = @convention(c) (nvrtcProgram?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> nvrtcResult
typealias PFN_nvrtcGetSize = @convention(c) (nvrtcProgram?, UnsafeMutablePointer<Int>?) -> nvrtcResult  // nvrtcGetProgramLogSize, nvrtcGetCUBINSize
typealias PFN_nvrtcGetBytes = @convention(c) (nvrtcProgram?, UnsafeMutablePointer<CChar>?) -> nvrtcResult  // nvrtcGetProgramLog, nvrtcGetCUBIN
typealias PFN_nvrtcGetErrorString = @convention(c) (nvrtcResult) -> UnsafePointer<CChar>?
