import Foundation
import SQLite

/// Loads records verbatim (same positions, times, actors and hashes) into an empty ledger, as `planledger import`
/// does with a verified archive. Everything happens in one transaction: on `abort()`, or any failure, the target is
/// left exactly as it was.
///
/// Each record is checked as it comes: its position continues the ledger, its hash matches its fields, its stream
/// version follows, both times are monotonic, and the domain hook accepts it (which also fills the projections).
public final class LedgerImporter {
    private let writer: LedgerWriter
    private var finished = false

    /// Opens `path` (creating it if needed) and starts the import transaction, in which the ledger's tables are
    /// created too: a refused import leaves no trace of them, and an existing database (one with no tables) is left
    /// byte for byte as it was, with no `-wal` or `-shm` beside it.
    /// - Throws: `LedgerError` `target_not_empty` when the target already holds any table (a ledger, or another
    ///   application's data, which an import must neither join nor change).
    public init(path: String, hook: any LedgerHook) throws {
        // Looked at read-only first: opening for writing would switch an existing database to WAL, a change to a
        // file the import is about to refuse. Reading one already in WAL mode makes a -wal and -shm; refusing, those
        // go again.
        if FileManager.default.fileExists(atPath: path) {
            let walFiles = WALFilesBeside(path)
            let existing = try Database(path: path, options: .init(readOnly: true, create: false))
            do {
                try Self.requireNoTables(in: existing)
            } catch {
                existing.close()
                walFiles.removeThoseMadeSince()
                throw error
            }
        }
        // The import runs in the file's own journal mode, and the ledger's WAL is set once it has committed: setting
        // it rewrites the database header at once, outside any transaction, so a later refusal (a damaged archive)
        // would have left a table-less database it was refused into switched to WAL. In a rollback journal (a new
        // file's, or a table-less database's unless it was set to WAL), rolling back restores every page it changed
        // and the file's size.
        var options = Database.Options.writer
        options.keepsJournalMode = true
        let database = try Database(path: path, options: options)
        try database.execute("BEGIN IMMEDIATE")
        do {
            try Self.requireNoTables(in: database)  // again, under the write lock
            try LedgerSchema.create(in: database)
            try hook.prepare(database: database)
            writer = try LedgerWriter(database: database, hook: hook, clock: Timestamp.now)
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    private static func requireNoTables(in database: Database) throws {
        let names = try database.map("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name") {
            $0.text(0)
        }
        guard names.isEmpty else {
            let listed = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
            throw LedgerError(
                .conflict, code: "target_not_empty",
                "\(database.path) already has tables (\(listed)); import needs a new file or an empty one")
        }
    }

    deinit { if !finished { abort() } }

    /// The number of records imported so far.
    public var size: Int { writer.tail.size }

    /// Checks and stores the next record.
    public func add(_ record: RecordedEvent) throws {
        func refuse(_ code: String, _ message: String) -> LedgerError {
            LedgerError(.invalidInput, code: code, "record at position \(record.position): \(message)",
                        details: ["position": JSONValue(record.position)])
        }
        guard record.position == writer.tail.size + 1 else {
            throw refuse("position_gap", "expected position \(writer.tail.size + 1)")
        }
        guard record.computedHash == record.hash else { throw refuse("hash_mismatch", "the hash does not match its fields") }
        guard record.recordedAt >= writer.tail.lastRecordedAt else {
            throw refuse("time_regression", "recordedAt goes back in time")
        }
        let current = try writer.database.first(
            "SELECT version, last_effective_at FROM streams WHERE stream = ?1", [.text(record.stream.description)]
        ) { (version: $0.int(0), effectiveAt: $0.int64(1)) }
        guard record.version == (current?.version ?? 0) + 1 else {
            throw refuse("version_gap", "\(record.stream) version \(record.version) does not follow \(current?.version ?? 0)")
        }
        if let current, record.effectiveAt.millisecondsSinceEpoch < current.effectiveAt {
            throw refuse("effective_time_regression", "effectiveAt goes back in time along \(record.stream)")
        }
        // Stored before the hook sees it, as in an append (the import is one transaction: a refusal rolls it back).
        try writer.store([record])
        do {
            try writer.hook.apply([record], database: writer.database)
        } catch let error as LedgerError {
            throw LedgerError(error.kind, code: error.code, "record at position \(record.position): \(error.message)",
                              details: error.details.merging(["position": JSONValue(record.position)]) { $1 })
        }
    }

    /// Commits, provided the imported ledger has exactly the expected checkpoint.
    public func commit(expected: (size: Int, rootHash: Digest)) throws {
        let checkpoint = try writer.checkpoint()
        guard checkpoint.size == expected.size, checkpoint.rootHash == expected.rootHash else {
            abort()
            throw LedgerError(.invalidInput, code: "checkpoint_mismatch",
                              "the imported ledger has size \(checkpoint.size) and root \(checkpoint.rootHash.hex); the archive promised \(expected.size) and \(expected.rootHash.hex)")
        }
        try writer.database.execute("COMMIT")
        finished = true
        // Committed, the ledger is one like any other. Should this fail, the next writer to open it sets WAL as it
        // opens, so the import stands either way.
        _ = try? writer.database.scalarText("PRAGMA journal_mode = WAL")
    }

    /// Rolls everything back.
    public func abort() {
        guard !finished else { return }
        finished = true
        try? writer.database.execute("ROLLBACK")
    }
}
