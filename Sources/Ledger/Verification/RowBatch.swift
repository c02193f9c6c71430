import SQLite

/// Rows of `events` copied out of SQLite's memory by `verify`'s reading thread for its hashing thread: each row's
/// columns as `EventRow.decode` reads them, or why it could not be read, and the stored Merkle nodes its leaf
/// completes.
final class RowBatch: @unchecked Sendable {
    // @unchecked: a batch belongs to one thread at a time and changes hands only through `RowReader`, whose lock
    // orders every access before the handover before every access after it.

    static let capacity = 256

    struct Row {
        let version: Int
        let schemaVersion: Int
        let recordedAt: Int64
        let effectiveAt: Int64
        /// As `EventRow.storedHash` reads it.
        let storedHash: Digest
        /// Why the row is not hashed at all: out of place, or its stream name is not valid. Nothing of it is copied.
        var failure: LedgerVerifier.Failure?
        /// The stored hashes of the nodes this row's leaf completes, lowest level first, in `nodes`.
        var nodes: Range<Int> = 0..<0
        /// False when reading the nodes failed; `end` holds the error.
        var nodesRead = true
        /// This row's string members and data, at `fields.lowerBound + field.rawValue` and `+ dataField` in `spans`.
        let fields: Range<Int>
    }

    /// Where a copied column's bytes are in `bytes`; a count of -1 is NULL.
    struct Span {
        let offset: Int
        let count: Int
    }

    enum End {
        /// Every row was read and placed: the `streams` table's (stream, version) rows, nil when the number of rows
        /// read differs from the recorded size (which the hashing thread reports instead, without reading it).
        case finished(streamsTable: Result<[(stream: String, version: Int)], any Error>?)
        /// Reading stopped after a row that could not be placed, or because the hashing thread asked it to.
        case stopped
        /// Reading failed after the rows so far (or while reading the last row's nodes).
        case failed(any Error)
    }

    // Unchecked exclusivity: a batch is used by one thread at a time and never lends out a property while it is
    // being changed; the runtime's dynamic checks on these class properties were a sixth of the reading thread.
    @exclusivity(unchecked) private(set) var rows: [Row] = []
    @exclusivity(unchecked) private(set) var spans: [Span] = []
    @exclusivity(unchecked) private(set) var nodes: [Digest?] = []
    @exclusivity(unchecked) private var bytes = ByteBuffer(capacity: capacity * 512)
    /// Set on the last batch.
    var end: End?

    static let dataField = EnvelopeTextField.allCases.count

    init() {
        rows.reserveCapacity(Self.capacity)
        spans.reserveCapacity(Self.capacity * (Self.dataField + 1))
        nodes.reserveCapacity(Self.capacity * 2)
    }

    var isFull: Bool { rows.count >= Self.capacity }

    func removeAll() {
        rows.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        nodes.removeAll(keepingCapacity: true)
        bytes.removeAll()
        end = nil
    }

    /// Copies the envelope columns and stored hash of `row` (selected with `EventRow.columns`).
    func append(_ row: Statement) {
        let first = spans.count
        for field in EnvelopeTextField.allCases {
            let column = EventRow.column(of: field)
            // `decode` reads optional members with `optionalText` (NULL is absent) and the others with `text` (NULL
            // reads as ""). `withBytes` gives the same bytes as `text` for any storage class, and UTF-8 even in a
            // UTF-16 database: it asks for the length in UTF-8 first, which converts the value.
            if field.isOptional && row.isNull(column) {
                spans.append(Span(offset: 0, count: -1))
            } else {
                row.withBytes(column) { copy($0) }
            }
        }
        row.withBytes(EventRow.dataColumn) { copy($0) }
        rows.append(Row(version: row.int(3), schemaVersion: row.int(5), recordedAt: row.int64(6),
                        effectiveAt: row.int64(7), storedHash: EventRow.storedHash(row), fields: first..<spans.count))
    }

    private func copy(_ column: UnsafeRawBufferPointer) {
        spans.append(Span(offset: bytes.count, count: column.count))
        bytes.append(column)
    }

    /// A row that fails before it is hashed: nothing of it is copied.
    func append(failingBeforeHash failure: LedgerVerifier.Failure) {
        var row = Row(version: 0, schemaVersion: 0, recordedAt: 0, effectiveAt: 0, storedHash: MerkleTree.emptyRoot,
                      fields: spans.count..<spans.count)
        row.failure = failure
        rows.append(row)
    }

    /// Adds a stored node hash to the last row.
    func appendNode(_ hash: Digest?) {
        let row = rows.count - 1
        if rows[row].nodes.isEmpty { rows[row].nodes = nodes.count..<nodes.count }
        nodes.append(hash)
        rows[row].nodes = rows[row].nodes.lowerBound..<nodes.count
    }

    func failedReadingNodesOfLast() { rows[rows.count - 1].nodesRead = false }

    /// The envelope members of row `index` (at `position`, which the reading thread checked), for
    /// `EnvelopeEncoder`; valid while the batch is not changed.
    func envelope(_ index: Int, position: Int) -> Envelope {
        Envelope(row: rows[index], position: position, bytes: bytes.bytes, spans: spans[rows[index].fields])
    }

    struct Envelope: EnvelopeFields {
        let row: Row
        let position: Int
        let bytes: UnsafeRawBufferPointer
        let spans: ArraySlice<Span>

        private func column(_ index: Int) -> UnsafeRawBufferPointer {
            let span = spans[spans.startIndex + index]
            return UnsafeRawBufferPointer(rebasing: bytes[span.offset..<span.offset + max(span.count, 0)])
        }

        /// A member's bytes (empty when absent).
        func column(_ field: EnvelopeTextField) -> UnsafeRawBufferPointer { column(field.rawValue) }

        func isPresent(_ field: EnvelopeTextField) -> Bool { spans[spans.startIndex + field.rawValue].count >= 0 }
        func write(_ field: EnvelopeTextField, to out: inout ByteBuffer) {
            EnvelopeEncoder.writeString(utf8: column(field.rawValue), to: &out)
        }
        func writeData(to out: inout ByteBuffer) { out.append(column(RowBatch.dataField)) }
        var version: Int { row.version }
        var schemaVersion: Int { row.schemaVersion }
        var recordedAt: Timestamp { Timestamp(millisecondsSinceEpoch: row.recordedAt) }
        var effectiveAt: Timestamp { Timestamp(millisecondsSinceEpoch: row.effectiveAt) }
    }
}
