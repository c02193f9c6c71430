import Foundation
import Ledger
import SQLite
import Synchronization
import Testing

@testable import Archive

/// Export → verify → import round trips, and archives altered in every way a careless or hostile hand might.
@Suite struct ArchiveTests {
    let directory = NSTemporaryDirectory() + "planledger-archive-" + UUID().uuidString
    let actor = Actor(id: "archivist", role: "auditor", organisation: "organisation/QWO")

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

    /// A ledger of 25 events over streams of two organisations' items.
    func makeLedger() throws -> Ledger {
        let ledger = try Ledger(path: directory + "/source.sqlite")
        for n in 0..<25 {
            let stream = StreamName(n % 3 == 0 ? "goal/CCG-\(n % 4)" : "goal/ICB-\(n % 5)")!
            _ = try ledger.append(AppendTransaction(
                streams: [StreamAppend(stream: stream, events: [ProposedEvent(type: "Noted", reason: "r\(n)", data: ["n": JSONValue(n)])])],
                actor: actor))
        }
        return ledger
    }

    func export(_ ledger: Ledger, _ options: ArchiveExporter.Options? = nil) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try ArchiveExporter(ledger: ledger).export(options ?? .init(createdBy: actor)) { bytes += $0 }
        return bytes
    }

    func verify(_ bytes: [UInt8]) throws -> ArchiveVerifier.Report {
        try ArchiveVerifier().verify(LineReader(bytes: bytes))
    }

    func lines(_ bytes: [UInt8]) -> [[UInt8]] { bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init) }

    func join(_ lines: [[UInt8]]) -> [UInt8] { Array(lines.joined(separator: [0x0A])) }

    /// Seals an altered archive again the way a forger would: the manifest's counts and schema versions (and for a
    /// full archive its source size, root and time) recomputed from the event lines, and a new trailer, so that
    /// only the check under test stands between the forgery and a verdict of VERIFIED.
    func reseal(_ lines: [[UInt8]], manifest edit: (inout JSONObject) -> Void = { _ in }) throws -> [UInt8] {
        let events = try lines.dropFirst().filter { try !$0.isEmpty && JSONParser.parse($0)["event"] != nil }
        var manifest = try JSONParser.parse(lines[0])["manifest"]!.objectValue!
        var byType: [String: Int] = [:]
        var versions: [String: Set<Int>] = [:]
        var tree = FrontierTree()
        var last: RecordedEvent?
        for line in events {
            let event = try RecordedEvent(json: JSONParser.parse(line)["event"]!)
            byType[event.type, default: 0] += 1
            versions[event.type, default: []].insert(event.schemaVersion)
            tree.append(event.hash)
            last = event
        }
        manifest["counts"] = ["events": JSONValue(events.count), "byType": .object(JSONObject(byType.mapValues { JSONValue($0) }))]
        manifest["schemaVersions"] = .object(JSONObject(versions.mapValues { JSONValue.array($0.sorted().map { JSONValue($0) }) }))
        if manifest["slice"]?["kind"] == "full", let last {
            manifest["source"] = ["size": JSONValue(events.count), "rootHash": .string(tree.root.hex),
                                  "recordedAt": .string(last.recordedAt.rfc3339)]
        }
        edit(&manifest)
        var bytes = CanonicalJSON.encode(["manifest": .object(manifest)]) + [0x0A]
        for line in events { bytes += line + [0x0A] }
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        bytes += CanonicalJSON.encode(["end": ["events": JSONValue(events.count), "sha256": .string(hasher.finalize().hex)]])
        return bytes + [0x0A]
    }

    func expectRefused(_ bytes: [UInt8], line: Int? = nil, code: String? = nil, saying text: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation)
    {
        do {
            _ = try verify(bytes)
            Issue.record("the altered archive verified", sourceLocation: sourceLocation)
        } catch let error as ArchiveError {
            if let line { #expect(error.line == line, "\(error)", sourceLocation: sourceLocation) }
            if let code { #expect(error.code == code, "\(error)", sourceLocation: sourceLocation) }
            if let text { #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func fullArchiveRoundTripsToTheSameCheckpoint() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        let bytes = try export(ledger)
        let report = try verify(bytes)
        #expect(report.events == 25 && report.manifest.slice == .full)
        #expect(report.manifest.source == (try ledger.checkpoint()))

        let target = directory + "/imported.sqlite"
        _ = try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: target)
        let imported = try Ledger(path: target)
        defer { imported.close() }
        #expect(try imported.checkpoint() == ledger.checkpoint())
        #expect(try imported.events(after: 0, limit: 100) == ledger.events(after: 0, limit: 100))
        #expect(try LedgerVerifier(path: target).verify().isValid)
    }

    @Test func archivesAreWrittenAndReadInChunks() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        let bytes = try export(ledger)
        // Feed the verifier 7 bytes at a time: lines straddle every chunk boundary.
        var offset = 0
        let reader = LineReader {
            defer { offset += 7 }
            return offset < bytes.count ? Array(bytes[offset..<min(offset + 7, bytes.count)]) : []
        }
        #expect(try ArchiveVerifier().verify(reader).events == 25)
    }

    @Test func sliceVerifiesAgainstTheFullLedgersCheckpoint() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        let streams: Set<String> = ["goal/CCG-0", "goal/CCG-1", "goal/CCG-2", "goal/CCG-3"]
        let bytes = try export(ledger, .init(streams: streams, organisation: "organisation/CCG", createdBy: actor,
                                             summary: ["note": "CCG handover"]))
        let report = try verify(bytes)
        #expect(report.manifest.source == (try ledger.checkpoint()))
        #expect(report.events == 9)  // n = 0, 3, ..., 24
        #expect(report.manifest.summary?["note"] == "CCG handover")
        // A slice cannot be imported as if it were a whole ledger.
        #expect(throws: ArchiveError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: directory + "/slice.sqlite")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/slice.sqlite"))
    }

    @Test func asOfArchiveIsTheLedgerAsItWasThen() throws {
        defer { cleanUp() }
        let clock = Clock()
        let ledger = try Ledger(path: directory + "/timed.sqlite", clock: clock.now)
        defer { ledger.close() }
        for n in 0..<10 {
            clock.set(1_000_000 + Int64(n) * 1000)
            _ = try ledger.append(AppendTransaction(streams: [StreamAppend(stream: StreamName("goal/G-\(n)")!,
                events: [ProposedEvent(type: "Noted", data: [:])])], actor: actor))
        }
        let bytes = try export(ledger, .init(asOf: Timestamp(millisecondsSinceEpoch: 1_004_500), createdBy: actor))
        let report = try verify(bytes)
        #expect(report.events == 5)
        #expect(report.manifest.source == (try ledger.checkpoint(size: 5)))
    }

    /// The reviewer's two cases: an edited record (export wrote an archive verify-archive refused), and the last
    /// record deleted (export wrote a shorter archive that verified, and the lost record vanished).
    @Test func exportRefusesALedgerThatDoesNotVerifyNamingTheFirstBadPositionAndWritesNothing() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        let source = ledger.path
        ledger.close()
        let edits = [("edited", "UPDATE events SET reason = 'edited' WHERE position = 13", 13, "hash_mismatch"),
                     ("last-deleted", "DELETE FROM events WHERE position = 25", 25, "missing_event"),
                     ("middle-deleted", "DELETE FROM events WHERE position = 7", 7, "missing_event")]
        for (name, sql, position, code) in edits {
            let copy = directory + "/\(name).sqlite"
            try FileManager.default.copyItem(atPath: source, toPath: copy)
            try Database(path: copy).execute(sql)
            let damaged = try Ledger(path: copy)
            defer { damaged.close() }
            for options in [ArchiveExporter.Options(createdBy: actor),
                            .init(streams: ["goal/CCG-0"], createdBy: actor),
                            // Cut before the damage: refused all the same (a damaged ledger is not handed over).
                            .init(asOf: Timestamp(millisecondsSinceEpoch: (try damaged.checkpoint(size: 2)).recordedAt.millisecondsSinceEpoch),
                                  createdBy: actor)] {
                var written = 0
                do {
                    try ArchiveExporter(ledger: damaged).export(options) { written += $0.count }
                    Issue.record("\(name): the damaged ledger was exported")
                } catch let error as ArchiveSourceError {
                    #expect(error.position == position && error.code == code, "\(name): \(error)")
                    #expect("\(error)".contains("position \(position)"), "\(name)")
                }
                #expect(written == 0, "\(name): nothing is written")
            }
            #expect(try LedgerVerifier(path: copy).verify().failure?.position == position, "as verify names it")
        }
    }

    /// The source is fixed when it is verified: events appended before the export reads (a server goes on
    /// appending) are not in the archive, which is cut at the verified checkpoint.
    @Test func anExportIsCutAtTheCheckpointThatWasVerified() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        let exporter = ArchiveExporter(ledger: ledger)
        let source = try exporter.source(asOf: nil)
        _ = try ledger.append(AppendTransaction(streams: [StreamAppend(stream: StreamName("goal/LATE")!,
            events: [ProposedEvent(type: "Noted", data: [:])])], actor: actor))
        var bytes: [UInt8] = []
        try exporter.export(.init(createdBy: actor), from: source) { bytes += $0 }
        let report = try verify(bytes)
        #expect(report.events == 25 && report.manifest.source == source.checkpoint && ledger.size == 26)
    }

    /// Cut before the first event, the source would be the empty checkpoint, whose time (when it was read) is after
    /// `asOf`: the export is refused, saying when the first event was; an archive claiming it anyway is refused.
    @Test func anArchiveAsOfBeforeTheFirstEventIsRefusedWhenExportedAndWhenVerified() throws {
        defer { cleanUp() }
        let clock = Clock()
        clock.set(1_000_000)
        let ledger = try Ledger(path: directory + "/timed.sqlite", clock: clock.now)
        defer { ledger.close() }
        let early = Timestamp(millisecondsSinceEpoch: 999_999)
        #expect { try export(ledger, .init(asOf: early, createdBy: actor)) } throws: { error in
            (error as? LedgerError)?.code == "nothing_recorded" && "\(error)".contains("the ledger has no events")
        }
        // The empty ledger itself can still be archived: no asOf, nothing to hold its time to.
        let empty = try export(ledger)
        #expect(try verify(empty).events == 0)

        _ = try ledger.append(AppendTransaction(streams: [StreamAppend(stream: StreamName("goal/G-1")!,
            events: [ProposedEvent(type: "Noted", data: [:])])], actor: actor))
        #expect { try export(ledger, .init(asOf: early, createdBy: actor)) } throws: { error in
            let error = error as? LedgerError
            return error?.kind == .domainRule && error?.code == "nothing_recorded"
                && error?.message == "nothing was recorded by \(early.rfc3339): the first event was recorded \(Timestamp(millisecondsSinceEpoch: 1_000_000).rfc3339)"
        }
        #expect(try verify(export(ledger, .init(asOf: Timestamp(millisecondsSinceEpoch: 1_000_000), createdBy: actor))).events == 1)

        // What the old export wrote: size 0, asOf 2000-01-01, source.recordedAt the time it was read.
        let claimed = try reseal(lines(empty)) { manifest in manifest["asOf"] = "2000-01-01T00:00:00.000Z" }
        expectRefused(claimed, line: 1, code: "source_mismatch", saying: "is after asOf")
    }

    @Test func flippedByteInDataIsRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        var lines = lines(try export(ledger))
        let text = String(decoding: lines[7], as: UTF8.self).replacingOccurrences(of: "\"n\":6", with: "\"n\":7")
        lines[7] = Array(text.utf8)
        expectRefused(join(lines), line: 8, code: "hash_mismatch")
    }

    @Test func droppedLineIsRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        var lines = lines(try export(ledger))
        lines.remove(at: 10)
        expectRefused(join(lines), line: 11, code: "missing_event")
        var last = self.lines(try export(ledger))
        last.remove(at: last.count - 3)  // the last event (before the trailer and the final empty split)
        expectRefused(join(last), code: "invalid_trailer")
    }

    @Test func reorderedLinesAreRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        var lines = lines(try export(ledger))
        lines.swapAt(4, 5)
        expectRefused(join(lines), line: 5)
        let slice = try export(ledger, .init(streams: ["goal/CCG-0", "goal/CCG-1"], createdBy: actor))
        var sliceLines = self.lines(slice)
        sliceLines.swapAt(1, 2)
        expectRefused(join(sliceLines), line: 3, code: "out_of_order")
    }

    @Test func swappedProofIsRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        var lines = lines(try export(ledger, .init(streams: ["goal/CCG-0", "goal/CCG-1", "goal/CCG-2"], createdBy: actor)))
        var first = try JSONParser.parse(lines[1]).objectValue!
        var second = try JSONParser.parse(lines[2]).objectValue!
        (first["proof"], second["proof"]) = (second["proof"], first["proof"])
        lines[1] = CanonicalJSON.encode(.object(first))
        lines[2] = CanonicalJSON.encode(.object(second))
        expectRefused(join(lines), line: 2, code: "proof_mismatch")
    }

    @Test func addedLineAndEditedManifestAreRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        var lines = lines(try export(ledger))
        lines.insert(lines[3], at: 3)  // position 3 twice: the copy on line 5 is refused
        expectRefused(join(lines), line: 5, code: "out_of_order")

        var edited = self.lines(try export(ledger))
        let manifest = String(decoding: edited[0], as: UTF8.self).replacingOccurrences(of: "archivist", with: "forger")
        edited[0] = Array(manifest.utf8)
        expectRefused(join(edited), code: "digest_mismatch")
    }

    /// The lines of a slice of the four goals the test ledger gives organisation/CCG.
    func ccgSlice(_ ledger: Ledger) throws -> [[UInt8]] {
        let streams: Set<String> = ["goal/CCG-0", "goal/CCG-1", "goal/CCG-2", "goal/CCG-3"]
        return lines(try export(ledger, .init(streams: streams, organisation: "organisation/CCG", createdBy: actor)))
    }

    @Test func sliceMissingARecordOfAStreamOrHoldingAnUnlistedStreamIsRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        // Lines 2–10 hold n = 0, 3, …, 24; goal/CCG-0 is n = 0, 12, 24 (versions 1, 2, 3) on lines 2, 6 and 10.
        let slice = try ccgSlice(ledger)
        #expect(try verify(reseal(slice)).events == 9, "resealing alone forges nothing")

        var middle = slice
        middle.remove(at: 5)  // goal/CCG-0 version 2: version 3 now follows version 1, on line 9
        expectRefused(try reseal(middle), line: 9, code: "version_gap")
        var first = slice
        first.remove(at: 1)  // goal/CCG-0 version 1: the stream now starts at version 2, on line 5
        expectRefused(try reseal(first), line: 5, code: "version_gap")

        // The events of goal/CCG-3 (n = 3 on line 3) are proven, but the manifest does not list their stream.
        let unlisted = try reseal(slice) { manifest in
            manifest["slice"] = ["kind": "streams", "streams": JSONValue(["goal/CCG-0", "goal/CCG-1", "goal/CCG-2"])]
        }
        expectRefused(unlisted, line: 3, code: "unlisted_stream")
    }

    /// What a slice cannot show (Schemas/archive.md): a listed stream's last events left off, the counts and trailer
    /// recomputed. It verifies; the report's stream versions are what a reader checks against the source.
    @Test func aSliceWithAStreamsTailWithheldVerifiesButReportsTheVersionItHolds() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        // goal/CCG-3 is n = 3 and 15 (versions 1 and 2), on lines 3 and 7.
        let slice = try ccgSlice(ledger)
        let genuine = try verify(join(slice))
        #expect(genuine.streamVersions == ["goal/CCG-0": 3, "goal/CCG-1": 2, "goal/CCG-2": 2, "goal/CCG-3": 2])
        var withheld = slice
        withheld.remove(at: 6)
        let report = try verify(reseal(withheld))
        #expect(report.events == 8 && report.streamVersions["goal/CCG-3"] == 1, "only the source shows version 2")
        #expect(try verify(join(lines(export(ledger)))).streamVersions["goal/CCG-3"] == 2)
    }

    @Test func duplicateEventIdsAreRefusedEvenInASelfConsistentArchive() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        var lines = lines(try export(ledger))
        // Position 5 (line 6) takes position 4's id, with its hash, the root and the trailer all recomputed.
        var line = try JSONParser.parse(lines[5]).objectValue!
        var envelope = line["event"]!.objectValue!
        envelope["id"] = try JSONParser.parse(lines[4])["event"]!["id"]!
        envelope["hash"] = .string(try RecordedEvent(json: .object(envelope)).computedHash.hex)
        line["event"] = .object(envelope)
        lines[5] = CanonicalJSON.encode(.object(line))
        let forged = try reseal(lines)
        expectRefused(forged, line: 6, code: "duplicate_id")
        // The import refuses it the same way, naming the record, rather than failing on SQLite's unique index.
        let target = directory + "/duplicates.sqlite"
        #expect(throws: ArchiveError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: forged), into: target)
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func manifestClaimsTheEventsContradictAreRefusedPrecisely() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        let full = lines(try export(ledger))
        let recordedAt = try ledger.checkpoint().recordedAt.millisecondsSinceEpoch
        for shift: Int64 in [-1, 1] {
            // The checkpoint's time is that of event `size`: earlier puts events after it, later is no event's time.
            let moved = try reseal(full) { manifest in
                manifest["source"] = manifest["source"]!.with("recordedAt", .string(Timestamp(millisecondsSinceEpoch: recordedAt + shift).rfc3339))
            }
            expectRefused(moved, line: 1, code: "source_mismatch", saying: "source.recordedAt")
        }
        let extraVersion = try reseal(full) { manifest in manifest["schemaVersions"] = ["Noted": [1, 2]] }
        expectRefused(extraVersion, line: 1, code: "schema_versions_mismatch", saying: "[1, 2] for Noted")
        let otherType = try reseal(full) { manifest in manifest["schemaVersions"] = ["Noted": [1], "Other": [1]] }
        expectRefused(otherType, line: 1, code: "schema_versions_mismatch", saying: "Other")
        // Same total, different split: the message names the type rather than comparing two equal totals.
        let split = try reseal(full) { manifest in
            manifest["counts"] = ["events": 25, "byType": ["Noted": 24, "Other": 1]]
        }
        expectRefused(split, line: 1, code: "count_mismatch", saying: "counts.byType gives 24 Noted; the archive holds 25")
        let total = try reseal(full) { manifest in manifest["counts"] = ["events": 26, "byType": ["Noted": 25]] }
        expectRefused(total, line: 1, code: "count_mismatch", saying: "counts.events is 26; the archive holds 25")

        // A slice holding the last event is held to the same time; an earlier one cannot precede its events.
        let slice = lines(try export(ledger, .init(streams: ["goal/CCG-0"], createdBy: actor)))
        let early = try reseal(slice) { manifest in
            manifest["source"] = manifest["source"]!.with("recordedAt", .string(Timestamp(millisecondsSinceEpoch: recordedAt - 1).rfc3339))
        }
        expectRefused(early, line: 1, code: "source_mismatch")
    }

    @Test func anythingAfterTheTrailerAndATrailerWithoutItsNewlineAreRefused() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        defer { ledger.close() }
        let bytes = try export(ledger)
        #expect(try verify(bytes).events == 25)
        // The trailer's newline is the file's last byte (Schemas/archive.md): without it the file is cut short.
        expectRefused(Array(bytes.dropLast()), line: 27, code: "missing_newline")
        let target = directory + "/unterminated.sqlite"
        #expect(throws: ArchiveError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: Array(bytes.dropLast())), into: target)
        }
        #expect(!FileManager.default.fileExists(atPath: target))
        for extra in ["\n", "\n\n", "\n{\"note\":\"added later\"}\n", "junk"] {
            expectRefused(bytes + Array(extra.utf8), line: 28, code: "trailing_data")
        }
    }

    @Test func importRefusesNonEmptyTargetAndDamagedArchiveLeavingTargetUntouched() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        let bytes = try export(ledger)
        let before = try ledger.checkpoint()
        ledger.close()
        #expect(throws: LedgerError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: directory + "/source.sqlite")
        }
        // An empty ledger has tables: a sound archive is refused there too (a damaged one into an empty file is
        // aRefusedImportLeavesAnEmptyFileEmptyAndAnotherApplicationsDatabaseAlone).
        let target = directory + "/empty.sqlite"
        let empty = try Ledger(path: target)
        empty.close()
        #expect(throws: LedgerError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: target)
        }
        let reopened = try Ledger(path: target)
        #expect(reopened.size == 0)
        reopened.close()
        let source = try Ledger(path: directory + "/source.sqlite")
        #expect(try source.checkpoint() == before)
        source.close()
    }
}

extension ArchiveTests {
    @Test func aRefusedImportLeavesAnEmptyFileEmptyAndAnotherApplicationsDatabaseAlone() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        let bytes = try export(ledger)
        ledger.close()
        var damaged = lines(bytes)
        damaged[20] = Array(String(decoding: damaged[20], as: UTF8.self).replacingOccurrences(of: "r", with: "R").utf8)

        // `touch e0.sqlite`: the refused import must not leave the ledger's tables (or anything) in it.
        let empty = directory + "/e0.sqlite"
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        #expect(throws: ArchiveError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: join(damaged)), into: empty)
        }
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)

        // A database with tables of its own is refused before anything is written to it.
        let foreign = directory + "/clinic.sqlite"
        try {
            let database = try Database(path: foreign)
            try database.execute("CREATE TABLE patients (nhs_number TEXT); INSERT INTO patients VALUES ('9434765919')")
        }()
        let original = try Data(contentsOf: URL(fileURLWithPath: foreign))
        #expect(throws: LedgerError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: foreign)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == original)
        #expect(try Database(path: foreign).map("SELECT name FROM sqlite_master") { $0.text(0) } == ["patients"])

        // The empty file is still a fine target for a sound archive.
        #expect(try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: empty).events == 25)
    }

    /// A database with no tables, which an import accepts as its target, is left byte for byte as it was when a
    /// damaged archive is refused into it: still in its own journal mode (setting the ledger's WAL rewrites the
    /// header at once), with no `-wal` or `-shm` beside it; so is one already in WAL mode, and another application's
    /// database in WAL mode, refused for its tables.
    @Test func aRefusedImportLeavesAnExistingDatabaseByteForByteAsItWas() throws {
        defer { cleanUp() }
        let ledger = try makeLedger()
        let bytes = try export(ledger)
        let source = try ledger.checkpoint()
        ledger.close()
        var damaged = lines(bytes)
        damaged[20] = Array(String(decoding: damaged[20], as: UTF8.self).replacingOccurrences(of: "r", with: "R").utf8)

        // As `sqlite3 plain.sqlite 'PRAGMA user_version = 7'` leaves it: one page, with a rollback journal.
        let plain = directory + "/plain.sqlite"
        var rollbackJournal = Database.Options()
        rollbackJournal.keepsJournalMode = true
        try { try Database(path: plain, options: rollbackJournal).execute("PRAGMA user_version = 7") }()
        let wal = directory + "/wal.sqlite"
        try { try Database(path: wal).execute("PRAGMA user_version = 7") }()
        let clinic = directory + "/clinic.sqlite"
        try { try Database(path: clinic).execute("CREATE TABLE patients (nhs_number TEXT)") }()
        let targets = [plain, wal, clinic]
        let listing = { try FileManager.default.contentsOfDirectory(atPath: directory).sorted() }
        let names = try listing()
        let originals = try targets.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        for target in [plain, wal] {
            #expect(throws: ArchiveError.self) {
                try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: join(damaged)), into: target)
            }
        }
        #expect(throws: LedgerError.self) {
            try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: clinic)
        }
        for (target, original) in zip(targets, originals) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == original, "\(target)")
        }
        #expect(try listing() == names, "no -wal or -shm")

        // Still a fine target for a sound archive, and then a ledger like any other, in WAL mode.
        #expect(try ArchiveImporter(hook: NoHook()).importArchive(LineReader(bytes: bytes), into: plain).events == 25)
        let imported = try Ledger(path: plain, mode: .readOnly(needsProjections: false))
        #expect(try imported.read { try $0.scalarText("PRAGMA journal_mode") } == "wal")
        #expect(try imported.checkpoint() == source)
        imported.close()
    }
}

extension JSONValue {
    /// A copy of this object with `key` set to `value`.
    func with(_ key: String, _ value: JSONValue) -> JSONValue {
        var object = objectValue ?? [:]
        object[key] = value
        return .object(object)
    }
}

/// A settable clock for `asOf` archives.
final class Clock: Sendable {
    private let value = Mutex<Int64>(0)
    func set(_ milliseconds: Int64) { value.withLock { $0 = milliseconds } }
    var now: @Sendable () -> Timestamp { { [self] in Timestamp(millisecondsSinceEpoch: value.withLock { $0 }) } }
}
