#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over one keep-alive connection, for tests, tools and health checks: it sends
/// raw bytes or requests and reads responses framed by Content-Length or chunked encoding.
public final class BlockingHTTPClient {
    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let fd: Int32
    private var buffer: [UInt8] = []
    public var timeoutMilliseconds: Int32 = 10_000

    public init(host: String = "127.0.0.1", port: Int) throws {
        SystemCalls.ignoreSIGPIPE()
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect to \(host):\(port) failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Makes closing this client reset the connection (`SO_LINGER` with no wait) instead of ending it in order:
    /// what a server sees of a client that gives up on a request, or is killed, with data still unread.
    public func resetOnClose() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Sends raw bytes (for malformed or pipelined requests).
    public func sendRaw(_ bytes: [UInt8]) throws {
        guard SystemCalls.send(fd, bytes, milliseconds: timeoutMilliseconds) else { throw Failure(description: "send failed") }
    }

    public func sendRaw(_ text: String) throws { try sendRaw(Array(text.utf8)) }

    /// Sends one request and reads its response.
    public func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil) throws
        -> Response
    {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try sendRaw(Array(head.utf8) + (body ?? []))
        return try readResponse()
    }

    /// Reads the next response from the connection.
    public func readResponse() throws -> Response {
        let headEnd = try readUntil { buffer in Self.find([13, 10, 13, 10], in: buffer) }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusParts = lines.removeFirst().split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line") }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingBlanks())
        }
        if status == 100 { return try readResponse() }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while true {
                let lineEnd = try readUntil { Self.find([13, 10], in: $0) }
                let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self), radix: 16) ?? 0
                buffer.removeFirst(lineEnd + 2)
                _ = try readUntil { $0.count >= size + 2 ? size : nil }
                body += buffer[..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { return Response(status: status, headers: headers, body: body) }
            }
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        _ = try readUntil { $0.count >= length ? length : nil }
        let body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Reads one chunk of a chunked (streaming) body as it arrives; nil at its end.
    public func readChunk() throws -> [UInt8]? {
        let lineEnd = try readUntil { Self.find([13, 10], in: $0) }
        let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self), radix: 16) ?? 0
        buffer.removeFirst(lineEnd + 2)
        _ = try readUntil { $0.count >= size + 2 ? size : nil }
        let chunk = Array(buffer[..<size])
        buffer.removeFirst(size + 2)
        return size == 0 ? nil : chunk
    }

    /// Reads the streaming response's head (status and headers), leaving its chunks to `readChunk`.
    public func readStreamHead() throws -> (status: Int, headers: HTTPHeaders) {
        let headEnd = try readUntil { Self.find([13, 10, 13, 10], in: $0) }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
        var headers = HTTPHeaders()
        for line in lines {
            if let colon = line.firstIndex(of: ":") { headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingBlanks()) }
        }
        return (status, headers)
    }

    /// Whether the server has closed the connection (waits up to `milliseconds`).
    public func isClosedByServer(within milliseconds: Int32) -> Bool {
        var scratch = [UInt8](repeating: 0, count: 4096)
        switch SystemCalls.read(fd, milliseconds: milliseconds, into: &scratch) {
        case .closed: return true
        case .data(let bytes):
            buffer += bytes
            return false
        case .timedOut: return false
        }
    }

    private func readUntil(_ complete: ([UInt8]) -> Int?) throws -> Int {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let index = complete(buffer) { return index }
            switch SystemCalls.read(fd, milliseconds: timeoutMilliseconds, into: &scratch) {
            case .data(let bytes): buffer += bytes
            case .closed: throw Failure(description: "connection closed by the server")
            case .timedOut: throw Failure(description: "timed out waiting for the server")
            }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<index + needle.count]) == needle { return index }
        }
        return nil
    }
}

extension String {
    fileprivate func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.range(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
