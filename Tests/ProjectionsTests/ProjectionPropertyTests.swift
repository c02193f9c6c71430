import Harness
import Ledger
import Planning
import SQLite
import Testing

@testable import Projections

/// Properties over randomly generated valid ledgers: (1) the incrementally maintained projections equal a rebuild
/// from the log; (2) every entity view at any (asOf, validAt) equals a naive fold of the matching prefix of the log.
@Suite struct ProjectionPropertyTests {
    @Test(arguments: [1, 2, 3])
    func incrementalProjectionsEqualARebuild(seed: UInt64) throws {
        let test = try TestLedger()
        defer { test.close() }
        let events = try RandomLedger.generate(into: test, seed: seed, transactions: 120)
        #expect(events.count >= 100 && Set(events.map(\.type)).count >= 12, "the generated ledger is too thin to test")
        #expect(events.contains { $0.type == "HandoverRecorded" } && events.contains { $0.effectiveAt < $0.recordedAt })
        let before = try dump(test.path)
        test.ledger.close()
        try ProjectionRebuilder(path: test.path, hook: PlanningProjector()).rebuild()
        #expect(try dump(test.path) == before)
    }

    @Test(arguments: [4, 5])
    func viewsAtAnyTimesEqualANaiveFoldOfThePrefix(seed: UInt64) throws {
        let test = try TestLedger()
        defer { test.close() }
        let events = try RandomLedger.generate(into: test, seed: seed, transactions: 100)
        var random = SeededRandom(seed: seed &* 7919)
        let first = events.first!.recordedAt.millisecondsSinceEpoch
        let last = events.last!.recordedAt.millisecondsSinceEpoch
        let streams = Array(Set(events.map(\.stream))).sorted()
        for _ in 0..<25 {
            let asOf = Timestamp(millisecondsSinceEpoch: random.next(in: first...last))
            let validAt = Timestamp(millisecondsSinceEpoch: random.next(in: (first - 200 * 86_400_000)...last))
            let slice = TimeSlice(asOf: asOf, validAt: validAt)
            // The naive model: fold exactly the events recorded by asOf, then ask at validAt.
            var naive = InMemoryPlanningState()
            for event in events where event.recordedAt <= asOf { try naive.apply(event, validate: false) }
            for stream in streams {
                let expected = try naive.entity(stream, validAt: validAt)
                let actual = try? test.model.entity(stream, at: slice)
                #expect((actual == nil) == (expected == nil), "\(stream) at \(asOf) / \(validAt)")
                guard let expected, let actual else { continue }
                #expect(actual["version"]?.intValue == expected.version, "\(stream)")
                #expect(actual["status"]?.stringValue == expected.status, "\(stream)")
                #expect(actual["state"] == expected.fields, "\(stream)")
                #expect(actual["owner"]?.stringValue == (try naive.owner(of: stream, at: validAt)), "\(stream) owner")
            }
            for kind in ["goal", "decision", "assumption"] {
                let listed = try test.model.entities(kind: kind, at: slice)["entities"]?.arrayValue?.compactMap { $0["stream"]?.stringValue }
                let expected = try streams.filter { $0.kind == kind }.filter { try naive.entity($0, validAt: validAt) != nil }
                    .map(\.description)
                #expect(listed == expected, "\(kind) list at \(asOf) / \(validAt)")
            }
        }
    }

    /// Every projection row, in a stable order.
    func dump(_ path: String) throws -> [String] {
        let database = try Database(path: path, options: .init(readOnly: true))
        var rows: [String] = []
        for (table, order) in [("entity_versions", "stream, version"), ("ownership", "stream, effective_at, position"),
                               ("links", "target, relation, source, position")] {
            try database.forEach("SELECT * FROM \(table) ORDER BY \(order)") { row in
                rows.append(table + ":" + (0..<row.columnCount).map { "\(row.value($0))" }.joined(separator: "|"))
            }
        }
        return rows
    }
}

/// Draws for the random ledgers, on the harness's SplitMix64, so failures reproduce from their seed.
extension SeededRandom {
    mutating func next(in range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int(next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
}

/// Random valid planning ledgers: random actions on random streams, backdated and not, kept only when the domain
/// (in memory) accepts them; the real ledger must then accept exactly those.
enum RandomLedger {
    static func generate(into test: TestLedger, seed: UInt64, transactions: Int) throws -> [RecordedEvent] {
        var random = SeededRandom(seed: seed)
        var model = InMemoryPlanningState()
        var recorded: [RecordedEvent] = []
        var clock = Timestamp(parsing: "2021-01-01")!.millisecondsSinceEpoch
        let actor = Actor(id: "generator", role: "test")
        let day: Int64 = 86_400_000
        var counter = 0
        var attempts = 0
        while recorded.isEmpty || (attempts < transactions * 20 && model.events.count < transactions) {
            attempts += 1
            clock += random.next(in: 1...(3 * day))
            let now = Timestamp(millisecondsSinceEpoch: clock)
            // Valid time: usually now, sometimes backdated up to 90 days.
            let effective = Timestamp(millisecondsSinceEpoch: clock - (random.chance(30) ? random.next(in: 0...(90 * day)) : 0))
            let at = JSONValue.string(effective.rfc3339)
            counter += 1
            func existing(_ kind: String) -> [String] {
                model.versions.keys.filter { $0.kind == kind }.map(\.description).sorted()
            }
            let organisations = existing("organisation")
            let goals = existing("goal")
            let org = random.pick(organisations) ?? "organisation/O-0"
            let owner: JSONValue = ["organisation": .string(org), "role": "Director"]
            var stream: String
            var events: [ProposedEvent]
            func event(_ type: String, reason: String? = nil, _ data: JSONValue) -> ProposedEvent {
                ProposedEvent(type: type, effectiveAt: effective, reason: reason, data: data)
            }
            switch organisations.count < 2 ? 0 : random.next() % 14 {
            case 0:
                stream = "organisation/O-\(counter)"
                events = [event("OrganisationRegistered", ["name": .string("Org \(counter)"), "kind": "icb"])]
            case 1, 2:
                stream = "goal/G-\(counter)"
                var data: JSONObject = ["title": .string("Goal \(counter)"), "level": "objective", "owner": owner]
                if let parent = random.pick(goals), random.chance(70) { data["parent"] = .string(parent) }
                events = [event("GoalDefined", .object(data))]
            case 3:
                guard let goal = random.pick(goals) else { continue }
                stream = "measure/M-\(counter)"
                events = [event("MeasureDefined", ["goal": .string(goal), "title": "m", "unit": "u", "direction": "higher_is_better",
                                                   "baseline": ["value": 1, "at": at]]),
                          event("MeasureTargetSet", ["value": 10, "due": "2024-01-01", "tolerance": 1])]
            case 4:
                guard let measure = random.pick(existing("measure")) else { continue }
                stream = measure
                events = [event("MeasureReadingRecorded", ["value": .number(Double(random.next() % 20)), "at": at])]
            case 5:
                stream = "assumption/A-\(counter)"
                events = [event("AssumptionRecorded", ["statement": "s", "basis": "b", "owner": owner, "confidence": "low",
                                                       "impact": "high", "supports": JSONValue(goals.suffix(2))])]
            case 6:
                guard let assumption = random.pick(existing("assumption")) else { continue }
                stream = assumption
                events = [random.chance(50) ? event("AssumptionChallenged", ["grounds": "g"])
                                            : event("AssumptionInvalidated", reason: "found wrong", ["narrative": "n"])]
            case 7:
                stream = "decision/D-\(counter)"
                events = [event("DecisionProposed", ["title": "d", "forum": ["organisation": .string(org), "name": "Board"],
                                                     "question": "q", "options": [["key": "A", "summary": "a"]]])]
            case 8:
                guard let decision = random.pick(existing("decision")) else { continue }
                stream = decision
                events = [event("DecisionTaken", ["forum": ["organisation": .string(org), "name": "Board"], "decidedBy": ["Chair"],
                                                  "summary": "s", "rationale": "r", "optionsRejected": [],
                                                  "reliesOn": ["assumptions": JSONValue(existing("assumption").suffix(1)), "evidence": []],
                                                  "affects": JSONValue(goals.suffix(1)), "conflictsDeclared": []])]
            case 9:
                guard let decision = random.pick(existing("decision")), let by = random.pick(existing("decision")) else { continue }
                stream = decision
                events = [event("DecisionSuperseded", reason: "replaced", ["by": .string(by)])]
            case 10:
                guard let goal = random.pick(goals), let parent = random.pick(goals) else { continue }
                stream = goal
                events = [event("GoalRealigned", reason: "restructure", ["parent": .string(parent)])]
            case 11:
                guard let from = random.pick(organisations), let to = random.pick(organisations) else { continue }
                let items = try model.versions.keys.filter { ["goal", "measure", "decision", "assumption"].contains($0.kind) }
                    .filter { try model.owner(of: $0, at: effective) == from }.map(\.description).sorted().prefix(4)
                guard !items.isEmpty else { continue }
                stream = "handover/H-\(counter)"
                events = [event("HandoverRecorded", ["from": .string(from), "to": .string(to), "instrument": "scheme",
                                                     "items": JSONValue(Array(items))])]
            case 12:
                guard let goal = random.pick(goals) else { continue }
                stream = goal
                events = [event("GoalStatusAssessed", ["status": "at_risk", "narrative": "n"])]
            default:
                guard let victim = random.pick(organisations), random.chance(20) else { continue }
                stream = victim
                events = [event("OrganisationDissolved", reason: "merged", [:])]
            }
            let transaction = AppendTransaction(streams: [StreamAppend(stream: StreamName(stream)!, events: events)], actor: actor)
            var attempt = model
            do {
                try attempt.append(transaction, recordedAt: now)
            } catch {
                continue  // The domain refuses it: try something else.
            }
            model = attempt
            recorded += try test.append(transaction, at: now)
        }
        return recorded
    }
}
