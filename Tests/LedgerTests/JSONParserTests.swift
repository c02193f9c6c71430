import Harness
import Testing

@testable import Ledger

struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null, "s\u00e9\n"], "b": {}} "#)
        #expect(value == ["a": [1, -2500, true, false, .null, "sé\n"], "b": [:]])
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "\"unterminated", "{\"a\" 1}", "[1 2]",
        "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "1e999", "-1e999", "{\"a\":1,\"a\":2}", "\"tab\there\"", "[] []", "NaN",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(fine)
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func errorNamesTheOffset() {
        do {
            _ = try JSONParser.parse(#"{"a": tru}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 6)
        }
    }

    /// Integers of up to 15 digits are read without making a string: the same doubles as the general path, "-0"
    /// included, and longer or fractional numbers still go the general way.
    @Test func smallIntegersParseAsTheGeneralPathDoes() throws {
        var texts = ["0", "-0", "7", "-7", "10", "999999999999999", "-999999999999999", "1000000000000000",
                     "9007199254740993", "-9007199254740993", "123456789012345678901234567890", "0.5", "-0.0", "1e3", "12E-2"]
        var generator = SeededRandom(seed: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<2_000 {
            let random = generator.next()
            let digits = Int(random >> 60) + 1
            let value = random % UInt64(String(repeating: "9", count: min(digits, 18)))!
            texts.append((random & 1 == 0 ? "-" : "") + String(value))
        }
        for text in texts {
            let parsed = try JSONParser.parse(text)
            guard case .number(let value) = parsed, let expected = Double(text) else {
                Issue.record("\(text) did not parse as a number")
                continue
            }
            #expect(value == expected && value.sign == expected.sign, "\(text)")
        }
    }

    /// Strings are read by an ASCII fast path and the general validating one: both must give the same strings and
    /// refuse the same bytes, wherever the non-ASCII byte sits.
    @Test func asciiAndNonASCIIStringsParseAlikeAndInvalidUTF8IsRefusedAnywhere() throws {
        for text in ["", "plain", "caf\u{e9}", "\u{1F600} emoji", "mixed \u{e9}t\u{e9}", String(repeating: "a", count: 40) + "\u{e9}"] {
            let json = Array(("\"" + text + "\"").utf8)
            #expect(try JSONParser.parse(json) == .string(text))
        }
        for position in 0..<12 {
            var bytes = Array("\"abcdefghijkl\"".utf8)
            bytes[1 + position] = 0xFF
            #expect(throws: JSONParser.Error.self) { try JSONParser.parse(bytes) }
        }
    }

    /// Bytes that are not contiguous (a lazy collection) parse as an array of the same bytes does.
    @Test func parsesBytesThatAreNotContiguous() throws {
        let text = #"{"a":[1,2,{"b":"c"}]}"#
        let lazy = text.utf8.lazy.map { $0 }
        #expect(try JSONParser.parse(lazy) == JSONParser.parse(Array(text.utf8)))
    }
}
