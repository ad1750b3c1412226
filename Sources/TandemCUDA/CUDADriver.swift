#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// A failed driver or NVRTC call: which call, the code, and the driver's decoded name and text.
///
///     try driver.check(driver.cuMemAlloc(&p, n), "cuMemAlloc_v2")
///     // cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory
public struct CUDAError: Error, CustomStringConvertible, Equatable {
    public var call: String
    public var code: Int32
    public var name: String
    public var message: String
    public var description: String { "\(call) failed: \(name) (\(code)): \(message)" }
}

/// The driver API functions Tandem uses, resolved once from `libcuda.so.1` ("the parts of the
/// CUDA API that are presently in use"). Every call goes through `check(_:_:)`.
///
///     let d = try CUDADriver.shared.get()
///     try d.check(d.cuInit(0), "cuInit")
public final class CUDADriver: Sendable {
    let library: DynamicLibrary
    let cuInit: PFN_cuInit
    let cuDriverGetVersion: PFN_cuDriverGetVersion
    let cuDeviceGet: PFN_cuDeviceGet
    let cuDeviceGetCount: PFN_cuDeviceGetCount
    let cuDeviceGetName: PFN_cuDeviceGetName
    let cuDeviceGetAttribute: PFN_cuDeviceGetAttribute
    let cuDeviceTotalMem: PFN_cuDeviceTotalMem
    let cuDevicePrimaryCtxRetain: PFN_cuDevicePrimaryCtxRetain
    let cuDevicePrimaryCtxRelease: PFN_cuDevicePrimaryCtxRelease
    /// Absent from drivers before CUDA 11 (then the context keeps the driver's default scheduling).
    let cuDevicePrimaryCtxSetFlags: PFN_cuDevicePrimaryCtxSetFlags?
    let cuCtxSetCurrent: PFN_cuCtxSetCurrent
    let cuCtxSynchronize: PFN_cuCtxSynchronize
    let cuMemAlloc: PFN_cuMemAlloc
    let cuMemFree: PFN_cuMemFree
    let cuMemGetInfo: PFN_cuMemGetInfo
    let cuMemAllocHost: PFN_cuMemAllocHost
    let cuMemFreeHost: PFN_cuMemFreeHost
    let cuMemcpyHtoDAsync: PFN_cuMemcpyHtoDAsync
    let cuMemcpyDtoHAsync: PFN_cuMemcpyDtoHAsync
    let cuMemcpyDtoDAsync: PFN_cuMemcpyDtoDAsync
    let cuModuleLoadData: PFN_cuModuleLoadData
    let cuModuleGetFunction: PFN_cuModuleGetFunction
    let cuModuleUnload: PFN_cuModuleUnload
    let cuLaunchKernel: PFN_cuLaunchKernel
    let cuStreamCreate: PFN_cuStreamCreate
    let cuStreamDestroy: PFN_cuStreamDestroy
    let cuStreamSynchronize: PFN_cuStreamSynchronize
    let cuStreamWaitEvent: PFN_cuStreamWaitEvent
    let cuEventCreate: PFN_cuEventCreate
    let cuEventDestroy: PFN_cuEventDestroy
    let cuEventRecord: PFN_cuEventRecord
    let cuEventSynchronize: PFN_cuEventSynchronize
    let cuEventQuery: PFN_cuEventQuery
    let cuEventElapsedTime: PFN_cuEventElapsedTime
    let cuGetErrorName: PFN_cuGetErrorName
    let cuGetErrorString: PFN_cuGetErrorString

    /// The driver of this process, loaded at first use (`dlopen`), or why it cannot be.
    public static let shared: Result<CUDADriver, CUDAUnavailable> = load(candidates: CUDALibraryPaths.driverCandidates())

    /// Loads the driver from the first of `candidates` that opens (tests pass paths that do not exist).
    public static func load(candidates: [String]) -> Result<CUDADriver, CUDAUnavailable> {
        switch DynamicLibrary.open(candidates: candidates) {
        case .failure(let e): return .failure(CUDAUnavailable(reason: "no CUDA driver: \(e.description)"))
        case .success(let lib):
            do { return .success(try CUDADriver(lib)) } catch {
                return .failure(CUDAUnavailable(reason: "the CUDA driver at \(lib.path) is unusable: \(error)"))
            }
        }
    }

    private init(_ l: DynamicLibrary) throws {
        library = l
        cuInit = try l.symbol("cuInit", as: PFN_cuInit.self)
        cuDriverGetVersion = try l.symbol("cuDriverGetVersion", as: PFN_cuDriverGetVersion.self)
        cuDeviceGet = try l.symbol("cuDeviceGet", as: PFN_cuDeviceGet.self)
        cuDeviceGetCount = try l.symbol("cuDeviceGetCount", as: PFN_cuDeviceGetCount.self)
        cuDeviceGetName = try l.symbol("cuDeviceGetName", as: PFN_cuDeviceGetName.self)
        cuDeviceGetAttribute = try l.symbol("cuDeviceGetAttribute", as: PFN_cuDeviceGetAttribute.self)
        cuDeviceTotalMem = try l.symbol("cuDeviceTotalMem_v2", as: PFN_cuDeviceTotalMem.self)
        cuDevicePrimaryCtxRetain = try l.symbol("cuDevicePrimaryCtxRetain", as: PFN_cuDevicePrimaryCtxRetain.self)
        cuDevicePrimaryCtxRelease = try l.symbol("cuDevicePrimaryCtxRelease_v2", as: PFN_cuDevicePrimaryCtxRelease.self)
        cuDevicePrimaryCtxSetFlags = l.optionalSymbol("cuDevicePrimaryCtxSetFlags_v2", as: PFN_cuDevicePrimaryCtxSetFlags.self)
        cuCtxSetCurrent = try l.symbol("cuCtxSetCurrent", as: PFN_cuCtxSetCurrent.self)
        cuCtxSynchronize = try l.symbol("cuCtxSynchronize", as: PFN_cuCtxSynchronize.self)
        cuMemAlloc = try l.symbol("cuMemAlloc_v2", as: PFN_cuMemAlloc.self)
        cuMemFree = try l.symbol("cuMemFree_v2", as: PFN_cuMemFree.self)
        cuMemGetInfo = try l.symbol("cuMemGetInfo_v2", as: PFN_cuMemGetInfo.self)
        cuMemAllocHost = try l.symbol("cuMemAllocHost_v2", as: PFN_cuMemAllocHost.self)
        cuMemFreeHost = try l.symbol("cuMemFreeHost", as: PFN_cuMemFreeHost.self)
        cuMemcpyHtoDAsync = try l.symbol("cuMemcpyHtoDAsync_v2", as: PFN_cuMemcpyHtoDAsync.self)
        cuMemcpyDtoHAsync = try l.symbol("cuMemcpyDtoHAsync_v2", as: PFN_cuMemcpyDtoHAsync.self)
        cuMemcpyDtoDAsync = try l.symbol("cuMemcpyDtoDAsync_v2", as: PFN_cuMemcpyDtoDAsync.self)
        cuModuleLoadData = try l.symbol("cuModuleLoadData", as: PFN_cuModuleLoadData.self)
        cuModuleGetFunction = try l.symbol("cuModuleGetFunction", as: PFN_cuModuleGetFunction.self)
        cuModuleUnload = try l.symbol("cuModuleUnload", as: PFN_cuModuleUnload.self)
        cuLaunchKernel = try l.symbol("cuLaunchKernel", as: PFN_cuLaunchKernel.self)
        cuStreamCreate = try l.symbol("cuStreamCreate", as: PFN_cuStreamCreate.self)
        cuStreamDestroy = try l.symbol("cuStreamDestroy_v2", as: PFN_cuStreamDestroy.self)
        cuStreamSynchronize = try l.symbol("cuStreamSynchronize", as: PFN_cuStreamSynchronize.self)
        cuStreamWaitEvent = try l.symbol("cuStreamWaitEvent", as: PFN_cuStreamWaitEvent.self)
        cuEventCreate = try l.symbol("cuEventCreate", as: PFN_cuEventCreate.self)
        cuEventDestroy = try l.symbol("cuEventDestroy_v2", as: PFN_cuEventDestroy.self)
        cuEventRecord = try l.symbol("cuEventRecord", as: PFN_cuEventRecord.self)
        cuEventSynchronize = try l.symbol("cuEventSynchronize", as: PFN_cuEventSynchronize.self)
        cuEventQuery = try l.symbol("cuEventQuery", as: PFN_cuEventQuery.self)
        if let v2 = l.optionalSymbol("cuEventElapsedTime_v2", as: PFN_cuEventElapsedTime.self) {
            cuEventElapsedTime = v2
        } else {
            cuEventElapsedTime = try l.symbol("cuEventElapsedTime", as: PFN_cuEventElapsedTime.self)
        }
        cuGetErrorName = try l.symbol("cuGetErrorName", as: PFN_cuGetErrorName.self)
        cuGetErrorString = try l.symbol("cuGetErrorString", as: PFN_cuGetErrorString.self)
    }

    /// The one checker of driver calls: returns on success, else throws a `CUDAError` naming
    /// `call` with the driver's decoded name and description of `result`.
    public func check(_ result: CUresult, _ call: String) throws {
        guard result != CUDAStatus.success else { return }
        throw error(result, call)
    }

    /// The decoded error for `result` from `call`.
    public func error(_ result: CUresult, _ call: String) -> CUDAError {
        var name: UnsafePointer<CChar>? = nil, text: UnsafePointer<CChar>? = nil
        _ = cuGetErrorName(result, &name)
        _ = cuGetErrorString(result, &text)
        return CUDAError(call: call, code: result, name: name.map { String(cString: $0) } ?? "CUDA_ERROR_\(result)",
                         message: text.map { String(cString: $0) } ?? "unknown error")
    }

    /// `cuDriverGetVersion` as (major, minor), e.g. (12, 4) for 12040.
    public func version() throws -> (major: Int, minor: Int) {
        var v: Int32 = 0
        try check(cuDriverGetVersion(&v), "cuDriverGetVersion")
        return (Int(v) / 1000, (Int(v) % 1000) / 10)
    }
}

/// Why CUDA cannot be used on this machine (no driver, no NVRTC, no device), in one sentence
/// that says what was searched.
public struct CUDAUnavailable: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var description: String { reason }
}
