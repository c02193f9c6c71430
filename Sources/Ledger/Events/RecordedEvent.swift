/// An event as stored and served: the full envelope of DESIGN §1, with its leaf hash.
public struct RecordedEvent: Sendable, Hashable {
    public let position: Int
    public let id: String
    public let stream: StreamName
    public let version: Int
    public let type: String
    public let schemaVersion: Int
    public let recordedAt: Timestamp
    public let effectiveAt: Timestamp
    public let actor: Actor
    public let reason: String?
    public let correlationId: String?
    public let causationId: String?
    public let data: JSONValue
    /// `SHA-256(0x00 ‖ canonical bytes of the envelope without hash)`.
    public let hash: Digest

    public init(position: Int, id: String, stream: StreamName, version: Int, type: String, schemaVersion: Int,
                recordedAt: Timestamp, effectiveAt: Timestamp, actor: Actor, reason: String?, correlationId: String?,
                causationId: String?, data: JSONValue, hash: Digest)
    {
        self.position = position
        self.id = id
        self.stream = stream
        self.version = version
        self.type = type
        self.schemaVersion = schemaVersion
        self.recordedAt = recordedAt
        self.effectiveAt = effectiveAt
        self.actor = actor
        self.reason = reason
        self.correlationId = correlationId
        self.causationId = causationId
        self.data = data
        self.hash = hash
    }

    /// The envelope without `hash`: exactly the object that is hashed. Absent optional fields are omitted.
    public var unhashedEnvelope: JSONValue {
        .object(omittingNil: [
            ("position", JSONValue(position)), ("id", .string(id)), ("stream", .string(stream.description)),
            ("version", JSONValue(version)), ("type", .string(type)), ("schemaVersion", JSONValue(schemaVersion)),
            ("recordedAt", .string(recordedAt.rfc3339)), ("effectiveAt", .string(effectiveAt.rfc3339)),
            ("actor", actor.json), ("reason", reason.map(JSONValue.string)),
            ("correlationId", correlationId.map(JSONValue.string)), ("causationId", causationId.map(JSONValue.string)),
            ("data", data),
        ])
    }

    /// The envelope as served: `unhashedEnvelope` plus `hash` in hex.
    public var json: JSONValue {
        guard case .object(var members) = unhashedEnvelope else { return unhashedEnvelope }
        members["hash"] = .string(hash.hex)
        return .object(members)
    }

    /// The RFC 8785 bytes of `unhashedEnvelope`.
    public var canonicalBytes: [UInt8] { EnvelopeEncoder.encode(self, canonicalData: CanonicalJSON.encode(data)) }

    /// The leaf hash the envelope's fields imply; equal to `hash` unless the record was altered.
    public var computedHash: Digest { MerkleTree.leafHash(canonicalBytes) }
}
