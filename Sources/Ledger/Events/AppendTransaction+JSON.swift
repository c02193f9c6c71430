/// Decoding of the append request body of `POST /v1/transactions` (and `planledger append`):
/// `{"streams": [{"stream", "expectedVersion", "events": [{"id"?, "type", "schemaVersion"?, "effectiveAt"?,
/// "reason"?, "correlationId"?, "causationId"?, "data"}]}]}`. The actor is never taken from the body.
extension AppendTransaction {
    static let eventFields: Set<String> = ["id", "type", "schemaVersion", "effectiveAt", "reason", "correlationId",
                                           "causationId", "data"]

    /// - Throws: `LedgerError` `invalid_request` naming the field path (e.g. `streams[0].events[2].effectiveAt`).
    public init(json: JSONValue, actor: Actor) throws(LedgerError) {
        func invalid(_ field: String, _ message: String, index: Int? = nil) -> LedgerError {
            let error = LedgerError(.invalidInput, code: "invalid_request", "\(field): \(message)",
                                    details: ["field": .string(field)])
            return index.map { error.at(eventIndex: $0) } ?? error
        }
        guard let body = json.objectValue else { throw invalid("body", "must be a JSON object") }
        if let unknown = body.keys.first(where: { $0 != "streams" }) {
            throw invalid(unknown, "unknown field (the actor comes from your credentials, not the body)")
        }
        guard let streams = body["streams"]?.arrayValue else { throw invalid("streams", "must be an array") }
        var appends: [StreamAppend] = []
        var index = 0
        for (s, item) in streams.enumerated() {
            let path = "streams[\(s)]"
            guard let object = item.objectValue else { throw invalid(path, "must be an object") }
            if let unknown = object.keys.first(where: { !["stream", "expectedVersion", "events"].contains($0) }) {
                throw invalid("\(path).\(unknown)", "unknown field")
            }
            guard let text = object["stream"]?.stringValue, let stream = StreamName(text) else {
                throw invalid("\(path).stream", "must be a stream name kind/key (kind [a-z_]+, key [A-Za-z0-9._:-]{1,128})")
            }
            let expected: ExpectedVersion
            if let value = object["expectedVersion"] {
                guard let parsed = ExpectedVersion(json: value) else {
                    throw invalid("\(path).expectedVersion", #"must be "any", "noStream", "exists" or a version number"#)
                }
                expected = parsed
            } else {
                expected = .any
            }
            guard let events = object["events"]?.arrayValue else { throw invalid("\(path).events", "must be an array") }
            var proposed: [ProposedEvent] = []
            for (e, eventJSON) in events.enumerated() {
                defer { index += 1 }
                let path = "\(path).events[\(e)]"
                guard let fields = eventJSON.objectValue else { throw invalid(path, "must be an object", index: index) }
                if let unknown = fields.keys.sorted().first(where: { !Self.eventFields.contains($0) }) {
                    throw invalid("\(path).\(unknown)", "unknown field", index: index)
                }
                func string(_ name: String) throws(LedgerError) -> String? {
                    guard let value = fields[name] else { return nil }
                    guard let text = value.stringValue else {
                        throw invalid("\(path).\(name)", "must be a string", index: index)
                    }
                    return text
                }
                guard let type = try string("type") else { throw invalid("\(path).type", "is required", index: index) }
                guard let data = fields["data"] else { throw invalid("\(path).data", "is required", index: index) }
                var schemaVersion: Int?
                if let value = fields["schemaVersion"] {
                    guard let version = value.intValue else {
                        throw invalid("\(path).schemaVersion", "must be an integer", index: index)
                    }
                    schemaVersion = version
                }
                var effectiveAt: Timestamp?
                if let text = try string("effectiveAt") {
                    guard let time = Timestamp(parsing: text) else {
                        throw invalid("\(path).effectiveAt",
                                      "must be an RFC 3339 date-time (2022-07-01T00:00:00Z) or a date (2022-07-01)",
                                      index: index)
                    }
                    effectiveAt = time
                }
                proposed.append(ProposedEvent(
                    id: try string("id"), type: type, schemaVersion: schemaVersion, effectiveAt: effectiveAt,
                    reason: try string("reason"), correlationId: try string("correlationId"),
                    causationId: try string("causationId"), data: data))
            }
            appends.append(StreamAppend(stream: stream, expectedVersion: expected, events: proposed))
        }
        self.init(streams: appends, actor: actor)
    }

    /// The request body for this transaction (without the actor).
    public var json: JSONValue {
        ["streams": .array(streams.map { append in
            [
                "stream": .string(append.stream.description), "expectedVersion": append.expectedVersion.json,
                "events": .array(append.events.map { event in
                    .object(omittingNil: [
                        ("id", event.id.map(JSONValue.string)), ("type", .string(event.type)),
                        ("schemaVersion", event.schemaVersion.map { JSONValue($0) }),
                        ("effectiveAt", event.effectiveAt.map { .string($0.rfc3339) }),
                        ("reason", event.reason.map(JSONValue.string)),
                        ("correlationId", event.correlationId.map(JSONValue.string)),
                        ("causationId", event.causationId.map(JSONValue.string)), ("data", event.data),
                    ])
                }),
            ]
        })]
    }
}
