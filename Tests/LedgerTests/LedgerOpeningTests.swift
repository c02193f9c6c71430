import Foundation
import SQLite
import Testing

@testable import Ledger

/// How `Ledger` opens a file: only ledgers of a format it knows, and read-only without writing a byte.
@Suite struct LedgerOpeningTests {
    let directory = TemporaryDirectory()
    let clock = ManualClock()

    var path: String { directory.file("ledger.sqlite") }

    /// The file's bytes and modification time, to show that nothing wrote to it.
    struct Fingerprint: Equatable {
        let bytes: Data
        let modified: Date?
    }

    func fingerprint(_ path: String) throws -> Fingerprint {
        Fingerprint(bytes: try Data(contentsOf: URL(fileURLWithPath: path)),
                    modified: try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    /// The names in the ledger's directory.
    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    /// Opens and closes the ledger at `path` (a ledger dropped unclosed would leave its writer thread running).
    func open(_ path: String, hook: any LedgerHook = NoHook(), mode: Ledger.Mode) throws {
        try Ledger(path: path, hook: hook, mode: mode).close()
    }

    /// A ledger of two events, closed (its write-ahead log folded into the file).
    func makeLedger() throws {
        let ledger = try Ledger(path: path, clock: clock.function)
        _ = try ledger.append(transaction("goal/G-1", .noStream, event("A"), event("B")))
        ledger.close()
    }

    @Test func aLedgerOfANewerFormatIsRefusedInEveryModeAndLeftAsItWas() throws {
        defer { directory.remove() }
        try makeLedger()
        try Database(path: path).run("UPDATE ledger_meta SET value = '2' WHERE key = 'format'")
        let before = try fingerprint(path)
        for mode in [Ledger.Mode.create, .existing, .readOnly(needsProjections: true), .readOnly(needsProjections: false)] {
            expectLedgerError("unsupported_format") { try open(path, mode: mode) }
            #expect(try listing() == ["ledger.sqlite"], "\(mode) leaves no -wal or -shm")
        }
        expectLedgerError("unsupported_format") { try ProjectionRebuilder(path: path, hook: NoHook()).rebuild() }
        #expect(try fingerprint(path) == before)
    }

    @Test func onlyAnExistingLedgerOpensUnlessAskedToCreateOne() throws {
        defer { directory.remove() }
        let missing = directory.file("missing.sqlite")
        let empty = directory.file("empty.sqlite")
        let foreign = directory.file("foreign.sqlite")
        let garbage = directory.file("garbage.sqlite")
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        try Database(path: foreign).execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')")
        #expect(FileManager.default.createFile(atPath: garbage, contents: Data("not a database".utf8)))
        let before = try [empty, foreign, garbage].map(fingerprint)
        let listed = try listing()
        for file in [missing, empty, foreign, garbage] {
            for mode in [Ledger.Mode.existing, .readOnly(needsProjections: false)] {
                expectLedgerError("not_a_ledger") { try open(file, mode: mode) }
                #expect(try listing() == listed, "\(mode) \(file) leaves no -wal or -shm")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try [empty, foreign, garbage].map(fingerprint) == before)
        let tables = try Database(path: foreign, options: .init(readOnly: true)).map(
            "SELECT name FROM sqlite_schema WHERE type = 'table'") { $0.text(0) }
        #expect(tables == ["notes"])
    }

    @Test func readOnlyReadsWithoutWritingEvenWhenProjectionsAreOutdated() throws {
        defer { directory.remove() }
        try makeLedger()
        let before = try fingerprint(path)
        let ledger = try Ledger(path: path, hook: OutdatedProjections(), mode: .readOnly(needsProjections: false))
        #expect(ledger.size == 2)
        #expect(try ledger.events().map(\.type) == ["A", "B"])
        #expect(try ledger.checkpoint().size == 2)
        expectLedgerError("read_only") { _ = try ledger.append(transaction("goal/G-2", .noStream, event("C"))) }
        ledger.close()
        #expect(try fingerprint(path) == before)
        expectLedgerError("projections_outdated") {
            try open(path, hook: OutdatedProjections(), mode: .readOnly(needsProjections: true))
        }
        #expect(try fingerprint(path) == before)
        #expect(try listing() == ["ledger.sqlite"])
    }

    @Test func aFileThisProcessCannotWriteIsReadImmutableLeavingNoFilesBeside() throws {
        defer { directory.remove() }
        try makeLedger()
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        let options = Database.Options.reading(path)
        // Root may write any file: there the ordinary read-only connection is what is asked for.
        #expect(options.immutable == (getuid() != 0))
        let ledger = try Ledger(path: path, mode: .readOnly(needsProjections: false))
        #expect(try ledger.events().count == 2)
        ledger.close()
        if getuid() != 0 {
            #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    /// A read-only connection to a file in WAL mode makes a `-wal` and `-shm` beside it when there are none, and
    /// cannot remove them: closing the read-only ledger does, so reading leaves the directory as it was.
    @Test func aReadOnlyLedgerLeavesTheDirectoryAsItFoundIt() throws {
        defer { directory.remove() }
        try makeLedger()
        let before = try listing()
        let contents = try fingerprint(path)
        #expect(before == ["ledger.sqlite"])
        let ledger = try Ledger(path: path, mode: .readOnly(needsProjections: false))
        #expect(try ledger.events().count == 2)
        #expect(try ledger.checkpoint().size == 2)
        ledger.close()
        #expect(try listing() == before)
        #expect(try fingerprint(path) == contents)
        ledger.close()  // a second close opens nothing
        #expect(try listing() == before)
    }

    /// Beside a writer (a server), a read-only ledger reads its latest commits from the `-wal` and leaves the files,
    /// which the writer still needs; the writer goes on appending, and removes them as it closes.
    @Test func aReadOnlyLedgerBesideAWriterReadsItsCommitsAndLeavesItsFiles() throws {
        defer { directory.remove() }
        try makeLedger()
        let writer = try Ledger(path: path, clock: clock.function)
        _ = try writer.append(transaction("goal/G-2", .noStream, event("C")))
        let reader = try Ledger(path: path, mode: .readOnly(needsProjections: false))
        #expect(try reader.events().map(\.type) == ["A", "B", "C"])
        _ = try writer.append(transaction("goal/G-3", .noStream, event("D")))
        #expect(try reader.events().map(\.type) == ["A", "B", "C", "D"])
        reader.close()
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(FileManager.default.fileExists(atPath: path + "-shm"))
        _ = try writer.append(transaction("goal/G-4", .noStream, event("E")))
        writer.close()
        #expect(try listing() == ["ledger.sqlite"])
        let reopened = try Ledger(path: path, mode: .readOnly(needsProjections: false))
        #expect(try reopened.events().map(\.type) == ["A", "B", "C", "D", "E"])
        reopened.close()
    }

    /// A writer that opens the ledger while a read-only one has it open (no files were there before the read) keeps
    /// its `-wal` and `-shm` when the reader closes: only the last connection removes them.
    @Test func aWriterThatOpenedDuringAReadKeepsItsFilesWhenTheReaderCloses() throws {
        defer { directory.remove() }
        try makeLedger()
        let reader = try Ledger(path: path, mode: .readOnly(needsProjections: false))
        #expect(try reader.events().count == 2)
        let writer = try Ledger(path: path, clock: clock.function)
        _ = try writer.append(transaction("goal/G-2", .noStream, event("C")))
        reader.close()
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(FileManager.default.fileExists(atPath: path + "-shm"))
        _ = try writer.append(transaction("goal/G-3", .noStream, event("D")))
        #expect(try writer.events().count == 4)
        writer.close()
        #expect(try listing() == ["ledger.sqlite"])
    }
}

/// A hook whose projections are always from an older layout: opening for writing would rebuild them.
private struct OutdatedProjections: LedgerHook {
    func prepare(database: Database) throws {}
    func currentSchemaVersion(of type: String) -> Int? { 1 }
    func projectionsAreCurrent(database: Database) throws -> Bool { false }
    func apply(_ records: [RecordedEvent], database: Database) throws {}
    func resetProjections(database: Database) throws {}
    func project(_ record: RecordedEvent, database: Database) throws {}
}
