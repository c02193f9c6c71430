/// An event a client asks the ledger to append: the client's part of the envelope. The ledger assigns position,
/// version and `recordedAt`, and takes the actor from the authenticated caller.
public struct ProposedEvent: Sendable, Hashable {
    /// The idempotency key; generated (UUID version 7) when absent. Lowercase UUID text.
    public var id: String?
    public var type: String
    public var schemaVersion: Int?
    /// Valid time; defaults to `recordedAt`.
    public var effectiveAt: Timestamp?
    public var reason: String?
    public var correlationId: String?
    public var causationId: String?
    public var data: JSONValue

    public init(id: String? = nil, type: String, schemaVersion: Int? = nil, effectiveAt: Timestamp? = nil,
                reason: String? = nil, correlationId: String? = nil, causationId: String? = nil, data: JSONValue)
    {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.effectiveAt = effectiveAt
        self.reason = reason
        self.correlationId = correlationId
        self.causationId = causationId
        self.data = data
    }
}

/// The events a transaction appends to one stream, and the condition on that stream.
public struct StreamAppend: Sendable, Hashable {
    public var stream: StreamName
    public var expectedVersion: ExpectedVersion
    public var events: [ProposedEvent]

    public init(stream: StreamName, expectedVersion: ExpectedVersion = .any, events: [ProposedEvent]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// One atomic append: all of its events are stored, in order, or none.
public struct AppendTransaction: Sendable, Hashable {
    public var streams: [StreamAppend]
    public var actor: Actor

    public init(streams: [StreamAppend], actor: Actor) {
        self.streams = streams
        self.actor = actor
    }

    /// Every event with its stream, in append order.
    public var flattened: [(stream: StreamName, event: ProposedEvent)] {
        streams.flatMap { append in append.events.map { (append.stream, $0) } }
    }
}
