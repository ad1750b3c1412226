#if canImport(Glibc)
import Glibc
#endif

/// Scratch files and folders for tests, all under one private folder per test process that is
/// removed, with everything in it, when the process exits: `TestScratch.path("cache-a")`.
public enum TestScratch {
    /// The process's scratch folder (created on first use, mode 0700).
    public static let root: String = {
        let r = folder(for: getpid())
        mkdir(r, 0o700)
        atexit { TestScratch.removeTree(TestScratch.folder(for: getpid())) }
        return r
    }()

    /// A path inside the scratch folder (nothing is created there).
    public static func path(_ name: String) -> String { root + "/" + name }

    static func folder(for pid: pid_t) -> String { "/tmp/tandem-tests-\(pid)" }

    /// Removes `path` and, if it is a folder, everything below it (links are not followed).
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR, let d = opendir(path) {
            var names: [String] = []
            // The name read where it lies, not through a copy of the whole `dirent` (glibc packs
            // entries shorter than the struct; `ProcessInfoLite.forEachEntry` says more: this
            // target depends on nothing, so it repeats the three lines).
            let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            while let entry = readdir(d) {
                let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            for name in names { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
