import Foundation
import HTTPServer
import Ledger

/// Mutated, malformed and hostile HTTP requests against a running server: the server must answer each with a
/// well-formed response (4xx with a JSON error body, unless the request happened to be valid) or close the
/// connection, stay up, and store nothing it did not acknowledge. Bounded in count and time; loopback only.
public struct HTTPFuzzer {
    public struct Outcome: Sendable {
        public var requests = 0
        public var answered: [Int: Int] = [:]
        public var closedWithoutAnswer = 0
        public var acknowledgedAppends = 0
        public var failures: [String] = []
    }

    public let port: Int
    public let token: String

    public init(port: Int, token: String) {
        self.port = port
        self.token = token
    }

    /// A valid append, the seed that mutations start from.
    static let validBody = #"{"streams":[{"stream":"goal/FUZZ-1","expectedVersion":"noStream","events":[{"type":"GoalDefined","data":{"title":"t","level":"ambition","owner":{"organisation":"organisation/FUZZ","role":"r"}}}]}]}"#

    public func run(requests: Int, seconds: Double, seed: UInt64) -> Outcome {
        var random = SeededRandom(seed: seed)
        var outcome = Outcome()
        let deadline = Date(timeIntervalSinceNow: seconds)
        while outcome.requests < requests && Date() < deadline {
            outcome.requests += 1
            let bytes = request(&random)
            do {
                let client = try BlockingHTTPClient(port: port)
                client.timeoutMilliseconds = 5_000
                if random.next(upTo: 10) == 0 {
                    // A slow sender: a byte at a time with pauses.
                    for byte in bytes.prefix(40) {
                        try client.sendRaw([byte])
                        usleep(UInt32(random.next(upTo: 3_000)))
                    }
                    try client.sendRaw(Array(bytes.dropFirst(40)))
                } else {
                    try client.sendRaw(bytes)
                }
                let response = try client.readResponse()
                outcome.answered[response.status, default: 0] += 1
                if response.status == 201 {
                    outcome.acknowledgedAppends += 1
                    outcome.failures.append("a mutated request was accepted: \(Self.describe(Array(bytes.suffix(200))))")
                }
                if response.status >= 400 {
                    let json = try? JSONParser.parse(response.body)
                    if json?["error"]?["code"]?.stringValue == nil {
                        outcome.failures.append("\(response.status) without a JSON error body for \(Self.describe(bytes))")
                    }
                }
                if response.status >= 500 && response.status != 503 && response.status != 501 && response.status != 505 {
                    outcome.failures.append("server error \(response.status) for \(Self.describe(bytes))")
                }
            } catch {
                outcome.closedWithoutAnswer += 1
            }
            if outcome.requests % 50 == 0, !alive() {
                outcome.failures.append("the server stopped answering after request \(outcome.requests)")
                return outcome
            }
        }
        if !alive() { outcome.failures.append("the server is not answering at the end") }
        return outcome
    }

    func alive() -> Bool {
        guard let client = try? BlockingHTTPClient(port: port), let response = try? client.request("GET", "/healthz") else {
            return false
        }
        return response.status == 200
    }

    static func describe(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(80), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "⏎")
    }

    /// One hostile request, of a randomly chosen kind.
    func request(_ random: inout SeededRandom) -> [UInt8] {
        // Host too: without it every HTTP/1.1 request would stop at the 400 for a missing Host (RFC 9112 §3.2).
        let auth = "Host: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
        func post(_ body: [UInt8], headers: String = "Content-Type: application/json\r\n") -> [UInt8] {
            Array("POST /v1/transactions HTTP/1.1\r\n\(auth)\(headers)Content-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
        }
        let valid = Array(Self.validBody.utf8)
        switch random.next(upTo: 12) {
        case 0:  // random bytes
            return (0..<Int(random.next(upTo: 2048))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 1:  // a valid request with bytes flipped anywhere (head or body)
            var bytes = post(valid)
            for _ in 0..<(1 + Int(random.next(upTo: 8))) {
                bytes[Int(random.next(upTo: UInt64(bytes.count)))] = UInt8(truncatingIfNeeded: random.next())
            }
            return bytes
        case 2:  // structural characters of the body replaced
            var body = valid
            let structural = body.indices.filter { "{}[]:,\"".utf8.contains(body[$0]) }
            body[structural[Int(random.next(upTo: UInt64(structural.count)))]] = UInt8(ascii: "#")
            return post(body)
        case 3:  // truncated body
            return post(Array(valid.prefix(Int(random.next(upTo: UInt64(valid.count))))))
        case 4:  // huge numbers and odd literals
            let values = ["1e400", "-1e400", "123456789012345678901234567890", "NaN", "Infinity", "0x10", "01", "1.", "-"]
            let value = values[Int(random.next(upTo: UInt64(values.count)))]
            return post(Array(#"{"streams":[{"stream":"goal/F","events":[{"type":"GoalDefined","data":{"title":\#(value)}}]}]}"#.utf8))
        case 5:  // deep nesting
            let depth = 100 + Int(random.next(upTo: 20_000))
            return post(Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8))
        case 6:  // invalid UTF-8 inside a string
            return post(Array(#"{"streams":[{"stream":"goal/F","events":[{"type":"GoalDefined","data":{"title":""#.utf8) + [0xC3, 0x28, 0xFF, 0xFE]
                        + Array(#""}}]}]}"#.utf8))
        case 7:  // oversized header
            return Array("GET /v1/plan HTTP/1.1\r\n\(auth)X-Pad: \(String(repeating: "z", count: 17_000 + Int(random.next(upTo: 10_000))))\r\n\r\n".utf8)
        case 8:  // oversized body announced
            return Array("POST /v1/transactions HTTP/1.1\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(2_000_000 + Int(random.next(upTo: 1000)))\r\n\r\n".utf8)
        case 9:  // conflicting framing and bad chunks
            let heads = ["Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello", "Transfer-Encoding: chunked\r\n\r\nZZZ\r\n",
                         "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"]
            return Array("POST /v1/transactions HTTP/1.1\r\n\(auth)\(heads[Int(random.next(upTo: UInt64(heads.count)))])".utf8)
        case 10:  // type confusion in an otherwise well-formed transaction
            let bodies = [#"{"streams":{}}"#, #"{"streams":[{"stream":5,"events":[]}]}"#, #"{"streams":[{"stream":"goal/F","events":"x"}]}"#,
                          #"{"streams":[{"stream":"GOAL/f","events":[{"type":"GoalDefined","data":{}}]}]}"#,
                          #"{"streams":[{"stream":"goal/F","expectedVersion":-3,"events":[{"type":"GoalDefined","data":{}}]}]}"#,
                          #"{"streams":[{"stream":"goal/F","events":[{"type":"GoalDefined","data":[]}]}]}"#, #"[]"#, #""streams""#]
            return post(Array(bodies[Int(random.next(upTo: UInt64(bodies.count)))].utf8))
        default:  // hostile request lines and paths
            let lines = ["GET /../../etc/passwd HTTP/1.1", "GET /v1/entities/goal/%00%ff HTTP/1.1", "GET /v1/events?after=-1&limit=999999999999 HTTP/1.1",
                         "GET /v1/ledger/proofs/inclusion?position=99999999999999999999 HTTP/1.1", "BREW /v1/plan HTTP/1.1",
                         "GET /v1/plan?asOf=\(String(repeating: "9", count: 500)) HTTP/1.1", "GET / HTTP/9.9", "GET /v1/plan HTTP/1.1\r\nHost"]
            return Array((lines[Int(random.next(upTo: UInt64(lines.count)))] + "\r\n\(auth)Connection: close\r\n\r\n").utf8)
        }
    }
}
