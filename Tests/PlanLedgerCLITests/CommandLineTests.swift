import Foundation
import Ledger
import SQLite
import Testing

@testable import PlanLedgerCLI

/// The `planledger` commands run in-process on temporary ledgers: exit codes and what they leave behind.
@Suite(.serialized) struct CommandLineTests {
    let directory = NSTemporaryDirectory() + "planledger-cli-" + UUID().uuidString

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

    func run(_ arguments: String...) -> Int32 { PlanLedgerCommand.run(arguments) }

    var db: String { directory + "/ledger.sqlite" }

    func checkpoint(of path: String) throws -> Checkpoint {
        let ledger = try Ledger(path: path)
        defer { ledger.close() }
        return try ledger.checkpoint()
    }

    /// The built `planledger` binary, for what only a separate process shows (a file-size limit, a full device).
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("planledger").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/planledger").path
    }

    /// Runs `script` with `/bin/sh -c`, the binary as `$0` and `arguments` as `$@`: its exit status and standard error.
    static func planledger(_ script: String, _ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, binary] + arguments
        let errorsPath = NSTemporaryDirectory() + "planledger-stderr-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: errorsPath, contents: nil),
            let errors = FileHandle(forWritingAtPath: errorsPath)
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? FileManager.default.removeItem(atPath: errorsPath) }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try errors.close()
        let text = (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
        return (process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus, text)
    }

    @Test func demoLoadsIntoAnEmptyLedgerAndVerifies() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        #expect(run("verify", "--db", db) == 0)
        #expect(run("demo", "--db", db) == 1, "the demo refuses a ledger that already holds events")
        for command in [["plan", "--organisation", "QWO"], ["plan", "--as-of", "2022-06-30", "--json"], ["impact", "assumption/A-CMHN-RATIO"],
                        ["decisions"], ["memory", "QWO-CCG"], ["history", "goal/AMB-1"], ["diff", "--from", "2022-01-01", "--to", "2023-01-01"],
                        ["get", "decision/GB-2021-017", "--valid-at", "2022-06-30"], ["get", "--after", "40"], ["checkpoint"],
                        ["prove", "inclusion", "--position", "5"], ["prove", "consistency", "--from", "10"]] {
            #expect(PlanLedgerCommand.run(command + ["--db", db]) == 0, "\(command)")
        }
    }

    @Test func usageErrorsAndMissingLedgersHaveTheirExitCodes() throws {
        defer { cleanUp() }
        #expect(run("plan", "--db", directory + "/missing.sqlite") == 3)
        #expect(run("plan", "--bogus") == 2)
        #expect(run("no-such-command") == 2)
        #expect(run("plan", "--help") == 0)
        #expect(run("get", "not a stream", "--db", db) != 0)
        #expect(run("rebuild", "--db", directory + "/missing.sqlite") == 3)
        // Refused before the ledger is opened or a port taken.
        #expect(run("serve", "--db", directory + "/missing.sqlite", "--max-slow-requests", "0") == 2)
        #expect(run("serve", "--db", directory + "/missing.sqlite", "--max-slow-requests", "many") == 2)
        #expect(run("serve", "--db", directory + "/missing.sqlite", "--port", "99999") == 2)  // it used to crash
        #expect(run("serve", "--db", directory + "/missing.sqlite", "--port", "-1") == 2)
        #expect(run("serve", "--db", directory + "/missing.sqlite", "--max-connections", "0") == 2)
        #expect(run("serve", "--db", directory + "/missing.sqlite", "--max-body", "-5") == 2)
        #expect(!FileManager.default.fileExists(atPath: directory + "/missing.sqlite"))
    }

    @Test func rebuildOfAnEmptyFileMakesAnEmptyLedger() throws {
        defer { cleanUp() }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: db, contents: nil))
        #expect(run("rebuild", "--db", db) == 0)
        #expect(run("verify", "--db", db) == 0)
    }

    @Test func verifyFindsAnEditAndExitsOne() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let database = try Database(path: db)
        try database.execute("UPDATE events SET reason = 'edited later' WHERE position = 30")
        #expect(run("verify", "--db", db) == 1)
        let report = try LedgerVerifier(path: db).verify()
        #expect(report.failure?.position == 30)
    }

    @Test func ccgSliceVerifiesAgainstTheFullLedgerAndAFullArchiveImportsToTheSameViews() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let slice = directory + "/ccg.jsonl"
        #expect(run("export", "--db", db, "--organisation", "QWO-CCG", "--out", slice) == 0)
        let checkpoint = try Ledger(path: db)
        let published = try checkpoint.checkpoint()
        checkpoint.close()
        #expect(run("verify-archive", slice, "--checkpoint", "\(published.size):\(published.rootHash.hex)") == 0)
        #expect(run("verify-archive", slice, "--checkpoint", "\(published.size):\(MerkleTree.emptyRoot.hex)") == 1)

        let full = directory + "/full.jsonl"
        #expect(run("export", "--db", db, "--out", full) == 0)
        #expect(run("verify-archive", full) == 0)
        let imported = directory + "/imported.sqlite"
        #expect(run("import", full, "--db", imported) == 0)
        #expect(run("import", full, "--db", imported) == 1, "a non-empty target is refused")
        #expect(run("import", slice, "--db", directory + "/slice.sqlite") == 1, "a slice is not a whole ledger")
        let original = try Ledger(path: db)
        let copy = try Ledger(path: imported)
        defer {
            original.close()
            copy.close()
        }
        #expect(try copy.checkpoint() == original.checkpoint())
        let views = { (ledger: Ledger) throws -> [JSONValue] in
            let model = PlanningReadModelProbe(ledger: ledger)
            return try model.views()
        }
        #expect(try views(copy) == views(original))

        var lines = try String(contentsOfFile: full, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        lines.swapAt(3, 4)
        let reordered = directory + "/reordered.jsonl"
        try lines.joined(separator: "\n").write(toFile: reordered, atomically: true, encoding: .utf8)
        #expect(run("verify-archive", reordered) == 1)
        #expect(run("import", reordered, "--db", directory + "/never.sqlite") == 1)
        #expect(!FileManager.default.fileExists(atPath: directory + "/never.sqlite"), "a refused import leaves nothing behind")
    }

    @Test func exportRefusesTheLedgersOwnFilesAndDirectoriesAndReplacesAFileByRenaming() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let before = try checkpoint(of: db)
        let link = directory + "/link.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: db)
        for out in [db, link, directory + "/./ledger.sqlite", db + "-wal"] {
            #expect(run("export", "--db", db, "--out", out) == 2, "\(out) is the ledger")
        }
        let folder = directory + "/folder"
        try FileManager.default.createDirectory(atPath: folder + "/inside", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder + "/inside/kept.txt", contents: Data("kept".utf8)))
        #expect(run("export", "--db", db, "--out", folder) == 2)
        #expect(FileManager.default.fileExists(atPath: folder + "/inside/kept.txt"), "the directory is left alone")
        #expect(run("verify", "--db", db) == 0)
        #expect(try checkpoint(of: db) == before)

        // An existing archive is replaced by rename(2), not rewritten in place: a second name for the old file
        // still shows the old bytes, and the new one is complete.
        let out = directory + "/archive.jsonl"
        try "old archive".write(toFile: out, atomically: false, encoding: .utf8)
        try FileManager.default.linkItem(atPath: out, toPath: directory + "/old-name.jsonl")
        #expect(run("export", "--db", db, "--out", out) == 0)
        #expect(run("verify-archive", out) == 0)
        #expect(try String(contentsOfFile: directory + "/old-name.jsonl", encoding: .utf8) == "old archive")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".partial") } == [])
    }

    @Test func exportWriteErrorsExitThreeAndLeaveNoPartialFile() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        // One large event, so that the archive (about 180 KB) outgrows a file-size limit of 96 blocks (48 KiB in
        // dash's 512-byte blocks, 96 KiB in bash's) that the export's writes to the ledger's -shm (32 KiB) fit under.
        let input = directory + "/big.json"
        let title = String(repeating: "x", count: 150_000)
        try #"{"streams":[{"stream":"goal/G-BIG","expectedVersion":"noStream","events":[{"type":"GoalDefined","effectiveAt":"2023-02-01","data":{"title":"\#(title)","level":"annual","parent":"goal/AMB-1","owner":{"organisation":"organisation/QWO","role":"Director"}}}]}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        #expect(run("append", input, "--db", db) == 0)
        let out = directory + "/big.jsonl"
        let limited = try Self.planledger(#"ulimit -S -f 96 && exec "$0" "$@""#, ["export", "--db", db, "--out", out])
        #expect(limited.status == 3, "\(limited)")
        #expect(limited.errors.contains("cannot write \(out)"), "\(limited)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("big.jsonl") } == [])

        let full = try Self.planledger(#"exec "$0" "$@" > /dev/full"#, ["export", "--db", db, "--out", "-"])
        #expect(full.status == 3, "\(full)")
        #expect(full.errors.contains("No space left on device"), "\(full)")
    }

    @Test func anUnreadableArchiveIsAnIOErrorNotAVerdictAndImportCreatesNothing() throws {
        defer { cleanUp() }
        let folder = directory + "/folder"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = directory + "/target.sqlite"
        for archive in [folder, directory + "/missing.jsonl"] {
            #expect(run("verify-archive", archive) == 3, "\(archive)")
            #expect(run("import", archive, "--db", target) == 3, "\(archive)")
            for suffix in ["", "-wal", "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: target + suffix), "\(archive): \(suffix)")
            }
        }
        #expect(run("demo", "--db", db) == 0)
        let full = directory + "/full.jsonl"
        #expect(run("export", "--db", db, "--out", full) == 0)
        #expect(run("verify-archive", full, "--checkpoint", "garbage") == 2, "as for verify: a usage error")
        #expect(run("verify-archive", full, "--checkpoint", "44:not-hex") == 2)
    }

    @Test func aSlicesOrganisationIsNotTakenForTheExportingActors() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let slice = directory + "/ccg.jsonl"
        #expect(run("export", "--db", db, "--organisation", "QWO-CCG", "--actor", "archivist-3", "--role", "auditor",
                    "--out", slice) == 0)
        let text = try String(contentsOfFile: slice, encoding: .utf8)
        let manifest = try JSONParser.parse(Array(text.prefix { $0 != "\n" }.utf8))["manifest"]!
        #expect(manifest["createdBy"] == ["id": "archivist-3", "role": "auditor"])
        #expect(manifest["slice"]?["organisation"] == "organisation/QWO-CCG")
    }

    @Test func appendFromAFileAndRebuildGiveTheSameAnswers() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let input = directory + "/tx.json"
        try #"{"streams":[{"stream":"goal/G-CLI","expectedVersion":"noStream","events":[{"type":"GoalDefined","effectiveAt":"2023-02-01","data":{"title":"From the CLI","level":"annual","parent":"goal/AMB-1","owner":{"organisation":"organisation/QWO","role":"Director"}}}]}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        #expect(run("append", input, "--db", db, "--actor", "planner-7", "--role", "planner", "--organisation", "QWO") == 0)
        #expect(run("append", input, "--db", db) == 1, "expectedVersion noStream now conflicts")
        let before = try { () throws -> [JSONValue] in
            let ledger = try Ledger(path: db)
            defer { ledger.close() }
            #expect(try ledger.stream(StreamName("goal/G-CLI")!).first?.actor == Actor(id: "planner-7", role: "planner", organisation: "organisation/QWO"))
            return try PlanningReadModelProbe(ledger: ledger).views()
        }()
        #expect(run("rebuild", "--db", db) == 0)
        let ledger = try Ledger(path: db)
        defer { ledger.close() }
        #expect(try PlanningReadModelProbe(ledger: ledger).views() == before)
    }
}

import Projections

/// A handful of views that together cover every projection table.
struct PlanningReadModelProbe {
    let ledger: Ledger
    func views() throws -> [JSONValue] {
        let model = PlanningReadModel(ledger: ledger)
        let past = TimeSlice(asOf: Timestamp(parsing: "2022-09-01"), validAt: Timestamp(parsing: "2022-06-30"))
        return [
            try model.plan(), try model.plan(at: past), try model.decisions(now: Timestamp(parsing: "2024-01-01")!),
            try model.memory(of: StreamName("organisation/QWO-CCG")!),
            try model.impact(of: StreamName("assumption/A-CMHN-RATIO")!), try model.entities(kind: "goal", at: past),
        ]
    }
}
