import Foundation
import Ledger

/// The active tokens in memory, so that authenticating a request costs a SHA-256 and a dictionary lookup instead
/// of an SQLite read. It stays exact: it is keyed by `CommitWatch`'s generation and reloaded (all of it: the table
/// is small) as soon as anything was committed, here or in another process, so a token revoked by
/// `planledger token revoke` is refused from the first request that starts after the revocation commits.
///
/// Every authenticated request reads it, so the lock is an `NSLock`: `Synchronization.Mutex` hands a contended lock
/// over in strict order (a priority-inheritance futex), which convoys when connection threads outnumber cores.
public final class TokenTable: @unchecked Sendable {
    // @unchecked: `current` is guarded by `lock`.
    public let registry: TokenRegistry

    private struct Snapshot {
        /// The `CommitWatch` generation seen before the table was read.
        let generation: Int
        let principals: [String: Principal]
    }

    private let lock = NSLock()
    private var current: Snapshot?

    public init(registry: TokenRegistry) { self.registry = registry }

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
        // The table read here began after `generation` was seen, so it is at least as new as that generation says.
        let loaded = Snapshot(generation: generation, principals: try registry.activePrincipals())
        lock.lock()
        // Requests race to reload after a commit; keep the newest, never step back to an older generation.
        if (current?.generation ?? Int.min) < generation { current = loaded }
        lock.unlock()
        return loaded.principals[hash]
    }
}
