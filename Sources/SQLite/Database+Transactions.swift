/// Transactions. Writers use `BEGIN IMMEDIATE` so that the write lock is taken up front and a busy database fails
/// at `BEGIN` rather than half-way through; readers use `BEGIN DEFERRED` to read one consistent snapshot.
extension Database {
    public enum TransactionKind: String, Sendable {
        case deferred = "DEFERRED"
        case immediate = "IMMEDIATE"
    }

    /// Runs `body` inside a transaction; commits when it returns, rolls back when it throws.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try execute("BEGIN \(kind.rawValue)")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if isInTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` inside a savepoint of the current transaction; on a throw only its own changes are undone.
    public func savepoint<T>(_ name: String = "step", _ body: () throws -> T) throws -> T {
        try execute("SAVEPOINT \(name)")
        do {
            let result = try body()
            try execute("RELEASE \(name)")
            return result
        } catch {
            rollback(toSavepoint: name)
            throw error
        }
    }
}
