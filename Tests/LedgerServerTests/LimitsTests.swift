import Foundation
import HTTPServer
import Ledger
import Testing

@testable import LedgerServer

/// Hostile and broken requests get 4xx JSON, store nothing, and never take the server down.
@Suite struct LimitsTests {
    @Test func malformedAndOversizedRequestsAreRefusedWithJSONErrors() throws {
        let test = try TestServer(configure: { $0.limits.maximumBodyBytes = 2048 })
        defer { test.stop() }
        let size = test.ledger.size
        let auth = "Authorization: Bearer \(test.tokens[.admin]!)\r\n"
        let cases: [(String, [UInt8], Int)] = [
            ("oversized body", Array("POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\n\(auth)Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n".utf8), 413),
            ("huge header", Array("GET /v1/plan HTTP/1.1\r\nHost: localhost\r\nX-Pad: \(String(repeating: "a", count: 20_000))\r\n\r\n".utf8), 431),
            ("garbage", [0x00, 0xFF, 0x13, 0x37, 0x0D, 0x0A, 0x0D, 0x0A], 400),
            ("invalid UTF-8 JSON", Array("POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\n\(auth)Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"streams\":\"".utf8) + [0xC3, 0x28, 0x22], 400),
            ("deep nesting", Array("POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\n\(auth)Content-Type: application/json\r\nContent-Length: 400\r\n\r\n\(String(repeating: "[", count: 200))\(String(repeating: "]", count: 200))".utf8), 400),
            ("huge number", Array("POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\n\(auth)Content-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"streams\":1e99999}".utf8), 400),
            ("unknown route", Array("GET /v2/nothing HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8), 404),
            ("wrong method", Array("DELETE /v1/plan HTTP/1.1\r\nHost: localhost\r\n\(auth)\r\n".utf8), 405),
            ("both lengths", Array("POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".utf8), 400),
        ]
        for (name, bytes, expected) in cases {
            let client = try test.client()
            try client.sendRaw(bytes)
            let response = try client.readResponse()
            #expect(response.status == expected, "\(name)")
            let json = try? JSONParser.parse(response.body)
            #expect(json?["error"]?["code"]?.stringValue != nil, "\(name): a JSON error body")
        }
        #expect(test.ledger.size == size, "nothing was stored")
        #expect(try test.request("GET", "/healthz", as: nil).status == 200, "the server is still up")
    }

    @Test func chunkedAppendBodiesAreAccepted() throws {
        let test = try TestServer()
        defer { test.stop() }
        let body = #"{"streams":[{"stream":"measure/M-MH-SMI","events":[{"type":"MeasureReadingRecorded","effectiveAt":"2023-03-31","data":{"value":3950,"at":"2023-03-31"}}]}]}"#
        let half = body.utf8.count / 2
        let bytes = Array(body.utf8)
        let client = try test.client()
        try client.sendRaw("POST /v1/transactions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(test.tokens[.admin]!)\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        try client.sendRaw(Array((String(half, radix: 16) + "\r\n").utf8) + bytes[..<half] + Array("\r\n".utf8))
        try client.sendRaw(Array((String(bytes.count - half, radix: 16) + "\r\n").utf8) + bytes[half...] + Array("\r\n0\r\n\r\n".utf8))
        #expect(try client.readResponse().status == 201)
    }

    @Test func saturatedServerAnswers503WithRetryAfter() throws {
        let test = try TestServer(demo: false, configure: { $0.maximumConnections = 1 })
        defer { test.stop() }
        let holder = try test.client()
        _ = try holder.request("GET", "/healthz")
        let refused = try test.client().readResponse()
        #expect(refused.status == 503 && refused.headers["retry-after"] == "1")
        #expect(refused.text.contains("server_busy"))
    }
}
