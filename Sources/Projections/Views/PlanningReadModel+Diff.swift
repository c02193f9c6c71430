import Ledger
import Planning

/// What changed in the plan between two valid times (as currently recorded, or as recorded at `asOf`).
extension PlanningReadModel {
    /// `{from, to, organisation?, asOf?, added, revised, closed, transferred}`, each entry an entity summary with the
    /// events (position, type, effectiveAt, reason?) that made the change.
    ///
    /// `transferred` holds the streams handed over in the window: those a handover effective in it lists whose owner
    /// at `to` is not their owner at `from` (for a stream created in the window, the owner it was created with). Each
    /// entry adds `from` and `to` (the organisations) to the summary, and its events are the handovers that moved
    /// it (with their `stream`). Ownership is a fact of its own, not a change of the stream's state: a stream handed
    /// over and otherwise untouched is in `transferred` only.
    public func diff(from: Timestamp, to: Timestamp, organisation: String? = nil, asOf: Timestamp? = nil) throws -> JSONValue {
        guard from <= to else {
            throw LedgerError(.invalidInput, code: "invalid_range", "from must not be after to")
        }
        let end = TimeSlice(asOf: asOf, validAt: to)
        let start = TimeSlice(asOf: asOf, validAt: from)
        return try read(end) { store in
            try Self.checkOrganisation(organisation, store: store)
            // What the entries list of each event is read here with the window, not looked up again per event.
            let rows = try store.database.map(
                """
                SELECT stream, position, type, effective_at, reason FROM events INDEXED BY events_by_effective
                WHERE effective_at > ?1 AND effective_at <= ?2 AND recorded_at <= ?3 AND \(ProjectionSchema.plannedStream)
                ORDER BY position
                """,
                [.integer(from.millisecondsSinceEpoch), .integer(to.millisecondsSinceEpoch), .integer(end.recordedBound)]
            ) { row in
                (stream: StreamName(row.text(0))!, position: row.int(1), event: JSONValue.object(omittingNil: [
                    ("position", JSONValue(row.int(1))), ("type", .string(row.text(2))),
                    ("effectiveAt", .string(Timestamp(millisecondsSinceEpoch: row.int64(3)).rfc3339)),
                    ("reason", row.isNull(4) ? nil : .string(row.text(4))),
                ]))
            }
            var order: [StreamName] = []
            var eventsOf: [StreamName: [JSONValue]] = [:]
            var handovers: [Int] = []
            for row in rows {
                if row.stream.kind == "handover" { handovers.append(row.position) }
                guard !["organisation", "handover"].contains(row.stream.kind) else { continue }
                if eventsOf[row.stream] == nil { order.append(row.stream) }
                eventsOf[row.stream, default: []].append(row.event)
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
                guard let after = try store.entity(stream, at: end),
                    var summary = try Self.summary(of: after, store: store, slice: end).objectValue
                else { continue }
                let before = try store.entity(stream, at: start)
                summary["events"] = .array(eventsOf[stream]!)
                if before == nil {
                    added.append(.object(summary))
                } else if Status.ended.contains(after.status) && !Status.ended.contains(before!.status) {
                    closed.append(.object(summary))
                } else {
                    summary["changes"] = .array(FieldDiff.changes(from: before!.fields, to: after.fields))
                    revised.append(.object(summary))
                }
            }
            let transferred = try transfers(by: handovers, store: store, start: start, end: end,
                                            organisation: organisation)
            return .object(omittingNil: [
                ("from", .string(from.rfc3339)), ("to", .string(to.rfc3339)),
                ("organisation", organisation.map(JSONValue.string)), ("asOf", asOf.map { .string($0.rfc3339) }),
                ("added", .array(added)), ("revised", .array(revised)), ("closed", .array(closed)),
                ("transferred", .array(transferred)),
            ])
        }
    }

    /// The diff's `transferred` entries: the items of the handovers at `positions` (effective in the window, in
    /// position order) whose owner changed between `start` and `end`, in the order the handovers list them.
    /// Found from the window's handover events (on the valid-time index), not by scanning the ownership table.
    private func transfers(by positions: [Int], store: ProjectionStore, start: TimeSlice, end: TimeSlice,
                           organisation: String?) throws -> [JSONValue] {
        var order: [StreamName] = []
        var moves: [StreamName: [JSONValue]] = [:]
        for position in positions {
            guard let handover = try ledger.events(after: position - 1, limit: 1).first else { continue }
            let event: JSONValue = .object(omittingNil: [
                ("position", JSONValue(position)), ("stream", .string(handover.stream.description)),
                ("type", .string(handover.type)), ("effectiveAt", .string(handover.effectiveAt.rfc3339)),
                ("reason", handover.reason.map(JSONValue.string)),
            ])
            for change in PlanningDomain.ownershipChanges(of: handover) {
                if moves[change.stream] == nil { order.append(change.stream) }
                moves[change.stream, default: []].append(event)
            }
        }
        var transferred: [JSONValue] = []
        for stream in order {
            // A stream created in the window had no owner at its start: it passed from the one it was created with.
            guard let after = try store.owner(of: stream, at: end),
                let before = try store.owner(of: stream, at: start)
                    ?? store.ownershipHistory(of: stream, at: end).first?.organisation,
                before != after
            else { continue }
            if let organisation, organisation != before, organisation != after { continue }
            guard var summary = try Self.summary(stream, store: store, slice: end)?.objectValue else { continue }
            summary["from"] = .string(before)
            summary["to"] = .string(after)
            summary["events"] = .array(moves[stream]!)
            transferred.append(.object(summary))
        }
        return transferred
    }
}
