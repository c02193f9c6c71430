import Ledger
import Planning

/// Who owns what a transaction is about to write, for access control: a contributor may append only to streams
/// of the organisations named on its token.
extension PlanningReadModel {
    /// For each stream of `transaction`: its current owner; for a stream the transaction creates, the owner its
    /// defining event names (a handover's `from`); for an organisation's own stream, that organisation. Nil when
    /// the stream has no owner.
    public func owners(affectedBy transaction: AppendTransaction) throws -> [(stream: StreamName, organisation: String?)] {
        try read(.now) { store in
            try transaction.streams.map { append in
                if append.stream.kind == "organisation" { return (append.stream, append.stream.description) }
                if try store.visibleVersion(append.stream.description, at: .now) != nil {
                    return (append.stream, try store.owner(of: append.stream, at: .now))
                }
                guard let first = append.events.first else { return (append.stream, nil) }
                if first.type == "HandoverRecorded" { return (append.stream, first.data["from"]?.stringValue) }
                let when = first.effectiveAt ?? .now()
                let probe = RecordedEvent(
                    position: 0, id: "", stream: append.stream, version: 1, type: first.type, schemaVersion: 1,
                    recordedAt: when, effectiveAt: when, actor: transaction.actor, reason: nil, correlationId: nil,
                    causationId: nil, data: first.data, hash: MerkleTree.emptyRoot)
                return (append.stream, try PlanningDomain.initialOwner(of: probe, reader: store))
            }
        }
    }
}
