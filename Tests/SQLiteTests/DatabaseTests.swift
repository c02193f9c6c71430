import Foundation
import Testing

@testable import SQLite

struct DatabaseTests {
    let path = NSTemporaryDirectory() + "sqlite-test-\(UUID().uuidString).sqlite"

    func removeFiles() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func opensInWALModeWithFullSynchronous() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        do {
            #expect(try database.scalarText("PRAGMA journal_mode") == "wal")
            #expect(try database.scalarInt("PRAGMA synchronous") == 2)  // FULL
        }
    }

    @Test func anImmutableConnectionReadsAPathWithURICharactersAndCreatesNoFilesBesideIt() throws {
        let odd = NSTemporaryDirectory() + "sqlite-test ?#%&=\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: odd + suffix) } }
        try { () throws in
            let writer = try Database(path: odd)
            try writer.execute("CREATE TABLE t (x); INSERT INTO t VALUES (42)")
        }()
        #expect(!FileManager.default.fileExists(atPath: odd + "-wal"), "the last connection closed folds the WAL")
        var options = Database.Options(readOnly: true, create: false)
        options.immutable = true
        let reader = try Database(path: odd, options: options)
        #expect(try reader.scalarInt("SELECT x FROM t") == 42)
        #expect(!FileManager.default.fileExists(atPath: odd + "-wal") && !FileManager.default.fileExists(atPath: odd + "-shm"))
        #expect(throws: SQLiteError.self) { try reader.execute("INSERT INTO t VALUES (1)") }
        #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "sqlite-test "), "not opened as a truncated name")
    }

    @Test func writerOptionsSetThePageCacheCheckpointIntervalAndTempStore() throws {
        defer { removeFiles() }
        let writer = try Database(path: path, options: .writer)
        #expect(try writer.scalarInt("PRAGMA cache_size") == -65_536)
        #expect(try writer.scalarInt("PRAGMA wal_autocheckpoint") == 4_000)
        #expect(try writer.scalarInt("PRAGMA temp_store") == 2)  // MEMORY: statement journals never touch the disk
        #expect(try writer.scalarInt("PRAGMA journal_size_limit") == 128 << 20)
        let reader = try Database(path: path, options: .init(readOnly: true))
        #expect(try reader.scalarInt("PRAGMA wal_autocheckpoint") == 1_000)  // SQLite's default, untouched
    }

    @Test func bindsAndReadsEveryType() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        do {
            try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
            try database.run("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)", [.integer(42), .real(1.5), "é", .blob([0, 1, 255]), nil])
            let row = try database.first("SELECT i, r, s, b, n FROM t") { [$0.value(0), $0.value(1), $0.value(2), $0.value(3), $0.value(4)] }
            #expect(row == [.integer(42), .real(1.5), .text("é"), .blob([0, 1, 255]), .null])
        }
    }

    @Test func bindsTextByLengthAndClearsParametersLeftUnbound() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        do {
            try database.execute("CREATE TABLE t (k INTEGER, s TEXT, x)")
            let insert = "INSERT INTO t VALUES (?1, ?2, ?3)"
            try database.run(insert, [.integer(1), "a\u{0}b", "previous"])
            try database.run(insert, [.integer(2), ""])  // ?3 not bound this time: NULL, not the previous run's value
            let rows = try database.map("SELECT s, length(CAST(s AS BLOB)), x FROM t ORDER BY k") { [$0.value(0), $0.value(1), $0.value(2)] }
            #expect(rows == [[.text("a\u{0}b"), .integer(3), .text("previous")], [.text(""), .integer(0), .null]])
        }
    }

    @Test func errorsCarryExtendedCodesAndSQL() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        do {
            try database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
            try database.run("INSERT INTO t VALUES ('a')")
            do {
                try database.run("INSERT INTO t VALUES ('a')")
                Issue.record("expected a constraint error")
            } catch {
                #expect(error.extendedCode == SQLiteExtendedCode.constraintPrimaryKey)
                #expect(error.sql == "INSERT INTO t VALUES ('a')")
            }
            // The cached statement is reusable after the failure.
            try database.run("INSERT INTO t VALUES (?1)", ["b"])
            #expect(try database.scalarInt("SELECT COUNT(*) FROM t") == 2)
        }
    }

    @Test func transactionRollsBackOnThrowAndSavepointsNest() throws {
        struct Boom: Error {}
        defer { removeFiles() }
        let database = try Database(path: path)
        do {
            try database.execute("CREATE TABLE t (v INTEGER)")
            #expect(throws: Boom.self) {
                try database.transaction {
                    try database.run("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            try database.transaction {
                try database.run("INSERT INTO t VALUES (2)")
                try? database.savepoint {
                    try database.run("INSERT INTO t VALUES (3)")
                    throw Boom()
                }
            }
            #expect(try database.map("SELECT v FROM t") { $0.int(0) } == [2])
            #expect(!database.isInTransaction)
        }
    }

    @Test func readersSeeCommittedDataOnly() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        do {
            try database.execute("CREATE TABLE t (v INTEGER)")
            let reader = try Database(path: path, options: .init(readOnly: true))
            try database.execute("BEGIN IMMEDIATE")
            try database.run("INSERT INTO t VALUES (1)")
            #expect(try reader.scalarInt("SELECT COUNT(*) FROM t") == 0)
            try database.execute("COMMIT")
            #expect(try reader.scalarInt("SELECT COUNT(*) FROM t") == 1)
        }
    }
}

/// A cache attached to a connection (`ConnectionAttachment`) must never outlive the data it mirrors.
struct ConnectionAttachmentTests {
    final class Marker: ConnectionAttachment {
        var value = 0
        init() {}
    }

    let path = NSTemporaryDirectory() + "sqlite-attachment-\(UUID().uuidString).sqlite"

    func removeFiles() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func survivesCommitsAndReleasedSavepoints() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        database.attachment(Marker.self).value = 7
        try database.transaction {
            try database.savepoint { try database.execute("CREATE TABLE t (x)") }
        }
        #expect(database.attachment(Marker.self).value == 7)
    }

    @Test func isDroppedWhenASavepointRollsBack() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        try database.transaction {
            database.attachment(Marker.self).value = 7
            _ = try? database.savepoint { () throws -> Void in
                try database.execute("CREATE TABLE t (x)")
                struct Refused: Error {}
                throw Refused()
            }
            #expect(database.attachment(Marker.self).value == 0)
        }
    }

    @Test func isDroppedByAnyFullRollbackThroughTheRollbackHook() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        try database.execute("BEGIN IMMEDIATE")
        database.attachment(Marker.self).value = 7
        try database.execute("ROLLBACK")  // a plain statement: only SQLite's rollback hook sees it
        #expect(database.attachment(Marker.self).value == 0)
    }

    @Test func isDroppedAfterAnotherConnectionCommits() throws {
        defer { removeFiles() }
        let database = try Database(path: path)
        try database.execute("CREATE TABLE t (x)")
        try database.dropAttachmentsIfChangedElsewhere()  // the baseline
        database.attachment(Marker.self).value = 7
        try database.run("INSERT INTO t VALUES (1)")  // our own commit does not count
        try database.dropAttachmentsIfChangedElsewhere()
        #expect(database.attachment(Marker.self).value == 7)

        let other = try Database(path: path)
        try other.run("INSERT INTO t VALUES (2)")
        try database.dropAttachmentsIfChangedElsewhere()
        #expect(database.attachment(Marker.self).value == 0)
    }

    /// A copy of a ledger with its `-wal` (commits not yet folded in) in a directory the reader may not write
    /// cannot be read; the error says why and what to do, instead of SQLite's bare "unable to open database file".
    /// The directory's permission is given to the check: as root, every directory is writable.
    @Test func explainsAWALThatCannotBeReadInAWriteProtectedDirectory() throws {
        defer { removeFiles() }
        let writer = try Database(path: path)
        try writer.execute("PRAGMA wal_autocheckpoint = 0")
        try writer.execute("CREATE TABLE t (x)")
        try writer.execute("INSERT INTO t VALUES (1)")
        // A copy of the file and its -wal, as a running ledger's would be, without the -shm.
        let copy = path + "-copy"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) } }
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix) }
        writer.close()
        let directory = (copy as NSString).deletingLastPathComponent
        let reason = try #require(Database.whyWALCannotBeRead(beside: copy, mayWrite: { $0 != directory }))
        #expect(reason.contains("\(copy)-shm") && reason.contains("cannot be made in \(directory)"))
        // A writable directory, an existing -shm, or a -wal with nothing in it: not this cause.
        #expect(Database.whyWALCannotBeRead(beside: copy, mayWrite: { _ in true }) == nil)
        FileManager.default.createFile(atPath: copy + "-shm", contents: Data())
        #expect(Database.whyWALCannotBeRead(beside: copy, mayWrite: { _ in false }) == nil)
        try FileManager.default.removeItem(atPath: copy + "-shm")
        try Data().write(to: URL(fileURLWithPath: copy + "-wal"))
        #expect(Database.whyWALCannotBeRead(beside: copy, mayWrite: { _ in false }) == nil)
    }
}
