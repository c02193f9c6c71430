import CSHA256
import Testing

@testable import Ledger

/// NIST FIPS 180-4 example vectors (and the one-million-'a' vector), through both the SHA-NI and portable paths.
@Suite(.serialized) struct SHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    @Test(arguments: [true, false]) func nistVectors(accelerated: Bool) {
        pl_sha256_set_accelerated(accelerated ? 1 : 0)
        defer { pl_sha256_set_accelerated(1) }
        for (message, digest) in Self.vectors {
            #expect(SHA256.hash(Array(message.utf8)).hex == digest, "\(message)")
        }
        #expect(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hex
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func acceleratedAndPortableAgreeOnEveryLength() {
        defer { pl_sha256_set_accelerated(1) }
        for length in 0..<300 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) }
            pl_sha256_set_accelerated(1)
            let fast = SHA256.hash(bytes)
            pl_sha256_set_accelerated(0)
            #expect(SHA256.hash(bytes) == fast, "length \(length)")
        }
    }

    @Test func hashingInPartsEqualsHashingTheWhole() {
        let whole = Array("The quick brown fox jumps over the lazy dog".utf8)
        let digest = whole[..<10].withUnsafeBytes { a in
            whole[10...].withUnsafeBytes { b in SHA256.hash(parts: [a, b]) }
        }
        #expect(digest.hex == "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }
}
