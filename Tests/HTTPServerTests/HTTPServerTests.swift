import Foundation
import Synchronization
import Testing

@testable import HTTPServer

/// The server over real loopback sockets.
@Suite struct HTTPServerTests {
    func server(_ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
                handler: @escaping HTTPServer.Handler = { request in
                    .text(request.method + " " + request.path + " " + String(decoding: request.body, as: UTF8.self))
                }) throws -> HTTPServer
    {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.headerTimeout = 0.5
        configuration.idleTimeout = 2
        configuration.shutdownGrace = 2
        configure(&configuration)
        let server = HTTPServer(configuration: configuration, handler: handler)
        try server.start()
        return server
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try server()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        #expect(try client.request("GET", "/a").text == "GET /a ")
        #expect(try client.request("POST", "/b", body: Array("body".utf8)).text == "POST /b body")
    }

    /// RFC 9112 §3.2.2: an absolute-form target is routed by its path. §3.2: an HTTP/1.1 request without Host is
    /// refused, an HTTP/1.0 one is not.
    @Test func absoluteFormIsRoutedByItsPathAndHostIsRequiredOfHTTP11() throws {
        let server = try server()
        defer { server.stop() }
        let absolute = try BlockingHTTPClient(port: server.port)
        try absolute.sendRaw("GET http://127.0.0.1:7411/healthz?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try absolute.readResponse().text == "GET /healthz ")
        let withoutHost = try BlockingHTTPClient(port: server.port)
        try withoutHost.sendRaw("GET /healthz HTTP/1.1\r\n\r\n")
        let refused = try withoutHost.readResponse()
        #expect(refused.status == 400 && refused.text.contains("\"bad_host\""))
        let http10 = try BlockingHTTPClient(port: server.port)
        try http10.sendRaw("GET /healthz HTTP/1.0\r\n\r\n")
        #expect(try http10.readResponse().status == 200)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try server()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        try client.sendRaw("GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /2 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        #expect(try (0..<3).map { _ in try client.readResponse().text } == ["GET /1 ", "GET /2 ", "GET /3 "])
        #expect(client.isClosedByServer(within: 1000))
    }

    /// A CRLF sent after a body (RFC 9112 §2.2) is skipped and leaves the connection idle: a next request that
    /// comes after the header timeout is answered, not cut off with 408.
    @Test func anEmptyLineAfterABodyIsSkippedAndLeavesTheConnectionIdle() throws {
        let server = try server()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        try client.sendRaw("POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nok\r\n")
        #expect(try client.readResponse().text == "POST /a ok")
        usleep(800_000)  // past the header timeout (0.5 s), within the idle timeout (2 s)
        #expect(try client.request("GET", "/b").text == "GET /b ")
    }

    /// A `.later` response is delivered from another thread; meanwhile the server answers other connections,
    /// even with one loop for all, and a pipelined request behind it waits its turn.
    @Test func laterResponsesDoNotHoldTheLoopAndKeepPipelinedOrder() throws {
        let release = DispatchSemaphore(value: 0)
        let server = try server { _ in } handler: { request in
            guard request.path == "/slow" else { return .text("quick " + request.path) }
            return .later { pending in
                Thread {
                    release.wait()
                    pending.deliver { .text("slow, delivered later") }
                }.start()
            }
        }
        defer { server.stop() }
        let slow = try BlockingHTTPClient(port: server.port)
        try slow.sendRaw("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET /after HTTP/1.1\r\nHost: localhost\r\n\r\n")
        // Several connections, so some share the slow one's loop (connections go round the loops in turn).
        for n in 0..<8 {
            #expect(try BlockingHTTPClient(port: server.port).request("GET", "/other-\(n)").text == "quick /other-\(n)")
        }
        release.signal()
        #expect(try slow.readResponse().text == "slow, delivered later")
        #expect(try slow.readResponse().text == "quick /after")
    }

    /// A client that leaves while its `.later` response is pending: the response is dropped when it comes, the
    /// connection is counted closed, and the server goes on.
    @Test func aLaterResponseForAClientThatLeftIsDropped() throws {
        let release = DispatchSemaphore(value: 0)
        let delivered = DispatchSemaphore(value: 0)
        let server = try server { _ in } handler: { request in
            guard request.path == "/slow" else { return .text("quick") }
            return .later { pending in
                Thread {
                    release.wait()
                    pending.deliver { .text("too late") }
                    delivered.signal()
                }.start()
            }
        }
        defer { server.stop() }
        do {
            let leaving = try BlockingHTTPClient(port: server.port)
            try leaving.sendRaw("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        }  // closed here
        usleep(100_000)
        release.signal()
        delivered.wait()
        #expect(try BlockingHTTPClient(port: server.port).request("GET", "/next").text == "quick")
        let deadline = Date(timeIntervalSinceNow: 2)
        while server.openConnections > 0, Date() < deadline { usleep(10_000) }
        #expect(server.openConnections == 0)
    }

    /// A client that resets its connection while its `.later` response is pending abandons it (so work not yet
    /// begun for it can be skipped); one that only shuts its sending side still waits for it, and gets it.
    @Test func aResetAbandonsAPendingResponseAndAHalfCloseDoesNot() throws {
        let pending = Mutex<[String: PendingResponse]>([:])
        let server = try server { _ in } handler: { request in
            .later { response in pending.withLock { $0[request.path] = response } }
        }
        defer { server.stop() }
        func waitFor(_ condition: () -> Bool) -> Bool {
            let deadline = Date(timeIntervalSinceNow: 5)
            while !condition(), Date() < deadline { usleep(10_000) }
            return condition()
        }
        let halfClosed = try BlockingHTTPClient(port: server.port)
        try halfClosed.sendRaw("GET /half-closed HTTP/1.1\r\nHost: localhost\r\n\r\n")
        shutdown(halfClosed.fd, Int32(SHUT_WR))
        do {
            let resetting = try BlockingHTTPClient(port: server.port)
            resetting.resetOnClose()
            try resetting.sendRaw("GET /reset HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(waitFor { pending.withLock { $0["/reset"] } != nil })
            #expect(pending.withLock { $0["/reset"]?.isAbandoned } == false)
        }  // reset here
        #expect(waitFor { pending.withLock { $0["/reset"]?.isAbandoned } == true })
        #expect(waitFor { pending.withLock { $0["/half-closed"] } != nil })
        usleep(100_000)
        let answer = try #require(pending.withLock { $0["/half-closed"] })
        #expect(!answer.isAbandoned)
        answer.deliver { .text("still wanted") }
        #expect(try halfClosed.readResponse().text == "still wanted")
    }

    /// A streamed response whose producer fails part-way ends without its last chunk: the client sees the body cut
    /// short, not complete.
    @Test func aStreamThatFailsEndsWithoutItsLastChunk() throws {
        let server = try server { _ in } handler: { request in
            .stream(headers: [("Content-Type", "text/plain")]) { writer in
                writer.write(Array("the first part".utf8))
                if request.path == "/fails" { writer.fail() }
            }
        }
        defer { server.stop() }
        for (path, completes) in [("/whole", true), ("/fails", false)] {
            let client = try BlockingHTTPClient(port: server.port)
            try client.sendRaw("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readStreamHead().status == 200)
            #expect(try client.readChunk() == Array("the first part".utf8))
            if completes {
                #expect(try client.readChunk() == nil, "the last chunk")
            } else {
                #expect(throws: (any Error).self, "closed before a last chunk") { _ = try client.readChunk() }
            }
        }
    }

    /// A second delivery of a `.later` response is ignored, even when the next request is waiting for its own
    /// `.later` response at the time.
    @Test func aLaterResponseIsDeliveredOnce() throws {
        let nextIsWaiting = DispatchSemaphore(value: 0)
        let server = try server { _ in } handler: { request in
            switch request.path {
            case "/twice":
                return .later { pending in
                    pending.deliver { .text("first") }
                    Thread {
                        nextIsWaiting.wait()
                        pending.deliver { .text("second") }
                    }.start()
                }
            default:
                return .later { pending in
                    nextIsWaiting.signal()
                    Thread {
                        usleep(200_000)
                        pending.deliver { .text("own " + request.path) }
                    }.start()
                }
            }
        }
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        #expect(try client.request("GET", "/twice").text == "first")
        #expect(try client.request("GET", "/next").text == "own /next")
    }

    /// Responses larger than the socket's buffers: a client that shuts its sending side right after its requests
    /// still gets every byte, and pipelined requests (a stream among them) come out whole and in order.
    @Test func largeResponsesGoOutWholeToHalfClosedAndPipeliningClients() throws {
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 4 << 20)
        let server = try server { _ in } handler: { request in
            if request.path == "/stream" {
                return .stream(headers: []) { writer in writer.write(Array("live".utf8)) }
            }
            return HTTPResponse(status: 200, body: .bytes(big))
        }
        defer { server.stop() }
        let halfClosed = try BlockingHTTPClient(port: server.port)
        try halfClosed.sendRaw("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n")
        shutdown(halfClosed.fd, Int32(SHUT_WR))
        usleep(200_000)  // the server sees the end of input while most of the response is still to go
        #expect(try halfClosed.readResponse().body.count == big.count)

        let pipelining = try BlockingHTTPClient(port: server.port)
        try pipelining.sendRaw("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\n\r\nGET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        usleep(200_000)
        #expect(try pipelining.readResponse().body.count == big.count)
        #expect(try pipelining.readResponse().body.count == big.count)
        #expect(try pipelining.readResponse().text == "live")
    }

    /// The write timeout is for a client that stops reading, not for one that reads slowly but keeps reading.
    @Test func aSlowReaderIsServedAndAStalledOneIsCutOff() throws {
        let big = [UInt8](repeating: UInt8(ascii: "y"), count: 16 << 20)
        let server = try server { $0.writeTimeout = 0.5 } handler: { _ in HTTPResponse(status: 200, body: .bytes(big)) }
        defer { server.stop() }
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        func readToEnd(_ client: BlockingHTTPClient, pause: useconds_t) -> Int {
            var small: Int32 = 64 << 10  // a small window, so the server's side fills and waits on this reader
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var total = 0
            while true {
                usleep(pause)
                let count = scratch.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return total }
                total += count
            }
        }
        let slow = try BlockingHTTPClient(port: server.port)
        try slow.sendRaw("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        let started = Date()
        let received = readToEnd(slow, pause: 10_000)  // at most 6.4 MB/s: seconds in all, never 0.5 s stalled
        #expect(Date().timeIntervalSince(started) > 1, "the response took longer than the write timeout")
        #expect(received > big.count, "every byte arrived (and the head)")

        let stalled = try BlockingHTTPClient(port: server.port)
        try stalled.sendRaw("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        usleep(1_500_000)  // not reading: the server gives up after the write timeout
        #expect(readToEnd(stalled, pause: 0) < big.count, "cut off before the end")
    }

    @Test func oversizeBodyGets413AndGarbageGets400AndTheServerStaysUp() throws {
        let server = try server { $0.limits.maximumBodyBytes = 16 }
        defer { server.stop() }
        let big = try BlockingHTTPClient(port: server.port)
        let response = try big.request("POST", "/x", body: [UInt8](repeating: 65, count: 17))
        #expect(response.status == 413 && response.text.contains("\"code\":\"body_too_large\""))
        let garbage = try BlockingHTTPClient(port: server.port)
        try garbage.sendRaw([0x16, 0x03, 0x01, 0xFF, 0x0D, 0x0A, 0x0D, 0x0A])
        #expect(try garbage.readResponse().status == 400)
        #expect(try BlockingHTTPClient(port: server.port).request("GET", "/still-up").status == 200)
    }

    @Test func slowlorisIsCutOffAtTheHeaderDeadline() throws {
        let server = try server()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        let started = Date()
        try client.sendRaw("GET / HTTP/1.1\r\nHost: localhost\r\nX-")
        // Keep trickling: the deadline is absolute, not per byte.
        for _ in 0..<3 {
            usleep(100_000)
            try? client.sendRaw("a")
        }
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(Date().timeIntervalSince(started) < 2)
    }

    /// A bare LF is answered 400 at once, not 408 at the header deadline.
    @Test func bareLineFeedsAreAnswered400AtOnce() throws {
        let server = try server { $0.headerTimeout = 5 }
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        let started = Date()
        try client.sendRaw("GET /healthz HTTP/1.1\nHost: localhost\n\n")
        #expect(try client.readResponse().status == 400)
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func connectionLimitAnswers503WithRetryAfter() throws {
        let server = try server { $0.maximumConnections = 2 }
        defer { server.stop() }
        let first = try BlockingHTTPClient(port: server.port)
        let second = try BlockingHTTPClient(port: server.port)
        _ = try first.request("GET", "/")
        _ = try second.request("GET", "/")
        let third = try BlockingHTTPClient(port: server.port)
        let response = try third.readResponse()
        #expect(response.status == 503 && response.headers["retry-after"] == "1")
    }

    @Test func streamingResponseDeliversChunksLiveAndNoticesTheClientLeaving() throws {
        let writes = Collected()
        let server = try server(handler: { _ in
            .stream(headers: [("Content-Type", "text/event-stream")]) { writer in
                var n = 0
                while writer.write(Array("data: \(n)\n\n".utf8)) {
                    n += 1
                    usleep(20_000)
                    if n > 500 { break }
                }
                writes.set(n)
            }
        })
        defer { server.stop() }
        var client: BlockingHTTPClient? = try BlockingHTTPClient(port: server.port)
        try client!.sendRaw("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let head = try client!.readStreamHead()
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream")
        #expect(try client!.readChunk() == Array("data: 0\n\n".utf8))
        #expect(try client!.readChunk() == Array("data: 1\n\n".utf8))
        client = nil  // disconnect
        let deadline = Date(timeIntervalSinceNow: 3)
        while writes.value == nil && Date() < deadline { usleep(20_000) }
        #expect((writes.value ?? 1000) < 500, "the producer stopped once the client left")
    }

    /// RFC 9112 §6.1: no Transfer-Encoding to an HTTP/1.0 client. A stream's bytes go out as they are, and the
    /// close ends them.
    @Test func anHTTP10ClientGetsAStreamUnchunkedAndEndedByTheClose() throws {
        let server = try server(handler: { _ in
            .stream(headers: [("Content-Type", "text/plain")]) { writer in
                writer.write(Array("one ".utf8))
                writer.write(Array("two".utf8))
            }
        })
        defer { server.stop() }
        func exchange(_ request: String) throws -> (head: String, body: String) {
            let client = try BlockingHTTPClient(port: server.port)
            try client.sendRaw(request)
            var received: [UInt8] = []
            var scratch = [UInt8](repeating: 0, count: 4096)
            reading: while true {
                switch SystemCalls.read(client.fd, milliseconds: 2_000, into: &scratch) {
                case .data(let bytes): received += bytes
                case .closed: break reading
                case .timedOut: throw BlockingHTTPClient.Failure(description: "the stream did not end with a close")
                }
            }
            let text = String(decoding: received, as: UTF8.self)
            let end = try #require(text.range(of: "\r\n\r\n"))
            return (String(text[..<end.lowerBound]).lowercased(), String(text[end.upperBound...]))
        }
        for keepAlive in ["", "Connection: keep-alive\r\n"] {
            let get = try exchange("GET /stream HTTP/1.0\r\n\(keepAlive)\r\n")
            #expect(!get.head.contains("transfer-encoding") && !get.head.contains("content-length"), "\(get.head)")
            #expect(get.head.contains("connection: close"))
            #expect(get.body == "one two", "no chunk framing and no last chunk")
        }
        let head = try exchange("HEAD /stream HTTP/1.0\r\n\r\n")
        #expect(!head.head.contains("transfer-encoding") && head.body.isEmpty)
    }

    @Test func stopReturnsPromptlyWithIdleKeepAliveConnections() throws {
        let server = try server { $0.idleTimeout = 30 }
        let client = try BlockingHTTPClient(port: server.port)
        _ = try client.request("GET", "/")
        let started = Date()
        server.stop()
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(client.isClosedByServer(within: 1000))
    }

    @Test func expectContinueIsAnswered() throws {
        let server = try server()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        try client.sendRaw("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readStreamHead()
        #expect(interim.status == 100)
        try client.sendRaw("ok")
        #expect(try client.readResponse().text == "POST /x ok")
    }

    /// RFC 9110 §10.1.1: an HTTP/1.0 client is never sent a 100; it gets the final response once its body came.
    @Test func expectContinueFromAnHTTP10ClientIsIgnored() throws {
        let server = try server()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        try client.sendRaw("POST /x HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        usleep(200_000)
        try client.sendRaw("ok")
        #expect(try client.readStreamHead().status == 200)
    }
}

final class Collected: Sendable {
    private let stored = Mutex<Int?>(nil)
    func set(_ value: Int) { stored.withLock { $0 = value } }
    var value: Int? { stored.withLock { $0 } }
}

@Suite struct HTTPServerHeadTests {
    /// A port outside 0–65535 is refused with an error, not a crash (the conversion to 16 bits used to trap).
    @Test func aPortOutOfRangeIsAnError() {
        for port in [65_536, 99_999, -1] {
            let server = HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: port)) { _ in .text("") }
            #expect(throws: (any Error).self) { try server.start() }
        }
    }

    @Test func headGetsHeadersWithoutABody() throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.shutdownGrace = 1
        let server = HTTPServer(configuration: configuration) { _ in .text("hello") }
        try server.start()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        try client.sendRaw("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let head = try client.readStreamHead()
        #expect(head.status == 200 && head.headers["content-length"] == "5")
        #expect(try client.readResponse().text == "hello", "the next response follows directly: HEAD sent no body")
    }

    /// RFC 9110 §9.3.2: HEAD on a stream (the live events, an archive) gets the head a GET would get and nothing
    /// more; the producer is not run, and the connection stays open for the next request.
    @Test func headOnAStreamSendsTheHeadAloneAndRunsNothing() throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.shutdownGrace = 1
        let ran = Collected()
        let server = HTTPServer(configuration: configuration) { request in
            guard request.path == "/events" else { return .text("next") }
            return .stream(headers: [("Content-Type", "text/event-stream")]) { writer in
                ran.set(1)
                for n in 0..<3 { writer.write(Array("data: \(n)\n\n".utf8)) }
            }
        }
        try server.start()
        defer { server.stop() }
        let client = try BlockingHTTPClient(port: server.port)
        client.timeoutMilliseconds = 2_000
        try client.sendRaw("HEAD /events HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let head = try client.readStreamHead()
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream")
        #expect(head.headers["transfer-encoding"] == "chunked", "the framing a GET would have")
        #expect(try client.readResponse().text == "next", "no body came before the next response")
        usleep(100_000)
        #expect(ran.value == nil, "the producer never ran")
    }
}

@Suite struct HTTPServerErrorDeliveryTests {
    /// A client still sending an oversized body receives the 413 rather than a connection reset.
    @Test func oversizedBodyBeingSentStillGetsThe413() throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.limits.maximumBodyBytes = 1024
        configuration.shutdownGrace = 1
        let server = HTTPServer(configuration: configuration) { _ in .text("ok") }
        try server.start()
        defer { server.stop() }
        for _ in 0..<20 {
            let client = try BlockingHTTPClient(port: server.port)
            try client.sendRaw("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 200000\r\n\r\n")
            try? client.sendRaw([UInt8](repeating: 65, count: 64 * 1024))
            #expect(try client.readResponse().status == 413)
        }
    }
}
