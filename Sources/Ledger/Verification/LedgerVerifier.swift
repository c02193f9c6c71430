import Foundation
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
    /// log2 of the positions in a range that one worker checks at a time (`RangePlan`).
    let rangeLevel: Int
    let workers: Int

    public init(path: String) {
        self.init(path: path, rangeLevel: 14, workers: ProcessInfo.processInfo.activeProcessorCount)
    }

    init(path: String, rangeLevel: Int, workers: Int) {
        self.path = path
        self.rangeLevel = rangeLevel
        self.workers = min(max(workers, 1), 8)
    }

    /// Checks ranges of the log on one worker thread per core (`RangeWorkers`), each reading with its own
    /// connection, and joins their reports here in position order. The report is exactly the one a single pass
    /// over the log in position order would give: the same first failure (or thrown error), size and root.
    ///
    /// - Parameters:
    ///   - expected: a published checkpoint (size and root) the ledger must extend.
    ///   - progress: called every so often with (events checked, total), on the calling thread.
    public func verify(expected: (size: Int, rootHash: Digest)? = nil,
                       progress: ((Int, Int) -> Void)? = nil) throws -> Report
    {
        let database = try Database(path: path, options: .reading(path))
        // This transaction's snapshot fixes what is verified: the workers start after it, and read only its rows.
        return try database.transaction(.deferred) {
            try verify(database, expected: expected, progress: progress)
        }
    }

    private func verify(_ database: Database, expected: (size: Int, rootHash: Digest)?,
                        progress: ((Int, Int) -> Void)?) throws -> Report
    {
        let recordedSize = Int(try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'size'")
            .flatMap { Int($0) } ?? -1)
        let total = progress == nil ? 0 : max(recordedSize, Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0))
        let plan = RangePlan(level: rangeLevel,
                             lastPosition: try database.scalarInt("SELECT max(position) FROM events").map { Int($0) })
        let ranges = RangeWorkers(path: path, plan: plan, workers: workers)
        defer { ranges.stop() }

        var tree = FrontierTree()
        var size: Int { tree.size }
        var failure: Failure?
        var expectedRoot: Digest?
        var lastRecordedAt: Int64 = .min
        let streams = StreamTable<RangeReport.StreamState>(capacity: 1024)
        // The nodes above a range's subtree, which complete only when ranges are joined.
        let nodesAbove = StoredMerkleNodes(database: database)

        func fail(_ found: Failure) {
            if failure == nil { failure = found }
        }
        /// Folds the range's first `count` leaves into the tree, comparing the nodes above the range's subtree when
        /// it is whole (the nodes within it were compared by the worker).
        func fold(_ report: RangeReport, count: Int) throws {
            guard count == plan.rangeSize, let root = report.subtreeRoot else {
                return tree.append(contentsOf: report.leaves.prefix(count))
            }
            try tree.append(subtree: root, level: plan.level) { level, index, hash in
                if try nodesAbove.hash(level: level, index: index) != hash {
                    fail(Self.merkleFailure(level: level, index: index))
                }
            }
        }

        for index in 0..<plan.count {
            let report = ranges.take(index)
            guard size == report.start else {
                // The range before ended early: the next row a single pass reads is the first after it, wherever it
                // is. Looked up here rather than range by range: an edited row far beyond the others would leave
                // billions of empty ranges in between. Every column is selected, so that an unreadable row throws
                // here as a single pass would.
                let next = try database.first(
                    "SELECT \(EventRow.columns) FROM events WHERE position > ?1 ORDER BY position LIMIT 1",
                    [.integer(Int64(size))]) { $0.int(0) }
                if let found = next {
                    fail(Failure(position: size + 1, code: "missing_event",
                                 message: "expected the event at position \(size + 1), found position \(found)"))
                }
                break
            }
            // The checks that need the rows before the range, each at the row where a single pass would make it.
            var continuing: (ordinal: Int, stage: RangeReport.Stage, failure: Failure)?
            func consider(_ ordinal: Int, _ stage: RangeReport.Stage, _ code: String, _ message: String) {
                if let found = continuing, (found.ordinal, found.stage) <= (ordinal, stage) { return }
                continuing = (ordinal, stage, Failure(position: report.start + ordinal + 1, code: code, message: message))
            }
            if !report.leaves.isEmpty, report.firstRecordedAt < lastRecordedAt {
                consider(0, .time, "time_regression", "recordedAt goes back in time")
            }
            report.streams.forEach { name, span in
                let previous = streams.index(of: name).map { streams.values[$0] }
                for (stage, code, message) in Self.streamFailures(name, previous: previous, now: span.first) {
                    consider(span.firstOrdinal, stage, code, message)
                }
            }
            // The first of those and the worker's own stop, in the order a single pass meets them.
            var stop: (ordinal: Int, stage: RangeReport.Stage, failure: Failure)? = continuing
            switch report.stop {
            case nil: break
            case .error(let ordinal, let error)?:
                guard let found = continuing, found.ordinal < ordinal else { throw error }
            case .failure(let ordinal, let stage, let found)?:
                if continuing.map({ ($0.ordinal, $0.stage) > (ordinal, stage) }) ?? true { stop = (ordinal, stage, found) }
            }
            if let stop {
                fail(stop.failure)
                // The failing row's remaining checks still run (a node above the range may fail to read).
                try fold(report, count: stop.ordinal + (stop.stage.rowFolded ? 1 : 0))
                break
            }
            if let expected, expected.size > report.start, expected.size <= report.start + report.leaves.count {
                var prefix = tree
                prefix.append(contentsOf: report.leaves.prefix(expected.size - report.start))
                expectedRoot = prefix.root
            }
            try fold(report, count: report.leaves.count)
            if !report.leaves.isEmpty { lastRecordedAt = report.lastRecordedAt }
            report.streams.forEach { name, span in streams.set(name, span.last) }
            if failure != nil { break }
            progress?(size, total)
        }
        progress?(size, total)

        if failure == nil, size != recordedSize {
            fail(Failure(position: min(size, recordedSize) + 1, code: size < recordedSize ? "missing_event" : "unexpected_event",
                         message: "the ledger records \(recordedSize) events but \(size) are stored"))
        }
        if failure == nil {
            let versions = try database.map("SELECT stream, version FROM streams") { (stream: $0.text(0), version: $0.int(1)) }
            let eventStreams = streams.byName()
            for (stream, version) in versions where eventStreams[stream]?.version != version {
                fail(Failure(position: size, code: "stream_mismatch",
                             message: "the streams table has \(stream) at version \(version); the events say \(eventStreams[stream]?.version ?? 0)"))
                break
            }
            if versions.count != eventStreams.count {
                fail(Failure(position: size, code: "stream_mismatch",
                             message: "the streams table lists \(versions.count) streams; the events have \(eventStreams.count)"))
            }
        }
        if failure == nil, let expected {
            if expected.size > size {
                fail(Failure(position: size + 1, code: "checkpoint_beyond_ledger",
                             message: "the published checkpoint has \(expected.size) events; the ledger has \(size)"))
            } else if expectedRoot ?? (expected.size == 0 ? MerkleTree.emptyRoot : nil) != expected.rootHash {
                fail(Failure(position: expected.size, code: "checkpoint_mismatch",
                             message: "the ledger's first \(expected.size) events do not have the published root \(expected.rootHash.hex)"))
            }
        }
        return Report(size: size, rootHash: tree.root, failure: failure)
    }

    /// The checks of a stream's next row against its previous one (none before its first), in the order made.
    static func streamFailures(_ name: UnsafeRawBufferPointer, previous: RangeReport.StreamState?,
                               now: RangeReport.StreamState) -> [(RangeReport.Stage, String, String)]
    {
        var failures: [(RangeReport.Stage, String, String)] = []
        let expectedVersion = (previous?.version ?? 0) &+ 1
        if now.version != expectedVersion {
            failures.append((.version, "version_gap",
                             "stream \(String(decoding: name, as: UTF8.self)) jumps from version \(previous?.version ?? 0) to \(now.version)"))
        }
        if let previous, now.effectiveAt < previous.effectiveAt {
            failures.append((.effectiveTime, "effective_time_regression",
                             "effectiveAt goes back in time along \(String(decoding: name, as: UTF8.self))"))
        }
        return failures
    }

    /// A stored node that differs from the recomputed one, reported at the first position it covers (the hash alone
    /// cannot say which of its positions changed).
    ///
    /// What the message blames depends on the level. Nodes are compared lowest level first, and a record's stored
    /// leaf hash was already compared with the one its fields give, so at level 1 either a record was edited with its
    /// leaf hash recomputed or the node row itself was edited (or removed). Above level 1 the first mismatch has
    /// children that matched the records, so it is the node row that was edited or removed, not a record (unless the
    /// records and every node beneath it were rewritten to agree, which this node then catches).
    static func merkleFailure(level: Int, index: Int) -> Failure {
        let first = (index << level) + 1
        let cause = level == 1
            ? "a record there was altered and its hash recomputed, or this stored node was edited or removed"
            : "the nodes below it match the records, so this stored node was edited or removed (or the records and "
                + "nodes beneath it were rewritten to agree with each other)"
        let span = "positions \(first)–\(first + (1 << level) - 1) do not match the stored Merkle tree (level \(level), "
            + "index \(index))"
        return Failure(position: first, code: "merkle_node_mismatch", message: "\(span): \(cause)")
    }
}
