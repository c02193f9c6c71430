import Ledger
import Planning
import SQLite

/// What a contributor may write: only streams owned by the organisations named on its token. Checked by the
/// writer inside the append's transaction (see `AppendCondition`), so a handover committed while the append waited
/// for its turn is taken into account, and a stream defined earlier in the same transaction (a goal, then its
/// measure) already has its owner.
public struct OrganisationScope: AppendCondition {
    public let organisations: Set<String>

    public init(organisations: Set<String>) { self.organisations = organisations }

    /// The event's own checks (`decide` makes them again when it is applied): an event no token could append is
    /// refused as it is for an admin, not as a matter of this token's scope.
    public func checkAlone(_ record: RecordedEvent) throws { try PlanningDomain.checkOwnShape(record) }

    public func check(_ first: RecordedEvent, database: Database) throws {
        // The log already holds `first` and the rest of its transaction: read what the projections were given so far.
        let owner = try Self.owner(writing: first, store: ProjectionStore(database: database, folding: FoldPoint(first)))
        guard let owner, organisations.contains(owner) else {
            throw LedgerError(
                .forbidden, code: "forbidden",
                "\(first.stream) belongs to \(owner ?? "no organisation"); this token may write for \(organisations.sorted().joined(separator: ", "))",
                details: ["stream": .string(first.stream.description)])
        }
    }

    /// The organisation the first event of a stream in a transaction is written for: the stream's owner in force
    /// now, as the views show it (a handover recorded to take effect next year leaves the stream with its owner
    /// until then), or, for a stream that only comes into force later, its owner then; for a stream the
    /// transaction creates, the owner its defining event names (a handover's `from`); for an organisation's own
    /// stream, that organisation. Nil when the stream has no owner.
    static func owner(writing first: RecordedEvent, store: ProjectionStore) throws -> String? {
        if first.stream.kind == "organisation" { return first.stream.description }
        if try store.visibleVersion(first.stream.description, at: .latest) != nil {
            return try store.owner(of: first.stream, at: .now) ?? store.owner(of: first.stream, at: .latest)
        }
        if first.type == "HandoverRecorded" { return first.data["from"]?.stringValue }
        return try PlanningDomain.initialOwner(of: first, reader: store)
    }
}
