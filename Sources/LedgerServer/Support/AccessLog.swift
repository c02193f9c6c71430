import Foundation
import HTTPServer
import Ledger

/// One structured line per request on standard error: time, remote address, method, path, status, milliseconds.
/// Query strings are left out (they can name organisations or streams); so are tokens and bodies.
public struct AccessLog: Sendable {
    public let enabled: Bool

    public init(enabled: Bool = true) { self.enabled = enabled }

    public func record(_ request: HTTPRequest, status: Int, seconds: Double) {
        guard enabled else { return }
        let line: JSONValue = [
            "time": .string(Timestamp.now().rfc3339), "remote": .string(request.remoteAddress),
            "method": .string(request.method), "path": .string(request.path), "status": JSONValue(status),
            "ms": .number((seconds * 1_000_000).rounded() / 1000),
        ]
        FileHandle.standardError.write(Data((CanonicalJSON.string(line) + "\n").utf8))
    }
}
