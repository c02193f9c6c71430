import Foundation
import SQLite

/// `verify`'s reading thread: on its own connection and read transaction, steps through `events` in position
/// order and copies the rows into batches, a few batches ahead of the hashing thread. It also checks each row's
/// position and stream name (a row failing those is not hashed), fetches the stored Merkle nodes each leaf
/// completes, and at the end reads the `streams` table, so that SQLite's share of the work and the hashing's
/// share run on two cores.
///
/// It reads what the single-threaded verifier read, in the same order, and stops at the first row it cannot
/// place; the hashing thread, which makes all the other checks, stops it earlier at the first failure it finds.
final class RowReader: @unchecked Sendable {
    // @unchecked: `spare` and `sizes` are guarded by `lock`; the connection never leaves the reading thread, and a
    // batch is touched by one thread at a time, handed over through `batches`.
    private let batches = Handoff<RowBatch>(capacity: 4)
    private let lock = NSLock()
    private var spare: [RowBatch] = []
    private var sizes: (recorded: Int, total: Int) = (-1, 0)

    /// - Parameter countingRows: whether to count the rows for `total` (only progress reports need it).
    init(path: String, countingRows: Bool) {
        let thread = Thread { [self] in read(path: path, countingRows: countingRows) }
        thread.name = "planledger-verify-reader"
        thread.start()
    }

    // MARK: The hashing thread's side

    /// The next batch in position order; the last one has `end` set. Call only until then.
    func next() -> RowBatch {
        // The reading thread never closes with an error (a failure travels in the last batch's `end`) and always
        // hands that last batch over before closing.
        guard let batch = try? batches.take() else { preconditionFailure("RowReader.next() called after the last batch") }
        return batch
    }

    /// Gives a batch the hashing thread is done with back for reuse.
    func recycle(_ batch: RowBatch) {
        lock.withLock { spare.append(batch) }
    }

    /// The size `ledger_meta` records, and the larger of it and the row count (for progress reports). Known once
    /// the first batch has been handed over.
    var recordedAndTotalSize: (recorded: Int, total: Int) {
        lock.withLock { sizes }
    }

    /// Tells the reading thread to stop and waits until it has let go of the database.
    func stop() { batches.stop() }

    // MARK: The reading thread's side

    private func takeSpare() -> RowBatch {
        guard let batch = lock.withLock({ spare.popLast() }) else { return RowBatch() }
        batch.removeAll()
        return batch
    }

    /// Queues a batch, waiting while the hashing thread is far enough behind; false once it has stopped.
    private func hand(_ batch: RowBatch) -> Bool { batches.put(batch) }

    private func finish(_ last: RowBatch) {
        _ = batches.put(last)
        batches.close()
    }

    private func read(path: String, countingRows: Bool) {
        var batch = takeSpare()
        do {
            let database = try Database(path: path, options: .reading(path))
            // Not `batch.end = try ...`: that would set `end` on the batch `batch` named before reading began.
            let end = try database.transaction(.deferred) { () throws -> RowBatch.End in
                try read(database, countingRows: countingRows, into: &batch)
            }
            batch.end = end
        } catch {
            batch.end = .failed(error)
        }
        finish(batch)
    }

    private func read(_ database: Database, countingRows: Bool, into batch: inout RowBatch) throws -> RowBatch.End {
        let recordedSize = Int(try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'size'")
            .flatMap { Int($0) } ?? -1)
        let rowCount = countingRows ? Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0) : 0
        lock.withLock { sizes = (recordedSize, max(recordedSize, rowCount)) }

        let storedNodes = StoredMerkleNodes(database: database)
        let rows = try database.prepare("SELECT \(EventRow.columns) FROM events ORDER BY position")
        defer { rows.reset() }
        var size = 0
        while try rows.step() {
            if batch.isFull {
                guard hand(batch) else { return .stopped }
                batch = takeSpare()
            }
            let position = size + 1
            guard rows.int(0) == position else {
                batch.append(failingBeforeHash: .init(
                    position: position, code: rows.int(0) > position ? "missing_event" : "unexpected_event",
                    message: "expected the event at position \(position), found position \(rows.int(0))"))
                return .stopped
            }
            guard rows.withBytes(2, { StreamName.isValid(utf8: $0) }) else {
                let error = EventRow.corruptRecord(position: position, "invalid stream name")
                batch.append(failingBeforeHash: .init(position: position, code: error.code, message: error.message))
                return .stopped
            }
            batch.append(rows)
            // The nodes this leaf completes, as `FrontierTree.append` will: (level, index) while index is odd.
            var index = size
            var level = 0
            while index & 1 == 1 {
                level += 1
                index >>= 1
                do {
                    batch.appendNode(try storedNodes.hash(level: level, index: index))
                } catch {
                    batch.failedReadingNodesOfLast()
                    throw error
                }
            }
            size = position
        }
        guard size == recordedSize else { return .finished(streamsTable: nil) }
        return .finished(streamsTable: Result {
            try database.map("SELECT stream, version FROM streams") { (stream: $0.text(0), version: $0.int(1)) }
        })
    }
}
