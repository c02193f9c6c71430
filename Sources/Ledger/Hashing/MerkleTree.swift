import CSHA256

/// RFC 6962 Merkle tree hashing (Certificate Transparency, section 2.1): leaves are hashed with a 0x00 prefix and
/// interior nodes with 0x01, so a leaf can never be passed off as a node.
/// See https://www.rfc-editor.org/rfc/rfc6962#section-2.1
public enum MerkleTree {
    /// The hash of the empty tree: SHA-256 of no bytes.
    public static let emptyRoot = SHA256.hash([UInt8]())

    /// `SHA-256(0x00 ‖ bytes)`.
    public static func leafHash(_ bytes: [UInt8]) -> Digest {
        [UInt8(0)].withUnsafeBytes { prefix in
            bytes.withUnsafeBytes { body in SHA256.hash(parts: [prefix, body]) }
        }
    }

    /// The leaf hash of a message already laid out as `0x00 ‖ bytes` (a verifier's reused buffer), hashed in place.
    static func leafHash(prefixedMessage message: UnsafeRawBufferPointer) -> Digest {
        precondition(message.first == 0, "a leaf message starts with the 0x00 prefix")
        return Digest { pl_sha256(message.baseAddress, message.count, $0) }
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: Digest, _ right: Digest) -> Digest {
        // Laid out on the stack: a node is hashed for almost every leaf appended or verified.
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { message in
            message[0] = 1
            left.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: message[1..<33]).copyMemory(from: $0) }
            right.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: message[33..<65]).copyMemory(from: $0) }
            return Digest { pl_sha256(message.baseAddress, 65, $0) }
        }
    }

    /// The largest power of two strictly less than `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves.
    static func split(_ n: Int) -> Int {
        precondition(n >= 2)
        return 1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }
}

/// Where proofs find the hashes of perfect subtrees: level 0 holds leaf hashes, level L index i holds the root of
/// leaves `[i·2^L, (i+1)·2^L)`. The ledger stores every such node once it is complete, so a proof reads O(log n)
/// of them and never rescans the log.
public protocol MerkleNodeSource {
    func node(level: Int, index: Int) throws -> Digest
}

extension MerkleNodeSource {
    /// The RFC 6962 hash of leaves `[start, end)`, built from stored perfect subtrees.
    public func subtreeHash(_ start: Int, _ end: Int) throws -> Digest {
        let count = end - start
        if count == 0 { return MerkleTree.emptyRoot }
        if count & (count - 1) == 0 && start % count == 0 {
            return try node(level: count.trailingZeroBitCount, index: start / count)
        }
        let k = MerkleTree.split(count)
        return MerkleTree.nodeHash(try subtreeHash(start, start + k), try subtreeHash(start + k, end))
    }

    /// The root of the first `size` leaves.
    public func rootHash(size: Int) throws -> Digest { try subtreeHash(0, size) }

    /// RFC 6962 §2.1.1 audit path for leaf `index` in the tree of the first `size` leaves, nearest sibling first.
    public func inclusionPath(leafIndex index: Int, size: Int) throws -> [Digest] {
        precondition(index >= 0 && index < size)
        var path: [Digest] = []
        try inclusionPath(index, 0, size, into: &path)
        return path
    }

    private func inclusionPath(_ m: Int, _ start: Int, _ end: Int, into path: inout [Digest]) throws {
        let n = end - start
        if n <= 1 { return }
        let k = MerkleTree.split(n)
        if m < k {
            try inclusionPath(m, start, start + k, into: &path)
            path.append(try subtreeHash(start + k, end))
        } else {
            try inclusionPath(m - k, start + k, end, into: &path)
            path.append(try subtreeHash(start, start + k))
        }
    }

    /// RFC 6962 §2.1.2 consistency proof between the trees of the first `from` and `to` leaves (0 < from ≤ to).
    public func consistencyPath(from: Int, to: Int) throws -> [Digest] {
        precondition(from >= 0 && from <= to)
        if from == 0 || from == to { return [] }
        var path: [Digest] = []
        try subproof(from, 0, to, true, into: &path)
        return path
    }

    private func subproof(_ m: Int, _ start: Int, _ end: Int, _ complete: Bool, into path: inout [Digest]) throws {
        let n = end - start
        if m == n {
            if !complete { path.append(try subtreeHash(start, end)) }
            return
        }
        let k = MerkleTree.split(n)
        if m <= k {
            try subproof(m, start, start + k, complete, into: &path)
            path.append(try subtreeHash(start + k, end))
        } else {
            try subproof(m - k, start + k, end, false, into: &path)
            path.append(try subtreeHash(start, start + k))
        }
    }
}

/// Leaves held in memory, with interior nodes computed on demand: the reference used by tests, by archive checks
/// and by `verify` when it recomputes a root from the leaves alone.
public struct InMemoryMerkleTree: MerkleNodeSource {
    public private(set) var leaves: [Digest]

    public init(leaves: [Digest] = []) { self.leaves = leaves }

    public mutating func append(_ leaf: Digest) { leaves.append(leaf) }

    public func node(level: Int, index: Int) throws -> Digest {
        if level == 0 { return leaves[index] }
        return MerkleTree.nodeHash(try node(level: level - 1, index: 2 * index),
                                   try node(level: level - 1, index: 2 * index + 1))
    }
}
