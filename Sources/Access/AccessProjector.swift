import Ledger
import SQLite

/// The `LedgerHook` for `access/<tokenId>` streams: checks grants and revocations and keeps the token table, the
/// projection the server authenticates against. Because the table is derived from the log, `rebuild` recreates it
/// and an archive carries the full history of who was granted what.
public struct AccessProjector: LedgerHook {
    public init() {}

    /// The token table, and `access_tokens_changes`: one row counting every write to it (kept by triggers), which
    /// `TokenTable` reads to tell whether a commit touched the tokens without reading them all.
    public func prepare(database: Database) throws {
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS access_tokens (
                id TEXT PRIMARY KEY,
                secret_sha256 TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL,
                organisations TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                label TEXT,
                granted_at INTEGER NOT NULL,
                revoked_at INTEGER
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS access_tokens_changes (count INTEGER NOT NULL);
            INSERT INTO access_tokens_changes SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM access_tokens_changes);
            CREATE TRIGGER IF NOT EXISTS access_tokens_inserted AFTER INSERT ON access_tokens
                BEGIN UPDATE access_tokens_changes SET count = count + 1; END;
            CREATE TRIGGER IF NOT EXISTS access_tokens_updated AFTER UPDATE ON access_tokens
                BEGIN UPDATE access_tokens_changes SET count = count + 1; END;
            CREATE TRIGGER IF NOT EXISTS access_tokens_deleted AFTER DELETE ON access_tokens
                BEGIN UPDATE access_tokens_changes SET count = count + 1; END;
            """)
    }

    public func currentSchemaVersion(of type: String) -> Int? {
        [AccessEvents.granted, AccessEvents.revoked].contains(type) ? 1 : nil
    }

    public func apply(_ records: [RecordedEvent], database: Database) throws {
        for (index, record) in records.enumerated() {
            do {
                try validate(record, database: database)
            } catch let error as LedgerError {
                throw error.at(eventIndex: index)
            }
            try project(record, database: database)
        }
    }

    private func validate(_ record: RecordedEvent, database: Database) throws {
        let exists = try database.first("SELECT revoked_at IS NOT NULL FROM access_tokens WHERE id = ?1",
                                        [.text(record.stream.key)]) { $0.int(0) == 1 }
        switch record.type {
        case AccessEvents.granted:
            guard exists == nil else {
                throw LedgerError(.domainRule, code: "invalid_transition", "token \(record.stream.key) was already granted")
            }
            _ = try AccessEvents.grant(from: record.data)
        case AccessEvents.revoked:
            guard record.data.objectValue?.isEmpty == true else {
                throw LedgerError(.invalidInput, code: "invalid_data", "AccessRevoked carries no data; give the reason in the envelope")
            }
            guard let revoked = exists else {
                throw LedgerError(.domainRule, code: "unknown_reference", "token \(record.stream.key) was never granted")
            }
            guard !revoked else {
                throw LedgerError(.domainRule, code: "invalid_transition", "token \(record.stream.key) is already revoked")
            }
            guard record.reason?.isEmpty == false else {
                throw LedgerError(.domainRule, code: "reason_required", "a revocation needs a reason")
            }
        default:
            throw LedgerError(.invalidInput, code: "unknown_type", "access streams take AccessGranted or AccessRevoked")
        }
    }

    /// `access_tokens_changes` is kept: its count only ever grows, so a `TokenTable` loaded before a rebuild reloads.
    public func resetProjections(database: Database) throws {
        try database.execute("DROP TABLE IF EXISTS access_tokens")
        try prepare(database: database)
    }

    public func project(_ record: RecordedEvent, database: Database) throws {
        switch record.type {
        case AccessEvents.granted:
            let grant = try AccessEvents.grant(from: record.data)
            try database.run(
                """
                INSERT INTO access_tokens (id, secret_sha256, role, organisations, actor_id, label, granted_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                """,
                [.text(record.stream.key), .text(grant.secretSHA256), .text(grant.role.rawValue),
                 .text(CanonicalJSON.string(JSONValue(grant.organisations))), .text(grant.actorId), SQLiteValue(grant.label),
                 .integer(record.recordedAt.millisecondsSinceEpoch)])
        case AccessEvents.revoked:
            try database.run("UPDATE access_tokens SET revoked_at = ?2 WHERE id = ?1",
                             [.text(record.stream.key), .integer(record.recordedAt.millisecondsSinceEpoch)])
        default: break
        }
    }
}
