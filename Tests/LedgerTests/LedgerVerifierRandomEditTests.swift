import Foundation
import Harness
import SQLite
import Testing

@testable import Ledger

/// The range-parallel verifier against `ReferenceVerifier` on randomly edited copies of one ledger: a few hundred
/// seeded cases of one to four edits each (rows updated, deleted, inserted or renumbered, with or without their
/// leaf hash recomputed, and sometimes the Merkle tree rebuilt to agree; stored nodes, streams and the recorded size
/// edited), each verified with and without a published checkpoint at several range sizes and worker counts. The
/// seed is fixed, so a failure names a case that can be replayed.
@Suite struct LedgerVerifierRandomEditTests {
    let directory = TemporaryDirectory()

    static let seed: UInt64 = 0x5EED_1E06_E2
    static let cases = 240
    /// log2 of the range size: ranges of 2, 4, 8 and 32 rows (four ranges of the 100-event ledger), each with one to
    /// three workers, drawn per case.
    static let rangeLevels = [1, 2, 3, 5]

    static let streamNames = ["goal/G-0", "goal/G-1", "decision/D.1", "measure/M:2", "risk/R_3", "goal/H-7"]

    /// 100 events over six streams, one to three to a transaction, some transactions in the same millisecond.
    func makeLedger() throws -> String {
        let path = directory.file("original.sqlite")
        let clock = ManualClock()
        let ledger = try Ledger(path: path, clock: clock.function)
        var generator = SeededRandom(seed: 7)
        var n = 0
        while n < 100 {
            clock.advance(milliseconds: Int64.random(in: 0...2, using: &generator) * 700)
            let count = min(Int.random(in: 1...3, using: &generator), 100 - n)
            var appends: [StreamAppend] = []
            for stream in Self.streamNames.shuffled(using: &generator).prefix(Int.random(in: 1...2, using: &generator)) {
                let events = (0..<count).map { offset in
                    ProposedEvent(type: (n + offset) % 2 == 0 ? "Noted" : "Revised",
                                  effectiveAt: Timestamp(millisecondsSinceEpoch: Int64(n + offset) * 3_600_000),
                                  reason: (n + offset) % 4 == 0 ? "r\(n + offset)" : nil,
                                  correlationId: (n + offset) % 5 == 0 ? "c\(n)" : nil,
                                  data: ["n": JSONValue(n + offset)])
                }
                appends.append(StreamAppend(stream: StreamName(stream)!, events: events))
                n += count
            }
            _ = try ledger.append(AppendTransaction(streams: appends, actor: testActor))
        }
        ledger.close()
        return path
    }

    /// Recomputes and stores every Merkle node from the stored leaf hashes in position order, as a forger who
    /// rewrote records would, so that the checks after the nodes (and in later rows) are reached.
    static func rebuildNodes(_ database: Database) throws {
        let hashes = try database.map("SELECT hash FROM events ORDER BY position") { $0.withBytes(0) { Digest(bytes: $0) } }
        var tree = FrontierTree()
        for hash in hashes {
            guard let hash else { return }
            for node in tree.append(hash) {
                try database.run("INSERT OR REPLACE INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
                                 [.integer(Int64(node.level)), .integer(Int64(node.index)), .blob(node.hash.bytes)])
            }
        }
    }

    /// Stores the leaf hash the row at `position` now implies, if there is such a row and it still decodes.
    static func rehash(_ database: Database, _ position: Int) throws {
        guard try database.scalarInt("SELECT COUNT(*) FROM events WHERE position = ?1", [.integer(Int64(position))]) == 1
        else { return }
        try LedgerVerifierDifferentialTests.rehash(database, [position])
    }

    /// One random edit: SQL to run and the positions to rehash afterwards.
    static func randomEdit(size: Int, using generator: inout SeededRandom) -> (sql: String, rehash: [Int]) {
        func position() -> Int { Int.random(in: 1...size, using: &generator) }
        func other() -> Int { Int.random(in: 1...size, using: &generator) }
        let p = position()
        let rehash = Bool.random(using: &generator) || Bool.random(using: &generator) ? [p] : []
        switch Int.random(in: 0..<22, using: &generator) {
        case 0: return ("UPDATE events SET recorded_at = (SELECT recorded_at FROM events WHERE position = \(other())) WHERE position = \(p)", rehash)
        case 1: return ("UPDATE events SET recorded_at = recorded_at + \(Int.random(in: -2000...2000, using: &generator)) WHERE position = \(p)", rehash)
        case 2: return ("UPDATE events SET effective_at = (SELECT effective_at FROM events WHERE position = \(other())) WHERE position = \(p)", rehash)
        case 3: return ("UPDATE events SET version = version + \(Int.random(in: -2...2, using: &generator)) WHERE position = \(p)", rehash)
        case 4: return ("UPDATE events SET stream = '\(streamNames.randomElement(using: &generator)!)' WHERE position = \(p)", rehash)
        case 5:
            // A row takes another's stream and version: a duplicate or a jump, depending on order.
            let q = other()
            return ("""
                UPDATE events SET (stream, version) = (SELECT stream, version FROM events WHERE position = \(q))
                WHERE position = \(p)
                """, rehash)
        case 6: return ("UPDATE events SET data = '{\"edited\":\(p)}' WHERE position = \(p)", rehash)
        case 7: return ("UPDATE events SET stream = '\(["Goal/x", "goal", "goal/", "42"].randomElement(using: &generator)!)' WHERE position = \(p)", rehash)
        case 8: return ("UPDATE events SET hash = \(["X'00'", "zeroblob(32)", "'abc'"].randomElement(using: &generator)!) WHERE position = \(p)", [])
        case 9:
            let count = Int.random(in: 1...3, using: &generator)
            return ("DELETE FROM events WHERE position >= \(p) AND position < \(p + count)", [])
        case 10:
            let target = [size + 1, size + 2, size + Int.random(in: 3...40, using: &generator), 0, -1,
                          Int.random(in: 1 << 20...1 << 40, using: &generator)].randomElement(using: &generator)!
            return ("""
                INSERT OR IGNORE INTO events SELECT \(target), 'inserted-\(target)', stream, version + 1, type,
                  schema_version, recorded_at, effective_at, actor_id, actor_role, actor_organisation, reason,
                  correlation_id, causation_id, data, hash FROM events WHERE position = \(other())
                """, Bool.random(using: &generator) ? [target] : [])
        case 11:
            // A row moved elsewhere: into a gap of its own making or beyond the end.
            let target = [size + 1, size + Int.random(in: 2...9, using: &generator), 0, other()].randomElement(using: &generator)!
            return ("UPDATE OR IGNORE events SET position = \(target) WHERE position = \(p)", [])
        case 12:
            let q = other()
            return ("""
                UPDATE events SET position = -1000 WHERE position = \(p);
                UPDATE events SET position = \(p) WHERE position = \(q);
                UPDATE events SET position = \(q) WHERE position = -1000;
                """, Bool.random(using: &generator) ? [p, q] : [])
        case 13:
            let level = Int.random(in: 1...6, using: &generator)
            let index = Int.random(in: 0...(size >> level), using: &generator)
            let sql = [
                "DELETE FROM merkle_nodes WHERE level = \(level) AND idx = \(index)",
                "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = \(level) AND idx = \(index)",
                "UPDATE OR IGNORE merkle_nodes SET idx = idx + 1 WHERE level = \(level) AND idx = \(index)",
                "INSERT OR REPLACE INTO merkle_nodes VALUES (\(level), \(index + 1000), zeroblob(32))",
                "UPDATE merkle_nodes SET hash = X'01' WHERE level = \(level) AND idx = \(index)",
            ].randomElement(using: &generator)!
            return (sql, [])
        case 14:
            let stream = streamNames.randomElement(using: &generator)!
            let sql = [
                "UPDATE streams SET version = version + \([-1, 1].randomElement(using: &generator)!) WHERE stream = '\(stream)'",
                "DELETE FROM streams WHERE stream = '\(stream)'",
                "INSERT OR IGNORE INTO streams VALUES ('goal/Z-9', 'goal', 1, 0)",
            ].randomElement(using: &generator)!
            return (sql, [])
        case 15:
            let value = [size - 1, size + 1, size - Int.random(in: 2...10, using: &generator), 0].randomElement(using: &generator)!
            return ("UPDATE ledger_meta SET value = '\(value)' WHERE key = 'size'", [])
        case 16:
            // The last rows removed, the recorded size kept in step: a ledger cut short.
            let cut = Int.random(in: 1...8, using: &generator)
            return ("""
                DELETE FROM events WHERE position > \(size - cut);
                UPDATE ledger_meta SET value = '\(size - cut)' WHERE key = 'size';
                """, [])
        case 17:
            // An unreadable stored node (`json` of a non-JSON text fails when the row is read), as a damaged page.
            let level = Int.random(in: 1...6, using: &generator)
            let index = Int.random(in: 0...(size >> level) + 1, using: &generator)
            return ("""
                ALTER TABLE merkle_nodes RENAME TO stored_nodes;
                CREATE VIEW merkle_nodes AS SELECT level, idx, CASE WHEN level = \(level) AND idx = \(index)
                  THEN json('not json') ELSE hash END AS hash FROM stored_nodes;
                """, [])
        case 18:
            return ("""
                ALTER TABLE events RENAME TO stored_events;
                CREATE VIEW events AS SELECT position, id, stream, version, type, schema_version, recorded_at,
                  effective_at, actor_id, actor_role, actor_organisation, reason, correlation_id, causation_id,
                  CASE WHEN position = \(p) THEN json('not json') ELSE data END AS data, hash FROM stored_events;
                """, [])
        case 19:
            // Without its primary key the node table can hold a node twice; the first found answers.
            let level = Int.random(in: 1...5, using: &generator)
            let index = Int.random(in: 0...(size >> level), using: &generator)
            let before = Bool.random(using: &generator) ? "INSERT INTO merkle_nodes VALUES (\(level), \(index), zeroblob(32));" : ""
            return ("""
                CREATE TABLE copied AS SELECT * FROM merkle_nodes ORDER BY level, idx;
                DROP TABLE merkle_nodes;
                CREATE TABLE merkle_nodes (level, idx, hash);
                \(before)
                INSERT INTO merkle_nodes SELECT * FROM copied;
                INSERT INTO merkle_nodes VALUES (\(level), \(index + 1), zeroblob(32));
                """, [])
        case 20:
            let sql = ["DELETE FROM events", "DELETE FROM events WHERE position > 1",
                       "DELETE FROM events WHERE position < \(size)"].randomElement(using: &generator)!
            return (sql, [])
        default:
            // recordedAt moved back to the previous row's, minus one: a regression exactly at the row.
            return ("""
                UPDATE events SET recorded_at = (SELECT recorded_at - 1 FROM events WHERE position = \(p - 1))
                WHERE position = \(p) AND \(p) > 1
                """, rehash)
        }
    }

    @Test func sameOutcomesAsTheReferenceOnRandomEdits() throws {
        defer { directory.remove() }
        let original = try makeLedger()
        let leaves = try {
            let database = try Database(path: original, options: .init(readOnly: true, create: false))
            return try database.map("SELECT hash FROM events ORDER BY position") { Digest(bytes: $0.blob(0))! }
        }()
        let size = leaves.count
        #expect(try ReferenceVerifier(path: original).verify().isValid)
        var prefixRoots = [MerkleTree.emptyRoot]
        var tree = FrontierTree()
        for leaf in leaves {
            tree.append(leaf)
            prefixRoots.append(tree.root)
        }

        var generator = SeededRandom(seed: Self.seed)
        var codes: [String: Int] = [:]
        var mismatches = 0
        var comparisons = 0
        for number in 0..<Self.cases {
            var edits: [(sql: String, rehash: [Int], applied: Bool)] = []
            for _ in 0..<(Bool.random(using: &generator) ? 1 : Int.random(in: 2...4, using: &generator)) {
                let edit = Self.randomEdit(size: size, using: &generator)
                edits.append((edit.sql, edit.rehash, false))
            }
            let rebuild = Int.random(in: 0..<3, using: &generator) == 0
            let checkpoint: (size: Int, rootHash: Digest)? =
                switch Int.random(in: 0..<5, using: &generator) {
                case 0, 1: nil
                case 2: (size, prefixRoots[size])
                case 3:
                    { let k = Int.random(in: 0...size, using: &generator); return (k, prefixRoots[k]) }()
                default:
                    (Int.random(in: 0...size + 3, using: &generator), prefixRoots[Int.random(in: 0...size, using: &generator)])
                }
            let path = directory.file("random-\(number).sqlite")
            try FileManager.default.copyItem(atPath: original, toPath: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                let database = try Database(path: path)
                // An edit the schema refuses (a duplicate stream version, say) is left out, as far as it got.
                for index in edits.indices {
                    edits[index].applied = (try? database.execute(edits[index].sql)) != nil
                    for position in edits[index].rehash { try? Self.rehash(database, position) }
                }
                if rebuild { try? Self.rebuildNodes(database) }
            }
            let reference = LedgerVerifierDifferentialTests.outcome {
                try ReferenceVerifier(path: path).verify(expected: checkpoint)
            }
            let code = reference.hasPrefix("error") ? "error" : reference.split(separator: ",")[2].split(separator: " ")[0]
            codes[String(code), default: 0] += 1
            for level in Self.rangeLevels {
                let workers = Int.random(in: 1...3, using: &generator)
                let fast = LedgerVerifierDifferentialTests.outcome {
                    try LedgerVerifier(path: path, rangeLevel: level, workers: workers).verify(expected: checkpoint)
                }
                comparisons += 1
                if fast != reference {
                    mismatches += 1
                    let description = edits.map { "\($0.sql) -- rehash \($0.rehash)\($0.applied ? "" : ", refused")" }.joined(separator: "\n  ")
                    Issue.record("""
                        seed \(Self.seed), case \(number), ranges of \(1 << level), \(workers) workers, \
                        checkpoint \(checkpoint.map { "\($0.size)" } ?? "none"), nodes rebuilt \(rebuild)
                          \(description)
                        reference: \(reference)
                        fast:      \(fast)
                        """)
                }
            }
        }
        print("random edits: seed \(Self.seed), \(Self.cases) cases, \(comparisons) comparisons, \(mismatches) mismatches; "
              + "reference outcomes \(codes.sorted { $0.key < $1.key })")
        // The edits reach the checks after the leaf hash, and not only the first ones.
        for code in ["hash_mismatch", "time_regression", "version_gap", "effective_time_regression",
                     "merkle_node_mismatch", "missing_event", "unexpected_event", "stream_mismatch", "checkpoint_mismatch"] {
            #expect(codes[code, default: 0] > 0, "no case ended in \(code)")
        }
    }
}
