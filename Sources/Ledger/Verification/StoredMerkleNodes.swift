import SQLite

/// The stored Merkle nodes `verify` compares with the ones it recomputes, read level by level in index order.
///
/// Folding the leaves completes the nodes of each level in increasing index order, so one ordered scan per level
/// (about 20 for a million events) replaces a point lookup per node, which cost as much as hashing the event.
/// Each of `verify`'s workers folds a range of positions at a time: `restart(at:)` starts every level's scan at
/// the first node of the range.
///
/// The answer is always the one `SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?` gives, whatever was
/// written into the table behind the ledger's back: rows are compared with SQLite's own ordering of values, and
/// where more than one row could answer (possible only if the table was rebuilt without its primary key) the
/// point lookup is asked instead. An error reading the scan is not thrown: the level falls back to point lookups.
final class StoredMerkleNodes {
    private let database: Database
    /// The first leaf of the range being folded: a level's scan starts at the node that covers it.
    private var firstLeaf = 0
    private var levels: [LevelState] = []

    private enum LevelState {
        case notOpened
        case scanning(Level)
        /// The scan failed (a damaged page, say): the level is read with point lookups, so that an error is thrown
        /// only where and when the point lookup throws it.
        case pointLookups
    }

    init(database: Database) { self.database = database }

    deinit { closeScans() }

    /// Ends the scans, and starts the next ones at the nodes covering leaf index `firstLeaf` (a multiple of 2^L for
    /// every level L asked for until the next restart).
    func restart(at firstLeaf: Int) {
        closeScans()
        levels.removeAll(keepingCapacity: true)
        self.firstLeaf = firstLeaf
    }

    private func closeScans() {
        for case .scanning(let level) in levels { level.close() }
    }

    /// The hash stored at (`level`, `index`); nil when there is no such row or its hash is not 32 bytes, which no
    /// recomputed node matches either. Calls for one level must come in increasing index order, as `FrontierTree`
    /// completes nodes.
    func hash(level: Int, index: Int) throws(SQLiteError) -> Digest? {
        while levels.count <= level { levels.append(.notOpened) }
        if case .notOpened = levels[level] {
            levels[level] = (try? Level(database: database, level: level, from: firstLeaf >> level))
                .map { .scanning($0) } ?? .pointLookups
        }
        if case .scanning(let scan) = levels[level] {
            do {
                switch try scan.stored(at: index) {
                case .absent: return nil
                case .row(let stored): return stored
                case .ambiguous: break
                }
            } catch {
                // The scan reads ahead of the nodes asked for: its error may not be one the point lookup meets.
                scan.close()
                levels[level] = .pointLookups
            }
        }
        let lookup = try database.prepare(
            "SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2", [.integer(Int64(level)), .integer(Int64(index))])
        defer { lookup.reset() }
        return try lookup.step() ? lookup.withBytes(0) { Digest(bytes: $0) } : nil
    }

    enum Answer: Equatable {
        case absent
        /// The stored hash, nil when it is not 32 bytes (so it matches nothing).
        case row(Digest?)
        /// Several rows have this index.
        case ambiguous
    }

    /// An ordered scan of one level, one row ahead of the row it is on, so that it can tell a unique index from
    /// a repeated one. A class, advanced in place: copying it out of `levels` and back for every node showed.
    final class Level {
        private let statement: Statement
        private var current: Row?
        private var next: Row?

        /// Where a row's `idx` sorts against an integer: SQLite orders NULL first, then integers and reals by
        /// value, then text, then blobs; `idx = n` holds only for a number equal to n.
        enum Key {
            case null
            case number(Double)
            case integer(Int64)
            case textOrBlob

            func compare(to index: Int) -> Ordering {
                switch self {
                case .null: .before
                case .textOrBlob: .after
                case .integer(let value): value < index ? .before : value == index ? .same : .after
                // Node indexes are far below 2^53, so Double(index) is exact and so is the comparison.
                case .number(let value): value < Double(index) ? .before : value == Double(index) ? .same : .after
                }
            }
        }

        enum Ordering { case before, same, after }

        struct Row {
            let key: Key
            let hash: Digest?
        }

        /// Rows below index `first` are never asked for; `idx >= first` passes over them in the index (and
        /// keeps every row that could answer: those SQLite orders at or after `first`).
        init(database: Database, level: Int, from first: Int) throws(SQLiteError) {
            // One statement per level: `prepare` caches by SQL text, so the level is part of the text.
            statement = try database.prepare(
                "SELECT idx, hash FROM merkle_nodes WHERE level = \(level) AND idx >= ?1 ORDER BY idx", [.integer(Int64(first))])
            current = try Self.read(statement)
            next = current == nil ? nil : try Self.read(statement)
        }

        private static func read(_ statement: Statement) throws(SQLiteError) -> Row? {
            guard try statement.step() else { return nil }
            let key: Key =
                switch statement.value(0) {
                case .null: .null
                case .integer(let value): .integer(value)
                case .real(let value): .number(value)
                case .text, .blob: .textOrBlob
                }
            return Row(key: key, hash: statement.withBytes(1) { Digest(bytes: $0) })
        }

        /// Ends the scan early, releasing its read of the table.
        func close() { statement.reset() }

        private func advance() throws(SQLiteError) {
            current = next
            // Past the last row the statement must not be stepped again: it would start over.
            next = current == nil ? nil : try Self.read(statement)
        }

        /// The stored hash at `index`. Rows before it are passed over for good.
        func stored(at index: Int) throws(SQLiteError) -> Answer {
            while let row = current, row.key.compare(to: index) == .before { try advance() }
            guard let row = current, row.key.compare(to: index) == .same else { return .absent }
            if let following = next, following.key.compare(to: index) == .same { return .ambiguous }
            return .row(row.hash)
        }
    }
}
