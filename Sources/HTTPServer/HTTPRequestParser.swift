/// An incremental HTTP/1.1 request parser over bytes (RFC 9112), with explicit limits. Feed it whatever arrived;
/// ask it for the next complete request. Pipelined requests come out one by one, in order. No sockets here: it is
/// tested byte by byte without a network.
///
/// Lines end in CRLF (a bare LF is refused at once, as are obs-folded header lines); a few empty lines before a
/// request line are skipped. An HTTP/1.1 request must carry one Host field. A body is delimited by
/// `Content-Length` or `Transfer-Encoding: chunked`; both together, conflicting lengths or another transfer coding
/// are refused rather than guessed at (request smuggling).
public struct HTTPRequestParser {
    public struct Limits: Sendable {
        /// Request line and header fields together.
        public var maximumHeadBytes = 16 * 1024
        public var maximumBodyBytes = 1024 * 1024
        /// The request line alone (beyond it, 414); RFC 9112 §3 recommends accepting at least 8000 octets.
        public var maximumRequestLineBytes = 8 * 1024
        public init(maximumHeadBytes: Int = 16 * 1024, maximumBodyBytes: Int = 1024 * 1024,
                    maximumRequestLineBytes: Int = 8 * 1024)
        {
            self.maximumHeadBytes = maximumHeadBytes
            self.maximumBodyBytes = maximumBodyBytes
            self.maximumRequestLineBytes = maximumRequestLineBytes
        }
    }

    /// What `next()` found.
    public enum Outcome: Sendable {
        case request(HTTPRequest)
        /// More bytes are needed. `expectsContinue` is true once a complete head asked for `100 Continue` and its
        /// body has not arrived.
        case needMore(expectsContinue: Bool)
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0
    private var pending: (request: HTTPRequest, framing: Framing)?
    /// The chunked body decoded so far, and how many bytes past `start` its chunks took: decoding goes on from
    /// there as bytes arrive, instead of from the body's first chunk on every read (quadratic in the chunks).
    private var chunked: (body: [UInt8], consumed: Int) = ([], 0)
    /// Empty lines skipped before the current request line.
    private var skippedEmptyLines = 0
    /// How many empty lines before a request line are skipped (RFC 9112 §2.2: a client may send an extra CRLF
    /// after a body); more are refused, so a client cannot keep a connection busy with them.
    static let maximumSkippedEmptyLines = 4

    private enum Framing {
        case length(Int)
        case chunked
    }

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Whether a request's head is complete and its body is still arriving.
    public var isAwaitingBody: Bool { pending != nil }

    /// Whether bytes of an unfinished request are buffered.
    public var hasPartialRequest: Bool { pending != nil || buffer.count > start }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() throws(HTTPParseError) -> Outcome {
        if pending == nil {
            while buffer.count - start >= 2, buffer[start] == 0x0D, buffer[start + 1] == 0x0A,
                skippedEmptyLines < Self.maximumSkippedEmptyLines
            {
                start += 2
                skippedEmptyLines += 1
            }
            guard let headEnd = try findHeadEnd() else {
                if buffer.count - start > limits.maximumHeadBytes {
                    throw HTTPParseError(431, "header_too_large", "request line and headers exceed \(limits.maximumHeadBytes) bytes")
                }
                return .needMore(expectsContinue: false)
            }
            guard headEnd - start <= limits.maximumHeadBytes else {
                throw HTTPParseError(431, "header_too_large", "request line and headers exceed \(limits.maximumHeadBytes) bytes")
            }
            pending = try parseHead(buffer[start..<headEnd])
            start = headEnd + 4
            skippedEmptyLines = 0
        }
        let (request, framing) = pending!
        var body: [UInt8]
        switch framing {
        case .length(let length):
            guard buffer.count - start >= length else { return .needMore(expectsContinue: expectsContinue(request)) }
            body = Array(buffer[start..<start + length])
            start += length
        case .chunked:
            guard let (decoded, end) = try decodeChunked() else { return .needMore(expectsContinue: expectsContinue(request)) }
            body = decoded
            start = end
        }
        pending = nil
        var complete = request
        complete.body = body
        compact()
        return .request(complete)
    }

    /// RFC 9110 §10.1.1: an HTTP/1.0 client is never sent a 100, so its expectation is ignored.
    private func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.version != "1.0" && request.headers["expect"]?.lowercased() == "100-continue"
    }

    private mutating func compact() {
        if start > 64 * 1024 || start == buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// Where the head's closing CRLF CRLF starts; nil while it has not arrived. What can never become a valid
    /// head is refused as soon as it is seen, not after waiting for the header deadline: a bare LF, or a request
    /// line over its limit.
    private func findHeadEnd() throws(HTTPParseError) -> Int? {
        var requestLineEnded = false
        var index = start
        while index < buffer.count {
            if buffer[index] == 0x0A {
                guard index > start, buffer[index - 1] == 0x0D else {
                    throw HTTPParseError(400, "malformed_request", "lines must end in CRLF")
                }
                if !requestLineEnded {
                    requestLineEnded = true
                    try checkRequestLineLength(index - 1 - start)
                }
                // The LF two bytes back was itself checked to follow a CR.
                if index - 3 >= start && buffer[index - 2] == 0x0A { return index - 3 }
            }
            index += 1
        }
        if !requestLineEnded { try checkRequestLineLength(buffer.count - start) }
        return nil
    }

    private func checkRequestLineLength(_ length: Int) throws(HTTPParseError) {
        guard length <= limits.maximumRequestLineBytes else {
            let limit = limits.maximumRequestLineBytes
            throw HTTPParseError(414, "uri_too_long", "the request line exceeds \(limit) bytes")
        }
    }

    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> (HTTPRequest, Framing) {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == 0x0A {
                guard index > lineStart, head[index - 1] == 0x0D else {
                    throw HTTPParseError(400, "malformed_request", "lines must end in CRLF")
                }
                lines.append(head[lineStart..<(index - 1)])
                lineStart = index + 1
            }
            index += 1
        }
        lines.append(head[lineStart..<head.endIndex])
        let requestLine = lines[0].split(separator: 0x20, omittingEmptySubsequences: false)
        guard requestLine.count == 3 else {
            throw HTTPParseError(400, "malformed_request_line", "the request line must be METHOD TARGET HTTP/1.1")
        }
        let method = String(decoding: requestLine[0], as: UTF8.self)
        let target = String(decoding: requestLine[1], as: UTF8.self)
        let versionText = String(decoding: requestLine[2], as: UTF8.self)
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenCharacter) else {
            throw HTTPParseError(400, "malformed_request_line", "invalid method")
        }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let originForm = Self.originForm(of: target, method: method)
        else {
            throw HTTPParseError(400, "malformed_request_line", "the target must be an absolute path or an http(s) URI")
        }
        guard versionText == "HTTP/1.1" || versionText == "HTTP/1.0" else {
            if versionText.hasPrefix("HTTP/") {
                throw HTTPParseError(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported")
            }
            throw HTTPParseError(400, "malformed_request_line", "invalid HTTP version")
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let first = line.first, first != 0x20, first != 0x09 else {
                throw HTTPParseError(400, "malformed_header", "folded header lines are not accepted")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(Self.isTokenCharacter)
            else { throw HTTPParseError(400, "malformed_header", "invalid header field") }
            var value = line[(colon + 1)...]
            while let byte = value.first, byte == 0x20 || byte == 0x09 { value = value.dropFirst() }
            while let byte = value.last, byte == 0x20 || byte == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }), value.allSatisfy({ $0 != 0x7F }) else {
                throw HTTPParseError(400, "malformed_header", "control characters in a header value")
            }
            headers.add(String(decoding: line[line.startIndex..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
        let version = String(versionText.dropFirst(5))
        // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (at most one in 1.0), holding an authority or nothing.
        // Counted and read in place rather than collected: this runs on every request.
        let hostCount = headers.count("host")
        guard hostCount == 1 || (hostCount == 0 && version == "1.0"),
            headers["host"]?.utf8.allSatisfy(Self.isAuthorityCharacter) ?? true
        else { throw HTTPParseError(400, "bad_host", "an HTTP/1.1 request needs exactly one valid Host header") }
        let request = HTTPRequest(method: method, target: originForm, headers: headers, version: version)

        let transferEncodings = headers.values("transfer-encoding")
        let lengths = headers.values("content-length")
        if !transferEncodings.isEmpty {
            guard lengths.isEmpty else {
                throw HTTPParseError(400, "ambiguous_length", "Content-Length and Transfer-Encoding together are refused")
            }
            guard transferEncodings.count == 1, transferEncodings[0].lowercased() == "chunked" else {
                throw HTTPParseError(501, "unsupported_transfer_encoding", "only Transfer-Encoding: chunked is supported")
            }
            return (request, .chunked)
        }
        guard !lengths.isEmpty else { return (request, .length(0)) }
        let values = Set(lengths.flatMap { $0.split(separator: ",").map { $0.trimmingBlanks() } })
        guard values.count == 1, let text = values.first, let length = Self.parseLength(text) else {
            throw HTTPParseError(400, "bad_content_length", "Content-Length must be one non-negative integer")
        }
        guard length <= limits.maximumBodyBytes else {
            throw HTTPParseError(413, "body_too_large", "the body exceeds \(limits.maximumBodyBytes) bytes")
        }
        return (request, .length(length))
    }

    /// The target as a path and query. RFC 9112 §3.2.2: a server must accept the absolute form
    /// (`http://host:port/path?query`, which a client sends to a proxy) and route it by its path and query; its
    /// authority stands in for Host, which we do not route on. Nil for anything but an origin-form path, an
    /// absolute http(s) URI with a host, and `OPTIONS *`.
    static func originForm(of target: String, method: String) -> String? {
        if target.hasPrefix("/") || (target == "*" && method == "OPTIONS") { return target }
        let bytes = target.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let scheme = target[..<colon].lowercased()
        let rest = target[colon...]
        guard scheme == "http" || scheme == "https", rest.hasPrefix("://") else { return nil }
        let afterSlashes = rest.dropFirst(3)
        let authority = afterSlashes.prefix { $0 != "/" && $0 != "?" }
        // RFC 9110 §4.2.1 and §4.2.4: an http URI with no host is invalid, and userinfo is refused.
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        let pathAndQuery = afterSlashes[authority.endIndex...]
        return pathAndQuery.hasPrefix("/") ? String(pathAndQuery) : "/" + pathAndQuery
    }

    /// Characters of a Host value (RFC 3986 authority without userinfo: host, an IPv6 literal, a port).
    static func isAuthorityCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default: false
        }
    }

    /// Decodes the chunked body at `start`, going on from the chunks decoded by earlier calls; nil until the body
    /// is complete. The framing (chunk lines, extensions, trailers) counts towards no body limit, so it has one of
    /// its own: a client sending one-byte chunks with long extensions cannot make the server read without end.
    private mutating func decodeChunked() throws(HTTPParseError) -> ([UInt8], Int)? {
        var index = start + chunked.consumed
        let buffer = self.buffer
        /// The line at `position` without its CRLF, and where the next begins; nil until the CRLF has come. A line
        /// longer than `limit` is refused as soon as it is, ended or not: chunk extensions and trailers do not count
        /// towards the body limit, and must not let a client grow the buffer without bound either.
        func line(from position: Int, limit: Int, else error: @autoclosure () -> HTTPParseError)
            throws(HTTPParseError) -> (ArraySlice<UInt8>, Int)?
        {
            var cursor = position
            while cursor + 1 < buffer.count {
                if buffer[cursor] == 0x0D && buffer[cursor + 1] == 0x0A { return (buffer[position..<cursor], cursor + 2) }
                if cursor - position >= limit { throw error() }
                cursor += 1
            }
            return nil
        }
        while true {
            guard
                let (sizeLine, afterSize) = try line(
                    from: index, limit: 1024, else: HTTPParseError(400, "bad_chunk", "chunk size line too long"))
            else { return nil }
            let size = try Self.parseChunkSize(sizeLine)
            if size == 0 {
                // Trailer fields until an empty line; they are read and ignored, within the head's limit.
                var cursor = afterSize
                while true {
                    guard
                        let (trailer, next) = try line(
                            from: cursor, limit: limits.maximumHeadBytes - (cursor - afterSize),
                            else: HTTPParseError(431, "header_too_large", "chunked trailers are too large"))
                    else { return nil }
                    cursor = next
                    if trailer.isEmpty {
                        let body = chunked.body
                        chunked = ([], 0)
                        return (body, cursor)
                    }
                }
            }
            guard size <= limits.maximumBodyBytes - chunked.body.count else {
                throw HTTPParseError(413, "body_too_large", "the body exceeds \(limits.maximumBodyBytes) bytes")
            }
            guard buffer.count >= afterSize + size + 2 else { return nil }
            guard buffer[afterSize + size] == 0x0D, buffer[afterSize + size + 1] == 0x0A else {
                throw HTTPParseError(400, "bad_chunk", "chunk data is not followed by CRLF")
            }
            chunked.body.append(contentsOf: buffer[afterSize..<afterSize + size])
            index = afterSize + size + 2
            chunked.consumed = index - start
            guard chunked.consumed - chunked.body.count <= Self.maximumChunkFramingBytes(limits) else {
                throw HTTPParseError(413, "body_too_large", "the chunked framing of the body is too large")
            }
        }
    }

    /// How many bytes of chunk lines and CRLFs a chunked body may take besides its data: as many as the data may
    /// (64 KiB at least), so that framing, which counts towards no other limit, stays bounded.
    static func maximumChunkFramingBytes(_ limits: Limits) -> Int { max(limits.maximumBodyBytes, 64 * 1024) }

    /// The size at the start of a chunk line: `1*HEXDIG` and nothing else, not `Int(_:radix:)`, which also takes a
    /// sign (`+1a1`, `-0`) that a proxy in front may read differently (request smuggling). Then only an extension
    /// may follow. Leading zeros are allowed (up to the chunk line's limit); a value past `Int.max` stays at
    /// `Int.max` (too large for any body limit) rather than overflowing.
    /// - Throws: `bad_chunk` (400) for anything else. ([RFC 9112 §7.1](https://www.rfc-editor.org/rfc/rfc9112#section-7.1))
    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            let (shifted, overflow) = size.multipliedReportingOverflow(by: 16)
            size = overflow || shifted > Int.max - Int(digit) ? Int.max : shifted + Int(digit)
            index += 1
        }
        var rest = line[index...]
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ): blanks only before a ";".
        while let byte = rest.first, byte == 0x20 || byte == 0x09 { rest = rest.dropFirst() }
        guard index > line.startIndex, rest.isEmpty ? index == line.endIndex : rest.first == UInt8(ascii: ";") else {
            throw HTTPParseError(400, "bad_chunk", "invalid chunk size")
        }
        return size
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    static func parseLength(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    /// RFC 9110 token characters.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingBlanks() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
