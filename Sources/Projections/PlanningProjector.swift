import Ledger
import Planning
import SQLite

/// The `LedgerHook` of a planning ledger: checks each event against the domain rules, then folds it into the
/// projection tables, on the writer's connection inside the append's SQLite transaction. A rejected event undoes its
/// whole transaction, projection rows included, so a read after an acknowledged append always sees it.
public struct PlanningProjector: LedgerHook {
    public init() {}

    public func prepare(database: Database) throws {
        try ProjectionSchema.create(in: database)
    }

    public func currentSchemaVersion(of type: String) -> Int? { PlanningDomain.schemaVersion(of: type) }

    public func projectionsAreCurrent(database: Database) throws -> Bool { try ProjectionSchema.isCurrent(in: database) }

    /// Empty tables without their secondary indexes: `finishRebuild` builds those once the tables are full.
    public func resetProjections(database: Database) throws {
        database.dropAttachments()
        try ProjectionSchema.drop(in: database)
        try ProjectionSchema.createTables(in: database)
        try ProjectionSchema.createLogIndexes(in: database)
        try ProjectionSchema.recordLayout(in: database)
        database.attachment(LatestStateCache.self).startWithEmptyProjections()
    }

    public func finishRebuild(database: Database) throws {
        try ProjectionSchema.createIndexes(in: database)
    }

    public func project(_ record: RecordedEvent, database: Database) throws {
        var records = [record]
        try EventRun.with(&records) { try project($0, database: database) }
    }

    /// Rebuild's path: the latest state of each stream is kept in memory across pages instead of being read back.
    public func project(_ records: EventRun, database: Database) throws {
        let cache = database.attachment(LatestStateCache.self)
        var store = ProjectionStore(database: database, cache: cache)
        try records.forEach { event in
            store.folding = FoldPoint(event)
            try Self.project(event, store: store, cache: cache)
        }
    }

    public func apply(_ records: [RecordedEvent], database: Database) throws {
        // Latest states stay cached on the writer's connection from one transaction to the next; the connection
        // drops the cache whenever a transaction is refused or rolled back, or another process commits.
        let cache = database.attachment(LatestStateCache.self)
        var store = ProjectionStore(database: database, cache: cache)
        for (index, record) in records.enumerated() {
            store.folding = FoldPoint(record)
            do {
                try PlanningDomain.decide(record, reader: store)
            } catch {
                throw error.at(eventIndex: index, field: error.details["field"]?.stringValue)
            }
            try Self.project(record, store: store, cache: cache)
        }
    }

    /// Folds one event into the tables. Also the step of `rebuild`, so incremental and rebuilt projections are made
    /// by the same code.
    static func project(_ record: RecordedEvent, store: ProjectionStore, cache: LatestStateCache) throws {
        let database = store.database
        let carriesSnapshot = ProjectionSchema.carriesSnapshot(version: record.version)
        let (snapshot, isNew) = try cache.evolve(record, readingMissesFrom: store, returningState: carriesSnapshot)
        let position = SQLiteValue.integer(Int64(record.position))
        let recordedAt = SQLiteValue.integer(record.recordedAt.millisecondsSinceEpoch)
        let effectiveAt = SQLiteValue.integer(record.effectiveAt.millisecondsSinceEpoch)
        if carriesSnapshot, let state = snapshot {
            try database.run(insertSnapshot, [
                .text(record.stream.description), .integer(Int64(record.version)), recordedAt, effectiveAt,
                .text(record.stream.kind), .text(state.status), .integer(state.createdAt.millisecondsSinceEpoch),
                .text(CanonicalJSON.string(state.fields)),
            ])
        }
        var owners: [(StreamName, String)] = []
        if isNew, let owner = try PlanningDomain.initialOwner(of: record, reader: store) {
            owners.append((record.stream, owner))
        }
        owners += PlanningDomain.ownershipChanges(of: record).map { ($0.stream, $0.organisation) }
        for (stream, organisation) in owners {
            try database.run(
                """
                INSERT OR REPLACE INTO ownership (stream, organisation, position, recorded_at, effective_at)
                VALUES (?1, ?2, ?3, ?4, ?5)
                """, [.text(stream.description), .text(organisation), position, recordedAt, effectiveAt])
        }
        for reference in PlanningDomain.references(of: record) {
            try database.run(
                """
                INSERT OR IGNORE INTO links (target, relation, source, position, recorded_at, effective_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """, [.text(reference.to.description), .text(reference.relation), .text(reference.from.description),
                      position, recordedAt, effectiveAt])
        }
    }
}

private let insertSnapshot = """
    INSERT INTO entity_versions (stream, version, recorded_at, effective_at, kind, status, created_at, fields)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    """

extension Error {
    /// Locates a domain error at an event of the transaction; other errors become storage errors.
    func at(eventIndex index: Int, field: String?) -> LedgerError {
        guard let error = self as? LedgerError else {
            return LedgerError(.storage, code: "storage_error", "the projections could not be updated: \(self)")
        }
        return error.at(eventIndex: index, field: field)
    }
}
