import Synchronization

/// A response: status, headers and either a complete body, a stream (Server-Sent Events), or a response that
/// another thread will deliver.
public struct HTTPResponse: Sendable {
    /// Delivers the response of a `.later` body: see `PendingResponse.deliver`.
    public typealias Delivery = @Sendable (_ make: @escaping @Sendable () -> HTTPResponse) -> Void

    public enum Body: Sendable {
        case bytes([UInt8])
        /// Written as chunks as the producer calls `write`, on a thread of its own, until it returns; then the
        /// connection closes. An HTTP/1.0 client gets the bytes as they are, ended by the close; a HEAD request
        /// gets the head alone, and the producer is not run.
        case stream(@Sendable (HTTPStreamWriter) -> Void)
        /// The response is not ready yet (an append waiting for its group commit): the server calls `start` once
        /// with the request's `PendingResponse`, through which it is delivered, and serves other connections
        /// meanwhile. The status and headers of the `later` response itself are not used.
        case later(@Sendable (_ pending: PendingResponse) -> Void)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(status: Int = 200, _ bytes: [UInt8], headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(bytes))
    }

    public static func text(status: Int = 200, _ text: String, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    /// `{"error": {"code", "message"}}`: the one error shape of the API.
    public static func error(status: Int, code: String, message: String, headers: [(String, String)] = []) -> HTTPResponse {
        let body = #"{"error":{"code":"# + jsonString(code) + #","message":"# + jsonString(message) + "}}"
        return json(status: status, Array(body.utf8), headers: headers)
    }

    /// A response another thread delivers: see `Body.later`.
    public static func later(_ start: @escaping @Sendable (_ pending: PendingResponse) -> Void) -> HTTPResponse {
        HTTPResponse(status: 0, body: .later(start))
    }

    public static func stream(status: Int = 200, headers: [(String, String)],
                              producer: @escaping @Sendable (HTTPStreamWriter) -> Void) -> HTTPResponse
    {
        HTTPResponse(status: status, headers: headers, body: .stream(producer))
    }

    /// The status line and headers; `Content-Length` or `Transfer-Encoding: chunked` and `Connection` are added
    /// here, so handlers cannot get the framing wrong.
    /// - Parameter chunked: whether the client may be sent chunks; if not, a stream's head has no framing field
    ///   and its body runs until the connection closes (RFC 9112 §6.1, §6.3).
    func head(keepAlive: Bool, chunked: Bool = true) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers where !Self.framingFields.contains(where: { HTTPHeaders.sameName($0, name) }) {
            text += "\(name): \(value)\r\n"
        }
        switch body {
        case .bytes(let bytes): text += "Content-Length: \(bytes.count)\r\n"
        case .stream: if chunked { text += "Transfer-Encoding: chunked\r\n" }
        case .later: preconditionFailure("a .later response has no head of its own")
        }
        text += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(text.utf8)
    }

    /// Fields `head` writes itself, dropped from `headers`.
    private static let framingFields = ["content-length", "transfer-encoding", "connection"]

    /// The whole response of a byte body, as sent on the wire.
    public func serialized(keepAlive: Bool) -> [UInt8] {
        guard case .bytes(let bytes) = body else { return head(keepAlive: keepAlive) }
        return head(keepAlive: keepAlive) + bytes
    }

    /// A JSON string literal with the mandatory escapes.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}

/// A request answered `.later`: where its response goes, and whether anyone still waits for it.
public final class PendingResponse: Sendable {
    private let delivery: HTTPResponse.Delivery
    private let abandoned = Atomic<Bool>(false)
    /// For a `mapped` form: the pending response it was made from, whose flag it shares.
    private let original: PendingResponse?

    /// - Parameter delivery: called once, with the function that makes the response.
    public init(_ delivery: @escaping HTTPResponse.Delivery) {
        self.delivery = delivery
        self.original = nil
    }

    private init(original: PendingResponse, delivery: @escaping HTTPResponse.Delivery) {
        self.delivery = delivery
        self.original = original
    }

    /// Delivers the response: call it exactly once, from any thread, with a function that makes a `.bytes` or
    /// `.stream` response. The function runs on the connection's loop, so the thread that finished the work (the
    /// ledger's writer, for an append) does not spend its time encoding the answer.
    public func deliver(_ make: @escaping @Sendable () -> HTTPResponse) { delivery(make) }

    /// True once the request's connection closed before the response was delivered (the client reset it, or it
    /// failed): work for it that has not begun can be skipped, since its answer would be dropped. A client that
    /// only shuts its sending side still waits for the answer, and is not abandoned.
    public var isAbandoned: Bool { (original ?? self).abandoned.load(ordering: .acquiring) }

    /// Marks the request abandoned; called by its connection when it closes first.
    func abandon() { (original ?? self).abandoned.store(true, ordering: .releasing) }

    /// The same request's pending response, with `transform` applied to the response on its way (on the loop).
    public func mapped(_ transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) -> PendingResponse {
        PendingResponse(original: original ?? self) { make in self.deliver { transform(make()) } }
    }
}

/// Writes a streaming response's chunks as they are produced, on the streaming response's own thread.
public final class HTTPStreamWriter: @unchecked Sendable {
    // @unchecked: used only on the streaming response's thread, which owns the socket.
    private let fd: Int32
    private let writeTimeout: Double
    private let server: HTTPServer
    /// False for an HTTP/1.0 client: the bytes go out unframed and the close ends them.
    private let chunked: Bool
    private var failed = false

    init(fd: Int32, writeTimeout: Double, server: HTTPServer, chunked: Bool) {
        self.fd = fd
        self.writeTimeout = writeTimeout
        self.server = server
        self.chunked = chunked
    }

    /// Sends `bytes` now, as one chunk (or as they are, to an HTTP/1.0 client). False once the client has gone or
    /// the server is stopping.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return isOpen }
        guard chunked else { return send(bytes) && isOpen }
        var chunk = Array((String(bytes.count, radix: 16) + "\r\n").utf8)
        chunk += bytes
        chunk += [0x0D, 0x0A]
        return send(chunk) && isOpen
    }

    /// Ends the body: the last chunk, or nothing when the close ends it. Nothing after `fail()`.
    func end() {
        if chunked && !failed { _ = send(Array("0\r\n\r\n".utf8)) }
    }

    /// Marks the response as cut short: the connection closes without the last chunk, so an HTTP/1.1 client sees an
    /// incomplete body instead of a complete one that is missing its end. (An HTTP/1.0 client, whose body the close
    /// ends, cannot be told.)
    public func fail() { failed = true }

    /// Whether the client is still connected and the server is not stopping.
    public var isOpen: Bool { !server.isStopping && !SystemCalls.peerClosed(fd) }

    /// Sends raw bytes, waiting at most `writeTimeout` for a slow reader.
    func send(_ bytes: [UInt8]) -> Bool {
        SystemCalls.send(fd, bytes, milliseconds: Int32(writeTimeout * 1000))
    }
}
