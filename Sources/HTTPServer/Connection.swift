import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One client connection, served on its own thread: read, parse, handle, write, for as long as keep-alive lasts.
final class Connection: @unchecked Sendable {
    // @unchecked: a connection is used by its own thread; `server` and the file descriptor's closing are the only
    // things other threads touch, through `server.isStopping` (atomic) and `close()` after the thread is done.
    let fd: Int32
    let remoteAddress: String
    unowned let server: HTTPServer
    private var configuration: HTTPServer.Configuration { server.configuration }

    init(fd: Int32, remoteAddress: String, server: HTTPServer) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.server = server
    }

    /// Poll in short slices so a stopping server is noticed promptly.
    private static let slice: Int32 = 200

    /// Serves requests until the client closes, asks to close, times out, sends something unparseable, or the
    /// server stops. Deadlines are absolute: the head must arrive within `headerTimeout` of its first byte and the
    /// body within `bodyTimeout` of the head, however slowly the client trickles bytes.
    func run() {
        var answeredWithError = false
        defer { answeredWithError ? SystemCalls.lingeringClose(fd) : SystemCalls.shutdownAndClose(fd) }
        var parser = HTTPRequestParser(limits: configuration.limits)
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        var sentContinue = false
        var requestStarted: Double?
        var headCompleted: Double?
        var idleSince = Self.now()
        var receiveTimeout: Int32 = 0

        while true {
            // Serve every complete request already buffered (pipelining), in order.
            let outcome: HTTPRequestParser.Outcome
            do {
                outcome = try parser.next()
            } catch {
                let response = HTTPResponse.error(status: error.status, code: error.code, message: error.message)
                _ = send(response.serialized(keepAlive: false))
                report(HTTPRequest(method: "-", target: "/"), response.status, start: requestStarted ?? Self.now())
                answeredWithError = true
                return
            }
            switch outcome {
            case .request(var request):
                request.remoteAddress = remoteAddress
                let keepAlive = request.keepAlive && !server.isStopping
                guard respond(to: request, keepAlive: keepAlive, started: requestStarted ?? Self.now()), keepAlive else {
                    return
                }
                (requestStarted, headCompleted, sentContinue) = (parser.hasPartialRequest ? Self.now() : nil, nil, false)
                idleSince = Self.now()
                continue
            case .needMore(let expectsContinue):
                if parser.isAwaitingBody && headCompleted == nil { headCompleted = Self.now() }
                if expectsContinue && !sentContinue {
                    sentContinue = true
                    guard send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
                }
            }

            let now = Self.now()
            let deadline: Double
            if let started = requestStarted {
                deadline = headCompleted.map { $0 + configuration.bodyTimeout } ?? started + configuration.headerTimeout
            } else {
                if server.isStopping { return }
                deadline = idleSince + configuration.idleTimeout
            }
            if now >= deadline {
                if let started = requestStarted {
                    let response = HTTPResponse.error(status: 408, code: "request_timeout",
                                                      message: "the request was not received in time")
                    _ = send(response.serialized(keepAlive: false))
                    report(HTTPRequest(method: "-", target: "/"), 408, start: started)
                }
                return
            }
            let wait = Int32(min(Double(Self.slice), max(1, (deadline - now) * 1000)))
            switch SystemCalls.receive(fd, milliseconds: wait, timeout: &receiveTimeout, into: &scratch) {
            case .data(let bytes):
                if requestStarted == nil { requestStarted = Self.now() }
                parser.append(bytes)
            case .closed:
                return
            case .timedOut:
                continue
            }
        }
    }

    /// Handles one request and writes the response. Returns false when the connection must close.
    private func respond(to request: HTTPRequest, keepAlive: Bool, started: Double) -> Bool {
        let response = server.handler(request)
        switch response.body {
        case .bytes:
            // A HEAD response carries the GET response's headers (Content-Length included) and no body.
            let ok = send(request.method == "HEAD" ? response.head(keepAlive: keepAlive) : response.serialized(keepAlive: keepAlive))
            report(request, response.status, start: started)
            return ok
        case .stream(let producer):
            guard send(response.head(keepAlive: false)) else { return false }
            producer(HTTPStreamWriter(connection: self))
            _ = send(Array("0\r\n\r\n".utf8))
            report(request, response.status, start: started)
            return false
        }
    }

    private func report(_ request: HTTPRequest, _ status: Int, start: Double) {
        var request = request
        request.remoteAddress = remoteAddress
        configuration.onResponse?(request, status, Self.now() - start)
    }

    func send(_ bytes: [UInt8]) -> Bool {
        SystemCalls.send(fd, bytes, milliseconds: Int32(configuration.writeTimeout * 1000))
    }

    var isOpenForStreaming: Bool { !server.isStopping && !SystemCalls.peerClosed(fd) }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
