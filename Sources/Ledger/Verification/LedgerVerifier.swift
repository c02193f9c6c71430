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

    /// Reads the rows on a second thread (`RowReader`, with its own connection) while this one hashes them: two
    /// threads, so that SQLite's work and the hashing overlap.
    ///
    /// - Parameters:
    ///   - expected: a published checkpoint (size and root) the ledger must extend.
    ///   - progress: called every so often with (events checked, total), on the calling thread.
    public func verify(expected: (size: Int, rootHash: Digest)? = nil,
                       progress: ((Int, Int) -> Void)? = nil) throws -> Report
    {
        let reader = RowReader(path: path, countingRows: progress != nil)
        defer { reader.stop() }
        var tree = FrontierTree()
        var size: Int { tree.size }
        var failure: Failure?
        var expectedRoot: Digest?
        var end: RowBatch.End?
        var lastRecordedAt: Int64 = .min
        let streams = StreamVersions()

        func fail(_ position: Int, _ code: String, _ message: String) {
            if failure == nil { failure = Failure(position: position, code: code, message: message) }
        }
        // Every envelope is laid out in this one buffer after the leaf prefix 0x00 and hashed in place.
        var message = ByteBuffer(capacity: 4096)
        batches: while failure == nil {
            let batch = reader.next()
            defer { reader.recycle(batch) }
            for index in batch.rows.indices {
                let row = batch.rows[index]
                let position = size + 1
                if let unplaced = row.failure {
                    failure = unplaced
                    break batches
                }
                let envelope = batch.envelope(index, position: position)
                message.removeAll()
                message.append(0)
                EnvelopeEncoder.write(envelope, to: &message)
                let computed = MerkleTree.leafHash(prefixedMessage: message.bytes)
                guard computed == row.storedHash else {
                    fail(position, "hash_mismatch",
                         "stored hash \(row.storedHash.hex) does not match the recomputed leaf hash \(computed.hex)")
                    break batches
                }
                if row.recordedAt < lastRecordedAt {
                    fail(position, "time_regression", "recordedAt goes back in time")
                }
                lastRecordedAt = row.recordedAt
                let name = envelope.column(.stream)
                let previous = streams.entry(for: name)
                if row.version != (previous?.version ?? 0) + 1 {
                    fail(position, "version_gap",
                         "stream \(String(decoding: name, as: UTF8.self)) jumps from version \(previous?.version ?? 0) to \(row.version)")
                }
                if let previous, row.effectiveAt < previous.effectiveAt {
                    fail(position, "effective_time_regression",
                         "effectiveAt goes back in time along \(String(decoding: name, as: UTF8.self))")
                }
                streams.set(.init(version: row.version, effectiveAt: row.effectiveAt), for: name)

                // Fold the leaf into the tree and compare every completed node with the stored one.
                var stored = row.nodes.lowerBound
                try tree.append(computed) { level, index, hash in
                    guard stored < row.nodes.upperBound else {
                        // The reading thread could not read this node; the single-threaded verifier threw here too.
                        guard !row.nodesRead, case .failed(let error) = batch.end else {
                            preconditionFailure("the reading thread gave fewer nodes than the leaf completes")
                        }
                        throw error
                    }
                    if batch.nodes[stored] != hash {
                        // A row edited with its leaf hash recomputed: the stored subtree root no longer matches, which
                        // places the edit within the subtree's positions (the hash alone cannot say which).
                        let first = (index << level) + 1
                        fail(first, "merkle_node_mismatch",
                             "positions \(first)–\(first + (1 << level) - 1) do not match the stored Merkle tree (level \(level), index \(index)): a record there was altered and its hash recomputed")
                    }
                    stored += 1
                }
                if let expected, expected.size == size { expectedRoot = tree.root }
                if size % 10_000 == 0 { progress?(size, reader.recordedAndTotalSize.total) }
                if failure != nil { break batches }
            }
            if let last = batch.end {
                end = last
                break
            }
        }
        if failure == nil {
            switch end {
            case .failed(let error): throw error
            case .stopped, nil: preconditionFailure("the reading thread stopped early without saying why")
            case .finished: break
            }
        }
        let (recordedSize, total) = reader.recordedAndTotalSize
        progress?(size, total)

        if failure == nil, size != recordedSize {
            fail(min(size, recordedSize) + 1, size < recordedSize ? "missing_event" : "unexpected_event",
                 "the ledger records \(recordedSize) events but \(size) are stored")
        }
        if failure == nil, case .finished(let streamsTable?) = end {
            let versions = try streamsTable.get()
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
