import SQLite

/// What the layers above plug into every append: domain validation and projection updates, run on the writer's
/// connection inside the append's own savepoint. If `apply` throws, the whole transaction is rolled back, its
/// projection writes with it, and the error goes back to the client.
public protocol LedgerHook: Sendable {
    /// Creates the hook's own tables (projections) on first open.
    func prepare(database: Database) throws

    /// The schema version to record for `type` when the client gives none; nil for an unknown type.
    func currentSchemaVersion(of type: String) -> Int?

    /// Validates one transaction's records (positions, versions and times already assigned) against the state
    /// before it, and updates the read models. Throws a `LedgerError` located with `at(eventIndex:)` to reject.
    func apply(_ records: [RecordedEvent], database: Database) throws
}

/// A ledger with no domain: any event type is accepted at schema version 1.
public struct NoHook: LedgerHook {
    public init() {}
    public func prepare(database: Database) throws {}
    public func currentSchemaVersion(of type: String) -> Int? { 1 }
    public func apply(_ records: [RecordedEvent], database: Database) throws {}
}
