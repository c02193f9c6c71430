import Testing

@testable import HTTPServer

struct HTTPRequestParserTests {
    func parse(_ text: String, limits: HTTPRequestParser.Limits = .init()) throws -> [HTTPRequest] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        var requests: [HTTPRequest] = []
        while case .request(let request) = try parser.next() { requests.append(request) }
        return requests
    }

    func error(_ text: String, limits: HTTPRequestParser.Limits = .init()) -> HTTPParseError? {
        do {
            _ = try parse(text, limits: limits)
            return nil
        } catch {
            return error as? HTTPParseError
        }
    }

    @Test func simpleGetWithQuery() throws {
        let request = try #require(try parse("GET /v1/plan?organisation=QWO&asOf=2022-06-30T00%3A00%3A00Z&q=a+b HTTP/1.1\r\nHost: x\r\n\r\n").first)
        #expect(request.method == "GET" && request.path == "/v1/plan" && request.keepAlive)
        #expect(request.query == ["organisation": "QWO", "asOf": "2022-06-30T00:00:00Z", "q": "a b"])
        #expect(request.headers["HOST"] == "x")
    }

    @Test func pathsAndHeaderNamesWithoutAndWithEscapes() throws {
        let plain = try #require(try parse("GET /v1/entities/goal/G+1 HTTP/1.1\r\nHost: localhost\r\nX-Mixed-Case: a\r\nconnection: CLOSE\r\n\r\n").first)
        #expect(plain.path == "/v1/entities/goal/G+1", "a + in a path stays a +")
        #expect(plain.headers["x-mixed-case"] == "a" && plain.headers["X-MIXED-CASE"] == "a" && plain.headers["x-mixed-cas"] == nil)
        #expect(!plain.keepAlive)
        let escaped = try #require(try parse("GET /v1/entities/goal/G%2F1%20x HTTP/1.1\r\nHost: localhost\r\n\r\n").first)
        #expect(escaped.path == "/v1/entities/goal/G/1 x")
        #expect(HTTPHeaders.sameName("Content-Length", "content-length") && !HTTPHeaders.sameName("Content-Length", "content-lengt"))
    }

    /// RFC 9112 §3.2.2: an absolute-form target is accepted and routed by its path and query.
    @Test func absoluteFormTargetsAreReducedToPathAndQuery() throws {
        let cases: [String: (target: String, path: String, query: [String: String])] = [
            "http://127.0.0.1:7411/healthz?x=1": ("/healthz?x=1", "/healthz", ["x": "1"]),
            "HTTPS://plan.example/v1/plan": ("/v1/plan", "/v1/plan", [:]),
            "http://a": ("/", "/", [:]),
            "http://a?x=%41": ("/?x=%41", "/", ["x": "A"]),
            "http://[::1]:80/a%20b": ("/a%20b", "/a b", [:]),
        ]
        for (target, (origin, path, query)) in cases {
            let request = try #require(try parse("GET \(target) HTTP/1.1\r\nHost: other\r\n\r\n").first)
            #expect(request.target == origin && request.path == path && request.query == query, "\(target)")
        }
        for target in ["ftp://a/", "http:/a", "http:///a", "http://user@a/", "a/b", "http//a/"] {
            #expect(error("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n")?.status == 400, "\(target)")
        }
    }

    @Test func pipelinedRequestsComeOutInOrder() throws {
        let requests = try parse("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /b HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(requests.map(\.path) == ["/a", "/b", "/c"])
        #expect(requests[1].body == Array("xyz".utf8))
    }

    /// RFC 9112 §2.2: empty lines before a request line are ignored (a client may send a CRLF after a body), up
    /// to a few; even when they arrive a byte at a time.
    @Test func emptyLinesBeforeARequestAreSkipped() throws {
        #expect(try parse("\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").map(\.path) == ["/healthz"])
        let afterBody = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(try parse(afterBody).map(\.path) == ["/a", "/b"])
        var parser = HTTPRequestParser()
        var paths: [String] = []
        for byte in "\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n".utf8 {
            parser.append([byte])
            if case .request(let request) = try parser.next() { paths.append(request.path) }
        }
        #expect(paths == ["/c"])
        parser.append(Array("\r\n".utf8))
        _ = try parser.next()
        #expect(!parser.hasPartialRequest, "a trailing empty line is no request begun")
        #expect(error(String(repeating: "\r\n", count: 100) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n")?.status == 400)
    }

    @Test func requestFedOneByteAtATime() throws {
        let text = "POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world"
        var parser = HTTPRequestParser()
        var result: HTTPRequest?
        for byte in text.utf8 {
            parser.append([byte])
            if case .request(let request) = try parser.next() { result = request }
        }
        #expect(result?.body == Array("hello world".utf8))
    }

    /// RFC 9110 §10.1.1: a 100 (Continue) is never sent to an HTTP/1.0 client.
    @Test func expectContinueIsIgnoredFromHTTP10() throws {
        func expectsContinue(_ version: String) throws -> Bool {
            var parser = HTTPRequestParser()
            parser.append(Array("POST / HTTP/\(version)\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n".utf8))
            guard case .needMore(let expectsContinue) = try parser.next() else { return false }
            return expectsContinue
        }
        #expect(try expectsContinue("1.1"))
        #expect(try !expectsContinue("1.0"))
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let request = try #require(try parse("POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n").first)
        #expect(request.body == Array("hello world".utf8))
    }

    /// RFC 9112 §7.1: chunk-size = 1*HEXDIG. A sign, a prefix or blanks before the digits are refused: a proxy in
    /// front may frame the body differently (request smuggling).
    @Test(arguments: ["+1a1", "-0", "+0", " 5", "0x5", "-5", "5 x", ""])
    func chunkSizesOtherThanHexDigitsAreRefused(size: String) {
        #expect(error("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n\r\n")?.code == "bad_chunk")
    }

    /// A chunked body that arrives a few bytes at a time, split anywhere (inside a size line, inside data, between
    /// chunks, in the trailers), decodes to the same body, and a pipelined request after it comes out next.
    @Test func aChunkedBodyArrivingInPiecesDecodesTheSame() throws {
        let bytes = Array(("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\n1\r\n \r\n0a\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n"
            + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n").utf8)
        for piece in [1, 2, 3, 7, 64] {
            var parser = HTTPRequestParser()
            var requests: [HTTPRequest] = []
            var offset = 0
            while offset < bytes.count {
                parser.append(bytes[offset..<min(offset + piece, bytes.count)])
                offset += piece
                while case .request(let request) = try parser.next() { requests.append(request) }
            }
            #expect(requests.map(\.path) == ["/x", "/after"], "pieces of \(piece)")
            #expect(requests.first.map { String(decoding: $0.body, as: UTF8.self) } == "hello 0123456789", "pieces of \(piece)")
        }
    }

    /// Chunk framing counts towards no body limit, so it has its own: one-byte chunks with long extensions are
    /// refused once their framing passes it, long before the body limit is reached.
    @Test func chunkFramingIsBoundedApartFromTheBody() {
        let limits = HTTPRequestParser.Limits(maximumBodyBytes: 100_000)
        let chunk = "1;" + String(repeating: "e", count: 1000) + "\r\nx\r\n"
        let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        // 110 chunks: 110 KB of framing (past its limit, as large as the body's) for a body of 110 bytes.
        #expect(error(head + String(repeating: chunk, count: 110), limits: limits)?.status == 413)
        #expect(error(head + String(repeating: chunk, count: 50), limits: limits) == nil, "well within it")
    }

    @Test func chunkSizesWithLeadingZerosOrBlanksBeforeAnExtensionAreRead() throws {
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        let zeros = try #require(try parse(chunked + String(repeating: "0", count: 40) + "5\r\nhello\r\n0\r\n\r\n").first)
        #expect(zeros.body == Array("hello".utf8))
        let blanks = try #require(try parse(chunked + "5 \t;name=value\r\nhello\r\n0\r\n\r\n").first)
        #expect(blanks.body == Array("hello".utf8))
    }

    /// However many digits, the size neither overflows nor wraps round to a small one: the body is too large.
    @Test(arguments: [String(repeating: "f", count: 16), String(repeating: "f", count: 17), "1" + String(repeating: "0", count: 16),
                      String(repeating: "f", count: 200)])
    func absurdlyLongChunkSizesAreTooLarge(size: String) {
        #expect(error("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n")?.status == 413)
    }

    /// Chunk lines and trailers are bounded whether or not they have ended: they do not count towards the body
    /// limit, and must not let a client grow the buffer without bound.
    @Test func overlongChunkLinesAndTrailersAreRefused() {
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        let extensions = "5;" + String(repeating: "x", count: 2_000)
        #expect(error(chunked + extensions + "\r\nhello\r\n0\r\n\r\n")?.code == "bad_chunk")
        #expect(error(chunked + extensions)?.code == "bad_chunk", "before the line has ended")
        let trailer = "0\r\nX-Trailer: " + String(repeating: "a", count: 20_000)
        #expect(error(chunked + trailer + "\r\n\r\n")?.status == 431)
        #expect(error(chunked + trailer)?.status == 431, "before the trailer has ended")
    }

    @Test func limits() {
        let small = HTTPRequestParser.Limits(maximumHeadBytes: 64, maximumBodyBytes: 10)
        #expect(error("GET / HTTP/1.1\r\nHost: localhost\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n", limits: small)?.status == 431)
        #expect(error("GET / HTTP/1.1\r\nHost: localhost\r\nX: " + String(repeating: "a", count: 100), limits: small)?.status == 431)
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\n", limits: small)?.status == 413)
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", limits: small)?.status == 413)
    }

    @Test(arguments: ["GET\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n", "G(T / HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET ftp://x/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
                      "GET / HTTP/1.1\r\nHost: localhost\r\n folded: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n", "GET / HTTP/1.1\nHost: x\r\n\r\n"])
    func malformedRequestsAreRefused(text: String) {
        #expect(error(text)?.status == 400)
    }

    /// A bare LF is refused as soon as it arrives, not after waiting for a CRLF CRLF that may never come.
    @Test(arguments: ["GET / HTTP/1.1\n", "GET / HTTP/1.1\nHost: x\n\n", "GET / HTTP/1.1\r\nHost: x\n", "GET / HTTP/1.1\r\nHost: x\r\n\n",
                      "\n"])
    func bareLineFeedsAreRefusedAtOnce(text: String) {
        #expect(error(text)?.status == 400)
    }

    /// RFC 9112 §3, RFC 9110 §15.5.15: a request line longer than the server takes is 414, as soon as its length
    /// is past the limit, not 431 (which is for header fields).
    @Test func overlongRequestLinesGet414() throws {
        let long = "/v1/plan?q=" + String(repeating: "a", count: 17_000)
        #expect(error("GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n")?.status == 414)
        #expect(error("GET \(long)")?.code == "uri_too_long", "before the line has ended")
        #expect(error("GET /\(String(repeating: "a", count: 9_000)) HTTP/1.1\r\nHost: x\r\n\r\n")?.status == 414)
        #expect(try parse("GET /\(String(repeating: "a", count: 8_000)) HTTP/1.1\r\nHost: x\r\n\r\n").count == 1,
                "RFC 9112 §3: at least 8000 octets are accepted")
        #expect(HTTPResponse.reason(414) == "URI Too Long")
    }

    @Test func badLengthsAndSmugglingAttemptsAreRefused() {
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n")?.code == "bad_content_length")
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n")?.code == "bad_content_length")
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999999\r\n\r\n")?.code == "bad_content_length")
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")?.code == "bad_content_length")
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")?.code == "ambiguous_length")
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n")?.status == 501)
        #expect(error("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")?.code == "bad_chunk")
        #expect(error("GET / HTTP/2.0\r\n\r\n")?.status == 505)
    }

    @Test func keepAliveDefaults() throws {
        #expect(try parse("GET / HTTP/1.0\r\n\r\n").first?.keepAlive == false)
        #expect(try parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").first?.keepAlive == true)
        #expect(try parse("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").first?.keepAlive == false)
    }

    /// RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, and for any with two or an invalid one.
    @Test func hostIsRequiredInHTTP11AndMustBeOneValidAuthority() throws {
        #expect(error("GET / HTTP/1.1\r\n\r\n")?.status == 400)
        #expect(error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")?.status == 400)
        #expect(error("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n")?.status == 400)
        #expect(error("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n")?.status == 400)
        #expect(error("GET / HTTP/1.1\r\nHost: a b\r\n\r\n")?.status == 400)
        #expect(try parse("GET / HTTP/1.0\r\n\r\n").count == 1, "HTTP/1.0 has no Host requirement")
        for host in ["", "127.0.0.1:7373", "[::1]:80", "plan.example.nhs.uk"] {
            #expect(try parse("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n").count == 1, "\(host)")
        }
    }

    @Test func responseSerialisation() {
        let response = HTTPResponse.json(status: 201, Array("{}".utf8))
        #expect(String(decoding: response.serialized(keepAlive: true), as: UTF8.self)
            == "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}")
        let error = HTTPResponse.error(status: 400, code: "bad", message: "a \"quoted\"\nline\u{1}")
        guard case .bytes(let body) = error.body else { return }
        #expect(String(decoding: body, as: UTF8.self) == #"{"error":{"code":"bad","message":"a \"quoted\"\nline\u0001"}}"#)
    }
}

/// Random input never traps the parser: every outcome is a request, a need for more bytes, or a typed error.
struct HTTPRequestParserRandomInputTests {
    @Test func randomBytesAndMutatedRequestsNeverTrap() {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let seed = Array("POST /v1/x?a=1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)
        for round in 0..<3_000 {
            var bytes = round % 2 == 0 ? seed : (0..<Int(next() % 300)).map { _ in UInt8(truncatingIfNeeded: next()) }
            for _ in 0..<Int(next() % 6) where !bytes.isEmpty { bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next()) }
            var parser = HTTPRequestParser(limits: .init(maximumHeadBytes: 256, maximumBodyBytes: 64))
            var offset = 0
            while offset < bytes.count {
                let step = 1 + Int(next() % 17)
                parser.append(bytes[offset..<min(offset + step, bytes.count)])
                offset += step
                do {
                    while case .request = try parser.next() {}
                } catch {
                    #expect((400...505).contains(error.status))
                    break
                }
            }
        }
    }
}
