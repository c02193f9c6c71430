/// Reading a served envelope back (archives, clients): the inverse of `RecordedEvent.json`.
extension RecordedEvent {
    static let envelopeFields: Set<String> = [
        "position", "id", "stream", "version", "type", "schemaVersion", "recordedAt", "effectiveAt", "actor", "reason",
        "correlationId", "causationId", "data", "hash",
    ]

    /// - Throws: `LedgerError` `invalid_envelope` naming the field that is missing, unknown or malformed.
    public init(json: JSONValue) throws(LedgerError) {
        func invalid(_ field: String, _ message: String) -> LedgerError {
            LedgerError(.invalidInput, code: "invalid_envelope", "\(field): \(message)", details: ["field": .string(field)])
        }
        guard let object = json.objectValue else { throw invalid("event", "must be an object") }
        if let unknown = object.keys.sorted().first(where: { !Self.envelopeFields.contains($0) }) {
            throw invalid(unknown, "unknown field")
        }
        func required<T>(_ name: String, _ convert: (JSONValue) -> T?) throws(LedgerError) -> T {
            guard let value = object[name] else { throw invalid(name, "is required") }
            guard let converted = convert(value) else { throw invalid(name, "is malformed") }
            return converted
        }
        func optionalString(_ name: String) throws(LedgerError) -> String? {
            guard let value = object[name] else { return nil }
            guard let text = value.stringValue else { throw invalid(name, "must be a string") }
            return text
        }
        let time: (JSONValue) -> Timestamp? = { $0.stringValue.flatMap(Timestamp.init(parsing:)) }
        self.init(
            position: try required("position") { $0.intValue }, id: try required("id") { $0.stringValue },
            stream: try required("stream") { $0.stringValue.flatMap(StreamName.init) },
            version: try required("version") { $0.intValue }, type: try required("type") { $0.stringValue },
            schemaVersion: try required("schemaVersion") { $0.intValue },
            recordedAt: try required("recordedAt", time), effectiveAt: try required("effectiveAt", time),
            actor: try required("actor") { actor in
                actor["id"]?.stringValue.flatMap { id in
                    actor["role"]?.stringValue.map { Actor(id: id, role: $0, organisation: actor["organisation"]?.stringValue) }
                }
            },
            reason: try optionalString("reason"), correlationId: try optionalString("correlationId"),
            causationId: try optionalString("causationId"), data: try required("data") { $0 },
            hash: try required("hash") { $0.stringValue.flatMap(Digest.init(hex:)) })
    }
}
