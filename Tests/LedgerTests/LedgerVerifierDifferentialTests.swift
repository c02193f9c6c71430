import Foundation
import SQLite
import Testing

@testable import Ledger

/// The fast verifier against `ReferenceVerifier` (the verifier as it was) on many edited copies of one ledger:
/// the same size, root and failure (position, code and message) every time, however the log is divided into
/// ranges and among workers. Edits with the leaf hash recomputed
/// reach the checks after the hash (times, versions, Merkle nodes, streams); odd values in odd columns reach the
/// in-place reading of rows and the ordered reading of the Merkle nodes.
@Suite struct LedgerVerifierDifferentialTests {
    let directory = TemporaryDirectory()

    /// (log2 of the range size, workers): ranges of 2, 4 and 8 rows put range edges at every kind of row and
    /// Merkle node; 2^14 is the default, one range for these ledgers.
    static let configurations = [(1, 3), (2, 2), (3, 1), (3, 2), (14, 2)]

    static func verifiers(_ path: String) -> [(String, LedgerVerifier)] {
        configurations.map { ("ranges of \(1 << $0.0), \($0.1) workers", LedgerVerifier(path: path, rangeLevel: $0.0, workers: $0.1)) }
    }

    /// 41 events over five streams, with every optional member present somewhere and absent elsewhere, and
    /// strings that need escaping or are not ASCII.
    func makeLedger() throws -> String {
        let path = directory.file("original.sqlite")
        let clock = ManualClock()
        let ledger = try Ledger(path: path, clock: clock.function)
        let reasons: [String?] = [nil, "plain", "tab\tquote\"back\\slash\u{1}", "é, 😀 and 中文", nil]
        for n in 0..<41 {
            clock.advance(milliseconds: n % 3 == 0 ? 0 : 1500)
            let event = ProposedEvent(
                type: n % 2 == 0 ? "Noted" : "Revised", effectiveAt: Timestamp(millisecondsSinceEpoch: Int64(n) * 86_400_000),
                reason: reasons[n % 5], correlationId: n % 4 == 0 ? "corr-\(n)" : nil,
                causationId: n % 6 == 1 ? "cause-\(n)" : nil, data: ["n": JSONValue(n), "text": "line\nbreak"])
            let actor = n % 3 == 0 ? Actor(id: "user-\(n % 2)", role: "officer") : testActor
            let stream = ["goal/G-0", "goal/G-1", "goal/K-1", "decision/D.1", "measure/M:2"][n % 5]
            _ = try ledger.append(AppendTransaction(
                streams: [StreamAppend(stream: StreamName(stream)!, events: [event])], actor: actor))
        }
        ledger.close()
        return path
    }

    /// A fresh copy of the ledger at `path` (with its WAL, which may hold committed pages).
    func copy(_ path: String, _ name: String) throws -> String {
        let target = directory.file(name + ".sqlite")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: target + suffix)
        }
        return target
    }

    /// Stores, for each of `positions`, the leaf hash its row's fields now imply, as a careful forger would.
    static func rehash(_ database: Database, _ positions: [Int]) throws {
        for position in positions {
            let hash = try database.first("SELECT \(EventRow.columns) FROM events WHERE position = ?1",
                                          [.integer(Int64(position))]) { row in
                let event = try EventRow.decode(row, parsingData: false)
                return MerkleTree.leafHash(row.withBytes(14) { EnvelopeEncoder.encode(event, canonicalData: $0) })
            }
            try database.run("UPDATE events SET hash = ?1 WHERE position = ?2",
                             [.blob(hash!.bytes), .integer(Int64(position))])
        }
    }

    /// (name, SQL, positions to rehash afterwards)
    static let edits: [(String, String, [Int])] = [
        ("untouched", "", []),
        ("data", #"UPDATE events SET data = '{"n":99}' WHERE position = 7"#, []),
        ("empty data", "UPDATE events SET data = '' WHERE position = 8", [8]),
        ("recordedAt", "UPDATE events SET recorded_at = recorded_at - 5000 WHERE position = 12", []),
        ("recordedAt rehashed", "UPDATE events SET recorded_at = recorded_at - 5000 WHERE position = 12", [12]),
        ("recordedAt rehashed, even leaf", "UPDATE events SET recorded_at = recorded_at - 5000 WHERE position = 11", [11]),
        ("effectiveAt rehashed", "UPDATE events SET effective_at = 0 WHERE position = 30", [30]),
        ("version rehashed", "UPDATE events SET version = version + 100 WHERE position = 20", [20]),
        ("version as text", "UPDATE events SET version = 'abc' WHERE position = 20", [20]),
        ("schema version real", "UPDATE events SET schema_version = 1.5 WHERE position = 3", [3]),
        ("schema version huge", "UPDATE events SET schema_version = 1e30 WHERE position = 3", [3]),
        ("recordedAt text", "UPDATE events SET recorded_at = 'soon' WHERE position = 4", [4]),
        ("new stream rehashed", "UPDATE events SET stream = 'goal/G-9' WHERE position = 16", [16]),
        ("invalid stream", "UPDATE events SET stream = 'Goal/x' WHERE position = 9", []),
        ("stream with combining mark", "UPDATE events SET stream = CAST(X'676F616C2F4BCC81' AS TEXT) WHERE position = 9", []),
        ("stream with invalid UTF-8", "UPDATE events SET stream = CAST(X'676F616C2FFF' AS TEXT) WHERE position = 9", []),
        ("stream as integer", "UPDATE events SET stream = 42 WHERE position = 9", []),
        ("id with invalid UTF-8", "UPDATE events SET id = CAST(X'FF6964C3' AS TEXT) WHERE position = 5", []),
        ("id with invalid UTF-8 rehashed", "UPDATE events SET id = CAST(X'FF6964C3' AS TEXT) WHERE position = 5", [5]),
        ("id as blob rehashed", "UPDATE events SET id = X'00410A22' WHERE position = 6", [6]),
        ("type with NUL rehashed", "UPDATE events SET type = CAST(X'4E006F' AS TEXT) WHERE position = 13", [13]),
        ("reason escapes rehashed", "UPDATE events SET reason = 'a\"b\\c' || char(9, 10, 13, 8, 12, 31, 127) WHERE position = 14", [14]),
        ("reason non-ASCII rehashed", "UPDATE events SET reason = 'é ' || char(128512, 65279) WHERE position = 15", [15]),
        ("role as integer rehashed", "UPDATE events SET actor_role = 42 WHERE position = 17", [17]),
        ("role as real rehashed", "UPDATE events SET actor_role = 2.5 WHERE position = 17", [17]),
        ("organisation removed rehashed", "UPDATE events SET actor_organisation = NULL WHERE position = 2", [2]),
        ("empty organisation rehashed", "UPDATE events SET actor_organisation = '' WHERE position = 2", [2]),
        ("correlation removed rehashed", "UPDATE events SET correlation_id = NULL WHERE position = 1", [1]),
        ("causation added rehashed", "UPDATE events SET causation_id = 'x' WHERE position = 10", [10]),
        ("short hash", "UPDATE events SET hash = X'00' WHERE position = 18", []),
        ("hash as text", "UPDATE events SET hash = 'abc' WHERE position = 18", []),
        ("deleted row", "DELETE FROM events WHERE position = 5", []),
        ("deleted last row", "DELETE FROM events WHERE position = 41", []),
        ("renumbered last row", "UPDATE events SET position = 42 WHERE position = 41", []),
        ("swapped rows", """
            UPDATE events SET position = -9 WHERE position = 9;
            UPDATE events SET position = 9 WHERE position = 14;
            UPDATE events SET position = 14 WHERE position = -9;
            """, []),
        ("inserted row", """
            INSERT INTO events SELECT 42, 'x', stream, version + 100, type, schema_version, recorded_at, effective_at,
              actor_id, actor_role, actor_organisation, reason, correlation_id, causation_id, data, hash
            FROM events WHERE position = 41
            """, [42]),
        // Far beyond the rest: the ranges in between are never read one by one (that would not end).
        ("row far beyond", """
            INSERT INTO events SELECT 9223372036854775807, 'far', stream, version + 100, type, schema_version,
              recorded_at, effective_at, actor_id, actor_role, actor_organisation, reason, correlation_id,
              causation_id, data, hash FROM events WHERE position = 41
            """, []),
        ("gap, then a row far beyond", """
            INSERT INTO events SELECT 4611686018427387904, 'far', stream, version + 100, type, schema_version,
              recorded_at, effective_at, actor_id, actor_role, actor_organisation, reason, correlation_id,
              causation_id, data, hash FROM events WHERE position = 41;
            DELETE FROM events WHERE position = 41;
            """, []),
        ("node deleted", "DELETE FROM merkle_nodes WHERE level = 1 AND idx = 3", []),
        ("node zeroed", "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 1", []),
        ("node short", "UPDATE merkle_nodes SET hash = X'01' WHERE level = 1 AND idx = 0", []),
        ("node index as text", "UPDATE merkle_nodes SET idx = 'x' WHERE level = 1 AND idx = 4", []),
        ("node index as real", "UPDATE merkle_nodes SET idx = 4.5 WHERE level = 1 AND idx = 4", []),
        ("node index as blob", "UPDATE merkle_nodes SET idx = X'04' WHERE level = 3 AND idx = 1", []),
        ("extra node between", "INSERT INTO merkle_nodes VALUES (1, 2.5, zeroblob(32)), (1, 'y', zeroblob(32))", []),
        ("extra nodes beyond", "INSERT INTO merkle_nodes VALUES (1, 100, zeroblob(32)), (9, 0, zeroblob(32))", []),
        ("node level as real", "UPDATE merkle_nodes SET level = 1.5 WHERE level = 1 AND idx = 6", []),
        ("row rehashed, nodes stale", #"UPDATE events SET data = '{"n":1000}' WHERE position = 6"#, [6]),
        ("last rows rehashed", #"UPDATE events SET data = '{}' WHERE position >= 40"#, [40, 41]),
        // Without its primary key the table can hold several rows for one node; the first found is the answer.
        ("duplicate node after the right one", """
            CREATE TABLE copied AS SELECT * FROM merkle_nodes ORDER BY level, idx;
            DROP TABLE merkle_nodes;
            CREATE TABLE merkle_nodes (level, idx, hash);
            INSERT INTO merkle_nodes SELECT * FROM copied;
            INSERT INTO merkle_nodes VALUES (1, 3, zeroblob(32)), (2, 1.0, zeroblob(32));
            """, []),
        ("duplicate node before the right one", """
            CREATE TABLE copied AS SELECT * FROM merkle_nodes ORDER BY level, idx;
            DROP TABLE merkle_nodes;
            CREATE TABLE merkle_nodes (level, idx, hash);
            INSERT INTO merkle_nodes VALUES (1, 3, zeroblob(32));
            INSERT INTO merkle_nodes SELECT * FROM copied;
            """, []),
        ("duplicate node, index walked backwards", """
            CREATE TABLE copied AS SELECT * FROM merkle_nodes ORDER BY level, idx;
            DROP TABLE merkle_nodes;
            CREATE TABLE merkle_nodes (level, idx, hash);
            CREATE INDEX nodes_descending ON merkle_nodes (level, idx DESC);
            INSERT INTO merkle_nodes SELECT * FROM copied;
            INSERT INTO merkle_nodes VALUES (1, 3, zeroblob(32)), (3, 0, zeroblob(32));
            """, []),
        ("stream version", "UPDATE streams SET version = version + 1 WHERE stream = 'goal/G-1'", []),
        ("stream deleted", "DELETE FROM streams WHERE stream = 'goal/G-0'", []),
        ("stream added", "INSERT INTO streams VALUES ('goal/Z', 'goal', 1, 0)", []),
        // KELVIN SIGN is canonically equivalent to K: as Swift strings the two names are equal.
        ("stream renamed to an equivalent", "UPDATE streams SET stream = 'goal/' || char(8490) || '-1' WHERE stream = 'goal/K-1'", []),
        ("recorded size", "UPDATE ledger_meta SET value = '40' WHERE key = 'size'", []),
        ("recorded size larger", "UPDATE ledger_meta SET value = '45' WHERE key = 'size'", []),
        ("recorded size not a number", "UPDATE ledger_meta SET value = 'many' WHERE key = 'size'", []),
    ]

    @Test func sameReportsAsTheReferenceOnEditedLedgers() throws {
        defer { directory.remove() }
        let original = try makeLedger()
        let root = try ReferenceVerifier(path: original).verify().rootHash
        let checkpoints: [(size: Int, rootHash: Digest)?] = [nil, (41, root), (41, MerkleTree.emptyRoot), (50, root),
                                                             (0, MerkleTree.emptyRoot), (0, root)]
        var codes: Set<String> = []
        for (index, (name, sql, rehashed)) in Self.edits.enumerated() {
            let path = try copy(original, "edit-\(index)")
            do {
                let database = try Database(path: path)
                try database.execute(sql)
                try Self.rehash(database, rehashed)
            }
            for expected in checkpoints {
                let reference = try ReferenceVerifier(path: path).verify(expected: expected)
                for (configuration, verifier) in Self.verifiers(path) {
                    let report = try verifier.verify(expected: expected)
                    #expect(report.failure == reference.failure,
                            "\(name), checkpoint \(expected.map { "\($0.size)" } ?? "none"), \(configuration)")
                    #expect(report.size == reference.size && report.rootHash == reference.rootHash, "\(name), \(configuration)")
                }
                if let code = reference.failure?.code { codes.insert(code) }
            }
        }
        // The edits reach every check the verifier has.
        #expect(codes == ["hash_mismatch", "corrupt_record", "missing_event", "unexpected_event", "time_regression",
                          "version_gap", "effective_time_regression", "merkle_node_mismatch", "stream_mismatch",
                          "checkpoint_mismatch", "checkpoint_beyond_ledger"])
    }

    /// The outcome of a verification, thrown errors included, as text to compare.
    /// An error is described by SQLite's code and message, without the statement it names: the fast verifier
    /// reads the log in ranges, with other SQL than the reference.
    static func outcome(_ verify: () throws -> LedgerVerifier.Report) -> String {
        do {
            let report = try verify()
            return "size \(report.size), root \(report.rootHash.hex), \(report.failure.map { "\($0.code) \($0)" } ?? "valid")"
        } catch let error as SQLiteError {
            return "error: \(error.primaryCode) \(error.message)"
        } catch {
            return "error: \(error)"
        }
    }

    /// Errors while reading: the fast verifier reads ahead (later ranges on other workers, Merkle nodes one past the
    /// one asked for), yet throws exactly when the reference throws, and not when the reference stopped first.
    @Test func sameOutcomesWhenReadingFails() throws {
        defer { directory.remove() }
        let original = try makeLedger()
        // `json` of a non-JSON text fails when the row is read: an unreadable row, as a damaged page would be. The
        // tables keep their keys (renamed, not copied), so that rows are read one at a time in key order.
        func failingNodes(at level: Int, _ index: Int) -> String {
            """
            ALTER TABLE merkle_nodes RENAME TO copied;
            INSERT OR REPLACE INTO copied VALUES (\(level), \(index), zeroblob(32));
            CREATE VIEW merkle_nodes AS SELECT level, idx,
              CASE WHEN level = \(level) AND idx = \(index) THEN json('not json') ELSE hash END AS hash FROM copied;
            """
        }
        let edits: [(String, String, rehashed: [Int], Bool)] = [
            ("node unreadable", failingNodes(at: 1, 5), [], true),
            // Row 20 fails its version check (against a row in an earlier range when ranges are short), then
            // reading a node it completes throws: a single pass throws there too.
            ("node unreadable at a row failing its version", failingNodes(at: 1, 9)
                + "UPDATE events SET version = version + 100 WHERE position = 20;", [20], true),
            // Row 11 fails before leaf 11 completes node (1, 5); the scan meets that node while asked for (1, 4).
            ("node unreadable after a failure", failingNodes(at: 1, 5)
                + #"UPDATE events SET data = '{}' WHERE position = 11;"#, [], false),
            ("unreadable node past the end", failingNodes(at: 1, 1000), [], false),
            ("unreadable node of a higher level", failingNodes(at: 3, 2), [], true),
            ("row unreadable", """
                ALTER TABLE events RENAME TO copied;
                CREATE VIEW events AS SELECT position, id, stream, version, type, schema_version, recorded_at,
                  effective_at, actor_id, actor_role, actor_organisation, reason, correlation_id, causation_id,
                  CASE WHEN position = 30 THEN json('not json') ELSE data END AS data, hash FROM copied;
                """, [], true),
            ("row unreadable after a failure", """
                ALTER TABLE events RENAME TO copied;
                CREATE VIEW events AS SELECT position, id, stream, version, type, schema_version, recorded_at,
                  effective_at, actor_id, actor_role, actor_organisation, reason, correlation_id, causation_id,
                  CASE WHEN position = 30 THEN json('not json') ELSE data END AS data, hash FROM copied;
                UPDATE copied SET recorded_at = 0 WHERE position = 29;
                """, [], false),
            ("streams table unreadable", "DROP TABLE streams; CREATE VIEW streams AS SELECT json('x') AS stream, 1 AS version;", [], true),
            ("streams table unreadable after a failure",
             "DROP TABLE streams; CREATE VIEW streams AS SELECT json('x') AS stream, 1 AS version; DELETE FROM events WHERE position = 41;",
             [], false),
        ]
        for (index, (name, sql, rehashed, throwsError)) in edits.enumerated() {
            let path = try copy(original, "failing-\(index)")
            do {
                let database = try Database(path: path)
                try database.execute(sql)
                try Self.rehash(database, rehashed)
            }
            let reference = Self.outcome { try ReferenceVerifier(path: path).verify() }
            for (configuration, verifier) in Self.verifiers(path) {
                #expect(Self.outcome { try verifier.verify() } == reference, "\(name), \(configuration)")
            }
            #expect(reference.hasPrefix("error") == throwsError, "\(name): \(reference)")
        }
    }

    /// A ledger of several ranges of the default size's shape (256 rows here), edited in later ranges and at their
    /// edges.
    @Test func sameReportsAcrossRanges() throws {
        defer { directory.remove() }
        let path = directory.file("long.sqlite")
        let clock = ManualClock()
        let ledger = try Ledger(path: path, clock: clock.function)
        for n in 0..<60 {
            clock.advance(milliseconds: 1000)
            let events = (0..<20).map { ProposedEvent(type: "Noted", reason: $0 % 3 == 0 ? "r\($0)" : nil, data: ["n": JSONValue($0)]) }
            _ = try ledger.append(AppendTransaction(
                streams: [StreamAppend(stream: StreamName("goal/G-\(n % 7)")!, events: events)], actor: testActor))
        }
        ledger.close()
        let size = 1200
        let range = 256
        let edits: [(String, String, [Int])] = [
            ("untouched", "", []),
            ("data in a later range", "UPDATE events SET data = '{}' WHERE position = 1000", []),
            ("first row of a range", "UPDATE events SET data = '{}' WHERE position = \(range + 1)", []),
            ("last row of a range", "UPDATE events SET data = '{}' WHERE position = \(2 * range)", []),
            ("rehashed at a range edge", "UPDATE events SET data = '{}' WHERE position = \(2 * range)",
             [2 * range]),
            ("time rehashed", "UPDATE events SET recorded_at = 0 WHERE position = 900", [900]),
            ("missing in a later range", "DELETE FROM events WHERE position = 1100", []),
            ("deleted last row", "DELETE FROM events WHERE position = \(size)", []),
            ("level 9 node", "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 9 AND idx = 1", []),
            ("stream version", "UPDATE streams SET version = 1 WHERE stream = 'goal/G-3'", []),
        ]
        for (index, (name, sql, rehashed)) in edits.enumerated() {
            let copied = try copy(path, "long-\(index)")
            do {
                let database = try Database(path: copied)
                try database.execute(sql)
                try Self.rehash(database, rehashed)
            }
            let reference = Self.outcome { try ReferenceVerifier(path: copied).verify(expected: (1024, MerkleTree.emptyRoot)) }
            for workers in [1, 2, 3] {
                var steps: [Int] = []
                let fast = Self.outcome {
                    try LedgerVerifier(path: copied, rangeLevel: 8, workers: workers)
                        .verify(expected: (1024, MerkleTree.emptyRoot)) { done, _ in steps.append(done) }
                }
                #expect(fast == reference, "\(name), \(workers) workers")
                #expect(steps.last == Int(fast.split(separator: ",")[0].dropFirst(5)), "\(name): progress ends at the size")
            }
        }
    }

    /// A database storing text as UTF-16: a text column's bytes read in place must still be the UTF-8 that `text`
    /// reads, or every row of such a copy would fail.
    @Test func sameReportsOnAUTF16Copy() throws {
        defer { directory.remove() }
        let original = try makeLedger()
        let path = directory.file("utf16.sqlite")
        do {
            let target = try Database(path: path)
            try target.execute("PRAGMA encoding = 'UTF-16le'")
            try LedgerSchema.create(in: target)
            #expect(try target.scalarText("PRAGMA encoding") == "UTF-16le")
            let source = try Database(path: original, options: .init(readOnly: true, create: false))
            for (table, columns) in [("events", EventRow.columns), ("streams", "stream, kind, version, last_effective_at"),
                                     ("merkle_nodes", "level, idx, hash")] {
                let rows = try source.map("SELECT \(columns) FROM \(table)") { row in
                    (0..<row.columnCount).map { row.value($0) }
                }
                for values in rows {
                    let places = (1...values.count).map { "?\($0)" }.joined(separator: ", ")
                    try target.run("INSERT INTO \(table) (\(columns)) VALUES (\(places))", values)
                }
            }
            try target.run("UPDATE ledger_meta SET value = '41' WHERE key = 'size'")
        }
        let reference = try ReferenceVerifier(path: path).verify()
        #expect(reference.isValid && reference.size == 41)
        for (configuration, verifier) in Self.verifiers(path) {
            let report = try verifier.verify()
            #expect(report.failure == reference.failure && report.size == reference.size && report.rootHash == reference.rootHash,
                    "\(configuration)")
        }
    }
}
