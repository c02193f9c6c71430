import SQLite

/// `planledger rebuild`: drops a hook's projection tables and refolds them from the log in position order, with
/// the same code appends use. One write transaction on its own connection: readers see the old projections or
/// the new ones, never a mix, and a failure leaves the old ones in place.
public struct ProjectionRebuilder {
    public let path: String
    public let hook: any LedgerHook

    public init(path: String, hook: any LedgerHook) {
        self.path = path
        self.hook = hook
    }

    /// - Returns: the number of events folded.
    @discardableResult
    public func rebuild(progress: ((Int, Int) -> Void)? = nil) throws -> Int {
        let database = try Database(path: path, options: .init(create: false))
        return try database.transaction {
            try LedgerSchema.create(in: database)
            try hook.resetProjections(database: database)
            let total = Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
            var done = 0
            var after = 0
            while true {
                // Pages of the log: each page's statement is finished before the projections' statements run.
                let page = try database.map(
                    "SELECT \(EventRow.columns) FROM events WHERE position > ?1 ORDER BY position LIMIT 10000",
                    [.integer(Int64(after))]) { row throws in try EventRow.decode(row) }
                guard let last = page.last else { break }
                try hook.project(page, database: database)
                done += page.count
                after = last.position
                progress?(done, total)
            }
            if total == 0 { progress?(0, 0) }
            return done
        }
    }
}
