#if canImport(Glibc)
import Glibc
#endif

/// The one place the archive code calls the file API. Every call retries on `EINTR` and reports failure as an
/// `ArchiveFileError` naming the path, so a full disk or a `ulimit -f` limit is an error to report, never a trap.
enum SystemCalls {
    /// What `stat(2)` says about a path (following symbolic links), or nil when nothing is there.
    struct FileIdentity {
        let device: UInt64
        let inode: UInt64
        let mode: UInt32

        var isDirectory: Bool { mode & S_IFMT == S_IFDIR }
        var isRegularFile: Bool { mode & S_IFMT == S_IFREG }

        func isSameFile(as other: FileIdentity) -> Bool { device == other.device && inode == other.inode }
    }

    static func identity(of path: String) throws(ArchiveFileError) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw .system("inspect", path, errno: errno)
        }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), mode: UInt32(info.st_mode))
    }

    /// Opens an existing file for reading; a directory is refused here (reading one fails with `EISDIR` later).
    static func openForReading(_ path: String) throws(ArchiveFileError) -> Int32 {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw .system("open", path, errno: errno) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw .system("read", path, errno: EISDIR)
        }
        return fd
    }

    /// Creates `path`, failing if anything is there already (`O_EXCL`): a new file can never be another one.
    static func createExclusively(_ path: String) throws(ArchiveFileError) -> Int32? {
        let fd = retrying { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666) }
        if fd < 0, errno == EEXIST { return nil }
        guard fd >= 0 else { throw .system("create", path, errno: errno) }
        return fd
    }

    /// Up to `count` bytes; empty at the end of the file.
    static func read(_ fd: Int32, count: Int, path: String) throws(ArchiveFileError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { buffer in retrying { Glibc.read(fd, buffer.baseAddress, count) } }
        guard got >= 0 else { throw .system("read", path, errno: errno) }
        bytes.removeLast(count - got)
        return bytes
    }

    /// Writes all of `bytes`, continuing after short writes.
    static func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(ArchiveFileError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                retrying { Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            }
            guard written > 0 else { throw .system("write", path, errno: written < 0 ? errno : EIO) }
            offset += written
        }
    }

    static func fsync(_ fd: Int32, path: String) throws(ArchiveFileError) {
        guard retrying({ Glibc.fsync(fd) }) == 0 else { throw .system("write", path, errno: errno) }
    }

    /// Atomically replaces `destination` (rename(2)): a reader sees the old file or the new one, never neither.
    static func rename(_ source: String, to destination: String) throws(ArchiveFileError) {
        guard Glibc.rename(source, destination) == 0 else { throw .system("replace", destination, errno: errno) }
    }

    /// Makes a rename in `directory` durable (best effort: some file systems cannot sync a directory).
    static func syncDirectory(_ directory: String) {
        let fd = retrying { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return }
        _ = retrying { Glibc.fsync(fd) }
        close(fd)
    }

    static func unlink(_ path: String) { _ = Glibc.unlink(path) }


    private static func retrying<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result < 0, errno == EINTR { continue }
            return result
        }
    }
}
