import Foundation
import Harness
import Ledger

/// Writes a large synthetic planning ledger through the real append path (validation, domain rules, hashing,
/// projections), in transactions of `batch` events with a realistic mix: new goals with measures and targets,
/// assumptions, evidence, proposed and taken decisions, and mostly monthly readings on existing measures.
enum SyntheticLedger {
    static let organisations = 20

    /// Appends `events` events (rounded to whole batches) and returns the seconds the appends took.
    static func generate(ledger: Ledger, events: Int, batch: Int, progress: (Int) -> Void) throws -> Double {
        let actor = Actor(id: "synthetic", role: "generator")
        var random = SeededRandom(seed: 2022)
        let start = DispatchTime.now()
        let base = Timestamp(parsing: "2020-01-01")!.millisecondsSinceEpoch
        if ledger.size == 0 {
            _ = try ledger.append(AppendTransaction(streams: (0..<organisations).map { n in
                StreamAppend(stream: StreamName("organisation/ORG-\(n)")!, expectedVersion: .noStream, events: [
                    ProposedEvent(type: "OrganisationRegistered", effectiveAt: Timestamp(millisecondsSinceEpoch: base),
                                  data: ["name": .string("Organisation \(n)"), "kind": "trust"])])
            }, actor: actor))
        }
        var measures: [String] = []
        var round = 0
        let inFlight = InFlightLimit(8)
        let failure = FirstFailure()
        var submitted = ledger.size
        while submitted < events {
            round += 1
            let effective = Timestamp(millisecondsSinceEpoch: base + Int64(round) * 3_600_000)
            let day = effective.date
            let org = JSONValue.string("organisation/ORG-\(round % organisations)")
            let owner: JSONValue = ["organisation": org, "role": "Director"]
            func event(_ type: String, _ data: JSONValue) -> ProposedEvent {
                ProposedEvent(type: type, effectiveAt: effective, data: data)
            }
            let earlier = measures  // readings go to measures of earlier rounds (a stream appears once per transaction)
            var streams: [StreamAppend] = []
            var count = 0
            func add(_ stream: String, _ expected: ExpectedVersion, _ events: [ProposedEvent]) {
                streams.append(StreamAppend(stream: StreamName(stream)!, expectedVersion: expected, events: events))
                count += events.count
            }
            for n in 0..<10 {
                let goal = "goal/R\(round)-G\(n)"
                add(goal, .noStream, [event("GoalDefined", ["title": .string("Goal \(round).\(n)"), "level": "objective", "owner": owner])])
                let measure = "measure/R\(round)-M\(n)"
                add(measure, .noStream, [
                    event("MeasureDefined", ["goal": .string(goal), "title": "Waiting list", "unit": "patients",
                                             "direction": "lower_is_better", "baseline": ["value": 1000, "at": .string(day)]]),
                    event("MeasureTargetSet", ["value": 0, "due": "2030-03-31", "tolerance": 50,
                                               "trajectory": [["at": "2025-03-31", "value": 500]]]),
                ])
                measures.append(measure)
            }
            for n in 0..<5 {
                add("evidence/R\(round)-E\(n)", .noStream, [event("EvidenceRecorded", [
                    "title": "Board paper", "kind": "document", "source": .string("ref/\(round)/\(n)"), "classification": "official",
                    "owner": ["organisation": org]])])
                add("assumption/R\(round)-A\(n)", .noStream, [event("AssumptionRecorded", [
                    "statement": "Demand grows 3% a year", "basis": "Trend 2015-2019", "owner": owner, "confidence": "medium",
                    "impact": "high", "supports": [.string("goal/R\(round)-G\(n)")]])])
                add("decision/R\(round)-D\(n)", .noStream, [
                    event("DecisionProposed", ["title": "Invest", "forum": ["organisation": org, "name": "Board"], "question": "Invest?",
                                               "options": [["key": "A", "summary": "Yes"], ["key": "B", "summary": "No"]]]),
                    event("DecisionTaken", ["forum": ["organisation": org, "name": "Board"], "decidedBy": ["Chair"], "chosenOption": "A",
                                            "summary": "Invest", "rationale": "Demand", "optionsRejected": [["key": "B", "why": "Risk"]],
                                            "reliesOn": ["assumptions": [.string("assumption/R\(round)-A\(n)")],
                                                         "evidence": [.string("evidence/R\(round)-E\(n)")]],
                                            "affects": [.string("goal/R\(round)-G\(n)")], "conflictsDeclared": []]),
                ])
            }
            // The rest of the batch: readings on 50 existing measures.
            let readingsPerMeasure = max(1, (batch - count) / 50)
            var chosen = Set<String>()
            while chosen.count < min(50, earlier.count) { chosen.insert(earlier[Int(random.next() % UInt64(earlier.count))]) }
            for measure in chosen.sorted() where count < batch {
                let readings = (0..<min(readingsPerMeasure, batch - count)).map { _ in
                    event("MeasureReadingRecorded", ["value": .number(Double(random.next() % 1000)), "at": .string(day)])
                }
                add(measure, .exists, readings)
            }
            // Pipelined: up to 8 transactions in flight while the next is built; the writer commits them in order.
            inFlight.acquire()
            submitted += count
            ledger.submit(AppendTransaction(streams: streams, actor: actor)) { result in
                if case .failure(let error) = result { failure.set("\(error)") }
                inFlight.release()
            }
            if let error = failure.value { throw GenerationError(message: error) }
            progress(submitted)
        }
        inFlight.drain()
        if let error = failure.value { throw GenerationError(message: error) }
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

struct GenerationError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The first error any pipelined append reported.
final class FirstFailure: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var stored: String?
    func set(_ message: String) { lock.lock(); if stored == nil { stored = message }; lock.unlock() }
    var value: String? { lock.lock(); defer { lock.unlock() }; return stored }
}

/// At most `limit` appends in flight (a counting gate that, unlike DispatchSemaphore, may be dropped at any count).
final class InFlightLimit: @unchecked Sendable {
    // @unchecked: guarded by `condition`.
    private let condition = NSCondition()
    private var available: Int
    private let limit: Int
    init(_ limit: Int) {
        self.limit = limit
        available = limit
    }
    func acquire() {
        condition.lock()
        while available == 0 { condition.wait() }
        available -= 1
        condition.unlock()
    }
    func release() {
        condition.lock()
        available += 1
        condition.broadcast()
        condition.unlock()
    }
    /// Waits until nothing is in flight.
    func drain() {
        condition.lock()
        while available < limit { condition.wait() }
        condition.unlock()
    }
}
