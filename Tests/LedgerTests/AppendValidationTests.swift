import Foundation
import Testing

@testable import Ledger

/// The envelope checks every new append passes (`AppendValidation`), here those of its actor.
@Suite struct AppendValidationTests {
    let directory = TemporaryDirectory()

    /// Events are immutable: an actor with an empty id or role, or an organisation that names none (what
    /// `planledger append --organisation goal/X` once stored as `organisation/goal/X`), is refused before anything
    /// is stored, whoever builds the actor.
    @Test func anActorNoEventMayRecordIsRefusedAndNothingIsStored() throws {
        defer { directory.remove() }
        let ledger = try Ledger(path: directory.file("ledger.sqlite"), hook: NoHook())
        defer { ledger.close() }
        let refused: [(Actor, String)] = [
            (Actor(id: "", role: "planner"), "actor.id"),
            (Actor(id: " ", role: "planner"), "actor.id"),
            (Actor(id: "planner-7", role: ""), "actor.role"),
            (Actor(id: "planner-7", role: "planner", organisation: "organisation/goal/X"), "actor.organisation"),
            (Actor(id: "planner-7", role: "planner", organisation: "goal/X"), "actor.organisation"),
            (Actor(id: "planner-7", role: "planner", organisation: "QWO"), "actor.organisation"),
            (Actor(id: "planner-7", role: "planner", organisation: ""), "actor.organisation"),
        ]
        for (actor, field) in refused {
            var append = transaction("goal/G-1", .noStream, event())
            append.actor = actor
            let error = expectLedgerError("invalid_actor") { _ = try ledger.append(append) }
            #expect(error?.details["field"] == .string(field), "\(actor)")
        }
        #expect(ledger.size == 0)
        var valid = transaction("goal/G-1", .noStream, event())
        valid.actor = Actor(id: "planner-7", role: "planner", organisation: "organisation/QWO")
        #expect(try ledger.append(valid).events.count == 1)
        valid = transaction("goal/G-2", .noStream, event())
        valid.actor = Actor(id: "planner-7", role: "planner")
        #expect(try ledger.append(valid).events.count == 1)
    }

    /// An import loads records verbatim: an archive of a ledger that recorded such an actor (before appends refused
    /// it) still imports, or it could never be moved to a newer build.
    @Test func anImportKeepsTheActorsAnOlderBuildStored() throws {
        defer { directory.remove() }
        let recorded = RecordedEvent(
            position: 1, id: "7d444840-9dc0-11d1-b245-5ffdce74fad2", stream: StreamName("goal/G-1")!, version: 1,
            type: "Noted", schemaVersion: 1, recordedAt: Timestamp(parsing: "2022-06-01")!,
            effectiveAt: Timestamp(parsing: "2022-06-01")!,
            actor: Actor(id: "", role: "", organisation: "organisation/goal/X"), reason: nil, correlationId: nil,
            causationId: nil, data: ["n": 1], hash: MerkleTree.emptyRoot)
        let record = recorded.withHash(recorded.computedHash)
        let importer = try LedgerImporter(path: directory.file("imported.sqlite"), hook: NoHook())
        try importer.add(record)
        try importer.commit(expected: (1, MerkleTree.leafHash(record.canonicalBytes)))
        let ledger = try Ledger(path: directory.file("imported.sqlite"), hook: NoHook())
        defer { ledger.close() }
        #expect(try ledger.stream(StreamName("goal/G-1")!).first?.actor == record.actor)
    }
}
