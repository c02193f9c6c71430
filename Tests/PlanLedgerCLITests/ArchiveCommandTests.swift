import Foundation
import Ledger
import SQLite
import Testing

@testable import PlanLedgerCLI

/// `export`, `verify-archive` and `import` as the reviewer ran them, on the demo ledger.
extension CommandLineTests {
    @Test func exportRefusesALedgerThatDoesNotVerifyAndLeavesOutAsItWas() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let size = try checkpoint(of: db).size
        let out = directory + "/archive.jsonl"
        for (name, sql, position) in [("edited", "UPDATE events SET reason = 'edited' WHERE position = 43", 43),
                                      ("last-deleted", "DELETE FROM events WHERE position = \(size)", size)] {
            let copy = directory + "/\(name).sqlite"
            try FileManager.default.copyItem(atPath: db, toPath: copy)
            try Database(path: copy).execute(sql)
            try "old archive".write(toFile: out, atomically: false, encoding: .utf8)
            let refused = try Self.planledger(#"exec "$0" "$@""#, ["export", "--db", copy, "--out", out])
            #expect(refused.status == 1, "\(name): \(refused)")
            #expect(refused.errors.contains("fails verification at position \(position)"), "\(name): \(refused)")
            #expect(try String(contentsOfFile: out, encoding: .utf8) == "old archive", "\(name)")
            #expect(run("export", "--db", copy, "--organisation", "QWO-CCG", "--out", out) == 1, "\(name): a slice too")
            #expect(run("export", "--db", copy, "--as-of", "2022-06-30", "--out", out) == 1, "\(name): a prefix too")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".partial") } == [])
        }
    }

    /// A malformed flag is a usage error before the ledger is opened, whatever the file: an empty `--actor` or
    /// `--role` (the manifest's `createdBy` keeps them), or an `--organisation` that names no organisation.
    @Test func exportChecksItsFlagsBeforeOpeningTheLedger() throws {
        defer { cleanUp() }
        let out = directory + "/archive.jsonl"
        let missing = directory + "/missing.sqlite"
        for flags in [["--actor", ""], ["--role", " "], ["--organisation", "goal/AMB-1"]] {
            #expect(PlanLedgerCommand.run(["export", "--db", missing, "--out", out] + flags) == 2, "\(flags)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing) && !FileManager.default.fileExists(atPath: out))
    }

    @Test func exportAsOfBeforeTheFirstEventIsRefused() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let out = directory + "/early.jsonl"
        let refused = try Self.planledger(#"exec "$0" "$@""#, ["export", "--db", db, "--as-of", "2000-01-01", "--out", out])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.errors.contains("nothing was recorded by 2000-01-01T00:00:00.000Z: the first event was recorded"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A slice's verdict says what it does not prove and lists each stream's last version held, to check against
    /// the source; a full archive's verdict is unchanged.
    @Test func aSlicesVerdictSaysItCannotShowAWithheldTail() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let slice = directory + "/ccg.jsonl"
        let output = directory + "/verdict.txt"
        #expect(run("export", "--db", db, "--organisation", "QWO-CCG", "--out", slice) == 0)
        let sliced = try Self.planledger(#""$0" verify-archive "$1" > "$2""#, [slice, output])
        #expect(sliced.status == 0, "\(sliced)")
        let verdict = try String(contentsOfFile: output, encoding: .utf8)
        #expect(verdict.hasPrefix("VERIFIED \(slice)\n  events:  39 (slice of 15 streams for organisation/QWO-CCG)\n"), "\(verdict)")
        #expect(verdict.contains("NOT proven: that a stream's last version here is its last in the source"), "\(verdict)")
        #expect(verdict.contains("\n    organisation/QWO-CCG version 2\n"), "\(verdict)")
        #expect(!verdict.contains("every event proven by inclusion"), "the old claim, without its limit")
    }

    /// `-` reads standard input, as `export --out -` writes standard output.
    @Test func verifyArchiveAndImportReadStandardInput() throws {
        defer { cleanUp() }
        #expect(run("demo", "--db", db) == 0)
        let output = directory + "/verdict.txt"
        let verified = try Self.planledger(#""$0" export --db "$1" --out - | "$0" verify-archive - > "$2""#, [db, output])
        #expect(verified.status == 0, "\(verified)")
        #expect(try String(contentsOfFile: output, encoding: .utf8).hasPrefix("VERIFIED standard input\n  events:  44 (full"))
        let refused = try Self.planledger(#"printf '{"manifest":{}}\n' | "$0" verify-archive - > "$1""#, [output])
        #expect(refused.status == 1, "\(refused)")
        #expect(try String(contentsOfFile: output, encoding: .utf8).hasPrefix("REFUSED standard input: line 1"))

        let imported = directory + "/imported.sqlite"
        let loaded = try Self.planledger(#""$0" export --db "$1" --out - | "$0" import - --db "$2""#, [db, imported])
        #expect(loaded.status == 0, "\(loaded)")
        #expect(try checkpoint(of: imported) == checkpoint(of: db))
    }
}
