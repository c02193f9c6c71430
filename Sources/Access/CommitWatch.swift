import Foundation
import SQLite
import Synchronization

/// Tells caches whether anything has been committed to a ledger file since they were filled: by this process's
/// writer or by any other process (a `planledger token revoke` beside a running server).
///
/// `generation()` returns a number that is different from every earlier one whenever a commit has completed since
/// that earlier call began (it may also change without a commit, never the other way round). A cache that records
/// the generation it saw *before* reading the database, and serves only while `generation()` still returns that
/// number, never serves anything a commit has changed.
///
/// It rests on SQLite's `PRAGMA data_version` (https://sqlite.org/pragma.html#pragma_data_version), which changes
/// on a connection when another connection commits. The probes here never write, so every commit is another's.
/// A probe's value only means something to the probe itself, so there is a small pool of them, and each one that
/// sees its value move advances one shared counter; a new probe advances it too, since it saw nothing before it
/// was opened. One probe is one autocommit read of a page header: no query, no lock held while it runs.
public final class CommitWatch: @unchecked Sendable {
    // @unchecked: a probe is used by one thread at a time (checked out under `lock`); `idle` is guarded by `lock`.
    private let path: String
    private let lock = NSLock()
    private var idle: [Probe] = []
    private let maximumIdle: Int
    private let counter = Atomic<Int>(0)

    private final class Probe {
        let database: Database
        var dataVersion: Int64

        init(path: String) throws {
            database = try Database(path: path, options: .init(readOnly: true))
            dataVersion = try Self.read(database)
        }

        static func read(_ database: Database) throws -> Int64 {
            try database.scalarInt("PRAGMA data_version") ?? 0
        }
    }

    /// - Parameters:
    ///   - path: the ledger's SQLite file (it must exist).
    ///   - maximumIdle: probes kept open between calls; more are opened when more threads ask at once.
    public init(path: String, maximumIdle: Int = 8) {
        self.path = path
        self.maximumIdle = maximumIdle
    }

    /// The current generation; see the type's description.
    /// - Throws: `SQLiteError` when the file cannot be read.
    public func generation() throws -> Int {
        let probe = try checkOut()
        defer { checkIn(probe) }
        let version = try Probe.read(probe.database)
        if version != probe.dataVersion {
            probe.dataVersion = version
            counter.add(1, ordering: .sequentiallyConsistent)
        }
        // Read after our own advance, and after any advance made through this probe by its previous user (the
        // pool's lock orders them), so a commit seen by any probe since the caller's earlier call shows here.
        return counter.load(ordering: .sequentiallyConsistent)
    }

    private func checkOut() throws -> Probe {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        if let reused { return reused }
        let probe = try Probe(path: path)
        // A new probe did not see what was committed before it opened: anything cached before now is suspect.
        counter.add(1, ordering: .sequentiallyConsistent)
        return probe
    }

    private func checkIn(_ probe: Probe) {
        lock.lock()
        if idle.count < maximumIdle { idle.append(probe) }
        lock.unlock()
    }
}
