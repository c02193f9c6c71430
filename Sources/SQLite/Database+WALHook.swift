import CSQLite

/// The callback `setWALCommitHook` installs, in a box SQLite's C hook can reach.
final class WALHookBox {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

extension Database {
    /// Calls `body` after each commit on this connection with the number of frames then in the write-ahead log.
    /// Installing it turns off SQLite's automatic checkpoints, which otherwise run on the committing thread, inside
    /// the commit that crosses the threshold: the owner takes over checkpointing (see `WALCheckpointer`).
    public func setWALCommitHook(_ body: @escaping (Int) -> Void) {
        let box = WALHookBox(body)
        walHookBox = box
        sqlite3_wal_hook(handle, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALHookBox>.fromOpaque(context).takeUnretainedValue().body(Int(frames))
            return SQLITE_OK
        }, Unmanaged.passUnretained(box).toOpaque())
    }
}

extension Database {
    /// How much a checkpoint does (https://sqlite.org/c3ref/wal_checkpoint_v2.html).
    public enum CheckpointMode: Sendable {
        /// Copies into the database file every WAL frame no open reader still needs, without waiting for any lock.
        /// Safe to call from a WAL commit hook (SQLite's own automatic checkpoint runs there).
        case passive
        /// Waits (up to the busy timeout) until no reader needs the WAL, copies every frame into the database file,
        /// syncs it and cuts the WAL to zero bytes, so the database file alone holds every commit; fails with
        /// `SQLITE_BUSY` if a reader still needs the WAL when the timeout runs out.
        case truncate

        fileprivate var code: Int32 { self == .passive ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_TRUNCATE }
    }

    public func checkpoint(_ mode: CheckpointMode) throws(SQLiteError) {
        let code = sqlite3_wal_checkpoint_v2(handle, nil, mode.code, nil, nil)
        guard code == SQLITE_OK else { throw error(code: code, sql: "wal_checkpoint(\(mode))") }
    }
}
