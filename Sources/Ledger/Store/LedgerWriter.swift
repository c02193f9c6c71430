import SQLite

/// Appends transactions on the single writer connection. Owns the in-memory tail of the ledger (size, last
/// `recordedAt`, Merkle frontier), which it advances only once a commit has succeeded.
///
/// Not thread-safe: `GroupCommitWriter` calls it from its one thread.
final class LedgerWriter {
    /// The ledger's tail as of the last commit (or as it grows inside the open transaction).
    struct Tail {
        var lastRecordedAt: Timestamp
        /// The right edge of the Merkle tree: all an append needs to add leaves and compute the root.
        var tree: FrontierTree
        var size: Int { tree.size }
    }

    let database: Database
    let hook: any LedgerHook
    let clock: @Sendable () -> Timestamp
    private(set) var tail: Tail

    init(database: Database, hook: any LedgerHook, clock: @escaping @Sendable () -> Timestamp) throws {
        self.database = database
        self.hook = hook
        self.clock = clock
        self.tail = Tail(lastRecordedAt: Timestamp(millisecondsSinceEpoch: 0), tree: FrontierTree())
        try reloadTail()
    }

    /// Set when the tail may not match the database (a commit failed): re-read before anything is written again.
    private var tailIsStale = false

    /// Reads the tail from the database: after opening, and before the first write after a failed commit.
    private func reloadTail() throws {
        let size = try EventRow.lastPosition(in: database)
        let last = try database.scalarInt("SELECT recorded_at FROM events WHERE position = ?1", [.integer(Int64(size))])
        let nodes = DatabaseNodeSource(database: database)
        tail = Tail(lastRecordedAt: Timestamp(millisecondsSinceEpoch: last ?? 0),
                    tree: try FrontierTree(size: size) { try nodes.node(level: $0, index: $1) })
        tailIsStale = false
    }

    /// Called with the write lock held (after `BEGIN IMMEDIATE`): if another process (a CLI command beside a running
    /// server) appended since our tail was read, re-read it, so positions and the Merkle tree continue from the
    /// ledger as it is rather than as this process last saw it.
    /// After a failed commit the tail is re-read here too, under the lock, so that a failure to read it fails that
    /// next group rather than leaving positions and the Merkle tree to continue from a tail that was rolled back.
    func refreshIfAppendedElsewhere() throws {
        // Anything another connection committed (an append, a rebuild) may be missing from the hook's caches; when
        // nothing was committed elsewhere, the tail is still ours and needs no re-reading.
        let changedElsewhere = try database.dropAttachmentsIfChangedElsewhere()
        if tailIsStale { return try reloadTail() }
        guard changedElsewhere else { return }
        let stored = Int(try database.scalarText("SELECT value FROM ledger_meta WHERE key = 'size'").flatMap { Int($0) } ?? 0)
        if stored != tail.size { try reloadTail() }
    }

    /// After a failed `BEGIN` or commit: rolls back what is left of the transaction and forgets what was derived
    /// from it (the hook's caches now; the tail before the next write).
    func abandonTransaction() {
        if database.isInTransaction { try? database.execute("ROLLBACK") }
        database.dropAttachments()
        tailIsStale = true
    }

    /// Appends `transactions` in order inside the caller's open SQLite transaction, each all-or-nothing: one that
    /// fails leaves nothing of itself, and the others are stored as if it had never been sent.
    ///
    /// They are first appended without a savepoint each, inside one savepoint around them all. A savepoint makes
    /// SQLite copy every page it first changes into its statement journal, so with one savepoint per one-event
    /// transaction that copying (and freeing) was a large share of the writer's time (BENCHMARKS, fifth round).
    /// Most failures (invalid input, version and id conflicts, unknown types) are found before anything is written
    /// and need no undo. A failure after writing began (a domain rule in the hook, a storage error) does: then the
    /// whole group is undone and appended again, each transaction in a savepoint of its own.
    ///
    /// - Parameter transactions: each with the condition its sender put on it, if any.
    func append(_ transactions: [(transaction: AppendTransaction, condition: (any AppendCondition)?)])
        -> [Result<AppendResult, LedgerError>]
    {
        let saved = tail
        do {
            try database.run("SAVEPOINT batch")
            var results: [Result<AppendResult, LedgerError>] = []
            results.reserveCapacity(transactions.count)
            var inOwnSavepoints = false
            var index = 0
            while index < transactions.count {
                do throws(AppendFailure) {
                    let (transaction, condition) = transactions[index]
                    results.append(.success(try append(transaction, condition: condition, inOwnSavepoint: inOwnSavepoints)))
                } catch {
                    switch error {
                    case .refused(let error):
                        // SQLite rolls the whole transaction back by itself after some errors (a full disk, an I/O
                        // error): then nothing of the group is stored, whatever the results so far say, and
                        // going on would write outside any transaction.
                        guard database.isInTransaction else { throw error }
                        results.append(.failure(error))
                    case .partlyWritten(let error):
                        guard database.isInTransaction else { throw error }
                        try database.rewind(toSavepoint: "batch")
                        tail = saved
                        results.removeAll(keepingCapacity: true)
                        inOwnSavepoints = true
                        index = 0
                        continue
                    }
                }
                index += 1
            }
            try database.run("RELEASE batch")
            return results
        } catch {
            database.rollback(toSavepoint: "batch")
            tail = saved
            return transactions.map { _ in .failure(Self.ledgerError(error)) }
        }
    }

    /// Why `append(_:inOwnSavepoint:)` failed, and so what the caller must undo.
    private enum AppendFailure: Error {
        /// Nothing of the transaction is in the open SQLite transaction (and `tail` is unchanged).
        case refused(LedgerError)
        /// Only without a savepoint of its own: writing had begun, so part of the transaction is in the open SQLite
        /// transaction (`tail` is unchanged) and the caller must undo it.
        case partlyWritten(LedgerError)
    }

    /// Appends one transaction inside the caller's open SQLite transaction; in a savepoint of its own when
    /// `inOwnSavepoint`, so that a throw leaves nothing of it. `tail` is unchanged by a throw either way.
    private func append(_ transaction: AppendTransaction, condition: (any AppendCondition)?,
                        inOwnSavepoint: Bool) throws(AppendFailure) -> AppendResult {
        // Only ids the client chose can be a re-send; ids generated here are fresh.
        let clientChoseIds = transaction.streams.contains { $0.events.contains { $0.id != nil } }
        let prepared: Prepared
        do {
            prepared = try prepare(try AppendValidation.normalised(transaction), mayBeResend: clientChoseIds)
        } catch {
            throw .refused(Self.ledgerError(error))
        }
        let records: [RecordedEvent]
        let canonicalData: [String]
        switch prepared {
        case .alreadyStored(let result): return result
        case .new(let new, let data): (records, canonicalData) = (new, data)
        }

        let saved = tail
        do {
            if inOwnSavepoint { try database.run("SAVEPOINT append") }
            // Stored first: the hook's projections may fold the log, this transaction included.
            try store(records, canonicalData: canonicalData)
            try apply(records, condition: condition)
            let result = AppendResult(events: records, checkpoint: try checkpoint(), alreadyStored: false)
            if inOwnSavepoint { try database.run("RELEASE append") }
            return result
        } catch {
            tail = saved
            guard inOwnSavepoint else { throw .partlyWritten(Self.ledgerError(error)) }
            database.rollback(toSavepoint: "append")
            throw .refused(Self.ledgerError(error))
        }
    }

    /// The hook's checks and projection updates for a transaction's records. With a condition, each record is
    /// first checked alone, then the records go to the hook one at a time, and the first of each stream is checked
    /// just before it, on the state it is appended to. (The routing hook applies them one at a time anyway; errors
    /// keep their index in the whole transaction.)
    private func apply(_ records: [RecordedEvent], condition: (any AppendCondition)?) throws {
        guard let condition else { return try hook.apply(records, database: database) }
        for (index, record) in records.enumerated() {
            do {
                try condition.checkAlone(record)
            } catch let error as LedgerError {
                throw error.at(eventIndex: index)
            }
        }
        for (index, record) in records.enumerated() {
            do {
                if index == 0 || records[index - 1].stream != record.stream {
                    try condition.check(record, database: database)
                }
                try hook.apply([record], database: database)
            } catch let error as LedgerError {
                throw error.at(eventIndex: index)
            }
        }
    }

    static func ledgerError(_ error: any Error) -> LedgerError {
        if let error = error as? LedgerError { return error }
        return LedgerError(.storage, code: "storage_error", "the ledger could not store the transaction: \(error)")
    }

    /// A transaction checked against the ledger and ready to store, or a re-send of one already stored.
    private enum Prepared {
        case alreadyStored(AppendResult)
        /// The records (positions continuing the tail, hashes computed) and each payload's canonical text.
        case new([RecordedEvent], canonicalData: [String])
    }

    /// Makes every check that needs no write (versions, valid-time order, known types, re-sends) and computes the
    /// records. Reads only: a throw here leaves nothing to undo.
    private func prepare(_ transaction: AppendTransaction, mayBeResend: Bool) throws -> Prepared {
        let flat = transaction.flattened
        if mayBeResend, let stored = try storedResend(flat, actor: transaction.actor) {
            return .alreadyStored(AppendResult(events: stored, checkpoint: try checkpoint(), alreadyStored: true))
        }

        // Transaction time: the clock, but never before the previous event's, so `recordedAt` never decreases along
        // positions even when the system clock steps back.
        let recordedAt = max(clock(), tail.lastRecordedAt)
        var records: [RecordedEvent] = []
        records.reserveCapacity(flat.count)
        // Each payload's canonical text, encoded once for both the hash and the stored row.
        var canonicalData: [String] = []
        canonicalData.reserveCapacity(flat.count)
        var index = 0
        for append in transaction.streams {
            let current = try database.first(
                "SELECT version, last_effective_at FROM streams WHERE stream = ?1", [.text(append.stream.description)]
            ) { (version: $0.int(0), lastEffectiveAt: Timestamp(millisecondsSinceEpoch: $0.int64(1))) }
            let currentVersion = current?.version ?? 0
            guard append.expectedVersion.isSatisfied(byCurrent: currentVersion) else {
                throw LedgerError(
                    .conflict, code: "version_conflict",
                    "stream \(append.stream) is at version \(currentVersion); the transaction expected \(append.expectedVersion)",
                    details: ["stream": .string(append.stream.description), "expected": append.expectedVersion.json,
                              "actual": JSONValue(currentVersion)])
            }
            var lastEffectiveAt = current?.lastEffectiveAt
            for (offset, proposed) in append.events.enumerated() {
                defer { index += 1 }
                let effectiveAt = proposed.effectiveAt ?? recordedAt
                if let lastEffectiveAt, effectiveAt < lastEffectiveAt {
                    throw LedgerError(
                        .domainRule, code: "effective_time_regression",
                        "effectiveAt \(effectiveAt) is before \(lastEffectiveAt), the effective time of the stream's previous event; valid time never decreases along a stream",
                        details: ["stream": .string(append.stream.description)]
                    ).at(eventIndex: index, field: "effectiveAt")
                }
                lastEffectiveAt = effectiveAt
                guard let schemaVersion = proposed.schemaVersion ?? hook.currentSchemaVersion(of: proposed.type) else {
                    throw LedgerError(.invalidInput, code: "unknown_type", "unknown event type \(proposed.type)")
                        .at(eventIndex: index, field: "type")
                }
                let position = tail.size + records.count + 1
                let unhashed = RecordedEvent(
                    position: position, id: proposed.id!, stream: append.stream, version: currentVersion + offset + 1,
                    type: proposed.type, schemaVersion: schemaVersion, recordedAt: recordedAt, effectiveAt: effectiveAt,
                    actor: transaction.actor, reason: proposed.reason, correlationId: proposed.correlationId,
                    causationId: proposed.causationId, data: proposed.data,
                    hash: MerkleTree.emptyRoot)
                let data = CanonicalJSON.string(proposed.data)
                let hash = MerkleTree.leafHash(EnvelopeEncoder.encode(unhashed, canonicalData: data.utf8))
                records.append(unhashed.withHash(hash))
                canonicalData.append(data)
            }
        }

        return .new(records, canonicalData: canonicalData)
    }

    /// Stores records that are complete and checked (positions continue the tail, hashes computed): the event rows,
    /// the streams' versions, the Merkle nodes they complete and the committed size. Shared by appends and imports.
    /// - Parameter canonicalData: each record's `data` as canonical JSON text, when the caller has it already.
    func store(_ records: [RecordedEvent], canonicalData: [String]? = nil) throws {
        for (index, record) in records.enumerated() {
            let data = canonicalData?[index] ?? CanonicalJSON.string(record.data)
            try database.run(EventRow.insertSQL, EventRow.values(record, canonicalData: data))
            try addLeaf(record.hash)
            tail.lastRecordedAt = record.recordedAt
            // A stream's events are contiguous in a transaction: its row is written once, at its last event.
            if index + 1 < records.count, records[index + 1].stream == record.stream { continue }
            try database.run(
                """
                INSERT INTO streams (stream, kind, version, last_effective_at) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_effective_at = excluded.last_effective_at
                """,
                [.text(record.stream.description), .text(record.stream.kind), .integer(Int64(record.version)),
                 .integer(record.effectiveAt.millisecondsSinceEpoch)])
        }
        try database.run("UPDATE ledger_meta SET value = ?1 WHERE key = 'size'", [.text(String(tail.size))])
    }

    /// If the transaction's events are already stored, identical in content, returns the stored records: an
    /// idempotent re-send. Any id already stored with other content (or a re-send of part of a transaction) is an
    /// `id_conflict`.
    private func storedResend(_ flat: [(stream: StreamName, event: ProposedEvent)], actor: Actor) throws
        -> [RecordedEvent]?
    {
        var stored: [RecordedEvent] = []
        for (index, item) in flat.enumerated() {
            let record = try database.first("SELECT \(EventRow.columns) FROM events WHERE id = ?1",
                                            [.text(item.event.id!)]) { row throws in try EventRow.decode(row) }
            guard let record else { continue }
            guard record.matches(item.event, stream: item.stream, actor: actor) else {
                throw LedgerError(.conflict, code: "id_conflict",
                                  "event id \(record.id) is already stored at position \(record.position) with different content",
                                  details: ["id": .string(record.id), "position": JSONValue(record.position)])
                    .at(eventIndex: index, field: "id")
            }
            stored.append(record)
        }
        if stored.isEmpty { return nil }
        guard stored.count == flat.count else {
            let index = try flat.firstIndex { item in
                try database.scalarInt("SELECT 1 FROM events WHERE id = ?1", [.text(item.event.id!)]) == nil
            } ?? 0
            throw LedgerError(.conflict, code: "id_conflict",
                              "part of this transaction is already stored; re-send exactly the original transaction")
                .at(eventIndex: index, field: "id")
        }
        return stored
    }

    /// Adds leaf `tail.size` and stores every perfect subtree it completes (level ≥ 1; level 0 is `events.hash`).
    private func addLeaf(_ leaf: Digest) throws {
        for node in tail.tree.append(leaf) {
            try database.run("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
                             [.integer(Int64(node.level)), .integer(Int64(node.index)), .blob(node.hash.bytes)])
        }
    }

    /// The checkpoint at the current tail, from the frontier alone.
    func checkpoint() throws -> Checkpoint {
        Checkpoint(size: tail.size, rootHash: tail.tree.root,
                   recordedAt: tail.size == 0 ? clock() : tail.lastRecordedAt)
    }
}

extension RecordedEvent {
    func withHash(_ hash: Digest) -> RecordedEvent {
        RecordedEvent(position: position, id: id, stream: stream, version: version, type: type,
                      schemaVersion: schemaVersion, recordedAt: recordedAt, effectiveAt: effectiveAt, actor: actor,
                      reason: reason, correlationId: correlationId, causationId: causationId, data: data, hash: hash)
    }

    /// Whether this stored record is what `proposed` (appended to `stream` by `actor`) would have stored. Fields the
    /// client left out (schemaVersion, effectiveAt) match whatever the ledger chose for them.
    func matches(_ proposed: ProposedEvent, stream: StreamName, actor: Actor) -> Bool {
        self.stream == stream && type == proposed.type && self.actor == actor
            && (proposed.schemaVersion == nil || proposed.schemaVersion == schemaVersion)
            && (proposed.effectiveAt == nil || proposed.effectiveAt == effectiveAt)
            && reason == proposed.reason && correlationId == proposed.correlationId
            && causationId == proposed.causationId && data == proposed.data
    }
}
