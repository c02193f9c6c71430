import Ledger
import SQLite

/// `planledger rebuild`: drops the projection tables and refolds them from the log, in position order, with the
/// same code the appends use. Runs on its own connection in one write transaction, so readers see either the old
/// projections or the new ones.
public struct ProjectionRebuilder {
    public let path: String

    public init(path: String) { self.path = path }

    /// - Returns: the number of events folded.
    @discardableResult
    public func rebuild(progress: ((Int, Int) -> Void)? = nil) throws -> Int {
        let database = try Database(path: path, options: .init(create: false))
        return try database.transaction {
            try ProjectionSchema.drop(in: database)
            try ProjectionSchema.create(in: database)
            let store = ProjectionStore(database: database)
            let total = Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
            var done = 0
            var after = 0
            while true {
                // Read in pages: the page's statement is reset before the projection statements run.
                let page = try database.map(
                    "SELECT \(EventRow.columns) FROM events WHERE position > ?1 ORDER BY position LIMIT 2000",
                    [.integer(Int64(after))]) { row throws in try EventRow.decode(row) }
                if page.isEmpty { break }
                for record in page {
                    try PlanningProjector.project(record, store: store)
                }
                done += page.count
                after = page.last!.position
                progress?(done, total)
            }
            if total == 0 { progress?(0, 0) }
            return done
        }
    }
}
