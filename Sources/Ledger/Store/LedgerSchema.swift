import Foundation
import SQLite

/// The ledger's tables. The log (`events`) is the record; `streams` and `merkle_nodes` are derived from it and
/// rechecked by `verify`; `ledger_meta` holds the format version and the committed size.
enum LedgerSchema {
    static let formatVersion = 1

    static func create(in database: Database) throws {
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS ledger_meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS events (
                position INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                stream TEXT NOT NULL,
                version INTEGER NOT NULL,
                type TEXT NOT NULL,
                schema_version INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                effective_at INTEGER NOT NULL,
                actor_id TEXT NOT NULL,
                actor_role TEXT NOT NULL,
                actor_organisation TEXT,
                reason TEXT,
                correlation_id TEXT,
                causation_id TEXT,
                data TEXT NOT NULL,
                hash BLOB NOT NULL,
                UNIQUE (stream, version)
            );
            CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
            CREATE INDEX IF NOT EXISTS events_by_actor ON events (actor_id, position);
            CREATE INDEX IF NOT EXISTS events_by_organisation ON events (actor_organisation, position);
            CREATE INDEX IF NOT EXISTS events_by_recorded_at ON events (recorded_at);
            CREATE TABLE IF NOT EXISTS streams (
                stream TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                version INTEGER NOT NULL,
                last_effective_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS merkle_nodes (
                level INTEGER NOT NULL,
                idx INTEGER NOT NULL,
                hash BLOB NOT NULL,
                PRIMARY KEY (level, idx)
            ) WITHOUT ROWID;
            """)
        if try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'format'") == nil {
            try database.run("INSERT INTO ledger_meta (key, value) VALUES ('format', ?1), ('size', '0')",
                             [.text(String(formatVersion))])
        }
        try checkFormat(in: database)
    }

    /// The tables a file must hold to be a ledger.
    static let tables: Set<String> = ["ledger_meta", "events", "streams", "merkle_nodes"]

    /// Opens `path` on a read-only connection and checks that it holds a ledger this build can read, writing
    /// nothing: not creating a missing file, and not adding tables to an empty or foreign database. Refusing, it
    /// leaves no `-wal` or `-shm` that reading a file in WAL mode made beside it.
    /// - Throws: `LedgerError` `not_a_ledger` or `unsupported_format`.
    static func openExisting(path: String) throws -> Database {
        func notALedger(_ why: String) -> LedgerError {
            LedgerError(.storage, code: "not_a_ledger", "\(path) is not a PlanLedger ledger: \(why)")
        }
        guard FileManager.default.fileExists(atPath: path) else { throw notALedger("there is no such file") }
        let walFiles = WALFilesBeside(path)
        do {
            let database = try Database(path: path, options: .reading(path))
            do {
                let present = Set(try database.map("SELECT name FROM sqlite_schema WHERE type = 'table'") {
                    $0.text(0)
                })
                guard present.isSuperset(of: tables) else {
                    throw notALedger(present.isEmpty ? "it holds no tables" : "it lacks the ledger's tables")
                }
                try checkFormat(in: database)
                return database
            } catch {
                database.close()
                walFiles.removeThoseMadeSince()
                throw error
            }
        } catch let error as SQLiteError where error.primaryCode == 26 {  // SQLITE_NOTADB
            throw notALedger("it is not an SQLite database")
        }
    }

    /// Refuses a ledger whose recorded format is newer than this build's: its meaning may have changed in ways this
    /// code would misread, and anything it appended could corrupt it for the version that wrote it.
    static func checkFormat(in database: Database) throws {
        let recorded = try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'format'")
        guard let recorded, let format = Int(recorded) else {
            throw LedgerError(.storage, code: "not_a_ledger",
                              "\(database.path) is not a PlanLedger ledger: it records no format version")
        }
        guard format <= formatVersion else {
            throw LedgerError(.storage, code: "unsupported_format",
                              "\(database.path) is a ledger of format \(format), written by a newer PlanLedger; "
                              + "this one reads formats up to \(formatVersion). Use a newer planledger; nothing was "
                              + "changed")
        }
    }
}
