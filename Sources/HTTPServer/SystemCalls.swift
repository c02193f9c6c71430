#if canImport(Glibc)
import Glibc
#endif

/// The one place the server calls the socket API: every call retries on `EINTR`, `SIGPIPE` is ignored and sends
/// use `MSG_NOSIGNAL`, so a client that goes away never kills the process.
enum SystemCalls {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let errno: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
    }

    /// `POLLRDHUP` (Linux): Glibc exports it only under `_GNU_SOURCE`.
    static let pollReadHangUp: Int16 = 0x2000

    static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    /// A listening TCP socket on `host`:`port` (IPv4; port 0 picks a free one). Returns it and the bound port.
    static func listen(host: String, port: Int, backlog: Int32) throws -> (Int32, Int) {
        guard let port = UInt16(exactly: port) else { throw Failure(call: "listen on port \(port)", errno: EINVAL) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", errno: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            close(fd)
            throw Failure(call: "inet_pton(\(host))", errno: EINVAL)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw Failure(call: "bind(\(host):\(port))", errno: error)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = errno
            close(fd)
            throw Failure(call: "listen", errno: error)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// Accepts one connection; nil on a transient failure or once the listener is shut down.
    static func accept(_ listener: Int32) -> (Int32, String)? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
            }
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                var yes: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
                let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return (fd, "\(host):\(UInt16(bigEndian: address.sin_port))")
            }
            if errno == EINTR { continue }
            return nil
        }
    }

    enum ReadResult {
        case data([UInt8])
        case closed
        case timedOut
    }

    /// Waits up to `milliseconds` for data, then reads what is there.
    static func read(_ fd: Int32, milliseconds: Int32, into buffer: inout [UInt8]) -> ReadResult {
        guard wait(fd, for: Int16(POLLIN), milliseconds: milliseconds) else { return .timedOut }
        return receiveAvailable(fd, into: &buffer)
    }

    /// One `recv` (retried on EINTR): data, the peer's close, or `.timedOut` when the socket's wait ran out (or,
    /// on a non-blocking socket, when nothing is there now).
    static func receiveAvailable(_ fd: Int32, into buffer: inout [UInt8]) -> ReadResult {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return .data(Array(buffer[0..<count])) }
            if count == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
            return .closed
        }
    }

    /// Sends all of `bytes`, waiting at most `milliseconds` for the socket to drain between writes.
    static func send(_ fd: Int32, _ bytes: [UInt8], milliseconds: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(fd, for: Int16(POLLOUT), milliseconds: milliseconds) else { return false }
                continue
            }
            return false
        }
        return true
    }

    /// Whether `fd` becomes ready for `events` within `milliseconds` (also true on error or hang-up, so the next
    /// read or write reports it).
    static func wait(_ fd: Int32, for events: Int16, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let result = poll(&descriptor, 1, milliseconds)
            if result > 0 { return true }
            if result == 0 { return false }
            if errno != EINTR { return true }
        }
    }

    /// Whether the peer has closed its end (readable with nothing to read).
    static func peerClosed(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN) | pollReadHangUp, revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        if descriptor.revents & (Int16(POLLHUP) | Int16(POLLERR) | pollReadHangUp) != 0 { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) == 0
    }

    static func shutdownAndClose(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
