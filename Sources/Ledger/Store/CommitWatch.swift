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
/// was opened. The pool is bounded and its probes are kept for the watch's lifetime, so that advance happens a few
/// times at start-up rather than whenever many threads ask at once (each would empty every cache); a caller
/// finding every probe busy waits for one, which is brief: a probe is one autocommit read of the WAL index.
public final class CommitWatch: @unchecked Sendable {
    // @unchecked: a probe is used by one thread at a time (checked out under `available`); `idle` and `opened` are
    // guarded by `available`.
    private let path: String
    private let available = NSCondition()
    private var idle: [Probe] = []
    private var opened = 0
    private let maximumProbes: Int
    private let counter = Atomic<Int>(0)
    /// Set by `close()`: probes are closed as they are checked in instead of kept.
    private var closed = false

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
    ///   - maximumProbes: read-only connections opened at most, as threads ask at once.
    public init(path: String, maximumProbes: Int = 16) {
        precondition(maximumProbes > 0)
        self.path = path
        self.maximumProbes = maximumProbes
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
        available.lock()
        while idle.isEmpty && opened == maximumProbes { available.wait() }
        if let probe = idle.popLast() {
            available.unlock()
            return probe
        }
        opened += 1
        available.unlock()
        do {
            let probe = try Probe(path: path)
            // A new probe did not see what was committed before it opened: anything cached before now is suspect.
            counter.add(1, ordering: .sequentiallyConsistent)
            return probe
        } catch {
            available.lock()
            opened -= 1
            available.signal()
            available.unlock()
            throw error
        }
    }

    private func checkIn(_ probe: Probe) {
        available.lock()
        if closed {
            opened -= 1
            available.signal()
            available.unlock()
            probe.database.close()
            return
        }
        idle.append(probe)
        available.signal()
        available.unlock()
    }

    /// Closes the idle probes now, and each one in use as it is checked in. A read-only connection still open when
    /// the ledger's writer closes keeps SQLite from removing the `-wal` and `-shm` files, which a stopped server
    /// should not leave behind. A generation asked for afterwards still works, on a probe opened for the call.
    public func close() {
        available.lock()
        let probes = idle
        idle = []
        opened -= probes.count
        closed = true
        available.broadcast()
        available.unlock()
        for probe in probes { probe.database.close() }
    }
}
