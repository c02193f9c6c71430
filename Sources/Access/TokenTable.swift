import Foundation
import Ledger
import Synchronization

/// The active tokens in memory, so that authenticating a request costs a SHA-256 and a dictionary lookup instead
/// of an SQLite read. It stays exact: it is keyed by `CommitWatch`'s generation, and once anything was committed,
/// here or in another process, the next request checks the token table's change count (one row) and reloads the
/// tokens (all of them: the table is small) if it moved. So a token revoked by `planledger token revoke` is refused
/// from the first request that starts after the revocation commits, while the commits of ordinary appends, which
/// leave the tokens alone, cost one small read instead of a reload per request.
///
/// Every authenticated request reads it, so the lock is an `NSLock`: `Synchronization.Mutex` hands a contended lock
/// over in strict order (a priority-inheritance futex), which convoys when connection threads outnumber cores.
public final class TokenTable: @unchecked Sendable {
    // @unchecked: `current` is guarded by `lock`.
    public let registry: TokenRegistry

    private struct Snapshot {
        /// The `CommitWatch` generation seen before the tokens were read, or before their change count was found
        /// unchanged.
        let generation: Int
        /// `TokenRegistry.changeCount()` when the principals were read.
        let changeCount: Int64
        let principals: [String: Principal]
    }

    private let lock = NSLock()
    private var current: Snapshot?

    /// How many times the tokens were read from the table (for tests).
    let reloads = Atomic<Int>(0)

    public init(registry: TokenRegistry) { self.registry = registry }

    /// Requests race to reload after a commit; keep the newest, never step back to an older generation.
    private func keep(_ snapshot: Snapshot) {
        lock.lock()
        if (current?.generation ?? Int.min) < snapshot.generation { current = snapshot }
        lock.unlock()
    }

    /// The principal behind a presented secret, or nil when it is unknown or revoked.
    /// - Parameter generation: `CommitWatch.generation()` of the ledger, read when the request began.
    public func authenticate(_ secret: String, generation: Int) throws -> Principal? {
        let hash = TokenRegistry.hash(secret)
        lock.lock()
        let snapshot = current
        lock.unlock()
        if let snapshot, snapshot.generation == generation {
            return snapshot.principals[hash]
        }
        // What is read here began after `generation` was seen, so it is at least as new as that generation says.
        if let snapshot, try registry.changeCount() == snapshot.changeCount {
            keep(Snapshot(generation: generation, changeCount: snapshot.changeCount, principals: snapshot.principals))
            return snapshot.principals[hash]
        }
        let (principals, changeCount) = try registry.activePrincipalsAndChangeCount()
        reloads.add(1, ordering: .relaxed)
        let loaded = Snapshot(generation: generation, changeCount: changeCount, principals: principals)
        keep(loaded)
        return loaded.principals[hash]
    }
}
