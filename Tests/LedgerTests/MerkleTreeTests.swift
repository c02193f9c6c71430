import Testing

@testable import Ledger

/// RFC 6962 / Certificate Transparency reference vectors, and properties of proofs over many tree sizes.
struct MerkleTreeTests {
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                    "606162636465666768696a6b6c6d6e6f"].map(bytes(hex:))
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(hex.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }

    var tree: InMemoryMerkleTree { InMemoryMerkleTree(leaves: Self.leaves.map(MerkleTree.leafHash)) }

    @Test func referenceRoots() throws {
        #expect(try tree.rootHash(size: 0).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        for size in 1...8 { #expect(try tree.rootHash(size: size).hex == Self.roots[size - 1], "size \(size)") }
    }

    @Test func referenceInclusionPaths() throws {
        #expect(try tree.inclusionPath(leafIndex: 0, size: 8).map(\.hex) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ])
        #expect(try tree.inclusionPath(leafIndex: 5, size: 8).map(\.hex) == [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ])
        #expect(try tree.inclusionPath(leafIndex: 0, size: 1).isEmpty)
    }

    @Test func referenceConsistencyPaths() throws {
        #expect(try tree.consistencyPath(from: 1, to: 8).map(\.hex) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ])
        #expect(try tree.consistencyPath(from: 6, to: 8).map(\.hex) == [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ])
        #expect(try tree.consistencyPath(from: 2, to: 5).map(\.hex) == [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ])
    }

    /// Every inclusion proof in every tree up to 40 leaves verifies, and fails once any part is altered.
    @Test func inclusionProofsVerifyAndRejectAlterations() throws {
        let tree = InMemoryMerkleTree(leaves: (0..<40).map { MerkleTree.leafHash([UInt8($0), 7]) })
        for size in 1...40 {
            let root = try tree.rootHash(size: size)
            for index in 0..<size {
                let leaf = tree.leaves[index]
                let path = try tree.inclusionPath(leafIndex: index, size: size)
                #expect(MerkleProof.verifyInclusion(leafHash: leaf, leafIndex: index, size: size, path: path, rootHash: root))
                #expect(!MerkleProof.verifyInclusion(leafHash: tree.leaves[(index + 1) % 40], leafIndex: index,
                                                     size: size, path: path, rootHash: root))
                if size > 1 {
                    #expect(!MerkleProof.verifyInclusion(leafHash: leaf, leafIndex: (index + 1) % size, size: size,
                                                         path: path, rootHash: root))
                }
                for altered in alterations(of: path) {
                    #expect(!MerkleProof.verifyInclusion(leafHash: leaf, leafIndex: index, size: size, path: altered,
                                                         rootHash: root))
                }
            }
        }
    }

    /// Every consistency proof between sizes up to 33 verifies, and fails once any part is altered.
    @Test func consistencyProofsVerifyAndRejectAlterations() throws {
        let tree = InMemoryMerkleTree(leaves: (0..<33).map { MerkleTree.leafHash([UInt8($0)]) })
        let roots = try (0...33).map { try tree.rootHash(size: $0) }
        for to in 1...33 {
            for from in 1...to {
                let path = try tree.consistencyPath(from: from, to: to)
                #expect(MerkleProof.verifyConsistency(fromSize: from, toSize: to, fromRoot: roots[from],
                                                      toRoot: roots[to], path: path), "\(from)->\(to)")
                if from < to {
                    #expect(!MerkleProof.verifyConsistency(fromSize: from, toSize: to, fromRoot: roots[from - 1],
                                                           toRoot: roots[to], path: path))
                    for altered in alterations(of: path) {
                        #expect(!MerkleProof.verifyConsistency(fromSize: from, toSize: to, fromRoot: roots[from],
                                                               toRoot: roots[to], path: altered))
                    }
                }
            }
        }
    }

    /// Proofs built from stored nodes (the ledger's way) equal the ones built from the leaves alone.
    @Test func storedNodeSourceMatchesReference() throws {
        struct Stored: MerkleNodeSource {
            let reference: InMemoryMerkleTree
            let size: Int
            func node(level: Int, index: Int) throws -> Digest {
                // Only complete subtrees exist in storage.
                precondition((index + 1) << level <= size, "asked for an incomplete subtree")
                return try reference.node(level: level, index: index)
            }
        }
        let reference = InMemoryMerkleTree(leaves: (0..<21).map { MerkleTree.leafHash([UInt8($0)]) })
        let stored = Stored(reference: reference, size: 21)
        for size in 1...21 {
            #expect(try stored.rootHash(size: size) == reference.rootHash(size: size))
        }
    }

    func alterations(of path: [Digest]) -> [[Digest]] {
        var result: [[Digest]] = []
        for index in path.indices {
            var flipped = path
            var bytes = flipped[index].bytes
            bytes[0] ^= 1
            flipped[index] = Digest(bytes: bytes)!
            result.append(flipped)
            var shorter = path
            shorter.remove(at: index)
            result.append(shorter)
        }
        result.append(path + [MerkleTree.emptyRoot])
        if path.count >= 2 { result.append(Array(path.reversed())) }
        return result.filter { $0 != path }
    }
}
