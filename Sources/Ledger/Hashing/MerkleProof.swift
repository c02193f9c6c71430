/// Checks of RFC 6962 proofs, following the verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
/// Pure functions: a client (or `planledger`) checks what a server returned without trusting it.
public enum MerkleProof {
    /// Whether `path` proves that `leafHash` is leaf `leafIndex` of the tree of `size` leaves with root `rootHash`.
    public static func verifyInclusion(leafHash: Digest, leafIndex: Int, size: Int, path: [Digest], rootHash: Digest)
        -> Bool
    {
        guard leafIndex >= 0, leafIndex < size else { return false }
        var fn = leafIndex
        var sn = size - 1
        var r = leafHash
        for p in path {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleTree.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleTree.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == rootHash
    }

    /// Whether `path` proves that the tree of `fromSize` leaves with root `fromRoot` is a prefix of the tree of
    /// `toSize` leaves with root `toRoot`.
    public static func verifyConsistency(fromSize: Int, toSize: Int, fromRoot: Digest, toRoot: Digest, path: [Digest])
        -> Bool
    {
        guard fromSize >= 0, fromSize <= toSize else { return false }
        if fromSize == toSize { return path.isEmpty && fromRoot == toRoot }
        if fromSize == 0 { return path.isEmpty && fromRoot == MerkleTree.emptyRoot }
        var path = path
        if fromSize & (fromSize - 1) == 0 { path.insert(fromRoot, at: 0) }
        guard !path.isEmpty else { return false }
        var fn = fromSize - 1
        var sn = toSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleTree.nodeHash(c, fr)
                sr = MerkleTree.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == fromRoot && sr == toRoot && sn == 0
    }
}
