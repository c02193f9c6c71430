import Foundation
import SQLite

/// The append-only, hash-linked event ledger in one SQLite file: one group-committing writer, many readers.
///
/// Appends are validated (envelope here, domain and projections through the `LedgerHook`), stored atomically and
/// acknowledged only once durable (`synchronous=FULL`). Reads, checkpoints and RFC 6962 proofs come from pooled
/// read-only connections.
public final class Ledger: Sendable {
    public let path: String
    /// Nil when opened `.readOnly`.
    private let writer: GroupCommitWriter?
    private let readers: ReaderPool
    private let checkpointer: WALCheckpointer?
    private let committed: CommittedSize
    /// Opened `.readOnly`: `close()` removes the `-wal` and `-shm` its reads made beside a file that had none.
    private let walFiles: WALFilesBeside?

    /// How to open the file.
    public enum Mode: Sendable, Equatable {
        /// Creates the file and the ledger's tables when they are missing.
        case create
        /// Only a file that already holds a ledger; anything else (no file, an empty or foreign database) is refused
        /// before a byte of it is written.
        case existing
        /// An existing ledger, never written: SQLite read-only connections only, no schema created, no projections
        /// rebuilt, and appends refused. So a write-protected copy can be checked, and a read cannot alter what it
        /// reads. Nor the directory: the `-wal` and `-shm` files its reads create beside a writable file that had
        /// none are removed on `close()`, unless another connection has opened the ledger meanwhile.
        /// `needsProjections`: whether the caller reads the projections, which must then be current.
        case readOnly(needsProjections: Bool)
    }

    /// Opens the ledger at `path`.
    /// - Parameters:
    ///   - hook: the domain and projections run on every append; `NoHook()` for a bare log.
    ///   - clock: the source of `recordedAt`; injectable so tests can step time backwards.
    ///   - mode: whether to create a missing ledger, or to open an existing one for writing or only for reading.
    ///   - rebuildProgress: called with (events folded, events in the log) while projections written by an older
    ///     layout are rebuilt before the ledger opens; never called when they are current.
    /// - Throws: `LedgerError` `not_a_ledger` for a file without a ledger (unless `.create`), `unsupported_format`
    ///   for a ledger written by a newer PlanLedger, and whatever the hook throws for newer projections.
    public init(path: String, hook: any LedgerHook = NoHook(),
                clock: @escaping @Sendable () -> Timestamp = Timestamp.now, mode: Mode = .create,
                rebuildProgress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws
    {
        self.path = path
        if case .readOnly(let needsProjections) = mode {
            let walFiles = WALFilesBeside(path)
            self.walFiles = walFiles
            let database = try LedgerSchema.openExisting(path: path)
            if needsProjections, try !hook.projectionsAreCurrent(database: database) {
                database.close()
                walFiles.removeThoseMadeSince()
                throw LedgerError(.storage, code: "projections_outdated",
                                  "\(path): its projections were written by an older PlanLedger and must be rebuilt "
                                  + "from the log, which a read-only open cannot do (run 'planledger rebuild' on a "
                                  + "writable copy)")
            }
            committed = CommittedSize(try EventRow.lastPosition(in: database))
            writer = nil
            checkpointer = nil
            readers = ReaderPool(path: path)
            return
        }
        // Checked on a read-only connection first: the writer's connection would already switch a foreign database
        // to WAL as it opens.
        if mode == .existing { _ = try LedgerSchema.openExisting(path: path) }
        walFiles = nil  // the writer's connection, closed last, removes them
        let database = try Database(path: path, options: .writer)
        let projectionsAreCurrent = try database.transaction {
            try LedgerSchema.create(in: database)
            try hook.prepare(database: database)
            return try hook.projectionsAreCurrent(database: database)
        }
        // Projections written by an older layout are refolded from the log before the first append or read.
        if !projectionsAreCurrent { try ProjectionRebuilder(path: path, hook: hook).rebuild(progress: rebuildProgress) }
        let writer = try LedgerWriter(database: database, hook: hook, clock: clock)
        let checkpointer = WALCheckpointer(path: path)
        checkpointer.watch(database)
        self.checkpointer = checkpointer
        let committed = CommittedSize(writer.tail.size)
        self.committed = committed
        self.writer = GroupCommitWriter(writer: writer) { checkpoint in committed.advance(to: checkpoint.size) }
        self.readers = ReaderPool(path: path)
    }

    /// A ledger let go without `close()` is closed here, as `close()` would: queued appends finish, the threads stop
    /// and the write-ahead log is folded into the file (except when let go on the writer's own thread, in a
    /// completion: see `GroupCommitWriter.stop()`).
    deinit { close() }

    /// Finishes queued appends and stops the writer, then folds the write-ahead log into the database file so that
    /// the file alone holds every acknowledged event, and closes every connection before it returns, the writer's
    /// last: with nothing else holding the file, SQLite then removes its `-wal` and `-shm`, so a process may exit
    /// right after. Later appends fail with `shutting_down`; a read still works, on a connection of its own. Writes
    /// nothing when opened `.readOnly`, and removes the `-wal` and `-shm` its reads made (see `Mode.readOnly`).
    public func close() {
        guard let writer, let checkpointer else {
            readers.close()
            // Read-only connections cannot remove them themselves.
            walFiles?.removeThoseMadeSince()
            return
        }
        writer.stop()
        checkpointer.stop()
        readers.close()
        writer.close()
    }

    /// Queues `transaction` on the writer, or refuses it at once when there is none.
    private func submitToWriter(_ transaction: AppendTransaction, condition: (any AppendCondition)? = nil,
                                completion: @escaping @Sendable (Result<AppendResult, LedgerError>) -> Void) {
        guard let writer else {
            completion(.failure(LedgerError(.unavailable, code: "read_only", "\(path) is open read-only")))
            return
        }
        writer.submit(transaction, condition: condition, completion: completion)
    }

    // MARK: Appending

    /// Appends `transaction`, blocking the calling thread until it is durable or refused.
    /// Call it from a thread of your own, not from Swift's cooperative pool; async code uses `append(_:) async`.
    /// - Parameter condition: what the sender may write, checked inside the append's transaction (see
    ///   `AppendCondition`).
    public func append(_ transaction: AppendTransaction, condition: (any AppendCondition)? = nil)
        throws(LedgerError) -> AppendResult
    {
        let box = ResultBox()
        submitToWriter(transaction, condition: condition) { result in box.set(result) }
        return try box.wait().get()
    }

    /// Queues `transaction` without waiting; `completion` runs on the writer thread once it is durable or refused.
    /// Transactions submitted from one thread are appended in submission order, so a client can keep several in
    /// flight (pipelining) and they share commits.
    /// - Parameter condition: what the sender may write, checked inside the append's transaction (see
    ///   `AppendCondition`).
    public func submit(_ transaction: AppendTransaction, condition: (any AppendCondition)? = nil,
                       completion: @escaping @Sendable (Result<AppendResult, LedgerError>) -> Void) {
        submitToWriter(transaction, condition: condition, completion: completion)
    }

    /// Appends `transaction`, suspending until it is durable or refused.
    public func append(_ transaction: AppendTransaction) async throws(LedgerError) -> AppendResult {
        let result = await withCheckedContinuation { continuation in
            submitToWriter(transaction) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    // MARK: Reading

    /// Runs `body` on a read-only connection inside one snapshot. For the layers above (projections, archives).
    public func read<T>(_ body: (Database) throws -> T) throws -> T { try readers.read(body) }

    /// SQLite commits made by the writer and transactions it answered since open: with group commit, concurrent
    /// appends share commits, so `commits` grows slower than `transactions`.
    public var statistics: (commits: Int, transactions: Int) { writer?.statistics ?? (0, 0) }

    /// The number of events committed so far.
    public var size: Int { committed.value }

    /// Events after `position` (exclusive), in position order, at most `limit`, matching `filter`.
    public func events(after position: Int = 0, limit: Int = 100, filter: EventFilter = EventFilter()) throws
        -> [RecordedEvent]
    {
        let (conditions, values) = filter.sqlConditions
        return try read { database in
            var decoder = EventRow.Decoder()
            return try database.map(
                "SELECT \(EventRow.columns) FROM events WHERE position > ?1\(conditions) ORDER BY position LIMIT ?2",
                [.integer(Int64(position)), .integer(Int64(limit))] + values) { row throws in try decoder.decode(row) }
        }
    }

    /// A page of `events(after:limit:filter:)`, with `next` (the position to read on from) only when more matching
    /// events follow: one more is read to know, so a reader is never sent on to an empty page. The page of
    /// `GET /v1/events` and of `planledger get`.
    public func eventPage(after position: Int, limit: Int, filter: EventFilter) throws
        -> (events: [RecordedEvent], next: Int?)
    {
        precondition(limit >= 1 && limit < Int.max)
        var events = try self.events(after: position, limit: limit + 1, filter: filter)
        guard events.count > limit else { return (events, nil) }
        events.removeLast()
        return (events, events.last!.position)
    }

    /// A stream's events from `fromVersion` (inclusive), in version order, at most `limit`.
    public func stream(_ stream: StreamName, fromVersion: Int = 1, limit: Int = 1_000) throws -> [RecordedEvent] {
        try read { database in try Self.streamEvents(stream, fromVersion: fromVersion, limit: limit, in: database) }
    }

    /// `stream(_:fromVersion:limit:)` on a connection of the caller's: a projection folding events after a
    /// snapshot reads them on its own connection, inside its own snapshot or write transaction.
    public static func streamEvents(_ stream: StreamName, fromVersion: Int, limit: Int, in database: Database) throws
        -> [RecordedEvent]
    {
        var decoder = EventRow.Decoder()
        return try database.map(
            "SELECT \(EventRow.columns) FROM events WHERE stream = ?1 AND version >= ?2 ORDER BY version LIMIT ?3",
            [.text(stream.description), .integer(Int64(fromVersion)), .integer(Int64(limit))]
        ) { row throws in try decoder.decode(row) }
    }

    /// The stream's current version, 0 when it does not exist.
    public func version(of stream: StreamName) throws -> Int {
        try read { database in
            Int(try database.scalarInt("SELECT version FROM streams WHERE stream = ?1", [.text(stream.description)]) ?? 0)
        }
    }

    /// The event stored with `id`, if any.
    public func event(id: String) throws -> RecordedEvent? {
        try read { database in
            try database.first("SELECT \(EventRow.columns) FROM events WHERE id = ?1", [.text(id.lowercased())]) {
                row throws in try EventRow.decode(row)
            }
        }
    }

    /// Blocks until an event after `position` is committed, or `timeout` passes. Returns whether there is one.
    /// For live subscriptions, which run on threads of their own.
    public func waitForEvents(after position: Int, timeout: Double) -> Bool {
        committed.wait(beyond: position, timeout: timeout)
    }

    // MARK: Verification

    /// The largest position stored in the file, whoever committed it (`size` counts this process's commits).
    public func storedLastPosition() throws -> Int {
        try read { database in try EventRow.lastPosition(in: database) }
    }

    /// The checkpoint of the first `size` events (default: all).
    public func checkpoint(size: Int? = nil) throws -> Checkpoint {
        try read { database in try Self.checkpoint(size: size, in: database) }
    }

    public static func checkpoint(size: Int?, in database: Database) throws -> Checkpoint {
        let current = try EventRow.lastPosition(in: database)
        let size = size ?? current
        guard size >= 0, size <= current else {
            throw LedgerError(.notFound, code: "size_out_of_range", "the ledger has \(current) events; asked for \(size)")
        }
        if size == 0 { return Checkpoint(size: 0, rootHash: MerkleTree.emptyRoot, recordedAt: .now()) }
        let recordedAt = try database.scalarInt("SELECT recorded_at FROM events WHERE position = ?1",
                                                [.integer(Int64(size))]) ?? 0
        return Checkpoint(size: size, rootHash: try DatabaseNodeSource(database: database).rootHash(size: size),
                          recordedAt: Timestamp(millisecondsSinceEpoch: recordedAt))
    }

    /// RFC 6962 inclusion proof of the event at `position` in the tree of the first `size` events.
    public func inclusionProof(position: Int, size: Int? = nil) throws -> InclusionProof {
        try read { database in
            let checkpoint = try Self.checkpoint(size: size, in: database)
            guard position >= 1, position <= checkpoint.size else {
                throw LedgerError(.notFound, code: "position_out_of_range",
                                  "position \(position) is not in a tree of size \(checkpoint.size)")
            }
            let nodes = DatabaseNodeSource(database: database)
            return InclusionProof(
                position: position, size: checkpoint.size, leafHash: try nodes.node(level: 0, index: position - 1),
                rootHash: checkpoint.rootHash, path: try nodes.inclusionPath(leafIndex: position - 1, size: checkpoint.size))
        }
    }

    /// RFC 6962 consistency proof that the first `from` events are a prefix of the first `to` (default: all).
    public func consistencyProof(from: Int, to: Int? = nil) throws -> ConsistencyProof {
        try read { database in
            let second = try Self.checkpoint(size: to, in: database)
            guard from >= 0, from <= second.size else {
                throw LedgerError(.notFound, code: "size_out_of_range", "from must be between 0 and \(second.size)")
            }
            let first = try Self.checkpoint(size: from, in: database)
            let path = try DatabaseNodeSource(database: database).consistencyPath(from: from, to: second.size)
            return ConsistencyProof(from: from, to: second.size, fromRoot: first.rootHash, toRoot: second.rootHash,
                                    path: path)
        }
    }
}

/// The committed size, and a way to wait for it to grow.
private final class CommittedSize: @unchecked Sendable {
    // @unchecked: `size` is guarded by `condition`.
    private let condition = NSCondition()
    private var size: Int

    init(_ size: Int) { self.size = size }

    var value: Int {
        condition.lock()
        defer { condition.unlock() }
        return size
    }

    func advance(to size: Int) {
        condition.lock()
        self.size = max(self.size, size)
        condition.broadcast()
        condition.unlock()
    }

    func wait(beyond position: Int, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while size <= position {
            if !condition.wait(until: deadline) { return size > position }
        }
        return true
    }
}

/// One append's result, handed from the writer thread to a blocked caller.
private final class ResultBox: @unchecked Sendable {
    // @unchecked: `result` is guarded by `condition`.
    private let condition = NSCondition()
    private var result: Result<AppendResult, LedgerError>?

    func set(_ result: Result<AppendResult, LedgerError>) {
        condition.lock()
        self.result = result
        condition.signal()
        condition.unlock()
    }

    func wait() -> Result<AppendResult, LedgerError> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
