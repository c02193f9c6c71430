import SQLite

@testable import Ledger

/// `LedgerVerifier` as it was before it read rows in place (commit 6806e31): a point lookup per Merkle node, a
/// `RecordedEvent` and a `String`-keyed stream table per row. The differential tests hold the fast verifier to
/// exactly its reports, failure messages included, on edited ledgers.
struct ReferenceVerifier {
    let path: String

    func verify(expected: (size: Int, rootHash: Digest)? = nil) throws -> LedgerVerifier.Report {
        let database = try Database(path: path, options: .init(readOnly: true, create: false))
        return try database.transaction(.deferred) { try verify(database, expected: expected, progress: nil) }
    }

    func verify(_ database: Database, expected: (size: Int, rootHash: Digest)?,
                        progress: ((Int, Int) -> Void)?) throws -> LedgerVerifier.Report
    {
        let recordedSize = Int(try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'size'")
            .flatMap { Int($0) } ?? -1)
        let rowCount = Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
        let total = max(recordedSize, rowCount)
        var tree = FrontierTree()
        var size: Int { tree.size }
        var lastRecordedAt: Int64 = .min
        var streams: [String: (version: Int, effectiveAt: Int64)] = [:]
        var failure: LedgerVerifier.Failure?
        var expectedRoot: Digest?

        func fail(_ position: Int, _ code: String, _ message: String) {
            if failure == nil { failure = LedgerVerifier.Failure(position: position, code: code, message: message) }
        }
        let storedNode = try database.prepare("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2")
        let rows = try database.prepare("SELECT \(EventRow.columns) FROM events ORDER BY position")
        defer { rows.reset() }
        while failure == nil, try rows.step() {
            let position = size + 1
            guard rows.int(0) == position else {
                fail(position, rows.int(0) > position ? "missing_event" : "unexpected_event",
                     "expected the event at position \(position), found position \(rows.int(0))")
                break
            }
            let event: RecordedEvent
            let computed: Digest
            do {
                event = try EventRow.decode(rows, parsingData: false)
                computed = MerkleTree.leafHash(rows.withBytes(14) { EnvelopeEncoder.encode(event, canonicalData: $0) })
            } catch {
                fail(position, "corrupt_record", error.message)
                break
            }
            if computed != event.hash {
                fail(position, "hash_mismatch",
                     "stored hash \(event.hash.hex) does not match the recomputed leaf hash \(computed.hex)")
                break
            }
            if event.recordedAt.millisecondsSinceEpoch < lastRecordedAt {
                fail(position, "time_regression", "recordedAt goes back in time")
            }
            lastRecordedAt = event.recordedAt.millisecondsSinceEpoch
            let previous = streams[event.stream.description]
            if event.version != (previous?.version ?? 0) + 1 {
                fail(position, "version_gap",
                     "stream \(event.stream) jumps from version \(previous?.version ?? 0) to \(event.version)")
            }
            if let previous, event.effectiveAt.millisecondsSinceEpoch < previous.effectiveAt {
                fail(position, "effective_time_regression", "effectiveAt goes back in time along \(event.stream)")
            }
            streams[event.stream.description] = (event.version, event.effectiveAt.millisecondsSinceEpoch)

            // Fold the leaf into the tree and compare every completed node with the stored one.
            for node in tree.append(computed) {
                try storedNode.bind([.integer(Int64(node.level)), .integer(Int64(node.index))])
                let stored = try storedNode.step() ? storedNode.blob(0) : nil
                storedNode.reset()
                if stored != node.hash.bytes {
                    // The stored subtree root no longer matches, which places the edit within the subtree's
                    // positions (the hash alone cannot say which). Nodes come lowest level first: at level 1 a row
                    // edited with its leaf hash recomputed or the node itself; above, every node below matched, so
                    // the node itself (or everything beneath it rewritten to agree).
                    let first = (node.index << node.level) + 1
                    let cause = node.level == 1
                        ? "a record there was altered and its hash recomputed, or this stored node was edited or removed"
                        : "the nodes below it match the records, so this stored node was edited or removed "
                            + "(or the records and nodes beneath it were rewritten to agree with each other)"
                    fail(first, "merkle_node_mismatch",
                         "positions \(first)–\(first + (1 << node.level) - 1) do not match the stored Merkle tree (level \(node.level), index \(node.index)): \(cause)")
                }
            }
            if let expected, expected.size == size { expectedRoot = tree.root }
            if size % 10_000 == 0 { progress?(size, total) }
        }
        progress?(size, total)

        if failure == nil, size != recordedSize {
            fail(min(size, recordedSize) + 1, size < recordedSize ? "missing_event" : "unexpected_event",
                 "the ledger records \(recordedSize) events but \(size) are stored")
        }
        if failure == nil {
            let versions = try database.map("SELECT stream, version FROM streams") { ($0.text(0), $0.int(1)) }
            for (stream, version) in versions where streams[stream]?.version != version {
                fail(size, "stream_mismatch",
                     "the streams table has \(stream) at version \(version); the events say \(streams[stream]?.version ?? 0)")
                break
            }
            if versions.count != streams.count {
                fail(size, "stream_mismatch", "the streams table lists \(versions.count) streams; the events have \(streams.count)")
            }
        }
        if failure == nil, let expected {
            if expected.size > size {
                fail(size + 1, "checkpoint_beyond_ledger",
                     "the published checkpoint has \(expected.size) events; the ledger has \(size)")
            } else if expectedRoot ?? (expected.size == 0 ? MerkleTree.emptyRoot : nil) != expected.rootHash {
                fail(expected.size, "checkpoint_mismatch",
                     "the ledger's first \(expected.size) events do not have the published root \(expected.rootHash.hex)")
            }
        }
        return LedgerVerifier.Report(size: size, rootHash: tree.root, failure: failure)
    }
}
