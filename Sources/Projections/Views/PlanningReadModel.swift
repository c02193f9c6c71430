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

    /// The first valid time after `time` at which something recorded takes effect (nil: nothing does): until
    /// then, every view "now" keeps its answer unless something is committed. One seek on the valid-time index.
    public func nextChange(after time: Timestamp) throws -> Timestamp? {
        try ledger.read { database in
            try database.scalarInt("SELECT MIN(effective_at) FROM entity_versions WHERE effective_at > ?1",
                                   [.integer(time.millisecondsSinceEpoch)])
        }.map { Timestamp(millisecondsSinceEpoch: $0) }
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
