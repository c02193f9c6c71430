import CSQLite

/// Swift state kept beside one connection and derived from the database as that connection sees it, such as a
/// cache of projected states that saves re-reading and re-parsing rows on every append.
///
/// SQLite can undo a transaction; it cannot undo Swift objects. So a connection drops all its attachments whenever
/// what they were derived from may no longer hold: on every rollback (explicit, automatic after an I/O error, or
/// of a savepoint through `rollback(toSavepoint:)`) and when `dropAttachmentsIfChangedElsewhere()` sees a commit
/// made by another connection. An attachment is then rebuilt empty on its next use.
public protocol ConnectionAttachment: AnyObject {
    init()
}

/// The attachments of one connection, in a box SQLite's rollback hook can reach.
final class AttachmentBox {
    var attachments: [ObjectIdentifier: any ConnectionAttachment] = [:]
    /// `PRAGMA data_version` when last checked: it changes when another connection commits.
    var dataVersion: Int64?
}

extension Database {
    /// This connection's attachment of type `T`, created empty on first use or after it was dropped.
    public func attachment<T: ConnectionAttachment>(_ type: T.Type) -> T {
        if let existing = attachmentBox.attachments[ObjectIdentifier(type)] as? T { return existing }
        let created = T()
        attachmentBox.attachments[ObjectIdentifier(type)] = created
        return created
    }

    /// Forgets every attachment (their next use starts empty).
    public func dropAttachments() {
        attachmentBox.attachments.removeAll()
    }

    /// Undoes the changes since `SAVEPOINT name` and ends the savepoint. SQLite's rollback hook does not fire for a
    /// savepoint, hence this wrapper: the attachments may hold state from the undone changes.
    public func rollback(toSavepoint name: String) {
        try? rewind(toSavepoint: name)
        try? execute("RELEASE \(name)")
    }

    /// Undoes the changes since `SAVEPOINT name` and keeps the savepoint, to go on inside it.
    public func rewind(toSavepoint name: String) throws(SQLiteError) {
        dropAttachments()
        try execute("ROLLBACK TO \(name)")
    }

    /// Drops the attachments if another connection (or process) has committed since the last call: what they
    /// cached may have changed underneath. Call inside a transaction, after the lock that keeps others out is held.
    /// - Returns: whether another connection may have committed since the last call (true on the first call, which
    ///   has nothing to compare with), so a caller can skip re-reading its own state when nothing changed.
    @discardableResult
    public func dropAttachmentsIfChangedElsewhere() throws(SQLiteError) -> Bool {
        let version = try scalarInt("PRAGMA data_version")
        guard version != attachmentBox.dataVersion else { return false }
        if attachmentBox.dataVersion != nil { dropAttachments() }
        attachmentBox.dataVersion = version
        return true
    }

    /// Registers the rollback hook that empties `box` on any full rollback, including the automatic ones SQLite
    /// performs after some errors (`SQLITE_FULL`, `SQLITE_IOERR`, ...), which no caller sees coming.
    static func installRollbackHook(_ handle: OpaquePointer, _ box: AttachmentBox) {
        sqlite3_rollback_hook(handle, { context in
            guard let context else { return }
            Unmanaged<AttachmentBox>.fromOpaque(context).takeUnretainedValue().attachments.removeAll()
        }, Unmanaged.passUnretained(box).toOpaque())
    }
}
