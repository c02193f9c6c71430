import Ledger
import Planning
import SQLite

/// The read-model tables, kept in the ledger's SQLite file and written in the same transaction as each append.
///
/// All of them are bitemporal: every row carries the `recorded_at` (transaction time) and `effective_at` (valid
/// time) of the event that produced it. Ownership and links are indexed so that a query at any (asOf, validAt)
/// seeks straight to its rows; entity versions are found on the log's indexes (below).
///
/// Which version of a stream a slice sees is a fact of the log alone (a version's two times), so it is read from the
/// log through indexes this projection adds to `events` (`createLogIndexes`), kept up to date by every append like the
/// log's own and never rebuilt. `entity_versions` holds only the entity's state (kind, status, creation time,
/// fields) every `snapshotInterval` versions; a read of any other version starts from the nearest snapshot at or
/// below it and folds the log's events after it (`ProjectionStore.state`). A row for every version made the table and
/// its two time indexes most of what a rebuild wrote (1.2M rows and three B-trees for 1.2M events) while repeating
/// the log's own columns.
///
/// Its key is (stream, version), which serves the seek for the nearest snapshot at or below a version. (Until layout
/// 6 it was keyed (stream, recorded_at, version) and kept each row's log position, left from when this table had a
/// row per version and answered the asOf seek itself.)
enum ProjectionSchema {
    static let tables = ["entity_versions", "ownership", "links", "projection_meta"]

    /// The layout of these tables, kept in `projection_meta`. Projections written under another layout (or before
    /// layouts were recorded) are rebuilt from the log when the ledger opens.
    static let layout = "6"

    /// Versions 1, 1 + N, 1 + 2N, … carry the full state; a read folds at most N - 1 events after one.
    static let snapshotInterval = 16

    static func carriesSnapshot(version: Int) -> Bool { (version - 1) % snapshotInterval == 0 }

    /// Creates the tables on first open, recording the layout they were made with.
    static func create(in database: Database) throws {
        let existed = try database.scalarInt(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'entity_versions'") == 1
        try createTables(in: database)
        try createIndexes(in: database)
        try createLogIndexes(in: database)
        if !existed { try recordLayout(in: database) }
    }

    /// Whether the tables were made with the current layout (false for projections from an older version, which
    /// the ledger rebuilds).
    /// - Throws: `LedgerError` `unsupported_layout` for projections from a newer version: rebuilding them on open
    ///   would silently downgrade them under that version's feet. `planledger rebuild`, asked for, still does.
    static func isCurrent(in database: Database) throws -> Bool {
        // The views read through the log's indexes by name: a file without one (dropped by hand) is not current, so
        // a read-only open says to rebuild rather than failing every view, and a writable one makes them again.
        let logIndexes = try database.scalarInt(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name IN \(sqlList(logIndexNames))")
        let recorded = try database.scalarText("SELECT value FROM projection_meta WHERE key = 'layout'")
        if let recorded, let found = Int(recorded), let known = Int(layout), found > known {
            throw LedgerError(.storage, code: "unsupported_layout",
                              "\(database.path): its projections have layout \(found), written by a newer PlanLedger; "
                              + "this one knows layouts up to \(known). Use a newer planledger, or 'planledger "
                              + "rebuild' to recreate them for this one")
        }
        return recorded == layout && logIndexes == Int64(logIndexNames.count)
    }

    static func recordLayout(in database: Database) throws {
        try database.run("INSERT OR REPLACE INTO projection_meta (key, value) VALUES ('layout', ?1)", [.text(layout)])
    }

    /// The secondary indexes, apart from the tables so that a rebuild can fill the tables first and build each index
    /// once at the end (a sort), which is faster than updating the B-trees row by row.
    static func createIndexes(in database: Database) throws {
        try database.execute(
            """
            CREATE INDEX IF NOT EXISTS entity_versions_by_kind ON entity_versions (kind, stream) WHERE version = 1;
            CREATE INDEX IF NOT EXISTS ownership_by_organisation ON ownership (organisation, stream);
            CREATE INDEX IF NOT EXISTS links_by_source ON links (source, relation, effective_at);
            """)
    }

    /// Indexes on the log that the views seek on: the version of a stream visible at a recorded time and at a valid
    /// time (each covering the other time, so one seek answers), and the changes taking effect in a window. Along a
    /// stream both times only grow with the version (the ledger refuses an event effective before its stream's
    /// last), so the versions visible at (asOf, validAt) are a prefix, found by these seeks.
    ///
    /// They index immutable columns of the log, so appends keep them like the log's own indexes and a rebuild, which
    /// recreates what is derived from the log's meaning, leaves them alone. Made on first open of a ledger written
    /// before they existed (one index build over the log).
    static let logIndexNames = ["events_by_stream_recorded", "events_by_stream_effective", "events_by_effective"]

    /// SQL that is true for a row of `events` whose stream is of a planning kind: the log also holds streams other
    /// hooks fold (`access/`), which this projection has no state for. Evaluated on the log's indexes, which hold
    /// `stream`.
    static let plannedStream = "substr(stream, 1, instr(stream, '/') - 1) IN \(sqlList(EventCatalog.kinds))"

    /// `('a', 'b')`: a list of this module's own names (never input) as SQL string literals.
    private static func sqlList(_ names: [String]) -> String {
        "(" + names.map { "'\($0)'" }.joined(separator: ", ") + ")"
    }

    static func createLogIndexes(in database: Database) throws {
        try database.execute(
            """
            CREATE INDEX IF NOT EXISTS events_by_stream_recorded ON events (stream, recorded_at, version, effective_at);
            CREATE INDEX IF NOT EXISTS events_by_stream_effective ON events (stream, effective_at, version, recorded_at);
            CREATE INDEX IF NOT EXISTS events_by_effective ON events (effective_at, stream, recorded_at);
            """)
    }

    /// The tables with their primary keys (which the projection's own reads during a rebuild rely on).
    static func createTables(in database: Database) throws {
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS entity_versions (
                stream TEXT NOT NULL,
                version INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                effective_at INTEGER NOT NULL,
                -- The state after this version; rows only for versions where carriesSnapshot(version).
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                fields TEXT NOT NULL,
                PRIMARY KEY (stream, version)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ownership (
                stream TEXT NOT NULL,
                effective_at INTEGER NOT NULL,
                position INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                organisation TEXT NOT NULL,
                PRIMARY KEY (stream, effective_at, position)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS links (
                target TEXT NOT NULL,
                relation TEXT NOT NULL,
                source TEXT NOT NULL,
                position INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                effective_at INTEGER NOT NULL,
                PRIMARY KEY (target, relation, source, position)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS projection_meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            """)
    }

    /// Drops the tables (not the log's indexes). Without zeroing their pages: Debian's SQLite is built with
    /// `secure_delete` on, which wrote every freed page of a large projection into the WAL (most of a rebuild's
    /// drop), and these pages hold nothing that is not in the log.
    static func drop(in database: Database) throws {
        let secureDelete = try database.scalarInt("PRAGMA secure_delete") ?? 0
        try database.execute("PRAGMA secure_delete = 0")
        defer { try? database.execute("PRAGMA secure_delete = \(secureDelete)") }
        for table in tables { try database.execute("DROP TABLE IF EXISTS \(table)") }
    }
}
