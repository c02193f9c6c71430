/// A strict JSON parser over bytes (RFC 8259 with the I-JSON restrictions of RFC 7493), with explicit limits.
///
/// It rejects what a hash-linked record must not contain: duplicate member names, invalid UTF-8, lone surrogates,
/// numbers that do not fit a double, and nesting deeper than `maximumDepth`.
public struct JSONParser {
    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public var maximumDepth: Int

    public init(maximumDepth: Int = 64) {
        self.maximumDepth = maximumDepth
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(Error) -> JSONValue {
        try JSONParser().parse(bytes)
    }

    public static func parse(_ text: String) throws(Error) -> JSONValue {
        try JSONParser().parse(text.utf8)
    }

    public func parse(_ bytes: some Collection<UInt8>) throws(Error) -> JSONValue {
        // In place when the bytes are contiguous (a column read from SQLite, an array): copying them first was an
        // allocation per event for every reader of the log.
        if let result = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0) }) { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { parse(buffer: $0) }.get()
    }

    private func parse(buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, Error> {
        var reader = Reader(bytes: buffer, maximumDepth: maximumDepth)
        do throws(Error) {
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw reader.error("unexpected data after the JSON value") }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    func error(_ reason: String) -> JSONParser.Error { JSONParser.Error(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONParser.Error) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: String) throws(JSONParser.Error) {
        let start = index
        for expected in word.utf8 {
            guard index < bytes.count, bytes[index] == expected else {
                throw JSONParser.Error(offset: start, reason: "invalid literal, expected \(word)")
            }
            index += 1
        }
    }

    mutating func object(depth: Int) throws(JSONParser.Error) -> JSONValue {
        guard depth <= maximumDepth else { throw error("nesting deeper than \(maximumDepth)") }
        index += 1
        // Canonical input (all the log holds) has its names in order: then each name need only follow the one
        // before, and the members go into the object as they are. `keyOffsets` is kept from the first name out of
        // order, to sort the members and name a repeated one where it stands.
        var members: [JSONObject.Member] = []
        var keyOffsets: [Int]? = nil
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject())
        }
        // Most objects in a ledger have a handful of members: room for four up front saves growing the array
        // (an allocation and a copy each time) member by member. An object of fewer keeps the spare room: a few
        // dozen bytes, also in the objects cached states hold.
        members.reserveCapacity(4)
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let keyOffset = index
            let key = try string()
            if keyOffsets == nil, let last = members.last {
                let order = JSONObject.compare(last.key, key)
                if order == 0 { throw duplicate(key, at: keyOffset) }
                if order > 0 { keyOffsets = Array(repeating: 0, count: members.count) }
            }
            keyOffsets?.append(keyOffset)
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            members.append(JSONObject.Member(key: key, value: try value(depth: depth)))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                guard let keyOffsets else { return .object(JSONObject(sortedUniqueMembers: members)) }
                return .object(try sorted(members, keyOffsets: keyOffsets))
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    /// Members that came out of order, sorted; a repeated name is reported at its second occurrence, the first
    /// place in the text where a name repeats one before it. (Only offsets from the first name out of order are
    /// real, and every name before it is smaller than the one before that name, so none of them is repeated among
    /// themselves.)
    func sorted(_ members: [JSONObject.Member], keyOffsets: [Int]) throws(JSONParser.Error) -> JSONObject {
        let order = JSONObject.order(of: members, name: \.key)
        var repeated: Int? = nil
        for (earlier, later) in zip(order, order.dropFirst())
        where JSONObject.compare(members[earlier].key, members[later].key) == 0 {
            repeated = min(repeated ?? .max, later)
        }
        if let repeated { throw duplicate(members[repeated].key, at: keyOffsets[repeated]) }
        return JSONObject(sortedUniqueMembers: order.map { members[$0] })
    }

    func duplicate(_ key: String, at offset: Int) -> JSONParser.Error {
        JSONParser.Error(offset: offset, reason: "duplicate member name \"\(key)\"")
    }

    mutating func array(depth: Int) throws(JSONParser.Error) -> JSONValue {
        guard depth <= maximumDepth else { throw error("nesting deeper than \(maximumDepth)") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    mutating func number() throws(JSONParser.Error) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ reader: inout Reader) -> Int {
            let begin = reader.index
            while reader.index < reader.bytes.count, (0x30...0x39).contains(reader.bytes[reader.index]) {
                reader.index += 1
            }
            return reader.index - begin
        }
        guard index < bytes.count else { throw error("unexpected end of input in number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw error("expected a digit")
        }
        let integerEnd = index
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("expected a digit after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits(&self) > 0 else { throw error("expected a digit in the exponent") }
        }
        if integerEnd == index, let value = Self.smallInteger(UnsafeBufferPointer(rebasing: bytes[start..<index])) {
            return value
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParser.Error(offset: start, reason: "number out of range")
        }
        return value
    }

    mutating func string() throws(JSONParser.Error) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes. UTF-8 is validated once the extent is known, unless this scan saw only ASCII.
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return high < 0x80 ? String(decoding: slice, as: UTF8.self) : try validated(slice, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            high |= byte
            index += 1
        }
        var scalars = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try scalars.withUnsafeBufferPointer { buffer throws(JSONParser.Error) in
                    try validated(buffer, at: start)
                }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of input in escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw error("lone high surrogate") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("lone low surrogate")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point") }
                    scalars.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws(JSONParser.Error) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end of input in \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            code = code << 4 | UInt32(digit)
            index += 1
        }
        return code
    }

    /// An integer of at most 15 digits (optionally negative), which a double holds exactly: the same value
    /// `Double(String)` gives, without making the string. Nil for anything else.
    static func smallInteger(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        let negative = text.first == UInt8(ascii: "-")
        let digits = negative ? text.count - 1 : text.count
        guard digits > 0, digits <= 15 else { return nil }
        var value: Int64 = 0
        for byte in text[(negative ? 1 : 0)...] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return negative ? -Double(value) : Double(value)  // "-0" is -0.0, as Double("-0") is
    }

    func validated(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParser.Error) -> String {
        // ASCII is valid UTF-8 as it stands, and most names and values are ASCII. `String(validating:)` is a
        // generic call the compiler does not specialise here: its runtime type lookups were 6% of reading the log.
        if Self.isASCII(buffer) { return String(decoding: buffer, as: UTF8.self) }
        guard let string = String(validating: buffer, as: UTF8.self) else {
            throw JSONParser.Error(offset: offset, reason: "invalid UTF-8 in string")
        }
        return string
    }

    static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt8 = 0
        for byte in buffer { high |= byte }
        return high < 0x80
    }
}
