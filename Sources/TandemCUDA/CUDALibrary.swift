#if canImport(Glibc)
import Glibc
#endif
import TandemRuntime

/// Where the CUDA libraries are looked for, in order.
///
/// Driver: `libcuda.so.1`, then `libcuda.so`, on the loader's path (the driver is installed with
/// the kernel module, never in a toolkit folder). NVRTC: `TANDEM_NVRTC` (a file) if set, else
/// `libnvrtc.so`, `libnvrtc.so.13`, `libnvrtc.so.12`, `libnvrtc.so.11.2` in `$CUDA_HOME/lib64`,
/// `/usr/local/cuda/lib64`, `/usr/lib/x86_64-linux-gnu`, the `nvidia/cuda_nvrtc/lib` and
/// `nvidia/cu13/lib` folders of pip wheels in the active virtual environment or conda prefix and
/// the system's site-packages (found with `glob`, no Python started), then the bare names on the
/// loader path.
public enum CUDALibraryPaths {
    public static let driverNames = ["libcuda.so.1", "libcuda.so"]
    public static let nvrtcNames = ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]

    public static func driverCandidates() -> [String] { driverNames }

    public static func nvrtcCandidates() -> [String] {
        if let explicit = ProcessInfoLite.environment("TANDEM_NVRTC") { return [explicit] }
        var out: [String] = []
        for d in nvrtcFolders() where access(d, F_OK) == 0 {
            for n in nvrtcNames where access(d + "/" + n, F_OK) == 0 { out.append(d + "/" + n) }
        }
        return out + nvrtcNames
    }

    /// The folders searched for NVRTC before the loader path, in order.
    public static func nvrtcFolders() -> [String] {
        var dirs: [String] = []
        if let home = ProcessInfoLite.environment("CUDA_HOME") { dirs += [home + "/lib64", home + "/lib"] }
        if let home = ProcessInfoLite.environment("CUDA_PATH") { dirs += [home + "/lib64"] }
        dirs += ["/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu"]
        for site in ProcessInfoLite.pythonSitePackages() {
            dirs += [site + "/nvidia/cuda_nvrtc/lib", site + "/nvidia/cu13/lib"]
        }
        return dirs
    }
}
