import Testing

@testable import Ledger

/// A name made from its parts and one parsed from its text are the same name.
@Test func streamNamesMadeEitherWayAreEqual() {
    let parsed = StreamName("decision/BOARD-2022.031")!
    let made = StreamName(kind: "decision", key: "BOARD-2022.031")!
    #expect(parsed == made)
    #expect(parsed.hashValue == made.hashValue)
    #expect((parsed.kind, parsed.key, parsed.description) == ("decision", "BOARD-2022.031", "decision/BOARD-2022.031"))
    #expect((made.kind, made.key, made.description) == ("decision", "BOARD-2022.031", "decision/BOARD-2022.031"))
    #expect(StreamName("goal/a") != StreamName("goals/a"))
    #expect(StreamName(kind: "goal", key: "a/b") == nil)
    #expect(StreamName("goal/a/b") == nil)
}

/// `StreamName.isValid(utf8:)` (which `StreamName.init?(_:)` and `init?(utf8:)` use) answers as a reference parse of
/// the decoded string does: split at the first `/` character, kind and key each checked as a `String`; and a name
/// parsed from the bytes is the one parsed from the string.
struct StreamNameBytesTests {
    static func parses(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let slash = text.firstIndex(of: "/") else { return false }
        let reference = StreamName.isValidKind(String(text[..<slash]))
            && StreamName.isValidKey(String(text[text.index(after: slash)...]))
        #expect((StreamName(text) != nil) == reference, "\(bytes)")
        let fromBytes = bytes.withUnsafeBytes { StreamName(utf8: $0) }
        #expect(fromBytes == StreamName(text) && fromBytes?.kind == StreamName(text)?.kind, "\(bytes)")
        return reference
    }
    static func isValid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { StreamName.isValid(utf8: $0) } }

    @Test func edgeCases() {
        let cases: [[UInt8]] = [
            "goal/G-1", "goal/", "/G-1", "goal", "", "goal/G/1", "Goal/G-1", "_goal/G", "go_al/G.1:2-3",
            String(repeating: "a", count: 32) + "/k", String(repeating: "a", count: 33) + "/k",
            "a/" + String(repeating: "k", count: 128), "a/" + String(repeating: "k", count: 129),
            "goal\r\n/G", "goal/G\r\n", "goal/G 1", "goal/K\u{301}", "goal/\u{212A}", "goal\u{301}/G",
        ].map { Array($0.utf8) } + [
            [0x67, 0x2F, 0xFF], [0x67, 0x2F, 0x4B, 0xCC], [0x67, 0x2F, 0xCC, 0x81, 0x4B], [0x67, 0x00, 0x2F, 0x4B],
            [0x67, 0x2F, 0x4B, 0x00], [0xD8, 0x80, 0x2F, 0x4B],
        ]
        for bytes in cases { #expect(Self.isValid(bytes) == Self.parses(bytes), "\(bytes)") }
        #expect(Self.isValid(Array("goal/G-1".utf8)))
    }

    @Test func randomBytes() {
        var generator = CanonicalJSONRandomTests.Generator(state: 3)
        let alphabet: [UInt8] = Array("ab_zAZ09.:-/ \r\n".utf8) + [0x00, 0x7F, 0x80, 0xCC, 0x81, 0xE2, 0x84, 0xAA, 0xFF]
        var valid = 0
        func symbol() -> UInt8 { alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(generator.next() % 12)).map { _ in symbol() }
            } else {
                // A valid name with one byte changed or inserted: mostly near misses, some still valid.
                bytes = Array("ab_z/aZ09.:-".utf8)
                let place = Int(generator.next() % UInt64(bytes.count))
                if generator.next() % 2 == 0 { bytes[place] = symbol() } else { bytes.insert(symbol(), at: place) }
            }
            #expect(Self.isValid(bytes) == Self.parses(bytes), "\(bytes)")
            if Self.isValid(bytes) { valid += 1 }
        }
        #expect(valid > 100)
    }
}
