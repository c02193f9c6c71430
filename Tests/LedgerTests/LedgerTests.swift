import Foundation
import SQLite
import Synchronization
import Testing

@testable import Ledger

@Suite struct LedgerTests {
    let directory = TemporaryDirectory()
    let clock = ManualClock()

    func openLedger(_ hook: any LedgerHook = NoHook()) throws -> Ledger {
        try Ledger(path: directory.file("ledger.sqlite"), hook: hook, clock: clock.function)
    }

    @Test func appendAssignsPositionsVersionsTimesAndHashes() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        let first = try ledger.append(transaction("goal/G-1", .noStream, event("A"), event("B", effectiveAt: "2022-07-01")))
        #expect(first.events.map(\.position) == [1, 2])
        #expect(first.events.map(\.version) == [1, 2])
        #expect(first.events[0].recordedAt.rfc3339 == "2022-06-01T09:00:00.000Z")
        #expect(first.events[0].effectiveAt == first.events[0].recordedAt)
        #expect(first.events[1].effectiveAt.rfc3339 == "2022-07-01T00:00:00.000Z")
        #expect(first.events.allSatisfy { $0.hash == $0.computedHash })
        #expect(first.checkpoint.size == 2 && !first.alreadyStored)

        let read = try ledger.stream(StreamName("goal/G-1")!)
        #expect(read == first.events)
        #expect(try ledger.events(after: 1) == [first.events[1]])
        #expect(try ledger.checkpoint() == first.checkpoint)
    }

    @Test func eventsSentWithoutIdsGetDistinctLowercaseTimeOrderedUUIDs() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        var transactions: [[String]] = []
        for _ in 0..<3 {
            let events = (0..<200).map { _ in event("A") }
            let append = StreamAppend(stream: StreamName("goal/G-1")!, expectedVersion: .any, events: events)
            transactions.append(try ledger.append(AppendTransaction(streams: [append], actor: testActor)).events.map(\.id))
            usleep(2_000)
        }
        let ids = transactions.flatMap { $0 }
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect(Set(ids).count == ids.count)
        var previousTime: UInt64 = 0
        for id in ids {
            #expect(id == id.lowercased() && UUID(uuidString: id) != nil)
            let bytes = Array(id.utf8)
            #expect(bytes[14] == UInt8(ascii: "7"))  // version 7
            #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(bytes[19]))  // variant
            // The first 48 bits are the Unix time in milliseconds when the id was made.
            let time = try #require(UInt64(id.prefix(8) + id.dropFirst(9).prefix(4), radix: 16))
            #expect(before <= time && time <= after)
            #expect(time >= previousTime, "ids made later sort later")
            previousTime = time
        }
        for (earlier, later) in zip(transactions, transactions.dropFirst()) {
            #expect(earlier.max()! < later.min()!, "ids made at least a millisecond later sort after")
        }
        #expect(EventIdGenerator.next(unixMilliseconds: 0x0123_4567_89AB).hasPrefix("01234567-89ab-7"))
    }

    @Test func servedEnvelopeRecomputesToItsHash() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        let record = try ledger.append(transaction("decision/D-1", .any, event("DecisionTaken", reason: "board",
                                                                                  ["x": 1.5, "s": "é\n"]))).events[0]
        // An independent client: parse the served JSON, drop `hash`, canonicalise, hash with the 0x00 prefix.
        let served = try JSONParser.parse(CanonicalJSON.encode(record.json))
        var members = served.objectValue!
        let hash = members.removeValue(forKey: "hash")!.stringValue!
        #expect(MerkleTree.leafHash(CanonicalJSON.encode(.object(members))).hex == hash)
        #expect(members["correlationId"] == nil, "absent optional fields are omitted, never null")
    }

    @Test func textWithNULCharactersIsStoredWholeAndVerifies() throws {
        // JSON's "\u0000" escape puts U+0000 into a string. The hash covers the whole string, so storing it cut at the
        // NUL (as a C string would be) would lose text and make the event fail verification.
        defer { directory.remove() }
        let ledger = try openLedger()
        let record = try ledger.append(transaction("decision/D-1", .any, event("DecisionTaken", reason: "before\u{0}after",
                                                                                  ["s": "a\u{0}b"]))).events[0]
        ledger.close()
        let reopened = try openLedger()
        defer { reopened.close() }
        let stored = try #require(try reopened.event(id: record.id))
        #expect(stored.reason == "before\u{0}after")
        #expect(stored.data["s"] == "a\u{0}b")
        #expect(try LedgerVerifier(path: directory.file("ledger.sqlite")).verify().failure == nil)
    }

    @Test func expectedVersionConflictsNameStreamExpectedAndActual() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        _ = try ledger.append(transaction("goal/G-1", .noStream, event()))
        let conflict = expectLedgerError("version_conflict") {
            _ = try ledger.append(transaction("goal/G-1", .noStream, event()))
        }
        #expect(conflict?.kind == .conflict)
        #expect(conflict?.details["stream"] == "goal/G-1")
        #expect(conflict?.details["expected"] == "noStream")
        #expect(conflict?.details["actual"] == 1)
        expectLedgerError("version_conflict") { _ = try ledger.append(transaction("goal/G-2", .exists, event())) }
        expectLedgerError("version_conflict") { _ = try ledger.append(transaction("goal/G-1", .exact(0), event())) }
        _ = try ledger.append(transaction("goal/G-1", .exact(1), event()))
        _ = try ledger.append(transaction("goal/G-1", .exists, event()))
        #expect(try ledger.version(of: StreamName("goal/G-1")!) == 3)
    }

    @Test func idempotentResendReturnsStoredRecordsAndAppendsNothing() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        let id = "7D444840-9DC0-11D1-B245-5FFDCE74FAD2"
        let original = transaction("goal/G-1", .noStream, event("A", id: id), event("B"))
        let withIds = try ledger.append(original)
        var resend = original
        resend.streams[0].events[1].id = withIds.events[1].id
        clock.advance(milliseconds: 60_000)
        let again = try ledger.append(resend)
        #expect(again.alreadyStored)
        #expect(again.events == withIds.events)
        #expect(again.events[0].id == id.lowercased())
        #expect(ledger.size == 2)

        var changed = resend
        changed.streams[0].events[0].data = ["n": 2]
        expectLedgerError("id_conflict") { _ = try ledger.append(changed) }
        let partial = transaction("goal/G-1", .any, event("A", id: id), event("C"))
        expectLedgerError("id_conflict") { _ = try ledger.append(partial) }
        var otherActor = resend
        otherActor.actor = Actor(id: "someone-else", role: "admin")
        expectLedgerError("id_conflict") { _ = try ledger.append(otherActor) }
        #expect(ledger.size == 2)
    }

    @Test func failingMultiStreamTransactionStoresNothing() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        _ = try ledger.append(transaction("goal/G-1", .noStream, event()))
        let before = try ledger.checkpoint()
        let mixed = AppendTransaction(streams: [
            StreamAppend(stream: StreamName("goal/G-2")!, expectedVersion: .noStream, events: [event(), event()]),
            StreamAppend(stream: StreamName("goal/G-1")!, expectedVersion: .noStream, events: [event()]),
        ], actor: testActor)
        expectLedgerError("version_conflict") { _ = try ledger.append(mixed) }
        #expect(try ledger.checkpoint() == before)
        #expect(try ledger.version(of: StreamName("goal/G-2")!) == 0)
        #expect(try ledger.stream(StreamName("goal/G-2")!).isEmpty)
        // The next append continues without a gap.
        #expect(try ledger.append(transaction("goal/G-3", .any, event())).events[0].position == 2)
    }

    @Test func hookRejectionRollsBackEverything() throws {
        defer { directory.remove() }
        let ledger = try openLedger(RecordingHook())
        defer { ledger.close() }
        let error = expectLedgerError("bad_event") {
            _ = try ledger.append(transaction("goal/G-1", .any, event("Good"), event("Bad")))
        }
        #expect(error?.details["index"] == 1)
        expectLedgerError("unknown_type") { _ = try ledger.append(transaction("goal/G-1", .any, event("Unknown"))) }
        let stored = try ledger.append(transaction("goal/G-1", .any, event("Good"))).events[0]
        #expect(stored.schemaVersion == 3 && stored.position == 1)
        let seen = try ledger.read { try $0.map("SELECT position FROM seen") { $0.int(0) } }
        #expect(seen == [1], "the rejected transaction's projection rows were rolled back")
    }

    @Test func envelopeValidationNamesIndexAndField() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        var error = expectLedgerError("invalid_type") {
            _ = try ledger.append(transaction("goal/G-1", .any, event(), event("lowercase")))
        }
        #expect(error?.details["index"] == 1 && error?.details["field"] == "type")
        error = expectLedgerError("invalid_id") { _ = try ledger.append(transaction("goal/G-1", .any, event(id: "nope"))) }
        #expect(error?.kind == .invalidInput)
        expectLedgerError("invalid_data") {
            _ = try ledger.append(transaction("goal/G-1", .any, event("A", [1, 2])))
        }
        expectLedgerError("duplicate_id") {
            let id = UUID().uuidString
            _ = try ledger.append(transaction("goal/G-1", .any, event(id: id), event(id: id)))
        }
        expectLedgerError("invalid_reason") { _ = try ledger.append(transaction("goal/G-1", .any, event(reason: ""))) }
        expectLedgerError("empty_transaction") {
            _ = try ledger.append(AppendTransaction(streams: [], actor: testActor))
        }
        #expect(ledger.size == 0)
    }

    /// A ledger let go without `close()` is closed as it goes, as `close()` would: the appends it had queued are
    /// stored, its threads stop (the writer's used to run on, referring to the freed writer unowned), and its
    /// write-ahead log is folded into the file.
    @Test func aLedgerLetGoWithoutClosingIsClosed() throws {
        defer { directory.remove() }
        weak var released: Ledger?
        do {
            let ledger = try openLedger()
            released = ledger
            for index in 0..<50 { ledger.submit(transaction("goal/G-\(index)", .any, event())) { _ in } }
        }
        #expect(released == nil, "nothing keeps a ledger alive once its owner lets go")
        let wal = directory.file("ledger.sqlite") + "-wal"
        #expect((try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0 == 0, "absent or empty")
        let again = try openLedger()
        defer { again.close() }
        #expect(try again.checkpoint().size == 50)
        #expect(try LedgerVerifier(path: again.path).verify().isValid)
    }

    /// The last reference to a ledger let go inside an append's completion, on the writer's own thread: closing
    /// it there must not wait for that thread (it waited for itself), and the append is stored.
    @Test func aLedgerLetGoInsideACompletionDoesNotWaitForItself() throws {
        defer { directory.remove() }
        let holder = Mutex<Ledger?>(try openLedger())
        let released = DispatchSemaphore(value: 0)
        holder.withLock { ledger in
            ledger!.submit(transaction("goal/G-1", .any, event())) { _ in
                holder.withLock { $0 = nil }
                released.signal()
            }
        }
        #expect(released.wait(timeout: .now() + 5) == .success, "the completion returned")
        let again = try openLedger()
        defer { again.close() }
        #expect(try again.checkpoint().size == 1)
    }

    @Test func recordedAtNeverDecreasesEvenWhenTheClockStepsBack() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        clock.set("2022-06-01T12:00:00Z")
        let first = try ledger.append(transaction("goal/G-1", .any, event())).events[0]
        clock.set("2021-01-01T00:00:00Z")
        let second = try ledger.append(transaction("goal/G-2", .any, event())).events[0]
        #expect(second.recordedAt == first.recordedAt)
        clock.set("2022-06-02T00:00:00Z")
        let third = try ledger.append(transaction("goal/G-3", .any, event())).events[0]
        #expect(third.recordedAt > second.recordedAt)
    }

    /// A sender's condition is checked in the shared commit before each stream's first event, on the state that
    /// event is appended to: it sees the transactions before it in the group and the streams before it in its own
    /// transaction, and refusing one transaction undoes only that one.
    @Test func appendConditionsSeeTheStateEachStreamIsAppendedTo() throws {
        defer { directory.remove() }
        let hook = RecordingHook()
        let ledger = try openLedger(hook)
        defer { ledger.close() }
        let results = hook.appendTogether(ledger, [
            transaction("goal/G-1", .any, event("Good")),
            transaction("goal/LOCK", .any, event("Good")),
            transaction("goal/G-2", .any, event("Good"), event("Good")),
            transaction("goal/G-3", .any, event("Good")),
        ], conditions: [0: UnlessLocked(by: "goal/LOCK"), 2: UnlessLocked(by: "goal/LOCK")])
        #expect(results.map { (try? $0.get())?.events.map(\.position) } == [[2], [3], nil, [4]])
        #expect(results.map { $0.failureCode } == [nil, nil, "locked", nil])

        // Within one transaction: the second stream is checked after the first was appended.
        var twoStreams = transaction("goal/LOCK-2", .any, event("Good"))
        twoStreams.streams += transaction("goal/G-4", .any, event("Good")).streams
        let size = try ledger.checkpoint().size
        let refused = expectLedgerError("locked") {
            _ = try ledger.append(twoStreams, condition: UnlessLocked(by: "goal/LOCK-2"))
        }
        #expect(refused?.details["index"] == 1)
        #expect(try ledger.checkpoint().size == size)
        #expect(try ledger.append(twoStreams).events.count == 2, "stored without the condition")
        #expect(try LedgerVerifier(path: ledger.path).verify().isValid)
    }

    /// Refuses writing once `lock` has an event before the one being written.
    struct UnlessLocked: AppendCondition {
        let lock: String
        init(by lock: String) { self.lock = lock }

        func check(_ first: RecordedEvent, database: Database) throws {
            let before = try database.scalarInt("SELECT COUNT(*) FROM events WHERE stream = ?1 AND position < ?2",
                                                [.text(lock), .integer(Int64(first.position))])
            if before != 0 { throw LedgerError(.forbidden, code: "locked", "\(first.stream) is locked") }
        }
    }

    @Test func effectiveAtNeverDecreasesAlongAStream() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        _ = try ledger.append(transaction("goal/G-1", .any, event(effectiveAt: "2022-04-01")))
        let error = expectLedgerError("effective_time_regression") {
            _ = try ledger.append(transaction("goal/G-1", .any, event(effectiveAt: "2022-03-31")))
        }
        #expect(error?.details["field"] == "effectiveAt")
        // Backdating is fine on a new stream, and equal times are fine on the same stream.
        _ = try ledger.append(transaction("goal/G-2", .any, event(effectiveAt: "2020-01-01")))
        _ = try ledger.append(transaction("goal/G-1", .any, event(effectiveAt: "2022-04-01")))
        expectLedgerError("effective_time_regression") {
            _ = try ledger.append(transaction("goal/G-3", .any, event(effectiveAt: "2022-04-01"), event(effectiveAt: "2022-01-01")))
        }
    }

    /// Transactions that share a commit are still all-or-nothing each: one the hook rejects after its events were
    /// written leaves nothing behind, and the others are stored as if it had never been sent.
    @Test func aSharedCommitUndoesOnlyItsFailingTransactions() throws {
        defer { directory.remove() }
        let hook = RecordingHook()
        let ledger = try openLedger(hook)
        defer { ledger.close() }
        let statisticsBefore = ledger.statistics

        // The first group fails part-way through (a rejection after writing) as well as before writing.
        let first = hook.appendTogether(ledger, [
            transaction("goal/G-1", .any, event("Good")),
            transaction("goal/G-2", .any, event("Good"), event("Bad")),
            transaction("goal/G-3", .any, event("Good")),
            transaction("goal/G-4", .any, event("Unknown")),
            transaction("goal/G-1", .noStream, event("Good")),  // G-1 has its first event from this same commit
            transaction("goal/G-5", .any, event("Good"), event("Good")),
        ])
        #expect(first.map { (try? $0.get())?.events.map(\.position) } == [[2], nil, [3], nil, nil, [4, 5]])
        #expect(first.map { $0.failureCode } == [nil, "bad_event", nil, "unknown_type", "version_conflict", nil])
        // Applied in the optimistic pass up to the rejection (2), then all four again, each in its own savepoint.
        #expect(hook.appliedTransactions == 1 + 2 + 4)

        // The second fails only before writing: nothing is undone, so nothing is applied twice.
        let second = hook.appendTogether(ledger, [
            transaction("goal/G-6", .any, event("Good")),
            transaction("goal/G-6", .noStream, event("Good")),
            transaction("goal/G-7", .any, event("Good")),
        ])
        #expect(second.map { (try? $0.get())?.events.map(\.position) } == [[7], nil, [8]])
        #expect(hook.appliedTransactions == 7 + 1 + 2)

        let statistics = ledger.statistics
        #expect(statistics.commits - statisticsBefore.commits == 4, "each group shared one commit after its gate's")
        #expect(try ledger.read { try $0.map("SELECT position FROM seen ORDER BY position") { $0.int(0) } } == Array(1...8))
        #expect(try ledger.stream(StreamName("goal/G-2")!).isEmpty)
        #expect(try ledger.version(of: StreamName("goal/G-1")!) == 1)
        #expect(try ledger.checkpoint().size == 8)
        #expect(try LedgerVerifier(path: ledger.path).verify().isValid)
    }

    /// When SQLite itself rolls back the transaction a group shares (it does after a full disk or an I/O error), no
    /// transaction of the group is stored, each is answered with the failure, and nothing is written outside a
    /// transaction afterwards.
    @Test func aGroupWhoseSQLiteTransactionWasRolledBackStoresNothing() throws {
        defer { directory.remove() }
        let hook = RecordingHook()
        let ledger = try openLedger(hook)
        defer { ledger.close() }
        let results = hook.appendTogether(ledger, [
            transaction("goal/G-1", .any, event("Good")),
            transaction("goal/G-2", .any, event("Abort")),
            transaction("goal/G-3", .any, event("Good")),
        ])
        #expect(results.map { $0.failureCode } == ["storage_error", "storage_error", "storage_error"])
        for stream in ["goal/G-1", "goal/G-2", "goal/G-3"] {
            #expect(try ledger.stream(StreamName(stream)!).isEmpty, "\(stream)")
        }
        // Only the gate's commit stands, and the ledger goes on from it.
        #expect(try ledger.append(transaction("goal/G-4", .any, event("Good"))).events[0].position == 2)
        #expect(try ledger.read { try $0.map("SELECT position FROM seen ORDER BY position") { $0.int(0) } } == [1, 2])
        #expect(try LedgerVerifier(path: ledger.path).verify().isValid)
    }

    /// Many concurrent writers: every acknowledged event is stored exactly once, in a gapless order, and the
    /// writers shared commits (fewer commits than transactions).
    @Test func groupCommitStoresEveryAcknowledgedEventOnceInOrder() async throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        let writers = 32
        let perWriter = 20
        let acknowledged = Collected<RecordedEvent>()
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for n in 0..<perWriter {
                        let result = try? await ledger.append(transaction("goal/W-\(writer)", .exact(n),
                                                                          event("A", ["writer": JSONValue(writer), "n": JSONValue(n)])))
                        if let result { acknowledged.append(contentsOf: result.events) }
                    }
                }
            }
        }
        let shared = ledger.statistics
        #expect(shared.transactions == writers * perWriter)
        #expect(shared.commits < shared.transactions, "concurrent appends shared commits")
        ledger.close()
        let acks = acknowledged.all
        #expect(acks.count == writers * perWriter)
        let reopened = try openLedger()
        defer { reopened.close() }
        let all = try reopened.events(after: 0, limit: 10_000)
        #expect(all.map(\.position) == Array(1...(writers * perWriter)))
        #expect(Set(all.map(\.id)) == Set(acks.map(\.id)))
        for writer in 0..<writers {
            let stream = try reopened.stream(StreamName("goal/W-\(writer)")!)
            #expect(stream.map { $0.data["n"]!.intValue! } == Array(0..<perWriter))
        }
        #expect(try LedgerVerifier(path: reopened.path).verify().isValid)
    }

    @Test func checkpointsAndProofsMatchTheReferenceTree() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        var reference = InMemoryMerkleTree()
        for n in 0..<37 {
            let record = try ledger.append(transaction("goal/G-\(n % 5)", .any, event())).events[0]
            reference.append(record.hash)
            #expect(try ledger.checkpoint().rootHash == reference.rootHash(size: n + 1))
        }
        for size in [1, 2, 7, 16, 31, 37] {
            #expect(try ledger.checkpoint(size: size).rootHash == reference.rootHash(size: size))
            for position in 1...size {
                let proof = try ledger.inclusionProof(position: position, size: size)
                #expect(proof.isValid)
                #expect(proof.path == (try reference.inclusionPath(leafIndex: position - 1, size: size)))
            }
            for from in 1...size {
                let proof = try ledger.consistencyProof(from: from, to: size)
                #expect(proof.isValid, "\(from)->\(size)")
            }
        }
        expectLedgerError("position_out_of_range") { _ = try ledger.inclusionProof(position: 38) }
        expectLedgerError("size_out_of_range") { _ = try ledger.checkpoint(size: 99) }
    }

    @Test func reopeningContinuesTheTree() throws {
        defer { directory.remove() }
        var ledger = try openLedger()
        for n in 0..<11 { _ = try ledger.append(transaction("goal/G-\(n)", .any, event())) }
        ledger.close()
        ledger = try openLedger()
        for n in 0..<6 { _ = try ledger.append(transaction("goal/H-\(n)", .any, event())) }
        let report = try LedgerVerifier(path: ledger.path).verify()
        #expect(report.isValid)
        #expect(report.rootHash == (try ledger.checkpoint().rootHash))
        ledger.close()
    }

    /// A closed ledger's database file holds every acknowledged event by itself, even while other connections to
    /// it stay open (a server keeps some until it exits), so a copy of the file alone is complete.
    @Test func closingFoldsTheWriteAheadLogIntoTheFile() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        let reader = try Database(path: ledger.path, options: .init(readOnly: true))
        #expect(try reader.scalarInt("SELECT COUNT(*) FROM events") == 0)
        for n in 0..<20 { _ = try ledger.append(transaction("goal/G-\(n)", .any, event())) }
        let wal = ledger.path + "-wal"
        #expect((try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0) > 0)
        ledger.close()
        #expect((try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) == 0)
        let copy = directory.file("copy.sqlite")
        try FileManager.default.copyItem(atPath: ledger.path, toPath: copy)
        let copied = try Database(path: copy, options: .init(readOnly: true, create: false))
        #expect(try copied.scalarInt("SELECT COUNT(*) FROM events") == 20)
        #expect(try reader.scalarInt("SELECT COUNT(*) FROM events") == 20)
    }

    /// While a reader elsewhere still reads from the WAL, closing leaves it in place at once rather than holding
    /// the file's write lock until that reader is done (up to the 5 s busy timeout), and loses nothing.
    @Test func closingBesideAnOpenReadLeavesTheWriteAheadLogWithoutWaiting() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        for n in 0..<5 { _ = try ledger.append(transaction("goal/G-\(n)", .any, event())) }
        let reader = try Database(path: ledger.path, options: .init(readOnly: true))
        try reader.execute("BEGIN")
        #expect(try reader.scalarInt("SELECT COUNT(*) FROM events") == 5)
        let started = Date()
        ledger.close()
        ledger.close()  // a second close does nothing more
        #expect(Date().timeIntervalSince(started) < 2)
        try reader.execute("COMMIT")
        let reopened = try openLedger()
        #expect(reopened.size == 5)
        reopened.close()
    }

    /// `close()` closes every connection of the ledger before it returns, the writer's last, so that SQLite removes
    /// the `-wal` and `-shm` then, not whenever the writer's thread lets go of its connection as it ends: a CLI
    /// command's process exits right after closing, and when it got there first the files stayed beside the ledger
    /// (how `WriteProtectedLedgerTests` once found a `-wal` and `-shm` beside a ledger `demo` had just made).
    @Test func closingLeavesNoFilesBesideTheLedgerWhileTheObjectLivesOn() throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        for n in 0..<5 { _ = try ledger.append(transaction("goal/G-\(n)", .any, event())) }
        #expect(try ledger.events().count == 5)  // a reader connection, kept for reuse
        ledger.close()
        withExtendedLifetime(ledger) {
            for suffix in ["-wal", "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: ledger.path + suffix), "\(suffix)")
            }
        }
        let reopened = try openLedger()
        #expect(reopened.size == 5)
        reopened.close()
    }

    @Test func waitForEventsWakesOnCommit() async throws {
        defer { directory.remove() }
        let ledger = try openLedger()
        defer { ledger.close() }
        #expect(!ledger.waitForEvents(after: 0, timeout: 0.05))
        let waiter = Thread { _ = ledger.waitForEvents(after: 0, timeout: 5) }
        waiter.start()
        _ = try await ledger.append(transaction("goal/G-1", .any, event()))
        #expect(ledger.waitForEvents(after: 0, timeout: 1))
    }
}

/// Two writers on one file (a CLI command beside a running server): each continues from the ledger as it is.
@Suite struct SharedFileTests {
    @Test func appendsFromAnotherConnectionAreContinuedNotOverwritten() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let server = try Ledger(path: path)
        let cli = try Ledger(path: path)
        _ = try server.append(transaction("goal/S-1", .any, event()))
        _ = try cli.append(transaction("goal/C-1", .any, event()))
        _ = try cli.append(transaction("goal/C-2", .any, event()))
        let third = try server.append(transaction("goal/S-2", .any, event()))
        #expect(third.events[0].position == 4)
        #expect(third.checkpoint.size == 4)
        cli.close()
        server.close()
        #expect(try LedgerVerifier(path: path).verify().isValid)
    }
}

/// Records each position it applies in `seen`; rejects events of type "Bad" after recording them (a failure after
/// writing began), rolls the whole SQLite transaction back for type "Abort" (as SQLite does after a full disk) and
/// knows no type "Unknown". `appendTogether` makes transactions share one commit.
final class RecordingHook: LedgerHook {
    private let applied = Mutex(0)
    private let writerHeld = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)

    /// Calls of `apply` (one per transaction tried, including tries that were undone).
    var appliedTransactions: Int { applied.withLock { $0 } }

    func prepare(database: Database) throws {
        try database.execute("CREATE TABLE IF NOT EXISTS seen (position INTEGER)")
    }
    func currentSchemaVersion(of type: String) -> Int? { type == "Unknown" ? nil : 3 }
    func resetProjections(database: Database) throws {}
    func project(_ record: RecordedEvent, database: Database) throws {}
    func apply(_ records: [RecordedEvent], database: Database) throws {
        applied.withLock { $0 += 1 }
        for (index, record) in records.enumerated() {
            try database.run("INSERT INTO seen VALUES (?1)", [.integer(Int64(record.position))])
            if record.type == "Bad" {
                throw LedgerError(.domainRule, code: "bad_event", "no").at(eventIndex: index, field: "type")
            }
            if record.type == "Abort" {
                // What SQLite does by itself after a full disk or an I/O error: the whole transaction is gone.
                try database.execute("ROLLBACK")
                throw LedgerError(.storage, code: "storage_error", "the disk is full")
            }
            if record.type == "Gate" {
                writerHeld.signal()
                release.wait()
            }
        }
    }

    /// Holds the writer inside a commit of one "Gate" event, queues `transactions` behind it, then lets it go: the
    /// writer takes them all at once into the next commit. Returns their results in order.
    /// - Parameter conditions: the condition of each transaction, by index (none when absent).
    func appendTogether(_ ledger: Ledger, _ transactions: [AppendTransaction],
                        conditions: [Int: any AppendCondition] = [:]) -> [Result<AppendResult, LedgerError>] {
        let results = Mutex([Result<AppendResult, LedgerError>?](repeating: nil, count: transactions.count))
        let answered = DispatchGroup()
        ledger.submit(transaction("goal/GATE", .any, event("Gate"))) { _ in }
        writerHeld.wait()
        for (index, transaction) in transactions.enumerated() {
            answered.enter()
            ledger.submit(transaction, condition: conditions[index]) { result in
                results.withLock { $0[index] = result }
                answered.leave()
            }
        }
        release.signal()
        answered.wait()
        return results.withLock { $0.map { $0! } }
    }
}

extension Result where Failure == LedgerError {
    var failureCode: String? { if case .failure(let error) = self { error.code } else { nil } }
}
