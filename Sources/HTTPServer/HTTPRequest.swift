/// A parsed HTTP/1.x request.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target in origin form (path and query); an absolute-form target (`http://host/path?query`) is
    /// reduced to it by the parser.
    public var target: String
    /// The percent-decoded path, without the query.
    public var path: String
    /// Query parameters, percent-decoded (`+` as space); the last value wins when a name repeats.
    public var query: [String: String]
    /// The query's parameter names in order, decoded, repeats included: what a server needs to refuse a name it
    /// does not know or one given twice.
    public var queryNames: [String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// `1.0` or `1.1`.
    public var version: String
    /// Whether a response may be sent with `Transfer-Encoding: chunked`: not to HTTP/1.0 (RFC 9112 §6.1).
    public var acceptsChunked: Bool { version != "1.0" }
    /// Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`).
    public var keepAlive: Bool
    public var remoteAddress: String = ""

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                version: String = "1.1")
    {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.version = version
        let (path, query, queryNames) = Self.split(target)
        self.path = path
        self.query = query
        self.queryNames = queryNames
        let connection = headers["connection"]?.lowercased() ?? ""
        self.keepAlive = version == "1.1" ? !connection.contains("close") : connection.contains("keep-alive")
    }

    static func split(_ target: String) -> (path: String, query: [String: String], names: [String]) {
        guard let mark = target.firstIndex(of: "?") else { return (percentDecode(target, plusAsSpace: false), [:], []) }
        var query: [String: String] = [:]
        var names: [String] = []
        for pair in target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(String(parts[0]), plusAsSpace: true)
            query[name] = parts.count > 1 ? percentDecode(String(parts[1]), plusAsSpace: true) : ""
            names.append(name)
        }
        return (percentDecode(String(target[..<mark]), plusAsSpace: false), query, names)
    }

    /// Decodes `%XX` escapes; malformed escapes are kept as they are, and invalid UTF-8 becomes U+FFFD.
    static func percentDecode(_ text: String, plusAsSpace: Bool) -> String {
        // Most paths have nothing to decode; they are returned as they are, without copying bytes around.
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return text
        }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        let hex = HTTPRequestParser.hexValue
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Header fields in arrival order, looked up case-insensitively.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// The first value of `name` (case-insensitive).
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// How many fields are named `name` (case-insensitive), without collecting them.
    public func count(_ name: String) -> Int {
        fields.reduce(0) { $0 + (Self.sameName($1.name, name) ? 1 : 0) }
    }

    /// Field names compared case-insensitively (they are ASCII tokens), without lowercasing copies: every request
    /// looks several up. Also right for other ASCII-case-insensitive tokens (an auth scheme).
    public static func sameName(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
    }

    /// Whether `text` starts with `prefix`, ASCII letters compared case-insensitively (e.g. an auth scheme).
    public static func hasPrefix(_ text: String, caseInsensitive prefix: String) -> Bool {
        var bytes = text.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = bytes.next(), asciiLowercased(byte) == asciiLowercased(expected) else { return false }
        }
        return true
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}
