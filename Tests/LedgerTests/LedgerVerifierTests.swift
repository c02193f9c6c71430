import Foundation
import SQLite
import Synchronization
import Testing

@testable import Ledger

/// Edits made to the SQLite file behind the ledger's back are found by `verify`, at the right position.
@Suite struct LedgerVerifierTests {
    let directory = TemporaryDirectory()

    /// A closed ledger of 20 events over 4 streams.
    func makeLedger(_ name: String = "ledger") throws -> String {
        let path = directory.file(name + ".sqlite")
        let clock = ManualClock()
        let ledger = try Ledger(path: path, clock: clock.function)
        for n in 0..<20 {
            clock.advance(milliseconds: 1000)
            _ = try ledger.append(transaction("goal/G-\(n % 4)", .any, event("A", ["n": JSONValue(n)])))
        }
        ledger.close()
        return path
    }

    func tamper(_ path: String, _ sql: String) throws {
        let database = try Database(path: path)
        try database.execute(sql)
    }

    func failure(_ path: String, expected: (Int, Digest)? = nil) throws -> LedgerVerifier.Failure? {
        try LedgerVerifier(path: path).verify(expected: expected.map { (size: $0.0, rootHash: $0.1) }).failure
    }

    @Test func untouchedLedgerVerifies() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        let report = try LedgerVerifier(path: path).verify()
        #expect(report.isValid && report.size == 20)
    }

    /// Verifying a ledger while another connection appends to it: the workers' snapshots are newer than the one
    /// that fixed the ranges, and hold rows beyond them. Each verification sees one consistent prefix: valid, of a
    /// size between the sizes before and after it, with that prefix's published root.
    @Test func verifiesALedgerBeingAppendedTo() throws {
        defer { directory.remove() }
        let path = directory.file("busy.sqlite")
        let ledger = try Ledger(path: path)
        for n in 0..<40 { _ = try ledger.append(transaction("goal/G-\(n % 5)", .any, event("A", ["n": JSONValue(n)]))) }
        let writing = Atomic<Bool>(true)
        let appender = Thread {
            var n = 40
            while writing.load(ordering: .relaxed) {
                _ = try? ledger.append(transaction("goal/G-\(n % 5)", .any, event("A", ["n": JSONValue(n)]), event("B")))
                n += 1
            }
        }
        appender.start()
        defer { writing.store(false, ordering: .relaxed) }
        var sizes: [Int] = []
        for round in 0..<12 {
            let before = ledger.size
            let report = try LedgerVerifier(path: path, rangeLevel: round % 3 + 1, workers: 3).verify()
            let after = ledger.size
            #expect(report.isValid, "\(report.failure.map { "\($0)" } ?? "")")
            #expect(report.size >= before && report.size <= after, "\(before) ≤ \(report.size) ≤ \(after)")
            #expect(report.rootHash == (try ledger.checkpoint(size: report.size)).rootHash)
            sizes.append(report.size)
        }
        writing.store(false, ordering: .relaxed)
        #expect(Set(sizes).count > 1, "the ledger grew while it was verified: \(sizes)")
        ledger.close()
    }

    @Test func editedDataIsFound() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        try tamper(path, #"UPDATE events SET data = '{"n":99}' WHERE position = 7"#)
        let failure = try failure(path)
        #expect(failure?.position == 7 && failure?.code == "hash_mismatch")
    }

    @Test func editedEnvelopeFieldsAreFound() throws {
        defer { directory.remove() }
        for (column, value) in [("actor_id", "'mallory'"), ("reason", "'because'"), ("effective_at", "effective_at - 1"),
                                ("type", "'B'"), ("schema_version", "2")] {
            let path = try makeLedger(column)
            try tamper(path, "UPDATE events SET \(column) = \(value) WHERE position = 12")
            #expect(try failure(path)?.position == 12, "\(column)")
        }
    }

    @Test func deletedRowIsFound() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        try tamper(path, "DELETE FROM events WHERE position = 5")
        let failure = try failure(path)
        #expect(failure?.position == 5 && failure?.code == "missing_event")
    }

    @Test func deletedLastRowIsFound() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        try tamper(path, "DELETE FROM events WHERE position = 20")
        #expect(try failure(path)?.position == 20)
    }

    @Test func reorderedRowsAreFound() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        // Swap positions 9 and 14, hashes and all.
        try tamper(path, """
            UPDATE events SET position = -9 WHERE position = 9;
            UPDATE events SET position = 9 WHERE position = 14;
            UPDATE events SET position = 14 WHERE position = -9;
            """)
        #expect(try failure(path)?.position == 9)
    }

    @Test func insertedRowIsFound() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        try tamper(path, """
            INSERT INTO events SELECT 21, 'x', stream, version + 100, type, schema_version, recorded_at, effective_at,
              actor_id, actor_role, actor_organisation, reason, correlation_id, causation_id, data, hash
            FROM events WHERE position = 20
            """)
        #expect(try failure(path)?.position == 21)
    }

    @Test func rehashedRowIsFoundThroughTheMerkleNodes() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        // A careful forger recomputes the leaf hash of the row they edited; the stored tree still disagrees.
        let database = try Database(path: path)
        var record = try database.first("SELECT \(EventRow.columns) FROM events WHERE position = 6") { try EventRow.decode($0) }!
        record = RecordedEvent(position: 6, id: record.id, stream: record.stream, version: record.version, type: record.type,
                               schemaVersion: 1, recordedAt: record.recordedAt, effectiveAt: record.effectiveAt,
                               actor: record.actor, reason: nil, correlationId: nil, causationId: nil, data: ["n": 1000],
                               hash: record.hash)
        try database.run("UPDATE events SET data = ?1, hash = ?2 WHERE position = 6",
                         [.text(#"{"n":1000}"#), .blob(record.computedHash.bytes)])
        let failure = try failure(path)
        // Leaves 5 and 6 form the first stored subtree that disagrees.
        #expect(failure?.position == 5 && failure?.code == "merkle_node_mismatch")
        #expect(failure?.message.contains("positions 5–6") == true)
        // At level 1 the stored node may be the edit as well as the record: the message names both.
        #expect(failure?.message.contains("a record there was altered and its hash recomputed") == true, "\(failure!)")
        #expect(failure?.message.contains("or this stored node was edited") == true, "\(failure!)")
    }

    /// Nodes are compared lowest level first, so when the first one that differs is at level 2 or above, every
    /// node below it matched the records: the node row itself was edited, not a record. The message says so,
    /// whether the node is compared by the worker folding its range or where ranges are joined.
    @Test func anEditedNodeAboveLevelOneIsBlamedNotARecord() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        try tamper(path, "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 1")
        for verifier in [LedgerVerifier(path: path), LedgerVerifier(path: path, rangeLevel: 1, workers: 2)] {
            let failure = try #require(try verifier.verify().failure)
            #expect(failure.position == 5 && failure.code == "merkle_node_mismatch")
            #expect(failure.message.hasPrefix("positions 5–8 do not match the stored Merkle tree (level 2, index 1)"))
            #expect(failure.message.contains("this stored node was edited or removed"), "\(failure)")
            #expect(!failure.message.contains("a record there was altered"), "\(failure)")
        }
        // A node removed is found the same way, at the first position it covers.
        let removed = try makeLedger("removed")
        try tamper(removed, "DELETE FROM merkle_nodes WHERE level = 3 AND idx = 1")
        let gone = try #require(try failure(removed))
        #expect(gone.position == 9 && gone.message.contains("(level 3, index 1)"), "\(gone)")
        #expect(!gone.message.contains("a record there was altered"), "\(gone)")

        // A level-1 node edited on its own: a record or the node, and the message cannot tell which.
        let level1 = try makeLedger("level1")
        try tamper(level1, "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 4")
        let atLevel1 = try #require(try failure(level1))
        #expect(atLevel1.position == 9 && atLevel1.message.contains("or this stored node was edited"), "\(atLevel1)")
    }

    @Test func publishedCheckpointMustMatch() throws {
        defer { directory.remove() }
        let path = try makeLedger()
        let ledger = try Ledger(path: path)
        let published = try ledger.checkpoint(size: 13)
        ledger.close()
        #expect(try failure(path, expected: (13, published.rootHash)) == nil)
        #expect(try failure(path, expected: (13, MerkleTree.emptyRoot))?.code == "checkpoint_mismatch")
        #expect(try failure(path, expected: (21, published.rootHash))?.code == "checkpoint_beyond_ledger")
    }
}
