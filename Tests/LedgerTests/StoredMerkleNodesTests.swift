import SQLite
import Testing

@testable import Ledger

/// `StoredMerkleNodes` reads each level in order, yet answers exactly as a point lookup of (level, idx) does,
/// whatever rows the table holds.
@Suite struct StoredMerkleNodesTests {
    let directory = TemporaryDirectory()

    func pointLookup(_ database: Database, level: Int, index: Int) throws -> Digest? {
        try database.first("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2",
                           [.integer(Int64(level)), .integer(Int64(index))]) { $0.withBytes(0) { Digest(bytes: $0) } } ?? nil
    }

    /// Asks for levels 1...4 in the order `FrontierTree` completes nodes for `leaves` leaves.
    func compare(_ database: Database, leaves: Int) throws -> (asked: Int, found: Int) {
        let nodes = StoredMerkleNodes(database: database)
        var tree = FrontierTree()
        var asked = 0, found = 0
        for leaf in 0..<leaves {
            try tree.append(MerkleTree.leafHash([UInt8(leaf & 0xFF)])) { level, index, _ in
                let expected = try pointLookup(database, level: level, index: index)
                let answer = try nodes.hash(level: level, index: index)
                #expect(answer == expected, "level \(level) index \(index)")
                asked += 1
                if answer != nil { found += 1 }
            }
        }
        return (asked, found)
    }

    /// An SQL blob literal of 32 bytes `byte`.
    static func digest(_ byte: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "X'" + String(repeating: "\(hex[Int(byte >> 4)])\(hex[Int(byte & 15)])", count: 32) + "'"
    }

    enum Table: CaseIterable { case asCreated, withoutKey, withoutKeyIndexedDescending }

    @Test(arguments: Table.allCases) func answersAsPointLookups(table: Table) throws {
        defer { directory.remove() }
        let database = try Database(path: directory.file("nodes.sqlite"))
        let withPrimaryKey = table == .asCreated
        if withPrimaryKey {
            try LedgerSchema.create(in: database)
        } else {
            // As a forger might rebuild it: no key, no column types, so any value and any repetition.
            try database.execute("CREATE TABLE merkle_nodes (level, idx, hash)")
        }
        if table == .withoutKeyIndexedDescending {
            // The ordered scan walks this index backwards, meeting repeated rows last-inserted first, while the
            // point lookup meets them first-inserted first.
            try database.execute("CREATE INDEX nodes_descending ON merkle_nodes (level, idx DESC)")
        }
        var rows: [String] = []
        for level in 1...4 {
            for index in 0..<(64 >> level) where (index * 7 + level) % 5 != 0 {  // some nodes missing
                rows.append("(\(level), \(index), \(Self.digest(UInt8(index))))")
            }
        }
        // Odd rows: indexes as text, blob and non-integral reals, hashes of other lengths, rows past the end.
        rows += ["(1, 'x', \(Self.digest(1)))", "(1, X'03', \(Self.digest(3)))", "(1, 4.5, \(Self.digest(4)))",
                 "(2, -1, \(Self.digest(9)))", "(2, 100, \(Self.digest(9)))", "(9, 0, \(Self.digest(9)))",
                 "(1.5, 2, \(Self.digest(2)))"]
        try database.execute("INSERT OR REPLACE INTO merkle_nodes VALUES \(rows.joined(separator: ", "))")
        try database.execute("UPDATE merkle_nodes SET hash = X'0102' WHERE level = 1 AND idx = 6")
        if !withPrimaryKey {
            // Repeated nodes, equal as integers and as reals, before and after the first row for them.
            try database.execute("""
                INSERT INTO merkle_nodes VALUES (1, 8, \(Self.digest(200))), (1, 8.0, \(Self.digest(201))),
                  (2, 3, \(Self.digest(202))), (3, 1, NULL);
                CREATE TABLE copied AS SELECT * FROM merkle_nodes;
                DELETE FROM merkle_nodes;
                INSERT INTO merkle_nodes VALUES (2, 5, \(Self.digest(203)));
                INSERT INTO merkle_nodes SELECT * FROM copied;
                """)
        }
        let (asked, found) = try database.transaction(.deferred) { try compare(database, leaves: 64) }
        #expect(asked == 32 + 16 + 8 + 4 + 2 + 1 && found > 30)
    }
}
