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

    /// Opens `path` (creating it if needed) and starts the import transaction.
    /// - Throws: `LedgerError` `target_not_empty` when the ledger already holds events.
    public init(path: String, hook: any LedgerHook) throws {
        let database = try Database(path: path, options: .writer)
        try database.transaction {
            try LedgerSchema.create(in: database)
            try hook.prepare(database: database)
        }
        writer = try LedgerWriter(database: database, hook: hook, clock: Timestamp.now)
        guard writer.tail.size == 0 else {
            throw LedgerError(.conflict, code: "target_not_empty",
                              "the target ledger already holds \(writer.tail.size) events; import needs an empty one")
        }
        try database.execute("BEGIN IMMEDIATE")
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
    }

    /// Rolls everything back.
    public func abort() {
        guard !finished else { return }
        finished = true
        try? writer.database.execute("ROLLBACK")
    }
}
