import Foundation
import SQLite

/// Copies the write-ahead log back into the database file on its own thread and connection, so appends never wait
/// for it. SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the writer's
/// thread: every transaction in that group commit (and every one queued behind it) waited for 16 MiB of page
/// copies and an fsync, which was most of the P2 latency tail.
///
/// Checkpoints are PASSIVE: they copy what no reader still needs and never block the writer or readers. The
/// writer's commits stay durable in the WAL either way; a checkpoint only bounds the WAL's size.
final class WALCheckpointer: @unchecked Sendable {
    // @unchecked: the flags are guarded by `condition`; the connection lives and dies on `thread`.
    private let path: String
    private let threshold: Int
    private let condition = NSCondition()
    private var requested = false
    private var stopping = false
    private var stopped = false
    /// Checkpoints completed (for tests and metrics).
    private(set) var checkpoints = 0

    /// - Parameter threshold: WAL frames after a commit that call for a checkpoint.
    init(path: String, threshold: Int = Database.Options.writer.walAutocheckpointPages ?? 4_000) {
        self.path = path
        self.threshold = threshold
        let thread = Thread { [self] in run() }
        thread.name = "planledger-checkpointer"
        thread.start()
    }

    /// Installs the hook on the writer's connection (this replaces SQLite's automatic checkpoints on it).
    func watch(_ writer: Database) {
        writer.setWALCommitHook { [weak self] frames in
            guard let self, frames >= self.threshold else { return }
            self.request()
        }
    }

    func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread (after a checkpoint in progress finishes).
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
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            requested = false
            condition.unlock()
            if database == nil { database = try? Database(path: path, options: .init(create: false)) }
            // A failed checkpoint (the file busy, say) is retried at the next request; nothing depends on it.
            if let database, (try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")) != nil {
                condition.lock()
                checkpoints += 1
                condition.unlock()
            }
            // While the WAL stays above the threshold (a long read pins it), every commit asks again: pace them.
            usleep(20_000)
        }
    }
}
