import Ledger
import Planning
import SQLite

/// The read side of a planning ledger: every view of DESIGN §3, each at a `TimeSlice`, each answered inside one
/// read snapshot from the indexed projection tables (never by replaying the log).
///
/// Views return the JSON the API serves, so the CLI's `--json` and the HTTP routes print the same thing.
public struct PlanningReadModel: Sendable {
    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// Runs `body` with a projection store on a read snapshot.
    func read<T>(_ slice: TimeSlice, _ body: (ProjectionStore) throws -> T) throws -> T {
        try ledger.read { database in try body(ProjectionStore(database: database, slice: slice)) }
    }

    /// The first valid time after `time` at which something recorded in the plan takes effect (nil: nothing does):
    /// until then, every view "now" keeps its answer unless something is committed. One seek on the log's valid-time
    /// index, past any events of streams other hooks fold.
    public func nextChange(after time: Timestamp) throws -> Timestamp? {
        try ledger.read { database in
            try database.scalarInt(
                """
                SELECT effective_at FROM events INDEXED BY events_by_effective
                WHERE effective_at > ?1 AND \(ProjectionSchema.plannedStream) ORDER BY effective_at LIMIT 1
                """, [.integer(time.millisecondsSinceEpoch)])
        }.map { Timestamp(millisecondsSinceEpoch: $0) }
    }

    /// Checks the organisation a view is filtered by: a name that is not an organisation's stream is refused, and
    /// one the ledger has never recorded (at any time) is not found. Read as an organisation that owns nothing, a
    /// mistyped key gave an empty plan, which an auditor would take for "this organisation has no plan". One that
    /// is recorded but did not yet exist at the slice still gives an empty answer: that is the answer then.
    static func checkOrganisation(_ organisation: String?, store: ProjectionStore) throws {
        guard let organisation else { return }
        guard let stream = StreamName(organisation), stream.kind == "organisation" else {
            throw LedgerError(.invalidInput, code: "invalid_request", "\(organisation) is not an organisation's name",
                              details: ["field": "organisation"])
        }
        guard try store.visibleVersion(stream.description, at: .latest) != nil else { throw notFound(stream, .latest) }
    }

    /// Refuses a kind or status no entity could have, so that a typo (`status=actve`, `/v1/entities/goals`) is not
    /// answered with an empty list, which reads as "there are none".
    static func checkFilters(kind: String, status: String?) throws {
        guard let statuses = EntityStatus.byKind[kind] else {
            throw LedgerError(.notFound, code: "not_found",
                              "there is no kind \(kind); the kinds are \(EventCatalog.kinds.joined(separator: ", "))",
                              details: ["field": "kind"])
        }
        if let status, !statuses.contains(status) {
            throw LedgerError(.invalidInput, code: "invalid_request",
                              "a \(kind) has no status \(status); its statuses are \(statuses.joined(separator: ", "))",
                              details: ["field": "status"])
        }
    }

    static func notFound(_ stream: StreamName, _ slice: TimeSlice) -> LedgerError {
        var message = "\(stream) does not exist"
        if slice.asOf != nil || slice.validAt != nil { message += " at the requested time" }
        return LedgerError(.notFound, code: "not_found", message, details: ["stream": .string(stream.description)])
    }
}

/// Status values the views reason about, as the domain's `evolve` writes them.
enum Status {
    /// Something a plan rests on that no longer holds: the plan needs review.
    static let undermining: Set<String> = ["invalidated", "revoked", "withdrawn"]
    /// Life cycles that have ended.
    static let ended: Set<String> = ["closed", "retired", "revoked", "withdrawn", "superseded", "dissolved", "invalidated"]
}
