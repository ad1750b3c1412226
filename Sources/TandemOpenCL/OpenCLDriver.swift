#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime
import TandemCompiler

// The OpenCL C API types Tandem uses (cl.h), as Swift sees them: handles are opaque pointers.
public typealias cl_int = Int32
public typealias cl_uint = UInt32
public typealias cl_ulong = UInt64
public typealias cl_bool = UInt32
public typealias cl_platform_id = OpaquePointer
public typealias cl_device_id = OpaquePointer
public typealias cl_context = OpaquePointer
public typealias cl_command_queue = OpaquePointer
public typealias cl_mem = OpaquePointer
public typealias cl_program = OpaquePointer
public typealias cl_kernel = OpaquePointer
public typealias cl_event = OpaquePointer

typealias PFN_clGetPlatformIDs = @convention(c) (cl_uint, UnsafeMutablePointer<cl_platform_id?>?, UnsafeMutablePointer<cl_uint>?) -> cl_int
typealias PFN_clGetPlatformInfo = @convention(c) (cl_platform_id?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
typealias PFN_clGetDeviceIDs = @convention(c) (cl_platform_id?, cl_ulong, cl_uint, UnsafeMutablePointer<cl_device_id?>?, UnsafeMutablePointer<cl_uint>?) -> cl_int
typealias PFN_clGetDeviceInfo = @convention(c) (cl_device_id?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
typealias PFN_clCreateContext = @convention(c) (UnsafePointer<Int>?, cl_uint, UnsafePointer<cl_device_id?>?, OpaquePointer?, UnsafeMutableRawPointer?,
                                                UnsafeMutablePointer<cl_int>?) -> cl_context?
typealias PFN_clCreateCommandQueue = @convention(c) (cl_context?, cl_device_id?, cl_ulong, UnsafeMutablePointer<cl_int>?) -> cl_command_queue?
typealias PFN_clCreateBuffer = @convention(c) (cl_context?, cl_ulong, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<cl_int>?) -> cl_mem?
typealias PFN_clEnqueueWriteBuffer = @convention(c) (cl_command_queue?, cl_mem?, cl_bool, Int, Int, UnsafeRawPointer?, cl_uint,
                                                     UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>?) -> cl_int
typealias PFN_clEnqueueReadBuffer = @convention(c) (cl_command_queue?, cl_mem?, cl_bool, Int, Int, UnsafeMutableRawPointer?, cl_uint,
                                                    UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>?) -> cl_int
typealias PFN_clEnqueueCopyBuffer = @convention(c) (cl_command_queue?, cl_mem?, cl_mem?, Int, Int, Int, cl_uint,
                                                    UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>?) -> cl_int
typealias PFN_clCreateProgramWithSource = @convention(c) (cl_context?, cl_uint, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?,
                                                          UnsafeMutablePointer<cl_int>?) -> cl_program?
typealias PFN_clCreateProgramWithBinary = @convention(c) (cl_context?, cl_uint, UnsafePointer<cl_device_id?>?, UnsafePointer<Int>?,
                                                          UnsafePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<cl_int>?,
                                                          UnsafeMutablePointer<cl_int>?) -> cl_program?
typealias PFN_clBuildProgram = @convention(c) (cl_program?, cl_uint, UnsafePointer<cl_device_id?>?, UnsafePointer<CChar>?, OpaquePointer?,
                                               UnsafeMutableRawPointer?) -> cl_int
typealias PFN_clGetProgramBuildInfo = @convention(c) (cl_program?, cl_device_id?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
typealias PFN_clGetProgramInfo = @convention(c) (cl_program?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
typealias PFN_clCreateKernel = @convention(c) (cl_program?, UnsafePointer<CChar>?, UnsafeMutablePointer<cl_int>?) -> cl_kernel?
typealias PFN_clSetKernelArg = @convention(c) (cl_kernel?, cl_uint, Int, UnsafeRawPointer?) -> cl_int
typealias PFN_clEnqueueNDRangeKernel = @convention(c) (cl_command_queue?, cl_kernel?, cl_uint, UnsafePointer<Int>?, UnsafePointer<Int>?,
                                                       UnsafePointer<Int>?, cl_uint, UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>?) -> cl_int
typealias PFN_clGetEventProfilingInfo = @convention(c) (cl_event?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
typealias PFN_clQueue = @convention(c) (cl_command_queue?) -> cl_int
typealias PFN_clWaitForEvents = @convention(c) (cl_uint, UnsafePointer<cl_event?>?) -> cl_int
typealias PFN_clEnqueueWaitList = @convention(c) (cl_command_queue?, cl_uint, UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>?) -> cl_int
typealias PFN_clGetEventInfo = @convention(c) (cl_event?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
typealias PFN_clRelease = @convention(c) (OpaquePointer?) -> cl_int

/// OpenCL's constants Tandem uses (cl.h).
enum CL {
    static let success: cl_int = 0
    static let deviceNotFound: cl_int = -1
    static let memObjectAllocationFailure: cl_int = -4
    static let outOfResources: cl_int = -5
    static let outOfHostMemory: cl_int = -6
    static let buildProgramFailure: cl_int = -11
    static let platformNotFoundKHR: cl_int = -1001

    static let platformVersion: cl_uint = 0x0901, platformName: cl_uint = 0x0902, platformVendor: cl_uint = 0x0903
    static let deviceTypeAll: cl_ulong = 0xFFFF_FFFF, deviceTypeCPU: cl_ulong = 1 << 1, deviceTypeGPU: cl_ulong = 1 << 2
    static let deviceType: cl_uint = 0x1000, deviceMaxComputeUnits: cl_uint = 0x1002, deviceMaxWorkGroupSize: cl_uint = 0x1004
    static let deviceMaxMemAllocSize: cl_uint = 0x1010, deviceMaxParameterSize: cl_uint = 0x1017, deviceGlobalMemSize: cl_uint = 0x101F
    static let deviceLocalMemSize: cl_uint = 0x1023, deviceName: cl_uint = 0x102B, deviceVendor: cl_uint = 0x102C
    static let driverVersion: cl_uint = 0x102D, deviceVersion: cl_uint = 0x102F, deviceExtensions: cl_uint = 0x1030
    static let memReadWrite: cl_ulong = 1
    static let queueProfilingEnable: cl_ulong = 1 << 1
    static let programBuildLog: cl_uint = 0x1183, programBinarySizes: cl_uint = 0x1165, programBinaries: cl_uint = 0x1166
    static let profilingCommandStart: cl_uint = 0x1282, profilingCommandEnd: cl_uint = 0x1283
    static let eventCommandExecutionStatus: cl_uint = 0x11D3, complete: cl_int = 0

    /// The names of the error codes a user may meet (cl.h), for messages.
    static func name(_ code: cl_int) -> String {
        switch code {
        case -1: "CL_DEVICE_NOT_FOUND"
        case -2: "CL_DEVICE_NOT_AVAILABLE"
        case -3: "CL_COMPILER_NOT_AVAILABLE"
        case -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case -5: "CL_OUT_OF_RESOURCES"
        case -6: "CL_OUT_OF_HOST_MEMORY"
        case -7: "CL_PROFILING_INFO_NOT_AVAILABLE"
        case -11: "CL_BUILD_PROGRAM_FAILURE"
        case -30: "CL_INVALID_VALUE"
        case -32: "CL_INVALID_PLATFORM"
        case -33: "CL_INVALID_DEVICE"
        case -34: "CL_INVALID_CONTEXT"
        case -36: "CL_INVALID_COMMAND_QUEUE"
        case -38: "CL_INVALID_MEM_OBJECT"
        case -42: "CL_INVALID_BINARY"
        case -44: "CL_INVALID_PROGRAM"
        case -45: "CL_INVALID_PROGRAM_EXECUTABLE"
        case -46: "CL_INVALID_KERNEL_NAME"
        case -48: "CL_INVALID_KERNEL"
        case -49: "CL_INVALID_ARG_INDEX"
        case -50: "CL_INVALID_ARG_VALUE"
        case -51: "CL_INVALID_ARG_SIZE"
        case -52: "CL_INVALID_KERNEL_ARGS"
        case -53: "CL_INVALID_WORK_DIMENSION"
        case -54: "CL_INVALID_WORK_GROUP_SIZE"
        case -55: "CL_INVALID_WORK_ITEM_SIZE"
        case -56: "CL_INVALID_GLOBAL_OFFSET"
        case -58: "CL_INVALID_EVENT"
        case -61: "CL_INVALID_BUFFER_SIZE"
        case -63: "CL_INVALID_GLOBAL_WORK_SIZE"
        case -1001: "CL_PLATFORM_NOT_FOUND_KHR"
        default: "CL error"
        }
    }
}

/// A failed OpenCL call: which call, the code and its name.
///
///     try cl.check(cl.clFinish(queue), "clFinish")   // clFinish failed: CL_OUT_OF_RESOURCES (-5)
public struct OpenCLError: Error, CustomStringConvertible, Equatable {
    public var call: String
    public var code: Int32
    public var description: String { "\(call) failed: \(CL.name(code)) (\(code))" }
}

/// Why OpenCL cannot be used on this machine, in one sentence that says what was searched.
public struct OpenCLUnavailable: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var description: String { reason }
}

/// The OpenCL functions Tandem uses, resolved once from the ICD loader (`libOpenCL.so.1`),
/// loaded with `dlopen` at first use and never linked: a machine without it builds and runs as
/// before. `TANDEM_OPENCL_LIBRARY` names another library.
///
///     let cl = try OpenCLDriver.shared.get()
///     let platforms = try cl.platforms()
public final class OpenCLDriver: Sendable {
    let library: DynamicLibrary
    let clGetPlatformIDs: PFN_clGetPlatformIDs
    let clGetPlatformInfo: PFN_clGetPlatformInfo
    let clGetDeviceIDs: PFN_clGetDeviceIDs
    let clGetDeviceInfo: PFN_clGetDeviceInfo
    let clCreateContext: PFN_clCreateContext
    let clCreateCommandQueue: PFN_clCreateCommandQueue
    let clCreateBuffer: PFN_clCreateBuffer
    let clEnqueueWriteBuffer: PFN_clEnqueueWriteBuffer
    let clEnqueueReadBuffer: PFN_clEnqueueReadBuffer
    let clEnqueueCopyBuffer: PFN_clEnqueueCopyBuffer
    let clCreateProgramWithSource: PFN_clCreateProgramWithSource
    let clCreateProgramWithBinary: PFN_clCreateProgramWithBinary
    let clBuildProgram: PFN_clBuildProgram
    let clGetProgramBuildInfo: PFN_clGetProgramBuildInfo
    let clGetProgramInfo: PFN_clGetProgramInfo
    let clCreateKernel: PFN_clCreateKernel
    let clSetKernelArg: PFN_clSetKernelArg
    let clEnqueueNDRangeKernel: PFN_clEnqueueNDRangeKernel
    let clGetEventProfilingInfo: PFN_clGetEventProfilingInfo
    let clFlush: PFN_clQueue
    let clFinish: PFN_clQueue
    let clWaitForEvents: PFN_clWaitForEvents
    /// OpenCL 1.2 (absent from 1.1-only loaders): without them uploads block the one queue.
    let clEnqueueBarrierWithWaitList: PFN_clEnqueueWaitList?
    let clEnqueueMarkerWithWaitList: PFN_clEnqueueWaitList?
    let clGetEventInfo: PFN_clGetEventInfo
    let clReleaseEvent: PFN_clRelease
    let clReleaseMemObject: PFN_clRelease
    let clReleaseKernel: PFN_clRelease
    let clReleaseProgram: PFN_clRelease
    let clReleaseCommandQueue: PFN_clRelease
    let clReleaseContext: PFN_clRelease

    /// Where the ICD loader is looked for.
    public static func candidates() -> [String] {
        if let path = ProcessInfoLite.environment("TANDEM_OPENCL_LIBRARY"), !path.isEmpty { return [path] }
        return ["libOpenCL.so.1", "libOpenCL.so", "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1", "/usr/lib/aarch64-linux-gnu/libOpenCL.so.1"]
    }

    /// The loader of this process, loaded at first use, or why it cannot be.
    public static let shared: Result<OpenCLDriver, OpenCLUnavailable> = load(candidates: candidates())

    /// Loads the API from the first of `candidates` that opens.
    public static func load(candidates: [String]) -> Result<OpenCLDriver, OpenCLUnavailable> {
        switch DynamicLibrary.open(candidates: candidates) {
        case .failure(let e):
            return .failure(OpenCLUnavailable(reason: "no OpenCL ICD loader: \(e.description) (Debian: ocl-icd-libopencl1, and a driver such as pocl-opencl-icd)"))
        case .success(let lib):
            do { return .success(try OpenCLDriver(lib)) } catch {
                return .failure(OpenCLUnavailable(reason: "the OpenCL library at \(lib.path) is unusable: \(error)"))
            }
        }
    }

    private init(_ l: DynamicLibrary) throws {
        library = l
        clGetPlatformIDs = try l.symbol("clGetPlatformIDs", as: PFN_clGetPlatformIDs.self)
        clGetPlatformInfo = try l.symbol("clGetPlatformInfo", as: PFN_clGetPlatformInfo.self)
        clGetDeviceIDs = try l.symbol("clGetDeviceIDs", as: PFN_clGetDeviceIDs.self)
        clGetDeviceInfo = try l.symbol("clGetDeviceInfo", as: PFN_clGetDeviceInfo.self)
        clCreateContext = try l.symbol("clCreateContext", as: PFN_clCreateContext.self)
        // OpenCL 1.2's queue constructor (deprecated by 2.0, still in every ICD loader): the
        // properties Tandem sets (profiling) mean the same in both.
        clCreateCommandQueue = try l.symbol("clCreateCommandQueue", as: PFN_clCreateCommandQueue.self)
        clCreateBuffer = try l.symbol("clCreateBuffer", as: PFN_clCreateBuffer.self)
        clEnqueueWriteBuffer = try l.symbol("clEnqueueWriteBuffer", as: PFN_clEnqueueWriteBuffer.self)
        clEnqueueReadBuffer = try l.symbol("clEnqueueReadBuffer", as: PFN_clEnqueueReadBuffer.self)
        clEnqueueCopyBuffer = try l.symbol("clEnqueueCopyBuffer", as: PFN_clEnqueueCopyBuffer.self)
        clCreateProgramWithSource = try l.symbol("clCreateProgramWithSource", as: PFN_clCreateProgramWithSource.self)
        clCreateProgramWithBinary = try l.symbol("clCreateProgramWithBinary", as: PFN_clCreateProgramWithBinary.self)
        clBuildProgram = try l.symbol("clBuildProgram", as: PFN_clBuildProgram.self)
        clGetProgramBuildInfo = try l.symbol("clGetProgramBuildInfo", as: PFN_clGetProgramBuildInfo.self)
        clGetProgramInfo = try l.symbol("clGetProgramInfo", as: PFN_clGetProgramInfo.self)
        clCreateKernel = try l.symbol("clCreateKernel", as: PFN_clCreateKernel.self)
        clSetKernelArg = try l.symbol("clSetKernelArg", as: PFN_clSetKernelArg.self)
        clEnqueueNDRangeKernel = try l.symbol("clEnqueueNDRangeKernel", as: PFN_clEnqueueNDRangeKernel.self)
        clGetEventProfilingInfo = try l.symbol("clGetEventProfilingInfo", as: PFN_clGetEventProfilingInfo.self)
        clFlush = try l.symbol("clFlush", as: PFN_clQueue.self)
        clFinish = try l.symbol("clFinish", as: PFN_clQueue.self)
        clWaitForEvents = try l.symbol("clWaitForEvents", as: PFN_clWaitForEvents.self)
        clEnqueueBarrierWithWaitList = l.optionalSymbol("clEnqueueBarrierWithWaitList", as: PFN_clEnqueueWaitList.self)
        clEnqueueMarkerWithWaitList = l.optionalSymbol("clEnqueueMarkerWithWaitList", as: PFN_clEnqueueWaitList.self)
        clGetEventInfo = try l.symbol("clGetEventInfo", as: PFN_clGetEventInfo.self)
        clReleaseEvent = try l.symbol("clReleaseEvent", as: PFN_clRelease.self)
        clReleaseMemObject = try l.symbol("clReleaseMemObject", as: PFN_clRelease.self)
        clReleaseKernel = try l.symbol("clReleaseKernel", as: PFN_clRelease.self)
        clReleaseProgram = try l.symbol("clReleaseProgram", as: PFN_clRelease.self)
        clReleaseCommandQueue = try l.symbol("clReleaseCommandQueue", as: PFN_clRelease.self)
        clReleaseContext = try l.symbol("clReleaseContext", as: PFN_clRelease.self)
    }

    /// The one checker of OpenCL calls: returns on success, else throws an `OpenCLError`.
    public func check(_ result: cl_int, _ call: String) throws {
        guard result != CL.success else { return }
        throw OpenCLError(call: call, code: result)
    }

    /// A string property (`clGet*Info` with a size query first).
    func string(_ get: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
        var size = 0
        guard get(0, nil, &size) == CL.success, size > 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: size)
        guard bytes.withUnsafeMutableBytes({ get(size, $0.baseAddress, nil) }) == CL.success else { return "" }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A fixed-size property (`cl_uint`, `cl_ulong`, `size_t`).
    func value<T: FixedWidthInteger>(_ type: T.Type, _ get: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> T {
        var v: T = 0
        _ = withUnsafeMutableBytes(of: &v) { get(MemoryLayout<T>.size, $0.baseAddress, nil) }
        return v
    }

    /// Every platform and its devices, in the loader's order.
    public func platforms() throws -> [OpenCLPlatform] {
        var count: cl_uint = 0
        let r = clGetPlatformIDs(0, nil, &count)
        // The Khronos loader answers "no platform" with -1001 when no ICD is installed.
        if r == CL.platformNotFoundKHR || count == 0 { return [] }
        try check(r, "clGetPlatformIDs")
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try check(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs")
        return ids.compactMap { $0 }.map { p in
            let name = string { clGetPlatformInfo(p, CL.platformName, $0, $1, $2) }
            let version = string { clGetPlatformInfo(p, CL.platformVersion, $0, $1, $2) }
            var n: cl_uint = 0
            var devices: [OpenCLDeviceInfo] = []
            if clGetDeviceIDs(p, CL.deviceTypeAll, 0, nil, &n) == CL.success, n > 0 {
                var dids = [cl_device_id?](repeating: nil, count: Int(n))
                if clGetDeviceIDs(p, CL.deviceTypeAll, n, &dids, nil) == CL.success {
                    devices = dids.compactMap { $0 }.map { info(of: $0, platform: p, platformName: name, platformVersion: version) }
                }
            }
            return OpenCLPlatform(name: name, version: version, devices: devices)
        }
    }

    func info(of d: cl_device_id, platform: cl_platform_id, platformName: String, platformVersion: String) -> OpenCLDeviceInfo {
        func s(_ what: cl_uint) -> String { string { clGetDeviceInfo(d, what, $0, $1, $2) } }
        func u<T: FixedWidthInteger>(_ t: T.Type, _ what: cl_uint) -> T { value(t) { clGetDeviceInfo(d, what, $0, $1, $2) } }
        let extensions = s(CL.deviceExtensions).split(separator: " ").map(String.init)
        return OpenCLDeviceInfo(
            platform: platform, device: d, platformName: platformName, platformVersion: platformVersion,
            name: s(CL.deviceName).trimmingSpaces, vendor: s(CL.deviceVendor), version: s(CL.deviceVersion), driverVersion: s(CL.driverVersion),
            isGPU: u(cl_ulong.self, CL.deviceType) & CL.deviceTypeGPU != 0, computeUnits: Int(u(cl_uint.self, CL.deviceMaxComputeUnits)),
            maxWorkGroupSize: Int(u(UInt.self, CL.deviceMaxWorkGroupSize)), maxParameterBytes: Int(u(UInt.self, CL.deviceMaxParameterSize)),
            globalMemoryBytes: Int(clamping: u(cl_ulong.self, CL.deviceGlobalMemSize)),
            maxAllocationBytes: Int(clamping: u(cl_ulong.self, CL.deviceMaxMemAllocSize)),
            localMemoryBytes: Int(clamping: u(cl_ulong.self, CL.deviceLocalMemSize)),
            hasFloat64: extensions.contains("cl_khr_fp64"))
    }
}

/// One OpenCL platform (an installed driver) and its devices.
public struct OpenCLPlatform: Sendable {
    public var name: String
    public var version: String
    public var devices: [OpenCLDeviceInfo]
}

/// What Tandem needs to know of an OpenCL device.
public struct OpenCLDeviceInfo: @unchecked Sendable {
    // Unchecked: the handles are the driver's, valid for the life of the process.
    let platform: cl_platform_id
    let device: cl_device_id
    public var platformName: String
    public var platformVersion: String
    public var name: String
    public var vendor: String
    public var version: String
    public var driverVersion: String
    public var isGPU: Bool
    public var computeUnits: Int
    public var maxWorkGroupSize: Int
    public var maxParameterBytes: Int
    public var globalMemoryBytes: Int
    public var maxAllocationBytes: Int
    public var localMemoryBytes: Int
    public var hasFloat64: Bool

    /// One line: name, platform, units, memory, float64.
    public var summary: String {
        "\(name) (\(isGPU ? "GPU" : "not a GPU"), \(platformName), \(version), driver \(driverVersion)), \(computeUnits) compute units, "
            + "\(globalMemoryBytes >> 20) MiB, work-groups up to \(maxWorkGroupSize), float64 \(hasFloat64 ? "yes" : "no")"
    }

    /// Why Tandem's kernels cannot run on it, or nil. A device without float64 is suitable: it
    /// refuses the kernels that need float64 (`OpenCLDevice.refusal`), which run elsewhere.
    public var unsuitable: String? {
        if maxWorkGroupSize < CRenderer.openCLThreads { return "\(name) allows work-groups of \(maxWorkGroupSize) work-items; the reductions need \(CRenderer.openCLThreads)" }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
