import Ledger
import Testing

@testable import Planning

/// One accepted and one rejected case per domain rule, each rejection with its stable code.
struct DomainRulesTests {
    let actor = Actor(id: "officer", role: "governance-officer", organisation: "organisation/QWO")

    /// A small world: two organisations (one dissolved), a goal tree, a measure, an assumption, evidence and a
    /// proposed decision, at 2022-01-01.
    func world() throws -> InMemoryPlanningState {
        var state = InMemoryPlanningState()
        try state.append(tx([
            ("organisation/QWO", [e("OrganisationRegistered", ["name": "ICB", "kind": "icb"])]),
            ("organisation/OLD", [e("OrganisationRegistered", ["name": "CCG", "kind": "ccg"])]),
            ("goal/G-1", [e("GoalDefined", ["title": "Ambition", "level": "ambition", "owner": owner("organisation/QWO")])]),
            ("goal/G-2", [e("GoalDefined", ["title": "Objective", "level": "objective", "parent": "goal/G-1",
                                            "owner": owner("organisation/QWO")])]),
            ("measure/M-1", [e("MeasureDefined", ["goal": "goal/G-2", "title": "Waits", "unit": "patients",
                                                  "direction": "lower_is_better", "baseline": ["value": 10, "at": "2022-01-01"]])]),
            ("evidence/E-1", [e("EvidenceRecorded", ["title": "Census", "kind": "dataset", "source": "ref",
                                                     "classification": "official", "owner": ["organisation": "organisation/QWO"]])]),
            ("assumption/A-1", [e("AssumptionRecorded", ["statement": "s", "basis": "b", "owner": owner("organisation/QWO"),
                                                         "confidence": "low", "impact": "high", "supports": ["goal/G-2"]])]),
            ("decision/D-1", [e("DecisionProposed", ["title": "t", "forum": ["organisation": "organisation/QWO", "name": "Board"],
                                                     "question": "q", "options": [["key": "A", "summary": "a"], ["key": "B", "summary": "b"]]])]),
        ]), recordedAt: Timestamp(parsing: "2022-01-01")!)
        try state.append(tx([("organisation/OLD", [e("OrganisationDissolved", at: "2022-01-02", reason: "abolished", ["successor": "organisation/QWO"])])]),
                         recordedAt: Timestamp(parsing: "2022-01-02")!)
        return state
    }

    func owner(_ organisation: String) -> JSONValue { ["organisation": .string(organisation), "role": "Director"] }

    func e(_ type: String, at: String = "2022-01-01", reason: String? = nil, _ data: JSONValue) -> ProposedEvent {
        ProposedEvent(type: type, effectiveAt: Timestamp(parsing: at), reason: reason, data: data)
    }

    func tx(_ streams: [(String, [ProposedEvent])]) -> AppendTransaction {
        AppendTransaction(streams: streams.map { StreamAppend(stream: StreamName($0.0)!, events: $0.1) }, actor: actor)
    }

    /// Appends to a copy of the world; returns the error code, or nil when accepted.
    func outcome(_ stream: String, _ events: ProposedEvent..., in base: InMemoryPlanningState? = nil) throws -> String? {
        var state = try base ?? world()
        do {
            try state.append(tx([(stream, events)]), recordedAt: Timestamp(parsing: "2022-02-01")!)
            return nil
        } catch let error as LedgerError {
            return error.code
        }
    }

    @Test func demoStoryFoldsCleanly() throws {
        var state = InMemoryPlanningState()
        for step in DemoStory.steps() { try state.append(step.transaction, recordedAt: step.recordedAt) }
        #expect(state.events.count >= 40)
        let handedOver = DemoStory.ccgItems.compactMap(StreamName.init)
        for item in handedOver {
            #expect(try state.owner(of: item, at: Timestamp(parsing: "2022-06-30")!) == DemoStory.ccg)
            #expect(try state.owner(of: item, at: Timestamp(parsing: "2022-07-01")!) == DemoStory.icb)
        }
        #expect(try state.entity(StreamName(DemoStory.ccg)!, validAt: nil)?.status == "dissolved")
        #expect(try state.entity(StreamName("assumption/A-CMHN-RATIO")!, validAt: nil)?.status == "invalidated")
        #expect(try state.entity(StreamName("decision/GB-2021-022")!, validAt: nil)?.status == "superseded")
    }

    @Test func unknownTypesFieldsAndEnumsAreRejectedWithTheFieldPath() throws {
        #expect(try outcome("goal/G-9", e("GoalInvented", ["title": "x"])) == "unknown_type")
        #expect(try outcome("goal/G-9", e("GoalDefined", ["title": "x", "level": "ambition", "owner": owner("organisation/QWO"), "colour": "red"])) == "unknown_field")
        #expect(try outcome("goal/G-9", e("GoalDefined", ["title": "x", "owner": owner("organisation/QWO")])) == "missing_field")
        #expect(try outcome("goal/G-9", e("GoalDefined", ["title": "x", "level": "vision", "owner": owner("organisation/QWO")])) == "invalid_enum")
        #expect(try outcome("goal/G-9", e("GoalDefined", ["title": 5, "level": "ambition", "owner": owner("organisation/QWO")])) == "wrong_type")
        var state = try world()
        do {
            try state.append(tx([("decision/D-9", [e("DecisionProposed", ["title": "t", "forum": ["organisation": "organisation/QWO", "name": "B"],
                                                                          "question": "q", "options": [["key": "A"]]])])]),
                             recordedAt: Timestamp(parsing: "2022-02-01")!)
            Issue.record("accepted an option without a summary")
        } catch let error as LedgerError {
            #expect(error.code == "missing_field" && error.details["field"] == "data.options[0].summary")
        }
        // Paths name the first unknown member in name order, and nested members and array items by position.
        let cases: [(JSONValue, String, String)] = [
            (["title": "x", "level": "ambition", "owner": owner("organisation/QWO"), "zeta": 1, "colour": "red"], "unknown_field", "data.colour"),
            (["title": "x", "level": "ambition", "owner": ["organisation": "organisation/QWO", "role": "r", "shoe": 1]], "unknown_field", "data.owner.shoe"),
            (["title": "x", "level": "ambition", "owner": ["organisation": 7, "role": "r"]], "wrong_type", "data.owner.organisation"),
        ]
        for (data, code, field) in cases {
            do {
                var fresh = try world()
                try fresh.append(tx([("goal/G-9", [e("GoalDefined", data)])]), recordedAt: Timestamp(parsing: "2022-02-01")!)
                Issue.record("accepted \(data)")
            } catch let error as LedgerError {
                #expect(error.code == code && error.details["field"] == .string(field), "\(error)")
            }
        }
        do {
            try state.append(tx([("decision/D-8", [e("DecisionProposed", ["title": "t", "forum": ["organisation": "organisation/QWO", "name": "B"],
                                                                          "question": "q", "options": [["key": "A", "summary": "s"], ["key": 2, "summary": "s"]]])])]),
                             recordedAt: Timestamp(parsing: "2022-02-01")!)
            Issue.record("accepted a numeric option key")
        } catch let error as LedgerError {
            #expect(error.code == "wrong_type" && error.details["field"] == "data.options[1].key" && error.message.hasPrefix("data.options[1].key "))
        }
    }

    @Test func typeMustBelongToTheStreamKind() throws {
        #expect(try outcome("decision/X", e("GoalDefined", ["title": "x", "level": "ambition", "owner": owner("organisation/QWO")])) == "wrong_kind")
        #expect(try outcome("goal/X", e("GoalDefined", ["title": "x", "level": "ambition", "owner": owner("organisation/QWO")])) == nil)
    }

    @Test func referencesMustExistAtTheEffectiveTimeAndBeOfTheRightKind() throws {
        let goal: (String, String) -> ProposedEvent = { parent, at in
            self.e("GoalDefined", at: at, ["title": "x", "level": "objective", "parent": .string(parent), "owner": self.owner("organisation/QWO")])
        }
        #expect(try outcome("goal/G-9", goal("goal/NOPE", "2022-01-05")) == "unknown_reference")
        #expect(try outcome("goal/G-9", goal("goal/G-1", "2021-12-31")) == "unknown_reference")  // before G-1 existed
        #expect(try outcome("goal/G-9", goal("measure/M-1", "2022-01-05")) == "wrong_kind")
        #expect(try outcome("goal/G-9", goal("goal/G-1", "2022-01-05")) == nil)
        // Owners and forums are references too.
        #expect(try outcome("goal/G-9", e("GoalDefined", at: "2022-01-05", ["title": "x", "level": "ambition", "owner": owner("organisation/NOPE")])) == "unknown_reference")
        #expect(try outcome("decision/D-9", e("DecisionProposed", at: "2022-01-05", ["title": "t", "forum": ["organisation": "organisation/NOPE", "name": "B"],
                                                                                    "question": "q", "options": [["key": "A", "summary": "a"]]])) == "unknown_reference")
    }

    @Test func goalParentsFormNoCycle() throws {
        #expect(try outcome("goal/G-1", e("GoalRealigned", at: "2022-01-05", reason: "restructure", ["parent": "goal/G-2"])) == "cycle")
        #expect(try outcome("goal/G-1", e("GoalRealigned", at: "2022-01-05", reason: "restructure", ["parent": "goal/G-1"])) == "cycle")
        var state = try world()
        try state.append(tx([("goal/G-3", [e("GoalDefined", ["title": "x", "level": "ambition", "owner": owner("organisation/QWO")])])]),
                         recordedAt: Timestamp(parsing: "2022-01-03")!)
        #expect(try outcome("goal/G-2", e("GoalRealigned", at: "2022-01-05", reason: "restructure", ["parent": "goal/G-3"]), in: state) == nil)
    }

    @Test func lifeCyclesOnlyMoveForward() throws {
        var state = try world()
        try state.append(tx([("goal/G-2", [e("GoalClosed", at: "2022-01-10", ["outcome": "achieved", "narrative": "done"])])]),
                         recordedAt: Timestamp(parsing: "2022-01-10")!)
        #expect(try outcome("goal/G-2", e("GoalRevised", at: "2022-01-11", reason: "typo", ["title": "y"]), in: state) == "invalid_transition")
        #expect(try outcome("goal/G-1", e("GoalRevised", at: "2022-01-11", reason: "typo", ["title": "y"]), in: state) == nil)
        #expect(try outcome("goal/G-1", e("GoalDefined", ["title": "x", "level": "ambition", "owner": owner("organisation/QWO")])) == "invalid_transition")
        #expect(try outcome("goal/G-NEW", e("GoalRevised", reason: "r", ["title": "y"])) == "invalid_transition")
        #expect(try outcome("measure/M-1", e("MeasureRetired", at: "2022-01-11", reason: "gone", [:]),
                            e("MeasureReadingRecorded", at: "2022-01-12", ["value": 1, "at": "2022-01-12"])) == "invalid_transition")
    }

    @Test func aDecisionIsTakenOnceAndOnlyTakenDecisionsAreSupersededOrRevoked() throws {
        let taken: ProposedEvent = e("DecisionTaken", at: "2022-01-05", [
            "forum": ["organisation": "organisation/QWO", "name": "Board"], "decidedBy": ["Chair"], "chosenOption": "A",
            "summary": "s", "rationale": "r", "optionsRejected": [["key": "B", "why": "w"]],
            "reliesOn": ["assumptions": ["assumption/A-1"], "evidence": ["evidence/E-1"]], "affects": ["goal/G-2"],
            "conflictsDeclared": []])
        #expect(try outcome("decision/D-1", e("DecisionRevoked", at: "2022-01-05", reason: "r", [:])) == "not_taken")
        #expect(try outcome("decision/D-1", taken) == nil)
        #expect(try outcome("decision/D-1", taken, taken) == "already_taken")
        var wrongOption = taken
        wrongOption.data = .object(taken.data.objectValue!.merging(["chosenOption": "Z"]) { $1 })
        #expect(try outcome("decision/D-1", wrongOption) == "unknown_option")

        var state = try world()
        try state.append(tx([("decision/D-1", [taken])]), recordedAt: Timestamp(parsing: "2022-01-05")!)
        #expect(try outcome("decision/D-1", e("DecisionSuperseded", at: "2022-01-06", reason: "r", ["by": "decision/D-1"]), in: state) == "invalid_transition")
        try state.append(tx([("decision/D-2", [e("DecisionProposed", at: "2022-01-06", ["title": "t", "forum": ["organisation": "organisation/QWO", "name": "Board"], "question": "q", "options": [["key": "A", "summary": "a"]]])])]),
                         recordedAt: Timestamp(parsing: "2022-01-06")!)
        #expect(try outcome("decision/D-1", e("DecisionSuperseded", at: "2022-01-07", reason: "r", ["by": "decision/D-2"]), in: state) == "not_taken")
        let recordedLate: ProposedEvent = e("DecisionTaken", at: "2022-01-07", ["title": "later", "forum": ["organisation": "organisation/QWO", "name": "Board"],
            "decidedBy": ["Chair"], "summary": "s", "rationale": "r", "optionsRejected": [], "reliesOn": ["assumptions": [], "evidence": []],
            "affects": [], "conflictsDeclared": []])
        try state.append(tx([("decision/D-3", [recordedLate])]), recordedAt: Timestamp(parsing: "2022-01-07")!)
        #expect(try outcome("decision/D-1", e("DecisionSuperseded", at: "2022-01-08", reason: "r", ["by": "decision/D-3"]), in: state) == nil)
        #expect(try outcome("decision/D-1", e("DecisionRevoked", at: "2022-01-08", reason: "r", [:]), in: state) == nil)
        var untitled = recordedLate.data.objectValue!
        untitled["title"] = nil
        #expect(try outcome("decision/D-4", e("DecisionTaken", at: "2022-01-07", .object(untitled)), in: state) == "missing_field")
    }

    @Test func aDissolvedOrganisationOwnsNothingNew() throws {
        #expect(try outcome("goal/G-9", e("GoalDefined", at: "2022-01-05", ["title": "x", "level": "ambition", "owner": owner("organisation/OLD")])) == "organisation_dissolved")
        #expect(try outcome("goal/G-9", e("GoalDefined", at: "2022-01-01", ["title": "x", "level": "ambition", "owner": owner("organisation/OLD")])) == nil)
        #expect(try outcome("organisation/OLD", e("OrganisationRenamed", at: "2022-01-05", reason: "r", ["name": "x"])) == "invalid_transition")
    }

    @Test func handoverMovesOwnershipOfItemsOwnedByFrom() throws {
        let handover: (String, String, [String]) -> ProposedEvent = { from, to, items in
            self.e("HandoverRecorded", at: "2022-01-05", ["from": .string(from), "to": .string(to), "instrument": "scheme", "items": JSONValue(items)])
        }
        var state = try world()
        try state.append(tx([("organisation/NEW", [e("OrganisationRegistered", ["name": "New", "kind": "trust"])])]),
                         recordedAt: Timestamp(parsing: "2022-01-03")!)
        #expect(try outcome("handover/H-1", handover("organisation/NEW", "organisation/QWO", ["goal/G-1"]), in: state) == "not_owner")
        #expect(try outcome("handover/H-1", handover("organisation/QWO", "organisation/OLD", ["goal/G-1"]), in: state) == "organisation_dissolved")
        #expect(try outcome("handover/H-1", handover("organisation/QWO", "organisation/QWO", ["goal/G-1"]), in: state) == "invalid_transition")
        #expect(try outcome("handover/H-1", handover("organisation/QWO", "organisation/NEW", ["goal/G-1", "measure/M-1"]), in: state) == nil)
        try state.append(tx([("handover/H-1", [handover("organisation/QWO", "organisation/NEW", ["goal/G-1", "measure/M-1"])])]),
                         recordedAt: Timestamp(parsing: "2022-01-05")!)
        #expect(try state.owner(of: StreamName("goal/G-1")!, at: Timestamp(parsing: "2022-01-04")!) == "organisation/QWO")
        #expect(try state.owner(of: StreamName("goal/G-1")!, at: Timestamp(parsing: "2022-01-05")!) == "organisation/NEW")
        #expect(try state.owner(of: StreamName("goal/G-2")!, at: Timestamp(parsing: "2022-01-05")!) == "organisation/QWO")
    }

    @Test func revisionsCorrectionsSupersessionsRevocationsAndInvalidationsNeedAReason() throws {
        #expect(try outcome("goal/G-1", e("GoalRevised", at: "2022-01-05", ["title": "y"])) == "reason_required")
        #expect(try outcome("goal/G-1", e("GoalRevised", at: "2022-01-05", reason: "clearer", ["title": "y"])) == nil)
        #expect(try outcome("assumption/A-1", e("AssumptionInvalidated", at: "2022-01-05", ["narrative": "n"])) == "reason_required")
        #expect(try outcome("measure/M-1", e("MeasureReadingRecorded", at: "2022-01-05", ["value": 3, "at": "2022-01-05"]),
                            e("MeasureReadingCorrected", at: "2022-01-06", ["value": 4, "at": "2022-01-05"])) == "reason_required")
        #expect(try outcome("measure/M-1", e("MeasureReadingRecorded", at: "2022-01-05", ["value": 3, "at": "2022-01-05"]),
                            e("MeasureReadingCorrected", at: "2022-01-06", reason: "validated", ["value": 4, "at": "2022-01-05"])) == nil)
        #expect(try outcome("measure/M-1", e("MeasureReadingCorrected", at: "2022-01-06", reason: "r", ["value": 4, "at": "2022-01-04"])) == "unknown_reading")
        #expect(try outcome("measure/M-1", e("MeasureReadingRecorded", at: "2022-01-05", ["value": 3, "at": "2022-01-05"]),
                            e("MeasureReadingCorrected", at: "2022-01-06", reason: "r", ["value": 4, "at": "2022-01-09"])) == "unknown_reading")
        #expect(try outcome("measure/M-1", e("MeasureTargetSet", at: "2022-01-05", ["value": 0, "due": "2023-01-01"]),
                            e("MeasureTargetSet", at: "2022-01-06", ["value": 1, "due": "2023-01-01"])) == "reason_required")
    }

    @Test func evolveRecordsStatusesAndFields() throws {
        var state = try world()
        try state.append(tx([
            ("assumption/A-1", [e("AssumptionChallenged", at: "2022-01-05", ["grounds": "g"]),
                                e("AssumptionValidated", at: "2022-01-06", ["evidence": "evidence/E-1"])]),
            ("measure/M-1", [e("MeasureReadingRecorded", at: "2022-01-05", ["value": 3, "at": "2022-01-05"]),
                             e("MeasureReadingCorrected", at: "2022-01-06", reason: "r", ["value": 4, "at": "2022-01-05"])]),
        ]), recordedAt: Timestamp(parsing: "2022-01-06")!)
        let assumption = try #require(try state.entity(StreamName("assumption/A-1")!, validAt: nil))
        #expect(assumption.status == "validated" && assumption.fields["challenges"]?.arrayValue?.count == 1)
        #expect(try state.entity(StreamName("assumption/A-1")!, validAt: Timestamp(parsing: "2022-01-05"))?.status == "challenged")
        let measure = try #require(try state.entity(StreamName("measure/M-1")!, validAt: nil))
        #expect(measure.fields["latestReading"] == ["value": 4, "at": "2022-01-05", "correctedFrom": 3])
        #expect(measure.fields["readingCount"] == 1 && measure.fields["correctionCount"] == 1)
    }
}

/// `EntityStatus.byKind` is what the views' status filters accept: every status `evolve` gives an entity of a kind
/// must be listed for that kind, or filtering on it would be refused.
@Suite struct EntityStatusTests {
    @Test func everyStatusEvolveGivesIsListedForItsKind() throws {
        func event(_ type: EventType, _ data: JSONValue) throws -> RecordedEvent {
            RecordedEvent(
                position: 1, id: "00000000-0000-7000-8000-000000000001", stream: try #require(StreamName(kind: type.kind, key: "X-1")),
                version: 1, type: type.name, schemaVersion: type.schemaVersion, recordedAt: Timestamp(millisecondsSinceEpoch: 0),
                effectiveAt: Timestamp(millisecondsSinceEpoch: 0), actor: Actor(id: "a", role: "r"), reason: "r",
                correlationId: nil, causationId: nil, data: data, hash: Digest(bytes: [UInt8](repeating: 0, count: 32))!)
        }
        var seen: [String: Set<String>] = [:]
        // A stream's life begins with a defining event; every other event of its kind follows one.
        for defining in EventCatalog.all where defining.role == .defining {
            for data in defining.examples {
                let opened = PlanningDomain.evolve(nil, try event(defining, data))
                var states = [opened]
                for type in EventCatalog.all where type.kind == defining.kind && type.role != .defining {
                    for data in type.examples { states.append(PlanningDomain.evolve(opened, try event(type, data))) }
                }
                for state in states {
                    seen[defining.kind, default: []].insert(state.status)
                    #expect(EntityStatus.byKind[defining.kind]?.contains(state.status) == true, "\(defining.kind): \(state.status)")
                }
            }
        }
        #expect(Set(seen.keys) == Set(EventCatalog.kinds) && Set(EntityStatus.byKind.keys) == Set(EventCatalog.kinds))
        // Every listed status is one some event gives.
        for (kind, statuses) in EntityStatus.byKind {
            #expect(Set(statuses).subtracting(seen[kind] ?? []).isEmpty, "\(kind): \(statuses) listed, \(seen[kind] ?? []) given")
        }
    }
}
