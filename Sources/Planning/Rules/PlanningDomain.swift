import Ledger

/// The planning domain as pure functions over state (decide / evolve), with no I/O: `decide` checks an event
/// against the state before it and throws a `LedgerError` with a stable code when it breaks a rule; `evolve`
/// folds it into its stream's state. The ledger runs both inside every append (through the projections), so
/// nothing that breaks a rule is ever stored.
public enum PlanningDomain {
    public static func schemaVersion(of type: String) -> Int? { EventCatalog.type(named: type)?.schemaVersion }

    public static func streamKind(of type: String) -> String? { EventCatalog.type(named: type)?.kind }

    /// Checks `event` against the state before it. Schema first (400), then the domain rules (422).
    public static func decide(_ event: RecordedEvent, reader: some PlanningStateReader) throws(LedgerError) {
        let type = try checkOwnShape(event)
        do {
            try Rules(event: event, type: type, reader: reader).check()
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.storage, code: "storage_error", "could not read the state to check the event: \(error)")
        }
    }

    /// The checks of `decide` that need nothing but the event: its type, its stream's kind, its schema version,
    /// its payload and its reason. Anything that judges the event by who may write it (a contributor's scope) runs
    /// these first, so that an event no one could append is refused for what it is, not as a permission problem.
    @discardableResult
    public static func checkOwnShape(_ event: RecordedEvent) throws(LedgerError) -> EventType {
        guard let type = EventCatalog.type(named: event.type) else {
            throw LedgerError(.invalidInput, code: "unknown_type",
                              "unknown event type \(event.type); see Schemas/events/ for the planning event types",
                              details: ["field": "type"])
        }
        guard type.kind == event.stream.kind else {
            throw LedgerError(.domainRule, code: "wrong_kind",
                              "\(event.type) belongs on a \(type.kind) stream, not \(event.stream)", details: ["field": "stream"])
        }
        guard event.schemaVersion == type.schemaVersion else {
            throw LedgerError(.invalidInput, code: "unsupported_schema_version",
                              "\(event.type) has schema version \(type.schemaVersion), not \(event.schemaVersion)",
                              details: ["field": "schemaVersion"])
        }
        try PayloadValidator.validate(event.data, fields: type.fields, atLeastOne: type.atLeastOne)
        if type.requiresReason && (event.reason ?? "").isEmpty {
            throw LedgerError(.domainRule, code: "reason_required", "\(event.type) needs a reason in its envelope",
                              details: ["field": "reason"])
        }
        return type
    }

    /// The organisation a stream's first event makes its owner, if any.
    public static func initialOwner(of event: RecordedEvent, reader: some PlanningStateReader) throws -> String? {
        let data = event.data
        switch event.type {
        case "GoalDefined", "AssumptionRecorded": return data["owner"]?["organisation"]?.stringValue
        case "DecisionProposed", "DecisionTaken": return data["forum"]?["organisation"]?.stringValue
        case "EvidenceRecorded": return data["owner"]?["organisation"]?.stringValue
        case "MeasureDefined":
            guard let goal = data["goal"]?.stringValue.flatMap(StreamName.init) else { return nil }
            return try reader.owner(of: goal, at: event.effectiveAt)
        default: return nil
        }
    }

    /// Ownership moved by the event to other streams: a handover moves every item to `to`.
    public static func ownershipChanges(of event: RecordedEvent) -> [(stream: StreamName, organisation: String)] {
        guard event.type == "HandoverRecorded", let to = event.data["to"]?.stringValue else { return [] }
        return streams(event.data["items"]).map { ($0, to) }
    }

    /// Every link the event makes (see `Reference`). Built straight into the result: most events (readings) make
    /// none, and a rebuild asks for every event's.
    public static func references(of event: RecordedEvent) -> [Reference] {
        let data = event.data
        var references: [Reference] = []
        func link(_ value: JSONValue?, _ relation: String) {
            guard let value else { return }
            for target in streams(value) { references.append(Reference(from: event.stream, to: target, relation: relation)) }
        }
        switch event.type {
        case "MeasureReadingRecorded", "AssumptionChallenged", "AssumptionValidated", "AssumptionInvalidated":
            link(data["evidence"], "evidence")
        case "OrganisationRegistered": link(data["parent"], "parent")
        case "OrganisationDissolved": link(data["successor"], "successor")
        case "GoalDefined", "GoalRealigned": link(data["parent"], "parent")
        case "GoalContributionAgreed": link(data["organisation"], "contributor")
        case "GoalClosed": link(data["mergedInto"], "mergedInto")
        case "MeasureDefined": link(data["goal"], "measures")
        case "AssumptionRecorded", "AssumptionRevised": link(data["supports"], "supports")
        case "DecisionTaken":
            link(data["reliesOn"]?["assumptions"], "reliesOn")
            link(data["reliesOn"]?["evidence"], "reliesOn")
            link(data["affects"], "affects")
        case "DecisionSuperseded": link(data["by"], "supersededBy")
        case "EvidenceLinked": link(data["to"], "linkedTo")
        case "HandoverRecorded":
            link(data["items"], "handsOver")
            link(data["from"], "from")
            link(data["to"], "to")
        default: break
        }
        return references
    }

    /// The stream names in a string or an array of strings.
    static func streams(_ value: JSONValue?) -> [StreamName] {
        switch value {
        case .string(let text)?: return StreamName(text).map { [$0] } ?? []
        case .array(let items)?: return items.compactMap { $0.stringValue.flatMap(StreamName.init) }
        default: return []
        }
    }
}
