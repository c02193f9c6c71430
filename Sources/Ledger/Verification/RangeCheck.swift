import SQLite

/// How `verify` divides the log: ranges of `rangeSize` positions (a power of two), the first also taking any row
/// at or below position 0 and the last ending at the largest position stored. Each range's leaves form whole
/// subtrees of the Merkle tree, so a worker folds them on its own and `LedgerVerifier` joins the roots.
struct RangePlan: Sendable {
    /// log2 of `rangeSize`.
    let level: Int
    var rangeSize: Int { 1 << level }
    /// The largest position stored, nil when `events` is empty.
    let lastPosition: Int?
    /// How many ranges there are.
    let count: Int

    init(level: Int, lastPosition: Int?) {
        precondition(level >= 1 && level < 40)
        self.level = level
        self.lastPosition = lastPosition
        // (last - 1) / size + 1, which cannot overflow for a position near Int.max (an edited row).
        count = lastPosition.map { $0 >= 1 ? ($0 - 1) >> level + 1 : 1 } ?? 0
    }

    /// The rows of range `index`: positions above `after` (none for the first range) up to `through`.
    func bounds(_ index: Int) -> (after: Int?, through: Int) {
        (index == 0 ? nil : index << level, index == count - 1 ? lastPosition! : (index + 1) << level)
    }
}

/// What one range's check found, for `LedgerVerifier` to join in position order.
struct RangeReport: @unchecked Sendable {
    // @unchecked: `streams` is a class; a report is built by one worker and handed to the joining thread under a
    // lock, after which only that thread touches it.

    /// The checks of one row, in the order the verifier makes them. A failure at one stage ends the row's checks
    /// at once before `time` (the row is not part of the tree); from `time` on, the row's later checks still run
    /// (a later one may throw) and verification ends after the row.
    enum Stage: Int, Comparable {
        case place, hash, time, version, effectiveTime, merkle
        static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
        /// Whether the row was added to the tree before a failure at this stage.
        var rowFolded: Bool { self >= .time }
    }

    enum Stop {
        /// The first failure, at the row `ordinal` rows into the range.
        case failure(ordinal: Int, stage: Stage, LedgerVerifier.Failure)
        /// Reading the row `ordinal` rows into the range, or a Merkle node it completes, threw.
        case error(ordinal: Int, any Error)
    }

    /// A stream's first row in the range (checked against the ranges before it when joined) and its last.
    struct StreamSpan {
        var firstOrdinal: Int
        var first: StreamState
        var last: StreamState
    }

    struct StreamState {
        var version: Int
        var effectiveAt: Int64
    }

    /// Leaf index of the range's first position.
    let start: Int
    /// The leaf hash of each row folded, in order.
    var leaves: [Digest] = []
    /// The root of the range's subtree, once it holds `rangeSize` leaves.
    var subtreeRoot: Digest?
    var firstRecordedAt: Int64 = 0
    var lastRecordedAt: Int64 = 0
    let streams = StreamTable<StreamSpan>()
    var stop: Stop?

    init(start: Int, capacity: Int) {
        self.start = start
        leaves.reserveCapacity(capacity)
    }
}

/// A worker's check of ranges of the log, on its own connection and read transaction: for each row, its place,
/// its leaf hash (laid out from the column bytes in SQLite's memory), the times and versions along the range,
/// and the stored Merkle nodes its leaf completes inside the range. What depends on the rows before the range
/// (the stream versions and times it continues, the nodes above it) is left in the report for `LedgerVerifier`.
final class RangeChecker {
    private let database: Database
    private let plan: RangePlan
    private let nodes: StoredMerkleNodes
    /// Every envelope is laid out in this one buffer after the leaf prefix 0x00 and hashed in place. Unchecked
    /// exclusivity: only `check` uses it, one row at a time; the runtime's dynamic check ran on every row.
    @exclusivity(unchecked) private var message = ByteBuffer(capacity: 4096)

    init(database: Database, plan: RangePlan) {
        self.database = database
        self.plan = plan
        nodes = StoredMerkleNodes(database: database)
    }

    func check(range index: Int) -> RangeReport {
        let start = index << plan.level
        var report = RangeReport(start: start, capacity: plan.rangeSize)
        nodes.restart(at: start)
        var ordinal = 0
        do {
            let (after, through) = plan.bounds(index)
            let rows =
                if let after {
                    try database.prepare(
                        "SELECT \(EventRow.columns) FROM events WHERE position > ?1 AND position <= ?2 ORDER BY position",
                        [.integer(Int64(after)), .integer(Int64(through))])
                } else {
                    try database.prepare("SELECT \(EventRow.columns) FROM events WHERE position <= ?1 ORDER BY position",
                                         [.integer(Int64(through))])
                }
            defer { rows.reset() }
            var tree = FrontierTree()
            while try rows.step() {
                if let failure = try check(rows, ordinal: ordinal, tree: &tree, into: &report) {
                    report.stop = .failure(ordinal: ordinal, stage: failure.stage, failure.failure)
                    break
                }
                ordinal += 1
            }
        } catch {
            report.stop = .error(ordinal: ordinal, error)
        }
        return report
    }

    /// Checks one row; returns the first failure, after which the range's check ends.
    private func check(_ row: Statement, ordinal: Int, tree: inout FrontierTree, into report: inout RangeReport)
        throws -> (stage: RangeReport.Stage, failure: LedgerVerifier.Failure)?
    {
        let position = report.start + ordinal + 1
        var first: (stage: RangeReport.Stage, failure: LedgerVerifier.Failure)?
        func fail(_ stage: RangeReport.Stage, _ position: Int, _ code: String, _ message: String) {
            if first == nil { first = (stage, LedgerVerifier.Failure(position: position, code: code, message: message)) }
        }
        let found = row.int(0)
        guard found == position else {
            fail(.place, position, found > position ? "missing_event" : "unexpected_event",
                 "expected the event at position \(position), found position \(found)")
            return first
        }
        let envelope = StatementEnvelope(row: row, position: position)
        guard StreamName.isValid(utf8: envelope.stream) else {
            let error = EventRow.corruptRecord(position: position, "invalid stream name")
            fail(.place, position, error.code, error.message)
            return first
        }
        message.removeAll()
        message.append(0)
        EnvelopeEncoder.write(envelope, to: &message)
        let computed = MerkleTree.leafHash(prefixedMessage: message.bytes)
        let stored = EventRow.storedHash(row)
        guard computed == stored else {
            fail(.hash, position, "hash_mismatch",
                 "stored hash \(stored.hex) does not match the recomputed leaf hash \(computed.hex)")
            return first
        }
        report.leaves.append(computed)

        let recordedAt = envelope.recordedAtMilliseconds
        if ordinal == 0 {
            report.firstRecordedAt = recordedAt
        } else if recordedAt < report.lastRecordedAt {
            fail(.time, position, "time_regression", "recordedAt goes back in time")
        }
        report.lastRecordedAt = recordedAt
        let now = RangeReport.StreamState(version: envelope.version, effectiveAt: envelope.effectiveAtMilliseconds)
        if let entry = report.streams.index(of: envelope.stream) {
            var span = report.streams.values[entry]
            for (stage, code, message) in LedgerVerifier.streamFailures(envelope.stream, previous: span.last, now: now) {
                fail(stage, position, code, message)
            }
            span.last = now
            report.streams.update(entry, to: span)
        } else {
            report.streams.insert(envelope.stream, .init(firstOrdinal: ordinal, first: now, last: now))
        }

        // Fold the leaf into the range's subtree and compare every completed node with the stored one.
        try tree.append(computed) { level, offset, hash in
            let index = (report.start >> level) + offset
            if try nodes.hash(level: level, index: index) != hash {
                let failure = LedgerVerifier.merkleFailure(level: level, index: index)
                fail(.merkle, failure.position, failure.code, failure.message)
            }
        }
        if tree.size == plan.rangeSize { report.subtreeRoot = tree.root }
        return first
    }
}

/// A row's envelope members read in place from SQLite's memory, as `EventRow.decode` reads them (valid until the
/// statement steps again): optional members are absent when NULL; the others read NULL as "". `withBytes` gives the
/// same bytes as `text` for any storage class, and UTF-8 even in a UTF-16 database: it asks for the length in
/// UTF-8 first, which converts the value.
struct StatementEnvelope: EnvelopeFields {
    let row: Statement
    let position: Int
    // Read once: the checks after the hash use them too. The stream's bytes stay valid until the row steps.
    let stream: UnsafeRawBufferPointer
    let version: Int
    let schemaVersion: Int
    let recordedAtMilliseconds: Int64
    let effectiveAtMilliseconds: Int64

    init(row: Statement, position: Int) {
        self.row = row
        self.position = position
        stream = row.unsafeBytes(2)
        version = row.int(3)
        schemaVersion = row.int(5)
        recordedAtMilliseconds = row.int64(6)
        effectiveAtMilliseconds = row.int64(7)
    }

    func isPresent(_ field: EnvelopeTextField) -> Bool {
        !(field.isOptional && row.isNull(EventRow.column(of: field)))
    }
    func write(_ field: EnvelopeTextField, to out: inout ByteBuffer) {
        if field == .stream { return EnvelopeEncoder.writeString(utf8: stream, to: &out) }
        row.withBytes(EventRow.column(of: field)) { EnvelopeEncoder.writeString(utf8: $0, to: &out) }
    }
    func writeData(to out: inout ByteBuffer) { row.withBytes(EventRow.dataColumn) { out.append($0) } }
    var recordedAt: Timestamp { Timestamp(millisecondsSinceEpoch: recordedAtMilliseconds) }
    var effectiveAt: Timestamp { Timestamp(millisecondsSinceEpoch: effectiveAtMilliseconds) }
}
