import CSQLite

#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection. Not `Sendable`: a connection is used by one thread at a time, as SQLite's
/// "multi-thread" mode requires; callers that move it between threads (a reader pool) hand it over whole.
///
/// Opened the way GRDB does it: `sqlite3_open_v2`, extended result codes on, WAL checked, `busy_timeout`,
/// `synchronous=FULL` so that a committed transaction is durable before `commit()` returns.
public final class Database {
    /// Nil once `close()` has run.
    private var openHandle: OpaquePointer?
    public let path: String
    private var statements: [String: Statement] = [:]
    /// Retained here for as long as `handle`, whose rollback hook points at it.
    let attachmentBox = AttachmentBox()
    /// Retained here for as long as `handle`, whose WAL hook points at it (nil when none is installed).
    var walHookBox: WALHookBox?

    public struct Options: Sendable {
        public var readOnly = false
        public var create = true
        public var busyTimeoutMilliseconds: Int32 = 5_000
        /// Page cache size; nil keeps SQLite's default (2 MiB), which is enough for a reader's point queries but
        /// makes a writer on a large file re-read the pages of every index it touches from the OS.
        public var cacheSizeKiB: Int?
        /// Committed WAL pages before SQLite copies them back into the database file; nil keeps the default (1,000
        /// pages). Larger means hot pages (the right edges of the log's indexes) are copied back once for many commits.
        public var walAutocheckpointPages: Int?
        /// Bytes the WAL file is truncated to when it is reset after a complete checkpoint; nil keeps SQLite's
        /// default (never truncated), so a WAL that grew during a long read would keep its size on disk.
        public var walSizeLimitBytes: Int?
        /// Opens read-only with `immutable=1` (https://sqlite.org/uri.html#uriimmutable): no locks, no `-wal` or
        /// `-shm` files; only for a file that nothing writes while it is open.
        public var immutable = false
        /// Opened for writing, leaves the database's journal mode as it is instead of setting WAL: for a connection
        /// that must not change the file, such as the one `removeWALFilesIfUnused(beside:)` opens.
        public var keepsJournalMode = false

        public init(readOnly: Bool = false, create: Bool = true, cacheSizeKiB: Int? = nil, walAutocheckpointPages: Int? = nil,
                    walSizeLimitBytes: Int? = nil) {
            self.readOnly = readOnly
            self.create = create
            self.cacheSizeKiB = cacheSizeKiB
            self.walAutocheckpointPages = walAutocheckpointPages
            self.walSizeLimitBytes = walSizeLimitBytes
        }

        /// For a connection that appends or rebuilds: a 64 MiB page cache, checkpoints every 4,000 pages (16 MiB),
        /// and the WAL cut back to 128 MiB whenever it restarts (above what the ledger's checkpoints let it reach
        /// under load, so a steady WAL is reused in place rather than cut and regrown block by block).
        public static let writer = Options(cacheSizeKiB: 65_536, walAutocheckpointPages: 4_000,
                                           walSizeLimitBytes: 128 << 20)

        /// For a connection that only reads the existing database at `path`. A file this process may not write,
        /// with no `-shm` beside it (so no connection has it open in WAL mode) and no committed frames in a `-wal`,
        /// is opened `immutable`: a plain read-only connection would create the `-wal` and `-shm` files itself, with
        /// the database's read-only mode, which then stop its owner writing to it once it is made writable again (and
        /// in a directory this process may not write, it cannot open the database at all:
        /// https://sqlite.org/wal.html#readonly). An immutable connection never reads the `-wal`, so a copy taken
        /// with its `-wal` (commits not yet folded into the file) is opened plainly, to read them.
        public static func reading(_ path: String) -> Options {
            var options = Options(readOnly: true, create: false)
            options.immutable = access(path, W_OK) != 0 && access(path + "-shm", F_OK) != 0
                && !Database.walHoldsCommits(beside: path)
            return options
        }
    }

    public init(path: String, options: Options = Options()) throws(SQLiteError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        if options.readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if options.create { flags |= SQLITE_OPEN_CREATE }
        }
        var name = path
        if options.immutable {
            flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY
            name = "file:" + Self.uriPath(path) + "?immutable=1"
        }
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(name, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(extendedCode: code, message: "\(message): \(path)")
        }
        self.openHandle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
        Database.installRollbackHook(handle, attachmentBox)
        do {
            try configure(options)
        } catch where options.readOnly && error.primaryCode == SQLITE_CANTOPEN {
            guard let reason = Self.whyWALCannotBeRead(beside: path) else { throw error }
            throw SQLiteError(extendedCode: error.extendedCode, message: "\(error.message): \(reason)", sql: error.sql)
        }
    }

    /// The first statements of every connection: where a read-only one first reads the file (and its `-wal`).
    private func configure(_ options: Options) throws(SQLiteError) {
        try execute("PRAGMA foreign_keys = ON")
        if !options.readOnly && !options.keepsJournalMode {
            let mode = try scalarText("PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(extendedCode: SQLITE_ERROR, message: "journal_mode=WAL returned \(mode ?? "nothing")")
            }
        }
        try execute("PRAGMA synchronous = FULL")
        // Statement journals (kept for a statement inside a savepoint, so that it alone can be undone) and other
        // temporary files stay in memory: on disk, each one was a file created, written, fchown-ed and removed.
        try execute("PRAGMA temp_store = MEMORY")
        if let kib = options.cacheSizeKiB { try execute("PRAGMA cache_size = -\(kib)") }
        if let pages = options.walAutocheckpointPages { try execute("PRAGMA wal_autocheckpoint = \(pages)") }
        if let bytes = options.walSizeLimitBytes { _ = try scalarInt("PRAGMA journal_size_limit = \(bytes)") }
    }

    /// Whether a non-empty `-wal` is beside the database at `path`: commits a reader must read through it.
    static func walHoldsCommits(beside path: String) -> Bool {
        var wal = stat()
        return stat(path + "-wal", &wal) == 0 && wal.st_size > 0
    }

    /// Why a read-only connection could not open the database at `path`, when the cause is the one SQLite's own
    /// message hides: a `-wal` holding commits, no `-shm` beside it, and a directory this process may not write,
    /// so the `-shm` needed to read those commits cannot be made (https://sqlite.org/wal.html#readonly). A copy
    /// taken as documented (the file and its `-wal`) into a write-protected directory meets exactly this. Nil
    /// for any other cause.
    /// `mayWrite` is `access(_, W_OK)`, given by tests (which run as root here, whom every directory admits).
    static func whyWALCannotBeRead(beside path: String,
                                   mayWrite: (String) -> Bool = { access($0, W_OK) == 0 }) -> String? {
        guard walHoldsCommits(beside: path), access(path + "-shm", F_OK) != 0 else { return nil }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard !mayWrite(directory) else { return nil }
        return "its -wal holds commits not yet folded into the file, and reading them needs a \(path)-shm beside it, "
            + "which cannot be made in \(directory); copy the file and its -wal to a directory you may write, "
            + "or fold the -wal into the file first, by opening it once with write access"
    }

    /// `path` with every byte a URI filename could misread (`?`, `#`, `%`, spaces...) percent-encoded.
    static func uriPath(_ path: String) -> String {
        var encoded = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-"),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return encoded
    }

    deinit { close() }

    /// The connection. Using it after `close()` is a programming error, which traps here rather than hand SQLite a
    /// freed connection.
    var handle: OpaquePointer {
        guard let openHandle else { preconditionFailure("\(path): connection used after close()") }
        return openHandle
    }

    /// Closes the connection now rather than when the object is released, which may be on another thread and later
    /// (or never, if the process exits first). What SQLite does as the last connection to a WAL database closes
    /// (folding the WAL into the file and removing the `-wal` and `-shm` files) then happens before this returns.
    /// The connection must not be used afterwards; a second call does nothing.
    public func close() {
        guard let openHandle else { return }
        statements.removeAll()
        sqlite3_close_v2(openHandle)
        self.openHandle = nil
    }

    func error(code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(extendedCode: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
                    sql: sql)
    }

    /// Runs one or more statements that return no rows (schema changes, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "error \(code)"
            sqlite3_free(errorMessage)
            throw SQLiteError(extendedCode: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// A cached prepared statement for `sql` (prepared once with `SQLITE_PREPARE_PERSISTENT`), bound to `values`.
    public func prepare(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Statement {
        let statement: Statement
        if let cached = statements[sql] {
            statement = cached
        } else {
            statement = try Statement(database: self, sql: sql, persistent: true)
            statements[sql] = statement
        }
        do {
            try statement.bind(values)
        } catch {
            // A statement that failed is dropped from the cache, as GRDB does, so a later use prepares it afresh.
            statements[sql] = nil
            throw error
        }
        return statement
    }

    /// Runs a statement that returns no rows.
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        _ = try statement.step()
    }

    /// Calls `row` for every result row of `sql`.
    public func forEach(_ sql: String, _ values: [SQLiteValue] = [], _ row: (Statement) throws -> Void) throws {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        while try statement.step() { try row(statement) }
    }

    /// The rows of `sql`, each mapped by `row`.
    public func map<T>(_ sql: String, _ values: [SQLiteValue] = [], _ row: (Statement) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEach(sql, values) { result.append(try row($0)) }
        return result
    }

    /// The first row of `sql` mapped by `row`, or nil when there is none.
    public func first<T>(_ sql: String, _ values: [SQLiteValue] = [], _ row: (Statement) throws -> T) throws -> T? {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        return try statement.step() ? row(statement) : nil
    }

    public func scalarInt(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int64? {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return statement.int64(0)
    }

    public func scalarText(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> String? {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.optionalText(0)
    }

    /// How long a statement waits for a lock another connection holds before failing with `SQLITE_BUSY`.
    public func setBusyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}
