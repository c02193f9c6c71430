import SQLite

/// Recomputes the whole ledger from its stored fields and reports the first thing that does not match: a leaf
/// hash, a missing or extra position, a stream version out of order, a time that went backwards, a Merkle node,
/// the recorded size, or a published checkpoint. Any edit to the database made behind the ledger's back is found
/// (short of rewriting everything consistently, which a published checkpoint catches).
public struct LedgerVerifier {
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        /// The first position that does not match (or the first missing one).
        public let position: Int
        public let code: String
        public let message: String
        public var description: String { "position \(position): \(message)" }
    }

    public struct Report: Sendable {
        /// Events read.
        public let size: Int
        /// The root recomputed from the leaves.
        public let rootHash: Digest
        public let failure: Failure?
        public var isValid: Bool { failure == nil }
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// - Parameters:
    ///   - expected: a published checkpoint (size and root) the ledger must extend.
    ///   - progress: called every so often with (events checked, total).
    public func verify(expected: (size: Int, rootHash: Digest)? = nil,
                       progress: ((Int, Int) -> Void)? = nil) throws -> Report
    {
        let database = try Database(path: path, options: .init(readOnly: true, create: false))
        return try database.transaction(.deferred) { try verify(database, expected: expected, progress: progress) }
    }

    private func verify(_ database: Database, expected: (size: Int, rootHash: Digest)?,
                        progress: ((Int, Int) -> Void)?) throws -> Report
    {
        let recordedSize = Int(try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'size'")
            .flatMap { Int($0) } ?? -1)
        // The row count only feeds progress reports; counting a million rows is not free.
        let rowCount = progress == nil ? 0 : Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
        let total = max(recordedSize, rowCount)
        var tree = FrontierTree()
        var size: Int { tree.size }
        var lastRecordedAt: Int64 = .min
        let streams = StreamVersions()
        var failure: Failure?
        var expectedRoot: Digest?

        func fail(_ position: Int, _ code: String, _ message: String) {
            if failure == nil { failure = Failure(position: position, code: code, message: message) }
        }
        let storedNodes = StoredMerkleNodes(database: database)
        // Every envelope is laid out in this one buffer after the leaf prefix 0x00 and hashed in place.
        var message = ByteBuffer(capacity: 4096)
        let rows = try database.prepare("SELECT \(EventRow.columns) FROM events ORDER BY position")
        defer { rows.reset() }
        while failure == nil, try rows.step() {
            let position = size + 1
            guard rows.int(0) == position else {
                fail(position, rows.int(0) > position ? "missing_event" : "unexpected_event",
                     "expected the event at position \(position), found position \(rows.int(0))")
                break
            }
            guard rows.withBytes(2, { StreamName.isValid(utf8: $0) }) else {
                fail(position, "corrupt_record", EventRow.corruptRecord(position: position, "invalid stream name").message)
                break
            }
            message.removeAll()
            message.append(0)
            EnvelopeEncoder.write(EventRow.EnvelopeColumns(row: rows), to: &message)
            let computed = MerkleTree.leafHash(prefixedMessage: message.bytes)
            guard rows.withBytes(15, { computed.equals($0) }) else {
                fail(position, "hash_mismatch",
                     "stored hash \(EventRow.storedHash(rows).hex) does not match the recomputed leaf hash \(computed.hex)")
                break
            }
            let recordedAt = rows.int64(6), effectiveAt = rows.int64(7), version = rows.int(3)
            if recordedAt < lastRecordedAt {
                fail(position, "time_regression", "recordedAt goes back in time")
            }
            lastRecordedAt = recordedAt
            rows.withBytes(2) { name in
                let previous = streams.entry(for: name)
                if version != (previous?.version ?? 0) + 1 {
                    fail(position, "version_gap",
                         "stream \(rows.text(2)) jumps from version \(previous?.version ?? 0) to \(version)")
                }
                if let previous, effectiveAt < previous.effectiveAt {
                    fail(position, "effective_time_regression", "effectiveAt goes back in time along \(rows.text(2))")
                }
                streams.set(.init(version: version, effectiveAt: effectiveAt), for: name)
            }

            // Fold the leaf into the tree and compare every completed node with the stored one.
            try tree.append(computed) { level, index, hash throws(SQLiteError) in
                guard try storedNodes.hash(level: level, index: index) != hash else { return }
                // A row edited with its leaf hash recomputed: the stored subtree root no longer matches, which
                // places the edit within the subtree's positions (the hash alone cannot say which).
                let first = (index << level) + 1
                fail(first, "merkle_node_mismatch",
                     "positions \(first)–\(first + (1 << level) - 1) do not match the stored Merkle tree (level \(level), index \(index)): a record there was altered and its hash recomputed")
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
            let eventStreams = streams.byName()
            for (stream, version) in versions where eventStreams[stream]?.version != version {
                fail(size, "stream_mismatch",
                     "the streams table has \(stream) at version \(version); the events say \(eventStreams[stream]?.version ?? 0)")
                break
            }
            if versions.count != eventStreams.count {
                fail(size, "stream_mismatch", "the streams table lists \(versions.count) streams; the events have \(eventStreams.count)")
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
        return Report(size: size, rootHash: tree.root, failure: failure)
    }
}
