import SQLite

/// Which events a log read returns. Every condition is optional; they combine with AND.
public struct EventFilter: Sendable, Hashable {
    public var type: String?
    public var stream: StreamName?
    public var streamKind: String?
    public var actorId: String?
    /// The actor's organisation (stream name).
    public var organisation: String?
    /// `recordedAt` at or after this time.
    public var recordedFrom: Timestamp?
    /// `recordedAt` at or before this time.
    public var recordedTo: Timestamp?

    public init(type: String? = nil, stream: StreamName? = nil, streamKind: String? = nil, actorId: String? = nil,
                organisation: String? = nil, recordedFrom: Timestamp? = nil, recordedTo: Timestamp? = nil)
    {
        self.type = type
        self.stream = stream
        self.streamKind = streamKind
        self.actorId = actorId
        self.organisation = organisation
        self.recordedFrom = recordedFrom
        self.recordedTo = recordedTo
    }

    /// The SQL conditions and their values, numbered from `?3` (1 and 2 are the position and the limit).
    var sqlConditions: (String, [SQLiteValue]) {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        func add(_ clause: String, _ value: SQLiteValue) {
            values.append(value)
            clauses.append(clause.replacingPlaceholder(with: "?\(values.count + 2)"))
        }
        if let type { add("type = #", .text(type)) }
        if let stream { add("stream = #", .text(stream.description)) }
        if let streamKind { add("stream >= # AND stream < '\(streamKind)0'", .text(streamKind + "/")) }
        if let actorId { add("actor_id = #", .text(actorId)) }
        if let organisation { add("actor_organisation = #", .text(organisation)) }
        if let recordedFrom { add("recorded_at >= #", .integer(recordedFrom.millisecondsSinceEpoch)) }
        if let recordedTo { add("recorded_at <= #", .integer(recordedTo.millisecondsSinceEpoch)) }
        return (clauses.map { " AND " + $0 }.joined(), values)
    }
}

extension String {
    fileprivate func replacingPlaceholder(with text: String) -> String {
        guard let range = range(of: "#") else { return self }
        return replacingCharacters(in: range, with: text)
    }
}
