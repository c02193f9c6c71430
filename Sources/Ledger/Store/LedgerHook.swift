import SQLite

/// What the layers above plug into every append: domain validation and projection updates, run on the writer's
/// connection inside the append's SQLite transaction. If `apply` throws, the whole transaction is undone, its
/// projection writes with it, and the error goes back to the client.
///
/// The same hook rebuilds its projections from the log (`planledger rebuild`) through `resetProjections` and
/// `project`, so incremental and rebuilt read models are made by one piece of code.
public protocol LedgerHook: Sendable {
    /// Creates the hook's own tables (projections) on first open.
    func prepare(database: Database) throws

    /// The schema version to record for `type` when the client gives none; nil for an unknown type.
    func currentSchemaVersion(of type: String) -> Int?

    /// Whether the hook's tables were made by this version of the hook. When false, the ledger rebuilds them from
    /// the log as it opens, so a change of projection layout never leaves old rows to be misread.
    func projectionsAreCurrent(database: Database) throws -> Bool

    /// Validates one transaction's records (positions, versions and times already assigned) against the state
    /// before it, and updates the read models. Throws a `LedgerError` located with `at(eventIndex:)` to reject.
    /// The records are already in the log (`events`), uncommitted, so the hook may read them back; when it throws,
    /// the ledger undoes them and whatever the hook wrote for them.
    func apply(_ records: [RecordedEvent], database: Database) throws

    /// Drops and recreates the hook's projection tables, empty. The first step of `rebuild`.
    func resetProjections(database: Database) throws

    /// The last step of `rebuild`, after every record was projected, in the same transaction. A hook may leave its
    /// secondary indexes out of `resetProjections` and create them here: building an index once over a full table
    /// is much faster than updating it row by row.
    func finishRebuild(database: Database) throws

    /// Folds one already-accepted record into the projections, without re-validating it.
    func project(_ record: RecordedEvent, database: Database) throws

    /// Folds a run of already-accepted records, in order (`rebuild` calls this with pages of the log; a hook may
    /// keep state between the records of one call). An `EventRun`, so that each record is read in place.
    func project(_ records: EventRun, database: Database) throws
}

extension LedgerHook {
    public func project(_ records: EventRun, database: Database) throws {
        try records.forEach { try project($0, database: database) }
    }

    public func finishRebuild(database: Database) throws {}

    public func projectionsAreCurrent(database: Database) throws -> Bool { true }
}

/// A ledger with no domain: any event type is accepted at schema version 1.
public struct NoHook: LedgerHook {
    public init() {}
    public func prepare(database: Database) throws {}
    public func currentSchemaVersion(of type: String) -> Int? { 1 }
    public func apply(_ records: [RecordedEvent], database: Database) throws {}
    public func resetProjections(database: Database) throws {}
    public func project(_ record: RecordedEvent, database: Database) throws {}
}

/// Sends each record to the hook for its stream kind (e.g. `access/...` to the token registry, everything else to
/// the planning domain). Types are looked up in every hook, the first that knows one wins.
public struct RoutingHook: LedgerHook {
    public let routes: [String: any LedgerHook]
    public let fallback: any LedgerHook

    /// The fallback, then the routes in key order; worked out once, since the writer asks for schema versions per event.
    private let all: [any LedgerHook]
    private let routedKinds: [String]

    public init(routes: [String: any LedgerHook], fallback: any LedgerHook) {
        self.routes = routes
        self.fallback = fallback
        routedKinds = routes.keys.sorted()
        all = [fallback] + routedKinds.map { routes[$0]! }
    }

    private func hook(for record: RecordedEvent) -> any LedgerHook { hook(routedKind(record.stream.kind)) }

    /// The hook for a kind `routedKind` gave: its route's, or the fallback for nil.
    private func hook(_ routedKind: String?) -> any LedgerHook { routedKind.flatMap { routes[$0] } ?? fallback }

    /// `kind` if it has a route of its own, else nil (the fallback's). A scan of the few routed kinds: cheaper than
    /// hashing the kind of every event a rebuild routes.
    private func routedKind(_ kind: String) -> String? { routedKinds.first { $0 == kind } }

    public func prepare(database: Database) throws { for hook in all { try hook.prepare(database: database) } }

    public func currentSchemaVersion(of type: String) -> Int? {
        all.lazy.compactMap { $0.currentSchemaVersion(of: type) }.first
    }

    public func apply(_ records: [RecordedEvent], database: Database) throws {
        // Each record goes to its own hook, in order, so later events see earlier ones; indexes stay those of the
        // whole transaction.
        for (index, record) in records.enumerated() {
            do {
                try hook(for: record).apply([record], database: database)
            } catch let error as LedgerError {
                throw error.at(eventIndex: index)
            }
        }
    }

    public func projectionsAreCurrent(database: Database) throws -> Bool {
        try all.allSatisfy { try $0.projectionsAreCurrent(database: database) }
    }

    public func resetProjections(database: Database) throws {
        for hook in all { try hook.resetProjections(database: database) }
    }

    public func finishRebuild(database: Database) throws {
        for hook in all { try hook.finishRebuild(database: database) }
    }

    public func project(_ record: RecordedEvent, database: Database) throws {
        try hook(for: record).project(record, database: database)
    }

    public func project(_ records: EventRun, database: Database) throws {
        // Consecutive records for the same hook go together, in order.
        var start = 0
        while start < records.count {
            let kind = routedKind(records.stream(at: start).kind)
            var end = start + 1
            while end < records.count, routedKind(records.stream(at: end).kind) == kind { end += 1 }
            try hook(kind).project(records[start..<end], database: database)
            start = end
        }
    }
}
