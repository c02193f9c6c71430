import Foundation
import Harness
import Ledger
import Planning
import SQLite
import Testing

@testable import Projections

/// From layout 5 on, which version a slice sees is read from indexes on the log
/// (`ProjectionSchema.createLogIndexes`). These hold those reads to layout 4's rule, and to what the log's other
/// streams and a damaged file must not change.
@Suite struct LogIndexReadTests {
    let actor = Actor(id: "tester", role: "planner")
    let organisation = StreamAppend(
        stream: StreamName("organisation/ORG")!, expectedVersion: .noStream,
        events: [ProposedEvent(type: "OrganisationRegistered", data: ["name": "Org", "kind": "trust"])])

    func temporaryPath() throws -> (directory: String, path: String) {
        let directory = try makeTemporaryDirectory("planledger-logindex-")
        return (directory, directory + "/ledger.sqlite")
    }

    /// The log also holds streams that other hooks fold; a future-dated one is not a change of the plan.
    @Test func eventsOfStreamsOtherHooksFoldAreNotChangesOfThePlan() throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = SettableClock()
        // NoHook stands in for the token registry: a second hook that folds its own kind of stream (`access/`).
        let ledger = try Ledger(path: path, hook: RoutingHook(routes: ["access": NoHook()], fallback: PlanningProjector()),
                                clock: { clock.now })
        defer { ledger.close() }
        clock.now = time("2024-01-01")
        _ = try ledger.append(AppendTransaction(streams: [organisation], actor: actor))
        clock.now = time("2024-03-01")
        _ = try ledger.append(AppendTransaction(streams: [StreamAppend(stream: StreamName("access/T1")!, events: [
            ProposedEvent(type: "AccessGranted", effectiveAt: time("2099-01-01"), data: [:])])], actor: actor))
        let model = PlanningReadModel(ledger: ledger)
        #expect(try model.nextChange(after: time("2024-02-01")) == nil)
        let diff = try model.diff(from: time("2024-02-01"), to: time("2100-01-01"))
        for part in ["added", "revised", "closed", "transferred"] { #expect(diff[part]?.arrayValue?.isEmpty == true) }
    }

    /// A file whose log index was dropped by hand is not current: a read-only open says to rebuild (instead of
    /// every view failing on the missing index), and a writable open makes the index again.
    @Test func aMissingLogIndexMakesTheProjectionsOutdatedUntilAWritableOpenRemakesIt() throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let ledger = try Ledger(path: path, hook: PlanningProjector(), clock: { time("2024-01-01") })
            _ = try ledger.append(AppendTransaction(streams: [organisation], actor: actor))
            ledger.close()
        }
        try Database(path: path).execute("DROP INDEX events_by_stream_recorded")
        #expect(throws: LedgerError.self) {
            try Ledger(path: path, hook: PlanningProjector(), mode: .readOnly(needsProjections: true)).close()
        }
        let writable = try Ledger(path: path, hook: PlanningProjector())
        #expect(try PlanningReadModel(ledger: writable).entity(StreamName("organisation/ORG")!, at: .latest)["version"] == 1)
        writable.close()
        let readOnly = try Ledger(path: path, hook: PlanningProjector(), mode: .readOnly(needsProjections: true))
        defer { readOnly.close() }
        #expect(try PlanningReadModel(ledger: readOnly).entity(StreamName("organisation/ORG")!, at: .latest)["version"] == 1)
    }

    /// `visibleVersion` against layout 4's rule (the smaller of the newest version recorded by asOf and the newest in
    /// force at validAt, among the versions folded so far) on a bare log with transactions over several streams,
    /// several events of a stream in one transaction, equal recorded and valid times, and backdating; at fold
    /// points through the log and with none.
    @Test(arguments: [11, 12])
    func visibleVersionFollowsTheRuleOfTheVersionTable(seed: UInt64) throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = SettableClock()
        let ledger = try Ledger(path: path, hook: NoHook(), clock: { clock.now })
        var random = SeededRandom(seed: seed)
        var now: Int64 = 1_000_000
        var lastEffective: [String: Int64] = [:]
        let streams = (0..<4).map { "goal/S\($0)" }
        for _ in 0..<100 {
            if random.chance(70) { now += random.next(in: 1...5) }  // else the same recorded time as before
            clock.now = Timestamp(millisecondsSinceEpoch: now)
            var appends: [StreamAppend] = []
            var chosen = streams
            for index in stride(from: chosen.count - 1, to: 0, by: -1) { chosen.swapAt(index, Int(random.next() % UInt64(index + 1))) }
            for stream in chosen.prefix(Int(random.next(in: 1...3))) {
                let events = (0..<Int(random.next(in: 1...3))).map { _ in
                    let floor = lastEffective[stream] ?? (now - 20)  // the first event of a stream backdated
                    let effective = random.chance(30) ? floor : floor + random.next(in: 0...8)
                    lastEffective[stream] = effective
                    return ProposedEvent(type: "E", effectiveAt: Timestamp(millisecondsSinceEpoch: effective), data: [:])
                }
                appends.append(StreamAppend(stream: StreamName(stream)!, events: events))
            }
            _ = try ledger.append(AppendTransaction(streams: appends, actor: actor))
        }
        ledger.close()
        let database = try Database(path: path)
        defer { database.close() }
        try ProjectionSchema.createLogIndexes(in: database)
        let rows = try database.map("SELECT position, stream, version, recorded_at, effective_at FROM events ORDER BY position") {
            (position: $0.int(0), stream: $0.text(1), version: $0.int(2), recorded: $0.int64(3), effective: $0.int64(4))
        }
        func sample(_ values: [Int64]) -> [Int64] {
            let sorted = Array(Set(values.flatMap { [$0 - 1, $0] })).sorted()
            return stride(from: 0, to: sorted.count, by: max(1, sorted.count / 12)).map { sorted[$0] } + [sorted.last! + 1]
        }
        let asOfs = sample(rows.map(\.recorded)), validAts = sample(rows.map(\.effective))
        var checked = 0
        for foldAt in Array(stride(from: 1, through: rows.count, by: 17)) + [rows.count + 1] {
            var store = ProjectionStore(database: database)
            if foldAt <= rows.count {
                let row = rows[foldAt - 1]
                store.folding = FoldPoint(try Ledger.streamEvents(StreamName(row.stream)!, fromVersion: row.version, limit: 1,
                                                                  in: database)[0])
            }
            for stream in streams {
                let folded = rows.filter { $0.stream == stream && $0.position < foldAt }
                for asOf in asOfs {
                    // Rows before the fold point were all recorded by its time, so the fold bound needs no term here.
                    let byRecorded = folded.filter { $0.recorded <= asOf }.max { ($0.recorded, $0.version) < ($1.recorded, $1.version) }
                    for validAt in validAts {
                        let byEffective = folded.filter { $0.effective <= validAt }
                            .max { ($0.effective, $0.version) < ($1.effective, $1.version) }
                        let expected = byRecorded.flatMap { recorded in byEffective.map { min(recorded.version, $0.version) } }
                        let slice = TimeSlice(asOf: Timestamp(millisecondsSinceEpoch: asOf), validAt: Timestamp(millisecondsSinceEpoch: validAt))
                        #expect(try store.visibleVersion(stream, at: slice) == expected,
                                "fold at \(foldAt), \(stream), asOf \(asOf), validAt \(validAt)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 5_000)
    }
}
