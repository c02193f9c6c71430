#if canImport(Glibc)
import Glibc
#endif

/// Why an archive file could not be read or written. Unlike `ArchiveError` (the archive's content was refused), this
/// says nothing about the archive: the file system failed (`io`: missing file, directory, full disk, file-size
/// limit), or the destination was refused before anything was written (`destination`: a directory, the ledger's
/// own file).
public struct ArchiveFileError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case io
        case destination
    }

    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// A failed system call: `cannot <action> <path>: <strerror>`.
    static func system(_ action: String, _ path: String, errno code: Int32) -> ArchiveFileError {
        ArchiveFileError(.io, path: path, "cannot \(action) \(path): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}
