#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

// The MPI C API Tandem uses (Open MPI's mpi.h), as Swift sees it. Open MPI's handles
// (`MPI_Comm`, `MPI_Datatype`, `MPI_Errhandler`) are pointers to its own structs, and its
// predefined handles are the addresses of global objects (`MPI_COMM_WORLD` is
// `&ompi_mpi_comm_world`): both are opaque pointers here, the globals found with `dlsym`.
public typealias MPI_Comm = OpaquePointer
public typealias MPI_Datatype = OpaquePointer
public typealias MPI_Errhandler = OpaquePointer

typealias PFN_MPI_Init_thread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
                                                Int32, UnsafeMutablePointer<Int32>?) -> Int32
typealias PFN_MPI_Initialized = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
typealias PFN_MPI_Finalize = @convention(c) () -> Int32
typealias PFN_MPI_Abort = @convention(c) (MPI_Comm?, Int32) -> Int32
typealias PFN_MPI_Comm_int = @convention(c) (MPI_Comm?, UnsafeMutablePointer<Int32>?) -> Int32
typealias PFN_MPI_Comm_set_errhandler = @convention(c) (MPI_Comm?, MPI_Errhandler?) -> Int32
typealias PFN_MPI_Error_string = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32
typealias PFN_MPI_Barrier = @convention(c) (MPI_Comm?) -> Int32
typealias PFN_MPI_Bcast = @convention(c) (UnsafeMutableRawPointer?, Int32, MPI_Datatype?, Int32, MPI_Comm?) -> Int32
typealias PFN_MPI_Allgather = @convention(c) (UnsafeRawPointer?, Int32, MPI_Datatype?, UnsafeMutableRawPointer?, Int32, MPI_Datatype?, MPI_Comm?) -> Int32
typealias PFN_MPI_Allgatherv = @convention(c) (UnsafeRawPointer?, Int32, MPI_Datatype?, UnsafeMutableRawPointer?, UnsafePointer<Int32>?,
                                               UnsafePointer<Int32>?, MPI_Datatype?, MPI_Comm?) -> Int32
// The last argument is an `MPI_Status *`; Tandem always passes `MPI_STATUS_IGNORE`, which is
// the null pointer in Open MPI.
typealias PFN_MPI_Sendrecv = @convention(c) (UnsafeRawPointer?, Int32, MPI_Datatype?, Int32, Int32, UnsafeMutableRawPointer?, Int32,
                                             MPI_Datatype?, Int32, Int32, MPI_Comm?, UnsafeMutableRawPointer?) -> Int32
typealias PFN_MPI_Get_count = @convention(c) (UnsafeRawPointer?, MPI_Datatype?, UnsafeMutablePointer<Int32>?) -> Int32
typealias PFN_MPI_Wtime = @convention(c) () -> Double

/// MPI's constants Tandem uses, as Open MPI defines them (mpi.h).
enum MPIConstant {
    static let success: Int32 = 0
    static let threadSerialized: Int32 = 2
    /// `MPI_PROC_NULL`: a send to it or a receive from it completes at once and moves nothing.
    static let procNull: Int32 = -2
    /// `MPI_MAX_ERROR_STRING` (Open MPI's `OPAL_MAX_ERROR_STRING`).
    static let maxErrorString = 256
}

/// Why MPI cannot be used in this process, in one sentence that says what was searched.
public struct MPIUnavailable: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var description: String { reason }
}

/// The MPI functions and predefined handles Tandem uses, resolved once from Open MPI's
/// `libmpi.so.40`, loaded with `dlopen` at first use and never linked: the package builds and
/// runs without MPI, and only a process started by `mpirun` loads it (`MPILaunch`). Opened with
/// `RTLD_NOW | RTLD_GLOBAL`, since Open MPI's components (`mca_*.so`, opened by `MPI_Init`)
/// resolve `libmpi`'s symbols from the global scope. `TANDEM_MPI_LIBRARY` names another library.
///
///     switch MPILibrary.shared {
///     case .success: print("Open MPI can be loaded")
///     case .failure(let why): print(why)      // what was tried, and the Debian packages
///     }
public final class MPILibrary: Sendable {
    let library: DynamicLibrary
    let MPI_Init_thread: PFN_MPI_Init_thread
    let MPI_Initialized: PFN_MPI_Initialized
    let MPI_Finalize: PFN_MPI_Finalize
    let MPI_Abort: PFN_MPI_Abort
    let MPI_Comm_rank: PFN_MPI_Comm_int
    let MPI_Comm_size: PFN_MPI_Comm_int
    let MPI_Comm_set_errhandler: PFN_MPI_Comm_set_errhandler
    let MPI_Error_string: PFN_MPI_Error_string
    let MPI_Barrier: PFN_MPI_Barrier
    let MPI_Bcast: PFN_MPI_Bcast
    let MPI_Allgather: PFN_MPI_Allgather
    let MPI_Allgatherv: PFN_MPI_Allgatherv
    let MPI_Sendrecv: PFN_MPI_Sendrecv
    let MPI_Get_count: PFN_MPI_Get_count
    let MPI_Wtime: PFN_MPI_Wtime
    let handles: Handles

    /// Open MPI's predefined handles: the addresses of its global objects.
    struct Handles: @unchecked Sendable {
        // This is safe: they are addresses of objects in a library that is never closed, never
        // written through by Tandem, and valid for the whole process.
        let commWorld: MPI_Comm
        let byte: MPI_Datatype
        let errorsReturn: MPI_Errhandler
    }

    /// Where the library is looked for: Open MPI's ABI-versioned name first (what
    /// `openmpi-bin`/`libopenmpi3` install), then the development link.
    public static func candidates() -> [String] {
        if let path = ProcessInfoLite.environment("TANDEM_MPI_LIBRARY"), !path.isEmpty { return [path] }
        return ["libmpi.so.40", "libmpi.so", "/usr/lib/x86_64-linux-gnu/libmpi.so.40", "/usr/lib/aarch64-linux-gnu/libmpi.so.40"]
    }

    /// The library of this process, loaded at first use, or why it cannot be.
    public static let shared: Result<MPILibrary, MPIUnavailable> = load(candidates: candidates())

    /// Loads the API from the first of `candidates` that opens.
    public static func load(candidates: [String]) -> Result<MPILibrary, MPIUnavailable> {
        switch DynamicLibrary.open(candidates: candidates, global: true) {
        case .failure(let e):
            return .failure(MPIUnavailable(reason: "no MPI library: \(e.description) (Debian: openmpi-bin and libopenmpi-dev; TANDEM_MPI_LIBRARY names one)"))
        case .success(let lib):
            do { return .success(try MPILibrary(lib)) } catch {
                let why = (error as? LibraryNotFound)?.tried.joined(separator: "; ") ?? "\(error)"
                return .failure(MPIUnavailable(reason: "the MPI library at \(lib.path) is unusable (Tandem needs Open MPI's): \(why)"))
            }
        }
    }

    private init(_ l: DynamicLibrary) throws {
        library = l
        MPI_Init_thread = try l.symbol("MPI_Init_thread", as: PFN_MPI_Init_thread.self)
        MPI_Initialized = try l.symbol("MPI_Initialized", as: PFN_MPI_Initialized.self)
        MPI_Finalize = try l.symbol("MPI_Finalize", as: PFN_MPI_Finalize.self)
        MPI_Abort = try l.symbol("MPI_Abort", as: PFN_MPI_Abort.self)
        MPI_Comm_rank = try l.symbol("MPI_Comm_rank", as: PFN_MPI_Comm_int.self)
        MPI_Comm_size = try l.symbol("MPI_Comm_size", as: PFN_MPI_Comm_int.self)
        MPI_Comm_set_errhandler = try l.symbol("MPI_Comm_set_errhandler", as: PFN_MPI_Comm_set_errhandler.self)
        MPI_Error_string = try l.symbol("MPI_Error_string", as: PFN_MPI_Error_string.self)
        MPI_Barrier = try l.symbol("MPI_Barrier", as: PFN_MPI_Barrier.self)
        MPI_Bcast = try l.symbol("MPI_Bcast", as: PFN_MPI_Bcast.self)
        MPI_Allgather = try l.symbol("MPI_Allgather", as: PFN_MPI_Allgather.self)
        MPI_Allgatherv = try l.symbol("MPI_Allgatherv", as: PFN_MPI_Allgatherv.self)
        MPI_Sendrecv = try l.symbol("MPI_Sendrecv", as: PFN_MPI_Sendrecv.self)
        MPI_Get_count = try l.symbol("MPI_Get_count", as: PFN_MPI_Get_count.self)
        MPI_Wtime = try l.symbol("MPI_Wtime", as: PFN_MPI_Wtime.self)
        func global(_ name: String) throws -> OpaquePointer {
            // dlsym of a data symbol is the object's address: exactly what mpi.h's
            // OMPI_PREDEFINED_GLOBAL(type, global) makes of `&global`.
            guard let p = dlsym(l.handle, name) else {
                throw LibraryNotFound(tried: ["\(l.path) has no \(name) (not Open MPI?)"])
            }
            return OpaquePointer(p)
        }
        // Every buffer moves as bytes (`MPI_BYTE`): Tandem's element types are plain values and
        // the ranks of one job share one machine architecture.
        handles = Handles(commWorld: try global("ompi_mpi_comm_world"), byte: try global("ompi_mpi_byte"),
                          errorsReturn: try global("ompi_mpi_errors_return"))
    }

    /// MPI's own text for an error code (`MPI_Error_string`).
    func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: MPIConstant.maxErrorString + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPIConstant.success else { return "unknown MPI error" }
        return String(decoding: buffer.prefix(Int(max(0, min(length, Int32(MPIConstant.maxErrorString))))).map { UInt8(bitPattern: $0) },
                      as: UTF8.self)
    }

    /// The one checker of MPI calls: returns on `MPI_SUCCESS`, else throws an `MPIError` naming
    /// the call and carrying MPI's message (the communicator returns errors: `MPI_ERRORS_RETURN`).
    public func check(_ result: Int32, _ call: String) throws {
        guard result != MPIConstant.success else { return }
        throw MPIError(call: call, code: result, message: errorString(result))
    }
}

/// A failed MPI call: which call, the code, and MPI's message for it.
///
///     // MPI_Sendrecv failed: MPI_ERR_RANK: invalid rank (code 6)
public struct MPIError: Error, CustomStringConvertible, Equatable {
    public var call: String
    public var code: Int32
    public var message: String
    public var description: String { "\(call) failed: \(message) (code \(code))" }
}
