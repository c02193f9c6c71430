import Foundation
import SQLite

/// Copies the write-ahead log back into the database file on its own thread and connection, so appends never wait
/// for it. SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the writer's
/// thread: every transaction in that group commit (and every one queued behind it) waited for 16 MiB of page
/// copies and an fsync, which was most of the P2 latency tail.
///
/// Checkpoints are PASSIVE: they copy what no reader still needs and never block the writer or readers. The
/// writer's commits stay durable in the WAL either way; a checkpoint only bounds the WAL's size.
///
/// A background checkpoint alone never lets the WAL restart under sustained appends: the WAL restarts only when
/// every frame has been copied, and the writer adds frames while each pass runs. (Measured: 5 GB of WAL after
/// 90 s of appends, beside a 600 MB database, with every write to fresh file blocks zeroed by the kernel first.)
/// So past `limit` frames the writer finishes the copy itself, in its commit hook: usually only the frames written
/// since the last background pass. The next transaction then starts the WAL again from its beginning.
final class WALCheckpointer: @unchecked Sendable {
    // @unchecked: the flags are guarded by `condition`; the connection lives and dies on `thread`.
    private let path: String
    private let threshold: Int
    private let limit: Int
    private let condition = NSCondition()
    /// Held for each checkpoint, so that the writer's own waits for a background pass in progress instead of
    /// failing with SQLITE_BUSY and letting the WAL run past its limit.
    private let passLock = NSLock()
    private var requested = false
    private var stopping = false
    private var stopped = false
    /// Checkpoints completed on the background thread (for tests).
    private(set) var checkpoints = 0
    /// Checkpoints the writer finished itself past `limit` (touched only on the writer's thread).
    private(set) var writerCheckpoints = 0

    /// - Parameters:
    ///   - threshold: WAL frames after a commit that call for a background checkpoint.
    ///   - limit: WAL frames after a commit at which the writer completes the checkpoint itself (3 × threshold by
    ///     default: 48 MiB, and one group commit more, stays under the writer's `journal_size_limit`).
    init(path: String, threshold: Int = Database.Options.writer.walAutocheckpointPages ?? 4_000, limit: Int? = nil) {
        self.path = path
        self.threshold = threshold
        self.limit = limit ?? 3 * threshold
        let thread = Thread { [self] in run() }
        thread.name = "planledger-checkpointer"
        thread.start()
    }

    /// Installs the hook on the writer's connection (this replaces SQLite's automatic checkpoints on it).
    func watch(_ writer: Database) {
        writer.setWALCommitHook { [weak self, unowned writer] frames in
            guard let self, frames >= self.threshold else { return }
            if frames >= self.limit {
                // A failure (an I/O error, say) leaves the WAL as it is: the commit is already durable, and the
                // next commit past the limit tries again.
                self.passLock.lock()
                if (try? writer.checkpoint(.passive)) != nil { self.writerCheckpoints += 1 }
                self.passLock.unlock()
            } else {
                self.request()
            }
        }
    }

    func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread (after a checkpoint in progress finishes) and closes its connection.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    var completed: Int {
        condition.lock()
        defer { condition.unlock() }
        return checkpoints
    }

    private func run() {
        // Opened at the first request, and again at the next one if that failed: with SQLite's own checkpoints
        // off on the writer, a checkpointer that gave up would let the WAL grow without bound.
        var database: Database?
        while true {
            condition.lock()
            while !requested && !stopping { condition.wait() }
            if stopping {
                // Closed before `stop()` returns rather than as the thread unwinds, which may be after the process
                // has exited: the ledger's writer must be the last to close for SQLite to remove the -wal and -shm.
                database?.close()
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            requested = false
            condition.unlock()
            if database == nil { database = try? Database(path: path, options: .init(create: false)) }
            // A failed checkpoint (the file busy, say) is retried at the next request; nothing depends on it.
            passLock.lock()
            let passed = database.map { (try? $0.checkpoint(.passive)) != nil } ?? false
            passLock.unlock()
            if passed {
                condition.lock()
                checkpoints += 1
                condition.unlock()
            }
            // While the WAL stays above the threshold (a long read pins it), every commit asks again: pace them.
            usleep(20_000)
        }
    }
}
