import SQLite

/// The size the ledger records for itself (`ledger_meta`) beside what its `events` table holds. The writer keeps
/// them equal in every commit, so in any read snapshot of a healthy ledger they agree; when they do not, the file
/// was edited behind the ledger's back or damaged, and what is read from it (a checkpoint, say) may not be the
/// ledger's. A quick check for commands that trust the stored tree, short of `verify`, which finds the first bad
/// position.
public struct StoredSize: Sendable {
    /// The size `ledger_meta` records; nil when it records none, or not a number.
    public let recorded: Int?
    /// The rows of `events`.
    public let rows: Int
    /// The highest position stored; 0 when there are none.
    public let lastPosition: Int

    /// Reads the three in one snapshot of `database`. Counting the rows scans an index of the log: cheap beside a
    /// verify, though not a seek.
    public init(in database: Database) throws {
        recorded = try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'size'").flatMap { Int($0) }
        rows = Int(try database.scalarInt("SELECT COUNT(*) FROM events") ?? 0)
        lastPosition = try EventRow.lastPosition(in: database)
    }

    /// Whether the recorded size is the number of events stored, at positions 1 to that number.
    public var isConsistent: Bool { recorded == rows && lastPosition == rows }

    /// What disagrees, in words (nil when consistent): "the ledger records 44 events but 43 are stored (the last at
    /// position 44)".
    public var disagreement: String? {
        guard !isConsistent else { return nil }
        let claim = recorded.map { "the ledger records \($0) events" } ?? "the ledger records no size"
        return "\(claim) but \(rows) are stored (the last at position \(lastPosition))"
    }
}

extension Ledger {
    /// The ledger's recorded size beside its stored events, read in one snapshot.
    public func storedSize() throws -> StoredSize {
        try read { database in try StoredSize(in: database) }
    }
}
