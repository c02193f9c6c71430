/// An RFC 6962 tree folded leaf by leaf, keeping only its right edge: O(log n) memory for any size. The writer
/// stores the nodes each append completes, `verify` compares them with the stored ones, and archive checks fold
/// a whole ledger's leaves into its root.
public struct FrontierTree: Sendable {
    /// For each level, the newest complete left subtree still waiting for its right sibling. The entries at the
    /// set bits of `size` are the right edge of the tree.
    private var frontier: [Digest?] = Array(repeating: nil, count: 64)
    public private(set) var size = 0

    public init() {}

    /// Adds the next leaf and returns the interior nodes it completes, lowest first: (level ≥ 1, index, hash),
    /// where level L index i is the root of leaves [i·2^L, (i+1)·2^L).
    @discardableResult
    public mutating func append(_ leaf: Digest) -> [(level: Int, index: Int, hash: Digest)] {
        var completed: [(level: Int, index: Int, hash: Digest)] = []
        append(leaf) { level, index, hash in completed.append((level, index, hash)) }
        return completed
    }

    /// Adds the next leaf and calls `completed` with each interior node it completes, lowest first, without
    /// collecting them: `verify` folds a million leaves and compares every node as it is made.
    public mutating func append<E: Error>(
        _ leaf: Digest, completed: (_ level: Int, _ index: Int, _ hash: Digest) throws(E) -> Void
    ) throws(E) {
        try append(subtree: leaf, level: 0, completed: completed)
    }

    /// Adds leaves whose completed nodes nobody compares or stores (the root of a prefix, say).
    public mutating func append(contentsOf leaves: some Sequence<Digest>) {
        for leaf in leaves { append(subtree: leaf, level: 0) { _, _, _ in } }
    }

    /// Adds the next 2^`level` leaves at once, given the root of their subtree (a leaf hash for level 0), and
    /// calls `completed` with each node above it that this completes, lowest first. The size must be a multiple
    /// of 2^`level`: `verify` folds ranges of leaves on several threads and joins their roots here.
    public mutating func append<E: Error>(
        subtree root: Digest, level subtreeLevel: Int,
        completed: (_ level: Int, _ index: Int, _ hash: Digest) throws(E) -> Void
    ) throws(E) {
        precondition(size & (1 << subtreeLevel - 1) == 0, "a subtree must start at a multiple of its size")
        var hash = root
        var index = size >> subtreeLevel
        var level = subtreeLevel
        while index & 1 == 1 {
            hash = MerkleTree.nodeHash(frontier[level]!, hash)
            frontier[level] = nil
            level += 1
            index >>= 1
            try completed(level, index, hash)
        }
        frontier[level] = hash
        size += 1 << subtreeLevel
    }

    /// Sets the right edge from stored nodes (when reopening a ledger of `size` leaves).
    public init(size: Int, node: (_ level: Int, _ index: Int) throws -> Digest) rethrows {
        self.size = size
        for level in 0..<63 where size >> level & 1 == 1 {
            frontier[level] = try node(level, (size >> level) - 1)
        }
    }

    /// The root of the leaves appended so far (the empty tree's for none).
    public var root: Digest {
        var root: Digest?
        for level in 0..<63 where size >> level & 1 == 1 {
            root = root.map { MerkleTree.nodeHash(frontier[level]!, $0) } ?? frontier[level]!
        }
        return root ?? MerkleTree.emptyRoot
    }
}
