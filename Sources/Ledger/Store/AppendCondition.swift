import SQLite

/// A limit on what one transaction may write, set by who sends it (a contributor may write only for its own
/// organisations), checked by the writer inside the append's SQLite transaction, under the write lock.
///
/// Checked there rather than by the sender beforehand because the answer depends on the ledger's state: a check made
/// on a read snapshot before submitting can be overtaken by a commit in between (a handover of the stream to another
/// organisation), and the transaction would then be stored against the state it was refused on.
public protocol AppendCondition: Sendable {
    /// Called just before the first event of each stream of the transaction is applied, on the writer's connection:
    /// the state it sees is the one that event is appended to (earlier transactions of the same group commit and
    /// earlier streams of the same transaction included; the event itself is already in `events`, not yet in the
    /// hook's projections). Throws a `LedgerError` (`.forbidden`, say) to refuse the whole transaction.
    func check(_ first: RecordedEvent, database: Database) throws

    /// Called for every event of the transaction, in order, before any is applied or `check`ed: for checks that need
    /// no state, so that an event no one could append is refused for what it is (a stream of the wrong kind, say)
    /// before the condition asks who may write it.
    func checkAlone(_ record: RecordedEvent) throws
}

extension AppendCondition {
    public func checkAlone(_ record: RecordedEvent) throws {}
}
