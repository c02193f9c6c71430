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
            if idle.count < maximumIdle { idle.append(database) }
            lock.unlock()
        }
        return try database.transaction(.deferred) { try body(database) }
    }
}
