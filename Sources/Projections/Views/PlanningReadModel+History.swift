import Ledger
import Planning

/// The audit trail of one stream: each event with actor, both times, reason, and what it changed.
extension PlanningReadModel {
    /// `{stream, events: [{position, version, type, recordedAt, effectiveAt, actor, reason?, status, changes}]}`,
    /// plus the handovers that moved the stream's ownership (`type: HandoverRecorded`, change of `owner`).
    public func history(_ stream: StreamName, at slice: TimeSlice = .now) throws -> JSONValue {
        let events = try ledger.stream(stream, limit: Int.max).filter {
            $0.recordedAt.millisecondsSinceEpoch <= slice.recordedBound
                && $0.effectiveAt.millisecondsSinceEpoch <= slice.effectiveBound
        }
        guard !events.isEmpty else { throw Self.notFound(stream, slice) }
        return try read(slice) { store in
            var entries: [(position: Int, json: JSONValue)] = []
            // The visible events are a prefix of the stream (both times grow along it), so folding them in order
            // gives each version's state, as the projection's own reads would.
            var previous: EntityState?
            for event in events {
                let state = PlanningDomain.evolve(previous, event)
                entries.append((event.position, .object(omittingNil: [
                    ("position", JSONValue(event.position)), ("version", JSONValue(event.version)),
                    ("type", .string(event.type)), ("recordedAt", .string(event.recordedAt.rfc3339)),
                    ("effectiveAt", .string(event.effectiveAt.rfc3339)), ("actor", event.actor.json),
                    ("reason", event.reason.map(JSONValue.string)), ("status", .string(state.status)),
                    ("changes", .array(FieldDiff.changes(from: previous?.fields ?? .object([:]), to: state.fields))),
                ])))
                previous = state
            }
            // Ownership moves made by handovers (other streams), in valid-time order.
            var owner: String?
            for change in try store.ownershipHistory(of: stream, at: slice) {
                defer { owner = change.organisation }
                guard change.effectiveAt.millisecondsSinceEpoch <= slice.effectiveBound,
                    let handover = try ledger.events(after: change.position - 1, limit: 1).first,
                    handover.stream != stream
                else { continue }
                entries.append((handover.position, .object(omittingNil: [
                    ("position", JSONValue(handover.position)), ("stream", .string(handover.stream.description)),
                    ("type", .string(handover.type)), ("recordedAt", .string(handover.recordedAt.rfc3339)),
                    ("effectiveAt", .string(handover.effectiveAt.rfc3339)), ("actor", handover.actor.json),
                    ("reason", handover.reason.map(JSONValue.string)),
                    ("changes", [.object(omittingNil: [("field", "owner"), ("before", owner.map(JSONValue.string)),
                                                       ("after", .string(change.organisation))])]),
                ])))
            }
            entries.sort { $0.position < $1.position }
            return .object(omittingNil: [("stream", .string(stream.description)),
                                         ("events", .array(entries.map(\.json)))] + slice.json)
        }
    }
}

/// Field-level differences between two states: one entry per changed leaf, with a path such as `target.value` or
/// `readings[4]` (arrays are compared element by element, so an appended reading is one entry, not the whole list).
enum FieldDiff {
    static func changes(from before: JSONValue?, to after: JSONValue?, path: String = "") -> [JSONValue] {
        switch (before, after) {
        case (.object(let old)?, .object(let new)?):
            return Set(old.keys).union(new.keys).sorted().flatMap { key in
                changes(from: old[key], to: new[key], path: path.isEmpty ? key : path + "." + key)
            }
        case (.array(let old)?, .array(let new)?):
            return (0..<max(old.count, new.count)).flatMap { index in
                changes(from: index < old.count ? old[index] : nil, to: index < new.count ? new[index] : nil,
                        path: "\(path)[\(index)]")
            }
        default:
            guard before != after else { return [] }
            return [.object(omittingNil: [("field", .string(path)), ("before", before), ("after", after)])]
        }
    }
}
