import Ledger

/// The planning state held in memory and folded event by event: the domain's reference model. Tests use it to
/// check the rules without a database, and as the naive fold that the indexed projections must agree with.
public struct InMemoryPlanningState: PlanningStateReader, Sendable {
    /// Every version of every stream's state, in version order.
    public private(set) var versions: [StreamName: [EntityState]] = [:]
    /// Ownership rows: (stream, effective time, position, organisation).
    public private(set) var ownership: [StreamName: [(effectiveAt: Timestamp, position: Int, organisation: String)]] = [:]
    public private(set) var events: [RecordedEvent] = []

    public init() {}

    public func entity(_ stream: StreamName, validAt: Timestamp?) throws -> EntityState? {
        guard let states = versions[stream] else { return nil }
        guard let validAt else { return states.last }
        return states.last { $0.updatedAt <= validAt }
    }

    public func owner(of stream: StreamName, at: Timestamp) throws -> String? {
        ownership[stream]?.filter { $0.effectiveAt <= at }
            .max { ($0.effectiveAt, $0.position) < ($1.effectiveAt, $1.position) }?.organisation
    }

    /// Checks `event` with `decide` (unless `validate` is false) and folds it in.
    public mutating func apply(_ event: RecordedEvent, validate: Bool = true) throws {
        if validate { try PlanningDomain.decide(event, reader: self) }
        let previous = versions[event.stream]?.last
        if previous == nil, let owner = try PlanningDomain.initialOwner(of: event, reader: self) {
            ownership[event.stream, default: []].append((event.effectiveAt, event.position, owner))
        }
        for change in PlanningDomain.ownershipChanges(of: event) {
            ownership[change.stream, default: []].append((event.effectiveAt, event.position, change.organisation))
        }
        versions[event.stream, default: []].append(PlanningDomain.evolve(previous, event))
        events.append(event)
    }

    /// Appends a whole transaction as the ledger would (positions, versions, times assigned; all or nothing),
    /// without hashes. For tests of the domain that need no database.
    @discardableResult
    public mutating func append(_ transaction: AppendTransaction, recordedAt: Timestamp) throws -> [RecordedEvent] {
        var copy = self
        var records: [RecordedEvent] = []
        for append in transaction.streams {
            for proposed in append.events {
                let version = (copy.versions[append.stream]?.count ?? 0) + 1
                let effectiveAt = proposed.effectiveAt ?? recordedAt
                if let previous = copy.versions[append.stream]?.last, effectiveAt < previous.updatedAt {
                    // The ledger's own envelope rule, mirrored so the model accepts exactly what the ledger does.
                    throw LedgerError(.domainRule, code: "effective_time_regression",
                                      "effectiveAt is before the stream's previous event")
                }
                let record = RecordedEvent(
                    position: copy.events.count + 1, id: proposed.id ?? "event-\(copy.events.count + 1)",
                    stream: append.stream, version: version, type: proposed.type,
                    schemaVersion: proposed.schemaVersion ?? PlanningDomain.schemaVersion(of: proposed.type) ?? 1,
                    recordedAt: recordedAt, effectiveAt: effectiveAt, actor: transaction.actor,
                    reason: proposed.reason, correlationId: proposed.correlationId, causationId: proposed.causationId,
                    data: proposed.data, hash: MerkleTree.emptyRoot)
                try copy.apply(record)
                records.append(record)
            }
        }
        self = copy
        return records
    }
}
