#if canImport(Glibc)
import Glibc
#endif

/// Where `planledger export --out FILE` writes an archive. The bytes go to a new file beside FILE (created with
/// `O_EXCL`, so it can never be an existing file); `commit()` syncs it and renames it onto FILE with rename(2), so
/// FILE is at every moment either what it was or the complete archive. A failed or abandoned export removes the
/// new file and leaves FILE alone.
///
/// FILE is refused up front when it is a directory or any other non-regular file, or when it is one of the
/// `protected` files (the ledger being exported and its `-wal`/`-shm`), compared by device and inode so that
/// another name for the same file (a hard or symbolic link, `./`, `..`) is caught too.
public final class ArchiveDestination {
    public let path: String
    private typealias ProtectedFile = (path: String, identity: SystemCalls.FileIdentity)
    private let protected: [ProtectedFile]
    private let temporaryPath: String?
    private var fd: Int32
    private var finished = false

    /// - Parameters:
    ///   - path: the file to write, or "-" for standard output (written as it comes, nothing to rename).
    ///   - protected: files that must not be replaced, however named.
    /// - Throws: `ArchiveFileError` `.destination` for a refused path, `.io` when the new file cannot be created.
    public init(path: String, protecting protected: [String] = []) throws(ArchiveFileError) {
        self.path = path
        guard path != "-" else {
            self.protected = []
            temporaryPath = nil
            fd = STDOUT_FILENO
            return
        }
        var identities: [ProtectedFile] = []
        for file in protected {
            if let identity = try SystemCalls.identity(of: file) { identities.append((file, identity)) }
        }
        self.protected = identities
        try Self.checkReplaceable(path, protected: identities)
        // A random suffix rather than a fixed `.partial`: a fixed name could be an existing file (even the ledger),
        // and one left by an earlier crash would block every later export.
        var created: (String, Int32)?
        for _ in 0..<16 {
            let candidate = path + ".partial-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            if let fd = try SystemCalls.createExclusively(candidate) {
                created = (candidate, fd)
                break
            }
        }
        guard let (temporary, fd) = created else {
            throw ArchiveFileError(.io, path: path, "cannot create a new file beside \(path)")
        }
        temporaryPath = temporary
        self.fd = fd
    }

    deinit { discard() }

    /// Appends bytes to the archive.
    public func write(_ bytes: [UInt8]) throws(ArchiveFileError) {
        try SystemCalls.write(fd, bytes, path: temporaryPath == nil ? "standard output" : path)
    }

    /// Makes the archive durable and gives it its name, replacing whatever regular file had it.
    public func commit() throws(ArchiveFileError) {
        guard let temporaryPath, !finished else { return }
        do {
            try SystemCalls.fsync(fd, path: path)
            close(fd)
            fd = -1
            // Checked again: the destination may have changed since the export began.
            try Self.checkReplaceable(path, protected: protected)
            try SystemCalls.rename(temporaryPath, to: path)
        } catch {
            discard()
            throw error
        }
        finished = true
        let slash = path.lastIndex(of: "/")
        SystemCalls.syncDirectory(slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
    }

    /// Abandons the archive: the new file is removed and the destination left as it was.
    public func discard() {
        guard !finished else { return }
        finished = true
        guard let temporaryPath else { return }
        if fd >= 0 { close(fd) }
        fd = -1
        SystemCalls.unlink(temporaryPath)
    }

    private static func checkReplaceable(_ path: String, protected: [ProtectedFile]) throws(ArchiveFileError) {
        guard let existing = try SystemCalls.identity(of: path) else { return }
        if existing.isDirectory {
            throw ArchiveFileError(.destination, path: path, "\(path) is a directory; give the archive's file name")
        }
        guard existing.isRegularFile else {
            throw ArchiveFileError(.destination, path: path,
                                   "\(path) is not a regular file; use '--out -' to write to standard output")
        }
        if let file = protected.first(where: { existing.isSameFile(as: $0.identity) }) {
            throw ArchiveFileError(.destination, path: path,
                                   "\(path) is the ledger's own file (\(file.path)); write the archive somewhere else")
        }
    }
}
