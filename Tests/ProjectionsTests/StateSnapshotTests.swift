import Foundation
import Ledger
import Planning
import SQLite
import Testing

@testable import Projections

/// `entity_versions` keeps an entity's full state only every `snapshotInterval` versions; reads in between fold the
/// log's events after the nearest snapshot. These tests use one long stream, so that every read position relative
/// to a snapshot (on it, just after, just before the next) is exercised against a naive fold.
@Suite struct StateSnapshotTests {
    let actor = Actor(id: "tester", role: "planner")
    let measure = StreamName("measure/M-LONG")!
    let day: Int64 = 86_400_000

    /// An organisation, a goal and a measure, then `readings` readings in transactions of 1–3, one recorded per
    /// day; every fifth transaction is backdated by up to 20 days (valid time still never goes back along the stream).
    func longLedger(readings: Int) throws -> (TestLedger, [RecordedEvent]) {
        let test = try TestLedger()
        var events = try test.append(AppendTransaction(streams: [
            StreamAppend(stream: StreamName("organisation/ORG")!, expectedVersion: .noStream, events: [
                ProposedEvent(type: "OrganisationRegistered", data: ["name": "Org", "kind": "trust"])]),
            StreamAppend(stream: StreamName("goal/G")!, expectedVersion: .noStream, events: [
                ProposedEvent(type: "GoalDefined", data: ["title": "Goal", "level": "objective",
                                                         "owner": ["organisation": "organisation/ORG", "role": "Director"]])]),
            StreamAppend(stream: measure, expectedVersion: .noStream, events: [
                ProposedEvent(type: "MeasureDefined", data: ["goal": "goal/G", "title": "Waits", "unit": "weeks",
                                                            "direction": "lower_is_better", "baseline": ["value": 10, "at": "2023-01-01"]]),
                ProposedEvent(type: "MeasureTargetSet", data: ["value": 0, "due": "2026-01-01", "tolerance": 2])]),
        ], actor: actor), at: time("2023-01-01"))
        var recorded = time("2023-01-02").millisecondsSinceEpoch
        var lastEffective = recorded
        var written = 0
        var round = 0
        while written < readings {
            round += 1
            recorded += day
            let effective = max(lastEffective, round % 5 == 0 ? recorded - Int64(round % 20) * day : recorded)
            lastEffective = effective
            let count = min(readings - written, 1 + round % 3)
            let at = Timestamp(millisecondsSinceEpoch: effective)
            events += try test.append(AppendTransaction(streams: [
                StreamAppend(stream: measure, expectedVersion: .exists, events: (0..<count).map { n in
                    ProposedEvent(type: "MeasureReadingRecorded", effectiveAt: at,
                                  data: ["value": .number(Double((written + n) % 13)), "at": .string(at.rfc3339)])
                }),
            ], actor: actor), at: Timestamp(millisecondsSinceEpoch: recorded))
            written += count
        }
        return (test, events)
    }

    @Test func everyVersionReadsAsTheNaiveFoldOfItsPrefix() throws {
        let (test, events) = try longLedger(readings: 3 * ProjectionSchema.snapshotInterval + 5)
        defer { test.close() }
        let measureEvents = events.filter { $0.stream == measure }
        #expect(measureEvents.count > 3 * ProjectionSchema.snapshotInterval)
        // Only the snapshot versions carry a state: the rest are folded on read.
        let snapshots = try Database(path: test.path, options: .init(readOnly: true)).scalarInt(
            "SELECT COUNT(*) FROM entity_versions WHERE stream = ?1", [.text(measure.description)])
        #expect(snapshots == Int64((measureEvents.count - 1) / ProjectionSchema.snapshotInterval + 1))

        // Every (asOf, validAt) pair at the times of the measure's events, and just before them.
        let asOfs = Set(measureEvents.flatMap { [$0.recordedAt.millisecondsSinceEpoch - 1, $0.recordedAt.millisecondsSinceEpoch] })
        let validAts = Set(measureEvents.map(\.effectiveAt.millisecondsSinceEpoch))
        var checked = 0
        for asOf in asOfs.sorted() {
            var naive = InMemoryPlanningState()
            for event in events where event.recordedAt.millisecondsSinceEpoch <= asOf { try naive.apply(event, validate: false) }
            for validAt in validAts.sorted() {
                let slice = TimeSlice(asOf: Timestamp(millisecondsSinceEpoch: asOf), validAt: Timestamp(millisecondsSinceEpoch: validAt))
                let expected = try naive.entity(measure, validAt: slice.validAt)
                let actual = try? test.model.entity(measure, at: slice)
                #expect((actual == nil) == (expected == nil))
                guard let expected, let actual else { continue }
                #expect(actual["version"]?.intValue == expected.version, "\(asOf) / \(validAt)")
                #expect(actual["status"]?.stringValue == expected.status)
                #expect(actual["state"] == expected.fields, "\(asOf) / \(validAt)")
                checked += 1
            }
        }
        #expect(checked > 1_000)
    }

    @Test func historyShowsEachVersionsChangesAcrossSnapshots() throws {
        let (test, events) = try longLedger(readings: 2 * ProjectionSchema.snapshotInterval + 3)
        defer { test.close() }
        var naive = InMemoryPlanningState()
        for event in events { try naive.apply(event, validate: false) }
        let versions = naive.versions[measure]!
        let entries = try test.model.history(measure)["events"]!.arrayValue!
        #expect(entries.count == versions.count)
        for (index, entry) in entries.enumerated() {
            let before = index == 0 ? JSONValue.object([:]) : versions[index - 1].fields
            #expect(entry["version"]?.intValue == versions[index].version)
            #expect(entry["status"]?.stringValue == versions[index].status)
            #expect(entry["changes"] == .array(FieldDiff.changes(from: before, to: versions[index].fields)), "version \(index + 1)")
        }
    }

    @Test func projectionsOfAnOlderLayoutAreRebuiltWhenTheLedgerOpens() throws {
        let (test, _) = try longLedger(readings: 20)
        let current = try test.model.entity(measure, at: .now)
        test.ledger.close()
        // As a ledger written before layouts were recorded would look: no layout mark, rows this version would
        // misread (here: none at all), and none of the indexes on the log that layout 5 added.
        let database = try Database(path: test.path)
        try database.execute("""
            DELETE FROM projection_meta; DELETE FROM entity_versions; DROP INDEX events_by_stream_recorded;
            DROP INDEX events_by_stream_effective; DROP INDEX events_by_effective
            """)
        defer { try? FileManager.default.removeItem(atPath: test.directory) }
        try expectRebuiltWhenOpened(test, database, current: current)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                       + "('events_by_stream_recorded', 'events_by_stream_effective', 'events_by_effective')") == 3)
    }

    /// Opens `test`'s closed ledger for writing again: its projections must come back in this layout, giving the
    /// measure's `current` state.
    func expectRebuiltWhenOpened(_ test: TestLedger, _ database: Database, current: JSONValue) throws {
        let reopened = try Ledger(path: test.path, hook: PlanningProjector())
        defer { reopened.close() }
        #expect(try PlanningReadModel(ledger: reopened).entity(measure, at: .now) == current)
        #expect(try database.scalarText("SELECT value FROM projection_meta WHERE key = 'layout'") == ProjectionSchema.layout)
    }

    /// A file of layout 5, whose snapshot table was keyed (stream, recorded_at, version) and had a `position` column:
    /// opened for writing, its projections are rebuilt in this layout's shape, with the same answers.
    @Test func snapshotsOfLayoutFiveAreRebuiltKeyedByStreamAndVersion() throws {
        let (test, _) = try longLedger(readings: 2 * ProjectionSchema.snapshotInterval + 3)
        let current = try test.model.entity(measure, at: .now)
        let snapshots = try test.ledger.read { try $0.scalarInt("SELECT COUNT(*) FROM entity_versions") }
        test.ledger.close()
        let database = try Database(path: test.path)
        // Layout 5's table, holding the same snapshots with their log positions.
        try database.execute("""
            CREATE TABLE layout5_versions (
                stream TEXT NOT NULL, recorded_at INTEGER NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL,
                effective_at INTEGER NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
                fields TEXT NOT NULL, PRIMARY KEY (stream, recorded_at, version)
            ) WITHOUT ROWID;
            INSERT INTO layout5_versions
              SELECT v.stream, v.recorded_at, v.version, e.position, v.effective_at, v.kind, v.status, v.created_at, v.fields
              FROM entity_versions v JOIN events e ON e.stream = v.stream AND e.version = v.version;
            DROP TABLE entity_versions;
            ALTER TABLE layout5_versions RENAME TO entity_versions;
            CREATE INDEX entity_versions_by_kind ON entity_versions (kind, stream) WHERE version = 1;
            UPDATE projection_meta SET value = '5' WHERE key = 'layout'
            """)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM entity_versions") == snapshots)
        defer { try? FileManager.default.removeItem(atPath: test.directory) }
        try expectRebuiltWhenOpened(test, database, current: current)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM entity_versions") == snapshots)
        let key = try database.map("SELECT name FROM pragma_table_info('entity_versions') WHERE pk > 0 ORDER BY pk") {
            $0.text(0)
        }
        #expect(key == ["stream", "version"])
        #expect(try database.scalarInt("SELECT COUNT(*) FROM pragma_table_info('entity_versions') WHERE name = 'position'") == 0)
    }
}
