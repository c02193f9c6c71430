import Ledger
import Synchronization

/// The active tokens in memory, so that authenticating a request costs a SHA-256 and a dictionary lookup instead
/// of an SQLite read. It stays exact: it is keyed by `CommitWatch`'s generation and reloaded (all of it: the table
/// is small) as soon as anything was committed, here or in another process, so a token revoked by
/// `planledger token revoke` is refused from the first request that starts after the revocation commits.
public final class TokenTable: Sendable {
    public let registry: TokenRegistry

    private struct Snapshot {
        /// The `CommitWatch` generation seen before the table was read.
        let generation: Int
        let principals: [String: Principal]
    }

    private let current = Mutex<Snapshot?>(nil)

    public init(registry: TokenRegistry) { self.registry = registry }

    /// The principal behind a presented secret, or nil when it is unknown or revoked.
    /// - Parameter generation: `CommitWatch.generation()` of the ledger, read when the request began.
    public func authenticate(_ secret: String, generation: Int) throws -> Principal? {
        let hash = TokenRegistry.hash(secret)
        if let snapshot = current.withLock({ $0 }), snapshot.generation == generation {
            return snapshot.principals[hash]
        }
        // The table read here began after `generation` was seen, so it is at least as new as that generation says.
        let loaded = Snapshot(generation: generation, principals: try registry.activePrincipals())
        current.withLock { snapshot in
            // Requests race to reload after a commit; keep the newest, never step back to an older generation.
            if (snapshot?.generation ?? Int.min) < generation { snapshot = loaded }
        }
        return loaded.principals[hash]
    }
}
