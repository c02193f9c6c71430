import Foundation
import Ledger
import Planning
import SQLite
import Testing

@testable import Projections

/// The writer keeps the latest entity states in memory between transactions (`LatestStateCache`). These are the
/// ways that cache could go stale; each test fails if the cache survives the event that should drop it.
@Suite struct WriterStateCacheTests {
    let organisation = StreamAppend(
        stream: StreamName("organisation/ORG")!, expectedVersion: .noStream,
        events: [ProposedEvent(type: "OrganisationRegistered", data: ["name": "Org", "kind": "trust"])])

    func goal(_ id: String) -> StreamAppend {
        StreamAppend(stream: StreamName("goal/\(id)")!, expectedVersion: .noStream, events: [
            ProposedEvent(type: "GoalDefined", data: ["title": "Goal", "level": "objective",
                                                     "owner": ["organisation": "organisation/ORG", "role": "Director"]])])
    }

    func measure(of goal: String) -> StreamAppend {
        StreamAppend(stream: StreamName("measure/M-\(UUID().uuidString.prefix(8))")!, expectedVersion: .noStream, events: [
            ProposedEvent(type: "MeasureDefined", data: ["goal": .string("goal/\(goal)"), "title": "Waits", "unit": "weeks",
                                                        "direction": "lower_is_better", "baseline": ["value": 10, "at": "2023-12-01"]])])
    }

    func close(_ id: String) -> StreamAppend {
        StreamAppend(stream: StreamName("goal/\(id)")!, expectedVersion: .any, events: [
            ProposedEvent(type: "GoalClosed", data: ["outcome": "achieved", "narrative": "Done."])])
    }

    let actor = Actor(id: "tester", role: "planner")

    @Test func aRefusedTransactionLeavesNoCachedState() throws {
        let test = try TestLedger()
        defer { test.close() }
        try test.append(AppendTransaction(streams: [organisation], actor: actor), at: time("2024-01-01"))
        // The goal is folded (and cached) before the second stream's event is refused, so the whole transaction
        // is rolled back.
        let refused = AppendTransaction(streams: [goal("G-GHOST"), measure(of: "G-NOWHERE")], actor: actor)
        #expect(throws: LedgerError.self) { try test.append(refused, at: time("2024-01-02")) }
        // The goal was never stored: a measure on it must be refused, whatever the writer saw before.
        do {
            try test.append(AppendTransaction(streams: [measure(of: "G-GHOST")], actor: actor), at: time("2024-01-03"))
            Issue.record("a measure on a goal from a refused transaction was accepted")
        } catch let error as LedgerError {
            #expect(error.code == "unknown_reference")
        }
    }

    /// The domain's checks read everything recorded, future-dated records included, whether or not the writer's
    /// cache holds the stream: a goal that starts in 2099 can be revised today from a ledger opened afresh, and once
    /// closed (with effect in 2099) it cannot.
    @Test func futureDatedStatesReadTheSameWithTheCacheCold() throws {
        let test = try TestLedger()
        defer { test.close() }
        func later(_ type: String, _ at: String, _ data: JSONValue) -> AppendTransaction {
            AppendTransaction(streams: [StreamAppend(stream: StreamName("goal/G-2099")!, events: [
                ProposedEvent(type: type, effectiveAt: time(at), reason: "Testing", data: data)])], actor: actor)
        }
        let define = StreamAppend(stream: StreamName("goal/G-2099")!, expectedVersion: .noStream, events: [
            ProposedEvent(type: "GoalDefined", effectiveAt: time("2099-01-01"), data: [
                "title": "Later", "level": "objective", "owner": ["organisation": "organisation/ORG", "role": "Director"]])])
        try test.append(AppendTransaction(streams: [organisation, define], actor: actor), at: time("2024-01-01"))

        // Each step on a ledger opened afresh, so nothing is cached.
        func appendCold(_ transaction: AppendTransaction) throws {
            let cold = try Ledger(path: test.path, hook: PlanningProjector(), clock: { time("2024-02-01") })
            defer { cold.close() }
            _ = try cold.append(transaction)
        }
        try appendCold(later("GoalRevised", "2099-02-01", ["title": "Later, renamed"]))
        try appendCold(later("GoalClosed", "2099-03-01", ["outcome": "abandoned", "narrative": "Not needed."]))
        do {
            try appendCold(later("GoalRevised", "2099-04-01", ["title": "After closing"]))
            Issue.record("a goal closed with effect in 2099 was revised")
        } catch let error as LedgerError {
            #expect(error.code == "invalid_transition")
        }
    }

    /// The log holds a whole transaction before its events are folded. With the cache cold, a stream's state is read
    /// from the log's indexes, which must stop before the event being folded: a goal revised and then closed in one
    /// transaction is revised while still open, and a measure read twice in one transaction counts two readings.
    @Test func eventsLaterInTheSameTransactionAreNotReadAsTheLatestState() throws {
        let test = try TestLedger()
        defer { test.close() }
        let measure = measure(of: "G1")
        try test.append(AppendTransaction(streams: [organisation, goal("G1"), measure], actor: actor), at: time("2024-01-01"))
        func appendCold(_ streams: [StreamAppend]) throws {
            let cold = try Ledger(path: test.path, hook: PlanningProjector(), clock: { time("2024-02-01") })
            defer { cold.close() }
            _ = try cold.append(AppendTransaction(streams: streams, actor: actor))
        }
        try appendCold([
            StreamAppend(stream: StreamName("goal/G1")!, expectedVersion: .exact(1), events: [
                ProposedEvent(type: "GoalRevised", reason: "Testing", data: ["title": "Renamed"]),
                ProposedEvent(type: "GoalClosed", data: ["outcome": "achieved", "narrative": "Done."]),
            ]),
            StreamAppend(stream: measure.stream, expectedVersion: .exact(1), events: ["2024-01-10", "2024-01-20"].map {
                ProposedEvent(type: "MeasureReadingRecorded", data: ["value": 5, "at": .string($0)])
            }),
        ])
        let reopened = try Ledger(path: test.path, hook: PlanningProjector())
        defer { reopened.close() }
        let model = PlanningReadModel(ledger: reopened)
        let goal = try model.entity(StreamName("goal/G1")!, at: .now)
        #expect(goal["version"] == 3 && goal["status"] == "closed" && goal["state"]?["title"] == "Renamed")
        #expect(try model.entity(measure.stream, at: .now)["state"]?["readingCount"] == 2)
    }

    @Test func aCommitByAnotherConnectionIsSeen() throws {
        let test = try TestLedger()
        defer { test.close() }
        try test.append(AppendTransaction(streams: [organisation, goal("G1")], actor: actor), at: time("2024-01-01"))
        try test.append(AppendTransaction(streams: [measure(of: "G1")], actor: actor), at: time("2024-01-02"))  // G1 cached

        // A second process closes the goal behind the first one's back.
        let other = try Ledger(path: test.path, hook: PlanningProjector(), clock: { time("2024-01-03") })
        _ = try other.append(AppendTransaction(streams: [close("G1")], actor: actor))
        other.close()

        // The first ledger must see the goal as closed: closing it again ends a life cycle that has ended.
        do {
            try test.append(AppendTransaction(streams: [close("G1")], actor: actor), at: time("2024-01-04"))
            Issue.record("a goal closed by another connection was closed again")
        } catch let error as LedgerError {
            #expect(error.code == "invalid_transition")
        }
    }

    @Test func incrementalProjectionsStillEqualARebuildAfterRefusals() throws {
        let test = try TestLedger()
        defer { test.close() }
        try test.append(AppendTransaction(streams: [organisation, goal("G1")], actor: actor), at: time("2024-01-01"))
        _ = try? test.append(AppendTransaction(streams: [close("G1"), measure(of: "G-NOWHERE")], actor: actor), at: time("2024-01-02"))
        try test.append(AppendTransaction(streams: [measure(of: "G1")], actor: actor), at: time("2024-01-03"))
        let before = try test.model.entity(StreamName("goal/G1")!, at: .now)
        try ProjectionRebuilder(path: test.path, hook: PlanningProjector()).rebuild()
        let after = try test.model.entity(StreamName("goal/G1")!, at: .now)
        #expect(before == after)
        #expect(before["status"]?.stringValue == "active")
    }

    /// After a reset the cache answers "no state" for a stream it lacks without reading; that is only true until it
    /// first overflows and forgets streams, and a cache made any other way must read. Reads are seen here because
    /// they fail: the store's database has no tables.
    @Test func theCacheKnowsEveryStreamOnlyFromAResetUntilItOverflows() throws {
        func event(_ index: Int, version: Int = 1) -> RecordedEvent {
            RecordedEvent(position: index + 1, id: "id-\(index)", stream: StreamName("goal/G-\(index)")!, version: version,
                          type: version == 1 ? "GoalDefined" : "GoalRevised", schemaVersion: 1,
                          recordedAt: time("2024-01-01"), effectiveAt: time("2024-01-01"), actor: actor, reason: nil,
                          correlationId: nil, causationId: nil, data: ["title": "Goal"], hash: MerkleTree.emptyRoot)
        }
        let directory = try makeTemporaryDirectory("planledger-cache-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try Database(path: directory + "/empty.sqlite")
        defer { database.close() }
        let store = ProjectionStore(database: database)
        let cache = LatestStateCache()
        #expect(!cache.holdsEveryStream)
        #expect(throws: SQLiteError.self) { try cache.evolve(event(1), readingMissesFrom: store, returningState: true) }
        cache.startWithEmptyProjections()
        #expect(cache.holdsEveryStream)
        for index in 0..<LatestStateCache.capacity {
            #expect(try cache.evolve(event(index), readingMissesFrom: store, returningState: true).isNew)
        }
        #expect(cache.holdsEveryStream)
        let again = try cache.evolve(event(7, version: 2), readingMissesFrom: store, returningState: true)
        #expect(!again.isNew && again.state?.version == 2 && again.state?.createdAt == time("2024-01-01"))
        // Not asked for the state, it still keeps it.
        let quiet = try cache.evolve(event(7, version: 3), readingMissesFrom: store, returningState: false)
        #expect(!quiet.isNew && quiet.state == nil && cache.state(of: StreamName("goal/G-7")!)?.version == 3)
        // One stream too many: the cache starts again empty, and from then on must read what it lacks.
        #expect(throws: SQLiteError.self) { try cache.evolve(event(LatestStateCache.capacity), readingMissesFrom: store, returningState: true) }
        #expect(!cache.holdsEveryStream)
        #expect(throws: SQLiteError.self) { try cache.evolve(event(7, version: 4), readingMissesFrom: store, returningState: true) }
    }
}
