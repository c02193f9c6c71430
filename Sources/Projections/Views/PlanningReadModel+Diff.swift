import Ledger
import Planning

/// What changed in the plan between two valid times (as currently recorded, or as recorded at `asOf`).
extension PlanningReadModel {
    /// `{from, to, organisation?, added, revised, closed}`, each entry an entity summary with the events
    /// (position, type, effectiveAt) that made the change.
    public func diff(from: Timestamp, to: Timestamp, organisation: String? = nil, asOf: Timestamp? = nil) throws -> JSONValue {
        guard from <= to else {
            throw LedgerError(.invalidInput, code: "invalid_range", "from must not be after to")
        }
        let end = TimeSlice(asOf: asOf, validAt: to)
        let start = TimeSlice(asOf: asOf, validAt: from)
        return try read(end) { store in
            let rows = try store.database.map(
                """
                SELECT stream, position, version FROM entity_versions
                WHERE effective_at > ?1 AND effective_at <= ?2 AND recorded_at <= ?3 ORDER BY position
                """,
                [.integer(from.millisecondsSinceEpoch), .integer(to.millisecondsSinceEpoch), .integer(end.recordedBound)]
            ) { (stream: StreamName($0.text(0))!, position: $0.int(1)) }
            var order: [StreamName] = []
            var positions: [StreamName: [Int]] = [:]
            for row in rows where !["organisation", "handover"].contains(row.stream.kind) {
                if positions[row.stream] == nil { order.append(row.stream) }
                positions[row.stream, default: []].append(row.position)
            }
            var added: [JSONValue] = []
            var revised: [JSONValue] = []
            var closed: [JSONValue] = []
            for stream in order {
                if let organisation, try store.owner(of: stream, at: end) != organisation,
                    try store.owner(of: stream, at: start) != organisation
                {
                    continue
                }
                guard let after = try store.entity(stream, at: end), var summary = try Self.summary(stream, store: store, slice: end)?.objectValue
                else { continue }
                let before = try store.entity(stream, at: start)
                var events: [JSONValue] = []
                for position in positions[stream]! {
                    if let event = try ledger.events(after: position - 1, limit: 1).first {
                        events.append(.object(omittingNil: [("position", JSONValue(position)), ("type", .string(event.type)),
                                                            ("effectiveAt", .string(event.effectiveAt.rfc3339)),
                                                            ("reason", event.reason.map(JSONValue.string))]))
                    }
                }
                summary["events"] = .array(events)
                if before == nil {
                    added.append(.object(summary))
                } else if Status.ended.contains(after.status) && !Status.ended.contains(before!.status) {
                    closed.append(.object(summary))
                } else {
                    summary["changes"] = .array(FieldDiff.changes(from: before!.fields, to: after.fields))
                    revised.append(.object(summary))
                }
            }
            return .object(omittingNil: [
                ("from", .string(from.rfc3339)), ("to", .string(to.rfc3339)),
                ("organisation", organisation.map(JSONValue.string)), ("asOf", asOf.map { .string($0.rfc3339) }),
                ("added", .array(added)), ("revised", .array(revised)), ("closed", .array(closed)),
            ])
        }
    }
}
