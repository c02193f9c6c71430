import Ledger

/// The state of one stream (goal, measure, decision...) folded from its own events: what the projections store
/// per version and the domain rules check against. Ownership is kept apart (see `PlanningStateReader.owner`),
/// because a handover recorded in another stream can move it at a past valid time.
public struct EntityState: Sendable, Hashable {
    public var stream: StreamName
    /// The stream version this state reflects.
    public var version: Int
    /// Life-cycle status, e.g. `active`, `closed`, `proposed`, `taken`, `superseded`, `revoked`, `invalidated`.
    public var status: String
    /// The `effectiveAt` of the stream's first event: when the entity came to exist in the world.
    public var createdAt: Timestamp
    /// The `effectiveAt` of the event that produced this state.
    public var updatedAt: Timestamp
    /// The entity's current fields (a JSON object), merged from its events' data.
    public var fields: JSONValue

    public init(stream: StreamName, version: Int, status: String, createdAt: Timestamp, updatedAt: Timestamp,
                fields: JSONValue)
    {
        self.stream = stream
        self.version = version
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.fields = fields
    }
}

/// What the domain may ask about the ledger's state while it checks an event. Implemented over the projection
/// tables by `Projections`, and in memory by tests. Answers reflect every event already applied, including the
/// earlier events of the same transaction.
public protocol PlanningStateReader {
    /// The stream's state folded over its events with `effectiveAt ≤ validAt` (all of them when nil); nil when the
    /// stream had no such event.
    func entity(_ stream: StreamName, validAt: Timestamp?) throws -> EntityState?

    /// The organisation (stream name, e.g. `organisation/QWO`) that owned `stream` at valid time `at`.
    func owner(of stream: StreamName, at: Timestamp) throws -> String?
}
