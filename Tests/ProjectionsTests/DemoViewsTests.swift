import Ledger
import Planning
import Testing

@testable import Projections

/// The views on the demo story answer the questions the product exists for.
@Suite struct DemoViewsTests {
    func streams(_ json: JSONValue?) -> [String] { (json?.arrayValue ?? []).compactMap { $0["stream"]?.stringValue } }

    func allGoals(_ plan: JSONValue) -> [JSONValue] {
        func walk(_ nodes: [JSONValue]) -> [JSONValue] { nodes.flatMap { [$0] + walk($0["children"]?.arrayValue ?? []) } }
        return walk(plan["goals"]?.arrayValue ?? [])
    }

    func goal(_ plan: JSONValue, _ stream: String) -> JSONValue? { allGoals(plan).first { $0["stream"]?.stringValue == stream } }

    @Test func planAsRecordedOn30JuneDiffersFromPlanInForceThenAsKnownNow() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let recordedThen = try test.model.plan(at: TimeSlice(asOf: time("2022-06-30T12:00:00Z"), validAt: time("2022-06-30T12:00:00Z")))
        let knownNow = try test.model.plan(at: TimeSlice(validAt: time("2022-06-30T12:00:00Z")))
        let electiveThen = try #require(goal(recordedThen, "goal/OBJ-ELECTIVE"))
        let electiveNow = try #require(goal(knownNow, "goal/OBJ-ELECTIVE"))
        // The shadow ICB board's decision of 15 June was recorded only in September.
        #expect(!streams(electiveThen["decisions"]).contains("decision/ICB-2022-011"))
        #expect(streams(electiveNow["decisions"]).contains("decision/ICB-2022-011"))
        // Both show the weekend-list decision as taken: its supersession came in October.
        #expect(electiveNow["decisions"]?.arrayValue?.first { $0["stream"] == "decision/GB-2021-022" }?["status"] == "taken")
        // On 30 June the CCG still owned everything; the plan of the ICB was empty of its items.
        #expect(electiveThen["owner"] == .string(DemoStory.ccg))
        #expect(goal(try test.model.plan(organisation: DemoStory.icb, at: TimeSlice(validAt: time("2022-06-30"))), "goal/AMB-1") == nil)
        #expect(goal(try test.model.plan(organisation: DemoStory.icb), "goal/AMB-1") != nil)
    }

    @Test func needsReviewFollowsTheInvalidatedAssumption() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let today = try test.model.plan()
        #expect(goal(today, "goal/KR-MH-ACCESS")?["needsReview"] == true)
        #expect(goal(today, "goal/OBJ-MH")?["needsReview"] == true)
        #expect(goal(today, "goal/OBJ-ELECTIVE")?["needsReview"] == false)
        let beforeAudit = try test.model.plan(at: TimeSlice(asOf: time("2022-12-31")))
        #expect(goal(beforeAudit, "goal/KR-MH-ACCESS")?["needsReview"] == false)
        let rag = goal(today, "goal/OBJ-ELECTIVE")?["measures"]?.arrayValue?.first
        #expect(rag?["rag"] == "red" && rag?["latestReading"]?["value"] == 1850)
    }

    @Test func decisionsRestingOnTheInvalidatedAssumption() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let impact = try test.model.impact(of: StreamName("assumption/A-CMHN-RATIO")!)
        #expect(impact["status"] == "invalidated")
        #expect(streams(impact["decisions"]) == ["decision/GB-2021-017"])
        #expect(Set(streams(impact["goals"])) == ["goal/KR-MH-ACCESS", "goal/OBJ-MH"])
        #expect(streams(impact["measures"]) == ["measure/M-MH-SMI"])
        let register = try test.model.decisions(now: time("2023-06-01"))
        let undermined = (register["decisions"]?.arrayValue ?? []).filter { !($0["reliesOnUndermined"]?.arrayValue?.isEmpty ?? true) }
        #expect(streams(.array(undermined)) == ["decision/GB-2021-017"])
        let chain = register["decisions"]?.arrayValue?.first { $0["stream"] == "decision/GB-2021-022" }?["supersessionChain"]
        #expect(chain == ["decision/ICB-2022-019"])
        let overdue = try test.model.decisions(reviewDue: time("2022-10-31"), now: time("2022-10-31"))
        #expect(streams(overdue["decisions"]) == ["decision/GB-2021-017"])
        #expect(overdue["decisions"]?.arrayValue?.first?["reviewOverdue"] == true)
    }

    @Test func whatTheCCGHandedOverAndWhatWasStillOpen() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let memory = try test.model.memory(of: StreamName(DemoStory.ccg)!)
        #expect(memory["status"] == "dissolved")
        #expect(Set(streams(memory["owned"])) == Set(DemoStory.ccgItems))
        let handover = try #require(memory["handoversOut"]?.arrayValue?.first)
        #expect(handover["to"] == .string(DemoStory.icb) && handover["items"]?.arrayValue?.count == DemoStory.ccgItems.count)
        #expect(Set(streams(handover["openAtHandover"])) == [
            "decision/GB-2022-004", "assumption/A-CMHN-RATIO", "assumption/A-IS-CAPACITY", "goal/OBJ-ELECTIVE",
        ])
        let received = try test.model.memory(of: StreamName(DemoStory.icb)!)
        #expect(streams(received["handoversIn"]) == ["handover/QWO-CCG-TO-QWO"])
    }

    /// Memory at a valid time counts only ownership in force by then: on 30 June 2022 the CCG still held its items
    /// (none passed on yet), and the ICB held none of them.
    @Test func memoryAtAValidTimeShowsOnlyOwnershipInForceByThen() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let eve = TimeSlice(validAt: time("2022-06-30T23:59:59Z"))
        let ccg = try test.model.memory(of: StreamName(DemoStory.ccg)!, at: eve)
        #expect(Set(streams(ccg["owned"])) == Set(DemoStory.ccgItems))
        #expect(ccg["owned"]?.arrayValue?.allSatisfy { $0["passedTo"] == nil && $0["ownedUntil"] == nil } == true)
        let icb = try test.model.memory(of: StreamName(DemoStory.icb)!, at: eve)
        #expect(Set(streams(icb["owned"])).isDisjoint(with: DemoStory.ccgItems))
        #expect(icb["owned"]?.arrayValue?.allSatisfy { ($0["ownedFrom"]?.stringValue ?? "") <= "2022-06-30T23:59:59Z" } == true)
        // Over its whole life (as now), the ICB holds them.
        #expect(Set(streams(try test.model.memory(of: StreamName(DemoStory.icb)!)["owned"])).isSuperset(of: DemoStory.ccgItems))
    }

    /// Without validAt a view shows what is in force now (DESIGN §3): a goal recorded today that takes effect in
    /// 2099 is not in the plan yet, though the domain lets a measure be defined for it already; at a later validAt,
    /// and in the organisation's archive slice, it is there.
    @Test func aRecordThatTakesEffectLaterIsNotInForceNow() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let later = StreamAppend(stream: StreamName("goal/G-LATER")!, expectedVersion: .noStream, events: [
            ProposedEvent(type: "GoalDefined", effectiveAt: time("2099-01-01"), data: [
                "title": "Later", "level": "objective", "owner": ["organisation": .string(DemoStory.icb), "role": "Director"]])])
        let measure = StreamAppend(stream: StreamName("measure/M-LATER")!, expectedVersion: .noStream, events: [
            ProposedEvent(type: "MeasureDefined", effectiveAt: time("2099-01-01"), data: [
                "goal": "goal/G-LATER", "title": "Later", "unit": "patients", "direction": "lower_is_better",
                "baseline": ["value": 1, "at": "2099-01-01"]])])
        try test.append(AppendTransaction(streams: [later, measure], actor: Actor(id: "t", role: "planner")), at: .now())

        #expect(goal(try test.model.plan(organisation: DemoStory.icb), "goal/G-LATER") == nil)
        #expect(throws: LedgerError.self) { try test.model.entity(StreamName("goal/G-LATER")!) }
        let then = TimeSlice(validAt: time("2099-06-01"))
        #expect(goal(try test.model.plan(organisation: DemoStory.icb, at: then), "goal/G-LATER") != nil)
        #expect(try test.model.entity(StreamName("goal/G-LATER")!, at: then)["status"] == "active")
        #expect(try test.model.archiveSlice(of: StreamName(DemoStory.icb)!, asOf: nil).streams.contains("goal/G-LATER"))
        #expect(try test.model.nextChange(after: .now()) == time("2099-01-01"))
        #expect(try test.model.nextChange(after: time("2099-01-01")) == nil)
    }

    /// An element added to or removed from an array is a change with no `before` (or no `after`), not one from or
    /// to JSON null: null is a value a field can really have.
    @Test func fieldDiffsOfAGrowingArrayLeaveTheMissingSideOut() {
        let grown = FieldDiff.changes(from: ["readings": [1]], to: ["readings": [1, 2]])
        #expect(grown == [["field": "readings[1]", "after": 2]])
        let shrunk = FieldDiff.changes(from: ["readings": [1, 2]], to: ["readings": [1]])
        #expect(shrunk == [["field": "readings[1]", "before": 2]])
        let nulled = FieldDiff.changes(from: ["note": "x"], to: ["note": .null])
        #expect(nulled == [["field": "note", "before": "x", "after": .null]])
    }

    @Test func historyShowsActorsTimesReasonsDiffsAndOwnershipMoves() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let history = try test.model.history(StreamName("measure/M-RTT-52WK")!)
        let events = history["events"]?.arrayValue ?? []
        let correction = try #require(events.first { $0["type"] == "MeasureReadingCorrected" })
        #expect(correction["reason"] == "Validated figure from the trust's data quality review")
        #expect(correction["changes"]?.arrayValue?.contains(["field": "latestReading.value", "before": 1900, "after": 1850]) == true)
        let move = try #require(events.first { $0["type"] == "HandoverRecorded" })
        #expect(move["changes"] == [["field": "owner", "before": .string(DemoStory.ccg), "after": .string(DemoStory.icb)]])
    }

    @Test func planDiffBetweenTwoDates() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let diff = try test.model.diff(from: time("2022-06-30"), to: time("2022-12-31"))
        #expect(streams(diff["added"]) == ["decision/ICB-2022-019"])
        #expect(streams(diff["closed"]) == ["decision/GB-2021-022"])
        #expect(Set(streams(diff["revised"])) == ["measure/M-RTT-52WK", "measure/M-MH-SMI"])
    }

    /// Archivists read the diff to see what was handed over: every stream whose owner at `to` is not its owner at
    /// `from`, with both owners and the handover that moved it, whether or not the stream itself changed.
    @Test func planDiffShowsWhatWasHandedOverAndToWhom() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let handover = try #require(try test.ledger.stream(StreamName("handover/QWO-CCG-TO-QWO")!, limit: 1).first)
        let moved: JSONValue = [["position": JSONValue(handover.position), "stream": "handover/QWO-CCG-TO-QWO",
                                 "type": "HandoverRecorded", "effectiveAt": "2022-07-01T00:00:00.000Z"]]
        let diff = try test.model.diff(from: time("2022-06-30"), to: time("2022-12-31"))
        #expect(streams(diff["transferred"]) == DemoStory.ccgItems)
        for item in diff["transferred"]?.arrayValue ?? [] {
            #expect(item["from"] == .string(DemoStory.ccg) && item["to"] == .string(DemoStory.icb), "\(item)")
            #expect(item["owner"] == .string(DemoStory.icb) && item["events"] == moved, "\(item)")
        }
        let goal = diff["transferred"]?.arrayValue?.first { $0["stream"] == "goal/AMB-1" }
        #expect(goal?["kind"] == "goal" && goal?["status"] == "active" && goal?["title"] != nil)
        // The other sections are as they were: a handover alone revises nothing.
        #expect(streams(diff["added"]) == ["decision/ICB-2022-019"])
        #expect(Set(streams(diff["revised"])) == ["measure/M-RTT-52WK", "measure/M-MH-SMI"])

        // A stream created in the window and handed over in it went from the owner it was created with.
        let whole = try test.model.diff(from: time("2020-01-01"), to: time("2023-12-31"))
        #expect(streams(whole["transferred"]) == DemoStory.ccgItems)
        #expect(whole["transferred"]?.arrayValue?.allSatisfy { $0["from"] == .string(DemoStory.ccg) } == true)

        // Both sides of a handover see it; an organisation that took no part does not.
        for organisation in [DemoStory.ccg, DemoStory.icb] {
            let side = try test.model.diff(from: time("2022-06-30"), to: time("2022-12-31"), organisation: organisation)
            #expect(streams(side["transferred"]) == DemoStory.ccgItems, "\(organisation)")
        }
        let trust = try test.model.diff(from: time("2022-06-30"), to: time("2022-12-31"), organisation: DemoStory.trust)
        #expect(trust["transferred"] == [])
        // Not yet: `from` is exclusive, and the handover takes effect at midnight on 1 July.
        #expect(try test.model.diff(from: time("2022-07-01"), to: time("2022-12-31"))["transferred"] == [])
        #expect(try test.model.diff(from: time("2022-01-01"), to: time("2022-06-30"))["transferred"] == [])
        // As recorded before the handover was (at 09:00 on 1 July), nothing had been handed over.
        let before = try test.model.diff(from: time("2022-06-30"), to: time("2022-12-31"),
                                         asOf: time("2022-07-01T08:00:00Z"))
        #expect(before["transferred"] == [])
    }

    @Test func entityStateAndListsAtPastTimes() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let assumption = StreamName("assumption/A-CMHN-RATIO")!
        #expect(try test.model.entity(assumption)["status"] == "invalidated")
        #expect(try test.model.entity(assumption, at: TimeSlice(asOf: time("2022-12-31")))["status"] == "active")
        #expect(try test.model.entity(assumption, at: TimeSlice(validAt: time("2022-12-31")))["status"] == "active")
        #expect(throws: LedgerError.self) { try test.model.entity(assumption, at: TimeSlice(validAt: time("2021-01-01"))) }
        let owned = try test.model.entities(kind: "decision", organisation: DemoStory.icb)
        #expect(streams(owned["entities"]).count == 5)
        let proposed = try test.model.entities(kind: "decision", status: "proposed")
        #expect(streams(proposed["entities"]) == ["decision/GB-2022-004"])
    }

    @Test func domainRulesAreEnforcedAtAppendAndNothingIsStored() throws {
        let test = try TestLedger.demo()
        defer { test.close() }
        let before = try test.ledger.checkpoint()
        let actor = Actor(id: "x", role: "y")
        let dissolvedOwner = AppendTransaction(streams: [StreamAppend(stream: StreamName("goal/NEW")!, events: [
            ProposedEvent(type: "GoalDefined", data: ["title": "t", "level": "ambition",
                                                      "owner": ["organisation": .string(DemoStory.ccg), "role": "r"]])])], actor: actor)
        do {
            try test.append(dissolvedOwner, at: time("2023-02-01"))
            Issue.record("a dissolved organisation was given a new goal")
        } catch let error as LedgerError {
            #expect(error.code == "organisation_dissolved" && error.kind == .domainRule && error.details["index"] == 0)
        }
        #expect(try test.ledger.checkpoint() == before)
    }
}
