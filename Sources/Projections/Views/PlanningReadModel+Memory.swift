import Ledger
import Planning

/// Corporate memory of an organisation: what it owned, decided and assumed over its life; its handovers in and
/// out; and what was still open at each handover.
extension PlanningReadModel {
    public func memory(of organisation: StreamName, at slice: TimeSlice = .now) throws -> JSONValue {
        try read(slice) { store in
            guard let state = try store.entity(organisation, at: slice) else { throw Self.notFound(organisation, slice) }
            let org = organisation.description
            var owned: [JSONValue] = []
            var decided: [JSONValue] = []
            var assumed: [JSONValue] = []
            for stream in try store.everOwned(by: org, at: slice) {
                guard var summary = try Self.summary(stream, store: store, slice: slice)?.objectValue else { continue }
                let history = try store.ownershipHistory(of: stream, at: slice)
                if let start = history.firstIndex(where: { $0.organisation == org }) {
                    summary["ownedFrom"] = .string(history[start].effectiveAt.rfc3339)
                    if let end = history[(start + 1)...].first(where: { $0.organisation != org }) {
                        summary["ownedUntil"] = .string(end.effectiveAt.rfc3339)
                        summary["passedTo"] = .string(end.organisation)
                    }
                }
                owned.append(.object(summary))
                if stream.kind == "decision" { decided.append(.object(summary)) }
                if stream.kind == "assumption" { assumed.append(.object(summary)) }
            }
            var handoversOut: [JSONValue] = []
            var handoversIn: [JSONValue] = []
            for handover in try store.streams(ofKind: "handover", at: slice) {
                guard let record = try store.entity(handover, at: slice) else { continue }
                let from = record.fields["from"]?.stringValue
                let to = record.fields["to"]?.stringValue
                guard from == org || to == org else { continue }
                // What was still open at the handover's effective date, as we know it at `slice.asOf`.
                let atHandover = TimeSlice(asOf: slice.asOf, validAt: record.updatedAt)
                var items: [JSONValue] = []
                var open: [JSONValue] = []
                for itemName in (record.fields["items"]?.arrayValue ?? []).compactMap({ $0.stringValue.flatMap(StreamName.init) }) {
                    guard let item = try store.entity(itemName, at: atHandover) else { continue }
                    let summary = try Self.summary(itemName, store: store, slice: atHandover) ?? .null
                    items.append(summary)
                    if let why = Self.openReason(item) {
                        var entry = summary.objectValue ?? [:]
                        entry["open"] = .string(why)
                        open.append(.object(entry))
                    }
                }
                let entry: JSONValue = .object(omittingNil: [
                    ("stream", .string(handover.description)), ("from", from.map(JSONValue.string)),
                    ("to", to.map(JSONValue.string)), ("effectiveAt", .string(record.updatedAt.rfc3339)),
                    ("instrument", record.fields["instrument"]), ("notes", record.fields["notes"]),
                    ("items", .array(items)), ("openAtHandover", .array(open)),
                ])
                if from == org { handoversOut.append(entry) }
                if to == org { handoversIn.append(entry) }
            }
            return .object(omittingNil: [
                ("organisation", .string(org)), ("status", .string(state.status)), ("state", state.fields),
                ("owned", .array(owned)), ("decided", .array(decided)), ("assumed", .array(assumed)),
                ("handoversOut", .array(handoversOut)), ("handoversIn", .array(handoversIn)),
            ] + slice.json)
        }
    }

    /// Why an item counts as still open at a handover, or nil: untaken decisions, unvalidated assumptions,
    /// goals assessed at risk or off track.
    static func openReason(_ item: EntityState) -> String? {
        switch item.stream.kind {
        case "decision" where item.status == "proposed": return "decision not yet taken"
        case "assumption" where item.status == "active" || item.status == "challenged":
            return "assumption not validated (\(item.status))"
        case "goal" where item.status == "active":
            let rating = item.fields["assessment"]?["status"]?.stringValue
            if rating == "off_track" || rating == "at_risk" { return "goal \(rating!.replacingOccurrences(of: "_", with: " "))" }
            return nil
        default: return nil
        }
    }
}

extension PlanningReadModel {
    /// The streams of one organisation's handover archive and its corporate-memory summary: every stream it owned
    /// at any time (including those handed to or from it), the handovers naming it, and its own record.
    public func archiveSlice(of organisation: StreamName, asOf: Timestamp?) throws -> (streams: Set<String>, summary: JSONValue) {
        // Whatever its valid time: a handover recorded now that takes effect next month belongs in the record.
        let memory = try self.memory(of: organisation, at: .recorded(by: asOf))
        var streams: Set<String> = [organisation.description]
        for section in ["owned", "handoversIn", "handoversOut"] {
            for item in memory[section]?.arrayValue ?? [] {
                if let name = item["stream"]?.stringValue { streams.insert(name) }
            }
        }
        return (streams, memory)
    }
}
