#if canImport(Glibc)
import Glibc
#endif

extension Database {
    /// Whether a `-wal` or `-shm` file is beside the database at `path`: some connection has the database open in
    /// WAL mode, or had it and could not remove them (https://sqlite.org/tempfiles.html#write_ahead_log_wal_files).
    static func hasWALFiles(beside path: String) -> Bool {
        access(path + "-wal", F_OK) == 0 || access(path + "-shm", F_OK) == 0
    }

    /// Removes the `-wal` and `-shm` files beside the database at `path`, unless any connection, in any process,
    /// has the database open.
    ///
    /// A read-only connection to a database in WAL mode creates both files when they are missing
    /// (https://sqlite.org/wal.html#readonly) and cannot remove them: the last connection to close removes them, and
    /// only one that may write, since it first folds the WAL into the database file. So this opens the database for
    /// writing (its journal mode left as it is), reads, which takes the shared lock every connection in WAL mode
    /// holds while open, and closes. Closing, SQLite folds and removes only if it gets the exclusive lock, that is
    /// when no other connection is open: one beside it (a server's) keeps the files it needs. With no commits in
    /// the WAL, the fold writes nothing to the database file. With neither file there, nothing is opened.
    static func removeWALFilesIfUnused(beside path: String) {
        guard hasWALFiles(beside: path) else { return }
        var options = Options(create: false)
        options.keepsJournalMode = true
        options.busyTimeoutMilliseconds = 0
        guard let database = try? Database(path: path, options: options) else { return }
        _ = try? database.scalarInt("PRAGMA schema_version")
        database.close()
    }
}

/// Whether the `-wal` and `-shm` files were beside a database when a read-only use of it began, so that when the
/// use ends (or is refused) the files its reads made are removed, and those that were already there are left.
public struct WALFilesBeside: Sendable {
    private let path: String
    private let existedAtStart: Bool

    /// Notes, before the first connection opens, whether the files are there.
    public init(_ path: String) {
        self.path = path
        existedAtStart = Database.hasWALFiles(beside: path)
    }

    /// After every connection of the use has closed: removes the files, unless they were there at the start or
    /// another connection (in any process) has the database open.
    public func removeThoseMadeSince() {
        if !existedAtStart { Database.removeWALFilesIfUnused(beside: path) }
    }
}
