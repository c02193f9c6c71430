import Foundation
import SQLite

/// Read-only connections handed out one caller at a time. WAL lets them read while the writer commits; each read
/// runs in its own deferred transaction, so it sees one consistent snapshot.
final class ReaderPool: @unchecked Sendable {
    // @unchecked: a connection is only used by the thread that checked it out; `idle` is guarded by `lock`.
    private let path: String
    private let lock = NSLock()
    private var idle: [Database] = []
    private let maximumIdle: Int
    /// Set by `close()`: connections are no longer kept for reuse.
    private var closed = false

    init(path: String, maximumIdle: Int = 16) {
        self.path = path
        self.maximumIdle = maximumIdle
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        let database = try reused ?? Database(path: path, options: .reading(path))
        defer {
            lock.lock()
            let kept = !closed && idle.count < maximumIdle
            if kept { idle.append(database) }
            lock.unlock()
            if !kept { database.close() }
        }
        return try database.transaction(.deferred) { try body(database) }
    }

    /// Closes the idle connections now, and each one still reading as its read ends. A read after this still works,
    /// on a connection of its own that is closed when it ends.
    func close() {
        lock.lock()
        let connections = idle
        idle = []
        closed = true
        lock.unlock()
        for database in connections { database.close() }
    }
}
