import Foundation
import SQLite

/// `planledger rebuild`: drops a hook's projection tables and refolds them from the log in position order, with
/// the same code appends use. One write transaction on its own connection: readers see the old projections or
/// the new ones, never a mix, and a failure leaves the old ones in place.
///
/// The log is read and decoded on a second thread and connection while this one projects, so the two halves of
/// the work use both cores. The write transaction is opened first: it holds the write lock, so the reading
/// connection's snapshot has exactly the events this transaction sees.
public struct ProjectionRebuilder {
    public let path: String
    public let hook: any LedgerHook
    /// Events per page handed from the reading thread to the projecting one.
    public var pageSize = 2_000

    public init(path: String, hook: any LedgerHook) {
        self.path = path
        self.hook = hook
    }

    /// - Returns: the number of events folded.
    @discardableResult
    public func rebuild(progress: ((Int, Int) -> Void)? = nil) throws -> Int {
        var options = Database.Options.writer
        options.create = false
        let database = try Database(path: path, options: options)
        // Committed on its own: the reading thread's connection must see the log's table even in a new file.
        try database.transaction { try LedgerSchema.create(in: database) }
        return try database.transaction {
            try hook.resetProjections(database: database)
            let total = Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
            let pages = PageReader.start(path: path, pageSize: pageSize)
            defer { pages.stop() }
            var done = 0
            while var page = try pages.take() {
                try EventRun.with(&page) { try hook.project($0, database: database) }
                done += page.count
                pages.giveBack(consume page)  // moved: a copy kept here could be the last, freeing it on this thread
                progress?(done, total)
            }
            guard done == total else {
                throw LedgerError(.storage, code: "storage_error",
                                  "the rebuild read \(done) events but the ledger has \(total)")
            }
            try hook.finishRebuild(database: database)
            if total == 0 { progress?(0, 0) }
            return done
        }
    }
}

/// Reads and decodes the log in pages on its own thread and connection, at most a few pages ahead of the consumer.
private enum PageReader {
    static func start(path: String, pageSize: Int) -> Handoff<[RecordedEvent]> {
        let pages = Handoff<[RecordedEvent]>(capacity: 4)
        let thread = Thread {
            do {
                let database = try Database(path: path, options: .reading(path))
                try database.transaction(.deferred) {
                    var after = 0
                    var decoder = EventRow.Decoder()
                    while true {
                        var page: [RecordedEvent] = []
                        page.reserveCapacity(pageSize)  // grown event by event, it was copied a dozen times
                        try database.forEach(
                            "SELECT \(EventRow.columns) FROM events WHERE position > ?1 ORDER BY position LIMIT ?2",
                            [.integer(Int64(after)), .integer(Int64(pageSize))]) { row in page.append(try decoder.decode(row)) }
                        guard let last = page.last?.position, pages.put(page) else { break }
                        after = last
                        _ = pages.collectReturned()  // released here, off the projecting thread
                    }
                }
                pages.close()
            } catch {
                pages.close(failure: error)
            }
        }
        thread.name = "planledger-rebuild-reader"
        thread.start()
        return pages
    }
}
