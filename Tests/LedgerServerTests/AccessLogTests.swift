import Foundation
import HTTPServer
import Ledger
import Testing

@testable import LedgerServer

#if canImport(Glibc)
import Glibc
#endif

/// Access log lines: canonical JSON built straight into bytes must equal what encoding the same `JSONValue`
/// gives; and lines are held back until a batch fills or is flushed, then written in arrival order.
@Suite struct AccessLogTests {
    @Test func linesAreTheCanonicalJSONOfTheirFields() throws {
        let time = try #require(Timestamp(parsing: "2022-07-01T00:00:00.123Z"))
        for (path, seconds) in [("/v1/plan", 0.0012345), ("/v1/entities/goal/\"quoted\"\\n", 1.5), ("/é/\u{1}", 0.0)] {
            var request = HTTPRequest(method: "GET", target: "/")
            request.path = path
            request.remoteAddress = "127.0.0.1:5000"
            let expected: JSONValue = [
                "time": .string(time.rfc3339), "remote": "127.0.0.1:5000", "method": "GET", "path": .string(path),
                "status": JSONValue(404), "ms": .number((seconds * 1_000_000).rounded() / 1000),
            ]
            let line = AccessLog.line(request, status: 404, seconds: seconds, time: time)
            #expect(line == Array((CanonicalJSON.string(expected) + "\n").utf8))
        }
    }

    @Test func linesWaitForABatchOrAFlushAndKeepTheirOrder() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        func drain() -> String {
            var bytes = [UInt8](repeating: 0, count: 1 << 16)
            let count = read(ends[0], &bytes, bytes.count)
            return count > 0 ? String(decoding: bytes[..<count], as: UTF8.self) : ""
        }
        let log = AccessLog(output: LogBuffer(fd: ends[1], batchBytes: 1000))
        for index in 0..<3 { log.record(HTTPRequest(method: "GET", target: "/\(index)"), status: 200, seconds: 0.001) }
        #expect(drain() == "", "held back until the batch fills or is flushed")
        log.flush()
        let flushed = drain().split(separator: "\n")
        #expect(flushed.count == 3)
        #expect(try flushed.map { try JSONParser.parse(Array($0.utf8))["path"] } == ["/0", "/1", "/2"])

        // A full batch is written by the request that fills it.
        for index in 0..<20 { log.record(HTTPRequest(method: "GET", target: "/\(index)"), status: 200, seconds: 0.001) }
        let written = drain().split(separator: "\n")
        #expect(written.count >= 10 && written.count < 20)
        log.flush()
        #expect(written.count + drain().split(separator: "\n").count == 20)
    }
}
