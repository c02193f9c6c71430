import CEventPoll
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One client connection, driven by its `EventLoop` on the loop's thread: bytes are read as they arrive, each
/// complete request is handled in turn (pipelined ones in order, one at a time), and responses are written as the
/// socket takes them, for as long as keep-alive lasts.
///
/// Deadlines are absolute: the head must arrive within `headerTimeout` of its first byte and the body within
/// `bodyTimeout` of the head, however slowly the client trickles bytes; an idle keep-alive connection is closed
/// after `idleTimeout`, and a client that stops reading after `writeTimeout`.
final class Connection {
    enum Phase {
        /// Waiting for (the rest of) a request.
        case reading
        /// A request's response is being made elsewhere (`.later`); nothing more is read until it is written.
        case handling
        /// The last response is being written; then the socket closes, after draining the client's input for a
        /// moment when `lingering` (so an error answer is not lost to a reset).
        case closingAfterOutput(lingering: Bool)
        /// Answered with an error and shut for writing: reading and discarding until the client has been quiet
        /// for `quietFor` seconds, for at most `until`; then closing.
        case lingering(until: Double, quietUntil: Double)
        case closed
    }

    let token: UInt64
    let fd: Int32
    let remoteAddress: String
    unowned let loop: EventLoop
    private var server: HTTPServer { loop.server }
    private var configuration: HTTPServer.Configuration { server.configuration }

    private(set) var phase = Phase.reading
    private var parser: HTTPRequestParser
    private var output: [UInt8] = []
    private var outputStart = 0
    /// When a client that has stopped reading is given up on: `writeTimeout` after the last progress.
    private var writeDeadline: Double?
    /// Counts the requests handed to the handler, so a `.later` response can only answer its own request.
    private var dispatched: UInt64 = 0
    /// The request answered `.later` whose response has not come yet: told when the connection closes first.
    private var pending: PendingResponse?
    private var requestStarted: Double?
    private var headCompleted: Double?
    private var sentContinue = false
    private var idleSince: Double
    /// What the loop is asked to report for this socket now.
    private(set) var interest: UInt32

    init(token: UInt64, fd: Int32, remoteAddress: String, loop: EventLoop) {
        self.token = token
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.parser = HTTPRequestParser(limits: loop.server.configuration.limits)
        self.idleSince = Self.now()
        self.interest = pl_poll_in | pl_poll_read_hang_up
    }

    // MARK: Events from the loop

    func handle(events: UInt32) {
        if events & (pl_poll_out | pl_poll_error | pl_poll_hang_up) != 0, hasOutput {
            flush()
            // Pipelined requests wait while a response is still going out (so a client that never reads cannot
            // make the server queue responses without bound); go on with them once it has gone.
            if !hasOutput, case .reading = phase { process() }
        }
        if events & (pl_poll_in | pl_poll_read_hang_up | pl_poll_error | pl_poll_hang_up) != 0 {
            switch phase {
            case .reading where !hasOutput: receive()
            case .reading:
                if events & (pl_poll_error | pl_poll_hang_up) != 0 { close() }
            case .lingering: discardInput()
            case .handling, .closingAfterOutput:
                // Not reading now; a connection that is gone entirely (reset or fully closed) is closed at once,
                // since the loop would otherwise be told so again on every wait. A `.later` response that comes
                // for it afterwards is dropped.
                if events & (pl_poll_error | pl_poll_hang_up) != 0 { close() }
            case .closed: break
            }
        }
        updateInterest()
    }

    /// The response to a request answered with `.later`; `serial` says which one (a second delivery is ignored).
    func respond(to request: HTTPRequest, serial: UInt64, with response: HTTPResponse, started: Double) {
        guard case .handling = phase, serial == dispatched else { return }
        pending = nil
        answer(request, with: response, started: started)
        // Both do nothing once a stream has taken the socket.
        process()
        updateInterest()
    }

    func checkDeadlines(now: Double) {
        if let writeDeadline, now >= writeDeadline {
            close()
            return
        }
        switch phase {
        case .reading:
            guard !hasOutput else { return }
            if let started = requestStarted {
                let deadline = headCompleted.map { $0 + configuration.bodyTimeout } ?? started + configuration.headerTimeout
                guard now >= deadline else { return }
                answerAndClose(.error(status: 408, code: "request_timeout", message: "the request was not received in time"),
                               started: started, lingering: false)
            } else if server.isStopping || now >= idleSince + configuration.idleTimeout {
                close()
            }
        case .lingering(let until, let quietUntil):
            if now >= until || now >= quietUntil { close() }
        case .handling, .closingAfterOutput, .closed:
            break
        }
        updateInterest()
    }

    // MARK: Reading and handling

    private func receive() {
        switch SystemCalls.receiveAvailable(fd, into: &loop.scratch) {
        case .data(let bytes):
            if requestStarted == nil { requestStarted = Self.now() }
            parser.append(bytes)
            process()
        case .closed:
            // The client is done sending (it may only have shut its writing side): what it was answered still
            // goes out before the connection closes.
            if hasOutput, case .reading = phase { phase = .closingAfterOutput(lingering: false) } else { close() }
        case .timedOut:
            break
        }
    }

    /// Handles every complete request buffered, in order, until one must wait (for more bytes, or for a `.later`
    /// response) or the connection is closing.
    private func process() {
        while case .reading = phase, !hasOutput {
            let outcome: HTTPRequestParser.Outcome
            do {
                outcome = try parser.next()
            } catch {
                answerAndClose(.error(status: error.status, code: error.code, message: error.message),
                               started: requestStarted ?? Self.now(), lingering: true)
                return
            }
            switch outcome {
            case .request(var request):
                request.remoteAddress = remoteAddress
                dispatch(request, started: requestStarted ?? Self.now())
            case .needMore(let expectsContinue):
                // Only skipped empty lines were left (a CRLF sent after a body): the connection is idle, not
                // receiving a request, so no header deadline runs.
                if !parser.hasPartialRequest { requestStarted = nil }
                if parser.isAwaitingBody && headCompleted == nil { headCompleted = Self.now() }
                if expectsContinue && !sentContinue {
                    sentContinue = true
                    write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                    flush()
                }
                return
            }
        }
    }

    private func dispatch(_ request: HTTPRequest, started: Double) {
        phase = .handling
        dispatched += 1
        let serial = dispatched
        let response = server.handler(request)
        switch response.body {
        case .bytes, .stream:
            answer(request, with: response, started: started)
        case .later(let start):
            let (loop, token) = (self.loop, self.token)
            let pending = PendingResponse { make in
                loop.post(.respond(connection: token, serial: serial, request: request, make: make, started: started))
            }
            self.pending = pending
            start(pending)
        }
    }

    /// Sends a response that is ready: a stream from a thread of its own, anything else (a stream's head alone, for
    /// HEAD) from here.
    private func answer(_ request: HTTPRequest, with response: HTTPResponse, started: Double) {
        if case .stream(let producer) = response.body, request.method != "HEAD" {
            stream(request, response, producer: producer, started: started)
        } else {
            finish(request, response, started: started)
        }
    }

    /// Answers a request that never reached the handler (malformed, or not received in time) and closes.
    private func answerAndClose(_ response: HTTPResponse, started: Double, lingering: Bool) {
        write(response.serialized(keepAlive: false))
        report(HTTPRequest(method: "-", target: "/"), response.status, start: started)
        phase = .closingAfterOutput(lingering: lingering)
        flush()
    }

    /// Writes the response to `request` and goes on to the next request or closes.
    private func finish(_ request: HTTPRequest, _ response: HTTPResponse, started: Double) {
        let keepAlive = request.keepAlive && !server.isStopping
        var response = response
        if case .later = response.body {
            // `.later` must deliver bytes or a stream: another `.later` cannot be sent from here.
            response = .error(status: 500, code: "internal_error", message: "the response could not be sent")
        }
        // A HEAD response carries the GET response's headers (its framing fields included) and no body (RFC 9110
        // §9.3.2); a stream's producer is not run, so HEAD on a live stream or an archive costs nothing.
        if request.method == "HEAD" {
            write(response.head(keepAlive: keepAlive, chunked: request.acceptsChunked))
        } else {
            write(response.serialized(keepAlive: keepAlive))
        }
        report(request, response.status, start: started)
        if keepAlive {
            phase = .reading
            (requestStarted, headCompleted, sentContinue) = (parser.hasPartialRequest ? Self.now() : nil, nil, false)
            idleSince = Self.now()
        } else {
            phase = .closingAfterOutput(lingering: false)
        }
        flush()
    }

    /// A streaming response runs on a thread of its own, which then owns the socket: its producer may take as long
    /// as it likes (a live event stream) without holding the loop. The connection closes when it ends.
    private func stream(_ request: HTTPRequest, _ response: HTTPResponse,
                        producer: @escaping @Sendable (HTTPStreamWriter) -> Void, started: Double)
    {
        phase = .closed
        loop.release(self)
        let (fd, server, writeTimeout) = (self.fd, self.server, configuration.writeTimeout)
        // The rest of an earlier (pipelined) response still going out comes first.
        let chunked = request.acceptsChunked
        let head = Array(output[outputStart...]) + response.head(keepAlive: false, chunked: chunked)
        let status = response.status
        let onResponse = configuration.onResponse
        let thread = Thread {
            let writer = HTTPStreamWriter(fd: fd, writeTimeout: writeTimeout, server: server, chunked: chunked)
            if writer.send(head) {
                producer(writer)
                writer.end()
            }
            onResponse?(request, status, Connection.now() - started)
            SystemCalls.shutdownAndClose(fd)
            server.connectionClosed()
        }
        thread.name = "http-stream"
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: Writing and closing

    private func write(_ bytes: [UInt8]) {
        if outputStart == output.count {
            output = bytes
            outputStart = 0
        } else {
            output += bytes
        }
    }

    /// Sends what the socket takes now; the rest waits for the loop to say the socket is writable.
    private func flush() {
        let before = outputStart
        while outputStart < output.count {
            let sent = output.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + outputStart, raw.count - outputStart,
                           Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                outputStart += sent
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                // A stall limit, not a total one: a slow reader that keeps taking bytes is not cut off.
                if writeDeadline == nil || outputStart > before { writeDeadline = Self.now() + configuration.writeTimeout }
                return
            }
            close()
            return
        }
        output.removeAll(keepingCapacity: true)
        outputStart = 0
        writeDeadline = nil
        if case .closingAfterOutput(let lingering) = phase {
            if lingering {
                shutdown(fd, Int32(SHUT_WR))
                let now = Self.now()
                phase = .lingering(until: now + 0.5, quietUntil: now + Self.lingerQuiet)
            } else {
                close()
            }
        }
    }

    /// After an error answer: reads and discards what the client is still sending, so the kernel does not reset
    /// the connection (and drop our answer) because unread input was left behind.
    private func discardInput() {
        switch SystemCalls.receiveAvailable(fd, into: &loop.scratch) {
        case .data:
            if case .lingering(let until, _) = phase { phase = .lingering(until: until, quietUntil: Self.now() + Self.lingerQuiet) }
        case .closed: close()
        case .timedOut: break
        }
    }

    private func close() {
        if isClosed { return }
        phase = .closed
        pending?.abandon()
        pending = nil
        loop.release(self)
        SystemCalls.shutdownAndClose(fd)
        server.connectionClosed()
    }

    private func updateInterest() {
        guard !isClosed else { return }
        var wanted: UInt32 = 0
        switch phase {
        case .reading where !hasOutput, .lingering: wanted = pl_poll_in | pl_poll_read_hang_up
        case .reading, .handling, .closingAfterOutput, .closed: break
        }
        if hasOutput { wanted |= pl_poll_out }
        guard wanted != interest else { return }
        interest = wanted
        loop.watch(self, for: wanted)
    }

    private var hasOutput: Bool { outputStart < output.count }

    /// How long a lingering close waits for more input before closing.
    private static let lingerQuiet = 0.1

    private var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    private func report(_ request: HTTPRequest, _ status: Int, start: Double) {
        var request = request
        request.remoteAddress = remoteAddress
        configuration.onResponse?(request, status, Self.now() - start)
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
