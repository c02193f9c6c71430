import Testing

@testable import Ledger

/// RFC 8785 (JCS) examples: number serialisation (Appendix B), string escaping and member ordering (section 3.2).
struct CanonicalJSONTests {
    @Test(arguments: [
        (0x0000_0000_0000_0000 as UInt64, "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"), (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
        (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
        (0xc340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"), (0x44b5_2d02_c7e1_4af6, "1e+23"),
        (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"), (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
        (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"), (0x444b_1ae4_d6e2_ef50, "1e+21"),
        (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"), (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
        (0x41b3_de43_5555_5553, "333333333.3333332"), (0x41b3_de43_5555_5554, "333333333.33333325"),
        (0x41b3_de43_5555_5555, "333333333.3333333"), (0x41b3_de43_5555_5556, "333333333.3333334"),
        (0x41b3_de43_5555_5557, "333333333.33333343"), (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
        (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
    ])
    func numberSerialisation(bits: UInt64, expected: String) {
        #expect(CanonicalJSON.formatNumber(Double(bitPattern: bits)) == expected)
    }

    @Test func plainNumbers() {
        #expect(CanonicalJSON.formatNumber(1) == "1")
        #expect(CanonicalJSON.formatNumber(-12.5) == "-12.5")
        #expect(CanonicalJSON.formatNumber(0.1) == "0.1")
        #expect(CanonicalJSON.formatNumber(1e-7) == "1e-7")
        #expect(CanonicalJSON.formatNumber(123e18) == "123000000000000000000")
        #expect(CanonicalJSON.formatNumber(-0.0) == "0")
    }

    /// The example of RFC 8785 section 3.2.2, parsed from its source text.
    @Test func rfcExampleCanonicalises() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(CanonicalJSON.string(try JSONParser.parse(input)) == expected)
    }

    /// Member names sort by UTF-16 code units (RFC 8785 section 3.2.3), not by UTF-8 bytes or scalars.
    @Test func memberOrderIsByUTF16CodeUnits() throws {
        let input = #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let keys = try JSONParser.parse(input).objectValue!.keys
        #expect(keys.map { $0.unicodeScalars.first!.value } == [0x0D, 0x31, 0x80, 0xF6, 0x20AC, 0x1F600, 0xFB33])
    }

    @Test func controlCharactersUseLowercaseHexEscapes() {
        #expect(CanonicalJSON.string(.string("\u{1}\u{1f}\t\u{8}\u{c}")) == #""\u0001\u001f\t\b\f""#)
    }

    @Test func canonicalTextRoundTrips() throws {
        let value: JSONValue = ["b": [1, 2.5, "x"], "a": ["nested": true, "null": .null], "c": "é"]
        let text = CanonicalJSON.string(value)
        #expect(text == #"{"a":{"nested":true,"null":null},"b":[1,2.5,"x"],"c":"é"}"#)
        #expect(try JSONParser.parse(text) == value)
    }
}

/// Random values: canonical text parses back to the same value and is a fixed point; random bytes never trap
/// the parser.
struct CanonicalJSONRandomTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func value(depth: Int = 0) -> JSONValue {
            switch next() % (depth > 3 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(next() % 2 == 0)
            case 2:
                let bits = next() << 32 | next()
                let double = Double(bitPattern: bits)
                return .number(double.isFinite ? double : Double(Int64(truncatingIfNeeded: bits)) / 7)
            case 3:
                let scalars = (0..<Int(next() % 8)).compactMap { _ in Unicode.Scalar(UInt32(next() % 0x2FFFF)) }
                return .string(String(String.UnicodeScalarView(scalars)))
            case 4: return .array((0..<Int(next() % 4)).map { _ in value(depth: depth + 1) })
            default:
                var members: JSONObject = [:]
                for _ in 0..<Int(next() % 4) { members["k\(next() % 50)\u{e9}\(next() % 3 == 0 ? "😀" : "")"] = value(depth: depth + 1) }
                return .object(members)
            }
        }
    }

    @Test func canonicalFormRoundTripsAndIsAFixedPoint() throws {
        var generator = Generator(state: 99)
        for _ in 0..<2_000 {
            let value = generator.value()
            let bytes = CanonicalJSON.encode(value)
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed == value || CanonicalJSON.encode(parsed) == bytes)
            #expect(CanonicalJSON.encode(parsed) == bytes)
        }
    }

    @Test func randomBytesNeverTrapTheParser() {
        var generator = Generator(state: 7)
        for _ in 0..<5_000 {
            let bytes = (0..<Int(generator.next() % 64)).map { _ in
                Array("{}[],:\"\\0123456789.eE+-tfnrul \u{1}é".utf8)[Int(generator.next() % 30)]
            }
            _ = try? JSONParser.parse(bytes)
        }
    }
}

/// The envelope fast path writes exactly what the generic canonical encoder writes.
struct EnvelopeEncoderTests {
    @Test func fastEnvelopeEncodingEqualsTheGenericEncoding() {
        var generator = CanonicalJSONRandomTests.Generator(state: 5)
        for n in 0..<500 {
            let text = { (length: Int) -> String in
                String(String.UnicodeScalarView((0..<length).compactMap { _ in Unicode.Scalar(UInt32(generator.next() % 0x1FFFF)) }))
            }
            let event = RecordedEvent(
                position: n + 1, id: "id-\(n)", stream: StreamName("goal/G-\(n)")!, version: n % 7 + 1, type: "GoalDefined",
                schemaVersion: 1, recordedAt: Timestamp(millisecondsSinceEpoch: Int64(generator.next())),
                effectiveAt: Timestamp(millisecondsSinceEpoch: -Int64(generator.next() % 1_000_000_000_000)),
                actor: Actor(id: text(5), role: "r\"\\", organisation: n % 2 == 0 ? nil : text(3)),
                reason: n % 3 == 0 ? nil : text(10), correlationId: n % 4 == 0 ? text(2) : nil, causationId: n % 5 == 0 ? "c" : nil,
                data: generator.value(), hash: MerkleTree.emptyRoot)
            #expect(event.canonicalBytes == CanonicalJSON.encode(event.unhashedEnvelope))
        }
    }

    @Test func integersAreWrittenAsStringWritesThem() {
        var values: [Int] = [0, 1, -1, 9, 10, -10, 99, 100, .max, .min, .max - 1, .min + 1]
        var ten = 1
        for _ in 1..<19 {
            ten *= 10
            values += [ten - 1, ten, ten + 1, -ten]
        }
        for value in values {
            var buffer = ByteBuffer(capacity: 1)
            EnvelopeEncoder.write(value, to: &buffer)
            #expect(buffer.array == Array(String(value).utf8))
        }
    }

    /// The word-at-a-time test of which strings are copied as they are answers as the byte-by-byte one does, with
    /// every byte value at every offset of a word and in the tail.
    @Test func plainBytesAreFoundAsByteByByte() {
        func plainByteByByte(_ bytes: [UInt8]) -> Bool {
            bytes.allSatisfy { $0 >= 0x20 && $0 < 0x80 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        var generator = CanonicalJSONRandomTests.Generator(state: 17)
        var plainCount = 0
        for length in [1, 7, 8, 9, 16, 21] {
            for offset in 0..<length {
                for byte in UInt8.min...UInt8.max {
                    var bytes = (0..<length).map { _ in UInt8(0x20 + generator.next() % 0x5F) }
                    bytes = bytes.map { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") ? UInt8(ascii: "a") : $0 }
                    bytes[offset] = byte
                    let expected = plainByteByByte(bytes)
                    if expected { plainCount += 1 }
                    #expect(bytes.withUnsafeBytes { EnvelopeEncoder.isPlain($0) } == expected, "\(bytes)")
                }
            }
        }
        #expect(plainCount > 0 && EnvelopeEncoder.isPlain(UnsafeRawBufferPointer(start: nil, count: 0)))
    }

    @Test func stringsFromBytesAreWrittenAsTheirDecodedStrings() {
        let samples: [[UInt8]] = [
            [], Array("plain".utf8), Array("quote\"back\\slash".utf8), [0x00, 0x1F, 0x7F, 0x20], Array("é😀".utf8),
            [0xFF, 0x41], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x41, 0xE2, 0x82],
        ]
        for bytes in samples {
            var buffer = ByteBuffer()
            bytes.withUnsafeBytes { EnvelopeEncoder.writeString(utf8: $0, to: &buffer) }
            var expected: [UInt8] = []
            CanonicalJSON.writeString(String(decoding: bytes, as: UTF8.self), to: &expected)
            #expect(buffer.array == expected, "\(bytes)")
        }
    }
}
