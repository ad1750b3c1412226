import ArgumentParser
import Tandem
import TandemBLAS
import TandemCUDA
import TandemOpenCL
import TandemRuntime

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the devices Tandem can use, or why not.")

    @Flag(help: "Also measure the GPU's device-to-device copy bandwidth (cuMemcpyDtoDAsync of 1 GiB, best of 10).") var bandwidth = false

    func run() throws {
        switch Tandem.cpu.toolchain {
        case .success(let tc):
            print("cpu: \(ProcessInfoLite.cores) cores, C compiler \(tc.path) (\(tc.identity)), cache \(Tandem.cpu.cache.directory)")
            if let problem = VerifiedFileCache.safetyProblem(Tandem.cpu.cache.directory) {
                print("cache: UNSAFE: \(problem); compiled kernels are not loaded from it (every run compiles again, or the interpreter runs them). Set TANDEM_CACHE_DIR to a private folder.")
            }
        case .failure(let e):
            print("cpu: no compiled kernels: \(e.description); the interpreter runs them")
        }
        print("interpreter: always available")
        switch BLAS.shared.availability {
        case .available(let lib): print("blas: \(lib): float matrix products and matrix-vector products of stored matrices (matmul, dot, einsum) under auto and cpu")
        case .unavailable(let why): print("blas: none (\(why)); matrix-matrix products use Tandem's tiled kernel (with a C compiler), matrix-vector products generated kernels")
        }
        switch LAPACK.shared.availability {
        case .available(let lib):
            let routines = LAPACK.shared.decompositionRoutines
            print("lapack: \(lib): LU factorisation for solve, inverse and determinant; least squares (lstsq, polyfit) "
                  + (LAPACK.shared.hasLeastSquares ? "by dgelsd" : "by Tandem's own SVD (no dgelsd in it)")
                  + "; cholesky, qr, eigh, svd, eig by " + (routines.count == 5 ? routines.joined(separator: ", ")
                      : (routines.isEmpty ? "Tandem's own routines" : routines.joined(separator: ", ") + " and Tandem's own for the rest")))
        case .unavailable(let why): print("lapack: none (\(why)); cholesky, qr, eigh, svd and eig by Tandem's own routines")
        }
        let nvrtc: String
        switch NVRTC.shared {
        case .success(let n): nvrtc = "\(n.identity) at \(n.path)"
        case .failure(let e): nvrtc = e.reason
        }
        switch CUDADeviceInfo.probe() {
        case .success(let gpus):
            for g in gpus { print("cuda: \(g.summary)") }
            print("cuda: compiler: \(nvrtc); CUBIN cache \(Tandem.cuda.cache.directory)/cuda")
            if case .unavailable(let why) = Tandem.cuda.availability { print("cuda: unavailable: \(why)") }
            if bandwidth, Tandem.cuda.availability == .available {
                let gbs = try Tandem.cuda.copyBandwidth() / 1e9
                print("cuda: device-to-device copy bandwidth \((gbs * 10).rounded() / 10) GB/s (read + write)")
            }
            print("cuda: used under TANDEM_DEVICE=cuda and, where the cost model predicts it finishes first, under auto")
        case .failure(let e):
            print("cuda: unavailable: \(e.reason)")
            print("cuda: compiler: \(nvrtc)")
        }
        listOpenCL()
    }

    /// Every OpenCL platform and device the loader lists, which one Tandem uses, or why none.
    func listOpenCL() {
        switch OpenCLDriver.shared {
        case .failure(let e):
            print("opencl: unavailable: \(e.reason)")
        case .success(let cl):
            let platforms = (try? cl.platforms()) ?? []
            if platforms.isEmpty { print("opencl: the loader lists no platform (install a driver, e.g. pocl-opencl-icd)") }
            var index = 0
            for p in platforms {
                print("opencl: platform \(p.name) (\(p.version)), \(p.devices.count) device(s)")
                for d in p.devices {
                    print("opencl: [\(index)] \(d.summary)")
                    index += 1
                }
            }
            switch Tandem.openCL.availability {
            case .available:
                let d = Tandem.openCL.info!
                print("opencl: uses \(d.name) (TANDEM_OPENCL_DEVICE=index or name to choose); programs cached in \(Tandem.openCL.files.folder)")
                print("opencl: used under TANDEM_DEVICE=opencl; " + (Calibration.load(workers: ProcessInfoLite.cores)?.openCL != nil
                      ? "under auto where the cost model predicts it finishes first" : "not offered under auto: the machine profile has no measurements of it")
                      + (d.isGPU ? "" : " (this device shares the CPU's cores)"))
            case .unavailable(let why):
                print("opencl: unavailable: \(why)")
            }
        }
    }
}
