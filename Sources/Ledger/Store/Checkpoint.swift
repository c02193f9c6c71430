/// A signed-off point of the ledger: its size, Merkle root and the `recordedAt` of its last event. Publishing one
/// (in board minutes, say) lets anyone later check that the ledger they are shown extends it.
public struct Checkpoint: Sendable, Hashable {
    public let size: Int
    public let rootHash: Digest
    /// The `recordedAt` of event `size`; for the empty ledger, the time the checkpoint was read.
    public let recordedAt: Timestamp

    public init(size: Int, rootHash: Digest, recordedAt: Timestamp) {
        self.size = size
        self.rootHash = rootHash
        self.recordedAt = recordedAt
    }

    public var json: JSONValue {
        ["size": JSONValue(size), "rootHash": .string(rootHash.hex), "recordedAt": .string(recordedAt.rfc3339)]
    }
}

/// What an append returns: the stored records (new, or the ones already stored for an idempotent re-send) and the
/// ledger's checkpoint after it.
public struct AppendResult: Sendable {
    public let events: [RecordedEvent]
    public let checkpoint: Checkpoint
    /// True when every event was already stored with identical content and nothing was appended.
    public let alreadyStored: Bool
}
