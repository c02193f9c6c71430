import Foundation
import SQLite
import Synchronization

/// Runs every append on one dedicated thread and commits concurrent ones together: the transactions waiting when
/// the thread comes round share one SQLite transaction and so one fsync, each still all-or-nothing and in arrival
/// order (see `LedgerWriter.append(_:)` for how a failing one is undone). Callers are answered only after the shared
/// commit is durable.
final class GroupCommitWriter: @unchecked Sendable {
    // @unchecked: `writer` is touched only on the writer's thread, and after it stopped under `condition`; everything
    // else is guarded by `condition`.
    typealias Completion = @Sendable (Result<AppendResult, LedgerError>) -> Void

    private struct Pending {
        let transaction: AppendTransaction
        let condition: (any AppendCondition)?
        let completion: Completion
    }

    private let writer: LedgerWriter
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var stopped = false
    private var closed = false
    private let maximumQueued: Int
    private let maximumBatch: Int
    private let onCommit: @Sendable (Checkpoint) -> Void
    /// The writer's thread, once it runs: `stop()` called on it (a completion letting go of the last reference to
    /// the ledger) must not wait for itself.
    private var writerThread: pthread_t?
    /// Commits made and transactions answered, for metrics and to show that commits are shared.
    private let counters = Mutex((commits: 0, transactions: 0))

    var statistics: (commits: Int, transactions: Int) { counters.withLock { $0 } }

    init(writer: LedgerWriter, maximumQueued: Int = 10_000, maximumBatch: Int = 512,
         onCommit: @escaping @Sendable (Checkpoint) -> Void)
    {
        self.writer = writer
        self.maximumQueued = maximumQueued
        self.maximumBatch = maximumBatch
        self.onCommit = onCommit
        // The thread holds the writer until it ends: the ledger may be let go of while it runs (even by a completion
        // on this thread), and the loop still has the batch's completions and its own exit to go through.
        let thread = Thread { [self] in self.run() }
        thread.name = "planledger-writer"
        thread.start()
    }

    /// Queues `transaction`; `completion` is called on the writer thread once it is durable or refused.
    func submit(_ transaction: AppendTransaction, condition appendCondition: (any AppendCondition)? = nil,
                completion: @escaping Completion) {
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(LedgerError(.unavailable, code: "shutting_down", "the ledger is shutting down")))
            return
        }
        if queue.count >= maximumQueued {
            condition.unlock()
            completion(.failure(LedgerError(.unavailable, code: "busy", "too many appends are waiting; retry shortly")))
            return
        }
        queue.append(Pending(transaction: transaction, condition: appendCondition, completion: completion))
        condition.signal()
        condition.unlock()
    }

    /// After `stop`: folds the write-ahead log into the database file and empties it, so that the file alone (a
    /// copy taken after the ledger closed, say) holds every acknowledged event, then closes the connection.
    ///
    /// The fold: SQLite does it by itself when the last connection to the file closes, but another process (a
    /// server beside a CLI command) may keep connections open. Only if no reader anywhere still needs the WAL,
    /// without waiting for one: the checkpoint holds the file's write lock, so waiting would stall another process's
    /// appends (and a CLI command closing beside a busy server). When it cannot, the WAL stays and SQLite reads it
    /// back on the next open, so nothing is lost either way.
    ///
    /// The close: here, on the caller's thread, not when the last reference goes, which the writer's thread holds
    /// until it has ended, so possibly after a CLI command's process has exited. Closed last (after the readers and
    /// the checkpointer), the writer's connection is the one that removes the `-wal` and `-shm` files when nothing
    /// else has the file open; left to the thread, they stayed beside a ledger whenever the process won the race.
    func close() {
        condition.lock()
        defer { condition.unlock() }
        // Only once the thread has finished (it owns the connection until then), and once: two closing threads
        // must not use the connection at the same time, so this runs under the lock. Called on the writer's own
        // thread (see `stop()`), it has not finished: the WAL stays, is read back on the next open, and the
        // connection closes as the thread lets go of the writer.
        guard stopped, !closed else { return }
        closed = true
        writer.database.setBusyTimeout(milliseconds: 0)
        try? writer.database.checkpoint(.truncate)
        writer.database.close()
    }

    /// Finishes every queued append, then stops the thread. Called on the writer's own thread, it does not wait:
    /// the thread stops once the completions of its current batch return.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        let onWriterThread = writerThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        while !stopped && !onWriterThread { condition.wait() }
        condition.unlock()
    }

    private func run() {
        condition.withLock { writerThread = pthread_self() }
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = Array(queue.prefix(maximumBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) {
        do {
            try writer.database.run("BEGIN IMMEDIATE")
            try writer.refreshIfAppendedElsewhere()
        } catch {
            writer.abandonTransaction()
            let failure = LedgerWriter.ledgerError(error)
            for pending in batch { pending.completion(.failure(failure)) }
            return
        }
        var results = writer.append(batch.map { ($0.transaction, $0.condition) })
        do {
            try writer.database.run("COMMIT")
        } catch {
            // Nothing of the batch is durable: undo (the tail is re-read before the next write) and fail every
            // transaction that had succeeded.
            writer.abandonTransaction()
            let failure = LedgerWriter.ledgerError(error)
            results = results.map { result in result.flatMap { _ in .failure(failure) } }
        }
        counters.withLock {
            $0.commits += 1
            $0.transactions += batch.count
        }
        if results.contains(where: { if case .success(let r) = $0 { !r.alreadyStored } else { false } }),
            let checkpoint = try? writer.checkpoint()
        {
            onCommit(checkpoint)
        }
        for (pending, result) in zip(batch, results) { pending.completion(result) }
    }
}
