import Ledger

/// The domain rules of DESIGN §2 for one event, each failure with its own stable code:
/// `invalid_transition`, `already_taken`, `not_taken`, `unknown_reference`, `wrong_kind`, `cycle`,
/// `organisation_dissolved`, `not_owner`, `unknown_option`, `unknown_reading`, `reason_required`.
struct Rules<Reader: PlanningStateReader> {
    let event: RecordedEvent
    let type: EventType
    let reader: Reader

    private var data: JSONValue { event.data }
    private var at: Timestamp { event.effectiveAt }

    func check() throws {
        let current = try reader.entity(event.stream, validAt: nil)
        try checkLifeCycle(current)
        try checkReferences()
        switch event.type {
        case "GoalDefined", "AssumptionRecorded", "EvidenceRecorded", "DecisionProposed":
            try checkOwnerNotDissolved(data["owner"]?["organisation"] ?? data["forum"]?["organisation"])
        case "GoalRealigned": try checkNoCycle(from: data["parent"])
        case "MeasureTargetSet":
            if current?.fields["target"] != nil && (event.reason ?? "").isEmpty {
                throw rule("reason_required", "the measure already has a target; replacing it needs a reason", field: "reason")
            }
        case "MeasureReadingCorrected":
            // Corrections are of readings already taken: on or before the latest reading's date.
            let at = PlanningDomain.time(data["at"])
            guard let latest = PlanningDomain.time(current?.fields["latestReading"]?["at"]), let at, at <= latest else {
                throw rule("unknown_reading", "there is no reading on or before \(data["at"]?.stringValue ?? "") to correct",
                           field: "data.at")
            }
        case "DecisionTaken": try checkDecisionTaken(current)
        case "DecisionReviewed", "DecisionRevoked": try requireTaken(current)
        case "DecisionSuperseded":
            try requireTaken(current)
            guard let by = data["by"]?.stringValue.flatMap(StreamName.init), by != event.stream else {
                throw rule("invalid_transition", "a decision cannot supersede itself", field: "data.by")
            }
            guard try reader.entity(by, validAt: at)?.status == EntityStatus.taken else {
                throw rule("not_taken", "\(by) must be a taken decision to supersede this one", field: "data.by")
            }
        case "AssumptionValidated":
            guard [EntityStatus.active, EntityStatus.challenged].contains(current?.status ?? "") else {
                throw rule("invalid_transition", "only an active or challenged assumption can be validated")
            }
        case "HandoverRecorded": try checkHandover()
        case "GoalContributionAgreed": try checkOwnerNotDissolved(data["organisation"])
        default: break
        }
    }

    /// Defining events come first and only first; nothing follows an ended life cycle.
    private func checkLifeCycle(_ current: EntityState?) throws {
        guard let current else {
            guard type.role != .following else {
                throw rule("invalid_transition", "\(event.stream) does not exist yet; its first event must define it", field: "type")
            }
            return
        }
        if type.role == .defining {
            throw rule("invalid_transition", "\(event.stream) already exists; \(event.type) can only be its first event", field: "type")
        }
        if EntityStatus.ended.contains(current.status) {
            throw rule("invalid_transition", "\(event.stream) is \(current.status); its life cycle has ended", field: "type")
        }
    }

    /// Every referenced stream — every field the schema declares as a stream, owners and forums included —
    /// exists at the event's valid time (its kind was checked with the schema).
    private func checkReferences() throws {
        for (path, stream) in PayloadValidator.streamReferences(data, fields: type.fields) {
            guard try reader.entity(stream, validAt: at) != nil else {
                throw rule("unknown_reference", "\(stream) does not exist at \(at.rfc3339)", field: path,
                           details: ["reference": .string(stream.description)])
            }
        }
        if event.type == "GoalDefined" { try checkNoCycle(from: data["parent"]) }
    }

    private func checkNoCycle(from parent: JSONValue?) throws {
        var next = parent?.stringValue.flatMap(StreamName.init)
        var seen: Set<StreamName> = []
        while let goal = next {
            if goal == event.stream {
                throw rule("cycle", "making \(parent?.stringValue ?? "") the parent would put \(event.stream) under itself",
                           field: "data.parent")
            }
            guard seen.insert(goal).inserted else { break }
            next = try reader.entity(goal, validAt: nil)?.fields["parent"]?.stringValue.flatMap(StreamName.init)
        }
    }

    private func checkOwnerNotDissolved(_ organisation: JSONValue?) throws {
        guard let name = organisation?.stringValue.flatMap(StreamName.init) else { return }
        if try reader.entity(name, validAt: at)?.status == EntityStatus.dissolved {
            throw rule("organisation_dissolved", "\(name) is dissolved at \(at.rfc3339) and can own nothing new",
                       details: ["organisation": .string(name.description)])
        }
    }

    private func checkDecisionTaken(_ current: EntityState?) throws {
        if let current {
            guard current.status == EntityStatus.proposed else {
                throw rule("already_taken", "\(event.stream) was already taken (status \(current.status)); a decision is taken once")
            }
            let keys = Set((current.fields["options"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue })
            if let chosen = data["chosenOption"]?.stringValue, !keys.contains(chosen) {
                throw rule("unknown_option", "option \(chosen) was not among the options proposed", field: "data.chosenOption")
            }
            for (index, rejected) in (data["optionsRejected"]?.arrayValue ?? []).enumerated() {
                if let key = rejected["key"]?.stringValue, !keys.contains(key) {
                    throw rule("unknown_option", "option \(key) was not among the options proposed",
                               field: "data.optionsRejected[\(index)].key")
                }
            }
        } else {
            guard data["title"] != nil else {
                throw LedgerError(.invalidInput, code: "missing_field",
                                  "data.title is required when a decision is recorded without a proposal",
                                  details: ["field": "data.title"])
            }
            try checkOwnerNotDissolved(data["forum"]?["organisation"])
        }
    }

    private func requireTaken(_ current: EntityState?) throws {
        guard current?.status == EntityStatus.taken else {
            throw rule("not_taken", "\(event.stream) is \(current?.status ?? "absent"); only a taken decision can be \(event.type == "DecisionReviewed" ? "reviewed" : "superseded or revoked")")
        }
    }

    private func checkHandover() throws {
        guard let from = data["from"]?.stringValue, let to = data["to"]?.stringValue, from != to else {
            throw rule("invalid_transition", "a handover needs two different organisations", field: "data.to")
        }
        try checkOwnerNotDissolved(data["to"])
        for (index, item) in PlanningDomain.streams(data["items"]).enumerated() {
            let owner = try reader.owner(of: item, at: at)
            guard owner == from else {
                throw rule("not_owner", "\(item) is owned by \(owner ?? "nobody") at \(at.rfc3339), not \(from)",
                           field: "data.items[\(index)]")
            }
        }
    }

    private func rule(_ code: String, _ message: String, field: String? = nil, details: JSONObject = [:])
        -> LedgerError
    {
        var details = details
        if let field { details["field"] = .string(field) }
        return LedgerError(.domainRule, code: code, message, details: details)
    }
}
