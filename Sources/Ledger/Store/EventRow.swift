import SQLite

/// Mapping between `RecordedEvent` and a row of `events`; public so that layers reading the log on their own
/// connection (rebuild, archives) decode it the same way.
public enum EventRow {
    public static let columns =
        "position, id, stream, version, type, schema_version, recorded_at, effective_at, actor_id, actor_role, "
        + "actor_organisation, reason, correlation_id, causation_id, data, hash"

    static let insertSQL = "INSERT INTO events (\(columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"

    static func values(_ event: RecordedEvent, canonicalData: String) -> [SQLiteValue] {
        [
            .integer(Int64(event.position)), .text(event.id), .text(event.stream.description),
            .integer(Int64(event.version)), .text(event.type), .integer(Int64(event.schemaVersion)),
            .integer(event.recordedAt.millisecondsSinceEpoch), .integer(event.effectiveAt.millisecondsSinceEpoch),
            .text(event.actor.id), .text(event.actor.role), SQLiteValue(event.actor.organisation),
            SQLiteValue(event.reason), SQLiteValue(event.correlationId), SQLiteValue(event.causationId),
            .text(canonicalData), .blob(event.hash.bytes),
        ]
    }

    /// The column of `columns` holding a string member of the envelope.
    static func column(of field: EnvelopeTextField) -> Int {
        switch field {
        case .id: 1
        case .stream: 2
        case .type: 4
        case .actorId: 8
        case .actorRole: 9
        case .actorOrganisation: 10
        case .reason: 11
        case .correlationId: 12
        case .causationId: 13
        }
    }

    static let dataColumn = 14

    /// The largest position stored (0 for none): the ledger's size, as its rows have it.
    public static func lastPosition(in database: Database) throws -> Int {
        Int(try database.scalarInt("SELECT COALESCE(MAX(position), 0) FROM events") ?? 0)
    }

    /// The stored leaf hash as `decode` reads it: 32 zero bytes stand for a value of any other length.
    static func storedHash(_ row: Statement) -> Digest {
        row.withBytes(15) { Digest(bytes: $0) } ?? Digest(unchecked: [UInt8](repeating: 0, count: 32))
    }

    /// The error `decode` throws for a row that no longer parses (edited behind the ledger's back).
    static func corruptRecord(position: Int, _ what: String) -> LedgerError {
        LedgerError(.storage, code: "corrupt_record", "the stored record at position \(position) is damaged: \(what)",
                    details: ["position": JSONValue(position)])
    }

    /// Reads a row selected with `columns`. A row whose stream name or data no longer parses (edited behind the
    /// ledger's back) is reported as `LedgerError` `corrupt_record` naming its position.
    public static func decode(_ row: Statement, parsingData: Bool = true) throws(LedgerError) -> RecordedEvent {
        var decoder = Decoder()
        return try decoder.decode(row, parsingData: parsingData)
    }

    /// Reads rows one after another as `decode` does. The envelope's text that tends to repeat from one event to the
    /// next (its type and actor) is shared with the previous row's when equal, instead of being allocated per row.
    public struct Decoder {
        private var type = ""
        private var actorId = ""
        private var actorRole = ""
        private var actorOrganisation = ""

        public init() {}

        public mutating func decode(_ row: Statement, parsingData: Bool = true) throws(LedgerError) -> RecordedEvent {
            let position = row.int(0)
            func corrupt(_ what: String) -> LedgerError { corruptRecord(position: position, what) }
            guard let stream = row.withBytes(2, StreamName.init(utf8:)) else { throw corrupt("invalid stream name") }
            var data: JSONValue = .null
            if parsingData {
                do {
                    data = try row.withBytes(14) { try JSONParser.parse($0) }
                } catch {
                    throw corrupt("data is not valid JSON")
                }
            }
            let organisation = row.isNull(10) ? nil : row.text(10, reusing: &actorOrganisation)
            return RecordedEvent(
                position: position, id: row.text(1), stream: stream, version: row.int(3),
                type: row.text(4, reusing: &type), schemaVersion: row.int(5),
                recordedAt: Timestamp(millisecondsSinceEpoch: row.int64(6)),
                effectiveAt: Timestamp(millisecondsSinceEpoch: row.int64(7)),
                actor: Actor(id: row.text(8, reusing: &actorId), role: row.text(9, reusing: &actorRole),
                             organisation: organisation),
                reason: row.optionalText(11), correlationId: row.optionalText(12), causationId: row.optionalText(13),
                data: data, hash: storedHash(row))
        }
    }
}
