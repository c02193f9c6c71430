import Foundation
import HTTPServer
import Ledger

/// One structured line per request on standard error: time, remote address, method, path, status, milliseconds.
/// Query strings are left out (they can name organisations or streams); so are tokens and bodies.
///
/// Lines are canonical JSON, written straight into bytes rather than through a `JSONValue`, and leave in batches
/// (`LogBuffer`): a line per request and a `write` per line cost the server more than the request itself.
public struct AccessLog: Sendable {
    public let enabled: Bool
    let output: LogBuffer

    public init(enabled: Bool = true) {
        self.enabled = enabled
        // Not touched when disabled, so a quiet server does not start the flushing thread.
        self.output = enabled ? .standardError : LogBuffer(fd: -1)
    }

    init(enabled: Bool = true, output: LogBuffer) {
        self.enabled = enabled
        self.output = output
    }

    public func record(_ request: HTTPRequest, status: Int, seconds: Double) {
        guard enabled else { return }
        output.append(Self.line(request, status: status, seconds: seconds, time: Timestamp.now()))
    }

    /// Writes the lines still buffered (they also go out within a second, and at exit).
    public func flush() { output.flush() }

    /// The line, members in canonical (RFC 8785) order: method, ms, path, remote, status, time.
    static func line(_ request: HTTPRequest, status: Int, seconds: Double, time: Timestamp) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(160 + request.path.utf8.count)
        line += #"{"method":"#.utf8
        CanonicalJSON.writeString(request.method, to: &line)
        line += #","ms":"#.utf8
        line += CanonicalJSON.formatNumber((seconds * 1_000_000).rounded() / 1000).utf8
        line += #","path":"#.utf8
        CanonicalJSON.writeString(request.path, to: &line)
        line += #","remote":"#.utf8
        CanonicalJSON.writeString(request.remoteAddress, to: &line)
        line += #","status":"#.utf8
        line += String(status).utf8
        line += #","time":"#.utf8
        CanonicalJSON.writeString(time.rfc3339, to: &line)
        line += "}\n".utf8
        return line
    }
}
