import Foundation
import Ledger
import SQLite
import Testing

@testable import PlanLedgerCLI
@testable import Projections

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

    /// An import names the source's tokens still active in the new ledger (the archive carries their grants, and
    /// they would open a server on it), so that the successor can revoke them; with none active it says nothing.
    @Test func importNamesTheSourcesTokensThatAreStillActive() throws {
        defer { cleanUp() }
        let script = """
            "$0" demo --db "$1" >/dev/null && "$0" token create --role reader --label old --db "$1" >/dev/null \
            && "$0" export --db "$1" --out "$2" && "$0" import "$2" --db "$3"
            """
        let withToken = try Self.planledger(script, [db, directory + "/a.jsonl", directory + "/a.sqlite"])
        #expect(withToken.status == 0)
        #expect(withToken.errors.contains("1 API token(s) granted on the source ledger are still active"), "\(withToken.errors)")

        let plain = try Self.planledger("""
            "$0" demo --db "$1" >/dev/null && "$0" export --db "$1" --out "$2" && "$0" import "$2" --db "$3"
            """, [directory + "/b-source.sqlite", directory + "/b.jsonl", directory + "/b.sqlite"])
        #expect(plain.status == 0)
        #expect(!plain.errors.contains("token"), "\(plain.errors)")
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

    @Test func anArgumentACommandDoesNotTakeIsAUsageErrorNotIgnored() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let other = directory + "/tampered.sqlite"
        // Each would otherwise run on --db and succeed, as if it had looked at the argument.
        for command in [["verify", other], ["checkpoint", other], ["plan", other], ["decisions", other], ["rebuild", other],
                        ["demo", other], ["export", "--out", directory + "/x.jsonl", other], ["diff", "--from", "2022-01-01", "--to", "2023-01-01", other],
                        ["get", "goal/AMB-1", other], ["history", "goal/AMB-1", other], ["impact", "assumption/A-CMHN-RATIO", other],
                        ["memory", "QWO-CCG", other], ["prove", "inclusion", "--position", "5", other], ["token", "list", other],
                        ["verify-archive", other, other], ["import", other, other], ["append", "-", other]] {
            #expect(PlanLedgerCommand.run(command + ["--db", db]) == 2, "\(command)")
        }
        #expect(run("prove", "sideways", "--db", db) == 2, "an unknown action")
        #expect(run("token", "delete", "--db", db) == 2, "an unknown action")
        #expect(run("prove", "inclusion", "--position", "5", "--from", "3", "--db", db) == 2, "an option of another action")
        #expect(run("token", "list", "--role", "admin", "--db", db) == 2, "an option of another action")
        #expect(!FileManager.default.fileExists(atPath: other))
        #expect(!FileManager.default.fileExists(atPath: directory + "/x.jsonl"))
    }

    @Test func everyUsageLineNamesThePositionalArgumentsItsCommandTakes() {
        for command in PlanLedgerCommand.commands {
            let usage = command.help.components(separatedBy: "\n\n")[0]
            switch command.positionals {
            case .upTo(let names):
                for name in names { #expect(usage.contains("planledger \(command.name) \(name)") || usage.contains("[\(name)"), "\(command.name)") }
                if names.isEmpty {
                    #expect(usage.contains("planledger \(command.name) [") || usage.contains("planledger \(command.name) --") || usage.hasSuffix("planledger \(command.name)"),
                            "\(command.name): \(usage)")
                }
            case .actions(let actions):
                for (name, action) in actions {
                    let line = usage.split(separator: "\n").first { $0.contains("planledger \(command.name) \(name)") } ?? ""
                    #expect(line.contains("planledger \(command.name) \(name)" + action.arguments.map { " " + $0 }.joined()), "\(command.name) \(name)")
                    for option in action.options { #expect(line.contains("--\(option)"), "\(command.name) \(name): --\(option)") }
                }
            }
            // Every option it accepts is on its usage line (and so in --help).
            for option in command.valuedOptions.union(command.flagOptions) {
                #expect(usage.contains("--\(option)"), "\(command.name): --\(option)")
            }
        }
    }

    /// Each command's help says what it does besides its usage line, and describes every option it takes beyond
    /// --db on a line of its own (`  --json ...`, or `  --actor ID, --role ROLE`).
    @Test func everyHelpDescribesTheCommandAndEachOfItsOptions() {
        for command in PlanLedgerCommand.commands {
            let paragraphs = command.help.components(separatedBy: "\n\n")
            #expect(paragraphs.dropFirst().contains { !$0.hasPrefix("Options:") }, "\(command.name) has no description")
            let described = command.help.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            for option in command.valuedOptions.union(command.flagOptions) {
                #expect(described.contains { $0.contains("--\(option) ") || $0.hasSuffix("--\(option)") || $0.contains("--\(option),") },
                        "\(command.name): --\(option) is not described")
            }
        }
    }

    /// `planledger help plan` prints plan's help, as `planledger plan --help` does; it printed the overview.
    @Test func helpWithACommandPrintsThatCommandsHelp() throws {
        defer { cleanUp() }
        let out = directory + "/help.txt"
        let result = try Self.planledger(#""$0" help plan > "$1""#, [out])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == PlanCommand.help + "\n")
        #expect(run("help") == 0)
        #expect(run("help", "no-such-command") == 2)
        #expect(run("help", "plan", "diff") == 2)
        // diff's window is one of valid time: it takes no --valid-at, and its help says so.
        #expect(run("diff", "--from", "2022-01-01", "--to", "2023-01-01", "--valid-at", "2022-06-30") == 2)
        #expect(DiffCommand.help.contains("no --valid-at"))
    }

    @Test func aRepeatableOptionAccumulatesAndAnyOtherGivenTwiceIsAUsageError() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        #expect(run("token", "create", "--role", "contributor", "--organisation", "QWO", "--organisation", "QWO-CCG,QWO-X",
                    "--label", "both", "--db", db) == 0)
        let database = try Database(path: db, options: .init(readOnly: true))
        let organisations = try database.scalarText("SELECT organisations FROM access_tokens WHERE label = 'both'")
        #expect(organisations?.contains("organisation/QWO\"") == true, "\(organisations ?? "none")")
        #expect(organisations?.contains("organisation/QWO-CCG") == true, "\(organisations ?? "none")")
        #expect(organisations?.contains("organisation/QWO-X") == true, "\(organisations ?? "none")")
        #expect(run("token", "create", "--role", "reader", "--role", "admin", "--db", db) == 2)
        #expect(run("plan", "--organisation", "QWO", "--organisation=QWO-CCG", "--db", db) == 2)
        #expect(run("plan", "--db", db, "--db", directory + "/other.sqlite") == 2)
    }

    /// A valued option followed by another option was left without its value; the option after it is not taken as
    /// the value (`append --actor --db x.sqlite` read x.sqlite as its input). `--name=--x` still gives such a value.
    @Test func aValuedOptionFollowedByAnotherOptionNeedsAValue() throws {
        defer { cleanUp() }
        #expect(throws: CLIError.self) {
            try CommandLineArguments(["--organisation", "--db", "demo.sqlite"], valued: ["organisation", "db"], flags: [])
        }
        #expect(throws: CLIError.self) { try CommandLineArguments(["--reason", "--"], valued: ["reason"], flags: []) }
        let inline = try CommandLineArguments(["--reason=--x", "--port", "-1", "--out", "-"], valued: ["reason", "port", "out"],
                                              flags: [])
        #expect(inline.value("reason") == "--x")
        #expect(inline.value("port") == "-1" && inline.value("out") == "-")

        #expect(run("demo", "--db", db) == 0)
        let before = try checkpoint(of: db)
        #expect(run("plan", "--organisation", "--db", db) == 2)
        // It would read the ledger as its input (refused as not JSON, exit 1) rather than say what is missing.
        #expect(run("append", "--actor", "--db", db) == 2)
        #expect(try checkpoint(of: db) == before)
    }

    @Test func getRefusesTheOptionsOfAnotherFormInsteadOfIgnoringThem() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        #expect(run("get", "--after", "40", "--as-of", "2022-06-30", "--db", db) == 2)
        #expect(run("get", "--valid-at", "2022-06-30", "--db", db) == 2)
        #expect(run("get", "decision/GB-2021-017", "--events", "--as-of", "2022-06-30", "--db", db) == 2)
        #expect(run("get", "decision/GB-2021-017", "--events", "--valid-at", "2022-06-30", "--db", db) == 2)
        #expect(run("get", "decision/GB-2021-017", "--after", "3", "--db", db) == 2)
        #expect(run("get", "decision/GB-2021-017", "--from-version", "2", "--db", db) == 2)
        #expect(run("get", "decision/GB-2021-017", "--events", "--from-version", "2", "--json", "--db", db) == 0)
        #expect(run("get", "decision/GB-2021-017", "--as-of", "2022-06-30", "--valid-at", "2022-06-30", "--db", db) == 0)
        #expect(run("get", "--after", "40", "--limit", "2", "--kind", "decision", "--db", db) == 0)
    }

    /// A malformed organisation is the same usage error (exit 2) in every view, found before the ledger is opened;
    /// a well-formed one the ledger never recorded is the view's refusal (exit 1).
    @Test func aMalformedOrganisationIsAUsageErrorInEveryView() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        for ledger in [db, directory + "/missing.sqlite"] {
            for command in [["plan", "--organisation", "goal/AMB-1"], ["plan", "--organisation", "organisation/goal/AMB-1"],
                            ["diff", "--from", "2022-01-01", "--to", "2023-01-01", "--organisation", "goal/AMB-1"],
                            ["memory", "goal/AMB-1"]] {
                #expect(PlanLedgerCommand.run(command + ["--db", ledger]) == 2, "\(command) on \(ledger)")
            }
        }
        #expect(run("export", "--out", directory + "/x.jsonl", "--organisation", "goal/AMB-1", "--db", db) == 2)
        #expect(run("plan", "--organisation", "NEVER-RECORDED", "--db", db) == 1)
        #expect(run("plan", "--organisation", "organisation/QWO", "--db", db) == 0)
    }

    /// Runs the binary on `arguments`: its exit status, standard output and standard error.
    func planledger(_ arguments: String...) throws -> (status: Int32, output: String, errors: String) {
        let out = directory + "/stdout-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try Self.planledger(#""$0" "$@" > "$OUT""#.replacingOccurrences(of: "$OUT", with: out), arguments)
        return (result.status, try String(contentsOfFile: out, encoding: .utf8), result.errors)
    }

    /// Past a stream's last version, `get --events` says what the version is, not that the stream has no events.
    @Test func getEventsPastTheLastVersionSaysWhatTheVersionIs() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let ledger = try Ledger(path: db)
        let version = try ledger.version(of: StreamName("goal/AMB-1")!)
        ledger.close()
        let past = try planledger("get", "goal/AMB-1", "--events", "--from-version", "99", "--db", db)
        #expect(past.status == 1)
        #expect(past.errors.contains("stream goal/AMB-1 has no events from version 99: its version is \(version)"), "\(past.errors)")
        let none = try planledger("get", "goal/NEVER", "--events", "--db", db)
        #expect(none.status == 1)
        #expect(none.errors.contains("stream goal/NEVER has no events\n"), "\(none.errors)")
        #expect(run("get", "goal/AMB-1", "--events", "--from-version", "0", "--db", db) == 2)
    }

    /// `get` of the log pages as GET /v1/events does: `--json` prints `{events, next}` (it printed a bare array),
    /// and a table that more events follow says on standard error how to get them.
    @Test func getOfTheLogSaysWhereTheNextPageStarts() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let size = try checkpoint(of: db).size
        #expect(size > 20)
        let first = try planledger("get", "--limit", "20", "--db", db)
        #expect(first.status == 0)
        #expect(first.output.split(separator: "\n").count == 21, "a header and 20 events")
        #expect(first.errors == "more events follow: planledger get --after 20 --limit 20 --db \(db)\n")
        let filtered = try planledger("get", "--after", "3", "--limit", "2", "--kind", "goal", "--db", db)
        #expect(filtered.errors.hasPrefix("more events follow: planledger get --after "), "\(filtered.errors)")
        #expect(filtered.errors.hasSuffix(" --limit 2 --kind goal --db \(db)\n"), "\(filtered.errors)")
        let last = try planledger("get", "--after", String(size - 20), "--limit", "20", "--db", db)
        #expect(last.status == 0 && last.errors.isEmpty, "an exactly full last page: nothing follows")

        let page = try JSONParser.parse(Array(try planledger("get", "--limit", "5", "--json", "--db", db).output.utf8))
        #expect(page["events"]?.arrayValue?.count == 5)
        #expect(page["next"] == JSONValue(5))
        let end = try JSONParser.parse(Array(try planledger("get", "--after", String(size - 2), "--json", "--db", db).output.utf8))
        #expect(end["events"]?.arrayValue?.count == 2)
        #expect(end["next"] == nil)
        let events = try JSONParser.parse(Array(try planledger("get", "goal/AMB-1", "--events", "--json", "--db", db).output.utf8))
        #expect(events["stream"] == "goal/AMB-1")
        #expect(events["version"] == JSONValue(events["events"]?.arrayValue?.count ?? -1))
    }

    /// History's text cuts long values, and says so with "…".
    @Test func historyMarksTheValuesItCuts() {
        #expect(clipped(String(repeating: "x", count: 100), 60) == String(repeating: "x", count: 59) + "…")
        #expect(clipped(String(repeating: "x", count: 60), 60) == String(repeating: "x", count: 60))
        #expect(clipped("short", 80) == "short")
    }

    @Test func decisionsRefusesAStatusNoDecisionCanHave() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        #expect(run("decisions", "--status", "bogus", "--db", db) == 2)
        #expect(run("decisions", "--status", "taken", "--db", db) == 0)
    }

    /// The file's bytes and modification time, to show that a command wrote nothing to it.
    struct Fingerprint: Equatable {
        let bytes: Data
        let modified: Date?
    }

    func fingerprint(_ path: String) throws -> Fingerprint {
        Fingerprint(bytes: try Data(contentsOf: URL(fileURLWithPath: path)),
                    modified: try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    func meta(_ sql: String) throws -> String? { try Database(path: db, options: .init(readOnly: true)).scalarText(sql) }

    @Test func verifyAndTheOtherReadsOfTheLogWriteNothingEvenToALedgerWithOutdatedProjections() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        // As a ledger from an older planledger: opening it for writing rebuilds its projections.
        try Database(path: db).run("UPDATE projection_meta SET value = '3' WHERE key = 'layout'")
        let before = try fingerprint(db)
        for command in [["verify"], ["checkpoint"], ["prove", "inclusion", "--position", "5"], ["get", "--after", "40"],
                        ["get", "goal/AMB-1", "--events"]] {
            #expect(PlanLedgerCommand.run(command + ["--db", db]) == 0, "\(command)")
            #expect(try fingerprint(db) == before, "\(command) wrote to the ledger")
        }
        #expect(try meta("SELECT value FROM projection_meta WHERE key = 'layout'") == "3")
        // A view on a file it may write still rebuilds them first, as before.
        #expect(run("plan", "--db", db) == 0)
        #expect(try meta("SELECT value FROM projection_meta WHERE key = 'layout'") == ProjectionSchema.layout)
    }

    /// Reading a writable ledger leaves its directory as it found it: no `-wal` or `-shm` stays beside a ledger that
    /// had none, from a read-only connection (which makes both and cannot remove them) or from reader connections
    /// closed after the writer's.
    @Test func readCommandsLeaveNoFilesBesideALedgerThatHadNone() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let archive = NSTemporaryDirectory() + "planledger-cli-" + UUID().uuidString + ".jsonl"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(before == ["ledger.sqlite"])
        for command in [["verify"], ["checkpoint"], ["prove", "inclusion", "--position", "5"], ["get", "--after", "40"],
                        ["get", "goal/AMB-1", "--events"], ["get", "goal/AMB-1"], ["plan"], ["history", "goal/AMB-1"],
                        ["decisions"], ["memory", "QWO-CCG"], ["impact", "assumption/A-CMHN-RATIO"], ["token", "list"],
                        ["export", "--out", archive]] {
            #expect(PlanLedgerCommand.run(command + ["--db", db]) == 0, "\(command)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == before, "\(command)")
        }
    }

    @Test func aLedgerOfANewerFormatIsRefusedByEveryCommandAndLeftAsItWas() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        try Database(path: db).run("UPDATE ledger_meta SET value = '2' WHERE key = 'format'")
        let before = try fingerprint(db)
        let input = directory + "/tx.json"
        try #"{"streams":[{"stream":"goal/G-CLI","expectedVersion":"noStream","events":[{"type":"GoalDefined","effectiveAt":"2023-02-01","data":{"title":"From the CLI","level":"annual","parent":"goal/AMB-1","owner":{"organisation":"organisation/QWO","role":"Director"}}}]}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        for command in [["verify"], ["plan"], ["rebuild"], ["export", "--out", directory + "/out.jsonl"], ["checkpoint"],
                        ["get", "--after", "0"], ["get", "goal/AMB-1"], ["token", "list"], ["append", input],
                        ["token", "create", "--role", "reader"], ["demo"]] {
            #expect(PlanLedgerCommand.run(command + ["--db", db]) == 3, "\(command)")
        }
        #expect(try fingerprint(db) == before)
        #expect(!FileManager.default.fileExists(atPath: directory + "/out.jsonl"))
    }

    @Test func projectionsOfANewerLayoutAreRefusedNotRebuiltDownUnlessRebuildIsAskedFor() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let newer = String(Int(ProjectionSchema.layout)! + 1)
        try Database(path: db).run("UPDATE projection_meta SET value = ?1 WHERE key = 'layout'", [.text(newer)])
        #expect(run("plan", "--db", db) == 3)
        #expect(run("decisions", "--db", db) == 3)
        #expect(try meta("SELECT value FROM projection_meta WHERE key = 'layout'") == newer)
        #expect(run("verify", "--db", db) == 0, "the log itself is still checked")
        #expect(run("rebuild", "--db", db) == 0)
        #expect(try meta("SELECT value FROM projection_meta WHERE key = 'layout'") == ProjectionSchema.layout)
        #expect(run("plan", "--db", db) == 0)
    }

    @Test func readCommandsRefuseAFileThatIsNotALedgerAndCreateOrChangeNothing() throws {
        defer { cleanUp() }
        let empty = directory + "/empty.sqlite"
        let foreign = directory + "/foreign.sqlite"
        let missing = directory + "/missing.sqlite"
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        try Database(path: foreign).execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')")
        let before = try [empty, foreign].map(fingerprint)
        for file in [empty, foreign, missing] {
            for command in [["plan"], ["verify"], ["checkpoint"], ["get", "--after", "0"], ["get", "goal/G-1"], ["token", "list"],
                            ["token", "revoke", "tok-1", "--reason", "typo"], ["export", "--out", directory + "/out.jsonl"]] {
                #expect(PlanLedgerCommand.run(command + ["--db", file]) == 3, "\(command) \(file)")
            }
        }
        #expect(try [empty, foreign].map(fingerprint) == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(left == ["empty.sqlite", "foreign.sqlite"], "no -wal or -shm, nothing at the missing path, no archive")
        // Nor does a write command take over a database that is not a ledger.
        #expect(run("demo", "--db", foreign) == 3)
        #expect(run("rebuild", "--db", foreign) == 3)
        #expect(try fingerprint(foreign) == before[1])
    }

    @Test func aRefusedFirstAppendLeavesNoLedgerBehind() throws {
        defer { cleanUp() }
        let input = directory + "/tx.json"
        try #"{"streams":[{"stream":"goal/G-1","expectedVersion":"exists","events":[{"type":"GoalStatusAssessed","data":{"status":"on_track"}}]}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        #expect(run("append", input, "--db", db) == 1)
        for suffix in ["", "-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: db + suffix), "\(suffix)") }
        #expect(run("token", "create", "--role", "contributor", "--organisation", "not a key/", "--db", db) != 0)
        #expect(!FileManager.default.fileExists(atPath: db))
        #expect(run("token", "create", "--role", "reader", "--db", db) == 0)
        #expect(run("token", "list", "--db", db) == 0)
        // An empty file (from touch or mktemp) is left empty.
        let empty = directory + "/empty.sqlite"
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        #expect(run("append", input, "--db", empty) == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty)
        #expect(run("append", input, "--db", empty) == 1, "and still takes an append")
    }

    /// Root may write any file, so as root the commands on a write-protected ledger run as `nobody` (`setpriv`).
    static let canDropToAnotherUser = getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    /// A command that writes to a ledger this user may not write says so, naming the file, not SQLite's error about
    /// setting up the write-ahead log ("SQLite error 1544 ... PRAGMA journal_mode = WAL"); still a storage error.
    @Test(.enabled(if: canDropToAnotherUser))
    func writingToALedgerThatMayNotBeWrittenSaysSo() throws {
        defer { cleanUp() }
        let shared = directory + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        let ledger = shared + "/ro.sqlite"
        #expect(run("demo", "--db", ledger) == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: ledger)
        let input = shared + "/tx.json"
        try #"{"streams":[{"stream":"measure/M-RTT-52WK","expectedVersion":"exists","events":[{"type":"MeasureReadingRecorded","effectiveAt":"2023-03-31","data":{"value":900,"at":"2023-03-31"}}]}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        let user = getuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : ""
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger))
        for command in [#"append "$2""#, "rebuild", "token create --role reader", "token revoke tok-1 --reason gone", "demo"] {
            let result = try Self.planledger(user + #""$0" \#(command) --db "$1""#, [ledger, input])
            #expect(result.status == 3, "\(command): \(result.errors)")
            #expect(result.errors.contains("the ledger at \(ledger) cannot be written (a read-only file or directory)"),
                    "\(command): \(result.errors)")
            #expect(!result.errors.contains("SQLite"), "\(command): \(result.errors)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: ledger)) == before)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: shared)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: shared) }
        let created = try Self.planledger(user + #""$0" append "$2" --db "$1""#, [shared + "/new.sqlite", input])
        #expect(created.status == 3)
        #expect(created.errors.contains("no ledger can be created at \(shared)/new.sqlite: its directory cannot be written"),
                "\(created.errors)")
        #expect(!FileManager.default.fileExists(atPath: shared + "/new.sqlite"))
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

    /// `diff` shows what was handed over, from which organisation to which, after the sections it always had; its
    /// `--json` is the API's, with the same `transferred` entries.
    @Test func diffShowsWhatWasHandedOver() throws {
        defer { cleanUp() }
        let (text, json) = (directory + "/diff.txt", directory + "/diff.json")
        let result = try Self.planledger("""
            "$0" demo --db "$1" >/dev/null && "$0" diff --from 2022-06-30 --to 2022-12-31 --db "$1" > "$2" \
            && "$0" diff --from 2022-06-30 --to 2022-12-31 --json --db "$1" > "$3"
            """, [db, text, json])
        #expect(result.status == 0, "\(result.errors)")
        let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex(of: "transferred:"))
        #expect(lines.firstIndex(of: "closed:").map { $0 < start } == true, "after the sections diff always had")
        let moves = lines[(start + 1)...].prefix { $0.hasPrefix("  ") }
        #expect(moves.count == 13)
        #expect(moves.contains { $0.hasPrefix("  goal/AMB-1 [active] ") && $0.hasSuffix(
            " — organisation/QWO-CCG → organisation/QWO (handover/QWO-CCG-TO-QWO)") }, "\(moves)")
        let served = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: json))))
        #expect(served["transferred"]?.arrayValue?.count == 13)
        #expect(served["transferred"]?.arrayValue?.first?["from"] == "organisation/QWO-CCG")
    }

    /// `checkpoint` prints what the stored rows give. When the size the ledger records for itself disagrees with
    /// them (an edit behind its back, a damaged file) it warns on standard error, points to `verify`, and exits 1 so
    /// that a script does not publish it. A healthy ledger's output is as it was, with nothing on standard error.
    @Test func checkpointWarnsWhenTheRecordedSizeDisagreesWithTheStoredEvents() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let healthy = try checkpoint(of: db)
        let out = directory + "/checkpoint.out"
        func checkpointCommand(_ path: String, json: Bool = false) throws
            -> (status: Int32, errors: String, output: String)
        {
            let result = try Self.planledger(#""$0" checkpoint \#(json ? "--json" : "") --db "$1" > "$2""#, [path, out])
            return (result.status, result.errors, try String(contentsOfFile: out, encoding: .utf8))
        }
        let clean = try checkpointCommand(db)
        #expect(clean.status == 0 && clean.errors.isEmpty, "\(clean.errors)")
        #expect(clean.output == """
            size:       \(healthy.size)
            rootHash:   \(healthy.rootHash.hex)
            recordedAt: \(healthy.recordedAt.rfc3339)
            publish as: \(healthy.size):\(healthy.rootHash.hex)

            """)
        let cleanJSON = try checkpointCommand(db, json: true)
        #expect(cleanJSON.status == 0 && cleanJSON.errors.isEmpty, "\(cleanJSON.errors)")

        let edits = [
            ("size-lowered", "UPDATE ledger_meta SET value = '\(healthy.size - 1)' WHERE key = 'size'"),
            ("size-raised", "UPDATE ledger_meta SET value = '\(healthy.size + 5)' WHERE key = 'size'"),
            ("size-not-a-number", "UPDATE ledger_meta SET value = 'many' WHERE key = 'size'"),
            ("size-removed", "DELETE FROM ledger_meta WHERE key = 'size'"),
            ("last-event-deleted", "DELETE FROM events WHERE position = \(healthy.size)"),
            ("middle-event-deleted", "DELETE FROM events WHERE position = 3"),
        ]
        for (name, sql) in edits {
            let copy = directory + "/\(name).sqlite"
            try FileManager.default.copyItem(atPath: db, toPath: copy)
            try Database(path: copy).execute(sql)
            for json in [false, true] {
                let warned = try checkpointCommand(copy, json: json)
                #expect(warned.status == 1, "\(name)")
                #expect(warned.errors.contains("planledger verify --db"), "\(name): \(warned.errors)")
                #expect(warned.output.hasPrefix(json ? "{" : "size:"), "\(name): the rows' checkpoint is still shown")
            }
            #expect(run("verify", "--db", copy) == 1, "\(name): and verify names what is wrong")
        }
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

    /// Events are immutable, so an actor no event may record is a usage error before anything is stored: an empty
    /// --actor or --role, or an --organisation that is not an organisation (it was stored as organisation/goal/X).
    @Test func appendRefusesAnActorNoEventMayRecord() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let before = try checkpoint(of: db)
        let input = directory + "/tx.json"
        try #"{"streams":[{"stream":"measure/M-RTT-52WK","expectedVersion":"exists","events":[{"type":"MeasureReadingRecorded","effectiveAt":"2023-03-31","data":{"value":900,"at":"2023-03-31"}}]}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        for flags in [["--organisation", "goal/AMB-1"], ["--organisation", "organisation/goal/X"], ["--organisation", ""],
                      ["--actor", ""], ["--role", ""], ["--actor", "  "]] {
            #expect(PlanLedgerCommand.run(["append", input, "--db", db] + flags) == 2, "\(flags)")
        }
        #expect(try checkpoint(of: db) == before, "nothing stored")
        #expect(run("append", input, "--db", directory + "/new.sqlite", "--role", "") == 2)
        #expect(!FileManager.default.fileExists(atPath: directory + "/new.sqlite"), "nor a ledger created")
        // token create records its --actor and grants its --organisation in the same way.
        #expect(run("token", "create", "--role", "contributor", "--organisation", "goal/AMB-1", "--db", db) == 2)
        #expect(run("token", "create", "--role", "reader", "--actor", "", "--db", db) == 2)
        #expect(try checkpoint(of: db) == before)
        #expect(run("append", input, "--db", db, "--organisation", "organisation/QWO") == 0)
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
