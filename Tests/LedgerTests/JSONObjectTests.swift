import Testing

@testable import Ledger

/// `JSONObject` keeps its members sorted in JCS order by comparing UTF-8 bytes; each test holds it to a reference
/// computed another way (UTF-16 code units, a dictionary, a sort of the whole object).
struct JSONObjectTests {
    /// Characters on both sides of every boundary where UTF-8 and UTF-16 orders could differ: ASCII, two- and
    /// three-byte characters below and above the surrogate range, U+E000–U+FFFF, and characters above U+FFFF.
    static let scalars: [Unicode.Scalar] = [
        "a", "b", "\u{7F}", "\u{80}", "\u{E9}", "\u{301}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FB33}",
        "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{10FFFF}",
    ]

    static func name(_ random: inout CanonicalJSONRandomTests.Generator) -> String {
        String(String.UnicodeScalarView((0..<Int(random.next() % 4)).map { _ in scalars[Int(random.next() % UInt64(scalars.count))] }))
    }

    @Test func namesCompareAsTheirUTF16CodeUnits() {
        var random = CanonicalJSONRandomTests.Generator(state: 11)
        for _ in 0..<20_000 {
            let (a, b) = (Self.name(&random), Self.name(&random))
            let expected = Array(a.utf16) == Array(b.utf16) ? 0 : a.utf16.lexicographicallyPrecedes(b.utf16) ? -1 : 1
            #expect(JSONObject.compare(a, b).signum() == expected, "\(Array(a.unicodeScalars)) vs \(Array(b.unicodeScalars))")
        }
    }

    /// Names a `Dictionary` would take for one (Swift's `String ==` is canonical equivalence) are two members, as
    /// they are two different strings to JSON and to JCS.
    @Test func canonicallyEquivalentNamesAreDistinctMembers() throws {
        for text in [#"{"\u00e9":1,"e\u0301":2}"#, #"{"e\u0301":2,"\u00e9":1}"#] {
            let object = try JSONParser.parse(text).objectValue!
            #expect(object.count == 2)
            #expect(object["\u{E9}"] == 1 && object["e\u{301}"] == 2)
            #expect(CanonicalJSON.string(.object(object)) == "{\"e\u{301}\":2,\"\u{E9}\":1}")
        }
    }

    /// Random sets and removals keep the members in UTF-16 order, each name once, with its latest value.
    @Test func changesKeepTheMembersInCanonicalOrder() {
        var random = CanonicalJSONRandomTests.Generator(state: 12)
        for _ in 0..<300 {
            var object = JSONObject()
            var reference: [[UInt16]: (name: String, value: Int)] = [:]
            for step in 0..<Int(random.next() % 40) {
                let name = Self.name(&random)
                if random.next() % 4 == 0 {
                    #expect(object.removeValue(forKey: name) == reference.removeValue(forKey: Array(name.utf16)).map { JSONValue($0.value) })
                } else {
                    object[name] = JSONValue(step)
                    reference[Array(name.utf16)] = (name, step)
                }
            }
            let expected = reference.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            #expect(object.map { Array($0.key.utf16) } == expected.map(\.key))
            #expect(object.map(\.value) == expected.map { JSONValue($0.value.value) })
        }
    }

    /// Members in any order parse to the same object as sorted ones; a repeated name is refused where it first
    /// repeats, at the same offset whether the names before it were in order or not.
    @Test func theParserSortsMembersAndNamesTheFirstRepeat() throws {
        var random = CanonicalJSONRandomTests.Generator(state: 13)
        for _ in 0..<2_000 {
            var names = (0..<Int(random.next() % 8)).map { _ in Self.name(&random) }
            if random.next() % 2 == 0 { names.sort { JSONObject.compare($0, $1) < 0 } }
            var text = "{"
            var offsets: [Int] = []
            for (index, name) in names.enumerated() {
                if index > 0 { text += "," }
                offsets.append(text.utf8.count)
                text += CanonicalJSON.string(.string(name)) + ":\(index)"
            }
            text += "}"
            let firstRepeat = names.indices.first { index in
                names[..<index].contains { Array($0.utf16) == Array(names[index].utf16) }
            }
            let offset = firstRepeat.map { offsets[$0] }
            switch Result(catching: { () throws(JSONParser.Error) in try JSONParser.parse(text) }) {
            case .success(let value):
                #expect(offset == nil, "\(text) was accepted")
                let expected = JSONObject(names.enumerated().map { (key: $0.element, value: JSONValue($0.offset)) })
                #expect(value.objectValue == expected)
                #expect(value.objectValue?.keys == expected.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) })
            case .failure(let error):
                #expect(error.offset == offset, "\(text): \(error)")
            }
        }
    }

    @Test func equalObjectsHashAlikeWhateverTheOrderTheyWereBuiltIn() {
        let forwards: JSONObject = ["b": 1, "a": ["x": true], "\u{1F600}": "s", "\u{FFFD}": .null]
        var backwards = JSONObject()
        for (key, value) in forwards.reversed() { backwards[key] = value }
        #expect(forwards == backwards)
        #expect(forwards.hashValue == backwards.hashValue)
        #expect(forwards.keys == ["a", "b", "\u{1F600}", "\u{FFFD}"])
    }
}
