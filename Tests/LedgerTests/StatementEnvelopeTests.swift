import SQLite
import Testing

@testable import Ledger

/// The envelope `verify` lays out from a row's column bytes in place (`StatementEnvelope`) is the one the row's
/// event has, and the one reading the row into a `RecordedEvent` would give, for any stored values.
@Suite struct StatementEnvelopeTests {
    let directory = TemporaryDirectory()

    func database() throws -> Database {
        let database = try Database(path: directory.file("rows.sqlite"))
        try LedgerSchema.create(in: database)
        return database
    }

    /// Each row's envelope laid out from its columns in place (as `verify` does), and (when the row decodes) the
    /// envelope of its decoded event.
    func envelopes(_ database: Database) throws -> [(copied: [UInt8], decoded: [UInt8]?)] {
        var envelopes: [(copied: [UInt8], decoded: [UInt8]?)] = []
        try database.forEach("SELECT \(EventRow.columns) FROM events ORDER BY position") { row in
            var buffer = ByteBuffer(capacity: 16)  // small, so that growing is exercised too
            EnvelopeEncoder.write(StatementEnvelope(row: row, position: row.int(0)), to: &buffer)
            let decoded = (try? EventRow.decode(row, parsingData: false)).map { event in
                row.withBytes(14) { EnvelopeEncoder.encode(event, canonicalData: $0) }
            }
            envelopes.append((buffer.array, decoded))
        }
        return envelopes
    }

    @Test func inPlaceEnvelopeEqualsTheCanonicalEncodingOfTheEvent() throws {
        defer { directory.remove() }
        let database = try database()
        var generator = CanonicalJSONRandomTests.Generator(state: 11)
        // Any scalar up to U+1FFFF: controls, quotes, backslashes, non-ASCII and astral characters.
        func text(_ length: Int) -> String {
            String(String.UnicodeScalarView((0..<length).compactMap { _ in Unicode.Scalar(UInt32(generator.next() % 0x1FFFF)) }))
        }
        func ascii(_ length: Int) -> String {
            String(decoding: (0..<length).map { _ in UInt8(0x20 + generator.next() % 0x5F) }, as: UTF8.self)
        }
        var events: [RecordedEvent] = []
        for n in 0..<400 {
            let mixed = n % 2 == 0
            let event = RecordedEvent(
                position: n + 1, id: mixed ? text(8) : ascii(36), stream: StreamName("goal/G-\(n % 9)")!,
                version: n / 9 + 1, type: mixed ? text(6) : "GoalDefined", schemaVersion: n % 3 + 1,
                recordedAt: Timestamp(millisecondsSinceEpoch: Int64(generator.next()) * 4_000_000 - 4_000_000_000_000_000),
                effectiveAt: Timestamp(millisecondsSinceEpoch: -Int64(generator.next() % 1_000_000_000_000)),
                actor: Actor(id: mixed ? text(5) : ascii(5), role: n % 5 == 0 ? "r\"\\" : ascii(12),
                             organisation: n % 2 == 0 ? nil : text(3)),
                reason: n % 3 == 0 ? nil : text(10), correlationId: n % 4 == 0 ? ascii(2) : nil,
                causationId: n % 5 == 0 ? text(4) : nil, data: generator.value(), hash: MerkleTree.emptyRoot)
            try database.run(EventRow.insertSQL, EventRow.values(event, canonicalData: CanonicalJSON.string(event.data)))
            events.append(event)
        }
        let envelopes = try envelopes(database)
        #expect(envelopes.count == events.count)
        for (event, envelope) in zip(events, envelopes) {
            #expect(envelope.copied == CanonicalJSON.encode(event.unhashedEnvelope), "position \(event.position)")
        }
    }

    /// Values no writer of the ledger stores, put there with SQL: the in-place layout still equals the decoded one.
    @Test func inPlaceEnvelopeEqualsTheDecodedOneForOddStoredValues() throws {
        defer { directory.remove() }
        let database = try database()
        try database.execute("""
            INSERT INTO events VALUES (1, 'id-1', 'goal/G-1', 1, 'T', 1, 0, 0, 'a', 'r', NULL, NULL, NULL, NULL, '{}', X'00')
            """)
        let edits = [
            "id = CAST(X'FF6964C3' AS TEXT)",  // invalid UTF-8, repaired when read as a string
            "id = X'00410A22'",  // a blob
            "id = CAST(X'E282AC' AS TEXT)",  // valid non-ASCII
            "type = CAST(X'4E006F' AS TEXT)",  // an embedded NUL
            "type = ''",
            "actor_role = 42", "actor_role = 2.5", "actor_id = -7",
            "actor_organisation = ''", "actor_organisation = 'organisation/QWO'",
            "reason = 'a\"b\\c' || char(9, 10, 13, 8, 12, 31, 127)", "reason = char(128512, 65279, 233)",
            "correlation_id = 'c'", "causation_id = X'FF'",
            "version = 'abc'", "version = -9223372036854775808", "version = 9223372036854775807",
            "schema_version = 1.5", "schema_version = 1e30", "schema_version = -1e30",
            "recorded_at = 'soon'", "recorded_at = -9223372036854775808", "effective_at = 9223372036854775807",
            "data = ''", "data = X'FFFE'",
        ]
        for (index, edit) in edits.enumerated() {
            try database.execute("""
                INSERT INTO events SELECT \(index + 2), 'id-\(index + 2)', stream, \(index + 2), type, schema_version,
                  recorded_at, effective_at, actor_id, actor_role, actor_organisation, reason, correlation_id,
                  causation_id, data, hash FROM events WHERE position = 1;
                UPDATE events SET \(edit) WHERE position = \(index + 2);
                """)
        }
        let envelopes = try envelopes(database)
        #expect(envelopes.count == edits.count + 1)
        for (index, envelope) in envelopes.enumerated() {
            #expect(envelope.decoded != nil && envelope.copied == envelope.decoded, "\(index == 0 ? "original" : edits[index - 1])")
        }
    }

    /// One `EventRow.Decoder` over many rows gives every row its own values, the events as stored, whether a value
    /// repeats the row before's (then the strings are shared) or not.
    @Test func decoderSharesRepeatedTextAndGivesEachRowItsOwn() throws {
        defer { directory.remove() }
        let database = try database()
        var generator = CanonicalJSONRandomTests.Generator(state: 29)
        let types = ["MeasureReadingRecorded", "MeasureReadingCorrected", "GoalDefined", "", "T", "Ω-type-with-non-ASCII"]
        let texts = ["synthetic", "user:jane.smith@example.nhs.uk", "", "organisation/QWO", "organisation/QWO-CCG"]
        var (type, actorId, organisation): (String, String, String?) = ("", "", nil)
        var events: [RecordedEvent] = []
        for n in 0..<600 {
            // Runs: each value changes now and then, so rows repeat the row before's and also differ from it.
            if generator.next() % 4 == 0 { type = types[Int(generator.next() % UInt64(types.count))] }
            if generator.next() % 5 == 0 { actorId = texts[Int(generator.next() % UInt64(texts.count))] }
            if generator.next() % 3 == 0 {
                organisation = generator.next() % 3 == 0 ? nil : texts[Int(generator.next() % UInt64(texts.count))]
            }
            let event = RecordedEvent(
                position: n + 1, id: "id-\(n)", stream: StreamName("goal/G-\(n % 7)")!, version: n / 7 + 1, type: type,
                schemaVersion: 1, recordedAt: Timestamp(millisecondsSinceEpoch: Int64(n)),
                effectiveAt: Timestamp(millisecondsSinceEpoch: Int64(n)),
                actor: Actor(id: actorId, role: texts[n / 50 % texts.count], organisation: organisation),
                reason: nil, correlationId: nil, causationId: nil, data: generator.value(), hash: MerkleTree.emptyRoot)
            try database.run(EventRow.insertSQL, EventRow.values(event, canonicalData: CanonicalJSON.string(event.data)))
            events.append(event)
        }
        var decoder = EventRow.Decoder()
        let decoded = try database.map("SELECT \(EventRow.columns) FROM events ORDER BY position") { row in
            try decoder.decode(row)
        }
        #expect(decoded == events)
        // Long strings live on the heap: a repeated type is the same storage as the row before's, a new one is not.
        func storage(_ text: String) -> UnsafePointer<UInt8>? { text.utf8.withContiguousStorageIfAvailable(\.baseAddress) ?? nil }
        var shared = (type: 0, actor: 0)
        for (before, event) in zip(decoded, decoded.dropFirst()) {
            if event.type.utf8.count > 15 {
                #expect((storage(event.type) == storage(before.type)) == (event.type == before.type), "position \(event.position)")
                if event.type == before.type { shared.type += 1 }
            }
            if event.actor.id.utf8.count > 15 {
                #expect((storage(event.actor.id) == storage(before.actor.id)) == (event.actor.id == before.actor.id),
                        "position \(event.position)")
                if event.actor.id == before.actor.id { shared.actor += 1 }
            }
        }
        #expect(shared.type > 100 && shared.actor > 20)
    }

    @Test func storedHashOfAnyOtherLengthReadsAsZeros() throws {
        defer { directory.remove() }
        let database = try database()
        try database.execute("""
            INSERT INTO events VALUES (1, 'a', 'goal/G-1', 1, 'T', 1, 0, 0, 'a', 'r', NULL, NULL, NULL, NULL, '{}', X'00');
            INSERT INTO events VALUES (2, 'b', 'goal/G-1', 2, 'T', 1, 0, 0, 'a', 'r', NULL, NULL, NULL, NULL, '{}', zeroblob(32));
            UPDATE events SET hash = X'\(String(repeating: "ab", count: 32))' WHERE position = 2;
            """)
        let hashes = try database.map("SELECT \(EventRow.columns) FROM events ORDER BY position") {
            (EventRow.storedHash($0), try EventRow.decode($0, parsingData: false).hash)
        }
        #expect(hashes.map(\.0) == hashes.map(\.1))
        #expect(hashes[0].0 == Digest(bytes: [UInt8](repeating: 0, count: 32)))
        #expect(hashes[1].0.hex == String(repeating: "ab", count: 32))
    }
}
