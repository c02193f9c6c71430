import SQLite

/// Merkle nodes read from the ledger's tables: leaves from `events.hash`, completed subtrees from `merkle_nodes`.
public struct DatabaseNodeSource: MerkleNodeSource {
    let database: Database

    public init(database: Database) { self.database = database }

    public func node(level: Int, index: Int) throws -> Digest {
        let bytes: [UInt8]?
        if level == 0 {
            bytes = try database.first("SELECT hash FROM events WHERE position = ?1", [.integer(Int64(index + 1))]) {
                $0.blob(0)
            }
        } else {
            bytes = try database.first("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2",
                                       [.integer(Int64(level)), .integer(Int64(index))]) { $0.blob(0) }
        }
        guard let bytes, let digest = Digest(bytes: bytes) else {
            throw LedgerError(.storage, code: "missing_merkle_node",
                              "the Merkle node at level \(level), index \(index) is missing or damaged")
        }
        return digest
    }
}
