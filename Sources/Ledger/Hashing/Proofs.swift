/// An RFC 6962 inclusion proof as served: leaf index = position − 1, audit path nearest sibling first.
public struct InclusionProof: Sendable, Hashable {
    public let position: Int
    public let size: Int
    public let leafHash: Digest
    public let rootHash: Digest
    public let path: [Digest]

    public init(position: Int, size: Int, leafHash: Digest, rootHash: Digest, path: [Digest]) {
        self.position = position
        self.size = size
        self.leafHash = leafHash
        self.rootHash = rootHash
        self.path = path
    }

    public var json: JSONValue {
        ["position": JSONValue(position), "size": JSONValue(size), "leafHash": .string(leafHash.hex),
         "rootHash": .string(rootHash.hex), "path": JSONValue(path.map(\.hex))]
    }

    /// Whether the path really leads from `leafHash` to `rootHash`.
    public var isValid: Bool {
        MerkleProof.verifyInclusion(leafHash: leafHash, leafIndex: position - 1, size: size, path: path,
                                    rootHash: rootHash)
    }
}

/// An RFC 6962 consistency proof between the trees of `from` and `to` events.
public struct ConsistencyProof: Sendable, Hashable {
    public let from: Int
    public let to: Int
    public let fromRoot: Digest
    public let toRoot: Digest
    public let path: [Digest]

    public init(from: Int, to: Int, fromRoot: Digest, toRoot: Digest, path: [Digest]) {
        self.from = from
        self.to = to
        self.fromRoot = fromRoot
        self.toRoot = toRoot
        self.path = path
    }

    public var json: JSONValue {
        ["from": JSONValue(from), "to": JSONValue(to), "fromRoot": .string(fromRoot.hex),
         "toRoot": .string(toRoot.hex), "path": JSONValue(path.map(\.hex))]
    }

    public var isValid: Bool {
        MerkleProof.verifyConsistency(fromSize: from, toSize: to, fromRoot: fromRoot, toRoot: toRoot, path: path)
    }
}
