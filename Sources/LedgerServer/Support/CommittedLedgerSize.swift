import Ledger
import Synchronization

/// The number of events in the ledger file, whoever committed them, for `/healthz` and `/metrics`.
///
/// `Ledger.size` counts what this process's writer committed: another process's commits (a `planledger append`
/// beside the server) reach it only when the server next commits itself. So when `CommitWatch` says something was
/// committed since the last look, the size is read from the file (its largest position); otherwise it is answered
/// from memory, and a health check polled every second costs one `PRAGMA data_version` while the ledger is idle.
final class CommittedLedgerSize: Sendable {
    private let ledger: Ledger
    private let changes: CommitWatch
    /// The size read, and the generation seen before it was read.
    private let seen = Mutex<(generation: Int, size: Int)?>(nil)

    init(ledger: Ledger, changes: CommitWatch) {
        self.ledger = ledger
        self.changes = changes
    }

    /// - Throws: `LedgerError` or `SQLiteError` when the file cannot be read.
    func current() throws -> Int {
        // Seen before the read, as the caches do: the size read is at least as new as this generation.
        let generation = try changes.generation()
        if let seen = seen.withLock({ $0 }), seen.generation == generation { return max(seen.size, ledger.size) }
        let size = max(try ledger.storedLastPosition(), ledger.size)
        seen.withLock { seen in
            if (seen?.generation ?? Int.min) <= generation { seen = (generation, size) }
        }
        return size
    }
}
