#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing whole files for `.npy` and `.npz`: reads only regular files, never
/// blocking, with a size cap; writes through a temporary file renamed over the target, so a
/// reader never sees half a file and a failed save leaves the old one.
enum NPYFiles {
    /// The most bytes read into memory from one file or member: the machine's physical memory
    /// (the tensor needs as much again). A corrupt size field cannot make Tandem reserve more.
    static let readLimit: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// The contents of the regular file at `path`. Opening never blocks (a FIFO with no writer
    /// would), and anything but a regular file is refused before a byte is read.
    static func read(_ path: String, limit: Int = readLimit) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw NPYError.io(path: path, operation: "open it", reason: systemError()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw NPYError.io(path: path, operation: "stat it", reason: systemError()) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw NPYError.notARegularFile(path: path, kind: "directory")
        case S_IFIFO: throw NPYError.notARegularFile(path: path, kind: "FIFO")
        case S_IFCHR: throw NPYError.notARegularFile(path: path, kind: "character device")
        case S_IFBLK: throw NPYError.notARegularFile(path: path, kind: "block device")
        case S_IFSOCK: throw NPYError.notARegularFile(path: path, kind: "socket")
        default: throw NPYError.notARegularFile(path: path, kind: "special file")
        }
        let size = Int(info.st_size)
        guard size <= limit else { throw NPYError.tooLarge(path: path, bytes: size, limit: limit) }
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while initialized < size {
                let n = Glibc.read(fd, buffer.baseAddress! + initialized, min(size - initialized, 1 << 30))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw NPYError.io(path: path, operation: "read it", reason: systemError()) }
                if n == 0 { throw NPYError.io(path: path, operation: "read it", reason: "it shrank from \(size) to \(initialized) bytes while being read") }
                initialized += n
            }
        }
    }

    /// Writes the file at `path` from what `body` passes to its writer: into a new temporary
    /// file in the same folder, flushed to disk, then renamed over `path` in one step. If
    /// anything throws, the temporary file is removed and an existing file at `path` is
    /// untouched. A symbolic link at `path` keeps pointing where it did: the file it names is
    /// replaced.
    static func writeAtomically(_ path: String, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        var target = path
        var info = stat()
        if lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, let real = realpath(path, nil) {
            target = String(cString: real)
            free(real)
        }
        let folder = target.lastIndex(of: "/").map { $0 == target.startIndex ? "/" : String(target[..<$0]) } ?? "."
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = folder + "/.tandem-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw NPYError.io(path: path, operation: "create a temporary file in \(folder)", reason: systemError())
        }
        // A file replaced keeps its permissions, as writing it in place would.
        if stat(target, &info) == 0 && info.st_mode & S_IFMT == S_IFREG { fchmod(fd, info.st_mode & 0o7777) }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(fd) }
            if !renamed { unlink(temporary) }
        }
        try body { chunk in
            var done = 0
            while done < chunk.count {
                let n = write(fd, chunk.baseAddress! + done, min(chunk.count - done, 1 << 30))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw NPYError.io(path: path, operation: "write it", reason: n < 0 ? systemError() : "no progress") }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw NPYError.io(path: path, operation: "flush it to disk", reason: systemError()) }
        isOpen = false
        guard close(fd) == 0 else { throw NPYError.io(path: path, operation: "write it", reason: systemError()) }
        guard rename(temporary, target) == 0 else {
            throw NPYError.io(path: path, operation: "replace it", reason: systemError())
        }
        renamed = true
        // The rename is durable once the folder is flushed too; a failure here loses nothing.
        let dirfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    static func systemError() -> String { String(cString: strerror(errno)) }
}
