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
